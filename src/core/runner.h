/* The runner: one study, from spec to finished tasks. runner_prepare() stores the
 * study and streams its expansion into the store in one transaction (a bad task
 * refuses the whole study and nothing is stored). A struct runner (runner_create) is
 * a state machine its owner steps, never a loop: waiting for the studies of `after:`,
 * then picking pending tasks by priority, starting them through an executor
 * (executor.h) within its slots and rate limit, recording every attempt, retrying
 * with backoff, and stopping on error, on a signal its owner hands it, or on `sweep
 * cancel`. Its owner is an engine (engine.h), which steps one or several runners over
 * one executor and one slot budget; runner_run() is the small loop of an engine over
 * one runner. What it does is told as typed events (runner_opts.on_event) and counts
 * (runner_progress_get); the progress line is the front end's (src/cli/progress.c).
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

enum runner_end {
    RUNNER_FINISHED,    /* nothing left to run */
    RUNNER_STOPPED,     /* stop-on-error */
    RUNNER_INTERRUPTED, /* SIGINT, SIGTERM or SIGHUP */
    RUNNER_CANCELLED,   /* `sweep cancel` */
};

/* What a runner tells as it happens (strings and pointers are borrowed for the call).
 * Every event goes first to the study's log (studylog_on_event(), the lines of
 * study.log), then to the owner's runner_opts.on_event (the progress lines now,
 * server-sent events and MCP later). Events of a tick written to the store in one
 * transaction are held by the log until it commits (studylog.h); the owner hears them
 * at once. Kinds, and the fields each sets beyond kind, study and time:
 *   START        the run proper starts: pid (this process), tasks, pending, skipped,
 *                slots
 *   TASK         a task changed state (task_id, key, attempt, from -> to):
 *                  pending -> running: started (pid, params);
 *                  running -> pending: failed, retried (outcome: how it ended, its
 *                  retry_at);
 *                  running -> a final state: ended (outcome);
 *                  waiting -> pending, skipped or succeeded: the pipeline's reduce
 *                  released, skipped, or not run again as its input did not change
 *                  (text: why, for the last two)
 *   START_FAILED an attempt could not be started (key, attempt, text: the error); its
 *                end, a failed attempt, follows on the next tick
 *   STALE        a result for an attempt no longer current, recorded as stale (key,
 *                attempt, outcome, text: why)
 *   CHAIN_SKIPPED the rest of a chain skipped after key's step ended (count, text)
 *   ORPHAN_ENDED a task of a run that died was ended and its attempt interrupted
 *                (running -> interrupted; task_id, key, attempt, pid: its process
 *                group, text: the owner)
 *   LEASE_EXPIRED an attempt of an owner that stopped renewing its lease was
 *                interrupted (running -> interrupted), its task runnable again
 *                (task_id, key, attempt, text: the owner)
 *   WAITING      the study waits for `after` (after: the study; text: "waiting for
 *                NAME"), once per change
 *   BLOCKED      `after` cannot be met: the run ends (text: why)
 *   STOP         stop-on-error: nothing new starts (text: why)
 *   INTERRUPT    a signal stops the run (signo, count: tasks running)
 *   CANCEL       `sweep cancel` of the study (text: why)
 *   STORE_BUSY   the store was busy: count outcomes wait for the next tick
 *   END          the run ended (end, status, recorded, elapsed; error with text the
 *                error, else text the reason or "") */
enum runner_event_kind {
    RUNNER_EVENT_START,
    RUNNER_EVENT_TASK,
    RUNNER_EVENT_START_FAILED,
    RUNNER_EVENT_STALE,
    RUNNER_EVENT_CHAIN_SKIPPED,
    RUNNER_EVENT_ORPHAN_ENDED,
    RUNNER_EVENT_LEASE_EXPIRED,
    RUNNER_EVENT_WAITING,
    RUNNER_EVENT_BLOCKED,
    RUNNER_EVENT_STOP,
    RUNNER_EVENT_INTERRUPT,
    RUNNER_EVENT_CANCEL,
    RUNNER_EVENT_STORE_BUSY,
    RUNNER_EVENT_END,
};
struct runner_event {
    enum runner_event_kind kind;
    const char *study;
    double time; /* epoch (the runner's clock) */
    long long task_id;
    const char *key;
    int attempt;
    enum task_state from, to;
    const char *text;
    int pid;                            /* see the kinds above */
    const char *params;                 /* TASK start: its parameters as it sees them */
    const struct task_outcome *outcome; /* TASK end or retry, STALE */
    long long count;
    int signo;
    const char *after;                 /* WAITING */
    long long tasks, pending, skipped; /* START */
    int slots;
    enum runner_end end; /* END ... */
    enum study_status status;
    bool error, recorded;
    double elapsed;
};
typedef void runner_event_fn(void *arg, const struct runner_event *ev);

struct runner;
/* Called by runner_run after each tick, and once more when the run has ended
 * (runner_done), for a front end's progress line (runner_progress_get). */
typedef void runner_tick_fn(void *arg, struct runner *r);

struct runner_opts {
    const char *self_path; /* the sweep binary: model tasks run `sweep sim MODEL` */
    int max_parallel;      /* > 0 overrides the spec's; else the spec's or the cpus */
    int band;              /* run only this priority band (PRIORITY_*), 0 = all */
    bool force;            /* rerun succeeded tasks too */
    bool stop_on_error;    /* no new task after the first failure without retry left */
    bool halt_now;         /* ... and kill the running ones */
    bool
        tty; /* a progress line is redrawn on the terminal of `notes`: notes clear it */
    const char *only_key; /* run only this task; the others stay as they are */
    /* A task that fails within its first second with exit 1, 2, 126 or 127 (a script
     * not found, a bad argument) gets the first lines of its stderr printed here, once
     * per distinct failure and for the first few, with a hint about {spec_dir} when it
     * says a file is missing; NULL for none. */
    FILE *notes;
    runner_task_fn *on_task; /* may be NULL; called outside any store transaction */
    void *on_task_arg;
    runner_event_fn *on_event; /* may be NULL; called from the tick, as it happens */
    void *on_event_arg;
    runner_tick_fn *on_tick; /* runner_run only; may be NULL */
    void *on_tick_arg;
    double tick_max; /* runner_run: the longest wait between ticks (0: none) */
    /* Without force: which ended tasks run again (store.h). 0, the default, reruns the
     * failed ones; STORE_RERUN_UNTRIED is `sweep run --skip-failed`. */
    enum store_rerun rerun;
    /* Where attempts run; NULL: a local process pool made (and destroyed) by
     * runner_run (runner_create needs one). One given here is the caller's; the owner
     * dispatches it and, when the run ends on an error, the runner cancels (now) what
     * it still runs for the study. */
    struct executor *executor;
    const struct runner_clock *clock; /* NULL: time_mono() and time_now() */
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
 * max_seconds (<= 0: no limit) once it has 1,000 tasks, and is stored in key order
 * once the study has more than keys_in_cache keys (runner_prepare.c says why); by
 * default 250,000 tasks, 1 s and RUNNER_KEYS_IN_CACHE. For tests. */
#define RUNNER_KEYS_IN_CACHE 1000000
void runner_prepare_chunks(uint64_t max_tasks,
                           double max_seconds,
                           uint64_t keys_in_cache);

/* Runs the study's pending tasks to the end: an engine (engine.h) over this one
 * runner, with the slots of the study (opts.max_parallel, else the spec's, else the
 * CPUs). SIGINT, SIGTERM and SIGHUP stop it cleanly (RUNNER_INTERRUPTED) while the
 * program's signal watch is open (sigwatch.h: the caller opens it; without it they
 * keep their default actions). */
int runner_run(struct store *st,
               const struct spec *spec,
               long long study_id,
               long long generation,
               const struct runner_opts *o,
               struct runner_summary *sum,
               struct err *err);

/* ---- the stepped runner (an engine, engine.h, is its owner) ----
 *
 * Phases: waiting for `after` (checked every second: its studies completed, or one
 * failed and this one is blocked), starting (the study's tasks reset and the study
 * marked started), running, finishing (its end recorded), done. One tick of an engine
 * over its runners: runner_pre() on each (outside any transaction: moves a runner
 * between phases, and records its end), then in one store transaction runner_reap()
 * on each (the attempts that ended since the last tick, retries, `sweep cancel`, the
 * next page of pending tasks), then the starts across runners (runner_head,
 * runner_start_head), commit, runner_committed(), and runner_spawn() (submits the
 * chosen tasks). Attempts' ends reach their runner by runner_take_outcome() from the
 * executor's callback. */

/* Creates the runner of a stored study (its study.log opened, this process made the
 * owner of attempts when the store has none); o->executor is required, and o (copied)
 * and what it points to, spec and st are borrowed until runner_destroy(). */
int runner_create(struct store *st,
                  const struct spec *spec,
                  long long study_id,
                  long long generation,
                  const struct runner_opts *o,
                  struct runner **out,
                  struct err *err);
/* Frees it (accepts NULL); what it still runs keeps running in the executor. */
void runner_destroy(struct runner *r);

void runner_pre(struct runner *r);
int runner_reap(struct runner *r, struct err *err);
/* The study's tick found the store busy: logged; its outcomes wait for the next. */
void runner_busy(struct runner *r);

struct runner_head {
    int priority;
    long long seq;
    int cpus; /* the slots it takes (at most the study's) */
};
/* When the first ready task may start as far as its study goes (running, not
 * stopping, its own slots, its rate limit): its runner's monotonic time, now at the
 * earliest, or INFINITY (no such task, or the study's slots are full); *head says
 * which. The engine wakes for it only while it has the slots free: a runner's
 * wakeup (runner_next_wakeup) leaves it out. runner_head: whether that is now. O(1). */
double runner_head_at(const struct runner *r, struct runner_head *head);
bool runner_head(struct runner *r, struct runner_head *head);
/* Takes that task with `need` slots and marks it running (in the tick's transaction):
 * 1, or 0 when it had been cancelled meanwhile, or -code with err set. */
int runner_start_head(struct runner *r, int need, struct err *err);

/* Claiming ahead: so that a slot freed by an ending task is refilled at once, before
 * that end is recorded, the tick also marks the next tasks running (their attempts
 * committed with owner and lease, as any start) without submitting them; the owner
 * submits one from the executor's callback as soon as a task ends and slots are free
 * (runner_spawn_claimed), or the next tick does (runner_start_claimed). A run that
 * stops gives its claimed tasks back (store_task_unclaim: pending again, the attempt
 * never made); after kill -9 they are open attempts of a dead owner without a
 * process, which the next run gives back (runner_end_orphans). At most
 * runner_claim_max() are claimed (2 while its tasks take 50 ms to 1 s on average,
 * none beyond: runner_spawn.c), none under a rate limit, where a slot would otherwise
 * idle during the commit; their ends and process groups are then recorded together, at
 * most 10 ms late (runner_next_wakeup), as long as claimed tasks remain to refill
 * slots; a claimed task counts as running in the store (`sweep status`) until it
 * starts, and a `sweep cancel` of it is one of a running task (given back when the run
 * sees it first). runner_head_ahead: whether the first ready task may be claimed
 * (*head: which); runner_claim_head: claims it (1, 0 when cancelled meanwhile, -code).
 */
bool runner_head_ahead(struct runner *r, struct runner_head *head);
int runner_claim_head(struct runner *r, struct err *err);
/* The most tasks claimed ahead at once, by one runner or across an engine's. */
static inline int runner_claim_max(int slots)
{
    return slots > 8 ? slots : 8;
}
/* How many tasks it holds claimed. */
size_t runner_nclaimed(const struct runner *r);
/* The priority of the first claimed task that may start, or INT_MIN. */
int runner_claimed_priority(const struct runner *r);
/* Makes the first claimed task running when it fits `free` slots (and the study's):
 * in the tick, submitted by runner_spawn() after the commit; from the callback,
 * submitted at once. The slots it took, or 0. */
int runner_start_claimed(struct runner *r, int free);
int runner_spawn_claimed(struct runner *r, int free);
/* After the tick's transaction: the study log's lines kept (ok) or dropped. */
void runner_committed(struct runner *r, bool ok);
/* Submits the tasks the tick chose and returns how many. The process group of each
 * task submitted is recorded by the next tick, which comes at once
 * (runner_next_wakeup), unless that tick records its end (then it is not: the
 * attempt's pid and pgid stay 0). */
size_t runner_spawn(struct runner *r);
void runner_flush(struct runner *r);
/* Keeps an ended attempt's outcome for the next tick when it is one of this
 * runner's (true), and frees its slots at once (for runner_spawn_claimed); false
 * otherwise. */
bool runner_take_outcome(struct runner *r, const struct executor_outcome *out);
/* Ends the run on an error of its owner's (recorded as INTERRUPTED when the store
 * takes it; what it still runs is cancelled now). */
void runner_fail(struct runner *r, int rc, const struct err *err);
/* A signal its owner decided stops the run: the first stops it cleanly (running tasks
 * get SIGTERM and are recorded interrupted; while waiting for `after` it ends at
 * once), a second kills what still runs. */
void runner_interrupt(struct runner *r, int signo);
/* Cancels the study (as `sweep cancel` of it, which runner_reap also notices). */
void runner_cancel(struct runner *r);
/* The monotonic time (its clock) at which it needs a tick even if no attempt ends:
 * a backoff, the poll for `sweep cancel`, `after`; now when it has something to do,
 * INFINITY when done. Not the start of its next ready task (runner_head_at), which
 * only its owner knows to be possible. */
double runner_next_wakeup(const struct runner *r);
/* Whether it is recording the ends of short tasks together (runner_claim_head): a
 * tick would only record them; and whether it has nothing new for a tick (no end, no
 * spawn to record, no wakeup due). Its owner skips the tick while some runner is
 * batching and the others are batching or quiet. */
bool runner_batching(const struct runner *r);
bool runner_quiet(const struct runner *r);
bool runner_done(const struct runner *r);
int runner_used(const struct runner *r);  /* slots its running tasks take */
int runner_slots(const struct runner *r); /* its own limit */
double runner_mono(const struct runner *r);
struct studylog;
struct studylog *runner_studylog(struct runner *r);
/* Tells an event of the runner's study that happened outside it (an attempt of its
 * ended by runner_leases_tick, a process group its owner could not record) as the
 * runner tells its own: to the study's log, then to the owner's on_event. ev->time 0:
 * now. */
void runner_post(struct runner *r, const struct runner_event *ev);
/* Complete once runner_done(); borrowed until runner_destroy(). */
const struct runner_summary *runner_summary_get(const struct runner *r);
/* How the run ended: SWEEP_OK, or the error (copied to err). */
int runner_result(const struct runner *r, struct err *err);

/* What a progress line shows of a runner now. */
struct runner_progress {
    const char *study;
    double now, elapsed; /* its monotonic clock; seconds since runner_create */
    long long total, finished, failed, running, queued;
    long long carried; /* of finished: those that had ended before this run */
    bool started;      /* past `after` (or ended) */
    bool stopping, done;
};
void runner_progress_get(const struct runner *r, struct runner_progress *p);

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

/* Appends an event to its study's log, <home>/studies/<ev->study>/study.log (opened
 * and closed for it), when that directory exists: for an event of a study that no
 * runner of this process holds. */
void runner_log_event(const char *home, const struct runner_event *ev);

/* Ends what a dead local run left running: for each open attempt of the study
 * (study_id 0: of every study) whose owner is RUNNER_OWNER_DEAD, its process group
 * (recorded by the runner after the spawn) and every process whose environment names
 * the attempt (SWEEP_TASK_DIR and SWEEP_ATTEMPT, inherited by the task's descendants:
 * also those that left its group, or of a task whose group the run died before
 * recording; one pass over /proc) get SIGTERM, then SIGKILL after 3 s, and are waited
 * for until they are gone (zombies count as gone) with a deadline of 5 s more; then
 * the attempt is closed as interrupted (store_attempt_interrupt) and told as an
 * ORPHAN_ENDED event of its study to on_event (NULL: runner_log_event, its study's
 * log). A group whose leader started at another time than the attempt (a reused pid)
 * is not signalled. Attempts without owner, of another host or of a live owner are
 * left alone. *n receives how many attempts were ended; an open attempt without a
 * recorded or found process (claimed ahead and never started, or whose leader died of
 * its parent-death signal and left nothing) is given back instead
 * (store_task_unclaim). SWEEP_EBUSY when a group or process outlived SIGKILL (nothing
 * is started beside it). Blocks for up to 8 s when there are orphans; O(open
 * attempts) otherwise. Limits: a process that changed its environment, or runs as
 * another user, is not found; a host is known by its name. */
int runner_end_orphans(struct store *st,
                       long long study_id,
                       runner_event_fn *on_event,
                       void *arg,
                       long long *n,
                       struct err *err);

/* What an owner of attempts does at its start and about every lease/3 seconds (a
 * `sweep run`: before it starts anything, then from its loop): renews the leases of
 * its open attempts (store_owner), ends what dead local runs left running
 * (runner_end_orphans, every study), then interrupts the attempts of other owners
 * whose lease ran out (store_expire_leases). Each attempt ended is an event of its own
 * study (ORPHAN_ENDED, LEASE_EXPIRED) told to on_event (NULL: runner_log_event); the
 * engine hands those of its studies to their runners (runner_post). Ending the
 * orphans first keeps an expired lease from making a task runnable while its process
 * still runs on this host. SWEEP_EBUSY from a busy store: call it again later. */
int runner_leases_tick(struct store *st,
                       runner_event_fn *on_event,
                       void *arg,
                       struct err *err);

/* Reads a task's $SWEEP_RESULT file at path: executor_read_result(), which the local
 * executor calls when a task ends; kept under this name for its callers. */
void runner_read_result(const char *path, char **metrics, char **error);

#endif
