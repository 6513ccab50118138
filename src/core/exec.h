/* The local executor: a pool of task processes on this machine. Each task is spawned
 * without a shell (vfork + execve), as the leader of its own process group, with
 * signals reset, stdin from /dev/null, stdout and stderr to pipes drained into files
 * made at their first byte, in its working directory. It is watched for a deadline: at
 * the timeout the whole group gets SIGTERM, and SIGKILL `kill_after` seconds later.
 * When the leader exits, whatever is left of its group (grandchildren) is killed before
 * the leader is reaped, so nothing outlives its task. rusage (wall, user, sys, peak
 * RSS) is collected with wait4.
 *
 * A task starts with every signal at its default action and an empty mask. The
 * child resets only what is not SIG_DFL (what was ignored or caught when the pool
 * was made, plus SIGINT, SIGTERM, SIGHUP and SIGPIPE, which the program may catch or
 * ignore later): a disposition set after exec_pool_create() on another signal is
 * inherited by tasks if it is SIG_IGN.
 *
 * A pool watches each of its tasks through a pidfd (Linux >= 5.3) in its own epoll set:
 * it sees only its own children, handles no signal and leaves the signal mask alone,
 * so any number of pools can live and die in one process, in any order. SIGINT,
 * SIGTERM and SIGHUP belong to the program (sigwatch.h); exec_poll() only reports them
 * when asked. The same pool serves `sweep run` and, later, `sweep worker`.
 *
 * A task gets PR_SET_PDEATHSIG(SIGKILL): it is killed when the thread that spawned it
 * ends, e.g. when sweep is killed with SIGKILL, so nothing is left running
 * unsupervised. Limits: that signal reaches the task process alone; its own children
 * (the rest of its process group) outlive a sweep that was killed -9, and it is tied to
 * the spawning thread, not the process (spawn from a thread that lives as long as the
 * pool); the next run ends them (runner_end_orphans). A grandchild that leaves the
 * task's process group (setsid, setpgid) escapes the pool's kills; after a kill -9,
 * the next run finds it by its environment.
 *
 * Peak RSS (maxrss_kb) is wait4's ru_maxrss: the largest of the task's own peak and
 * the resident size of sweep at the moment of the spawn, which Linux records when the
 * child, still sharing sweep's memory, execs. So it is the task's own peak for a task
 * larger than sweep (a simulation that allocates), and sweep's size (about 10 MB) for a
 * small one (/bin/true): a floor, not a measurement, below that. rusage covers the task
 * and the descendants it waited for itself. */
#ifndef SWEEP_CORE_EXEC_H
#define SWEEP_CORE_EXEC_H

#include "common/err.h"

#include <stdbool.h>
#include <sys/types.h>

struct exec_cmd {
    /* argv[0] with a slash is a path (a relative one resolves in cwd, as in the child);
     * without one it is looked up in the PATH of envp (the task's own, as `env PATH=..`
     * would), or of sweep's environment when envp has none. Relative and empty PATH
     * entries are ignored. */
    char *const *argv;
    char *const *envp; /* the complete environment */
    const char *cwd;   /* NULL: sweep's */
    /* The task writes to a pipe that the pool drains into this file, created or
     * truncated (0644) at the first byte, so a task that writes nothing leaves the
     * path as it was (no file: the caller removes an old one); a relative path is
     * relative to sweep's working directory, not cwd. The file holds what the task
     * wrote once exec_poll() has drained it: while the owner polls (at least every
     * second), and all of it before done() is called for the task, except what a
     * process that escaped the task's group writes later (drained while the pool
     * lives). NULL: /dev/null. The same path for both shares one pipe and file (like
     * `>f 2>&1`). A file that cannot be created or written is reported in the
     * result (out_err), and what the task writes is then dropped. */
    const char *stdout_path;
    const char *stderr_path;
    double timeout;    /* seconds; <= 0 means none */
    double kill_after; /* seconds between SIGTERM and SIGKILL */
    void *ctx;         /* the caller's, handed back in the result */
};

struct exec_result {
    void *ctx;
    pid_t pid;
    bool exited; /* normal exit: exit_code is valid */
    int exit_code;
    int signal;             /* the signal that ended it, or 0 */
    bool timed_out;         /* ended after its deadline (it was sent SIGTERM by us) */
    double wall, user, sys; /* seconds */
    long maxrss_kb;
    /* The task wrote to its stdout or stderr (a file was made or could not be), or a
     * process that left its group still holds the pipe: false means the task left
     * no output file behind, and none will come. */
    bool output;
    int out_err;          /* errno of a stdout/stderr file not created or written */
    const char *out_path; /* that file (valid during done() only) */
};

typedef void exec_done_fn(const struct exec_result *res, void *arg);

struct exec_pool;

int exec_pool_create(struct exec_pool **out, struct err *err);
/* Kills what is still running (SIGKILL to each group) and reaps it. Other pools and
 * their tasks are not affected. Accepts NULL. */
void exec_pool_destroy(struct exec_pool *pool);

/* A file descriptor (an epoll set) that is readable while a task of the pool has ended
 * and is not yet reaped, for an owner that polls several sources: it then calls
 * exec_poll(pool, 0, ...). Deadlines (timeouts, kill_after) are enforced only inside
 * exec_poll(), so the owner calls it at least every second or so while tasks with a
 * deadline run. Valid until exec_pool_destroy(). */
int exec_pool_fd(const struct exec_pool *pool);

/* Starts a task. A program that cannot be executed (not found, not executable), a
 * working directory that cannot be entered is an error here (SWEEP_ESPAWN, the message
 * names the program, what failed and the reason), not a child that exits 127. Output
 * files are made later (exec_cmd.stdout_path). Cost: the vfork and execve, about a
 * dozen system calls in the child, and 3 in the pool per output pipe (pipe2,
 * epoll_ctl, close) plus a close at its end (and the reads of what the task wrote:
 * a pipe that hangs up empty is not read). */
int exec_spawn(struct exec_pool *pool,
               const struct exec_cmd *cmd,
               pid_t *pid,
               struct err *err);

/* Waits at most `timeout_ms` (-1: until a task ends or a signal arrives) for children
 * to end, enforces deadlines, and calls done() once per reaped task; `res` is valid
 * during the call only. done() may call exec_spawn, exec_kill and exec_running, not
 * exec_poll or exec_pool_destroy. Returns the number of tasks reaped, or -1 with err
 * set. With `signo` not NULL and the program's signal watch open (sigwatch_open), it
 * also wakes for SIGINT, SIGTERM or SIGHUP, takes them (sigwatch_take) and sets
 * *signo to the last (else leaves it alone); the caller decides what to do. With
 * `signo` NULL signals are left for their owner. Cost per call: O(running) plus one
 * wait4 per exit. */
int exec_poll(struct exec_pool *pool,
              int timeout_ms,
              exec_done_fn *done,
              void *arg,
              int *signo,
              struct err *err);

/* Sends sig to the group of one task / of every running task (a pid that is not a
 * running task is ignored). With `escalate`, SIGKILL follows the task's kill_after
 * later (sent by exec_poll()) and its own timeout no longer applies, so it is not
 * reported timed_out. */
void exec_kill(struct exec_pool *pool, pid_t pid, int sig, bool escalate);
void exec_kill_all(struct exec_pool *pool, int sig, bool escalate);

int exec_running(const struct exec_pool *pool);

#endif
