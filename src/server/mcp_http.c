/* /mcp of the service: the streamable HTTP transport of MCP over the session of
 * mcp.h, and the service's backend (backend.h). See mcp_http.h. The session table is
 * a fixed array scanned under one mutex: O(MCP_HTTP_SESSIONS) per request, a few
 * dozen string compares. */
#include "server/mcp_http.h"

#include "common/config.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "mcp/backend.h"
#include "mcp/mcp.h"
#include "server/events.h"
#include "server/http.h"
#include "server/service.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

/* The messages a session sent while it handled one POST. */
struct collect {
    char **msg;
    size_t n, cap;
};

/* The answer of a tools/call as a worker produces it and the connection reads it
 * (mcp_http_stream_read). */
struct mcp_http_stream {
    pthread_mutex_t mu;
    struct events_hooks hooks; /* the connection's suspend and resume */
    bool sse;                  /* every message as an event, else the last as JSON */
    bool done;                 /* the worker has answered */
    bool asleep;               /* the connection is suspended */
    struct strbuf pend;        /* bytes to send; off of them sent */
    size_t off;
    char *last;         /* JSON: the last message so far */
    int refs;           /* the worker and the connection */
    struct mcp_http *m; /* counts it in streams until it is released */
};

/* A thread running one tools/call. */
struct worker {
    pthread_t tid;
    /* Under m->mu. W_RESERVED: for a call not started yet; W_DONE: to be joined. */
    enum { W_FREE, W_RESERVED, W_RUNNING, W_DONE } state;
    struct mcp_http *m;
    struct slot *sl;
    struct mcp_http_stream *st;
    char *body;
    size_t len;
};

struct slot {
    char id[MCP_HTTP_ID_LEN + 1];
    struct mcp_session *session;
    struct mcp_backend be; /* the session's (its base_url is this client's view) */
    char *base_url;
    pthread_mutex_t mu;           /* held by the request using the session */
    struct collect *cur;          /* that request's messages (under mu) */
    struct mcp_http_stream *live; /* or the stream they go to (under mu) */
    double last_used;             /* under m->mu */
    int users;                    /* requests holding the slot (under m->mu) */
    bool ended;                   /* out of the table: its last user frees it */
};

struct mcp_http {
    struct service *s;
    bool loopback; /* bound to 127.0.0.0/8: Host must be a loopback name */
    pthread_mutex_t mu;
    struct slot *slots[MCP_HTTP_SESSIONS];
    struct worker workers[MCP_HTTP_CALLS]; /* under mu */
    bool stopping;                         /* under mu: no new call, waits end */
    int streams; /* under mu: the answers of calls not yet sent in full */
};

/* ---- the backend ---- */

static struct store *be_store(void *ctx, struct err *err)
{
    struct mcp_http *m = ctx;
    struct store *st = http_thread_store(m->s);

    if (!st)
        err_set(err, SWEEP_ESTORE, "the store cannot be opened for reading");
    return st;
}

/* A reply of the main thread as an error code (SWEEP_OK for 200 and 202); the
 * reply's body is released. */
static int reply_code(struct svc_reply *r, json_t **body, struct err *err)
{
    const char *detail = json_string_value(json_object_get(r->body, "detail"));
    int rc = SWEEP_OK;

    if (r->status != 200 && r->status != 202)
        rc = err_set(err,
                     r->status == 404   ? SWEEP_ENOTFOUND
                     : r->status == 400 ? SWEEP_EINVAL
                     : r->status == 403 ? SWEEP_EINVAL
                     : r->status == 409 ? SWEEP_EBUSY
                     : r->status == 503 ? SWEEP_EBUSY
                                        : SWEEP_EINTERNAL,
                     "%s", detail ? detail : "the service refused the request");
    if (body && !rc)
        *body = r->body;
    else
        json_decref(r->body);
    r->body = NULL;
    return rc;
}

static int
be_submit(void *ctx, const char *name, const char *spec_text, struct err *err)
{
    struct mcp_http *m = ctx;
    json_t *spec = json_loads(spec_text, JSON_REJECT_DUPLICATES, NULL), *study;
    char *text = NULL, *checked = NULL;
    struct svc_reply r = {0};
    bool forbidden = false;
    int rc;

    if (!json_is_object(spec)) {
        json_decref(spec);
        return err_set(err, SWEEP_EINVAL, "the spec of %s is not a JSON object", name);
    }
    study = json_object_get(spec, "study");
    if (!study) {
        json_object_set_new(spec, "study", json_string(name));
    } else if (!json_is_string(study) || strcmp(json_string_value(study), name) != 0) {
        json_decref(spec);
        return err_set(err, SWEEP_EINVAL, "the spec names another study than %s", name);
    }
    rc = api_spec_check(spec, service_opts(m->s)->allow_commands, &text, &checked,
                        &forbidden, err);
    if (!rc) {
        service_call(m->s, SVC_SUBMIT, checked, text, &r);
        rc = reply_code(&r, NULL, err);
    }
    free(text);
    free(checked);
    json_decref(spec);
    return rc;
}

static int be_retry(void *ctx, const char *study, long long *requeued, struct err *err)
{
    struct mcp_http *m = ctx;
    struct svc_reply r = {0};
    json_t *body = NULL;
    int rc;

    *requeued = 0;
    service_call(m->s, SVC_RETRY, study, NULL, &r);
    rc = reply_code(&r, &body, err);
    if (!rc)
        *requeued = json_integer_value(json_object_get(body, "tasks_to_retry"));
    json_decref(body);
    return rc;
}

static bool be_stopping(void *ctx)
{
    struct mcp_http *m = ctx;
    bool stopping;

    pthread_mutex_lock(&m->mu);
    stopping = m->stopping;
    pthread_mutex_unlock(&m->mu);
    return stopping;
}

static int be_cancel(void *ctx, const char *study, struct err *err)
{
    struct mcp_http *m = ctx;
    struct svc_reply r = {0};

    service_call(m->s, SVC_CANCEL, study, NULL, &r);
    return reply_code(&r, NULL, err);
}

/* ---- the stream of a call ---- */

/* Wakes the connection when it is suspended (st->mu held). */
static void stream_wake(struct mcp_http_stream *st)
{
    if (!st->asleep)
        return;
    st->asleep = false;
    st->hooks.resume(st->hooks.arg);
}

static void stream_push(struct mcp_http_stream *st, const char *msg, size_t len)
{
    pthread_mutex_lock(&st->mu);
    if (st->sse) {
        sb_adds(&st->pend, "event: message\ndata: ");
        sb_add(&st->pend, msg, len);
        sb_adds(&st->pend, "\n\n");
    } else {
        free(st->last);
        st->last = xstrndup(msg, len);
    }
    stream_wake(st);
    pthread_mutex_unlock(&st->mu);
}

/* The worker's answer is complete: JSON sends its last message now. */
static void stream_end(struct mcp_http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    st->done = true;
    if (!st->sse)
        sb_adds(&st->pend, st->last ? st->last
                                    : "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{"
                                      "\"code\":-32603,\"message\":\"Internal error: "
                                      "the session sent no answer\"}}");
    stream_wake(st);
    pthread_mutex_unlock(&st->mu);
}

ssize_t mcp_http_stream_read(struct mcp_http_stream *st, char *buf, size_t max)
{
    size_t n;

    pthread_mutex_lock(&st->mu);
    if (st->off == st->pend.len) {
        sb_reset(&st->pend);
        st->off = 0;
        if (st->done) {
            pthread_mutex_unlock(&st->mu);
            return -1;
        }
        st->asleep = true;
        st->hooks.suspend(st->hooks.arg);
        pthread_mutex_unlock(&st->mu);
        return 0;
    }
    n = st->pend.len - st->off;
    n = n < max ? n : max;
    memcpy(buf, sb_str(&st->pend) + st->off, n);
    st->off += n;
    pthread_mutex_unlock(&st->mu);
    return (ssize_t)n;
}

void mcp_http_stream_release(struct mcp_http_stream *st)
{
    bool last;

    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    last = --st->refs == 0;
    pthread_mutex_unlock(&st->mu);
    if (!last)
        return;
    pthread_mutex_lock(&st->m->mu);
    st->m->streams--;
    pthread_mutex_unlock(&st->m->mu);
    pthread_mutex_destroy(&st->mu);
    sb_fini(&st->pend);
    free(st->last);
    free(st);
}

/* ---- sessions ---- */

static void on_send(void *arg, const char *msg, size_t len)
{
    struct slot *sl = arg;
    struct collect *c = sl->cur;

    if (sl->live) {
        stream_push(sl->live, msg, len);
        return;
    }
    if (!c) /* nothing waits for it (cannot happen: sends come from handle) */
        return;
    c->msg = xgrow(c->msg, &c->cap, c->n + 1, sizeof(*c->msg));
    c->msg[c->n++] = xstrndup(msg, len);
}

/* Whether a Host value is a safe authority to put in a URL. */
static bool authority_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 255)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr(".-:[]", *p)))
            return false;
    return true;
}

/* A session not in the table yet. Its links point at the REST API as this client
 * reaches it (its Host header), else at the bind address. */
static struct slot *slot_new(struct mcp_http *m, const char *host)
{
    struct slot *sl = xcalloc(1, sizeof(*sl));

    sl->base_url = xasprintf(
        "http://%s", host && authority_ok(host) ? host : service_opts(m->s)->bind);
    sl->be = (struct mcp_backend){.ctx = m,
                                  .store = be_store,
                                  .submit = be_submit,
                                  .retry = be_retry,
                                  .cancel = be_cancel,
                                  .stopping = be_stopping,
                                  .base_url = sl->base_url,
                                  .allow_commands = service_opts(m->s)->allow_commands};
    pthread_mutex_init(&sl->mu, NULL);
    sl->session = mcp_session_create(&sl->be, on_send, sl);
    return sl;
}

static void slot_free(struct slot *sl)
{
    if (!sl)
        return;
    mcp_session_destroy(sl->session);
    pthread_mutex_destroy(&sl->mu);
    free(sl->base_url);
    free(sl);
}

/* Puts sl in the table under a new id (copied to id): a free place, else one idle
 * too long, else the one idle longest. false when every session is in use. */
static bool slot_register(struct mcp_http *m, struct slot *sl, char *id)
{
    unsigned char rnd[MCP_HTTP_ID_LEN / 2];
    double now = time_mono();
    int at = -1, lru = -1;

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return false;
    for (size_t i = 0; i < sizeof(rnd); i++)
        snprintf(sl->id + 2 * i, 3, "%02x", rnd[i]);
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < MCP_HTTP_SESSIONS; i++) {
        struct slot *x = m->slots[i];
        if (x && x->users == 0 && now - x->last_used > MCP_HTTP_IDLE) {
            slot_free(x);
            m->slots[i] = x = NULL;
        }
        if (!x && at < 0)
            at = i;
        if (x && x->users == 0 && (lru < 0 || x->last_used < m->slots[lru]->last_used))
            lru = i;
    }
    if (at < 0 && lru >= 0) {
        slot_free(m->slots[lru]);
        m->slots[lru] = NULL;
        at = lru;
    }
    if (at >= 0) {
        sl->last_used = now;
        m->slots[at] = sl;
        strcpy(id, sl->id);
    }
    pthread_mutex_unlock(&m->mu);
    return at >= 0;
}

/* The session of id, kept for one request (slot_release() gives it back), its mutex
 * not taken yet, or NULL. */
static struct slot *slot_find(struct mcp_http *m, const char *id)
{
    struct slot *sl = NULL;

    if (strlen(id) != MCP_HTTP_ID_LEN)
        return NULL;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < MCP_HTTP_SESSIONS && !sl; i++)
        if (m->slots[i] && strcmp(m->slots[i]->id, id) == 0)
            sl = m->slots[i];
    if (sl) {
        sl->users++;
        sl->last_used = time_mono();
    }
    pthread_mutex_unlock(&m->mu);
    return sl;
}

/* The session of id, held for one request (its mutex taken), or NULL. */
static struct slot *slot_acquire(struct mcp_http *m, const char *id)
{
    struct slot *sl = slot_find(m, id);

    if (sl)
        pthread_mutex_lock(&sl->mu);
    return sl;
}

/* Takes the held sl out of the table (DELETE). */
static void slot_end(struct mcp_http *m, struct slot *sl)
{
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < MCP_HTTP_SESSIONS; i++)
        if (m->slots[i] == sl)
            m->slots[i] = NULL;
    sl->ended = true;
    pthread_mutex_unlock(&m->mu);
}

static void slot_release(struct mcp_http *m, struct slot *sl)
{
    bool last;

    pthread_mutex_unlock(&sl->mu);
    pthread_mutex_lock(&m->mu);
    sl->users--;
    sl->last_used = time_mono();
    last = sl->ended && sl->users == 0;
    pthread_mutex_unlock(&m->mu);
    if (last)
        slot_free(sl);
}

/* ---- the transport ---- */

enum msg_kind {
    MSG_INVALID,      /* not a JSON-RPC message: the session says why */
    MSG_REQUEST,      /* answered with 200 */
    MSG_CALL,         /* a tools/call: answered by a worker */
    MSG_INITIALIZE,   /* a request that opens a session */
    MSG_NOTIFICATION, /* or a response of the client: 202 */
};

/* What a message is; *progress: whether it asks for progress (_meta.progressToken). */
static enum msg_kind classify(const char *body, size_t len, bool *progress)
{
    json_t *v = body ? json_loadb(body, len, 0, NULL) : NULL;
    const json_t *method = json_object_get(v, "method");
    const json_t *id = json_object_get(v, "id");
    enum msg_kind k = MSG_INVALID;

    *progress = json_object_get(json_object_get(json_object_get(v, "params"), "_meta"),
                                "progressToken") != NULL;
    if (json_is_string(method))
        k = !id                                                    ? MSG_NOTIFICATION
            : strcmp(json_string_value(method), "initialize") == 0 ? MSG_INITIALIZE
            : strcmp(json_string_value(method), "tools/call") == 0 ? MSG_CALL
                                                                   : MSG_REQUEST;
    else if (!method && id &&
             (json_object_get(v, "result") || json_object_get(v, "error")))
        k = MSG_NOTIFICATION;
    json_decref(v);
    return k;
}

/* A transport error as a JSON-RPC error without id. */
static void rpc_error(struct api_response *out, int status, const char *message)
{
    json_t *v = json_pack("{s:s, s:n, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", "error",
                          "code", -32000, "message", message);

    out->status = status;
    out->content_type = "application/json";
    out->body = json_dumps(v, JSON_COMPACT);
    out->len = strlen(out->body);
    json_decref(v);
}

/* Whether a host[:port] names this machine's loopback (localhost, 127.x.x.x, [::1]). */
static bool loopback_authority(const char *a)
{
    char name[64];
    const char *end, *port;
    struct in_addr in;
    size_t n;

    if (*a == '[') {
        end = strchr(a, ']');
        if (!end || (size_t)(end - a - 1) != 3 || strncmp(a + 1, "::1", 3) != 0)
            return false;
        port = end + 1;
    } else {
        end = strchr(a, ':');
        n = end ? (size_t)(end - a) : strlen(a);
        if (n == 0 || n >= sizeof(name))
            return false;
        memcpy(name, a, n);
        name[n] = '\0';
        if (strcasecmp(name, "localhost") != 0 &&
            (inet_pton(AF_INET, name, &in) != 1 || (ntohl(in.s_addr) >> 24) != 127))
            return false;
        port = a + n;
    }
    if (*port == '\0')
        return true;
    if (*port++ != ':' || !*port)
        return false;
    return strspn(port, "0123456789") == strlen(port);
}

/* The checks before the message: DNS rebinding (Host, Origin) and the protocol
 * revision. false with *out set when one fails. */
static bool transport_ok(const struct mcp_http *m,
                         const struct mcp_http_request *rq,
                         struct api_response *out)
{
    static const char *const versions[] = MCP_PROTOCOL_VERSIONS;
    const char *origin = rq->origin, *auth = NULL;
    bool known = false;

    if (m->loopback && rq->host && !loopback_authority(rq->host)) {
        rpc_error(out, 403, "Forbidden: the Host header is not a loopback name");
        return false;
    }
    if (origin) {
        if (strncmp(origin, "http://", 7) == 0)
            auth = origin + 7;
        else if (strncmp(origin, "https://", 8) == 0)
            auth = origin + 8;
        if (!auth || strchr(auth, '/') ||
            (m->loopback ? !loopback_authority(auth)
                         : !rq->host || strcasecmp(auth, rq->host) != 0)) {
            rpc_error(out, 403, "Forbidden: the Origin is not this service");
            return false;
        }
    }
    if (rq->protocol_version) {
        for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
            known = known || strcmp(rq->protocol_version, versions[i]) == 0;
        if (!known) {
            rpc_error(out, 400,
                      "Bad Request: MCP-Protocol-Version names no revision this "
                      "server speaks (2025-06-18, 2025-03-26, 2024-11-05)");
            return false;
        }
    }
    return true;
}

static void collect_fini(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->msg[i]);
    free(c->msg);
}

/* Whether an Accept header lists a type (or a wildcard that covers it). */
static bool accepts(const char *accept, const char *type)
{
    return !accept || strstr(accept, type) || strstr(accept, "*/*") ||
           (strncmp(type, "application/", 12) == 0 && strstr(accept, "application/*"));
}

/* The answer of a request: its last message as JSON, or every message as events of
 * a stream when progress came first (or JSON is not accepted) and the client takes
 * a stream. */
static void answer(const struct collect *c,
                   const char *accept,
                   int status,
                   struct api_response *out)
{
    bool sse = accept && strstr(accept, "text/event-stream") &&
               (c->n > 1 || !accepts(accept, "application/json"));
    struct strbuf sb = STRBUF_INIT;

    if (c->n == 0) {
        rpc_error(out, 500, "Internal error: the session sent no answer");
        return;
    }
    if (sse) {
        for (size_t i = 0; i < c->n; i++)
            sb_addf(&sb, "event: message\ndata: %s\n\n", c->msg[i]);
    } else {
        sb_adds(&sb, c->msg[c->n - 1]);
    }
    out->status = status;
    out->content_type = sse ? "text/event-stream" : "application/json";
    out->len = sb.len;
    out->body = sb_take(&sb);
}

static void
handle(struct slot *sl, const struct mcp_http_request *rq, struct collect *c)
{
    sl->cur = c;
    mcp_session_handle(sl->session, rq->body ? rq->body : "", rq->body_len);
    sl->cur = NULL;
}

/* ---- tools/call on a worker ---- */

/* A worker: the call in its session (in turn with the session's other requests),
 * each message into the stream as it is sent. Its store connection is its thread's
 * (http_thread_store), closed when it ends. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct mcp_http *m = w->m;

    pthread_mutex_lock(&w->sl->mu);
    w->sl->live = w->st;
    mcp_session_handle(w->sl->session, w->body, w->len);
    w->sl->live = NULL;
    slot_release(m, w->sl);
    stream_end(w->st);
    mcp_http_stream_release(w->st);
    free(w->body);
    pthread_mutex_lock(&m->mu);
    w->sl = NULL;
    w->st = NULL;
    w->body = NULL;
    w->state = W_DONE;
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* Joins the workers that have ended and reserves a free one (m->mu not held), or
 * NULL when MCP_HTTP_CALLS are running or the service is stopping (mcp_http_stop()
 * then joins them all, and nothing else does). */
static struct worker *worker_reserve(struct mcp_http *m)
{
    pthread_t done[MCP_HTTP_CALLS];
    struct worker *w = NULL;
    size_t n = 0;

    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < MCP_HTTP_CALLS && !m->stopping; i++) {
        if (m->workers[i].state == W_DONE) {
            done[n++] = m->workers[i].tid;
            m->workers[i].state = W_FREE;
        }
        if (m->workers[i].state == W_FREE && !w)
            w = &m->workers[i];
    }
    if (w)
        w->state = W_RESERVED;
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; i < n; i++)
        pthread_join(done[i], NULL);
    return w;
}

static void worker_unreserve(struct mcp_http *m, struct worker *w)
{
    pthread_mutex_lock(&m->mu);
    w->state = W_FREE;
    pthread_mutex_unlock(&m->mu);
}

/* Starts a tools/call of session rq->session_id on a worker: *stream, or an error
 * answer in *out. */
static void call_start(struct mcp_http *m,
                       const struct mcp_http_request *rq,
                       bool progress,
                       const struct events_hooks *hooks,
                       struct api_response *out,
                       struct mcp_http_stream **stream)
{
    bool sse = rq->accept && strstr(rq->accept, "text/event-stream") &&
               (progress || !accepts(rq->accept, "application/json"));
    struct worker *w = worker_reserve(m);
    struct mcp_http_stream *st;
    struct slot *sl;
    bool ok;

    if (!w) {
        rpc_error(out, 503, "Service Unavailable: too many tool calls are running");
        return;
    }
    if (!(sl = slot_find(m, rq->session_id))) {
        worker_unreserve(m, w);
        rpc_error(out, 404, "Session not found");
        return;
    }
    st = xcalloc(1, sizeof(*st));
    pthread_mutex_init(&st->mu, NULL);
    st->hooks = *hooks;
    st->sse = sse;
    st->refs = 2;
    st->m = m;
    pthread_mutex_lock(&m->mu);
    m->streams++;
    pthread_mutex_unlock(&m->mu);
    w->m = m;
    w->sl = sl;
    w->st = st;
    w->body = xstrndup(rq->body, rq->body_len);
    w->len = rq->body_len;
    /* Under m->mu: the worker cannot be marked done (and joined) before tid is set,
     * and mcp_http_stop() joins every worker started. */
    pthread_mutex_lock(&m->mu);
    ok = !m->stopping && pthread_create(&w->tid, NULL, worker_main, w) == 0;
    if (ok)
        w->state = W_RUNNING;
    pthread_mutex_unlock(&m->mu);
    if (!ok) {
        free(w->body);
        pthread_mutex_lock(&sl->mu);
        slot_release(m, sl);
        st->refs = 1;
        mcp_http_stream_release(st);
        worker_unreserve(m, w);
        rpc_error(out, 503,
                  "Service Unavailable: the service is stopping, or no thread");
        return;
    }
    out->status = 200;
    out->content_type = sse ? "text/event-stream" : "application/json";
    *stream = st;
}

void mcp_http_handle(struct mcp_http *m,
                     const struct mcp_http_request *rq,
                     const struct events_hooks *hooks,
                     struct api_response *out,
                     char session_id[MCP_HTTP_ID_LEN + 1],
                     struct mcp_http_stream **stream)
{
    struct collect c = {0};
    enum msg_kind kind;
    struct slot *sl;
    bool progress = false;

    *session_id = '\0';
    *stream = NULL;
    memset(out, 0, sizeof(*out));
    if (!transport_ok(m, rq, out))
        return;
    if (strcmp(rq->method, "DELETE") == 0) {
        if (!rq->session_id) {
            rpc_error(out, 400, "Bad Request: DELETE names a session (Mcp-Session-Id)");
        } else if (!(sl = slot_acquire(m, rq->session_id))) {
            rpc_error(out, 404, "Session not found");
        } else {
            slot_end(m, sl);
            slot_release(m, sl);
            out->status = 204;
        }
        return;
    }
    kind = classify(rq->body, rq->body_len, &progress);
    if (!rq->session_id) {
        if (kind != MSG_INVALID && kind != MSG_INITIALIZE) {
            rpc_error(out, 400,
                      "Bad Request: no Mcp-Session-Id; initialize opens a session");
            return;
        }
        /* A session of its own answers an initialize, or says what is wrong. */
        sl = slot_new(m, rq->host);
        handle(sl, rq, &c);
        if (kind == MSG_INITIALIZE && mcp_session_initialized(sl->session)) {
            if (!slot_register(m, sl, session_id)) {
                slot_free(sl);
                rpc_error(out, 503, "Service Unavailable: every session is in use");
                collect_fini(&c);
                return;
            }
        } else {
            slot_free(sl);
        }
    } else if (kind == MSG_CALL) {
        call_start(m, rq, progress, hooks, out, stream);
        return;
    } else if (!(sl = slot_acquire(m, rq->session_id))) {
        rpc_error(out, 404, "Session not found");
        return;
    } else {
        handle(sl, rq, &c);
        slot_release(m, sl);
    }
    if (kind == MSG_NOTIFICATION)
        out->status = 202;
    else
        answer(&c, rq->accept, kind == MSG_INVALID ? 400 : 200, out);
    collect_fini(&c);
}

struct mcp_http *mcp_http_create(struct service *s)
{
    struct mcp_http *m = xcalloc(1, sizeof(*m));
    struct in_addr in;
    struct err err = {0};
    char host[64];
    int port;

    m->s = s;
    m->loopback = config_parse_bind(service_opts(s)->bind, host, sizeof(host), &port,
                                    &err) == SWEEP_OK &&
                  inet_pton(AF_INET, host, &in) == 1 && (ntohl(in.s_addr) >> 24) == 127;
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void mcp_http_stop(struct mcp_http *m)
{
    pthread_t tids[MCP_HTTP_CALLS];
    size_t n = 0;

    pthread_mutex_lock(&m->mu);
    m->stopping = true;
    for (int i = 0; i < MCP_HTTP_CALLS; i++)
        if (m->workers[i].state == W_RUNNING || m->workers[i].state == W_DONE)
            tids[n++] = m->workers[i].tid; /* joined here only: see worker_reserve */
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    /* Every call has answered; the connections still send the answers (a stopped
     * daemon would cut them): MCP_HTTP_DRAIN seconds at most, for clients that do not
     * read. */
    for (double end = time_mono() + MCP_HTTP_DRAIN;;) {
        pthread_mutex_lock(&m->mu);
        n = (size_t)m->streams;
        pthread_mutex_unlock(&m->mu);
        if (n == 0 || time_mono() >= end)
            break;
        usleep(10000);
    }
}

void mcp_http_destroy(struct mcp_http *m)
{
    if (!m)
        return;
    for (int i = 0; i < MCP_HTTP_SESSIONS; i++)
        slot_free(m->slots[i]);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
