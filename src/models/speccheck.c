/* A spec's models checked once for every front end: resolve each step's model, check
 * the parameters the spec writes with their place in the file, then each expanded task
 * through runner_prepare(). See speccheck.h. */
#include "models/speccheck.h"

#include "common/xalloc.h"
#include "core/spec.h"
#include "models/model.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The model of each step (and of the reduce, last) and, for an alias (model:
 * benchmark), its preset parameters; NULL for a command step. */
struct speccheck {
    size_t n;
    const struct spec_step **step;
    const struct model **model;
    json_t **preset;
};

void speccheck_destroy(struct speccheck *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->preset[i]);
    free(c->step);
    free(c->model);
    free(c->preset);
    free(c);
}

/* Puts the place of field in front of err's message: "FILE:LINE:COL: FIELD: " (line 0:
 * "FILE: FIELD: ") or, for SPECCHECK_FIELDS, "FIELD: ". */
static int at(const struct spec *spec,
              enum speccheck_where where,
              const char *field,
              int line,
              int col,
              struct err *err)
{
    if (where == SPECCHECK_FIELDS)
        err_prefix(err, "%s", field);
    else if (line > 0)
        err_prefix(err, "%s:%d:%d: %s", spec->path, line, col, field);
    else
        err_prefix(err, "%s: %s", spec->path, field);
    return SWEEP_EINVAL;
}

/* Every parameter the spec writes (parameters, base, tasks; not task_id, and not a
 * task's priority) against model m, name and value. */
static int check_written(const struct spec *spec,
                         const struct model *m,
                         enum speccheck_where where,
                         struct err *err)
{
    const char *key = NULL;
    json_t *v, *task;
    size_t i = 0;
    char field[256];
    int line, col;

    for (size_t d = 0; d < spec->ndims; d++) {
        const struct spec_dim *dim = &spec->dims[d];
        for (size_t r = 0; r < dim->nrows; r++)
            for (size_t k = 0; k < dim->nnames; k++) {
                key = dim->names[k];
                if (strcmp(key, "task_id") != 0 &&
                    model_param_check(m, key, dim->values[r * dim->nnames + k], err))
                    goto bad;
            }
    }
    json_object_foreach(spec->base, key, v)
    {
        if (strcmp(key, "task_id") != 0 && model_param_check(m, key, v, err))
            goto bad;
    }
    json_array_foreach(spec->tasks, i, task)
    {
        json_object_foreach(task, key, v)
        {
            if (strcmp(key, "priority") != 0 && strcmp(key, "task_id") != 0 &&
                model_param_check(m, key, v, err))
                goto bad_task;
        }
    }
    return SWEEP_OK;
bad:
    spec_param_where(spec, key, field, sizeof(field), &line, &col);
    return at(spec, where, *field ? field : "parameters", line, col, err);
bad_task:
    spec_task_param_where(spec, i, key, field, sizeof(field), &line, &col);
    return at(spec, where, *field ? field : "parameters", line, col, err);
}

/* An unknown model's name: the message with the nearest name, at the step's field. */
static int unknown_model(const struct spec *spec,
                         enum speccheck_where where,
                         size_t i,
                         const char *name,
                         struct err *err)
{
    char field[80], msg[512];
    int line, col;

    spec_step_prefix(spec, (int)i, field, sizeof(field) - 8);
    strcat(field, "model");
    spec_where(spec, field, &line, &col);
    model_unknown_msg(name, msg, sizeof(msg));
    err_set(err, SWEEP_EINVAL, "%s; see 'sweep models'", msg);
    return at(spec, where, spec_where_label(spec, field), line, col, err);
}

/* Tells the spec the other names of m's seed parameter. */
static void seed_names(struct spec *spec, const struct model *m)
{
    const struct model_param *p = m ? model_param_find(m, "seed") : NULL;

    if (!p)
        return;
    spec_add_seed_name(spec, p->name);
    for (const char *const *a = p->aliases; a && *a; a++)
        spec_add_seed_name(spec, *a);
}

int speccheck_create(struct spec *spec,
                     enum speccheck_where where,
                     struct speccheck **out,
                     struct err *err)
{
    struct speccheck *c = xcalloc(1, sizeof(*c));
    int rc = SWEEP_OK;

    c->n = spec->nsteps + 1;
    c->step = xcalloc(c->n, sizeof(*c->step));
    c->model = xcalloc(c->n, sizeof(*c->model));
    c->preset = xcalloc(c->n, sizeof(*c->preset));
    for (size_t i = 0; i < c->n && !rc; i++) {
        const struct spec_step *step =
            i < spec->nsteps ? &spec->steps[i] : spec->reduce;

        c->step[i] = step;
        if (!step || step->kind != SPEC_MODEL)
            continue;
        c->model[i] = model_resolve(step->model, &c->preset[i]);
        if (!c->model[i])
            rc = unknown_model(spec, where, i, step->model, err);
        else if (i < spec->nsteps)
            rc = check_written(spec, c->model[i], where, err);
    }
    if (rc) {
        speccheck_destroy(c);
        *out = NULL;
        return rc;
    }
    for (size_t i = 0; i < c->n; i++)
        seed_names(spec, c->model[i]);
    *out = c;
    return SWEEP_OK;
}

int speccheck_task(const struct spec_step *step,
                   const json_t *params,
                   void *arg,
                   struct err *err)
{
    const struct speccheck *c = arg;
    size_t i = 0;
    json_t *merged;
    int rc;

    while (i + 1 < c->n && step != c->step[i])
        i++;
    if (!c->model[i])
        return SWEEP_OK;
    merged = json_deep_copy(params);
    json_object_del(merged, "task_id"); /* names the task; the model never sees it */
    model_preset_merge(c->model[i], merged, c->preset[i]);
    rc = model_params_check(c->model[i], merged, NULL, err);
    json_decref(merged);
    return rc;
}
