/* The studies of the store (store.h): a study's row (its name, spec, status,
 * generation, times, runner and pipeline steps), its status names, its updates and
 * listing, and its last aggregate. A study's tasks are in store_task.c, the
 * preparation of a new generation in store_prepare.c. */
#include "store_int.h"

#include "common/suggest.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const study_status_names[] = {
    "CREATED", "QUEUED",    "RUNNING",     "COMPLETED", "PARTIALLY_FAILED",
    "FAILED",  "CANCELLED", "INTERRUPTED", "WAITING",
};

const char *study_status_name(enum study_status s)
{
    if (s < 0 || s > STUDY_WAITING)
        return "UNKNOWN";
    return study_status_names[s];
}

/* ---- studies ---- */

static void study_from_row(sqlite3_stmt *s, struct store_study *out)
{
    out->id = sqlite3_column_int64(s, 0);
    out->name = store_column_strdup(s, 1);
    out->description = store_column_strdup(s, 2);
    out->spec_path = store_column_strdup(s, 3);
    out->spec_json = store_column_strdup(s, 4);
    out->status = (enum study_status)sqlite3_column_int(s, 5);
    out->generation = sqlite3_column_int64(s, 6);
    out->created_at = sqlite3_column_double(s, 7);
    out->updated_at = sqlite3_column_double(s, 8);
    out->started_at = sqlite3_column_double(s, 9);
    out->finished_at = sqlite3_column_double(s, 10);
    out->runner_pid = sqlite3_column_int(s, 11);
    out->steps_json = store_column_strdup(s, 12);
    out->reason = store_column_strdup(s, 13);
}

void store_study_fini(struct store_study *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->description);
    free(s->spec_path);
    free(s->spec_json);
    free(s->steps_json);
    free(s->reason);
    memset(s, 0, sizeof(*s));
}

int store_study_put(struct store *st,
                    const char *name,
                    const char *description,
                    const char *spec_path,
                    const char *spec_json,
                    long long *id,
                    long long *generation,
                    struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STUDY_PUT];
    int rc;

    store_bind_text(s, 1, name);
    store_bind_text(s, 2, description);
    store_bind_text(s, 3, spec_path);
    store_bind_text(s, 4, spec_json);
    sqlite3_bind_double(s, 5, time_now());
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        *generation = sqlite3_column_int64(s, 1);
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE)
        rc = store_fail(st, rc, err, "storing study '%s'", name);
    else
        rc = 0;
    store_stmt_done(s);
    return rc;
}

bool store_study_near(struct store *st, const char *name, char *buf, size_t size)
{
    sqlite3_stmt *s = NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    const char *best = NULL;

    if (sqlite3_prepare_v2(st->db, "SELECT name FROM studies", -1, &s, NULL) ==
        SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            names = xgrow(names, &cap, n + 1, sizeof(*names));
            names[n++] = xstrdup((const char *)sqlite3_column_text(s, 0));
        }
    }
    sqlite3_finalize(s);
    best = suggest_closest(name, (const char *const *)names, n);
    if (best)
        snprintf(buf, size, "%s", best);
    while (n > 0)
        free(names[--n]);
    free(names);
    return best != NULL;
}

int store_study_get(struct store *st,
                    const char *name,
                    struct store_study *out,
                    struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STUDY_GET];
    char near[256];
    int rc;

    memset(out, 0, sizeof(*out));
    store_bind_text(s, 1, name);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        study_from_row(s, out);
        rc = 0;
    } else if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, err, "reading study '%s'", name);
    }
    store_stmt_done(s);
    if (rc == SQLITE_DONE && store_study_near(st, name, near, sizeof(near)))
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "no study named '%s' in %s (did you mean '%s'?)", name, st->path,
                     near);
    else if (rc == SQLITE_DONE)
        rc = err_set(err, SWEEP_ENOTFOUND, "no study named '%s' in %s", name, st->path);
    return rc;
}

/* Runs one of the single-row study updates and checks that the study exists. */
int store_study_update(
    struct store *st, sqlite3_stmt *s, long long id, struct err *err, const char *what)
{
    int rc = store_step_done(st, s, err, "%s of study %lld", what, id);

    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = err_set(err, SWEEP_ENOTFOUND, "%s: no study with id %lld", what, id);
    return rc;
}

int store_study_set_status(struct store *st,
                           long long id,
                           enum study_status status,
                           struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STUDY_SET_STATUS];

    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, (int)status);
    sqlite3_bind_double(s, 3, time_now());
    return store_study_update(st, s, id, err, "setting the status");
}

int store_study_mark_started(struct store *st, long long id, int pid, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STUDY_STARTED];

    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, STUDY_RUNNING);
    sqlite3_bind_double(s, 3, time_now());
    sqlite3_bind_int(s, 4, pid);
    return store_study_update(st, s, id, err, "recording the start");
}

int store_study_mark_finished(struct store *st,
                              long long id,
                              enum study_status status,
                              struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STUDY_FINISHED];

    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, (int)status);
    sqlite3_bind_double(s, 3, time_now());
    return store_study_update(st, s, id, err, "recording the end");
}

int store_study_delete(struct store *st, long long id, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STUDY_DELETE];

    sqlite3_bind_int64(s, 1, id);
    return store_study_update(st, s, id, err, "deleting");
}

int store_study_list(struct store *st, store_study_fn *fn, void *arg, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_STUDY_LIST];
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_study study;
        study_from_row(s, &study);
        int stop = fn(&study, arg);
        store_study_fini(&study);
        if (stop) {
            rc = SQLITE_DONE;
            break;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, err, "listing the studies");
    store_stmt_done(s);
    return rc;
}

/* The latest generation of a study; SWEEP_ENOTFOUND when there is no such study. */
int store_study_generation(struct store *st,
                           long long id,
                           long long *generation,
                           struct err *err,
                           const char *what)
{
    sqlite3_stmt *s = st->stmt[ST_STUDY_GENERATION];
    int rc;

    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *generation = sqlite3_column_int64(s, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = err_set(err, SWEEP_ENOTFOUND, "%s: no study with id %lld", what, id);
    } else {
        rc = store_fail(st, rc, err, "%s of study %lld", what, id);
    }
    store_stmt_done(s);
    return rc;
}

/* ---- aggregates ---- */

int store_aggregate_put(struct store *st,
                        long long study_id,
                        long long generation,
                        const char *json_text,
                        struct err *err)
{
    const char *what = "storing the aggregate";
    sqlite3_stmt *s = st->stmt[ST_AGGREGATE_PUT];
    long long latest;
    int rc;

    if ((rc = store_study_generation(st, study_id, &latest, err, what)) != 0)
        return rc;
    sqlite3_bind_int64(s, 1, study_id);
    sqlite3_bind_int64(s, 2, generation);
    sqlite3_bind_double(s, 3, time_now());
    store_bind_text(s, 4, json_text);
    return store_step_done(st, s, err, "%s of study %lld", what, study_id);
}

int store_aggregate_get(struct store *st,
                        long long study_id,
                        char **json_text,
                        double *computed_at,
                        struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_AGGREGATE_GET];
    int rc;

    *json_text = NULL;
    *computed_at = 0;
    sqlite3_bind_int64(s, 1, study_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *json_text = store_column_strdup(s, 0);
        *computed_at = sqlite3_column_double(s, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = err_set(err, SWEEP_ENOTFOUND, "no aggregate stored for study %lld",
                     study_id);
    } else {
        rc = store_fail(st, rc, err, "reading the aggregate of study %lld", study_id);
    }
    store_stmt_done(s);
    return rc;
}
