/* The REST API's pictures and statistics of a study, and POST /execute_tasks (see
 * route.h for the routes). The GETs are drawn in the calling HTTP thread from its read
 * connection (never the engine), with the code of the CLI: the aggregate of `sweep
 * aggregate --format json` (core/aggregate.c, core/view.c), the chart of `sweep plot`
 * (report/plot.c) as SVG, the page of `sweep report` (report/report.c) as PNG; each is
 * built whole in memory: one aggregation of the study (O(tasks)), at most
 * PLOT_MAX_SERIES series, a picture of at most PLOTS_MAX_SIZE pixels a side.
 * POST /execute_tasks reads a task file (taskfile.h: the service's configured tasks
 * file, or the request body) and submits its study like POST /studies. */
#include "server/service.h"

#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/strlist.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/doc.h"
#include "core/store.h"
#include "core/view.h"
#include "models/model.h"
#include "report/chart.h"
#include "report/plot.h"
#include "report/report.h"
#include "server/route.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The default and the largest picture of GET /studies/{id}/plot.svg (pixels). */
#define PLOTS_WIDTH 800
#define PLOTS_HEIGHT 500
#define PLOTS_MAX_SIZE 4096

/* The grouping of "by=" (--by ''): no parameter, one group; not NULL, which means
 * the default grouping. */
static const char *const no_names[1];

static const char *q(const struct api_request *rq, const char *name)
{
    return rq->query(rq->query_arg, name);
}

/* A yes/no query flag: absent, "", "0", "false", "no" are no; "1", "true", "yes" are
 * yes; anything else -1. */
static int query_flag(const char *v)
{
    if (!v || !*v || strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 ||
        strcasecmp(v, "no") == 0)
        return 0;
    if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0)
        return 1;
    return -1;
}

/* Whether err says that name is an unknown parameter (aggregate's message). */
static bool unknown_param(const struct err *err, const char *name)
{
    char *want = xasprintf("unknown parameter \"%s\"", name);
    bool r = strstr(err->msg, want) != NULL;

    free(want);
    return r;
}

/* An error of the aggregation as an answer, its detail led by the query parameter
 * that holds the unknown name: metric (an unknown metric), else x or by (whichever
 * holds the unknown parameter, or x when it is not numeric; x is NULL for
 * /aggregate). A study without any metric yet is 409 no_data, not a bad request. */
static void
answer_err(struct api_response *out, const char *x, const char *by, struct err *err)
{
    const char *param = NULL;

    if (err->code == SWEEP_EINVAL && strstr(err->msg, "(known metrics: none)")) {
        /* No task has written a metric yet: not the request's fault. */
        err_prefix(err, "no succeeded task has written a metric yet");
        api_error(out, 409, "no_data", err->msg);
        return;
    }
    if (err->code == SWEEP_EINVAL && strstr(err->msg, "unknown metric"))
        param = x ? "y" : "metrics";
    else if (err->code == SWEEP_EINVAL && x &&
             (unknown_param(err, x) || strstr(err->msg, "to be the x axis")))
        param = "x";
    else if (err->code == SWEEP_EINVAL && (by || !x) &&
             strstr(err->msg, "unknown parameter"))
        param = "by";
    if (param)
        err_prefix(err, "%s", param);
    api_err(out, err);
}

void plots_aggregate(struct store *st,
                     const struct api_request *rq,
                     struct api_response *out)
{
    const char *by_arg = q(rq, "by"), *metrics_arg = q(rq, "metrics");
    const char *fit_arg = q(rq, "fit");
    char **by = NULL, **metrics = NULL, *text;
    size_t nby = 0, nmetrics = 0;
    struct store_study s = {0};
    struct aggregate a = {0};
    struct err err = {0};
    int step;

    if (fit_arg && strcmp(fit_arg, "power") != 0) {
        api_error(out, 400, "invalid", "fit: expected power");
        return;
    }
    if ((by_arg && strlist_split(by_arg, &by, &nby) < 0) ||
        (metrics_arg && strlist_split(metrics_arg, &metrics, &nmetrics) < 0)) {
        api_error(out, 400, "invalid", "by, metrics: a comma-separated list of names");
        goto out;
    }
    if (store_study_get(st, rq->route->arg, &s, &err)) {
        api_err(out, &err);
        goto out;
    }
    if (view_step_index(&s, q(rq, "step"), &step, &err)) {
        api_err(out, &err);
        goto out;
    }
    if (aggregate_study_step(st, s.id, step,
                             by_arg ? (by ? (const char *const *)by : no_names) : NULL,
                             nby, metrics_arg ? (const char *const *)metrics : NULL,
                             nmetrics, &a, &err)) {
        answer_err(out, NULL, by_arg, &err);
        goto out;
    }
    if (fit_arg && a.nby == 0) {
        api_error(out, 400, "invalid", "fit: no parameter to fit against; give by");
        goto out;
    }
    text = view_aggregate_json_str(&a, fit_arg != NULL);
    out->status = 200;
    out->content_type = "application/json";
    out->body = text;
    out->len = strlen(text);
out:
    aggregate_fini(&a);
    strlist_free(by, nby);
    strlist_free(metrics, nmetrics);
    store_study_fini(&s);
}

/* A size query parameter from CHART_MIN_SIZE to PLOTS_MAX_SIZE; -1 when bad. */
static int query_size(const char *v, int def)
{
    long long n;

    if (route_query_int(v, CHART_MIN_SIZE, PLOTS_MAX_SIZE, def, &n) < 0)
        return -1;
    return (int)n;
}

void plots_svg(struct store *st, const struct api_request *rq, struct api_response *out)
{
    const char *fit = q(rq, "fit");
    int logx = query_flag(q(rq, "logx")), logy = query_flag(q(rq, "logy"));
    int width = query_size(q(rq, "width"), PLOTS_WIDTH);
    int height = query_size(q(rq, "height"), PLOTS_HEIGHT);
    struct plot_spec p = {.x = q(rq, "x"), .y = q(rq, "y"), .by = q(rq, "by")};
    struct store_study s = {0};
    struct chart *ch = NULL;
    const struct model *m;
    char *xlabel = NULL, *ylabel = NULL, *svg = NULL;
    size_t npoints = 0, len = 0;
    struct err err = {0};

    if (!p.x || !*p.x || !p.y || !*p.y) {
        api_error(out, 400, "invalid",
                  "x (a numeric parameter) and y (a metric) are required");
        return;
    }
    if ((p.by && !*p.by) || logx < 0 || logy < 0 || (fit && strcmp(fit, "power")) ||
        width < 0 || height < 0) {
        api_error(out, 400, "invalid",
                  p.by && !*p.by ? "by: empty parameter name"
                  : logx < 0     ? "logx: expected true or false"
                  : logy < 0     ? "logy: expected true or false"
                  : width < 0    ? "width: expected pixels from 120 to 4096"
                  : height < 0   ? "height: expected pixels from 120 to 4096"
                                 : "fit: expected power");
        return;
    }
    p.fit = fit != NULL;
    p.logx = logx || p.fit;
    p.logy = logy || p.fit;
    if (store_study_get(st, rq->route->arg, &s, &err)) {
        api_err(out, &err);
        goto out;
    }
    if (view_step_index(&s, q(rq, "step"), &p.step, &err)) {
        api_err(out, &err);
        goto out;
    }
    m = model_of_spec(s.spec_json);
    p.xlabel = xlabel = model_axis_label(m, p.x, true);
    p.ylabel = ylabel = model_axis_label(m, p.y, false);
    if (plot_build(st, &s, &p, &ch, &npoints, NULL, &err)) {
        answer_err(out, p.x, p.by, &err);
        goto out;
    }
    if (npoints == 0) {
        char *detail = xasprintf("study %s has no succeeded task with metric \"%s\" "
                                 "to plot yet",
                                 s.name, p.y);
        api_error(out, 409, "no_data", detail);
        free(detail);
        goto out;
    }
    if (chart_render_mem(ch, "svg", width, height, &svg, &len, &err)) {
        api_err(out, &err);
        goto out;
    }
    out->status = 200;
    out->content_type = "image/svg+xml";
    out->body = svg;
    out->len = len;
out:
    chart_destroy(ch);
    free(xlabel);
    free(ylabel);
    store_study_fini(&s);
}

void plots_report(struct store *st,
                  const struct api_request *rq,
                  struct api_response *out)
{
    struct err err = {0};
    char *png = NULL;
    size_t len = 0;

    if (report_study_mem(st, rq->route->arg, "png", &png, &len, &err)) {
        api_err(out, &err);
        return;
    }
    out->status = 200;
    out->content_type = "image/png";
    out->body = png;
    out->len = len;
}

/* The tasks file of the service: its setting, relative to the home, or
 * configs/tasks.yaml in the home. New string. */
static char *tasks_path(struct service *s)
{
    const struct server_opts *o = service_opts(s);

    if (o->taskfile && o->taskfile[0] == '/')
        return xstrdup(o->taskfile);
    return xasprintf("%s/%s", o->home,
                     o->taskfile ? o->taskfile : "configs/tasks.yaml");
}

void plots_execute_tasks(struct service *s,
                         const struct api_request *rq,
                         struct api_response *out)
{
    bool from_body = rq->body && rq->body_len > 0, forbidden = false;
    char *path = from_body ? xstrdup("execute_tasks.yaml") : tasks_path(s);
    char *data = NULL, *text = NULL, *name = NULL;
    size_t len = 0;
    struct spec *spec = NULL;
    struct svc_reply r = {0};
    struct err err = {0};

    if (!from_body && fileio_read_user(path, DOC_MAX_SIZE, &data, &len, &err)) {
        api_err(out, &err); /* a missing file: 404 naming its path */
        goto out;
    }
    if (spec_parse(path, from_body ? rq->body : data, from_body ? rq->body_len : len,
                   &spec, &err)) {
        api_error(out, 400, "invalid", err.msg);
        goto out;
    }
    if (!spec->format) {
        char *detail = xasprintf("%s: not a task file (a task-queue JSON or a "
                                 "tasks.yaml); POST a study spec to /studies",
                                 from_body ? "the body" : path);
        api_error(out, 400, "invalid", detail);
        free(detail);
        goto out;
    }
    if (api_spec_check(spec->json, service_opts(s)->allow_commands, &text, &name,
                       &forbidden, &err)) {
        api_error(out, forbidden ? 403 : 400, forbidden ? "forbidden" : "invalid",
                  err.msg);
        goto out;
    }
    service_call(s, SVC_SUBMIT, name, text, &r);
    if (json_is_object(r.body) && r.status == 202) {
        json_object_set_new(r.body, "study_ids", json_pack("[s]", name));
        json_object_set_new(r.body, "tasks_file",
                            from_body ? json_null() : json_string(path));
    }
    api_json(out, r.status, r.body);
out:
    spec_destroy(spec);
    free(name);
    free(text);
    free(data);
    free(path);
}
