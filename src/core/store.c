/* The SQLite store behind store.h: one connection per process on <home>/sweep.db, every
 * statement prepared once at open and reused, so that a million store_task_put() calls
 * in one transaction cost one step each. Settings: WAL, so that `sweep status` reads
 * while `sweep run` writes; synchronous=NORMAL, so that a killed process loses nothing
 * it committed, while a power loss or OS crash may roll back the last transactions
 * before the next checkpoint (the database stays consistent, and the tasks whose
 * results are lost simply run again); a checkpoint every 10,000 pages of WAL (about
 * 40 MB), not SQLite's 1,000: each one waits for two fdatasync calls inside the
 * commit that triggers it, on the path of a run's ticks (a few ms each, about 45 for
 * 5,000 short tasks at 1,000); foreign keys on; a 5 s busy timeout, after which
 * another process holding the write lock is reported as SWEEP_EBUSY. Transactions begin
 * IMMEDIATE (the write lock is taken up front, so a writer never fails half-way on a
 * stale snapshot). A function that runs several statements wraps them in a savepoint,
 * so it leaves no trace when it fails, inside the caller's transaction or on its own;
 * except the per-task writers of a run (store_task_started(), store_task_finished()),
 * which inside a transaction leave an unexpected failure to the caller's rollback
 * (hot_begin() in store_task.c). Their changes of state are counted in task_counts by
 * the store, once per transaction and group, not by the trigger (schema_v8_sql in
 * store_schema.c). Cost per task of a run, measured with store_stats_get()
 * (test_cost_per_task in tests/unit/test_store.c bounds it): 2 statements to start it
 * and 2 to end it (the attempt and the task written; the task's group, which the
 * runner gives, not read back: store_task_started_in()), 2 task_counts changes per
 * tick, about 6 pages written per tick.
 *
 * This file opens and configures the connection, holds the table of the statements
 * (stmt_sql[]: every statement prepared at open), the transactions with the
 * task_counts changes they carry, the statistics and the helpers shared by the other
 * store files; store_int.h lists those files and what each owns. */
#include "store_int.h"

#include "common/fileio.h"
#include "common/xalloc.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STORE_BUSY_TIMEOUT_MS 5000

#define STUDY_COLS                                                                     \
    "id, name, description, spec_path, spec_json, status, generation, created_at,"     \
    " updated_at, started_at, finished_at, runner_pid, steps_json, reason"
/* A task of a visible generation: not one being prepared (store_study_stage(); a new
 * study is at generation 0 until then). One look-up by the studies' primary key. */
#define VISIBLE_SQL                                                                    \
    " AND tasks.generation <= (SELECT generation FROM studies"                         \
    " WHERE studies.id = tasks.study_id)"
#define TASK_COLS                                                                      \
    "id, study_id, key, seq, params_json, repetition, seed, priority, cpus, state,"    \
    " attempts, exit_code, signal, wall, user, sys, maxrss_kb, started_at, "           \
    "finished_at,"                                                                     \
    " not_before, error, metrics_json, step, chain"

/* An open attempt with its task's key and study (open_attempts_read()). */
#define OPEN_COLS                                                                      \
    "a.task_id, a.attempt, a.owner, a.lease_until, a.pid, a.pgid, a.started_at,"       \
    " a.spawned_at, t.key, t.study_id, s.name FROM attempts a INDEXED BY "             \
    "attempts_open"                                                                    \
    " JOIN tasks t ON t.id = a.task_id JOIN studies s ON s.id = t.study_id"

/* What a change counted by the store reads back: its group in task_counts, its new
 * state and its seq (where its result names are noted). */
#define COUNTED_COLS "study_id, generation, step, priority, state, seq"

/* The STORE_STAGE_BATCH rows of ST_STAGE_BATCH, 12 parameters each. */
#define STAGE_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define STAGE_ROWS4 STAGE_ROW ", " STAGE_ROW ", " STAGE_ROW ", " STAGE_ROW
#define STAGE_ROWS16 STAGE_ROWS4 ", " STAGE_ROWS4 ", " STAGE_ROWS4 ", " STAGE_ROWS4
#define STAGE_ROWS32 STAGE_ROWS16 ", " STAGE_ROWS16
_Static_assert(STORE_STAGE_BATCH == 32, "STAGE_ROWS32 has STORE_STAGE_BATCH rows");

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT store_op",
    [ST_RELEASE] = "RELEASE store_op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO store_op",
    [ST_STUDY_PUT] =
        "INSERT INTO studies (name, description, spec_path, spec_json, generation,"
        " created_at, updated_at, names_generation) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5,"
        " 1)"
        " ON CONFLICT (name) DO UPDATE SET description = excluded.description,"
        " spec_path = excluded.spec_path, spec_json = excluded.spec_json,"
        " updated_at = excluded.updated_at, generation = generation + 1"
        " RETURNING id, generation",
    /* A study whose first generation is still being prepared (0) is not shown. */
    [ST_STUDY_GET] = "SELECT " STUDY_COLS " FROM studies WHERE name = ?1"
                     " AND generation > 0",
    [ST_STUDY_GENERATION] = "SELECT generation FROM studies WHERE id = ?1",
    [ST_STUDY_SET_STATUS] =
        "UPDATE studies SET status = ?2, updated_at = ?3 WHERE id = ?1",
    [ST_STUDY_STARTED] =
        "UPDATE studies SET status = ?2, started_at = ?3, updated_at = ?3,"
        " finished_at = 0, runner_pid = ?4 WHERE id = ?1",
    [ST_STUDY_FINISHED] = "UPDATE studies SET status = ?2, finished_at = ?3,"
                          " updated_at = ?3 WHERE id = ?1",
    [ST_STUDY_LIST] = "SELECT " STUDY_COLS " FROM studies WHERE generation > 0"
                      " ORDER BY created_at DESC, id DESC",
    /* A key seen again only joins the new generation and takes the spec's current
     * order, priority and cpus, and its seed while it has never run (a study stored by
     * an older sweep then runs with the seeds of expand.h); its state and results
     * stay. A key repeated within one expansion keeps its first position. */
    [ST_TASK_PUT] =
        "INSERT INTO tasks (study_id, key, seq, generation, params_json, repetition,"
        " seed, priority, cpus, step, chain)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        " ON CONFLICT (study_id, key) DO UPDATE SET generation = excluded.generation,"
        " seq = excluded.seq, priority = excluded.priority, cpus = excluded.cpus,"
        " step = excluded.step, chain = excluded.chain,"
        " seed = CASE WHEN attempts = 0 THEN excluded.seed ELSE seed END"
        " WHERE generation <> excluded.generation",
    /* Open attempts of the generation's running tasks that nobody holds: no owner
     * (made before version 5), this connection's owner (a run of this process that
     * ended by an error; its processes were killed), or an expired lease (?4 = now).
     * An attempt with a live lease stays open and its task running. */
    [ST_RESET_ATTEMPTS] = "UPDATE attempts SET state = 6, error = ?3 WHERE state = 1"
                          " AND (owner IS NULL OR owner = ?5 OR lease_until < ?4)"
                          " AND task_id IN (SELECT id FROM tasks WHERE study_id = ?1"
                          " AND generation = ?2 AND state = 1)",
    /* Running tasks whose current attempt is not open (any more). */
    [ST_RESET_RUNNING] =
        "UPDATE tasks SET state = 6, error = ?3"
        " WHERE study_id = ?1 AND generation = ?2 AND state = 1 AND NOT EXISTS"
        " (SELECT 1 FROM attempts a WHERE a.task_id = tasks.id"
        " AND a.attempt = tasks.attempts AND a.state = 1)",
    /* ?3 is 2 (succeeded) with STORE_RERUN_ALL, else a repeat of 5 (cancelled); ?4
     * and ?5 are 3 and 4 (failed, timed_out), or repeats of 5 with
     * STORE_RERUN_UNTRIED. */
    [ST_RESET_TO_PENDING] =
        "UPDATE tasks SET state = 0, not_before = 0, cancel_requested = 0"
        " WHERE study_id = ?1 AND generation = ?2"
        " AND state IN (?3, ?4, ?5, 5, 6, 7, 8)",
    [ST_COUNT_PENDING] =
        "SELECT count(*) FROM tasks WHERE study_id = ?1 AND generation = ?2"
        " AND state = 0",
    /* Two range scans of tasks_queue merged in index order: the rest of the cursor's
     * priority after its seq, then the lower priorities; ?5..?6 is the band. */
    [ST_NEXT_PENDING] =
        "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_queue"
        " WHERE study_id = ?1 AND generation = ?2 AND state = 0 AND priority = ?3"
        " AND seq > ?4 AND ?3 BETWEEN ?5 AND ?6"
        " UNION ALL SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_queue"
        " WHERE study_id = ?1 AND generation = ?2 AND state = 0 AND priority < ?3"
        " AND priority BETWEEN ?5 AND ?6"
        " ORDER BY priority DESC, seq LIMIT ?7",
    /* Counted by the store (tally flipped): the row gives its group. */
    /* ?4..?7: the group the caller read (store_task_group), or NULL: with it, a
     * task in another group is not changed (the caller then asks without). */
    [ST_TASK_STARTED] = "UPDATE tasks SET state = 1, attempts = ?2, started_at = ?3,"
                        " finished_at = 0, not_before = 0, tally = 1 - tally"
                        " WHERE id = ?1 AND state = 0 AND (?4 IS NULL OR"
                        " (study_id = ?4 AND generation = ?5 AND step = ?6"
                        " AND priority = ?7))",
    /* Before the task's row changes, and only for a pending task: nothing is written
     * when it is not pending or when the attempt exists. */
    [ST_ATTEMPT_OPEN] =
        "INSERT INTO attempts (task_id, attempt, state, started_at, owner, lease_until)"
        " SELECT ?1, ?2, 1, ?3, ?4, ?5 FROM tasks WHERE id = ?1 AND state = 0",
    [ST_ATTEMPT_CLOSE] =
        "UPDATE attempts SET state = ?3, exit_code = ?4, signal = ?5, finished_at = ?6,"
        " wall = ?7, user = ?8, sys = ?9, maxrss_kb = ?10, error = ?11"
        " WHERE task_id = ?1 AND attempt = ?2 AND state = 1",
    /* ?2 > 0 schedules a retry: back to pending until ?2, unless a cancellation was
     * requested during the attempt, which wins. ?13..?16 as ST_TASK_STARTED's ?4..?7,
     * and then only without a cancellation (the new state is then known). */
    [ST_TASK_FINISHED] =
        "UPDATE tasks SET state = CASE WHEN ?2 <= 0 THEN ?3"
        " WHEN cancel_requested THEN 5 ELSE 0 END,"
        " not_before = CASE WHEN ?2 > 0 AND NOT cancel_requested THEN ?2 ELSE 0 END,"
        " cancel_requested = 0, exit_code = ?4, signal = ?5, finished_at = ?6,"
        " wall = ?7, user = ?8, sys = ?9, maxrss_kb = ?10, error = ?11,"
        " metrics_json = ?12, tally = 1 - tally"
        " WHERE id = ?1 AND state = 1 AND (?13 IS NULL OR (study_id = ?13"
        " AND generation = ?14 AND step = ?15 AND priority = ?16"
        " AND cancel_requested = 0))",
    /* After a change counted by the store: the task's group and new state (RETURNING
     * would cost as much as the trigger: SQLite makes it one). */
    [ST_TASK_GROUP] = "SELECT " COUNTED_COLS " FROM tasks WHERE id = ?1",
    /* ST_TASK_FINISHED for a task that is not running (not seen: its attempt was
     * open), counted by the trigger. */
    [ST_TASK_FINISHED_ANY] =
        "UPDATE tasks SET state = CASE WHEN ?2 <= 0 THEN ?3"
        " WHEN cancel_requested THEN 5 ELSE 0 END,"
        " not_before = CASE WHEN ?2 > 0 AND NOT cancel_requested THEN ?2 ELSE 0 END,"
        " cancel_requested = 0, exit_code = ?4, signal = ?5, finished_at = ?6,"
        " wall = ?7, user = ?8, sys = ?9, maxrss_kb = ?10, error = ?11,"
        " metrics_json = ?12"
        " WHERE id = ?1 RETURNING study_id, generation, step, seq",
    /* One state and band: counting a range of tasks_queue without decoding its
     * columns is several times faster than one GROUP BY over the same entries. */
    /* The kept counts (task_counts): a few rows whatever the study's size. */
    [ST_COUNT_RANGE] = "SELECT band, state, sum(n) FROM task_counts"
                       " WHERE study_id = ?1 AND generation = ?2 GROUP BY band, state",
    [ST_TASK_EACH] =
        "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_order"
        " WHERE study_id = ?1 AND generation = ?2 AND (?3 < 0 OR state = ?3)"
        " ORDER BY seq",
    /* The tasks in one state when they are few: their range of tasks_queue, sorted. */
    [ST_TASK_EACH_FEW] = "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_queue"
                         " WHERE study_id = ?1 AND generation = ?2 AND state = ?3"
                         " ORDER BY seq",
    /* A range of tasks_queue: cheap however large the study. */
    [ST_TASK_IN_STATE] = "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_queue"
                         " WHERE study_id = ?1 AND generation = ?2 AND state = ?3"
                         " ORDER BY priority DESC, seq LIMIT ?4",
    /* Looking a task up by name or key (store_task_find, store_task_resolve) sees
     * the visible generations only (VISIBLE_SQL), never one still being prepared. */
    [ST_FIND_IN_STUDY] = "SELECT " TASK_COLS " FROM tasks WHERE study_id = ?1"
                         " AND key >= ?2 AND key < ?3" VISIBLE_SQL " LIMIT 2",
    /* Task names (store_task_resolve): rows with their study's name last. */
    [ST_NAME_ID] = "SELECT " TASK_COLS ", (SELECT name FROM studies"
                   " WHERE studies.id = tasks.study_id) FROM tasks"
                   " WHERE id = ?1 AND (?2 = 0 OR study_id = ?2)" VISIBLE_SQL,
    [ST_NAME_KEY] =
        "SELECT " TASK_COLS ", (SELECT name FROM studies"
        " WHERE studies.id = tasks.study_id) FROM tasks WHERE study_id IN"
        " (SELECT id FROM studies WHERE ?1 = 0 OR id = ?1)"
        " AND key >= ?2 AND key < ?3" VISIBLE_SQL " ORDER BY study_id, key LIMIT ?4",
    [ST_FIND_ANY] =
        "SELECT " TASK_COLS " FROM tasks WHERE study_id IN"
        " (SELECT id FROM studies) AND key >= ?2 AND key < ?3" VISIBLE_SQL " LIMIT 2",
    [ST_ATTEMPTS] =
        "SELECT attempt, state, exit_code, signal, started_at, finished_at,"
        " wall, user, sys, maxrss_kb, error, owner, lease_until, pid, pgid, stale,"
        " metrics_json FROM attempts WHERE task_id = ?1 ORDER BY attempt",
    /* Pending or waiting -> cancelled; running and not yet flagged -> flagged. */
    [ST_CANCEL_STUDY] =
        "UPDATE tasks SET state = CASE WHEN state IN (0, 8) THEN 5 ELSE state END,"
        " finished_at = CASE WHEN state IN (0, 8) THEN ?3 ELSE finished_at END,"
        " not_before = 0, cancel_requested = (state = 1)"
        " WHERE study_id = ?1 AND generation = ?2"
        " AND state IN (0, 1, 8) AND NOT (state = 1 AND cancel_requested)",
    /* After a pipeline task was cancelled before it ran: the later steps of its chain
     * (consecutive seqs of the same chain) will not run either. */
    [ST_CANCEL_CHAIN_REST] =
        "UPDATE tasks SET state = 7, finished_at = ?2, not_before = 0,"
        " error = 'skipped: a step before it was cancelled'"
        " FROM (SELECT study_id AS sid, generation AS gen, chain AS ch, seq AS sq,"
        " step AS sp FROM tasks WHERE id = ?1 AND state = 5 AND chain >= 0) AS c"
        " WHERE tasks.study_id = c.sid AND tasks.generation = c.gen"
        " AND tasks.chain = c.ch AND tasks.seq > c.sq AND tasks.step > c.sp"
        " AND tasks.state IN (0, 8)",
    [ST_REQUEUE] = "UPDATE tasks SET state = 0, not_before = 0, cancel_requested = 0"
                   " WHERE id = ?1 AND state NOT IN (0, 1)",
    [ST_CANCEL_TASK] =
        "UPDATE tasks SET state = CASE WHEN state IN (0, 8) THEN 5 ELSE state END,"
        " finished_at = CASE WHEN state IN (0, 8) THEN ?3 ELSE finished_at END,"
        " not_before = 0, cancel_requested = (state = 1)"
        " WHERE id = ?2 AND (?1 = 0 OR study_id = ?1)"
        " AND state IN (0, 1, 8) AND NOT (state = 1 AND cancel_requested)",
    /* Polled every second: the few running tasks are found through tasks_queue, not
     * by a scan of the generation in seq order. */
    [ST_CANCEL_REQUESTED] = "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_queue"
                            " WHERE study_id = ?1"
                            " AND generation = ?2 AND state = 1 AND cancel_requested"
                            " ORDER BY seq",
    [ST_METRICS_CLEAR] = "DELETE FROM metrics WHERE task_id = ?1",
    [ST_METRIC_PUT] = METRIC_PUT_SQL,
    [ST_AGGREGATE_PUT] =
        "INSERT INTO aggregates (study_id, generation, computed_at, json)"
        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (study_id) DO UPDATE SET"
        " generation = excluded.generation, computed_at = excluded.computed_at,"
        " json = excluded.json",
    [ST_AGGREGATE_GET] = "SELECT json, computed_at FROM aggregates WHERE study_id = ?1",
    [ST_STUDY_SET_STEPS] = "UPDATE studies SET steps_json = ?2 WHERE id = ?1",
    [ST_STUDY_SET_REASON] = "UPDATE studies SET reason = ?2 WHERE id = ?1",
    /* After the reset to pending: a later step whose step before it (seq - 1 in the
     * same chain) has not succeeded waits; so does a reduce. */
    [ST_RESET_WAITING] =
        "UPDATE tasks SET state = 8 WHERE study_id = ?1 AND generation = ?2"
        " AND state = 0 AND step > 0 AND chain >= 0 AND NOT EXISTS (SELECT 1 FROM"
        " tasks p INDEXED BY tasks_order WHERE p.study_id = ?1 AND p.generation = ?2"
        " AND p.seq = tasks.seq - 1 AND p.state = 2)",
    [ST_RESET_REDUCE] = "UPDATE tasks SET state = 8 WHERE study_id = ?1"
                        " AND generation = ?2 AND state = 0 AND chain < 0",
    [ST_UNBLOCK_NEXT] = "UPDATE tasks SET state = 0, not_before = 0"
                        " WHERE study_id = ?1 AND generation = ?2 AND seq = ?3"
                        " AND chain = ?4 AND step = ?5 AND state = 8"
                        " RETURNING " TASK_COLS,
    [ST_SKIP_REST] =
        "UPDATE tasks SET state = 7, error = ?6, finished_at = ?7, not_before = 0"
        " WHERE study_id = ?1 AND generation = ?2 AND seq > ?3 AND seq <= ?4"
        " AND chain = ?5 AND state IN (0, 8)",
    [ST_INPUT_HASH_GET] = "SELECT input_hash FROM tasks WHERE id = ?1",
    [ST_ATTEMPT_SET_PROCESS] =
        "UPDATE attempts SET pid = ?3, pgid = ?4, spawned_at = ?5"
        " WHERE task_id = ?1 AND attempt = ?2 AND state = 1",
    [ST_LEASE_RENEW] = "UPDATE attempts INDEXED BY attempts_open SET lease_until = ?2"
                       " WHERE owner = ?1 AND state = 1",
    /* Expired leases (?1 = now) of other owners (?2, may be NULL): the task whose
     * current attempt it is becomes runnable (pending), or cancelled when that was
     * requested; then the attempt is closed as interrupted, without a result
     * (finished_at stays 0). */
    [ST_EXPIRE_TASKS] =
        "UPDATE tasks SET state = CASE WHEN cancel_requested THEN 5 ELSE 0 END,"
        " finished_at = CASE WHEN cancel_requested THEN ?1 ELSE finished_at END,"
        " cancel_requested = 0, not_before = 0, error = ?3 || x.own"
        " FROM (SELECT task_id AS tid, attempt AS att, owner AS own FROM attempts"
        " INDEXED BY attempts_open WHERE state = 1 AND owner IS NOT NULL"
        " AND owner IS NOT ?2 AND lease_until < ?1) AS x"
        " WHERE tasks.id = x.tid AND tasks.attempts = x.att AND tasks.state = 1",
    [ST_EXPIRE_ATTEMPTS] =
        "UPDATE attempts INDEXED BY attempts_open SET state = 6, error = ?3 || owner"
        " WHERE state = 1 AND owner IS NOT NULL AND owner IS NOT ?2"
        " AND lease_until < ?1",
    [ST_ATTEMPTS_OPEN] = "SELECT " OPEN_COLS " WHERE a.state = 1"
                         " AND (?1 = 0 OR t.study_id = ?1) ORDER BY t.seq",
    /* The attempts ST_EXPIRE_ATTEMPTS closes (the same ?1 and ?2). */
    [ST_ATTEMPTS_EXPIRED] = "SELECT " OPEN_COLS " WHERE a.state = 1"
                            " AND a.owner IS NOT NULL AND a.owner IS NOT ?2"
                            " AND a.lease_until < ?1 ORDER BY t.study_id, t.seq",
    [ST_ATTEMPT_INTERRUPT] = "UPDATE attempts SET state = 6, error = ?3"
                             " WHERE task_id = ?1 AND attempt = ?2 AND state = 1",
    [ST_TASK_INTERRUPT] = "UPDATE tasks SET state = 6, error = ?3"
                          " WHERE id = ?1 AND attempts = ?2 AND state = 1",
    /* A late result of an attempt closed without one (interrupted by a reset or an
     * expired lease: finished_at 0): kept in its row, which stays interrupted. */
    [ST_ATTEMPT_LATE] =
        "UPDATE attempts SET stale = 1, exit_code = ?4, signal = ?5, finished_at = ?6,"
        " wall = ?7, user = ?8, sys = ?9, maxrss_kb = ?10,"
        " error = coalesce(?11, error), metrics_json = ?12"
        " WHERE task_id = ?1 AND attempt = ?2 AND state <> 1 AND finished_at = 0"
        " AND stale = 0",
    /* Any other result of an ended attempt is counted, and its figures dropped. */
    [ST_ATTEMPT_STALE] = "UPDATE attempts SET stale = stale + 1"
                         " WHERE task_id = ?1 AND attempt = ?2 AND state <> 1",
    [ST_INPUT_HASH_SET] = "UPDATE tasks SET input_hash = ?2 WHERE id = ?1",
    [ST_SET_STATE] = "UPDATE tasks SET state = ?3, error = ?4, not_before = 0,"
                     " finished_at = CASE WHEN ?3 = 7 THEN ?5 ELSE finished_at END"
                     " WHERE id = ?1 AND state = ?2",
    [ST_CHAIN_RANGE] = "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_order"
                       " WHERE study_id = ?1 AND generation = ?2 AND seq >= ?3"
                       " AND seq < ?4 AND chain = ?5 ORDER BY seq",
    [ST_TASK_LAST] =
        "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_order"
        " WHERE study_id = ?1 AND generation = ?2 ORDER BY seq DESC LIMIT 1",
    /* STORE_RERUN_UNTRIED: a step waits again behind a step of its chain that
     * failed or timed out and stays so: it is skipped again (its reason stays). The
     * chain is the seqs seq - step .. seq - 1 of tasks_order. */
    [ST_RESET_SKIP_FAILED] =
        "UPDATE tasks SET state = 7 WHERE study_id = ?1 AND generation = ?2"
        " AND state = 8 AND step > 0 AND chain >= 0 AND EXISTS (SELECT 1 FROM"
        " tasks p INDEXED BY tasks_order WHERE p.study_id = ?1 AND p.generation = ?2"
        " AND p.seq >= tasks.seq - tasks.step AND p.seq < tasks.seq"
        " AND p.chain = tasks.chain AND p.state IN (3, 4))",
    /* Its tasks, attempts, metrics and aggregate go with it (ON DELETE CASCADE). */
    [ST_STUDY_DELETE] = "DELETE FROM studies WHERE id = ?1",
    [ST_STEP_COUNTS] = "SELECT step, state, sum(n) FROM task_counts"
                       " WHERE study_id = ?1 AND generation = ?2 GROUP BY step, state",
    /* Preparing a generation in chunks (store_study_stage() .. _publish()). A new
     * study is made at generation 0: nothing of it is visible yet. */
    [ST_STAGE_STUDY] =
        "INSERT INTO studies (name, spec_path, spec_json, generation, created_at,"
        " updated_at) VALUES (?1, '', '{}', 0, ?2, ?2) ON CONFLICT (name) DO NOTHING",
    [ST_STAGE_STUDY_GET] = "SELECT id, generation FROM studies WHERE name = ?1",
    /* A new key goes straight into the staged generation, which nobody reads yet. */
    /* Its id is ?12, or the next free one when ?12 is NULL; a taken id or key
     * inserts nothing (stage_settle() tells them apart). */
    [ST_STAGE_TASK] =
        "INSERT INTO tasks (study_id, key, seq, generation, params_json, repetition,"
        " seed, priority, cpus, step, chain, id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT DO NOTHING",
    /* STORE_STAGE_BATCH rows of ST_STAGE_TASK in one statement. A statement of
     * several rows that may fail half-way opens a statement journal, which costs more
     * than the statement saves: hence OR IGNORE (the only constraint a staged row can
     * break are UNIQUE (study_id, key) and the id; an upsert or a plain INSERT may
     * fail) and the foreign key of tasks checked at commit (schema 9). */
    [ST_STAGE_BATCH] =
        "INSERT OR IGNORE INTO tasks (study_id, key, seq, generation, params_json,"
        " repetition, seed, priority, cpus, step, chain, id) VALUES " STAGE_ROWS32,
    [ST_TASK_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM tasks",
    /* Where a key of a batch that did not insert all its rows is. */
    [ST_STAGE_FIND] =
        "SELECT generation, seq FROM tasks WHERE study_id = ?1 AND key = ?2",
    /* A key the study had: its new place waits in task_stage (the first one of a key
     * repeated within the expansion is kept). */
    [ST_STAGE_MOVE] =
        "INSERT OR IGNORE INTO task_stage (study_id, task_id, generation, seq, "
        "priority,"
        " cpus, step, chain, seed) SELECT ?1, id, ?4, ?3, ?8, ?9, ?10, ?11, ?7"
        " FROM tasks WHERE study_id = ?1 AND key = ?2 AND generation <> ?4",
    [ST_STAGE_CLEAR] = "DELETE FROM task_stage WHERE study_id = ?1",
    /* Tasks of a generation that never became visible: never run. ?3 rows at most. */
    [ST_STAGE_DROP_TASKS] =
        "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_order"
        " WHERE study_id = ?1 AND generation > ?2 LIMIT ?3)",
    [ST_STAGE_DROP_STUDY] = "DELETE FROM studies WHERE id = ?1 AND generation = 0",
    [ST_PUBLISH_TASKS] =
        "UPDATE tasks SET generation = s.generation, seq = s.seq,"
        " priority = s.priority, cpus = s.cpus, step = s.step, chain = s.chain,"
        " seed = CASE WHEN tasks.attempts = 0 THEN s.seed ELSE tasks.seed END"
        " FROM task_stage s WHERE s.study_id = ?1 AND tasks.id = s.task_id",
    [ST_COUNTS_ADD] = "INSERT INTO task_counts VALUES (?1, ?2, ?3, ?4, ?6, ?5)"
                      " ON CONFLICT DO UPDATE SET n = n + excluded.n",
    /* The counts of the study's other generations: those replaced by the one now
     * visible (?2), or of a preparation discarded. Nothing reads them. */
    [ST_COUNTS_DROP_OTHERS] =
        "DELETE FROM task_counts WHERE study_id = ?1 AND generation <> ?2",
    [ST_PUBLISH_STUDY] =
        "UPDATE studies SET description = ?2, spec_path = ?3, spec_json = ?4,"
        " generation = ?5, updated_at = ?6 WHERE id = ?1 AND generation = ?5 - 1",
    /* The result names (names_note()): a name keeps its first task in expansion
     * order. */
    [ST_NAME_NOTE] = NAME_NOTE_SQL,
    [ST_NAMES_GET] = "SELECT kind, step, name, seq, pos, task_id FROM result_names"
                     " WHERE study_id = ?1 AND generation = ?2 ORDER BY seq, pos, kind",
    [ST_NAMES_STUDY] = "SELECT generation, names_generation FROM studies WHERE id = ?1",
    /* A metric of the generation before whose first task is not in this one. */
    [ST_NAMES_DROPPED] =
        "SELECT EXISTS (SELECT 1 FROM result_names n WHERE n.study_id = ?1"
        " AND n.generation = ?2 - 1 AND n.kind = 1 AND NOT EXISTS (SELECT 1"
        " FROM tasks t WHERE t.id = n.task_id AND t.generation = ?2))",
    /* The metrics of the generation before, at their first task's new place. */
    [ST_NAMES_CARRY] =
        "INSERT INTO result_names SELECT n.study_id, ?2, 1, t.step, n.name, t.seq,"
        " n.pos, n.task_id FROM result_names n JOIN tasks t ON t.id = n.task_id"
        " WHERE n.study_id = ?1 AND n.generation = ?2 - 1 AND n.kind = 1"
        " AND t.generation = ?2 ON CONFLICT DO UPDATE SET seq = excluded.seq,"
        " pos = excluded.pos, task_id = excluded.task_id WHERE excluded.seq < seq",
    [ST_NAMES_COMPLETE] = "UPDATE studies SET names_generation = ?2"
                          " WHERE id = ?1 AND generation = ?2",
    [ST_NAMES_KEEP_ONLY] =
        "DELETE FROM result_names WHERE study_id = ?1 AND generation <> ?2",
};

/* Whether an error means that the disk is full: SQLITE_FULL, which SQLite returns for
 * a write that failed with ENOSPC (and beyond PRAGMA max_page_count). */
static bool store_disk_full(int rc)
{
    return (rc & 0xff) == SQLITE_FULL;
}

/* Sets err from the connection's last error, prefixed by the formatted context. A busy
 * database (after the busy timeout) becomes SWEEP_EBUSY. */
static int
store_vfail(struct store *st, int rc, struct err *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int
store_vfail(struct store *st, int rc, struct err *err, const char *fmt, va_list ap)
{
    char ctx[512];

    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    if ((rc & 0xff) == SQLITE_BUSY)
        return err_set(
            err, SWEEP_EBUSY,
            "%s: another sweep process holds the database %s (waited %d s): %s", ctx,
            st->path, STORE_BUSY_TIMEOUT_MS / 1000, sqlite3_errmsg(st->db));
    if (store_disk_full(rc))
        return err_set(err, SWEEP_ESTORE,
                       "%s: %s: disk full: the database cannot grow (%s); free space "
                       "on its disk and run again",
                       ctx, st->path, sqlite3_errmsg(st->db));
    return err_set(err, SWEEP_ESTORE, "%s: %s: %s", ctx, st->path,
                   sqlite3_errmsg(st->db));
}

int store_fail(struct store *st, int rc, struct err *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rc = store_vfail(st, rc, err, fmt, ap);
    va_end(ap);
    return rc;
}

void store_stmt_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Runs a statement that returns no rows (or whose rows are not needed) to completion
 * and resets it; the context is formatted only on failure. */
int store_step_done(
    struct store *st, sqlite3_stmt *s, struct err *err, const char *fmt, ...)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    if (rc == SQLITE_DONE) {
        rc = 0;
    } else {
        va_list ap;
        va_start(ap, fmt);
        rc = store_vfail(st, rc, err, fmt, ap);
        va_end(ap);
    }
    store_stmt_done(s);
    return rc;
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

char *store_column_strdup(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    return v ? xstrdup((const char *)v) : NULL;
}

/* ---- savepoints: one per multi-statement function ---- */

int store_op_begin(struct store *st, struct err *err, const char *what)
{
    return store_step_done(st, st->stmt[ST_SAVEPOINT], err, "%s: savepoint", what);
}

/* Releases the savepoint when rc is 0, else undoes everything since store_op_begin().
 */
int store_op_end(struct store *st, int rc, struct err *err, const char *what)
{
    if (rc == 0) {
        rc = store_step_done(st, st->stmt[ST_RELEASE], err, "%s: release", what);
        if (rc == 0)
            return 0;
    }
    /* A failed statement may already have rolled the whole transaction back; then
     * there is no savepoint left and these fail harmlessly. The result names noted
     * since may be gone too. */
    store_seen_clear(st);
    sqlite3_step(st->stmt[ST_ROLLBACK_TO]);
    store_stmt_done(st->stmt[ST_ROLLBACK_TO]);
    sqlite3_step(st->stmt[ST_RELEASE]);
    store_stmt_done(st->stmt[ST_RELEASE]);
    return rc;
}

/* ---- opening ---- */

/* Creates the home and its missing parents; it must end up a directory. */
static int mkdir_p(const char *dir, struct err *err)
{
    struct stat sb;
    int rc;

    if (dir[0] == '\0')
        return err_set(err, SWEEP_EINVAL, "the sweep home is an empty path");
    if ((rc = fileio_mkdirs(dir, err)) != 0) {
        err_prefix(err, "the sweep home %s", dir);
        return rc;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return err_set(err, SWEEP_EIO, "the sweep home %s is not a directory", dir);
    return SWEEP_OK;
}

static int store_configure(struct store *st, struct err *err)
{
    sqlite3_stmt *s = NULL;
    int rc;

    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    /* Switching a new database to WAL needs a lock that SQLite does not wait for (the
     * busy handler is not called): another process opening the same new database at
     * the same instant makes it fail at once, so it is retried up to the busy timeout.
     */
    for (int waited = 0; rc == SQLITE_OK;) {
        rc = sqlite3_step(s);
        if (rc != SQLITE_BUSY || waited >= STORE_BUSY_TIMEOUT_MS)
            break;
        sqlite3_reset(s);
        rc = SQLITE_OK;
        sqlite3_sleep(10);
        waited += 10;
    }
    if (rc != SQLITE_ROW) {
        rc = store_fail(st, rc, err, "opening the store");
        sqlite3_finalize(s);
        return rc;
    }
    const char *mode = (const char *)sqlite3_column_text(s, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        rc = err_set(
            err, SWEEP_ESTORE,
            "%s: cannot use write-ahead logging (journal mode stays %s); is the "
            "sweep home on a network file system?",
            st->path, mode ? mode : "unknown");
        sqlite3_finalize(s);
        return rc;
    }
    sqlite3_finalize(s);
    return store_exec(st,
                      "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                      " PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 10000;",
                      "opening the store", err);
}

/* Counts the write transactions committed, for store_stats_get(); 0 lets the commit
 * go on. */
static int store_commit_hook(void *arg)
{
    struct store *st = arg;

    st->stats.commits++;
    return 0;
}

/* Process-wide, once, before SQLite initializes (store.c is its only user): no
 * memory statistics, whose global mutex every allocation would take (about 6% of the
 * instructions of a task's statements). Ignored (SQLITE_MISUSE) when SQLite was
 * initialized already, as by a test that opened a database itself. */
static void store_init_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open(const char *home, struct store **out, struct err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct store *st;
    int rc;

    *out = NULL;
    pthread_once(&once, store_init_sqlite);
    if ((rc = mkdir_p(home, err)) != 0)
        return rc;
    st = xcalloc(1, sizeof(*st));
    st->home = xstrdup(home);
    st->path = xasprintf("%s/sweep.db", home);
    rc = sqlite3_open_v2(
        st->path, &st->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = st->db ? store_fail(st, rc, err, "opening the store")
                    : err_set(err, SWEEP_ESTORE, "opening the store: %s: out of memory",
                              st->path);
        goto fail;
    }
    if ((rc = store_configure(st, err)) != 0 || (rc = store_schema(st, err)) != 0)
        goto fail;
    sqlite3_commit_hook(st->db, store_commit_hook, st);
    if (store_debug_stats())
        store_stats_enable(st);
    for (int i = 0; i < ST_COUNT; i++) {
        int prc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                     &st->stmt[i], NULL);
        if (prc != SQLITE_OK) {
            rc = store_fail(st, prc, err, "preparing \"%.60s...\"", stmt_sql[i]);
            goto fail;
        }
    }
    *out = st;
    return 0;
fail:
    store_close(st);
    return rc;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->home);
    free(st->path);
    free(st->owner);
    free(st->added);
    store_seen_clear(st);
    free(st);
}

const char *store_home(const struct store *st)
{
    return st->home;
}

int store_begin(struct store *st, struct err *err)
{
    return store_step_done(st, st->stmt[ST_BEGIN], err, "beginning a transaction");
}

/* The band of task_counts: 0 LOW, 1 MEDIUM, 2 HIGH (band_range()). */
int store_count_band(int priority)
{
    return priority <= PRIORITY_LOW ? 0 : priority == PRIORITY_MEDIUM ? 1 : 2;
}

/* Adds n to the count of a group in the current transaction (at its commit). */
void store_counts_add(struct store *st,
                      long long study_id,
                      long long generation,
                      int step,
                      int band,
                      int state,
                      long long n)
{
    for (size_t i = st->nadded; i-- > 0;) {
        struct stage_count *c = &st->added[i];
        if (c->study_id == study_id && c->generation == generation && c->step == step &&
            c->band == band && c->state == state) {
            c->n += n;
            return;
        }
    }
    if (st->nadded == st->capadded) {
        st->capadded = st->capadded ? 2 * st->capadded : 8;
        st->added = xrealloc(st->added, st->capadded * sizeof(*st->added));
    }
    st->added[st->nadded++] =
        (struct stage_count){study_id, generation, n, step, band, state};
}

/* Notes a pending task inserted in the current transaction. */
void store_counts_note(
    struct store *st, long long study_id, long long generation, int step, int priority)
{
    store_counts_add(st, study_id, generation, step, store_count_band(priority),
                     TASK_PENDING, 1);
}

/* Adds the noted tasks to task_counts, in the current transaction. */
int store_counts_flush(struct store *st, struct err *err)
{
    sqlite3_stmt *s = st->stmt[ST_COUNTS_ADD];
    int rc = 0;

    for (size_t i = 0; i < st->nadded && rc == 0; i++) {
        const struct stage_count *c = &st->added[i];
        if (c->n == 0) /* e.g. a task started and ended in one tick: running */
            continue;
        sqlite3_bind_int64(s, 1, c->study_id);
        sqlite3_bind_int64(s, 2, c->generation);
        sqlite3_bind_int(s, 3, c->step);
        sqlite3_bind_int(s, 4, c->band);
        sqlite3_bind_int64(s, 5, c->n);
        sqlite3_bind_int(s, 6, c->state);
        rc = store_step_done(st, s, err, "counting the tasks of study %lld",
                             c->study_id);
    }
    st->nadded = 0;
    return rc;
}

int store_commit(struct store *st, struct err *err)
{
    int rc = store_counts_flush(st, err);

    if (rc != 0)
        return rc;
    return store_step_done(st, st->stmt[ST_COMMIT], err, "committing a transaction");
}

void store_rollback(struct store *st)
{
    st->nadded = 0;
    store_seen_clear(st);
    if (sqlite3_get_autocommit(st->db))
        return;
    sqlite3_step(st->stmt[ST_ROLLBACK]);
    store_stmt_done(st->stmt[ST_ROLLBACK]);
}

void store_wal_truncate(struct store *st)
{
    if (sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

/* SQLITE_TRACE_STMT: called as each statement starts, and as each trigger it fires
 * starts, whose text SQLite then prefixes with "-- ". */
static int store_trace(unsigned type, void *arg, void *p, void *x)
{
    struct store *st = arg;
    const char *sql = x;

    (void)p;
    if (type == SQLITE_TRACE_STMT) {
        if (sql && strncmp(sql, "-- ", 3) == 0)
            st->stats.trigger_statements++;
        else
            st->stats.statements++;
    }
    return 0;
}

bool store_debug_stats(void)
{
    const char *v = getenv("SWEEP_DEBUG_STATS");
    return v && *v && strcmp(v, "0") != 0;
}

void store_stats_enable(struct store *st)
{
    sqlite3_trace_v2(st->db, SQLITE_TRACE_STMT, store_trace, st);
}

void store_stats_get(struct store *st, struct store_stats *out)
{
    int pages = 0, high = 0;

    *out = st->stats;
    out->vm_steps = 0;
    for (int i = 0; i < ST_COUNT; i++)
        out->vm_steps += sqlite3_stmt_status(st->stmt[i], SQLITE_STMTSTATUS_VM_STEP, 0);
    sqlite3_db_status(st->db, SQLITE_DBSTATUS_CACHE_WRITE, &pages, &high, 0);
    out->pages = pages;
}
