/* The service's shared state between the main thread (the engine's owner, service.c),
 * the HTTP threads (http.c, api.c) and the preparing thread. Module-private to
 * src/server. */
#ifndef SWEEP_SERVER_SERVICE_H
#define SWEEP_SERVER_SERVICE_H

#include "server/route.h"
#include "server/server.h"

#include "core/spec.h"

#include <jansson.h>
#include <stdbool.h>

struct service;
struct store;

/* What a request asks the main thread to do. */
enum svc_cmd_kind {
    SVC_SUBMIT,      /* accept a study: name, text (its spec as JSON) */
    SVC_CANCEL,      /* cancel study `name` */
    SVC_RETRY,       /* run the failed tasks of study `name` again */
    SVC_TASK_CANCEL, /* cancel task `name` (store_task_resolve) */
};

/* A command and its answer (status and a JSON body: the reply object, or
 * {"error","detail"}). */
struct svc_reply {
    int status;
    json_t *body; /* new reference, the caller's */
};

/* Hands a command to the main thread and waits for its answer (the main thread
 * answers every command, with 503 when the service stops). text may be NULL. */
void service_call(struct service *s,
                  enum svc_cmd_kind kind,
                  const char *name,
                  const char *text,
                  struct svc_reply *out);

/* True once the service stops taking work (a signal came). */
bool service_draining(struct service *s);
const struct server_opts *service_opts(struct service *s);
/* The live events (events.h) and the performance figures (stats.h): each has its own
 * mutex, and lives until the HTTP threads have stopped. */
struct events *service_events(struct service *s);
struct stats *service_stats(struct service *s);

/* Where a study the service knows but the store does not show yet stands: "QUEUED"
 * (accepted, waiting for the preparing thread), "PREPARING", "REJECTED" (its tasks
 * could not be stored: *detail says why; free it) or "CANCELLED" (before it was
 * stored). NULL when the service has no such
 * study in hand. */
const char *service_study_state(struct service *s, const char *name, char **detail);

/* {"status": "ok"|"stopping", "pid", "started_at", "slots", "studies_running",
 * "studies_queued"} (new reference). */
json_t *service_info(struct service *s);

/* ---- api.c: the handlers ---- */

struct route_match;
struct api_request {
    const struct route_match *route;
    const char *body; /* NUL-terminated; NULL when none */
    size_t body_len;
    bool body_yaml; /* sent as YAML (Content-Type application/yaml, text/yaml) */
    /* A query parameter of the URL, or NULL. */
    const char *(*query)(void *arg, const char *name);
    void *query_arg;
};
struct api_response {
    int status;
    const char *content_type; /* static */
    char *body;               /* owned (free) */
    size_t len;
};
/* Whether a request of route id reads the store (the others answer from memory: a
 * busy store, e.g. at start while orphans of a stopped run are ended, never delays
 * GET /health). */
bool api_reads_store(enum route_id id);
/* Answers one request; st is the calling thread's read connection (NULL when it could
 * not be opened, or api_reads_store() says it is not needed: reads answer 503). */
void api_handle(struct service *s,
                struct store *st,
                const struct api_request *rq,
                struct api_response *out);
/* The response of an error: {"error", "detail"} with status. */
void api_error(struct api_response *out,
               int status,
               const char *error,
               const char *detail);
/* Answers v (taken; NULL: 500) as indented JSON. */
void api_json(struct api_response *out, int status, json_t *v);
/* An error of the core as an answer: SWEEP_ENOTFOUND 404, SWEEP_EINVAL 400,
 * SWEEP_EBUSY 503, else 500. */
void api_err(struct api_response *out, const struct err *err);
/* Checks a study spec (a JSON object, borrowed) as api_study_spec() checks a body's. */
int api_spec_check(json_t *spec,
                   bool allow_commands,
                   char **spec_text,
                   char **name,
                   bool *forbidden,
                   struct err *err);
/* A spec for POST /studies: the body as JSON (a spec, or the parametric-study shape
 * {"algorithm", "variable_parameter", "values", "base_parameters", "repetitions",
 * ["study"]}), checked as `sweep run` checks one (its fields, its models'
 * parameters, its size), into *spec_text (the spec as JSON; free it) and *name.
 * SWEEP_EINVAL with the reason for a bad body; *forbidden for a command spec when
 * commands are not allowed. */
int api_study_spec(const char *body,
                   size_t len,
                   bool yaml,
                   bool allow_commands,
                   char **spec_text,
                   char **name,
                   bool *forbidden,
                   struct err *err);

/* ---- plots.c: a study's statistics and pictures, and POST /execute_tasks ---- */
/* GET /studies/{id}/aggregate?by=&metrics=&fit=power&step=: `sweep aggregate
 * --format json`. */
void plots_aggregate(struct store *st,
                     const struct api_request *rq,
                     struct api_response *out);
/* GET /studies/{id}/plot.svg?x=&y=&by=&fit=power&logx=&logy=&width=&height=&step=:
 * the chart of `sweep plot` as SVG (409 when nothing can be drawn yet). */
void plots_svg(struct store *st,
               const struct api_request *rq,
               struct api_response *out);
/* GET /studies/{id}/report.png: the page of `sweep report`. */
void plots_report(struct store *st,
                  const struct api_request *rq,
                  struct api_response *out);
/* POST /execute_tasks: the body (a task file) or, with no body, the service's tasks
 * file (server_opts.tasks_file) submitted as one study: 202 {"study_id", "status",
 * "study_ids", "tasks_file"}; 404 naming the path when the file is missing. */
void plots_execute_tasks(struct service *s,
                         const struct api_request *rq,
                         struct api_response *out);

/* ---- dashboard.c: the web dashboard ---- */

/* GET / (name "") and GET /static/NAME: the embedded file with its content type; 404
 * for any other name. */
void dashboard_static(const char *name, struct api_response *out);
/* GET /tasks/{id}/logs?stream=stdout|stderr&tail=N: the last N lines (default 200,
 * at most 10000, from the last MiB) of the current attempt's log as text/plain; ""
 * when the attempt wrote nothing to it. The file is found from the task's row (its
 * study and key under the home), never from the request. */
void dashboard_task_logs(struct service *s,
                         struct store *st,
                         const struct api_request *rq,
                         struct api_response *out);
/* GET /tasks/{id}/attempts: {"task_id", "attempts": [view_attempt_json(), oldest
 * first]}. */
void dashboard_task_attempts(struct store *st,
                             const char *name,
                             struct api_response *out);

#endif
