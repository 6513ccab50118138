/* The study log: one line per event, "<ISO-8601 UTC> <event> key=value ...", appended
 * to <home>/studies/<study>/study.log. Lines are buffered and flushed once per
 * scheduler tick (studylog_flush) so that logging costs no syscall per task.
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

struct studylog;

int studylog_open(const char *path, struct studylog **out, struct err *err);
/* Appends "<timestamp> <event> <fmt...>\n" (held back inside a transaction). */
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
