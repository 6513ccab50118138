/* sweep report: the progress report of a study as one picture. The numbers come from
 * the store (the study, its counts per priority band and state, the wall times of the
 * tasks that ran to an end); the drawing from report/report.c. The median collects
 * every such wall time in an array and sorts it: O(n log n) time and O(n) memory in
 * the tasks of the study, fine for studies of up to a few million tasks. */
#include "cli.h"

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/store.h"
#include "report/report.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_report;

struct options {
    const char *out, *home, *study;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    enum { OPT_HOME = 256 };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"home", required_argument, NULL, OPT_HOME},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->out = optarg;
            break;
        case OPT_HOME:
            o->home = optarg;
            break;
        case ':':
            return cli_option_error(&cmd_report, opts, c, argv);
        default:
            return cli_option_error(&cmd_report, opts, c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_report, "expected one study name");
    o->study = argv[optind];
    return EXIT_OK;
}

/* Wall times of the tasks that ran to an end. */
struct walls {
    double *v;
    size_t n, cap;
};

static int collect_wall(const struct store_task *t, void *arg)
{
    struct walls *w = arg;

    if ((t->state == TASK_SUCCEEDED || t->state == TASK_FAILED ||
         t->state == TASK_TIMED_OUT) &&
        isfinite(t->wall) && t->wall >= 0) {
        w->v = xgrow(w->v, &w->cap, w->n + 1, sizeof(*w->v));
        w->v[w->n++] = t->wall;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void walls_stats(struct walls *w, double *mean, double *median)
{
    double sum = 0;

    *mean = *median = NAN;
    if (w->n == 0)
        return;
    for (size_t i = 0; i < w->n; i++)
        sum += w->v[i];
    *mean = sum / (double)w->n;
    qsort(w->v, w->n, sizeof(*w->v), cmp_double);
    *median = w->n % 2 ? w->v[w->n / 2] : (w->v[w->n / 2 - 1] + w->v[w->n / 2]) / 2;
}

/* Run time: from the first start to the end of the last run, or to now while it runs
 * (or when the end was not recorded). */
static double run_seconds(const struct store_study *s, double now)
{
    if (s->started_at <= 0)
        return 0;
    if (s->status != STUDY_RUNNING && s->finished_at >= s->started_at)
        return s->finished_at - s->started_at;
    return fmax(0, now - s->started_at);
}

int cli_report_write(struct store *st,
                     const char *study,
                     const char *path,
                     struct err *err)
{
    struct store_study s = {0};
    struct walls w = {0};
    struct report r = {0};
    int rc;

    if ((rc = store_study_get(st, study, &s, err)) != 0 ||
        (rc = store_study_counts(st, s.id, r.counts, err)) != 0 ||
        (rc = store_task_each(st, s.id, -1, collect_wall, &w, err)) != 0)
        goto out;
    r.study = s.name;
    r.status = study_status_name(s.status);
    walls_stats(&w, &r.mean_wall, &r.median_wall);
    r.generated_at = time_now();
    r.run_seconds = run_seconds(&s, r.generated_at);
    rc = report_render(&r, path, err);
out:
    free(w.v);
    store_study_fini(&s);
    return rc;
}

static int report_main(int argc, char **argv)
{
    struct options o = {.out = "report.png"};
    struct store *st = NULL;
    struct err err = {0};
    int rc = parse_options(argc, argv, &o);

    if (rc != EXIT_OK)
        return rc;
    if (report_check_path(o.out, &err) || store_open(cli_home(o.home), &st, &err) ||
        cli_report_write(st, o.study, o.out, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("wrote %s\n", o.out);
out:
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_report = {
    .name = "report",
    .summary = "draw the progress report of a study (PNG, SVG or PDF)",
    .usage =
        "Usage: sweep report STUDY [-o FILE] [--home DIR]\n"
        "\n"
        "Draws one page on the progress of a study: a progress bar, a ring of the\n"
        "task states, one stacked bar per priority band (HIGH, MEDIUM, LOW) and a\n"
        "table of statistics: counts per state, the success rate and the mean and\n"
        "median wall time of the tasks that ran to an end (succeeded, failed, timed\n"
        "out), and the throughput in those tasks per hour of the study's run time.\n"
        "\n"
        "Options:\n"
        "  -o, --output FILE    the picture: .png, .svg or .pdf (default report.png)\n"
        "  --home DIR           sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help           show this help\n"
        "\n"
        "An unknown study or file extension exits 2.\n"
        "\n"
        "Example:\n"
        "  sweep report dla -o dla-progress.png\n"
        "  wrote dla-progress.png\n",
    .fn = report_main,
};
