/* The study spec: a YAML/JSON document (doc.h) checked field by field into a struct
 * spec (see spec.h). Checks run in a fixed order (unknown fields first, then study,
 * model or command (or that steps stands alone), parameters, zip, base, tasks, the run
 * settings, then steps, reduce, after and the {steps...}/{reduce.input} references of
 * every command), and the first problem is the one reported, with the file, line,
 * column and dotted field path of the node that is wrong. Steps inherit the run
 * settings, which is why they come after them. Parameter ranges are expanded to their
 * values here; the grid itself is expanded elsewhere (expand.c), lazily. */
#include "core/spec.h"

#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/suggest.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/doc.h"
#include "core/taskfile.h"
#include "core/tmpl.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>
#include <unistd.h>

/* Values all parameters may hold together (ranges are materialised). */
#define SPEC_MAX_VALUES 1000000
/* Longest duration accepted anywhere, so that consumers can convert freely. */
#define SPEC_MAX_DURATION (366.0 * 86400)
#define SPEC_MAX_NAME 100

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct ctx {
    const char *file; /* for messages */
    struct err *err;
    size_t nvalues; /* parameter values so far */
};

/* The values of one parameter, before they become axes. */
struct pvals {
    const char *name; /* borrowed from the document */
    json_t **v;
    size_t n;
    int group; /* zip group, or -1 */
};

/* A field path such as "retries.max" or "tasks[3].priority"; a path too long for the
 * buffer is cut, which only shortens a message. */
__attribute__((format(printf, 3, 4))) static void
fieldf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

static int failf(struct ctx *c, const struct doc_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The messages of this checker (doc.h): "file:line:col: " + the message. */
static int failf(struct ctx *c, const struct doc_node *at, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = doc_vfailf(c->file, c->err, at, fmt, ap);
    va_end(ap);
    return rc;
}

/* "file:line:col: field: expected what, got <the node>". */
static int
bad(struct ctx *c, const struct doc_node *n, const char *field, const char *what)
{
    return doc_bad(c->file, c->err, n, field, what);
}

/* ---- small checks ---- */

static bool is_scalar(const struct doc_node *n)
{
    return n->type != DOC_SEQ && n->type != DOC_MAP;
}

/* A scalar other than null as text (numbers and booleans as written), or NULL. */
static const char *scalar_text(const struct doc_node *n)
{
    return is_scalar(n) && n->type != DOC_NULL ? n->text : NULL;
}

static bool name_ok(const char *s, bool ident)
{
    size_t n = strlen(s);

    if (n == 0 || n > SPEC_MAX_NAME)
        return false;
    if (ident ? !(isalpha((unsigned char)s[0]) || s[0] == '_')
              : !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '_' && (ident || (ch != '.' && ch != '-')))
            return false;
    }
    return true;
}

static int get_int(struct ctx *c,
                   const struct doc_node *n,
                   const char *field,
                   long long min,
                   const char *what,
                   int *out)
{
    if (n->type != DOC_INT || n->i < min || n->i > INT_MAX)
        return bad(c, n, field, what);
    *out = (int)n->i;
    return SWEEP_OK;
}

static int
get_duration(struct ctx *c, const struct doc_node *n, const char *field, double *out)
{
    double d = -1;

    if (n->type == DOC_INT)
        d = (double)n->i;
    else if (n->type == DOC_REAL)
        d = n->r;
    else if (n->type != DOC_STRING || duration_parse(n->text, &d) < 0)
        d = -1;
    if (d < 0)
        return bad(c, n, field,
                   "a duration such as 500ms, 90s, 30m, 24h or a number of seconds");
    if (d > SPEC_MAX_DURATION)
        return bad(c, n, field, "a duration of at most 366d");
    *out = d;
    return SWEEP_OK;
}

/* Every key of `map` must be in `allowed` (doc_check_fields()). */
static int check_fields(struct ctx *c,
                        const struct doc_node *map,
                        const char *prefix,
                        const char *const *allowed,
                        size_t nallowed)
{
    return doc_check_fields(c->file, c->err, map, prefix, allowed, nallowed);
}

/* A parameter name as written in parameters, base and tasks: it becomes a {name}
 * placeholder and SWEEP_P_<NAME>, so letters, digits and '_' only. */
static int
check_param_name(struct ctx *c, const struct doc_node *key, const char *field)
{
    if (!name_ok(key->text, true))
        return bad(c, key, field,
                   "a parameter name of letters, digits and '_' (not starting with a "
                   "digit, at most 100 characters)");
    if (strcmp(key->text, "priority") == 0)
        return bad(c, key, field,
                   "a parameter name other than priority (it sets a task's priority)");
    return SWEEP_OK;
}

/* ---- parameters ---- */

/* 15 significant digits, so that 0.1 * 3 is 0.3. */
static double round15(double v)
{
    char buf[40];

    snprintf(buf, sizeof(buf), "%.15g", v);
    return strtod(buf, NULL);
}

static int
count_ok(struct ctx *c, const struct doc_node *at, const char *field, double count)
{
    if (count > SPEC_MAX_VALUES || c->nvalues + (size_t)count > SPEC_MAX_VALUES)
        return failf(c, at,
                     "%s: expected at most %d values in all parameters, got %.0f more",
                     field, SPEC_MAX_VALUES, count);
    c->nvalues += (size_t)count;
    return SWEEP_OK;
}

/* The 3 (or for range, 2 or 3) numbers of a range/linspace/logspace list. */
static int gen_args(struct ctx *c,
                    const struct doc_node *list,
                    const char *field,
                    const char *shape,
                    bool two_ok,
                    double x[3])
{
    char f[300];

    if (list->type != DOC_SEQ)
        return bad(c, list, field, shape);
    if (list->n != 3 && !(two_ok && list->n == 2))
        return failf(c, list, "%s: expected %s, got a list of %zu", field, shape,
                     list->n);
    for (size_t i = 0; i < list->n; i++) {
        const struct doc_node *e = list->items[i];
        fieldf(f, sizeof(f), "%s[%zu]", field, i);
        if (e->type != DOC_INT && e->type != DOC_REAL)
            return bad(c, e, f, "a number");
        x[i] = e->type == DOC_INT ? (double)e->i : e->r;
    }
    if (list->n == 2)
        x[2] = 1;
    return SWEEP_OK;
}

/* The step (or, when it was left out, the stop) does not lead from start to stop. */
static int
wrong_way(struct ctx *c, const struct doc_node *list, const char *field, double step)
{
    char f[300];

    if (list->n == 2) {
        fieldf(f, sizeof(f), "%s[1]", field);
        return bad(c, list->items[1], f, "a stop not below start (the step is 1)");
    }
    fieldf(f, sizeof(f), "%s[2]", field);
    return bad(c, list->items[2], f,
               step > 0 ? "a negative step (stop is below start)"
                        : "a positive step (stop is above start)");
}

static int gen_range(struct ctx *c,
                     const struct doc_node *list,
                     const char *field,
                     struct pvals *pv)
{
    double x[3];
    char f[300];
    bool ints = true;

    if (gen_args(c, list, field, "[start, stop] or [start, stop, step]", true, x))
        return SWEEP_EINVAL;
    for (size_t i = 0; i < list->n; i++)
        ints = ints && list->items[i]->type == DOC_INT;
    fieldf(f, sizeof(f), "%s[%zu]", field, list->n - 1);
    if (x[2] == 0)
        return bad(c, list->items[list->n - 1], f, "a step other than 0");
    if (ints) {
        long long start = list->items[0]->i, stop = list->items[1]->i;
        long long step = list->n == 3 ? list->items[2]->i : 1;
        if ((stop > start && step < 0) || (stop < start && step > 0))
            return wrong_way(c, list, field, (double)step);
        unsigned long long span =
            stop >= start ? (unsigned long long)stop - (unsigned long long)start
                          : (unsigned long long)start - (unsigned long long)stop;
        unsigned long long ustep =
            step > 0 ? (unsigned long long)step : 0 - (unsigned long long)step;
        unsigned long long q = span / ustep;

        if (count_ok(c, list, field, (double)q + 1))
            return SWEEP_EINVAL;
        pv->n = (size_t)q + 1;
        pv->v = xmalloc(pv->n * sizeof(*pv->v));
        for (size_t i = 0; i < pv->n; i++)
            pv->v[i] = json_integer(
                (long long)((unsigned long long)start + i * (unsigned long long)step));
        return SWEEP_OK;
    }
    if ((x[1] - x[0]) * x[2] < 0)
        return wrong_way(c, list, field, x[2]);
    double q = (x[1] - x[0]) / x[2];
    if (!isfinite(q) || count_ok(c, list, field, floor(q + 1e-9) + 1))
        return isfinite(q) ? SWEEP_EINVAL
                           : bad(c, list, field, "a range of finite size");
    pv->n = (size_t)(floor(q + 1e-9) + 1);
    pv->v = xmalloc(pv->n * sizeof(*pv->v));
    for (size_t i = 0; i < pv->n; i++)
        pv->v[i] = json_real(round15(x[0] + (double)i * x[2]));
    return SWEEP_OK;
}

static int gen_space(struct ctx *c,
                     const struct doc_node *list,
                     const char *field,
                     bool log,
                     struct pvals *pv)
{
    double x[3], step;
    char f[300];

    if (gen_args(c, list, field, "[start, stop, count]", false, x))
        return SWEEP_EINVAL;
    fieldf(f, sizeof(f), "%s[2]", field);
    if (list->items[2]->type != DOC_INT || list->items[2]->i < 1)
        return bad(c, list->items[2], f, "a count of at least 1");
    if (count_ok(c, list, field, x[2]))
        return SWEEP_EINVAL;
    for (size_t i = 0; i < 2; i++) {
        fieldf(f, sizeof(f), "%s[%zu]", field, i);
        if (log && !isfinite(pow(10, x[i])))
            return bad(c, list->items[i], f, "an exponent of a finite power of 10");
    }
    step = (x[1] - x[0]) / (x[2] > 1 ? x[2] - 1 : 1);
    if (!isfinite(step))
        return bad(c, list, field, "a span of finite size");
    pv->n = (size_t)x[2];
    pv->v = xmalloc(pv->n * sizeof(*pv->v));
    for (size_t i = 0; i < pv->n; i++) {
        double e = i + 1 == pv->n && i > 0 ? x[1] : x[0] + (double)i * step;
        pv->v[i] = json_real(round15(log ? pow(10, e) : e));
    }
    return SWEEP_OK;
}

static int param_values(struct ctx *c,
                        const struct doc_node *v,
                        const char *field,
                        struct pvals *pv)
{
    static const char *const forms[] = {"range", "linspace", "logspace"};
    static const char what[] =
        "a list of values, one value, or one of {range: [start, "
        "stop, step]}, {linspace: [a, b, n]}, {logspace: [a, b, n]}";
    char f[300];

    if (doc_is_empty(v))
        return bad(c, v, field, what);
    if (v->type == DOC_MAP) {
        const char *form;
        if (v->n == 0)
            return bad(c, v, field, what);
        if (check_fields(c, v, field, forms, NELEMS(forms)))
            return SWEEP_EINVAL;
        if (v->n > 1)
            return failf(c, v->keys[1],
                         "%s: expected one of range, linspace, logspace, "
                         "got both %s and %s",
                         field, v->keys[0]->text, v->keys[1]->text);
        form = v->keys[0]->text;
        fieldf(f, sizeof(f), "%s.%s", field, form);
        if (strcmp(form, "range") == 0)
            return gen_range(c, v->items[0], f, pv);
        return gen_space(c, v->items[0], f, strcmp(form, "logspace") == 0, pv);
    }
    if (v->type != DOC_SEQ) {
        if (count_ok(c, v, field, 1))
            return SWEEP_EINVAL;
        pv->n = 1;
        pv->v = xmalloc(sizeof(*pv->v));
        pv->v[0] = doc_to_json(v);
        return SWEEP_OK;
    }
    if (v->n == 0)
        return bad(c, v, field, "at least one value");
    for (size_t i = 0; i < v->n; i++) {
        fieldf(f, sizeof(f), "%s[%zu]", field, i);
        if (doc_is_empty(v->items[i]))
            return bad(c, v->items[i], f, "a value");
    }
    if (count_ok(c, v, field, (double)v->n))
        return SWEEP_EINVAL;
    pv->v = xmalloc(v->n * sizeof(*pv->v));
    for (pv->n = 0; pv->n < v->n; pv->n++)
        pv->v[pv->n] = doc_to_json(v->items[pv->n]);
    return SWEEP_OK;
}

static struct pvals *pvals_find(struct pvals *pv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(pv[i].name, name) == 0)
            return &pv[i];
    }
    return NULL;
}

/* zip: marks each named parameter with its group and checks the lengths. */
static int
parse_zip(struct ctx *c, const struct doc_node *zip, struct pvals *pv, size_t npv)
{
    static const char what[] = "a list of lists of parameter names";
    char f[300];

    if (zip->type != DOC_SEQ)
        return bad(c, zip, "zip", what);
    for (size_t g = 0; g < zip->n; g++) {
        const struct doc_node *grp = zip->items[g];
        struct strbuf sb = STRBUF_INIT;
        bool equal = true;

        fieldf(f, sizeof(f), "zip[%zu]", g);
        if (grp->type != DOC_SEQ || grp->n == 0)
            return bad(c, grp, f, "a list of parameter names that vary together");
        for (size_t k = 0; k < grp->n; k++) {
            const struct doc_node *e = grp->items[k];
            struct pvals *p =
                e->type == DOC_STRING ? pvals_find(pv, npv, e->text) : NULL;

            fieldf(f, sizeof(f), "zip[%zu][%zu]", g, k);
            if (!p)
                return bad(c, e, f, "the name of a parameter in parameters");
            if (p->group >= 0)
                return failf(c, e,
                             "%s: expected a parameter in one zip group only, got "
                             "\"%s\" again (in zip[%d])",
                             f, p->name, p->group);
            p->group = (int)g;
            equal = equal && p->n == pvals_find(pv, npv, grp->items[0]->text)->n;
        }
        if (equal)
            continue;
        for (size_t k = 0; k < grp->n; k++)
            sb_addf(&sb, "%s%s: %zu", k ? ", " : "", grp->items[k]->text,
                    pvals_find(pv, npv, grp->items[k]->text)->n);
        failf(c, grp, "zip[%zu]: expected lists of equal length, got %s", g,
              sb_str(&sb));
        sb_fini(&sb);
        return SWEEP_EINVAL;
    }
    return SWEEP_OK;
}

/* Moves the values into axes: one per plain parameter, one per zip group at the place
 * of its first member, names in the group's order. */
static void
build_dims(struct spec *spec, const struct doc_node *zip, struct pvals *pv, size_t npv)
{
    spec->dims = xcalloc(npv ? npv : 1, sizeof(*spec->dims));
    for (size_t i = 0; i < npv; i++) {
        struct spec_dim *d;
        const struct doc_node *grp;

        if (!pv[i].v)
            continue; /* already moved with its zip group */
        d = &spec->dims[spec->ndims++];
        if (pv[i].group < 0) {
            d->nnames = 1;
            d->names = xmalloc(sizeof(*d->names));
            d->names[0] = xstrdup(pv[i].name);
            d->nrows = pv[i].n;
            d->values = pv[i].v;
            pv[i].v = NULL;
            continue;
        }
        grp = zip->items[pv[i].group];
        d->nnames = grp->n;
        d->names = xmalloc(grp->n * sizeof(*d->names));
        d->nrows = pv[i].n;
        d->values = xmalloc(d->nrows * d->nnames * sizeof(*d->values));
        for (size_t k = 0; k < grp->n; k++) {
            struct pvals *p = pvals_find(pv, npv, grp->items[k]->text);
            d->names[k] = xstrdup(p->name);
            for (size_t r = 0; r < d->nrows; r++)
                d->values[r * d->nnames + k] = p->v[r];
            free(p->v);
            p->v = NULL;
        }
    }
}

static int parse_parameters(struct ctx *c,
                            const struct doc_node *params,
                            const struct doc_node *zip,
                            struct spec *spec)
{
    struct pvals *pv = NULL;
    size_t npv = 0;
    char f[300];
    int rc = SWEEP_OK;

    if (params->type != DOC_MAP)
        return bad(c, params, "parameters", "a mapping of parameter names to values");
    pv = xcalloc(params->n ? params->n : 1, sizeof(*pv));
    for (; npv < params->n; npv++) {
        pv[npv].name = params->keys[npv]->text;
        pv[npv].group = -1;
        fieldf(f, sizeof(f), "parameters.%s", pv[npv].name);
        if ((rc = check_param_name(c, params->keys[npv], "parameters")) ||
            (rc = param_values(c, params->items[npv], f, &pv[npv]))) {
            npv++;
            goto out;
        }
    }
    if (zip && (rc = parse_zip(c, zip, pv, npv)))
        goto out;
    build_dims(spec, zip, pv, npv);
out:
    for (size_t i = 0; i < npv; i++) {
        for (size_t k = 0; pv[i].v && k < pv[i].n; k++)
            json_decref(pv[i].v[k]);
        free(pv[i].v);
    }
    free(pv);
    return rc;
}

static int parse_base(struct ctx *c,
                      const struct doc_node *base,
                      const struct doc_node *params,
                      struct spec *spec)
{
    char f[300];

    if (base->type != DOC_MAP)
        return bad(c, base, "base", "a mapping of parameter names to fixed values");
    for (size_t i = 0; i < base->n; i++) {
        const struct doc_node *key = base->keys[i], *val = base->items[i];
        const struct doc_node *dup = NULL;

        if (check_param_name(c, key, "base"))
            return SWEEP_EINVAL;
        fieldf(f, sizeof(f), "base.%s", key->text);
        for (size_t k = 0; params && params->type == DOC_MAP && k < params->n; k++) {
            if (strcmp(params->keys[k]->text, key->text) == 0)
                dup = params->keys[k];
        }
        if (dup)
            return failf(c, key,
                         "%s: expected a name not also in parameters, got \"%s\" "
                         "(in parameters at %d:%d)",
                         f, key->text, dup->line, dup->col);
        if (doc_is_empty(val))
            return bad(c, val, f, "a value");
    }
    json_decref(spec->base);
    spec->base = doc_to_json(base);
    return SWEEP_OK;
}

static int
parse_priority(struct ctx *c, const struct doc_node *n, const char *field, int *out)
{
    if (n->type == DOC_INT && n->i >= INT_MIN && n->i <= INT_MAX) {
        *out = (int)n->i;
        return SWEEP_OK;
    }
    if (n->type == DOC_STRING && priority_parse(n->text, out) == 0)
        return SWEEP_OK;
    return bad(c, n, field, "HIGH, MEDIUM, LOW or an integer");
}

static int parse_tasks(struct ctx *c, const struct doc_node *tasks, struct spec *spec)
{
    char f[300];
    int prio;

    if (tasks->type != DOC_SEQ || tasks->n == 0)
        return bad(c, tasks, "tasks", "a list of parameter sets (mappings)");
    for (size_t i = 0; i < tasks->n; i++) {
        const struct doc_node *t = tasks->items[i];

        fieldf(f, sizeof(f), "tasks[%zu]", i);
        if (t->type != DOC_MAP)
            return bad(c, t, f, "a mapping of parameter names to values");
        for (size_t k = 0; k < t->n; k++) {
            const struct doc_node *key = t->keys[k];
            fieldf(f, sizeof(f), "tasks[%zu]", i);
            if (strcmp(key->text, "priority") == 0) {
                fieldf(f, sizeof(f), "tasks[%zu].priority", i);
                if (parse_priority(c, t->items[k], f, &prio))
                    return SWEEP_EINVAL;
                continue;
            }
            if (check_param_name(c, key, f))
                return SWEEP_EINVAL;
            fieldf(f, sizeof(f), "tasks[%zu].%s", i, key->text);
            if (doc_is_empty(t->items[k]))
                return bad(c, t->items[k], f, "a value");
        }
    }
    spec->tasks = doc_to_json(tasks);
    return SWEEP_OK;
}

/* ---- command, retries, rate, env, paths ---- */

/* "name" or "pre.name": the path of a field inside `pre` ("" at the top level). */
static void subfield(char *buf, size_t n, const char *pre, const char *name)
{
    fieldf(buf, n, "%s%s%s", pre, *pre ? "." : "", name);
}

static int parse_command(struct ctx *c,
                         const struct doc_node *cmd,
                         const char *pre,
                         struct spec_step *st)
{
    char field[300], f[320];

    subfield(field, sizeof(field), pre, "command");
    st->kind = SPEC_COMMAND;
    if (cmd->type == DOC_STRING && st->shell) {
        if (!cmd->text[0])
            return bad(c, cmd, field, "a shell command");
        st->argv = xmalloc(sizeof(*st->argv));
        st->argv[st->argc++] = xstrdup(cmd->text);
        return SWEEP_OK;
    }
    if (cmd->type == DOC_STRING)
        return bad(
            c, cmd, field,
            "a list of arguments such as [python, sim.py, \"{x}\"] (a single string "
            "needs shell: true)");
    if (cmd->type != DOC_SEQ || cmd->n == 0)
        return bad(c, cmd, field,
                   "a list of arguments such as [python, sim.py, \"{x}\"]");
    if (st->shell && cmd->n > 1)
        return failf(c, cmd,
                     "%s: expected one string with shell: true, got a list of %zu",
                     field, cmd->n);
    st->argv = xcalloc(cmd->n, sizeof(*st->argv));
    for (size_t i = 0; i < cmd->n; i++) {
        const char *s = scalar_text(cmd->items[i]);
        fieldf(f, sizeof(f), "%s[%zu]", field, i);
        if (!s || (i == 0 && !*s))
            return bad(c, cmd->items[i], f, i == 0 ? "the program to run" : "a string");
        st->argv[st->argc++] = xstrdup(s);
    }
    return SWEEP_OK;
}

static int parse_retry_on(struct ctx *c,
                          const struct doc_node *on,
                          const char *field,
                          struct spec_retry *r)
{
    static const struct {
        const char *name;
        unsigned bit;
    } kinds[] = {{"timeout", RETRY_ON_TIMEOUT},
                 {"signal", RETRY_ON_SIGNAL},
                 {"nonzero", RETRY_ON_NONZERO}};
    static const char what[] = "timeout, signal, nonzero or exit:N (N from 1 to 255)";
    bool any_nonzero = false;
    char f[320];

    if (on->type != DOC_SEQ)
        return bad(c, on, field, "a list of timeout, signal, nonzero, exit:N");
    r->on = 0;
    r->exit_codes = xcalloc(on->n ? on->n : 1, sizeof(*r->exit_codes));
    for (size_t i = 0; i < on->n; i++) {
        const struct doc_node *e = on->items[i];
        const char *s = e->type == DOC_STRING ? e->text : "";
        size_t k = 0;

        fieldf(f, sizeof(f), "%s[%zu]", field, i);
        while (k < NELEMS(kinds) && strcmp(s, kinds[k].name) != 0)
            k++;
        if (k < NELEMS(kinds)) {
            r->on |= kinds[k].bit;
            any_nonzero = any_nonzero || kinds[k].bit == RETRY_ON_NONZERO;
        } else if (strncmp(s, "exit:", 5) == 0 && s[5] >= '0' && s[5] <= '9') {
            char *end;
            long code;
            errno = 0;
            code = strtol(s + 5, &end, 10);
            if (*end || errno || code < 1 || code > 255)
                return bad(c, e, f, what);
            r->exit_codes[r->nexit++] = (int)code;
        } else {
            return bad(c, e, f, what);
        }
        if (any_nonzero && r->nexit)
            return bad(c, e, f, "either nonzero or exit:N codes, not both");
    }
    return SWEEP_OK;
}

static int parse_retries(struct ctx *c,
                         const struct doc_node *n,
                         const char *pre,
                         struct spec_retry *r)
{
    static const char *const fields[] = {"max", "backoff", "backoff_max", "on"};
    const struct doc_node *v;
    char field[300], f[320], shown[32];

    subfield(field, sizeof(field), pre, "retries");
    r->set = true;
    if (n->type == DOC_INT)
        return get_int(c, n, field, 0, "a non-negative integer or a mapping", &r->max);
    if (n->type != DOC_MAP)
        return bad(c, n, field,
                   "a mapping {max, backoff, backoff_max, on} or a number of retries");
    if (check_fields(c, n, field, fields, NELEMS(fields)))
        return SWEEP_EINVAL;
    fieldf(f, sizeof(f), "%s.max", field);
    if ((v = doc_map_get(n, "max")) &&
        get_int(c, v, f, 0, "a non-negative integer", &r->max))
        return SWEEP_EINVAL;
    fieldf(f, sizeof(f), "%s.backoff", field);
    if ((v = doc_map_get(n, "backoff")) && get_duration(c, v, f, &r->backoff))
        return SWEEP_EINVAL;
    fieldf(f, sizeof(f), "%s.backoff_max", field);
    if ((v = doc_map_get(n, "backoff_max"))) {
        if (get_duration(c, v, f, &r->backoff_max))
            return SWEEP_EINVAL;
        if (r->backoff_max < r->backoff) {
            duration_format(r->backoff, shown, sizeof(shown));
            char what[64];
            snprintf(what, sizeof(what), "a duration not below backoff (%s)", shown);
            return bad(c, v, f, what);
        }
    } else if (r->backoff_max < r->backoff) {
        r->backoff_max = r->backoff;
    }
    fieldf(f, sizeof(f), "%s.on", field);
    if ((v = doc_map_get(n, "on")))
        return parse_retry_on(c, v, f, r);
    return SWEEP_OK;
}

static int parse_rate(struct ctx *c, const struct doc_node *n, double *out)
{
    static const char what[] = "a rate such as 5/s, 10/m or 100/h";
    const char *s = n->type == DOC_STRING ? n->text : "";
    char *end;
    double v;

    if (n->type == DOC_INT || n->type == DOC_REAL) {
        v = n->type == DOC_INT ? (double)n->i : n->r;
        if (v <= 0)
            return bad(c, n, "rate_limit", "a positive rate");
        *out = v;
        return SWEEP_OK;
    }
    if (!(*s >= '0' && *s <= '9') && *s != '.')
        return bad(c, n, "rate_limit", what);
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end != '/' || !end[1] || end[2] || !strchr("smh", end[1]))
        return bad(c, n, "rate_limit", what);
    if (!(v > 0) || !isfinite(v))
        return bad(c, n, "rate_limit", "a positive rate");
    *out = v / (end[1] == 's' ? 1 : end[1] == 'm' ? 60 : 3600);
    return SWEEP_OK;
}

static int parse_env(struct ctx *c, const struct doc_node *env, struct spec *spec)
{
    char f[300];

    if (env->type != DOC_MAP)
        return bad(c, env, "env", "a mapping of variable names to values");
    spec->env = json_object();
    for (size_t i = 0; i < env->n; i++) {
        const struct doc_node *key = env->keys[i], *val = env->items[i];

        if (!name_ok(key->text, true))
            return bad(c, key, "env", "a variable name of letters, digits and '_'");
        if (strncmp(key->text, "SWEEP_", 6) == 0)
            return bad(c, key, "env", "a name not starting with SWEEP_ (set by sweep)");
        fieldf(f, sizeof(f), "env.%s", key->text);
        if (!is_scalar(val))
            return bad(c, val, f, "a string");
        json_object_set_new(spec->env, key->text,
                            json_string(val->type == DOC_NULL ? "" : val->text));
    }
    return SWEEP_OK;
}

/* The absolute directory of the spec (the current one for text without a file). */
static int spec_dir(struct ctx *c, const char *path, char **out)
{
    char *copy = xstrdup(path && *path ? path : "x"), *d = dirname(copy), *abs, *real;

    if (d[0] == '/') {
        abs = xstrdup(d);
    } else {
        char *cwd = get_current_dir_name();
        if (!cwd) {
            free(copy);
            return err_set(c->err, SWEEP_EIO,
                           "%s: cannot get the current directory: %s", c->file,
                           strerror(errno));
        }
        abs = strcmp(d, ".") ? xasprintf("%s/%s", cwd, d) : xstrdup(cwd);
        free(cwd);
    }
    free(copy);
    real = realpath(abs, NULL);
    if (real) {
        free(abs);
        abs = real;
    }
    *out = abs;
    return SWEEP_OK;
}

static char *join_path(const char *dir, const char *rel)
{
    char *p = rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", dir, rel);
    char *real = realpath(p, NULL);

    if (!real)
        return p;
    free(p);
    return real;
}

/* ---- steps, reduce, after ---- */

static struct spec_retry retry_defaults(void)
{
    return (struct spec_retry){
        .backoff = 1,
        .backoff_max = 300,
        .on = RETRY_ON_TIMEOUT | RETRY_ON_SIGNAL | RETRY_ON_NONZERO,
    };
}

/* A step that sets nothing: the study's settings (spec's run fields already parsed). */
static void step_inherit(const struct spec *spec, struct spec_step *st)
{
    st->priority = spec->priority;
    st->cpus = spec->cpus;
    st->timeout = spec->timeout;
    st->kill_after = spec->kill_after;
    st->retry = spec->retry;
    st->retry.exit_codes = xcalloc(spec->retry.nexit + 1, sizeof(int));
    if (spec->retry.nexit)
        memcpy(st->retry.exit_codes, spec->retry.exit_codes,
               spec->retry.nexit * sizeof(int));
}

static void step_fini(struct spec_step *st)
{
    free(st->name);
    free(st->model);
    for (size_t i = 0; i < st->argc; i++)
        free(st->argv[i]);
    free(st->argv);
    free(st->retry.exit_codes);
}

/* What a step runs: model XOR command, and shell. `pre` is the step's field path, ""
 * at the top level. */
static int parse_what(struct ctx *c,
                      const struct doc_node *map,
                      const char *pre,
                      struct spec_step *st)
{
    const struct doc_node *model = doc_map_get(map, "model");
    const struct doc_node *cmd = doc_map_get(map, "command");
    const struct doc_node *shell = doc_map_get(map, "shell");
    char f[300];

    subfield(f, sizeof(f), pre, "shell");
    if (shell) {
        if (shell->type != DOC_BOOL)
            return bad(c, shell, f, "true or false");
        st->shell = shell->b;
    }
    if (model && cmd)
        return failf(c, cmd,
                     "%s%scommand: expected either model or command, got both (model "
                     "at %d:%d)",
                     pre, *pre ? "." : "", model->line, model->col);
    if (cmd)
        return parse_command(c, cmd, pre, st);
    if (!model && !*pre)
        return err_set(c->err, SWEEP_EINVAL,
                       "%s: missing field \"model\", \"command\" or \"steps\" (what "
                       "each task runs)",
                       c->file);
    if (!model)
        return failf(c, map,
                     "%s: missing field \"model\" or \"command\" (what the step runs)",
                     pre);
    if (st->shell)
        return bad(c, shell, f, "false with model (shell applies to command)");
    subfield(f, sizeof(f), pre, "model");
    if (model->type != DOC_STRING || !name_ok(model->text, false))
        return bad(c, model, f, "the name of a built-in model");
    st->kind = SPEC_MODEL;
    st->model = xstrdup(model->text);
    return SWEEP_OK;
}

/* The settings a step may override: priority, cpus, timeout, kill_after, retries (a
 * step's own retries start from the defaults, not from the study's). */
static int parse_settings(struct ctx *c,
                          const struct doc_node *map,
                          const char *pre,
                          struct spec_step *st)
{
    const struct doc_node *v;
    char f[300];

    subfield(f, sizeof(f), pre, "priority");
    if ((v = doc_map_get(map, "priority"))) {
        if (parse_priority(c, v, f, &st->priority))
            return SWEEP_EINVAL;
        st->has_priority = true;
    }
    subfield(f, sizeof(f), pre, "cpus");
    if ((v = doc_map_get(map, "cpus")) &&
        get_int(c, v, f, 1, "a positive integer", &st->cpus))
        return SWEEP_EINVAL;
    subfield(f, sizeof(f), pre, "timeout");
    if ((v = doc_map_get(map, "timeout"))) {
        if (get_duration(c, v, f, &st->timeout))
            return SWEEP_EINVAL;
        if (st->timeout <= 0)
            return bad(c, v, f, "a duration greater than 0");
    }
    subfield(f, sizeof(f), pre, "kill_after");
    if ((v = doc_map_get(map, "kill_after")) && get_duration(c, v, f, &st->kill_after))
        return SWEEP_EINVAL;
    if ((v = doc_map_get(map, "retries"))) {
        free(st->retry.exit_codes);
        st->retry = retry_defaults();
        return parse_retries(c, v, pre, &st->retry);
    }
    return SWEEP_OK;
}

static int parse_steps(struct ctx *c, const struct doc_node *steps, struct spec *spec)
{
    static const char *const fields[] = {"name",    "model",   "command",
                                         "shell",   "timeout", "kill_after",
                                         "retries", "cpus",    "priority"};
    char pre[64], f[80];

    if (steps->type != DOC_SEQ || steps->n == 0)
        return bad(c, steps, "steps",
                   "a list of steps such as [{name: simulate, model: chaos}]");
    spec->has_steps = true;
    spec->steps = xcalloc(steps->n, sizeof(*spec->steps));
    for (size_t i = 0; i < steps->n; i++) {
        const struct doc_node *m = steps->items[i], *name;
        struct spec_step *st = &spec->steps[i];
        const char *s;

        fieldf(pre, sizeof(pre), "steps[%zu]", i);
        if (m->type != DOC_MAP)
            return bad(c, m, pre, "a mapping {name, model or command, ...}");
        spec->nsteps++;
        step_inherit(spec, st);
        st->line = m->line;
        if (check_fields(c, m, pre, fields, NELEMS(fields)))
            return SWEEP_EINVAL;
        if (!(name = doc_map_get(m, "name")))
            return failf(c, m, "%s: missing field \"name\"", pre);
        fieldf(f, sizeof(f), "%s.name", pre);
        if (!(s = scalar_text(name)) || !name_ok(s, true))
            return bad(c, name, f,
                       "a step name of letters, digits and '_' (not starting with a "
                       "digit, at most 100 characters)");
        if (strcmp(s, "reduce") == 0)
            return bad(c, name, f, "a name other than reduce (the reduce's own)");
        for (size_t k = 0; k < i; k++) {
            const struct doc_node *other = doc_map_get(steps->items[k], "name");
            if (strcmp(spec->steps[k].name, s) == 0)
                return failf(c, name,
                             "%s: expected a unique step name, got \"%s\" again "
                             "(steps[%zu] at %d:%d)",
                             f, s, k, other->line, other->col);
        }
        st->name = xstrdup(s);
        if (parse_what(c, m, pre, st) || parse_settings(c, m, pre, st))
            return SWEEP_EINVAL;
    }
    return SWEEP_OK;
}

/* A single-step study as the chain of one step, so that consumers read steps[] only. */
static void single_step(struct spec *spec)
{
    struct spec_step *st;

    spec->nsteps = 1;
    spec->steps = st = xcalloc(1, sizeof(*st));
    step_inherit(spec, st);
    st->name = xstrdup(spec->name);
    st->kind = spec->kind;
    st->model = spec->model ? xstrdup(spec->model) : NULL;
    st->argv = xcalloc(spec->argc + 1, sizeof(*st->argv));
    for (st->argc = 0; st->argc < spec->argc; st->argc++)
        st->argv[st->argc] = xstrdup(spec->argv[st->argc]);
    st->shell = spec->shell;
}

static int parse_reduce(struct ctx *c, const struct doc_node *n, struct spec *spec)
{
    static const char *const fields[] = {"model",   "command", "shell",
                                         "when",    "timeout", "kill_after",
                                         "retries", "cpus",    "priority"};
    const struct doc_node *when;
    struct spec_step *st;

    if (n->type != DOC_MAP)
        return bad(c, n, "reduce", "a mapping {model or command, when, ...}");
    spec->reduce = st = xcalloc(1, sizeof(*st));
    step_inherit(spec, st);
    st->name = xstrdup("reduce");
    st->line = n->line;
    if (check_fields(c, n, "reduce", fields, NELEMS(fields)) ||
        parse_what(c, n, "reduce", st) || parse_settings(c, n, "reduce", st))
        return SWEEP_EINVAL;
    if (!(when = doc_map_get(n, "when")))
        return SWEEP_OK;
    if (when->type == DOC_STRING && strcmp(when->text, "all_succeeded") == 0)
        spec->reduce_when = REDUCE_ALL_SUCCEEDED;
    else if (when->type == DOC_STRING && strcmp(when->text, "always") == 0)
        spec->reduce_when = REDUCE_ALWAYS;
    else
        return bad(c, when, "reduce.when", "all_succeeded or always");
    return SWEEP_OK;
}

static int parse_after(struct ctx *c, const struct doc_node *n, struct spec *spec)
{
    bool list = n->type == DOC_SEQ;
    size_t count = list ? n->n : 1;
    char f[64];

    if ((list && n->n == 0) || n->type == DOC_MAP || n->type == DOC_NULL)
        return bad(c, n, "after", "a study name or a list of study names");
    spec->after = xcalloc(count, sizeof(*spec->after));
    for (size_t i = 0; i < count; i++) {
        const struct doc_node *e = list ? n->items[i] : n;
        const char *s = scalar_text(e);

        if (list)
            fieldf(f, sizeof(f), "after[%zu]", i);
        else
            fieldf(f, sizeof(f), "after");
        if (!s || !name_ok(s, false))
            return bad(c, e, f,
                       "a study name of letters, digits, '.', '_' and '-' (starting "
                       "with a letter or digit, at most 100 characters)");
        if (strcmp(s, spec->name) == 0)
            return bad(c, e, f, "the name of another study (not this one)");
        spec->after[spec->nafter++] = xstrdup(s);
    }
    return SWEEP_OK;
}

/* Checking {steps.NAME.dir|result} and {reduce.input} in one command element. */
struct refs {
    struct ctx *c;
    const struct doc_node *at; /* the element, for its line and column */
    const char *field;         /* e.g. "steps[1].command[2]" */
    const struct spec *spec;
    long step;     /* index of the step whose command this is; -1: the reduce */
    bool reported; /* the error is set */
};

static int refs_fail(struct refs *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int refs_fail(struct refs *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->reported = true;
    return failf(r->c, r->at, "%s: %s", r->field, msg);
}

static int refs_step(struct refs *r, const char *name)
{
    const struct spec *spec = r->spec;
    const char *rest = name + strlen("steps."), *dot = strchr(rest, '.');
    struct strbuf all = STRBUF_INIT;
    char *step;
    int idx;

    if (r->step < 0)
        return refs_fail(r,
                         "{%s}: the reduce cannot use {steps...}; every step's results "
                         "are in {reduce.input}",
                         name);
    if (!spec->has_steps)
        return refs_fail(r, "{%s}: a single-step study has no steps to refer to", name);
    if (!dot || (strcmp(dot, ".dir") != 0 && strcmp(dot, ".result") != 0))
        return refs_fail(r, "{%s}: expected {steps.NAME.dir} or {steps.NAME.result}",
                         name);
    step = xstrndup(rest, (size_t)(dot - rest));
    idx = spec_step_index(spec, step);
    if (idx < 0) {
        struct suggest sg;
        char near[SPEC_MAX_NAME + 32] = "";

        suggest_init(&sg, step);
        for (size_t i = 0; i < spec->nsteps; i++) {
            sb_addf(&all, "%s%s", i ? ", " : "", spec->steps[i].name);
            suggest_add(&sg, spec->steps[i].name);
        }
        if (suggest_best(&sg))
            snprintf(near, sizeof(near), " (did you mean \"%s\"?)", suggest_best(&sg));
        refs_fail(r, "{%s}: unknown step \"%s\"%s; the steps are: %s", name, step, near,
                  sb_str(&all));
    } else if (idx == r->step) {
        refs_fail(r,
                  "{%s}: a step can only use the steps before it; \"%s\" is this "
                  "step",
                  name, step);
    } else if (idx > r->step) {
        refs_fail(r,
                  "{%s}: a step can only use the steps before it; \"%s\" runs after "
                  "\"%s\"",
                  name, step, spec->steps[r->step].name);
    }
    sb_fini(&all);
    free(step);
    return r->reported ? SWEEP_EINVAL : SWEEP_OK;
}

static int refs_name(const char *name, size_t column, void *arg)
{
    struct refs *r = arg;

    (void)column;
    if (strncmp(name, "steps.", 6) == 0)
        return refs_step(r, name);
    if (strncmp(name, "reduce.", 7) != 0)
        return SWEEP_OK; /* parameters and built-ins: checked by the runner */
    if (strcmp(name, "reduce.input") != 0)
        return refs_fail(r, "{%s}: expected {reduce.input}", name);
    if (r->step >= 0)
        return refs_fail(r, "{reduce.input}: only the reduce's command can use it");
    return SWEEP_OK;
}

/* The command of step `step` (-1: the reduce), as written at `cmd` under `pre`. */
static int check_refs(struct ctx *c,
                      const struct doc_node *cmd,
                      const char *pre,
                      const struct spec *spec,
                      long step)
{
    const struct spec_step *st = step < 0 ? spec->reduce : &spec->steps[step];
    char field[320];

    if (!cmd)
        return SWEEP_OK;
    for (size_t i = 0; i < st->argc; i++) {
        struct refs r = {
            c, cmd->type == DOC_SEQ ? cmd->items[i] : cmd, field, spec, step, false};
        struct err terr = {0};

        if (cmd->type == DOC_SEQ)
            fieldf(field, sizeof(field), "%s%scommand[%zu]", pre, *pre ? "." : "", i);
        else
            subfield(field, sizeof(field), pre, "command");
        if (tmpl_each_name(st->argv[i], refs_name, &r, &terr) == SWEEP_OK)
            continue;
        if (!r.reported)
            failf(c, r.at, "%s: %s", field, terr.msg);
        return SWEEP_EINVAL;
    }
    return SWEEP_OK;
}

/* Every command's step references, in the order the steps are written. */
static int
check_all_refs(struct ctx *c, const struct doc_node *root, const struct spec *spec)
{
    const struct doc_node *steps = doc_map_get(root, "steps");
    const struct doc_node *reduce = doc_map_get(root, "reduce");
    char pre[64];

    if (!steps && check_refs(c, doc_map_get(root, "command"), "", spec, 0))
        return SWEEP_EINVAL;
    for (size_t i = 0; steps && i < spec->nsteps; i++) {
        fieldf(pre, sizeof(pre), "steps[%zu]", i);
        if (check_refs(c, doc_map_get(steps->items[i], "command"), pre, spec, (long)i))
            return SWEEP_EINVAL;
    }
    if (reduce && check_refs(c, doc_map_get(reduce, "command"), "reduce", spec, -1))
        return SWEEP_EINVAL;
    return SWEEP_OK;
}

/* ---- the spec ---- */

static const char *const spec_fields[] = {
    "study",       "description", "model",        "command", "shell",   "steps",
    "reduce",      "after",       "parameters",   "zip",     "base",    "tasks",
    "repetitions", "priority",    "max_parallel", "cpus",    "timeout", "kill_after",
    "retries",     "rate_limit",  "workdir",      "env",
};

bool spec_is_field(const char *name)
{
    for (size_t i = 0; i < NELEMS(spec_fields); i++)
        if (strcmp(name, spec_fields[i]) == 0)
            return true;
    return false;
}

/* model/command/shell at the top level, or `steps` (then checked by parse_steps). */
static int parse_kind(struct ctx *c, const struct doc_node *root, struct spec *spec)
{
    static const char *const top[] = {"model", "command", "shell"};
    const struct doc_node *steps = doc_map_get(root, "steps"), *v;
    struct spec_step st = {0};
    int rc;

    if (steps) {
        for (size_t i = 0; i < NELEMS(top); i++) {
            if ((v = doc_map_get(root, top[i])))
                return failf(c, v,
                             "%s: expected either steps or %s (set it on each step), "
                             "got both (steps at %d:%d)",
                             top[i], top[i], steps->line, steps->col);
        }
        return SWEEP_OK;
    }
    rc = parse_what(c, root, "", &st);
    spec->kind = st.kind;
    spec->model = st.model;
    spec->argv = st.argv;
    spec->argc = st.argc;
    spec->shell = st.shell;
    return rc;
}

static int parse_run(struct ctx *c, const struct doc_node *root, struct spec *spec)
{
    static const char pos[] = "a positive integer";
    const struct doc_node *v;
    struct spec_step st = {
        .priority = spec->priority,
        .cpus = spec->cpus,
        .timeout = spec->timeout,
        .kill_after = spec->kill_after,
        .retry = spec->retry,
    };
    int rc;

    if ((v = doc_map_get(root, "repetitions")) &&
        get_int(c, v, "repetitions", 1, pos, &spec->repetitions))
        return SWEEP_EINVAL;
    if ((v = doc_map_get(root, "max_parallel")) &&
        get_int(c, v, "max_parallel", 1, pos, &spec->max_parallel))
        return SWEEP_EINVAL;
    rc = parse_settings(c, root, "", &st);
    spec->priority = st.priority;
    spec->cpus = st.cpus;
    spec->timeout = st.timeout;
    spec->kill_after = st.kill_after;
    spec->retry = st.retry;
    if (rc)
        return rc;
    if ((v = doc_map_get(root, "rate_limit")) && parse_rate(c, v, &spec->rate_limit))
        return SWEEP_EINVAL;
    if ((v = doc_map_get(root, "workdir"))) {
        if (v->type != DOC_STRING || !v->text[0])
            return bad(c, v, "workdir", "a directory path");
        spec->workdir = join_path(spec->dir, v->text);
    }
    if ((v = doc_map_get(root, "env")) && parse_env(c, v, spec))
        return SWEEP_EINVAL;
    return SWEEP_OK;
}

/* The pipeline fields, once the study's settings (which steps inherit) are known. */
static int parse_chain(struct ctx *c, const struct doc_node *root, struct spec *spec)
{
    const struct doc_node *v;

    if ((v = doc_map_get(root, "steps"))) {
        if (parse_steps(c, v, spec))
            return SWEEP_EINVAL;
    } else {
        single_step(spec);
    }
    if ((v = doc_map_get(root, "reduce")) && parse_reduce(c, v, spec))
        return SWEEP_EINVAL;
    if ((v = doc_map_get(root, "after")) && parse_after(c, v, spec))
        return SWEEP_EINVAL;
    return check_all_refs(c, root, spec);
}

/* A document with neither "study" nor "tasks": adds to the message what was tried. */
static int not_a_spec(struct ctx *c)
{
    size_t n = strlen(c->err->msg);

    snprintf(c->err->msg + n, sizeof(c->err->msg) - n,
             " (tried: a study spec, study: NAME ...; a task-queue JSON, "
             "{\"metadata\": {...}, \"tasks\": [...]}; a tasks.yaml, tasks: [...])");
    return SWEEP_EINVAL;
}

static int parse_root(struct ctx *c, const struct doc_node *root, struct spec *spec)
{
    const struct doc_node *v, *params, *zip;
    const char *s;

    if (root->type != DOC_MAP) {
        failf(c, root,
              "expected a mapping of study fields (study: ..., command: "
              "...), got %s",
              root->type == DOC_SEQ ? "a list"
              : doc_is_empty(root)  ? "an empty document"
                                    : "a single value");
        return not_a_spec(c);
    }
    if (check_fields(c, root, "", spec_fields, NELEMS(spec_fields))) {
        if (!doc_map_get(root, "study"))
            not_a_spec(c);
        return SWEEP_EINVAL;
    }
    if (!(v = doc_map_get(root, "study"))) {
        err_set(c->err, SWEEP_EINVAL, "%s: missing required field \"study\"", c->file);
        return not_a_spec(c);
    }
    if (!(s = scalar_text(v)) || !name_ok(s, false))
        return bad(
            c, v, "study",
            "a name of letters, digits, '.', '_' and '-' (starting with a letter or "
            "digit, at most 100 characters)");
    spec->name = xstrdup(s);
    if ((v = doc_map_get(root, "description")) && v->type != DOC_NULL) {
        if (!(s = scalar_text(v)))
            return bad(c, v, "description", "a string");
        spec->description = xstrdup(s);
    }
    if (parse_kind(c, root, spec))
        return SWEEP_EINVAL;
    params = doc_map_get(root, "parameters");
    zip = doc_map_get(root, "zip");
    if (zip && !params)
        return bad(c, zip, "zip", "parameters to zip (there is no parameters field)");
    if (params && parse_parameters(c, params, zip, spec))
        return SWEEP_EINVAL;
    if ((v = doc_map_get(root, "base")) && parse_base(c, v, params, spec))
        return SWEEP_EINVAL;
    if ((v = doc_map_get(root, "tasks")) && parse_tasks(c, v, spec))
        return SWEEP_EINVAL;
    /* Neither parameters nor tasks: one task with the base parameters. */
    spec->has_grid = params || !spec->tasks;
    if (parse_run(c, root, spec))
        return SWEEP_EINVAL;
    return parse_chain(c, root, spec);
}

/* ---- where fields were written (spec_where) ---- */

static void where_put(json_t *where, const char *field, const struct doc_node *at)
{
    json_object_set_new(where, field, json_pack("[ii]", at->line, at->col));
}

/* The model and command elements of the step (or study, or reduce) mapping `map`. */
static void where_step(json_t *where, const struct doc_node *map, const char *pre)
{
    const struct doc_node *model = doc_map_get(map, "model");
    const struct doc_node *cmd = doc_map_get(map, "command");
    char f[128];

    if (model) {
        fieldf(f, sizeof(f), "%smodel", pre);
        where_put(where, f, model);
    }
    for (size_t i = 0; cmd && i < (cmd->type == DOC_SEQ ? cmd->n : 1); i++) {
        fieldf(f, sizeof(f), "%scommand[%zu]", pre, i);
        where_put(where, f, cmd->type == DOC_SEQ ? cmd->items[i] : cmd);
    }
}

/* The keys of parameters and base, and the first task key of each name, stored as
 * "tasks.NAME": [line, col, index]. */
static void where_params(json_t *where, const struct doc_node *root)
{
    static const char *const maps[] = {"parameters", "base"};
    const struct doc_node *tasks = doc_map_get(root, "tasks");
    char f[256];

    for (size_t m = 0; m < NELEMS(maps); m++) {
        const struct doc_node *map = doc_map_get(root, maps[m]);
        for (size_t i = 0; map && map->type == DOC_MAP && i < map->n; i++) {
            fieldf(f, sizeof(f), "%s.%s", maps[m], map->keys[i]->text);
            where_put(where, f, map->keys[i]);
        }
    }
    for (size_t t = 0; tasks && tasks->type == DOC_SEQ && t < tasks->n; t++) {
        const struct doc_node *task = tasks->items[t];
        for (size_t i = 0; task->type == DOC_MAP && i < task->n; i++) {
            const struct doc_node *k = task->keys[i];
            fieldf(f, sizeof(f), "tasks.%s", k->text);
            if (!json_object_get(where, f))
                json_object_set_new(where, f,
                                    json_pack("[iiI]", k->line, k->col, (json_int_t)t));
        }
    }
}

static json_t *where_record(const struct doc_node *root)
{
    const struct doc_node *steps = doc_map_get(root, "steps");
    const struct doc_node *reduce = doc_map_get(root, "reduce");
    json_t *where = json_object();
    char pre[64];

    where_step(where, root, "");
    for (size_t i = 0; steps && steps->type == DOC_SEQ && i < steps->n; i++) {
        fieldf(pre, sizeof(pre), "steps[%zu].", i);
        where_step(where, steps->items[i], pre);
    }
    if (reduce)
        where_step(where, reduce, "reduce.");
    where_params(where, root);
    return where;
}

int spec_where(const struct spec *spec, const char *field, int *line, int *col)
{
    json_t *at = json_object_get(spec->where, field);

    *line = (int)json_integer_value(json_array_get(at, 0));
    *col = (int)json_integer_value(json_array_get(at, 1));
    return at ? 0 : -1;
}

const char *spec_where_label(const struct spec *spec, const char *field)
{
    json_t *label = json_array_get(json_object_get(spec->where, field), 2);

    return json_is_string(label) ? json_string_value(label) : field;
}

/* The field path of task `index`'s parameter `name`: in a task file parameters are a
 * mapping of their own. */
static void task_param_label(
    const struct spec *spec, long long index, const char *name, char *buf, size_t n)
{
    if (spec->format && strcmp(name, "task_id") != 0)
        snprintf(buf, n, "tasks[%lld].parameters.%s", index, name);
    else
        snprintf(buf, n, "tasks[%lld].%s", index, name);
}

int spec_task_param_where(const struct spec *spec,
                          size_t index,
                          const char *name,
                          char *field,
                          size_t n,
                          int *line,
                          int *col)
{
    char *key = xasprintf("tasks[%zu].%s", index, name);
    int rc = spec_where(spec, key, line, col);

    free(key);
    if (rc != 0)
        return spec_param_where(spec, name, field, n, line, col);
    task_param_label(spec, (long long)index, name, field, n);
    return 0;
}

void spec_step_prefix(const struct spec *spec, int step, char *buf, size_t n)
{
    if (step >= 0 && (size_t)step == spec->nsteps)
        snprintf(buf, n, "reduce.");
    else if (spec->has_steps)
        snprintf(buf, n, "steps[%d].", step);
    else
        snprintf(buf, n, "%s", "");
}

int spec_param_where(const struct spec *spec,
                     const char *name,
                     char *field,
                     size_t n,
                     int *line,
                     int *col)
{
    json_t *at;
    char *key;

    snprintf(field, n, "parameters.%s", name);
    if (spec_where(spec, field, line, col) == 0)
        return 0;
    snprintf(field, n, "base.%s", name);
    if (spec_where(spec, field, line, col) == 0)
        return 0;
    key = xasprintf("tasks.%s", name);
    at = json_object_get(spec->where, key);
    free(key);
    *line = (int)json_integer_value(json_array_get(at, 0));
    *col = (int)json_integer_value(json_array_get(at, 1));
    if (at)
        task_param_label(spec, (long long)json_integer_value(json_array_get(at, 2)),
                         name, field, n);
    else
        snprintf(field, n, "%s", "");
    return at ? 0 : -1;
}

int spec_parse(
    const char *path, const char *text, size_t len, struct spec **out, struct err *err)
{
    struct ctx c = {path && *path ? path : "<spec>", err, 0};
    struct doc_node *root = NULL;
    struct spec *spec;
    int rc;

    *out = NULL;
    if ((rc = doc_parse(c.file, text, len, &root, err)))
        return rc;
    if (taskfile_detect(root))
        return taskfile_to_spec(path, root, out, err); /* takes root */
    spec = xcalloc(1, sizeof(*spec));
    spec->path = xstrdup(path ? path : "");
    spec->base = json_object();
    spec->repetitions = 1;
    spec->priority = PRIORITY_MEDIUM;
    spec->cpus = 1;
    spec->timeout = 86400;
    spec->kill_after = 10;
    spec->retry = retry_defaults();
    if (!(rc = spec_dir(&c, path, &spec->dir)))
        rc = parse_root(&c, root, spec);
    if (!rc) {
        spec->json = doc_to_json(root);
        spec->where = where_record(root);
    }
    doc_destroy(root);
    if (rc) {
        spec_destroy(spec);
        return rc;
    }
    *out = spec;
    return SWEEP_OK;
}

int spec_load(const char *path, struct spec **out, struct err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = fileio_read_user(path, DOC_MAX_SIZE, &text, &len, err);
    if (rc == SWEEP_OK)
        rc = spec_parse(path, text, len, out, err);
    free(text);
    return rc;
}

void spec_destroy(struct spec *spec)
{
    if (!spec)
        return;
    free(spec->path);
    free(spec->dir);
    free(spec->name);
    free(spec->description);
    free(spec->model);
    for (size_t i = 0; i < spec->argc; i++)
        free(spec->argv[i]);
    free(spec->argv);
    json_decref(spec->base);
    for (size_t i = 0; i < spec->ndims; i++) {
        struct spec_dim *d = &spec->dims[i];
        for (size_t k = 0; k < d->nnames; k++)
            free(d->names[k]);
        free(d->names);
        for (size_t k = 0; k < d->nrows * d->nnames; k++)
            json_decref(d->values[k]);
        free(d->values);
    }
    free(spec->dims);
    json_decref(spec->tasks);
    free(spec->retry.exit_codes);
    free(spec->workdir);
    json_decref(spec->env);
    for (size_t i = 0; i < spec->nsteps; i++)
        step_fini(&spec->steps[i]);
    free(spec->steps);
    if (spec->reduce)
        step_fini(spec->reduce);
    free(spec->reduce);
    for (size_t i = 0; i < spec->nafter; i++)
        free(spec->after[i]);
    free(spec->after);
    json_decref(spec->where);
    json_decref(spec->json);
    for (size_t i = 0; i < spec->nseed_names; i++)
        free(spec->seed_names[i]);
    free(spec->seed_names);
    free(spec);
}

void spec_add_seed_name(struct spec *spec, const char *name)
{
    if (strcmp(name, "seed") == 0)
        return;
    for (size_t i = 0; i < spec->nseed_names; i++)
        if (strcmp(spec->seed_names[i], name) == 0)
            return;
    spec->seed_names =
        xrealloc(spec->seed_names, (spec->nseed_names + 1) * sizeof(*spec->seed_names));
    spec->seed_names[spec->nseed_names++] = xstrdup(name);
}

int spec_step_index(const struct spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->nsteps; i++)
        if (strcmp(spec->steps[i].name, name) == 0)
            return (int)i;
    return -1;
}

const struct spec_step *spec_step_at(const struct spec *spec, int step)
{
    return step < (int)spec->nsteps ? &spec->steps[step] : spec->reduce;
}

void spec_retries_default(struct spec *spec, int max)
{
    for (size_t i = 0; i <= spec->nsteps; i++) {
        struct spec_step *st = i < spec->nsteps ? &spec->steps[i] : spec->reduce;
        if (st && !st->retry.set)
            st->retry.max = max;
    }
}

char **spec_step_names(const struct spec *spec)
{
    char **v = xcalloc(spec->nsteps + 1, sizeof(char *));

    for (size_t i = 0; i < spec->nsteps; i++)
        v[i] = spec->steps[i].name;
    return v;
}

int priority_parse(const char *s, int *out)
{
    static const struct {
        const char *name;
        int value;
    } names[] = {
        {"high", PRIORITY_HIGH}, {"medium", PRIORITY_MEDIUM}, {"low", PRIORITY_LOW}};
    char *end;
    long v;

    for (size_t i = 0; i < NELEMS(names); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].value;
            return 0;
        }
    }
    if (!((*s >= '0' && *s <= '9') ||
          ((*s == '-' || *s == '+') && s[1] >= '0' && s[1] <= '9')))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < INT_MIN || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

const char *priority_name(int priority)
{
    if (priority >= PRIORITY_HIGH)
        return "HIGH";
    if (priority == PRIORITY_MEDIUM)
        return "MEDIUM";
    return "LOW";
}
