/* sweep aggregate: a study's metrics per group of parameter values (n, mean, std,
 * stderr, min, max over the succeeded tasks; failed ones counted), as an aligned table,
 * CSV (one row per group) or JSON. The statistics come from core/aggregate.c and the
 * JSON text from core/view.c; this file only parses the options and prints. */
#include "cli.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/strlist.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/store.h"
#include "core/view.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_aggregate;

/* The grouping of "by=" (--by ''): no parameter, one group; not NULL, which means
 * the default grouping. */
static const char *const no_names[1];

enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

/* Statistic suffixes in the order of the CSV columns. */
static const char *const stat_names[] = {"mean", "std", "stderr", "min", "max"};
#define NSTATS (sizeof(stat_names) / sizeof(stat_names[0]))

/* The five statistics of s, NAN where undefined (no samples; std with n < 2). */
static void stat_values(const struct aggregate_stat *s, double v[NSTATS])
{
    v[0] = s->n ? s->mean : NAN;
    v[1] = aggregate_stat_std(s);
    v[2] = aggregate_stat_sem(s);
    v[3] = s->n ? s->min : NAN;
    v[4] = s->n ? s->max : NAN;
}

/* A parameter value as text: strings as they are, numbers shortest, null as "null". */
static char *value_text(const json_t *v)
{
    return json_is_null(v) ? xstrdup("null") : jsonx_arg_str(v);
}

/* ---- table ---- */

static void print_table(const struct aggregate *a)
{
    static const char *const head[] = {"metric", "n",   "mean", "std",
                                       "stderr", "min", "max",  "failed"};
    size_t nhead = sizeof(head) / sizeof(head[0]), cols = a->nby + nhead, n = 0;
    char **cell;
    bool *left = xcalloc(cols, sizeof(bool));
    size_t rows = 1 + a->ngroups * (a->nmetrics ? a->nmetrics : 1);

    cell = xcalloc(rows * cols, sizeof(char *));
    for (size_t i = 0; i < a->nby; i++)
        cell[n++] = xstrdup(a->by[i]);
    for (size_t i = 0; i < nhead; i++)
        cell[n++] = xstrdup(head[i]);
    for (size_t g = 0; g < a->ngroups; g++) {
        const struct aggregate_group *gr = &a->groups[g];
        for (size_t m = 0; m < (a->nmetrics ? a->nmetrics : 1); m++) {
            for (size_t i = 0; i < a->nby; i++)
                cell[n++] = value_text(json_array_get(gr->values, i));
            if (!a->nmetrics) {
                cell[n++] = xstrdup("-");
                cell[n++] = xasprintf("%lld", gr->n_samples);
                for (size_t s = 0; s < NSTATS; s++)
                    cell[n++] = xstrdup("-");
            } else {
                double v[NSTATS];
                stat_values(&gr->stats[m], v);
                cell[n++] = xstrdup(a->metrics[m]);
                cell[n++] = xasprintf("%lld", gr->stats[m].n);
                for (size_t s = 0; s < NSTATS; s++)
                    cell[n++] = isnan(v[s]) ? xstrdup("-") : xasprintf("%.6g", v[s]);
            }
            cell[n++] = xasprintf("%lld", gr->n_failed);
        }
    }
    /* Parameters and the metric name to the left, numbers to the right. */
    for (size_t c = 0; c < cols; c++)
        left[c] = c <= a->nby;
    cli_table_print(cell, rows, cols, left);
    for (size_t i = 0; i < rows * cols; i++)
        free(cell[i]);
    free(cell);
    free(left);
}

/* ---- CSV ---- */

/* A number in its shortest round-trip form; NAN as an empty field. */
static void csv_real(double d)
{
    char buf[32];

    if (isnan(d))
        buf[0] = '\0';
    else
        jsonx_real_str(d, buf, sizeof(buf));
    cli_csv_field(buf, false);
}

static void csv_count(long long n, bool last)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", n);
    cli_csv_field(buf, last);
}

static void print_csv(const struct aggregate *a)
{
    for (size_t i = 0; i < a->nby; i++)
        cli_csv_field(a->by[i], false);
    for (size_t m = 0; m < a->nmetrics; m++) {
        char *c = xasprintf("%s_n", a->metrics[m]);
        cli_csv_field(c, false);
        free(c);
        for (size_t s = 0; s < NSTATS; s++) {
            c = xasprintf("%s_%s", a->metrics[m], stat_names[s]);
            cli_csv_field(c, false);
            free(c);
        }
    }
    cli_csv_field("n_samples", false);
    cli_csv_field("n_failed", true);
    for (size_t g = 0; g < a->ngroups; g++) {
        const struct aggregate_group *gr = &a->groups[g];
        for (size_t i = 0; i < a->nby; i++) {
            /* null (parameter not set) is an empty field, which pandas reads as NaN. */
            char *v = jsonx_arg_str(json_array_get(gr->values, i));
            cli_csv_field(v, false);
            free(v);
        }
        for (size_t m = 0; m < a->nmetrics; m++) {
            double v[NSTATS];
            stat_values(&gr->stats[m], v);
            csv_count(gr->stats[m].n, false);
            for (size_t s = 0; s < NSTATS; s++)
                csv_real(v[s]);
        }
        csv_count(gr->n_samples, false);
        csv_count(gr->n_failed, true);
    }
}

/* ---- fits ---- */

/* "<param>=<value>, ..." of the grouping parameters but the last, for group g; "" with
 * one grouping parameter. New string. */
static char *series_text(const struct aggregate *a, size_t g)
{
    struct strbuf sb = STRBUF_INIT;

    for (size_t i = 0; i + 1 < a->nby; i++) {
        char *v = value_text(json_array_get(a->groups[g].values, i));
        sb_addf(&sb, "%s%s=%s", i ? ", " : "", a->by[i], v);
        free(v);
    }
    return sb_take(&sb);
}

/* One power-law fit per metric and run of groups (aggregate_series_end), printed as
 * lines after the table (the JSON form is view_aggregate_fits()). A fit that cannot be
 * made is said so and does not stop the others. */
static void print_fits(const struct aggregate *a)
{
    const char *x = a->by[a->nby - 1];

    for (size_t g = 0; g < a->ngroups; g = aggregate_series_end(a, g)) {
        char *where = series_text(a, g);
        size_t end = aggregate_series_end(a, g);
        for (size_t m = 0; m < a->nmetrics; m++) {
            struct fit_power f;
            struct err err = {0};
            int rc = aggregate_fit_power(a, m, g, end, &f, &err);
            printf("%s%s%spower-law fit of mean %s against %s: ",
                   m == 0 && g == 0 ? "\n" : "", where, *where ? ": " : "",
                   a->metrics[m], x);
            if (rc) {
                printf("none: %s\n", err.msg);
                continue;
            }
            printf("exponent %.6g", f.exponent);
            if (isnan(f.exponent_stderr))
                printf(" (no error from two points)");
            else
                printf(" +- %.2g", f.exponent_stderr);
            printf(", prefactor %.6g, %zu points, %s", f.prefactor, f.n_points,
                   f.weighted ? "weighted by stderr" : "unweighted");
            if (!isnan(f.chi2_dof))
                printf(", chi2/dof %.3g", f.chi2_dof);
            printf("\n");
        }
        free(where);
    }
}

/* ---- the command ---- */

static int aggregate_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"by", required_argument, NULL, 'b'},
        {"metrics", required_argument, NULL, 'm'},
        {"format", required_argument, NULL, 'f'},
        {"step", required_argument, NULL, 'S'},
        {"fit", required_argument, NULL, 'F'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL, *by_arg = NULL, *metrics_arg = NULL, *step_arg = NULL;
    char **by = NULL, **metrics = NULL, *note = NULL;
    bool fit = false;
    size_t nby = 0, nmetrics = 0;
    enum format fmt = FMT_TABLE;
    struct store *st = NULL;
    struct store_study s = {0};
    struct aggregate a = {0};
    struct err err = {0};
    int c, rc = EXIT_OK, step;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            by_arg = optarg;
            break;
        case 'm':
            metrics_arg = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "table") == 0)
                fmt = FMT_TABLE;
            else if (strcmp(optarg, "csv") == 0)
                fmt = FMT_CSV;
            else if (strcmp(optarg, "json") == 0)
                fmt = FMT_JSON;
            else
                return cli_usage_error(
                    &cmd_aggregate, "--format: expected table, csv or json, got \"%s\"",
                    optarg);
            break;
        case 'S':
            step_arg = optarg;
            break;
        case 'F':
            if (strcmp(optarg, "power") != 0)
                return cli_usage_error(&cmd_aggregate,
                                       "--fit: expected power, got \"%s\"", optarg);
            fit = true;
            break;
        case 'H':
            home = optarg;
            break;
        default:
            return cli_option_error(&cmd_aggregate, opts, c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_aggregate, "expected one study name");
    if (fit && fmt == FMT_CSV)
        return cli_usage_error(
            &cmd_aggregate, "--fit: the fits are printed with --format table or json");
    if (by_arg && strlist_split(by_arg, &by, &nby) < 0)
        return cli_usage_error(&cmd_aggregate, "--by: empty name in \"%s\"", by_arg);
    if (metrics_arg && strlist_split(metrics_arg, &metrics, &nmetrics) < 0) {
        rc = cli_usage_error(&cmd_aggregate, "--metrics: empty name in \"%s\"",
                             metrics_arg);
        goto out;
    }
    if (store_open(cli_home(home), &st, &err) ||
        store_study_get(st, argv[optind], &s, &err) ||
        view_step_index(&s, step_arg, &step, &err) ||
        aggregate_study_step(st, s.id, step,
                             by_arg ? (by ? (const char *const *)by : no_names) : NULL,
                             nby, metrics_arg ? (const char *const *)metrics : NULL,
                             nmetrics, &a, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (fit && a.nby == 0) {
        rc = cli_usage_error(&cmd_aggregate,
                             "--fit: no parameter to fit against; give --by PARAM");
        goto out;
    }
    if (fmt == FMT_TABLE) {
        print_table(&a);
        if (fit)
            print_fits(&a);
    } else if (fmt == FMT_CSV) {
        print_csv(&a);
    } else {
        char *text = view_aggregate_json_str(&a, fit);
        fputs(text, stdout);
        free(text);
    }
    if ((note = aggregate_copies_note(&a)) != NULL)
        fprintf(stderr, "sweep: %s\n", note);
out:
    free(note);
    aggregate_fini(&a);
    strlist_free(by, nby);
    strlist_free(metrics, nmetrics);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_aggregate = {
    .name = "aggregate",
    .summary = "statistics of the metrics per parameter point",
    .usage =
        "Usage: sweep aggregate STUDY [--by P1,P2] [--metrics M1,M2] [--fit power]\n"
        "                       [--format table|csv|json] [--step NAME] [--home DIR]\n"
        "\n"
        "Groups the tasks of a study by the values of the --by parameters (default:\n"
        "every parameter that varies between the tasks except seed, so the\n"
        "repetitions of each parameter point fall together) and prints, for each\n"
        "metric, n, mean, sample standard deviation (n - 1), standard error\n"
        "(std / sqrt(n)), min and max over the succeeded tasks. Failed and\n"
        "timed-out tasks are left out and counted (failed, n_failed).\n"
        "std and stderr are empty (null, '-') for fewer than two samples.\n"
        "\n"
        "Metrics: every number the tasks wrote, nested objects flattened as a.b;\n"
        "booleans count as 0 and 1 (the mean is the fraction that was true); strings\n"
        "are ignored. Groups are in natural order (numbers numerically, strings\n"
        "lexically).\n"
        "\n"
        "Options:\n"
        "  --by P1,P2             group by these parameters ('' for one group)\n"
        "  --metrics M1,M2        only these metrics (default: every numeric metric)\n"
        "  --step NAME            a pipeline's step (default: its last step)\n"
        "  --fit power            fit mean = prefactor * x^exponent across the last\n"
        "                         --by parameter x (one fit per metric and value of\n"
        "                         the other --by parameters): weighted least squares\n"
        "                         of ln(mean) against ln(x), weights from each "
        "point's\n"
        "                         stderr (sigma = stderr / mean); unweighted if a "
        "point\n"
        "                         has no stderr (n = 1 or all samples equal). The\n"
        "                         exponent's error grows with the scatter when\n"
        "                         chi2/dof > 1. Table: lines after the table; json:\n"
        "                         {\"groups\": ..., \"fits\": [{\"exponent\",\n"
        "                         \"exponent_stderr\", \"prefactor\", \"n_points\",\n"
        "                         ...}]}\n"
        "  -f, --format FORMAT    table (default): one row per group and metric;\n"
        "                         csv: one row per group, columns P..., M_n, M_mean,\n"
        "                           M_std, M_stderr, M_min, M_max per metric, then\n"
        "                           n_samples and n_failed;\n"
        "                         json: with one --by parameter an object keyed by "
        "its\n"
        "                           value, {\"<value>\": {\"n_samples\", "
        "\"n_failed\",\n"
        "                           \"mean_M\", \"std_M\", \"stderr_M\", \"min_M\", "
        "\"max_M\"}};\n"
        "                           otherwise an array of {\"params\": {...}, ...}\n"
        "  --home DIR             sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help             show this help\n"
        "\n"
        "An unknown parameter or metric exits 2 and lists the known ones.\n"
        "\n"
        "Example:\n"
        "  sweep aggregate dla --by n_particles --metrics rg --fit power\n"
        "  ...\n"
        "  power-law fit of mean rg against n_particles: exponent 0.583 +- 0.006, ...\n"
        "  sweep aggregate dla --by n_particles --metrics df --format json\n"
        "  {\"1000\": {\"n_samples\": 5, \"n_failed\": 0, \"mean_df\": 1.69, ...}, "
        "...}\n",
    .fn = aggregate_main,
};
