/* The client side of `sweep serve`: HTTP requests to a running service with libcurl
 * (the only module that includes curl/curl.h), and the errors a user meets talking to
 * one, each told apart so that front ends give it its own exit code: the service
 * cannot be reached, it wants a token, it does not know the thing asked for, or its
 * answer is not the JSON it should be. Every message names the URL. A client is used
 * by one thread. */
#ifndef SWEEP_CLIENT_CLIENT_H
#define SWEEP_CLIENT_CLIENT_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* What went wrong, for the exit code; err has the message. */
enum client_code {
    CLIENT_OK = 0,
    CLIENT_ECONNECT,  /* no connection (refused, no such host, timed out) */
    CLIENT_EAUTH,     /* 401: a token is needed, or the one given is wrong */
    CLIENT_ENOTFOUND, /* 404: unknown study, task or endpoint */
    CLIENT_EPROTO,    /* the answer is not JSON (not a sweep service?) */
    CLIENT_EREFUSED,  /* another 4xx: the request is wrong (a bad spec, 409, 413) */
    CLIENT_ESERVER,   /* 5xx, or a local failure (a file that cannot be read) */
};

/* The default service when neither --server nor $SWEEP_SERVER names one. */
#define CLIENT_DEFAULT_URL "http://127.0.0.1:5000"
/* The largest answer read (a results table of a large study fits). */
#define CLIENT_MAX_ANSWER (512u << 20)

struct client;

/* A client of the service at url (NULL: $SWEEP_SERVER, else CLIENT_DEFAULT_URL; an
 * http:// or https:// URL, a trailing '/' dropped) sending the token in token_file
 * (NULL: $SWEEP_TOKEN_FILE, else none; its first line, blanks trimmed) as
 * "Authorization: Bearer". Returns CLIENT_OK and *out, or with err set
 * CLIENT_EREFUSED (a malformed URL, a missing token file) or CLIENT_ESERVER (a token
 * file that cannot be read). */
int client_create(const char *url,
                  const char *token_file,
                  struct client **out,
                  struct err *err);
void client_destroy(struct client *c);
/* The service's base URL, borrowed for the client's lifetime. */
const char *client_url(const struct client *c);

/* One request: method and path (with its query) relative to the base URL; body (len
 * bytes, JSON) or NULL. Any HTTP status is CLIENT_OK here: *status and *answer
 * (NUL-terminated, free it; *len bytes). CLIENT_ECONNECT or CLIENT_EPROTO (an answer
 * too large) otherwise. */
int client_request(struct client *c,
                   const char *method,
                   const char *path,
                   const char *body,
                   size_t len,
                   long *status,
                   char **answer,
                   size_t *len_out,
                   struct err *err);

/* A request whose answer is handed over as it arrives (a text/event-stream answer, the
 * MCP bridge of `sweep mcp --server`): method and path as client_request(), headers
 * (NULL-terminated "Name: value" lines, or NULL) added to the token's, body (len bytes)
 * sent with its headers' Content-Type. header_fn gets each header line of the answer
 * (without CRLF; the status line too), data_fn its body in pieces; data_fn returns
 * false to end the transfer (then CLIENT_ECONNECT, err saying so). No time limit but
 * the connection's (a stream lasts as long as the service keeps it). *status: the HTTP
 * status. CLIENT_OK for any status, else CLIENT_ECONNECT with err. */
typedef void client_header_fn(void *arg, const char *line, size_t len);
typedef bool client_data_fn(void *arg, const char *data, size_t len);
int client_stream(struct client *c,
                  const char *method,
                  const char *path,
                  const char *const *headers,
                  const char *body,
                  size_t len,
                  client_header_fn *header_fn,
                  client_data_fn *data_fn,
                  void *arg,
                  long *status,
                  struct err *err);

/* A request whose answer must be 2xx JSON: *out (new reference; NULL allowed when the
 * caller wants none). An error answer {"error", "detail"} becomes the code of its
 * status and "URL: STATUS error: detail"; a non-JSON answer CLIENT_EPROTO. *status
 * (may be NULL) gets the HTTP status whenever there was one. */
int client_json(struct client *c,
                const char *method,
                const char *path,
                const char *body,
                long *status,
                json_t **out,
                struct err *err);

/* A path segment escaped for a URL (a study name): free it. */
char *client_escape(const char *s);

/* The body of POST /studies for the spec or task file at path (YAML or JSON, as
 * `sweep run` reads it; a task file becomes its equivalent study spec): a JSON text
 * (free it); *taskfile (may be NULL) says whether the file is a task file.
 * CLIENT_EREFUSED for a file that is not a spec, CLIENT_ESERVER for one that cannot be
 * read, with err naming the file. */
int client_spec_body(const char *path, char **body, bool *taskfile, struct err *err);

#endif
