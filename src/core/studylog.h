/* The study log: one line per event, "<ISO-8601 UTC> <event> key=value ...", appended
 * to <home>/studies/<study>/study.log. It is a consumer of the runner's events
 * (studylog_on_event(), runner.h): the runner hands it each event of its study before
 * its owner's on_event. Lines are buffered and flushed once per scheduler tick
 * (studylog_flush) so that logging costs no syscall per task: one formatted line per
 * event into a buffer reused from line to line, no fsync.
 *
 * Values: a value that may hold a blank, a quote or a line break (an error, a reason)
 * is written with studylog_quote(): in double quotes, with \" for a quote, \\ for a
 * backslash, \n, \r and \t for those characters, and \xHH for any other control byte,
 * so that every event stays one line of key=value pairs.
 *
 * Transactions: the events of a store transaction are written only if it commits.
 * Between studylog_begin() and studylog_commit() events are held in memory;
 * studylog_rollback() drops them, so the log never shows what the store does not. */
#ifndef SWEEP_CORE_STUDYLOG_H
#define SWEEP_CORE_STUDYLOG_H

#include "common/err.h"
#include "core/runner.h"

struct studylog;

int studylog_open(const char *path, struct studylog **out, struct err *err);
/* Writes the line of one runner event (runner_event_fn; arg is the struct studylog,
 * NULL for none), timed by ev->time (0: now). The lines, by kind (runner.h):
 *   START           run_start study= pid= tasks= pending= skipped= slots=
 *   TASK            task_start task= attempt= pid= params= (pending -> running)
 *                   task_retry task= attempt= state= error= retry_in=Ns (-> pending)
 *                   task_end task= attempt= state= exit= signal= wall= user= sys=
 *                     maxrss_kb= [error=] (running -> a final state)
 *                   reduce_ready task= | reduce_skipped task= reason= |
 *                     reduce_unchanged task= reason= (waiting -> pending, skipped,
 *                     succeeded)
 *                   task_state task= attempt= from= to= (any other change)
 *   START_FAILED    task_start_failed task= attempt= error=
 *   STALE           task_stale task= attempt= state= error=
 *   CHAIN_SKIPPED   chain_skipped task= skipped= reason=
 *   ORPHAN_ENDED    task_orphan_ended task= attempt= pgid= owner=
 *   LEASE_EXPIRED   task_lease_expired task= attempt= owner=
 *   WAITING         waiting for=
 *   BLOCKED, STOP, CANCEL   blocked | stop | cancel reason=
 *   INTERRUPT       interrupt signal= running=
 *   STORE_BUSY      store_busy done=
 *   END             run_end study= end=finished|stopped|interrupted|cancelled|error
 *                     status=STATUS|unrecorded elapsed= [reason=] */
void studylog_on_event(void *log, const struct runner_event *ev);
/* Appends "<timestamp> <event> <fmt...>\n" (held back inside a transaction), for a
 * line that is no runner event. */
void studylog_event(struct studylog *log, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Holds the following events until studylog_commit (written) or studylog_rollback
 * (dropped). Transactions do not nest. */
void studylog_begin(struct studylog *log);
void studylog_commit(struct studylog *log);
void studylog_rollback(struct studylog *log);
void studylog_flush(struct studylog *log);
void studylog_close(struct studylog *log);

/* s in double quotes with the escapes above; "" for NULL (a new string, free it). */
char *studylog_quote(const char *s);

#endif
