/* The tasks of the store (store.h): storing a task, resetting a study, the pending
 * queue, the per-task writers of a run (store_task_started(), store_task_finished(),
 * with the attempt rows they open and close and the task's metrics rows), the
 * counts of a study, the task queries, and resolving a task's name. The counts in
 * task_counts of the changes of state they make are noted here and added at the
 * commit (store.c). */
#include "store_int.h"

#include "common/jsonx.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The per-task writers of a run (store_task_started(), store_task_finished()) take a
 * savepoint only outside a transaction, where it is their transaction: inside the
 * caller's one (a scheduler tick) a savepoint would cost two statements and a copy of
 * each page changed, for failures that make the caller roll the whole transaction
 * back anyway. Their statements are ordered so that the expected failures (not
 * pending, no such attempt, a constraint) change nothing. *own tells hot_end()
 * whether there is a savepoint to end. */
static int hot_begin(struct store *st, bool *own, struct err *err, const char *what)
{
    *own = sqlite3_get_autocommit(st->db) != 0;
    return *own ? store_op_begin(st, err, what) : 0;
}

/* Outside a transaction, the changes of state counted by the store go into
 * task_counts before the savepoint (the transaction) ends. */
static int
hot_end(struct store *st, bool own, int rc, struct err *err, const char *what)
{
    if (!own)
        return rc;
    if (rc == 0)
        rc = store_counts_flush(st, err);
    st->nadded = 0;
    return store_op_end(st, rc, err, what);
}

/* ---- metrics rows ---- */

struct metric_put {
    struct store *st;
    sqlite3_stmt *put; /* METRIC_PUT_SQL */
    long long task_id;
    struct err *err;
};

/* One metrics row for a number, boolean or string leaf; arrays and null are left out,
 * as aggregate.h describes. */
static int metric_put(const char *name, const json_t *v, void *arg)
{
    const struct metric_put *m = arg;
    sqlite3_stmt *put = m->put;

    if (!json_is_number(v) && !json_is_boolean(v) && !json_is_string(v))
        return 0;
    sqlite3_bind_int64(put, 1, m->task_id);
    sqlite3_bind_text(put, 2, name, -1, SQLITE_STATIC);
    if (json_is_string(v)) {
        sqlite3_bind_null(put, 3);
        sqlite3_bind_text(put, 4, json_string_value(v), (int)json_string_length(v),
                          SQLITE_STATIC);
    } else {
        sqlite3_bind_double(
            put, 3, json_is_number(v) ? json_number_value(v) : (double)json_is_true(v));
        sqlite3_bind_null(put, 4);
    }
    return store_step_done(m->st, put, m->err, "storing metric '%s' of task %lld", name,
                           m->task_id);
}

/* Adds the metrics rows of one task from its metrics object m: none when it is NULL
 * or not an object. */
static int metrics_fill_json(struct store *st,
                             sqlite3_stmt *put,
                             long long task_id,
                             const json_t *m,
                             struct err *err)
{
    struct metric_put mp = {st, put, task_id, err};

    return json_is_object(m) ? jsonx_walk_leaves(m, metric_put, &mp) : 0;
}

/* The same from its metrics JSON: none when it is NULL or not JSON. */
int store_metrics_fill(struct store *st,
                       sqlite3_stmt *put,
                       long long task_id,
                       const char *metrics_json,
                       struct err *err)
{
    json_t *m = metrics_json ? json_loads(metrics_json, 0, NULL) : NULL;
    int rc = metrics_fill_json(st, put, task_id, m, err);

    json_decref(m);
    return rc;
}

/* Binds the columns of an inserted task (?1 .. ?11 of ST_TASK_PUT). */
void store_bind_task(sqlite3_stmt *s,
                     long long study_id,
                     long long generation,
                     const struct expand_task *t,
                     int cpus)
{
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_text(s, 2, t->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, t->seq);
    sqlite3_bind_int64(s, 4, generation);
    store_bind_text(s, 5, t->params_json);
    sqlite3_bind_int(s, 6, t->repetition);
    sqlite3_bind_int64(s, 7, t->seed);
    sqlite3_bind_int(s, 8, t->priority);
    sqlite3_bind_int(s, 9, cpus);
    sqlite3_bind_int(s, 10, t->step);
    sqlite3_bind_int64(s, 11, t->chain);
}

/* ---- tasks ---- */

void store_task_from_row(sqlite3_stmt *s, struct store_task *t)
{
    const unsigned char *key = sqlite3_column_text(s, 2);

    t->id = sqlite3_column_int64(s, 0);
    t->study_id = sqlite3_column_int64(s, 1);
    snprintf(t->key, sizeof(t->key), "%s", key ? (const char *)key : "");
    t->seq = sqlite3_column_int64(s, 3);
    t->params_json = store_column_strdup(s, 4);
    t->repetition = sqlite3_column_int(s, 5);
    t->seed = sqlite3_column_int64(s, 6);
    t->priority = sqlite3_column_int(s, 7);
    t->cpus = sqlite3_column_int(s, 8);
    t->state = (enum task_state)sqlite3_column_int(s, 9);
    t->attempts = sqlite3_column_int(s, 10);
    t->exit_code = sqlite3_column_int(s, 11);
    t->signal = sqlite3_column_int(s, 12);
    t->wall = sqlite3_column_double(s, 13);
    t->user = sqlite3_column_double(s, 14);
    t->sys = sqlite3_column_double(s, 15);
    t->maxrss_kb = (long)sqlite3_column_int64(s, 16);
    t->started_at = sqlite3_column_double(s, 17);
    t->finished_at = sqlite3_column_double(s, 18);
    t->not_before = sqlite3_column_double(s, 19);
    t->error = store_column_strdup(s, 20);
    t->metrics_json = store_column_strdup(s, 21);
    t->step = sqlite3_column_int(s, 22);
    t->chain = sqlite3_column_int64(s, 23);
}

void store_task_fini(struct store_task *t)
{
    if (!t)
        return;
    free(t->params_json);
    free(t->error);
    free(t->metrics_json);
    memset(t, 0, sizeof(*t));
}

int store_task_put(struct store *st,
                   long long study_id,
                   long long generation,
                   const struct expand_task *t,
                   int cpus,
                   struct err *err)
{
    const char *what = "storing a task";
    sqlite3_stmt *s = st->stmt[ST_STAGE_TASK];
    int rc;

    /* A new key is inserted and counted at once; a known one joins the generation. */
    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    store_bind_task(s, study_id, generation, t, cpus);
    rc = store_step_done(st, s, err, "storing task %s (#%lld) of study %lld", t->key,
                         t->seq, study_id);
    if (rc == 0 && sqlite3_changes(st->db) > 0) {
        store_counts_note(st, study_id, generation, t->step, t->priority);
        rc = store_counts_flush(st, err);
    } else if (rc == 0) {
        s = st->stmt[ST_TASK_PUT];
        store_bind_task(s, study_id, generation, t, cpus);
        rc = store_step_done(st, s, err, "storing task %s (#%lld) of study %lld",
                             t->key, t->seq, study_id);
    }
    if (rc == 0)
        rc = store_names_note_params(st, study_id, generation, t, err);
    return store_op_end(st, rc, err, what);
}

int store_study_reset(struct store *st,
                      long long study_id,
                      long long generation,
                      enum store_rerun rerun,
                      long long *pending,
                      struct err *err)
{
    bool untried = rerun == STORE_RERUN_UNTRIED;
    static const char why[] = "interrupted: the run that started it ended without "
                              "recording a result";
    const char *what = "preparing the run";
    sqlite3_stmt *s;
    int rc;

    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    s = st->stmt[ST_RESET_ATTEMPTS];
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_text(s, 3, why, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 4, time_now());
    store_bind_text(s, 5, st->owner);
    if ((rc = store_step_done(st, s, err, "%s of study %lld: attempts", what,
                              study_id)) != 0)
        goto out;
    s = st->stmt[ST_RESET_RUNNING];
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_text(s, 3, why, -1, SQLITE_STATIC);
    if ((rc = store_step_done(st, s, err, "%s of study %lld: running tasks", what,
                              study_id)) != 0)
        goto out;
    if (rerun != STORE_RERUN_NONE) {
        s = st->stmt[ST_RESET_TO_PENDING];
        sqlite3_bind_int64(s, 1, study_id);
        sqlite3_bind_int64(s, 2, generation);
        sqlite3_bind_int(s, 3,
                         rerun == STORE_RERUN_ALL ? TASK_SUCCEEDED : TASK_CANCELLED);
        sqlite3_bind_int(s, 4, untried ? TASK_CANCELLED : TASK_FAILED);
        sqlite3_bind_int(s, 5, untried ? TASK_CANCELLED : TASK_TIMED_OUT);
        if ((rc = store_step_done(st, s, err, "%s of study %lld: tasks to rerun", what,
                                  study_id)) != 0)
            goto out;
    }
    for (int i = 0; i < 3; i++) {
        static const enum stmt_id then[3] = {ST_RESET_WAITING, ST_RESET_SKIP_FAILED,
                                             ST_RESET_REDUCE};
        if (then[i] == ST_RESET_SKIP_FAILED && !untried)
            continue;
        s = st->stmt[then[i]];
        sqlite3_bind_int64(s, 1, study_id);
        sqlite3_bind_int64(s, 2, generation);
        if ((rc = store_step_done(st, s, err, "%s of study %lld: waiting steps", what,
                                  study_id)) != 0)
            goto out;
    }
    s = st->stmt[ST_COUNT_PENDING];
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *pending = sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        rc = store_fail(st, rc, err, "%s of study %lld: counting", what, study_id);
    }
    store_stmt_done(s);
out:
    return store_op_end(st, rc, err, what);
}

/* The priority range of a band (0 = every priority). */
static int band_range(int band, int *lo, int *hi, struct err *err)
{
    switch (band) {
    case 0:
        *lo = INT_MIN, *hi = INT_MAX;
        return 0;
    case PRIORITY_LOW:
        *lo = INT_MIN, *hi = PRIORITY_LOW;
        return 0;
    case PRIORITY_MEDIUM:
        *lo = *hi = PRIORITY_MEDIUM;
        return 0;
    case PRIORITY_HIGH:
        *lo = PRIORITY_HIGH, *hi = INT_MAX;
        return 0;
    }
    return err_set(err, SWEEP_EINVAL, "unknown priority band %d", band);
}

int store_task_next_pending(struct store *st,
                            long long study_id,
                            long long generation,
                            int band,
                            int *cursor_priority,
                            long long *cursor_seq,
                            int limit,
                            store_task_fn *fn,
                            void *arg,
                            struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_NEXT_PENDING];
    struct store_task *batch;
    int lo = 0, hi = 0, n = 0, rc = SQLITE_DONE;

    if (band_range(band, &lo, &hi, err) != 0)
        return -1;
    if (limit <= 0)
        return 0;
    batch = xcalloc((size_t)limit, sizeof(*batch));
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_int(s, 3, *cursor_priority);
    sqlite3_bind_int64(s, 4, *cursor_seq);
    sqlite3_bind_int(s, 5, lo);
    sqlite3_bind_int(s, 6, hi);
    sqlite3_bind_int(s, 7, limit);
    while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
        store_task_from_row(s, &batch[n++]);
    if (n < limit && rc != SQLITE_DONE) {
        store_fail(st, rc, err, "reading the pending tasks of study %lld", study_id);
        store_stmt_done(s);
        for (int i = 0; i < n; i++)
            store_task_fini(&batch[i]);
        free(batch);
        return -1;
    }
    store_stmt_done(s);
    /* fn runs after the statement is reset, so it may write to the store. */
    int passed = 0;
    while (passed < n) {
        struct store_task *t = &batch[passed++];
        *cursor_priority = t->priority;
        *cursor_seq = t->seq;
        if (fn(t, arg))
            break;
    }
    for (int i = 0; i < n; i++)
        store_task_fini(&batch[i]);
    free(batch);
    return passed;
}

/* Where a task is: its group in task_counts and its place in expansion order. */
struct task_place {
    long long study_id, generation, seq;
    int step;
};

/* Runs an UPDATE of one task (task_id) whose change of state the store counts: it
 * flips tally (schema_v8_sql) and changes the task only when it is in state `from`.
 * The change to the new state is then noted for the commit (store_counts_add()), from
 * the task's group read back, or, with g (to which the UPDATE was bound, so that it
 * changed nothing in another group), from g and the new state `to` the caller knows.
 * *changed tells whether the task changed. */

static int step_counted(struct store *st,
                        sqlite3_stmt *s,
                        long long task_id,
                        int from,
                        const struct store_task_group *g,
                        int to,
                        bool *changed,
                        struct task_place *place,
                        struct err *err,
                        const char *what)
{
    int rc = store_step_done(st, s, err, "%s of task %lld", what, task_id);

    *changed = rc == 0 && sqlite3_changes(st->db) > 0;
    if (!*changed)
        return rc;
    if (g) {
        /* Changed only in the group g, to the state `to`: nothing to read back. */
        int band = store_count_band(g->priority);
        store_counts_add(st, g->study_id, g->generation, g->step, band, from, -1);
        store_counts_add(st, g->study_id, g->generation, g->step, band, to, 1);
        if (place)
            *place = (struct task_place){g->study_id, g->generation, g->seq, g->step};
        return 0;
    }
    s = st->stmt[ST_TASK_GROUP];
    sqlite3_bind_int64(s, 1, task_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        long long study_id = sqlite3_column_int64(s, 0),
                  generation = sqlite3_column_int64(s, 1);
        int step = sqlite3_column_int(s, 2),
            band = store_count_band(sqlite3_column_int(s, 3));
        store_counts_add(st, study_id, generation, step, band, from, -1);
        store_counts_add(st, study_id, generation, step, band, sqlite3_column_int(s, 4),
                         1);
        if (place)
            *place = (struct task_place){study_id, generation,
                                         sqlite3_column_int64(s, 5), step};
        rc = 0;
    } else {
        rc = store_fail(st, rc == SQLITE_DONE ? SQLITE_ERROR : rc, err,
                        "%s of task %lld: reading it back", what, task_id);
    }
    store_stmt_done(s);
    return rc;
}

/* Binds a store_task_group to ?first..?first+3 (all NULL without one). */
static void bind_group(sqlite3_stmt *s, int first, const struct store_task_group *g)
{
    if (!g)
        return; /* left NULL: store_stmt_done() clears the bindings */
    sqlite3_bind_int64(s, first, g->study_id);
    sqlite3_bind_int64(s, first + 1, g->generation);
    sqlite3_bind_int(s, first + 2, g->step);
    sqlite3_bind_int(s, first + 3, g->priority);
}

/* Steps an UPDATE ... RETURNING study_id, generation, step, seq of one task; *place
 * is left alone when no row changed. */
static int step_placed(struct store *st,
                       sqlite3_stmt *s,
                       long long task_id,
                       struct task_place *place,
                       struct err *err,
                       const char *what)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        *place =
            (struct task_place){sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
                                sqlite3_column_int64(s, 3), sqlite3_column_int(s, 2)};
        rc = sqlite3_step(s);
    }
    rc = rc == SQLITE_DONE ? 0
                           : store_fail(st, rc, err, "%s of task %lld", what, task_id);
    store_stmt_done(s);
    return rc;
}

int store_task_started(struct store *st,
                       long long task_id,
                       int attempt,
                       double started_at,
                       struct err *err)
{
    return store_task_started_in(st, NULL, task_id, attempt, started_at, err);
}

int store_task_started_in(struct store *st,
                          const struct store_task_group *g,
                          long long task_id,
                          int attempt,
                          double started_at,
                          struct err *err)
{
    const char *what = "recording the start";
    sqlite3_stmt *s;
    bool own, changed = false;
    int rc;

    if ((rc = hot_begin(st, &own, err, what)) != 0)
        return rc;
    s = st->stmt[ST_ATTEMPT_OPEN];
    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_int(s, 2, attempt);
    sqlite3_bind_double(s, 3, started_at);
    store_bind_text(s, 4, st->owner);
    sqlite3_bind_double(s, 5, st->owner ? time_now() + st->lease : 0);
    if ((rc = store_step_done(st, s, err, "%s of task %lld, attempt %d", what, task_id,
                              attempt)) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        rc = err_set(err, SWEEP_ENOTFOUND, "%s of task %lld: no such pending task",
                     what, task_id);
        goto out;
    }
    /* With g, then without it when the task is no longer in that group. */
    for (int pass = g ? 0 : 1; pass < 2 && rc == 0 && !changed; pass++) {
        s = st->stmt[ST_TASK_STARTED];
        sqlite3_bind_int64(s, 1, task_id);
        sqlite3_bind_int(s, 2, attempt);
        sqlite3_bind_double(s, 3, started_at);
        bind_group(s, 4, pass == 0 ? g : NULL);
        rc = step_counted(st, s, task_id, TASK_PENDING, pass == 0 ? g : NULL,
                          TASK_RUNNING, &changed, NULL, err, what);
    }
    if (rc == 0 && !changed) /* the attempt was just inserted for a pending task */
        rc = err_set(err, SWEEP_ESTORE, "%s of task %lld: it is no longer pending",
                     what, task_id);
out:
    return hot_end(st, own, rc, err, what);
}

/* Binds the result columns shared by ST_ATTEMPT_CLOSE and ST_TASK_FINISHED (?4..?11).
 */
static void bind_outcome(sqlite3_stmt *s, const struct task_outcome *o)
{
    sqlite3_bind_int(s, 4, o->exit_code);
    sqlite3_bind_int(s, 5, o->signal);
    sqlite3_bind_double(s, 6, o->finished_at);
    sqlite3_bind_double(s, 7, o->wall);
    sqlite3_bind_double(s, 8, o->user);
    sqlite3_bind_double(s, 9, o->sys);
    sqlite3_bind_int64(s, 10, o->maxrss_kb);
    store_bind_text(s, 11, o->error);
}

/* Binds ST_TASK_FINISHED and ST_TASK_FINISHED_ANY. */
static void
bind_task_finished(sqlite3_stmt *s, long long task_id, const struct task_outcome *o)
{
    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_double(s, 2, o->retry_at);
    sqlite3_bind_int(s, 3, (int)o->state);
    bind_outcome(s, o);
    store_bind_text(s, 12, o->metrics_json);
}

/* A result for an attempt that is not open: kept in its row when it was closed
 * without one, else counted; SWEEP_ESTALE (err says which) once recorded, or
 * SWEEP_ENOTFOUND when there is no such attempt. */
static int attempt_stale(struct store *st,
                         long long task_id,
                         int attempt,
                         const struct task_outcome *o,
                         struct err *err)
{
    const char *what = "recording a stale result";
    sqlite3_stmt *s = st->stmt[ST_ATTEMPT_LATE];
    int rc;

    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_int(s, 2, attempt);
    bind_outcome(s, o);
    store_bind_text(s, 12, o->metrics_json);
    if ((rc = store_step_done(st, s, err, "%s of task %lld", what, task_id)) != 0)
        return rc;
    if (sqlite3_changes(st->db) == 0) {
        s = st->stmt[ST_ATTEMPT_STALE];
        sqlite3_bind_int64(s, 1, task_id);
        sqlite3_bind_int(s, 2, attempt);
        if ((rc = store_step_done(st, s, err, "%s of task %lld", what, task_id)) != 0)
            return rc;
        if (sqlite3_changes(st->db) == 0)
            return err_set(err, SWEEP_ENOTFOUND,
                           "recording the end of task %lld: it has no attempt %d",
                           task_id, attempt);
    }
    return err_set(err, SWEEP_ESTALE,
                   "recording the end of task %lld: attempt %d is no longer running; "
                   "its %s result is recorded as stale",
                   task_id, attempt, task_state_name(o->state));
}

int store_task_finished(struct store *st,
                        long long task_id,
                        int attempt,
                        const struct task_outcome *o,
                        struct err *err)
{
    return store_task_finished_in(st, NULL, task_id, attempt, o, err);
}

int store_task_finished_in(struct store *st,
                           const struct store_task_group *g,
                           long long task_id,
                           int attempt,
                           const struct task_outcome *o,
                           struct err *err)
{
    const char *what = "recording the end";
    sqlite3_stmt *s;
    struct task_place place = {.seq = -1};
    struct name_key k;
    bool own, changed = false;
    json_t *m;
    int rc = 0;

    if (!task_state_is_final(o->state))
        return err_set(err, SWEEP_EINVAL, "%s of task %lld: %s is not a final state",
                       what, task_id, task_state_name(o->state));
    if ((rc = hot_begin(st, &own, err, what)) != 0)
        return rc;
    s = st->stmt[ST_ATTEMPT_CLOSE];
    sqlite3_bind_int64(s, 1, task_id);
    sqlite3_bind_int(s, 2, attempt);
    sqlite3_bind_int(s, 3, (int)o->state);
    bind_outcome(s, o);
    if ((rc = store_step_done(st, s, err, "%s of task %lld, attempt %d", what, task_id,
                              attempt)) != 0)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        rc = attempt_stale(st, task_id, attempt, o, err);
        if (rc == SWEEP_ESTALE) {
            /* Recorded: the savepoint is released, and the caller told. */
            rc = hot_end(st, own, 0, err, what);
            return rc ? rc : SWEEP_ESTALE;
        }
        goto out;
    }
    /* With g (and no cancellation requested, so that the new state is known), then
     * without it. */
    for (int pass = g ? 0 : 1; pass < 2 && rc == 0 && !changed; pass++) {
        s = st->stmt[ST_TASK_FINISHED];
        bind_task_finished(s, task_id, o);
        bind_group(s, 13, pass == 0 ? g : NULL);
        rc = step_counted(st, s, task_id, TASK_RUNNING, pass == 0 ? g : NULL,
                          o->retry_at > 0 ? TASK_PENDING : (int)o->state, &changed,
                          &place, err, what);
    }
    if (rc == 0 && !changed) {
        s = st->stmt[ST_TASK_FINISHED_ANY];
        bind_task_finished(s, task_id, o);
        rc = step_placed(st, s, task_id, &place, err, what);
    }
    if (rc != 0)
        goto out;
    /* A first attempt has no metrics rows to replace (attempts count on across runs).
     */
    if (attempt > 1) {
        s = st->stmt[ST_METRICS_CLEAR];
        sqlite3_bind_int64(s, 1, task_id);
        if ((rc = store_step_done(st, s, err, "%s of task %lld: metrics", what,
                                  task_id)) != 0)
            goto out;
    }
    m = o->metrics_json ? json_loads(o->metrics_json, 0, NULL) : NULL;
    rc = metrics_fill_json(st, st->stmt[ST_METRIC_PUT], task_id, m, err);
    if (rc == 0 && place.seq >= 0) {
        k = (struct name_key){place.study_id, place.generation, 1, place.step};
        rc = store_names_note_metrics(st, st->stmt[ST_NAME_NOTE], &k, place.seq,
                                      task_id, m, err);
    }
    json_decref(m);
out:
    return hot_end(st, own, rc, err, what);
}

int store_study_counts(struct store *st,
                       long long study_id,
                       long long counts[3][TASK_NSTATES],
                       struct err *err)
{
    const char *what = "counting tasks";
    sqlite3_stmt *s = st->stmt[ST_COUNT_RANGE];
    long long generation;
    int rc;

    memset(counts, 0, sizeof(long long[3][TASK_NSTATES]));
    /* The counts of this transaction's changes first (store_commit() would). */
    if ((rc = store_counts_flush(st, err)) != 0)
        return rc;
    /* The savepoint holds one read snapshot for the generation and its counts. */
    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    if ((rc = store_study_generation(st, study_id, &generation, err, what)) != 0)
        goto out;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int band = sqlite3_column_int(s, 0), state = sqlite3_column_int(s, 1);
        if (band >= 0 && band < 3 && state >= 0 && state < TASK_NSTATES)
            counts[band][state] += sqlite3_column_int64(s, 2);
    }
    rc = rc == SQLITE_DONE
             ? 0
             : store_fail(st, rc, err, "%s of study %lld", what, study_id);
    store_stmt_done(s);
out:
    if (rc != 0)
        memset(counts, 0, sizeof(long long[3][TASK_NSTATES]));
    return store_op_end(st, rc, err, what);
}

/* Streams the rows of a task query to fn; stops early when fn returns non-zero. */
int store_task_rows(struct store *st,
                    sqlite3_stmt *s,
                    store_task_fn *fn,
                    void *arg,
                    struct err *err,
                    const char *what,
                    long long study_id)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_task t;
        store_task_from_row(s, &t);
        int stop = fn(&t, arg);
        store_task_fini(&t);
        if (stop) {
            rc = SQLITE_DONE;
            break;
        }
    }
    rc = rc == SQLITE_DONE
             ? 0
             : store_fail(st, rc, err, "%s of study %lld", what, study_id);
    store_stmt_done(s);
    return rc;
}

/* ---- listing tasks (store_task_each, store_task_page, store_task_count) ---- */

/* The ids of a page in expansion order, from tasks_order: ?3 is the first seq, ?8 the
 * rows skipped after it. Without a state or priority condition the index alone
 * answers (it holds the id); with one, each row passed costs a lookup. */
#define PAGE_SQL                                                                       \
    "SELECT id FROM tasks INDEXED BY tasks_order WHERE study_id = ?1"                  \
    " AND generation = ?2 AND seq >= ?3 AND (?4 < 0 OR state = ?4)"                    \
    " AND priority BETWEEN ?5 AND ?6 ORDER BY seq LIMIT ?7 OFFSET ?8"
/* The same for few tasks in a state (few_in_state()): from their range of
 * tasks_queue, sorted. */
#define PAGE_FEW_SQL                                                                   \
    "SELECT id FROM tasks INDEXED BY tasks_queue WHERE study_id = ?1"                  \
    " AND generation = ?2 AND state = ?4 AND seq >= ?3"                                \
    " AND priority BETWEEN ?5 AND ?6 ORDER BY seq LIMIT ?7 OFFSET ?8"
/* The first and last seq of a generation: two seeks in tasks_order. */
#define ENDS_SQL                                                                       \
    "SELECT (SELECT seq FROM tasks INDEXED BY tasks_order WHERE study_id = ?1"         \
    " AND generation = ?2 ORDER BY seq LIMIT 1), (SELECT seq FROM tasks"               \
    " INDEXED BY tasks_order WHERE study_id = ?1 AND generation = ?2"                  \
    " ORDER BY seq DESC LIMIT 1)"
#define COUNT_SQL                                                                      \
    "SELECT count(*) FROM tasks WHERE study_id = ?1 AND generation = ?2"               \
    " AND (?3 < 0 OR state = ?3) AND priority BETWEEN ?4 AND ?5"

/* Runs a one-row query prepared for this call with study_id and generation bound as
 * ?1, ?2 and the integers v[0..nv) as ?3...; its columns to out[0..nout) (NULL: -1). */
static int one_row(struct store *st,
                   const char *sql,
                   long long study_id,
                   long long generation,
                   const long long *v,
                   int nv,
                   long long *out,
                   int nout,
                   struct err *err,
                   const char *what)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

    if (rc != SQLITE_OK)
        return store_fail(st, rc, err, "%s of study %lld: prepare", what, study_id);
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    for (int i = 0; i < nv; i++)
        sqlite3_bind_int64(s, 3 + i, v[i]);
    rc = sqlite3_step(s);
    for (int i = 0; i < nout; i++)
        out[i] = rc == SQLITE_ROW && sqlite3_column_type(s, i) != SQLITE_NULL
                     ? sqlite3_column_int64(s, i)
                     : -1;
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE
             ? 0
             : store_fail(st, rc, err, "%s of study %lld", what, study_id);
    sqlite3_finalize(s);
    return rc;
}

/* The band (0 LOW, 1 MEDIUM, 2 HIGH) whose priorities are exactly lo..hi, 3 for every
 * priority, -1 for another range. */
static int band_of_range(int lo, int hi)
{
    if (lo == INT_MIN && hi == INT_MAX)
        return 3;
    if (lo == INT_MIN && hi == PRIORITY_LOW)
        return 0;
    if (lo == PRIORITY_MEDIUM && hi == PRIORITY_MEDIUM)
        return 1;
    if (lo == PRIORITY_HIGH && hi == INT_MAX)
        return 2;
    return -1;
}

/* store_task_count() inside the caller's savepoint. */
static int count_in(struct store *st,
                    long long study_id,
                    long long generation,
                    int state,
                    int prio_lo,
                    int prio_hi,
                    long long *n,
                    struct err *err)
{
    long long counts[3][TASK_NSTATES],
        v[3] = {state < 0 ? -1 : state, prio_lo, prio_hi};
    int band = band_of_range(prio_lo, prio_hi), rc;

    *n = 0;
    if (band < 0) /* an exact priority: no kept count, a scan of the generation */
        return one_row(st, COUNT_SQL, study_id, generation, v, 3, n, 1, err,
                       "counting tasks");
    if ((rc = store_study_counts(st, study_id, counts, err)) != 0)
        return rc;
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TASK_NSTATES; i++)
            if ((band == 3 || band == b) && (state < 0 || state == i))
                *n += counts[b][i];
    return 0;
}

/* Whether the tasks in the state (and priority range) are few, an eighth of the
 * generation at most, as the kept counts tell: they are then found in tasks_queue and
 * sorted (O(those tasks)) rather than passed over in expansion order (O(the
 * generation)), so that `--state failed` of a large study that mostly succeeded
 * answers at once. Never for every state or an exact priority (no kept count). */
static int few_in_state(struct store *st,
                        long long study_id,
                        long long generation,
                        int state,
                        int prio_lo,
                        int prio_hi,
                        bool *few,
                        struct err *err)
{
    long long in_state, all;
    int rc;

    *few = false;
    if (state < 0 || band_of_range(prio_lo, prio_hi) < 0)
        return 0;
    if ((rc = count_in(st, study_id, generation, state, prio_lo, prio_hi, &in_state,
                       err)) != 0 ||
        (rc = count_in(st, study_id, generation, -1, INT_MIN, INT_MAX, &all, err)) != 0)
        return rc;
    *few = in_state * 8 <= all;
    return 0;
}

int store_task_each(struct store *st,
                    long long study_id,
                    int state,
                    store_task_fn *fn,
                    void *arg,
                    struct err *err)
{
    const char *what = "listing tasks";
    sqlite3_stmt *s = st->stmt[ST_TASK_EACH];
    long long generation;
    bool few = false;
    int rc;

    if ((rc = store_study_generation(st, study_id, &generation, err, what)) != 0 ||
        (rc = few_in_state(st, study_id, generation, state, INT_MIN, INT_MAX, &few,
                           err)) != 0)
        return rc;
    if (few)
        s = st->stmt[ST_TASK_EACH_FEW];
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_int(s, 3, state < 0 ? -1 : state);
    return store_task_rows(st, s, fn, arg, err, what, study_id);
}

int store_task_count(struct store *st,
                     long long study_id,
                     int state,
                     int prio_lo,
                     int prio_hi,
                     long long *n,
                     struct err *err)
{
    const char *what = "counting tasks";
    long long generation;
    int rc;

    *n = 0;
    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    rc = store_study_generation(st, study_id, &generation, err, what);
    if (rc == 0)
        rc = count_in(st, study_id, generation, state, prio_lo, prio_hi, n, err);
    return store_op_end(st, rc, err, what);
}

int store_task_page(struct store *st,
                    long long study_id,
                    int state,
                    int prio_lo,
                    int prio_hi,
                    long long offset,
                    long long limit,
                    store_task_fn *fn,
                    void *arg,
                    struct err *err)
{
    const char *what = "listing a page of tasks";
    long long generation, ends[2], total, *ids = NULL, nids = 0;
    size_t cap = 0;
    sqlite3_stmt *s = NULL;
    bool few = false;
    int rc;

    if (limit <= 0)
        return 0;
    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    if ((rc = store_study_generation(st, study_id, &generation, err, what)) != 0)
        goto out;
    /* Every task, and the seqs of the generation without a gap: the page starts at
     * seq first + offset, found by a seek. Else the offset is stepped over. */
    if (state < 0 && band_of_range(prio_lo, prio_hi) == 3) {
        if ((rc = one_row(st, ENDS_SQL, study_id, generation, NULL, 0, ends, 2, err,
                          what)) != 0 ||
            (rc = count_in(st, study_id, generation, -1, INT_MIN, INT_MAX, &total,
                           err)) != 0)
            goto out;
        if (ends[0] >= 0 && ends[1] - ends[0] + 1 == total) {
            if (offset >= total)
                goto out;
            ends[0] += offset;
            offset = 0;
        }
    } else {
        ends[0] = LLONG_MIN;
        if ((rc = few_in_state(st, study_id, generation, state, prio_lo, prio_hi, &few,
                               err)) != 0)
            goto out;
    }
    rc = sqlite3_prepare_v2(st->db, few ? PAGE_FEW_SQL : PAGE_SQL, -1, &s, NULL);
    if (rc != SQLITE_OK) {
        rc = store_fail(st, rc, err, "%s of study %lld: prepare", what, study_id);
        goto out;
    }
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_int64(s, 3, ends[0] < 0 ? LLONG_MIN : ends[0]);
    sqlite3_bind_int(s, 4, state < 0 ? -1 : state);
    sqlite3_bind_int(s, 5, prio_lo);
    sqlite3_bind_int(s, 6, prio_hi);
    sqlite3_bind_int64(s, 7, limit);
    sqlite3_bind_int64(s, 8, offset);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ids = xgrow(ids, &cap, (size_t)nids + 1, sizeof(*ids));
        ids[nids++] = sqlite3_column_int64(s, 0);
    }
    rc = rc == SQLITE_DONE
             ? 0
             : store_fail(st, rc, err, "%s of study %lld", what, study_id);
    sqlite3_finalize(s);
    /* Each row by its id (ST_NAME_ID: the task's columns, then its study's name). */
    for (long long i = 0; i < nids && rc == 0; i++) {
        struct store_task t;
        int stop;

        s = st->stmt[ST_NAME_ID];
        sqlite3_bind_int64(s, 1, ids[i]);
        sqlite3_bind_int64(s, 2, study_id);
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) { /* not in this snapshot: cannot happen, skipped */
            store_stmt_done(s);
            rc = 0;
            continue;
        }
        if (rc != SQLITE_ROW) {
            rc = store_fail(st, rc, err, "%s of study %lld", what, study_id);
            store_stmt_done(s);
            break;
        }
        store_task_from_row(s, &t);
        store_stmt_done(s);
        rc = 0;
        stop = fn(&t, arg);
        store_task_fini(&t);
        if (stop)
            break;
    }
out:
    free(ids);
    return store_op_end(st, rc, err, what);
}

int store_task_in_state(struct store *st,
                        long long study_id,
                        enum task_state state,
                        int limit,
                        store_task_fn *fn,
                        void *arg,
                        struct err *err)
{
    const char *what = "listing tasks by state";
    sqlite3_stmt *s = st->stmt[ST_TASK_IN_STATE];
    long long generation;
    int rc;

    if ((rc = store_study_generation(st, study_id, &generation, err, what)) != 0)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_int(s, 3, (int)state);
    sqlite3_bind_int(s, 4, limit);
    return store_task_rows(st, s, fn, arg, err, what, study_id);
}

int store_task_find(struct store *st,
                    long long study_id,
                    const char *key_prefix,
                    struct store_task *out,
                    struct err *err)
{
    char lo[EXPAND_KEY_LEN + 1], hi[EXPAND_KEY_LEN + 1];
    size_t n = strlen(key_prefix);
    sqlite3_stmt *s;
    int rc;

    memset(out, 0, sizeof(*out));
    if (n < 4 || n > EXPAND_KEY_LEN)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        char c = key_prefix[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            goto bad;
        lo[i] = hi[i] = c;
    }
    lo[n] = hi[n] = '\0';
    hi[n - 1]++; /* keys with the prefix are exactly those in [lo, hi) */
    s = st->stmt[study_id ? ST_FIND_IN_STUDY : ST_FIND_ANY];
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_text(s, 2, lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, hi, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        rc = err_set(err, SWEEP_ENOTFOUND, "no task with key %s'%s'%s",
                     n < EXPAND_KEY_LEN ? "prefix " : "", key_prefix,
                     study_id ? " in this study" : "");
    } else if (rc != SQLITE_ROW) {
        rc = store_fail(st, rc, err, "finding task '%s'", key_prefix);
    } else {
        store_task_from_row(s, out);
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) {
            rc = 0;
        } else if (rc == SQLITE_ROW) {
            rc =
                err_set(err, SWEEP_EINVAL,
                        "task key prefix '%s' is ambiguous: it matches %s and %s (give "
                        "more digits)",
                        key_prefix, out->key, (const char *)sqlite3_column_text(s, 2));
        } else {
            rc = store_fail(st, rc, err, "finding task '%s'", key_prefix);
        }
    }
    store_stmt_done(s);
    if (rc != 0)
        store_task_fini(out);
    return rc;
bad:
    return err_set(err, SWEEP_EINVAL,
                   "'%s' is not a task key: expected 4 to %d hex digits", key_prefix,
                   EXPAND_KEY_LEN);
}

/* ---- task names ---- */

#define NAME_MAX_LISTED 10 /* matches an ambiguity error lists */

struct name_match {
    struct store_task t;
    char *study;
};

struct name_matches {
    struct name_match v[NAME_MAX_LISTED + 1];
    size_t n;
    bool more; /* more matched than v holds */
};

static void name_matches_fini(struct name_matches *m)
{
    for (size_t i = 0; i < m->n; i++) {
        store_task_fini(&m->v[i].t);
        free(m->v[i].study);
    }
}

/* Adds the rows of s (TASK_COLS then the study's name). */
static int name_collect(struct store *st,
                        sqlite3_stmt *s,
                        struct name_matches *m,
                        const char *name,
                        struct err *err)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (m->n == NAME_MAX_LISTED + 1) {
            m->more = true;
            continue;
        }
        store_task_from_row(s, &m->v[m->n].t);
        m->v[m->n++].study = store_column_strdup(s, 24);
    }
    if (rc != SQLITE_DONE)
        rc = store_fail(st, rc, err, "finding task '%s'", name);
    else
        rc = SWEEP_OK;
    store_stmt_done(s);
    return rc;
}

/* A decimal task id: digits without a leading zero, at most 18. */
static bool name_is_id(const char *s, long long *id)
{
    size_t n = strlen(s);

    if (n == 0 || n > 18 || s[0] == '0' || strspn(s, "0123456789") != n)
        return false;
    *id = strtoll(s, NULL, 10);
    return true;
}

/* A key prefix: 4 to EXPAND_KEY_LEN hex digits; lo and hi bound the keys having it. */
static bool
name_is_key(const char *s, char lo[EXPAND_KEY_LEN + 1], char hi[EXPAND_KEY_LEN + 1])
{
    size_t n = strlen(s);

    if (n < 4 || n > EXPAND_KEY_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        lo[i] = hi[i] = c;
    }
    lo[n] = hi[n] = '\0';
    hi[n - 1]++; /* keys with the prefix are exactly those in [lo, hi) */
    return true;
}

int store_task_resolve(struct store *st,
                       long long study_id,
                       const char *name,
                       struct store_task *out,
                       char **study,
                       struct err *err)
{
    struct name_matches m = {0};
    struct store_study sd = {0};
    const char *slash = strchr(name, '/'), *k = slash ? slash + 1 : name;
    char lo[EXPAND_KEY_LEN + 1], hi[EXPAND_KEY_LEN + 1], in[160] = "";
    bool is_id, is_key;
    long long id = 0;
    int rc = SWEEP_OK;

    memset(out, 0, sizeof(*out));
    if (study)
        *study = NULL;
    if (slash) {
        char *sname = xstrndup(name, (size_t)(slash - name));
        rc = store_study_get(st, sname, &sd, err);
        free(sname);
        if (rc)
            goto out;
        if (study_id && study_id != sd.id) {
            rc = err_set(err, SWEEP_EINVAL, "'%s' names study %s, not the one given",
                         name, sd.name);
            goto out;
        }
        study_id = sd.id;
    }
    is_id = name_is_id(k, &id);
    is_key = name_is_key(k, lo, hi);
    if (!is_id && !is_key) {
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "'%s' is not a task: expected a task id (as in 'sweep results'), "
                     "4 to %d hex digits of a task key, or STUDY/KEY",
                     name, EXPAND_KEY_LEN);
        goto out;
    }
    if (is_id) {
        sqlite3_stmt *s = st->stmt[ST_NAME_ID];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, study_id);
        if ((rc = name_collect(st, s, &m, name, err)) != 0)
            goto out;
    }
    /* An exact match (the id) wins over key prefixes, as docker prefers a name to an
     * id prefix: a number never names two tasks. */
    if (is_key && m.n == 0) {
        sqlite3_stmt *s = st->stmt[ST_NAME_KEY];
        sqlite3_bind_int64(s, 1, study_id);
        sqlite3_bind_text(s, 2, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, hi, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 4, NAME_MAX_LISTED + 2);
        if ((rc = name_collect(st, s, &m, name, err)) != 0)
            goto out;
    }
    if (sd.name)
        snprintf(in, sizeof(in), " in study %s", sd.name);
    else if (study_id)
        snprintf(in, sizeof(in), " in that study");
    if (m.n == 0) {
        rc = err_set(err, SWEEP_ENOTFOUND, "no task %s'%s'%s",
                     is_id && is_key              ? "with id or key "
                     : is_id                      ? "with id "
                     : strlen(k) < EXPAND_KEY_LEN ? "with key prefix "
                                                  : "with key ",
                     k, in);
        goto out;
    }
    if (m.n > 1) {
        char list[1400] = "";
        size_t len = 0;

        for (size_t i = 0; i < m.n && i < NAME_MAX_LISTED && len < sizeof(list); i++)
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s/%s (id %lld)",
                                    i ? ", " : "", m.v[i].study ? m.v[i].study : "?",
                                    m.v[i].t.key, m.v[i].t.id);
        rc = err_set(err, SWEEP_EINVAL,
                     "'%s' is ambiguous: it names %s%s; name one as STUDY/KEY (the "
                     "whole key) or by its id",
                     name, list, m.n > NAME_MAX_LISTED || m.more ? " and more" : "");
        goto out;
    }
    *out = m.v[0].t;
    memset(&m.v[0].t, 0, sizeof(m.v[0].t));
    if (study) {
        *study = m.v[0].study;
        m.v[0].study = NULL;
    }
out:
    name_matches_fini(&m);
    store_study_fini(&sd);
    return rc;
}

int store_task_attempts(struct store *st,
                        long long task_id,
                        store_attempt_fn *fn,
                        void *arg,
                        struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_ATTEMPTS];
    int rc;

    sqlite3_bind_int64(s, 1, task_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_attempt a = {
            .attempt = sqlite3_column_int(s, 0),
            .state = (enum task_state)sqlite3_column_int(s, 1),
            .exit_code = sqlite3_column_int(s, 2),
            .signal = sqlite3_column_int(s, 3),
            .started_at = sqlite3_column_double(s, 4),
            .finished_at = sqlite3_column_double(s, 5),
            .wall = sqlite3_column_double(s, 6),
            .user = sqlite3_column_double(s, 7),
            .sys = sqlite3_column_double(s, 8),
            .maxrss_kb = (long)sqlite3_column_int64(s, 9),
            .error = store_column_strdup(s, 10),
            .owner = store_column_strdup(s, 11),
            .lease_until = sqlite3_column_double(s, 12),
            .pid = sqlite3_column_int(s, 13),
            .pgid = sqlite3_column_int(s, 14),
            .stale = sqlite3_column_int(s, 15),
            .metrics_json = store_column_strdup(s, 16),
        };
        int stop = fn(&a, arg);
        free(a.error);
        free(a.owner);
        free(a.metrics_json);
        if (stop) {
            rc = SQLITE_DONE;
            break;
        }
    }
    rc = rc == SQLITE_DONE
             ? 0
             : store_fail(st, rc, err, "listing the attempts of task %lld", task_id);
    store_stmt_done(s);
    return rc;
}
