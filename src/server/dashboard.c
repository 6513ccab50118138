/* The web dashboard of `sweep serve`: GET / and GET /static/NAME answer the files of
 * src/server/dashboard/ (index.html, app.js, style.css), embedded in the binary at
 * build time (scripts/embed.cmake, CMakeLists.txt), so the service needs no file of its
 * own and the pages no external URL; and what the task page shows beside the task:
 * GET /tasks/{id}/logs, the tail of its log, and GET /tasks/{id}/attempts. The pages
 * themselves only call the REST API. */
#include "server/service.h"

#include "common/xalloc.h"
#include "core/runner.h"
#include "core/store.h"
#include "core/view.h"
#include "server/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DASH_TAIL_DEFAULT 200      /* lines of GET /tasks/{id}/logs without ?tail= */
#define DASH_TAIL_MAX 10000        /* the largest ?tail= */
#define DASH_TAIL_BYTES (1L << 20) /* at most the last MiB of a log is read */

extern const unsigned char dashboard_index_html[], dashboard_app_js[],
    dashboard_style_css[];
extern const size_t dashboard_index_html_len, dashboard_app_js_len,
    dashboard_style_css_len;

struct dash_file {
    const char *name; /* under /static/; "" is the page at / */
    const char *type;
    const unsigned char *bytes;
    const size_t *len;
};

static const struct dash_file dash_files[] = {
    {"", "text/html; charset=utf-8", dashboard_index_html, &dashboard_index_html_len},
    {"app.js", "text/javascript; charset=utf-8", dashboard_app_js,
     &dashboard_app_js_len},
    {"style.css", "text/css; charset=utf-8", dashboard_style_css,
     &dashboard_style_css_len},
};

void dashboard_static(const char *name, struct api_response *out)
{
    for (size_t i = 0; i < sizeof(dash_files) / sizeof(dash_files[0]); i++) {
        const struct dash_file *f = &dash_files[i];
        if (strcmp(f->name, name) != 0)
            continue;
        out->status = 200;
        out->content_type = f->type;
        out->len = *f->len;
        out->body = xstrndup((const char *)f->bytes, *f->len);
        return;
    }
    api_error(out, 404, "not_found", "no such file of the dashboard");
}

/* The last `lines` lines of the file at path (at most its last DASH_TAIL_BYTES), as a
 * new string in *out with its length in *len; a missing file is empty (the runner
 * makes a log at its first byte). -1 when it cannot be read. */
static int tail_file(const char *path, long long lines, char **out, size_t *len)
{
    FILE *in = fopen(path, "re");
    long size, from;
    size_t n;
    char *buf, *p;

    *out = xstrdup("");
    *len = 0;
    if (!in)
        return 0;
    if (fseek(in, 0, SEEK_END) != 0 || (size = ftell(in)) < 0) {
        fclose(in);
        return -1;
    }
    from = size > DASH_TAIL_BYTES ? size - DASH_TAIL_BYTES : 0;
    buf = xmalloc((size_t)(size - from) + 1);
    n = fseek(in, from, SEEK_SET) == 0 ? fread(buf, 1, (size_t)(size - from), in) : 0;
    fclose(in);
    buf[n] = '\0';
    /* Back from the end over `lines` line ends (a last line without one counts). */
    p = buf + n;
    if (p > buf && p[-1] == '\n')
        p--;
    for (long long k = 0; p > buf; p--) {
        if (p[-1] == '\n' && ++k == lines)
            break;
    }
    free(*out);
    *len = n - (size_t)(p - buf);
    *out = xstrndup(p, *len);
    free(buf);
    return 0;
}

void dashboard_task_logs(struct service *s,
                         struct store *st,
                         const struct api_request *rq,
                         struct api_response *out)
{
    const char *stream = rq->query(rq->query_arg, "stream");
    long long lines;
    struct store_task t = {0};
    char *study = NULL, *dir = NULL, *path = NULL;
    struct err err = {0};

    if (!stream || !*stream)
        stream = "stdout";
    if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
        api_error(out, 400, "invalid", "stream must be stdout or stderr");
        return;
    }
    if (route_query_int(rq->query(rq->query_arg, "tail"), 1, DASH_TAIL_MAX,
                        DASH_TAIL_DEFAULT, &lines) < 0) {
        api_error(out, 400, "invalid",
                  "tail must be a number of lines from 1 to 10000");
        return;
    }
    /* The path comes from the store's row (its study and key), never the request. */
    if (store_task_resolve(st, 0, rq->route->arg, &t, &study, &err)) {
        api_err(out, &err);
        goto cleanup;
    }
    dir = runner_task_dir(service_opts(s)->home, study, t.key);
    path = xasprintf("%s/%s.log", dir, stream);
    if (tail_file(path, lines, &out->body, &out->len) < 0) {
        free(out->body);
        out->body = NULL;
        api_error(out, 500, "internal", "the log cannot be read");
        goto cleanup;
    }
    out->status = 200;
    out->content_type = "text/plain; charset=utf-8";
cleanup:
    free(path);
    free(dir);
    free(study);
    store_task_fini(&t);
}

static int attempt_one(const struct store_attempt *a, void *arg)
{
    json_array_append_new(arg, view_attempt_json(a));
    return 0;
}

void dashboard_task_attempts(struct store *st,
                             const char *name,
                             struct api_response *out)
{
    struct store_task t = {0};
    json_t *list = json_array();
    struct err err = {0};

    if (store_task_resolve(st, 0, name, &t, NULL, &err) ||
        store_task_attempts(st, t.id, attempt_one, list, &err)) {
        api_err(out, &err);
        json_decref(list);
    } else {
        api_json(
            out, 200,
            json_pack("{s:I, s:o}", "task_id", (json_int_t)t.id, "attempts", list));
    }
    store_task_fini(&t);
}
