/* The study log: one line per event, "<ISO-8601 UTC> <event> key=value ...", appended
 * to <home>/studies/<study>/study.log. Lines are buffered and flushed once per
 * scheduler tick (studylog_flush) so that logging costs no syscall per task. */
#ifndef SWEEP_CORE_STUDYLOG_H
#define SWEEP_CORE_STUDYLOG_H

#include "common/err.h"

struct studylog;

int studylog_open(const char *path, struct studylog **out, struct err *err);
/* Appends "<timestamp> <event> <fmt...>\n". */
void studylog_event(struct studylog *log, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void studylog_flush(struct studylog *log);
void studylog_close(struct studylog *log);

#endif
