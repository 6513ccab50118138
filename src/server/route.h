/* The REST API's routes and the small checks of a request that need no socket: which
 * route a method and path name (a table), whether an id from a URL is acceptable,
 * the bearer token compared in constant time, paging numbers, and the JSON error body.
 * Pure functions over strings, unit-tested without a server (tests/unit/test_server.c).
 */
#ifndef SWEEP_SERVER_ROUTE_H
#define SWEEP_SERVER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum route_id {
    ROUTE_NONE = 0,
    ROUTE_HEALTH,        /* GET /health */
    ROUTE_STATUS,        /* GET /status */
    ROUTE_STUDY_LIST,    /* GET /studies */
    ROUTE_STUDY_SUBMIT,  /* POST /studies */
    ROUTE_STUDY_GET,     /* GET /studies/{id} */
    ROUTE_STUDY_CANCEL,  /* POST /studies/{id}/cancel */
    ROUTE_STUDY_RETRY,   /* POST /studies/{id}/retry */
    ROUTE_STUDY_RESULTS, /* GET /studies/{id}/results */
    ROUTE_TASK_LIST,     /* GET /tasks */
    ROUTE_TASK_SUBMIT,   /* POST /tasks */
    ROUTE_TASK_GET,      /* GET /tasks/{id} */
    ROUTE_TASK_CANCEL,   /* DELETE /tasks/{id} */
    ROUTE_OPENAPI,       /* GET /openapi.json */
    ROUTE_STUDY_AGG,     /* GET /studies/{id}/aggregate */
    ROUTE_STUDY_PLOT,    /* GET /studies/{id}/plot.svg */
    ROUTE_STUDY_REPORT,  /* GET /studies/{id}/report.png */
    ROUTE_EXEC_TASKS,    /* POST /execute_tasks */
    ROUTE_EVENTS,        /* GET /events (server-sent events) */
    ROUTE_METRICS,       /* GET /metrics (Prometheus text) */
    ROUTE_STATS,         /* GET /stats */
    ROUTE_STATS_PERF,    /* GET /stats/performance */
    ROUTE_WORKER_LIST,   /* GET /workers */
    ROUTE_WORKER_GET,    /* GET /workers/{id} */
    ROUTE_PING_ALL,      /* GET /ping_all */
    ROUTE_DASHBOARD,     /* GET / */
    ROUTE_STATIC,        /* GET /static/{name}: the dashboard's files */
    ROUTE_TASK_LOGS,     /* GET /tasks/{id}/logs */
    ROUTE_TASK_ATTEMPTS, /* GET /tasks/{id}/attempts */
    ROUTE_MCP,           /* POST and DELETE /mcp (mcp_http.h) */
};

#define ROUTE_ARG_MAX 200 /* the longest {id} */

struct route_match {
    enum route_id id;
    char arg[ROUTE_ARG_MAX + 1]; /* the {id} of the path, "" when none */
    bool changes_state;          /* POST or DELETE: needs the token, refused while
                                    the service stops */
    char allow[32];              /* 405: the methods the path takes ("GET, POST") */
};

/* Finds the route of method and path (already %-decoded; a query string is not part
 * of it). Returns 0 with *m filled; 404 for a path the API does not have; 405 for a
 * known path and another method (m->allow says which); 400 for an {id} that is empty,
 * too long, or holds anything but letters, digits, '.', '_' and '-' (so that no id can
 * name a path outside the home: no '/', and "." or ".." refused). */
int route_find(const char *method, const char *path, struct route_match *m);

/* Whether s can be an id of a study or task in a URL (the rule of route_find()). */
bool route_id_ok(const char *s);

/* Whether an Authorization header value is "Bearer TOKEN" for this token. The token
 * is compared in time that depends on the header's length only (not on how many
 * leading bytes match). NULL header: false. */
bool route_bearer_ok(const char *authorization, const char *token);

/* A query parameter as an integer from min to max into *out; NULL or "" gives def.
 * -1 (nothing written) when it is not all digits or out of range. */
int route_query_int(
    const char *s, long long min, long long max, long long def, long long *out);

/* The body of every error: {"error": error, "detail": detail} (detail may be NULL:
 * ""), compact JSON with a newline (new string). */
char *route_error_json(const char *error, const char *detail);

/* An error body without the home's absolute path: each "HOME/" in text[0..len) is
 * dropped (a path in the home reads relative to it) and each other "HOME" (followed
 * by no path character) reads "(home)". A new NUL-terminated string and its length,
 * or NULL when home does not occur in text. O(len x strlen(home)). */
char *route_scrub_home(const char *text, size_t len, const char *home, size_t *out_len);

/* The reason phrase of the status codes the API answers with ("Not Found"). */
const char *route_status_text(int status);

#endif
