/* JSON-RPC 2.0 framing of the Model Context Protocol (mcp.h): one message parsed and
 * classified (request, notification, response, or what is wrong with it), and the
 * answers and notifications built as compact JSON text. No I/O, no state: the session
 * (session.c) decides what to answer; the stdio transport (`sweep mcp`) uses the error
 * builder for a line it refuses unread.
 *
 * Rules (JSON-RPC 2.0 as MCP 2025-06-18 restricts it): a message is one JSON object
 * (duplicate members refused) with "jsonrpc": "2.0"; an id is a string or an integer
 * (never null, never a real) and is echoed exactly as given; params, when present, is
 * an object or an array; a batch (a JSON array) is refused, as revision 2025-06-18
 * has none. A notification is never answered; a response from the client is ignored.
 */
#ifndef SWEEP_MCP_JSONRPC_H
#define SWEEP_MCP_JSONRPC_H

#include <jansson.h>
#include <stddef.h>

enum {
    JSONRPC_PARSE_ERROR = -32700,
    JSONRPC_INVALID_REQUEST = -32600,
    JSONRPC_METHOD_NOT_FOUND = -32601,
    JSONRPC_INVALID_PARAMS = -32602,
    JSONRPC_INTERNAL_ERROR = -32603,
};

enum jsonrpc_kind {
    JSONRPC_INVALID = 0,  /* answer error_code/error_msg to id (json null if none) */
    JSONRPC_REQUEST,      /* method, id, params: answer a result or an error */
    JSONRPC_NOTIFICATION, /* method, params: answer nothing */
    JSONRPC_RESPONSE,     /* id with "result" or "error": the client's answer */
};

struct jsonrpc_msg {
    enum jsonrpc_kind kind;
    json_t *root;         /* the parsed message (owned), or NULL */
    const json_t *id;     /* borrowed from root; json null for an invalid message
                             whose id is unknown or not a string or integer */
    const char *method;   /* borrowed from root, or NULL */
    const json_t *params; /* borrowed: an object or an array, or NULL */
    int error_code;       /* JSONRPC_INVALID: JSONRPC_PARSE_ERROR or
                             JSONRPC_INVALID_REQUEST */
    char error_msg[256];
};

/* Parses and classifies the len bytes at buf (need not be NUL-terminated). A message
 * longer than max is refused (JSONRPC_INVALID_REQUEST) without being parsed. Never
 * fails otherwise: what is wrong is in out (JSONRPC_INVALID). O(len). Free with
 * jsonrpc_msg_fini(). */
void jsonrpc_parse(const char *buf, size_t len, size_t max, struct jsonrpc_msg *out);
void jsonrpc_msg_fini(struct jsonrpc_msg *m);

/* The answers, as compact JSON text without a newline (free it; *len its length, may
 * be NULL). id: the request's (NULL or json null: null). result and data are stolen
 * (data may be NULL: no "data" member). */
char *jsonrpc_result(const json_t *id, json_t *result, size_t *len);
char *jsonrpc_error(
    const json_t *id, int code, const char *message, json_t *data, size_t *len);
/* A notification to the client (params stolen, may be NULL). */
char *jsonrpc_notification(const char *method, json_t *params, size_t *len);

#endif
