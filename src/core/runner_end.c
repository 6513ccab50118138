/* The end of an attempt and of a run (runner_int.h): an attempt's outcome turned into
 * its state (cancelled, interrupted, timed out, failed, succeeded; a full disk named),
 * a retry scheduled with its backoff or the task ended for good (its chain moved on,
 * the run stopped after a failure with stop_on_error), all inside the tick's
 * transaction; and the run's end: the study's final status, its aggregate, the
 * summary. */
#include "runner_int.h"

#include "common/xalloc.h"
#include "core/aggregate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

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
    rn_emit(r, &ev);
}

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: jitter only, not for results. */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
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

/* A task that failed on a full disk may say nothing (its stderr.log is on the same
 * disk): when less than this is free where it ran, its error says so. */
#define DISK_FULL_BYTES (1024.0 * 1024.0)

/* " (disk full: ...)" when the disk of dir has (almost) no space left, else NULL;
 * the disk of `alt` when dir is gone (a task's directory given on: rn_dir_ended). */
static char *disk_full_note(const char *dir, const char *alt)
{
    struct statvfs v;
    double avail;

    if (!dir || statvfs(dir, &v) != 0) {
        dir = alt;
        if (!dir || statvfs(dir, &v) != 0)
            return NULL;
    }
    avail = (double)v.f_bavail * (double)v.f_frsize;
    if (avail >= DISK_FULL_BYTES)
        return NULL;
    return xasprintf(" (disk full: %.0f KiB free on the disk of %s)", avail / 1024.0,
                     dir);
}

/* Records one ended attempt (inside the tick's transaction) and decides what next. */
int rn_finish_attempt(struct runner *r,
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
        rn_early_failure(r, t, res);
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
        char *note = disk_full_note(t->dir, r->study_dir);
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

    {
        struct store_task_group g = {.study_id = r->study_id,
                                     .generation = r->generation,
                                     .seq = t->seq,
                                     .step = t->step,
                                     .priority = t->priority};
        rc = store_task_finished_in(r->st, &g, t->id, t->attempts, &o, err);
    }
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
        rn_emit(r, &ev);
        err_clear(err);
        rc = SWEEP_OK;
        running_remove(r, t);
        rn_rtask_free(t);
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
    rc = rn_pipeline_end(r, t, o.state, err);
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
            rn_emit_text(r, RUNNER_EVENT_STOP, r->reason);
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
    rn_rtask_free(t);
out:
    free(metrics);
    free(error);
    return rc;
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

/* The end of the run: the study's counts and final status recorded, its aggregate
 * kept, the summary filled in; rc is how it ended (an error is recorded as
 * INTERRUPTED when the store still takes it, so that the next run reruns what was
 * running, and what the executor still runs for it is killed). */
void rn_finish_run(struct runner *r, int rc, struct err *err)
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
        rn_unclaim_all(r, &e3);
    }
    sum->end = r->end;
    sum->elapsed = run_mono(r) - r->t0;
    memcpy(sum->reason, r->reason, sizeof(sum->reason));
    if (rc != SWEEP_OK) {
        rn_cancel_all(r, true);
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
        rn_emit(r, &ev);
    }
    studylog_flush(r->log);
}
