/* The tools of sweep's MCP server (tool.h) and resources/read of the links they
 * return. Every shape comes from below the front ends: a study's check and the list
 * from core/view.h, the statistics from core/aggregate.h (what `sweep aggregate
 * --format json` prints), the models from models/schema.h, the requests' shapes from
 * models/studyreq.h, the plot from report/plot.h; this file holds the tools' schemas,
 * their argument checks and their one-line summaries. Starting, retrying and
 * cancelling go through the backend (backend.h).
 *
 * Limits an MCP client meets (an agent should not start a huge study by a slip):
 * values 2 to MCP_MAX_VALUES, repetitions 1 to MCP_MAX_REPS, at most MCP_MAX_TASKS
 * tasks a study, at most MCP_MAX_ROWS result rows inline (the CSV link has them all),
 * check_study_status waits MCP_MAX_WAIT seconds at most.
 *
 * Resources: sweep://studies/<study>/results.csv (text/csv, `sweep results --csv`'s
 * rows), sweep://studies/<study>/aggregate.json (application/json, `sweep aggregate
 * --format json`), sweep://studies/<study>/plot.svg?x=<parameter>&y=<metric>
 * (image/svg+xml, `sweep plot`'s chart). Each is built whole in memory when read:
 * O(tasks of the study). */
#include "mcp/tool.h"

#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/store.h"
#include "core/view.h"
#include "mcp/backend.h"
#include "models/model.h"
#include "models/schema.h"
#include "models/studyreq.h"
#include "report/chart.h"
#include "report/plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MCP_MAX_VALUES 100
#define MCP_MAX_REPS 10
#define MCP_MAX_TASKS 10000
#define MCP_MAX_ROWS 100
#define MCP_MAX_WAIT 50 /* seconds: under the SDKs' default request timeout (60 s) */
#define MCP_PLOT_WIDTH 800
#define MCP_PLOT_HEIGHT 500

static const struct studyreq_limits mcp_limits = {
    .min_values = 2,
    .max_values = MCP_MAX_VALUES,
    .min_reps = 1,
    .max_reps = MCP_MAX_REPS,
    .max_tasks = MCP_MAX_TASKS,
};

/* ---- answers ---- */

static void answer_error(struct mcp_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void answer_error(struct mcp_result *out, const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = xstrdup("error");
    va_end(ap);
    json_decref(out->structured);
    out->structured = NULL;
    free(out->text);
    out->text = text;
    out->is_error = true;
}

/* structured (taken) with its summary (taken). */
static void answer(struct mcp_result *out, json_t *structured, char *text)
{
    out->structured = structured;
    out->text = text;
    out->is_error = false;
}

static struct store *store_or_error(const struct mcp_call *c, struct mcp_result *out)
{
    struct err err = {0};
    struct store *st = c->be->store(c->be->ctx, &err);

    if (!st)
        answer_error(out, "the store cannot be opened: %s", err.msg);
    return st;
}

/* An unknown study: the message names the studies there are (the newest 20). */
static void unknown_study(struct store *st, const char *name, struct mcp_result *out)
{
    struct strbuf sb = STRBUF_INIT;
    struct err err = {0};
    json_t *list = NULL, *v;
    size_t i;

    if (view_study_list(st, &list, &err) == 0) {
        json_array_foreach(list, i, v)
        {
            if (i == 20) {
                sb_addf(&sb, ", ... (%zu in all)", json_array_size(list));
                break;
            }
            sb_addf(&sb, "%s%s", i ? ", " : "",
                    json_string_value(json_object_get(v, "study")));
        }
    }
    answer_error(out, "study_id: no study \"%s\"; %s%s", name,
                 sb.len ? "the studies: " : "there is no study yet",
                 sb.len ? sb_str(&sb) : "");
    json_decref(list);
    sb_fini(&sb);
}

/* The study_id argument, or NULL with the answer set. */
static const char *study_arg(const json_t *args, struct mcp_result *out)
{
    const char *s = json_string_value(json_object_get(args, "study_id"));

    if (!s || !*s)
        answer_error(out, "study_id: expected the name of a study (list_studies shows "
                          "them)");
    return s;
}

/* Refuses members other than those of the tool's schema. */
static bool only_members(const json_t *args,
                         const char *const *known,
                         const char *tool,
                         struct mcp_result *out)
{
    struct err err = {0};
    char *what = xasprintf("the arguments of %s", tool);
    bool ok = studyreq_check_members(args, known, what, &err) == SWEEP_OK;

    if (!ok)
        answer_error(out, "%s", err.msg);
    free(what);
    return ok;
}

/* ---- schemas ---- */

static json_t *study_id_schema(void)
{
    return json_pack("{s:s, s:s}", "type", "string", "description",
                     "the study's name, as run_parametric_study or list_studies gave "
                     "it");
}

static json_t *object_schema(json_t *props, json_t *required)
{
    json_t *s = json_pack("{s:s, s:o}", "type", "object", "properties", props);

    if (required)
        json_object_set_new(s, "required", required);
    json_object_set_new(s, "additionalProperties", json_false());
    return s;
}

/* The members a parametric and a grid study share. */
static json_t *study_props(void)
{
    return json_pack(
        "{s:o, s:{s:s, s:s}, s:{s:s, s:i, s:i, s:i, s:s}, s:{s:s, s:[sss], s:s}, "
        "s:{s:s, s:s, s:s}, s:{s:s, s:s}}",
        "algorithm", model_names_json_schema(), "base_parameters", "type", "object",
        "description",
        "parameters of the model held fixed (list_models shows each model's "
        "parameters with their types, ranges and defaults)",
        "repetitions", "type", "integer", "minimum", 1, "maximum", MCP_MAX_REPS,
        "default", 1, "description", "runs of each point, each with its own seed",
        "priority", "type", "string", "enum", "HIGH", "MEDIUM", "LOW", "description",
        "higher runs first (default MEDIUM)", "study", "type", "string", "pattern",
        "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", "description",
        "a name for the study (default: ALGORITHM-DATE-TIME-PID-N); the same name "
        "again runs what is left of that study",
        "description", "type", "string", "description", "what the study is for");
}

static json_t *values_schema(size_t min)
{
    return json_pack("{s:s, s:{s:s}, s:i, s:i}", "type", "array", "items", "type",
                     "number", "minItems", (int)min, "maxItems", MCP_MAX_VALUES);
}

static json_t *parametric_input(void)
{
    json_t *p = study_props();

    json_object_set_new(p, "variable_parameter",
                        json_pack("{s:s, s:s}", "type", "string", "description",
                                  "the parameter of the model that takes each value"));
    json_object_set_new(p, "values", values_schema(2));
    return object_schema(
        p, json_pack("[sss]", "algorithm", "variable_parameter", "values"));
}

static json_t *grid_input(void)
{
    json_t *p = study_props();

    json_object_set_new(
        p, "parameters",
        json_pack("{s:s, s:i, s:o, s:s}", "type", "object", "minProperties", 1,
                  "additionalProperties", values_schema(1), "description",
                  "each varied parameter of the model with its values: every "
                  "combination runs"));
    return object_schema(p, json_pack("[ss]", "algorithm", "parameters"));
}

static json_t *started_output(void)
{
    return json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}}, s:[sss]}", "type", "object",
                     "properties", "study_id", "type", "string", "total_simulations",
                     "type", "integer", "status", "type", "string", "required",
                     "study_id", "total_simulations", "status");
}

static json_t *study_only_input(void)
{
    return object_schema(json_pack("{s:o}", "study_id", study_id_schema()),
                         json_pack("[s]", "study_id"));
}

static json_t *check_input(void)
{
    return object_schema(
        json_pack("{s:o, s:{s:s, s:i, s:i, s:i, s:s}}", "study_id", study_id_schema(),
                  "wait_seconds", "type", "integer", "minimum", 0, "maximum",
                  MCP_MAX_WAIT, "default", 0, "description",
                  "wait up to this long for the study to end, with progress "
                  "notifications meanwhile when the request asks for them; 0: answer "
                  "at once"),
        json_pack("[s]", "study_id"));
}

static json_t *check_output(void)
{
    json_t *o = json_pack(
        "{s:s, s:{s:{s:s}, s:{s:s, s:s}, s:{s:[ss], s:{s:{s:s}, s:{s:s}, s:{s:s}, "
        "s:{s:s}}}, s:{s:[ss], s:s}}, s:[ss]}",
        "type", "object", "properties", "study_id", "type", "string", "status", "type",
        "string", "description",
        "CREATED, QUEUED, RUNNING, COMPLETED, PARTIALLY_FAILED, FAILED, CANCELLED "
        "(INTERRUPTED: its run stopped; WAITING: for the studies it runs after)",
        "progress", "type", "object", "null", "properties", "total", "type", "integer",
        "completed", "type", "integer", "failed", "type", "integer", "percentage",
        "type", "number", "estimated_remaining", "type", "number", "null",
        "description", "seconds; null while it cannot be estimated", "required",
        "study_id", "status");

    json_object_set_new(
        json_object_get(o, "properties"), "failures",
        json_pack("{s:s, s:s, s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}}", "type",
                  "array", "description",
                  "the first failed, then timed-out, tasks (3 at most) and why each "
                  "ended so: its error, else its exit status, then the last line of "
                  "its stderr",
                  "items", "type", "object", "properties", "key", "type", "string",
                  "params", "type", "object", "state", "type", "string", "why", "type",
                  "string"));
    return o;
}

static json_t *retry_output(void)
{
    return json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:[ss]}", "type", "object",
                     "properties", "study_id", "type", "string", "requeued", "type",
                     "integer", "required", "study_id", "requeued");
}

static json_t *results_input(void)
{
    return object_schema(
        json_pack("{s:o, s:{s:s, s:b, s:s}, s:{s:s, s:s}}", "study_id",
                  study_id_schema(), "aggregate", "type", "boolean", "default", 1,
                  "description",
                  "true: statistics per parameter value (mean_<metric>, "
                  "std_<metric>, n_samples); false: also the result rows (the first "
                  "100; the CSV link has them all)",
                  "metric", "type", "string", "description",
                  "the metric of the plot's y axis (default: the model's first "
                  "measured one)"),
        json_pack("[s]", "study_id"));
}

static json_t *results_output(void)
{
    return json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:[sss]}, s:{s:s}}, s:[ss]}",
                     "type", "object", "properties", "study_id", "type", "string",
                     "status", "type", "string", "aggregate", "type", "object", "array",
                     "null", "links", "type", "object", "required", "study_id",
                     "links");
}

static json_t *list_studies_input(void)
{
    return object_schema(json_object(), NULL);
}

static json_t *list_studies_output(void)
{
    return json_pack("{s:s, s:{s:{s:s}}, s:[s]}", "type", "object", "properties",
                     "studies", "type", "array", "required", "studies");
}

static json_t *list_models_input(void)
{
    return object_schema(json_pack("{s:{s:s, s:s}}", "model", "type", "string",
                                   "description", "one model (default: every model)"),
                         NULL);
}

static json_t *list_models_output(void)
{
    return json_pack("{s:s, s:{s:{s:s}}, s:[s]}", "type", "object", "properties",
                     "models", "type", "array", "required", "models");
}

/* ---- starting a study ---- */

/* Stores and starts spec (taken) through the backend. */
static void start_study(const struct mcp_call *c,
                        json_t *spec,
                        const char *what,
                        struct mcp_result *out)
{
    char *text = NULL, *name = NULL;
    bool forbidden = false;
    uint64_t n = 0;
    struct err err = {0};
    struct view_status v;
    struct store *st;
    const char *status = "QUEUED";

    memset(&v, 0, sizeof(v));
    if (studyreq_check(spec, c->be->allow_commands, &mcp_limits, &text, &name,
                       &forbidden, &n, &err)) {
        answer_error(out, "%s", err.msg);
        goto out;
    }
    if (c->be->submit(c->be->ctx, name, text, &err)) {
        answer_error(out, "study %s was not started: %s", name, err.msg);
        goto out;
    }
    if ((st = c->be->store(c->be->ctx, &err)) &&
        view_status_load(st, name, &v, &err) == 0)
        status = v.status;
    answer(out,
           json_pack("{s:s, s:I, s:s}", "study_id", name, "total_simulations",
                     (json_int_t)n, "status", status),
           xasprintf("study %s: %llu simulations %s (%s); it runs in the background: "
                     "check_study_status tells how far it is",
                     name, (unsigned long long)n, status, what));
out:
    view_status_fini(&v);
    json_decref(spec);
    free(text);
    free(name);
}

static void
run_parametric(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    struct err err = {0};
    json_t *spec = studyreq_parametric(args, &mcp_limits, &err);
    char *what;

    if (!spec) {
        answer_error(out, "%s", err.msg);
        return;
    }
    what =
        xasprintf("%zu values of %s", json_array_size(json_object_get(args, "values")),
                  json_string_value(json_object_get(args, "variable_parameter")));
    start_study(c, spec, what, out);
    free(what);
}

static void
run_grid(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    struct err err = {0};
    json_t *spec = studyreq_grid(args, &mcp_limits, &err);
    struct strbuf sb = STRBUF_INIT;
    const char *key;
    json_t *v;

    if (!spec) {
        answer_error(out, "%s", err.msg);
        return;
    }
    json_object_foreach(json_object_get(args, "parameters"), key, v)
        sb_addf(&sb, "%s%zu values of %s", sb.len ? " x " : "every combination of ",
                json_array_size(v), key);
    start_study(c, spec, sb_str(&sb), out);
    sb_fini(&sb);
}

/* ---- a study's state ---- */

/* Whether a study's status is one its run does not change any more. */
static bool status_ended(const char *status)
{
    static const char *const ended[] = {"COMPLETED", "PARTIALLY_FAILED", "FAILED",
                                        "CANCELLED", "INTERRUPTED"};

    for (size_t i = 0; i < sizeof(ended) / sizeof(ended[0]); i++)
        if (strcmp(status, ended[i]) == 0)
            return true;
    return false;
}

/* The tasks of v that ended, and all of them. */
static void ended_of(const struct view_status *v, long long *ended, long long *total)
{
    *ended = *total = 0;
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TASK_NSTATES; i++) {
            *total += v->counts[b][i];
            if (task_state_is_final((enum task_state)i))
                *ended += v->counts[b][i];
        }
}

/* Reads the status of study name into *v, and with wait > 0 again every quarter of a
 * second until it has ended, wait seconds passed or the backend is stopping,
 * reporting the ended tasks as progress meanwhile. */
static int load_waiting(const struct mcp_call *c,
                        struct store *st,
                        const char *name,
                        double wait,
                        struct view_status *v,
                        struct err *err)
{
    double deadline = time_now() + wait;
    long long ended, total;
    char msg[160];
    int rc;

    for (;;) {
        rc = view_status_load(st, name, v, err);
        if (rc || wait <= 0 || status_ended(v->status) || time_now() >= deadline ||
            (c->be->stopping && c->be->stopping(c->be->ctx)))
            return rc;
        ended_of(v, &ended, &total);
        snprintf(msg, sizeof(msg), "study %s: %s, %lld of %lld ended", name, v->status,
                 ended, total);
        if (c->progress)
            c->progress(c->progress_arg, (double)ended, (double)total, msg);
        view_status_fini(v);
        usleep(250000);
    }
}

/* A study the backend holds but its store does not show yet: its check with the
 * backend's status, progress and estimated_remaining null. */
static bool pending(const struct mcp_call *c, const char *name, struct mcp_result *out)
{
    char *detail = NULL;
    const char *state =
        c->be->pending_state ? c->be->pending_state(c->be->ctx, name, &detail) : NULL;

    if (state)
        answer(out,
               json_pack("{s:s, s:s, s:n, s:n, s:s*}", "study_id", name, "status",
                         state, "progress", "estimated_remaining", "detail", detail),
               xasprintf("study %s: %s%s%s", name, state, detail ? ": " : "",
                         detail ? detail : " (not stored yet)"));
    free(detail);
    return state != NULL;
}

static void
check_status(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    static const char *const known[] = {"study_id", "wait_seconds", NULL};
    const char *name = study_arg(args, out);
    const json_t *wait = json_object_get(args, "wait_seconds");
    struct store *st;
    struct view_status v;
    struct err err = {0};
    json_t *j, *p, *first;
    char eta[64] = "";
    int rc;

    if (!name || !only_members(args, known, "check_study_status", out))
        return;
    if (wait && (!json_is_integer(wait) || json_integer_value(wait) < 0 ||
                 json_integer_value(wait) > MCP_MAX_WAIT)) {
        answer_error(out, "wait_seconds: expected 0 to %d seconds", MCP_MAX_WAIT);
        return;
    }
    if (!(st = store_or_error(c, out)))
        return;
    memset(&v, 0, sizeof(v));
    rc = load_waiting(c, st, name, wait ? (double)json_integer_value(wait) : 0, &v,
                      &err);
    if (rc == SWEEP_ENOTFOUND && pending(c, name, out))
        goto out;
    if (rc == SWEEP_ENOTFOUND)
        unknown_study(st, name, out);
    else if (rc)
        answer_error(out, "%s", err.msg);
    if (rc)
        goto out;
    j = view_study_check_json(&v);
    p = json_object_get(j, "progress");
    first = json_array_get(v.failures, 0);
    if (v.eta > 0)
        snprintf(eta, sizeof(eta), "; about %.0f s left", v.eta);
    answer(out, j,
           xasprintf("study %s: %s, %lld of %lld simulations completed, %lld failed "
                     "(%.1f%% ended)%s%s%s",
                     name, v.status,
                     (long long)json_integer_value(json_object_get(p, "completed")),
                     (long long)json_integer_value(json_object_get(p, "total")),
                     (long long)json_integer_value(json_object_get(p, "failed")),
                     json_number_value(json_object_get(p, "percentage")), eta,
                     first ? "; the first failure: " : "",
                     first ? json_string_value(json_object_get(first, "why")) : ""));
out:
    view_status_fini(&v);
}

static void
retry_failed(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    static const char *const known[] = {"study_id", NULL};
    const char *name = study_arg(args, out);
    struct store *st;
    struct err err = {0};
    long long n = 0;
    int rc;

    if (!name || !only_members(args, known, "retry_failed_simulations", out) ||
        !(st = store_or_error(c, out)))
        return;
    rc = c->be->retry(c->be->ctx, name, &n, &err);
    if (rc == SWEEP_ENOTFOUND)
        unknown_study(st, name, out);
    else if (rc)
        answer_error(out, "study %s: %s", name, err.msg);
    else
        answer(out,
               json_pack("{s:s, s:I}", "study_id", name, "requeued", (json_int_t)n),
               n ? xasprintf("study %s: %lld failed simulations run again", name, n)
                 : xasprintf("study %s: no failed simulation to run again", name));
}

static void cancel(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    static const char *const known[] = {"study_id", NULL};
    const char *name = study_arg(args, out);
    struct store *st;
    struct view_status v;
    struct err err = {0};
    int rc;

    if (!name || !only_members(args, known, "cancel_study", out) ||
        !(st = store_or_error(c, out)))
        return;
    memset(&v, 0, sizeof(v));
    rc = c->be->cancel(c->be->ctx, name, &err);
    if (!rc)
        rc = view_status_load(st, name, &v, &err);
    if (rc == SWEEP_ENOTFOUND)
        unknown_study(st, name, out);
    else if (rc)
        answer_error(out, "study %s: %s", name, err.msg);
    else
        answer(out, view_study_check_json(&v),
               xasprintf("study %s: %s; running simulations stop within a second", name,
                         v.status));
    view_status_fini(&v);
}

static void
list_studies(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    static const char *const known[] = {NULL};
    struct store *st;
    struct err err = {0};
    json_t *list;

    if (!only_members(args, known, "list_studies", out) ||
        !(st = store_or_error(c, out)))
        return;
    if (view_study_list(st, &list, &err)) {
        answer_error(out, "%s", err.msg);
        return;
    }
    size_t n = json_array_size(list);
    answer(out, json_pack("{s:o}", "studies", list),
           n == 0   ? xstrdup("no studies yet")
           : n == 1 ? xstrdup("1 study")
                    : xasprintf("%zu studies, newest first", n));
}

static void
list_models(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    static const char *const known[] = {"model", NULL};
    const json_t *name = json_object_get(args, "model");
    const struct model *m = NULL;
    struct strbuf sb = STRBUF_INIT;
    json_t *models;

    (void)c;
    if (!only_members(args, known, "list_models", out))
        return;
    if (name &&
        !(json_is_string(name) && (m = model_resolve(json_string_value(name), NULL)))) {
        char msg[512];
        for (size_t i = 0; i < model_count(); i++)
            sb_addf(&sb, "%s%s", i ? ", " : "", model_at(i)->name);
        model_unknown_msg(json_is_string(name) ? json_string_value(name) : "", msg,
                          sizeof(msg));
        answer_error(out, "model: %s; the models: %s", msg, sb_str(&sb));
        sb_fini(&sb);
        return;
    }
    models = m ? json_pack("[o]", model_schema_json(m)) : model_list_json();
    for (size_t i = 0; i < model_count(); i++)
        if (!m || m == model_at(i))
            sb_addf(&sb, "%s%s: %s", sb.len ? "; " : "", model_at(i)->name,
                    model_at(i)->summary);
    answer(out, json_pack("{s:o}", "models", models), sb_take(&sb));
}

/* ---- results ---- */

/* The parameter of the plot's x axis: the first grouping parameter with numbers. */
static const char *plot_x(const struct aggregate *a)
{
    for (size_t i = 0; i < a->nby; i++)
        for (size_t g = 0; g < a->ngroups; g++)
            if (json_is_number(json_array_get(a->groups[g].values, i)))
                return a->by[i];
    return NULL;
}

static bool has_metric(const struct aggregate *a, const char *name)
{
    for (size_t i = 0; i < a->nmetrics; i++)
        if (strcmp(a->metrics[i], name) == 0)
            return true;
    return false;
}

/* The metric of the plot's y axis: the model's first metric that is measured (not a
 * parameter reported back, not the run's time), else the first there is. */
static const char *plot_y(const struct aggregate *a, const struct model *m)
{
    for (size_t i = 0; m && i < m->nmetrics; i++) {
        const char *n = m->metrics[i].name;
        if (has_metric(a, n) && !model_param_find(m, n) &&
            strcmp(n, "execution_time") != 0)
            return n;
    }
    return a->nmetrics ? a->metrics[0] : NULL;
}

/* The links of get_study_results: the file of the sweep:// resource, and the REST
 * API's path under base_url. */
static const struct {
    const char *key, *file, *rest, *mime, *desc;
} link_rows[] = {
    {"csv", "results.csv", "results?format=csv", "text/csv",
     "every result row of the study as CSV"},
    {"aggregate", "aggregate.json", "aggregate", "application/json",
     "statistics per parameter value (sweep aggregate)"},
    {"plot", "plot.svg", "plot.svg", "image/svg+xml",
     "mean and standard error of the metric against the parameter (sweep plot)"},
};

/* Link row i of study (query: the plot's ?x=&y=, or NULL) to the resource_link items
 * and, by its key, to named. */
static void add_link(const struct mcp_backend *be,
                     const char *study,
                     size_t i,
                     const char *query,
                     json_t *items,
                     json_t *named)
{
    char *uri = be->base_url ? xasprintf("%s/studies/%s/%s%s", be->base_url, study,
                                         link_rows[i].rest, query ? query : "")
                             : xasprintf("sweep://studies/%s/%s%s", study,
                                         link_rows[i].file, query ? query : "");

    json_array_append_new(
        items, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "resource_link", "uri",
                         uri, "name", link_rows[i].file, "mimeType", link_rows[i].mime,
                         "description", link_rows[i].desc));
    json_object_set_new(named, link_rows[i].key, json_string(uri));
    free(uri);
}

struct rows_ctx {
    json_t *rows;
    long long n;
};

static int keep_row(const struct view_results *r, const struct view_row *row, void *arg)
{
    struct rows_ctx *c = arg;

    if (c->n++ < MCP_MAX_ROWS)
        json_array_append_new(c->rows, view_row_json(r, row));
    return 0;
}

/* The result rows of s (the first MCP_MAX_ROWS) into o. */
static int
add_rows(struct store *st, const struct store_study *s, json_t *o, struct err *err)
{
    struct view_results r;
    struct rows_ctx c = {.rows = json_array()};
    int rc;

    memset(&r, 0, sizeof(r));
    rc = view_results_open(st, s, -1, -1, false, &r, err);
    if (!rc)
        rc = view_results_each(&r, keep_row, &c, err);
    view_results_fini(&r);
    if (rc) {
        json_decref(c.rows);
        return rc;
    }
    json_object_set_new(o, "rows", c.rows);
    json_object_set_new(o, "rows_total", json_integer(c.n));
    json_object_set_new(o, "rows_truncated", json_boolean(c.n > MCP_MAX_ROWS));
    return SWEEP_OK;
}

/* One line per group for the plot's metric: "n_particles=100: df 1.62 +- 0.03 (n=2)".
 */
static void summary_lines(const struct aggregate *a, const char *y, struct strbuf *sb)
{
    size_t mi = 0;

    while (y && mi < a->nmetrics && strcmp(a->metrics[mi], y) != 0)
        mi++;
    if (!y || mi == a->nmetrics)
        return;
    for (size_t g = 0; g < a->ngroups && g < 20; g++) {
        const struct aggregate_group *gr = &a->groups[g];
        double sd = aggregate_stat_std(&gr->stats[mi]);
        sb_addf(sb, "\n");
        for (size_t i = 0; i < a->nby; i++) {
            char *v = json_dumps(json_array_get(gr->values, i), JSON_ENCODE_ANY);
            sb_addf(sb, "%s%s=%s", i ? ", " : "", a->by[i], v ? v : "?");
            free(v);
        }
        if (gr->n_samples == 0) {
            sb_addf(sb, "%s%s: no sample yet", a->nby ? ": " : "", y);
            continue;
        }
        sb_addf(sb, "%smean_%s %.6g", a->nby ? ": " : "", y, gr->stats[mi].mean);
        if (!isnan(sd))
            sb_addf(sb, ", std_%s %.3g", y, sd);
        sb_addf(sb, " (n_samples %lld)", gr->n_samples);
    }
    if (a->ngroups > 20)
        sb_addf(sb, "\n... %zu groups in all", a->ngroups);
}

static void
results(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    static const char *const known[] = {"study_id", "aggregate", "metric", NULL};
    const char *name = study_arg(args, out), *x = NULL, *y = NULL;
    const json_t *agg_arg = json_object_get(args, "aggregate");
    const json_t *metric = json_object_get(args, "metric");
    struct store *st;
    struct view_status v;
    struct aggregate a = {0};
    struct strbuf sb = STRBUF_INIT;
    struct err err = {0};
    json_t *o = NULL, *links = NULL, *named, *agg = json_null();
    char *query = NULL;
    int rc;

    if (!name || !only_members(args, known, "get_study_results", out))
        return;
    if ((agg_arg && !json_is_boolean(agg_arg)) || (metric && !json_is_string(metric))) {
        answer_error(out, "%s",
                     agg_arg && !json_is_boolean(agg_arg)
                         ? "aggregate: expected true or false"
                         : "metric: expected the name of a metric");
        return;
    }
    if (!(st = store_or_error(c, out)))
        return;
    memset(&v, 0, sizeof(v));
    rc = view_status_load(st, name, &v, &err);
    if (rc == SWEEP_ENOTFOUND)
        unknown_study(st, name, out);
    else if (rc)
        answer_error(out, "%s", err.msg);
    if (rc)
        goto out;
    sb_addf(&sb, "study %s: %s", name, v.status);
    rc = aggregate_study(st, v.study.id, NULL, 0, NULL, 0, &a, &err);
    if (rc == SWEEP_EINVAL && strstr(err.msg, "(known metrics: none)")) {
        sb_addf(&sb, "; no succeeded simulation has written a metric yet");
        rc = SWEEP_OK;
    } else if (rc) {
        answer_error(out, "%s", err.msg);
        goto out;
    } else {
        const struct model *m = model_of_spec(v.study.spec_json);
        if (metric && !has_metric(&a, json_string_value(metric))) {
            struct strbuf ms = STRBUF_INIT;
            for (size_t i = 0; i < a.nmetrics; i++)
                sb_addf(&ms, "%s%s", i ? ", " : "", a.metrics[i]);
            answer_error(out, "metric: study %s has no metric \"%s\"; its metrics: %s",
                         name, json_string_value(metric), sb_str(&ms));
            sb_fini(&ms);
            goto out;
        }
        agg = aggregate_to_json(&a);
        x = plot_x(&a);
        y = metric ? json_string_value(metric) : plot_y(&a, m);
        summary_lines(&a, y, &sb);
    }
    o = json_pack("{s:s, s:s, s:o}", "study_id", name, "status", v.status, "aggregate",
                  agg);
    if (agg_arg && json_is_false(agg_arg) && add_rows(st, &v.study, o, &err)) {
        answer_error(out, "%s", err.msg);
        goto out;
    }
    links = json_array();
    named = json_object();
    add_link(c->be, name, 0, NULL, links, named);
    add_link(c->be, name, 1, NULL, links, named);
    if (x && y) {
        query = xasprintf("?x=%s&y=%s", x, y);
        add_link(c->be, name, 2, query, links, named);
    }
    json_object_set_new(o, "links", named);
    out->links = links;
    links = NULL;
    answer(out, o, sb_take(&sb));
    o = NULL;
out:
    json_decref(o);
    json_decref(links);
    free(query);
    sb_fini(&sb);
    aggregate_fini(&a);
    view_status_fini(&v);
}

/* ---- the table ---- */

static const struct mcp_tool tools[] = {
    {.name = "run_parametric_study",
     .title = "Run a parametric study",
     .description =
         "Runs a simulation model for each value of one parameter (2 to 100 values), "
         "each value repeated with its own seed, and returns at once with the study's "
         "id; the study runs in the background and goes on if this session ends. Poll "
         "check_study_status, then read get_study_results.",
     .input_schema = parametric_input,
     .output_schema = started_output,
     .call = run_parametric},
    {.name = "run_grid_study",
     .title = "Run a grid study",
     .description =
         "Runs a simulation model for every combination of the values of several "
         "parameters (cartesian product; at most 10000 simulations), and returns at "
         "once as run_parametric_study does.",
     .input_schema = grid_input,
     .output_schema = started_output,
     .call = run_grid},
    {.name = "check_study_status",
     .title = "Check a study",
     .description = "A study's status, progress (total, completed, failed, "
                    "percentage) and estimated seconds remaining; with wait_seconds, "
                    "once it has ended or that time has passed.",
     .input_schema = check_input,
     .output_schema = check_output,
     .call = check_status},
    {.name = "get_study_results",
     .title = "Get a study's results",
     .description =
         "Statistics per parameter value (mean_<metric>, std_<metric>, n_samples over "
         "the succeeded simulations), optionally the result rows, and links to the "
         "CSV, "
         "the statistics as JSON and a plot (SVG).",
     .input_schema = results_input,
     .output_schema = results_output,
     .call = results},
    {.name = "retry_failed_simulations",
     .title = "Retry failed simulations",
     .description = "Runs the failed and timed-out simulations of an ended study "
                    "again, in the background; returns how many.",
     .input_schema = study_only_input,
     .output_schema = retry_output,
     .call = retry_failed},
    {.name = "cancel_study",
     .title = "Cancel a study",
     .description = "Cancels a study: no new simulation starts, running ones stop.",
     .input_schema = study_only_input,
     .output_schema = check_output,
     .call = cancel},
    {.name = "list_studies",
     .title = "List studies",
     .description = "Every study, newest first, with its status and task counts.",
     .input_schema = list_studies_input,
     .output_schema = list_studies_output,
     .call = list_studies},
    {.name = "list_models",
     .title = "List models",
     .description = "The simulation models with their parameters (types, ranges, "
                    "defaults, units) and metrics.",
     .input_schema = list_models_input,
     .output_schema = list_models_output,
     .call = list_models},
};

const struct mcp_tool *mcp_tools(size_t *n)
{
    *n = sizeof(tools) / sizeof(tools[0]);
    return tools;
}

const struct mcp_tool *mcp_tool_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(tools) / sizeof(tools[0]); i++)
        if (strcmp(tools[i].name, name) == 0)
            return &tools[i];
    return NULL;
}

/* ---- resources/read ---- */

static int csv_row(const struct view_results *r, const struct view_row *row, void *arg)
{
    view_row_csv(r, row, arg);
    return 0;
}

static int
read_csv(struct store *st, const struct store_study *s, char **text, struct err *err)
{
    struct view_results r;
    struct strbuf sb = STRBUF_INIT;
    int rc;

    memset(&r, 0, sizeof(r));
    rc = view_results_open(st, s, -1, -1, true, &r, err);
    if (!rc) {
        view_results_csv_header(&r, &sb);
        rc = view_results_each(&r, csv_row, &sb, err);
    }
    view_results_fini(&r);
    if (rc)
        sb_fini(&sb);
    else
        *text = sb_take(&sb);
    return rc;
}

static int read_aggregate(struct store *st,
                          const struct store_study *s,
                          char **text,
                          struct err *err)
{
    struct aggregate a = {0};
    int rc = aggregate_study(st, s->id, NULL, 0, NULL, 0, &a, err);

    if (!rc)
        *text = view_aggregate_json_str(&a, false);
    aggregate_fini(&a);
    return rc;
}

/* The value of query parameter name ("x=...&y=...") into buf; false when absent. */
static bool query_get(const char *q, const char *name, char *buf, size_t n)
{
    size_t len = strlen(name);

    while (q && *q) {
        const char *end = strchr(q, '&');
        size_t vlen = end ? (size_t)(end - q) : strlen(q);
        if (vlen > len && strncmp(q, name, len) == 0 && q[len] == '=') {
            vlen -= len + 1;
            if (vlen >= n)
                return false;
            memcpy(buf, q + len + 1, vlen);
            buf[vlen] = '\0';
            return true;
        }
        q = end ? end + 1 : NULL;
    }
    return false;
}

static int read_plot(struct store *st,
                     const struct store_study *s,
                     const char *query,
                     char **text,
                     struct err *err)
{
    char x[128], y[128], *xlabel, *ylabel, *svg = NULL;
    const struct model *m = model_of_spec(s->spec_json);
    struct plot_spec p = {.x = x, .y = y, .step = -1};
    struct chart *ch = NULL;
    size_t npoints = 0, len = 0;
    int rc;

    if (!query_get(query, "x", x, sizeof(x)) || !query_get(query, "y", y, sizeof(y)))
        return err_set(err, SWEEP_ENOTFOUND,
                       "plot.svg needs ?x=PARAMETER&y=METRIC (as get_study_results "
                       "links it)");
    rc = view_step_index(s, NULL, &p.step, err);
    if (rc)
        return rc;
    p.xlabel = xlabel = model_axis_label(m, x, true);
    p.ylabel = ylabel = model_axis_label(m, y, false);
    rc = plot_build(st, s, &p, &ch, &npoints, NULL, err);
    if (!rc && npoints == 0)
        rc = err_set(err, SWEEP_EINVAL,
                     "study %s has no succeeded task with metric \"%s\" to plot yet",
                     s->name, y);
    if (!rc)
        rc = chart_render_mem(ch, "svg", MCP_PLOT_WIDTH, MCP_PLOT_HEIGHT, &svg, &len,
                              err);
    if (!rc)
        *text = xstrndup(svg, len);
    free(svg);
    chart_destroy(ch);
    free(xlabel);
    free(ylabel);
    return rc;
}

json_t *
mcp_resource_read(const struct mcp_backend *be, const char *uri, struct err *err)
{
    static const char prefix[] = "sweep://studies/";
    char study[128], *text = NULL;
    const char *rest, *slash, *query, *mime;
    struct store_study s = {0};
    struct store *st;
    size_t n;
    int rc;

    if (strncmp(uri, prefix, sizeof(prefix) - 1) != 0 ||
        !(slash = strchr(rest = uri + sizeof(prefix) - 1, '/')) ||
        (n = (size_t)(slash - rest)) == 0 || n >= sizeof(study)) {
        err_set(err, SWEEP_ENOTFOUND,
                "no resource %s: sweep's are sweep://studies/STUDY/results.csv, "
                "aggregate.json and plot.svg?x=PARAMETER&y=METRIC",
                uri);
        return NULL;
    }
    memcpy(study, rest, n);
    study[n] = '\0';
    rest = slash + 1;
    query = strchr(rest, '?');
    n = query ? (size_t)(query - rest) : strlen(rest);
    if (!(st = be->store(be->ctx, err)))
        return NULL;
    rc = store_study_get(st, study, &s, err);
    if (rc)
        goto out;
    if (n == 11 && strncmp(rest, "results.csv", n) == 0) {
        mime = "text/csv";
        rc = read_csv(st, &s, &text, err);
    } else if (n == 14 && strncmp(rest, "aggregate.json", n) == 0) {
        mime = "application/json";
        rc = read_aggregate(st, &s, &text, err);
    } else if (n == 8 && strncmp(rest, "plot.svg", n) == 0) {
        mime = "image/svg+xml";
        rc = read_plot(st, &s, query ? query + 1 : NULL, &text, err);
    } else {
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "no resource %s: a study has results.csv, aggregate.json and "
                     "plot.svg?x=PARAMETER&y=METRIC",
                     uri);
    }
out:
    store_study_fini(&s);
    if (rc) {
        free(text);
        return NULL;
    }
    {
        json_t *c =
            json_pack("[{s:s, s:s, s:s}]", "uri", uri, "mimeType", mime, "text", text);
        free(text);
        if (!c)
            err_set(err, SWEEP_EINTERNAL, "%s is not UTF-8 text", uri);
        return c;
    }
}
