/* The Model Context Protocol server of sweep (issue 12), independent of its transport.
 * A session reads JSON-RPC 2.0 messages (one per call: a line of `sweep mcp`'s stdin,
 * or the body of a POST to the service's /mcp) and writes its answers and
 * notifications through a send callback. It speaks the protocol revisions in
 * MCP_PROTOCOL_VERSIONS (the newest first; initialize agrees on the client's when it
 * is one of them, else on the newest), and handles initialize, ping, tools/list,
 * tools/call (tool.h), resources/read (the links the tools return), and the client's
 * notifications. Nothing here writes to stdout or stderr: the transport owns both.
 *
 * Errors: malformed JSON -32700, a message that is not a JSON-RPC request or
 * notification -32600 (also a batch: revision 2025-06-18 has none), an unknown method
 * -32601, bad params -32602, a failure of sweep itself -32603. A tool that refuses
 * its arguments answers a result with isError true (tool.h), never a JSON-RPC error. */
#ifndef SWEEP_MCP_MCP_H
#define SWEEP_MCP_MCP_H

#include <stdbool.h>
#include <stddef.h>

struct mcp_backend;
struct mcp_session;

#define MCP_PROTOCOL_VERSIONS                                                          \
    {                                                                                  \
        "2025-06-18", "2025-03-26", "2024-11-05"                                       \
    }
/* Messages longer than this are refused (-32600) without being parsed. */
#define MCP_MAX_MESSAGE (4u << 20)

/* One JSON-RPC message to the client (compact JSON, no newline). */
typedef void mcp_send_fn(void *arg, const char *msg, size_t len);

/* A session over backend be (borrowed; it outlives the session). */
struct mcp_session *
mcp_session_create(const struct mcp_backend *be, mcp_send_fn *send, void *send_arg);
/* Handles one message of len bytes (need not be NUL-terminated): zero or more
 * messages go out through send (progress notifications, then the answer of a
 * request; nothing for a notification). */
void mcp_session_handle(struct mcp_session *s, const char *msg, size_t len);
/* Whether initialize has been answered (the HTTP transport gives out a session id
 * then). */
bool mcp_session_initialized(const struct mcp_session *s);
void mcp_session_destroy(struct mcp_session *s);

#endif
