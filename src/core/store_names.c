/* The result names of the store (store.h): the parameter and metric names of each
 * study's tasks, kept in result_names per study and generation as tasks are stored
 * and results recorded, so that the columns of `sweep results` are one small query.
 * Owns the connection's hash set of the names it noted (st->seen), the upgrade that
 * fills result_names (schema version 7) and store_result_names*(). How the list is
 * kept, its cost and its limits are described below. */
#include "store_int.h"

#include "common/jsonx.h"
#include "common/xalloc.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- result names ----
 *
 * The columns of `sweep results` are the parameter and metric names of a study's
 * tasks, in the order in which they first appear: by the first task in expansion
 * order (seq) that has the name, then by its place among that task's names (pos:
 * parameters in canonical, sorted order; metrics flattened as a.b in the order the
 * task wrote them). result_names keeps that list per study and generation, so that
 * the header is one small query instead of a pass over every task:
 *
 * - parameters are noted as tasks are stored (store_task_stage(), store_task_put());
 * - metrics as a result is recorded (store_task_finished()), in its transaction;
 * - a published generation takes the metrics of the one before at their first task's
 *   new place (store_names_publish());
 * - studies.names_generation is the generation for which the list is complete: a new
 *   study's first; a published one whose previous generation was complete and whose
 *   metrics' first tasks are all in it; one merged from a full pass
 *   (store_result_names_merge()).
 *
 * Cost: a statement only when this connection meets a name that it has not seen at
 * that seq or earlier (the hash set st->seen): recording a result costs one walk over
 * its metrics and a hash look-up per name, storing a task one look-up per parameter.
 * Only tasks that end in strictly decreasing seq order would cost a statement per
 * name each (each moves the names to an earlier task).
 *
 * Limits: a name stays once noted, so a retry that replaced a task's metrics by other
 * names leaves the old ones as (empty) columns; a generation that reorders the tasks
 * it shares with the one before (the values of an axis reordered) keeps the metrics'
 * first tasks of before, so such columns may come in another order than a full pass
 * would give. */

struct name_seen {
    uint64_t hash; /* 0: an empty slot */
    struct name_key k;
    long long seq; /* the earliest seq this connection noted it at */
    char *name;
};

static uint64_t name_hash(const struct name_key *k, const char *name)
{
    const long long ints[4] = {k->study_id, k->generation, k->kind, k->step};
    const unsigned char *p = (const unsigned char *)ints;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (size_t i = 0; i < sizeof(ints); i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    for (p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ? h : 1;
}

/* The slot of (k, name): its entry, or the empty slot where it goes. capseen > 0. */
static struct name_seen *
seen_slot(struct store *st, const struct name_key *k, const char *name, uint64_t h)
{
    size_t mask = st->capseen - 1;

    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct name_seen *e = &st->seen[i];
        if (!e->hash || (e->hash == h && e->k.study_id == k->study_id &&
                         e->k.generation == k->generation && e->k.kind == k->kind &&
                         e->k.step == k->step && strcmp(e->name, name) == 0))
            return e;
    }
}

void store_seen_clear(struct store *st)
{
    for (size_t i = 0; i < st->capseen; i++)
        free(st->seen[i].name);
    free(st->seen);
    st->seen = NULL;
    st->nseen = st->capseen = 0;
}

/* Whether this connection noted the name at seq or earlier. */
static bool
seen_before(struct store *st, const struct name_key *k, const char *name, long long seq)
{
    struct name_seen *e;

    if (st->capseen == 0)
        return false;
    e = seen_slot(st, k, name, name_hash(k, name));
    return e->hash && e->seq <= seq;
}

static void
seen_put(struct store *st, const struct name_key *k, const char *name, long long seq)
{
    uint64_t h = name_hash(k, name);
    struct name_seen *e;

    if (2 * (st->nseen + 1) > st->capseen) {
        struct name_seen *old = st->seen;
        size_t n = st->capseen;

        st->capseen = n ? 2 * n : 64;
        st->seen = xcalloc(st->capseen, sizeof(*st->seen));
        for (size_t i = 0; i < n; i++)
            if (old[i].hash)
                *seen_slot(st, &old[i].k, old[i].name, old[i].hash) = old[i];
        free(old);
    }
    e = seen_slot(st, k, name, h);
    if (!e->hash) {
        *e = (struct name_seen){.hash = h, .k = *k, .seq = seq, .name = xstrdup(name)};
        st->nseen++;
    } else if (seq < e->seq) {
        e->seq = seq;
    }
}

/* Notes that the task (seq, task_id) has the name at pos, with statement s
 * (NAME_NOTE_SQL): a statement only when this connection has not noted it at seq or
 * earlier. */
static int names_note(struct store *st,
                      sqlite3_stmt *s,
                      const struct name_key *k,
                      const char *name,
                      long long seq,
                      int pos,
                      long long task_id,
                      struct err *err)
{
    int rc;

    if (seen_before(st, k, name, seq))
        return 0;
    sqlite3_bind_int64(s, 1, k->study_id);
    sqlite3_bind_int64(s, 2, k->generation);
    sqlite3_bind_int(s, 3, k->kind);
    sqlite3_bind_int(s, 4, k->step);
    sqlite3_bind_text(s, 5, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, seq);
    sqlite3_bind_int(s, 7, pos);
    sqlite3_bind_int64(s, 8, task_id);
    rc = store_step_done(st, s, err, "noting the result column '%s' of study %lld",
                         name, k->study_id);
    if (rc == 0)
        seen_put(st, k, name, seq);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Notes the members of obj (a task's parameters) in their order, or sorted (the
 * order of canonical JSON, for an object built by the expansion). */
static int names_note_keys(struct store *st,
                           sqlite3_stmt *s,
                           const struct name_key *k,
                           long long seq,
                           long long task_id,
                           const json_t *obj,
                           bool sorted,
                           struct err *err)
{
    size_t n = json_object_size(obj), i = 0;
    const char *name, **names;
    json_t *v;
    int rc = 0;

    json_object_foreach((json_t *)obj, name, v)
    {
        if (!seen_before(st, k, name, seq))
            break;
        i++;
    }
    if (i == n)
        return 0; /* all known: the usual case */
    names = xmalloc((n ? n : 1) * sizeof(*names));
    i = 0;
    json_object_foreach((json_t *)obj, name, v) names[i++] = name;
    if (sorted)
        qsort(names, n, sizeof(*names), cmp_name);
    for (i = 0; i < n && rc == 0; i++)
        rc = names_note(st, s, k, names[i], seq, (int)i, task_id, err);
    free(names);
    return rc;
}

/* The parameter names of a task of the expansion being stored. */
int store_names_note_params(struct store *st,
                            long long study_id,
                            long long generation,
                            const struct expand_task *t,
                            struct err *err)
{
    struct name_key k = {study_id, generation, 0, t->step};
    json_t *own = t->params ? NULL : jsonx_object_or_empty(t->params_json);
    int rc = names_note_keys(st, st->stmt[ST_NAME_NOTE], &k, t->seq, 0,
                             t->params ? t->params : own, true, err);

    json_decref(own);
    return rc;
}

struct leaves_seen {
    struct store *st;
    const struct name_key *k;
    long long seq;
};

static int leaf_unseen(const char *path, const json_t *v, void *arg)
{
    const struct leaves_seen *w = arg;

    (void)v;
    return !seen_before(w->st, w->k, path, w->seq);
}

static int leaf_add(const char *path, const json_t *v, void *flat)
{
    json_object_set(flat, path, (json_t *)v);
    return 0;
}

/* The metric names of a task's metrics object m (flattened as a.b, a name that
 * appears twice in its first place, as view.c flattens them). */
int store_names_note_metrics(struct store *st,
                             sqlite3_stmt *s,
                             const struct name_key *k,
                             long long seq,
                             long long task_id,
                             const json_t *m,
                             struct err *err)
{
    struct leaves_seen w = {st, k, seq};
    json_t *flat, *v;
    const char *name;
    int rc = 0, pos = 0;

    if (!json_is_object(m) || jsonx_walk_leaves(m, leaf_unseen, &w) == 0)
        return 0; /* none, or all known */
    flat = json_object();
    jsonx_walk_leaves(m, leaf_add, flat);
    json_object_foreach(flat, name, v)
    {
        if ((rc = names_note(st, s, k, name, seq, pos++, task_id, err)) != 0)
            break;
    }
    json_decref(flat);
    return rc;
}

/* Keeps only the names of generation `keep` of the study. */
int store_names_keep_only(struct store *st,
                          long long id,
                          long long keep,
                          struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_NAMES_KEEP_ONLY];

    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, keep);
    return store_step_done(st, s, err, "dropping the result columns of study %lld", id);
}

/* After generation `generation` became visible: its metrics are those of the
 * generation before at their first task's new place, and the list is complete when it
 * was before and each such task is still in it. O(names of the two generations). */
int store_names_publish(struct store *st,
                        long long id,
                        long long generation,
                        struct err *err)
{
    const char *what = "carrying the result columns over";
    sqlite3_stmt *s = st->stmt[ST_NAMES_STUDY];
    long long complete = -1;
    bool dropped = true;
    int rc;

    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        complete = sqlite3_column_int64(s, 1);
    rc = rc == SQLITE_ROW ? 0 : store_fail(st, rc, err, "%s of study %lld", what, id);
    store_stmt_done(s);
    if (rc == 0 && complete == generation - 1) {
        s = st->stmt[ST_NAMES_DROPPED];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, generation);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            dropped = sqlite3_column_int(s, 0) != 0;
        rc = rc == SQLITE_ROW ? 0
                              : store_fail(st, rc, err, "%s of study %lld", what, id);
        store_stmt_done(s);
        s = st->stmt[ST_NAMES_CARRY];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, generation);
        if (rc == 0)
            rc = store_step_done(st, s, err, "%s of study %lld", what, id);
        else
            store_stmt_done(s);
        s = st->stmt[ST_NAMES_COMPLETE];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, generation);
        if (rc == 0 && !dropped)
            rc = store_step_done(st, s, err, "%s of study %lld", what, id);
        else
            store_stmt_done(s);
    }
    if (rc == 0)
        rc = store_names_keep_only(st, id, generation, err);
    return rc;
}

/* Fills result_names from the tasks of every study's latest generation (the upgrade
 * to version 7): O(tasks), two JSON parses each. */
int store_names_fill(struct store *st, struct err *err)
{
    const char *what = "upgrading the schema to version 7";
    sqlite3_stmt *sel = NULL, *put = NULL;
    int rc;

    rc = sqlite3_prepare_v2(st->db,
                            "SELECT t.id, t.study_id, t.generation, t.step, t.seq,"
                            " t.params_json, t.metrics_json FROM studies s"
                            " JOIN tasks t ON t.study_id = s.id"
                            " AND t.generation = s.generation",
                            -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db, NAME_NOTE_SQL, -1, &put, NULL);
    if (rc != SQLITE_OK) {
        rc = store_fail(st, rc, err, "%s", what);
        goto out;
    }
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(sel, 0), seq = sqlite3_column_int64(sel, 4);
        struct name_key k = {sqlite3_column_int64(sel, 1), sqlite3_column_int64(sel, 2),
                             0, sqlite3_column_int(sel, 3)};
        json_t *p = jsonx_object_or_empty((const char *)sqlite3_column_text(sel, 5));
        json_t *m = jsonx_object_or_empty((const char *)sqlite3_column_text(sel, 6));

        rc = names_note_keys(st, put, &k, seq, id, p, false, err);
        k.kind = 1;
        if (rc == 0)
            rc = store_names_note_metrics(st, put, &k, seq, id, m, err);
        json_decref(p);
        json_decref(m);
        if (rc != 0)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, err, "%s: reading tasks", what);
        goto out;
    }
    rc = store_exec(st, "UPDATE studies SET names_generation = generation", what, err);
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(put);
    return rc;
}

/* ---- reading them ---- */

void store_names_free(struct store_name *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

int store_result_names(struct store *st,
                       long long study_id,
                       long long *generation,
                       bool *complete,
                       struct store_name **out,
                       size_t *n,
                       struct err *err)
{
    const char *what = "reading the result columns";
    sqlite3_stmt *s = st->stmt[ST_NAMES_STUDY];
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    *complete = false;
    /* The savepoint holds one read snapshot for the generation and its names. */
    if ((rc = store_op_begin(st, err, what)) != 0)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *generation = sqlite3_column_int64(s, 0);
        *complete = sqlite3_column_int64(s, 1) == *generation;
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = err_set(err, SWEEP_ENOTFOUND, "%s: no study with id %lld", what, study_id);
    } else {
        rc = store_fail(st, rc, err, "%s of study %lld", what, study_id);
    }
    store_stmt_done(s);
    if (rc != 0 || !*complete)
        goto out;
    s = st->stmt[ST_NAMES_GET];
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, *generation);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *out = xgrow(*out, &cap, *n + 1, sizeof(**out));
        (*out)[(*n)++] = (struct store_name){
            .kind = sqlite3_column_int(s, 0),
            .step = sqlite3_column_int(s, 1),
            .name = store_column_strdup(s, 2),
            .seq = sqlite3_column_int64(s, 3),
            .pos = sqlite3_column_int(s, 4),
            .task_id = sqlite3_column_int64(s, 5),
        };
    }
    rc = rc == SQLITE_DONE
             ? 0
             : store_fail(st, rc, err, "%s of study %lld", what, study_id);
    store_stmt_done(s);
out:
    if (rc != 0) {
        store_names_free(*out, *n);
        *out = NULL;
        *n = 0;
        *complete = false;
    }
    return store_op_end(st, rc, err, what);
}

int store_result_names_merge(struct store *st,
                             long long study_id,
                             long long generation,
                             const struct store_name *v,
                             size_t n,
                             struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_NAMES_COMPLETE];
    int rc = store_begin(st, err);

    for (size_t i = 0; i < n && rc == 0; i++) {
        struct name_key k = {study_id, generation, v[i].kind, v[i].step};
        rc = names_note(st, st->stmt[ST_NAME_NOTE], &k, v[i].name, v[i].seq, v[i].pos,
                        v[i].task_id, err);
    }
    if (rc == 0) {
        sqlite3_bind_int64(s, 1, study_id);
        sqlite3_bind_int64(s, 2, generation);
        rc = store_step_done(st, s, err, "completing the result columns of study %lld",
                             study_id);
    }
    if (rc == 0)
        rc = store_commit(st, err);
    if (rc != 0)
        store_rollback(st);
    return rc;
}
