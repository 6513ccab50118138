/* Aggregation of a study's metrics per group of parameter values (see aggregate.h).
 * Pass 1 learns which parameters and numeric metrics the tasks have, so that the
 * requested names can be checked and the defaults chosen; pass 2 puts each task in its
 * group, found through a hash (a jansson object keyed by the canonical JSON of the
 * group's values), and updates the group's running statistics. The JSON form is built
 * with jansson (objects keep their insertion order) and printed by hand so that reals
 * print in their shortest form. */
#include "core/aggregate.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/store.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void aggregate_stat_add(struct aggregate_stat *s, double x)
{
    double d = x - s->mean;

    s->n++;
    s->mean += d / (double)s->n;
    s->m2 += d * (x - s->mean);
    if (s->n == 1 || x < s->min)
        s->min = x;
    if (s->n == 1 || x > s->max)
        s->max = x;
}

double aggregate_stat_std(const struct aggregate_stat *s)
{
    return s->n < 2 ? NAN : sqrt(s->m2 / (double)(s->n - 1));
}

double aggregate_stat_sem(const struct aggregate_stat *s)
{
    return s->n < 2 ? NAN : aggregate_stat_std(s) / sqrt((double)s->n);
}

typedef void metric_fn(const char *name, double x, void *arg);

struct metric_walk {
    metric_fn *fn;
    void *arg;
};

static int metric_leaf(const char *path, const json_t *v, void *arg)
{
    const struct metric_walk *w = arg;

    if (json_is_number(v))
        w->fn(path, json_number_value(v), w->arg);
    else if (json_is_boolean(v))
        w->fn(path, json_is_true(v) ? 1.0 : 0.0, w->arg);
    return 0;
}

/* Calls fn for every numeric or boolean leaf of obj, named by its path a.b.c. */
static void walk_metrics(const json_t *obj, metric_fn *fn, void *arg)
{
    struct metric_walk w = {fn, arg};
    jsonx_walk_leaves(obj, metric_leaf, &w);
}

/* ---- pass 1: the names ---- */

struct names_seen {
    json_t *params;  /* name -> its value in the first task that has it */
    json_t *varies;  /* set: names whose value or presence differs between tasks */
    json_t *metrics; /* set: name -> true */
    long long ntasks;
    int step; /* only this pipeline step's tasks; -1 all */
};

static void seen_metric(const char *name, double x, void *arg)
{
    (void)x;
    json_object_set_new(arg, name, json_true());
}

static int collect_names(const struct store_task *t, void *arg)
{
    struct names_seen *ns = arg;
    json_t *p, *m;
    const char *k;
    json_t *v;

    if (ns->step >= 0 && t->step != ns->step)
        return 0;
    p = jsonx_object_or_empty(t->params_json);
    m = jsonx_object_or_empty(t->metrics_json);
    json_object_foreach(p, k, v)
    {
        json_t *first = json_object_get(ns->params, k);
        if (!first)
            json_object_set_new(ns->params, k, json_deep_copy(v));
        if ((!first && ns->ntasks > 0) || (first && !json_equal(first, v)))
            json_object_set_new(ns->varies, k, json_true());
    }
    json_object_foreach(ns->params, k, v)
    {
        if (!json_object_get(p, k))
            json_object_set_new(ns->varies, k, json_true());
    }
    ns->ntasks++;
    walk_metrics(m, seen_metric, ns->metrics);
    json_decref(p);
    json_decref(m);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys of a set, sorted, as a new array of new strings; `skip` is left out. */
static char **set_names(const json_t *set, const char *skip, size_t *n)
{
    char **v = xcalloc(json_object_size(set) + 1, sizeof(char *));
    const char *k;
    json_t *x;

    *n = 0;
    json_object_foreach((json_t *)set, k, x)
    {
        if (!skip || strcmp(k, skip) != 0)
            v[(*n)++] = xstrdup(k);
    }
    qsort(v, *n, sizeof(char *), cmp_str);
    return v;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Copies the requested names after checking each against the known set. */
static int pick_names(const char *const *want,
                      size_t n,
                      const json_t *known,
                      const char *what,
                      char ***out,
                      struct err *err)
{
    char **v = xcalloc(n + 1, sizeof(char *));
    int rc = SWEEP_OK;

    for (size_t i = 0; i < n; i++) {
        bool twice = false;
        for (size_t j = 0; j < i; j++)
            twice = twice || strcmp(want[i], want[j]) == 0;
        if (twice) {
            rc = err_set(err, SWEEP_EINVAL, "%s \"%s\" given twice", what, want[i]);
            goto fail;
        }
        if (!json_object_get(known, want[i])) {
            size_t nk;
            char **k = set_names(known, NULL, &nk);
            struct strbuf list = STRBUF_INIT;
            for (size_t j = 0; j < nk; j++)
                sb_addf(&list, "%s%s", j ? ", " : "", k[j]);
            rc = err_set(err, SWEEP_EINVAL, "unknown %s \"%s\" (known %ss: %s)", what,
                         want[i], what, nk ? sb_str(&list) : "none");
            sb_fini(&list);
            free_names(k, nk);
            goto fail;
        }
        v[i] = xstrdup(want[i]);
    }
    *out = v;
    return SWEEP_OK;
fail:
    free_names(v, n);
    return rc;
}

/* ---- pass 2: the groups ---- */

struct builder {
    struct aggregate *a;
    json_t *group_index;  /* canonical key of the values -> integer index */
    json_t *metric_index; /* metric name -> integer index */
    size_t cap;
    int step; /* as names_seen.step */
};

/* The group's lookup key: the values with numbers as reals, so that 1 and 1.0 meet. */
static char *group_key(const json_t *values)
{
    json_t *norm = json_array();
    size_t i;
    json_t *v;
    char *key;

    json_array_foreach(values, i, v)
    {
        if (json_is_number(v))
            json_array_append_new(norm, json_real(json_number_value(v)));
        else
            json_array_append(norm, v);
    }
    key = jsonx_canon_str(norm);
    json_decref(norm);
    return key;
}

static struct aggregate_group *find_group(struct builder *b, const json_t *params)
{
    struct aggregate *a = b->a;
    json_t *values = json_array();
    char *key;
    json_t *idx;
    struct aggregate_group *g;

    for (size_t i = 0; i < a->nby; i++) {
        json_t *v = json_object_get(params, a->by[i]);
        json_array_append(values, v ? v : json_null());
    }
    key = group_key(values);
    idx = json_object_get(b->group_index, key);
    if (idx) {
        g = &a->groups[json_integer_value(idx)];
        json_decref(values);
    } else {
        a->groups = xgrow(a->groups, &b->cap, a->ngroups + 1, sizeof(*a->groups));
        g = &a->groups[a->ngroups];
        *g = (struct aggregate_group){
            .values = values,
            .stats = xcalloc(a->nmetrics + 1, sizeof(struct aggregate_stat)),
        };
        json_object_set_new(b->group_index, key, json_integer((json_int_t)a->ngroups));
        a->ngroups++;
    }
    free(key);
    return g;
}

struct sample_ctx {
    struct builder *b;
    struct aggregate_group *g;
};

static void add_sample(const char *name, double x, void *arg)
{
    struct sample_ctx *c = arg;
    json_t *idx = json_object_get(c->b->metric_index, name);

    if (idx)
        aggregate_stat_add(&c->g->stats[json_integer_value(idx)], x);
}

static int add_task(const struct store_task *t, void *arg)
{
    struct builder *b = arg;
    struct aggregate_group *g;
    json_t *p, *m;

    if ((t->state != TASK_SUCCEEDED && t->state != TASK_FAILED &&
         t->state != TASK_TIMED_OUT) ||
        (b->step >= 0 && t->step != b->step))
        return 0;
    p = jsonx_object_or_empty(t->params_json);
    g = find_group(b, p);
    if (t->state == TASK_SUCCEEDED) {
        struct sample_ctx c = {.b = b, .g = g};
        m = jsonx_object_or_empty(t->metrics_json);
        g->n_samples++;
        walk_metrics(m, add_sample, &c);
        json_decref(m);
    } else {
        g->n_failed++;
    }
    json_decref(p);
    return 0;
}

/* Natural order of one value: null, booleans, numbers, strings, then arrays and
 * objects by canonical text. */
static int type_rank(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return 0;
    case JSON_FALSE:
    case JSON_TRUE:
        return 1;
    case JSON_INTEGER:
    case JSON_REAL:
        return 2;
    case JSON_STRING:
        return 3;
    default:
        return 4;
    }
}

static int cmp_value(const json_t *x, const json_t *y)
{
    int rx = type_rank(x), ry = type_rank(y), c;
    double dx, dy;
    char *sx, *sy;

    if (rx != ry)
        return rx < ry ? -1 : 1;
    switch (rx) {
    case 1:
        return (int)json_is_true(x) - (int)json_is_true(y);
    case 2:
        dx = json_number_value(x);
        dy = json_number_value(y);
        return (dx > dy) - (dx < dy);
    case 3:
        return strcmp(json_string_value(x), json_string_value(y));
    case 4:
        sx = jsonx_canon_str(x);
        sy = jsonx_canon_str(y);
        c = strcmp(sx, sy);
        free(sx);
        free(sy);
        return c;
    default:
        return 0;
    }
}

static int cmp_group(const void *a, const void *b)
{
    const json_t *va = ((const struct aggregate_group *)a)->values;
    const json_t *vb = ((const struct aggregate_group *)b)->values;

    for (size_t i = 0; i < json_array_size(va); i++) {
        int c = cmp_value(json_array_get(va, i), json_array_get(vb, i));
        if (c)
            return c;
    }
    return 0;
}

int aggregate_study(struct store *st,
                    long long study_id,
                    const char *const *by,
                    size_t nby,
                    const char *const *metrics,
                    size_t nmetrics,
                    struct aggregate *out,
                    struct err *err)
{
    return aggregate_study_step(st, study_id, -1, by, nby, metrics, nmetrics, out, err);
}

int aggregate_study_step(struct store *st,
                         long long study_id,
                         int step,
                         const char *const *by,
                         size_t nby,
                         const char *const *metrics,
                         size_t nmetrics,
                         struct aggregate *out,
                         struct err *err)
{
    struct names_seen ns = {.params = json_object(),
                            .varies = json_object(),
                            .metrics = json_object(),
                            .step = step};
    struct aggregate a = {0};
    struct builder b = {.a = &a,
                        .group_index = json_object(),
                        .metric_index = json_object(),
                        .step = step};
    int rc;

    *out = (struct aggregate){0};
    rc = store_task_each(st, study_id, -1, collect_names, &ns, err);
    if (rc)
        goto out;
    if (by) {
        rc = pick_names(by, nby, ns.params, "parameter", &a.by, err);
        a.nby = nby;
    } else {
        a.by = set_names(ns.varies, "seed", &a.nby);
    }
    if (rc)
        goto out;
    if (metrics) {
        rc = pick_names(metrics, nmetrics, ns.metrics, "metric", &a.metrics, err);
        a.nmetrics = nmetrics;
    } else {
        a.metrics = set_names(ns.metrics, NULL, &a.nmetrics);
    }
    if (rc)
        goto out;
    for (size_t i = 0; i < a.nmetrics; i++)
        json_object_set_new(b.metric_index, a.metrics[i], json_integer((json_int_t)i));
    rc = store_task_each(st, study_id, -1, add_task, &b, err);
    if (rc)
        goto out;
    if (a.ngroups)
        qsort(a.groups, a.ngroups, sizeof(*a.groups), cmp_group);
    *out = a;
    a = (struct aggregate){0};
out:
    aggregate_fini(&a);
    json_decref(b.group_index);
    json_decref(b.metric_index);
    json_decref(ns.params);
    json_decref(ns.varies);
    json_decref(ns.metrics);
    return rc;
}

void aggregate_fini(struct aggregate *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ngroups; i++) {
        json_decref(a->groups[i].values);
        free(a->groups[i].stats);
    }
    free(a->groups);
    if (a->by)
        free_names(a->by, a->nby);
    if (a->metrics)
        free_names(a->metrics, a->nmetrics);
    *a = (struct aggregate){0};
}

/* ---- JSON ---- */

/* Statistic prefixes in the order of the members. */
static const char *const stat_names[] = {"mean", "std", "stderr", "min", "max"};
#define NSTATS (sizeof(stat_names) / sizeof(stat_names[0]))

/* A statistic, null where undefined (or not finite, which JSON cannot hold). */
static json_t *stat_json(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Adds n_samples, n_failed and <stat>_<metric> for every metric to o. */
static void
group_members(const struct aggregate *a, const struct aggregate_group *g, json_t *o)
{
    json_object_set_new(o, "n_samples", json_integer(g->n_samples));
    json_object_set_new(o, "n_failed", json_integer(g->n_failed));
    for (size_t m = 0; m < a->nmetrics; m++) {
        const struct aggregate_stat *s = &g->stats[m];
        double v[NSTATS] = {s->n ? s->mean : NAN, aggregate_stat_std(s),
                            aggregate_stat_sem(s), s->n ? s->min : NAN,
                            s->n ? s->max : NAN};
        for (size_t i = 0; i < NSTATS; i++) {
            char *key = xasprintf("%s_%s", stat_names[i], a->metrics[m]);
            json_object_set_new(o, key, stat_json(v[i]));
            free(key);
        }
    }
}

/* One parameter: {"<value>": {...}, ...}. */
static json_t *json_by_one(const struct aggregate *a)
{
    json_t *o = json_object();

    for (size_t g = 0; g < a->ngroups; g++) {
        const json_t *v = json_array_get(a->groups[g].values, 0);
        char *key = json_is_null(v) ? xstrdup("null") : jsonx_arg_str(v);
        json_t *members = json_object();
        while (json_object_get(o, key)) {
            json_t *quoted = json_string(key);
            free(key);
            key = jsonx_canon_str(quoted);
            json_decref(quoted);
        }
        group_members(a, &a->groups[g], members);
        json_object_set_new(o, key, members);
        free(key);
    }
    return o;
}

/* Several parameters (or none): [{"params": {...}, "n_samples": ..., ...}, ...]. */
static json_t *json_by_many(const struct aggregate *a)
{
    json_t *arr = json_array();

    for (size_t g = 0; g < a->ngroups; g++) {
        json_t *o = json_object(), *params = json_object();
        for (size_t i = 0; i < a->nby; i++)
            json_object_set(params, a->by[i], json_array_get(a->groups[g].values, i));
        json_object_set_new(o, "params", params);
        group_members(a, &a->groups[g], o);
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *aggregate_to_json(const struct aggregate *a)
{
    return a->nby == 1 ? json_by_one(a) : json_by_many(a);
}

/* Appends v on one line: objects with their members in order, anything else in its
 * canonical form. */
static void json_line(const json_t *v, struct strbuf *sb)
{
    const char *k;
    json_t *x;
    bool first = true;

    if (!json_is_object(v)) {
        jsonx_canon(v, sb);
        return;
    }
    sb_addc(sb, '{');
    json_object_foreach((json_t *)v, k, x)
    {
        json_t *key = json_string(k);
        sb_adds(sb, first ? "" : ", ");
        jsonx_canon(key, sb);
        sb_adds(sb, ": ");
        json_line(x, sb);
        json_decref(key);
        first = false;
    }
    sb_addc(sb, '}');
}

char *aggregate_json_str(const json_t *j)
{
    struct strbuf sb = STRBUF_INIT;
    bool obj = json_is_object(j);
    size_t n = obj ? json_object_size(j) : json_array_size(j), i = 0;
    const char *k;
    json_t *x;

    sb_addc(&sb, obj ? '{' : '[');
    if (obj) {
        json_object_foreach((json_t *)j, k, x)
        {
            json_t *key = json_string(k);
            sb_adds(&sb, i++ ? ",\n  " : "\n  ");
            jsonx_canon(key, &sb);
            sb_adds(&sb, ": ");
            json_line(x, &sb);
            json_decref(key);
        }
    } else {
        json_array_foreach(j, i, x)
        {
            sb_adds(&sb, i ? ",\n  " : "\n  ");
            json_line(x, &sb);
        }
    }
    sb_adds(&sb, n ? "\n" : "");
    sb_adds(&sb, obj ? "}\n" : "]\n");
    return sb_take(&sb);
}

/* Two grouping values that are the same: equal numbers (1 and 1.0) or equal JSON. */
static bool same_value(const json_t *x, const json_t *y)
{
    if (json_is_number(x) && json_is_number(y))
        return json_number_value(x) == json_number_value(y);
    return json_equal(x, y);
}

size_t aggregate_series_end(const struct aggregate *a, size_t first)
{
    size_t end = first + 1;

    if (first >= a->ngroups)
        return a->ngroups;
    for (; end < a->ngroups; end++) {
        for (size_t i = 0; i + 1 < a->nby; i++)
            if (!same_value(json_array_get(a->groups[first].values, i),
                            json_array_get(a->groups[end].values, i)))
                return end;
    }
    return end;
}

int aggregate_fit_power(const struct aggregate *a,
                        size_t metric,
                        size_t first,
                        size_t end,
                        struct fit_power *out,
                        struct err *err)
{
    size_t n = 0, cap = end > first ? end - first : 1;
    double *x = xcalloc(cap, sizeof(double)), *y = xcalloc(cap, sizeof(double));
    double *e = xcalloc(cap, sizeof(double));
    int rc = SWEEP_OK;

    if (a->nby == 0) {
        rc = err_set(err, SWEEP_EINVAL, "a fit needs a parameter to fit against");
        goto out;
    }
    for (size_t g = first; g < end; g++) {
        const struct aggregate_stat *s = &a->groups[g].stats[metric];
        const json_t *v = json_array_get(a->groups[g].values, a->nby - 1);
        if (!s->n)
            continue;
        if (!json_is_number(v)) {
            char *text = jsonx_canon_str(v);
            rc = err_set(err, SWEEP_EINVAL,
                         "parameter \"%s\" must be numeric to fit against; it has the "
                         "value %s",
                         a->by[a->nby - 1], text);
            free(text);
            goto out;
        }
        x[n] = json_number_value(v);
        y[n] = s->mean;
        e[n] = aggregate_stat_sem(s);
        n++;
    }
    rc = fit_power_law(n, x, y, e, out, err);
out:
    free(x);
    free(y);
    free(e);
    return rc;
}

json_t *aggregate_fit_json(const struct aggregate *a,
                           size_t metric,
                           size_t first,
                           const struct fit_power *f)
{
    json_t *j = json_object(), *params = json_object();

    for (size_t i = 0; i + 1 < a->nby; i++)
        json_object_set(params, a->by[i], json_array_get(a->groups[first].values, i));
    json_object_set_new(j, "x", json_string(a->nby ? a->by[a->nby - 1] : ""));
    json_object_set_new(j, "metric", json_string(a->metrics[metric]));
    json_object_set_new(j, "params", params);
    json_object_set_new(j, "exponent", stat_json(f->exponent));
    json_object_set_new(j, "exponent_stderr", stat_json(f->exponent_stderr));
    json_object_set_new(j, "prefactor", stat_json(f->prefactor));
    json_object_set_new(j, "prefactor_stderr", stat_json(f->prefactor_stderr));
    json_object_set_new(j, "n_points", json_integer((json_int_t)f->n_points));
    json_object_set_new(j, "weighted", json_boolean(f->weighted));
    json_object_set_new(j, "chi2_dof", stat_json(f->chi2_dof));
    return j;
}

size_t aggregate_copies(const struct aggregate *a, size_t *first)
{
    size_t n = 0;

    for (size_t g = 0; g < a->ngroups; g++) {
        const struct aggregate_group *gr = &a->groups[g];
        size_t spread = 0, measured = 0;

        if (gr->n_samples < 2)
            continue;
        for (size_t m = 0; m < a->nmetrics; m++) {
            if (gr->stats[m].n >= 2) {
                measured++;
                spread += gr->stats[m].m2 != 0;
            }
        }
        if (measured > 0 && spread == 0 && n++ == 0 && first)
            *first = g;
    }
    return n;
}

char *aggregate_group_text(const struct aggregate *a, size_t g)
{
    struct strbuf sb = STRBUF_INIT;

    for (size_t i = 0; i < a->nby; i++) {
        char *v = json_dumps(json_array_get(a->groups[g].values, i),
                             JSON_ENCODE_ANY | JSON_COMPACT);
        sb_addf(&sb, "%s%s=%s", i ? ", " : "", a->by[i], v ? v : "null");
        free(v);
    }
    if (a->nby == 0)
        sb_adds(&sb, "(all tasks)");
    return sb_take(&sb);
}

char *aggregate_copies_note(const struct aggregate *a)
{
    size_t first = 0, n = aggregate_copies(a, &first);
    char *g, *note;

    if (n == 0)
        return NULL;
    g = aggregate_group_text(a, first);
    note =
        xasprintf("note: the repetitions of %zu of %zu points gave identical results "
                  "(e.g. %s: %lld samples, std 0); a task that draws random numbers "
                  "must seed them with its own $SWEEP_SEED or {seed}",
                  n, a->ngroups, g, a->groups[first].n_samples);
    free(g);
    return note;
}

int aggregate_save(struct store *st,
                   long long study_id,
                   long long generation,
                   int step,
                   char **copies,
                   struct err *err)
{
    struct aggregate a;
    json_t *j;
    char *text;
    int rc;

    if (copies)
        *copies = NULL;
    if ((rc = aggregate_study_step(st, study_id, step, NULL, 0, NULL, 0, &a, err)) != 0)
        return rc;
    if (copies)
        *copies = aggregate_copies_note(&a);
    j = aggregate_to_json(&a);
    text = aggregate_json_str(j);
    rc = store_aggregate_put(st, study_id, generation, text, err);
    free(text);
    json_decref(j);
    aggregate_fini(&a);
    return rc;
}
