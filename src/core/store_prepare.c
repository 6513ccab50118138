/* Preparing a study's new generation in chunks (store.h: store_study_stage(),
 * store_task_stage(), store_study_publish(), store_study_unstage()): the staged
 * tasks, invisible until the publishing transaction makes them the study's
 * generation, and the clean-up of a preparation that died. */
#include "store_int.h"

#include "common/timeutil.h"

#include <limits.h>
#include <sqlite3.h>

/* ---- preparing a generation in chunks ---- */

/* Deletes up to `limit` tasks of the study's generations after `visible`; *n receives
 * how many. */
static int stage_drop_tasks(struct store *st,
                            long long id,
                            long long visible,
                            long long limit,
                            long long *n,
                            struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STAGE_DROP_TASKS];
    int rc;

    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, visible);
    sqlite3_bind_int64(s, 3, limit);
    rc = store_step_done(st, s, err, "discarding the staged tasks of study %lld", id);
    *n = rc == 0 ? sqlite3_changes(st->db) : 0;
    return rc;
}

static int stage_clear(struct store *st, long long id, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STAGE_CLEAR];

    sqlite3_bind_int64(s, 1, id);
    return store_step_done(st, s, err, "discarding the staged tasks of study %lld", id);
}

/* Drops the study's task_counts rows of every generation but `keep` (the visible one):
 * a generation replaced or discarded leaves no rows behind. */
static int
counts_keep_only(struct store *st, long long id, long long keep, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_COUNTS_DROP_OTHERS];

    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, keep);
    return store_step_done(st, s, err, "dropping the old counts of study %lld", id);
}

int store_study_stage(struct store *st,
                      const char *name,
                      long long *id,
                      long long *visible,
                      long long *staged,
                      struct err *err)
{
    const char *what = "preparing a generation";
    sqlite3_stmt *s = st->stmt[ST_STAGE_STUDY];
    long long n;
    int rc;

    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 2, time_now());
    if ((rc = store_step_done(st, s, err, "%s of study '%s'", what, name)) != 0)
        goto out;
    s = st->stmt[ST_STAGE_STUDY_GET];
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        *visible = sqlite3_column_int64(s, 1);
        *staged = *visible + 1;
        rc = 0;
    } else {
        rc = store_fail(st, rc, err, "%s of study '%s'", what, name);
    }
    store_stmt_done(s);
    /* What a preparation that died left behind. */
    if (rc == 0)
        rc = stage_clear(st, *id, err);
    if (rc == 0)
        rc = stage_drop_tasks(st, *id, *visible, LLONG_MAX, &n, err);
    if (rc == 0)
        rc = counts_keep_only(st, *id, *visible, err);
    if (rc == 0) {
        store_seen_clear(st);
        rc = store_names_keep_only(st, *id, *visible, err);
    }
out:
    return store_op_end(st, rc, err, what);
}

int store_task_stage(struct store *st,
                     long long study_id,
                     long long generation,
                     const struct expand_task *t,
                     int cpus,
                     struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STAGE_TASK];
    int rc;

    store_bind_task(s, study_id, generation, t, cpus);
    rc = store_step_done(st, s, err, "storing task %s (#%lld) of study %lld", t->key,
                         t->seq, study_id);
    if (rc != 0)
        return rc;
    if (sqlite3_changes(st->db) > 0) {
        store_counts_note(st, study_id, generation, t->step, t->priority);
        return store_names_note_params(st, study_id, generation, t, err);
    }
    /* A key the study already has (?5 and ?6 are not used). */
    s = st->stmt[ST_STAGE_MOVE];
    store_bind_task(s, study_id, generation, t, cpus);
    rc = store_step_done(st, s, err, "storing task %s (#%lld) of study %lld", t->key,
                         t->seq, study_id);
    return rc ? rc : store_names_note_params(st, study_id, generation, t, err);
}

int store_study_publish(struct store *st,
                        long long id,
                        long long generation,
                        const char *description,
                        const char *spec_path,
                        const char *spec_json,
                        struct err *err)
{
    const char *what = "making the prepared generation visible";
    sqlite3_stmt *s = st->stmt[ST_PUBLISH_TASKS];
    int rc;

    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    sqlite3_bind_int64(s, 1, id);
    if ((rc = store_step_done(st, s, err, "%s of study %lld", what, id)) != 0)
        goto out;
    if ((rc = stage_clear(st, id, err)) != 0)
        goto out;
    if ((rc = counts_keep_only(st, id, generation, err)) != 0)
        goto out;
    s = st->stmt[ST_PUBLISH_STUDY];
    sqlite3_bind_int64(s, 1, id);
    store_bind_text(s, 2, description);
    store_bind_text(s, 3, spec_path);
    store_bind_text(s, 4, spec_json);
    sqlite3_bind_int64(s, 5, generation);
    sqlite3_bind_double(s, 6, time_now());
    rc = store_study_update(st, s, id, err, what);
    if (rc == SWEEP_ENOTFOUND)
        err_prefix(err, "generation %lld was prepared by another process meanwhile",
                   generation);
    if (rc == 0)
        rc = store_names_publish(st, id, generation, err);
out:
    return store_op_end(st, rc, err, what);
}

int store_study_unstage(struct store *st,
                        long long id,
                        long long chunk,
                        struct err *err)
{
    long long visible, n = 0;
    int rc;

    do {
        if ((rc = store_begin(st, err)) != 0)
            return rc;
        rc = store_study_generation(st, id, &visible, err,
                                    "discarding a prepared generation");
        if (rc == 0)
            rc = stage_drop_tasks(st, id, visible, chunk > 0 ? chunk : LLONG_MAX, &n,
                                  err);
        if (rc == 0 && n == 0)
            rc = stage_clear(st, id, err);
        if (rc == 0 && n == 0)
            rc = counts_keep_only(st, id, visible, err);
        if (rc == 0 && n == 0) {
            sqlite3_stmt *d = st->stmt[ST_STAGE_DROP_STUDY];
            sqlite3_bind_int64(d, 1, id);
            rc = store_step_done(st, d, err, "discarding study %lld", id);
        }
        if (rc == 0)
            rc = store_commit(st, err);
        if (rc != 0)
            store_rollback(st);
    } while (rc == 0 && n > 0);
    return rc == SWEEP_ENOTFOUND ? 0 : rc;
}
