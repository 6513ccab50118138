/* What a task sees (see taskview.h): its environment, its argv (a model step runs
 * `sweep sim`, a command step is its template rendered) and the reduce's input. No
 * store, no processes: the inputs are the spec, the task's row and the home. */
#include "core/taskview.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/runner.h"
#include "core/tmpl.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- the environment ---- */

static bool env_name_is(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

static void env_add(struct taskview_env *e, char *s)
{
    e->base = xgrow(e->base, &e->cap, e->nbase + 1, sizeof(char *));
    e->base[e->nbase++] = s;
}

void taskview_env_init(struct taskview_env *e, const struct spec *spec, char **envv)
{
    const json_t *env = spec->env;
    const char *k;
    json_t *v;

    memset(e, 0, sizeof(*e));
    for (char **p = envv; p && *p; p++) {
        bool skip = strncmp(*p, "SWEEP_", 6) == 0 || env_name_is(*p, "PWD");

        if (env) {
            json_object_foreach((json_t *)env, k, v)
            {
                if (env_name_is(*p, k))
                    skip = true;
            }
        }
        if (!skip)
            env_add(e, xstrdup(*p));
    }
    if (env) {
        json_object_foreach((json_t *)env, k, v)
        {
            char *s = jsonx_arg_str(v);
            env_add(e, xasprintf("%s=%s", k, s));
            free(s);
        }
    }
}

void taskview_env_fini(struct taskview_env *e)
{
    for (size_t i = 0; i < e->nbase; i++)
        free(e->base[i]);
    free(e->base);
    memset(e, 0, sizeof(*e));
}

/* SWEEP_P_<NAME>: upper case, anything but letters and digits as '_'. */
static char *env_param(const char *name, const json_t *v)
{
    struct strbuf sb = STRBUF_INIT;
    char *s = jsonx_arg_str(v);

    sb_adds(&sb, "SWEEP_P_");
    for (const char *p = name; *p; p++)
        sb_addc(&sb,
                isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_');
    sb_addc(&sb, '=');
    sb_adds(&sb, s);
    free(s);
    return sb_take(&sb);
}

const char *taskview_cwd(const struct spec *spec, const char *task_dir)
{
    return spec->workdir ? spec->workdir : task_dir;
}

char **taskview_envp(const struct taskview_env *e,
                     const struct spec *spec,
                     const struct taskview_task *t)
{
    size_t n = 0, cap = e->nbase + json_object_size(t->params) + 10;
    char **envp = xmalloc((cap + 1) * sizeof(char *));
    const char *k;
    json_t *v;

    for (size_t i = 0; i < e->nbase; i++)
        envp[n++] = e->base[i];
    envp[n++] = xasprintf("SWEEP_STUDY=%s", spec->name);
    envp[n++] = xasprintf("SWEEP_TASK_ID=%s", t->key);
    envp[n++] = xasprintf("SWEEP_TASK_DIR=%s", t->dir);
    envp[n++] = xasprintf("SWEEP_RESULT=%s", t->result_path);
    envp[n++] = xasprintf("SWEEP_PARAMS=%s", t->params_json);
    envp[n++] = xasprintf("SWEEP_SEED=%lld", t->seed);
    envp[n++] = xasprintf("SWEEP_ATTEMPT=%d", t->attempt);
    envp[n++] = xasprintf("SWEEP_REPETITION=%d", t->repetition);
    if (spec->has_steps || spec->reduce)
        envp[n++] = xasprintf("SWEEP_STEP=%s", spec_step_at(spec, t->step)->name);
    if (!spec->env || !json_object_get(spec->env, "PWD"))
        envp[n++] = xasprintf("PWD=%s", taskview_cwd(spec, t->dir));
    json_object_foreach((json_t *)t->params, k, v) envp[n++] = env_param(k, v);
    envp[n] = NULL;
    return envp;
}

void taskview_envp_free(const struct taskview_env *e, char **envp)
{
    if (!envp)
        return;
    for (char **p = envp + e->nbase; *p; p++)
        free(*p);
    free(envp);
}

void taskview_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* ---- argv ---- */

bool runner_step_uses_steps(const struct spec_step *step)
{
    for (size_t i = 0; step->kind == SPEC_COMMAND && i < step->argc; i++) {
        if (strstr(step->argv[i], "{steps."))
            return true;
    }
    return false;
}

/* A model's --params: the task's parameters without task_id, which names the task
 * (spec.h) and is no parameter of any model. */
static char *model_params_json(const struct runner_argv_in *in)
{
    json_t *params;
    char *text;

    if (!json_object_get(in->params, "task_id"))
        return xstrdup(in->params_json);
    params = json_deep_copy(in->params);
    json_object_del(params, "task_id");
    text = jsonx_canon_str(params);
    json_decref(params);
    return text;
}

int runner_task_argv(const struct spec *spec,
                     const char *self_path,
                     const struct runner_argv_in *in,
                     char ***out,
                     struct err *err)
{
    const struct spec_step *step = spec_step_at(spec, in->step);
    char **names = NULL;
    struct tmpl_ctx ctx = {.params = in->params,
                           .task_dir = in->task_dir,
                           .spec_dir = spec->dir,
                           .study = spec->name,
                           .key = in->key,
                           .seed = in->seed,
                           .repetition = in->repetition,
                           .reduce_input = in->reduce_input};
    char **argv = NULL;
    size_t n = 0;
    int rc = SWEEP_OK;

    if (step->kind == SPEC_MODEL) {
        argv = xcalloc(6, sizeof(char *));
        argv[n++] = xstrdup(self_path);
        argv[n++] = xstrdup("sim");
        argv[n++] = xstrdup(step->model);
        argv[n++] = xstrdup("--params");
        argv[n++] = model_params_json(in);
        goto out;
    }
    if (in->step_dirs && in->step > 0 && in->step < (int)spec->nsteps) {
        ctx.step_names = names = spec_step_names(spec);
        ctx.step_dirs = in->step_dirs;
        ctx.nsteps = (size_t)in->step;
    }
    argv = xcalloc(step->argc + 3, sizeof(char *));
    if (step->shell) {
        argv[n++] = xstrdup("/bin/sh");
        argv[n++] = xstrdup("-c");
    }
    for (size_t i = 0; i < step->argc; i++) {
        rc = tmpl_render(step->argv[i], &ctx, step->shell, &argv[n], err);
        if (rc)
            goto fail;
        n++;
    }
    /* A relative program path means the spec's directory, not the task's. */
    if (!step->shell && strchr(argv[0], '/') && argv[0][0] != '/') {
        char *abs = xasprintf("%s/%s", spec->dir, argv[0]);
        free(argv[0]);
        argv[0] = abs;
    }
    goto out;
fail:
    taskview_strv_free(argv);
    argv = NULL;
out:
    *out = argv;
    free(names);
    return rc;
}

/* ---- the reduce's input ---- */

void taskview_reduce_init(struct taskview_reduce *in,
                          const struct spec *spec,
                          const char *home)
{
    in->spec = spec;
    in->home = home;
    in->points = json_array();
    in->point = NULL;
}

void taskview_reduce_add(struct taskview_reduce *in, const struct store_task *t)
{
    json_t *step, *metrics;
    char *dir;

    if (t->chain < 0)
        return;
    step = json_object();
    if (t->step == 0 || !in->point) {
        in->point = json_object();
        json_object_set_new(in->point, "chain", json_integer(t->chain));
        json_object_set_new(in->point, "repetition", json_integer(t->repetition));
        json_object_set_new(in->point, "seed", json_integer(t->seed));
        json_object_set_new(in->point, "params", json_loads(t->params_json, 0, NULL));
        json_object_set_new(in->point, "steps", json_object());
        json_array_append_new(in->points, in->point);
    }
    metrics = t->metrics_json ? json_loads(t->metrics_json, 0, NULL) : NULL;
    json_object_set_new(step, "key", json_string(t->key));
    json_object_set_new(step, "state", json_string(task_state_name(t->state)));
    dir = runner_task_dir(in->home, in->spec->name, t->key);
    json_object_set_new(step, "dir", json_string(dir));
    free(dir);
    json_object_set_new(step, "error", t->error ? json_string(t->error) : json_null());
    json_object_set_new(step, "metrics", metrics ? metrics : json_null());
    json_object_set_new(json_object_get(in->point, "steps"),
                        in->spec->steps[t->step].name, step);
}

char *taskview_reduce_take(struct taskview_reduce *in)
{
    json_t *o = json_object(), *names = json_array();
    char *text;

    for (size_t i = 0; i < in->spec->nsteps; i++)
        json_array_append_new(names, json_string(in->spec->steps[i].name));
    json_object_set_new(o, "study", json_string(in->spec->name));
    json_object_set_new(o, "steps", names);
    json_object_set_new(o, "points", in->points);
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    in->points = in->point = NULL;
    return text;
}
