/* sweep status: where a study stands (or every study, one line each). */
#include "cli.h"

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/eta.h"
#include "core/runner.h"
#include "core/spec.h"
#include "core/store.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_status;

static const char *const band_names[3] = {"LOW", "MEDIUM", "HIGH"};

/* A study left RUNNING or WAITING by a `sweep run` that died (kill -9, crash) shows as
 * INTERRUPTED: nobody holds its run lock any more. */
static const char *shown_status(struct store *st, const struct store_study *s)
{
    if ((s->status == STUDY_RUNNING || s->status == STUDY_WAITING) &&
        !runner_is_active(store_home(st), s->name))
        return study_status_name(STUDY_INTERRUPTED);
    return study_status_name(s->status);
}

static json_t *study_json(struct store *st,
                          const struct store_study *s,
                          long long counts[3][TASK_NSTATES])
{
    json_t *o = json_object(), *by = json_object();
    long long all[TASK_NSTATES] = {0};
    char ts[40];

    json_object_set_new(o, "study", json_string(s->name));
    json_object_set_new(o, "status", json_string(shown_status(st, s)));
    json_object_set_new(o, "description",
                        s->description ? json_string(s->description) : json_null());
    time_iso8601(s->created_at, ts, sizeof(ts));
    json_object_set_new(o, "created_at", json_string(ts));
    time_iso8601(s->updated_at, ts, sizeof(ts));
    json_object_set_new(o, "updated_at", json_string(ts));
    for (int b = 2; b >= 0; b--) {
        for (int i = 0; i < TASK_NSTATES; i++)
            all[i] += counts[b][i];
        json_object_set_new(by, band_names[b], cli_counts_json(counts[b]));
    }
    json_object_set_new(o, "counts", cli_counts_json(all));
    json_object_set_new(o, "by_priority", by);
    json_object_set_new(o, "reason", s->reason ? json_string(s->reason) : json_null());
    return o;
}

/* Adds the study's stored aggregate, when there is one: "aggregate" (the object as
 * stored) and "aggregate_computed_at". */
static int
add_aggregate(struct store *st, long long study_id, json_t *o, struct err *err)
{
    char *text = NULL, ts[40];
    double at;
    json_t *agg;
    int rc = store_aggregate_get(st, study_id, &text, &at, err);

    if (rc == SWEEP_ENOTFOUND) {
        err_clear(err);
        return 0;
    }
    if (rc != 0)
        return rc;
    /* Stored by aggregate_save(); should it not parse, it is left out rather than
     * making the whole status fail. */
    agg = json_loads(text, 0, NULL);
    if (agg) {
        json_object_set_new(o, "aggregate", agg);
        time_iso8601(at, ts, sizeof(ts));
        json_object_set_new(o, "aggregate_computed_at", json_string(ts));
    }
    free(text);
    return 0;
}

static void bar(long long done, long long total, int width)
{
    int fill = total > 0 ? (int)((double)done / (double)total * width + 0.5) : 0;

    for (int i = 0; i < width; i++)
        fputs(i < fill ? "#" : ".", stdout);
}

/* One line per step of a pipeline. */
static void print_study(struct store *st,
                        const struct store_study *s,
                        long long counts[3][TASK_NSTATES],
                        const json_t *steps,
                        double eta)
{
    long long all[TASK_NSTATES] = {0}, total = 0, ended;
    char left[32] = "unknown";

    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TASK_NSTATES; i++)
            all[i] += counts[b][i];
    for (int i = 0; i < TASK_NSTATES; i++)
        total += all[i];
    ended = all[TASK_SUCCEEDED] + all[TASK_FAILED] + all[TASK_TIMED_OUT] +
            all[TASK_CANCELLED] + all[TASK_SKIPPED];
    printf("study %s: %s%s%s\n", s->name, shown_status(st, s),
           s->reason ? " \u2014 " : "", s->reason ? s->reason : "");
    if (s->description)
        printf("  %s\n", s->description);
    printf("  [");
    bar(ended, total, 40);
    printf("] %lld/%lld ended (%.1f%%)\n", ended, total,
           total ? 100.0 * (double)ended / (double)total : 0.0);
    /* No ETA when nothing runs: every task has ended, or no run holds the study. */
    if (eta > 0)
        duration_format(eta, left, sizeof(left));
    if (eta > 0 || eta == ETA_UNKNOWN)
        printf("  ETA %s\n", left);
    printf("  %-8s %8s %8s %8s %10s %8s %10s %10s %12s\n", "priority", "total",
           "pending", "running", "succeeded", "failed", "timed_out", "cancelled",
           "interrupted");
    for (int b = 2; b >= 0; b--) {
        const long long *c = counts[b];
        long long t = 0;
        for (int i = 0; i < TASK_NSTATES; i++)
            t += c[i];
        if (t == 0)
            continue;
        printf("  %-8s %8lld %8lld %8lld %10lld %8lld %10lld %10lld %12lld\n",
               band_names[b], t, c[TASK_PENDING], c[TASK_RUNNING], c[TASK_SUCCEEDED],
               c[TASK_FAILED], c[TASK_TIMED_OUT], c[TASK_CANCELLED],
               c[TASK_INTERRUPTED]);
    }
    if (steps)
        cli_print_steps(steps);
}

struct list_ctx {
    struct store *st;
    json_t *arr; /* --json */
    int n;
    struct err *err;
};

static int one_line(const struct store_study *s, void *arg)
{
    struct list_ctx *c = arg;
    long long counts[3][TASK_NSTATES];
    long long all[TASK_NSTATES] = {0}, total = 0;

    if (store_study_counts(c->st, s->id, counts, c->err))
        return -1;
    if (c->arr) {
        json_array_append_new(c->arr, study_json(c->st, s, counts));
        return 0;
    }
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TASK_NSTATES; i++)
            all[i] += counts[b][i];
    for (int i = 0; i < TASK_NSTATES; i++)
        total += all[i];
    if (c->n++ == 0)
        printf("%-24s %-17s %8s %10s %8s %8s %8s\n", "STUDY", "STATUS", "TASKS",
               "SUCCEEDED", "FAILED", "RUNNING", "PENDING");
    printf("%-24s %-17s %8lld %10lld %8lld %8lld %8lld\n", s->name,
           shown_status(c->st, s), total, all[TASK_SUCCEEDED],
           all[TASK_FAILED] + all[TASK_TIMED_OUT], all[TASK_RUNNING],
           all[TASK_PENDING] + all[TASK_INTERRUPTED] + all[TASK_WAITING]);
    return 0;
}

/* Shared with `sweep list`: every study, one line each, or a JSON array. */
int status_list_all(struct store *st, bool json, struct err *err)
{
    struct list_ctx c = {.st = st, .arr = json ? json_array() : NULL, .err = err};
    int rc = store_study_list(st, one_line, &c, err);

    if (rc == 0 && json) {
        cli_print_json(c.arr);
    } else if (rc == 0 && c.n == 0) {
        printf("no studies yet in %s; start one with 'sweep run study.yaml'\n",
               store_home(st));
    }
    json_decref(c.arr);
    return rc;
}

static int status_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    bool json = false;
    struct store *st = NULL;
    struct store_study s = {0};
    long long counts[3][TASK_NSTATES];
    double eta;
    json_t *steps = NULL;
    struct err err = {0};
    int c, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'J')
            json = true;
        else if (c == 'H')
            home = optarg;
        else
            return cli_option_error(&cmd_status, opts, c, argv);
    }
    if (argc - optind > 1)
        return cli_usage_error(&cmd_status, "expected at most one study name");
    if (store_open(cli_home(home), &st, &err))
        return cli_fail(&err);
    if (optind == argc) {
        if (status_list_all(st, json, &err))
            rc = cli_fail(&err);
        goto out;
    }
    if (store_study_get(st, argv[optind], &s, &err) ||
        store_study_counts(st, s.id, counts, &err) ||
        eta_study(st, &s, time_now(), &eta, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    steps = cli_steps_counts(st, &s, &err);
    if (err.code) {
        rc = cli_fail(&err);
        goto out;
    }
    if (json) {
        json_t *o = study_json(st, &s, counts);
        if (steps)
            json_object_set(o, "steps", steps);
        json_object_set_new(o, "estimated_remaining",
                            eta >= 0 ? json_real(eta) : json_null());
        if (add_aggregate(st, s.id, o, &err)) {
            rc = cli_fail(&err);
        } else {
            cli_print_json(o);
        }
        json_decref(o);
    } else {
        print_study(st, &s, counts, steps, eta);
    }
out:
    json_decref(steps);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_status = {
    .name = "status",
    .summary = "show where a study stands (or every study)",
    .usage =
        "Usage: sweep status [STUDY] [--json] [--home DIR]\n"
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
        "  -h, --help  show this help\n"
        "\n"
        "Example:\n"
        "  sweep status quickstart --json\n",
    .fn = status_main,
};
