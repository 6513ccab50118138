/* Studies asked for in a request's JSON (studyreq.h): the parametric and grid shapes
 * made into a spec, and a spec checked as `sweep run` checks a file. The shapes'
 * members are checked here against the model's row first, so that an error names the
 * member the client wrote ("values[3]", "base_parameters.seed"); the spec made of them
 * is then checked again as any spec is (core/spec.c, models/speccheck.c). */
#include "models/studyreq.h"

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/expand.h"
#include "core/spec.h"
#include "models/model.h"
#include "models/speccheck.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STUDYREQ_DUP_CHECK 10000 /* longest list checked for a value given twice */

static atomic_uint name_seq;

char *studyreq_new_name(const char *prefix)
{
    char ts[32], clean[40];
    time_t now = time(NULL);
    struct tm tm;
    size_t n = 0;

    for (const char *p = prefix; *p && n < sizeof(clean) - 1; p++) {
        char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
            clean[n++] = c;
        else if (c >= 'A' && c <= 'Z')
            clean[n++] = (char)(c - 'A' + 'a');
    }
    clean[n] = '\0';
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
    return xasprintf("%s-%s-%d-%u", n ? clean : "study", ts, (int)getpid(),
                     atomic_fetch_add(&name_seq, 1) + 1);
}

int studyreq_check_members(const json_t *in,
                           const char *const *known,
                           const char *what,
                           struct err *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)in, key, v)
    {
        const char *const *k = known;
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (!*k) {
            struct strbuf sb = STRBUF_INIT;
            for (k = known; *k; k++)
                sb_addf(&sb, "%s%s", k == known ? "" : ", ", *k);
            err_set(err, SWEEP_EINVAL, "unknown field \"%s\" in %s (its fields: %s)",
                    key, what, sb.len ? sb_str(&sb) : "none");
            sb_fini(&sb);
            return SWEEP_EINVAL;
        }
    }
    return SWEEP_OK;
}

/* The names "algorithm" accepts, for an error: the models, their aliases, and the
 * models' upper-case names. */
static void model_names(struct strbuf *sb)
{
    for (size_t i = 0; i < model_count(); i++)
        sb_addf(sb, "%s%s", i ? ", " : "", model_at(i)->name);
    for (size_t i = 0; i < model_alias_count(); i++)
        sb_addf(sb, ", %s", model_alias_at(i)->name);
    sb_addf(sb, " (or in capitals: DLA, CCA, ...)");
}

/* The model of "algorithm" into *m and the name to store into *name (the registry's:
 * an upper-case name lower-cased; new string). */
static int resolve_algorithm(const json_t *alg,
                             const struct model **m,
                             char **name,
                             struct err *err)
{
    struct strbuf sb = STRBUF_INIT;
    const char *s = json_string_value(alg);
    char unknown[512];
    bool upper = true;

    if (s && (*m = model_resolve(s, NULL)) != NULL) {
        for (const char *p = s; *p; p++)
            upper = upper && !islower((unsigned char)*p);
        *name = xstrdup(s);
        for (char *p = *name; upper && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        return SWEEP_OK;
    }
    model_names(&sb);
    if (s) {
        model_unknown_msg(s, unknown, sizeof(unknown));
        err_set(err, SWEEP_EINVAL, "algorithm: %s; the models: %s", unknown,
                sb_str(&sb));
    } else {
        err_set(err, SWEEP_EINVAL, "algorithm: expected the name of a model: %s",
                sb_str(&sb));
    }
    sb_fini(&sb);
    return SWEEP_EINVAL;
}

/* A parameter the model has (task_id names a task and is no model's). */
static int check_param_name(const struct model *m,
                            const char *name,
                            const char *field,
                            struct err *err)
{
    if (strcmp(name, "task_id") == 0 || model_param_find(m, name))
        return SWEEP_OK;
    model_param_check(m, name, json_null(), err); /* names the known parameters */
    err_prefix(err, "%s", field);
    return SWEEP_EINVAL;
}

/* One value of parameter name, as the model's row allows it. */
static int check_value(const struct model *m,
                       const char *name,
                       const json_t *v,
                       const char *field,
                       struct err *err)
{
    if (strcmp(name, "task_id") == 0 || !model_param_check(m, name, v, err))
        return SWEEP_OK;
    err_prefix(err, "%s", field);
    return SWEEP_EINVAL;
}

/* A list of values of parameter name in the limits (max 0: any length). */
static int check_values(const struct model *m,
                        const char *name,
                        const json_t *values,
                        const char *field,
                        size_t min,
                        size_t max,
                        struct err *err)
{
    size_t n = json_array_size(values), i;
    json_t *v;
    char f[300];

    if (!json_is_array(values) || n < min || (max && n > max)) {
        if (max)
            return err_set(err, SWEEP_EINVAL,
                           "%s: expected a list of %zu to %zu values of %s, got %s%zu",
                           field, min, max, name,
                           json_is_array(values) ? "" : "no list, ", n);
        return err_set(err, SWEEP_EINVAL,
                       "%s: expected a non-empty list of values of %s", field, name);
    }
    json_array_foreach(values, i, v)
    {
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        if (check_value(m, name, v, f, err))
            return SWEEP_EINVAL;
        /* A value given twice would be one task counted twice. O(n^2): checked for
         * lists of up to STUDYREQ_DUP_CHECK values. */
        for (size_t j = 0; j < i && n <= STUDYREQ_DUP_CHECK; j++) {
            const json_t *w = json_array_get(values, j);
            if ((json_is_number(v) && json_is_number(w) &&
                 json_number_value(v) == json_number_value(w)) ||
                json_equal(v, w)) {
                char *text = json_dumps(v, JSON_ENCODE_ANY);
                err_set(err, SWEEP_EINVAL, "%s: %s is given twice (%s[%zu] too)", f,
                        text ? text : "the value", field, j);
                free(text);
                return SWEEP_EINVAL;
            }
        }
    }
    return SWEEP_OK;
}

/* The members both shapes share: base_parameters, repetitions, priority, study,
 * description. Every parameter of vars (an object, or NULL) must be the model's and
 * not in base_parameters. */
static int check_common(const json_t *in,
                        const struct model *m,
                        const struct studyreq_limits *lim,
                        struct err *err)
{
    const json_t *base = json_object_get(in, "base_parameters");
    const json_t *reps = json_object_get(in, "repetitions");
    const json_t *prio = json_object_get(in, "priority");
    const json_t *study = json_object_get(in, "study");
    const json_t *desc = json_object_get(in, "description");
    const char *key;
    json_t *v;
    char f[300];
    int p;

    if (base && !json_is_object(base))
        return err_set(err, SWEEP_EINVAL,
                       "base_parameters: expected an object of %s's parameters",
                       m->name);
    json_object_foreach((json_t *)base, key, v)
    {
        snprintf(f, sizeof(f), "base_parameters.%s", key);
        if (check_value(m, key, v, f, err))
            return SWEEP_EINVAL;
    }
    if (reps && !json_is_integer(reps))
        return err_set(err, SWEEP_EINVAL, "repetitions: expected an integer");
    if (reps && lim && lim->max_reps &&
        (json_integer_value(reps) < lim->min_reps ||
         json_integer_value(reps) > lim->max_reps))
        return err_set(err, SWEEP_EINVAL,
                       "repetitions: expected %lld to %lld, got %lld", lim->min_reps,
                       lim->max_reps, (long long)json_integer_value(reps));
    if (prio && !json_is_integer(prio) &&
        (!json_is_string(prio) || priority_parse(json_string_value(prio), &p) < 0))
        return err_set(err, SWEEP_EINVAL,
                       "priority: expected HIGH, MEDIUM, LOW or an integer");
    if ((study && !json_is_string(study)) || (desc && !json_is_string(desc)))
        return err_set(err, SWEEP_EINVAL, "%s: expected a string",
                       study && !json_is_string(study) ? "study" : "description");
    return SWEEP_OK;
}

/* The spec of a request: {"study", "model", "parameters", then base, repetitions,
 * description and priority when given}. */
static json_t *make_spec(const json_t *in, const char *model, json_t *params)
{
    const json_t *study = json_object_get(in, "study");
    static const char *const copied[][2] = {{"base_parameters", "base"},
                                            {"repetitions", "repetitions"},
                                            {"description", "description"},
                                            {"priority", "priority"}};
    char *name = study ? xstrdup(json_string_value(study)) : studyreq_new_name(model);
    json_t *spec = json_pack("{s:s, s:s, s:o}", "study", name, "model", model,
                             "parameters", params);
    const json_t *v;

    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        if ((v = json_object_get(in, copied[i][0])))
            json_object_set(spec, copied[i][1], (json_t *)v);
    free(name);
    return spec;
}

json_t *studyreq_parametric(const json_t *in,
                            const struct studyreq_limits *lim,
                            struct err *err)
{
    static const char *const known[] = {
        "algorithm",       "variable_parameter", "values",
        "base_parameters", "repetitions",        "study",
        "description",     "priority",           NULL};
    const json_t *var = json_object_get(in, "variable_parameter");
    const json_t *values = json_object_get(in, "values");
    const json_t *base = json_object_get(in, "base_parameters");
    const struct model *m;
    const char *vname;
    char *model = NULL;
    json_t *spec = NULL;

    if (studyreq_check_members(in, known, "a parametric study", err))
        return NULL;
    if (!json_object_get(in, "algorithm") || !json_is_string(var) || !values) {
        err_set(err, SWEEP_EINVAL,
                "a parametric study needs \"algorithm\" (a model), "
                "\"variable_parameter\" (a name) and \"values\" (a non-empty list)");
        return NULL;
    }
    if (resolve_algorithm(json_object_get(in, "algorithm"), &m, &model, err))
        return NULL;
    vname = json_string_value(var);
    if (check_param_name(m, vname, "variable_parameter", err) ||
        check_values(m, vname, values, "values",
                     lim && lim->min_values ? lim->min_values : 1,
                     lim ? lim->max_values : 0, err) ||
        check_common(in, m, lim, err))
        goto out;
    if (json_object_get(base, vname)) {
        err_set(err, SWEEP_EINVAL,
                "base_parameters.%s: \"%s\" is both the variable and a base parameter",
                vname, vname);
        goto out;
    }
    spec = make_spec(in, model, json_pack("{s:O}", vname, values));
out:
    free(model);
    return spec;
}

json_t *
studyreq_grid(const json_t *in, const struct studyreq_limits *lim, struct err *err)
{
    static const char *const known[] = {"algorithm",   "parameters", "base_parameters",
                                        "repetitions", "study",      "description",
                                        "priority",    NULL};
    const json_t *params = json_object_get(in, "parameters");
    const json_t *base = json_object_get(in, "base_parameters");
    const struct model *m;
    const char *key;
    json_t *v, *spec = NULL;
    char *model = NULL, f[300];

    if (studyreq_check_members(in, known, "a grid study", err))
        return NULL;
    if (!json_object_get(in, "algorithm") || !json_is_object(params) ||
        json_object_size(params) == 0) {
        err_set(err, SWEEP_EINVAL,
                "a grid study needs \"algorithm\" (a model) and \"parameters\" (an "
                "object of parameter names to lists of values)");
        return NULL;
    }
    if (resolve_algorithm(json_object_get(in, "algorithm"), &m, &model, err))
        return NULL;
    json_object_foreach((json_t *)params, key, v)
    {
        snprintf(f, sizeof(f), "parameters.%s", key);
        if (check_param_name(m, key, f, err) ||
            check_values(m, key, v, f, 1, lim ? lim->max_values : 0, err))
            goto out;
        if (json_object_get(base, key)) {
            err_set(err, SWEEP_EINVAL,
                    "base_parameters.%s: \"%s\" is both a grid parameter and a base "
                    "parameter",
                    key, key);
            goto out;
        }
    }
    if (check_common(in, m, lim, err))
        goto out;
    spec = make_spec(in, model, json_deep_copy(params));
out:
    free(model);
    return spec;
}

bool studyreq_runs_commands(const struct spec *spec)
{
    for (size_t i = 0; i <= spec->nsteps; i++) {
        const struct spec_step *step =
            i < spec->nsteps ? &spec->steps[i] : spec->reduce;
        if (step && step->kind != SPEC_MODEL)
            return true;
    }
    return false;
}

int studyreq_check(json_t *obj,
                   bool allow_commands,
                   const struct studyreq_limits *lim,
                   char **spec_text,
                   char **name,
                   bool *forbidden,
                   uint64_t *ntasks,
                   struct err *err)
{
    uint64_t max = lim && lim->max_tasks ? lim->max_tasks : STUDYREQ_MAX_TASKS;
    char *text = json_dumps(obj, JSON_INDENT(2));
    struct spec *spec = NULL;
    struct speccheck *models = NULL;
    uint64_t n;
    int rc;

    *spec_text = *name = NULL;
    *forbidden = false;
    if (!text)
        return err_set(err, SWEEP_EINVAL, "the spec cannot be written as JSON");
    rc = spec_parse("request.json", text, strlen(text), &spec, err);
    if (!rc && !allow_commands && studyreq_runs_commands(spec)) {
        *forbidden = true;
        rc = err_set(err, SWEEP_EINVAL,
                     "this service runs models only: a spec with a command needs "
                     "sweep serve --allow-commands");
    }
    if (!rc)
        rc = speccheck_create(spec, SPECCHECK_FIELDS, &models, err);
    if (!rc && (n = expand_count(spec)) > max)
        rc = err_set(err, SWEEP_EINVAL, "study %s has %llu tasks, more than %llu",
                     spec->name, (unsigned long long)n, (unsigned long long)max);
    if (!rc) {
        *name = xstrdup(spec->name);
        *spec_text = text;
        if (ntasks)
            *ntasks = n;
        text = NULL;
    }
    speccheck_destroy(models);
    spec_destroy(spec);
    free(text);
    return rc;
}
