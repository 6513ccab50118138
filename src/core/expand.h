/* Expansion: a spec into its tasks, one at a time, so that a study of a million tasks
 * is never held in memory at once. Order: the grid (cartesian product of the axes in
 * spec order, the last axis varying fastest), then the explicit `tasks` list; each
 * point is repeated `repetitions` times (the repetition index varies fastest).
 *
 * Without `parameters` and without `tasks` there is one point: base alone.
 *
 * Each task has a stable key: the first 16 hex digits of SHA-256 over the canonical
 * JSON of {"params": ..., "rep": i, "run": <model name or command template>}, so the
 * same point keeps its key when the spec is reordered or an axis gains values (a new
 * axis changes every point's params, hence its key). "run" is the model name string
 * (SPEC_MODEL) or the argv template as an array of strings (SPEC_COMMAND); a shell
 * command adds "shell": true to that object.
 *
 * Seeds. A seed parameter is one named "seed" or one of spec->seed_names (the front
 * end adds a model's aliases of its seed, e.g. "semilla"). When the point sets a seed
 * parameter to an integer G (the first of "seed", then seed_names in order),
 * repetition 0 gets G itself and repetition i > 0 gets the first 4 bytes (big-endian)
 * of SHA-256 over the canonical JSON {"rep":i,"seed":G}, masked to 31 bits: the
 * repetitions are independent, and the same spec gives the same seeds on every
 * machine. Otherwise the seed is derived from the study name, the parameters and the
 * repetition: the first 4 bytes of SHA-256 over {"params": ..., "rep": i, "study":
 * <name>}, masked likewise (31 bits, so every consumer can take it as a signed int).
 * The seed is what the task really gets: the runner gives the task its parameters
 * with every integer seed parameter set to it (expand_apply_seed), while the stored
 * params_json, hence the key and the grouping by parameters, keep the spec's value.
 *
 * Pipelines: each point and repetition is a chain, numbered 0, 1, ... in the order
 * above, and yields one task per step in step order (seq increases by one each). Step 0
 * has the key above with "run" its own model or command; a later step adds
 * "run_after": <the key of the step before it> to the object, so a step's key changes
 * when anything before it in the chain changes. All steps of a chain share its seed.
 * After the last chain comes the reduce task when the spec has one: step = nsteps,
 * chain -1, params {}, repetition 0, the study's seed for {} and rep 0, and a key over
 * {"reduce": <its run>, "tasks": <SHA-256 hex of every other key in order>} (plus
 * "shell": true for a shell command, as for a step), so it changes when any task of
 * the study does. A single-step study's keys are what they
 * were before pipelines existed.
 *
 * The iterator borrows the spec (keep it alive until expand_destroy) and holds only the
 * current point: memory is O(size of the spec), whatever the number of tasks. */
#ifndef SWEEP_CORE_EXPAND_H
#define SWEEP_CORE_EXPAND_H

#include "core/spec.h"

#include <stdbool.h>
#include <stdint.h>

#define EXPAND_KEY_LEN 16

struct expand_task {
    json_t *params;    /* base + point (+ explicit task, without its "priority");
                          borrowed until the next expand_next(), which reuses the same
                          object: json_deep_copy() it to keep it */
    char *params_json; /* canonical JSON of params; borrowed likewise */
    char key[EXPAND_KEY_LEN + 1];
    long long seq;   /* 0, 1, 2 ... in expansion order */
    int repetition;  /* 0 .. repetitions-1 */
    long long seed;  /* the task's seed (see above) */
    int priority;    /* the step's own if set, else the explicit task's, else the
                        spec's */
    int step;        /* index in spec->steps; spec->nsteps for the reduce */
    long long chain; /* the point-and-repetition number; -1 for the reduce */
    int cpus;        /* the step's */
};

struct expand;

struct expand *expand_create(const struct spec *spec);
/* Fills *t with the next task: returns 1, or 0 when done. */
int expand_next(struct expand *ex, struct expand_task *t);
void expand_destroy(struct expand *ex);

/* Number of tasks the spec expands to (before de-duplication of equal keys), in
 * O(number of axes). Saturates at UINT64_MAX when the true number does not fit. */
uint64_t expand_count(const struct spec *spec);
/* The same for the tasks of one priority band (`sweep run --priority`: band is
 * PRIORITY_HIGH, _MEDIUM or _LOW, and any priority counts in the band priority_name()
 * gives it; 0 = every task), in O(steps * explicit tasks). */
uint64_t expand_count_band(const struct spec *spec, int band);

/* The seed of repetition rep of a point whose seed parameter is `given` (see above). */
long long expand_rep_seed(long long given, int rep);
/* Whether `name` is a seed parameter of the spec ("seed" or one of seed_names). */
bool expand_is_seed_name(const struct spec *spec, const char *name);
/* What a task sees: sets every seed parameter that params holds as an integer to
 * `seed` (the task's). Returns whether anything changed. */
bool expand_apply_seed(const struct spec *spec, json_t *params, long long seed);

/* The parameter names of the tasks (base, axes, keys of explicit tasks other than
 * "priority"), sorted and unique; for checking {name} placeholders before anything
 * runs. *n is set to the count; the array also ends with a NULL. Free with free() per
 * name and on the array. */
char **expand_param_names(const struct spec *spec, size_t *n);

#endif
