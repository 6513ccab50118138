/* The local executor: a pool of task processes on this machine. Each task is spawned
 * without a shell (posix_spawn), as the leader of its own process group, with signals
 * reset, stdin from /dev/null, stdout and stderr to files, in its working directory. It
 * is watched for a deadline: at the timeout the whole group gets SIGTERM, and SIGKILL
 * `kill_after` seconds later. When the leader exits, whatever is left of its group
 * (grandchildren) is killed before the leader is reaped, so nothing outlives its task.
 * rusage (wall, user, sys, peak RSS) is collected with wait4.
 *
 * SIGCHLD, SIGINT, SIGTERM and SIGHUP are blocked and read from a signalfd by
 * exec_poll(); the pool is meant to be the only one in a process. The same pool serves
 * `sweep run` and, later, `sweep worker`. */
#ifndef SWEEP_CORE_EXEC_H
#define SWEEP_CORE_EXEC_H

#include "common/err.h"

#include <stdbool.h>
#include <sys/types.h>

struct exec_cmd {
    char *const *argv;  /* argv[0] is a path, or a name looked up in PATH */
    char *const *envp;  /* the complete environment */
    const char *cwd;
    const char *stdout_path; /* created or truncated */
    const char *stderr_path;
    double timeout;    /* seconds; <= 0 means none */
    double kill_after; /* seconds between SIGTERM and SIGKILL */
    void *ctx;         /* the caller's, handed back in the result */
};

struct exec_result {
    void *ctx;
    pid_t pid;
    bool exited;   /* normal exit: exit_code is valid */
    int exit_code;
    int signal;    /* the signal that ended it, or 0 */
    bool timed_out; /* ended after its deadline (it was sent SIGTERM by us) */
    double wall, user, sys; /* seconds */
    long maxrss_kb;
};

typedef void exec_done_fn(const struct exec_result *res, void *arg);

struct exec_pool;

int exec_pool_create(struct exec_pool **out, struct err *err);
/* Kills what is still running (SIGKILL to each group), reaps it, restores the signal
 * mask. Accepts NULL. */
void exec_pool_destroy(struct exec_pool *pool);

/* Starts a task. A program that cannot be executed (not found, not executable) is an
 * error here (SWEEP_ESPAWN, the message names the program and the reason), not a child
 * that exits 127. */
int exec_spawn(struct exec_pool *pool, const struct exec_cmd *cmd, pid_t *pid,
               struct err *err);

/* Waits at most `timeout_ms` (-1: until something happens) for children to end,
 * enforces deadlines, and calls done() once per reaped task. Returns the number of
 * tasks reaped, or -1 with err set. When SIGINT, SIGTERM or SIGHUP arrived, *signo is
 * set to it (else left alone); the caller decides what to do. */
int exec_poll(struct exec_pool *pool, int timeout_ms, exec_done_fn *done, void *arg,
              int *signo, struct err *err);

/* Sends sig to the group of one task / of every running task. Escalation to SIGKILL
 * after kill_after happens in exec_poll() when `escalate` is true. */
void exec_kill(struct exec_pool *pool, pid_t pid, int sig, bool escalate);
void exec_kill_all(struct exec_pool *pool, int sig, bool escalate);

int exec_running(const struct exec_pool *pool);

#endif
