/* Executors: where a task's attempts run, behind one table of operations with an
 * opaque context (as redis' ae backends behind ae.h). The runner submits an attempt
 * (what to run and where its output goes), may cancel it, and hears of its end through
 * a callback from executor_dispatch(), which its loop calls with a timeout. The local
 * process pool (executor_local.c, over exec.h) is one implementation; a Redis or Slurm
 * executor would be another, and tests/unit/fake_executor.c, with virtual time, is a
 * third.
 *
 * An executor does not know studies or the store: it runs what it is given and reports
 * what happened, including the metrics the task wrote to its $SWEEP_RESULT file (read
 * by the executor, which is where that file is: on this machine, or on a worker's).
 * Deciding states, retries and what to record stays with the runner.
 *
 * Ownership: struct executor is made by an implementation's create function and freed
 * by executor_destroy(). Everything an attempt points to is borrowed during
 * executor_submit() only (an implementation copies what it keeps). */
#ifndef SWEEP_CORE_EXECUTOR_H
#define SWEEP_CORE_EXECUTOR_H

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* One attempt of a task: what to run. */
struct executor_attempt {
    char *const *argv; /* argv[0]: a path, or a name looked up in envp's PATH */
    char *const *envp; /* the complete environment */
    const char *cwd;   /* NULL: the executor's own */
    /* Where the task's output goes; NULL: discarded. An executor may make a file
     * only when the task writes to it (the local one does): a task that writes
     * nothing may leave no file, and the caller removes an old one first. What the
     * task wrote is in the file when its end is reported (a file that could not be
     * written is then the outcome's error). The same path for both shares one file. */
    const char *stdout_path;
    const char *stderr_path;
    /* The task's $SWEEP_RESULT (also in envp), read when it ends; NULL: none. */
    const char *result_path;
    double timeout;    /* seconds; <= 0 means none; then SIGTERM to the task */
    double kill_after; /* grace in seconds between SIGTERM and SIGKILL (also cancel) */
    int cpus;          /* slots it takes (the runner accounts; an executor may pin) */
    void *ctx;         /* the caller's, handed back in the outcome */
};

/* What submit gives back: the handle to cancel the attempt with. */
struct executor_handle {
    uint64_t id; /* never 0; unique among this executor's live attempts */
    /* The process (and process group) of a local attempt, 0 where there is none on
     * this machine. For the study log and for recording who runs the attempt. */
    pid_t pid;
};

/* How an attempt ended. Strings are borrowed for the duration of the callback. */
struct executor_outcome {
    void *ctx; /* executor_attempt.ctx */
    uint64_t id;
    bool exited; /* normal exit: exit_code is valid */
    int exit_code;
    int signal;             /* the signal that ended it, or 0 */
    bool timed_out;         /* ended after its deadline (the executor stopped it) */
    double wall, user, sys; /* seconds */
    long maxrss_kb;
    /* The task may have left output files (stdout_path, stderr_path), or may still
     * write to them; false only when it surely left none (an executor that cannot
     * tell says true). With false and no result, the runner may give the task's
     * directory, when it finds it empty, to the next task (rn_dir_ended). */
    bool output;
    /* The $SWEEP_RESULT file as a canonical JSON object, or NULL (no file, or it could
     * not be read: then error says why). */
    const char *metrics;
    const char *error;
};

typedef void executor_done_fn(const struct executor_outcome *out, void *arg);

/* The operations of one implementation; ctx is its own state. */
struct executor_ops {
    const char *name; /* "local", "fake", ... */
    int (*submit)(void *ctx,
                  const struct executor_attempt *a,
                  struct executor_handle *h,
                  struct err *err);
    void (*cancel)(void *ctx, uint64_t id, bool now);
    int (*dispatch)(void *ctx,
                    int timeout_ms,
                    executor_done_fn *done,
                    void *arg,
                    int *signo,
                    struct err *err);
    int (*fd)(void *ctx);
    void (*destroy)(void *ctx);
};

struct executor {
    const struct executor_ops *ops;
    void *ctx;
};

/* Starts an attempt. A program that cannot be started (not found, a working directory
 * that cannot be entered, an output file that cannot be created) is an error here
 * (SWEEP_ESPAWN with the reason), and nothing is reported for it later. */
static inline int executor_submit(struct executor *ex,
                                  const struct executor_attempt *a,
                                  struct executor_handle *h,
                                  struct err *err)
{
    return ex->ops->submit(ex->ctx, a, h, err);
}

/* Asks a running attempt to stop: SIGTERM (or its equivalent), then SIGKILL after its
 * kill_after grace; with `now`, SIGKILL at once. Its end is reported as usual (not as
 * timed out). An id that is not running is ignored. */
static inline void executor_cancel(struct executor *ex, uint64_t id, bool now)
{
    ex->ops->cancel(ex->ctx, id, now);
}

/* Waits at most timeout_ms (-1: until something happens) for attempts to end, and
 * calls done() once per ended attempt; done() may submit and cancel, not dispatch or
 * destroy. Returns how many ended, or -1 with err set. With signo not NULL it also
 * wakes for SIGINT, SIGTERM or SIGHUP taken by the program's signal watch (sigwatch.h,
 * when open) and sets *signo to it, else leaves it alone; the owner decides what a
 * signal means. */
static inline int executor_dispatch(struct executor *ex,
                                    int timeout_ms,
                                    executor_done_fn *done,
                                    void *arg,
                                    int *signo,
                                    struct err *err)
{
    return ex->ops->dispatch(ex->ctx, timeout_ms, done, arg, signo, err);
}

/* A file descriptor that becomes readable when executor_dispatch() has something to
 * do, for an owner's event loop (poll it, then dispatch with timeout 0; the local one
 * enforces deadlines only inside dispatch, so call it at least every second while
 * attempts run); -1 when the executor has none, and the owner calls
 * executor_dispatch() with its own timeout instead. */
static inline int executor_fd(struct executor *ex)
{
    return ex->ops->fd ? ex->ops->fd(ex->ctx) : -1;
}

/* Stops what is still running (SIGKILL), waits for it, and frees the executor; no
 * callback is made. Accepts NULL. */
static inline void executor_destroy(struct executor *ex)
{
    if (ex)
        ex->ops->destroy(ex->ctx);
}

/* The local process pool (exec.h; any number per process). The handle's id is the
 * task's pid, which leads its process group. */
int executor_local_create(struct executor **out, struct err *err);

/* Reads a task's $SWEEP_RESULT file at path. *metrics: its JSON object in canonical
 * form (the caller frees it), or NULL when there is no file or it is not an object;
 * *error: why it could not be read, or NULL (no file is not an error). A file that is
 * not regular (a FIFO would block) or larger than 64 MiB is an error. */
void executor_read_result(const char *path, char **metrics, char **error);

#endif
