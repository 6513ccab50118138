/* The runner: runs a stored study's tasks through an executor (see runner.h; storing
 * it, the paths and the run lock are in runner_prepare.c; what a task sees, its argv
 * and environment, is built in taskview.c). This file owns its creation, the phases
 * (`after`, the start), the tick's steps, cancellation polled from the store and the
 * public API; runner_int.h says which file owns the rest (the start of an attempt,
 * its end and the run's, pipelines, early failures).
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
#include "runner_int.h"

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/engine.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define PAGE_SIZE_TASKS 1024 /* pending tasks read from the store at once */
#define LOW_WATER 256        /* read another page when fewer are queued */
#define CANCEL_POLL 1.0      /* seconds between checks for `sweep cancel` */
#define BATCH_WAIT 0.01 /* ends recorded together for so long while claims refill */

/* ---- events (runner.h) ---- */

/* Tells an event of the study: to its log, then to the owner (runner.h). */
void rn_emit(struct runner *r, struct runner_event *ev)
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
    rn_emit(r, &e);
}

/* An event of the study that carries a text (a reason). */
void rn_emit_text(struct runner *r, enum runner_event_kind kind, const char *text)
{
    struct runner_event ev = {.kind = kind, .text = text};
    rn_emit(r, &ev);
}

/* ---- pending tasks from the store ---- */

int rn_add_pending(const struct store_task *st, void *arg)
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
                                rn_add_pending, r, err);
    if (n < 0)
        return err->code ? (int)err->code : SWEEP_ESTORE;
    if (n < PAGE_SIZE_TASKS)
        r->exhausted = true;
    return SWEEP_OK;
}

void rn_rtask_free(struct rtask *t)
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

/* Kept for its callers: the reader is the local executor's now. */
void runner_read_result(const char *path, char **metrics, char **error)
{
    executor_read_result(path, metrics, error);
}

/* ---- cancellation from another process ---- */

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
            rn_rtask_free(t);
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
void rn_cancel_all(struct runner *r, bool now)
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
        rn_rtask_free(it.data);
    sched_heap_fini(h);
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
        rn_emit_text(r, RUNNER_EVENT_BLOCKED, why);
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
        rn_emit(r, &ev);
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
    if (r->spec->reduce && (rc = rn_pipeline_start(r, err)) != 0)
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
    r->carried = r->finished;
    {
        struct runner_event ev = {.kind = RUNNER_EVENT_START,
                                  .pid = (int)getpid(),
                                  .tasks = r->total,
                                  .pending = pending,
                                  .skipped = sum->skipped,
                                  .slots = r->slots};
        rn_emit(r, &ev);
    }
    studylog_flush(r->log);
    r->last_cancel_poll = run_mono(r);
    r->phase = PHASE_RUN;
    return SWEEP_OK;
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

    if (rn_mkdirs(r->study_dir) < 0) {
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
        rn_rtask_free(r->running[i]);
    free(r->running);
    heap_free_all(&r->ready);
    heap_free_all(&r->delayed);
    free(r->starts);
    for (size_t i = 0; i < r->nclaimed; i++)
        rn_rtask_free(r->claimed[i]);
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
    rn_dir_spares_free(r);
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
            if ((rc = rn_count_chains(r, &err)) == SWEEP_OK)
                rc = rn_release_if_done(r, &err);
        } else {
            r->phase = PHASE_FINISH;
        }
    }
    if (rc != SWEEP_OK)
        rn_finish_run(r, rc, &err);
    else if (r->phase == PHASE_FINISH)
        rn_finish_run(r, SWEEP_OK, &err);
}

int runner_reap(struct runner *r, struct err *err)
{
    int rc;

    if (r->phase != PHASE_RUN)
        return SWEEP_OK;
    studylog_begin(r->log);
    /* The process groups of the tasks spawned since the last tick and still running
     * when it began (runner_take_outcome drops those of ended ones; an attempt closed
     * by another process has no use for it: ENOTFOUND). */
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
    if (r->stopping && (rc = rn_unclaim_all(r, err)) != 0)
        return rc;
    /* Compared as runner_next_wakeup() computes it (a float sum, not a difference). */
    if (run_mono(r) >= r->last_cancel_poll + CANCEL_POLL) {
        r->last_cancel_poll = run_mono(r);
        if ((rc = poll_cancel(r, err)) != 0)
            return rc;
    }
    for (size_t i = 0; i < r->ndone; i++) {
        struct rtask *t = find_running(r, r->done[i].o.ctx);
        if (t && (rc = rn_finish_attempt(r, t, &r->done[i].o, err)) != 0)
            return rc;
    }
    for (size_t i = 0; i < r->ndone; i++)
        reaped_fini(&r->done[i]);
    r->ndone = 0;
    for (size_t i = 0; i < r->nspawn_failed; i++) {
        if ((rc = rn_finish_attempt(r, r->spawn_failed[i], NULL, err)) != 0)
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
        rn_emit(r, &ev);
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
    rn_dir_ended(r, t, out);
    /* Its process group is not recorded: its end is, in the same transaction, and
     * there is nothing left to kill should this run die first. */
    for (size_t i = 0; i < r->nunrec; i++) {
        if (r->unrec[i].task_id == t->id && r->unrec[i].attempt == t->attempts) {
            r->unrec[i] = r->unrec[--r->nunrec];
            break;
        }
    }
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
        rn_finish_run(r, rc, &e);
}

void runner_interrupt(struct runner *r, int signo)
{
    const char *sig = sigabbrev_np(signo) ? sigabbrev_np(signo) : "a signal";

    if (r->phase == PHASE_DONE)
        return;
    if (++r->signals > 1) {
        rn_cancel_all(r, true);
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
        rn_emit(r, &ev);
    }
    for (size_t i = 0; i < r->nrunning; i++) {
        if (r->running[i]->stop == STOP_NONE)
            r->running[i]->stop = STOP_INTERRUPT;
    }
    rn_cancel_all(r, false);
}

void runner_cancel(struct runner *r)
{
    if (r->phase == PHASE_DONE || (r->stopping && r->end == RUNNER_CANCELLED))
        return;
    r->stopping = true;
    r->end = RUNNER_CANCELLED;
    snprintf(r->reason, sizeof(r->reason), "study cancelled by sweep cancel");
    rn_emit_text(r, RUNNER_EVENT_CANCEL, r->reason);
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
    /* While it batches, the engine skips its ticks (runner_batching): waking before the
     * batch's end would only spin (a cancel poll due meanwhile waits for it). */
    if (runner_batching(r) && t < r->pending_since + BATCH_WAIT)
        t = r->pending_since + BATCH_WAIT;
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
    p->carried = r->carried;
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
