/* The model table, the alias table (other names for a model with preset parameters),
 * and everything driven by a row's parameter schema: lookup, validation of a parameter
 * object into typed values, range text, and the typed accessors the models read their
 * arguments with (see model.h); the rows as JSON are in schema.c. Lookups are linear
 * scans: a handful of models with a dozen parameters each. */
#include "model.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/suggest.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct model model_chaos, model_cavity, model_navier_stokes,
    model_particles, model_dla, model_cca, model_eden, model_ballistic;

/* One row per model. */
static const struct model *const models[] = {
    &model_chaos, &model_navier_stokes, &model_cavity,    &model_dla,
    &model_cca,   &model_eden,          &model_ballistic, &model_particles,
};

/* One row per alias: the task types of existing task files. */
static const struct model_alias aliases[] = {
    {"benchmark", "particles", "{\"algorithm\": \"naive\"}"},
    {"benchmark_cython", "particles", "{\"algorithm\": \"cells\"}"},
};

const struct model *model_find(const char *name)
{
    for (size_t i = 0; i < MODEL_COUNT(models); i++)
        if (strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

size_t model_count(void)
{
    return MODEL_COUNT(models);
}

const struct model *model_at(size_t i)
{
    return i < MODEL_COUNT(models) ? models[i] : NULL;
}

size_t model_alias_count(void)
{
    return MODEL_COUNT(aliases);
}

const struct model_alias *model_alias_at(size_t i)
{
    return i < MODEL_COUNT(aliases) ? &aliases[i] : NULL;
}

/* The alias row's preset as an object. The rows are code: a preset that does not parse
 * is a bug that the unit tests catch for every row. */
static json_t *registry_preset(const struct model_alias *a)
{
    json_t *preset = json_loads(a->preset, 0, NULL);

    if (!json_is_object(preset)) {
        fprintf(stderr, "sweep: bug: alias %s has a bad preset '%s'\n", a->name,
                a->preset);
        abort();
    }
    return preset;
}

/* The model or alias called exactly `name`. */
static const struct model *registry_lookup(const char *name, json_t **preset)
{
    const struct model *m = model_find(name);

    if (preset)
        *preset = NULL;
    for (size_t i = 0; !m && i < MODEL_COUNT(aliases); i++) {
        if (strcmp(aliases[i].name, name) != 0)
            continue;
        m = model_find(aliases[i].model);
        if (m && preset)
            *preset = registry_preset(&aliases[i]);
    }
    return m;
}

const struct model *model_resolve(const char *name, json_t **preset)
{
    const struct model *m = registry_lookup(name, preset);
    char lower[64];
    size_t n = strlen(name);
    bool capitals = false;

    if (m || n >= sizeof(lower))
        return m;
    /* A name in capitals, as the algorithms of task-queue files are written ("DLA"). */
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (islower(c))
            return NULL;
        capitals |= isupper(c) != 0;
        lower[i] = (char)tolower(c);
    }
    return capitals ? registry_lookup(lower, preset) : NULL;
}

void model_unknown_msg(const char *name, char *buf, size_t n)
{
    struct suggest sg;

    suggest_init(&sg, name);
    for (size_t i = 0; i < MODEL_COUNT(models); i++)
        suggest_add(&sg, models[i]->name);
    for (size_t i = 0; i < MODEL_COUNT(aliases); i++)
        suggest_add(&sg, aliases[i].name);
    if (suggest_best(&sg))
        snprintf(buf, n, "unknown model \"%s\" (did you mean \"%s\"?)", name,
                 suggest_best(&sg));
    else
        snprintf(buf, n, "unknown model \"%s\"", name);
}

void model_preset_merge(const struct model *m, json_t *params, const json_t *preset)
{
    const char *pkey, *key;
    json_t *pval, *val;

    if (!preset || !json_is_object(params))
        return;
    json_object_foreach((json_t *)preset, pkey, pval)
    {
        const struct model_param *p = model_param_find(m, pkey);
        bool given = false;

        json_object_foreach(params, key, val)
        {
            given |= p ? model_param_find(m, key) == p : strcmp(key, pkey) == 0;
        }
        if (!given)
            json_object_set(params, pkey, pval);
    }
}

const struct model_param *model_param_find(const struct model *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++) {
        const struct model_param *p = &m->params[i];
        if (strcmp(p->name, name) == 0)
            return p;
        for (const char *const *a = p->aliases; a && *a; a++)
            if (strcmp(*a, name) == 0)
                return p;
    }
    return NULL;
}

const char *model_type_name(enum model_type t)
{
    switch (t) {
    case MODEL_INT:
        return "int";
    case MODEL_REAL:
        return "real";
    case MODEL_BOOL:
        return "bool";
    case MODEL_STRING:
        return "string";
    case MODEL_ENUM:
        return "enum";
    case MODEL_INT_LIST:
        return "int_list";
    case MODEL_REAL_LIST:
        return "real_list";
    }
    return "?";
}

/* A bound in its shortest round-trip form: 255, 0.5, 1e-06. */
static void registry_num(double d, char *buf, size_t n)
{
    if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(buf, n, "%.0f", d);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static bool registry_is_list(enum model_type t)
{
    return t == MODEL_INT_LIST || t == MODEL_REAL_LIST;
}

/* The interval alone: "[0, 1]", "(0, 1]", ">= 0", "< 10" or "". */
static void registry_interval(const struct model_param *p, struct strbuf *sb)
{
    char lo[32], hi[32];

    registry_num(p->min.value, lo, sizeof(lo));
    registry_num(p->max.value, hi, sizeof(hi));
    if (p->min.set && p->max.set)
        sb_addf(sb, "%c%s, %s%c", p->min.exclusive ? '(' : '[', lo, hi,
                p->max.exclusive ? ')' : ']');
    else if (p->min.set)
        sb_addf(sb, "%s %s", p->min.exclusive ? ">" : ">=", lo);
    else if (p->max.set)
        sb_addf(sb, "%s %s", p->max.exclusive ? "<" : "<=", hi);
}

/* The list length: "2 to 3 items", "3 items", "at least 1 item", or "". */
static void registry_items(const struct model_param *p, struct strbuf *sb)
{
    size_t lo = p->min_items, hi = p->max_items;

    if (lo && hi && lo == hi)
        sb_addf(sb, "%zu item%s", lo, lo == 1 ? "" : "s");
    else if (lo && hi)
        sb_addf(sb, "%zu to %zu items", lo, hi);
    else if (lo)
        sb_addf(sb, "at least %zu item%s", lo, lo == 1 ? "" : "s");
    else if (hi)
        sb_addf(sb, "at most %zu item%s", hi, hi == 1 ? "" : "s");
}

void model_param_range(const struct model_param *p, char *buf, size_t n)
{
    struct strbuf sb = STRBUF_INIT;

    registry_interval(p, &sb);
    if (registry_is_list(p->type) && (p->min_items || p->max_items)) {
        if (sb.len)
            sb_adds(&sb, ", ");
        registry_items(p, &sb);
    }
    snprintf(buf, n, "%s", sb_str(&sb));
    sb_fini(&sb);
}

static bool registry_in_range(const struct model_param *p, double v)
{
    if (p->min.set && (p->min.exclusive ? v <= p->min.value : v < p->min.value))
        return false;
    if (p->max.set && (p->max.exclusive ? v >= p->max.value : v > p->max.value))
        return false;
    return true;
}

/* "an integer in [1, 255]", "a number >= 0", "true or false", "one of "a", "b"". */
static void
registry_expected(const struct model_param *p, bool element, struct strbuf *sb)
{
    bool scalar = element || !registry_is_list(p->type);

    switch (p->type) {
    case MODEL_INT:
    case MODEL_INT_LIST:
        sb_adds(sb, scalar ? "an integer" : "a list of integers");
        break;
    case MODEL_REAL:
    case MODEL_REAL_LIST:
        sb_adds(sb, scalar ? "a number" : "a list of numbers");
        break;
    case MODEL_BOOL:
        sb_adds(sb, "true or false");
        return;
    case MODEL_STRING:
        sb_adds(sb, "a string");
        return;
    case MODEL_ENUM:
        sb_adds(sb, "one of ");
        for (const char *const *c = p->choices; *c; c++)
            sb_addf(sb, "%s\"%s\"", c == p->choices ? "" : ", ", *c);
        return;
    }
    if (p->min.set || p->max.set) {
        bool interval = p->min.set && p->max.set;
        sb_adds(sb, interval ? " in " : " ");
        registry_interval(p, sb);
    }
    if (!scalar && (p->min_items || p->max_items)) {
        sb_adds(sb, " with ");
        registry_items(p, sb);
    }
}

/* Sets err to "<model>: <name>: expected <what>, got <value>". */
static int registry_bad_value(const struct model *m,
                              const struct model_param *p,
                              const char *name,
                              bool element,
                              const json_t *v,
                              struct err *err)
{
    struct strbuf want = STRBUF_INIT;
    char *got = jsonx_canon_str(v);

    registry_expected(p, element, &want);
    err_set(err, SWEEP_EINVAL, "%s: %s: expected %s, got %s", m->name, name,
            sb_str(&want), got);
    free(got);
    sb_fini(&want);
    return SWEEP_EINVAL;
}

/* A number as a JSON integer: integers, and reals with an integral value. */
static bool registry_as_int(const json_t *v, json_int_t *out)
{
    double d;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (!json_is_real(v))
        return false;
    d = json_real_value(v);
    /* -2^63 <= d < 2^63 and integral: the conversion is exact. */
    if (d != floor(d) || d < -0x1p63 || d >= 0x1p63)
        return false;
    *out = (json_int_t)d;
    return true;
}

/* Checks one scalar (a parameter or a list element) and returns its typed value. */
static int registry_scalar(const struct model *m,
                           const struct model_param *p,
                           const char *name,
                           bool element,
                           const json_t *v,
                           json_t **out,
                           struct err *err)
{
    json_int_t i;

    switch (p->type) {
    case MODEL_INT:
    case MODEL_INT_LIST:
        if (!registry_as_int(v, &i) || !registry_in_range(p, (double)i))
            return registry_bad_value(m, p, name, element, v, err);
        *out = json_integer(i);
        return SWEEP_OK;
    case MODEL_REAL:
    case MODEL_REAL_LIST:
        if (!json_is_number(v) || !registry_in_range(p, json_number_value(v)))
            return registry_bad_value(m, p, name, element, v, err);
        *out = json_real(json_number_value(v));
        return SWEEP_OK;
    case MODEL_BOOL:
        if (!json_is_boolean(v))
            return registry_bad_value(m, p, name, element, v, err);
        *out = json_incref((json_t *)v);
        return SWEEP_OK;
    case MODEL_STRING:
        if (!json_is_string(v))
            return registry_bad_value(m, p, name, element, v, err);
        *out = json_incref((json_t *)v);
        return SWEEP_OK;
    case MODEL_ENUM:
        for (const char *const *c = p->choices; json_is_string(v) && *c; c++) {
            if (strcmp(*c, json_string_value(v)) == 0) {
                *out = json_incref((json_t *)v);
                return SWEEP_OK;
            }
        }
        for (const char *const *a = p->choice_aliases; json_is_string(v) && a && *a;
             a += 2) {
            if (strcmp(a[0], json_string_value(v)) == 0) {
                *out = json_string(a[1]);
                return SWEEP_OK;
            }
        }
        return registry_bad_value(m, p, name, element, v, err);
    }
    return err_set(err, SWEEP_EINTERNAL, "%s: %s: unknown parameter type %d", m->name,
                   name, (int)p->type);
}

/* Checks a value given for parameter p (under `name`, which may be an alias). */
static int registry_value(const struct model *m,
                          const struct model_param *p,
                          const char *name,
                          const json_t *v,
                          json_t **out,
                          struct err *err)
{
    json_t *list, *elem, *typed;
    size_t i, n;

    if (!registry_is_list(p->type))
        return registry_scalar(m, p, name, false, v, out, err);
    n = json_array_size(v);
    if (!json_is_array(v) || (p->min_items && n < p->min_items) ||
        (p->max_items && n > p->max_items))
        return registry_bad_value(m, p, name, false, v, err);
    list = json_array();
    json_array_foreach(v, i, elem)
    {
        char ename[256];
        snprintf(ename, sizeof(ename), "%s[%zu]", name, i);
        if (registry_scalar(m, p, ename, true, elem, &typed, err)) {
            json_decref(list);
            return SWEEP_EINVAL;
        }
        json_array_append_new(list, typed);
    }
    *out = list;
    return SWEEP_OK;
}

json_t *model_param_default(const struct model_param *p)
{
    struct model row = {.name = "default"};
    json_t *raw, *typed = NULL;

    if (!p->def)
        return NULL;
    raw = json_loads(p->def, JSON_DECODE_ANY, NULL);
    /* The rows are code: a default that does not parse or fit is a bug that the unit
     * tests catch for every row. */
    if (!raw || registry_value(&row, p, p->name, raw, &typed, NULL)) {
        fprintf(stderr, "sweep: bug: parameter %s has a bad default '%s'\n", p->name,
                p->def);
        abort();
    }
    json_decref(raw);
    return typed;
}

static int registry_unknown(const struct model *m, const char *key, struct err *err)
{
    struct strbuf known = STRBUF_INIT, near = STRBUF_INIT;
    struct suggest sg;

    suggest_init(&sg, key);
    for (size_t i = 0; i < m->nparams; i++) {
        sb_addf(&known, "%s%s", i ? ", " : "", m->params[i].name);
        suggest_add(&sg, m->params[i].name);
        for (const char *const *a = m->params[i].aliases; a && *a; a++)
            suggest_add(&sg, *a);
    }
    if (suggest_best(&sg))
        sb_addf(&near, " (did you mean \"%s\"?)", suggest_best(&sg));
    err_set(err, SWEEP_EINVAL, "%s: unknown parameter \"%s\"%s; known parameters: %s",
            m->name, key, sb_str(&near), m->nparams ? sb_str(&known) : "(none)");
    sb_fini(&known);
    sb_fini(&near);
    return SWEEP_EINVAL;
}

int model_param_check(const struct model *m,
                      const char *name,
                      const json_t *value,
                      struct err *err)
{
    const struct model_param *p = model_param_find(m, name);
    json_t *typed = NULL;
    int rc;

    if (!p)
        return registry_unknown(m, name, err);
    rc = registry_value(m, p, name, value, &typed, err);
    json_decref(typed);
    return rc;
}

int model_params_check(const struct model *m,
                       const json_t *params,
                       json_t **typed_out,
                       struct err *err)
{
    const char **given = xcalloc(m->nparams ? m->nparams : 1, sizeof(*given));
    json_t *typed = json_object(), *val, *tv;
    const char *key;
    int rc = SWEEP_EINVAL;

    if (!json_is_object(params)) {
        char *got = jsonx_canon_str(params);
        err_set(err, SWEEP_EINVAL, "%s: parameters: expected an object, got %s",
                m->name, got);
        free(got);
        goto out;
    }
    json_object_foreach((json_t *)params, key, val)
    {
        const struct model_param *p = model_param_find(m, key);
        size_t i;

        if (!p) {
            registry_unknown(m, key, err);
            goto out;
        }
        i = (size_t)(p - m->params);
        if (given[i]) {
            err_set(err, SWEEP_EINVAL, "%s: %s: given twice (as \"%s\" and \"%s\")",
                    m->name, p->name, given[i], key);
            goto out;
        }
        given[i] = key;
        if (registry_value(m, p, key, val, &tv, err))
            goto out;
        json_object_set_new(typed, p->name, tv);
    }
    for (size_t i = 0; i < m->nparams; i++) {
        if (given[i])
            continue;
        if (!m->params[i].def) {
            err_set(err, SWEEP_EINVAL, "%s: missing required parameter \"%s\"", m->name,
                    m->params[i].name);
            goto out;
        }
        json_object_set_new(typed, m->params[i].name,
                            model_param_default(&m->params[i]));
    }
    if (m->check) {
        struct model_args args = {
            .model = m, .params = typed, .attempt = 1, .outdir = "."};
        if (m->check(&args, err) != SWEEP_OK)
            goto out;
    }
    rc = SWEEP_OK;
    if (typed_out) {
        *typed_out = typed;
        typed = NULL;
    }
out:
    json_decref(typed);
    free(given);
    return rc;
}

/* The typed value of a parameter the model reads; a missing one or a wrong type is a
 * bug in the model, not bad input (the values passed model_params_check). */
static const json_t *registry_arg(const struct model_args *a,
                                  const char *name,
                                  enum model_type t1,
                                  enum model_type t2)
{
    const struct model_param *p = model_param_find(a->model, name);
    const json_t *v = json_object_get(a->params, name);

    if (!p || strcmp(p->name, name) != 0 || (p->type != t1 && p->type != t2) || !v) {
        fprintf(stderr, "sweep: bug: model %s reads parameter %s as %s\n",
                a->model->name, name, model_type_name(t1));
        abort();
    }
    return v;
}

int64_t model_arg_int(const struct model_args *a, const char *name)
{
    return (int64_t)json_integer_value(registry_arg(a, name, MODEL_INT, MODEL_INT));
}

double model_arg_real(const struct model_args *a, const char *name)
{
    return json_real_value(registry_arg(a, name, MODEL_REAL, MODEL_REAL));
}

bool model_arg_bool(const struct model_args *a, const char *name)
{
    return json_is_true(registry_arg(a, name, MODEL_BOOL, MODEL_BOOL));
}

const char *model_arg_str(const struct model_args *a, const char *name)
{
    return json_string_value(registry_arg(a, name, MODEL_STRING, MODEL_ENUM));
}

const json_t *model_arg_list(const struct model_args *a, const char *name)
{
    return registry_arg(a, name, MODEL_INT_LIST, MODEL_REAL_LIST);
}
