/* The estimated time left for a study (`sweep status`, `sweep monitor`), from the wall
 * times of its finished tasks and the cpus of those still to run. The arithmetic is a
 * pure function on a small struct of sums (eta_sums_add(), eta_estimate()) so that it
 * can be tested without a store; eta_study() fills the sums in one streaming pass over
 * the study's tasks. */
#ifndef SWEEP_CORE_ETA_H
#define SWEEP_CORE_ETA_H

#include "common/err.h"
#include "core/store.h"

/* eta_estimate() when nothing has finished yet (no duration to go by). */
#define ETA_UNKNOWN (-1.0)
/* eta_study() when tasks are left but no sweep process runs the study (interrupted,
 * cancelled with tasks left, stored with --prepare): nothing will end, so no time left
 * is shown (`sweep status`, `sweep monitor`; null in JSON). */
#define ETA_IDLE (-2.0)

struct eta_sums {
    int slots;              /* cpus the runner fills at once (>= 1) */
    long long finished;     /* succeeded, failed and timed out tasks */
    double finished_wall;   /* sum of their wall seconds */
    long long queued_cpus;  /* sum of cpus of pending and interrupted tasks */
    long long running_cpus; /* sum of cpus of running tasks */
    double running_used;    /* sum of cpus x seconds already run by running tasks */
};

/* Starts empty sums for `slots` parallel cpus (values below 1 count as 1). */
void eta_sums_init(struct eta_sums *s, int slots);
/* Adds one task as seen at epoch time `now` (cancelled tasks add nothing). A task's
 * cpus count at least 1 and at most the slots, as the runner starts it. */
void eta_sums_add(struct eta_sums *s, const struct store_task *t, double now);
/* Seconds left (>= 0), 0 when nothing is left to run, or ETA_UNKNOWN. */
double eta_estimate(const struct eta_sums *s);

/* The parallelism of a study: max_parallel of its stored spec, else the number of
 * online cpus. */
int eta_study_slots(const struct store_study *study);
/* eta_estimate() for a study at epoch time `now`, from its counts, a sample of at most
 * 1000 finished and 1000 queued tasks per state (the mean wall time and cpus), and
 * every running task: cheap however large the study. ETA_IDLE when tasks are left but
 * no sweep process holds the study's run lock (runner_is_active()). */
int eta_study(struct store *st,
              const struct store_study *study,
              double now,
              double *seconds,
              struct err *err);
/* eta_study() with the study's counts already read (store_study_counts()), so that a
 * caller that shows them too (view_status_load()) counts once. */
int eta_study_counted(struct store *st,
                      const struct store_study *study,
                      long long counts[3][TASK_NSTATES],
                      double now,
                      double *seconds,
                      struct err *err);

#endif
