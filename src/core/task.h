/* Task states and what one attempt of a task produced. Shared by the store, the
 * scheduler, the runner and (later) the service and the workers. */
#ifndef SWEEP_CORE_TASK_H
#define SWEEP_CORE_TASK_H

enum task_state {
    TASK_PENDING = 0, /* waiting to run (possibly a retry after a backoff) */
    TASK_RUNNING,
    TASK_SUCCEEDED,
    TASK_FAILED,
    TASK_TIMED_OUT,
    TASK_CANCELLED,
    TASK_INTERRUPTED, /* its run was stopped (SIGINT, crash); reruns on the next run */
    TASK_SKIPPED,     /* a pipeline step after one that failed for good, or a reduce
                         that `when` ruled out; never ran */
    TASK_WAITING,     /* a pipeline step waiting for the step before it to succeed, or a
                         reduce for every chain to end */
    TASK_NSTATES,
};

/* "pending", "running", ... */
const char *task_state_name(enum task_state s);
/* Returns 0 and sets *s, or -1 for an unknown name. */
int task_state_parse(const char *name, enum task_state *s);
/* True for states that end an attempt for good. */
int task_state_is_final(enum task_state s);

/* What one attempt ended with, as recorded in the store. */
struct task_outcome {
    enum task_state state; /* SUCCEEDED, FAILED, TIMED_OUT, CANCELLED or INTERRUPTED */
    int exit_code;         /* -1 when it did not exit normally */
    int signal;            /* 0 when not killed by a signal */
    double started_at;     /* epoch seconds */
    double finished_at;
    double wall, user, sys;
    long maxrss_kb;
    const char *error;        /* human reason for a failure, or NULL */
    const char *metrics_json; /* the object the task wrote to $SWEEP_RESULT, or NULL */
    double retry_at;          /* > 0: another attempt is scheduled at this epoch time,
                                 and the task goes back to pending */
};

#endif
