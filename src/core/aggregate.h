/* Aggregation of a study's metrics: its tasks grouped by the values of chosen
 * parameters (by default every parameter that varies between the tasks except "seed",
 * i.e. the parameter point, so repetitions fall together), and for each chosen numeric
 * metric n, mean, sample standard deviation, standard error, min and max over the
 * succeeded tasks of a group. Failed and timed-out tasks are left out of the statistics
 * and counted per group; pending, running, cancelled and interrupted tasks are ignored.
 *
 * Metrics: the task's metrics object with nested objects flattened as "a.b". Numbers
 * count as they are and booleans as 0 or 1 (so the mean of `converged` is the fraction
 * that converged); strings, arrays and null are not metrics.
 *
 * Groups: a task without one of the chosen parameters has null for it. Values that are
 * equal numbers fall together (1 and 1.0). Groups are ordered by their values in
 * natural order: null, then booleans, numbers numerically, strings lexically (bytes),
 * then arrays and objects by their canonical JSON text; the first parameter first.
 *
 * Cost: two passes over the tasks in the store (one to learn the parameter and metric
 * names, one to aggregate), O(tasks) time; memory O(groups x metrics), since each
 * statistic is kept with Welford's running update, never the samples.
 *
 * JSON form (aggregate_to_json, what `sweep aggregate --format json` prints and what is
 * stored with a study when its run ends): with one grouping parameter an object keyed
 * by the parameter's value, {"<value>": {"n_samples": n, "n_failed": n, "mean_<m>": x,
 * "std_<m>": x, "stderr_<m>": x, "min_<m>": x, "max_<m>": x, ...}, ...}; otherwise an
 * array of {"params": {"<p>": value, ...}, "n_samples": ..., ...}. Groups and members
 * in order; a statistic that is undefined (no samples; std with n < 2) is null. */
#ifndef SWEEP_CORE_AGGREGATE_H
#define SWEEP_CORE_AGGREGATE_H

#include "common/err.h"
#include "core/fit.h"

#include <jansson.h>
#include <stddef.h>

struct store;

/* Running statistics of one metric in one group (Welford). */
struct aggregate_stat {
    long long n;
    double mean; /* of the n samples; 0 when n == 0 */
    double m2;   /* sum of squared deviations from the mean */
    double min, max;
};

void aggregate_stat_add(struct aggregate_stat *s, double x);
/* Sample standard deviation (divisor n - 1); NAN when n < 2. */
double aggregate_stat_std(const struct aggregate_stat *s);
/* Standard error of the mean, std / sqrt(n); NAN when n < 2. */
double aggregate_stat_sem(const struct aggregate_stat *s);

struct aggregate_group {
    json_t *values; /* array: the value of each `by` parameter (json null if unset) */
    long long n_samples;          /* succeeded tasks */
    long long n_failed;           /* failed or timed-out tasks */
    struct aggregate_stat *stats; /* one per metric, in the order of `metrics` */
};

struct aggregate {
    char **by; /* the grouping parameters */
    size_t nby;
    char **metrics; /* the aggregated metrics */
    size_t nmetrics;
    struct aggregate_group *groups; /* in natural order of their values */
    size_t ngroups;
};

/* Aggregates the tasks of the study's latest generation into *out (free it with
 * aggregate_fini). by == NULL: every parameter whose value (or presence) is not the
 * same in all tasks, except "seed", sorted by name; otherwise the nby names given (nby
 * may be 0: one group). metrics == NULL: every metric that is numeric or boolean in
 * some task, sorted by name; otherwise the nmetrics names given. A name that no task
 * has, or one given twice, is SWEEP_EINVAL, and the message names it and lists the
 * known ones. Store errors pass through (SWEEP_ENOTFOUND for an unknown study). On
 * failure *out is left empty. */
int aggregate_study(struct store *st,
                    long long study_id,
                    const char *const *by,
                    size_t nby,
                    const char *const *metrics,
                    size_t nmetrics,
                    struct aggregate *out,
                    struct err *err);
/* The same over one step of a pipeline (task.step == step; -1: every task). */
int aggregate_study_step(struct store *st,
                         long long study_id,
                         int step,
                         const char *const *by,
                         size_t nby,
                         const char *const *metrics,
                         size_t nmetrics,
                         struct aggregate *out,
                         struct err *err);
/* Accepts a zeroed or already finished struct. */
void aggregate_fini(struct aggregate *a);

/* The JSON form of a (new reference). With one parameter, a value's key is its text
 * (strings as they are, numbers shortest, null as "null"); should a later value print
 * like an earlier one (the number 1 and the string "1"), its key is that text quoted as
 * a JSON string ("\"1\""), as often as needed to be unique. */
json_t *aggregate_to_json(const struct aggregate *a);
/* The text of aggregate_to_json()'s object or array as `sweep aggregate` prints it:
 * one group per line, members in order, reals in their shortest round-trip form, a
 * final newline. New string (free it). */
char *aggregate_json_str(const json_t *j);

/* Series across the last grouping parameter ("x"): the groups are ordered by their
 * values, so the groups that share the values of every other grouping parameter form
 * one run, ordered by x. Returns the end of the run that starts at group `first` (one
 * past its last group); with one grouping parameter, every group is one run. */
size_t aggregate_series_end(const struct aggregate *a, size_t first);

/* Fits a power law (core/fit.h) to the means of metric `metric` against x (the last
 * grouping parameter) over the groups [first, end), each weighted by its standard
 * error; groups without samples are left out. x must be numeric in every group with
 * samples, else SWEEP_EINVAL naming the parameter and value; fit_power_law's errors
 * pass through. */
int aggregate_fit_power(const struct aggregate *a,
                        size_t metric,
                        size_t first,
                        size_t end,
                        struct fit_power *out,
                        struct err *err);
/* The JSON form of a fit of aggregate_fit_power(): {"x": "<param>", "metric":
 * "<m>", "params": {the other grouping parameters}, "exponent", "exponent_stderr",
 * "prefactor", "prefactor_stderr", "n_points", "weighted", "chi2_dof"} (undefined
 * values null). New reference. */
json_t *aggregate_fit_json(const struct aggregate *a,
                           size_t metric,
                           size_t first,
                           const struct fit_power *f);

/* Repetitions that are copies: the number of groups with more than one sample in
 * which every metric that has samples has no spread at all (std exactly 0), as when a
 * task ignores its seed ($SWEEP_SEED, {seed}) or the spec fixes it under a name sweep
 * does not know as the seed. *first (may be NULL) gets the index of the first such
 * group. O(groups x metrics). */
size_t aggregate_copies(const struct aggregate *a, size_t *first);
/* The note `sweep run` and `sweep aggregate` print when aggregate_copies() finds
 * any: how many points, the first one named; NULL when none. New string. */
char *aggregate_copies_note(const struct aggregate *a);
/* "p1=v1, p2=v2" of group g's values (every `by` parameter); "(all tasks)" without
 * one. New string. */
char *aggregate_group_text(const struct aggregate *a, size_t g);

/* Computes the study's default aggregate over one step (`step`; -1: every task) (the
 * parameters that vary but seed, every numeric metric) and stores its JSON text with
 * store_aggregate_put() for `generation` (the study's latest, which aggregate_study()
 * reads). A study without tasks stores [], and tasks without numeric metrics store
 * groups with only n_samples and n_failed. Errors of aggregate_study() and of the store
 * pass through (SWEEP_ENOTFOUND for an unknown study). copies (may be NULL) gets
 * aggregate_copies_note() of that aggregate (free it). */
int aggregate_save(struct store *st,
                   long long study_id,
                   long long generation,
                   int step,
                   char **copies,
                   struct err *err);

#endif
