/* What the files of the runner share, and nothing else includes (runner.h is the
 * interface): the runner and its tasks in memory, the clock, and the functions one of
 * its files defines for the others, prefixed rn_. The files:
 *   runner.c           create/destroy, the phases (after, start), the tick's steps,
 *                      cancellation polled from the store, the public API
 *   runner_spawn.c     the ready queue's head, claims ahead, what an attempt is given
 *                      (directory, argv, environment) and its submission
 *   runner_end.c       an attempt's end (retry or final state), the run's end
 *   runner_pipeline.c  steps released after a chain's step ends, the reduce and its
 *                      input
 *   runner_early.c     the stderr of a task that failed at once, with a hint
 *   runner_prepare.c   before a run: paths, the run lock, storing a study, orphans */
#ifndef SWEEP_CORE_RUNNER_INT_H
#define SWEEP_CORE_RUNNER_INT_H

#include "runner.h"

#include "common/timeutil.h"
#include "core/executor.h"
#include "core/expand.h"
#include "core/sched.h"
#include "core/studylog.h"
#include "core/taskview.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define EARLY_SHOWN 3   /* distinct early failures shown per run */
#define BUSY_RETRIES 11 /* a busy store (5 s each) at a run's start and end */
#define RN_SPARE_MAX 16 /* empty directories of ended tasks kept for the next ones */

/* Why the runner itself ended a task. */
enum stop_reason {
    STOP_NONE = 0,
    STOP_CANCEL,    /* `sweep cancel` */
    STOP_INTERRUPT, /* SIGINT/SIGTERM to sweep run */
    STOP_HALT,      /* --halt now after a failure */
};

/* An attempt's end as the executor reported it, kept until the next tick (the
 * outcome's strings point to metrics and error, owned here). */
struct reaped {
    struct executor_outcome o;
    char *metrics, *error;
};

/* Where a runner is (runner_pre moves it on, outside the tick's transaction). */
enum runner_phase {
    PHASE_WAIT,   /* `after`: its studies have not completed; checked every second */
    PHASE_START,  /* to reset the study's tasks and mark it started */
    PHASE_RUN,    /* running its tasks */
    PHASE_FINISH, /* nothing left to run (or stopped and drained): to record the end */
    PHASE_DONE,   /* ended; the summary holds what happened */
};

/* A task in memory, queued or running. */
struct rtask {
    long long id;
    long long seq;
    char key[EXPAND_KEY_LEN + 1];
    char *params_json;
    int repetition;
    long long seed;
    int priority;
    int cpus;
    int step;        /* in spec->steps; spec->nsteps for the reduce */
    long long chain; /* -1 for the reduce */
    int attempts;    /* made so far, including a running one */
    /* while running */
    uint64_t xid;      /* the executor's handle; 0 before it started */
    pid_t pid;         /* its process on this machine, or 0 */
    double started_at; /* epoch */
    char *dir;
    enum stop_reason stop;
    bool slot_freed;     /* its end was reported: its slots are free already */
    char *spawn_error;   /* set when the spawn failed: recorded as a failed attempt */
    char input_hash[65]; /* the reduce: SHA-256 of the input it runs on */
};

struct runner {
    struct store *st;
    const struct spec *spec;
    const struct runner_opts *o;
    long long study_id, generation;
    const char *home;
    char *study_dir;
    struct executor *ex; /* the owner's (runner_opts.executor), shared */
    struct runner_opts opts;
    enum runner_phase phase;
    int rc; /* how the run ended: an error, with err */
    struct err err;
    struct studylog *log;

    struct sched_heap ready;   /* by priority, then seq */
    struct sched_heap delayed; /* retries waiting for their backoff, by time */
    int cursor_priority;
    long long cursor_seq;
    bool exhausted; /* every pending task of the store has been read */

    struct rtask **running;
    size_t nrunning, cap_running;
    int slots, used;
    struct ratelimit rl;

    struct reaped *done; /* attempts that ended since the last tick */
    size_t ndone, cap_done;
    struct rtask **spawn_failed;
    size_t nspawn_failed, cap_spawn_failed;
    char (*ended)[EXPAND_KEY_LEN + 1]; /* ended for good this tick, for o->on_task */
    size_t nended, cap_ended;

    bool stopping; /* start nothing new */
    bool blocked;  /* a study of `after` failed or does not exist */
    enum runner_end end;
    char reason[512];
    int signals;

    /* Tasks claimed ahead: marked running in the store (their attempt committed) but
     * not submitted yet, so that a slot freed by an ending task is refilled at once
     * (runner_spawn_claimed), before that end is recorded. In claim order. */
    struct rtask **claimed;
    size_t nclaimed, cap_claimed;
    /* Attempts submitted whose process group the next tick records. */
    struct pgid_rec {
        long long task_id;
        int attempt;
        pid_t pid;
    } * unrec;
    size_t nunrec, cap_unrec;
    /* With stop_on_error, an end that may be a failure holds the claimed tasks until
     * the tick has recorded it (and maybe stopped the run). */
    bool hold;
    /* The wall time of the last attempts (an exponential average over about 5) and
     * how many were seen: tasks are claimed ahead only while they are short. */
    double wall_avg;
    long long nwalls;
    double pending_since; /* the oldest end or process not recorded yet (mono) */
    /* The shard directories (tasks/<k0k1>, a bit each) made by this run. */
    uint64_t shards[4];
    /* Empty directories of ended tasks, renamed to the next tasks' (rn_dir_ended). */
    char *spare[RN_SPARE_MAX];
    size_t nspare;

    struct taskview_env env; /* the environment every task of the study shares */
    uint64_t rng;

    /* pipelines: only with a reduce are chains counted */
    long long chains_open;    /* chains whose last step has not ended */
    long long chains_failed;  /* ended without their last step succeeding */
    struct store_task reduce; /* the waiting reduce; id 0 when none */

    /* early failures shown on o->notes: their stderr with the task directory and key
     * taken out, to show each distinct one once */
    char *early[EARLY_SHOWN];
    size_t nearly;
    bool early_more, early_hinted;

    /* tasks chosen this tick, submitted after its commit (runner_spawn) */
    struct rtask **starts;
    size_t nstarts, cap_starts;
    double last_cancel_poll, next_after;
    char *after_shown; /* the reason shown while waiting for `after` */
    bool recounted;
    char *log_path;

    /* progress */
    double t0;
    long long total, finished, failed;
    long long carried; /* of finished: those that had ended before this run */
    struct runner_summary *sum, sum_store;
};

/* ---- the clock (runner_opts.clock, or the real one) ---- */

static inline double run_mono(const struct runner *r)
{
    const struct runner_clock *c = r->o->clock;
    return c ? c->mono(c->arg) : time_mono();
}

static inline double run_now(const struct runner *r)
{
    const struct runner_clock *c = r->o->clock;
    return c ? c->now(c->arg) : time_now();
}

static inline double epoch_to_mono(const struct runner *r, double epoch)
{
    return run_mono(r) + (epoch - run_now(r));
}

static inline int band_index(int priority)
{
    return priority >= PRIORITY_HIGH ? 2 : priority == PRIORITY_MEDIUM ? 1 : 0;
}

/* ---- runner.c ---- */

/* Tells an event of the study: to its log, then to the owner (runner.h). */
void rn_emit(struct runner *r, struct runner_event *ev);
/* An event of the study that carries a text (a reason). */
void rn_emit_text(struct runner *r, enum runner_event_kind kind, const char *text);
/* Queues a pending task read from the store (a store_task_next_pending callback). */
int rn_add_pending(const struct store_task *st, void *arg);
/* Frees a task in memory; accepts NULL. */
void rn_rtask_free(struct rtask *t);
/* Asks every running attempt to stop (see executor_cancel). */
void rn_cancel_all(struct runner *r, bool now);

/* ---- runner_spawn.c ---- */

/* mkdir -p; returns 1 when the last directory was created, 0 when it existed, or -1
 * with errno. */
int rn_mkdirs(const char *path);
/* An attempt ended (its outcome just reported): its directory, when the task left
 * nothing in it, may become the next task's (a rename costs a fraction of a mkdir). */
void rn_dir_ended(struct runner *r,
                  const struct rtask *t,
                  const struct executor_outcome *out);
/* Frees the spare directories' names (the directories stay). */
void rn_dir_spares_free(struct runner *r);
/* Gives back the claimed tasks (store_task_unclaim). */
int rn_unclaim_all(struct runner *r, struct err *err);

/* ---- runner_end.c ---- */

/* Records one ended attempt (inside the tick's transaction) and decides what next;
 * res is NULL for an attempt that failed to start (t->spawn_error). */
int rn_finish_attempt(struct runner *r,
                      struct rtask *t,
                      const struct executor_outcome *res,
                      struct err *err);
/* The end of the run: the study's final status, the summary; PHASE_DONE. */
void rn_finish_run(struct runner *r, int rc, struct err *err);

/* ---- runner_pipeline.c ---- */

/* Writes the reduce's input to path, and its SHA-256 (hex) to hash. */
int rn_write_reduce_input(struct runner *r,
                          const char *path,
                          char hash[65],
                          struct err *err);
/* After a task's final end, inside the tick's transaction: its chain moves on. */
int rn_pipeline_end(struct runner *r,
                    const struct rtask *t,
                    enum task_state state,
                    struct err *err);
/* The chains still open and failed, counted from the store. */
int rn_count_chains(struct runner *r, struct err *err);
/* Releases the reduce in a transaction of its own when every chain has ended. */
int rn_release_if_done(struct runner *r, struct err *err);
/* At the start of a run with a reduce: the chains open, the reduce if it waits. */
int rn_pipeline_start(struct runner *r, struct err *err);

/* ---- runner_early.c ---- */

/* Shows the stderr of a task that failed at once (see runner_opts.notes). */
void rn_early_failure(struct runner *r,
                      const struct rtask *t,
                      const struct executor_outcome *res);

#endif
