/* JSON-RPC 2.0 framing for MCP (see jsonrpc.h). */
#include "mcp/jsonrpc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool jsonrpc_id_ok(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
}

static void jsonrpc_invalid(struct jsonrpc_msg *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void jsonrpc_invalid(struct jsonrpc_msg *m, int code, const char *fmt, ...)
{
    va_list ap;

    m->kind = JSONRPC_INVALID;
    m->error_code = code;
    m->method = NULL;
    m->params = NULL;
    va_start(ap, fmt);
    vsnprintf(m->error_msg, sizeof(m->error_msg), fmt, ap);
    va_end(ap);
}

void jsonrpc_parse(const char *buf, size_t len, size_t max, struct jsonrpc_msg *out)
{
    json_error_t je;
    const json_t *v, *id;
    bool has_id;

    *out = (struct jsonrpc_msg){.id = json_null()};
    if (len > max) {
        jsonrpc_invalid(out, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: the message is %zu bytes, more than the "
                        "%zu allowed",
                        len, max);
        return;
    }
    out->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!out->root) {
        jsonrpc_invalid(out, JSONRPC_PARSE_ERROR, "Parse error: %s (at byte %d)",
                        je.text, je.position);
        return;
    }
    if (json_is_array(out->root)) {
        jsonrpc_invalid(out, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: batches (JSON arrays) are not supported; "
                        "send one message at a time");
        return;
    }
    if (!json_is_object(out->root)) {
        jsonrpc_invalid(out, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: expected a JSON object");
        return;
    }
    id = json_object_get(out->root, "id");
    has_id = id != NULL;
    if (jsonrpc_id_ok(id))
        out->id = id;
    v = json_object_get(out->root, "jsonrpc");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
        jsonrpc_invalid(out, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: \"jsonrpc\" must be \"2.0\"");
        return;
    }
    if (has_id && !jsonrpc_id_ok(id)) {
        jsonrpc_invalid(out, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: \"id\" must be a string or an integer");
        return;
    }
    v = json_object_get(out->root, "method");
    if (!v) {
        bool result = json_object_get(out->root, "result") != NULL;
        bool error = json_object_get(out->root, "error") != NULL;
        if (has_id && result != error) {
            out->kind = JSONRPC_RESPONSE;
            return;
        }
        jsonrpc_invalid(out, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: no \"method\" (and not a response)");
        return;
    }
    if (!json_is_string(v)) {
        jsonrpc_invalid(out, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: \"method\" must be a string");
        return;
    }
    out->method = json_string_value(v);
    v = json_object_get(out->root, "params");
    if (v && !json_is_object(v) && !json_is_array(v)) {
        jsonrpc_invalid(out, JSONRPC_INVALID_REQUEST,
                        "Invalid Request: \"params\" must be an object");
        return;
    }
    out->params = v;
    out->kind = has_id ? JSONRPC_REQUEST : JSONRPC_NOTIFICATION;
}

void jsonrpc_msg_fini(struct jsonrpc_msg *m)
{
    json_decref(m->root);
    *m = (struct jsonrpc_msg){0};
}

/* msg as compact text (msg is stolen). */
static char *jsonrpc_dump(json_t *msg, size_t *len)
{
    char *text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(msg);
    if (!text)
        abort(); /* only out of memory */
    if (len)
        *len = strlen(text);
    return text;
}

static json_t *jsonrpc_envelope(const json_t *id)
{
    json_t *msg = json_object();

    json_object_set_new(msg, "jsonrpc", json_string("2.0"));
    json_object_set_new(msg, "id", id ? json_deep_copy(id) : json_null());
    return msg;
}

char *jsonrpc_result(const json_t *id, json_t *result, size_t *len)
{
    json_t *msg = jsonrpc_envelope(id);

    json_object_set_new(msg, "result", result ? result : json_object());
    return jsonrpc_dump(msg, len);
}

char *jsonrpc_error(
    const json_t *id, int code, const char *message, json_t *data, size_t *len)
{
    json_t *msg = jsonrpc_envelope(id), *e = json_object(),
           *text = json_string(message);

    /* A message quoting input that is not UTF-8 cannot be a JSON string. */
    if (!text)
        text = json_string("error (its description is not UTF-8)");
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", text);
    if (data)
        json_object_set_new(e, "data", data);
    json_object_set_new(msg, "error", e);
    return jsonrpc_dump(msg, len);
}

char *jsonrpc_notification(const char *method, json_t *params, size_t *len)
{
    json_t *msg = json_object();

    json_object_set_new(msg, "jsonrpc", json_string("2.0"));
    json_object_set_new(msg, "method", json_string(method));
    if (params)
        json_object_set_new(msg, "params", params);
    return jsonrpc_dump(msg, len);
}
