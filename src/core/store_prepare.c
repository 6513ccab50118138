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

/* Binds a task's id to parameter i: NULL (the next free id) when it is not > 0. */
static void bind_id(sqlite3_stmt *s, int i, long long id)
{
    if (id > 0)
        sqlite3_bind_int64(s, i, id);
    else
        sqlite3_bind_null(s, i);
}

/* Inserts the task into the staged generation with the given id (0: the next free
 * one) and counts it; *inserted is false when its id or key was taken. */
static int stage_insert(struct store *st,
                        long long study_id,
                        long long generation,
                        const struct expand_task *t,
                        int cpus,
                        long long id,
                        bool *inserted,
                        struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STAGE_TASK];
    int rc;

    store_bind_task(s, study_id, generation, t, cpus);
    bind_id(s, 12, id);
    rc = store_step_done(st, s, err, "storing task %s (#%lld) of study %lld", t->key,
                         t->seq, study_id);
    *inserted = rc == 0 && sqlite3_changes(st->db) > 0;
    if (*inserted)
        store_counts_note(st, study_id, generation, t->step, t->priority);
    return rc;
}

/* Where the study's row of the task's key is: *gen is 0 when it has none. */
static int stage_find(struct store *st,
                      long long study_id,
                      const struct expand_task *t,
                      long long *gen,
                      long long *seq,
                      struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STAGE_FIND];
    int rc;

    *gen = 0;
    *seq = -1;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_text(s, 2, t->key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *gen = sqlite3_column_int64(s, 0);
        *seq = sqlite3_column_int64(s, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = 0;
    } else {
        rc = store_fail(st, rc, err, "storing task %s (#%lld) of study %lld", t->key,
                        t->seq, study_id);
    }
    store_stmt_done(s);
    return rc;
}

/* A task whose insert stored nothing, its key's row being in generation `gen`: a key
 * of an earlier generation keeps its row and waits in task_stage (ST_STAGE_MOVE); a
 * key in no row (the task's id was taken) is inserted with the next free id; a key
 * repeated in the expansion keeps its first place. */
static int stage_place(struct store *st,
                       long long study_id,
                       long long generation,
                       const struct expand_task *t,
                       int cpus,
                       long long gen,
                       struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STAGE_MOVE];
    bool inserted;

    if (gen == 0)
        return stage_insert(st, study_id, generation, t, cpus, 0, &inserted, err);
    if (gen == generation)
        return 0;
    store_bind_task(s, study_id, generation, t, cpus);
    return store_step_done(st, s, err, "storing task %s (#%lld) of study %lld", t->key,
                           t->seq, study_id);
}

/* stage_insert() with the given id (0: the next free one), else stage_place(). */
static int stage_one(struct store *st,
                     long long study_id,
                     long long generation,
                     const struct expand_task *t,
                     int cpus,
                     long long id,
                     struct err *err)
{
    long long gen, seq;
    bool inserted;
    int rc = stage_insert(st, study_id, generation, t, cpus, id, &inserted, err);

    if (rc == 0 && !inserted &&
        (rc = stage_find(st, study_id, t, &gen, &seq, err)) == 0)
        rc = stage_place(st, study_id, generation, t, cpus, gen, err);
    return rc ? rc : store_names_note_params(st, study_id, generation, t, err);
}

int store_task_stage(struct store *st,
                     long long study_id,
                     long long generation,
                     const struct expand_task *t,
                     int cpus,
                     struct err *err)
{
    return stage_one(st, study_id, generation, t, cpus, 0, err);
}

int store_task_next_id(struct store *st, long long *id, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_TASK_NEXT_ID];
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        rc = store_fail(st, rc, err, "finding the next task id");
    }
    store_stmt_done(s);
    return rc;
}

/* Binds the task to parameters base + 1 .. base + 12 of ST_STAGE_BATCH (the columns
 * of store_bind_task(), then the id: NULL for the next free one). */
static void stage_bind(sqlite3_stmt *s,
                       int base,
                       long long study_id,
                       long long generation,
                       const struct expand_task *t,
                       long long id)
{
    sqlite3_bind_int64(s, base + 1, study_id);
    sqlite3_bind_text(s, base + 2, t->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, base + 3, t->seq);
    sqlite3_bind_int64(s, base + 4, generation);
    store_bind_text(s, base + 5, t->params_json);
    sqlite3_bind_int(s, base + 6, t->repetition);
    sqlite3_bind_int64(s, base + 7, t->seed);
    sqlite3_bind_int(s, base + 8, t->priority);
    sqlite3_bind_int(s, base + 9, t->cpus);
    sqlite3_bind_int(s, base + 10, t->step);
    sqlite3_bind_int64(s, base + 11, t->chain);
    bind_id(s, base + 12, id);
}

/* After a batch that did not insert every row: each task's row is counted when the
 * batch inserted it (its key is in the staged generation at its seq), else placed
 * (stage_place()). */
static int stage_settle(struct store *st,
                        long long study_id,
                        long long generation,
                        const struct expand_task *t,
                        struct err *err)
{
    long long gen, seq;
    int rc = stage_find(st, study_id, t, &gen, &seq, err);

    if (rc != 0)
        return rc;
    if (gen == generation && seq == t->seq) {
        store_counts_note(st, study_id, generation, t->step, t->priority);
        return 0;
    }
    return stage_place(st, study_id, generation, t, t->cpus, gen, err);
}

int store_task_stage_batch(struct store *st,
                           long long study_id,
                           long long generation,
                           const struct expand_task *t,
                           size_t n,
                           const long long *id_base,
                           struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STAGE_BATCH];
    int rc = 0;

    if (n != STORE_STAGE_BATCH) {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = stage_one(st, study_id, generation, &t[i], t[i].cpus,
                           id_base ? *id_base + t[i].seq : 0, err);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        stage_bind(s, 12 * (int)i, study_id, generation, &t[i],
                   id_base ? *id_base + t[i].seq : 0);
    rc = store_step_done(st, s, err, "storing tasks %s.. (#%lld..) of study %lld",
                         t[0].key, t[0].seq, study_id);
    if (rc != 0)
        return rc;
    if ((size_t)sqlite3_changes(st->db) == n) {
        for (size_t i = 0; i < n; i++)
            store_counts_note(st, study_id, generation, t[i].step, t[i].priority);
    } else {
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = stage_settle(st, study_id, generation, &t[i], err);
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = store_names_note_params(st, study_id, generation, &t[i], err);
    return rc;
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
