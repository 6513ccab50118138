/* The store: studies, tasks and every attempt, in one SQLite database (WAL) under the
 * sweep home (<home>/sweep.db). This header is the only way the rest of sweep reaches
 * the database; sqlite3.h is included by the store's files alone (store*.c and their
 * private store_int.h), so another backend can take its place behind the same
 * functions.
 *
 * Durability: writes are grouped by the caller in store_begin()/store_commit() (one
 * transaction per scheduler tick). A process killed at any instant leaves each task
 * either as before or as after a committed transaction: no completed result is lost and
 * none is recorded twice.
 *
 * Strings handed out in structs are owned by the struct; free them with the matching
 * _fini(). Functions that fail leave the database as it was (the caller's open
 * transaction is left to the caller to roll back). Every error message names the
 * operation and the database; when another process holds the write lock for longer than
 * the busy timeout (5 s) the code is SWEEP_EBUSY.
 *
 * Callbacks (_fn): a non-zero return stops the iteration early (not an error). A
 * callback may write to the store (SQLite allows it; a row changed ahead of the
 * iteration may or may not be seen), but must not call the function that is calling it
 * (its statement is in use). One connection is not for several threads. */
#ifndef SWEEP_CORE_STORE_H
#define SWEEP_CORE_STORE_H

#include "common/err.h"
#include "core/expand.h"
#include "core/task.h"

#include <stdbool.h>

struct store;

/* Opens (creating when needed) <home>/sweep.db and its directory (mkdir -p). The schema
 * version is PRAGMA user_version; a database of an older version is upgraded in place
 * in one transaction (the first open by a new sweep takes O(tasks) for it); a database
 * from a newer sweep is refused with a clear message (SWEEP_ESTORE, "created by a newer
 * sweep"). */
int store_open(const char *home, struct store **out, struct err *err);
void store_close(struct store *st);
const char *store_home(const struct store *st);

/* BEGIN IMMEDIATE: takes the write lock at once (waiting up to the busy timeout). */
int store_begin(struct store *st, struct err *err);
int store_commit(struct store *st, struct err *err);
/* Does nothing when no transaction is open. */
void store_rollback(struct store *st);
/* Checkpoints the write-ahead log and truncates it to zero bytes (outside a
 * transaction): after a large transaction failed (a full disk), so that its pages do
 * not keep the space while other processes hold the database open. Best effort: the
 * log stays as it is while another process reads from it. */
void store_wal_truncate(struct store *st);

/* What this connection has cost since store_open(), for tests and for bench/
 * (SWEEP_DEBUG_STATS=1 makes `sweep run` print it on stderr at the end). commits,
 * pages and vm_steps come from SQLite's own counters, at no cost; statements are
 * counted from store_stats_enable() on (a trace callback per statement), which
 * store_open() calls itself when store_debug_stats(). */
struct store_stats {
    long long statements;         /* SQL statements run: BEGIN, COMMIT and savepoints
                                     included, those that triggers run not */
    long long trigger_statements; /* run by triggers: SQLite reports each trigger
                                     program and each statement in it */
    long long vm_steps;           /* SQLite virtual machine instructions of the prepared
                                     statements, their triggers included: their CPU work */
    long long commits;            /* write transactions committed (explicit or not) */
    long long pages;              /* database pages written to the write-ahead log */
};
/* Whether SWEEP_DEBUG_STATS is set (and not "0"). */
bool store_debug_stats(void);
void store_stats_enable(struct store *st);
void store_stats_get(struct store *st, struct store_stats *out);

/* ---- studies ---- */

enum study_status {
    STUDY_CREATED = 0,
    STUDY_QUEUED,
    STUDY_RUNNING,
    STUDY_COMPLETED,
    STUDY_PARTIALLY_FAILED,
    STUDY_FAILED,
    STUDY_CANCELLED,
    STUDY_INTERRUPTED, /* its run was stopped (signal, crash); the next run resumes */
    STUDY_WAITING,     /* waiting for the studies of its `after` (reason says which) */
};
const char *study_status_name(enum study_status s); /* "COMPLETED", ... */

struct store_study {
    long long id;
    char *name;
    char *description; /* may be NULL */
    char *spec_path;
    char *spec_json;
    enum study_status status;
    long long generation; /* bumped by each store_study_put(): the tasks of the latest
                             expansion carry it */
    double created_at, updated_at;  /* epoch seconds */
    double started_at, finished_at; /* 0 when not yet */
    int runner_pid;                 /* pid of the last `sweep run`, 0 if none */
    char *steps_json; /* a pipeline's step names, a JSON array; NULL for one step */
    char *reason;     /* why it waits or failed before running, or NULL */
};
void store_study_fini(struct store_study *s);

/* Creates the study or updates its spec (description, spec_path, spec_json,
 * updated_at), and starts a new generation: *id and *generation receive the study's id
 * and the new generation number (1 for a new study). The status is left alone. */
int store_study_put(struct store *st,
                    const char *name,
                    const char *description,
                    const char *spec_path,
                    const char *spec_json,
                    long long *id,
                    long long *generation,
                    struct err *err);
/* The stored study whose name is nearest to `name` (suggest.h), in buf: for "did you
 * mean" in a message; false when none is near. O(studies). */
bool store_study_near(struct store *st, const char *name, char *buf, size_t size);
/* SWEEP_ENOTFOUND (message names the study, and the nearest one) when there is none. */
int store_study_get(struct store *st,
                    const char *name,
                    struct store_study *out,
                    struct err *err);
int store_study_set_status(struct store *st,
                           long long id,
                           enum study_status status,
                           struct err *err);
/* Records the start (status RUNNING, started_at, runner_pid) or the end of a run
 * (status, finished_at; runner_pid stays as the last runner). These three return
 * SWEEP_ENOTFOUND for an unknown id. */
int store_study_mark_started(struct store *st, long long id, int pid, struct err *err);
int store_study_mark_finished(struct store *st,
                              long long id,
                              enum study_status status,
                              struct err *err);

/* Deletes the study and, with it, its tasks, their attempts and metrics rows, and its
 * aggregate: O(its tasks). Its files are the caller's (runner_study_remove()).
 * SWEEP_ENOTFOUND for an unknown id. */
int store_study_delete(struct store *st, long long id, struct err *err);

typedef int store_study_fn(const struct store_study *s, void *arg);
/* Every study, newest first (created_at, then id); stops early when fn returns
 * non-zero. */
int store_study_list(struct store *st, store_study_fn *fn, void *arg, struct err *err);

/* ---- tasks ---- */

struct store_task {
    long long id;
    long long study_id;
    char key[EXPAND_KEY_LEN + 1];
    long long seq;
    char *params_json;
    int repetition;
    long long seed;
    int priority;
    int cpus;
    enum task_state state;
    int attempts;  /* attempts started so far */
    int exit_code; /* of the last attempt; -1 when none or not a normal exit */
    int signal;
    double wall, user, sys;
    long maxrss_kb;
    double started_at, finished_at;
    double not_before;  /* epoch: a pending retry waits until then; 0 otherwise */
    char *error;        /* may be NULL */
    char *metrics_json; /* may be NULL */
    int step;           /* its step in a pipeline (0 for a single step; nsteps for the
                           reduce) */
    long long chain;    /* its point and repetition; -1 for the reduce */
};
void store_task_fini(struct store_task *t);

/* Inserts a task of the expansion, or, when its key is already in the study, marks it
 * as part of `generation` without touching its state or results; its seq, priority and
 * cpus then follow the new spec, and its seed too while it has no attempt (a key
 * repeated within one generation keeps its first seq). t->params is not used:
 * t->params_json is stored. Meant to be called many times inside one transaction (a
 * prepared statement is reused). */
int store_task_put(struct store *st,
                   long long study_id,
                   long long generation,
                   const struct expand_task *t,
                   int cpus,
                   struct err *err);

/* Preparing a new generation of a study in chunks, so that other writers wait at most
 * one chunk and nothing half-stored is ever seen (runner_prepare() does this):
 *
 *   store_study_stage()    one transaction: makes the study if it is new (at
 *                          generation 0, which store_study_get() and _list() do not
 *                          show) and discards what an earlier preparation that died
 *                          left (O(rows it left), in this transaction); *visible
 *                          receives the visible generation (0 for a new study),
 *                          *staged the one to fill (visible + 1).
 *   store_task_stage()     many times, in transactions of a few thousand calls: a new
 *                          key is inserted into the staged generation (read by nobody
 *                          yet); a key the study already has keeps its row, state and
 *                          results, and its new place (seq, priority, cpus, step,
 *                          chain, seed while it never ran) waits in task_stage; a key
 *                          repeated in the expansion keeps its first place.
 *   store_study_publish()  the last transaction: the staged keys join the generation,
 *                          the study takes its spec and the staged generation becomes
 *                          the visible one. O(keys the study already had): O(1) for a
 *                          new study. SWEEP_ENOTFOUND when another process published
 *                          a generation meanwhile.
 *   store_study_unstage()  instead of publishing (a bad task, a signal): deletes the
 *                          staged tasks in transactions of `chunk` rows (<= 0: one),
 *                          and the study itself when it never had a visible
 *                          generation. Leaves the previous generation as it was.
 *
 * The kept counts (store_study_counts()) count the staged tasks under their own
 * generation, so a study's counts do not see them before they are published; the
 * counts of the generations it replaces (or of a preparation discarded) are dropped.
 * Looking a task up by key or name (store_task_find(), store_task_resolve()) does not
 * see the staged tasks either. */
int store_study_stage(struct store *st,
                      const char *name,
                      long long *id,
                      long long *visible,
                      long long *staged,
                      struct err *err);
int store_task_stage(struct store *st,
                     long long study_id,
                     long long generation,
                     const struct expand_task *t,
                     int cpus,
                     struct err *err);
/* store_task_stage() of t[0..n-1] (with their own cpus), in that order, as one
 * statement when n is STORE_STAGE_BATCH: a row per task costs about a quarter less
 * than a statement per task. When a key is already in the study (or twice in t), the
 * tasks of that statement are then settled one by one (a look-up each, and a move
 * for the keys of an earlier generation), so a study prepared again costs what it
 * did. A new task's id is *id_base + its seq when id_base is not NULL and that id
 * is free (and > 0), else the next free one. */
#define STORE_STAGE_BATCH 32
int store_task_stage_batch(struct store *st,
                           long long study_id,
                           long long generation,
                           const struct expand_task *t,
                           size_t n,
                           const long long *id_base,
                           struct err *err);
/* The id that the next task inserted without one would get (above every task's), read
 * in the caller's transaction. */
int store_task_next_id(struct store *st, long long *id, struct err *err);
int store_study_publish(struct store *st,
                        long long id,
                        long long generation,
                        const char *description,
                        const char *spec_path,
                        const char *spec_json,
                        struct err *err);
int store_study_unstage(struct store *st,
                        long long id,
                        long long chunk,
                        struct err *err);

/* Which ended tasks store_study_reset() puts back to pending. 0 and 1 are what the
 * `bool force` this replaced meant by false and true. */
enum store_rerun {
    STORE_RERUN_FAILED = 0,  /* failed, timed_out, cancelled, interrupted and
                                skipped (pipeline) ones */
    STORE_RERUN_ALL = 1,     /* those and succeeded ones too (`sweep run --force`) */
    STORE_RERUN_UNTRIED = 2, /* cancelled, interrupted and skipped ones only: failed
                                and timed_out tasks, and the pipeline steps after them,
                                stay as they are (`--skip-failed`) */
    STORE_RERUN_NONE = 3,    /* none: every ended task stays (`sweep retry`) */
};

/* Prepares the tasks of `generation` for a run: tasks left `running` by a run that
 * died become interrupted (their open attempt is closed as interrupted, without a
 * result). An open attempt counts as left by a dead run when it has no owner (made
 * before schema version 5), is this connection's own (store_set_owner: a run of this
 * process that ended by an error), or its lease has expired; one held by a live lease
 * stays open and its task running (another host's worker has it; a dead local run's
 * tasks are ended and interrupted by the runner first, store_attempt_interrupt). The
 * ended
 * tasks that `rerun` names go back to pending with not_before 0 and no cancellation
 * request (their attempts and last results stay until the next attempt). Pending
 * tasks keep their not_before; a pending pipeline step behind one that has not
 * succeeded, and a pending reduce, wait again. *pending receives the number now
 * pending. */
int store_study_reset(struct store *st,
                      long long study_id,
                      long long generation,
                      enum store_rerun rerun,
                      long long *pending,
                      struct err *err);

/* Pending tasks of the generation, highest priority first then in expansion order,
 * strictly after the cursor (priority, seq); at most `limit` (memory is O(limit): a
 * batch is read, then passed to fn). `band` filters by priority band (PRIORITY_HIGH /
 * _MEDIUM / _LOW as in priority_name()), 0 = all; another value is SWEEP_EINVAL. Tasks
 * waiting for a retry (not_before in the future) are included: the caller checks
 * not_before. Start with *cursor_priority = INT_MAX, *cursor_seq = -1; both are
 * advanced to the last task passed to fn (a task for which fn returns non-zero was
 * passed, and the batch stops there). Returns the number of tasks passed to fn, or -1
 * with err set. */
typedef int store_task_fn(const struct store_task *t, void *arg);
int store_task_next_pending(struct store *st,
                            long long study_id,
                            long long generation,
                            int band,
                            int *cursor_priority,
                            long long *cursor_seq,
                            int limit,
                            store_task_fn *fn,
                            void *arg,
                            struct err *err);

/* An attempt starts: state running, attempts = attempt, a new attempts row owned by
 * this connection's owner (store_set_owner) with a lease until now + its lease; no
 * owner and no lease when none is set. SWEEP_ENOTFOUND when the task is not pending
 * (any more: `sweep cancel` may have cancelled it since it was read); the caller
 * skips it.
 * This and store_task_finished() are the per-task writers of a run: inside the
 * caller's transaction they take no savepoint (two statements and a copy of each page
 * they change); their expected failures (SWEEP_ENOTFOUND, SWEEP_ESTALE, an attempt
 * that exists) change nothing, but after any other error (I/O, a full disk) the
 * caller rolls its transaction back, as the runner does. Outside a transaction each
 * call is one. */
int store_task_started(struct store *st,
                       long long task_id,
                       int attempt,
                       double started_at,
                       struct err *err);
/* The group a task is counted in (task_counts) and its seq, as its runner read them
 * (store_task_next_pending): given to store_task_started_in() and
 * store_task_finished_in(), it saves them reading the task back (one statement each).
 * A task found in another group (or, at its end, with a cancellation requested) is
 * handled as without it. */
struct store_task_group {
    long long study_id, generation, seq;
    int step, priority;
};
int store_task_started_in(struct store *st,
                          const struct store_task_group *g,
                          long long task_id,
                          int attempt,
                          double started_at,
                          struct err *err);
/* An attempt ended: the attempts row is closed with o->state and the task takes
 * o->state, or goes back to pending with not_before = o->retry_at when a retry is
 * scheduled (o->retry_at > 0), keeping this attempt's exit code, error and times for
 * display; a retry is dropped (the task becomes cancelled) when a cancellation was
 * requested during the attempt. The task's metrics_json becomes o->metrics_json, and
 * its rows in the table `metrics` (read them with sqlite3 through the view v_metrics)
 * become those of that object, flattened as aggregate.h describes: one row per name
 * ("a.b" for nested objects), numbers and booleans (0/1) as `value` (REAL: integers
 * beyond 2^53 lose precision), strings as `text`; arrays and null are left out, and no
 * metrics (NULL, or not an object) leave no rows. Its metric names join the study's
 * result columns (store_result_names()).
 * A result that is accepted while the attempt is open, even after its lease ran out
 * (nobody has taken the task since).
 * SWEEP_EINVAL when o->state is not final; SWEEP_ENOTFOUND when the task has no such
 * attempt. SWEEP_ESTALE when the attempt is no longer open (interrupted, expired, or
 * already recorded): the result is recorded as stale and nothing else changes, so an
 * attempt is never recorded twice. Its attempts row counts it in `stale`; an attempt
 * closed without a result (interrupted by a reset or an expired lease) also keeps the
 * late result's exit code, signal, times, peak RSS, error (when it has one) and
 * metrics_json, and stays interrupted. The task, its metrics and the open
 * transaction are as before; the caller logs it and carries on. */
int store_task_finished(struct store *st,
                        long long task_id,
                        int attempt,
                        const struct task_outcome *o,
                        struct err *err);
int store_task_finished_in(struct store *st,
                           const struct store_task_group *g,
                           long long task_id,
                           int attempt,
                           const struct task_outcome *o,
                           struct err *err);

/* Counts per priority band and state for the tasks of the latest generation:
 * counts[band][state] with band 0 = LOW, 1 = MEDIUM, 2 = HIGH. Read from the counts
 * that the store keeps in the same transaction as every change of a task (table
 * task_counts: triggers on every update and delete, the inserting functions for an
 * insert, store_task_started() and _finished() for theirs, once per transaction and
 * group): a few rows whatever the study's size, in one read snapshot (inside a
 * transaction, its changes are counted first). SWEEP_ENOTFOUND for an unknown study. */
int store_study_counts(struct store *st,
                       long long study_id,
                       long long counts[3][TASK_NSTATES],
                       struct err *err);

/* Tasks of the latest generation in expansion order; state < 0 means every state.
 * SWEEP_ENOTFOUND for an unknown study. */
int store_task_each(struct store *st,
                    long long study_id,
                    int state,
                    store_task_fn *fn,
                    void *arg,
                    struct err *err);

/* One page of the tasks of the latest generation in expansion order, as
 * store_task_each() gives them: of those in `state` (< 0: any) whose priority is from
 * prio_lo to prio_hi (INT_MIN..INT_MAX: any), `offset` skipped, then at most `limit`,
 * each passed to fn (non-zero stops), in one read snapshot. Cost: without a state or
 * priority condition, two index seeks and the page (O(limit log n), whatever the
 * offset); with one, the offset's rows are stepped over in the index tasks_order
 * (O(offset + limit), each row read for its state and priority, none decoded).
 * SWEEP_ENOTFOUND for an unknown study. */
int store_task_page(struct store *st,
                    long long study_id,
                    int state,
                    int prio_lo,
                    int prio_hi,
                    long long offset,
                    long long limit,
                    store_task_fn *fn,
                    void *arg,
                    struct err *err);
/* How many tasks of the latest generation store_task_page() would page through: from
 * the kept counts (store_study_counts()) when the priorities are every one or one
 * band (priority_name()), else by a scan of the generation. */
int store_task_count(struct store *st,
                     long long study_id,
                     int state,
                     int prio_lo,
                     int prio_hi,
                     long long *n,
                     struct err *err);

/* At most `limit` tasks of the latest generation in one state, by priority (highest
 * first), then expansion order: an index range, cheap however large the study (a sample
 * of finished tasks, the running ones). */
int store_task_in_state(struct store *st,
                        long long study_id,
                        enum task_state state,
                        int limit,
                        store_task_fn *fn,
                        void *arg,
                        struct err *err);

/* One task by key or unique key prefix (4 to EXPAND_KEY_LEN hex digits, any case), in
 * one study or, with study_id 0, in any; of any visible generation (not one being
 * prepared: store_study_stage()). SWEEP_ENOTFOUND when none, SWEEP_EINVAL when the
 * prefix is ambiguous (the message says so and names two matches) or not hex. */
int store_task_find(struct store *st,
                    long long study_id,
                    const char *key_prefix,
                    struct store_task *out,
                    struct err *err);

/* The one place where a task's name is resolved (the CLI's `sweep logs`, `sweep
 * cancel`, and the REST API's /tasks/{id}). A name is
 *   N           the task's id: a decimal integer, unique in the home (the `id` of
 *               `sweep results`);
 *   KEY         its key, or a prefix of 4 to EXPAND_KEY_LEN hex digits (any case);
 *   STUDY/KEY   a key or prefix (or an id) in that study.
 * A number is the task with that id when there is one, else a key prefix.
 * study_id, if not 0, restricts the search to that study (e.g. `--study`). Any
 * visible generation (a task of one still being prepared is not found). On success
 * *out is the task (free with store_task_fini) and, when study is not NULL, *study
 * its study's name (free it). SWEEP_ENOTFOUND when no task (or no
 * study) has that name, or it cannot name a task; SWEEP_EINVAL when it names several
 * tasks (keys are shared by the studies of one spec copied under another name): the
 * message lists them as STUDY/KEY (id N), at most 10, and says how to name one. Cost:
 * two indexed look-ups. */
int store_task_resolve(struct store *st,
                       long long study_id,
                       const char *name,
                       struct store_task *out,
                       char **study,
                       struct err *err);

/* Every attempt of a task, oldest first. The strings are valid during the callback. */
struct store_attempt {
    int attempt;
    enum task_state state; /* RUNNING while open */
    int exit_code, signal;
    double started_at, finished_at, wall, user, sys;
    long maxrss_kb;
    char *error;
    char *owner;        /* NULL when it had none */
    double lease_until; /* epoch; 0 without an owner */
    int pid, pgid;      /* of a local attempt's process, 0 when not recorded */
    int stale;          /* results that arrived after it had ended */
    char *metrics_json; /* a late result's metrics (the task's are in store_task) */
};
typedef int store_attempt_fn(const struct store_attempt *a, void *arg);
int store_task_attempts(struct store *st,
                        long long task_id,
                        store_attempt_fn *fn,
                        void *arg,
                        struct err *err);

/* ---- owners and leases ----
 *
 * Every attempt has an owner: "host:pid:starttime" for a local `sweep run` (the start
 * time in clock ticks since boot, field 22 of /proc/PID/stat, so that a reused pid is
 * not taken for the owner), later a worker's id. The owner renews the leases of all
 * its open attempts (store_lease_renew, about every lease/3); an attempt whose lease
 * ran out is interrupted and its task runnable again (store_expire_leases,
 * store_study_reset). A local run's attempts also record the process group of the
 * task, so that the next run on the host can end it when the owner died. */

#define STORE_LEASE_DEFAULT 60.0 /* seconds */

/* The owner of the attempts this connection starts from now on, and their lease in
 * seconds (<= 0: STORE_LEASE_DEFAULT); NULL: none (attempts without owner or lease,
 * as before schema version 5). The string is copied. */
void store_set_owner(struct store *st, const char *owner, double lease);
/* The owner set, or NULL; borrowed until the next store_set_owner. */
const char *store_owner(const struct store *st);
/* Its lease in seconds; 0 without an owner. */
double store_lease(const struct store *st);

/* The process of an open attempt, right after it was spawned: its pid and process
 * group, with the time now (a process of the group started between the attempt's
 * start and now is the task; a later one reuses its pid). SWEEP_ENOTFOUND when the
 * attempt is not open. One indexed UPDATE. */
int store_attempt_set_process(struct store *st,
                              long long task_id,
                              int attempt,
                              int pid,
                              int pgid,
                              struct err *err);
/* Sets lease_until = until on every open attempt of `owner` (one UPDATE over the open
 * attempts' index); *n (may be NULL) receives how many. */
int store_lease_renew(
    struct store *st, const char *owner, double until, long long *n, struct err *err);
/* An open attempt of a study (any generation), with its task's key and study. */
struct store_open_attempt {
    long long task_id;
    int attempt;
    char *owner; /* may be NULL; valid during the callback */
    double lease_until;
    int pid, pgid; /* 0 when not recorded */
    double started_at, spawned_at;
    char key[EXPAND_KEY_LEN + 1];
    long long study_id;
    char *study; /* its name; valid during the callback */
};
typedef int store_open_attempt_fn(const struct store_open_attempt *a, void *arg);

/* Open attempts whose lease ran out before `now` (epoch), of any owner but this
 * connection's: each is closed as interrupted without a result (error "interrupted:
 * the lease of its owner expired: OWNER"), and its task, when that is its current
 * attempt, becomes pending (runnable at once), or cancelled when a cancellation was
 * requested. Attempts without owner are left to store_study_reset. fn (may be NULL)
 * is then called with each attempt expired (as it was before), once the change is
 * made (its return value is ignored). *n (may be NULL) receives how many attempts
 * expired. Cost: O(open attempts). */
int store_expire_leases(struct store *st,
                        double now,
                        store_open_attempt_fn *fn,
                        void *arg,
                        long long *n,
                        struct err *err);
/* The open attempts of the study's tasks (study_id 0: of every study), in expansion
 * order. They are read before
 * fn is called, so fn may write (store_attempt_interrupt). O(open attempts). */
int store_attempt_each_open(struct store *st,
                            long long study_id,
                            store_open_attempt_fn *fn,
                            void *arg,
                            struct err *err);
/* Closes an open attempt as interrupted without a result (error `why`), and its task,
 * when that is its current attempt, becomes interrupted (store_study_reset then puts
 * it back to pending). SWEEP_ENOTFOUND when the attempt is not open. */
int store_attempt_interrupt(
    struct store *st, long long task_id, int attempt, const char *why, struct err *err);

/* Gives back an attempt that was started (store_task_started) but never submitted
 * (its process not recorded): its attempts row is deleted and the task is pending
 * again with attempts = attempt - 1, or cancelled when a cancellation was requested
 * meanwhile. For a runner that claimed tasks ahead and stops. SWEEP_ENOTFOUND when
 * there is no such open attempt. Prepares its two statements at each call (rare). */
int store_task_unclaim(struct store *st,
                       long long task_id,
                       int attempt,
                       struct err *err);

/* Cancellation requested from another process (`sweep cancel`): pending and waiting
 * tasks become cancelled at once (finished_at = now; attempts untouched); running ones
 * are flagged, and the runner that owns them kills them and records them cancelled.
 * task_id 0 means every task of the study's latest generation (SWEEP_ENOTFOUND for an
 * unknown study); otherwise study_id may be 0, or must be the task's. *n receives how
 * many tasks were affected (0 for tasks already final or already flagged). */
int store_cancel(struct store *st,
                 long long study_id,
                 long long task_id,
                 long long *n,
                 struct err *err);
/* Puts a task that has ended (in any final state) back to pending, to run again on the
 * next run; its attempts and last results stay until then. Pending and running tasks
 * are left as they are. */
int store_task_requeue(struct store *st, long long task_id, struct err *err);
/* The failed and timed-out tasks of the study's latest generation back to pending
 * (store_task_requeue), in the caller's transaction; *n (may be NULL) receives how
 * many. What a study's retry does (the REST API's, MCP's retry_failed_simulations).
 * O(tasks of the study). */
int store_requeue_failed(struct store *st,
                         long long study_id,
                         long long *n,
                         struct err *err);
/* Cancels a study in one transaction of its own: store_cancel() of every task, then
 * status CANCELLED; *n receives how many tasks were affected. What `sweep cancel
 * STUDY` does (and the REST API's and MCP's cancel). */
int store_study_cancel(struct store *st,
                       long long study_id,
                       long long *n,
                       struct err *err);
/* The running tasks of the latest generation flagged for cancellation, in expansion
 * order (the runner polls this about once a second). */
int store_task_cancel_requested(struct store *st,
                                long long study_id,
                                store_task_fn *fn,
                                void *arg,
                                struct err *err);

/* ---- aggregates ---- */

/* Stores json_text (not NULL) as the study's aggregate, computed for `generation`,
 * with computed_at = now, replacing the one stored before. SWEEP_ENOTFOUND for an
 * unknown study. */
int store_aggregate_put(struct store *st,
                        long long study_id,
                        long long generation,
                        const char *json_text,
                        struct err *err);
/* The study's stored aggregate: *json_text (free it) and *computed_at (epoch seconds).
 * SWEEP_ENOTFOUND when none is stored (then *json_text is NULL). */
int store_aggregate_get(struct store *st,
                        long long study_id,
                        char **json_text,
                        double *computed_at,
                        struct err *err);

/* ---- pipelines ---- */

/* A study's step names (JSON array text; NULL for a single-step study) and the reason
 * it waits or failed before running (NULL to clear). */
int store_study_set_steps(struct store *st,
                          long long id,
                          const char *steps_json,
                          struct err *err);
int store_study_set_reason(struct store *st,
                           long long id,
                           const char *reason,
                           struct err *err);

/* The step after t in its chain (seq + 1, step + 1) goes from waiting to pending:
 * returns 1 with that task in *next (free it with store_task_fini), 0 when there is
 * none waiting, or a negative sweep code. Indexed: O(log n). */
int store_task_unblock_next(struct store *st,
                            const struct store_task *t,
                            long long generation,
                            struct store_task *next,
                            struct err *err);
/* The steps after t in its chain that are waiting or pending become skipped with
 * `reason` as their error; *n receives how many. Indexed: O(nsteps + log n). */
int store_task_skip_rest(struct store *st,
                         const struct store_task *t,
                         long long generation,
                         int nsteps,
                         const char *reason,
                         long long *n,
                         struct err *err);
/* The SHA-256 (hex) of the input a reduce's last attempt succeeded on, in *hash (free
 * it; NULL when there is none); and setting it (NULL clears it). */
int store_task_input_hash(struct store *st,
                          long long task_id,
                          char **hash,
                          struct err *err);
int store_task_set_input_hash(struct store *st,
                              long long task_id,
                              const char *hash,
                              struct err *err);
/* Moves a task from one state to another (e.g. a reduce from waiting to pending or
 * skipped, with `error` as its reason, may be NULL); SWEEP_ENOTFOUND when it is not in
 * state `from`. */
int store_task_set_state(struct store *st,
                         long long task_id,
                         enum task_state from,
                         enum task_state to,
                         const char *error,
                         struct err *err);
/* The tasks before t in its chain (steps 0 .. t->step - 1), in step order. */
int store_task_chain_before(struct store *st,
                            const struct store_task *t,
                            long long generation,
                            store_task_fn *fn,
                            void *arg,
                            struct err *err);
/* The task of the latest generation with the highest seq (a pipeline's reduce when it
 * has one); SWEEP_ENOTFOUND when the generation has no task. */
int store_task_last(struct store *st,
                    long long study_id,
                    long long generation,
                    struct store_task *out,
                    struct err *err);
/* Counts of the latest generation by step and state: counts[0 .. nsteps] (the reduce
 * at nsteps), from the kept counts (task_counts): a few rows. */
int store_study_step_counts(struct store *st,
                            long long study_id,
                            int nsteps,
                            long long (*counts)[TASK_NSTATES],
                            struct err *err);

/* ---- the names of the result columns ----
 *
 * The parameter and metric names of a study's tasks, kept as tasks are stored and
 * results recorded, so that the header of `sweep results` is one small query (see
 * "result names" in store.c for how the list is kept, what it costs and its limits).
 * A name is listed per kind and step, with the first task in expansion order that
 * has it (seq, task_id) and its place among that task's names (pos: parameters in
 * canonical, sorted order, metrics flattened as a.b in the order the task wrote
 * them); the columns are the names in (seq, pos) order. */

enum store_name_kind { STORE_NAME_PARAM = 0, STORE_NAME_METRIC = 1 };

struct store_name {
    int kind;          /* enum store_name_kind */
    int step;          /* the step of the tasks that have it */
    char *name;        /* metrics: flattened, not under the step's name */
    long long seq;     /* the first task that has it */
    int pos;           /* its place among that task's names */
    long long task_id; /* that task (0 for a parameter) */
};
void store_names_free(struct store_name *v, size_t n);

/* The names of the study's latest generation (*generation), in (seq, pos) order, into
 * *out and *n (free with store_names_free()). *complete is false, and nothing is read,
 * when the list is not known to be complete for that generation (a study stored by
 * store_study_put() again, or a generation that lost a metric's first task): the
 * caller then reads the tasks, and may hand what it found to
 * store_result_names_merge(). One read snapshot; SWEEP_ENOTFOUND for an unknown
 * study. */
int store_result_names(struct store *st,
                       long long study_id,
                       long long *generation,
                       bool *complete,
                       struct store_name **out,
                       size_t *n,
                       struct err *err);
/* Adds the names that a pass over every task of `generation` found (each at its first
 * task) and marks the list complete for it, when it is still the study's latest. Its
 * own short transaction (not inside the caller's): whatever a run recorded meanwhile
 * is kept. */
int store_result_names_merge(struct store *st,
                             long long study_id,
                             long long generation,
                             const struct store_name *v,
                             size_t n,
                             struct err *err);

#endif
