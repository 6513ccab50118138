/* The runner: runs a stored study's tasks through an executor (see runner.h; storing
 * it, the paths and the run lock are in runner_prepare.c; what a task sees, its argv
 * and environment, is built in taskview.c).
 *
 * A runner is stepped by its owner, an engine (engine.c), one tick at a time: take the
 * attempts the executor reported ended (with their metrics), decide retries, choose
 * the tasks to start (priority order, free slots, rate limit; across studies, the
 * engine picks), write all of it in one transaction, and only then submit the chosen
 * tasks to the executor. `after:` is a phase checked every second, never a loop. A task
 * is marked running before it is submitted, so a crash between the two leaves it
 * `running` in the store, and the next run turns it into `interrupted` and reruns it:
 * nothing done is lost and nothing is recorded twice. The runner knows attempts by the
 * executor's handle (executor.h) and its clock may be a virtual one
 * (runner_opts.clock). Each attempt is owned by this process (host:pid:starttime) under
 * a lease renewed from the engine's tick, and the process group of a local attempt is
 * recorded right after it is submitted, so that the next run ends what a run killed
 * with -9 left running before it starts anything (runner_leases_tick); a result that
 * arrives for an attempt taken back meanwhile is recorded as stale and logged.
 *
 * Memory: pending tasks are read from the store in pages (by priority, then expansion
 * order) and at most a few thousand are held at once, whatever the size of the study.
 */
#include "runner.h"

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/termline.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/engine.h"
#include "core/executor.h"
#include "core/expand.h"
#include "core/sched.h"
#include "core/studylog.h"
#include "core/taskview.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

extern char **environ;

#define PAGE_SIZE_TASKS 1024 /* pending tasks read from the store at once */
#define LOW_WATER 256        /* read another page when fewer are queued */
#define CANCEL_POLL 1.0      /* seconds between checks for `sweep cancel` */
#define EARLY_WINDOW 1.0     /* a task failing this soon (seconds) shows its stderr */
#define EARLY_SHOWN 3        /* distinct early failures shown per run */
#define EARLY_LINES 5        /* lines of stderr shown */
#define EARLY_WIDTH 160      /* bytes of each line shown */
#define BUSY_RETRIES 11      /* a busy store (5 s each) at a run's start and end */
#define CLAIM_WALL 0.05 /* claim ahead while tasks take less (seconds, on average) */
#define BATCH_WAIT 0.01 /* ends recorded together for so long while claims refill */

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
    struct runner_summary *sum, sum_store;
};

/* ---- the clock (runner_opts.clock, or the real one) ---- */

static double run_mono(const struct runner *r)
{
    const struct runner_clock *c = r->o->clock;
    return c ? c->mono(c->arg) : time_mono();
}

static double run_now(const struct runner *r)
{
    const struct runner_clock *c = r->o->clock;
    return c ? c->now(c->arg) : time_now();
}

/* ---- events (runner.h) ---- */

/* Tells an event of the study: to its log, then to the owner (runner.h). */
static void emit(struct runner *r, struct runner_event *ev)
{
    ev->study = r->spec->name;
    if (ev->time == 0)
        ev->time = run_now(r);
    studylog_on_event(r->log, ev);
    if (r->o->on_event)
        r->o->on_event(r->o->on_event_arg, ev);
}

void runner_post(struct runner *r, const struct runner_event *ev)
{
    struct runner_event e = *ev;
    emit(r, &e);
}

/* An attempt's end: its task ended (to its final state) or waits for a retry (to
 * pending). */
static void emit_outcome(struct runner *r,
                         const struct rtask *t,
                         enum task_state to,
                         const struct task_outcome *o)
{
    struct runner_event ev = {.kind = RUNNER_EVENT_TASK,
                              .task_id = t->id,
                              .key = t->key,
                              .attempt = t->attempts,
                              .from = TASK_RUNNING,
                              .to = to,
                              .outcome = o};
    emit(r, &ev);
}

/* An event of the study that carries a text (a reason). */
static void emit_text(struct runner *r, enum runner_event_kind kind, const char *text)
{
    struct runner_event ev = {.kind = kind, .text = text};
    emit(r, &ev);
}

/* ---- directories ---- */

/* mkdir -p; returns 1 when the last directory was created, 0 when it existed, or -1
 * with errno. The common case (parents exist) costs one mkdir. */
static int mkdirs(const char *path)
{
    char *p;
    int rc = 0;

    if (mkdir(path, 0755) == 0)
        return 1;
    if (errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -1;
    p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            rc = -1;
            goto out;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) == 0)
        rc = 1;
    else if (errno != EEXIST)
        rc = -1;
out:
    free(p);
    return rc;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Makes a task's directory (dir, under its shard tasks/<k0k1>) with one mkdir: the
 * shard directory (and the ones above it) is made once per run and remembered.
 * Returns as mkdirs(). */
static int task_mkdir(struct runner *r, const char *dir, const char *key)
{
    int hi = hex_digit(key[0]), lo = hi < 0 ? -1 : hex_digit(key[1]);
    int shard = lo < 0 ? -1 : hi * 16 + lo, rc;

    if (shard >= 0 && !(r->shards[shard / 64] & (UINT64_C(1) << (shard % 64)))) {
        char *parent = xstrdup(dir);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        rc = mkdirs(parent);
        free(parent);
        if (rc < 0)
            return -1;
        r->shards[shard / 64] |= UINT64_C(1) << (shard % 64);
    }
    return mkdirs(dir);
}

/* ---- argv (taskview.c builds it; the chain's directories come from the store) ---- */

struct chain_dirs {
    struct runner *r;
    char **dirs;
    size_t n;
};

static int add_chain_dir(const struct store_task *t, void *arg)
{
    struct chain_dirs *c = arg;
    c->dirs[c->n++] = runner_task_dir(c->r->home, c->r->spec->name, t->key);
    return c->n == (size_t)c->r->spec->nsteps; /* never more than the steps */
}

/* The argv of a task about to start: runner_task_argv, with the directories of the
 * steps before it in its chain looked up in the store when its command uses them. */
static int argv_for(struct runner *r,
                    const struct rtask *t,
                    const json_t *params,
                    const char *params_json,
                    const char *reduce_input,
                    char ***out,
                    struct err *err)
{
    const struct spec *spec = r->spec;
    struct chain_dirs cd = {.r = r};
    struct runner_argv_in in = {.step = t->step,
                                .params = params,
                                .params_json = params_json,
                                .key = t->key,
                                .seed = t->seed,
                                .repetition = t->repetition,
                                .task_dir = t->dir,
                                .reduce_input = reduce_input};
    int rc = SWEEP_OK;

    *out = NULL;
    if (t->chain >= 0 && t->step > 0 &&
        runner_step_uses_steps(spec_step_at(spec, t->step))) {
        struct store_task me = {
            .study_id = r->study_id, .seq = t->seq, .step = t->step, .chain = t->chain};
        cd.dirs = xcalloc(spec->nsteps + 1, sizeof(char *));
        if ((rc = store_task_chain_before(r->st, &me, r->generation, add_chain_dir, &cd,
                                          err)) != 0)
            goto out;
        if (cd.n != (size_t)t->step) {
            rc = err_set(err, SWEEP_EINTERNAL,
                         "task %s: found %zu of the %d steps before it", t->key, cd.n,
                         t->step);
            goto out;
        }
        in.step_dirs = cd.dirs;
    }
    rc = runner_task_argv(spec, r->o->self_path, &in, out, err);
out:
    for (size_t i = 0; i < cd.n; i++)
        free(cd.dirs[i]);
    free(cd.dirs);
    return rc;
}

/* ---- pending tasks from the store ---- */

static double epoch_to_mono(const struct runner *r, double epoch)
{
    return run_mono(r) + (epoch - run_now(r));
}

static int add_pending(const struct store_task *st, void *arg)
{
    struct runner *r = arg;
    struct rtask *t = xcalloc(1, sizeof(*t));
    struct sched_item it = {0};

    if (r->o->only_key && strcmp(st->key, r->o->only_key) != 0) {
        free(t);
        return 0;
    }
    t->id = st->id;
    t->seq = st->seq;
    memcpy(t->key, st->key, sizeof(t->key));
    t->params_json = xstrdup(st->params_json);
    t->repetition = st->repetition;
    t->seed = st->seed;
    t->priority = st->priority;
    t->cpus = st->cpus;
    t->step = st->step;
    t->chain = st->chain;
    t->attempts = st->attempts;
    it.seq = st->seq;
    it.priority = t->priority;
    it.cpus = t->cpus;
    it.data = t;
    if (st->not_before > run_now(r)) {
        it.not_before = epoch_to_mono(r, st->not_before);
        sched_heap_push(&r->delayed, &it);
    } else {
        sched_heap_push(&r->ready, &it);
    }
    return 0;
}

static int refill(struct runner *r, struct err *err)
{
    int n;

    if (r->exhausted || r->stopping || r->ready.len >= LOW_WATER)
        return SWEEP_OK;
    n = store_task_next_pending(r->st, r->study_id, r->generation, r->o->band,
                                &r->cursor_priority, &r->cursor_seq, PAGE_SIZE_TASKS,
                                add_pending, r, err);
    if (n < 0)
        return err->code ? (int)err->code : SWEEP_ESTORE;
    if (n < PAGE_SIZE_TASKS)
        r->exhausted = true;
    return SWEEP_OK;
}

static void rtask_free(struct rtask *t)
{
    if (!t)
        return;
    free(t->params_json);
    free(t->dir);
    free(t->spawn_error);
    free(t);
}

/* ---- outcomes ---- */

static void on_done(const struct executor_outcome *res, void *arg)
{
    struct runner *r = arg;
    struct reaped *d;

    r->done = xgrow(r->done, &r->cap_done, r->ndone + 1, sizeof(*r->done));
    d = &r->done[r->ndone++];
    d->o = *res;
    d->metrics = res->metrics ? xstrdup(res->metrics) : NULL;
    d->error = res->error ? xstrdup(res->error) : NULL;
    d->o.metrics = d->metrics;
    d->o.error = d->error;
}

static void reaped_fini(struct reaped *d)
{
    free(d->metrics);
    free(d->error);
}

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: jitter only, not for results. */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Kept for its callers: the reader is the local executor's now. */
void runner_read_result(const char *path, char **metrics, char **error)
{
    executor_read_result(path, metrics, error);
}

static void running_remove(struct runner *r, struct rtask *t)
{
    for (size_t i = 0; i < r->nrunning; i++) {
        if (r->running[i] == t) {
            r->running[i] = r->running[--r->nrunning];
            break;
        }
    }
    if (!t->slot_freed)
        r->used -= t->cpus;
    t->slot_freed = false;
}

static int band_index(int priority)
{
    return priority >= PRIORITY_HIGH ? 2 : priority == PRIORITY_MEDIUM ? 1 : 0;
}

/* ---- pipelines ---- */

/* Queues a task that became pending during the run (the step after one that succeeded,
 * the reduce): at once when the cursor has passed it, else the next refill reads it. */
static void queue_unblocked(struct runner *r, const struct store_task *t)
{
    bool passed = t->priority > r->cursor_priority ||
                  (t->priority == r->cursor_priority && t->seq <= r->cursor_seq);

    if (r->o->only_key && strcmp(t->key, r->o->only_key) != 0)
        return;
    if (r->o->band && band_index(t->priority) != band_index(r->o->band))
        return;
    if (passed)
        add_pending(t, r);
    else
        r->exhausted = false;
}

static int
write_reduce_input(struct runner *r, const char *path, char hash[65], struct err *err);

/* Whether the reduce's input, written now to its input.json, is the one its last
 * attempt succeeded on (the hash stored then): then it need not run again. */
static int reduce_input_unchanged(struct runner *r,
                                  const struct store_task *t,
                                  bool *same,
                                  struct err *err)
{
    char *dir = runner_task_dir(r->home, r->spec->name, t->key);
    char *path = xasprintf("%s/input.json", dir), *old = NULL, hash[65];
    int rc;

    *same = false;
    rc = store_task_input_hash(r->st, t->id, &old, err);
    if (rc || !old)
        goto out;
    if (mkdirs(dir) < 0) {
        rc = err_set(err, SWEEP_EIO, "cannot create task directory %s: %s", dir,
                     strerror(errno));
        goto out;
    }
    rc = write_reduce_input(r, path, hash, err);
    if (rc == SWEEP_OK)
        *same = strcmp(hash, old) == 0;
out:
    free(old);
    free(path);
    free(dir);
    return rc;
}

/* Every chain has ended: the reduce becomes pending, or skipped when a chain failed
 * and it runs only when all succeeded. In the transaction of the last chain's end, so
 * a crash can neither lose it nor run it twice. */
static int release_reduce(struct runner *r, struct err *err)
{
    struct store_task *t = &r->reduce;
    bool run = r->chains_failed == 0 || r->spec->reduce_when == REDUCE_ALWAYS;
    char *why = run ? NULL
                    : xasprintf("skipped: %lld chain%s did not succeed (reduce runs "
                                "when all succeeded)",
                                r->chains_failed, r->chains_failed == 1 ? "" : "s");
    int rc;

    if (run && !r->o->force) {
        bool same = false;
        rc = reduce_input_unchanged(r, t, &same, err);
        if (rc) {
            store_task_fini(t);
            return rc;
        }
        if (same) {
            rc = store_task_set_state(r->st, t->id, TASK_WAITING, TASK_SUCCEEDED, NULL,
                                      err);
            if (rc == SWEEP_ENOTFOUND) {
                err_clear(err);
                rc = SWEEP_OK;
            } else if (rc == SWEEP_OK) {
                struct runner_event ev = {
                    .kind = RUNNER_EVENT_TASK,
                    .task_id = t->id,
                    .key = t->key,
                    .attempt = t->attempts,
                    .from = TASK_WAITING,
                    .to = TASK_SUCCEEDED,
                    .text =
                        "its input is the same as when it succeeded: not run again"};
                emit(r, &ev);
                r->finished++;
            }
            store_task_fini(t);
            return rc;
        }
    }
    rc = store_task_set_state(r->st, t->id, TASK_WAITING,
                              run ? TASK_PENDING : TASK_SKIPPED, why, err);

    if (rc == SWEEP_ENOTFOUND) { /* cancelled meanwhile */
        err_clear(err);
        rc = SWEEP_OK;
    } else if (rc == SWEEP_OK) {
        struct runner_event ev = {.kind = RUNNER_EVENT_TASK,
                                  .task_id = t->id,
                                  .key = t->key,
                                  .attempt = t->attempts,
                                  .from = TASK_WAITING,
                                  .to = run ? TASK_PENDING : TASK_SKIPPED,
                                  .text = why};
        emit(r, &ev);
        if (run)
            queue_unblocked(r, t);
        else
            r->finished++;
    }
    free(why);
    store_task_fini(t);
    return rc;
}

/* After a task's final end, inside the tick's transaction: the next step of its chain
 * becomes pending, or the rest of the chain is skipped; a chain that has ended counts
 * down to the reduce. O(steps of one chain), never a scan of the study. */
static int pipeline_end(struct runner *r,
                        const struct rtask *t,
                        enum task_state state,
                        struct err *err)
{
    const struct spec *spec = r->spec;
    int last = (int)spec->nsteps - 1, rc;
    struct store_task me = {.id = t->id,
                            .study_id = r->study_id,
                            .seq = t->seq,
                            .step = t->step,
                            .chain = t->chain};

    if (t->chain < 0 || state == TASK_INTERRUPTED)
        return SWEEP_OK; /* the reduce; or a task that runs again */
    memcpy(me.key, t->key, sizeof(me.key));
    if (t->step < last && state == TASK_SUCCEEDED) {
        struct store_task next;
        rc = store_task_unblock_next(r->st, &me, r->generation, &next, err);
        if (rc < 0)
            return -rc;
        if (rc == 1)
            queue_unblocked(r, &next);
        store_task_fini(&next);
        return SWEEP_OK;
    }
    if (t->step < last) {
        char *why = xasprintf("skipped: step %s %s", spec->steps[t->step].name,
                              state == TASK_TIMED_OUT   ? "timed out"
                              : state == TASK_CANCELLED ? "was cancelled"
                                                        : "failed");
        long long n = 0;
        rc = store_task_skip_rest(r->st, &me, r->generation, (int)spec->nsteps, why, &n,
                                  err);
        if (rc == SWEEP_OK && n > 0) {
            struct runner_event ev = {.kind = RUNNER_EVENT_CHAIN_SKIPPED,
                                      .task_id = t->id,
                                      .key = t->key,
                                      .attempt = t->attempts,
                                      .count = n,
                                      .text = why};
            emit(r, &ev);
        }
        free(why);
        if (rc)
            return rc;
        r->finished += n;
    }
    if (r->reduce.id == 0)
        return SWEEP_OK;
    r->chains_open--;
    if (state != TASK_SUCCEEDED)
        r->chains_failed++;
    return r->chains_open == 0 ? release_reduce(r, err) : SWEEP_OK;
}

/* How many chains are still open, and how many ended without their last step
 * succeeding: one scan of the study's counts by step. */
static int count_chains(struct runner *r, struct err *err)
{
    int n = (int)r->spec->nsteps, last = n - 1;
    long long(*c)[TASK_NSTATES] = xcalloc((size_t)n + 1, sizeof(*c));
    int rc = store_study_step_counts(r->st, r->study_id, n, c, err);

    if (rc == SWEEP_OK) {
        r->chains_open = c[last][TASK_PENDING] + c[last][TASK_RUNNING] +
                         c[last][TASK_WAITING] + c[last][TASK_INTERRUPTED];
        r->chains_failed = c[last][TASK_FAILED] + c[last][TASK_TIMED_OUT] +
                           c[last][TASK_CANCELLED] + c[last][TASK_SKIPPED];
    }
    free(c);
    return rc;
}

/* Releases the reduce in a transaction of its own when every chain has ended. */
static int release_if_done(struct runner *r, struct err *err)
{
    int rc = SWEEP_OK;

    if (r->chains_open == 0) {
        rc = store_begin(r->st, err);
        studylog_begin(r->log);
        if (!rc)
            rc = release_reduce(r, err);
        if (!rc)
            rc = store_commit(r->st, err);
        if (rc) {
            store_rollback(r->st);
            studylog_rollback(r->log);
        } else {
            studylog_commit(r->log);
        }
    }
    return rc;
}

/* At the start of a run with a reduce: the chains still open, and the reduce itself if
 * it waits; released at once when every chain has already ended (a run killed after
 * the last chain's end and before the reduce). */
static int pipeline_start(struct runner *r, struct err *err)
{
    int rc = count_chains(r, err);

    if (rc)
        return rc;
    rc = store_task_last(r->st, r->study_id, r->generation, &r->reduce, err);
    if (rc)
        return rc;
    /* A reduce that ran before runs again when some chain runs again: its input
     * changes. */
    if (r->reduce.chain < 0 && r->reduce.state == TASK_SUCCEEDED &&
        r->chains_open > 0) {
        rc = store_task_set_state(r->st, r->reduce.id, TASK_SUCCEEDED, TASK_WAITING,
                                  NULL, err);
        if (rc)
            return rc;
        r->reduce.state = TASK_WAITING;
    }
    if (r->reduce.chain >= 0 || r->reduce.state != TASK_WAITING) {
        store_task_fini(&r->reduce);
        return SWEEP_OK;
    }
    return release_if_done(r, err);
}

/* ---- early failures ---- */

/* Appends the first EARLY_LINES lines of a task's stderr.log to sb, each indented and
 * cut to EARLY_WIDTH bytes (at a UTF-8 boundary), control characters shown as '?'. */
static void early_excerpt(const char *path, const char *key, struct strbuf *sb)
{
    char buf[8192];
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0, lines = 0;
    const char *p = buf, *end = buf + n;

    if (f)
        fclose(f);
    buf[n] = '\0';
    while (p < end && lines < EARLY_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), w = len;

        if (w > EARLY_WIDTH) {
            w = EARLY_WIDTH;
            while (w > 0 && ((unsigned char)p[w] & 0xC0) == 0x80)
                w--;
        }
        sb_adds(sb, "    ");
        for (size_t i = 0; i < w; i++)
            sb_addc(sb, (unsigned char)p[i] < 0x20 && p[i] != '\t' ? '?' : p[i]);
        sb_adds(sb, w < len ? " ...\n" : "\n");
        lines++;
        p = nl ? nl + 1 : end;
    }
    if (lines == 0)
        sb_adds(sb, "    (nothing)\n");
    else if (p < end || n == sizeof(buf) - 1)
        sb_addf(sb, "    ... (all of it: sweep logs %s --stderr)\n", key);
}

/* s with every occurrence of what replaced by with (a new string). */
static char *early_replace(const char *s, const char *what, const char *with)
{
    struct strbuf sb = STRBUF_INIT;
    size_t n = strlen(what);
    const char *q;

    while (n > 0 && (q = strstr(s, what)) != NULL) {
        sb_add(&sb, s, (size_t)(q - s));
        sb_adds(&sb, with);
        s = q + n;
    }
    sb_adds(&sb, s);
    return sb_take(&sb);
}

/* Whether a task's stderr says that a file or program was not found. */
static bool early_says_missing(const char *text)
{
    static const char *const phrases[] = {"No such file",   "can't open file",
                                          "cannot open",    "not found",
                                          "does not exist", "cannot find"};

    for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
        if (strcasestr(text, phrases[i]))
            return true;
    return false;
}

/* The hint for a missing file: names the argument that is a file beside the spec but
 * not in the task's directory when there is one. */
static void early_hint(struct runner *r, const struct rtask *t, struct strbuf *sb)
{
    const struct spec_step *step = spec_step_at(r->spec, t->step);
    const char *cwd = r->spec->workdir ? r->spec->workdir : t->dir;

    for (size_t i = 1; !step->shell && i < step->argc; i++) {
        const char *a = step->argv[i];
        char *beside, *here;
        bool found;

        if (!*a || a[0] == '-' || a[0] == '/' || strchr(a, '{'))
            continue;
        beside = xasprintf("%s/%s", r->spec->dir, a);
        here = xasprintf("%s/%s", cwd, a);
        found = access(beside, F_OK) == 0 && access(here, F_OK) != 0;
        free(beside);
        free(here);
        if (found) {
            sb_addf(sb,
                    "sweep: hint: \"%s\" is beside the spec, but a task runs in %s; "
                    "write \"{spec_dir}/%s\" in the command (README: Paths)\n",
                    a, r->spec->workdir ? "the workdir" : "its own directory", a);
            return;
        }
    }
    sb_adds(sb,
            "sweep: hint: a task runs in its own directory (or the workdir): a "
            "relative path in its command other than the program is not read from "
            "the spec's directory; write {spec_dir}/FILE for a file beside the spec "
            "(README: Paths)\n");
}

/* Shows the stderr of a task that failed at once (see runner_opts.notes). */
static void early_failure(struct runner *r,
                          const struct rtask *t,
                          const struct executor_outcome *res)
{
    struct strbuf sb = STRBUF_INIT;
    char *path, *norm, *tmp;
    size_t head;
    int c = res->exit_code;

    if (!r->o->notes || t->stop != STOP_NONE || !res->exited || res->timed_out ||
        res->wall >= EARLY_WINDOW || (c != 1 && c != 2 && c != 126 && c != 127))
        return;
    path = xasprintf("%s/stderr.log", t->dir);
    sb_addf(&sb, "sweep: task %s", t->key);
    if (r->spec->has_steps || t->chain < 0)
        sb_addf(&sb, " (step %s)", spec_step_at(r->spec, t->step)->name);
    sb_addf(&sb, " failed at once (exit code %d); its stderr:\n", c);
    head = sb.len;
    early_excerpt(path, t->key, &sb);
    tmp = early_replace(sb_str(&sb) + head, t->dir, "{task_dir}");
    norm = early_replace(tmp, t->key, "{key}");
    free(tmp);
    for (size_t i = 0; i < r->nearly; i++) {
        if (strcmp(r->early[i], norm) == 0)
            goto out;
    }
    if (r->nearly == EARLY_SHOWN) {
        if (!r->early_more)
            fprintf(r->o->notes,
                    "%ssweep: more tasks fail at once; see 'sweep results %s --state "
                    "failed'\n",
                    r->o->tty ? "\r\033[K" : "", r->spec->name);
        r->early_more = true;
        goto out;
    }
    r->early[r->nearly++] = norm;
    norm = NULL;
    if (!r->early_hinted && spec_step_at(r->spec, t->step)->kind == SPEC_COMMAND &&
        early_says_missing(sb_str(&sb) + head)) {
        early_hint(r, t, &sb);
        r->early_hinted = true;
    }
    fprintf(r->o->notes, "%s%s", r->o->tty ? "\r\033[K" : "", sb_str(&sb));
    fflush(r->o->notes);
out:
    free(norm);
    free(path);
    sb_fini(&sb);
}

/* A task that failed on a full disk may say nothing (its stderr.log is on the same
 * disk): when less than this is free where it ran, its error says so. */
#define DISK_FULL_BYTES (1024.0 * 1024.0)

/* " (disk full: ...)" when the disk of dir has (almost) no space left, else NULL. */
static char *disk_full_note(const char *dir)
{
    struct statvfs v;
    double avail;

    if (!dir || statvfs(dir, &v) != 0)
        return NULL;
    avail = (double)v.f_bavail * (double)v.f_frsize;
    if (avail >= DISK_FULL_BYTES)
        return NULL;
    return xasprintf(" (disk full: %.0f KiB free on the disk of %s)", avail / 1024.0,
                     dir);
}

/* Records one ended attempt (inside the tick's transaction) and decides what next. */
static int finish_attempt(struct runner *r,
                          struct rtask *t,
                          const struct executor_outcome *res,
                          struct err *err)
{
    struct task_outcome o = {0};
    char *metrics = NULL, *error = NULL;
    const char *rerror = NULL;
    int rc;

    o.exit_code = -1;
    o.started_at = t->started_at;
    o.finished_at = run_now(r);
    if (t->spawn_error) {
        o.state = TASK_FAILED;
        error = xstrdup(t->spawn_error);
    } else {
        o.exit_code = res->exited ? res->exit_code : -1;
        o.signal = res->signal;
        o.wall = res->wall;
        o.user = res->user;
        o.sys = res->sys;
        o.maxrss_kb = res->maxrss_kb;
        metrics = res->metrics ? xstrdup(res->metrics) : NULL;
        rerror = res->error;
        early_failure(r, t, res);
        if (t->stop == STOP_CANCEL || t->stop == STOP_HALT) {
            o.state = TASK_CANCELLED;
            error = xstrdup(t->stop == STOP_CANCEL ? "cancelled by sweep cancel"
                                                   : "killed by --halt now");
        } else if (t->stop == STOP_INTERRUPT) {
            o.state = TASK_INTERRUPTED;
            error = xstrdup("interrupted: sweep run was stopped");
        } else if (res->timed_out) {
            char d[32];
            duration_format(spec_step_at(r->spec, t->step)->timeout, d, sizeof(d));
            o.state = TASK_TIMED_OUT;
            error = xasprintf("timed out after %s", d);
        } else if (res->signal) {
            o.state = TASK_FAILED;
            error =
                xasprintf("killed by signal %d (SIG%s)", res->signal,
                          sigabbrev_np(res->signal) ? sigabbrev_np(res->signal) : "?");
        } else if (res->exit_code != 0) {
            o.state = TASK_FAILED;
            error = xasprintf("exit code %d", res->exit_code);
        } else if (rerror) {
            o.state = TASK_FAILED;
            error = xstrdup(rerror);
        } else {
            o.state = TASK_SUCCEEDED;
        }
    }
    if (o.state == TASK_FAILED && !t->spawn_error) {
        char *note = disk_full_note(t->dir);
        if (note) {
            char *e = xasprintf("%s%s", error ? error : "failed", note);
            free(error);
            free(note);
            error = e;
        }
    }
    o.error = error;
    o.metrics_json = metrics;

    if ((o.state == TASK_FAILED || o.state == TASK_TIMED_OUT) && !t->spawn_error &&
        !r->stopping &&
        sched_should_retry(&spec_step_at(r->spec, t->step)->retry, t->attempts, o.state,
                           o.exit_code, o.signal)) {
        double u = (double)(rng_next(&r->rng) >> 11) * 0x1.0p-53;
        double delay =
            sched_backoff(&spec_step_at(r->spec, t->step)->retry, t->attempts, u);
        o.retry_at = run_now(r) + delay;
    }

    rc = store_task_finished(r->st, t->id, t->attempts, &o, err);
    if (rc == SWEEP_ESTALE) {
        /* The attempt had been taken from this run (its lease expired): recorded as
         * stale, nothing else changes. */
        struct runner_event ev = {.kind = RUNNER_EVENT_STALE,
                                  .task_id = t->id,
                                  .key = t->key,
                                  .attempt = t->attempts,
                                  .from = TASK_RUNNING,
                                  .to = o.state,
                                  .outcome = &o,
                                  .text = err->msg};
        emit(r, &ev);
        err_clear(err);
        rc = SWEEP_OK;
        running_remove(r, t);
        rtask_free(t);
        goto out;
    }
    if (rc == SWEEP_OK && t->chain < 0 && o.state == TASK_SUCCEEDED && t->input_hash[0])
        rc = store_task_set_input_hash(r->st, t->id, t->input_hash, err);
    if (rc)
        goto out;

    r->sum->wall[band_index(t->priority)] += o.wall;
    if (o.retry_at > 0) {
        struct sched_item it = {.seq = t->seq,
                                .priority = t->priority,
                                .cpus = t->cpus,
                                .not_before = epoch_to_mono(r, o.retry_at),
                                .data = t};
        emit_outcome(r, t, TASK_PENDING, &o);
        running_remove(r, t);
        free(t->dir);
        t->dir = NULL;
        t->xid = 0;
        t->pid = 0;
        sched_heap_push(&r->delayed, &it);
        t = NULL; /* still owned by the delayed queue */
        goto out;
    }

    r->finished++;
    emit_outcome(r, t, o.state, &o);
    rc = pipeline_end(r, t, o.state, err);
    if (rc)
        goto out;
    if (r->o->on_task) {
        r->ended = xgrow(r->ended, &r->cap_ended, r->nended + 1, sizeof(*r->ended));
        memcpy(r->ended[r->nended++], t->key, sizeof(t->key));
    }
    if (o.state != TASK_SUCCEEDED && o.state != TASK_INTERRUPTED &&
        o.state != TASK_CANCELLED) {
        r->failed++;
        if (r->o->stop_on_error && !r->stopping) {
            r->stopping = true;
            r->end = RUNNER_STOPPED;
            snprintf(r->reason, sizeof(r->reason),
                     "stopped after task %lld (%s/%s) %s (%s)", t->id, r->spec->name,
                     t->key, o.state == TASK_TIMED_OUT ? "timed out" : "failed",
                     error ? error : "");
            emit_text(r, RUNNER_EVENT_STOP, r->reason);
            if (r->o->halt_now) {
                for (size_t i = 0; i < r->nrunning; i++) {
                    if (r->running[i] != t && r->running[i]->xid != 0) {
                        r->running[i]->stop = STOP_HALT;
                        executor_cancel(r->ex, r->running[i]->xid, false);
                    }
                }
            }
        }
    }
    running_remove(r, t);
    rtask_free(t);
out:
    free(metrics);
    free(error);
    return rc;
}

/* ---- starting tasks ---- */

/* Whether the head of the ready queue may start now as far as this study is concerned
 * (its own slots and rate limit; the engine checks the shared budget): its priority,
 * seq and the slots it takes in *head. */
bool runner_head(struct runner *r, struct runner_head *head)
{
    const struct sched_item *top = sched_heap_peek(&r->ready);
    double now = run_mono(r);
    int need;

    if (r->phase != PHASE_RUN || r->stopping || !top)
        return false;
    /* A task wider than every slot runs alone. */
    need = top->cpus > r->slots ? r->slots : top->cpus;
    if (r->used + need > r->slots)
        return false;
    if (r->rl.interval > 0 && now < r->rl.next)
        return false;
    head->priority = top->priority;
    head->seq = top->seq;
    head->cpus = need;
    return true;
}

bool runner_head_ahead(struct runner *r, struct runner_head *head)
{
    const struct sched_item *top = sched_heap_peek(&r->ready);

    /* Not with a rate limit: a claimed task starts whenever a slot frees. Only for
     * short tasks: with long ones the commit between an end and the next start costs
     * nothing that shows, and the store then counts as running only what runs. */
    if (r->phase != PHASE_RUN || r->stopping || !top || r->rl.interval > 0 ||
        r->nclaimed >= (size_t)runner_claim_max(r->slots) || r->nwalls < 2 ||
        r->wall_avg >= CLAIM_WALL)
        return false;
    head->priority = top->priority;
    head->seq = top->seq;
    head->cpus = top->cpus > r->slots ? r->slots : top->cpus;
    return true;
}

/* Takes the head of the ready queue (runner_head said yes), with `need` slots, and
 * marks it running in the store (inside the tick's transaction); it is submitted by
 * runner_spawn(), or, claimed ahead (runner_claim_head), kept until a slot frees.
 * 1 when it starts, 0 when it was cancelled since it was read. */
static int start_head(struct runner *r, int need, bool ahead, struct err *err)
{
    struct sched_item it;
    struct rtask *t;
    int rc;

    ratelimit_take(&r->rl, run_mono(r));
    sched_heap_pop(&r->ready, &it);
    t = it.data;
    t->cpus = need;
    t->attempts++;
    t->started_at = run_now(r);
    t->stop = STOP_NONE;
    rc = store_task_started(r->st, t->id, t->attempts, t->started_at, err);
    if (rc == SWEEP_ENOTFOUND) {
        /* No longer pending: cancelled since it was read. */
        err_clear(err);
        rtask_free(t);
        return 0;
    }
    /* A reduce's attempt replaces its outputs: the hash of the last success goes. */
    if (rc == SWEEP_OK && t->chain < 0)
        rc = store_task_set_input_hash(r->st, t->id, NULL, err);
    if (rc) {
        rtask_free(t);
        return -rc;
    }
    r->sum->attempts++;
    if (ahead) {
        r->claimed =
            xgrow(r->claimed, &r->cap_claimed, r->nclaimed + 1, sizeof(*r->claimed));
        r->claimed[r->nclaimed++] = t;
        return 1;
    }
    r->running =
        xgrow(r->running, &r->cap_running, r->nrunning + 1, sizeof(*r->running));
    r->running[r->nrunning++] = t;
    r->used += need;
    r->starts = xgrow(r->starts, &r->cap_starts, r->nstarts + 1, sizeof(*r->starts));
    r->starts[r->nstarts++] = t;
    return 1;
}

int runner_start_head(struct runner *r, int need, struct err *err)
{
    return start_head(r, need, false, err);
}

int runner_claim_head(struct runner *r, struct err *err)
{
    const struct sched_item *top = sched_heap_peek(&r->ready);
    int need = top && top->cpus > r->slots ? r->slots : top ? top->cpus : 1;
    return start_head(r, need, true, err);
}

/* The first claimed task when it fits `free` slots of the engine and the study's own,
 * taken out of the claimed list and made running (its slots taken); else NULL. */
static struct rtask *claimed_take(struct runner *r, int free)
{
    struct rtask *t;

    if (r->phase != PHASE_RUN || r->stopping || r->hold || r->nclaimed == 0)
        return NULL;
    t = r->claimed[0];
    if (t->cpus > free || r->used + t->cpus > r->slots)
        return NULL;
    memmove(r->claimed, r->claimed + 1, (r->nclaimed - 1) * sizeof(*r->claimed));
    r->nclaimed--;
    r->running =
        xgrow(r->running, &r->cap_running, r->nrunning + 1, sizeof(*r->running));
    r->running[r->nrunning++] = t;
    r->used += t->cpus;
    return t;
}

int runner_claimed_priority(const struct runner *r)
{
    return r->nclaimed > 0 && r->phase == PHASE_RUN && !r->stopping
               ? r->claimed[0]->priority
               : INT_MIN;
}

int runner_start_claimed(struct runner *r, int free)
{
    struct rtask *t = claimed_take(r, free);

    if (!t)
        return 0;
    r->starts = xgrow(r->starts, &r->cap_starts, r->nstarts + 1, sizeof(*r->starts));
    r->starts[r->nstarts++] = t;
    return t->cpus;
}

/* Gives back the claimed tasks (store_task_unclaim): in the tick's transaction when
 * the run stops, or on its own at the end of a run. */
static int unclaim_all(struct runner *r, struct err *err)
{
    int rc = SWEEP_OK;

    while (r->nclaimed > 0 && rc == SWEEP_OK) {
        struct rtask *t = r->claimed[r->nclaimed - 1];
        rc = store_task_unclaim(r->st, t->id, t->attempts, err);
        if (rc == SWEEP_ENOTFOUND) {
            err_clear(err);
            rc = SWEEP_OK;
        }
        if (rc == SWEEP_OK) {
            r->nclaimed--;
            r->sum->attempts--;
            rtask_free(t);
        }
    }
    return rc;
}

static int add_to_input(const struct store_task *t, void *arg)
{
    taskview_reduce_add(arg, t);
    return 0;
}

/* Writes the reduce's input (taskview_reduce) to path, and its SHA-256 (hex) to hash.
 */
static int
write_reduce_input(struct runner *r, const char *path, char hash[65], struct err *err)
{
    struct taskview_reduce in;
    char *text;
    int rc;

    taskview_reduce_init(&in, r->spec, r->home);
    rc = store_task_each(r->st, r->study_id, -1, add_to_input, &in, err);
    text = taskview_reduce_take(&in);
    if (!rc) {
        sha256_hex(text, strlen(text), hash);
        rc = fileio_write_atomic(path, text, strlen(text), "reduce input", err);
    }
    free(text);
    return rc;
}

/* Spawns a task already marked running. A failure to start becomes a failed attempt
 * recorded at the next tick. */
static void spawn_task(struct runner *r, struct rtask *t)
{
    json_error_t je;
    json_t *params = json_loads(t->params_json, 0, &je);
    char *result_path = NULL, *out_path = NULL, *err_path = NULL, *reduce_input = NULL;
    char *view = NULL; /* the parameters as the task sees them */
    char **argv = NULL, **envp = NULL;
    struct executor_attempt cmd = {0};
    struct executor_handle h = {0};
    struct err err = {0};
    int fresh;

    t->dir = runner_task_dir(r->home, r->spec->name, t->key);
    if (!params) {
        err_set(&err, SWEEP_EINTERNAL, "stored parameters are not JSON: %s", je.text);
        goto fail;
    }
    /* The seed parameter carries the task's seed (each repetition its own). */
    view = expand_apply_seed(r->spec, params, t->seed) ? jsonx_canon_str(params)
                                                       : xstrdup(t->params_json);
    fresh = task_mkdir(r, t->dir, t->key);
    if (fresh < 0) {
        err_set(&err, SWEEP_EIO, "cannot create task directory %s: %s", t->dir,
                strerror(errno));
        goto fail;
    }
    result_path = xasprintf("%s/result.json", t->dir);
    out_path = xasprintf("%s/stdout.log", t->dir);
    err_path = xasprintf("%s/stderr.log", t->dir);
    if (!fresh) {
        unlink(result_path);
        /* The logs are made at the task's first byte (executor.h): those of an earlier
         * attempt are kept as stdout.N.log, or removed, so that a task that writes
         * nothing shows no old output. */
        if (t->attempts > 1) {
            char *o = xasprintf("%s/stdout.%d.log", t->dir, t->attempts - 1);
            char *e = xasprintf("%s/stderr.%d.log", t->dir, t->attempts - 1);
            rename(out_path, o);
            rename(err_path, e);
            free(o);
            free(e);
        }
        unlink(out_path);
        unlink(err_path);
    }
    if (t->chain < 0) {
        reduce_input = xasprintf("%s/input.json", t->dir);
        if (write_reduce_input(r, reduce_input, t->input_hash, &err))
            goto fail;
    }
    if (argv_for(r, t, params, view, reduce_input, &argv, &err))
        goto fail;
    {
        struct taskview_task tv = {.key = t->key,
                                   .dir = t->dir,
                                   .result_path = result_path,
                                   .params = params,
                                   .params_json = view,
                                   .seed = t->seed,
                                   .attempt = t->attempts,
                                   .repetition = t->repetition,
                                   .step = t->step};
        envp = taskview_envp(&r->env, r->spec, &tv);
    }
    cmd.argv = argv;
    cmd.envp = envp;
    cmd.cwd = r->spec->workdir ? r->spec->workdir : t->dir;
    cmd.stdout_path = out_path;
    cmd.stderr_path = err_path;
    cmd.timeout = spec_step_at(r->spec, t->step)->timeout;
    cmd.kill_after = spec_step_at(r->spec, t->step)->kill_after;
    cmd.result_path = result_path;
    cmd.cpus = t->cpus;
    cmd.ctx = t;
    if (executor_submit(r->ex, &cmd, &h, &err))
        goto fail;
    t->xid = h.id;
    t->pid = h.pid;
    /* Its process group (a local task leads its own), for the next run should this one
     * die: recorded by the next tick, which comes at once (runner_next_wakeup) and
     * usually records an end too. */
    if (t->pid > 0) {
        if (r->ndone == 0 && r->nunrec == 0)
            r->pending_since = run_mono(r);
        r->unrec = xgrow(r->unrec, &r->cap_unrec, r->nunrec + 1, sizeof(*r->unrec));
        r->unrec[r->nunrec++] =
            (struct pgid_rec){.task_id = t->id, .attempt = t->attempts, .pid = t->pid};
    }
    if (r->o->on_task)
        r->o->on_task(r->o->on_task_arg, RUNNER_TASK_STARTED, t->key);
    {
        struct runner_event ev = {.kind = RUNNER_EVENT_TASK,
                                  .task_id = t->id,
                                  .key = t->key,
                                  .attempt = t->attempts,
                                  .from = TASK_PENDING,
                                  .to = TASK_RUNNING,
                                  .pid = (int)t->pid,
                                  .params = view};
        emit(r, &ev);
    }
    goto out;
fail:
    t->xid = 0;
    t->pid = 0;
    t->spawn_error = xstrdup(err.msg);
    {
        struct runner_event ev = {.kind = RUNNER_EVENT_START_FAILED,
                                  .task_id = t->id,
                                  .key = t->key,
                                  .attempt = t->attempts,
                                  .text = err.msg};
        emit(r, &ev);
    }
    r->spawn_failed = xgrow(r->spawn_failed, &r->cap_spawn_failed, r->nspawn_failed + 1,
                            sizeof(*r->spawn_failed));
    r->spawn_failed[r->nspawn_failed++] = t;
out:
    json_decref(params);
    free(view);
    taskview_strv_free(argv);
    taskview_envp_free(&r->env, envp);
    free(result_path);
    free(out_path);
    free(err_path);
    free(reduce_input);
}

/* ---- cancellation from another process ---- */

static void cancel_all(struct runner *r, bool now);
static void heap_free_all(struct sched_heap *h);

static int on_cancel_requested(const struct store_task *st, void *arg)
{
    struct runner *r = arg;

    /* Claimed and not started: given back, which makes it cancelled. */
    for (size_t i = 0; i < r->nclaimed; i++) {
        struct rtask *t = r->claimed[i];
        struct err err = {0};
        if (t->id == st->id &&
            store_task_unclaim(r->st, t->id, t->attempts, &err) == SWEEP_OK) {
            memmove(r->claimed + i, r->claimed + i + 1,
                    (r->nclaimed - i - 1) * sizeof(*r->claimed));
            r->nclaimed--;
            r->sum->attempts--;
            rtask_free(t);
            break;
        }
    }

    for (size_t i = 0; i < r->nrunning; i++) {
        struct rtask *t = r->running[i];
        if (t->id == st->id && t->stop == STOP_NONE && t->xid != 0) {
            t->stop = STOP_CANCEL;
            executor_cancel(r->ex, t->xid, false);
        }
    }
    return 0;
}

static int poll_cancel(struct runner *r, struct err *err)
{
    struct store_study s = {0};
    int rc;

    rc = store_task_cancel_requested(r->st, r->study_id, on_cancel_requested, r, err);
    if (rc)
        return rc;
    rc = store_study_get(r->st, r->spec->name, &s, err);
    if (rc)
        return rc;
    if (s.status == STUDY_CANCELLED && !r->stopping)
        runner_cancel(r);
    store_study_fini(&s);
    return SWEEP_OK;
}

/* ---- the stepped runner ---- */

static void release_due(struct runner *r)
{
    double now = run_mono(r);
    const struct sched_item *d;
    struct sched_item it;

    while ((d = sched_heap_peek(&r->delayed)) && d->not_before <= now) {
        sched_heap_pop(&r->delayed, &it);
        sched_heap_push(&r->ready, &it);
    }
}

static struct rtask *find_running(struct runner *r, void *ctx)
{
    for (size_t i = 0; i < r->nrunning; i++) {
        if (r->running[i] == ctx)
            return r->running[i];
    }
    return NULL;
}

/* Asks every running attempt to stop (see executor_cancel). */
static void cancel_all(struct runner *r, bool now)
{
    for (size_t i = 0; i < r->nrunning; i++) {
        if (r->running[i]->xid != 0)
            executor_cancel(r->ex, r->running[i]->xid, now);
    }
}

static void heap_free_all(struct sched_heap *h)
{
    struct sched_item it;
    while (sched_heap_pop(h, &it))
        rtask_free(it.data);
    sched_heap_fini(h);
}

static enum study_status final_status(struct runner *r)
{
    long long ok = 0, bad = 0, pending = 0, cancelled = 0, interrupted = 0;

    for (int b = 0; b < 3; b++) {
        ok += r->sum->counts[b][TASK_SUCCEEDED];
        /* A skipped step follows a failure, a skipped reduce failed chains. */
        bad += r->sum->counts[b][TASK_FAILED] + r->sum->counts[b][TASK_TIMED_OUT] +
               r->sum->counts[b][TASK_SKIPPED];
        pending += r->sum->counts[b][TASK_PENDING] + r->sum->counts[b][TASK_RUNNING] +
                   r->sum->counts[b][TASK_WAITING];
        cancelled += r->sum->counts[b][TASK_CANCELLED];
        interrupted += r->sum->counts[b][TASK_INTERRUPTED];
    }
    if (r->blocked)
        return STUDY_FAILED;
    if (r->end == RUNNER_CANCELLED)
        return STUDY_CANCELLED;
    if (r->end == RUNNER_INTERRUPTED || interrupted > 0)
        return STUDY_INTERRUPTED;
    if (bad > 0)
        return ok > 0 ? STUDY_PARTIALLY_FAILED : STUDY_FAILED;
    if (cancelled > 0)
        return STUDY_CANCELLED;
    if (pending > 0)
        return STUDY_QUEUED;
    return STUDY_COMPLETED;
}

/* Nothing runs, nothing waits to be recorded, and nothing more will start. */
static bool run_idle(const struct runner *r)
{
    return r->nrunning == 0 && r->nspawn_failed == 0 && r->ndone == 0 &&
           r->nclaimed == 0 && r->nunrec == 0 &&
           (r->stopping || (r->exhausted && r->ready.len == 0 && r->delayed.len == 0));
}

/* `after`, checked once: every study named there completed (r->phase moves on to
 * PHASE_START), or one does not exist or ended otherwise (r->blocked, with the reason
 * stored; PHASE_FINISH), or one still runs (status WAITING, the reason "waiting for
 * NAME" stored and told once through on_event). */
static int check_after(struct runner *r, struct err *err)
{
    char waiting[128] = "", why[300] = "";
    int rc = SWEEP_OK;

    for (size_t i = 0; i < r->spec->nafter && !why[0]; i++) {
        const char *name = r->spec->after[i];
        struct store_study s = {0};
        rc = store_study_get(r->st, name, &s, err);
        if (rc == SWEEP_ENOTFOUND) {
            err_clear(err);
            rc = SWEEP_OK;
            snprintf(why, sizeof(why), "after: there is no study named %s", name);
        } else if (rc) {
            return rc;
        } else if (s.status == STUDY_FAILED || s.status == STUDY_PARTIALLY_FAILED ||
                   s.status == STUDY_CANCELLED) {
            snprintf(why, sizeof(why), "after: study %s ended %s", name,
                     study_status_name(s.status));
        } else if (s.status != STUDY_COMPLETED && !waiting[0]) {
            snprintf(waiting, sizeof(waiting), "%s", name);
        }
        store_study_fini(&s);
    }
    if (why[0]) {
        r->blocked = r->stopping = true;
        r->end = RUNNER_STOPPED;
        r->phase = PHASE_FINISH;
        snprintf(r->reason, sizeof(r->reason), "%s", why);
        emit_text(r, RUNNER_EVENT_BLOCKED, why);
        return store_study_set_reason(r->st, r->study_id, why, err);
    }
    if (!waiting[0]) {
        r->phase = PHASE_START;
        if (r->after_shown)
            rc = store_study_set_reason(r->st, r->study_id, NULL, err);
        return rc;
    }
    snprintf(why, sizeof(why), "waiting for %s", waiting);
    if (r->after_shown && strcmp(r->after_shown, why) == 0)
        return SWEEP_OK;
    free(r->after_shown);
    r->after_shown = xstrdup(why);
    {
        struct runner_event ev = {
            .kind = RUNNER_EVENT_WAITING, .after = waiting, .text = why};
        emit(r, &ev);
    }
    studylog_flush(r->log);
    if ((rc = store_study_set_reason(r->st, r->study_id, why, err)) != 0)
        return rc;
    return store_study_set_status(r->st, r->study_id, STUDY_WAITING, err);
}

/* The start of the run proper: the study's tasks reset (failed ones rerun unless
 * asked otherwise), the study marked started, the pipeline's reduce looked at, the
 * counts read. A store busy here is waited for about a minute. */
static int start_run(struct runner *r, struct err *err)
{
    const struct runner_opts *o = r->o;
    struct runner_summary *sum = r->sum;
    long long pending = 0;
    int rc;

    for (int i = 0; (rc = store_begin(r->st, err)) == SWEEP_EBUSY && i < BUSY_RETRIES;
         i++)
        err_clear(err);
    if (!rc)
        rc = store_study_reset(r->st, r->study_id, r->generation,
                               o->force ? STORE_RERUN_ALL : o->rerun, &pending, err);
    if (!rc)
        rc = store_study_mark_started(r->st, r->study_id, (int)getpid(), err);
    if (!rc)
        rc = store_commit(r->st, err);
    if (rc) {
        store_rollback(r->st);
        return rc;
    }
    if (r->spec->reduce && (rc = pipeline_start(r, err)) != 0)
        return rc;
    rc = store_study_counts(r->st, r->study_id, sum->counts, err);
    if (rc)
        return rc;
    for (int b = 0; b < 3 && !o->only_key; b++) {
        if (o->band && b != band_index(o->band))
            continue;
        for (int s = 0; s < TASK_NSTATES; s++)
            r->total += sum->counts[b][s];
        sum->skipped += sum->counts[b][TASK_SUCCEEDED];
        sum->left_failed +=
            sum->counts[b][TASK_FAILED] + sum->counts[b][TASK_TIMED_OUT];
        /* The steps skipped after them (--skip-failed leaves both as they are). */
        r->finished += sum->counts[b][TASK_SKIPPED];
    }
    if (o->only_key)
        r->total = 1;
    r->failed = sum->left_failed;
    r->finished += sum->skipped + sum->left_failed;
    {
        struct runner_event ev = {.kind = RUNNER_EVENT_START,
                                  .pid = (int)getpid(),
                                  .tasks = r->total,
                                  .pending = pending,
                                  .skipped = sum->skipped,
                                  .slots = r->slots};
        emit(r, &ev);
    }
    studylog_flush(r->log);
    r->last_cancel_poll = run_mono(r);
    r->phase = PHASE_RUN;
    return SWEEP_OK;
}

/* The end of the run: the study's counts and final status recorded, its aggregate
 * kept, the summary filled in; rc is how it ended (an error is recorded as
 * INTERRUPTED when the store still takes it, so that the next run reruns what was
 * running, and what the executor still runs for it is killed). */
static void finish_run(struct runner *r, int rc, struct err *err)
{
    struct runner_summary *sum = r->sum;
    bool recorded = true;

    if (rc == SWEEP_OK)
        rc = store_study_counts(r->st, r->study_id, sum->counts, err);
    if (rc != SWEEP_OK) {
        struct err e2 = {0};
        sum->status = STUDY_INTERRUPTED;
        recorded = store_study_mark_finished(r->st, r->study_id, sum->status, &e2) == 0;
    }
    if (rc == SWEEP_OK) {
        sum->status = final_status(r);
        for (int i = 0; (rc = store_study_mark_finished(r->st, r->study_id, sum->status,
                                                        err)) == SWEEP_EBUSY &&
                        i < BUSY_RETRIES;
             i++)
            err_clear(err);
        recorded = rc == SWEEP_OK;
    }
    /* A study that has ended keeps its aggregate (`sweep status --json`). */
    if (rc == SWEEP_OK &&
        (sum->status == STUDY_COMPLETED || sum->status == STUDY_PARTIALLY_FAILED ||
         sum->status == STUDY_FAILED)) {
        char *copies = NULL;
        rc = aggregate_save(
            r->st, r->study_id, r->generation,
            r->spec->has_steps || r->spec->reduce ? (int)r->spec->nsteps - 1 : -1,
            &copies, err);
        if (copies)
            snprintf(sum->note, sizeof(sum->note), "%s", copies);
        free(copies);
    }
    if (r->nclaimed > 0) {
        /* The run ended on an error: what it had claimed goes back, if the store
         * takes it (else the next run finds the attempts of a dead owner). */
        struct err e3 = {0};
        unclaim_all(r, &e3);
    }
    sum->end = r->end;
    sum->elapsed = run_mono(r) - r->t0;
    memcpy(sum->reason, r->reason, sizeof(sum->reason));
    if (rc != SWEEP_OK) {
        cancel_all(r, true);
        r->err = *err;
    }
    r->rc = rc;
    r->phase = PHASE_DONE;
    {
        /* A run ended by an error (a store that failed, a full disk) says so with the
         * error as its text, and status unrecorded when the store did not take the
         * status either. */
        struct runner_event ev = {.kind = RUNNER_EVENT_END,
                                  .end = r->end,
                                  .error = rc != SWEEP_OK,
                                  .status = sum->status,
                                  .recorded = recorded,
                                  .elapsed = sum->elapsed,
                                  .text = rc != SWEEP_OK ? err->msg : r->reason};
        emit(r, &ev);
    }
    studylog_flush(r->log);
}

int runner_create(struct store *st,
                  const struct spec *spec,
                  long long study_id,
                  long long generation,
                  const struct runner_opts *o,
                  struct runner **out,
                  struct err *err)
{
    struct runner *r = xcalloc(1, sizeof(*r));
    int rc;

    *out = NULL;
    if (!o->executor)
        return err_set(err, SWEEP_EINTERNAL, "runner_create: no executor");
    r->opts = *o;
    r->o = &r->opts;
    r->st = st;
    r->spec = spec;
    r->sum = &r->sum_store;
    r->study_id = study_id;
    r->generation = generation;
    r->home = store_home(st);
    r->study_dir = runner_study_dir(r->home, spec->name);
    r->ready.by_time = false;
    r->delayed.by_time = true;
    r->cursor_priority = INT_MAX;
    r->cursor_seq = -1;
    r->slots = o->max_parallel > 0 ? o->max_parallel : spec->max_parallel;
    if (r->slots <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        r->slots = n > 0 ? (int)n : 1;
    }
    r->end = RUNNER_FINISHED;
    r->rng = (uint64_t)getpid() ^ (uint64_t)(time_now() * 1e6) ^ (uint64_t)study_id;
    r->ex = o->executor;
    r->phase = spec->nafter > 0 ? PHASE_WAIT : PHASE_START;
    ratelimit_init(&r->rl, spec->rate_limit);
    taskview_env_init(&r->env, spec, environ);

    if (mkdirs(r->study_dir) < 0) {
        rc = err_set(err, SWEEP_EIO, "cannot create %s: %s", r->study_dir,
                     strerror(errno));
        goto fail;
    }
    r->log_path = xasprintf("%s/study.log", r->study_dir);
    rc = studylog_open(r->log_path, &r->log, err);
    if (rc)
        goto fail;
    r->t0 = run_mono(r);
    r->next_after = r->t0;
    /* This process owns the attempts it starts (runner_leases_tick, from the owner's
     * loop, ends what a dead run left running before anything starts). */
    if (!store_owner(st)) {
        char *self = runner_owner_self();
        store_set_owner(st, self, runner_lease());
        free(self);
    }
    *out = r;
    return SWEEP_OK;
fail:
    runner_destroy(r);
    return rc;
}

void runner_destroy(struct runner *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ndone; i++)
        reaped_fini(&r->done[i]);
    for (size_t i = 0; i < r->nrunning; i++)
        rtask_free(r->running[i]);
    free(r->running);
    heap_free_all(&r->ready);
    heap_free_all(&r->delayed);
    free(r->starts);
    for (size_t i = 0; i < r->nclaimed; i++)
        rtask_free(r->claimed[i]);
    free(r->claimed);
    free(r->unrec);
    free(r->done);
    free(r->spawn_failed);
    free(r->ended);
    store_task_fini(&r->reduce);
    taskview_env_fini(&r->env);
    studylog_close(r->log);
    free(r->log_path);
    free(r->study_dir);
    free(r->after_shown);
    for (size_t i = 0; i < r->nearly; i++)
        free(r->early[i]);
    free(r);
}

void runner_pre(struct runner *r)
{
    struct err err = {0};
    int rc = SWEEP_OK;

    if (r->phase == PHASE_WAIT && run_mono(r) >= r->next_after) {
        r->next_after = run_mono(r) + CANCEL_POLL;
        rc = check_after(r, &err);
    }
    if (rc == SWEEP_OK && r->phase == PHASE_START)
        rc = start_run(r, &err);
    if (rc == SWEEP_OK && r->phase == PHASE_RUN && run_idle(r)) {
        /* Nothing left, and the reduce still waits: chains may have ended unseen
         * (`sweep cancel` of a task that had not started). Counted once. */
        if (!r->stopping && r->reduce.id != 0 && !r->recounted) {
            r->recounted = true;
            if ((rc = count_chains(r, &err)) == SWEEP_OK)
                rc = release_if_done(r, &err);
        } else {
            r->phase = PHASE_FINISH;
        }
    }
    if (rc != SWEEP_OK)
        finish_run(r, rc, &err);
    else if (r->phase == PHASE_FINISH)
        finish_run(r, SWEEP_OK, &err);
}

int runner_reap(struct runner *r, struct err *err)
{
    int rc;

    if (r->phase != PHASE_RUN)
        return SWEEP_OK;
    studylog_begin(r->log);
    /* The process groups of the tasks spawned since the last tick, before their ends
     * (an attempt already closed has no use for it: ENOTFOUND). */
    for (size_t i = 0; i < r->nunrec; i++) {
        const struct pgid_rec *p = &r->unrec[i];
        rc = store_attempt_set_process(r->st, p->task_id, p->attempt, p->pid, p->pid,
                                       err);
        if (rc == SWEEP_ENOTFOUND)
            err_clear(err);
        else if (rc)
            return rc;
    }
    r->nunrec = 0;
    if (r->stopping && (rc = unclaim_all(r, err)) != 0)
        return rc;
    /* Compared as runner_next_wakeup() computes it (a float sum, not a difference). */
    if (run_mono(r) >= r->last_cancel_poll + CANCEL_POLL) {
        r->last_cancel_poll = run_mono(r);
        if ((rc = poll_cancel(r, err)) != 0)
            return rc;
    }
    for (size_t i = 0; i < r->ndone; i++) {
        struct rtask *t = find_running(r, r->done[i].o.ctx);
        if (t && (rc = finish_attempt(r, t, &r->done[i].o, err)) != 0)
            return rc;
    }
    for (size_t i = 0; i < r->ndone; i++)
        reaped_fini(&r->done[i]);
    r->ndone = 0;
    for (size_t i = 0; i < r->nspawn_failed; i++) {
        if ((rc = finish_attempt(r, r->spawn_failed[i], NULL, err)) != 0)
            return rc;
    }
    r->nspawn_failed = 0;
    r->hold = false;
    release_due(r);
    return refill(r, err);
}

void runner_busy(struct runner *r)
{
    /* Another process held the write lock past the busy timeout: nothing of this tick
     * was written or changed; its outcomes stay in memory for the next. */
    if (r->phase == PHASE_RUN) {
        struct runner_event ev = {.kind = RUNNER_EVENT_STORE_BUSY,
                                  .count = (long long)(r->ndone + r->nspawn_failed)};
        emit(r, &ev);
    }
}

void runner_committed(struct runner *r, bool ok)
{
    if (r->phase != PHASE_RUN)
        return;
    if (ok) {
        studylog_commit(r->log);
        for (size_t i = 0; i < r->nended; i++)
            r->o->on_task(r->o->on_task_arg, RUNNER_TASK_ENDED, r->ended[i]);
    } else {
        studylog_rollback(r->log);
    }
    r->nended = 0;
}

size_t runner_spawn(struct runner *r)
{
    size_t n = r->nstarts;

    for (size_t i = 0; i < n; i++)
        spawn_task(r, r->starts[i]);
    r->nstarts = 0;
    return n;
}

int runner_spawn_claimed(struct runner *r, int free)
{
    struct rtask *t = claimed_take(r, free);

    if (!t)
        return 0;
    spawn_task(r, t);
    return t->cpus;
}

size_t runner_nclaimed(const struct runner *r)
{
    return r->nclaimed;
}

void runner_flush(struct runner *r)
{
    studylog_flush(r->log);
}

bool runner_take_outcome(struct runner *r, const struct executor_outcome *out)
{
    struct rtask *t = find_running(r, out->ctx);

    if (!t)
        return false;
    if (r->ndone == 0 && r->nunrec == 0)
        r->pending_since = run_mono(r);
    on_done(out, r);
    r->wall_avg = r->nwalls++ == 0 ? out->wall : 0.8 * r->wall_avg + 0.2 * out->wall;
    if (r->o->stop_on_error &&
        (!out->exited || out->exit_code != 0 || out->timed_out || out->error))
        r->hold = true;
    /* Its slots are free now, for a claimed task (runner_spawn_claimed). */
    if (!t->slot_freed) {
        t->slot_freed = true;
        r->used -= t->cpus;
    }
    return true;
}

void runner_fail(struct runner *r, int rc, const struct err *err)
{
    struct err e = *err;

    if (r->phase != PHASE_DONE)
        finish_run(r, rc, &e);
}

void runner_interrupt(struct runner *r, int signo)
{
    const char *sig = sigabbrev_np(signo) ? sigabbrev_np(signo) : "a signal";

    if (r->phase == PHASE_DONE)
        return;
    if (++r->signals > 1) {
        cancel_all(r, true);
        return;
    }
    r->stopping = true;
    r->end = RUNNER_INTERRUPTED;
    r->sum->signo = signo;
    if (r->phase == PHASE_WAIT || r->phase == PHASE_START) {
        snprintf(r->reason, sizeof(r->reason), "interrupted by %s while %s", sig,
                 r->after_shown ? r->after_shown : "starting");
        r->phase = PHASE_FINISH;
        return;
    }
    snprintf(r->reason, sizeof(r->reason), "interrupted by %s", sig);
    {
        struct runner_event ev = {.kind = RUNNER_EVENT_INTERRUPT,
                                  .signo = signo,
                                  .count = (long long)r->nrunning};
        emit(r, &ev);
    }
    for (size_t i = 0; i < r->nrunning; i++) {
        if (r->running[i]->stop == STOP_NONE)
            r->running[i]->stop = STOP_INTERRUPT;
    }
    cancel_all(r, false);
}

void runner_cancel(struct runner *r)
{
    if (r->phase == PHASE_DONE || (r->stopping && r->end == RUNNER_CANCELLED))
        return;
    r->stopping = true;
    r->end = RUNNER_CANCELLED;
    snprintf(r->reason, sizeof(r->reason), "study cancelled by sweep cancel");
    emit_text(r, RUNNER_EVENT_CANCEL, r->reason);
    for (size_t i = 0; i < r->nrunning; i++) {
        if (r->running[i]->xid != 0 && r->running[i]->stop == STOP_NONE) {
            r->running[i]->stop = STOP_CANCEL;
            executor_cancel(r->ex, r->running[i]->xid, false);
        }
    }
    if (r->phase == PHASE_WAIT || r->phase == PHASE_START)
        r->phase = PHASE_FINISH;
}

double runner_next_wakeup(const struct runner *r)
{
    double now = run_mono(r), t;
    const struct sched_item *d;

    switch (r->phase) {
    case PHASE_DONE:
        return INFINITY;
    case PHASE_WAIT:
        return r->next_after;
    case PHASE_START:
    case PHASE_FINISH:
        return now;
    case PHASE_RUN:
        break;
    }
    if (r->nspawn_failed > 0 || run_idle(r) || (r->stopping && r->nclaimed > 0))
        return now;
    t = r->last_cancel_poll + CANCEL_POLL;
    if (r->ndone > 0 || r->nunrec > 0) {
        /* While claimed tasks refill the slots, the ends and process groups of short
         * tasks are recorded together, at most BATCH_WAIT late. */
        if (r->stopping || r->hold || r->nclaimed == 0)
            return now;
        if (r->pending_since + BATCH_WAIT < t)
            t = r->pending_since + BATCH_WAIT;
    }
    if ((d = sched_heap_peek(&r->delayed)) && d->not_before < t)
        t = d->not_before;
    if (!r->stopping && r->ready.len > 0 && r->rl.interval > 0 && r->rl.next < t)
        t = r->rl.next;
    return t;
}

bool runner_batching(const struct runner *r)
{
    return r->phase == PHASE_RUN && (r->ndone > 0 || r->nunrec > 0) &&
           r->nspawn_failed == 0 && !r->stopping && !r->hold && r->nclaimed > 0 &&
           run_mono(r) < r->pending_since + BATCH_WAIT;
}

bool runner_quiet(const struct runner *r)
{
    if (r->phase == PHASE_DONE)
        return true;
    if (r->phase != PHASE_RUN || r->ndone > 0 || r->nunrec > 0 || r->nspawn_failed > 0)
        return false;
    double w = runner_next_wakeup(r);
    return w > run_mono(r);
}

bool runner_done(const struct runner *r)
{
    return r->phase == PHASE_DONE;
}

int runner_used(const struct runner *r)
{
    return r->used;
}

int runner_slots(const struct runner *r)
{
    return r->slots;
}

double runner_mono(const struct runner *r)
{
    return run_mono(r);
}

struct studylog *runner_studylog(struct runner *r)
{
    return r->log;
}

const struct runner_summary *runner_summary_get(const struct runner *r)
{
    return r->sum;
}

int runner_result(const struct runner *r, struct err *err)
{
    if (r->rc != SWEEP_OK)
        *err = r->err;
    return r->rc;
}

void runner_progress_get(const struct runner *r, struct runner_progress *p)
{
    memset(p, 0, sizeof(*p));
    p->study = r->spec->name;
    p->now = run_mono(r);
    p->elapsed = r->phase == PHASE_DONE ? r->sum->elapsed : p->now - r->t0;
    p->total = r->total;
    p->finished = r->finished;
    p->failed = r->failed;
    p->running = (long long)r->nrunning;
    p->queued = (long long)(r->ready.len + r->delayed.len);
    p->stopping = r->stopping;
    p->started = r->phase >= PHASE_RUN;
    p->done = r->phase == PHASE_DONE;
}

int runner_run(struct store *st,
               const struct spec *spec,
               long long study_id,
               long long generation,
               const struct runner_opts *o,
               struct runner_summary *sum,
               struct err *err)
{
    struct runner_opts ro = *o;
    struct executor *own = NULL;
    struct runner *r = NULL;
    struct engine *e = NULL;
    int rc;

    memset(sum, 0, sizeof(*sum));
    if (!ro.executor) {
        if ((rc = executor_local_create(&own, err)) != 0)
            return rc;
        ro.executor = own;
    }
    rc = runner_create(st, spec, study_id, generation, &ro, &r, err);
    if (rc)
        goto out;
    e = engine_create(st, ro.executor, ro.clock, runner_slots(r));
    engine_add(e, r);
    {
        struct engine_loop lp = {.max_wait = ro.tick_max,
                                 .on_tick = ro.on_tick,
                                 .on_tick_arg = ro.on_tick_arg};
        engine_run(e, &lp, err);
    }
    err_clear(err);
    *sum = *runner_summary_get(r);
    rc = runner_result(r, err);
out:
    engine_destroy(e);
    runner_destroy(r);
    executor_destroy(own);
    return rc;
}
