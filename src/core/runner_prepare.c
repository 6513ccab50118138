/* Before a run (see runner.h): where a study and its tasks keep their files, the run
 * lock that keeps two sweep processes from running one study, and runner_prepare(),
 * which checks the commands' placeholders against the expansion and streams the
 * expanded tasks into the store in one transaction (a bad task refuses the whole study
 * and nothing is stored). */
#include "runner.h"

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/xalloc.h"
#include "core/expand.h"
#include "core/tmpl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- paths and lock ---- */

char *runner_study_dir(const char *home, const char *study)
{
    return xasprintf("%s/studies/%s", home, study);
}

char *runner_task_dir(const char *home, const char *study, const char *key)
{
    return xasprintf("%s/studies/%s/tasks/%.2s/%s", home, study, key, key);
}

int runner_lock(const char *home, const char *study, int *fd, struct err *err)
{
    char *dir = runner_study_dir(home, study);
    char *path = xasprintf("%s/run.lock", dir);
    int rc = SWEEP_OK, f = -1;

    if ((rc = fileio_mkdirs(dir, err)) != 0)
        goto out;
    f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        rc = err_set(err, SWEEP_EIO, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    if (flock(f, LOCK_EX | LOCK_NB) < 0) {
        rc = err_set(err, SWEEP_EBUSY,
                     "study %s is being run by another sweep process (lock %s)", study,
                     path);
        close(f);
        goto out;
    }
    *fd = f;
out:
    free(path);
    free(dir);
    return rc;
}

bool runner_is_active(const char *home, const char *study)
{
    char *path = xasprintf("%s/studies/%s/run.lock", home, study);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    bool held = false;

    if (f >= 0) {
        held = flock(f, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
        close(f);
    }
    free(path);
    return held;
}

/* ---- prepare: spec -> store ---- */

/* Every placeholder of every command names a parameter, a built-in or a step before
 * it; the parameters are those the expansion gives (the reduce has none). */
static int check_templates(const struct spec *spec, struct err *err)
{
    size_t n = 0;
    char **names = expand_param_names(spec, &n), **steps = spec_step_names(spec);
    int rc = SWEEP_OK;

    for (size_t j = 0; j <= spec->nsteps && rc == SWEEP_OK; j++) {
        const struct spec_step *step = spec_step_at(spec, (int)j);
        bool reduce = j == spec->nsteps;
        struct tmpl_scope scope = {.step_names = steps, .nsteps = j, .reduce = reduce};

        if (!step || step->kind != SPEC_COMMAND)
            continue;
        for (size_t i = 0; i < step->argc && rc == SWEEP_OK; i++) {
            char field[96];
            int line, col;

            rc = tmpl_check(step->argv[i], names, reduce ? 0 : n, &scope, err);
            if (!rc)
                continue;
            spec_step_prefix(spec, (int)j, field, 64);
            snprintf(field + strlen(field), sizeof(field) - strlen(field),
                     "command[%zu]", i);
            if (spec_where(spec, field, &line, &col) == 0)
                err_prefix(err, "%s:%d:%d: %s", spec->path, line, col, field);
            else
                err_prefix(err, "%s: %s", spec->path, field);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(steps);
    return rc;
}

/* {"steps": [names], "reduce": bool} for a pipeline (status and results show steps),
 * NULL for a single-step study. */
static char *steps_json(const struct spec *spec)
{
    json_t *o, *names;
    char *text;

    if (!spec->has_steps && !spec->reduce)
        return NULL;
    o = json_object();
    names = json_array();
    for (size_t i = 0; i < spec->nsteps; i++)
        json_array_append_new(names, json_string(spec->steps[i].name));
    json_object_set_new(o, "steps", names);
    json_object_set_new(o, "reduce", json_boolean(spec->reduce != NULL));
    text = jsonx_canon_str(o);
    json_decref(o);
    return text;
}

int runner_prepare(struct store *st,
                   const struct spec *spec,
                   runner_check_fn *check,
                   void *check_arg,
                   long long *study_id,
                   long long *generation,
                   uint64_t *ntasks,
                   struct err *err)
{
    struct expand *ex = NULL;
    struct expand_task t;
    char *spec_json = NULL, *steps = steps_json(spec);
    uint64_t n = 0;
    int rc;

    rc = check_templates(spec, err);
    if (rc)
        return rc;
    rc = store_begin(st, err);
    if (rc)
        return rc;
    spec_json = jsonx_canon_str(spec->json);
    rc = store_study_put(st, spec->name, spec->description, spec->path, spec_json,
                         study_id, generation, err);
    if (!rc)
        rc = store_study_set_steps(st, *study_id, steps, err);
    if (rc)
        goto fail;
    ex = expand_create(spec);
    while (expand_next(ex, &t) == 1) {
        if (check) {
            rc = check(spec_step_at(spec, t.step), t.params, check_arg, err);
            if (rc) {
                err_prefix(err, "%s: task %lld (%s)", spec->path, t.seq, t.params_json);
                goto fail;
            }
        }
        rc = store_task_put(st, *study_id, *generation, &t, t.cpus, err);
        if (rc)
            goto fail;
        n++;
    }
    rc = store_commit(st, err);
    if (rc)
        goto fail;
    *ntasks = n;
    expand_destroy(ex);
    free(spec_json);
    free(steps);
    return SWEEP_OK;
fail:
    store_rollback(st);
    expand_destroy(ex);
    free(spec_json);
    free(steps);
    return rc;
}
