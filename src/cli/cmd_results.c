/* sweep results: one row per task (key first), as CSV or JSON. Parameters and metrics
 * become columns; nested metric objects are flattened as a.b. */
#include "cli.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/spec.h"
#include "core/store.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_results;

/* Columns: these, then every parameter, every metric, then the tail. */
static const char *const head_cols[] = {
    "key", "state", "attempts", "repetition", "seed", "priority",
};
static const char *const tail_cols[] = {
    "exit_code", "signal", "wall", "user", "sys", "maxrss_kb", "error", "finished_at",
};
#define NHEAD (sizeof(head_cols) / sizeof(head_cols[0]))
#define NTAIL (sizeof(tail_cols) / sizeof(tail_cols[0]))

static int add_leaf(const char *name, const json_t *v, void *out)
{
    json_object_set(out, name, (json_t *)v);
    return 0;
}

/* Adds obj's leaves to out as "a.b" -> value. */
static void flatten(const json_t *obj, json_t *out)
{
    jsonx_walk_leaves(obj, add_leaf, out);
}

static json_t *parse_obj(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v ? v : json_object();
}

struct names {
    char **v;
    size_t n, cap;
};

static void names_add(struct names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], name) == 0)
            return;
    ns->v = xgrow(ns->v, &ns->cap, ns->n + 1, sizeof(char *));
    ns->v[ns->n++] = xstrdup(name);
}

static void names_fini(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

struct results {
    struct names params, metrics;
    bool csv;
    bool first;
    json_t *steps; /* a pipeline's step names (JSON array), else NULL */
    int step;      /* --step: only this step's tasks (the reduce: nsteps); -1 all */
};

/* The name of a task's step in a pipeline ("reduce" after the last). */
static const char *step_name(const struct results *r, const struct store_task *t)
{
    json_t *name = json_array_get(r->steps, (size_t)t->step);
    return name ? json_string_value(name) : "reduce";
}

static bool wanted(const struct results *r, const struct store_task *t)
{
    return r->step < 0 || t->step == r->step;
}

/* The task's metrics flattened as a.b; in a pipeline, under its step's name
 * (simulate.energy), so that the steps' columns stay apart. */
static json_t *task_metrics(const struct results *r, const struct store_task *t)
{
    json_t *m = parse_obj(t->metrics_json), *flat = json_object(), *out;
    const char *k;
    json_t *v;

    flatten(m, flat);
    json_decref(m);
    if (!r->steps)
        return flat;
    out = json_object();
    json_object_foreach(flat, k, v)
    {
        char *name = xasprintf("%s.%s", step_name(r, t), k);
        json_object_set(out, name, v);
        free(name);
    }
    json_decref(flat);
    return out;
}

static int collect_names(const struct store_task *t, void *arg)
{
    struct results *r = arg;
    json_t *p, *flat;
    const char *k;
    json_t *v;

    if (!wanted(r, t))
        return 0;
    p = parse_obj(t->params_json);
    flat = task_metrics(r, t);
    json_object_foreach(p, k, v) names_add(&r->params, k);
    json_object_foreach(flat, k, v) names_add(&r->metrics, k);
    json_decref(flat);
    json_decref(p);
    return 0;
}

static bool is_fixed_or_param(const struct results *r, const char *name)
{
    for (size_t i = 0; i < NHEAD; i++)
        if (strcmp(head_cols[i], name) == 0)
            return true;
    for (size_t i = 0; i < NTAIL; i++)
        if (strcmp(tail_cols[i], name) == 0)
            return true;
    for (size_t i = 0; i < r->params.n; i++)
        if (strcmp(r->params.v[i], name) == 0)
            return true;
    return false;
}

/* A metric whose name is taken by a parameter or a fixed column is "result.<name>". */
static char *metric_col(const struct results *r, const char *name)
{
    return is_fixed_or_param(r, name) ? xasprintf("result.%s", name) : xstrdup(name);
}

static void csv_header(const struct results *r)
{
    for (size_t i = 0; i < NHEAD; i++) {
        cli_csv_field(head_cols[i], false);
        /* A pipeline's step column; "pipeline_step" when a parameter is "step". */
        if (i == 0 && r->steps)
            cli_csv_field(is_fixed_or_param(r, "step") ? "pipeline_step" : "step",
                          false);
    }
    for (size_t i = 0; i < r->params.n; i++)
        cli_csv_field(r->params.v[i], false);
    for (size_t i = 0; i < r->metrics.n; i++) {
        char *c = metric_col(r, r->metrics.v[i]);
        cli_csv_field(c, false);
        free(c);
    }
    for (size_t i = 0; i < NTAIL; i++)
        cli_csv_field(tail_cols[i], i == NTAIL - 1);
}

static void csv_value(const json_t *v, bool last)
{
    char *s = v ? jsonx_arg_str(v) : xstrdup("");
    cli_csv_field(s, last);
    free(s);
}

static void csv_num(double d, bool last)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.6f", d);
    cli_csv_field(buf, last);
}

static json_t *task_json(const struct store_task *t, json_t *params, json_t *metrics)
{
    json_t *o = json_object();
    char ts[40];

    json_object_set_new(o, "key", json_string(t->key));
    json_object_set_new(o, "state", json_string(task_state_name(t->state)));
    json_object_set_new(o, "attempts", json_integer(t->attempts));
    json_object_set_new(o, "repetition", json_integer(t->repetition));
    json_object_set_new(o, "seed", json_integer(t->seed));
    json_object_set_new(o, "priority", json_integer(t->priority));
    json_object_set(o, "params", params);
    json_object_set(o, "metrics", metrics);
    json_object_set_new(o, "exit_code",
                        t->exit_code >= 0 ? json_integer(t->exit_code) : json_null());
    json_object_set_new(o, "signal", t->signal ? json_integer(t->signal) : json_null());
    json_object_set_new(o, "wall", json_real(t->wall));
    json_object_set_new(o, "user", json_real(t->user));
    json_object_set_new(o, "sys", json_real(t->sys));
    json_object_set_new(o, "maxrss_kb", json_integer(t->maxrss_kb));
    json_object_set_new(o, "error", t->error ? json_string(t->error) : json_null());
    if (t->started_at > 0) {
        time_iso8601(t->started_at, ts, sizeof(ts));
        json_object_set_new(o, "started_at", json_string(ts));
    }
    if (t->finished_at > 0) {
        time_iso8601(t->finished_at, ts, sizeof(ts));
        json_object_set_new(o, "finished_at", json_string(ts));
    }
    return o;
}

static int print_row(const struct store_task *t, void *arg)
{
    struct results *r = arg;
    json_t *p, *m, *flat;
    char buf[64];

    if (!wanted(r, t))
        return 0;
    p = parse_obj(t->params_json);
    m = parse_obj(t->metrics_json);
    flat = task_metrics(r, t);
    if (!r->csv) {
        json_t *o = task_json(t, p, m);
        if (r->steps)
            json_object_set_new(o, "step", json_string(step_name(r, t)));
        fputs(r->first ? "[\n  " : ",\n  ", stdout);
        char *line = jsonx_line_str(o);
        fputs(line, stdout);
        free(line);
        json_decref(o);
        r->first = false;
        goto out;
    }
    cli_csv_field(t->key, false);
    if (r->steps)
        cli_csv_field(step_name(r, t), false);
    cli_csv_field(task_state_name(t->state), false);
    snprintf(buf, sizeof(buf), "%d", t->attempts);
    cli_csv_field(buf, false);
    snprintf(buf, sizeof(buf), "%d", t->repetition);
    cli_csv_field(buf, false);
    snprintf(buf, sizeof(buf), "%lld", t->seed);
    cli_csv_field(buf, false);
    snprintf(buf, sizeof(buf), "%d", t->priority);
    cli_csv_field(buf, false);
    for (size_t i = 0; i < r->params.n; i++)
        csv_value(json_object_get(p, r->params.v[i]), false);
    for (size_t i = 0; i < r->metrics.n; i++)
        csv_value(json_object_get(flat, r->metrics.v[i]), false);
    if (t->exit_code >= 0)
        snprintf(buf, sizeof(buf), "%d", t->exit_code);
    else
        buf[0] = '\0';
    cli_csv_field(buf, false);
    if (t->signal)
        snprintf(buf, sizeof(buf), "%d", t->signal);
    else
        buf[0] = '\0';
    cli_csv_field(buf, false);
    csv_num(t->wall, false);
    csv_num(t->user, false);
    csv_num(t->sys, false);
    snprintf(buf, sizeof(buf), "%ld", t->maxrss_kb);
    cli_csv_field(buf, false);
    cli_csv_field(t->error ? t->error : "", false);
    if (t->finished_at > 0)
        time_iso8601(t->finished_at, buf, sizeof(buf));
    else
        buf[0] = '\0';
    cli_csv_field(buf, true);
out:
    json_decref(flat);
    json_decref(p);
    json_decref(m);
    return 0;
}

static int results_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"state", required_argument, NULL, 's'},
        {"step", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'J'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    struct results r = {.csv = true, .first = true, .step = -1};
    const char *step = NULL;
    struct store *st = NULL;
    struct store_study s = {0};
    struct err err = {0};
    int c, rc = EXIT_OK, state = -1;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                r.csv = false;
            else if (strcmp(optarg, "csv") != 0)
                return cli_usage_error(
                    &cmd_results, "--format: expected csv or json, got \"%s\"", optarg);
            break;
        case 'J':
            r.csv = false;
            break;
        case 's': {
            enum task_state ts;
            if (task_state_parse(optarg, &ts) < 0)
                return cli_usage_error(
                    &cmd_results,
                    "--state: expected pending, running, succeeded, failed, "
                    "timed_out, cancelled, interrupted, skipped or waiting, got "
                    "\"%s\"",
                    optarg);
            state = (int)ts;
            break;
        }
        case 'S':
            step = optarg;
            break;
        case 'H':
            home = optarg;
            break;
        default:
            return cli_option_error(&cmd_results, opts, c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_results, "expected one study name");
    if (store_open(cli_home(home), &st, &err) ||
        store_study_get(st, argv[optind], &s, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (s.steps_json) {
        json_t *info = json_loads(s.steps_json, 0, NULL);
        r.steps = json_incref(json_object_get(info, "steps"));
        json_decref(info);
    }
    if (step && cli_step_index(&s, step, &r.step, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (r.csv) {
        if (store_task_each(st, s.id, state, collect_names, &r, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        csv_header(&r);
    }
    if (store_task_each(st, s.id, state, print_row, &r, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (!r.csv)
        fputs(r.first ? "[]\n" : "\n]\n", stdout);
out:
    json_decref(r.steps);
    names_fini(&r.params);
    names_fini(&r.metrics);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_results = {
    .name = "results",
    .summary = "one row per task: parameters, metrics, state, resources",
    .usage =
        "Usage: sweep results STUDY [--format csv|json] [--state STATE] [--step NAME]\n"
        "                     [--home DIR]\n"
        "\n"
        "Prints one row per task, the task key first, then its state, attempts,\n"
        "repetition, seed, priority, exit code, signal, wall/user/sys seconds, peak "
        "RSS\n"
        "and error, every parameter and every metric (nested metrics as a.b; a metric\n"
        "named like a parameter becomes result.<name>). In a pipeline, a step column\n"
        "follows the key and each metric is under its step's name (simulate.energy).\n"
        "\n"
        "Options:\n"
        "  -f, --format csv|json  CSV (default, RFC 4180) or a JSON array\n"
        "  --json                 same as --format json\n"
        "  --state STATE          only tasks in this state (e.g. failed)\n"
        "  --step NAME            a pipeline: only this step's tasks (or reduce)\n"
        "  --home DIR             sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help             show this help\n"
        "\n"
        "Example:\n"
        "  sweep results quickstart --state failed --format csv > failed.csv\n",
    .fn = results_main,
};
