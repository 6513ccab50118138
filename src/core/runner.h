/* The runner: one study, from spec to finished tasks. runner_prepare() stores the
 * study and streams its expansion into the store in one transaction (a bad task
 * refuses the whole study and nothing is stored); runner_run() is the loop that picks
 * pending tasks by priority, starts them through an executor (executor.h: the local
 * process pool unless the caller gives another) within the slots and the rate limit,
 * records every attempt, retries with backoff, and stops on error, on SIGINT/SIGTERM
 * or on `sweep cancel`. The service will drive the same loop.
 */
#ifndef SWEEP_CORE_RUNNER_H
#define SWEEP_CORE_RUNNER_H

#include "core/executor.h"
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

/* The runner's clock: mono for intervals (backoff, rate limit, polling), now for the
 * epoch times it stores (attempts, not_before of a retry). A test gives a virtual one
 * that moves with its fake executor. */
struct runner_clock {
    double (*mono)(void *arg);
    double (*now)(void *arg);
    void *arg;
};

struct runner_opts {
    const char *self_path; /* the sweep binary: model tasks run `sweep sim MODEL` */
    int max_parallel;      /* > 0 overrides the spec's; else the spec's or the cpus */
    int band;              /* run only this priority band (PRIORITY_*), 0 = all */
    bool force;            /* rerun succeeded tasks too */
    bool stop_on_error;    /* no new task after the first failure without retry left */
    bool halt_now;         /* ... and kill the running ones */
    FILE *progress;        /* progress lines; NULL for none */
    bool tty;              /* redraw one progress line in place */
    int (*columns)(void);  /* tty: the terminal's width now, asked at each redraw (the
                              front end owns the terminal); NULL or < 1: no limit */
    const char *only_key;  /* run only this task; the others stay as they are */
    /* A task that fails within its first second with exit 1, 2, 126 or 127 (a script
     * not found, a bad argument) gets the first lines of its stderr printed here, once
     * per distinct failure and for the first few, with a hint about {spec_dir} when it
     * says a file is missing; NULL for none. */
    FILE *notes;
    runner_task_fn *on_task; /* may be NULL; called outside any store transaction */
    void *on_task_arg;
    /* Without force: which ended tasks run again (store.h). 0, the default, reruns the
     * failed ones; STORE_RERUN_UNTRIED is `sweep run --skip-failed`. */
    enum store_rerun rerun;
    /* Where attempts run; NULL: a local process pool made (and destroyed) by
     * runner_run. One given here is the caller's; runner_run dispatches it and, when it
     * returns after an error, cancels (now) what it still runs for the study. */
    struct executor *executor;
    const struct runner_clock *clock; /* NULL: time_mono() and time_now() */
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
    /* Failed or timed out before and left so (--skip-failed). */
    long long left_failed;
    /* A note on the results, or "": repetitions that gave identical values
     * (aggregate_save). */
    char note[512];
};

/* Takes the study's run lock (<home>/studies/<name>/run.lock) for `holder` (what
 * the refused one is told, e.g. "sweep run"; runner_lock() says "sweep run"). When
 * another process holds it: SWEEP_EBUSY, with a one-line message that names its pid,
 * since when and what it is ("study 'x' is being run by pid 1234 since 2026-12-06
 * 21:30:05 (sweep run); wait for it or `sweep cancel x`"). Returns the lock fd in *fd
 * (close it to release). */
int runner_lock_as(
    const char *home, const char *study, const char *holder, int *fd, struct err *err);
int runner_lock(const char *home, const char *study, int *fd, struct err *err);

/* Deletes a study from the store (its tasks, attempts, metrics and aggregate) and then
 * its files under the home (<home>/studies/<name>: task directories, study.log). The
 * caller holds its run lock (runner_lock_as). SWEEP_ENOTFOUND when there is no such
 * study; SWEEP_EIO (naming what is left) when the rows are gone but some file could
 * not be removed. O(its tasks + its files). */
int runner_study_remove(struct store *st, const char *study, struct err *err);

/* True when a sweep process holds the study's run lock (it is being run now). */
bool runner_is_active(const char *home, const char *study);

/* Stores the study and its tasks. `check` (may be NULL) validates each task. The tasks
 * are stored in chunks, each its own transaction (other writers wait for one chunk at
 * most), under a new generation that becomes visible in the last transaction only
 * (store_study_stage()), so that nothing half-stored is ever seen: a refused task, or
 * SIGINT, SIGTERM or SIGHUP while it works (a large study takes seconds), leaves the
 * study as it was, frees the WAL, and returns the error (SWEEP_EIO for a signal;
 * runner_prepare_signal() then says which). */
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
/* The chunks of runner_prepare(): a chunk ends after max_tasks tasks, or after
 * max_seconds (<= 0: no limit) once it has 1,000 tasks; by default 200,000 tasks and
 * 1 s. For tests. */
void runner_prepare_chunks(uint64_t max_tasks, double max_seconds);

/* Runs the study's pending tasks to the end. SIGINT, SIGTERM and SIGHUP stop it cleanly
 * (RUNNER_INTERRUPTED) while the program's signal watch is open (sigwatch.h: the
 * caller opens it; without it they keep their default actions). */
int runner_run(struct store *st,
               const struct spec *spec,
               long long study_id,
               long long generation,
               const struct runner_opts *o,
               struct runner_summary *sum,
               struct err *err);

/* One task, as runner_task_argv needs it. */
struct runner_argv_in {
    int step; /* in spec->steps; spec->nsteps for the reduce */
    const json_t *params;
    const char *params_json; /* canonical JSON of params, as stored */
    const char *key;
    long long seed;
    int repetition;
    const char *task_dir;
    /* The task directories of the steps before this one in its chain (`step` of them),
     * for {steps.NAME.dir|result}; NULL when runner_step_uses_steps() is false. */
    char *const *step_dirs;
    const char *reduce_input; /* the reduce's {reduce.input}; NULL elsewhere */
};

/* The argv a task runs, built exactly as the runner spawns it (and as `sweep run
 * --dry-run` shows it): a model step is `self_path sim MODEL --params JSON`; a command
 * step is its template rendered element by element (tmpl_render, {spec_dir} is
 * spec->dir), then a relative program path that has a '/' (./sim) is taken from the
 * spec's directory; with shell: true the one string follows `/bin/sh -c`. A
 * NULL-terminated array in *out (free each string and the array). A template error is
 * SWEEP_EINVAL (*out NULL). */
int runner_task_argv(const struct spec *spec,
                     const char *self_path,
                     const struct runner_argv_in *in,
                     char ***out,
                     struct err *err);
/* Whether a step's command refers to the steps before it ({steps.NAME...}). */
bool runner_step_uses_steps(const struct spec_step *step);

/* <home>/studies/<study>[/tasks/<k0k1>/<key>]: where a study and a task keep files. */
char *runner_study_dir(const char *home, const char *study);
char *runner_task_dir(const char *home, const char *study, const char *key);

/* ---- owners of attempts (store.h: owners and leases) ---- */

/* This process as an owner of attempts: "host:pid:starttime" (gethostname, getpid,
 * field 22 of /proc/self/stat). Free it. */
char *runner_owner_self(void);
/* The lease of a run's attempts in seconds: $SWEEP_LEASE when it is a number from 1
 * to 86400 (tests shorten it), else STORE_LEASE_DEFAULT (60). */
double runner_lease(void);

enum runner_owner_state {
    RUNNER_OWNER_FOREIGN, /* another host's (or not of the form host:pid:start) */
    RUNNER_OWNER_ALIVE,   /* a live process on this host */
    RUNNER_OWNER_DEAD,    /* this host, and its pid is gone, a zombie, or another
                             process's (a different start time) */
};
enum runner_owner_state runner_owner_state(const char *owner);

struct studylog;
/* Ends what a dead local run left running: for each open attempt of the study
 * (study_id 0: of every study) whose owner is RUNNER_OWNER_DEAD, its process group
 * (recorded by the runner after the spawn) gets SIGTERM, then SIGKILL after 3 s, and
 * is waited for until it is gone (zombies count as gone) with a deadline of 5 s more;
 * then the attempt is closed as interrupted (store_attempt_interrupt) and logged
 * (task_orphan_ended, when log is not NULL). A group whose leader started at another
 * time than the attempt (a reused pid) is not signalled. Attempts without owner, of
 * another host or of a live owner are left alone. *n receives how many attempts were
 * interrupted. SWEEP_EBUSY when a group outlived SIGKILL (nothing is started beside
 * it). Blocks for up to 8 s when there are orphans; O(open attempts) otherwise. Limits:
 * a task whose run died in the instant between its spawn and the commit that records
 * its process group (the end of that tick's spawns) is not found; a process that left
 * its task's group is not ended; a host is known by its name. */
int runner_end_orphans(struct store *st,
                       long long study_id,
                       struct studylog *log,
                       long long *n,
                       struct err *err);

/* What an owner of attempts does at its start and about every lease/3 seconds (a
 * `sweep run`: before it starts anything, then from its loop): renews the leases of
 * its open attempts (store_owner), ends what dead local runs left running
 * (runner_end_orphans, every study), then interrupts the attempts of other owners
 * whose lease ran out (store_expire_leases; logged as leases_expired). Ending the
 * orphans first keeps an expired lease from making a task runnable while its process
 * still runs on this host. SWEEP_EBUSY from a busy store: call it again later. */
int runner_leases_tick(struct store *st, struct studylog *log, struct err *err);

/* Reads a task's $SWEEP_RESULT file at path: executor_read_result(), which the local
 * executor calls when a task ends; kept under this name for its callers. */
void runner_read_result(const char *path, char **metrics, char **error);

#endif
