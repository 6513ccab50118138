/* The runner: one study on this machine, from spec to finished tasks. runner_prepare()
 * stores the study and streams its expansion into the store in one transaction (a bad
 * task refuses the whole study and nothing is stored); runner_run() is the loop that
 * picks pending tasks by priority, starts them through the local executor within the
 * slots and the rate limit, records every attempt, retries with backoff, and stops on
 * error, on SIGINT/SIGTERM or on `sweep cancel`. The service will drive the same loop.
 */
#ifndef SWEEP_CORE_RUNNER_H
#define SWEEP_CORE_RUNNER_H

#include "core/spec.h"
#include "core/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Checks one expanded task's parameters against its step (a model's schema). */
typedef int runner_check_fn(const struct spec_step *step,
                            const json_t *params,
                            void *arg,
                            struct err *err);

/* What runner_opts.on_task hears about: a task started (its attempt is recorded), or
 * ended for good (its final state, metrics and times are committed to the store; an
 * attempt that will be retried is not an end). */
enum runner_task_event {
    RUNNER_TASK_STARTED,
    RUNNER_TASK_ENDED,
};
typedef void runner_task_fn(void *arg, enum runner_task_event ev, const char *key);

struct runner_opts {
    const char *self_path; /* the sweep binary: model tasks run `sweep sim MODEL` */
    int max_parallel;      /* > 0 overrides the spec's; else the spec's or the cpus */
    int band;              /* run only this priority band (PRIORITY_*), 0 = all */
    bool force;            /* rerun succeeded tasks too */
    bool stop_on_error;    /* no new task after the first failure without retry left */
    bool halt_now;         /* ... and kill the running ones */
    FILE *progress;        /* progress lines; NULL for none */
    bool tty;              /* redraw one progress line in place */
    const char *only_key;  /* run only this task; the others stay as they are */
    runner_task_fn *on_task; /* may be NULL; called outside any store transaction */
    void *on_task_arg;
};

enum runner_end {
    RUNNER_FINISHED,    /* nothing left to run */
    RUNNER_STOPPED,     /* stop-on-error */
    RUNNER_INTERRUPTED, /* SIGINT, SIGTERM or SIGHUP */
    RUNNER_CANCELLED,   /* `sweep cancel` */
};

struct runner_summary {
    enum runner_end end;
    int signo;        /* RUNNER_INTERRUPTED: the signal (SIGINT, SIGTERM, SIGHUP) */
    char reason[512]; /* why it stopped, for the summary */
    enum study_status status;
    double elapsed;                    /* seconds */
    long long skipped;                 /* already succeeded, not rerun */
    long long attempts;                /* attempts started in this run */
    long long counts[3][TASK_NSTATES]; /* the study's tasks after the run, by band */
    double wall[3];                    /* task wall seconds of this run, by band */
};

/* Takes the study's run lock (<home>/studies/<name>/run.lock): SWEEP_EBUSY when another
 * sweep process runs the study. Returns the lock fd in *fd (close it to release). */
int runner_lock(const char *home, const char *study, int *fd, struct err *err);

/* True when a sweep process holds the study's run lock (it is being run now). */
bool runner_is_active(const char *home, const char *study);

/* Stores the study and its tasks. `check` (may be NULL) validates each task. SIGINT,
 * SIGTERM or SIGHUP while it works (a large study takes seconds) rolls it back, frees
 * the WAL, and returns SWEEP_EIO; runner_prepare_signal() then says which signal. */
int runner_prepare(struct store *st,
                   const struct spec *spec,
                   runner_check_fn *check,
                   void *check_arg,
                   long long *study_id,
                   long long *generation,
                   uint64_t *ntasks,
                   struct err *err);
/* The signal that interrupted the last runner_prepare(), or 0: the caller exits with
 * 128 + it, as a shell reports a command the signal killed. */
int runner_prepare_signal(void);

int runner_run(struct store *st,
               const struct spec *spec,
               long long study_id,
               long long generation,
               const struct runner_opts *o,
               struct runner_summary *sum,
               struct err *err);

/* <home>/studies/<study>[/tasks/<k0k1>/<key>]: where a study and a task keep files. */
char *runner_study_dir(const char *home, const char *study);
char *runner_task_dir(const char *home, const char *study, const char *key);

#endif
