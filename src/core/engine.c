/* The engine: runners stepped together over one executor and one slot budget (see
 * engine.h). A tick costs O(runners) plus O(runners) per task started (the best
 * ready head is looked for across runners each time): meant for a few studies at once.
 *
 * One store transaction per tick: the process groups of the tasks spawned since the
 * last tick, the ends reported since, the starts, and the tasks claimed ahead (at
 * most `slots` across runners: runner.h). When a task ends, the executor's callback
 * refills its slots at once from the claimed tasks (engine_refill), so a spawn never
 * waits for the commit of another task's end.
 */
#include "core/engine.h"

#include "common/timeutil.h"
#include "common/xalloc.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct engine {
    struct store *st;
    struct executor *ex;
    const struct runner_clock *clock;
    int slots;
    struct runner **runners;
    size_t n, cap;
    bool leased; /* the leases were renewed once */
    double last_lease;
};

static double engine_mono(const struct engine *e)
{
    return e->clock ? e->clock->mono(e->clock->arg) : time_mono();
}

struct engine *engine_create(struct store *st,
                             struct executor *ex,
                             const struct runner_clock *clock,
                             int slots)
{
    struct engine *e = xcalloc(1, sizeof(*e));

    e->st = st;
    e->ex = ex;
    e->clock = clock;
    if (slots <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        slots = n > 0 ? (int)n : 1;
    }
    e->slots = slots;
    return e;
}

void engine_destroy(struct engine *e)
{
    if (!e)
        return;
    free(e->runners);
    free(e);
}

void engine_add(struct engine *e, struct runner *r)
{
    e->runners = xgrow(e->runners, &e->cap, e->n + 1, sizeof(*e->runners));
    e->runners[e->n++] = r;
}

bool engine_remove(struct engine *e, struct runner *r)
{
    for (size_t i = 0; i < e->n; i++) {
        if (e->runners[i] != r)
            continue;
        if (!runner_done(r))
            return false;
        memmove(&e->runners[i], &e->runners[i + 1],
                (e->n - i - 1) * sizeof(*e->runners));
        e->n--;
        return true;
    }
    return false;
}

size_t engine_count(const struct engine *e)
{
    return e->n;
}

static void fail_all(struct engine *e, int rc, const struct err *err)
{
    for (size_t i = 0; i < e->n; i++)
        runner_fail(e->runners[i], rc, err);
}

/* Starts ready tasks, best first across runners, while the best fits the free
 * slots (a task that does not fit waits for slots, as in one study: nothing of lower
 * priority overtakes it). */
static int engine_used(const struct engine *e)
{
    int used = 0;

    for (size_t i = 0; i < e->n; i++)
        used += runner_used(e->runners[i]);
    return used;
}

/* The runner whose first claimed task has the best priority, or NULL. */
static struct runner *best_claimed(struct engine *e)
{
    struct runner *best = NULL;
    int prio = INT_MIN;

    for (size_t i = 0; i < e->n; i++) {
        int p = runner_claimed_priority(e->runners[i]);
        if (p > prio) {
            prio = p;
            best = e->runners[i];
        }
    }
    return best;
}

/* Claims the best ready heads across runners until `slots` tasks are claimed. */
static int claim_ahead(struct engine *e, struct err *err)
{
    int claimed = 0;

    for (size_t i = 0; i < e->n; i++)
        claimed += runner_nclaimed(e->runners[i]);
    while (claimed < runner_claim_max(e->slots)) {
        struct runner_head best = {0}, h;
        struct runner *r = NULL;
        int rc;

        for (size_t i = 0; i < e->n; i++) {
            if (runner_head_ahead(e->runners[i], &h) &&
                (!r || h.priority > best.priority)) {
                r = e->runners[i];
                best = h;
            }
        }
        if (!r)
            return SWEEP_OK;
        rc = runner_claim_head(r, err);
        if (rc < 0)
            return -rc;
        claimed += rc;
    }
    return SWEEP_OK;
}

/* The runner whose ready task may start now (runner_head) with the best priority (the
 * first runner on a tie), or NULL; *best says which. */
static struct runner *best_head(struct engine *e, struct runner_head *best)
{
    struct runner *r = NULL;
    struct runner_head h;

    for (size_t i = 0; i < e->n; i++) {
        if (runner_head(e->runners[i], &h) && (!r || h.priority > best->priority)) {
            r = e->runners[i];
            *best = h;
        }
    }
    return r;
}

/* When a tick would start a ready task: now when the best one that may start (by
 * priority) fits the free slots; INFINITY when it does not (nothing starts before an
 * end frees slots: priorities are strict) or no runner has one; else the first time a
 * rate limit lets one that fits start. */
static double start_at(const struct engine *e)
{
    int free = e->slots - engine_used(e);
    double now = engine_mono(e), at = INFINITY;
    struct runner_head best = {0}, h;
    bool have = false;

    for (size_t i = 0; i < e->n; i++) {
        double t = runner_head_at(e->runners[i], &h);
        if (t <= now) {
            if (!have || h.priority > best.priority)
                best = h;
            have = true;
        } else if (t < at && h.cpus <= free) {
            at = t;
        }
    }
    if (have)
        return best.cpus <= free ? now : INFINITY;
    return at;
}

/* Starts tasks in the free slots by priority, claimed ones first on a tie, as long as
 * the best fits; then claims ahead. */
static int choose(struct engine *e, struct err *err)
{
    int used = engine_used(e);

    for (;;) {
        struct runner_head best = {0};
        struct runner *r = best_head(e, &best), *c = best_claimed(e);
        int need, rc;

        if (c && (!r || runner_claimed_priority(c) >= best.priority)) {
            int took = runner_start_claimed(c, e->slots - used);
            if (took > 0) {
                used += took;
                continue;
            }
        }
        if (!r)
            return SWEEP_OK;
        need = best.cpus > e->slots ? e->slots : best.cpus;
        if (used + need > e->slots)
            return SWEEP_OK;
        rc = runner_start_head(r, need, err);
        if (rc < 0)
            return -rc;
        if (rc == 1)
            used += need;
    }
}

/* An attempt ended by runner_leases_tick: an event of its study's runner when the
 * engine holds that study, else a line in that study's log. */
static void on_store_event(void *arg, const struct runner_event *ev)
{
    struct engine *e = arg;

    for (size_t i = 0; i < e->n; i++) {
        struct runner_progress p;
        runner_progress_get(e->runners[i], &p);
        if (strcmp(p.study, ev->study) == 0) {
            runner_post(e->runners[i], ev);
            return;
        }
    }
    runner_log_event(store_home(e->st), ev);
}

/* A task ended: its slots go to claimed tasks at once, best first, unless a ready
 * task of a better priority may start (a study whose rate limit held it back): that
 * one gets them at the tick. */
static void engine_refill(struct engine *e)
{
    int used = engine_used(e);
    struct runner_head best = {0};
    int ready = best_head(e, &best) ? best.priority : INT_MIN;
    struct runner *c;

    while ((c = best_claimed(e)) && runner_claimed_priority(c) >= ready) {
        int took = runner_spawn_claimed(c, e->slots - used);
        if (took == 0)
            return;
        used += took;
    }
}

int engine_tick(struct engine *e, struct err *err)
{
    bool running = false;
    int rc;

    if (e->n == 0)
        return SWEEP_OK;
    if (!e->leased || engine_mono(e) >= e->last_lease + store_lease(e->st) / 3) {
        /* A busy store is tried again on the next tick. */
        rc = runner_leases_tick(e->st, on_store_event, e, err);
        if (rc == SWEEP_EBUSY) {
            err_clear(err);
        } else if (rc) {
            fail_all(e, rc, err);
            return rc;
        } else {
            e->leased = true;
            e->last_lease = engine_mono(e);
        }
    }
    for (size_t i = 0; i < e->n; i++) {
        runner_pre(e->runners[i]);
        running = running || !runner_done(e->runners[i]);
    }
    if (!running)
        return SWEEP_OK;
    /* No transaction while a runner records the ends of its short tasks together
     * (runner_batching) and the others have nothing new. */
    {
        bool batching = false, skip = true;
        for (size_t i = 0; i < e->n && skip; i++) {
            struct runner *r = e->runners[i];
            if (runner_batching(r))
                batching = true;
            else
                skip = runner_quiet(r);
        }
        if (batching && skip && start_at(e) > engine_mono(e))
            return SWEEP_OK;
    }
    rc = store_begin(e->st, err);
    if (rc == SWEEP_EBUSY) {
        for (size_t i = 0; i < e->n; i++) {
            runner_busy(e->runners[i]);
            runner_flush(e->runners[i]);
        }
        err_clear(err);
        return SWEEP_OK;
    }
    if (rc) {
        fail_all(e, rc, err);
        return rc;
    }
    for (size_t i = 0; i < e->n && !rc; i++)
        rc = runner_reap(e->runners[i], err);
    if (!rc)
        rc = choose(e, err);
    if (!rc)
        rc = claim_ahead(e, err);
    if (!rc)
        rc = store_commit(e->st, err);
    if (rc) {
        store_rollback(e->st);
        for (size_t i = 0; i < e->n; i++)
            runner_committed(e->runners[i], false);
        fail_all(e, rc, err);
        return rc;
    }
    /* Their process groups are recorded by the next tick (runner.h). */
    for (size_t i = 0; i < e->n; i++) {
        runner_committed(e->runners[i], true);
        runner_spawn(e->runners[i]);
        runner_flush(e->runners[i]);
    }
    return SWEEP_OK;
}

double engine_next_wakeup(const struct engine *e)
{
    double t = e->leased ? e->last_lease + store_lease(e->st) / 3 : engine_mono(e);

    for (size_t i = 0; i < e->n; i++) {
        double w = runner_next_wakeup(e->runners[i]);
        if (w < t)
            t = w;
    }
    return fmin(t, start_at(e));
}

bool engine_done(const struct engine *e)
{
    for (size_t i = 0; i < e->n; i++) {
        if (!runner_done(e->runners[i]))
            return false;
    }
    return true;
}

void engine_interrupt(struct engine *e, int signo)
{
    for (size_t i = 0; i < e->n; i++)
        runner_interrupt(e->runners[i], signo);
}

/* The executor's callback: the attempt's runner keeps its outcome. */
static void on_done(const struct executor_outcome *out, void *arg)
{
    struct engine *e = arg;

    for (size_t i = 0; i < e->n; i++) {
        if (runner_take_outcome(e->runners[i], out)) {
            engine_refill(e);
            return;
        }
    }
}

int engine_dispatch(struct engine *e, int timeout_ms, int *signo, struct err *err)
{
    return executor_dispatch(e->ex, timeout_ms, on_done, e, signo, err);
}

int engine_run(struct engine *e, const struct engine_loop *lp, struct err *err)
{
    int rc;

    for (;;) {
        double wait;
        int signo = 0;

        rc = engine_tick(e, err);
        for (size_t i = 0; lp && lp->on_tick && i < e->n; i++)
            lp->on_tick(lp->on_tick_arg, e->runners[i]);
        if (rc || engine_done(e))
            return rc;
        wait = engine_next_wakeup(e) - engine_mono(e);
        if (lp && lp->max_wait > 0 && wait > lp->max_wait)
            wait = lp->max_wait;
        if (wait < 0)
            wait = 0;
        if (engine_dispatch(e, (int)ceil(wait * 1000.0), &signo, err) < 0) {
            rc = err->code ? (int)err->code : SWEEP_EINTERNAL;
            fail_all(e, rc, err);
            return rc;
        }
        if (signo)
            engine_interrupt(e, signo);
    }
}
