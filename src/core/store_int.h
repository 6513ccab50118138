/* The private interface of the store's files (store.h is the public one), as SQLite's
 * sqliteInt.h: struct store, the ids of the statements prepared at open (their SQL is
 * in one table, stmt_sql[] in store.c) and the helpers that several store_*.c files
 * share, each under the file that defines it. Only src/core/store*.c include it, and
 * with them it is the only place that includes sqlite3.h. The files:
 *   store.c           opening, configuration, transactions and task_counts, the
 *                     statement table, statistics, the shared helpers
 *   store_schema.c    the schema and its upgrades
 *   store_names.c     result names (the columns of `sweep results`)
 *   store_study.c     studies and their aggregates
 *   store_prepare.c   preparing a generation in chunks
 *   store_task.c      tasks, the per-task writers of a run, metrics rows, task names
 *   store_attempt.c   owners, leases, open attempts, cancellation, claims given back
 *   store_pipeline.c  pipelines */
#ifndef SWEEP_CORE_STORE_INT_H
#define SWEEP_CORE_STORE_INT_H

#include "store.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/* Two statements that both the statement table (store.c) and the upgrades
 * (store_schema.c) prepare. A name of a task's result columns: inserted, or moved to
 * an earlier task. */
#define NAME_NOTE_SQL                                                                  \
    "INSERT INTO result_names (study_id, generation, kind, step, name, seq, pos,"      \
    " task_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO UPDATE SET"      \
    " seq = excluded.seq, pos = excluded.pos, task_id = excluded.task_id"              \
    " WHERE excluded.seq < seq"

/* A metrics row. A key that appears twice after flattening ({"a.b": 1, "a": {"b": 2}})
 * keeps the later value. */
#define METRIC_PUT_SQL                                                                 \
    "INSERT OR REPLACE INTO metrics (task_id, name, value, text)"                      \
    " VALUES (?1, ?2, ?3, ?4)"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_STUDY_PUT,
    ST_STUDY_GET,
    ST_STUDY_GENERATION,
    ST_STUDY_SET_STATUS,
    ST_STUDY_STARTED,
    ST_STUDY_FINISHED,
    ST_STUDY_LIST,
    ST_TASK_PUT,
    ST_RESET_ATTEMPTS,
    ST_RESET_RUNNING,
    ST_RESET_TO_PENDING,
    ST_COUNT_PENDING,
    ST_NEXT_PENDING,
    ST_TASK_STARTED,
    ST_ATTEMPT_OPEN,
    ST_ATTEMPT_CLOSE,
    ST_TASK_FINISHED,
    ST_TASK_FINISHED_ANY,
    ST_TASK_GROUP,
    ST_COUNT_RANGE,
    ST_TASK_EACH,
    ST_TASK_EACH_FEW,
    ST_TASK_IN_STATE,
    ST_FIND_IN_STUDY,
    ST_FIND_ANY,
    ST_NAME_ID,
    ST_NAME_KEY,
    ST_ATTEMPTS,
    ST_CANCEL_STUDY,
    ST_CANCEL_TASK,
    ST_REQUEUE,
    ST_CANCEL_CHAIN_REST,
    ST_CANCEL_REQUESTED,
    ST_METRICS_CLEAR,
    ST_METRIC_PUT,
    ST_AGGREGATE_PUT,
    ST_AGGREGATE_GET,
    ST_STUDY_SET_STEPS,
    ST_STUDY_SET_REASON,
    ST_RESET_WAITING,
    ST_RESET_REDUCE,
    ST_UNBLOCK_NEXT,
    ST_SKIP_REST,
    ST_SET_STATE,
    ST_CHAIN_RANGE,
    ST_STEP_COUNTS,
    ST_TASK_LAST,
    ST_RESET_SKIP_FAILED,
    ST_STUDY_DELETE,

    ST_INPUT_HASH_GET,
    ST_INPUT_HASH_SET,
    ST_ATTEMPT_SET_PROCESS,
    ST_LEASE_RENEW,
    ST_EXPIRE_TASKS,
    ST_EXPIRE_ATTEMPTS,
    ST_ATTEMPTS_OPEN,
    ST_ATTEMPTS_EXPIRED,
    ST_ATTEMPT_INTERRUPT,
    ST_TASK_INTERRUPT,
    ST_ATTEMPT_LATE,
    ST_ATTEMPT_STALE,
    ST_STAGE_STUDY,
    ST_STAGE_STUDY_GET,
    ST_STAGE_TASK,
    ST_STAGE_BATCH,
    ST_TASK_NEXT_ID,
    ST_STAGE_FIND,
    ST_STAGE_MOVE,
    ST_STAGE_CLEAR,
    ST_STAGE_DROP_TASKS,
    ST_STAGE_DROP_STUDY,
    ST_PUBLISH_TASKS,
    ST_PUBLISH_STUDY,
    ST_COUNTS_ADD,
    ST_COUNTS_DROP_OTHERS,
    ST_NAME_NOTE,
    ST_NAMES_GET,
    ST_NAMES_STUDY,
    ST_NAMES_DROPPED,
    ST_NAMES_CARRY,
    ST_NAMES_COMPLETE,
    ST_NAMES_KEEP_ONLY,
    ST_COUNT,
};

struct store {
    sqlite3 *db;
    char *home;
    char *path;
    sqlite3_stmt *stmt[ST_COUNT];
    char *owner;  /* of the attempts this connection starts; NULL: none */
    double lease; /* seconds */
    /* What the connection has cost (store_stats_get()); statements and triggers are
     * counted once store_stats_enable() installed the trace callback. */
    struct store_stats stats;
    /* Changes to task_counts of this transaction not made yet: pending tasks
     * inserted, and the changes of state counted by the store (schema_v8_sql). Added
     * by store_commit(), dropped by store_rollback(). */
    struct stage_count {
        long long study_id, generation, n;
        int step, band, state;
    } * added;
    size_t nadded, capadded;
    /* The result names this connection wrote or read (names_note()): a hash set,
     * emptied whenever a transaction or savepoint is rolled back. */
    struct name_seen *seen;
    size_t nseen, capseen; /* capseen: 0 or a power of two */
};

/* Which list a name is in. */
struct name_key {
    long long study_id, generation;
    int kind, step;
};

/* ---- store.c: errors, statements, savepoints, task_counts ---- */

/* Sets err from the connection's last error (rc), prefixed by the formatted context;
 * returns the error code. A busy database becomes SWEEP_EBUSY. */
int store_fail(struct store *st, int rc, struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Resets s and clears its bindings. */
void store_stmt_done(sqlite3_stmt *s);
/* Runs s to completion and resets it; the context is formatted only on failure. */
int store_step_done(struct store *st,
                    sqlite3_stmt *s,
                    struct err *err,
                    const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
/* Binds v (static for the statement's run), or NULL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* A copy of column i (xstrdup), or NULL. */
char *store_column_strdup(sqlite3_stmt *s, int i);
/* A savepoint around a multi-statement function: store_op_end() releases it when rc
 * is 0, else rolls back to it; it returns rc (or the release's error). */
int store_op_begin(struct store *st, struct err *err, const char *what);
int store_op_end(struct store *st, int rc, struct err *err, const char *what);
/* The band of task_counts of a priority: 0 LOW, 1 MEDIUM, 2 HIGH. */
int store_count_band(int priority);
/* Adds n to a group of task_counts at the commit of the current transaction. */
void store_counts_add(struct store *st,
                      long long study_id,
                      long long generation,
                      int step,
                      int band,
                      int state,
                      long long n);
/* Notes a pending task inserted in the current transaction. */
void store_counts_note(
    struct store *st, long long study_id, long long generation, int step, int priority);
/* Adds the noted changes to task_counts, in the current transaction. */
int store_counts_flush(struct store *st, struct err *err);

/* ---- store_schema.c ---- */

/* Brings the schema to its current version in one transaction. */
int store_schema(struct store *st, struct err *err);
/* Runs sql (several statements) with sqlite3_exec(). */
int store_exec(struct store *st, const char *sql, const char *what, struct err *err);

/* ---- store_names.c: result names ---- */

/* Forgets the names this connection noted (after a rollback). */
void store_seen_clear(struct store *st);
int store_names_note_params(struct store *st,
                            long long study_id,
                            long long generation,
                            const struct expand_task *t,
                            struct err *err);
int store_names_note_metrics(struct store *st,
                             sqlite3_stmt *s,
                             const struct name_key *k,
                             long long seq,
                             long long task_id,
                             const json_t *m,
                             struct err *err);
int store_names_keep_only(struct store *st,
                          long long id,
                          long long keep,
                          struct err *err);
int store_names_publish(struct store *st,
                        long long id,
                        long long generation,
                        struct err *err);
/* Fills result_names from every study's latest generation (the upgrade to v7). */
int store_names_fill(struct store *st, struct err *err);

/* ---- store_study.c ---- */

int store_study_update(
    struct store *st, sqlite3_stmt *s, long long id, struct err *err, const char *what);
/* The latest generation of a study; SWEEP_ENOTFOUND when there is no such study. */
int store_study_generation(struct store *st,
                           long long id,
                           long long *generation,
                           struct err *err,
                           const char *what);

/* ---- store_task.c ---- */

/* Binds the columns of an inserted task (?1 .. ?11 of ST_TASK_PUT). */
void store_bind_task(sqlite3_stmt *s,
                     long long study_id,
                     long long generation,
                     const struct expand_task *t,
                     int cpus);
void store_task_from_row(sqlite3_stmt *s, struct store_task *t);
/* Streams the rows of a task query to fn; stops early when fn returns non-zero. */
int store_task_rows(struct store *st,
                    sqlite3_stmt *s,
                    store_task_fn *fn,
                    void *arg,
                    struct err *err,
                    const char *what,
                    long long study_id);
/* The metrics rows of one task from its metrics JSON (none when NULL or not JSON). */
int store_metrics_fill(struct store *st,
                       sqlite3_stmt *put,
                       long long task_id,
                       const char *metrics_json,
                       struct err *err);

#endif
