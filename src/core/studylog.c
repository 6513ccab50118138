/* The study log (see studylog.h). */
#include "studylog.h"

#include "common/timeutil.h"
#include "common/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct studylog {
    FILE *f;
};

int studylog_open(const char *path, struct studylog **out, struct err *err)
{
    FILE *f = fopen(path, "ae");

    if (!f)
        return err_set(err, SWEEP_EIO, "cannot open study log %s: %s", path,
                       strerror(errno));
    *out = xcalloc(1, sizeof(**out));
    (*out)->f = f;
    return SWEEP_OK;
}

void studylog_event(struct studylog *log, const char *event, const char *fmt, ...)
{
    char ts[40];
    va_list ap;

    if (!log)
        return;
    time_iso8601(time_now(), ts, sizeof(ts));
    fprintf(log->f, "%s %s ", ts, event);
    va_start(ap, fmt);
    vfprintf(log->f, fmt, ap);
    va_end(ap);
    fputc('\n', log->f);
}

void studylog_flush(struct studylog *log)
{
    if (log)
        fflush(log->f);
}

void studylog_close(struct studylog *log)
{
    if (!log)
        return;
    fclose(log->f);
    free(log);
}
