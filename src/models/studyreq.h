/* A study asked for in a request's JSON rather than written as a spec file: the shapes
 * that the REST API (POST /studies) and the MCP tools (run_parametric_study,
 * run_grid_study) take, turned into a study spec and checked as `sweep run` checks a
 * file, once for every front end.
 *
 * Shapes (members other than these are refused, naming the member):
 *
 *   parametric {"algorithm", "variable_parameter", "values": [v, ...],
 *              ["base_parameters": {}], ["repetitions"], ["priority"], ["study"],
 *              ["description"]}: one parameter takes each value;
 *   grid       {"algorithm", "parameters": {"name": [v, ...], ...},
 *              ["base_parameters"], ["repetitions"], ["priority"], ["study"],
 *              ["description"]}: every combination of the values (cartesian
 *              product, the first parameter varying slowest).
 *
 * "algorithm" is a model or alias of the registry (model.h); its upper-case form
 * (DLA, CCA, BALLISTIC, EDEN) is accepted and stored as the registry's name. Errors
 * are SWEEP_EINVAL naming the member first and saying what is allowed: the models for
 * an unknown algorithm, the model's parameters for an unknown one, the parameter's
 * type and range (from its row) for a bad value, the limits for too few or too many
 * values or repetitions ("values: expected 2 to 100 values, got 1"), a value given
 * twice ("values[2]: 100 is given twice (values[0] too)"). A study without
 * "study" gets a new name: ALGORITHM-YYYYmmdd-HHMMSS-PID-N. */
#ifndef SWEEP_MODELS_STUDYREQ_H
#define SWEEP_MODELS_STUDYREQ_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct spec;

/* A larger study is refused, as `sweep run` refuses one above --max-tasks. */
#define STUDYREQ_MAX_TASKS 100000000ULL

/* What a front end allows beyond the spec's own rules; 0: no limit of its own. */
struct studyreq_limits {
    size_t min_values, max_values; /* values of a parametric study, of each grid list */
    long long min_reps, max_reps;  /* repetitions */
    uint64_t max_tasks;            /* tasks of the study; 0: STUDYREQ_MAX_TASKS */
};

/* The parametric shape as a spec (new reference), or NULL with err set. */
json_t *studyreq_parametric(const json_t *in,
                            const struct studyreq_limits *lim,
                            struct err *err);
/* The grid shape as a spec (new reference), or NULL with err set. */
json_t *
studyreq_grid(const json_t *in, const struct studyreq_limits *lim, struct err *err);

/* Checks a spec object (borrowed) as `sweep run` checks a file: its fields, its
 * models' parameters (errors name the field: models/speccheck.h SPECCHECK_FIELDS) and
 * its size (lim->max_tasks; lim may be NULL). On success *spec_text (the spec as
 * JSON) and *name are new strings and *ntasks (may be NULL) its number of tasks; on
 * failure both are NULL, and *forbidden says that the spec runs a command where
 * !allow_commands. */
int studyreq_check(json_t *spec,
                   bool allow_commands,
                   const struct studyreq_limits *lim,
                   char **spec_text,
                   char **name,
                   bool *forbidden,
                   uint64_t *ntasks,
                   struct err *err);

/* Whether a step of spec (or its reduce) runs a command rather than a model. */
/* Refuses a member of object in that is not in known (NULL-terminated): SWEEP_EINVAL
 * "unknown field "x" in WHAT (its fields: a, b)". */
int studyreq_check_members(const json_t *in,
                           const char *const *known,
                           const char *what,
                           struct err *err);
bool studyreq_runs_commands(const struct spec *spec);

/* A new study name PREFIX-YYYYmmdd-HHMMSS-PID-N: the prefix lower-cased and kept to
 * [a-z0-9_-] ("study" when nothing is left), N counting the names this process made.
 * New string. */
char *studyreq_new_name(const char *prefix);

#endif
