/* Estimated time remaining of a study. Each task still to run is assumed to take the
 * mean wall time of the finished (succeeded, failed, timed out) tasks, and to hold its
 * cpus for that long out of the `slots` cpus the runner fills at once (the spec's
 * max_parallel, else the number of cpus):
 *
 *     mean    = sum(wall of finished) / finished
 *     work    = mean * sum(cpus of pending and interrupted)
 *             + max(0, mean * sum(cpus of running) - sum(cpus * elapsed of running))
 *     ETA     = max(work / slots, mean if anything is pending)
 *
 * With every task on one cpu, work / slots is simply mean * tasks left / slots. The
 * second term of max() is the tail: the last task to start takes about `mean` however
 * many slots are free. Nothing left to run gives 0; nothing finished yet gives
 * ETA_UNKNOWN; tasks left that no sweep process runs give ETA_IDLE (eta_study()).
 *
 * Limits, stated honestly: durations are assumed alike (tasks whose time depends on
 * their parameters, e.g. a grid size, make it drift until the mix of finished tasks is
 * representative); failed tasks that die at once pull the mean down; retries, the rate
 * limit, backoff delays, fragmentation of slots by multi-cpu tasks and a --max-parallel
 * given on the command line (it is not stored) are ignored; the elapsed time of running
 * tasks is subtracted as one sum, so a task running longer than the mean lowers the
 * estimate for the others (never below zero); a running task left behind by a dead
 * runner still counts as running. It is a progress hint, not a promise. */
#include "core/eta.h"

#include "core/runner.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <unistd.h>

void eta_sums_init(struct eta_sums *s, int slots)
{
    *s = (struct eta_sums){.slots = slots > 0 ? slots : 1};
}

void eta_sums_add(struct eta_sums *s, const struct store_task *t, double now)
{
    long long cpus = t->cpus < 1 ? 1 : t->cpus > s->slots ? s->slots : t->cpus;
    double elapsed = now - t->started_at;

    switch (t->state) {
    case TASK_SUCCEEDED:
    case TASK_FAILED:
    case TASK_TIMED_OUT:
        s->finished++;
        s->finished_wall += t->wall > 0 ? t->wall : 0;
        break;
    case TASK_PENDING:
    case TASK_INTERRUPTED:
        s->queued_cpus += cpus;
        break;
    case TASK_RUNNING:
        s->running_cpus += cpus;
        if (t->started_at > 0 && elapsed > 0)
            s->running_used += (double)cpus * elapsed;
        break;
    default: /* cancelled: nothing left to do */
        break;
    }
}

double eta_estimate(const struct eta_sums *s)
{
    double mean, work, running_left, eta;

    if (s->queued_cpus == 0 && s->running_cpus == 0)
        return 0;
    if (s->finished == 0)
        return ETA_UNKNOWN;
    mean = s->finished_wall / (double)s->finished;
    running_left = mean * (double)s->running_cpus - s->running_used;
    work = mean * (double)s->queued_cpus + (running_left > 0 ? running_left : 0);
    eta = work / (double)s->slots;
    if (s->queued_cpus > 0 && eta < mean)
        eta = mean;
    return eta;
}

int eta_study_slots(const struct store_study *study)
{
    json_t *spec = study->spec_json ? json_loads(study->spec_json, 0, NULL) : NULL;
    json_t *mp = json_object_get(spec, "max_parallel");
    long long slots = json_is_integer(mp) ? json_integer_value(mp) : 0;
    long n;

    json_decref(spec);
    if (slots > 0 && slots <= 1000000)
        return (int)slots;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Finished and queued tasks are sampled, not scanned: at most this many per state, read
 * from an index range, so that `sweep status` stays fast on a million-task study. */
#define ETA_SAMPLE 1000

struct scan {
    struct eta_sums sums;
    double now;
    long long n;
};

static int scan_one(const struct store_task *t, void *arg)
{
    struct scan *sc = arg;

    eta_sums_add(&sc->sums, t, sc->now);
    sc->n++;
    return 0;
}

static int scan_state(struct store *st,
                      long long study_id,
                      enum task_state state,
                      int limit,
                      struct scan *sc,
                      struct err *err)
{
    return store_task_in_state(st, study_id, state, limit, scan_one, sc, err);
}

int eta_study(struct store *st,
              const struct store_study *study,
              double now,
              double *seconds,
              struct err *err)
{
    long long counts[3][TASK_NSTATES];
    int rc = store_study_counts(st, study->id, counts, err);

    return rc ? rc : eta_study_counted(st, study, counts, now, seconds, err);
}

int eta_study_counted(struct store *st,
                      const struct store_study *study,
                      long long counts[3][TASK_NSTATES],
                      double now,
                      double *seconds,
                      struct err *err)
{
    static const enum task_state done[] = {TASK_SUCCEEDED, TASK_FAILED, TASK_TIMED_OUT};
    static const enum task_state waiting[] = {TASK_PENDING, TASK_INTERRUPTED};
    long long finished = 0, queued = 0;
    int slots = eta_study_slots(study);
    struct scan fin = {.now = now}, wait = {.now = now}, run = {.now = now};
    int rc = 0;

    for (int b = 0; b < 3; b++) {
        finished += counts[b][TASK_SUCCEEDED] + counts[b][TASK_FAILED] +
                    counts[b][TASK_TIMED_OUT];
        queued += counts[b][TASK_PENDING] + counts[b][TASK_INTERRUPTED] +
                  counts[b][TASK_WAITING];
    }
    eta_sums_init(&fin.sums, slots);
    eta_sums_init(&wait.sums, slots);
    eta_sums_init(&run.sums, slots);
    for (size_t i = 0; i < sizeof(done) / sizeof(done[0]) && !rc; i++)
        rc = scan_state(st, study->id, done[i], ETA_SAMPLE, &fin, err);
    for (size_t i = 0; i < sizeof(waiting) / sizeof(waiting[0]) && !rc; i++)
        rc = scan_state(st, study->id, waiting[i], ETA_SAMPLE, &wait, err);
    /* Running tasks are few (the slots of a live run), so all of them. */
    if (!rc)
        rc = scan_state(st, study->id, TASK_RUNNING, INT_MAX, &run, err);
    if (rc)
        return rc;
    /* Scale the samples up to the counts. */
    run.sums.finished = finished;
    run.sums.finished_wall =
        fin.n ? fin.sums.finished_wall / (double)fin.n * (double)finished : 0;
    run.sums.queued_cpus = wait.n ? (long long)llround((double)wait.sums.queued_cpus /
                                                       (double)wait.n * (double)queued)
                                  : 0;
    *seconds = eta_estimate(&run.sums);
    if (*seconds != 0 && !runner_is_active(store_home(st), study->name))
        *seconds = ETA_IDLE;
    return 0;
}
