/* A spec's models checked as `sweep run` checks them (src/cli/cmd_run.c:
 * resolve_models, check_spec_params, check_model_params), for the service: every step's
 * model resolved, the parameters the spec writes checked by name and value, then each
 * task by runner_prepare(). The CLI keeps its own copy, which also reports line and
 * column; the two should move into one module shared by the front ends. */
#include "server/service.h"

#include "common/xalloc.h"
#include "models/model.h"

#include <stdlib.h>
#include <string.h>

struct svc_models {
    size_t n;
    const struct spec_step **step;
    const struct model **model;
    json_t **preset;
};

void svc_models_destroy(struct svc_models *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        json_decref(m->preset[i]);
    free(m->step);
    free(m->model);
    free(m->preset);
    free(m);
}

static void seed_names(struct spec *spec, const struct model *m)
{
    const struct model_param *p = model_param_find(m, "seed");

    if (!p)
        return;
    spec_add_seed_name(spec, p->name);
    for (const char *const *a = p->aliases; a && *a; a++)
        spec_add_seed_name(spec, *a);
}

/* The parameters the spec writes (dimensions, base, tasks) against model m. */
static int
check_written(const struct spec *spec, const struct model *m, struct err *err)
{
    const char *key;
    json_t *v, *task;
    size_t i;

    for (size_t d = 0; d < spec->ndims; d++) {
        const struct spec_dim *dim = &spec->dims[d];
        for (size_t r = 0; r < dim->nrows; r++)
            for (size_t k = 0; k < dim->nnames; k++)
                if (model_param_check(m, dim->names[k],
                                      dim->values[r * dim->nnames + k], err))
                    return SWEEP_EINVAL;
    }
    json_object_foreach(spec->base, key, v)
    {
        if (model_param_check(m, key, v, err))
            return SWEEP_EINVAL;
    }
    json_array_foreach(spec->tasks, i, task)
    {
        json_object_foreach(task, key, v)
        {
            if (strcmp(key, "priority") != 0 && strcmp(key, "task_id") != 0 &&
                model_param_check(m, key, v, err))
                return SWEEP_EINVAL;
        }
    }
    return SWEEP_OK;
}

int svc_models_check(struct spec *spec, struct svc_models **out, struct err *err)
{
    struct svc_models *m = xcalloc(1, sizeof(*m));
    int rc = SWEEP_OK;

    m->n = spec->nsteps + 1;
    m->step = xcalloc(m->n, sizeof(*m->step));
    m->model = xcalloc(m->n, sizeof(*m->model));
    m->preset = xcalloc(m->n, sizeof(*m->preset));
    for (size_t i = 0; i < m->n && !rc; i++) {
        const struct spec_step *step =
            i < spec->nsteps ? &spec->steps[i] : spec->reduce;

        m->step[i] = step;
        if (!step || step->kind != SPEC_MODEL)
            continue;
        m->model[i] = model_resolve(step->model, &m->preset[i]);
        if (!m->model[i]) {
            char msg[512];
            model_unknown_msg(step->model, msg, sizeof(msg));
            rc = err_set(err, SWEEP_EINVAL, "model: %s", msg);
            break;
        }
        seed_names(spec, m->model[i]);
        if (i < spec->nsteps && check_written(spec, m->model[i], err))
            rc = SWEEP_EINVAL;
    }
    if (rc) {
        svc_models_destroy(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

int svc_models_check_task(const struct spec_step *step,
                          const json_t *params,
                          void *arg,
                          struct err *err)
{
    const struct svc_models *m = arg;
    size_t i = 0;
    json_t *merged;
    int rc;

    while (i + 1 < m->n && step != m->step[i])
        i++;
    if (!m->model[i])
        return SWEEP_OK;
    merged = json_deep_copy(params);
    json_object_del(merged, "task_id"); /* names the task; the model never sees it */
    model_preset_merge(m->model[i], merged, m->preset[i]);
    rc = model_params_check(m->model[i], merged, NULL, err);
    json_decref(merged);
    return rc;
}
