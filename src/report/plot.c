/* The plot of a study (see plot.h). */
#include "plot.h"

#include "chart.h"

#include "common/jsonx.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/store.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* "<p>=<value>": numbers without a trailing ".0", null as "null". */
static void add_param_text(struct strbuf *sb, const char *p, const json_t *v)
{
    char *text;

    if (json_is_null(v)) {
        sb_addf(sb, "%s=null", p);
        return;
    }
    text = jsonx_arg_str(v);
    if (json_is_real(v)) {
        size_t len = strlen(text);
        if (len > 2 && strcmp(text + len - 2, ".0") == 0)
            text[len - 2] = '\0';
    }
    sb_addf(sb, "%s=%s", p, text);
    free(text);
}

/* The legend entry of the series that starts at group g: "<p>=<value>, ..." of every
 * grouping parameter but x; NULL with none. New string. */
static char *series_name(const struct aggregate *a, size_t g)
{
    struct strbuf sb = STRBUF_INIT;

    if (a->nby < 2)
        return NULL;
    for (size_t i = 0; i + 1 < a->nby; i++) {
        sb_adds(&sb, i ? ", " : "");
        add_param_text(&sb, a->by[i], json_array_get(a->groups[g].values, i));
    }
    return sb_take(&sb);
}

/* Checks that every group with samples of the metric has a numeric x (the last `by`
 * value), so that nothing is drawn from a study that cannot be plotted. */
static int check_numeric_x(const struct aggregate *a, struct err *err)
{
    for (size_t g = 0; g < a->ngroups; g++) {
        const json_t *x = json_array_get(a->groups[g].values, a->nby - 1);
        if (a->groups[g].stats[0].n && !json_is_number(x)) {
            char *text = jsonx_canon_str(x);
            err_set(err, SWEEP_EINVAL,
                    "parameter \"%s\" must be numeric to be the x axis; it has the "
                    "value %s",
                    a->by[a->nby - 1], text);
            free(text);
            return SWEEP_EINVAL;
        }
    }
    return 0;
}

/* The fit of one series as a legend entry and a line of notes. */
static void add_fit(struct chart *ch,
                    struct strbuf *notes,
                    const struct aggregate *a,
                    size_t first,
                    size_t end,
                    const char *name,
                    const double *x,
                    size_t n)
{
    struct fit_power f;
    struct err err = {0};
    struct strbuf sb = STRBUF_INIT;
    double xlo = HUGE_VAL, xhi = 0;

    if (aggregate_fit_power(a, 0, first, end, &f, &err)) {
        sb_addf(notes, "%s%sno power-law fit: %s\n", name ? name : "", name ? ": " : "",
                err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (x[i] > 0) {
            xlo = fmin(xlo, x[i]);
            xhi = fmax(xhi, x[i]);
        }
    }
    sb_addf(&sb, "%s%sfit: %s \u221d %s^%.4g", name ? name : "", name ? " " : "",
            a->metrics[0], a->by[a->nby - 1], f.exponent);
    if (!isnan(f.exponent_stderr))
        sb_addf(&sb, " \u00b1 %.2g", f.exponent_stderr);
    chart_add_power_fit(ch, sb_str(&sb), f.prefactor, f.exponent, xlo, xhi);
    sb_addf(notes, "%s%spower-law fit: exponent %.6g", name ? name : "",
            name ? ": " : "", f.exponent);
    if (!isnan(f.exponent_stderr))
        sb_addf(notes, " +- %.2g", f.exponent_stderr);
    sb_addf(notes, ", prefactor %.6g, %zu points, %s\n", f.prefactor, f.n_points,
            f.weighted ? "weighted by stderr" : "unweighted");
    sb_fini(&sb);
}

/* Adds one series per run of groups with the same values of the parameters but x
 * (one series for all groups when only x is grouped), skipping groups with no samples
 * of the metric, and with fit its power-law fit. Returns the number of points added. */
static size_t
add_series(struct chart *ch, struct strbuf *notes, const struct aggregate *a, bool fit)
{
    double *x = xcalloc(a->ngroups ? a->ngroups : 1, sizeof(double));
    double *y = xcalloc(a->ngroups ? a->ngroups : 1, sizeof(double));
    double *yerr = xcalloc(a->ngroups ? a->ngroups : 1, sizeof(double));
    size_t total = 0, g = 0;

    while (g < a->ngroups) {
        size_t n = 0, first = g, end = aggregate_series_end(a, g);
        for (; g < end; g++) {
            const struct aggregate_stat *s = &a->groups[g].stats[0];
            if (!s->n)
                continue;
            x[n] = json_number_value(json_array_get(a->groups[g].values, a->nby - 1));
            y[n] = s->mean;
            yerr[n] = aggregate_stat_sem(s);
            n++;
        }
        if (n) {
            char *name = series_name(a, first);
            chart_add_series(ch,
                             name  ? name
                             : fit ? "mean \u00b1 stderr"
                                   : NULL,
                             n, x, y, yerr, fit ? CHART_POINTS : CHART_LINE_POINTS);
            if (fit)
                add_fit(ch, notes, a, first, end, name, x, n);
            free(name);
            total += n;
        }
    }
    free(x);
    free(y);
    free(yerr);
    return total;
}

/* The grouping: by, then every other parameter that varies (but x and seed; a0 is
 * the study's default aggregate, grouped by those) by name, then x; so that no two
 * parameter points are pooled into one point. by[] borrows from a0 and o; *nauto is
 * how many were added besides by and x. */
static void choose_by(const struct plot_spec *o,
                      const struct aggregate *a0,
                      const char **by,
                      size_t *nby,
                      size_t *nauto)
{
    size_t n = 0;

    *nauto = 0;
    if (o->by)
        by[n++] = o->by;
    for (size_t i = 0; i < a0->nby; i++) {
        if (strcmp(a0->by[i], o->x) == 0 || (o->by && strcmp(a0->by[i], o->by) == 0))
            continue;
        by[n++] = a0->by[i];
        (*nauto)++;
    }
    by[n++] = o->x;
    *nby = n;
}

/* Refuses more than PLOT_MAX_SERIES series, naming the parameters and how many
 * values each has; else says which parameters were added to the grouping. */
static int check_series(const struct plot_spec *o,
                        const struct store_study *s,
                        const struct aggregate *a,
                        struct strbuf *notes,
                        size_t nauto,
                        struct err *err)
{
    struct strbuf sb = STRBUF_INIT, all = STRBUF_INIT;
    size_t nseries = 0, first = o->by ? 1 : 0;

    for (size_t g = 0; g < a->ngroups; g = aggregate_series_end(a, g))
        nseries++;
    if (nseries > PLOT_MAX_SERIES) {
        for (size_t i = 0; i + 1 < a->nby; i++) {
            json_t *seen = json_object();
            for (size_t g = 0; g < a->ngroups; g++) {
                char *k = jsonx_canon_str(json_array_get(a->groups[g].values, i));
                json_object_set_new(seen, k, json_true());
                free(k);
            }
            sb_addf(&sb, "%s%s (%zu values)", i ? ", " : "", a->by[i],
                    json_object_size(seen));
            json_decref(seen);
        }
        for (size_t i = 0; i < a->nby; i++)
            sb_addf(&all, "%s%s", i ? "," : "", a->by[i]);
        err_set(err, SWEEP_EINVAL,
                "%zu series (one per combination of %s) are too many for one plot (at "
                "most %d): plot a study that varies fewer parameters besides %s, or "
                "see the numbers with sweep aggregate %s --by %s",
                nseries, sb_str(&sb), PLOT_MAX_SERIES, o->x, s->name, sb_str(&all));
        sb_fini(&sb);
        sb_fini(&all);
        return SWEEP_EINVAL;
    }
    if (nauto == 0)
        return 0;
    for (size_t i = first; i < first + nauto; i++)
        sb_addf(&sb, "%s%s", i > first ? ", " : "", a->by[i]);
    sb_addf(notes, "one series per value of %s, which also var%s\n", sb_str(&sb),
            nauto == 1 ? "ies" : "y");
    sb_fini(&sb);
    return 0;
}

int plot_build(struct store *st,
               const struct store_study *s,
               const struct plot_spec *p,
               struct chart **out,
               size_t *npoints,
               struct strbuf *notes,
               struct err *err)
{
    struct strbuf scratch = STRBUF_INIT;
    struct aggregate a = {0}, a0 = {0};
    const char **by = NULL;
    size_t nby = 0, nauto = 0;
    struct chart *ch = NULL;
    int rc;

    *out = NULL;
    *npoints = 0;
    if (!notes)
        notes = &scratch;
    rc = aggregate_study_step(st, s->id, p->step, NULL, 0, &p->y, 1, &a0, err);
    if (rc)
        goto out;
    by = xcalloc(a0.nby + 2, sizeof(*by));
    choose_by(p, &a0, by, &nby, &nauto);
    if ((rc = aggregate_study_step(st, s->id, p->step, by, nby, &p->y, 1, &a, err)) ||
        (rc = check_numeric_x(&a, err)) ||
        (rc = check_series(p, s, &a, notes, nauto, err)))
        goto out;
    ch = chart_create(p->title ? p->title : s->name);
    chart_set_label(ch, CHART_X, p->xlabel ? p->xlabel : p->x);
    chart_set_label(ch, CHART_Y, p->ylabel ? p->ylabel : p->y);
    chart_set_log(ch, CHART_X, p->logx);
    chart_set_log(ch, CHART_Y, p->logy);
    chart_set_dodge(ch, true);
    *npoints = add_series(ch, notes, &a, p->fit);
    *out = ch;
out:
    sb_fini(&scratch);
    aggregate_fini(&a);
    aggregate_fini(&a0);
    free(by);
    return rc;
}
