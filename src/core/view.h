/* What every front end shows: the JSON shapes of a study's status, of the list of
 * studies, of its result rows and of its aggregate, built once below the front ends.
 * `sweep status --json`, `sweep list --json`, `sweep results`, `sweep aggregate` (cli/)
 * print these; the REST API and the MCP server return the same objects. The CLI's
 * tables and text lines are formatted from the same data, so every front end agrees.
 *
 * Shapes (members in this order):
 *
 * counts: {<state>: n for every task state in enum order, "total": n}.
 *
 * summary: {"study", "status", "description", "created_at", "updated_at", "counts",
 * "by_priority": {"HIGH": counts, "MEDIUM": counts, "LOW": counts}, "reason"}: one
 * study of `sweep status --json` without a study and of `sweep list --json`
 * (view_study_list()). "status" is the study's status, except that RUNNING or WAITING
 * without a live run (no sweep process holds its run lock: killed, crashed) is
 * INTERRUPTED. Times ISO-8601 UTC; description and reason null when there is none.
 *
 * status: summary, then "steps" (a pipeline: [{<state>: n, ..., "total", "name"}],
 * one per step, the reduce last), "estimated_remaining" (seconds; 0 when nothing is
 * left to run; null while nothing has finished to estimate from, and when tasks are
 * left but no run holds the study), then, when one is stored, "aggregate" (as `sweep
 * aggregate --format json` prints it) and "aggregate_computed_at": `sweep status
 * STUDY --json`.
 *
 * progress: {"total", "completed" (succeeded), "failed" (failed or timed out),
 * "percentage" (ended tasks, as the bar of `sweep status` counts them: 0 to 100, one
 * decimal)}: for front ends that show a progress figure (the REST API's and MCP's
 * check of a study); not part of status, whose CLI output stays as it was.
 *
 * result row: see view_row_json().
 *
 * Cost: a study's counts are read from the counts the store keeps per study
 * (store_study_counts(): a few rows whatever its size), so a list of S studies is
 * O(S); one study's status counts once, then samples tasks for its estimate
 * (eta_study()). */
#ifndef SWEEP_CORE_VIEW_H
#define SWEEP_CORE_VIEW_H

#include "common/err.h"
#include "core/store.h"
#include "core/task.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct aggregate;
struct strbuf;

/* ---- counts ---- */

/* {<state>: n, ..., "total": n} of one row of counts (new reference). */
json_t *view_counts_json(const long long c[TASK_NSTATES]);
/* A pipeline's counts per step, the reduce last, into *out as an array of {<state>: n,
 * ..., "total", "name"} (new reference); *out is NULL for a single-step study. */
int view_steps_counts(struct store *st,
                      const struct store_study *s,
                      json_t **out,
                      struct err *err);
/* The count of one state (or "total") in a counts object; 0 when absent. */
long long view_count_of(const json_t *counts, const char *state);
/* The progress shape of counts by band (store_study_counts()). New reference. */
json_t *view_progress_json(long long counts[3][TASK_NSTATES]);

/* ---- a study's status ---- */

/* The name of a priority band of store_study_counts(): 0 LOW, 1 MEDIUM, 2 HIGH. */
const char *view_band_name(int band);

/* The status shown for a study: its stored status, but INTERRUPTED for RUNNING or
 * WAITING when no sweep process holds its run lock (runner_is_active()). A static
 * string. */
const char *view_study_status_name(struct store *st, const struct store_study *s);

/* Everything the status of one study shows, read at once. */
struct view_status {
    struct store_study study;
    const char *status;                /* view_study_status_name() */
    long long counts[3][TASK_NSTATES]; /* store_study_counts() */
    double eta;          /* eta_study_counted(): seconds, ETA_UNKNOWN, ETA_IDLE */
    json_t *steps;       /* view_steps_counts(); NULL for a single step */
    json_t *failures;    /* view_failures_json() */
    json_t *aggregate;   /* the stored aggregate; NULL when none (or unreadable) */
    double aggregate_at; /* when it was computed (epoch seconds) */
};

/* Reads the status of study `name` into *out (free with view_status_fini(), also after
 * a failure). SWEEP_ENOTFOUND names an unknown study; store errors pass through. */
int view_status_load(struct store *st,
                     const char *name,
                     struct view_status *out,
                     struct err *err);
void view_status_fini(struct view_status *v);
/* The status shape of a loaded status (new reference). */
json_t *view_status_json(const struct view_status *v);
/* The check of one study for the REST API and MCP (new reference): {"study_id" (its
 * name), "status" (as in status), "progress" (view_progress_json()),
 * "estimated_remaining" (as in status), "failures" (view_failures_json())}. */
json_t *view_study_check_json(const struct view_status *v);
/* GET /studies/{id} of the REST API (new reference): view_study_check_json() with
 * "by_priority" (view_by_priority_json()), "description" and "reason" (null when
 * none) of the summary, and "steps" (as in status) for a pipeline: what `sweep
 * status STUDY` shows. */
json_t *view_study_get_json(const struct view_status *v);
/* {"HIGH": counts, "MEDIUM": counts, "LOW": counts} (view_counts_json()) of a study's
 * counts by band (new reference). */
json_t *view_by_priority_json(long long counts[3][TASK_NSTATES]);
/* One task for the REST API and MCP (new reference): {"id", "study", "key", "state",
 * "priority" (view_priority_text()), "attempts", "params" (object), "metrics" (object
 * or null), "exit_code" (null when none), "signal" (null when none), "error" (null
 * when none), "wall", "started_at", "finished_at" (ISO-8601 UTC, null when not yet)}.
 */
json_t *view_task_json(const struct store_task *t, const char *study);
/* The failed tasks a status shows, at most. */
#define VIEW_FAILURES_MAX 3

/* The first failed, then timed-out, tasks of the study's latest generation (by
 * priority, then expansion order: store_task_in_state(), O(VIEW_FAILURES_MAX) however
 * many failed), VIEW_FAILURES_MAX at most, each {"key", "params" (object), "state",
 * "why" (view_task_why())}, into *out (new reference; [] when none): what a status or
 * the summary of a run shows so that the cause of a failure is seen without a second
 * command. counts are the study's (store_study_counts()): no read when none failed. */
int view_failures_json(struct store *st,
                       const struct store_study *s,
                       long long counts[3][TASK_NSTATES],
                       json_t **out,
                       struct err *err);
/* Why a task ended as it did, on one line (malloc'd): its error when it has one, else
 * "timed out", "killed by SIGNAME" or "exit code N", then the last line of its stderr
 * log (under home) when it wrote one: "exit code 3; stderr: oops". */
char *view_task_why(const struct store_task *t, const char *home, const char *study);
/* One attempt of a task for the REST API (new reference): {"attempt", "state",
 * "exit_code", "signal", "error" (each null when none), "started_at", "finished_at"
 * (null while it runs), "wall", "owner" (null when none)}. */
json_t *view_attempt_json(const struct store_attempt *a);
/* view_status_load() then view_status_json(): *out is the status of study `name`. */
int view_study_status(struct store *st,
                      const char *name,
                      json_t **out,
                      struct err *err);

/* The summary shape of one study from its counts (new reference). */
json_t *view_study_summary(struct store *st,
                           const struct store_study *s,
                           long long counts[3][TASK_NSTATES]);
/* Every study, newest first, as an array of summaries into *out (new reference). */
int view_study_list(struct store *st, json_t **out, struct err *err);

/* ---- result rows ---- */

/* One CSV field appended to sb (RFC 4180: quoted when it holds a comma, quote, CR or
 * LF, or starts or ends with a space), then ',' or, when last, '\n'. */
void view_csv_field(struct strbuf *sb, const char *s, bool last);

/* The step index of --step NAME (or ?step=) of a study into *step: the pipeline step
 * so named, "reduce" after the last (when the study has one). NULL name: the last step
 * of a pipeline, -1 (every task) for a single-step study. SWEEP_EINVAL names the known
 * steps. */
int view_step_index(const struct store_study *s,
                    const char *name,
                    int *step,
                    struct err *err);

/* The result rows of one study: one per task of its latest generation, in expansion
 * order. Columns of the CSV: key, [step], [package_id], id, state, attempts,
 * repetition, seed, priority, every parameter, every metric, exit_code, signal, wall,
 * user, sys, maxrss_kb, error, finished_at. A pipeline has the step column ("step", or
 * "pipeline_step" when a parameter or fixed column is named step) and its metrics are
 * under their step's name (simulate.energy); a study of a package directory has
 * package_id. A parameter named like a fixed column is "param.<name>"; a metric named
 * like a parameter or a fixed column is "result.<name>"; nested metrics are "a.b".
 * Fields are read-only after view_results_open(). Cost: the rows stream (one pass in
 * expansion order, memory for one row). The columns come from the names the store keeps
 * (store_result_names(): one small query, so the first row comes at once whatever the
 * study's size), except with a state filter, whose columns are those of the tasks in
 * that state: a pass over them first, as for a list that is not complete (then a pass
 * over every task, whose names are handed back to the store). */
struct view_results {
    struct store *st;
    long long study_id;
    int state;         /* only tasks in this state; -1 every state */
    int step;          /* only this step's tasks; -1 every step */
    json_t *steps;     /* a pipeline's step names (array); NULL for one step */
    json_t *packages;  /* a package study: canonical parameters -> package_id */
    char *note;        /* a warning for the user (package_id left empty), or NULL */
    bool columns;      /* the names below were collected */
    char **params;     /* parameter names, first seen first */
    char **param_cols; /* their column names */
    size_t nparams, params_cap;
    char **metrics; /* metric names (flattened, under the step's name) */
    char **metric_cols;
    size_t nmetrics, metrics_cap;
    const char *step_col; /* "step" or "pipeline_step" (a pipeline), else NULL */
};

/* One task as a row: borrowed for the duration of the callback. */
struct view_row {
    const struct store_task *task;
    json_t *params;      /* the parameters object */
    json_t *metrics;     /* the metrics object, as the task wrote it */
    json_t *flat;        /* the metrics flattened (a.b), under the step's name */
    const char *step;    /* the step's name in a pipeline, else NULL */
    char package_id[24]; /* a package study's package_id ("" when none matches) */
};

/* Opens the rows of study s (state < 0: every state; step from view_step_index(), -1:
 * every step). With `columns`, the parameter and metric names are read (needed for the
 * CSV header and cells; the JSON rows need none): see the cost above. Free with
 * view_results_fini(), also after a failure. */
int view_results_open(struct store *st,
                      const struct store_study *s,
                      int state,
                      int step,
                      bool columns,
                      struct view_results *r,
                      struct err *err);
void view_results_fini(struct view_results *r);

typedef int
view_row_fn(const struct view_results *r, const struct view_row *row, void *arg);
/* Passes each row to fn in order (stops early when fn returns non-zero). */
int view_results_each(struct view_results *r,
                      view_row_fn *fn,
                      void *arg,
                      struct err *err);
/* The same for one page: the rows from the offset-th (0-based), at most limit of
 * them, read as a page of the store (store_task_page(): O(limit) rows without a state,
 * whatever the offset). Results opened for every step only (step < 0): else
 * SWEEP_EINVAL. */
int view_results_page(struct view_results *r,
                      long long offset,
                      long long limit,
                      view_row_fn *fn,
                      void *arg,
                      struct err *err);

/* A result row as JSON (new reference): {"key", "id", "state", "attempts",
 * "repetition", "seed", "priority" (HIGH, MEDIUM, LOW, or the integer as text),
 * "priority_value", "params", "metrics", "exit_code" (null when none), "signal"
 * (null when none), "wall", "user", "sys", "maxrss_kb", "error", ["started_at"],
 * ["finished_at"], ["step"], ["package_id" (null when none matches)]}. */
json_t *view_row_json(const struct view_results *r, const struct view_row *row);
/* The CSV header line (needs `columns`), appended to sb. */
void view_results_csv_header(const struct view_results *r, struct strbuf *sb);
/* One row as a CSV line (needs `columns`), appended to sb. */
void view_row_csv(const struct view_results *r,
                  const struct view_row *row,
                  struct strbuf *sb);
/* A priority as text: the band's name (HIGH, MEDIUM, LOW) where it is one, else the
 * integer. */
void view_priority_text(int priority, char *buf, size_t n);

/* ---- the task inbox's files (sweep serve) ---- */

/* One task of results/task_results_*.json (new reference): {"task_id" (its task_id
 * parameter, else its key), "algorithm" (algorithm, or null), "parameters" (without
 * task_id), "execution_time" (wall seconds), "result": {"status" (the task's state,
 * e.g. succeeded), "metrics" (an object, {} when none)}, "worker_id", "completed_at"
 * (ISO-8601 UTC, null when not ended), "priority" (view_priority_text())}. */
json_t *view_inbox_task_json(const struct view_row *row,
                             const char *algorithm,
                             const char *worker_id);
/* The results of study s for its inbox file into *out (new reference): {"study",
 * "file", "generated_at", "tasks": [view_inbox_task_json(), in expansion order]}; the
 * algorithm is the study's model. O(its tasks). */
int view_inbox_results(struct store *st,
                       const struct store_study *s,
                       const char *file,
                       const char *worker_id,
                       json_t **out,
                       struct err *err);
/* results/orchestrator_stats.json (new reference): {"updated_at", "uptime_seconds",
 * "studies", "totals": counts of every study's tasks, "by_priority": {"HIGH",
 * "MEDIUM", "LOW": counts}, "throughput": {"tasks_run" (attempts this service ran),
 * "tasks_per_minute"}}. O(studies). */
int view_orchestrator_stats(struct store *st,
                            double uptime,
                            long long tasks_run,
                            json_t **out,
                            struct err *err);

/* ---- the aggregate ---- */

/* The study's stored aggregate (aggregate_save()) into *out (new reference) and
 * *computed_at; *out is NULL when none is stored or it does not parse. */
int view_stored_aggregate(struct store *st,
                          long long study_id,
                          json_t **out,
                          double *computed_at,
                          struct err *err);
/* One power-law fit per metric and run of groups of a (aggregate_fit_power() across
 * the last grouping parameter), as an array (new reference) of
 * aggregate_fit_json() objects, or {"x", "metric", "error"} for a fit that cannot be
 * made. a must have a grouping parameter. */
json_t *view_aggregate_fits(const struct aggregate *a);
/* The text of `sweep aggregate --format json`: aggregate_json_str() of a, or with fit,
 * {"groups": <that, indented>, "fits": [<view_aggregate_fits(), one per line>]}. New
 * string. */
char *view_aggregate_json_str(const struct aggregate *a, bool fit);

/* ---- live events and totals ---- */

struct runner_event;
/* A state change a runner told (runner.h), as the data of a server-sent event (new
 * reference): {"study", "task_id", "key", "attempt", "from", "to", "time" (ISO-8601
 * UTC)}; from and to are task states ("pending", ...) for a task's change (TASK,
 * ORPHAN_ENDED, LEASE_EXPIRED), study statuses for a study's (START: to RUNNING;
 * WAITING; END: from RUNNING to its final status), task_id, key and attempt then
 * null. */
json_t *view_event_json(const struct runner_event *ev);
/* The totals of every study into *out (new reference): {"tasks": counts (summed over
 * the studies), "tasks_by_priority": {"HIGH": counts, "MEDIUM", "LOW"},
 * "studies_by_status": {<status as in summary>: n}, "studies_total"}. O(studies), as
 * view_study_list(). */
int view_stats_json(struct store *st, json_t **out, struct err *err);

#endif
