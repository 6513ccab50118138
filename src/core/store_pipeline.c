/* The pipelines of the store (store.h): a study's step names and the reason it waits
 * or failed, the moves of a chain's tasks from one step to the next (unblock, skip
 * the rest, set a state), a reduce's input hash, and the per-step counts and reads
 * of a chain. A chain's steps have consecutive seqs (store_schema.c). */
#include "store_int.h"

#include "common/timeutil.h"

#include <sqlite3.h>
#include <string.h>

/* ---- pipelines ---- */

static int study_set_text(struct store *st,
                          enum stmt_id which,
                          long long id,
                          const char *text,
                          struct err *err,
                          const char *what)
{
    sqlite3_stmt *s = st->stmt[which];

    sqlite3_bind_int64(s, 1, id);
    store_bind_text(s, 2, text);
    return store_step_done(st, s, err, "%s of study %lld", what, id);
}

int store_study_set_steps(struct store *st,
                          long long id,
                          const char *steps_json,
                          struct err *err)
{
    return study_set_text(st, ST_STUDY_SET_STEPS, id, steps_json, err,
                          "storing the steps");
}

int store_study_set_reason(struct store *st,
                           long long id,
                           const char *reason,
                           struct err *err)
{
    return study_set_text(st, ST_STUDY_SET_REASON, id, reason, err,
                          "storing the reason");
}

int store_task_unblock_next(struct store *st,
                            const struct store_task *t,
                            long long generation,
                            struct store_task *next,
                            struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_UNBLOCK_NEXT];
    int rc;

    memset(next, 0, sizeof(*next));
    sqlite3_bind_int64(s, 1, t->study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_int64(s, 3, t->seq + 1);
    sqlite3_bind_int64(s, 4, t->chain);
    sqlite3_bind_int(s, 5, t->step + 1);
    /* With RETURNING, the update is done by the first step. */
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        store_task_from_row(s, next);
        rc = 1;
    } else if (rc == SQLITE_DONE) {
        rc = 0;
    } else {
        rc = -store_fail(st, rc, err, "starting the step after task %s", t->key);
    }
    store_stmt_done(s);
    return rc;
}

int store_task_skip_rest(struct store *st,
                         const struct store_task *t,
                         long long generation,
                         int nsteps,
                         const char *reason,
                         long long *n,
                         struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_SKIP_REST];
    int rc;

    sqlite3_bind_int64(s, 1, t->study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_int64(s, 3, t->seq);
    sqlite3_bind_int64(s, 4, t->seq + (nsteps - 1 - t->step));
    sqlite3_bind_int64(s, 5, t->chain);
    store_bind_text(s, 6, reason);
    sqlite3_bind_double(s, 7, time_now());
    rc = store_step_done(st, s, err, "skipping the steps after task %s", t->key);
    *n = rc == 0 ? sqlite3_changes(st->db) : 0;
    return rc;
}

int store_task_set_state(struct store *st,
                         long long task_id,
                         enum task_state from,
                         enum task_state to,
                         const char *error,
                         struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_SET_STATE];
    int rc;

    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_int(s, 2, (int)from);
    sqlite3_bind_int(s, 3, (int)to);
    store_bind_text(s, 4, error);
    sqlite3_bind_double(s, 5, time_now());
    rc = store_step_done(st, s, err, "setting the state of task %lld", task_id);
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = err_set(err, SWEEP_ENOTFOUND, "task %lld is not %s", task_id,
                     task_state_name(from));
    return rc;
}

int store_task_input_hash(struct store *st,
                          long long task_id,
                          char **hash,
                          struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_INPUT_HASH_GET];
    int rc;

    *hash = NULL;
    sqlite3_bind_int64(s, 1, task_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *hash = store_column_strdup(s, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = err_set(err, SWEEP_ENOTFOUND, "no task %lld", task_id);
    } else {
        rc = store_fail(st, rc, err, "reading the input hash of task %lld", task_id);
    }
    store_stmt_done(s);
    return rc;
}

int store_task_set_input_hash(struct store *st,
                              long long task_id,
                              const char *hash,
                              struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_INPUT_HASH_SET];

    sqlite3_bind_int64(s, 1, task_id);
    store_bind_text(s, 2, hash);
    return store_step_done(st, s, err, "setting the input hash of task %lld", task_id);
}

int store_task_chain_before(struct store *st,
                            const struct store_task *t,
                            long long generation,
                            store_task_fn *fn,
                            void *arg,
                            struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_CHAIN_RANGE];

    sqlite3_bind_int64(s, 1, t->study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_int64(s, 3, t->seq - t->step);
    sqlite3_bind_int64(s, 4, t->seq);
    sqlite3_bind_int64(s, 5, t->chain);
    return store_task_rows(st, s, fn, arg, err, "reading the steps before a task",
                           t->study_id);
}

int store_study_step_counts(struct store *st,
                            long long study_id,
                            int nsteps,
                            long long (*counts)[TASK_NSTATES],
                            struct err *err)
{
    const char *what = "counting tasks by step";
    sqlite3_stmt *s = st->stmt[ST_STEP_COUNTS];
    long long generation;
    int rc;

    memset(counts, 0, (size_t)(nsteps + 1) * sizeof(*counts));
    if ((rc = store_counts_flush(st, err)) != 0 ||
        (rc = store_study_generation(st, study_id, &generation, err, what)) != 0)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int step = sqlite3_column_int(s, 0), state = sqlite3_column_int(s, 1);
        if (step >= 0 && step <= nsteps && state >= 0 && state < TASK_NSTATES)
            counts[step][state] += sqlite3_column_int64(s, 2);
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, err, "%s", what);
    store_stmt_done(s);
    return rc;
}

int store_task_last(struct store *st,
                    long long study_id,
                    long long generation,
                    struct store_task *out,
                    struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_TASK_LAST];
    int rc;

    memset(out, 0, sizeof(*out));
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        store_task_from_row(s, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = err_set(err, SWEEP_ENOTFOUND, "study %lld has no task", study_id);
    } else {
        rc = store_fail(st, rc, err, "reading the last task of study %lld", study_id);
    }
    store_stmt_done(s);
    return rc;
}
