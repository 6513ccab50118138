/* The attempts of the store (store.h) seen from their owners: the owner and lease of
 * this connection's attempts, renewing and expiring leases, the open attempts, an
 * attempt's process group, interrupting and cancelling (a study, a task, a chain's
 * rest), cancellation requests, requeueing, and the claims a stopping run gives back.
 * Starting and ending an attempt (store_task_started(), store_task_finished()) is in
 * store_task.c. */
#include "store_int.h"

#include "common/timeutil.h"
#include "common/xalloc.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- owners and leases ---- */

void store_set_owner(struct store *st, const char *owner, double lease)
{
    free(st->owner);
    st->owner = owner ? xstrdup(owner) : NULL;
    st->lease = lease > 0 ? lease : STORE_LEASE_DEFAULT;
}

const char *store_owner(const struct store *st)
{
    return st->owner;
}

double store_lease(const struct store *st)
{
    return st->owner ? st->lease : 0;
}

int store_attempt_set_process(struct store *st,
                              long long task_id,
                              int attempt,
                              int pid,
                              int pgid,
                              struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_ATTEMPT_SET_PROCESS];
    int rc;

    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_int(s, 2, attempt);
    sqlite3_bind_int(s, 3, pid);
    sqlite3_bind_int(s, 4, pgid);
    sqlite3_bind_double(s, 5, time_now());
    rc = store_step_done(st, s, err, "recording the process of task %lld, attempt %d",
                         task_id, attempt);
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "recording the process of task %lld: attempt %d is not running",
                     task_id, attempt);
    return rc;
}

int store_lease_renew(
    struct store *st, const char *owner, double until, long long *n, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_LEASE_RENEW];
    int rc;

    store_bind_text(s, 1, owner);
    sqlite3_bind_double(s, 2, until);
    rc = store_step_done(st, s, err, "renewing the leases of %s", owner);
    if (n)
        *n = rc == 0 ? sqlite3_changes(st->db) : 0;
    return rc;
}

/* Reads the open attempts that s (bound, OPEN_COLS) lists into *out (free with
 * open_attempts_free). */
static int open_attempts_read(struct store *st,
                              sqlite3_stmt *s,
                              struct store_open_attempt **out,
                              size_t *n,
                              struct err *err,
                              const char *what)
{
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *key = sqlite3_column_text(s, 8);
        struct store_open_attempt *a;

        *out = xgrow(*out, &cap, *n + 1, sizeof(**out));
        a = &(*out)[(*n)++];
        memset(a, 0, sizeof(*a));
        a->task_id = sqlite3_column_int64(s, 0);
        a->attempt = sqlite3_column_int(s, 1);
        a->owner = store_column_strdup(s, 2);
        a->lease_until = sqlite3_column_double(s, 3);
        a->pid = sqlite3_column_int(s, 4);
        a->pgid = sqlite3_column_int(s, 5);
        a->started_at = sqlite3_column_double(s, 6);
        a->spawned_at = sqlite3_column_double(s, 7);
        snprintf(a->key, sizeof(a->key), "%s", key ? (const char *)key : "");
        a->study_id = sqlite3_column_int64(s, 9);
        a->study = store_column_strdup(s, 10);
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, err, "%s", what);
    store_stmt_done(s);
    return rc;
}

static void open_attempts_free(struct store_open_attempt *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].owner);
        free(a[i].study);
    }
    free(a);
}

int store_expire_leases(struct store *st,
                        double now,
                        store_open_attempt_fn *fn,
                        void *arg,
                        long long *n,
                        struct err *err)
{
    static const char why[] = "interrupted: the lease of its owner expired: ";
    const char *what = "expiring leases";
    struct store_open_attempt *expired = NULL;
    size_t nexpired = 0;
    sqlite3_stmt *s;
    int rc;

    if (n)
        *n = 0;
    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    if (fn) {
        s = st->stmt[ST_ATTEMPTS_EXPIRED];
        sqlite3_bind_double(s, 1, now);
        store_bind_text(s, 2, st->owner);
        if ((rc = open_attempts_read(st, s, &expired, &nexpired, err, what)) != 0)
            goto out;
    }
    s = st->stmt[ST_EXPIRE_TASKS];
    sqlite3_bind_double(s, 1, now);
    store_bind_text(s, 2, st->owner);
    sqlite3_bind_text(s, 3, why, -1, SQLITE_STATIC);
    if ((rc = store_step_done(st, s, err, "%s: tasks", what)) != 0)
        goto out;
    s = st->stmt[ST_EXPIRE_ATTEMPTS];
    sqlite3_bind_double(s, 1, now);
    store_bind_text(s, 2, st->owner);
    sqlite3_bind_text(s, 3, why, -1, SQLITE_STATIC);
    if ((rc = store_step_done(st, s, err, "%s: attempts", what)) != 0)
        goto out;
    if (n)
        *n = sqlite3_changes(st->db);
out:
    rc = store_op_end(st, rc, err, what);
    for (size_t i = 0; rc == 0 && i < nexpired; i++)
        fn(&expired[i], arg);
    open_attempts_free(expired, nexpired);
    return rc;
}

int store_attempt_each_open(struct store *st,
                            long long study_id,
                            store_open_attempt_fn *fn,
                            void *arg,
                            struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_ATTEMPTS_OPEN];
    struct store_open_attempt *batch;
    size_t n;
    char what[96];
    int rc;

    /* Read first, then call fn, so that fn may write (store_attempt_interrupt). */
    snprintf(what, sizeof(what), "listing the open attempts of study %lld", study_id);
    sqlite3_bind_int64(s, 1, study_id);
    rc = open_attempts_read(st, s, &batch, &n, err, what);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (fn(&batch[i], arg))
            break;
    }
    open_attempts_free(batch, n);
    return rc;
}

int store_attempt_interrupt(
    struct store *st, long long task_id, int attempt, const char *why, struct err *err)
{
    const char *what = "interrupting an attempt";
    sqlite3_stmt *s;
    int rc;

    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    s = st->stmt[ST_ATTEMPT_INTERRUPT];
    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_int(s, 2, attempt);
    store_bind_text(s, 3, why);
    if ((rc = store_step_done(st, s, err, "%s of task %lld", what, task_id)) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        rc = err_set(err, SWEEP_ENOTFOUND, "%s of task %lld: attempt %d is not running",
                     what, task_id, attempt);
        goto out;
    }
    s = st->stmt[ST_TASK_INTERRUPT];
    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_int(s, 2, attempt);
    store_bind_text(s, 3, why);
    rc = store_step_done(st, s, err, "%s of task %lld", what, task_id);
out:
    return store_op_end(st, rc, err, what);
}

int store_cancel(struct store *st,
                 long long study_id,
                 long long task_id,
                 long long *n,
                 struct err *err)
{
    sqlite3_stmt *s;
    long long generation = 0;
    int rc;

    *n = 0;
    if (task_id == 0) {
        rc = store_study_generation(st, study_id, &generation, err, "cancelling");
        if (rc != 0)
            return rc;
    }
    s = st->stmt[task_id ? ST_CANCEL_TASK : ST_CANCEL_STUDY];
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_double(s, 3, time_now());
    if (task_id) {
        sqlite3_bind_int64(s, 2, task_id);
        rc = store_step_done(st, s, err, "cancelling task %lld", task_id);
        if (rc == 0)
            *n = sqlite3_changes(st->db);
        if (rc == 0 && *n > 0) {
            s = st->stmt[ST_CANCEL_CHAIN_REST];
            sqlite3_bind_int64(s, 1, task_id);
            sqlite3_bind_double(s, 2, time_now());
            rc =
                store_step_done(st, s, err, "cancelling task %lld: its chain", task_id);
        }
        return rc;
    } else {
        sqlite3_bind_int64(s, 2, generation);
        rc = store_step_done(st, s, err, "cancelling study %lld", study_id);
    }
    if (rc == 0)
        *n = sqlite3_changes(st->db);
    return rc;
}

int store_task_requeue(struct store *st, long long task_id, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_REQUEUE];

    sqlite3_bind_int64(s, 1, task_id);
    return store_step_done(st, s, err, "queueing task %lld again", task_id);
}

struct requeue_ctx {
    struct store *st;
    struct err *err;
    long long n;
    int rc;
};

static int requeue_one(const struct store_task *t, void *arg)
{
    struct requeue_ctx *c = arg;

    if ((c->rc = store_task_requeue(c->st, t->id, c->err)) != 0)
        return 1;
    c->n++;
    return 0;
}

int store_requeue_failed(struct store *st,
                         long long study_id,
                         long long *n,
                         struct err *err)
{
    static const enum task_state states[] = {TASK_FAILED, TASK_TIMED_OUT};
    struct requeue_ctx c = {.st = st, .err = err};
    int rc = SWEEP_OK;

    for (size_t i = 0; i < 2 && !rc && !c.rc; i++)
        rc = store_task_each(st, study_id, (int)states[i], requeue_one, &c, err);
    if (n)
        *n = c.n;
    return c.rc ? c.rc : rc;
}

int store_study_cancel(struct store *st,
                       long long study_id,
                       long long *n,
                       struct err *err)
{
    int rc = store_begin(st, err);

    if (!rc)
        rc = store_cancel(st, study_id, 0, n, err);
    if (!rc)
        rc = store_study_set_status(st, study_id, STUDY_CANCELLED, err);
    if (!rc)
        rc = store_commit(st, err);
    if (rc)
        store_rollback(st);
    return rc;
}

int store_task_cancel_requested(
    struct store *st, long long study_id, store_task_fn *fn, void *arg, struct err *err)
{
    const char *what = "reading cancellation requests";
    sqlite3_stmt *s = st->stmt[ST_CANCEL_REQUESTED];
    long long generation;
    int rc;

    if ((rc = store_study_generation(st, study_id, &generation, err, what)) != 0)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    return store_task_rows(st, s, fn, arg, err, what, study_id);
}

/* ---- claims given back (rare: a run that stops with tasks claimed ahead) ---- */

/* Runs one statement prepared for this call with task_id and attempt bound as ?1, ?2
 * (and now as ?3); *changes receives how many rows it changed. */
static int unclaim_step(struct store *st,
                        const char *sql,
                        long long task_id,
                        int attempt,
                        int *changes,
                        struct err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

    if (rc != SQLITE_OK)
        return store_fail(st, rc, err, "giving back task %lld: prepare", task_id);
    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_int(s, 2, attempt);
    sqlite3_bind_double(s, 3, time_now());
    rc = store_step_done(st, s, err, "giving back task %lld, attempt %d", task_id,
                         attempt);
    *changes = rc ? 0 : sqlite3_changes(st->db);
    sqlite3_finalize(s);
    return rc;
}

int store_task_unclaim(struct store *st,
                       long long task_id,
                       int attempt,
                       struct err *err)
{
    const char *what = "giving back a claimed task";
    int rc, changes = 0;

    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    rc = unclaim_step(st,
                      "DELETE FROM attempts WHERE task_id = ?1 AND attempt = ?2"
                      " AND state = 1 AND pid = 0",
                      task_id, attempt, &changes, err);
    if (rc == 0 && changes == 0)
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "%s: task %lld has no open attempt %d that was never started",
                     what, task_id, attempt);
    if (rc == 0)
        rc = unclaim_step(st,
                          "UPDATE tasks SET attempts = ?2 - 1, cancel_requested = 0,"
                          " state = CASE WHEN cancel_requested THEN 5 ELSE 0 END,"
                          " finished_at = CASE WHEN cancel_requested THEN ?3 ELSE 0 END"
                          " WHERE id = ?1 AND state = 1 AND attempts = ?2",
                          task_id, attempt, &changes, err);
    return store_op_end(st, rc, err, what);
}
