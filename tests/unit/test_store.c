/* Unit tests of the SQLite store (src/core/store*.c): schema creation, versions and the
 * upgrade of a version-1 database, studies, task upserts, the pending queue and its
 * cursor, attempts and retries, the metrics rows and stored aggregates, reset after a
 * dead run, counts, key look-up, cancellation, transactions and a busy database. Each
 * test works in its own mkdtemp() home. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/expand.h"
#include "core/runner.h"
#include "core/spec.h"
#include "core/store.h"
#include "common/timeutil.h"

#include <ftw.h>
#include <signal.h>
#include <limits.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    char home[128];
    struct store *st;
    struct err err;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/sweep-test-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    /* Two levels that do not exist yet: store_open creates them. */
    snprintf(f->home, sizeof(f->home), "%s/a/home", f->dir);
    if (store_open(f->home, &f->st, &f->err) != 0) {
        fprintf(stderr, "store_open: %s\n", f->err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static long long put_study(struct fixture *f, const char *name, long long *gen)
{
    long long id = 0, g = 0;
    int rc = store_study_put(f->st, name, "a test study", "study.yaml",
                             "{\"study\":\"x\"}", &id, &g, &f->err);
    assert_int_equal(rc, 0);
    if (gen)
        *gen = g;
    return id;
}

static void put_task(struct fixture *f,
                     long long study,
                     long long gen,
                     const char *key,
                     long long seq,
                     int priority)
{
    char params[64];
    struct expand_task t = {.params_json = params, .seq = seq, .priority = priority};

    snprintf(params, sizeof(params), "{\"i\":%lld}", seq);
    snprintf(t.key, sizeof(t.key), "%s", key);
    t.seed = 1000 + seq;
    assert_int_equal(store_task_put(f->st, study, gen, &t, 1, &f->err), 0);
}

static void key_of(long long seq, char key[EXPAND_KEY_LEN + 1])
{
    snprintf(key, EXPAND_KEY_LEN + 1, "%016llx", 0x1000000000000000ULL + (unsigned)seq);
}

/* Collects what the callbacks see. */
struct seen {
    int n;
    int stop_at; /* return non-zero on this call (1-based); 0 = never */
    long long id[64];
    long long seq[64];
    int state[64];
    int priority[64];
};

static int collect(const struct store_task *t, void *arg)
{
    struct seen *s = arg;
    if (s->n < 64) {
        s->id[s->n] = t->id;
        s->seq[s->n] = t->seq;
        s->state[s->n] = (int)t->state;
        s->priority[s->n] = t->priority;
    }
    s->n++;
    return s->stop_at && s->n == s->stop_at;
}

static struct store_task find(struct fixture *f, long long study, const char *key)
{
    struct store_task t;
    int rc = store_task_find(f->st, study, key, &t, &f->err);
    if (rc != 0)
        fail_msg("find %s: %s", key, f->err.msg);
    return t;
}

static enum task_state state_of(struct fixture *f, long long study, const char *key)
{
    struct store_task t = find(f, study, key);
    enum task_state s = t.state;
    store_task_fini(&t);
    return s;
}

static long long id_of(struct fixture *f, long long study, const char *key)
{
    struct store_task t = find(f, study, key);
    long long id = t.id;
    store_task_fini(&t);
    return id;
}

static void start(struct fixture *f, long long task_id, int attempt)
{
    int rc = store_task_started(f->st, task_id, attempt, 100.0 * attempt, &f->err);
    if (rc != 0)
        fail_msg("start: %s", f->err.msg);
}

static void finish(struct fixture *f,
                   long long task_id,
                   int attempt,
                   enum task_state state,
                   double retry_at)
{
    struct task_outcome o = {
        .state = state,
        .exit_code = state == TASK_SUCCEEDED ? 0 : 1,
        .finished_at = 100.0 * attempt + 5,
        .wall = 5,
        .error = state == TASK_SUCCEEDED ? NULL : "exit status 1",
        .metrics_json = state == TASK_SUCCEEDED ? "{\"x\":1}" : NULL,
        .retry_at = retry_at,
    };
    int rc = store_task_finished(f->st, task_id, attempt, &o, &f->err);
    if (rc != 0)
        fail_msg("finish: %s", f->err.msg);
}

static long long db_pragma(const char *home, const char *pragma)
{
    char path[256];
    sqlite3 *db;
    sqlite3_stmt *s;
    long long v = -1;

    snprintf(path, sizeof(path), "%s/sweep.db", home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, pragma, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_type(s, 0) == SQLITE_TEXT
                ? (strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0)
                : sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* ---- opening ---- */

static void test_open_creates_and_reopens(void **state)
{
    struct fixture *f = *state;
    struct store_study s;
    long long gen;

    assert_string_equal(store_home(f->st), f->home);
    long long id = put_study(f, "alpha", &gen);
    assert_int_equal(gen, 1);
    store_close(f->st);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_int_equal(db_pragma(f->home, "PRAGMA journal_mode"), 1); /* wal */
    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(store_study_get(f->st, "alpha", &s, &f->err), 0);
    assert_int_equal(s.id, id);
    store_study_fini(&s);
}

static void test_open_refuses_newer_schema(void **state)
{
    struct fixture *f = *state;
    char path[256];
    sqlite3 *db;

    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 10", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->home, &f->st, &f->err), SWEEP_ESTORE);
    assert_null(f->st);
    assert_non_null(strstr(f->err.msg, "created by a newer sweep"));
    assert_non_null(strstr(f->err.msg, path));
}

static void test_open_failures(void **state)
{
    struct fixture *f = *state;
    char path[256];
    struct store *st = NULL;
    FILE *fp;

    /* The home cannot be created under a regular file. */
    snprintf(path, sizeof(path), "%s/file", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/file/home", f->dir);
    assert_int_equal(store_open(path, &st, &f->err), SWEEP_EIO);
    assert_null(st);
    assert_non_null(strstr(f->err.msg, path));
    /* The home is a regular file; the home is empty. */
    snprintf(path, sizeof(path), "%s/file", f->dir);
    assert_int_equal(store_open(path, &st, &f->err), SWEEP_EIO);
    assert_non_null(strstr(f->err.msg, "not a directory"));
    assert_int_equal(store_open("", &st, &f->err), SWEEP_EINVAL);
    assert_null(st);

    /* A sweep.db that is not a database. */
    snprintf(path, sizeof(path), "%s/junk", f->dir);
    assert_int_equal(store_open(path, &st, &f->err), 0);
    store_close(st);
    snprintf(path, sizeof(path), "%s/junk/sweep.db", f->dir);
    unlink(path);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not a database, just some text that is long enough to be a header "
          "of a database file if it were one",
          fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/junk", f->dir);
    assert_int_equal(store_open(path, &st, &f->err), SWEEP_ESTORE);
    assert_null(st);
    assert_non_null(strstr(f->err.msg, "junk/sweep.db"));
}

/* The schema of version 1, as sweep created it before the metrics table. */
static const char schema_v1[] =
    "CREATE TABLE studies (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " description TEXT, spec_path TEXT NOT NULL, spec_json TEXT NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL,"
    " created_at REAL NOT NULL, updated_at REAL NOT NULL,"
    " started_at REAL NOT NULL DEFAULT 0, finished_at REAL NOT NULL DEFAULT 0,"
    " runner_pid INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tasks (id INTEGER PRIMARY KEY,"
    " study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL, seq INTEGER NOT NULL, generation INTEGER NOT NULL,"
    " params_json TEXT NOT NULL, repetition INTEGER NOT NULL, seed INTEGER NOT NULL,"
    " priority INTEGER NOT NULL, cpus INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT -1, signal INTEGER NOT NULL DEFAULT 0,"
    " wall REAL NOT NULL DEFAULT 0, user REAL NOT NULL DEFAULT 0,"
    " sys REAL NOT NULL DEFAULT 0, maxrss_kb INTEGER NOT NULL DEFAULT 0,"
    " started_at REAL NOT NULL DEFAULT 0, finished_at REAL NOT NULL DEFAULT 0,"
    " not_before REAL NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0,"
    " error TEXT, metrics_json TEXT, UNIQUE (study_id, key));"
    "CREATE INDEX tasks_queue ON tasks (study_id, generation, state, priority DESC, "
    "seq);"
    "CREATE INDEX tasks_order ON tasks (study_id, generation, seq);"
    "CREATE TABLE attempts ("
    " task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,"
    " attempt INTEGER NOT NULL, state INTEGER NOT NULL,"
    " exit_code INTEGER NOT NULL DEFAULT -1, signal INTEGER NOT NULL DEFAULT 0,"
    " started_at REAL NOT NULL, finished_at REAL NOT NULL DEFAULT 0,"
    " wall REAL NOT NULL DEFAULT 0, user REAL NOT NULL DEFAULT 0,"
    " sys REAL NOT NULL DEFAULT 0, maxrss_kb INTEGER NOT NULL DEFAULT 0,"
    " error TEXT, PRIMARY KEY (task_id, attempt)) WITHOUT ROWID;"
    "CREATE VIEW v_tasks AS SELECT s.name AS study, t.*,"
    " CASE t.state WHEN 0 THEN 'pending' WHEN 1 THEN 'running' WHEN 2 THEN 'succeeded'"
    " WHEN 3 THEN 'failed' WHEN 4 THEN 'timed_out' WHEN 5 THEN 'cancelled'"
    " WHEN 6 THEN 'interrupted' END AS state_name"
    " FROM tasks t JOIN studies s ON s.id = t.study_id;"
    "INSERT INTO studies (id, name, spec_path, spec_json, generation, created_at,"
    " updated_at) VALUES (1, 'old', 's.yaml', '{}', 1, 1, 1);"
    "INSERT INTO tasks (id, study_id, key, seq, generation, params_json, repetition,"
    " seed, priority, cpus, state, metrics_json) VALUES"
    " (1, 1, '00000000000000f1', 0, 1, '{}', 0, 1, 50, 1, 2,"
    " '{\"df\":1.71,\"fit\":{\"r2\":0.99},\"ok\":true,\"tag\":\"x\",\"list\":[1]}'),"
    " (2, 1, '00000000000000f2', 1, 1, '{}', 1, 2, 50, 1, 2, '{\"df\":1.69}'),"
    " (3, 1, '00000000000000f3', 2, 1, '{}', 2, 3, 50, 1, 3, NULL),"
    " (4, 1, '00000000000000f4', 3, 1, '{}', 3, 4, 50, 1, 2, 'not json');"
    "PRAGMA user_version = 1;";

/* Runs sql on its own connection (foreign keys on) and returns the rows as text:
 * columns joined by '|', rows by ';', reals with %.17g, NULL as "NULL". */
static char *db_rows(const char *home, const char *sql)
{
    char path[256];
    sqlite3 *db;
    sqlite3_stmt *s;
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    int rc;

    assert_non_null(out);
    snprintf(path, sizeof(path), "%s/sweep.db", home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL),
                     SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(s); i++) {
            char v[128];
            switch (sqlite3_column_type(s, i)) {
            case SQLITE_NULL:
                snprintf(v, sizeof(v), "NULL");
                break;
            case SQLITE_INTEGER:
                snprintf(v, sizeof(v), "%lld", sqlite3_column_int64(s, i));
                break;
            case SQLITE_FLOAT:
                snprintf(v, sizeof(v), "%.17g", sqlite3_column_double(s, i));
                break;
            default:
                snprintf(v, sizeof(v), "%s", (const char *)sqlite3_column_text(s, i));
            }
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "|" : "", v);
            assert_true(len < cap - 1);
        }
        len += (size_t)snprintf(out + len, cap - len, ";");
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

static void assert_rows(const char *home, const char *sql, const char *want)
{
    char *got = db_rows(home, sql);
    if (strcmp(got, want) != 0) {
        fail_msg("%s\n got: %s\nwant: %s", sql, got, want);
    }
    free(got);
}

/* A version-1 database is upgraded in place: metrics filled from metrics_json,
 * version 2; opening it again changes nothing. */
static void test_upgrade_from_v1(void **state)
{
    struct fixture *f = *state;
    char path[256];
    sqlite3 *db;

    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_rows(f->home, "SELECT task_id, name, value, text FROM metrics",
                "1|df|1.71|NULL;1|fit.r2|0.98999999999999999|NULL;1|ok|1|NULL;"
                "1|tag|NULL|x;2|df|1.6899999999999999|NULL;");
    assert_rows(f->home,
                "SELECT study, key, state, repetition, value FROM v_metrics"
                " WHERE study = 'old' AND name = 'df' ORDER BY key",
                "old|00000000000000f1|succeeded|0|1.71;"
                "old|00000000000000f2|succeeded|1|1.6899999999999999;");
    /* The old data is still there and the new statements work on it. */
    struct store_task t = find(f, 1, "00000000000000f2");
    assert_string_equal(t.metrics_json, "{\"df\":1.69}");
    store_task_fini(&t);

    /* A second open is a no-op: rows deleted by hand are not filled again. */
    store_close(f->st);
    assert_rows(f->home, "DELETE FROM metrics WHERE task_id = 2 RETURNING name", "df;");
    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_rows(f->home, "SELECT count(*) FROM metrics WHERE task_id = 2", "0;");
    /* Version 3: a single-step task's chain is its seq. */
    assert_rows(f->home, "SELECT count(*) FROM tasks WHERE chain <> seq OR step <> 0",
                "0;");
}

/* Takes the table and column of version 7 out of a database of version 7 or 8. */
#define V7_DROP                                                                        \
    " DROP TABLE result_names; ALTER TABLE studies DROP COLUMN names_generation;"

/* Takes the tables, triggers and columns of versions 6, 7 and 8 out of a database of
 * version 8. */
#define V6_DROP                                                                        \
    V7_DROP                                                                            \
    " DROP TRIGGER task_counts_delete;"                                                \
    " DROP TRIGGER task_counts_update; DROP TRIGGER task_counts_study_delete;"         \
    " DROP TABLE task_counts; DROP TABLE task_stage;"                                  \
    " ALTER TABLE tasks DROP COLUMN tally;"

/* Takes the columns of version 5 out of a database of version 7. */
#define V5_DROP                                                                        \
    V6_DROP                                                                            \
    " ALTER TABLE attempts DROP COLUMN owner;"                                         \
    " ALTER TABLE attempts DROP COLUMN lease_until;"                                   \
    " ALTER TABLE attempts DROP COLUMN pid;"                                           \
    " ALTER TABLE attempts DROP COLUMN pgid;"                                          \
    " ALTER TABLE attempts DROP COLUMN spawned_at;"                                    \
    " ALTER TABLE attempts DROP COLUMN stale;"                                         \
    " ALTER TABLE attempts DROP COLUMN metrics_json;"

/* A version-3 database (as the sweep before input hashes made it) is upgraded in place
 * to version 4: its tasks kept, input_hash NULL, set and read back; a second open
 * changes nothing. */
static void test_upgrade_from_v3(void **state)
{
    struct fixture *f = *state;
    long long gen, study = put_study(f, "s3", &gen);
    struct store_task t;
    char *hash = NULL, path[256];
    sqlite3 *db;

    put_task(f, study, gen, "00000000000000a1", 0, 50);
    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE tasks DROP COLUMN input_hash;"
                                  " DROP INDEX attempts_open;" V5_DROP
                                  " PRAGMA user_version = 3;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 3);

    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    t = find(f, study, "00000000000000a1");
    assert_int_equal(store_task_input_hash(f->st, t.id, &hash, &f->err), 0);
    assert_null(hash);
    assert_int_equal(store_task_set_input_hash(f->st, t.id, "abc", &f->err), 0);
    assert_int_equal(store_task_input_hash(f->st, t.id, &hash, &f->err), 0);
    assert_string_equal(hash, "abc");
    free(hash);
    assert_int_equal(store_task_set_input_hash(f->st, t.id, NULL, &f->err), 0);
    assert_int_equal(store_task_input_hash(f->st, t.id, &hash, &f->err), 0);
    assert_null(hash);
    assert_int_equal(store_task_input_hash(f->st, 999999, &hash, &f->err),
                     SWEEP_ENOTFOUND);
    store_task_fini(&t);
    store_close(f->st);
    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_rows(f->home, "SELECT key, input_hash FROM tasks", "00000000000000a1|NULL;");
}

/* An upgrade that fails half-way leaves the database at version 1, untouched. */
static void test_upgrade_failure_rolls_back(void **state)
{
    struct fixture *f = *state;
    char path[256];
    sqlite3 *db;

    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    unlink(path);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), SQLITE_OK);
    /* A table the upgrade creates already exists (made by someone by hand). */
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE aggregates (x);", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(store_open(f->home, &f->st, &f->err), SWEEP_ESTORE);
    assert_null(f->st);
    assert_non_null(strstr(f->err.msg, "upgrading the schema"));
    assert_non_null(strstr(f->err.msg, path));
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 1);
    assert_rows(f->home, "SELECT count(*) FROM sqlite_schema WHERE name = 'metrics'",
                "0;");
    assert_rows(f->home, "SELECT count(*) FROM tasks", "4;");
}

/* ---- studies ---- */

static int list_names(const struct store_study *s, void *arg)
{
    struct {
        int n, stop_at;
        char names[4][16];
    } *l = arg;
    snprintf(l->names[l->n++], 16, "%s", s->name);
    return l->stop_at && l->n == l->stop_at;
}

static void test_study_put_get_list_status(void **state)
{
    struct fixture *f = *state;
    struct store_study s;
    long long gen, id2, gen2;
    struct {
        int n, stop_at;
        char names[4][16];
    } l = {0};

    long long a = put_study(f, "alpha", &gen);
    long long b = put_study(f, "beta", NULL);
    assert_true(a != b);
    assert_int_equal(store_study_put(f->st, "alpha", NULL, "other.yaml", "{\"v\":2}",
                                     &id2, &gen2, &f->err),
                     0);
    assert_int_equal(id2, a);
    assert_int_equal(gen2, 2);

    assert_int_equal(store_study_get(f->st, "alpha", &s, &f->err), 0);
    assert_int_equal(s.id, a);
    assert_null(s.description);
    assert_string_equal(s.spec_path, "other.yaml");
    assert_string_equal(s.spec_json, "{\"v\":2}");
    assert_int_equal(s.status, STUDY_CREATED);
    assert_int_equal(s.generation, 2);
    assert_true(s.created_at > 0 && s.updated_at >= s.created_at);
    assert_true(s.started_at == 0 && s.finished_at == 0 && s.runner_pid == 0);
    store_study_fini(&s);

    assert_int_equal(store_study_get(f->st, "gamma", &s, &f->err), SWEEP_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "'gamma'"));
    assert_null(strstr(f->err.msg, "did you mean"));
    /* A mistyped name gets the nearest stored one. */
    assert_int_equal(store_study_get(f->st, "alpah", &s, &f->err), SWEEP_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "no study named 'alpah' in "));
    assert_non_null(strstr(f->err.msg, "(did you mean 'alpha'?)"));

    /* Newest first; updating alpha does not make it newer. */
    assert_int_equal(store_study_list(f->st, list_names, &l, &f->err), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], "beta");
    assert_string_equal(l.names[1], "alpha");
    memset(&l, 0, sizeof(l));
    l.stop_at = 1;
    assert_int_equal(store_study_list(f->st, list_names, &l, &f->err), 0);
    assert_int_equal(l.n, 1);

    assert_int_equal(store_study_set_status(f->st, a, STUDY_QUEUED, &f->err), 0);
    assert_int_equal(store_study_get(f->st, "alpha", &s, &f->err), 0);
    assert_int_equal(s.status, STUDY_QUEUED);
    store_study_fini(&s);
    assert_int_equal(store_study_mark_started(f->st, a, 4242, &f->err), 0);
    assert_int_equal(store_study_get(f->st, "alpha", &s, &f->err), 0);
    assert_int_equal(s.status, STUDY_RUNNING);
    assert_int_equal(s.runner_pid, 4242);
    assert_true(s.started_at > 0 && s.finished_at == 0);
    store_study_fini(&s);
    assert_int_equal(
        store_study_mark_finished(f->st, a, STUDY_PARTIALLY_FAILED, &f->err), 0);
    assert_int_equal(store_study_get(f->st, "alpha", &s, &f->err), 0);
    assert_int_equal(s.status, STUDY_PARTIALLY_FAILED);
    assert_true(s.finished_at >= s.started_at);
    store_study_fini(&s);
    assert_string_equal(study_status_name(STUDY_PARTIALLY_FAILED), "PARTIALLY_FAILED");

    assert_int_equal(store_study_set_status(f->st, 999, STUDY_QUEUED, &f->err),
                     SWEEP_ENOTFOUND);
    assert_int_equal(store_study_mark_started(f->st, 999, 1, &f->err), SWEEP_ENOTFOUND);
    assert_int_equal(store_study_mark_finished(f->st, 999, STUDY_FAILED, &f->err),
                     SWEEP_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "999"));
}

/* ---- tasks ---- */

static void test_task_put_idempotent(void **state)
{
    struct fixture *f = *state;
    struct seen seen = {0};
    long long gen, counts[3][TASK_NSTATES];
    const char *k1 = "00000000000000a1", *k2 = "00000000000000a2";

    long long s = put_study(f, "s", &gen);
    put_task(f, s, gen, k1, 0, PRIORITY_MEDIUM);
    put_task(f, s, gen, k1, 5, PRIORITY_HIGH); /* repeated within a generation */
    put_task(f, s, gen, k2, 1, PRIORITY_MEDIUM);
    assert_int_equal(store_task_each(f->st, s, -1, collect, &seen, &f->err), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.seq[0], 0); /* first position kept */
    assert_int_equal(seen.priority[0], PRIORITY_MEDIUM);

    long long id1 = id_of(f, s, k1);
    start(f, id1, 1);
    finish(f, id1, 1, TASK_SUCCEEDED, 0);

    /* A new expansion with only k1, now HIGH and later in the order. */
    put_study(f, "s", &gen);
    assert_int_equal(gen, 2);
    put_task(f, s, gen, k1, 7, PRIORITY_HIGH);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_task_each(f->st, s, -1, collect, &seen, &f->err), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.id[0], id1);
    assert_int_equal(seen.seq[0], 7);
    assert_int_equal(seen.priority[0], PRIORITY_HIGH);
    assert_int_equal(seen.state[0], TASK_SUCCEEDED);
    struct store_task t = find(f, s, k1);
    assert_int_equal(t.attempts, 1);
    assert_string_equal(t.metrics_json, "{\"x\":1}");
    assert_string_equal(t.params_json, "{\"i\":0}");
    assert_int_equal(t.seed, 1000);
    store_task_fini(&t);

    assert_int_equal(store_study_counts(f->st, s, counts, &f->err), 0);
    assert_int_equal(counts[2][TASK_SUCCEEDED], 1);
    assert_int_equal(counts[1][TASK_PENDING], 0); /* k2 is not in generation 2 */

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_task_each(f->st, s, TASK_PENDING, collect, &seen, &f->err),
                     0);
    assert_int_equal(seen.n, 0);
    assert_int_equal(store_task_each(f->st, 999, -1, collect, &seen, &f->err),
                     SWEEP_ENOTFOUND);
}

/* store_task_each() of one state gives, in expansion order, the tasks of that state
 * that a listing of every state gives, whether they are few (an eighth of the study
 * at most: found in tasks_queue, whose order is the priority's) or many. */
static void test_task_each_state(void **state)
{
    struct fixture *f = *state;
    long long gen;
    char key[EXPAND_KEY_LEN + 1];
    long long s = put_study(f, "states", &gen);

    for (int i = 0; i < 40; i++) {
        key_of(i, key);
        put_task(f, s, gen, key, i, (int[]){1, 2, 3, 7}[i % 4]);
    }
    for (int i = 0; i < 40; i++) { /* 3 failed (few), 22 succeeded (many) */
        long long id;
        if (i % 13 != 5 && i % 2 != 0)
            continue;
        key_of(i, key);
        id = id_of(f, s, key);
        start(f, id, 1);
        finish(f, id, 1, i % 13 == 5 ? TASK_FAILED : TASK_SUCCEEDED, 0);
    }
    for (int st = 0; st < TASK_NSTATES; st++) {
        struct seen all = {0}, one = {0};
        int k = 0;
        assert_int_equal(store_task_each(f->st, s, -1, collect, &all, &f->err), 0);
        assert_int_equal(store_task_each(f->st, s, st, collect, &one, &f->err), 0);
        for (int i = 0; i < all.n; i++) {
            if (all.state[i] != st)
                continue;
            assert_true(k < one.n);
            assert_int_equal(one.seq[k++], all.seq[i]);
        }
        assert_int_equal(one.n, k);
        if (st == TASK_FAILED)
            assert_int_equal(k, 3);
    }
}

/* store_task_page() gives the slice [offset, offset + limit) of what store_task_each()
 * gives, filtered by state and priority, for seqs without gaps (a seek) and with gaps
 * (the offset stepped over), and for few tasks in a state (found in tasks_queue);
 * store_task_count() the number it pages through. */
static void test_task_page(void **state)
{
    static const struct {
        int state, lo, hi;
        long long offset, limit;
    } cases[] = {
        {-1, INT_MIN, INT_MAX, 0, 5},
        {-1, INT_MIN, INT_MAX, 7, 10},
        {-1, INT_MIN, INT_MAX, 25, 10},
        {-1, INT_MIN, INT_MAX, 30, 3},
        {-1, INT_MIN, INT_MAX, 99, 3},
        {-1, INT_MIN, INT_MAX, 29, 1},
        {TASK_SUCCEEDED, INT_MIN, INT_MAX, 2, 4},
        {TASK_PENDING, INT_MIN, INT_MAX, 0, 100},
        {-1, PRIORITY_HIGH, INT_MAX, 3, 6},
        {-1, INT_MIN, PRIORITY_LOW, 1, 2},
        {TASK_PENDING, 7, 7, 1, 3},
        {-1, PRIORITY_MEDIUM, PRIORITY_MEDIUM, 0, 64},
        {TASK_FAILED, INT_MIN, INT_MAX, 0, 5}, /* few: from tasks_queue */
        {TASK_FAILED, INT_MIN, INT_MAX, 1, 5},
        {TASK_FAILED, INT_MIN, PRIORITY_LOW, 0, 5},
    };
    struct fixture *f = *state;
    long long gen, n;
    char key[EXPAND_KEY_LEN + 1];

    for (int gaps = 0; gaps < 2; gaps++) {
        long long s = put_study(f, gaps ? "gaps" : "dense", &gen);
        for (int i = 0; i < 30; i++) {
            key_of(gaps * 100 + i, key);
            put_task(f, s, gen, key, gaps ? 3 * i + 1 : i, (int[]){1, 2, 3, 7}[i % 4]);
        }
        for (int i = 0; i < 30; i += 3) { /* every third one succeeded */
            long long id;
            key_of(gaps * 100 + i, key);
            id = id_of(f, s, key);
            start(f, id, 1);
            finish(f, id, 1, TASK_SUCCEEDED, 0);
        }
        /* Three failed: a higher priority later in expansion order, a LOW one. */
        for (int j = 0; j < 3; j++) {
            int i = (int[]){26, 13, 4}[j];
            long long id;
            key_of(gaps * 100 + i, key);
            id = id_of(f, s, key);
            start(f, id, 1);
            finish(f, id, 1, TASK_FAILED, 0);
        }
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            struct seen all = {0}, page = {0};
            long long want[64], nwant = 0, matched = 0;
            assert_int_equal(
                store_task_each(f->st, s, cases[c].state, collect, &all, &f->err), 0);
            for (int i = 0; i < all.n; i++) {
                if (all.priority[i] < cases[c].lo || all.priority[i] > cases[c].hi)
                    continue;
                if (matched >= cases[c].offset &&
                    matched < cases[c].offset + cases[c].limit)
                    want[nwant++] = all.seq[i];
                matched++;
            }
            assert_int_equal(store_task_page(f->st, s, cases[c].state, cases[c].lo,
                                             cases[c].hi, cases[c].offset,
                                             cases[c].limit, collect, &page, &f->err),
                             0);
            assert_int_equal(page.n, nwant);
            for (int i = 0; i < page.n; i++)
                assert_int_equal(page.seq[i], want[i]);
            assert_int_equal(store_task_count(f->st, s, cases[c].state, cases[c].lo,
                                              cases[c].hi, &n, &f->err),
                             0);
            assert_int_equal(n, matched);
        }
    }
    assert_int_equal(store_task_page(f->st, 999, -1, INT_MIN, INT_MAX, 0, 1, collect,
                                     &(struct seen){0}, &f->err),
                     SWEEP_ENOTFOUND);
}

/* Drains the queue in batches of `limit`; returns the seqs in order. */
static int drain(
    struct fixture *f, long long s, long long gen, int band, int limit, long long *out)
{
    int prio = INT_MAX, total = 0, n;
    long long seq = -1;

    do {
        struct seen seen = {0};
        n = store_task_next_pending(f->st, s, gen, band, &prio, &seq, limit, collect,
                                    &seen, &f->err);
        assert_true(n >= 0 && n <= limit);
        assert_int_equal(seen.n, n);
        for (int i = 0; i < n; i++)
            out[total++] = seen.seq[i];
    } while (n == limit);
    return total;
}

static void test_next_pending_order_cursor_band(void **state)
{
    struct fixture *f = *state;
    static const int prio[] = {1, 3, 2, 3, 2, 5, 0};
    long long gen, got[16];
    char key[EXPAND_KEY_LEN + 1];

    long long s = put_study(f, "s", &gen);
    for (int i = 0; i < 7; i++) {
        key_of(i, key);
        put_task(f, s, gen, key, i, prio[i]);
    }

    static const struct {
        int band, limit, n;
        long long want[7];
    } cases[] = {
        {0, 2, 7, {5, 1, 3, 2, 4, 0, 6}}, {0, 100, 7, {5, 1, 3, 2, 4, 0, 6}},
        {0, 1, 7, {5, 1, 3, 2, 4, 0, 6}}, {PRIORITY_HIGH, 2, 3, {5, 1, 3}},
        {PRIORITY_MEDIUM, 2, 2, {2, 4}},  {PRIORITY_LOW, 2, 2, {0, 6}},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        int n = drain(f, s, gen, cases[c].band, cases[c].limit, got);
        assert_int_equal(n, cases[c].n);
        for (int i = 0; i < n; i++)
            assert_int_equal(got[i], cases[c].want[i]);
    }

    /* A stop from fn: the task counts as passed and the cursor moves past it. */
    int cp = INT_MAX;
    long long cs = -1;
    struct seen seen = {.stop_at = 2};
    assert_int_equal(
        store_task_next_pending(f->st, s, gen, 0, &cp, &cs, 5, collect, &seen, &f->err),
        2);
    assert_int_equal(cp, 3);
    assert_int_equal(cs, 1);

    /* Running tasks leave the queue; a bad band is refused. */
    key_of(5, key);
    start(f, id_of(f, s, key), 1);
    assert_int_equal(drain(f, s, gen, PRIORITY_HIGH, 5, got), 2);
    cp = INT_MAX, cs = -1;
    assert_int_equal(
        store_task_next_pending(f->st, s, gen, 7, &cp, &cs, 5, collect, &seen, &f->err),
        -1);
    assert_int_equal(f->err.code, SWEEP_EINVAL);

    /* Other generations are not in the queue. */
    assert_int_equal(drain(f, s, gen + 1, 0, 5, got), 0);
}

static int collect_attempt(const struct store_attempt *a, void *arg)
{
    struct store_attempt *out = arg;
    int i = 0;
    while (out[i].attempt)
        i++;
    out[i] = *a;
    out[i].error = a->error ? strdup(a->error) : NULL;
    out[i].owner = a->owner ? strdup(a->owner) : NULL;
    out[i].metrics_json = a->metrics_json ? strdup(a->metrics_json) : NULL;
    return 0;
}

static void test_attempts_retry_then_success(void **state)
{
    struct fixture *f = *state;
    struct store_attempt att[4] = {0};
    const char *k = "00000000000000b1";
    long long gen;

    long long s = put_study(f, "s", &gen);
    put_task(f, s, gen, k, 0, PRIORITY_MEDIUM);
    long long id = id_of(f, s, k);

    start(f, id, 1);
    assert_int_equal(store_task_attempts(f->st, id, collect_attempt, att, &f->err), 0);
    assert_int_equal(att[0].state, TASK_RUNNING);
    memset(att, 0, sizeof(att));
    /* Starting again while running is refused. */
    assert_int_equal(store_task_started(f->st, id, 2, 1.0, &f->err), SWEEP_ENOTFOUND);

    finish(f, id, 1, TASK_FAILED, 12345.0);
    struct store_task t = find(f, s, k);
    assert_int_equal(t.state, TASK_PENDING);
    assert_true(t.not_before == 12345.0);
    assert_int_equal(t.exit_code, 1);
    assert_string_equal(t.error, "exit status 1");
    assert_int_equal(t.attempts, 1);
    store_task_fini(&t);

    start(f, id, 2);
    finish(f, id, 2, TASK_SUCCEEDED, 0);
    t = find(f, s, k);
    assert_int_equal(t.state, TASK_SUCCEEDED);
    assert_int_equal(t.attempts, 2);
    assert_int_equal(t.exit_code, 0);
    assert_null(t.error);
    assert_true(t.not_before == 0);
    assert_true(t.started_at == 200.0 && t.finished_at == 205.0 && t.wall == 5.0);
    assert_string_equal(t.metrics_json, "{\"x\":1}");
    store_task_fini(&t);

    assert_int_equal(store_task_attempts(f->st, id, collect_attempt, att, &f->err), 0);
    assert_int_equal(att[0].attempt, 1);
    assert_int_equal(att[0].state, TASK_FAILED);
    assert_int_equal(att[0].exit_code, 1);
    assert_string_equal(att[0].error, "exit status 1");
    assert_int_equal(att[1].attempt, 2);
    assert_int_equal(att[1].state, TASK_SUCCEEDED);
    assert_true(att[1].started_at == 200.0 && att[1].finished_at == 205.0);
    assert_int_equal(att[2].attempt, 0);
    for (int i = 0; i < 2; i++)
        free(att[i].error);

    /* An attempt is never recorded twice: a second result is stale; a non-final
     * state is refused. */
    struct task_outcome o = {.state = TASK_SUCCEEDED};
    assert_int_equal(store_task_finished(f->st, id, 2, &o, &f->err), SWEEP_ESTALE);
    assert_non_null(strstr(f->err.msg, "attempt 2"));
    assert_int_equal(store_task_finished(f->st, id, 3, &o, &f->err), SWEEP_ENOTFOUND);
    o.state = TASK_RUNNING;
    assert_int_equal(store_task_finished(f->st, id, 2, &o, &f->err), SWEEP_EINVAL);
    assert_int_equal(store_task_started(f->st, 9999, 1, 1.0, &f->err), SWEEP_ENOTFOUND);
}

/* ---- metrics and aggregates ---- */

/* Ends attempt `attempt` of the task with these metrics (NULL: none). */
static void finish_with(struct fixture *f,
                        long long task_id,
                        int attempt,
                        enum task_state state,
                        double retry_at,
                        const char *metrics)
{
    struct task_outcome o = {
        .state = state, .retry_at = retry_at, .metrics_json = metrics};
    start(f, task_id, attempt);
    if (store_task_finished(f->st, task_id, attempt, &o, &f->err) != 0)
        fail_msg("finish: %s", f->err.msg);
}

static const char metrics_sql[] =
    "SELECT name, value, text FROM metrics WHERE task_id = %lld ORDER BY name";

/* The metrics rows follow each attempt's metrics: flattened, typed, replaced, cleared
 * by an attempt without metrics; a document that is not an object gives none. */
static void test_metrics_rows(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *metrics; /* NULL: none written */
        enum task_state state;
        const char *rows;
    } attempts[] = {
        {"{\"a\":{\"b\":0.1,\"c\":{\"d\":-2}},\"ok\":true,\"no\":false,\"s\":\"t x\","
         "\"arr\":[1,2],\"obj_arr\":[{\"z\":1}],\"nul\":null,\"n\":12345678901,"
         "\"e\":{}}",
         TASK_FAILED,
         "a.b|0.10000000000000001|NULL;a.c.d|-2|NULL;n|12345678901|NULL;no|0|NULL;"
         "ok|1|NULL;s|NULL|t x;"},
        {NULL, TASK_FAILED, ""},
        {"[1,2]", TASK_FAILED, ""},
        {"{\"df\":1.69}", TASK_SUCCEEDED, "df|1.6899999999999999|NULL;"},
    };
    size_t n = sizeof(attempts) / sizeof(attempts[0]);
    char sql[128];
    long long gen;

    long long s = put_study(f, "m", &gen);
    put_task(f, s, gen, "00000000000000e1", 0, PRIORITY_MEDIUM);
    put_task(f, s, gen, "00000000000000e2", 1, PRIORITY_MEDIUM);
    long long id = id_of(f, s, "00000000000000e1");
    long long other = id_of(f, s, "00000000000000e2");
    finish_with(f, other, 1, TASK_SUCCEEDED, 0, "{\"df\":2}");
    snprintf(sql, sizeof(sql), metrics_sql, id);
    for (size_t i = 0; i < n; i++) {
        finish_with(f, id, (int)i + 1, attempts[i].state, i + 1 < n ? 1.0 : 0,
                    attempts[i].metrics);
        assert_rows(f->home, sql, attempts[i].rows);
    }
    /* Numbers come back as exactly the same double. */
    char *got = db_rows(f->home, "SELECT value = 1.69 FROM metrics WHERE name = 'df'"
                                 " ORDER BY task_id");
    assert_string_equal(got, "1;0;");
    free(got);
    /* The other task's rows were left alone; the view names study, key and state. */
    assert_rows(f->home,
                "SELECT study, key, state, repetition, name, value FROM v_metrics"
                " WHERE study = 'm' ORDER BY key",
                "m|00000000000000e1|succeeded|0|df|1.6899999999999999;"
                "m|00000000000000e2|succeeded|0|df|2;");
    /* The view shows the latest generation only. */
    assert_int_equal(
        store_study_put(f->st, "m", NULL, "s.yaml", "{}", &s, &gen, &f->err), 0);
    put_task(f, s, gen, "00000000000000e2", 0, PRIORITY_MEDIUM);
    assert_rows(f->home, "SELECT key FROM v_metrics WHERE study = 'm'",
                "00000000000000e2;");
}

/* A rolled back attempt leaves no metrics rows; deleting a study deletes its tasks'
 * metrics and its aggregate. */
static void test_metrics_rollback_and_delete(void **state)
{
    struct fixture *f = *state;
    long long gen;
    char *json, want[32];
    double at;

    long long s = put_study(f, "d", &gen);
    long long keep = put_study(f, "keep", NULL);
    put_task(f, s, gen, "00000000000000c1", 0, PRIORITY_MEDIUM);
    long long id = id_of(f, s, "00000000000000c1");
    assert_int_equal(store_begin(f->st, &f->err), 0);
    finish_with(f, id, 1, TASK_SUCCEEDED, 0, "{\"x\":1}");
    store_rollback(f->st);
    assert_rows(f->home, "SELECT count(*) FROM metrics", "0;");

    finish_with(f, id, 1, TASK_SUCCEEDED, 0, "{\"x\":1,\"y\":{\"z\":2}}");
    assert_int_equal(store_aggregate_put(f->st, s, gen, "[]\n", &f->err), 0);
    assert_int_equal(store_aggregate_put(f->st, keep, 1, "{}\n", &f->err), 0);
    assert_rows(f->home, "SELECT count(*) FROM metrics", "2;");
    assert_rows(f->home, "DELETE FROM studies WHERE name = 'd' RETURNING name", "d;");
    assert_rows(f->home, "SELECT count(*) FROM metrics", "0;");
    snprintf(want, sizeof(want), "%lld;", keep);
    assert_rows(f->home, "SELECT study_id FROM aggregates", want);
    assert_int_equal(store_aggregate_get(f->st, s, &json, &at, &f->err),
                     SWEEP_ENOTFOUND);
    assert_null(json);
}

static void test_aggregate_put_get(void **state)
{
    struct fixture *f = *state;
    long long gen;
    char *json = (char *)"unset", want[32];
    double at = -1;

    long long s = put_study(f, "a", &gen);
    assert_int_equal(store_aggregate_get(f->st, s, &json, &at, &f->err),
                     SWEEP_ENOTFOUND);
    assert_null(json);
    assert_true(at == 0);
    assert_non_null(strstr(f->err.msg, "no aggregate"));

    assert_int_equal(store_aggregate_put(f->st, s, gen, "{\"1\": {}}\n", &f->err), 0);
    assert_int_equal(store_aggregate_get(f->st, s, &json, &at, &f->err), 0);
    assert_string_equal(json, "{\"1\": {}}\n");
    assert_true(at > 0);
    free(json);
    /* A later one replaces it, with its generation. */
    assert_int_equal(store_aggregate_put(f->st, s, 7, "[]\n", &f->err), 0);
    assert_int_equal(store_aggregate_get(f->st, s, &json, &at, &f->err), 0);
    assert_string_equal(json, "[]\n");
    free(json);
    snprintf(want, sizeof(want), "%lld|7;", s);
    assert_rows(f->home, "SELECT study_id, generation FROM aggregates", want);

    assert_int_equal(store_aggregate_put(f->st, 999, 1, "[]", &f->err),
                     SWEEP_ENOTFOUND);
    assert_int_equal(store_aggregate_get(f->st, 999, &json, &at, &f->err),
                     SWEEP_ENOTFOUND);
}

/* Puts one task in each state; returns their keys by state. */
/* The states of a single-step run (the pipeline states are tested on their own). */
#define NRUN_STATES (TASK_INTERRUPTED + 1)

static void make_every_state(struct fixture *f,
                             long long s,
                             long long gen,
                             char keys[NRUN_STATES][EXPAND_KEY_LEN + 1])
{
    long long n;

    for (int i = 0; i < NRUN_STATES; i++) {
        key_of(100 + i, keys[i]);
        put_task(f, s, gen, keys[i], i, PRIORITY_MEDIUM);
    }
    for (int i = 0; i < NRUN_STATES; i++) {
        long long id = id_of(f, s, keys[i]);
        switch ((enum task_state)i) {
        case TASK_PENDING:
            break;
        case TASK_RUNNING:
            start(f, id, 1);
            break;
        case TASK_CANCELLED:
            assert_int_equal(store_cancel(f->st, s, id, &n, &f->err), 0);
            assert_int_equal(n, 1);
            break;
        default:
            start(f, id, 1);
            finish(f, id, 1, (enum task_state)i, 0);
        }
        assert_int_equal(state_of(f, s, keys[i]), i);
    }
}

static int open_collect(const struct store_open_attempt *a, void *arg)
{
    struct {
        int n;
        long long task[4];
        int pgid[4];
        char owner[4][32];
    } *seen = arg;
    if (seen->n < 4) {
        seen->task[seen->n] = a->task_id;
        seen->pgid[seen->n] = a->pgid;
        snprintf(seen->owner[seen->n], 32, "%s", a->owner ? a->owner : "");
    }
    seen->n++;
    return 0;
}

/* ---- owners, leases and stale results ---- */

/* A version-4 database (as the sweep before owners and leases made it) is upgraded in
 * place to version 5: an attempt left open keeps no owner, and a reset treats it as
 * left by a dead run, as before; a second open changes nothing. */
static void test_upgrade_from_v4(void **state)
{
    struct fixture *f = *state;
    long long gen, pending, study = put_study(f, "s4", &gen);
    char path[256];
    sqlite3 *db;

    put_task(f, study, gen, "00000000000000a1", 0, 50);
    start(f, id_of(f, study, "00000000000000a1"), 1);
    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX attempts_open;" V5_DROP
                                  " PRAGMA user_version = 4;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_rows(f->home,
                "SELECT attempt, state, owner, lease_until, pid, pgid, stale,"
                " metrics_json FROM attempts",
                "1|1|NULL|0|0|0|0|NULL;");
    store_set_owner(f->st, "h:1:2", 0);
    assert_int_equal(
        store_study_reset(f->st, study, gen, STORE_RERUN_FAILED, &pending, &f->err), 0);
    assert_int_equal(pending, 1);
    assert_rows(f->home, "SELECT attempt, state FROM attempts", "1|6;");
    store_close(f->st);
    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_rows(f->home, "SELECT count(*) FROM attempts", "1;");
}

/* Attempts carry their owner, lease and process; the owner renews its leases in one
 * update; an expired lease of another owner interrupts the attempt and makes its task
 * runnable (or cancelled when that was requested); the connection's own attempts never
 * expire under it. */
static void test_leases_renew_and_expire(void **state)
{
    struct fixture *f = *state;
    long long gen, n = -1, s = put_study(f, "lease", &gen);
    char k[3][EXPAND_KEY_LEN + 1];
    long long id[3];
    struct store_attempt att[2] = {0};

    for (int i = 0; i < 3; i++) {
        key_of(i, k[i]);
        put_task(f, s, gen, k[i], i, PRIORITY_MEDIUM);
        id[i] = id_of(f, s, k[i]);
    }
    assert_null(store_owner(f->st));
    assert_true(store_lease(f->st) == 0);
    store_set_owner(f->st, "hostA:100:5", 30);
    assert_string_equal(store_owner(f->st), "hostA:100:5");
    assert_true(store_lease(f->st) == 30);
    double t0 = time_now();
    start(f, id[0], 1);
    start(f, id[1], 1);
    assert_int_equal(store_attempt_set_process(f->st, id[0], 1, 4242, 4242, &f->err),
                     0);
    assert_int_equal(store_attempt_set_process(f->st, id[2], 1, 1, 1, &f->err),
                     SWEEP_ENOTFOUND);
    assert_int_equal(store_task_attempts(f->st, id[0], collect_attempt, att, &f->err),
                     0);
    assert_string_equal(att[0].owner, "hostA:100:5");
    assert_true(att[0].lease_until >= t0 + 30 && att[0].lease_until < t0 + 60);
    assert_int_equal(att[0].pid, 4242);
    assert_int_equal(att[0].pgid, 4242);
    free(att[0].owner);
    free(att[0].error);

    /* Renewal: every open attempt of the owner, and no other's. */
    assert_int_equal(store_lease_renew(f->st, "hostA:100:5", t0 + 1000, &n, &f->err),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(store_lease_renew(f->st, "other", t0 + 1000, &n, &f->err), 0);
    assert_int_equal(n, 0);
    /* The own attempts do not expire under their owner. */
    assert_int_equal(store_expire_leases(f->st, t0 + 5000, NULL, NULL, &n, &f->err), 0);
    assert_int_equal(n, 0);

    /* Another owner sees them expire only after the lease. */
    store_set_owner(f->st, "hostB:7:8", 0);
    assert_true(store_lease(f->st) == STORE_LEASE_DEFAULT);
    assert_int_equal(store_expire_leases(f->st, t0 + 999, NULL, NULL, &n, &f->err), 0);
    assert_int_equal(n, 0);
    long long nc = 0;
    assert_int_equal(store_cancel(f->st, s, id[1], &nc, &f->err), 0);
    assert_int_equal(nc, 1);
    assert_int_equal(store_expire_leases(f->st, t0 + 1001, NULL, NULL, &n, &f->err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(state_of(f, s, k[0]), TASK_PENDING);
    assert_int_equal(state_of(f, s, k[1]), TASK_CANCELLED);
    memset(att, 0, sizeof(att));
    assert_int_equal(store_task_attempts(f->st, id[0], collect_attempt, att, &f->err),
                     0);
    assert_int_equal(att[0].state, TASK_INTERRUPTED);
    assert_non_null(strstr(att[0].error, "lease"));
    assert_non_null(strstr(att[0].error, "hostA:100:5"));
    assert_true(att[0].finished_at == 0);
    free(att[0].owner);
    free(att[0].error);
    /* The task runs again, now owned by hostB. */
    start(f, id[0], 2);
    assert_rows(f->home, "SELECT attempt, owner FROM attempts WHERE state = 1",
                "2|hostB:7:8;");
    /* Without an owner an attempt has no lease and never expires. */
    store_set_owner(f->st, NULL, 0);
    start(f, id[2], 1);
    assert_int_equal(store_expire_leases(f->st, t0 + 1e9, NULL, NULL, &n, &f->err), 0);
    assert_int_equal(n, 1); /* hostB's */
    assert_int_equal(state_of(f, s, k[2]), TASK_RUNNING);
}

/* A reset interrupts the open attempts nobody holds (no owner, the connection's own,
 * an expired lease) and leaves those under a live lease running; the open attempts are
 * listed with their process, and one of them is interrupted by hand. */
static void test_reset_and_open_attempts(void **state)
{
    struct fixture *f = *state;
    long long gen, pending, s = put_study(f, "r", &gen);
    char k[4][EXPAND_KEY_LEN + 1];
    long long id[4];
    struct open_seen {
        int n;
        long long task[4];
        int pgid[4];
        char owner[4][32];
    } seen = {0};

    for (int i = 0; i < 4; i++) {
        key_of(i, k[i]);
        put_task(f, s, gen, k[i], i, PRIORITY_MEDIUM);
        id[i] = id_of(f, s, k[i]);
    }
    start(f, id[0], 1); /* no owner */
    store_set_owner(f->st, "live:1:1", 600);
    start(f, id[1], 1);
    assert_int_equal(store_attempt_set_process(f->st, id[1], 1, 77, 77, &f->err), 0);
    store_set_owner(f->st, "dead:2:2", 600);
    start(f, id[2], 1);
    assert_int_equal(store_lease_renew(f->st, "dead:2:2", 1.0, NULL, &f->err), 0);
    store_set_owner(f->st, "me:3:3", 600);
    start(f, id[3], 1);

    int rc = store_attempt_each_open(f->st, s, open_collect, &seen, &f->err);
    assert_int_equal(rc, 0);
    assert_int_equal(seen.n, 4);
    assert_int_equal(seen.task[1], id[1]);
    assert_int_equal(seen.pgid[1], 77);
    assert_string_equal(seen.owner[0], "");
    assert_string_equal(seen.owner[1], "live:1:1");

    assert_int_equal(
        store_study_reset(f->st, s, gen, STORE_RERUN_FAILED, &pending, &f->err), 0);
    assert_int_equal(pending, 3);
    assert_int_equal(state_of(f, s, k[1]), TASK_RUNNING);
    for (int i = 0; i < 4; i++) {
        if (i != 1)
            assert_int_equal(state_of(f, s, k[i]), TASK_PENDING);
    }
    /* The live one, ended by hand (a dead local run's, after its group was killed). */
    assert_int_equal(
        store_attempt_interrupt(f->st, id[1], 1, "interrupted: x", &f->err), 0);
    assert_int_equal(
        store_attempt_interrupt(f->st, id[1], 1, "interrupted: x", &f->err),
        SWEEP_ENOTFOUND);
    assert_int_equal(state_of(f, s, k[1]), TASK_INTERRUPTED);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_attempt_each_open(f->st, s, open_collect, &seen, &f->err),
                     0);
    assert_int_equal(seen.n, 0);
}

/* A result for an attempt that is no longer open is recorded as stale and changes
 * nothing else: the first late result of an attempt closed without one is kept in its
 * row; any further one is counted. Inside the caller's transaction, which stays
 * usable. */
static void test_stale_results(void **state)
{
    struct fixture *f = *state;
    long long gen, n, pending, s = put_study(f, "stale", &gen);
    const char *k = "00000000000000c1";
    struct store_attempt att[3] = {0};
    struct task_outcome o = {.state = TASK_SUCCEEDED,
                             .exit_code = 0,
                             .finished_at = 150.0,
                             .wall = 50,
                             .metrics_json = "{\"late\":1}"};

    put_task(f, s, gen, k, 0, PRIORITY_MEDIUM);
    long long id = id_of(f, s, k);
    store_set_owner(f->st, "gone:1:1", 10);
    start(f, id, 1);
    store_set_owner(f->st, "next:2:2", 10);
    assert_int_equal(
        store_expire_leases(f->st, time_now() + 100, NULL, NULL, &n, &f->err), 0);
    assert_int_equal(n, 1);

    assert_int_equal(store_begin(f->st, &f->err), 0);
    assert_int_equal(store_task_finished(f->st, id, 1, &o, &f->err), SWEEP_ESTALE);
    assert_non_null(strstr(f->err.msg, "stale"));
    assert_int_equal(store_commit(f->st, &f->err), 0);
    struct store_task t = find(f, s, k);
    assert_int_equal(t.state, TASK_PENDING);
    assert_null(t.metrics_json);
    assert_int_equal(t.exit_code, -1);
    store_task_fini(&t);
    assert_rows(f->home, "SELECT count(*) FROM metrics", "0;");
    assert_rows(f->home,
                "SELECT attempt, state, stale, exit_code, wall, metrics_json"
                " FROM attempts",
                "1|6|1|0|50|{\"late\":1};");

    /* The task runs again and succeeds; late results of either attempt are stale. */
    start(f, id, 2);
    finish(f, id, 2, TASK_SUCCEEDED, 0);
    o.exit_code = 3;
    o.state = TASK_FAILED;
    assert_int_equal(store_task_finished(f->st, id, 1, &o, &f->err), SWEEP_ESTALE);
    assert_int_equal(store_task_finished(f->st, id, 2, &o, &f->err), SWEEP_ESTALE);
    assert_int_equal(store_task_attempts(f->st, id, collect_attempt, att, &f->err), 0);
    assert_int_equal(att[0].stale, 2);
    assert_int_equal(att[0].exit_code, 0);
    assert_string_equal(att[0].metrics_json, "{\"late\":1}");
    assert_int_equal(att[1].stale, 1);
    assert_int_equal(att[1].state, TASK_SUCCEEDED);
    assert_int_equal(att[1].exit_code, 0);
    for (int i = 0; i < 2; i++) {
        free(att[i].error);
        free(att[i].owner);
        free(att[i].metrics_json);
    }
    t = find(f, s, k);
    assert_int_equal(t.state, TASK_SUCCEEDED);
    assert_string_equal(t.metrics_json, "{\"x\":1}");
    store_task_fini(&t);
    /* A reset does not count a stale attempt as running. */
    assert_int_equal(
        store_study_reset(f->st, s, gen, STORE_RERUN_FAILED, &pending, &f->err), 0);
    assert_int_equal(pending, 0);
}

/* Owners: this process is alive; its pid with another start time, a pid that does not
 * exist and a zombie are dead; another host's, or a worker id, is foreign. */
static void test_owner_state(void **state)
{
    char *self = runner_owner_self(), host[256], buf[512];
    unsigned long long start;
    int pid;

    (void)state;
    assert_int_equal(runner_owner_state(self), RUNNER_OWNER_ALIVE);
    assert_int_equal(sscanf(strrchr(self, ':') + 1, "%llu", &start), 1);
    pid = (int)getpid();
    *strchr(self, ':') = '\0';
    snprintf(host, sizeof(host), "%s", self);
    snprintf(buf, sizeof(buf), "%s:%d:%llu", host, pid, start + 1);
    assert_int_equal(runner_owner_state(buf), RUNNER_OWNER_DEAD);
    snprintf(buf, sizeof(buf), "%s:%d:%llu", host, INT_MAX, start);
    assert_int_equal(runner_owner_state(buf), RUNNER_OWNER_DEAD);
    snprintf(buf, sizeof(buf), "not-%s:%d:%llu", host, pid, start);
    assert_int_equal(runner_owner_state(buf), RUNNER_OWNER_FOREIGN);
    assert_int_equal(runner_owner_state("worker-7"), RUNNER_OWNER_FOREIGN);
    assert_int_equal(runner_owner_state(NULL), RUNNER_OWNER_FOREIGN);
    snprintf(buf, sizeof(buf), "%s:x:1", host);
    assert_int_equal(runner_owner_state(buf), RUNNER_OWNER_FOREIGN);
    /* A child that has exited and is not reaped yet (a zombie) is dead. */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    char stat_path[64], st = 0;
    snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)child);
    for (int i = 0; i < 2000 && st != 'Z'; i++) {
        FILE *fp = fopen(stat_path, "r");
        char line[512] = "";
        if (fp) {
            if (fgets(line, sizeof(line), fp) && strrchr(line, ')'))
                st = strrchr(line, ')')[2];
            fclose(fp);
        }
        if (st != 'Z')
            usleep(1000);
    }
    assert_int_equal(st, 'Z');
    char *line = NULL;
    size_t cap = 0;
    FILE *fp = fopen(stat_path, "r");
    assert_non_null(fp);
    assert_true(getline(&line, &cap, fp) > 0);
    fclose(fp);
    /* Field 22 is the 20th after the ')'. */
    char *p = strrchr(line, ')') + 2;
    for (int field = 3; field < 22; field++)
        p = strchr(p, ' ') + 1;
    snprintf(buf, sizeof(buf), "%s:%d:%llu", host, (int)child, strtoull(p, NULL, 10));
    free(line);
    assert_int_equal(runner_owner_state(buf), RUNNER_OWNER_DEAD);
    waitpid(child, NULL, 0);
    free(self);
}

/* A child leading its own process group, sleeping until killed. */
static pid_t spawn_group(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        for (;;)
            pause();
    }
    setpgid(pid, pid); /* either side may win the race; both ask the same */
    return pid;
}

/* The tasks a dead local run left running: the group started by the attempt gets
 * SIGTERM and the attempt is interrupted; a group whose leader started at another
 * time (its pid reused) is not signalled, and its attempt is interrupted all the
 * same. Attempts of a live owner or another host stay open. */
static void test_end_orphans(void **state)
{
    struct fixture *f = *state;
    long long gen, n = -1, s = put_study(f, "orph", &gen);
    char k[4][EXPAND_KEY_LEN + 1], dead[300], host[256];
    long long id[4];
    char *self = runner_owner_self();
    int status;

    snprintf(host, sizeof(host), "%s", self);
    *strchr(host, ':') = '\0';
    snprintf(dead, sizeof(dead), "%s:%d:1", host, INT_MAX);
    for (int i = 0; i < 4; i++) {
        key_of(i, k[i]);
        put_task(f, s, gen, k[i], i, PRIORITY_MEDIUM);
        id[i] = id_of(f, s, k[i]);
    }
    store_set_owner(f->st, dead, 0);
    double now = time_now();
    assert_int_equal(store_task_started(f->st, id[0], 1, now - 0.5, &f->err), 0);
    pid_t ours = spawn_group();
    assert_int_equal(store_attempt_set_process(f->st, id[0], 1, ours, ours, &f->err),
                     0);
    /* Recorded as started in the future: the live group is not this attempt's. */
    pid_t other = spawn_group();
    assert_int_equal(store_task_started(f->st, id[1], 1, now + 100, &f->err), 0);
    assert_int_equal(store_attempt_set_process(f->st, id[1], 1, other, other, &f->err),
                     0);
    store_set_owner(f->st, self, 0);
    start(f, id[2], 1);
    store_set_owner(f->st, "elsewhere:1:1", 0);
    start(f, id[3], 1);

    assert_int_equal(runner_end_orphans(f->st, s, NULL, NULL, &n, &f->err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(waitpid(ours, &status, 0), ours);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    assert_int_equal(waitpid(other, &status, WNOHANG), 0);
    kill(other, SIGKILL);
    waitpid(other, NULL, 0);
    assert_int_equal(state_of(f, s, k[0]), TASK_INTERRUPTED);
    assert_int_equal(state_of(f, s, k[1]), TASK_INTERRUPTED);
    assert_int_equal(state_of(f, s, k[2]), TASK_RUNNING);
    assert_int_equal(state_of(f, s, k[3]), TASK_RUNNING);
    assert_rows(f->home,
                "SELECT count(*) FROM attempts WHERE state = 6 AND error LIKE"
                " '%died; its process group%'",
                "2;");
    free(self);
}

static void test_reset_every_state(void **state)
{
    struct fixture *f = *state;
    char keys[NRUN_STATES][EXPAND_KEY_LEN + 1];
    static const struct {
        enum store_rerun rerun;
        long long pending;
        enum task_state after[NRUN_STATES]; /* by state before */
    } cases[] = {
        {STORE_RERUN_FAILED,
         6,
         {TASK_PENDING, TASK_PENDING, TASK_SUCCEEDED, TASK_PENDING, TASK_PENDING,
          TASK_PENDING, TASK_PENDING}},
        {STORE_RERUN_ALL,
         7,
         {TASK_PENDING, TASK_PENDING, TASK_PENDING, TASK_PENDING, TASK_PENDING,
          TASK_PENDING, TASK_PENDING}},
        /* --skip-failed: failed and timed out stay; what never ended runs. */
        {STORE_RERUN_UNTRIED,
         4,
         {TASK_PENDING, TASK_PENDING, TASK_SUCCEEDED, TASK_FAILED, TASK_TIMED_OUT,
          TASK_PENDING, TASK_PENDING}},
        /* sweep retry: nothing ended goes back; the dead run's task is interrupted. */
        {STORE_RERUN_NONE,
         1,
         {TASK_PENDING, TASK_INTERRUPTED, TASK_SUCCEEDED, TASK_FAILED, TASK_TIMED_OUT,
          TASK_CANCELLED, TASK_INTERRUPTED}},
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char name[16];
        long long gen, pending = -1;
        snprintf(name, sizeof(name), "s%zu", c);
        long long s = put_study(f, name, &gen);
        make_every_state(f, s, gen, keys);
        assert_int_equal(
            store_study_reset(f->st, s, gen, cases[c].rerun, &pending, &f->err), 0);
        assert_int_equal(pending, cases[c].pending);
        for (int i = 0; i < NRUN_STATES; i++)
            assert_int_equal(state_of(f, s, keys[i]), cases[c].after[i]);

        /* The running task's run died: its attempt is closed as interrupted and it
         * reruns; its history stays. */
        struct store_attempt att[2] = {0};
        long long id = id_of(f, s, keys[TASK_RUNNING]);
        assert_int_equal(store_task_attempts(f->st, id, collect_attempt, att, &f->err),
                         0);
        assert_int_equal(att[0].attempt, 1);
        assert_int_equal(att[0].state, TASK_INTERRUPTED);
        assert_non_null(strstr(att[0].error, "interrupted"));
        free(att[0].error);
        struct store_task t = find(f, s, keys[TASK_RUNNING]);
        assert_int_equal(t.attempts, 1);
        assert_non_null(strstr(t.error, "interrupted"));
        store_task_fini(&t);
        /* The reset tasks can start again with their next attempt. */
        if (cases[c].after[TASK_RUNNING] == TASK_PENDING)
            start(f, id, 2);
    }
}

static void test_reset_only_its_generation_and_clears_flags(void **state)
{
    struct fixture *f = *state;
    const char *old = "00000000000000c1", *cur = "00000000000000c2";
    long long gen, pending, n;

    long long s = put_study(f, "s", &gen);
    put_task(f, s, gen, old, 0, PRIORITY_MEDIUM);
    put_task(f, s, gen, cur, 1, PRIORITY_MEDIUM);
    start(f, id_of(f, s, old), 1);
    finish(f, id_of(f, s, old), 1, TASK_FAILED, 0);
    long long id = id_of(f, s, cur);
    start(f, id, 1);
    assert_int_equal(store_cancel(f->st, s, id, &n, &f->err), 0);
    assert_int_equal(n, 1);

    put_study(f, "s", &gen);
    put_task(f, s, gen, cur, 0, PRIORITY_MEDIUM);
    assert_int_equal(store_study_reset(f->st, s, gen, false, &pending, &f->err), 0);
    assert_int_equal(pending, 1);
    assert_int_equal(state_of(f, s, old), TASK_FAILED);
    assert_int_equal(state_of(f, s, cur), TASK_PENDING);
    start(f, id, 2); /* no stale cancellation request */
    struct seen seen = {0};
    assert_int_equal(store_task_cancel_requested(f->st, s, collect, &seen, &f->err), 0);
    assert_int_equal(seen.n, 0);
}

static void test_counts_by_band_and_state(void **state)
{
    struct fixture *f = *state;
    long long gen, counts[3][TASK_NSTATES];
    char key[EXPAND_KEY_LEN + 1];
    static const struct {
        int priority;
        enum task_state state;
    } tasks[] = {
        {PRIORITY_HIGH, TASK_SUCCEEDED},
        {7, TASK_SUCCEEDED},
        {PRIORITY_HIGH, TASK_FAILED},
        {PRIORITY_MEDIUM, TASK_PENDING},
        {PRIORITY_MEDIUM, TASK_RUNNING},
        {PRIORITY_LOW, TASK_TIMED_OUT},
        {-3, TASK_PENDING},
        {PRIORITY_LOW, TASK_PENDING},
    };

    long long s = put_study(f, "s", &gen);
    for (size_t i = 0; i < sizeof(tasks) / sizeof(tasks[0]); i++) {
        key_of((long long)i, key);
        put_task(f, s, gen, key, (long long)i, tasks[i].priority);
        long long id = id_of(f, s, key);
        if (tasks[i].state != TASK_PENDING)
            start(f, id, 1);
        if (task_state_is_final(tasks[i].state))
            finish(f, id, 1, tasks[i].state, 0);
    }
    assert_int_equal(store_study_counts(f->st, s, counts, &f->err), 0);
    long long want[3][TASK_NSTATES] = {{0}};
    want[2][TASK_SUCCEEDED] = 2;
    want[2][TASK_FAILED] = 1;
    want[1][TASK_PENDING] = 1;
    want[1][TASK_RUNNING] = 1;
    want[0][TASK_TIMED_OUT] = 1;
    want[0][TASK_PENDING] = 2;
    assert_memory_equal(counts, want, sizeof(want));

    assert_int_equal(store_study_counts(f->st, 999, counts, &f->err), SWEEP_ENOTFOUND);
}

static void test_find_by_key_and_prefix(void **state)
{
    struct fixture *f = *state;
    struct store_task t;
    long long gen;

    long long s = put_study(f, "s", &gen);
    put_task(f, s, gen, "abcd000000000001", 0, PRIORITY_MEDIUM);
    put_task(f, s, gen, "abcd000000000002", 1, PRIORITY_MEDIUM);
    put_task(f, s, gen, "abce000000000003", 2, PRIORITY_MEDIUM);
    put_task(f, s, gen, "ffff00000000000f", 3, PRIORITY_MEDIUM);
    long long s2 = put_study(f, "s2", &gen);
    put_task(f, s2, gen, "ffff000000000010", 0, PRIORITY_MEDIUM);

    static const struct {
        int study; /* 0: any, 1: s, 2: s2 */
        const char *key;
        int rc;
        const char *want; /* key found, or a piece of the message */
    } cases[] = {
        {1, "abcd000000000002", 0, "abcd000000000002"},
        {0, "abcd000000000002", 0, "abcd000000000002"},
        {1, "abce", 0, "abce000000000003"},
        {1, "ABCE0", 0, "abce000000000003"},
        {1, "ffff", 0, "ffff00000000000f"},
        {2, "ffff", 0, "ffff000000000010"},
        {0, "ffff0000000000", SWEEP_EINVAL, "ambiguous"},
        {1, "abcd", SWEEP_EINVAL, "ambiguous"},
        {1, "abcf", SWEEP_ENOTFOUND, "abcf"},
        {1, "abcd000000000003", SWEEP_ENOTFOUND, "abcd000000000003"},
        {2, "abce", SWEEP_ENOTFOUND, "abce"},
        {1, "abc", SWEEP_EINVAL, "hex digits"},
        {1, "abcg", SWEEP_EINVAL, "hex digits"},
        {1, "abcd0000000000010", SWEEP_EINVAL, "hex digits"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long sid = cases[i].study == 0 ? 0 : cases[i].study == 1 ? s : s2;
        int rc = store_task_find(f->st, sid, cases[i].key, &t, &f->err);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_string_equal(t.key, cases[i].want);
            assert_int_equal(t.study_id, sid ? sid : s);
            store_task_fini(&t);
        } else {
            assert_non_null(strstr(f->err.msg, cases[i].want));
        }
    }
}

/* Task names (store_task_resolve): an id, a key or prefix, STUDY/KEY, with study_id
 * as --study; keys shared by two studies (a spec copied under another name) are
 * ambiguous as bare keys and listed as STUDY/KEY with their ids. */
static void test_resolve_names(void **state)
{
    struct fixture *f = *state;
    long long gen, gen2;
    char ida[32], idb[32], idc[32], name[128];
    struct store_task t;
    char *study;

    long long a = put_study(f, "alpha", &gen);
    long long b = put_study(f, "beta", &gen2);
    put_task(f, a, gen, "5e5e000000000001", 0, PRIORITY_MEDIUM);
    put_task(f, a, gen, "1234000000000002", 1, PRIORITY_MEDIUM);
    put_task(f, b, gen2, "5e5e000000000001", 0, PRIORITY_MEDIUM);
    long long id_a = id_of(f, a, "5e5e000000000001");
    long long id_b = id_of(f, b, "5e5e000000000001");
    long long id_c = id_of(f, a, "1234000000000002");
    snprintf(ida, sizeof(ida), "%lld", id_a);
    snprintf(idb, sizeof(idb), "%lld", id_b);
    snprintf(idc, sizeof(idc), "%lld", id_c);

    static const struct {
        const char *name; /* "%A" "%B" "%C": the ids of the three tasks */
        int study;        /* 0: any, 1: alpha, 2: beta */
        int rc;
        int want;            /* 1, 2, 3: which task */
        const char *in_msg;  /* a piece of the message, for an error */
        const char *in_msg2; /* another */
    } cases[] = {
        {"%A", 0, 0, 1, NULL, NULL},
        {"%B", 0, 0, 2, NULL, NULL},
        {"alpha/5e5e", 0, 0, 1, NULL, NULL},
        {"beta/5E5E000000000001", 0, 0, 2, NULL, NULL},
        {"beta/%B", 0, 0, 2, NULL, NULL},
        {"5e5e", 2, 0, 2, NULL, NULL},
        {"%B", 2, 0, 2, NULL, NULL},
        {"1234", 0, 0, 3, NULL, NULL}, /* no task has id 1234: the key prefix */
        {"5e5e000000000001", 0, SWEEP_EINVAL, 0, "alpha/5e5e000000000001 (id %A)",
         "beta/5e5e000000000001 (id %B)"},
        {"5e5e", 0, SWEEP_EINVAL, 0, "STUDY/KEY", "by its id"},
        {"alpha/%B", 0, SWEEP_ENOTFOUND, 0, "in study alpha", NULL},
        {"%A", 2, SWEEP_ENOTFOUND, 0, "no task with id", NULL},
        {"gamma/5e5e", 0, SWEEP_ENOTFOUND, 0, "no study named 'gamma'", NULL},
        {"alpha/5e5f", 0, SWEEP_ENOTFOUND, 0, "key prefix '5e5f' in study alpha", NULL},
        {"nosuch", 0, SWEEP_ENOTFOUND, 0, "'nosuch' is not a task", NULL},
        {"99999", 0, SWEEP_ENOTFOUND, 0, "with id or key '99999'", NULL},
        {"0", 0, SWEEP_ENOTFOUND, 0, "not a task", NULL},
        {"alpha/", 0, SWEEP_ENOTFOUND, 0, "not a task", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long sid = cases[i].study == 1 ? a : cases[i].study == 2 ? b : 0;
        const char *pieces[3] = {cases[i].name, cases[i].in_msg, cases[i].in_msg2};
        char exp[3][128];
        int rc;

        /* Put the ids in. */
        for (int k = 0; k < 3; k++) {
            const char *p = pieces[k], *pc;
            exp[k][0] = '\0';
            if (!p)
                continue;
            pc = strchr(p, '%');
            if (!pc)
                snprintf(exp[k], sizeof(exp[k]), "%s", p);
            else
                snprintf(exp[k], sizeof(exp[k]), "%.*s%s%s", (int)(pc - p), p,
                         pc[1] == 'A'   ? ida
                         : pc[1] == 'B' ? idb
                                        : idc,
                         pc + 2);
        }
        snprintf(name, sizeof(name), "%s", exp[0]);
        rc = store_task_resolve(f->st, sid, name, &t, &study, &f->err);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, want %d: %s", name, rc, cases[i].rc, f->err.msg);
        if (rc == 0) {
            long long want = cases[i].want == 1   ? id_a
                             : cases[i].want == 2 ? id_b
                                                  : id_c;
            assert_int_equal(t.id, want);
            assert_string_equal(study, cases[i].want == 2 ? "beta" : "alpha");
            store_task_fini(&t);
            free(study);
            continue;
        }
        assert_null(study);
        for (int k = 1; k < 3; k++)
            if (exp[k][0] && !strstr(f->err.msg, exp[k]))
                fail_msg("%s: '%s' not in: %s", name, exp[k], f->err.msg);
    }

    /* A number that is an id and also a key prefix names the task with that id; one
     * that is no id is a prefix (here of 1000 keys: ambiguous, the list cut short). */
    long long g = put_study(f, "gamma", &gen);
    char key[EXPAND_KEY_LEN + 1];
    assert_int_equal(store_begin(f->st, &f->err), 0);
    for (int i = 0; i < 1000; i++) {
        key_of(i, key); /* 1000000000000000 + i: every one starts with 1000 */
        put_task(f, g, gen, key, i, PRIORITY_MEDIUM);
    }
    assert_int_equal(store_commit(f->st, &f->err), 0);
    assert_int_equal(store_task_resolve(f->st, 0, "1000", &t, NULL, &f->err), 0);
    assert_int_equal(t.id, 1000);
    store_task_fini(&t);
    assert_int_equal(store_task_resolve(f->st, 0, "100000", &t, NULL, &f->err),
                     SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "gamma/1000000000000000 (id "));
    assert_non_null(strstr(f->err.msg, " and more;"));
}

/* A key seen again takes the new expansion's seed while it has never run, and keeps the
 * seed it ran with once it has. */
static void test_put_again_seed(void **state)
{
    struct fixture *f = *state;
    long long gen, gen2;
    struct expand_task t = {.params_json = "{}", .seed = 1};
    struct store_task got;

    long long s = put_study(f, "s", &gen);
    snprintf(t.key, sizeof(t.key), "%s", "00000000000000a1");
    assert_int_equal(store_task_put(f->st, s, gen, &t, 1, &f->err), 0);
    t.seq = 1;
    snprintf(t.key, sizeof(t.key), "%s", "00000000000000a2");
    assert_int_equal(store_task_put(f->st, s, gen, &t, 1, &f->err), 0);
    start(f, id_of(f, s, "00000000000000a2"), 1);

    put_study(f, "s", &gen2);
    t.seed = 2;
    t.seq = 0;
    snprintf(t.key, sizeof(t.key), "%s", "00000000000000a1");
    assert_int_equal(store_task_put(f->st, s, gen2, &t, 1, &f->err), 0);
    t.seq = 1;
    snprintf(t.key, sizeof(t.key), "%s", "00000000000000a2");
    assert_int_equal(store_task_put(f->st, s, gen2, &t, 1, &f->err), 0);
    got = find(f, s, "00000000000000a1");
    assert_int_equal(got.seed, 2);
    store_task_fini(&got);
    got = find(f, s, "00000000000000a2");
    assert_int_equal(got.seed, 1);
    store_task_fini(&got);
}

static void test_cancel_pending_and_running(void **state)
{
    struct fixture *f = *state;
    char key[EXPAND_KEY_LEN + 1];
    long long gen, n, ids[5];

    long long s = put_study(f, "s", &gen);
    for (int i = 0; i < 5; i++) {
        key_of(i, key);
        put_task(f, s, gen, key, i, PRIORITY_MEDIUM);
        ids[i] = id_of(f, s, key);
    }
    start(f, ids[0], 1);
    start(f, ids[1], 1);
    start(f, ids[2], 1);
    finish(f, ids[2], 1, TASK_SUCCEEDED, 0);

    /* One pending task on its own. */
    assert_int_equal(store_cancel(f->st, s, ids[3], &n, &f->err), 0);
    assert_int_equal(n, 1);
    key_of(3, key);
    struct store_task t = find(f, s, key);
    assert_int_equal(t.state, TASK_CANCELLED);
    assert_int_equal(t.attempts, 0);
    assert_true(t.finished_at > 0);
    store_task_fini(&t);

    /* The study: task 4 cancelled, 0 and 1 flagged, 2 done, 3 already cancelled. */
    assert_int_equal(store_cancel(f->st, s, 0, &n, &f->err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(store_cancel(f->st, s, 0, &n, &f->err), 0);
    assert_int_equal(n, 0);
    struct seen seen = {0};
    assert_int_equal(store_task_cancel_requested(f->st, s, collect, &seen, &f->err), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.id[0], ids[0]);
    assert_int_equal(seen.id[1], ids[1]);

    /* The runner records one cancelled; the other ends with a retry, which the
     * cancellation request overrides. */
    finish(f, ids[0], 1, TASK_CANCELLED, 0);
    finish(f, ids[1], 1, TASK_FAILED, 999.0);
    key_of(1, key);
    t = find(f, s, key);
    assert_int_equal(t.state, TASK_CANCELLED);
    assert_true(t.not_before == 0);
    store_task_fini(&t);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(store_task_cancel_requested(f->st, s, collect, &seen, &f->err), 0);
    assert_int_equal(seen.n, 0);
    assert_int_equal(state_of(f, s, "1000000000000004"), TASK_CANCELLED);
    assert_int_equal(state_of(f, s, "1000000000000002"), TASK_SUCCEEDED);

    /* Cancelled pending tasks are not started; unknown study or task. */
    assert_int_equal(store_task_started(f->st, ids[4], 1, 1.0, &f->err),
                     SWEEP_ENOTFOUND);
    assert_int_equal(store_cancel(f->st, 999, 0, &n, &f->err), SWEEP_ENOTFOUND);
    assert_int_equal(store_cancel(f->st, s, 9999, &n, &f->err), 0);
    assert_int_equal(n, 0);
}

/* ---- transactions ---- */

static void test_rollback_leaves_no_trace(void **state)
{
    struct fixture *f = *state;
    struct store_study s;
    long long gen, counts[3][TASK_NSTATES];
    struct {
        int n, stop_at;
        char names[4][16];
    } l = {0};

    store_rollback(f->st); /* nothing open: nothing happens */
    long long kept = put_study(f, "kept", &gen);
    put_task(f, kept, gen, "00000000000000d1", 0, PRIORITY_MEDIUM);
    long long id = id_of(f, kept, "00000000000000d1");
    start(f, id, 1);
    finish(f, id, 1, TASK_FAILED, 5.0);

    /* A call that fails after its first write undoes that write (attempt 1 exists). */
    assert_int_equal(store_task_started(f->st, id, 1, 1.0, &f->err), SWEEP_ESTORE);
    assert_non_null(strstr(f->err.msg, "attempt 1"));
    struct store_task t = find(f, kept, "00000000000000d1");
    assert_int_equal(t.state, TASK_PENDING);
    assert_true(t.not_before == 5.0);
    store_task_fini(&t);

    assert_int_equal(store_begin(f->st, &f->err), 0);
    long long gone = put_study(f, "gone", &gen);
    put_task(f, gone, gen, "00000000000000d2", 0, PRIORITY_MEDIUM);
    start(f, id, 2);
    /* The same inside a transaction: it stays usable. */
    assert_int_equal(store_task_started(f->st, id, 2, 1.0, &f->err), SWEEP_ENOTFOUND);
    assert_int_equal(state_of(f, kept, "00000000000000d1"), TASK_RUNNING);
    store_rollback(f->st);

    assert_int_equal(store_study_get(f->st, "gone", &s, &f->err), SWEEP_ENOTFOUND);
    assert_int_equal(store_study_list(f->st, list_names, &l, &f->err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(
        store_task_find(f->st, 0, "00000000000000d2", &(struct store_task){0}, &f->err),
        SWEEP_ENOTFOUND);
    assert_int_equal(state_of(f, kept, "00000000000000d1"), TASK_PENDING);
    assert_int_equal(store_study_counts(f->st, kept, counts, &f->err), 0);
    assert_int_equal(counts[1][TASK_PENDING], 1);

    /* A committed transaction survives a reopen. */
    assert_int_equal(store_begin(f->st, &f->err), 0);
    start(f, id, 2);
    assert_int_equal(store_commit(f->st, &f->err), 0);
    store_close(f->st);
    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(state_of(f, kept, "00000000000000d1"), TASK_RUNNING);

    /* Nested begin is an error that names the operation. */
    assert_int_equal(store_begin(f->st, &f->err), 0);
    assert_int_equal(store_begin(f->st, &f->err), SWEEP_ESTORE);
    assert_non_null(strstr(f->err.msg, "beginning a transaction"));
    store_rollback(f->st);
}

static void test_busy_database(void **state)
{
    struct fixture *f = *state;
    struct store *other;
    struct store_study s;

    put_study(f, "s", NULL);
    assert_int_equal(store_open(f->home, &other, &f->err), 0);
    assert_int_equal(store_begin(f->st, &f->err), 0);
    /* A reader is not blocked by the writer (WAL)... */
    assert_int_equal(store_study_get(other, "s", &s, &f->err), 0);
    store_study_fini(&s);
    /* ...a second writer gives up after the busy timeout. */
    assert_int_equal(store_begin(other, &f->err), SWEEP_EBUSY);
    assert_non_null(strstr(f->err.msg, "another sweep process holds the database"));
    assert_int_equal(store_commit(f->st, &f->err), 0);
    assert_int_equal(store_begin(other, &f->err), 0);
    assert_int_equal(store_commit(other, &f->err), 0);
    store_close(other);
}

/* Processes that open the same new home at the same instant all succeed: switching a
 * new database to WAL must wait for the others, not fail at once. */
static void test_concurrent_first_open(void **state)
{
    struct fixture *f = *state;
    enum { ROUNDS = 40, PROCS = 4 };

    for (int round = 0; round < ROUNDS; round++) {
        char home[160];
        int go[2];
        pid_t pids[PROCS];

        snprintf(home, sizeof(home), "%s/race%d", f->dir, round);
        assert_int_equal(pipe(go), 0);
        for (int i = 0; i < PROCS; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                struct store *st;
                struct err err = {0};
                char c;
                close(go[1]);
                if (read(go[0], &c, 1) != 0) /* returns 0 when the parent closes it */
                    _exit(3);
                int rc = store_open(home, &st, &err);
                if (rc)
                    fprintf(stderr, "round %d: %s\n", round, err.msg);
                store_close(rc ? NULL : st);
                _exit(rc ? 1 : 0);
            }
        }
        close(go[0]);
        close(go[1]); /* every child starts now */
        for (int i = 0; i < PROCS; i++) {
            int status;
            assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
    }
}

/* ---- pipelines ---- */

/* A chain's task: seq, chain and step as the expansion numbers them. */
static void put_step(struct fixture *f,
                     long long study,
                     long long gen,
                     long long seq,
                     long long chain,
                     int step)
{
    struct expand_task t = {
        .params_json = "{}", .seq = seq, .chain = chain, .step = step};

    key_of(seq, t.key);
    assert_int_equal(store_task_put(f->st, study, gen, &t, 1, &f->err), 0);
}

static long long id_at(struct fixture *f, long long study, long long seq)
{
    char key[EXPAND_KEY_LEN + 1];
    key_of(seq, key);
    return id_of(f, study, key);
}

static enum task_state state_at(struct fixture *f, long long study, long long seq)
{
    char key[EXPAND_KEY_LEN + 1];
    key_of(seq, key);
    return state_of(f, study, key);
}

static int count_chain(const struct store_task *t, void *arg)
{
    long long *seqs = arg;
    seqs[seqs[0]++ + 1] = t->seq;
    return 0;
}

/* Two chains of three steps (seq 0-2 and 3-5) and a reduce (seq 6): the reset makes
 * later steps and the reduce wait; a success releases the next step only; a failure
 * skips the rest of its chain; the reduce moves by its state; a second reset puts back
 * to waiting what follows a step that has not succeeded. */
static void test_pipeline_states(void **state)
{
    struct fixture *f = *state;
    long long gen, pending, n, seqs[8] = {0}, c[4][TASK_NSTATES];
    long long s = put_study(f, "pipe", &gen);
    struct store_task me, next;

    for (int i = 0; i < 6; i++)
        put_step(f, s, gen, i, i / 3, i % 3);
    put_step(f, s, gen, 6, -1, 3);
    assert_int_equal(store_study_reset(f->st, s, gen, false, &pending, &f->err), 0);
    assert_int_equal(pending, 2);
    static const enum task_state fresh[7] = {TASK_PENDING, TASK_WAITING, TASK_WAITING,
                                             TASK_PENDING, TASK_WAITING, TASK_WAITING,
                                             TASK_WAITING};
    for (int i = 0; i < 7; i++)
        assert_int_equal(state_at(f, s, i), fresh[i]);

    /* Chain 0: step 0 succeeds, step 1 is released, once. */
    start(f, id_at(f, s, 0), 1);
    finish(f, id_at(f, s, 0), 1, TASK_SUCCEEDED, 0);
    char key[EXPAND_KEY_LEN + 1];
    key_of(0, key);
    me = find(f, s, key);
    assert_int_equal(store_task_unblock_next(f->st, &me, gen, &next, &f->err), 1);
    assert_int_equal(next.seq, 1);
    assert_int_equal(next.state, TASK_PENDING);
    assert_int_equal(next.step, 1);
    assert_int_equal(next.chain, 0);
    store_task_fini(&next);
    assert_int_equal(store_task_unblock_next(f->st, &me, gen, &next, &f->err), 0);
    store_task_fini(&me);
    assert_int_equal(state_at(f, s, 2), TASK_WAITING);

    /* The steps before step 2 of chain 0, in order. */
    key_of(2, key);
    me = find(f, s, key);
    assert_int_equal(
        store_task_chain_before(f->st, &me, gen, count_chain, seqs, &f->err), 0);
    assert_int_equal(seqs[0], 2);
    assert_int_equal(seqs[1], 0);
    assert_int_equal(seqs[2], 1);
    store_task_fini(&me);

    /* Chain 1: step 0 fails; steps 1 and 2 are skipped with the reason. */
    start(f, id_at(f, s, 3), 1);
    finish(f, id_at(f, s, 3), 1, TASK_FAILED, 0);
    key_of(3, key);
    me = find(f, s, key);
    assert_int_equal(
        store_task_skip_rest(f->st, &me, gen, 3, "skipped: step a failed", &n, &f->err),
        0);
    assert_int_equal(n, 2);
    store_task_fini(&me);
    key_of(5, key);
    me = find(f, s, key);
    assert_int_equal(me.state, TASK_SKIPPED);
    assert_string_equal(me.error, "skipped: step a failed");
    assert_true(me.finished_at > 0);
    store_task_fini(&me);
    assert_int_equal(state_at(f, s, 0), TASK_SUCCEEDED); /* the other chain untouched */

    /* Counts by step, the reduce at index nsteps. */
    assert_int_equal(store_study_step_counts(f->st, s, 3, c, &f->err), 0);
    assert_int_equal(c[0][TASK_SUCCEEDED], 1);
    assert_int_equal(c[0][TASK_FAILED], 1);
    assert_int_equal(c[1][TASK_PENDING], 1);
    assert_int_equal(c[1][TASK_SKIPPED], 1);
    assert_int_equal(c[2][TASK_WAITING], 1);
    assert_int_equal(c[2][TASK_SKIPPED], 1);
    assert_int_equal(c[3][TASK_WAITING], 1);

    /* The reduce: the last task; moved from waiting only. */
    assert_int_equal(store_task_last(f->st, s, gen, &me, &f->err), 0);
    assert_int_equal(me.seq, 6);
    assert_int_equal(me.chain, -1);
    assert_int_equal(
        store_task_set_state(f->st, me.id, TASK_WAITING, TASK_PENDING, NULL, &f->err),
        0);
    assert_int_equal(
        store_task_set_state(f->st, me.id, TASK_WAITING, TASK_SKIPPED, "x", &f->err),
        SWEEP_ENOTFOUND);
    store_task_fini(&me);

    /* A run with --skip-failed: chain 1 stays failed and its steps after the failure
     * skipped, with their reason; chain 0 goes on; the reduce waits again. */
    assert_int_equal(
        store_study_reset(f->st, s, gen, STORE_RERUN_UNTRIED, &pending, &f->err), 0);
    static const enum task_state untried[7] = {
        TASK_SUCCEEDED, TASK_PENDING, TASK_WAITING, TASK_FAILED,
        TASK_SKIPPED,   TASK_SKIPPED, TASK_WAITING};
    for (int i = 0; i < 7; i++)
        assert_int_equal(state_at(f, s, i), untried[i]);
    assert_int_equal(pending, 1);
    key_of(4, key);
    me = find(f, s, key);
    assert_string_equal(me.error, "skipped: step a failed");
    store_task_fini(&me);

    /* A second run: chain 1 starts over (step 0 pending, the rest waiting); chain 0's
     * released step stays pending; the reduce waits again. */
    assert_int_equal(store_study_reset(f->st, s, gen, false, &pending, &f->err), 0);
    static const enum task_state again[7] = {TASK_SUCCEEDED, TASK_PENDING, TASK_WAITING,
                                             TASK_PENDING,   TASK_WAITING, TASK_WAITING,
                                             TASK_WAITING};
    for (int i = 0; i < 7; i++)
        assert_int_equal(state_at(f, s, i), again[i]);
    assert_int_equal(pending, 2);

    /* sweep cancel takes the waiting ones too. */
    assert_int_equal(store_cancel(f->st, s, 0, &n, &f->err), 0);
    assert_int_equal(n, 6);
    for (int i = 1; i < 7; i++)
        assert_int_equal(state_at(f, s, i), TASK_CANCELLED);
}

/* ---- deleting a study ---- */

/* Deleting a study takes its tasks, attempts, metrics and aggregate, and nothing of
 * another study, also not of one whose name it starts. */
static void test_study_delete(void **state)
{
    struct fixture *f = *state;
    long long gen, gen2, id;
    const char *key = "00000000000000d1";
    char want[64];

    long long s = put_study(f, "ab", &gen);
    long long other = put_study(f, "abc", &gen2);
    for (int i = 0; i < 2; i++) {
        long long sid = i == 0 ? s : other;
        put_task(f, sid, i == 0 ? gen : gen2, key, 0, PRIORITY_MEDIUM);
        id = id_of(f, sid, key);
        start(f, id, 1);
        finish(f, id, 1, TASK_SUCCEEDED, 0);
        assert_int_equal(store_aggregate_put(f->st, sid, 1, "{}", &f->err), 0);
    }
    assert_rows(f->home, "SELECT count(*) FROM metrics", "2;");

    assert_int_equal(store_study_delete(f->st, s, &f->err), 0);
    struct store_study got = {0};
    assert_int_equal(store_study_get(f->st, "ab", &got, &f->err), SWEEP_ENOTFOUND);
    assert_int_equal(store_study_get(f->st, "abc", &got, &f->err), 0);
    store_study_fini(&got);
    snprintf(want, sizeof(want), "%lld|1|1|1|1;", other);
    assert_rows(f->home,
                "SELECT (SELECT group_concat(study_id) FROM tasks),"
                " (SELECT count(*) FROM attempts), (SELECT count(*) FROM metrics),"
                " (SELECT count(*) FROM aggregates), (SELECT count(*) FROM studies)",
                want);
    assert_int_equal(state_of(f, other, key), TASK_SUCCEEDED);

    assert_int_equal(store_study_delete(f->st, s, &f->err), SWEEP_ENOTFOUND);
    assert_non_null(strstr(f->err.msg, "no study"));
}

/* ---- scale ---- */

static int count_tasks(const struct store_task *t, void *arg)
{
    long long *n = arg;
    assert_int_equal(t->seq, *n);
    (*n)++;
    return 0;
}

static void test_many_tasks(void **state)
{
    struct fixture *f = *state;
    enum { N = 20000 };
    long long gen, counts[3][TASK_NSTATES], n = 0;
    char key[EXPAND_KEY_LEN + 1];

    long long s = put_study(f, "big", &gen);
    assert_int_equal(store_begin(f->st, &f->err), 0);
    for (int i = 0; i < N; i++) {
        /* Keys in a scrambled order, as hashes are. */
        key_of((long long)((unsigned)i * 2654435761u), key);
        put_task(f, s, gen, key, i, i % 3 + 1);
    }
    assert_int_equal(store_commit(f->st, &f->err), 0);
    assert_int_equal(store_study_counts(f->st, s, counts, &f->err), 0);
    assert_int_equal(
        counts[0][TASK_PENDING] + counts[1][TASK_PENDING] + counts[2][TASK_PENDING], N);
    assert_int_equal(counts[2][TASK_PENDING], N / 3);
    assert_int_equal(store_task_each(f->st, s, -1, count_tasks, &n, &f->err), 0);
    assert_int_equal(n, N);

    /* Paging through the whole queue in batches sees every task once, in order. */
    int prio = INT_MAX, got = 0, last_prio = INT_MAX, b;
    long long seq = -1, last_seq = -1;
    do {
        struct seen seen = {0};
        b = store_task_next_pending(f->st, s, gen, 0, &prio, &seq, 64, collect, &seen,
                                    &f->err);
        assert_true(b >= 0);
        for (int i = 0; i < b; i++) {
            assert_true(seen.priority[i] < last_prio ||
                        (seen.priority[i] == last_prio && seen.seq[i] > last_seq));
            last_prio = seen.priority[i];
            last_seq = seen.seq[i];
        }
        got += b;
    } while (b == 64);
    assert_int_equal(got, N);
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* The connection opened by store_open while limit_pages is registered: its pages
 * limited to max_pages, a full disk as SQLite reports it (SQLITE_FULL). */
static int max_pages;
static sqlite3 *limited_db;

static int limit_pages(sqlite3 *db, const char **msg, const void *api)
{
    char sql[64];
    (void)msg, (void)api;
    limited_db = db;
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", max_pages);
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* A preparation that fails on a full disk says "disk full" and leaves no WAL of its
 * own size behind while the connection (as another process would) still holds the
 * database open; nothing of it is stored and the store still works. */
static void test_prepare_disk_full(void **state)
{
    struct fixture *f = *state;
    static const char text[] = "{\"study\": \"big\", \"command\": [\"true\", \"{i}\"],"
                               " \"parameters\": {\"i\": {\"range\": [1, 100000, 1]}}}";
    struct spec *spec = NULL;
    struct store_study s = {0};
    long long id = 0, gen = 0;
    uint64_t n = 0;
    char wal[256];
    int rc;

    store_close(f->st);
    max_pages = 1000; /* 4 MB */
    sqlite3_auto_extension((void (*)(void))limit_pages);
    rc = store_open(f->home, &f->st, &f->err);
    sqlite3_reset_auto_extension();
    assert_int_equal(rc, 0);
    /* A small page cache, so that the transaction's pages spill to the WAL before the
     * disk is full, as a large preparation's do. */
    assert_non_null(limited_db);
    assert_int_equal(
        sqlite3_exec(limited_db, "PRAGMA cache_size = 10", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(spec_parse("big.json", text, strlen(text), &spec, &f->err), 0);
    snprintf(wal, sizeof(wal), "%s/sweep.db-wal", f->home);
    rc = runner_prepare(f->st, spec, NULL, NULL, &id, &gen, &n, &f->err);
    assert_int_equal(rc, SWEEP_ESTORE);
    assert_non_null(strstr(f->err.msg, "disk full"));
    assert_true(file_size(wal) < 64 * 1024);
    assert_int_equal(store_study_get(f->st, "big", &s, &f->err), SWEEP_ENOTFOUND);
    put_study(f, "after", NULL);
    spec_destroy(spec);
}

/* The kept counts (task_counts, schema 6) equal a full count of the tasks after every
 * kind of change, and store_study_counts() and store_study_step_counts() read them. */
#define FULL_COUNTS                                                                    \
    "SELECT study_id, generation, step, CASE WHEN priority <= 1 THEN 0"                \
    " WHEN priority = 2 THEN 1 ELSE 2 END AS b, state, count(*) FROM tasks"            \
    " GROUP BY study_id, generation, step, b, state ORDER BY 1, 2, 3, 4, 5"
#define KEPT_COUNTS                                                                    \
    "SELECT study_id, generation, step, band, state, n FROM task_counts"               \
    " WHERE n <> 0 ORDER BY 1, 2, 3, 4, 5"

static void check_counts(struct fixture *f, long long study, const char *after)
{
    char *full = db_rows(f->home, FULL_COUNTS), *kept = db_rows(f->home, KEPT_COUNTS);
    long long counts[3][TASK_NSTATES], steps[2][TASK_NSTATES];
    struct store_study s;
    char sql[256], *want;
    int rc;

    if (strcmp(full, kept) != 0)
        fail_msg("after %s:\nfull: %s\nkept: %s", after, full, kept);
    free(full);
    free(kept);
    if (store_study_get(f->st, "c", &s, &f->err) != 0)
        return; /* deleted */
    assert_int_equal(store_study_counts(f->st, study, counts, &f->err), 0);
    assert_int_equal(store_study_step_counts(f->st, study, 1, steps, &f->err), 0);
    for (int b = 0; b < 3; b++) {
        for (int state = 0; state < TASK_NSTATES; state++) {
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM tasks WHERE study_id = %lld AND"
                     " generation = %lld AND state = %d AND priority %s",
                     study, s.generation, state,
                     b == 0   ? "<= 1"
                     : b == 1 ? "= 2"
                              : ">= 3");
            want = db_rows(f->home, sql);
            rc = atoi(want) == counts[b][state];
            if (!rc)
                fail_msg("after %s: band %d state %d: %lld, want %s", after, b, state,
                         counts[b][state], want);
            free(want);
        }
    }
    for (int state = 0; state < TASK_NSTATES; state++)
        assert_int_equal(steps[0][state],
                         counts[0][state] + counts[1][state] + counts[2][state]);
    store_study_fini(&s);
}

static void test_kept_counts(void **state)
{
    struct fixture *f = *state;
    long long gen, n, pending, study = put_study(f, "c", &gen);
    char key[EXPAND_KEY_LEN + 1];
    long long id[8];
    struct store_task t, next;

    for (int i = 0; i < 8; i++) {
        key_of(i, key);
        put_task(f, study, gen, key, i, 1 + i % 3);
        id[i] = id_of(f, study, key);
    }
    check_counts(f, study, "put");
    start(f, id[0], 1);
    start(f, id[1], 1);
    start(f, id[2], 1);
    start(f, id[3], 1);
    check_counts(f, study, "start");
    finish(f, id[0], 1, TASK_SUCCEEDED, 0);
    finish(f, id[1], 1, TASK_FAILED, 0);
    check_counts(f, study, "finish");
    finish(f, id[2], 1, TASK_FAILED, 500.0);
    check_counts(f, study, "retry");
    assert_int_equal(store_task_requeue(f->st, id[1], &f->err), 0);
    check_counts(f, study, "requeue");
    assert_int_equal(store_cancel(f->st, study, id[4], &n, &f->err), 0);
    assert_int_equal(store_cancel(f->st, study, id[3], &n, &f->err), 0);
    check_counts(f, study, "cancel");
    assert_int_equal(
        store_task_set_state(f->st, id[5], TASK_PENDING, TASK_WAITING, NULL, &f->err),
        0);
    check_counts(f, study, "set state (waiting)");
    t = find(f, study, "1000000000000004");
    t.seq = 4, t.step = 0, t.chain = 5;
    assert_int_equal(store_task_unblock_next(f->st, &t, gen, &next, &f->err) >= 0, 1);
    check_counts(f, study, "pipeline release");
    assert_int_equal(store_task_skip_rest(f->st, &t, gen, 2, "skipped", &n, &f->err),
                     0);
    store_task_fini(&t);
    check_counts(f, study, "skip");
    /* Another owner's attempt whose lease ran out, and an attempt interrupted. */
    store_set_owner(f->st, "other:1:1", 1);
    start(f, id[6], 1);
    store_set_owner(f->st, "h:1:2", 0);
    assert_int_equal(store_expire_leases(f->st, 1e12, NULL, NULL, &n, &f->err), 0);
    check_counts(f, study, "lease expiry");
    start(f, id[7], 1);
    assert_int_equal(store_attempt_interrupt(f->st, id[7], 1, "stop", &f->err), 0);
    check_counts(f, study, "interrupt");
    {
        struct task_outcome o = {.state = TASK_SUCCEEDED, .metrics_json = "{}"};
        /* A stale result: recorded with its attempt, reported, the task as it was. */
        assert_int_not_equal(store_task_finished(f->st, id[7], 1, &o, &f->err), 0);
    }
    check_counts(f, study, "stale");
    assert_int_equal(
        store_study_reset(f->st, study, gen, STORE_RERUN_ALL, &pending, &f->err), 0);
    check_counts(f, study, "reset");
    /* A new generation: some keys again, one with another priority, one new. */
    gen = 0;
    put_study(f, "c", &gen);
    key_of(0, key);
    put_task(f, study, gen, key, 0, 3);
    key_of(9, key);
    put_task(f, study, gen, key, 1, 2);
    check_counts(f, study, "new generation");
    assert_int_equal(store_study_delete(f->st, study, &f->err), 0);
    check_counts(f, study, "delete");
    assert_rows(f->home, "SELECT count(*) FROM task_counts", "0;");
}

/* The per-task writers given the group the runner read (store_task_started_in(),
 * _finished_in()): the counts as without it, also for a task that is no longer in
 * that group and for an end with a cancellation requested (both take the way
 * without it); a retry goes back to pending. */
static void test_grouped_writers(void **state)
{
    struct fixture *f = *state;
    long long gen, n, study = put_study(f, "c", &gen);
    char key[EXPAND_KEY_LEN + 1];
    long long id[4];
    const struct task_outcome ok = {.state = TASK_SUCCEEDED, .finished_at = 200},
                              bad = {.state = TASK_FAILED,
                                     .exit_code = 1,
                                     .finished_at = 200,
                                     .retry_at = 500};

    for (int i = 0; i < 4; i++) {
        key_of(i, key);
        put_task(f, study, gen, key, i, PRIORITY_MEDIUM);
        id[i] = id_of(f, study, key);
    }
    struct store_task_group g = {
        .study_id = study, .generation = gen, .step = 0, .priority = PRIORITY_MEDIUM};
    struct store_task_group other = g;
    other.priority = PRIORITY_HIGH;
    for (int i = 0; i < 4; i++) {
        g.seq = other.seq = i;
        assert_int_equal(
            store_task_started_in(f->st, i == 1 ? &other : &g, id[i], 1, 100, &f->err),
            0);
    }
    check_counts(f, study, "grouped starts");
    assert_rows(f->home, "SELECT count(*) FROM tasks WHERE state = 1", "4;");
    g.seq = 0;
    assert_int_equal(store_task_finished_in(f->st, &g, id[0], 1, &ok, &f->err), 0);
    g.seq = 1;
    assert_int_equal(store_task_finished_in(f->st, &other, id[1], 1, &ok, &f->err), 0);
    check_counts(f, study, "grouped ends");
    g.seq = 2;
    assert_int_equal(store_task_finished_in(f->st, &g, id[2], 1, &bad, &f->err), 0);
    check_counts(f, study, "grouped retry");
    assert_int_equal(store_cancel(f->st, study, id[3], &n, &f->err), 0);
    g.seq = 3;
    assert_int_equal(store_task_finished_in(f->st, &g, id[3], 1, &bad, &f->err), 0);
    check_counts(f, study, "grouped end of a cancelled task");
    assert_rows(f->home, "SELECT state FROM tasks ORDER BY seq", "2;2;0;5;");
}

/* What a task costs the store in a run, through the calls the runner makes in one
 * transaction per tick (K tasks end and K start): 2 statements to start a task and 2
 * to end it (no savepoint of their own inside the tick; the row written, and its
 * group, which the runner gives, not read back for task_counts), task_counts changed
 * once per tick and group by the store, its trigger entered but doing nothing, one
 * commit per tick, a few pages per commit. A cost added back (a savepoint, a
 * statement, the trigger counting, an index moved through) goes red here; the
 * figures are printed for bench/. */
static void test_cost_per_task(void **state)
{
    struct fixture *f = *state;
    enum { N = 400, K = 2, TICKS = N / K + 1 };
    long long gen, study = put_study(f, "c", &gen), ids[N];
    char key[EXPAND_KEY_LEN + 1];
    struct store_stats a, b;
    const struct task_outcome ok = {.state = TASK_SUCCEEDED, .finished_at = 200};

    assert_int_equal(store_begin(f->st, &f->err), 0);
    for (int i = 0; i < N; i++) {
        key_of(i, key);
        put_task(f, study, gen, key, i, PRIORITY_MEDIUM);
    }
    assert_int_equal(store_commit(f->st, &f->err), 0);
    for (int i = 0; i < N; i++) {
        key_of(i, key);
        ids[i] = id_of(f, study, key);
    }
    store_set_owner(f->st, "h:1:2", 60);
    store_stats_enable(f->st);
    store_stats_get(f->st, &a);
    struct store_task_group g = {
        .study_id = study, .generation = gen, .priority = PRIORITY_MEDIUM};
    for (int i = 0; i <= N; i += K) {
        assert_int_equal(store_begin(f->st, &f->err), 0);
        for (int j = i - K; j >= 0 && j < i; j++) {
            g.seq = j;
            assert_int_equal(store_task_finished_in(f->st, &g, ids[j], 1, &ok, &f->err),
                             0);
        }
        for (int j = i; j < N && j < i + K; j++) {
            g.seq = j;
            assert_int_equal(store_task_started_in(f->st, &g, ids[j], 1, 100, &f->err),
                             0);
        }
        assert_int_equal(store_commit(f->st, &f->err), 0);
    }
    store_stats_get(f->st, &b);
    long long statements = b.statements - a.statements,
              triggers = b.trigger_statements - a.trigger_statements,
              commits = b.commits - a.commits, pages = b.pages - a.pages;
    print_message("per task: %.2f statements, %.2f trigger statements, %.0f VM steps, "
                  "%.2f commits; %.2f pages per commit\n",
                  (double)statements / N, (double)triggers / N,
                  (double)(b.vm_steps - a.vm_steps) / N, (double)commits / N,
                  (double)pages / (double)commits);
    /* BEGIN, COMMIT and task_counts (pending, succeeded) per tick, 2 + 2 per task. */
    assert_true(statements <= 4 * N + 4 * TICKS);
    /* task_counts_update entered for each of the 2 changes of state, which it leaves
     * to the store: its 2 statements do not run. */
    assert_true(triggers <= 2 * N);
    assert_int_equal(commits, TICKS);
    /* The tasks' rows, their entries in tasks_queue (3 states), their attempts, the
     * open attempts' index, task_counts. */
    assert_true(pages <= 8 * TICKS);
    check_counts(f, study, "a run's ticks");
}

/* A version-5 database is upgraded in place to version 6: the counts are filled from
 * its tasks and kept from then on; a second open changes nothing. */
static void test_upgrade_from_v5(void **state)
{
    struct fixture *f = *state;
    long long gen, study = put_study(f, "c", &gen);
    char path[256], key[EXPAND_KEY_LEN + 1];
    sqlite3 *db;

    for (int i = 0; i < 5; i++) {
        key_of(i, key);
        put_task(f, study, gen, key, i, 1 + i % 3);
    }
    start(f, id_of(f, study, key), 1);
    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, V6_DROP " PRAGMA user_version = 5;", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 5);

    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    check_counts(f, study, "upgrade");
    assert_rows(f->home, "SELECT sum(n) FROM task_counts", "5;");
    finish(f, id_of(f, study, key), 1, TASK_SUCCEEDED, 0);
    check_counts(f, study, "finish after upgrade");
    store_close(f->st);
    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    check_counts(f, study, "second open");
}

/* Takes version 8 out of a database of version 8: the trigger of version 6 again,
 * which counts every change of a task, and no tally. */
#define V8_DROP                                                                        \
    " DROP TRIGGER task_counts_update; ALTER TABLE tasks DROP COLUMN tally;"           \
    " CREATE TRIGGER task_counts_update AFTER UPDATE OF study_id, generation, step,"   \
    " priority, state ON tasks WHEN old.study_id <> new.study_id"                      \
    " OR old.generation <> new.generation OR old.step <> new.step"                     \
    " OR old.state <> new.state OR old.priority <> new.priority BEGIN"                 \
    " UPDATE task_counts SET n = n - 1 WHERE study_id = old.study_id"                  \
    " AND generation = old.generation AND step = old.step AND state = old.state"       \
    " AND band = (CASE WHEN old.priority <= 1 THEN 0 WHEN old.priority = 2 THEN 1"     \
    " ELSE 2 END);"                                                                    \
    " INSERT INTO task_counts VALUES (new.study_id, new.generation, new.step,"         \
    " (CASE WHEN new.priority <= 1 THEN 0 WHEN new.priority = 2 THEN 1 ELSE 2 END),"   \
    " new.state, 1) ON CONFLICT DO UPDATE SET n = n + 1; END;"

/* A version-6 database is upgraded in place to version 8: a running task of before
 * ends, others start and end, in a transaction and outside one, and the counts stay
 * those of the tasks; the trigger still counts the other writers' changes. */
static void test_upgrade_from_v6(void **state)
{
    struct fixture *f = *state;
    long long gen, n, study = put_study(f, "c", &gen), id[4];
    char path[256], key[EXPAND_KEY_LEN + 1];
    sqlite3 *db;

    for (int i = 0; i < 4; i++) {
        key_of(i, key);
        put_task(f, study, gen, key, i, 1 + i % 3);
        id[i] = id_of(f, study, key);
    }
    start(f, id[0], 1);
    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, V8_DROP V7_DROP " PRAGMA user_version = 6;", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_rows(f->home, "SELECT sum(n) FROM task_counts WHERE state = 1", "1;");

    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_rows(f->home, "SELECT count(*) FROM tasks WHERE tally <> 0", "0;");
    finish(f, id[0], 1, TASK_SUCCEEDED, 0);
    check_counts(f, study, "a task of before ends");
    assert_int_equal(store_begin(f->st, &f->err), 0);
    start(f, id[1], 1);
    start(f, id[2], 1);
    finish(f, id[1], 1, TASK_FAILED, 0);
    finish(f, id[2], 1, TASK_FAILED, 900.0);
    assert_int_equal(store_commit(f->st, &f->err), 0);
    check_counts(f, study, "a tick");
    assert_int_equal(store_begin(f->st, &f->err), 0);
    start(f, id[3], 1);
    store_rollback(f->st);
    check_counts(f, study, "a rolled back tick");
    assert_int_equal(store_cancel(f->st, study, 0, &n, &f->err), 0);
    assert_int_equal(store_task_requeue(f->st, id[1], &f->err), 0);
    check_counts(f, study, "cancel and requeue");
}

/* ---- result names ---- */

/* The kept names of the study's latest generation as "kind/step/name@seq.pos;" (or
 * "incomplete"). */
static char *names_text(struct fixture *f, long long study)
{
    struct store_name *v;
    size_t n;
    long long gen;
    bool complete;
    char *out = calloc(1, 4096);
    size_t len = 0;

    assert_int_equal(store_result_names(f->st, study, &gen, &complete, &v, &n, &f->err),
                     0);
    if (!complete)
        snprintf(out, 4096, "incomplete");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, 4096 - len, "%d/%d/%s@%lld.%d;", v[i].kind,
                                v[i].step, v[i].name, v[i].seq, v[i].pos);
    store_names_free(v, n);
    return out;
}

#define assert_names(f, study, want)                                                   \
    do {                                                                               \
        char *got_ = names_text(f, study);                                             \
        assert_string_equal(got_, want);                                               \
        free(got_);                                                                    \
    } while (0)

/* A task of generation gen with these parameters (canonical JSON) at seq. */
static void put_params(struct fixture *f,
                       long long study,
                       long long gen,
                       long long seq,
                       const char *params)
{
    struct expand_task t = {.params_json = (char *)params, .seq = seq, .chain = seq};

    key_of(seq, t.key);
    assert_int_equal(store_task_put(f->st, study, gen, &t, 1, &f->err), 0);
}

static void end_with(struct fixture *f, long long study, long long seq, const char *m)
{
    char key[EXPAND_KEY_LEN + 1];
    struct task_outcome o = {.state = TASK_SUCCEEDED, .metrics_json = m};
    long long id;

    key_of(seq, key);
    id = id_of(f, study, key);
    start(f, id, 1);
    assert_int_equal(store_task_finished(f->st, id, 1, &o, &f->err), 0);
}

/* Parameters are noted as tasks are stored, metrics as results are recorded: each
 * name at the first task in expansion order that has it, whatever order the tasks
 * end in; a result whose transaction is rolled back leaves nothing, and its names
 * are noted when they come again. */
static void test_result_names_kept(void **state)
{
    struct fixture *f = *state;
    long long gen, study = put_study(f, "names", &gen);

    put_params(f, study, gen, 0, "{\"b\":1,\"a\":2}");
    put_params(f, study, gen, 1, "{\"a\":3,\"c\":4}");
    put_params(f, study, gen, 2, "{\"a\":5}");
    assert_names(f, study, "0/0/a@0.0;0/0/b@0.1;0/0/c@1.1;");
    /* The last task ends first. */
    end_with(f, study, 2, "{\"z\":1,\"m\":{\"k\":2,\"j\":[1]}}");
    end_with(f, study, 1, "{\"y\":1,\"z\":0}");
    assert_names(f, study,
                 "0/0/a@0.0;0/0/b@0.1;1/0/y@1.0;0/0/c@1.1;1/0/z@1.1;1/0/m.k@2.1;"
                 "1/0/m.j@2.2;");
    /* A result rolled back: its name is not kept, and comes with the next result. */
    assert_int_equal(store_begin(f->st, &f->err), 0);
    end_with(f, study, 0, "{\"gone\":1}");
    store_rollback(f->st);
    assert_names(f, study,
                 "0/0/a@0.0;0/0/b@0.1;1/0/y@1.0;0/0/c@1.1;1/0/z@1.1;1/0/m.k@2.1;"
                 "1/0/m.j@2.2;");
    end_with(f, study, 0, "{\"gone\":1,\"z\":3}");
    assert_names(f, study,
                 "0/0/a@0.0;1/0/gone@0.0;0/0/b@0.1;1/0/z@0.1;1/0/y@1.0;0/0/c@1.1;"
                 "1/0/m.k@2.1;1/0/m.j@2.2;");
    /* store_study_put() again: the new generation's list is not known complete. */
    assert_int_equal(put_study(f, "names", &gen), study);
    assert_names(f, study, "incomplete");
    /* Deleting the study deletes its names. */
    assert_int_equal(store_study_delete(f->st, study, &f->err), 0);
    assert_rows(f->home, "SELECT count(*) FROM result_names", "0;");
}

/* Prepares a generation of study "gens" in chunks (stage, publish) with the keys
 * key_of(keys[i]) at seqs 0, 1, ... (params {"k": key}; -1: a new key, params
 * {"new": 1}); returns the study's id. */
static long long stage_gen(struct fixture *f, const int *keys, int n)
{
    long long id, visible, staged;

    assert_int_equal(store_study_stage(f->st, "gens", &id, &visible, &staged, &f->err),
                     0);
    assert_int_equal(store_begin(f->st, &f->err), 0);
    for (int seq = 0; seq < n; seq++) {
        char params[32];
        struct expand_task t = {.params_json = params, .seq = seq, .chain = seq};

        if (keys[seq] < 0) {
            snprintf(params, sizeof(params), "{\"new\":1}");
            snprintf(t.key, sizeof(t.key), "%016x", 0xfeed);
        } else {
            snprintf(params, sizeof(params), "{\"k\":%d}", keys[seq]);
            key_of(keys[seq], t.key);
        }
        assert_int_equal(store_task_stage(f->st, id, staged, &t, 1, &f->err), 0);
    }
    assert_int_equal(
        store_study_publish(f->st, id, staged, NULL, "s.yaml", "{}", &f->err), 0);
    assert_int_equal(store_commit(f->st, &f->err), 0);
    return id;
}

/* A generation prepared in chunks notes its parameters as it is staged, and takes the
 * metrics of the one before at their first task's new place; a generation without a
 * metric's first task is not complete, and a full pass merged into the store makes it
 * so (the names of other generations go). */
static void test_result_names_generations(void **state)
{
    struct fixture *f = *state;
    static const int g1[] = {0, 1, 2, 3}, g2[] = {-1, 0, 1, 2, 3}, g3[] = {2, 3};
    struct store_name found[] = {{STORE_NAME_METRIC, 0, "y", 0, 0, 0}};
    long long id = stage_gen(f, g1, 4);
    char key[EXPAND_KEY_LEN + 1];

    assert_names(f, id, "0/0/k@0.0;");
    key_of(1, key);
    end_with(f, id, 1, "{\"x\":1}");
    end_with(f, id, 2, "{\"y\":1}");
    assert_names(f, id, "0/0/k@0.0;1/0/x@1.0;1/0/y@2.0;");
    /* A new key first: the others one place later. */
    assert_int_equal(stage_gen(f, g2, 5), id);
    assert_names(f, id, "0/0/new@0.0;0/0/k@1.0;1/0/x@2.0;1/0/y@3.0;");
    /* Keys 0 and 1 (x's first task) gone. */
    assert_int_equal(stage_gen(f, g3, 2), id);
    assert_names(f, id, "incomplete");
    assert_int_equal(store_result_names_merge(f->st, id, 3, found, 1, &f->err), 0);
    assert_names(f, id, "0/0/k@0.0;1/0/y@0.0;");
    assert_rows(f->home, "SELECT DISTINCT generation FROM result_names", "3;");
}

/* A version-6 database is upgraded in place: the names of every study's
 * latest generation are filled from its tasks, and the list is complete. */
static void test_names_upgrade_from_v6(void **state)
{
    struct fixture *f = *state;
    long long gen, study = put_study(f, "six", &gen);
    char path[256];
    sqlite3 *db;

    put_params(f, study, gen, 0, "{\"seed\":1,\"x\":2}");
    put_params(f, study, gen, 1, "{\"seed\":1,\"w\":2}");
    end_with(f, study, 1, "{\"b\":1,\"a\":{\"c\":2}}");
    end_with(f, study, 0, "{\"x\":1}");
    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, V8_DROP V7_DROP " PRAGMA user_version = 6;", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 6);

    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_names(f, study,
                 "0/0/seed@0.0;1/0/x@0.0;0/0/x@0.1;1/0/b@1.0;0/0/w@1.1;"
                 "1/0/a.c@1.1;");
}

/* What the check of runner_prepare() does at its calls: at call `write_at`, another
 * connection (as another process would) writes and reads; at call `fail_at`, the task
 * is refused. */
struct chunk_probe {
    const char *home;
    long calls, write_at, fail_at, signal_at;
    int write_rc, get_rc;
};

static int chunk_check(const struct spec_step *step,
                       const json_t *params,
                       void *arg,
                       struct err *err)
{
    struct chunk_probe *p = arg;
    struct store *other = NULL;
    struct store_study s;
    struct err e = {0};
    long long id, gen;

    (void)step, (void)params;
    if (++p->calls == p->write_at) {
        assert_int_equal(store_open(p->home, &other, &e), 0);
        p->write_rc = store_begin(other, &e);
        if (p->write_rc == 0)
            p->write_rc =
                store_study_put(other, "other", NULL, "o.yaml", "{}", &id, &gen, &e);
        if (p->write_rc == 0)
            p->write_rc = store_commit(other, &e);
        else
            store_rollback(other);
        p->get_rc = store_study_get(other, "big", &s, &e);
        if (p->get_rc == 0)
            store_study_fini(&s);
        store_close(other);
    }
    if (p->calls == p->fail_at)
        return err_set(err, SWEEP_EINVAL, "refused");
    if (p->calls == p->signal_at)
        raise(SIGINT); /* caught by runner_prepare() */
    return 0;
}

/* A fingerprint of every task's generation, place, state and seed. */
#define TASKS_PRINT                                                                    \
    "SELECT count(*), sum(generation * id), sum(seq * id), sum(priority * id),"        \
    " sum(state * id), sum(seed % 1000003 * id) FROM tasks"

static struct spec *chunk_spec(struct fixture *f, int n, const char *priority)
{
    char text[256];
    struct spec *spec = NULL;

    snprintf(text, sizeof(text),
             "{\"study\": \"big\", \"command\": [\"true\", \"{i}\"], \"priority\":"
             " \"%s\", \"parameters\": {\"i\": {\"range\": [1, %d, 1]}}}",
             priority, n);
    assert_int_equal(spec_parse("big.json", text, strlen(text), &spec, &f->err), 0);
    return spec;
}

/* runner_prepare() stores a large expansion in chunks: between two chunks another
 * connection writes at once (no busy wait) and does not see the study; a task refused
 * after several chunks leaves nothing (a new study), or the previous generation as it
 * was (its counts, states, order and priorities); a later preparation publishes the
 * new generation with the old keys' states kept; a preparation that died half-way
 * (staged chunks, no publish) is discarded by the next. */
static void test_prepare_in_chunks(void **state)
{
    struct fixture *f = *state;
    struct chunk_probe p = {.home = f->home, .write_at = 20001, .fail_at = 45000};
    struct spec *spec = chunk_spec(f, 50000, "medium");
    long long id = 0, gen = 0, counts[3][TASK_NSTATES], visible, staged, first;
    struct store_study s = {0};
    uint64_t n = 0;
    char *before;

    runner_prepare_chunks(
        20000, 0, RUNNER_KEYS_IN_CACHE); /* chunks end where chunk_check expects */

    assert_int_equal(
        runner_prepare(f->st, spec, chunk_check, &p, &id, &gen, &n, &f->err),
        SWEEP_EINVAL);
    assert_int_equal(p.write_rc, 0);
    assert_int_equal(p.get_rc, SWEEP_ENOTFOUND);
    assert_int_equal(store_study_get(f->st, "big", &s, &f->err), SWEEP_ENOTFOUND);
    assert_rows(f->home, "SELECT count(*) FROM tasks", "0;");
    assert_rows(f->home, "SELECT name FROM studies", "other;");
    assert_rows(f->home, "SELECT count(*) FROM task_counts WHERE n <> 0", "0;");

    /* SIGINT after two chunks: nothing stays, the WAL is truncated. */
    p = (struct chunk_probe){.home = f->home, .signal_at = 45000};
    assert_int_equal(
        runner_prepare(f->st, spec, chunk_check, &p, &id, &gen, &n, &f->err),
        SWEEP_EIO);
    assert_non_null(strstr(f->err.msg, "interrupted by SIGINT"));
    assert_rows(f->home, "SELECT count(*) FROM tasks", "0;");
    assert_rows(f->home, "SELECT name FROM studies", "other;");
    {
        char wal[256];
        snprintf(wal, sizeof(wal), "%s/sweep.db-wal", f->home);
        assert_true(file_size(wal) < 64 * 1024);
    }

    /* The first generation, with one task run. */
    p = (struct chunk_probe){.home = f->home};
    assert_int_equal(
        runner_prepare(f->st, spec, chunk_check, &p, &id, &gen, &n, &f->err), 0);
    assert_int_equal(gen, 1);
    assert_int_equal(n, 50000);
    spec_destroy(spec);
    before = db_rows(f->home, "SELECT id FROM tasks ORDER BY seq LIMIT 1");
    first = atoll(before);
    free(before);
    start(f, first, 1);
    finish(f, first, 1, TASK_SUCCEEDED, 0);
    before = db_rows(f->home, TASKS_PRINT);

    /* A second generation refused half-way: the first as it was. */
    spec = chunk_spec(f, 60000, "high");
    p = (struct chunk_probe){.home = f->home, .write_at = 40001, .fail_at = 55000};
    assert_int_equal(
        runner_prepare(f->st, spec, chunk_check, &p, &id, &gen, &n, &f->err),
        SWEEP_EINVAL);
    assert_int_equal(p.write_rc, 0);
    assert_int_equal(p.get_rc, 0);
    assert_rows(f->home, TASKS_PRINT, before);
    assert_rows(f->home, "SELECT generation FROM studies WHERE name = 'big'", "1;");
    assert_rows(f->home, "SELECT count(*) FROM task_stage", "0;");
    assert_int_equal(store_study_counts(f->st, id, counts, &f->err), 0);
    assert_int_equal(counts[1][TASK_PENDING], 49999);
    assert_int_equal(counts[1][TASK_SUCCEEDED], 1);
    free(before);

    /* A preparation that died after two chunks: staged, never published. */
    assert_int_equal(store_begin(f->st, &f->err), 0);
    assert_int_equal(store_study_stage(f->st, "big", &id, &visible, &staged, &f->err),
                     0);
    assert_int_equal(visible, 1);
    assert_int_equal(staged, 2);
    for (int i = 0; i < 3; i++) {
        char key[EXPAND_KEY_LEN + 1];
        struct expand_task et = {.params_json = "{}", .seq = 7, .priority = 1};
        key_of(i, key);
        snprintf(et.key, sizeof(et.key), "%s", key);
        assert_int_equal(store_task_stage(f->st, id, staged, &et, 1, &f->err), 0);
    }
    assert_int_equal(store_commit(f->st, &f->err), 0);
    assert_int_equal(store_study_counts(f->st, id, counts, &f->err), 0);
    assert_int_equal(counts[1][TASK_PENDING], 49999);
    assert_int_equal(counts[0][TASK_PENDING], 0);
    /* Its tasks have no name yet: by key, id or STUDY/ID (an id not found is tried
     * as a key prefix, which may name a visible task by chance: not the staged one). */
    {
        struct store_task t;
        char *sname = NULL, *tid, name[64];
        long long staged_id;
        int rc;

        tid = db_rows(f->home, "SELECT min(id) FROM tasks WHERE generation = 2");
        tid[strcspn(tid, ";")] = '\0';
        staged_id = atoll(tid);
        key_of(1, name);
        assert_int_equal(store_task_resolve(f->st, 0, name, &t, &sname, &f->err),
                         SWEEP_ENOTFOUND);
        assert_int_equal(store_task_find(f->st, id, name, &t, &f->err),
                         SWEEP_ENOTFOUND);
        assert_int_equal(store_task_find(f->st, 0, name, &t, &f->err), SWEEP_ENOTFOUND);
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof(name), "%s%s", k ? "big/" : "", tid);
            rc = store_task_resolve(f->st, 0, name, &t, &sname, &f->err);
            assert_true(rc != 0 || t.id != staged_id);
            if (rc == 0) {
                store_task_fini(&t);
                free(sname);
            }
        }
        free(tid);
    }
    /* Nor those of a new study whose first generation is being prepared. */
    {
        long long nid, nvis, nstaged;
        struct store_task t;
        struct expand_task et = {.params_json = "{}", .seq = 0, .priority = 1};

        assert_int_equal(store_begin(f->st, &f->err), 0);
        assert_int_equal(
            store_study_stage(f->st, "newer", &nid, &nvis, &nstaged, &f->err), 0);
        key_of(7, et.key);
        assert_int_equal(store_task_stage(f->st, nid, nstaged, &et, 1, &f->err), 0);
        assert_int_equal(store_commit(f->st, &f->err), 0);
        assert_int_equal(store_task_resolve(f->st, 0, et.key, &t, NULL, &f->err),
                         SWEEP_ENOTFOUND);
        assert_int_equal(store_task_find(f->st, 0, et.key, &t, &f->err),
                         SWEEP_ENOTFOUND);
        assert_int_equal(store_study_unstage(f->st, nid, 0, &f->err), 0);
    }

    /* The second generation: the old keys keep their state and take the new
     * priority; the keys of the dead preparation are gone. */
    p = (struct chunk_probe){.home = f->home};
    assert_int_equal(
        runner_prepare(f->st, spec, chunk_check, &p, &id, &gen, &n, &f->err), 0);
    assert_int_equal(gen, 2);
    assert_int_equal(n, 60000);
    spec_destroy(spec);
    assert_int_equal(store_study_counts(f->st, id, counts, &f->err), 0);
    assert_int_equal(counts[2][TASK_PENDING], 59999);
    assert_int_equal(counts[2][TASK_SUCCEEDED], 1);
    assert_int_equal(counts[0][TASK_PENDING] + counts[1][TASK_PENDING], 0);
    assert_rows(f->home, "SELECT count(*) FROM tasks", "60000;");
    assert_rows(f->home, "SELECT count(*) FROM tasks WHERE generation <> 2", "0;");
    assert_rows(f->home, "SELECT count(*) FROM task_stage", "0;");
    /* The counts of generation 1 (and of the dead preparation) are gone. */
    assert_rows(f->home, "SELECT count(*) FROM task_counts WHERE generation <> 2",
                "0;");
    assert_rows(f->home,
                "SELECT count(*) FROM tasks WHERE seq <> "
                "json_extract(params_json, '$.i') - 1",
                "0;");
    check_counts(f, id, "chunks");
}

/* runner_prepare() expands each chunk outside any transaction: another connection
 * writes at once in the middle of a chunk's expansion (it used to wait for the chunk's
 * transaction, and gave up after the busy timeout). */
static void test_prepare_expands_outside_txn(void **state)
{
    struct fixture *f = *state;
    struct chunk_probe p = {.home = f->home, .write_at = 500};
    struct spec *spec = chunk_spec(f, 3000, "medium");
    long long id = 0, gen = 0;
    uint64_t n = 0;

    runner_prepare_chunks(1000, 0, RUNNER_KEYS_IN_CACHE);
    assert_int_equal(
        runner_prepare(f->st, spec, chunk_check, &p, &id, &gen, &n, &f->err), 0);
    assert_int_equal(p.write_rc, 0);
    assert_int_equal(p.get_rc, SWEEP_ENOTFOUND);
    p = (struct chunk_probe){.home = f->home, .write_at = 1500};
    assert_int_equal(
        runner_prepare(f->st, spec, chunk_check, &p, &id, &gen, &n, &f->err), 0);
    assert_int_equal(p.write_rc, 0);
    assert_int_equal(p.get_rc, 0);
    assert_int_equal(n, 3000);
    spec_destroy(spec);
}

/* The stored tasks are the expansion's, field for field, whether the chunks are stored
 * in expansion order or in key order (keys_in_cache 0), with the first place of a key
 * repeated within the expansion (x = 3 in the grid and in a chunk after it; x = 50
 * twice, mostly in one chunk: seqs 168-171 and 172-175, chunks of 7), a pipeline's
 * steps, repetitions and reduce included; and the ids follow the expansion either way.
 */
static void check_prepare_order(struct fixture *f, uint64_t keys_in_cache)
{
    const char *text =
        "{\"study\": \"mix\", \"repetitions\": 2,"
        " \"parameters\": {\"x\": {\"range\": [1, 40, 1]}},"
        " \"tasks\": [{\"x\": 3}, {\"x\": 41, \"priority\": \"high\"}, {\"x\": 50},"
        " {\"x\": 50}],"
        " \"steps\": [{\"name\": \"a\", \"command\": [\"true\", \"{x}\"]},"
        " {\"name\": \"b\", \"command\": [\"true\", \"{x}\"], \"priority\": \"low\"}],"
        " \"reduce\": {\"command\": [\"true\"]}}";
    struct spec *spec = NULL;
    struct expand *ex;
    struct expand_task t;
    struct strbuf want = {0}, got = {0};
    char **seen = NULL;
    size_t nseen = 0, cap = 0;
    long long id = 0, gen = 0;
    uint64_t n = 0;

    assert_int_equal(spec_parse("mix.json", text, strlen(text), &spec, &f->err), 0);
    ex = expand_create(spec);
    while (expand_next(ex, &t) == 1) {
        bool dup = false;
        for (size_t i = 0; i < nseen && !dup; i++)
            dup = strcmp(seen[i], t.key) == 0;
        if (dup)
            continue;
        seen = xgrow(seen, &cap, nseen + 1, sizeof(*seen));
        seen[nseen++] = xstrdup(t.key);
        sb_addf(&want, "%s|%lld|%s|%d|%lld|%d|%d|%lld|%d;", t.key, t.seq, t.params_json,
                t.repetition, t.seed, t.priority, t.step, t.chain, t.cpus);
    }
    expand_destroy(ex);
    assert_int_equal(nseen, (40 + 2) * 2 * 2 + 1);

    runner_prepare_chunks(7, 0, keys_in_cache);
    assert_int_equal(runner_prepare(f->st, spec, NULL, NULL, &id, &gen, &n, &f->err),
                     0);
    runner_prepare_chunks(250000, 1.0, RUNNER_KEYS_IN_CACHE);
    assert_int_equal(n, (40 + 4) * 2 * 2 + 1);
    {
        char path[256];
        sqlite3 *db;
        sqlite3_stmt *q;
        snprintf(path, sizeof(path), "%s/sweep.db", f->home);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(
            sqlite3_prepare_v2(db,
                               "SELECT key, seq, params_json, repetition,"
                               " seed, priority, step, chain, cpus, id FROM"
                               " tasks ORDER BY seq",
                               -1, &q, NULL),
            SQLITE_OK);
        long long last_id = 0;
        while (sqlite3_step(q) == SQLITE_ROW) {
            assert_true(sqlite3_column_int64(q, 9) > last_id);
            last_id = sqlite3_column_int64(q, 9);
            sb_addf(&got, "%s|%lld|%s|%d|%lld|%d|%d|%lld|%d;",
                    sqlite3_column_text(q, 0), sqlite3_column_int64(q, 1),
                    sqlite3_column_text(q, 2), sqlite3_column_int(q, 3),
                    sqlite3_column_int64(q, 4), sqlite3_column_int(q, 5),
                    sqlite3_column_int(q, 6), sqlite3_column_int64(q, 7),
                    sqlite3_column_int(q, 8));
        }
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
    assert_string_equal(sb_str(&got), sb_str(&want));
    check_counts(f, id, keys_in_cache ? "expansion order" : "key order");
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
    sb_fini(&want);
    sb_fini(&got);
    spec_destroy(spec);
}

static void test_prepare_chunks_key_order(void **state)
{
    check_prepare_order(*state, 0);
}

static void test_prepare_chunks_expansion_order(void **state)
{
    check_prepare_order(*state, RUNNER_KEYS_IN_CACHE);
}

/* Takes version 9 out of a database of version 9: the foreign key of tasks.study_id
 * checked at each statement again. */
#define V9_DROP                                                                        \
    " PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql,"        \
    " 'ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,', 'ON DELETE CASCADE,')"       \
    " WHERE name = 'tasks'; PRAGMA schema_version = 1000;"                             \
    " PRAGMA writable_schema = OFF;"

/* A version-8 database is upgraded in place to version 9: only the definition of
 * tasks changes (its foreign key checked at commit); its tasks stay, run, and a new
 * generation keeps their states; deleting the study still deletes its tasks. */
static void test_upgrade_from_v8(void **state)
{
    struct fixture *f = *state;
    struct spec *spec = chunk_spec(f, 100, "medium");
    long long id = 0, gen = 0, first;
    uint64_t n = 0;
    char path[256], *row;
    sqlite3 *db;

    runner_prepare_chunks(40, 0, RUNNER_KEYS_IN_CACHE);
    assert_int_equal(runner_prepare(f->st, spec, NULL, NULL, &id, &gen, &n, &f->err),
                     0);
    spec_destroy(spec);
    row = db_rows(f->home, "SELECT id FROM tasks ORDER BY seq LIMIT 1");
    first = atoll(row);
    free(row);
    store_close(f->st);
    f->st = NULL;
    snprintf(path, sizeof(path), "%s/sweep.db", f->home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, V9_DROP " PRAGMA user_version = 8;", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_rows(f->home,
                "SELECT instr(sql, 'DEFERRABLE') > 0 FROM sqlite_master"
                " WHERE name = 'tasks'",
                "0;");

    assert_int_equal(store_open(f->home, &f->st, &f->err), 0);
    assert_int_equal(db_pragma(f->home, "PRAGMA user_version"), 9);
    assert_rows(f->home,
                "SELECT instr(sql, 'REFERENCES studies(id) ON DELETE CASCADE DEFERRABLE"
                " INITIALLY DEFERRED,') > 0 FROM sqlite_master WHERE name = 'tasks'",
                "1;");
    assert_rows(f->home, "PRAGMA integrity_check", "ok;");
    assert_rows(f->home, "SELECT count(*) FROM tasks", "100;");
    start(f, first, 1);
    finish(f, first, 1, TASK_SUCCEEDED, 0);
    /* A second generation: the 100 keys of before (moved) and 30 new ones. */
    spec = chunk_spec(f, 130, "high");
    assert_int_equal(runner_prepare(f->st, spec, NULL, NULL, &id, &gen, &n, &f->err),
                     0);
    spec_destroy(spec);
    assert_int_equal(gen, 2);
    assert_rows(f->home,
                "SELECT generation, priority, count(*), sum(state = 2) FROM tasks"
                " GROUP BY generation, priority",
                "2|3|130|1;");
    check_counts(f, id, "after the upgrade to version 9");
    /* No statement can break the key: at commit, a task of no study is refused. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    assert_int_equal(sqlite3_exec(db,
                                  "BEGIN; INSERT INTO tasks (study_id, key, seq,"
                                  " generation, params_json, repetition, seed,"
                                  " priority, cpus) VALUES (999, 'k', 0, 1, '{}', 0, 0,"
                                  " 2, 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(store_begin(f->st, &f->err), 0);
    assert_int_equal(store_study_delete(f->st, id, &f->err), 0);
    assert_int_equal(store_commit(f->st, &f->err), 0);
    assert_rows(f->home, "SELECT count(*) FROM tasks", "0;");
}

/* jansson allocations, counted while json_alloc_count() is installed. */
static long long json_allocs;
static json_malloc_t json_malloc_saved;
static json_free_t json_free_saved;

static void *json_alloc_counted(size_t n)
{
    json_allocs++;
    return json_malloc_saved(n);
}

/* The cost of preparing a study beyond its rows: a task's parameters are not parsed
 * again to note its names (runner_prepare() gives the store one object per run of
 * tasks with the same names), so its JSON allocations are the expansion's own; its
 * tasks are inserted STORE_STAGE_BATCH a statement; and
 * the result names are those of a full pass, whatever the names of the tasks in a
 * chunk (the last: a; a, b; a; a, b; a, c). */
static void test_prepare_cost_per_task(void **state)
{
    struct fixture *f = *state;
    enum { N = 4000 };
    const char *text =
        "{\"study\": \"cost\", \"command\": [\"true\", \"{a}\"],"
        " \"parameters\": {\"a\": {\"range\": [1, 3996, 1]}},"
        " \"tasks\": [{\"a\": 0, \"b\": 1}, {\"a\": -1}, {\"a\": -2, \"b\": 2},"
        " {\"a\": -3, \"c\": 3}]}";
    struct spec *spec = NULL;
    struct expand *ex;
    struct expand_task t;
    long long id = 0, gen = 0, expand_allocs;
    struct store_stats a, b;
    uint64_t n = 0;

    assert_int_equal(spec_parse("cost.json", text, strlen(text), &spec, &f->err), 0);
    json_get_alloc_funcs(&json_malloc_saved, &json_free_saved);
    json_set_alloc_funcs(json_alloc_counted, json_free_saved);
    json_allocs = 0;
    ex = expand_create(spec);
    while (expand_next(ex, &t) == 1)
        ;
    expand_destroy(ex);
    expand_allocs = json_allocs;
    json_allocs = 0;
    runner_prepare_chunks(1000, 0, RUNNER_KEYS_IN_CACHE);
    store_stats_enable(f->st);
    store_stats_get(f->st, &a);
    assert_int_equal(runner_prepare(f->st, spec, NULL, NULL, &id, &gen, &n, &f->err),
                     0);
    store_stats_get(f->st, &b);
    json_set_alloc_funcs(json_malloc_saved, json_free_saved);
    assert_int_equal(n, N);
    print_message("JSON allocations per task: %.2f expanding, %.2f preparing;"
                  " %.3f statements, %.0f VM steps per task\n",
                  (double)expand_allocs / N, (double)json_allocs / N,
                  (double)(b.statements - a.statements) / N,
                  (double)(b.vm_steps - a.vm_steps) / N);
    /* STORE_STAGE_BATCH tasks a statement (was 1 a task; the rest of a chunk one by
     * one), a few statements a chunk and the preparation's own: 0.05 a task. */
    assert_true(b.statements - a.statements <= N / 16);
    assert_true(json_allocs <= expand_allocs + N / 10); /* was 7 per task */
    assert_rows(f->home,
                "SELECT kind, step, name, seq, pos FROM result_names ORDER BY seq, pos",
                "0|0|a|0|0;0|0|b|3996|1;0|0|c|3999|1;");
    spec_destroy(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_and_reopens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_cost_per_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_newer_schema, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_failure_rolls_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_study_put_get_list_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_task_put_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_each_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_pending_order_cursor_band, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v4, setup, teardown),
        cmocka_unit_test(test_owner_state),
        cmocka_unit_test_setup_teardown(test_end_orphans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leases_renew_and_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_open_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempts_retry_then_success, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_metrics_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_rollback_and_delete, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aggregate_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_every_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_only_its_generation_and_clears_flags,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_by_band_and_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_by_key_and_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_again_seed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_pending_and_running, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_no_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_first_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_study_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_disk_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kept_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grouped_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost_per_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_names_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_names_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_upgrade_from_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_in_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_expands_outside_txn, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prepare_chunks_key_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_chunks_expansion_order, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
