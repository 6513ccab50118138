/* sweep plot: one metric of a study against one numeric parameter, the mean over the
 * repetitions of each point with its standard error as an error bar, one series per
 * combination of the values of the other parameters that vary. The chart is built by
 * report/plot.c (shared with the service's GET /studies/{id}/plot.svg); this file
 * parses the options, picks the axis labels (the model's short descriptions with
 * units, models/label.c) and writes the file. */
#include "cli.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/store.h"
#include "models/model.h"
#include "report/chart.h"
#include "report/plot.h"

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

static int plot_main(int argc, char **argv)
{
    struct options o = {
        .out = "plot.png", .width = PLOT_WIDTH, .height = PLOT_HEIGHT, .scale = 1};
    struct plot_spec p = {0};
    struct strbuf notes = STRBUF_INIT;
    struct store *st = NULL;
    struct store_study s = {0};
    struct chart *ch = NULL;
    const struct model *m;
    char *xlabel = NULL, *ylabel = NULL;
    struct err err = {0};
    size_t npoints = 0;
    int width, height, rc = parse_options(argc, argv, &o);
    bool png;

    if (rc != EXIT_OK)
        return rc;
    if (chart_check_path(o.out, &err) || store_open(cli_home(o.home), &st, &err) ||
        store_study_get(st, o.study, &s, &err) ||
        cli_step_index(&s, o.step, &p.step, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    m = model_of_spec(s.spec_json);
    xlabel = o.xlabel ? xstrdup(o.xlabel) : model_axis_label(m, o.x, true);
    ylabel = o.ylabel ? xstrdup(o.ylabel) : model_axis_label(m, o.y, false);
    p.x = o.x;
    p.y = o.y;
    p.by = o.by;
    p.title = o.title;
    p.xlabel = xlabel;
    p.ylabel = ylabel;
    p.logx = o.logx;
    p.logy = o.logy;
    p.fit = o.fit;
    rc = plot_build(st, &s, &p, &ch, &npoints, &notes, &err);
    fputs(sb_str(&notes), stdout);
    if (rc) {
        rc = cli_fail(&err);
        goto out;
    }
    if (npoints == 0) {
        fprintf(stderr,
                "sweep: study %s has no succeeded task with metric \"%s\" to plot\n",
                s.name, o.y);
        rc = EXIT_TASK_FAILED;
        goto out;
    }
    /* --scale multiplies a PNG's pixels (fonts and lines grow with the picture). */
    png = strlen(o.out) > 4 && strcasecmp(o.out + strlen(o.out) - 4, ".png") == 0;
    width = png ? (int)lround(o.width * o.scale) : o.width;
    height = png ? (int)lround(o.height * o.scale) : o.height;
    if (chart_render(ch, o.out, width, height, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("wrote %s\n", o.out);
out:
    chart_destroy(ch);
    free(xlabel);
    free(ylabel);
    sb_fini(&notes);
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
