/* /mcp of `sweep serve`: the Model Context Protocol over its streamable HTTP transport
 * (revision 2025-06-18, "Transports"), with the service as the tools' backend
 * (backend.h): reads from the HTTP thread's store connection, studies submitted,
 * retried and cancelled through the main thread (service_call), so that a study
 * started here is an ordinary study of the service. Module-private to src/server;
 * http.c hands it the requests of ROUTE_MCP after its own checks (token, size,
 * intake open).
 *
 * The transport: each POST carries one JSON-RPC message. A request is answered with
 * 200 and application/json, or text/event-stream (one event per message) when the
 * client accepts it and progress notifications came before the answer; a
 * notification or a response of the client with 202 and no body. A tools/call runs
 * on a worker thread of its own (at most MCP_HTTP_CALLS at once, 503 beyond), not on
 * the HTTP thread: its answer is a stream (mcp_http_stream_read) during which the
 * connection is suspended; text/event-stream when the client accepts it and the call
 * asks for progress (or JSON is not accepted), each message written as it is sent,
 * else application/json, the answer alone once the call has returned. initialize opens
 * a session (the answer's Mcp-Session-Id header: 128 random bits in hex); every later
 * message names it, or gets 400; an unknown or ended session gets 404; DELETE ends
 * it. A message that is not JSON-RPC gets the session's JSON-RPC error with 400. An
 * MCP-Protocol-Version header that names no revision sweep speaks gets 400. Against
 * DNS rebinding, a request whose Origin (when sent) is not this service, or, on a
 * loopback address, whose Host is not a loopback name, gets 403.
 *
 * Sessions: at most MCP_HTTP_SESSIONS at once; one idle for MCP_HTTP_IDLE seconds is
 * ended when room is needed, and when none is, the one idle longest (its client gets
 * 404 next and opens a new one, as the transport says it must). A session serves one
 * request at a time (a mutex each): concurrent POSTs of one client wait in turn. */
#ifndef SWEEP_SERVER_MCP_HTTP_H
#define SWEEP_SERVER_MCP_HTTP_H

#include <stddef.h>
#include <sys/types.h>

struct api_response;
struct events_hooks;
struct mcp_http;
struct mcp_http_stream;
struct service;

#define MCP_HTTP_SESSIONS 64
#define MCP_HTTP_IDLE 1800.0
#define MCP_HTTP_ID_LEN 32 /* hex digits of a session id */
#define MCP_HTTP_CALLS 16  /* tools/call running at once */
#define MCP_HTTP_DRAIN 5.0 /* seconds mcp_http_stop() lets the answers be sent */

/* One request to /mcp, its headers as sent (NULL: absent). */
struct mcp_http_request {
    const char *method; /* "POST" or "DELETE" */
    const char *session_id;
    const char *accept;
    const char *protocol_version;
    const char *origin;
    const char *host;
    const char *body; /* body_len bytes; NULL when none */
    size_t body_len;
};

struct mcp_http *mcp_http_create(struct service *s);
/* Takes no new tools/call, makes the waiting ones answer at once (the tool's wait
 * loop sees the backend stopping within a quarter of a second), joins their workers,
 * which resume their connections, and waits until those have sent the answers in
 * full (MCP_HTTP_DRAIN seconds at most). Before the HTTP threads stop. */
void mcp_http_stop(struct mcp_http *m);
/* Ends every session (after the HTTP threads have stopped). Accepts NULL. */
void mcp_http_destroy(struct mcp_http *m);

/* Answers one request into *out (content_type NULL: no body, as for 202);
 * session_id receives the Mcp-Session-Id to send back ("" when none). Called from
 * the HTTP threads, any number at once. A tools/call started on a worker sets
 * *stream instead of out->body: the body is then read with mcp_http_stream_read(),
 * which suspends the connection through hooks (called under the stream's mutex)
 * while nothing is ready; the worker resumes it. */
void mcp_http_handle(struct mcp_http *m,
                     const struct mcp_http_request *rq,
                     const struct events_hooks *hooks,
                     struct api_response *out,
                     char session_id[MCP_HTTP_ID_LEN + 1],
                     struct mcp_http_stream **stream);
/* The next bytes of a call's answer (at most max): their count, 0 when none is ready
 * yet (the connection suspended: hooks.suspend called), -1 at its end. */
ssize_t mcp_http_stream_read(struct mcp_http_stream *st, char *buf, size_t max);
/* The connection is done with the stream (its worker may still run; accepts NULL). */
void mcp_http_stream_release(struct mcp_http_stream *st);

#endif
