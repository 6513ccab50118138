/* The study log (see studylog.h): lines go to a stdio buffer, or to a memory buffer
 * while a store transaction is open. */
#include "studylog.h"

#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct studylog {
    FILE *f;
    bool in_tx;
    struct strbuf held; /* the events of the open transaction */
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
    char ts[40], *line;
    va_list ap;

    if (!log)
        return;
    time_iso8601(time_now(), ts, sizeof(ts));
    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0)
        line = NULL;
    va_end(ap);
    if (log->in_tx)
        sb_addf(&log->held, "%s %s %s\n", ts, event, line ? line : "");
    else
        fprintf(log->f, "%s %s %s\n", ts, event, line ? line : "");
    free(line);
}

void studylog_begin(struct studylog *log)
{
    if (!log)
        return;
    sb_reset(&log->held);
    log->in_tx = true;
}

void studylog_commit(struct studylog *log)
{
    if (!log)
        return;
    if (log->held.len > 0)
        fwrite(log->held.buf, 1, log->held.len, log->f);
    sb_reset(&log->held);
    log->in_tx = false;
}

void studylog_rollback(struct studylog *log)
{
    if (!log)
        return;
    sb_reset(&log->held);
    log->in_tx = false;
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
    sb_fini(&log->held);
    free(log);
}

char *studylog_quote(const char *s)
{
    struct strbuf sb = STRBUF_INIT;

    sb_addc(&sb, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            sb_adds(&sb, "\\\"");
            break;
        case '\\':
            sb_adds(&sb, "\\\\");
            break;
        case '\n':
            sb_adds(&sb, "\\n");
            break;
        case '\r':
            sb_adds(&sb, "\\r");
            break;
        case '\t':
            sb_adds(&sb, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                sb_addf(&sb, "\\x%02x", *p);
            else
                sb_addc(&sb, (char)*p);
        }
    }
    sb_addc(&sb, '"');
    return sb_take(&sb);
}
