/* sweep report: the progress report of a study as one picture. The numbers and the
 * drawing come from report/report.c (report_study_write(): shared with the service's
 * GET /studies/{id}/report.png); this file parses the options. */
#include "cli.h"

#include "core/store.h"
#include "report/report.h"

#include <getopt.h>
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

int cli_report_write(struct store *st,
                     const char *study,
                     const char *path,
                     struct err *err)
{
    return report_study_write(st, study, path, err);
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
