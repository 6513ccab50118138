/* The schema of the store (store.h) and its upgrades: the SQL of each version and
 * store_schema(), which brings a database to STORE_SCHEMA_VERSION at open.
 *
 * Schema (user_version 9): studies (with the step names of a pipeline and the reason it
 * waits or failed); tasks, one row per key and study, with `generation` telling which
 * expansion last produced it, `state` the integer of enum task_state, metrics_json the
 * object the task wrote, and `step` and `chain` its place in a pipeline (the steps of a
 * chain have consecutive seqs, so the step after a task is at seq + 1); attempts, one
 * row per attempt, with its owner, lease, process group and late (stale) results;
 * metrics, one row per task and flattened metric name ("a.b" for
 * nested objects), numbers and booleans (0/1) in `value`, strings in `text`, arrays and
 * null left out, always the rows of the task's metrics_json; a reduce's input_hash, the
 * SHA-256 of the input its last attempt succeeded on (NULL otherwise); aggregates, the
 * last stored aggregate of each study (JSON text); result_names, the parameter and
 * metric names of each study's tasks, the columns of `sweep results` (store_names.c).
 * Views for people reading the database with the sqlite3 shell: v_tasks (state names,
 * study name) and v_metrics (study, key, state, repetition, step, name, value, text of
 * the tasks of each study's latest generation). Indexes (each checked against its
 * queries with EXPLAIN QUERY PLAN): tasks_queue (study, generation, state, priority
 * DESC, seq) serves the pending queue as a range scan, the tasks of one state (the
 * running ones, a sample of the finished ones for an estimate: a partial index on
 * pending tasks would make these scans of the generation), reset and cancellation;
 * tasks_order (study, generation, seq) lists a generation in expansion order;
 * UNIQUE(study_id, key) serves upserts and key prefix look-ups; attempts_open (owner,
 * lease_until) holds the open attempts only (a partial index), for renewing, expiring
 * and listing them. Deleting a study deletes its tasks, attempts, metrics and aggregate
 * (ON DELETE CASCADE).
 *
 * Versions: a new database is created at version 1 and upgraded at once, so that one
 * path serves both. Version 1 (no metrics, aggregates, v_metrics) is upgraded in place
 * in one transaction: the new tables and view are created and metrics is filled from
 * every task's metrics_json (O(tasks), one JSON parse each); version 2 gains the
 * pipeline columns (a task's chain is its seq) and the views are made again; version 3
 * gains tasks.input_hash (NULL: a reduce that succeeded before runs once more); version
 * 4 gains the attempts' owner, lease_until, pid, pgid, spawned_at, stale and
 * metrics_json (an open attempt of before has no owner, and a run treats it as left by
 * a dead run, as before); version 6 gains task_counts (filled from the tasks, one
 * GROUP BY) with its triggers, and task_stage; version 7 gains result_names and
 * studies.names_generation (filled from the tasks of every study's latest generation:
 * O(tasks), two JSON parses each); version 8 gains tasks.tally and the trigger that
 * leaves the changes that flip it to the store; version 9 checks the foreign key of
 * tasks.study_id at commit (in place, O(1)). A newer version is refused. */
#include "store_int.h"

#include "common/xalloc.h"

#include <sqlite3.h>
#include <stdlib.h>

#define STORE_SCHEMA_VERSION 9

/* States are stored as integers and the SQL below names them by number. */
_Static_assert(TASK_PENDING == 0 && TASK_RUNNING == 1 && TASK_SUCCEEDED == 2 &&
                   TASK_SKIPPED == 7 && TASK_WAITING == 8 && TASK_FAILED == 3 &&
                   TASK_TIMED_OUT == 4 && TASK_CANCELLED == 5 &&
                   TASK_INTERRUPTED == 6 && TASK_NSTATES == 9,
               "task states are part of the database format");

/* The name of the state in column t.state, for the views. */
#define STATE_NAME_SQL                                                                 \
    "CASE t.state WHEN 0 THEN 'pending' WHEN 1 THEN 'running' WHEN 2 THEN 'succeeded'" \
    " WHEN 3 THEN 'failed' WHEN 4 THEN 'timed_out' WHEN 5 THEN 'cancelled'"            \
    " WHEN 6 THEN 'interrupted' WHEN 7 THEN 'skipped' WHEN 8 THEN 'waiting' END"

/* Version 1. */
static const char schema_v1_sql[] =
    "CREATE TABLE studies ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " description TEXT,"
    " spec_path TEXT NOT NULL,"
    " spec_json TEXT NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0,"
    " generation INTEGER NOT NULL,"
    " created_at REAL NOT NULL,"
    " updated_at REAL NOT NULL,"
    " started_at REAL NOT NULL DEFAULT 0,"
    " finished_at REAL NOT NULL DEFAULT 0,"
    " runner_pid INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE tasks ("
    " id INTEGER PRIMARY KEY,"
    " study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " generation INTEGER NOT NULL,"
    " params_json TEXT NOT NULL,"
    " repetition INTEGER NOT NULL,"
    " seed INTEGER NOT NULL,"
    " priority INTEGER NOT NULL,"
    " cpus INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT -1,"
    " signal INTEGER NOT NULL DEFAULT 0,"
    " wall REAL NOT NULL DEFAULT 0,"
    " user REAL NOT NULL DEFAULT 0,"
    " sys REAL NOT NULL DEFAULT 0,"
    " maxrss_kb INTEGER NOT NULL DEFAULT 0,"
    " started_at REAL NOT NULL DEFAULT 0,"
    " finished_at REAL NOT NULL DEFAULT 0,"
    " not_before REAL NOT NULL DEFAULT 0,"
    " cancel_requested INTEGER NOT NULL DEFAULT 0,"
    " error TEXT,"
    " metrics_json TEXT,"
    " UNIQUE (study_id, key));"
    "CREATE INDEX tasks_queue ON tasks (study_id, generation, state, priority DESC, "
    "seq);"
    "CREATE INDEX tasks_order ON tasks (study_id, generation, seq);"
    "CREATE TABLE attempts ("
    " task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,"
    " attempt INTEGER NOT NULL,"
    " state INTEGER NOT NULL,"
    " exit_code INTEGER NOT NULL DEFAULT -1,"
    " signal INTEGER NOT NULL DEFAULT 0,"
    " started_at REAL NOT NULL,"
    " finished_at REAL NOT NULL DEFAULT 0,"
    " wall REAL NOT NULL DEFAULT 0,"
    " user REAL NOT NULL DEFAULT 0,"
    " sys REAL NOT NULL DEFAULT 0,"
    " maxrss_kb INTEGER NOT NULL DEFAULT 0,"
    " error TEXT,"
    " PRIMARY KEY (task_id, attempt)) WITHOUT ROWID;"
    "CREATE VIEW v_tasks AS SELECT s.name AS study, t.*, " STATE_NAME_SQL
    " AS state_name FROM tasks t JOIN studies s ON s.id = t.study_id;";

/* Version 1 -> 2. */
static const char schema_v2_sql[] =
    "CREATE TABLE metrics ("
    " task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " value REAL,"
    " text TEXT,"
    " PRIMARY KEY (task_id, name)) WITHOUT ROWID;"
    "CREATE TABLE aggregates ("
    " study_id INTEGER PRIMARY KEY REFERENCES studies(id) ON DELETE CASCADE,"
    " generation INTEGER NOT NULL,"
    " computed_at REAL NOT NULL,"
    " json TEXT NOT NULL);"
    "CREATE VIEW v_metrics AS SELECT s.name AS study, t.key AS key, " STATE_NAME_SQL
    " AS state, t.repetition AS repetition, m.name AS name, m.value AS value,"
    " m.text AS text FROM metrics m JOIN tasks t ON t.id = m.task_id"
    " JOIN studies s ON s.id = t.study_id WHERE t.generation = s.generation;";

/* Version 2 -> 3: pipelines. A task's step in the chain and its chain (the point and
 * repetition; a single-step task's chain is its seq); a study's step names and the
 * reason it waits or failed; the views again, for the new state names. */
static const char schema_v3_sql[] =
    "ALTER TABLE tasks ADD COLUMN step INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tasks ADD COLUMN chain INTEGER NOT NULL DEFAULT 0;"
    "UPDATE tasks SET chain = seq;"
    "ALTER TABLE studies ADD COLUMN steps_json TEXT;"
    "ALTER TABLE studies ADD COLUMN reason TEXT;"
    "DROP VIEW v_tasks;"
    "CREATE VIEW v_tasks AS SELECT s.name AS study, t.*, " STATE_NAME_SQL
    " AS state_name FROM tasks t JOIN studies s ON s.id = t.study_id;"
    "DROP VIEW v_metrics;"
    "CREATE VIEW v_metrics AS SELECT s.name AS study, t.key AS key, " STATE_NAME_SQL
    " AS state, t.repetition AS repetition, t.step AS step, m.name AS name,"
    " m.value AS value, m.text AS text FROM metrics m JOIN tasks t ON t.id = m.task_id"
    " JOIN studies s ON s.id = t.study_id WHERE t.generation = s.generation;";

/* Version 3 -> 4: the hash of a reduce's input (a reduce whose input did not change
 * since it succeeded does not run again). */
static const char schema_v4_sql[] = "ALTER TABLE tasks ADD COLUMN input_hash TEXT;";

/* Version 4 -> 5: attempts with an owner and a lease, the process group of a local
 * attempt, and the late (stale) results. Rows of older attempts have no owner: a run
 * that finds one open treats it as left by a dead run, as version 4 did. The partial
 * index holds the open attempts only, so renewing and expiring leases is cheap in any
 * history. */
static const char schema_v5_sql[] =
    "ALTER TABLE attempts ADD COLUMN owner TEXT;"
    "ALTER TABLE attempts ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE attempts ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE attempts ADD COLUMN pgid INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE attempts ADD COLUMN spawned_at REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE attempts ADD COLUMN stale INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE attempts ADD COLUMN metrics_json TEXT;"
    "CREATE INDEX attempts_open ON attempts (owner, lease_until) WHERE state = 1;";

/* Version 5 -> 6: the study at scale. task_counts keeps, in the same transaction as
 * any change of a task, how many tasks of each study, generation, step, priority band
 * (0 LOW: priority <= 1, 1 MEDIUM: 2, 2 HIGH: >= 3) and state there are, so that
 * counting a study reads a few rows whatever its size (rows that fall to 0 stay; the
 * rows of a generation replaced are dropped when the next one is published). The
 * triggers keep it on every update and delete; an insert is counted by the store
 * function that inserts (store_task_put(), store_task_stage(): a trigger per row
 * costs a preparation about 40% more). task_stage holds, while a new generation is
 * prepared in chunks, the new place (seq, priority, cpus, step, chain, seed) of the
 * keys that the study already had: they join the new generation only when it becomes
 * visible (store_study_publish()), so the visible generation never changes half-way. */
static const char schema_v6_sql[] =
    "CREATE TABLE task_stage ("
    " study_id INTEGER NOT NULL,"
    " task_id INTEGER NOT NULL,"
    " generation INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " priority INTEGER NOT NULL,"
    " cpus INTEGER NOT NULL,"
    " step INTEGER NOT NULL,"
    " chain INTEGER NOT NULL,"
    " seed INTEGER NOT NULL,"
    " PRIMARY KEY (study_id, task_id)) WITHOUT ROWID;"
    "CREATE TABLE task_counts ("
    " study_id INTEGER NOT NULL,"
    " generation INTEGER NOT NULL,"
    " step INTEGER NOT NULL,"
    " band INTEGER NOT NULL,"
    " state INTEGER NOT NULL,"
    " n INTEGER NOT NULL,"
    " PRIMARY KEY (study_id, generation, step, band, state)) WITHOUT ROWID;"
    "INSERT INTO task_counts SELECT study_id, generation, step,"
    " (CASE WHEN tasks.priority <= 1 THEN 0 WHEN tasks.priority = 2 THEN 1 ELSE 2 END) "
    "AS b,"
    " state, count(*) FROM tasks GROUP BY study_id, generation, step, b, state;"
    "CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN"
    " UPDATE task_counts SET n = n - 1 WHERE study_id = old.study_id"
    " AND generation = old.generation AND step = old.step AND state = old.state"
    " AND band = (CASE WHEN old.priority <= 1 THEN 0 WHEN old.priority = 2 THEN 1 ELSE "
    "2 END); END;"
    "CREATE TRIGGER task_counts_update AFTER UPDATE OF study_id, generation, step,"
    " priority, state ON tasks WHEN old.study_id <> new.study_id"
    " OR old.generation <> new.generation OR old.step <> new.step"
    " OR old.state <> new.state OR old.priority <> new.priority BEGIN"
    " UPDATE task_counts SET n = n - 1 WHERE study_id = old.study_id"
    " AND generation = old.generation AND step = old.step AND state = old.state"
    " AND band = (CASE WHEN old.priority <= 1 THEN 0 WHEN old.priority = 2 THEN 1 ELSE "
    "2 END);"
    " INSERT INTO task_counts VALUES (new.study_id, new.generation, new.step,"
    " (CASE WHEN new.priority <= 1 THEN 0 WHEN new.priority = 2 THEN 1 ELSE 2 END),"
    " new.state, 1) ON CONFLICT DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER task_counts_study_delete AFTER DELETE ON studies BEGIN"
    " DELETE FROM task_counts WHERE study_id = old.id;"
    " DELETE FROM task_stage WHERE study_id = old.id; END;";

/* Version 6 -> 7: the names of a study's result columns (store_names.c).
 * result_names holds, per study, generation, kind (0 parameter, 1 metric), step and
 * name, the first task in expansion order that has it (seq, and task_id to follow it
 * into the next generation) and the name's place among that task's names (pos);
 * studies.names_generation is the generation for which that list is complete. The
 * upgrade fills it from every study's latest generation (store_names_fill()). */
static const char schema_v7_sql[] =
    "CREATE TABLE result_names ("
    " study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,"
    " generation INTEGER NOT NULL,"
    " kind INTEGER NOT NULL,"
    " step INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " pos INTEGER NOT NULL,"
    " task_id INTEGER NOT NULL,"
    " PRIMARY KEY (study_id, generation, kind, step, name)) WITHOUT ROWID;"
    "ALTER TABLE studies ADD COLUMN names_generation INTEGER NOT NULL DEFAULT 0;";

/* Version 7 -> 8: a change of state made by a run's per-task
 * writers (store_task_started(), store_task_finished()) is counted by the store itself,
 * once per transaction and group, not by the trigger: those writers flip tasks.tally,
 * and the trigger counts the changes that leave it as it was, every other writer's
 * (cancel, retry, reset, leases, pipelines, the sqlite3 shell). Counting a task's two
 * changes in the trigger cost about a fifth of its SQLite instructions; entering the
 * trigger to find that it has nothing to do still costs about 7%. */
static const char schema_v8_sql[] =
    "ALTER TABLE tasks ADD COLUMN tally INTEGER NOT NULL DEFAULT 0;"
    "DROP TRIGGER task_counts_update;"
    "CREATE TRIGGER task_counts_update AFTER UPDATE OF study_id, generation, step,"
    " priority, state ON tasks WHEN old.tally = new.tally AND"
    " (old.study_id <> new.study_id OR old.generation <> new.generation"
    " OR old.step <> new.step OR old.state <> new.state OR old.priority <> "
    "new.priority)"
    " BEGIN"
    " UPDATE task_counts SET n = n - 1 WHERE study_id = old.study_id"
    " AND generation = old.generation AND step = old.step AND state = old.state"
    " AND band = (CASE WHEN old.priority <= 1 THEN 0 WHEN old.priority = 2 THEN 1 ELSE "
    "2 END);"
    " INSERT INTO task_counts VALUES (new.study_id, new.generation, new.step,"
    " (CASE WHEN new.priority <= 1 THEN 0 WHEN new.priority = 2 THEN 1 ELSE 2 END),"
    " new.state, 1) ON CONFLICT DO UPDATE SET n = n + 1; END;";

/* Version 8 -> 9: the foreign key of tasks.study_id is checked at commit (DEFERRABLE
 * INITIALLY DEFERRED) instead of at each statement, so that a statement inserting
 * many tasks (store_task_stage_batch()) cannot fail half-way and needs no statement
 * journal: with it, a 32-row insert cost more than 32 one-row inserts; without it,
 * about a quarter less. Deleting a study still deletes its tasks at once (ON DELETE
 * CASCADE is an action, not a check). Only the text of the table's definition
 * changes, not its rows, so it is changed in place as SQLite documents for such
 * changes ("Making Other Kinds Of Table Schema Changes": writable_schema, then the
 * schema version incremented so that every connection reads it again). O(1). */
#define TASKS_FK_IMMEDIATE "REFERENCES studies(id) ON DELETE CASCADE,"
#define TASKS_FK_DEFERRED                                                              \
    "REFERENCES studies(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,"

static int pragma_int(struct store *st, const char *sql, long long *v, struct err *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        rc = store_fail(st, rc, err, "%s", sql);
        sqlite3_finalize(s);
        return rc;
    }
    *v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

int store_exec(struct store *st, const char *sql, const char *what, struct err *err)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_fail(st, rc, err, "%s", what);
}

/* Version 1 -> 2 inside the caller's transaction: the new tables and view, and the
 * metrics rows of every task that has metrics. */
static int store_upgrade_v2(struct store *st, struct err *err)
{
    const char *what = "upgrading the schema to version 2";
    sqlite3_stmt *sel = NULL, *put = NULL;
    int rc;

    if ((rc = store_exec(st, schema_v2_sql, what, err)) != 0)
        return rc;
    rc = sqlite3_prepare_v2(st->db,
                            "SELECT id, metrics_json FROM tasks"
                            " WHERE metrics_json IS NOT NULL",
                            -1, &sel, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db, METRIC_PUT_SQL, -1, &put, NULL);
    if (rc != SQLITE_OK) {
        rc = store_fail(st, rc, err, "%s", what);
        goto out;
    }
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        rc = store_metrics_fill(st, put, sqlite3_column_int64(sel, 0),
                                (const char *)sqlite3_column_text(sel, 1), err);
        if (rc != 0)
            goto out;
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, err, "%s: reading tasks", what);
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(put);
    return rc;
}

/* Version 8 -> 9 inside the caller's transaction (see TASKS_FK_DEFERRED). A SQLite
 * that refuses to change the definition (a build that keeps defensive mode on) leaves
 * it as it was: preparing then costs what it did, nothing else changes. */
static int store_upgrade_v9(struct store *st, struct err *err)
{
    long long version;
    int defensive = 0;
    char *sql;
    int rc;

    if ((rc = pragma_int(st, "PRAGMA schema_version", &version, err)) != 0)
        return rc;
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, -1, &defensive);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 0, (int *)NULL);
    sql =
        xasprintf("SAVEPOINT v9; PRAGMA writable_schema = ON;"
                  " UPDATE sqlite_master SET sql = replace(sql, '" TASKS_FK_IMMEDIATE
                  "', '" TASKS_FK_DEFERRED "') WHERE type = 'table' AND name = 'tasks';"
                  " PRAGMA schema_version = %lld; PRAGMA writable_schema = OFF;"
                  " RELEASE v9;",
                  version + 1);
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(st->db, "PRAGMA writable_schema = OFF; ROLLBACK TO v9; RELEASE v9",
                     NULL, NULL, NULL);
    }
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, defensive, (int *)NULL);
    free(sql);
    (void)err;
    return 0;
}

/* Brings the schema to STORE_SCHEMA_VERSION in one transaction: creates it in a new
 * database, upgrades an older one; refuses a newer one. */
int store_schema(struct store *st, struct err *err)
{
    long long version;
    int rc;

    if ((rc = pragma_int(st, "PRAGMA user_version", &version, err)) != 0)
        return rc;
    if (version < STORE_SCHEMA_VERSION) {
        const char *what =
            version == 0 ? "creating the schema" : "upgrading the schema";
        if ((rc = store_exec(st, "BEGIN IMMEDIATE", what, err)) != 0)
            return rc;
        /* Another process may have done it while this one waited for the lock. */
        rc = pragma_int(st, "PRAGMA user_version", &version, err);
        if (rc == 0 && version == 0)
            rc = store_exec(st, schema_v1_sql, what, err);
        if (rc == 0 && version < 2)
            rc = store_upgrade_v2(st, err);
        if (rc == 0 && version < 3)
            rc = store_exec(st, schema_v3_sql, what, err);
        if (rc == 0 && version < 4)
            rc = store_exec(st, schema_v4_sql, what, err);
        if (rc == 0 && version < 5)
            rc = store_exec(st, schema_v5_sql, what, err);
        if (rc == 0 && version < 6)
            rc = store_exec(st, schema_v6_sql, what, err);
        if (rc == 0 && version < 7)
            rc = store_exec(st, schema_v7_sql, what, err);
        if (rc == 0 && version < 7)
            rc = store_names_fill(st, err);
        if (rc == 0 && version < 8)
            rc = store_exec(st, schema_v8_sql, what, err);
        if (rc == 0 && version < 9)
            rc = store_upgrade_v9(st, err);
        if (rc == 0 && version < STORE_SCHEMA_VERSION) {
            char *sql = xasprintf("PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
            rc = store_exec(st, sql, what, err);
            free(sql);
        }
        if (rc == 0)
            rc = store_exec(st, "COMMIT", what, err);
        if (rc != 0) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    if (version > STORE_SCHEMA_VERSION)
        return err_set(err, SWEEP_ESTORE,
                       "%s: created by a newer sweep (schema version %lld; this sweep "
                       "knows up to %d): upgrade sweep to use it",
                       st->path, version, STORE_SCHEMA_VERSION);
    return 0;
}
