/* A spec's models checked once for every front end (sweep run, sweep serve, later the
 * MCP server): the model of every step and of the reduce resolved by name or alias, and
 * every parameter the spec writes (parameters, base, explicit tasks) checked against
 * the model of each step by name and value before anything is stored, so that an error
 * names where the value is written; then, through runner_prepare(), each expanded task
 * as `sweep sim` will see it (the alias's preset under it), which finds what only a
 * whole task shows (a parameter given twice, a required one missing).
 *
 * The parameter task_id names a task (spec.h, taskfile.h): it is never checked against
 * a model, and a model never sees it. Errors are SWEEP_EINVAL with the place first:
 *
 *   SPECCHECK_LINES  "FILE:LINE:COL: FIELD: ..." (or "FILE: FIELD: ..." where the spec
 *                    does not know the line): a spec read from a file;
 *   SPECCHECK_FIELDS "FIELD: ...": a spec made from a request's JSON body, whose lines
 *                    are not the ones the client wrote.
 *
 * FIELD is the field as the file writes it: "model", "steps[1].model",
 * "parameters.n_particles", "base.seed", "tasks[3].parameters.T", a task file's
 * "tasks[0].algorithm". An unknown model suggests the nearest name ("did you mean").
 *
 * This module sits in models/ because it needs the models' registry and core's spec
 * (models may include core, never the reverse: tests/lint/check-layers.sh). */
#ifndef SWEEP_MODELS_SPECCHECK_H
#define SWEEP_MODELS_SPECCHECK_H

#include "common/err.h"

#include <jansson.h>

struct spec;
struct spec_step;
struct speccheck;

/* How an error names its place (see above). */
enum speccheck_where {
    SPECCHECK_LINES,
    SPECCHECK_FIELDS,
};

/* Resolves the model of every step of spec, checks the parameters the spec writes
 * (O(values written x steps)), and tells the spec the other names of its models' seed
 * parameter (spec_add_seed_name). On success *out holds the resolved models for
 * speccheck_task(), freed with speccheck_destroy(); on error *out is NULL and the
 * spec's seed names are as they were only if no model resolved before the error. */
int speccheck_create(struct spec *spec,
                     enum speccheck_where where,
                     struct speccheck **out,
                     struct err *err);
/* Accepts NULL. */
void speccheck_destroy(struct speccheck *c);

/* The runner_check_fn of runner_prepare() (core/runner.h), arg being the struct
 * speccheck: one expanded task's parameters (task_id left out) with its step's preset
 * under them, against the step's model; SWEEP_OK for a command step. */
int speccheck_task(const struct spec_step *step,
                   const json_t *params,
                   void *arg,
                   struct err *err);

#endif
