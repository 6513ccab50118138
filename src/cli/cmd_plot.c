/* sweep plot: one metric of a study against one numeric parameter, the mean over the
 * repetitions of each point with its standard error as an error bar, one series per
 * value of an optional --by parameter. The statistics come from core/aggregate.c
 * (grouped by [x] or [by, x], so the groups of one series are contiguous and ordered by
 * x); the picture from report/chart.c. Axis labels carry the unit when the study's
 * model knows it. */
#include "cli.h"

#include "common/jsonx.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/store.h"
#include "models/model.h"
#include "report/chart.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_plot;

#define PLOT_WIDTH 800
#define PLOT_HEIGHT 500

struct options {
    const char *x, *y, *by, *out, *title, *home, *study, *step;
    bool logx, logy;
};

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
        OPT_STEP
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
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        switch (c) {
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

/* "name (unit)" when the model gives the parameter (is_param) or metric a unit, else
 * "name". New string. */
static char *axis_label(const struct model *m, const char *name, bool is_param)
{
    const char *unit = NULL;

    if (m && is_param) {
        const struct model_param *p = model_param_find(m, name);
        unit = p ? p->unit : NULL;
    }
    for (size_t i = 0; m && !is_param && i < m->nmetrics; i++)
        if (strcmp(m->metrics[i].name, name) == 0)
            unit = m->metrics[i].unit;
    return unit && *unit ? xasprintf("%s (%s)", name, unit) : xstrdup(name);
}

/* Two --by values of one series: equal numbers (1 and 1.0) or equal JSON. */
static bool same_value(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

/* The legend entry "<by>=<value>": numbers without a trailing ".0", null as "null". */
static char *series_name(const char *by, const json_t *v)
{
    char *text, *name;

    if (json_is_null(v))
        return xasprintf("%s=null", by);
    text = jsonx_arg_str(v);
    if (json_is_real(v)) {
        size_t len = strlen(text);
        if (len > 2 && strcmp(text + len - 2, ".0") == 0)
            text[len - 2] = '\0';
    }
    name = xasprintf("%s=%s", by, text);
    free(text);
    return name;
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

/* Adds one series per run of groups with the same --by value (or one series for all
 * groups without --by), skipping groups with no samples of the metric. Returns the
 * number of points added. */
static size_t add_series(struct chart *ch, const struct aggregate *a)
{
    double *x = xcalloc(a->ngroups ? a->ngroups : 1, sizeof(double));
    double *y = xcalloc(a->ngroups ? a->ngroups : 1, sizeof(double));
    double *yerr = xcalloc(a->ngroups ? a->ngroups : 1, sizeof(double));
    size_t total = 0, g = 0;

    while (g < a->ngroups) {
        const json_t *key = json_array_get(a->groups[g].values, 0);
        size_t n = 0, end = g;
        while (
            end < a->ngroups &&
            (a->nby == 1 || same_value(key, json_array_get(a->groups[end].values, 0))))
            end++;
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
            char *name = a->nby == 2 ? series_name(a->by[0], key) : NULL;
            chart_add_series(ch, name, n, x, y, yerr, CHART_LINE_POINTS);
            free(name);
            total += n;
        }
    }
    free(x);
    free(y);
    free(yerr);
    return total;
}

static int plot_main(int argc, char **argv)
{
    struct options o = {.out = "plot.png"};
    const char *by[2];
    size_t nby = 0;
    struct store *st = NULL;
    struct store_study s = {0};
    struct aggregate a = {0};
    struct chart *ch = NULL;
    const struct model *m;
    char *xlabel = NULL, *ylabel = NULL;
    struct err err = {0};
    int step, rc = parse_options(argc, argv, &o);

    if (rc != EXIT_OK)
        return rc;
    if (o.by)
        by[nby++] = o.by;
    by[nby++] = o.x;
    if (chart_check_path(o.out, &err) || store_open(cli_home(o.home), &st, &err) ||
        store_study_get(st, o.study, &s, &err) ||
        cli_step_index(&s, o.step, &step, &err) ||
        aggregate_study_step(st, s.id, step, by, nby, &o.y, 1, &a, &err) ||
        check_numeric_x(&a, &err)) {
        rc = cli_fail(&err);
        goto out;
    }

    m = study_model(&s);
    xlabel = axis_label(m, o.x, true);
    ylabel = axis_label(m, o.y, false);
    ch = chart_create(o.title ? o.title : s.name);
    chart_set_label(ch, CHART_X, xlabel);
    chart_set_label(ch, CHART_Y, ylabel);
    chart_set_log(ch, CHART_X, o.logx);
    chart_set_log(ch, CHART_Y, o.logy);
    if (add_series(ch, &a) == 0) {
        fprintf(stderr,
                "sweep: study %s has no succeeded task with metric \"%s\" to plot\n",
                s.name, o.y);
        rc = EXIT_TASK_FAILED;
        goto out;
    }
    if (chart_render(ch, o.out, PLOT_WIDTH, PLOT_HEIGHT, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("wrote %s\n", o.out);
out:
    chart_destroy(ch);
    free(xlabel);
    free(ylabel);
    aggregate_fini(&a);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_plot = {
    .name = "plot",
    .summary = "plot a metric against a parameter, mean with error bars",
    .usage =
        "Usage: sweep plot STUDY --x PARAM --y METRIC [--by PARAM] [--logx] [--logy]\n"
        "                  [-o FILE] [--title TEXT] [--step NAME] [--home DIR]\n"
        "\n"
        "Plots the metric METRIC of a study against the numeric parameter PARAM: for\n"
        "each value of PARAM, the mean over the succeeded tasks (the repetitions) "
        "with\n"
        "an error bar of one standard error (std / sqrt(n); none for fewer than two\n"
        "samples). With --by, one series per value of that parameter, named\n"
        "\"<by>=<value>\" in the legend. Points are joined in order of PARAM; a point\n"
        "without a succeeded task is left out. Axis labels are the parameter and\n"
        "metric names, with their units when the study's model gives them.\n"
        "\n"
        "Options:\n"
        "  --x PARAM            the parameter on the x axis (its values must be\n"
        "                       numbers)\n"
        "  --y METRIC           the metric on the y axis\n"
        "  --by PARAM           one series per value of this parameter\n"
        "  --logx, --logy       logarithmic axis (non-positive values are not drawn)\n"
        "  -o, --output FILE    the picture: .png, .svg or .pdf (default plot.png)\n"
        "  --title TEXT         the title (default: the study name)\n"
        "  --step NAME          a pipeline's step (default: its last step)\n"
        "  --home DIR           sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help           show this help\n"
        "\n"
        "An unknown study, parameter or metric, a non-numeric PARAM or an unknown\n"
        "file extension exits 2; a study with nothing to plot yet exits 1.\n"
        "\n"
        "Example:\n"
        "  sweep plot dla --x n_particles --y df --logx -o df.png\n"
        "  wrote df.png\n",
    .fn = plot_main,
};
