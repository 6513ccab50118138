/* The HTTP side of the service over libmicrohttpd (the only file that includes
 * microhttpd.h): its threads, each with a read connection to the store of its own,
 * the request's checks before its body is read (route, token, intake open, size), the
 * body read up to the limit, then api_handle(). Module-private to src/server. */
#ifndef SWEEP_SERVER_HTTP_H
#define SWEEP_SERVER_HTTP_H

#include "common/err.h"

struct service;
struct http;
struct store;

/* Listens on the service's bind address and prints "sweep serve: listening on
 * http://HOST:PORT" (the port bound, also for port 0) to its output. SWEEP_EIO when
 * the address cannot be bound. */
int http_start(struct service *s, struct http **out, struct err *err);
/* The calling HTTP thread's read connection to the store (opened on first use, closed
 * when the thread ends), or NULL when it cannot be opened. */
struct store *http_thread_store(struct service *s);
/* Stops listening and waits for the requests in progress (accepts NULL). */
void http_stop(struct http *h);

#endif
