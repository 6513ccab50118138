/* The built-in simulation models and their registry. A model is one table row: a name,
 * its parameter schema (name, type, default, range, unit, aliases) and metrics, and a
 * run function. The schema feeds `sweep models`, `sweep sim` validation, --help, and
 * through schema.h the OpenAPI document and the MCP tool schemas, so nothing about a
 * parameter is written twice. Adding a model is one file (exporting `const struct model
 * model_<name>`) plus one row in registry.c. Models never print, never exit and never
 * read the environment: a run is a pure function of its parameters (randomness only
 * from the `seed` parameter, see rng.h) and the attempt number. */
#ifndef SWEEP_MODELS_MODEL_H
#define SWEEP_MODELS_MODEL_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum model_type {
    MODEL_INT = 1,   /* JSON integer (an integral real such as 3.0 is accepted) */
    MODEL_REAL,      /* JSON number, stored as a real */
    MODEL_BOOL,      /* true or false */
    MODEL_STRING,    /* any string */
    MODEL_ENUM,      /* one of `choices` */
    MODEL_INT_LIST,  /* array of integers; min/max bound each element */
    MODEL_REAL_LIST, /* array of numbers; min/max bound each element */
};

/* One end of a range. `set` false: unbounded on that side. */
struct model_bound {
    bool set;
    bool exclusive;
    double value;
};

#define MODEL_INCL(v)                                                                  \
    {                                                                                  \
        .set = true, .exclusive = false, .value = (v)                                  \
    }
#define MODEL_EXCL(v)                                                                  \
    {                                                                                  \
        .set = true, .exclusive = true, .value = (v)                                   \
    }
#define MODEL_COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct model_param {
    const char *name;
    enum model_type type;
    const char *def; /* default as JSON text ("0", "0.5", "true", "\"d2q9\"", "[64,
                        64]"); NULL: the parameter is required */
    struct model_bound min, max; /* numbers and list elements */
    size_t min_items, max_items; /* lists; 0: no limit */
    const char *const *choices;  /* MODEL_ENUM: NULL-terminated */
    /* MODEL_ENUM: other accepted values, as NULL-terminated pairs {"alias", "choice",
     * ...}; an alias is stored as its choice, so the model only sees choices. */
    const char *const *choice_aliases;
    const char *const *aliases; /* other accepted names, NULL-terminated, or NULL */
    const char *unit;           /* "s", "m/s", ... or NULL */
    const char *desc;           /* one line */
};

struct model_metric {
    const char *name;
    const char *unit; /* or NULL */
    const char *desc;
};

/* What a run gets: the typed parameter object from model_params_check (every parameter
 * under its canonical name, defaults filled in), the attempt number (1 for the first
 * run of a task; 1 also when not run by sweep), and the directory where the model may
 * write files of its own (time series, profiles, images): the task directory under
 * sweep, `--outdir` or "." by hand. Read the values with model_arg_*. */
struct model_args {
    const struct model *model;
    const json_t *params;
    int attempt;
    const char *outdir;
};

/* Runs the model and adds its metrics to the `metrics` object. Returns 0 on success, or
 * the exit status (1..255) that `sweep sim` exits with, with `err` saying why. */
typedef int
model_run_fn(const struct model_args *args, json_t *metrics, struct err *err);

/* The rules a row cannot state: a square grid, the memory a run would need (max grid
 * points, particles, lattice sites), a step within the scheme's stability limit. Called
 * by model_params_check on the typed parameters (args->params; attempt 1, outdir "."),
 * so `sweep sim`, `sweep run` and the package reader refuse such values before anything
 * runs. Returns 0, or SWEEP_EINVAL with err naming the model, the parameter, the value
 * and the limit. Computes nothing big and allocates nothing big. */
typedef int model_check_fn(const struct model_args *args, struct err *err);

struct model {
    const char *name;
    const char *summary;     /* one line for `sweep models` */
    const char *description; /* a paragraph */
    const char *example;     /* arguments after `sweep sim NAME`, e.g. "--set x=2" */
    const struct model_param *params;
    size_t nparams;
    const struct model_metric *metrics;
    size_t nmetrics;
    model_run_fn *run;
    model_check_fn *check; /* or NULL */
};

/* Another name for a model with some parameters preset: the task types that existing
 * task files use ("benchmark" is particles with algorithm naive). The preset sits under
 * the user's parameters: a value the user gives wins (see model_preset_merge). */
struct model_alias {
    const char *name;
    const char *model;  /* a registered model's name */
    const char *preset; /* JSON object text of parameters, under canonical names */
};

/* The registry. Models are listed in registry order. Rows are static: never freed. */
const struct model *model_find(const char *name);
size_t model_count(void);
const struct model *model_at(size_t i);
size_t model_alias_count(void);
const struct model_alias *model_alias_at(size_t i);

/* The model called `name`, or the model that the alias `name` stands for; NULL when
 * neither. A name in capitals stands for the same name in lower case ("DLA",
 * "BENCHMARK": the algorithms of task-queue files); other mixed cases are unknown.
 * If preset is not NULL it gets the alias's preset parameters (a new object the
 * caller owns), or NULL for a model's own name. */
const struct model *model_resolve(const char *name, json_t **preset);
/* The message for a name that model_resolve does not know, into buf: `unknown model
 * "navier_stokes" (did you mean "navier-stokes"?)` with the nearest model or alias
 * name (common/suggest.h), or without the parenthesis when none is near. */
void model_unknown_msg(const char *name, char *buf, size_t n);
/* Adds to params each preset parameter that params does not already set, under its
 * canonical name or an alias, so the user's values override the preset. Does nothing
 * when preset is NULL or params is not an object (model_params_check reports that). */
void model_preset_merge(const struct model *m, json_t *params, const json_t *preset);

/* The parameter called `name` or having `name` as an alias, or NULL. */
const struct model_param *model_param_find(const struct model *m, const char *name);

/* The model a study's spec (as JSON text) names in its "model" field, or NULL: a
 * command study, or a spec that does not parse (label.c). */
const struct model *model_of_spec(const char *spec_json);
/* An axis label "name: description (unit)" from m's row of the parameter (is_param)
 * or metric `name`: the description's first clause (up to ";", ", " or " ("), left
 * out when the label would be longer than 56 characters; the unit when it has one;
 * just the name when m is NULL or does not know it. New string. */
char *model_axis_label(const struct model *m, const char *name, bool is_param);

/* Checks a parameter object against the model's schema. On success, returns 0 and, if
 * typed_out is not NULL, sets it to a new object (the caller owns it) with every
 * parameter under its canonical name, typed (reals as reals) and with defaults filled.
 * The model's own check (model.check) runs last, on the typed parameters.
 * On failure returns SWEEP_EINVAL, touches nothing, and err names the model, the
 * parameter, what was expected and the value given:
 *   chaos: fail_rate: expected a number in [0, 1], got 1.5
 *   chaos: unknown parameter "fail" (did you mean "fail_rate"?); known parameters:
 *   duration, cpu, ...
 * The nearest name is suggested among the parameters' names and aliases. */
int model_params_check(const struct model *m,
                       const json_t *params,
                       json_t **typed_out,
                       struct err *err);

/* Checks one parameter as model_params_check does, alone: its name (unknown, with the
 * nearest known one) and its value's type and range. Returns 0 or SWEEP_EINVAL with
 * err as there. For checks that know where the name was written (sweep run). */
int model_param_check(const struct model *m,
                      const char *name,
                      const json_t *value,
                      struct err *err);

/* "int", "real", "bool", "string", "enum", "int_list", "real_list". */
const char *model_type_name(enum model_type t);
/* The range as text: "[0, 1]", "(0, 1]", ">= 0", "< 10", or "" when unbounded; lists
 * add their length ("[8, 1024], 2 to 3 items"). */
void model_param_range(const struct model_param *p, char *buf, size_t n);
/* The default as a typed JSON value (new reference), or NULL for a required parameter.
 */
json_t *model_param_default(const struct model_param *p);
/* The row as JSON (its description, its parameters' JSON Schema): see schema.h. */

/* Typed parameter values. Asking for a parameter the row does not have, or with another
 * type, is a bug in the model: it aborts with a message. Strings and lists are borrowed
 * for as long as args->params lives. */
int64_t model_arg_int(const struct model_args *a, const char *name);
double model_arg_real(const struct model_args *a, const char *name);
bool model_arg_bool(const struct model_args *a, const char *name);
const char *model_arg_str(const struct model_args *a,
                          const char *name); /* string, enum */
const json_t *model_arg_list(const struct model_args *a, const char *name);

#endif
