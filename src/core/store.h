/* The store: studies, tasks and every attempt, in one SQLite database (WAL) under the
 * sweep home (<home>/sweep.db). This header is the only way the rest of sweep reaches the
 * database; sqlite3.h is included by store.c alone, so another backend can take its
 * place behind the same functions.
 *
 * Durability: writes are grouped by the caller in store_begin()/store_commit() (one
 * transaction per scheduler tick). A process killed at any instant leaves each task
 * either as before or as after a committed transaction: no completed result is lost and
 * none is recorded twice.
 *
 * Strings handed out in structs are owned by the struct; free them with the matching
 * _fini(). Functions that fail leave the database as it was (the caller's open
 * transaction is left to the caller to roll back). */
#ifndef SWEEP_CORE_STORE_H
#define SWEEP_CORE_STORE_H

#include "common/err.h"
#include "core/expand.h"
#include "core/task.h"

#include <stdbool.h>

struct store;

/* Opens (creating when needed) <home>/sweep.db and its directory. The schema version is
 * PRAGMA user_version; a database from a newer sweep is refused with a clear message. */
int store_open(const char *home, struct store **out, struct err *err);
void store_close(struct store *st);
const char *store_home(const struct store *st);

int store_begin(struct store *st, struct err *err);
int store_commit(struct store *st, struct err *err);
void store_rollback(struct store *st);

/* ---- studies ---- */

enum study_status {
    STUDY_CREATED = 0,
    STUDY_QUEUED,
    STUDY_RUNNING,
    STUDY_COMPLETED,
    STUDY_PARTIALLY_FAILED,
    STUDY_FAILED,
    STUDY_CANCELLED,
};
const char *study_status_name(enum study_status s); /* "COMPLETED", ... */

struct store_study {
    long long id;
    char *name;
    char *description; /* may be NULL */
    char *spec_path;
    char *spec_json;
    enum study_status status;
    long long generation; /* bumped by each store_study_put(): the tasks of the latest
                             expansion carry it */
    double created_at, updated_at; /* epoch seconds */
    double started_at, finished_at; /* 0 when not yet */
    int runner_pid;                 /* pid of the last `sweep run`, 0 if none */
};
void store_study_fini(struct store_study *s);

/* Creates the study or updates its spec, and starts a new generation: *id and
 * *generation receive the study's id and the new generation number. */
int store_study_put(struct store *st, const char *name, const char *description,
                    const char *spec_path, const char *spec_json, long long *id,
                    long long *generation, struct err *err);
/* SWEEP_ENOTFOUND (message names the study) when there is none. */
int store_study_get(struct store *st, const char *name, struct store_study *out,
                    struct err *err);
int store_study_set_status(struct store *st, long long id, enum study_status status,
                           struct err *err);
/* Records the start (status RUNNING, started_at, runner_pid) or the end of a run. */
int store_study_mark_started(struct store *st, long long id, int pid, struct err *err);
int store_study_mark_finished(struct store *st, long long id, enum study_status status,
                              struct err *err);

typedef int store_study_fn(const struct store_study *s, void *arg);
/* Every study, newest first; stops early when fn returns non-zero. */
int store_study_list(struct store *st, store_study_fn *fn, void *arg, struct err *err);

/* ---- tasks ---- */

struct store_task {
    long long id;
    long long study_id;
    char key[EXPAND_KEY_LEN + 1];
    long long seq;
    char *params_json;
    int repetition;
    long long seed;
    int priority;
    int cpus;
    enum task_state state;
    int attempts;      /* attempts started so far */
    int exit_code;     /* of the last attempt; -1 when none or not a normal exit */
    int signal;
    double wall, user, sys;
    long maxrss_kb;
    double started_at, finished_at;
    double not_before; /* epoch: a pending retry waits until then; 0 otherwise */
    char *error;        /* may be NULL */
    char *metrics_json; /* may be NULL */
};
void store_task_fini(struct store_task *t);

/* Inserts a task of the expansion, or, when its key is already in the study, marks it
 * as part of `generation` without touching its state or results. Meant to be called
 * many times inside one transaction (a prepared statement is reused). */
int store_task_put(struct store *st, long long study_id, long long generation,
                   const struct expand_task *t, int cpus, struct err *err);

/* Prepares the tasks of `generation` for a run: tasks left `running` by a run that
 * died become interrupted (their open attempt is closed as interrupted); failed,
 * timed_out, cancelled and interrupted tasks go back to pending (their history stays);
 * with `force`, succeeded ones too. *pending receives the number now pending. */
int store_study_reset(struct store *st, long long study_id, long long generation,
                      bool force, long long *pending, struct err *err);

/* Pending tasks of the generation, highest priority first then in expansion order,
 * strictly after the cursor (priority, seq); at most `limit`. `band` filters by
 * priority band (PRIORITY_HIGH / _MEDIUM / _LOW as in priority_name()), 0 = all.
 * Start with *cursor_priority = INT_MAX, *cursor_seq = -1; both are advanced to the
 * last task returned. Returns the number of tasks passed to fn, or -1 with err set. */
typedef int store_task_fn(const struct store_task *t, void *arg);
int store_task_next_pending(struct store *st, long long study_id, long long generation,
                            int band, int *cursor_priority, long long *cursor_seq,
                            int limit, store_task_fn *fn, void *arg, struct err *err);

/* An attempt starts: state running, attempts = attempt, a new attempts row. */
int store_task_started(struct store *st, long long task_id, int attempt,
                       double started_at, struct err *err);
/* An attempt ended: the attempts row is closed and the task takes o->state, or goes
 * back to pending with not_before = o->retry_at when a retry is scheduled. */
int store_task_finished(struct store *st, long long task_id, int attempt,
                        const struct task_outcome *o, struct err *err);

/* Counts per priority band and state for the tasks of the latest generation:
 * counts[band][state] with band 0 = LOW, 1 = MEDIUM, 2 = HIGH. */
int store_study_counts(struct store *st, long long study_id,
                       long long counts[3][TASK_NSTATES], struct err *err);

/* Tasks of the latest generation in expansion order; state < 0 means every state. */
int store_task_each(struct store *st, long long study_id, int state, store_task_fn *fn,
                    void *arg, struct err *err);

/* One task by key or unique key prefix (at least 4 hex digits), in one study or, with
 * study_id 0, in any. SWEEP_ENOTFOUND when none, SWEEP_EINVAL when the prefix is
 * ambiguous (the message says so). */
int store_task_find(struct store *st, long long study_id, const char *key_prefix,
                    struct store_task *out, struct err *err);

/* Every attempt of a task, oldest first. */
struct store_attempt {
    int attempt;
    enum task_state state; /* RUNNING while open */
    int exit_code, signal;
    double started_at, finished_at, wall, user, sys;
    long maxrss_kb;
    char *error;
};
typedef int store_attempt_fn(const struct store_attempt *a, void *arg);
int store_task_attempts(struct store *st, long long task_id, store_attempt_fn *fn,
                        void *arg, struct err *err);

/* Cancellation requested from another process (`sweep cancel`): pending tasks become
 * cancelled at once; running ones are flagged, and the runner that owns them kills them
 * and records them cancelled. task_id 0 means every task of the study. *n receives how
 * many tasks were affected. */
int store_cancel(struct store *st, long long study_id, long long task_id, long long *n,
                 struct err *err);
/* The running tasks flagged for cancellation (the runner polls this about once a
 * second). */
int store_task_cancel_requested(struct store *st, long long study_id, store_task_fn *fn,
                                void *arg, struct err *err);

#endif
