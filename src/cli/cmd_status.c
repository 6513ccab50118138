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

/* The text of `sweep status STUDY`: one line per step of a pipeline. */
static void print_study(const struct view_status *v)
{
    const struct store_study *s = &v->study;
    long long all[TASK_NSTATES] = {0}, total = 0, ended;
    char left[32] = "unknown";

    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TASK_NSTATES; i++)
            all[i] += v->counts[b][i];
    for (int i = 0; i < TASK_NSTATES; i++)
        total += all[i];
    ended = all[TASK_SUCCEEDED] + all[TASK_FAILED] + all[TASK_TIMED_OUT] +
            all[TASK_CANCELLED] + all[TASK_SKIPPED];
    printf("study %s: %s%s%s\n", s->name, v->status, s->reason ? " \u2014 " : "",
           s->reason ? s->reason : "");
    if (s->description)
        printf("  %s\n", s->description);
    printf("  [");
    bar(ended, total, 40);
    printf("] %lld/%lld ended (%.1f%%)\n", ended, total,
           total ? 100.0 * (double)ended / (double)total : 0.0);
    /* No ETA when nothing runs: every task has ended, or no run holds the study. */
    if (v->eta > 0)
        duration_format(v->eta, left, sizeof(left));
    if (v->eta > 0 || v->eta == ETA_UNKNOWN)
        printf("  ETA %s\n", left);
    printf("  %-8s %8s %8s %8s %10s %8s %10s %10s %12s\n", "priority", "total",
           "pending", "running", "succeeded", "failed", "timed_out", "cancelled",
           "interrupted");
    for (int b = 2; b >= 0; b--) {
        const long long *c = v->counts[b];
        long long t = 0;
        for (int i = 0; i < TASK_NSTATES; i++)
            t += c[i];
        if (t == 0)
            continue;
        printf("  %-8s %8lld %8lld %8lld %10lld %8lld %10lld %10lld %12lld\n",
               view_band_name(b), t, c[TASK_PENDING], c[TASK_RUNNING],
               c[TASK_SUCCEEDED], c[TASK_FAILED], c[TASK_TIMED_OUT], c[TASK_CANCELLED],
               c[TASK_INTERRUPTED]);
    }
    if (v->steps)
        cli_print_steps(v->steps);
}

/* One line per study of view_study_list(). */
void status_print_list(const json_t *arr)
{
    const json_t *o;
    size_t i;

    printf("%-24s %-17s %8s %10s %8s %8s %8s\n", "STUDY", "STATUS", "TASKS",
           "SUCCEEDED", "FAILED", "RUNNING", "PENDING");
    json_array_foreach(arr, i, o)
    {
        const json_t *c = json_object_get(o, "counts");

        printf("%-24s %-17s %8lld %10lld %8lld %8lld %8lld\n",
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
    if (json) {
        json_t *o = view_status_json(&v);
        cli_print_json(o);
        json_decref(o);
    } else {
        print_study(&v);
    }
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
        "                    $SWEEP_SERVER); STUDY shows its progress and ETA\n"
        "  --token-file F    the service's token (default $SWEEP_TOKEN_FILE)\n"
        "  -h, --help  show this help\n"
        "\n"
        "Example:\n"
        "  sweep status quickstart --json\n"
        "  sweep status quickstart --server http://127.0.0.1:5000\n",
    .fn = status_main,
};
