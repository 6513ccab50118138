/* libmicrohttpd under the service (see http.h). Requests run in a pool of
 * o->threads threads, each answered from its own read connection to the store (made
 * on its first request, closed when the thread ends). A request is checked as soon as
 * its headers are in: an unknown path, a wrong method, a missing or wrong token, the
 * intake closed or a declared body over the limit are answered before any body is
 * read; a body sent without a length is read up to the limit, then refused (413).
 *
 * GET /events is a stream: a response whose content comes from the ring of events
 * (events.h), read by the thread serving the connection. With nothing to send the
 * connection is suspended (MHD_suspend_connection, from the content reader, under the
 * ring's mutex) and resumed by the main thread's next push or heartbeat, so that a
 * waiting client holds no thread; a client that went away is noticed at its next
 * write (the heartbeat at the latest) and its slot freed. A tools/call of /mcp is
 * streamed the same way from its worker (mcp_http.h), with the same hooks. */
#include "server/http.h"

#include "common/config.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "common/timeutil.h"
#include "core/store.h"
#include "server/events.h"
#include "server/mcp_http.h"
#include "server/route.h"
#include "server/service.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <unistd.h>

struct http {
    struct MHD_Daemon *d;
    struct service *s;
    struct mcp_http *mcp; /* /mcp */
};

/* The thread's read connection. */
static pthread_key_t store_key;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void store_key_free(void *p)
{
    store_close(p);
}

static void store_key_make(void)
{
    pthread_key_create(&store_key, store_key_free);
}

struct store *http_thread_store(struct service *s)
{
    struct store *st = pthread_getspecific(store_key);
    struct err err = {0};

    if (st)
        return st;
    if (store_open(service_opts(s)->home, &st, &err))
        return NULL;
    pthread_setspecific(store_key, st);
    return st;
}

/* One request in progress. */
struct req {
    struct route_match route;
    struct api_response early; /* answered before the body: status != 0 */
    struct strbuf body;
    size_t max;
    bool too_big;
    const char *home; /* the service's, kept out of error answers */
};

/* An error answer's body without the absolute path of the home (or of its real
 * path): a path in the home reads relative to it (route_scrub_home). */
static void scrub_home(struct api_response *a, const char *home)
{
    char *real = realpath(home, NULL);
    const char *homes[2] = {home, real};

    for (size_t i = 0; i < 2; i++) {
        size_t n;
        char *t = homes[i] ? route_scrub_home(a->body, a->len, homes[i], &n) : NULL;
        if (t) {
            free(a->body);
            a->body = t;
            a->len = n;
        }
    }
    free(real);
}

static enum MHD_Result
respond(struct MHD_Connection *c, struct req *r, struct api_response *a)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (a->status >= 400 && a->body)
        scrub_home(a, r->home);
    resp = MHD_create_response_from_buffer(a->len, a->body, MHD_RESPMEM_MUST_FREE);
    a->body = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    if (a->status == 405 && *r->route.allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->route.allow);
    if (a->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    ret = MHD_queue_response(c, (unsigned int)a->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- GET /events ---- */

static void sse_suspend(void *arg)
{
    MHD_suspend_connection(arg);
}

static void sse_resume(void *arg)
{
    MHD_resume_connection(arg);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    ssize_t n = events_read(cls, buf, max, time_mono());

    (void)pos;
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void sse_free(void *cls)
{
    events_unsubscribe(cls);
}

/* The stream, from the event after Last-Event-ID (or ?last_event_id=). */
static enum MHD_Result
sse_start(struct service *s, struct MHD_Connection *c, struct req *r)
{
    const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    struct events_hooks h = {.suspend = sse_suspend, .resume = sse_resume, .arg = c};
    struct api_response a = {0};
    struct MHD_Response *resp;
    struct events_sub *sub;
    enum MHD_Result ret;
    long long id = 0;

    if (!last)
        last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last_event_id");
    if (route_query_int(last, 0, LLONG_MAX, 0, &id) < 0) {
        api_error(&a, 400, "invalid", "Last-Event-ID is the number of an event");
        return respond(c, r, &a);
    }
    sub = events_subscribe(service_events(s), (uint64_t)id, &h, time_mono());
    if (!sub) {
        api_error(&a, 503, "busy", "too many event streams are open");
        return respond(c, r, &a);
    }
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, sub,
                                             sse_free);
    if (!resp) {
        events_unsubscribe(sub);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- /mcp ---- */

static ssize_t mcp_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    ssize_t n = mcp_http_stream_read(cls, buf, max);

    (void)pos;
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void mcp_free(void *cls)
{
    mcp_http_stream_release(cls);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* A POST or DELETE of /mcp (mcp_http.h), answered with its Mcp-Session-Id. */
static enum MHD_Result
mcp_respond(struct http *h, struct MHD_Connection *c, const char *method, struct req *r)
{
    struct mcp_http_request mr = {
        .method = method,
        .session_id = header(c, "Mcp-Session-Id"),
        .accept = header(c, MHD_HTTP_HEADER_ACCEPT),
        .protocol_version = header(c, "MCP-Protocol-Version"),
        .origin = header(c, "Origin"),
        .host = header(c, MHD_HTTP_HEADER_HOST),
        .body = r->body.len ? sb_str(&r->body) : NULL,
        .body_len = r->body.len,
    };
    struct events_hooks hooks = {
        .suspend = sse_suspend, .resume = sse_resume, .arg = c};
    struct mcp_http_stream *st;
    struct api_response a = {0};
    char sid[MCP_HTTP_ID_LEN + 1];
    struct MHD_Response *resp;
    enum MHD_Result ret;

    mcp_http_handle(h->mcp, &mr, &hooks, &a, sid, &st);
    if (st)
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, mcp_read, st,
                                                 mcp_free);
    else
        resp = MHD_create_response_from_buffer(a.len, a.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        mcp_http_stream_release(st);
        return MHD_NO;
    }
    if (a.content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a.content_type);
    if (a.content_type && strcmp(a.content_type, "text/event-stream") == 0)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (*sid)
        MHD_add_response_header(resp, "Mcp-Session-Id", sid);
    ret = MHD_queue_response(c, (unsigned int)a.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static const char *query(void *arg, const char *name)
{
    return MHD_lookup_connection_value(arg, MHD_GET_ARGUMENT_KIND, name);
}

/* The checks made on the headers alone; r->early.status set when one fails. */
static void check_headers(struct service *s,
                          struct MHD_Connection *c,
                          const char *method,
                          const char *url,
                          struct req *r)
{
    const struct server_opts *o = service_opts(s);
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int rc = route_find(method, url, &r->route);
    char detail[300];
    long long n;

    if (rc == 404) {
        snprintf(detail, sizeof(detail), "no endpoint %.200s", url);
        api_error(&r->early, 404, "not_found", detail);
    } else if (rc == 405) {
        snprintf(detail, sizeof(detail), "%.200s takes %s, not %.16s", url,
                 r->route.allow, method);
        api_error(&r->early, 405, "method_not_allowed", detail);
    } else if (rc == 400) {
        api_error(&r->early, 400, "bad_id",
                  "an id is 1 to 200 letters, digits, '.', '_' or '-' (not . or ..)");
    } else if (r->route.changes_state && o->token &&
               !route_bearer_ok(MHD_lookup_connection_value(
                                    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                                o->token)) {
        api_error(&r->early, 401, "unauthorized",
                  "this request changes state: send Authorization: Bearer TOKEN");
    } else if (r->route.changes_state && service_draining(s)) {
        api_error(&r->early, 503, "stopping",
                  "the service is stopping and takes no new work");
    } else if (len && (route_query_int(len, 0, LLONG_MAX, 0, &n) < 0 ||
                       (unsigned long long)n > o->max_body)) {
        snprintf(detail, sizeof(detail),
                 "the body is larger than %zu bytes (--max-body)", o->max_body);
        api_error(&r->early, 413, "too_large", detail);
    }
}

/* Whether a Content-Type names YAML: application/yaml, application/x-yaml, text/yaml
 * or text/x-yaml, parameters (;charset=...) aside, in any case. */
static bool http_is_yaml(const char *type)
{
    static const char *const yaml[] = {"application/yaml", "application/x-yaml",
                                       "text/yaml", "text/x-yaml"};
    size_t n;

    if (!type)
        return false;
    type += strspn(type, " \t");
    n = strcspn(type, "; \t");
    for (size_t i = 0; i < sizeof(yaml) / sizeof(yaml[0]); i++) {
        if (strlen(yaml[i]) == n && strncasecmp(type, yaml[i], n) == 0)
            return true;
    }
    return false;
}

static enum MHD_Result on_request(void *cls,
                                  struct MHD_Connection *c,
                                  const char *url,
                                  const char *method,
                                  const char *version,
                                  const char *upload,
                                  size_t *upload_size,
                                  void **con_cls)
{
    struct http *h = cls;
    struct service *s = h->s;
    struct req *r = *con_cls;
    struct api_response a = {0};
    struct api_request rq = {0};

    (void)version;
    if (!r) {
        r = xcalloc(1, sizeof(*r));
        r->max = service_opts(s)->max_body;
        r->home = service_opts(s)->home;
        *con_cls = r;
        check_headers(s, c, method, url, r);
        if (r->early.status)
            return respond(c, r, &r->early);
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->body.len + *upload_size > r->max)
            r->too_big = true;
        else
            sb_add(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big) {
        char detail[100];
        snprintf(detail, sizeof(detail),
                 "the body is larger than %zu bytes (--max-body)", r->max);
        api_error(&a, 413, "too_large", detail);
        return respond(c, r, &a);
    }
    if (r->route.id == ROUTE_EVENTS)
        return sse_start(s, c, r);
    if (r->route.id == ROUTE_MCP)
        return mcp_respond(h, c, method, r);
    rq.route = &r->route;
    rq.body = r->body.len ? sb_str(&r->body) : NULL;
    rq.body_len = r->body.len;
    rq.body_yaml = http_is_yaml(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
    rq.query = query;
    rq.query_arg = c;
    api_handle(s, api_reads_store(r->route.id) ? http_thread_store(s) : NULL, &rq, &a);
    return respond(c, r, &a);
}

static void on_completed(void *cls,
                         struct MHD_Connection *c,
                         void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (!r)
        return;
    free(r->early.body);
    sb_fini(&r->body);
    free(r);
    *con_cls = NULL;
}

int http_start(struct service *s, struct http **out, struct err *err)
{
    const struct server_opts *o = service_opts(s);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    const union MHD_DaemonInfo *info;
    struct http *h;
    char host[64];
    int port, rc;

    *out = NULL;
    pthread_once(&store_once, store_key_make);
    if ((rc = config_parse_bind(o->bind, host, sizeof(host), &port, err)))
        return rc;
    inet_pton(AF_INET, host, &addr.sin_addr);
    addr.sin_port = htons((uint16_t)port);
    h = xcalloc(1, sizeof(*h));
    h->s = s;
    h->mcp = mcp_http_create(s);
    h->d = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
        on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(o->threads > 0 ? o->threads : 1),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)512, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!h->d) {
        mcp_http_destroy(h->mcp);
        free(h);
        return err_set(err, SWEEP_EIO,
                       "cannot listen on %s (the port taken, or not an address of this "
                       "host?)",
                       o->bind);
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(o->out, "sweep serve: listening on http://%s:%u (home %s, pid %d)\n", host,
            info ? (unsigned)info->port : (unsigned)port, o->home, (int)getpid());
    fflush(o->out);
    *out = h;
    return SWEEP_OK;
}

void http_stop(struct http *h)
{
    if (!h)
        return;
    mcp_http_stop(h->mcp); /* no call stays suspended */
    MHD_stop_daemon(h->d);
    mcp_http_destroy(h->mcp);
    free(h);
}
