/* sweep plot: one metric of a study against one numeric parameter, the mean over the
 * repetitions of each point with its standard error as an error bar, one series per
 * combination of the values of the other parameters that vary (--by first, then the
 * rest by name), so that points of different parameter values are never pooled. The
 * statistics and the optional power-law fit come from core/aggregate.c (grouped by
 * [by..., x], so the groups of one series are contiguous and ordered by x); the
 * picture from report/chart.c. Axis labels are the model's short descriptions with
 * units when the study's model knows them. */
#include "cli.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/store.h"
#include "models/model.h"
#include "report/chart.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const struct cli_cmd cmd_plot;

#define PLOT_WIDTH 800
#define PLOT_HEIGHT 500
/* More series than this in one plot is refused rather than drawn unreadable. */
#define PLOT_MAX_SERIES 20

struct options {
    const char *x, *y, *by, *out, *title, *home, *study, *step, *xlabel, *ylabel;
    bool logx, logy, fit;
    int width, height;
    double scale;
};

static int parse_scale(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.25 && v <= 8))
        return cli_usage_error(
            &cmd_plot, "--scale: expected a number from 0.25 to 8, got \"%s\"", s);
    *out = v;
    return EXIT_OK;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    enum {
        OPT_X = 256,
        OPT_Y,
        OPT_BY,
        OPT_LOGX,
        OPT_LOGY,
        OPT_TITLE,
        OPT_HOME,
        OPT_STEP,
        OPT_XLABEL,
        OPT_YLABEL,
        OPT_WIDTH,
        OPT_HEIGHT,
        OPT_SCALE,
        OPT_FIT
    };
    static const struct option opts[] = {
        {"x", required_argument, NULL, OPT_X},
        {"y", required_argument, NULL, OPT_Y},
        {"by", required_argument, NULL, OPT_BY},
        {"logx", no_argument, NULL, OPT_LOGX},
        {"logy", no_argument, NULL, OPT_LOGY},
        {"output", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, OPT_TITLE},
        {"step", required_argument, NULL, OPT_STEP},
        {"home", required_argument, NULL, OPT_HOME},
        {"xlabel", required_argument, NULL, OPT_XLABEL},
        {"ylabel", required_argument, NULL, OPT_YLABEL},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"height", required_argument, NULL, OPT_HEIGHT},
        {"scale", required_argument, NULL, OPT_SCALE},
        {"fit", required_argument, NULL, OPT_FIT},
        {NULL, 0, NULL, 0},
    };
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        switch (c) {
        case OPT_XLABEL:
            o->xlabel = optarg;
            break;
        case OPT_YLABEL:
            o->ylabel = optarg;
            break;
        case OPT_WIDTH:
            if ((rc = cli_parse_size(&cmd_plot, "--width", optarg, &o->width)) !=
                EXIT_OK)
                return rc;
            break;
        case OPT_HEIGHT:
            if ((rc = cli_parse_size(&cmd_plot, "--height", optarg, &o->height)) !=
                EXIT_OK)
                return rc;
            break;
        case OPT_SCALE:
            if ((rc = parse_scale(optarg, &o->scale)) != EXIT_OK)
                return rc;
            break;
        case OPT_FIT:
            if (strcmp(optarg, "power") != 0)
                return cli_usage_error(&cmd_plot, "--fit: expected power, got \"%s\"",
                                       optarg);
            o->fit = o->logx = o->logy = true;
            break;
        case OPT_X:
            o->x = optarg;
            break;
        case OPT_Y:
            o->y = optarg;
            break;
        case OPT_BY:
            o->by = optarg;
            break;
        case OPT_LOGX:
            o->logx = true;
            break;
        case OPT_LOGY:
            o->logy = true;
            break;
        case 'o':
            o->out = optarg;
            break;
        case OPT_STEP:
            o->step = optarg;
            break;
        case OPT_TITLE:
            o->title = optarg;
            break;
        case OPT_HOME:
            o->home = optarg;
            break;
        case ':':
            return cli_option_error(&cmd_plot, opts, c, argv);
        default:
            return cli_option_error(&cmd_plot, opts, c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_plot, "expected one study name");
    o->study = argv[optind];
    if (!o->x || !*o->x)
        return cli_usage_error(&cmd_plot, "--x PARAM is required");
    if (!o->y || !*o->y)
        return cli_usage_error(&cmd_plot, "--y METRIC is required");
    if (o->by && !*o->by)
        return cli_usage_error(&cmd_plot, "--by: empty parameter name");
    return EXIT_OK;
}

/* The model the study's spec names (its "model" field), or NULL: a command study, or a
 * spec that does not parse. */
static const struct model *study_model(const struct store_study *s)
{
    json_t *spec = s->spec_json ? json_loads(s->spec_json, 0, NULL) : NULL;
    const char *name = json_string_value(json_object_get(spec, "model"));
    const struct model *m = name ? model_resolve(name, NULL) : NULL;

    json_decref(spec);
    return m;
}

/* An axis label longer than this would be cut on a default-sized chart. */
#define LABEL_MAX 56

/* "name: description (unit)" from the model's row of the parameter (is_param) or
 * metric: the description's first clause (up to ";", ", " or " ("), left out when the
 * label would be longer than LABEL_MAX characters; the unit when it has one. New
 * string. */
static char *axis_label(const struct model *m, const char *name, bool is_param)
{
    const char *unit = NULL, *desc = NULL;
    struct strbuf sb = STRBUF_INIT;
    size_t len = 0;

    if (m && is_param) {
        const struct model_param *p = model_param_find(m, name);
        unit = p ? p->unit : NULL;
        desc = p ? p->desc : NULL;
    }
    for (size_t i = 0; m && !is_param && i < m->nmetrics; i++) {
        if (strcmp(m->metrics[i].name, name) == 0) {
            unit = m->metrics[i].unit;
            desc = m->metrics[i].desc;
        }
    }
    if (desc) {
        while (desc[len] && desc[len] != ';' && strncmp(desc + len, ", ", 2) != 0 &&
               strncmp(desc + len, " (", 2) != 0)
            len++;
    }
    sb_adds(&sb, name);
    if (desc && len > 0 &&
        strlen(name) + 2 + len + (unit && *unit ? strlen(unit) + 3 : 0) <= LABEL_MAX)
        sb_addf(&sb, ": %.*s", (int)len, desc);
    if (unit && *unit)
        sb_addf(&sb, " (%s)", unit);
    return sb_take(&sb);
}

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

/* The fit of one series (fit) as a legend entry and a line on stdout. */
static void add_fit(struct chart *ch,
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
        printf("%s%sno power-law fit: %s\n", name ? name : "", name ? ": " : "",
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
    printf("%s%spower-law fit: exponent %.6g", name ? name : "", name ? ": " : "",
           f.exponent);
    if (!isnan(f.exponent_stderr))
        printf(" +- %.2g", f.exponent_stderr);
    printf(", prefactor %.6g, %zu points, %s\n", f.prefactor, f.n_points,
           f.weighted ? "weighted by stderr" : "unweighted");
    sb_fini(&sb);
}

/* Adds one series per run of groups with the same values of the parameters but x
 * (one series for all groups when only x is grouped), skipping groups with no samples
 * of the metric, and with fit its power-law fit. Returns the number of points added. */
static size_t add_series(struct chart *ch, const struct aggregate *a, bool fit)
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
                add_fit(ch, a, first, end, name, x, n);
            free(name);
            total += n;
        }
    }
    free(x);
    free(y);
    free(yerr);
    return total;
}

/* The grouping: --by, then every other parameter that varies (but x and seed; a0 is
 * the study's default aggregate, grouped by those) by name, then x; so that no two
 * parameter points are pooled into one point. by[] borrows from a0 and o; *nauto is
 * how many were added besides --by and x. */
static void choose_by(const struct options *o,
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
static int check_series(const struct options *o,
                        const struct aggregate *a,
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
                nseries, sb_str(&sb), PLOT_MAX_SERIES, o->x, o->study, sb_str(&all));
        sb_fini(&sb);
        sb_fini(&all);
        return SWEEP_EINVAL;
    }
    if (nauto == 0)
        return 0;
    for (size_t i = first; i < first + nauto; i++)
        sb_addf(&sb, "%s%s", i > first ? ", " : "", a->by[i]);
    printf("one series per value of %s, which also var%s\n", sb_str(&sb),
           nauto == 1 ? "ies" : "y");
    sb_fini(&sb);
    return 0;
}

static int plot_main(int argc, char **argv)
{
    struct options o = {
        .out = "plot.png", .width = PLOT_WIDTH, .height = PLOT_HEIGHT, .scale = 1};
    const char **by = NULL;
    size_t nby = 0;
    struct store *st = NULL;
    struct store_study s = {0};
    struct aggregate a = {0}, a0 = {0};
    struct chart *ch = NULL;
    const struct model *m;
    char *xlabel = NULL, *ylabel = NULL;
    struct err err = {0};
    size_t nauto = 0;
    int step, width, height, rc = parse_options(argc, argv, &o);
    bool png;

    if (rc != EXIT_OK)
        return rc;
    if (chart_check_path(o.out, &err) || store_open(cli_home(o.home), &st, &err) ||
        store_study_get(st, o.study, &s, &err) ||
        cli_step_index(&s, o.step, &step, &err) ||
        aggregate_study_step(st, s.id, step, NULL, 0, &o.y, 1, &a0, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    by = xcalloc(a0.nby + 2, sizeof(*by));
    choose_by(&o, &a0, by, &nby, &nauto);
    if (aggregate_study_step(st, s.id, step, by, nby, &o.y, 1, &a, &err) ||
        check_numeric_x(&a, &err) || check_series(&o, &a, nauto, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    /* --scale multiplies a PNG's pixels (fonts and lines grow with the picture). */
    png = strlen(o.out) > 4 && strcasecmp(o.out + strlen(o.out) - 4, ".png") == 0;
    width = png ? (int)lround(o.width * o.scale) : o.width;
    height = png ? (int)lround(o.height * o.scale) : o.height;

    m = study_model(&s);
    xlabel = o.xlabel ? xstrdup(o.xlabel) : axis_label(m, o.x, true);
    ylabel = o.ylabel ? xstrdup(o.ylabel) : axis_label(m, o.y, false);
    ch = chart_create(o.title ? o.title : s.name);
    chart_set_label(ch, CHART_X, xlabel);
    chart_set_label(ch, CHART_Y, ylabel);
    chart_set_log(ch, CHART_X, o.logx);
    chart_set_log(ch, CHART_Y, o.logy);
    chart_set_dodge(ch, true);
    if (add_series(ch, &a, o.fit) == 0) {
        fprintf(stderr,
                "sweep: study %s has no succeeded task with metric \"%s\" to plot\n",
                s.name, o.y);
        rc = EXIT_TASK_FAILED;
        goto out;
    }
    if (chart_render(ch, o.out, width, height, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("wrote %s\n", o.out);
out:
    chart_destroy(ch);
    free(xlabel);
    free(ylabel);
    aggregate_fini(&a);
    aggregate_fini(&a0);
    free(by);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_plot = {
    .name = "plot",
    .summary = "plot a metric against a parameter, mean with error bars",
    .usage =
        "Usage: sweep plot STUDY --x PARAM --y METRIC [--by PARAM] [--fit power]\n"
        "                  [--logx] [--logy] [-o FILE] [--title TEXT]\n"
        "                  [--xlabel TEXT] [--ylabel TEXT] [--width W] [--height H]\n"
        "                  [--scale F] [--step NAME] [--home DIR] [-h]\n"
        "\n"
        "Plots the metric METRIC of a study against the numeric parameter PARAM: for\n"
        "each value of PARAM, the mean over the succeeded tasks (the repetitions)\n"
        "with an error bar of one standard error (std / sqrt(n); none for fewer than\n"
        "two samples). Parameter points are never pooled: one series per combination\n"
        "of the values of the other parameters that vary (--by first, then the rest\n"
        "by name), named \"<p>=<value>, ...\" in the legend; more than 20 series is\n"
        "refused, naming the parameters. Series at the same x stand a little apart so\n"
        "that their error bars show. Points are joined in order of PARAM; a point\n"
        "without a succeeded task is left out. Axis labels default to the names with\n"
        "the model's short descriptions and units.\n"
        "\n"
        "Options:\n"
        "  --x PARAM            the parameter on the x axis (its values must be\n"
        "                       numbers)\n"
        "  --y METRIC           the metric on the y axis\n"
        "  --by PARAM           one series per value of this parameter (first in\n"
        "                       the legend)\n"
        "  --fit power          fit mean = prefactor * PARAM^exponent to each series\n"
        "                       (as sweep aggregate --fit power: weighted by each\n"
        "                       point's stderr) and draw it dashed on log-log axes,\n"
        "                       the exponent +- its standard error in the legend\n"
        "  --logx, --logy       logarithmic axis (non-positive values are not drawn)\n"
        "  -o, --output FILE    the picture: .png, .svg or .pdf (default plot.png)\n"
        "  --title TEXT         the title (default: the study name)\n"
        "  --xlabel, --ylabel TEXT  axis labels, with units\n"
        "  --width W, --height H    size in pixels (points for PDF; default 800x500)\n"
        "  --scale F            PNG only: F times the pixels, everything F times as\n"
        "                       big (2 for a sharp picture on a high-DPI screen)\n"
        "  --step NAME          a pipeline's step (default: its last step)\n"
        "  --home DIR           sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help           show this help\n"
        "\n"
        "An unknown study, parameter or metric, a non-numeric PARAM, too many series\n"
        "or an unknown file extension exits 2; a study with nothing to plot yet\n"
        "exits 1.\n"
        "\n"
        "Example:\n"
        "  sweep plot dla --x n_particles --y df --logx -o df.png\n"
        "  wrote df.png\n"
        "  sweep plot dla --x n_particles --y rg --fit power -o rg.png\n"
        "  power-law fit: exponent 0.587 +- 0.0025, prefactor 0.944, 4 points, ...\n"
        "  wrote rg.png\n",
    .fn = plot_main,
};
