/* sweep status: where a study stands (or every study, one line each). */
#include "cli.h"
#include "remote.h"

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/eta.h"
#include "core/store.h"
#include "core/view.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_status;

static void bar(long long done, long long total, int width)
{
    int fill = total > 0 ? (int)((double)done / (double)total * width + 0.5) : 0;

    for (int i = 0; i < width; i++)
        fputs(i < fill ? "#" : ".", stdout);
}

void status_print_study(const json_t *o, bool eta_unknown)
{
    const json_t *by = json_object_get(o, "by_priority");
    const json_t *eta = json_object_get(o, "estimated_remaining");
    const json_t *steps = json_object_get(o, "steps");
    const json_t *progress = json_object_get(o, "progress");
    const char *name = json_string_value(json_object_get(o, "study"));
    const char *reason = json_string_value(json_object_get(o, "reason"));
    const char *description = json_string_value(json_object_get(o, "description"));
    const char *status = json_string_value(json_object_get(o, "status"));
    long long total = 0, ended = 0, interrupted = 0, failed = 0, timed_out = 0;
    char left[32] = "unknown";

    if (!name)
        name = json_string_value(json_object_get(o, "study_id"));
    if (!reason)
        reason = json_string_value(json_object_get(o, "detail"));
    for (int b = 2; b >= 0 && by; b--) {
        const json_t *c = json_object_get(by, view_band_name(b));
        total += view_count_of(c, "total");
        ended += view_count_of(c, "succeeded") + view_count_of(c, "failed") +
                 view_count_of(c, "timed_out") + view_count_of(c, "cancelled") +
                 view_count_of(c, "skipped");
    }
    if (!by) { /* a service's study not stored yet, or a service without them */
        total = view_count_of(progress, "total");
        ended =
            view_count_of(progress, "completed") + view_count_of(progress, "failed");
    }
    printf("study %s: %s%s%s\n", name ? name : "?", status ? status : "?",
           reason ? " \u2014 " : "", reason ? reason : "");
    if (description)
        printf("  %s\n", description);
    printf("  [");
    bar(ended, total, 40);
    printf("] %lld/%lld ended (%.1f%%)\n", ended, total,
           total ? 100.0 * (double)ended / (double)total : 0.0);
    if (json_is_number(eta) && json_number_value(eta) > 0)
        duration_format(json_number_value(eta), left, sizeof(left));
    if ((json_is_number(eta) && json_number_value(eta) > 0) || eta_unknown)
        printf("  ETA %s\n", left);
    /* 71 columns; the interrupted are pending, as in the summary of `sweep run`. */
    if (by)
        printf("  %-8s %7s %7s %7s %9s %6s %9s %9s\n", "priority", "total", "pending",
               "running", "succeeded", "failed", "timed_out", "cancelled");
    for (int b = 2; b >= 0 && by; b--) {
        const json_t *c = json_object_get(by, view_band_name(b));
        if (view_count_of(c, "total") == 0)
            continue;
        printf("  %-8s %7lld %7lld %7lld %9lld %6lld %9lld %9lld\n", view_band_name(b),
               view_count_of(c, "total"),
               view_count_of(c, "pending") + view_count_of(c, "interrupted"),
               view_count_of(c, "running"), view_count_of(c, "succeeded"),
               view_count_of(c, "failed"), view_count_of(c, "timed_out"),
               view_count_of(c, "cancelled"));
        interrupted += view_count_of(c, "interrupted");
        failed += view_count_of(c, "failed");
        timed_out += view_count_of(c, "timed_out");
    }
    if (interrupted > 0)
        printf("  %lld of the pending %s stopped while running (interrupted)\n",
               interrupted, interrupted == 1 ? "was" : "were");
    if (json_is_array(steps))
        cli_print_steps(steps);
    if (json_is_array(json_object_get(o, "failures")))
        cli_print_failures(json_object_get(o, "failures"), name ? name : "?", failed,
                           timed_out, "  ");
}

/* One line per study of view_study_list(). */
void status_print_list(const json_t *arr)
{
    const json_t *o;
    size_t i;

    /* 60 columns and the longest name (PARTIALLY_FAILED is the longest status). */
    int w = cli_name_width(arr, "study", 5);

    printf("%-*s %-16s %8s %9s %7s %7s %7s\n", w, "STUDY", "STATUS", "TASKS",
           "SUCCEEDED", "FAILED", "RUNNING", "PENDING");
    json_array_foreach(arr, i, o)
    {
        const json_t *c = json_object_get(o, "counts");

        printf("%-*s %-16s %8lld %9lld %7lld %7lld %7lld\n", w,
               json_string_value(json_object_get(o, "study")),
               json_string_value(json_object_get(o, "status")),
               view_count_of(c, "total"), view_count_of(c, "succeeded"),
               view_count_of(c, "failed") + view_count_of(c, "timed_out"),
               view_count_of(c, "running"),
               view_count_of(c, "pending") + view_count_of(c, "interrupted") +
                   view_count_of(c, "waiting"));
    }
}

/* Shared with `sweep list`: every study, one line each, or their JSON array. */
int status_list_all(struct store *st, bool json, struct err *err)
{
    json_t *arr;
    int rc = view_study_list(st, &arr, err);

    if (rc != SWEEP_OK)
        return rc;
    if (json)
        cli_print_json(arr);
    else if (json_array_size(arr) == 0)
        printf("no studies yet in %s; start one with 'sweep run study.yaml'\n",
               store_home(st));
    else
        status_print_list(arr);
    json_decref(arr);
    return SWEEP_OK;
}

static int status_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'},
        {"home", required_argument, NULL, 'H'},
        {"server", required_argument, NULL, 'S'},
        {"token-file", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL, *server = NULL, *token_file = NULL;
    bool json = false;
    struct store *st = NULL;
    struct view_status v = {0};
    struct err err = {0};
    json_t *o;
    int c, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'J')
            json = true;
        else if (c == 'H')
            home = optarg;
        else if (c == 'S')
            server = optarg;
        else if (c == 'T')
            token_file = optarg;
        else
            return cli_option_error(&cmd_status, opts, c, argv);
    }
    if (argc - optind > 1)
        return cli_usage_error(&cmd_status, "expected at most one study name");
    if ((server = remote_server(server, home)))
        return remote_status(server, token_file, optind < argc ? argv[optind] : NULL,
                             json);
    if (store_open(cli_home(home), &st, &err))
        return cli_fail(&err);
    if (optind == argc) {
        if (status_list_all(st, json, &err))
            rc = cli_fail(&err);
        goto out;
    }
    if (view_status_load(st, argv[optind], &v, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    o = view_status_json(&v);
    if (json)
        cli_print_json(o);
    else
        status_print_study(o, v.eta == ETA_UNKNOWN);
    json_decref(o);
out:
    view_status_fini(&v);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_status = {
    .name = "status",
    .summary = "show where a study stands (or every study)",
    .usage =
        "Usage: sweep status [STUDY] [--json] [--home DIR] [--server URL]\n"
        "\n"
        "With STUDY: its status, task counts by priority and state, and the estimated\n"
        "time remaining while a run is on (JSON: estimated_remaining in seconds, 0\n"
        "when nothing is left to run, null while no task has finished or when no\n"
        "sweep process runs the study; from the mean wall time of finished tasks,\n"
        "the cpus of the remaining ones and the spec's max_parallel; aggregate and\n"
        "aggregate_computed_at: the aggregate stored when its last run ended, as\n"
        "`sweep aggregate --format json` prints it, when there is one). A pipeline\n"
        "adds one line per step, the reduce last (JSON: steps). A study that waits\n"
        "for another (after:) is WAITING, and the reason says for which (JSON:\n"
        "reason); the reason also says why a study failed before running. Without\n"
        "STUDY: one line per study.\n"
        "\n"
        "Options:\n"
        "  --json      one JSON object (an array without STUDY)\n"
        "  --home DIR  sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  --server URL      ask a running `sweep serve` instead (default\n"
        "                    $SWEEP_SERVER): the same text (JSON: the service's\n"
        "                    GET /studies/STUDY, or GET /studies)\n"
        "  --token-file F    the service's token (default $SWEEP_TOKEN_FILE)\n"
        "  -h, --help  show this help\n"
        "\n"
        "Example:\n"
        "  sweep status quickstart --json\n"
        "  sweep status quickstart --server http://127.0.0.1:5000\n",
    .fn = status_main,
};
