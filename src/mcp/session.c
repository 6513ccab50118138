/* One MCP session (mcp.h): the lifecycle (initialize, notifications/initialized), ping,
 * tools/list and tools/call over the tool table (tool.h), resources/read of the links
 * the tools return, and the client's notifications. Framing is jsonrpc.c's; nothing
 * here does I/O but the send callback.
 *
 * Before initialize only ping is served (the spec lets either side ping at any time);
 * any other request is refused with -32600 "not initialized", as the official SDKs'
 * servers do, and notifications are ignored. A second initialize is refused too. The
 * server makes no requests of its own, so a response from the client is dropped. */
#include "mcp/mcp.h"

#include "common/err.h"
#include "common/xalloc.h"
#include "mcp/backend.h"
#include "mcp/jsonrpc.h"
#include "mcp/tool.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef SWEEP_VERSION
#error "SWEEP_VERSION (the project's version) must be defined by the build"
#endif

/* MCP's own error code for a resource that does not exist (spec: Resources). */
#define MCP_RESOURCE_NOT_FOUND (-32002)

static const char mcp_instructions[] =
    "sweep runs simulation studies: many runs of a built-in model (DLA, CCA, "
    "ballistic, Eden, ...) over parameter values, with repetitions. Call list_models "
    "to see each model's parameters, types, ranges and defaults. Start a study with "
    "run_parametric_study (one parameter over 2 to 100 values) or run_grid_study (all "
    "combinations of several parameters); both return a study_id at once while the "
    "study runs in the background and keeps running if this session ends. Poll "
    "check_study_status until the status is COMPLETED, PARTIALLY_FAILED, FAILED or "
    "CANCELLED, then call get_study_results for per-value statistics (mean_<metric>, "
    "std_<metric>, n_samples) and links to the CSV and the plot; "
    "retry_failed_simulations reruns failed runs, cancel_study stops a study, and "
    "list_studies shows every study.";

struct mcp_session {
    const struct mcp_backend *be;
    mcp_send_fn *send;
    void *send_arg;
    bool initialized; /* initialize answered */
};

/* A request being handled: what the progress callback needs. */
struct mcp_request {
    struct mcp_session *s;
    const json_t *token; /* params._meta.progressToken, or NULL */
    double last;         /* the last progress sent (progress must increase) */
    bool sent;
};

struct mcp_session *
mcp_session_create(const struct mcp_backend *be, mcp_send_fn *send, void *send_arg)
{
    struct mcp_session *s = xcalloc(1, sizeof(*s));

    s->be = be;
    s->send = send;
    s->send_arg = send_arg;
    return s;
}

void mcp_session_destroy(struct mcp_session *s)
{
    free(s);
}

bool mcp_session_initialized(const struct mcp_session *s)
{
    return s->initialized;
}

/* Sends text (malloc'd; freed). */
static void mcp_send_text(struct mcp_session *s, char *text, size_t len)
{
    s->send(s->send_arg, text, len);
    free(text);
}

static void mcp_reply(struct mcp_session *s, const json_t *id, json_t *result)
{
    size_t len;
    char *text = jsonrpc_result(id, result, &len);

    mcp_send_text(s, text, len);
}

static void mcp_reply_error(struct mcp_session *s,
                            const json_t *id,
                            int code,
                            const char *message,
                            json_t *data)
{
    size_t len;
    char *text = jsonrpc_error(id, code, message, data, &len);

    mcp_send_text(s, text, len);
}

/* The params object of a request (an empty one when absent), or NULL after answering
 * -32602 for params that are not an object. */
static const json_t *
mcp_params(struct mcp_session *s, const struct jsonrpc_msg *m, json_t **empty)
{
    if (json_is_object(m->params))
        return m->params;
    if (!m->params) {
        *empty = json_object();
        return *empty;
    }
    mcp_reply_error(s, m->id, JSONRPC_INVALID_PARAMS,
                    "Invalid params: expected an object", NULL);
    return NULL;
}

static void
mcp_initialize(struct mcp_session *s, const struct jsonrpc_msg *m, const json_t *params)
{
    static const char *const versions[] = MCP_PROTOCOL_VERSIONS;
    const char *want = json_string_value(json_object_get(params, "protocolVersion"));
    const char *agreed = versions[0];
    json_t *caps, *info, *result;

    if (s->initialized) {
        mcp_reply_error(s, m->id, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: the session is already initialized", NULL);
        return;
    }
    if (!want) {
        mcp_reply_error(s, m->id, JSONRPC_INVALID_PARAMS,
                        "Invalid params: protocolVersion: expected a string such as "
                        "\"2025-06-18\"",
                        NULL);
        return;
    }
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
        if (strcmp(want, versions[i]) == 0)
            agreed = versions[i];
    caps = json_pack("{s:{s:b}, s:{}}", "tools", "listChanged", 0, "resources");
    info = json_pack("{s:s, s:s, s:s}", "name", "sweep", "title",
                     "sweep: simulation studies", "version", SWEEP_VERSION);
    result =
        json_pack("{s:s, s:o, s:o, s:s}", "protocolVersion", agreed, "capabilities",
                  caps, "serverInfo", info, "instructions", mcp_instructions);
    s->initialized = true;
    mcp_reply(s, m->id, result);
}

static void mcp_tools_list(struct mcp_session *s, const struct jsonrpc_msg *m)
{
    size_t n;
    const struct mcp_tool *tools = mcp_tools(&n);
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++) {
        const struct mcp_tool *t = &tools[i];
        json_t *o = json_pack("{s:s}", "name", t->name), *out;

        if (t->title)
            json_object_set_new(o, "title", json_string(t->title));
        if (t->description)
            json_object_set_new(o, "description", json_string(t->description));
        json_object_set_new(o, "inputSchema", t->input_schema());
        out = t->output_schema ? t->output_schema() : NULL;
        if (out)
            json_object_set_new(o, "outputSchema", out);
        json_array_append_new(arr, o);
    }
    mcp_reply(s, m->id, json_pack("{s:o}", "tools", arr));
}

/* mcp_call.progress: notifications/progress for the request's token, when the
 * progress increased (the spec requires it to). */
static void mcp_progress(void *arg, double progress, double total, const char *message)
{
    struct mcp_request *r = arg;
    json_t *params;
    size_t len;
    char *text;

    if (!r->token || !isfinite(progress) || (r->sent && !(progress > r->last)))
        return;
    r->last = progress;
    r->sent = true;
    params = json_pack("{s:O, s:f}", "progressToken", r->token, "progress", progress);
    if (total > 0 && isfinite(total))
        json_object_set_new(params, "total", json_real(total));
    if (message && *message) {
        json_t *msg = json_string(message);
        if (msg)
            json_object_set_new(params, "message", msg);
    }
    text = jsonrpc_notification("notifications/progress", params, &len);
    mcp_send_text(r->s, text, len);
}

static void
mcp_tools_call(struct mcp_session *s, const struct jsonrpc_msg *m, const json_t *params)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    const json_t *args = json_object_get(params, "arguments");
    const json_t *token =
        json_object_get(json_object_get(params, "_meta"), "progressToken");
    const struct mcp_tool *t;
    struct mcp_request req = {.s = s};
    struct mcp_call call = {
        .be = s->be, .progress = mcp_progress, .progress_arg = &req};
    struct mcp_result res = {0};
    json_t *empty = NULL, *content, *result, *text;
    char *msg;

    if (!name) {
        mcp_reply_error(s, m->id, JSONRPC_INVALID_PARAMS,
                        "Invalid params: name: expected the tool's name (a string)",
                        NULL);
        return;
    }
    t = mcp_tool_find(name);
    if (!t) {
        msg = xasprintf("Unknown tool: %s (tools/list lists them)", name);
        mcp_reply_error(s, m->id, JSONRPC_INVALID_PARAMS, msg, NULL);
        free(msg);
        return;
    }
    if (args && !json_is_object(args)) {
        mcp_reply_error(s, m->id, JSONRPC_INVALID_PARAMS,
                        "Invalid params: arguments: expected an object", NULL);
        return;
    }
    if (!args)
        args = empty = json_object();
    if (json_is_string(token) || json_is_integer(token))
        req.token = token;
    t->call(&call, args, &res);
    json_decref(empty);
    /* A summary that is not UTF-8 cannot be sent: an empty one then. */
    text = json_string(res.text ? res.text : "");
    content = json_array();
    json_array_append_new(content, json_pack("{s:s, s:o}", "type", "text", "text",
                                             text ? text : json_string("")));
    if (json_is_array(res.links))
        json_array_extend(content, res.links);
    result = json_pack("{s:o}", "content", content);
    if (res.structured)
        json_object_set(result, "structuredContent", res.structured);
    json_object_set_new(result, "isError", json_boolean(res.is_error));
    mcp_result_fini(&res);
    mcp_reply(s, m->id, result);
}

static void mcp_resources_read(struct mcp_session *s,
                               const struct jsonrpc_msg *m,
                               const json_t *params)
{
    const char *uri = json_string_value(json_object_get(params, "uri"));
    struct err err = {0};
    json_t *contents;

    if (!uri) {
        mcp_reply_error(s, m->id, JSONRPC_INVALID_PARAMS,
                        "Invalid params: uri: expected a string", NULL);
        return;
    }
    contents = mcp_resource_read(s->be, uri, &err);
    if (contents) {
        mcp_reply(s, m->id, json_pack("{s:o}", "contents", contents));
        return;
    }
    if (err.code == SWEEP_ENOTFOUND)
        mcp_reply_error(s, m->id, MCP_RESOURCE_NOT_FOUND,
                        err.msg[0] ? err.msg : "Resource not found",
                        json_pack("{s:s}", "uri", uri));
    else if (err.code == SWEEP_EINVAL)
        mcp_reply_error(s, m->id, JSONRPC_INVALID_PARAMS, err.msg, NULL);
    else
        mcp_reply_error(s, m->id, JSONRPC_INTERNAL_ERROR,
                        err.msg[0] ? err.msg : "Internal error", NULL);
}

static void mcp_request(struct mcp_session *s, const struct jsonrpc_msg *m)
{
    const char *method = m->method;
    json_t *empty = NULL;
    const json_t *params;
    char *msg;

    if (strcmp(method, "ping") == 0) {
        mcp_reply(s, m->id, json_object());
        return;
    }
    if (!s->initialized && strcmp(method, "initialize") != 0) {
        mcp_reply_error(s, m->id, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: the session is not initialized: send "
                        "initialize first",
                        NULL);
        return;
    }
    params = mcp_params(s, m, &empty);
    if (!params)
        return;
    if (strcmp(method, "initialize") == 0) {
        mcp_initialize(s, m, params);
    } else if (strcmp(method, "tools/list") == 0) {
        mcp_tools_list(s, m);
    } else if (strcmp(method, "tools/call") == 0) {
        mcp_tools_call(s, m, params);
    } else if (strcmp(method, "resources/read") == 0) {
        mcp_resources_read(s, m, params);
    } else if (strcmp(method, "resources/list") == 0) {
        /* The resources are the links tool results carry; none is listed. */
        mcp_reply(s, m->id, json_pack("{s:[]}", "resources"));
    } else if (strcmp(method, "resources/templates/list") == 0) {
        mcp_reply(s, m->id, json_pack("{s:[]}", "resourceTemplates"));
    } else {
        msg = xasprintf("Method not found: %s", method);
        mcp_reply_error(s, m->id, JSONRPC_METHOD_NOT_FOUND, msg, NULL);
        free(msg);
    }
    json_decref(empty);
}

void mcp_session_handle(struct mcp_session *s, const char *msg, size_t len)
{
    struct jsonrpc_msg m;

    jsonrpc_parse(msg, len, MCP_MAX_MESSAGE, &m);
    switch (m.kind) {
    case JSONRPC_INVALID:
        mcp_reply_error(s, m.id, m.error_code, m.error_msg, NULL);
        break;
    case JSONRPC_REQUEST:
        mcp_request(s, &m);
        break;
    case JSONRPC_NOTIFICATION:
        /* notifications/initialized, notifications/cancelled (a call is answered
         * before the next message is read, so there is nothing to cancel) and any
         * other: nothing to answer, nothing to do. */
    case JSONRPC_RESPONSE:
        break;
    }
    jsonrpc_msg_fini(&m);
}
