/* The REST API's handlers (see route.h for the routes): reads answered from the
 * calling thread's read connection with the shapes of core/view.h, changes handed to
 * the main thread (service_call). Every answer is JSON (results may be CSV); every
 * error is {"error", "detail"} with its status. */
#include "server/service.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/doc.h"
#include "core/spec.h"
#include "core/store.h"
#include "core/view.h"
#include "models/studyreq.h"
#include "server/events.h"
#include "server/openapi.h"
#include "server/route.h"
#include "server/stats.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define API_PAGE_MAX 1000 /* the largest ?limit= of a list */

static const char api_json_type[] = "application/json";

void api_error(struct api_response *out,
               int status,
               const char *error,
               const char *detail)
{
    out->status = status;
    out->content_type = api_json_type;
    out->body = route_error_json(error, detail);
    out->len = strlen(out->body);
}

void api_json(struct api_response *out, int status, json_t *v)
{
    if (!v) { /* a reply that could not be built (json_pack) */
        api_error(out, 500, "internal", "the answer could not be built");
        return;
    }
    out->status = status;
    out->content_type = api_json_type;
    out->body = jsonx_pretty_str(v); /* ends with a newline */
    out->len = strlen(out->body);
    json_decref(v);
}

void api_err(struct api_response *out, const struct err *err)
{
    switch (err->code) {
    case SWEEP_ENOTFOUND:
        api_error(out, 404, "not_found", err->msg);
        break;
    case SWEEP_EINVAL:
        api_error(out, 400, "invalid", err->msg);
        break;
    case SWEEP_EBUSY:
        api_error(out, 503, "busy", err->msg);
        break;
    default:
        api_error(out, 500, "internal", err->msg);
    }
}

static void api_reply(struct api_response *out, struct svc_reply *r)
{
    api_json(out, r->status, r->body);
}

/* ---- POST /studies and POST /tasks: a spec from the body ---- */

/* The body as a JSON object, or NULL with err set (a bad JSON or YAML says where). A
 * YAML body is read as a spec file is (doc.h: "body:LINE:COLUMN: reason"). */
static json_t *body_object(const char *body, size_t len, bool yaml, struct err *err)
{
    json_error_t je;
    json_t *v;

    if (!body || len == 0) {
        err_set(err, SWEEP_EINVAL, "the request has no body; send a JSON object");
        return NULL;
    }
    if (yaml) {
        struct doc_node *d = NULL;
        if (doc_parse("body", body, len, &d, err) != SWEEP_OK)
            return NULL;
        v = doc_to_json(d);
        doc_destroy(d);
    } else {
        v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
        if (!v) {
            err_set(err, SWEEP_EINVAL, "bad JSON at line %d, column %d: %s", je.line,
                    je.column, je.text);
            return NULL;
        }
    }
    if (!json_is_object(v)) {
        json_decref(v);
        err_set(err, SWEEP_EINVAL, "expected %s object", yaml ? "a YAML" : "a JSON");
        return NULL;
    }
    return v;
}

int api_spec_check(json_t *spec,
                   bool allow_commands,
                   char **spec_text,
                   char **name,
                   bool *forbidden,
                   struct err *err)
{
    return studyreq_check(spec, allow_commands, NULL, spec_text, name, forbidden, NULL,
                          err);
}

int api_study_spec(const char *body,
                   size_t len,
                   bool yaml,
                   bool allow_commands,
                   char **spec_text,
                   char **name,
                   bool *forbidden,
                   struct err *err)
{
    json_t *in = body_object(body, len, yaml, err), *spec;
    int rc;

    *spec_text = *name = NULL;
    *forbidden = false;
    if (!in)
        return SWEEP_EINVAL;
    spec = json_object_get(in, "algorithm") ? studyreq_parametric(in, NULL, err)
                                            : json_incref(in);
    json_decref(in);
    if (!spec)
        return SWEEP_EINVAL;
    rc = studyreq_check(spec, allow_commands, NULL, spec_text, name, forbidden, NULL,
                        err);
    json_decref(spec);
    return rc;
}

/* POST /tasks: {"algorithm" (or "model"), "parameters", ["priority"], ["task_id"],
 * ["description"]}: one task, as a study of its own named task-<task_id> (or a new
 * name). */
static int task_spec(const char *body,
                     size_t len,
                     bool yaml,
                     char **spec_text,
                     char **name,
                     bool *forbidden,
                     struct err *err)
{
    json_t *in = body_object(body, len, yaml, err), *spec = NULL, *v;
    const json_t *alg, *params, *id;
    const char *key;
    char *study = NULL;
    int rc = SWEEP_EINVAL;

    *forbidden = false;
    if (!in)
        return SWEEP_EINVAL;
    json_object_foreach(in, key, v)
    {
        if (strcmp(key, "algorithm") && strcmp(key, "model") &&
            strcmp(key, "parameters") && strcmp(key, "priority") &&
            strcmp(key, "task_id") && strcmp(key, "description")) {
            err_set(err, SWEEP_EINVAL, "unknown field \"%s\" in a task", key);
            goto out;
        }
    }
    alg = json_object_get(in, "algorithm");
    if (!alg)
        alg = json_object_get(in, "model");
    params = json_object_get(in, "parameters");
    id = json_object_get(in, "task_id");
    if (!json_is_string(alg) || (params && !json_is_object(params)) ||
        (id && (!json_is_string(id) || !route_id_ok(json_string_value(id))))) {
        err_set(
            err, SWEEP_EINVAL,
            "a task needs \"algorithm\" (a model) and may have \"parameters\" (an "
            "object), \"priority\", \"task_id\" (letters, digits, '.', '_', '-') and "
            "\"description\"");
        goto out;
    }
    study = id ? xasprintf("task-%s", json_string_value(id))
               : studyreq_new_name(json_string_value(alg));
    spec = json_pack("{s:s, s:O}", "study", study, "model", alg);
    if (params)
        json_object_set(spec, "base", (json_t *)params);
    if ((v = json_object_get(in, "priority")))
        json_object_set(spec, "priority", v);
    if ((v = json_object_get(in, "description")))
        json_object_set(spec, "description", v);
    rc = studyreq_check(spec, false, NULL, spec_text, name, forbidden, NULL, err);
out:
    free(study);
    json_decref(spec);
    json_decref(in);
    return rc;
}

static void submit(struct service *s,
                   const struct api_request *rq,
                   bool one_task,
                   struct api_response *out)
{
    char *text = NULL, *name = NULL;
    bool forbidden = false;
    struct err err = {0};
    struct svc_reply r;
    int rc = one_task ? task_spec(rq->body, rq->body_len, rq->body_yaml, &text, &name,
                                  &forbidden, &err)
                      : api_study_spec(rq->body, rq->body_len, rq->body_yaml,
                                       service_opts(s)->allow_commands, &text, &name,
                                       &forbidden, &err);

    if (rc) {
        api_error(out, forbidden ? 403 : 400, forbidden ? "forbidden" : "invalid",
                  err.msg);
        return;
    }
    service_call(s, SVC_SUBMIT, name, text, &r);
    api_reply(out, &r);
    free(text);
    free(name);
}

/* ---- reads ---- */

static void study_get(struct service *s,
                      struct store *st,
                      const char *name,
                      struct api_response *out)
{
    struct view_status v;
    struct err err = {0};
    char *detail = NULL;
    const char *state;
    int rc = view_status_load(st, name, &v, &err);

    if (rc == SWEEP_OK) {
        api_json(out, 200, view_study_get_json(&v));
        view_status_fini(&v);
        return;
    }
    view_status_fini(&v);
    if (rc != SWEEP_ENOTFOUND) {
        api_err(out, &err);
        return;
    }
    /* Accepted but not stored yet, or refused. */
    state = service_study_state(s, name, &detail);
    if (state)
        api_json(out, 200,
                 json_pack("{s:s, s:s, s:n, s:n, s:s*}", "study_id", name, "status",
                           state, "progress", "estimated_remaining", "detail", detail));
    else
        api_error(out, 404, "not_found", err.msg);
    free(detail);
}

struct results_ctx {
    json_t *rows;
    struct strbuf *csv;
};

static int
result_row(const struct view_results *r, const struct view_row *row, void *arg)
{
    struct results_ctx *c = arg;

    if (c->csv)
        view_row_csv(r, row, c->csv);
    else
        json_array_append_new(c->rows, view_row_json(r, row));
    return 0;
}

/* GET /studies/{id}/results?format=json|csv&offset=&limit=: the rows of `sweep
 * results`, every one (built whole in memory, O(tasks)), or a page of them from the
 * store (view_results_page(): O(limit) rows whatever the offset). */
static void
study_results(struct store *st, const struct api_request *rq, struct api_response *out)
{
    const char *fmt = rq->query(rq->query_arg, "format");
    const char *limit_q = rq->query(rq->query_arg, "limit");
    const char *offset_q = rq->query(rq->query_arg, "offset");
    bool csv = fmt && strcmp(fmt, "csv") == 0;
    long long offset, limit;
    struct store_study s = {0};
    struct view_results r;
    struct strbuf sb = STRBUF_INIT;
    struct results_ctx c = {.csv = csv ? &sb : NULL};
    struct err err = {0};
    int rc;

    memset(&r, 0, sizeof(r));
    if (fmt && !csv && strcmp(fmt, "json") != 0) {
        api_error(out, 400, "invalid", "format: expected json or csv");
        return;
    }
    if (route_query_int(limit_q, 1, 1LL << 50, LLONG_MAX, &limit) < 0 ||
        route_query_int(offset_q, 0, 1LL << 50, 0, &offset) < 0) {
        api_error(out, 400, "invalid", "limit: 1 or more; offset: 0 or more");
        return;
    }
    rc = store_study_get(st, rq->route->arg, &s, &err);
    if (!rc)
        rc = view_results_open(st, &s, -1, -1, csv, &r, &err);
    if (!rc) {
        c.rows = csv ? NULL : json_array();
        if (csv)
            view_results_csv_header(&r, &sb);
        rc = limit_q || offset_q
                 ? view_results_page(&r, offset, limit, result_row, &c, &err)
                 : view_results_each(&r, result_row, &c, &err);
    }
    if (rc) {
        api_err(out, &err);
        json_decref(c.rows);
    } else if (csv) {
        out->status = 200;
        out->content_type = "text/csv; charset=utf-8";
        out->len = sb.len;
        out->body = sb_take(&sb);
    } else {
        api_json(out, 200, c.rows);
    }
    sb_fini(&sb);
    view_results_fini(&r);
    store_study_fini(&s);
}

struct task_page {
    const char *study;
    long long offset, limit;
    json_t *tasks;
    bool more;
};

/* The priorities that ?priority= names: a band (HIGH, MEDIUM, LOW in any case, as
 * priority_name() draws them) or an integer; every one when NULL. -1 for another
 * value. */
static int priority_range(const char *want, int *lo, int *hi)
{
    long long p;

    *lo = INT_MIN;
    *hi = INT_MAX;
    if (!want)
        return 0;
    if (route_query_int(want, 0, 1000000, 0, &p) == 0)
        *lo = *hi = (int)p;
    else if (strcasecmp(want, "HIGH") == 0)
        *lo = PRIORITY_HIGH;
    else if (strcasecmp(want, "MEDIUM") == 0)
        *lo = *hi = PRIORITY_MEDIUM;
    else if (strcasecmp(want, "LOW") == 0)
        *hi = PRIORITY_LOW;
    else
        return -1;
    return 0;
}

/* One task of the page; the one after the page's last says there are more. */
static int task_one(const struct store_task *t, void *arg)
{
    struct task_page *pg = arg;

    if ((long long)json_array_size(pg->tasks) == pg->limit) {
        pg->more = true;
        return 1;
    }
    json_array_append_new(pg->tasks, view_task_json(t, pg->study));
    return 0;
}

struct study_ref {
    long long id;
    char *name;
};
struct study_refs {
    struct study_ref *v;
    size_t n, cap;
};

static int collect_study(const struct store_study *s, void *arg)
{
    struct study_refs *r = arg;

    r->v = xgrow(r->v, &r->cap, r->n + 1, sizeof(*r->v));
    r->v[r->n].id = s->id;
    r->v[r->n++].name = xstrdup(s->name);
    return 0;
}

/* GET /tasks?status=&study=&priority=&limit=&offset=: tasks of the latest generation
 * of each study (newest study first, each in expansion order). Each page is read in
 * the store (store_task_page()): the studies before the offset are skipped by their
 * kept counts (store_task_count()), so a page of a study of any size costs O(limit)
 * rows, plus, with a state or priority filter, the offset's index steps. */
static void
task_list(struct store *st, const struct api_request *rq, struct api_response *out)
{
    const char *status = rq->query(rq->query_arg, "status");
    const char *study = rq->query(rq->query_arg, "study");
    struct task_page pg = {0};
    struct study_refs refs = {0};
    struct store_study s = {0};
    struct err err = {0};
    enum task_state state = TASK_PENDING;
    int rc = SWEEP_OK, lo, hi;
    long long skip;

    if (route_query_int(rq->query(rq->query_arg, "limit"), 1, API_PAGE_MAX, 100,
                        &pg.limit) < 0 ||
        route_query_int(rq->query(rq->query_arg, "offset"), 0, 1LL << 50, 0,
                        &pg.offset) < 0) {
        api_error(out, 400, "invalid", "limit: 1 to 1000; offset: 0 or more");
        return;
    }
    if (status) {
        char lower[32];
        size_t i;
        for (i = 0; status[i] && i < sizeof(lower) - 1; i++)
            lower[i] = (char)tolower((unsigned char)status[i]);
        lower[i] = '\0';
        if (task_state_parse(lower, &state) < 0)
            status = "";
    }
    if (status && !*status) {
        api_error(out, 400, "invalid",
                  "status: expected a task state (PENDING, RUNNING, SUCCEEDED, FAILED, "
                  "...)");
        return;
    }
    if (priority_range(rq->query(rq->query_arg, "priority"), &lo, &hi) < 0) {
        api_error(out, 400, "invalid",
                  "priority: expected HIGH, MEDIUM, LOW or an integer");
        return;
    }
    if (study) {
        rc = store_study_get(st, study, &s, &err);
        if (!rc)
            collect_study(&s, &refs);
    } else {
        rc = store_study_list(st, collect_study, &refs, &err);
    }
    pg.tasks = json_array();
    skip = pg.offset;
    for (size_t i = 0; i < refs.n && !rc && !pg.more; i++) {
        long long n;
        if (skip > 0) {
            rc = store_task_count(st, refs.v[i].id, status ? (int)state : -1, lo, hi,
                                  &n, &err);
            if (rc || n <= skip) {
                skip -= n;
                continue;
            }
        }
        pg.study = refs.v[i].name;
        /* One more than the page holds: whether there are more. */
        rc = store_task_page(st, refs.v[i].id, status ? (int)state : -1, lo, hi, skip,
                             pg.limit + 1 - (long long)json_array_size(pg.tasks),
                             task_one, &pg, &err);
        skip = 0;
    }
    if (rc) {
        api_err(out, &err);
        json_decref(pg.tasks);
    } else {
        api_json(out, 200,
                 json_pack("{s:o, s:I, s:I, s:o}", "tasks", pg.tasks, "offset",
                           (json_int_t)pg.offset, "limit", (json_int_t)pg.limit,
                           "next_offset",
                           pg.more ? json_integer(pg.offset + pg.limit) : json_null()));
    }
    for (size_t i = 0; i < refs.n; i++)
        free(refs.v[i].name);
    free(refs.v);
    store_study_fini(&s);
}

static void task_get(struct store *st, const char *name, struct api_response *out)
{
    struct store_task t = {0};
    char *study = NULL;
    struct err err = {0};

    if (store_task_resolve(st, 0, name, &t, &study, &err))
        api_err(out, &err);
    else
        api_json(out, 200, view_task_json(&t, study));
    store_task_fini(&t);
    free(study);
}

/* GET /metrics: Prometheus text. */
static void metrics(struct service *s, struct store *st, struct api_response *out)
{
    struct err err = {0};
    char *text;

    if (stats_metrics_text(service_stats(s), st, time_now(),
                           events_subscribers(service_events(s)), &text, &err)) {
        api_err(out, &err);
        return;
    }
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    out->body = text;
    out->len = strlen(text);
}

/* GET /workers, /workers/{id}, /ping_all: the local executor is the one worker. */
static void
workers(struct service *s, enum route_id id, const char *arg, struct api_response *out)
{
    json_t *w = stats_worker_json(service_stats(s), time_now());

    if (id == ROUTE_WORKER_GET) {
        char detail[300];
        if (strcmp(arg, "local") == 0) {
            api_json(out, 200, w);
            return;
        }
        json_decref(w);
        snprintf(detail, sizeof(detail),
                 "no worker %.200s (this service has one: local)", arg);
        api_error(out, 404, "not_found", detail);
        return;
    }
    if (id == ROUTE_PING_ALL) {
        /* The local worker is this process: it answers as it is asked. */
        json_t *pong =
            json_pack("{s:s, s:b, s:s, s:f}", "id", "local", "ok", 1, "host",
                      json_string_value(json_object_get(w, "host")), "latency_ms", 0.0);
        json_decref(w);
        api_json(
            out, 200,
            json_pack("{s:i, s:i, s:[o]}", "total", 1, "answered", 1, "workers", pong));
        return;
    }
    api_json(out, 200, json_pack("{s:[o]}", "workers", w));
}

bool api_reads_store(enum route_id id)
{
    switch (id) {
    case ROUTE_HEALTH:
    case ROUTE_OPENAPI:
    case ROUTE_DASHBOARD:
    case ROUTE_STATIC:
    case ROUTE_STATS_PERF:
    case ROUTE_WORKER_LIST:
    case ROUTE_WORKER_GET:
    case ROUTE_PING_ALL:
        return false;
    default:
        return true;
    }
}

void api_handle(struct service *s,
                struct store *st,
                const struct api_request *rq,
                struct api_response *out)
{
    const char *arg = rq->route->arg;
    struct svc_reply r;
    struct err err = {0};
    json_t *v;

    if (!st && !rq->route->changes_state && api_reads_store(rq->route->id)) {
        api_error(out, 503, "store", "the store cannot be opened for reading");
        return;
    }
    switch (rq->route->id) {
    case ROUTE_HEALTH:
        api_json(out, 200,
                 json_pack("{s:s}", "status", service_draining(s) ? "stopping" : "ok"));
        return;
    case ROUTE_STATUS:
    case ROUTE_STUDY_LIST:
        if (view_study_list(st, &v, &err)) {
            api_err(out, &err);
            return;
        }
        if (rq->route->id == ROUTE_STATUS) {
            json_t *info = service_info(s);
            json_object_set_new(info, "studies", v);
            v = info;
        }
        api_json(out, 200, v);
        return;
    case ROUTE_STUDY_SUBMIT:
        submit(s, rq, false, out);
        return;
    case ROUTE_TASK_SUBMIT:
        submit(s, rq, true, out);
        return;
    case ROUTE_STUDY_GET:
        study_get(s, st, arg, out);
        return;
    case ROUTE_STUDY_CANCEL:
        service_call(s, SVC_CANCEL, arg, NULL, &r);
        api_reply(out, &r);
        return;
    case ROUTE_STUDY_RETRY:
        service_call(s, SVC_RETRY, arg, NULL, &r);
        api_reply(out, &r);
        return;
    case ROUTE_STUDY_RESULTS:
        study_results(st, rq, out);
        return;
    case ROUTE_TASK_LIST:
        task_list(st, rq, out);
        return;
    case ROUTE_TASK_GET:
        task_get(st, arg, out);
        return;
    case ROUTE_TASK_CANCEL:
        service_call(s, SVC_TASK_CANCEL, arg, NULL, &r);
        api_reply(out, &r);
        return;
    case ROUTE_OPENAPI: /* the embedded document, as is */
        out->status = 200;
        out->content_type = api_json_type;
        out->len = openapi_json_len;
        out->body = xstrndup((const char *)openapi_json, openapi_json_len);
        return;
    case ROUTE_STUDY_AGG:
        plots_aggregate(st, rq, out);
        return;
    case ROUTE_STUDY_PLOT:
        plots_svg(st, rq, out);
        return;
    case ROUTE_STUDY_REPORT:
        plots_report(st, rq, out);
        return;
    case ROUTE_EXEC_TASKS:
        plots_execute_tasks(s, rq, out);
        return;
    case ROUTE_DASHBOARD:
        dashboard_static("", out);
        return;
    case ROUTE_STATIC:
        dashboard_static(arg, out);
        return;
    case ROUTE_TASK_LOGS:
        dashboard_task_logs(s, st, rq, out);
        return;
    case ROUTE_TASK_ATTEMPTS:
        dashboard_task_attempts(st, arg, out);
        return;
    case ROUTE_METRICS:
        metrics(s, st, out);
        return;
    case ROUTE_STATS:
        if (view_stats_json(st, &v, &err)) {
            api_err(out, &err);
            return;
        }
        api_json(out, 200, v);
        return;
    case ROUTE_STATS_PERF:
        api_json(out, 200, stats_performance_json(service_stats(s), time_now()));
        return;
    case ROUTE_WORKER_LIST:
    case ROUTE_WORKER_GET:
    case ROUTE_PING_ALL:
        workers(s, rq->route->id, arg, out);
        return;
    case ROUTE_EVENTS: /* a stream: http.c */
    case ROUTE_MCP:    /* mcp_http.c, from http.c */
    case ROUTE_NONE:
        break;
    }
    api_error(out, 404, "not_found", "no such endpoint");
}
