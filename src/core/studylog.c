/* The study log (see studylog.h): each event is formatted into one line buffer, then
 * goes to a stdio buffer, or to a memory buffer while a store transaction is open. */
#include "studylog.h"

#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct studylog {
    FILE *f;
    bool in_tx;
    struct strbuf held; /* the events of the open transaction */
    struct strbuf line; /* the line being formatted (reused) */
    long long ts_sec;   /* the second of ts */
    char ts[80];        /* "YYYY-MM-DDTHH:MM:SS" of ts_sec */
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

/* Appends to sb as sb_addf does, formatting once when it fits (the buffer is reused
 * from line to line, so it nearly always does). */
static void lf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void lf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (sb->cap - sb->len < 256)
        sb->buf = xgrow(sb->buf, &sb->cap, sb->len + 256, 1);
    va_start(ap, fmt);
    n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->buf[sb->len] = '\0';
        return;
    }
    if ((size_t)n >= sb->cap - sb->len) {
        sb->buf = xgrow(sb->buf, &sb->cap, sb->len + (size_t)n + 1, 1);
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
    }
    sb->len += (size_t)n;
}

/* Starts log->line with the timestamp (as time_iso8601() writes it; the date and time
 * of day are formatted once per second) and the event's name. */
static struct strbuf *line_start(struct studylog *log, double when, const char *event)
{
    double epoch = when > 0 ? when : time_now();
    time_t sec = (time_t)floor(epoch);
    int ms = (int)((epoch - (double)sec) * 1000.0);

    if (ms > 999)
        ms = 999;
    if ((long long)sec != log->ts_sec || !log->ts[0]) {
        struct tm tm;
        gmtime_r(&sec, &tm);
        snprintf(log->ts, sizeof(log->ts), "%04d-%02d-%02dT%02d:%02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        log->ts_sec = (long long)sec;
    }
    sb_reset(&log->line);
    lf(&log->line, "%s.%03dZ %s", log->ts, ms, event);
    return &log->line;
}

/* Ends log->line and writes it (held back inside a transaction). */
static void line_end(struct studylog *log)
{
    sb_addc(&log->line, '\n');
    if (log->in_tx)
        sb_add(&log->held, log->line.buf, log->line.len);
    else
        fwrite(log->line.buf, 1, log->line.len, log->f);
}

void studylog_event(struct studylog *log, const char *event, const char *fmt, ...)
{
    struct strbuf *sb;
    char *text;
    va_list ap;

    if (!log)
        return;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    sb = line_start(log, 0, event);
    sb_addf(sb, " %s", text ? text : "");
    free(text);
    line_end(log);
}

/* Appends s quoted (studylog.h). */
static void quote_into(struct strbuf *sb, const char *s)
{
    sb_addc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            sb_adds(sb, "\\\"");
            break;
        case '\\':
            sb_adds(sb, "\\\\");
            break;
        case '\n':
            sb_adds(sb, "\\n");
            break;
        case '\r':
            sb_adds(sb, "\\r");
            break;
        case '\t':
            sb_adds(sb, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                lf(sb, "\\x%02x", *p);
            else
                sb_addc(sb, (char)*p);
        }
    }
    sb_addc(sb, '"');
}

/* " name=VALUE" with the value quoted. */
static void add_quoted(struct strbuf *sb, const char *name, const char *value)
{
    lf(sb, " %s=", name);
    quote_into(sb, value);
}

static const char *end_name(const struct runner_event *ev)
{
    if (ev->error)
        return "error";
    switch (ev->end) {
    case RUNNER_FINISHED:
        return "finished";
    case RUNNER_STOPPED:
        return "stopped";
    case RUNNER_INTERRUPTED:
        return "interrupted";
    case RUNNER_CANCELLED:
        return "cancelled";
    }
    return "?";
}

/* The line of a task's change of state (studylog.h). */
static void task_line(struct studylog *log, const struct runner_event *ev)
{
    const struct task_outcome *o = ev->outcome;
    struct strbuf *sb;

    if (ev->from == TASK_PENDING && ev->to == TASK_RUNNING) {
        sb = line_start(log, ev->time, "task_start");
        lf(sb, " task=%s attempt=%d pid=%d params=%s", ev->key, ev->attempt, ev->pid,
           ev->params ? ev->params : "{}");
    } else if (ev->from == TASK_RUNNING && ev->to == TASK_PENDING && o) {
        sb = line_start(log, ev->time, "task_retry");
        lf(sb, " task=%s attempt=%d state=%s", ev->key, ev->attempt,
           task_state_name(o->state));
        add_quoted(sb, "error", o->error);
        lf(sb, " retry_in=%.3fs", o->retry_at - ev->time);
    } else if (ev->from == TASK_RUNNING && o) {
        sb = line_start(log, ev->time, "task_end");
        lf(sb,
           " task=%s attempt=%d state=%s exit=%d signal=%d wall=%.3f user=%.3f "
           "sys=%.3f maxrss_kb=%ld",
           ev->key, ev->attempt, task_state_name(ev->to), o->exit_code, o->signal,
           o->wall, o->user, o->sys, o->maxrss_kb);
        if (o->error)
            add_quoted(sb, "error", o->error);
    } else if (ev->from == TASK_WAITING) {
        sb = line_start(log, ev->time,
                        ev->to == TASK_PENDING   ? "reduce_ready"
                        : ev->to == TASK_SKIPPED ? "reduce_skipped"
                                                 : "reduce_unchanged");
        lf(sb, " task=%s", ev->key);
        if (ev->text)
            add_quoted(sb, "reason", ev->text);
    } else {
        sb = line_start(log, ev->time, "task_state");
        lf(sb, " task=%s attempt=%d from=%s to=%s", ev->key, ev->attempt,
           task_state_name(ev->from), task_state_name(ev->to));
    }
    line_end(log);
}

void studylog_on_event(void *arg, const struct runner_event *ev)
{
    struct studylog *log = arg;
    struct strbuf *sb;

    if (!log)
        return;
    switch (ev->kind) {
    case RUNNER_EVENT_TASK:
        task_line(log, ev);
        return;
    case RUNNER_EVENT_START:
        sb = line_start(log, ev->time, "run_start");
        lf(sb, " study=%s pid=%d tasks=%lld pending=%lld skipped=%lld slots=%d",
           ev->study, ev->pid, ev->tasks, ev->pending, ev->skipped, ev->slots);
        break;
    case RUNNER_EVENT_START_FAILED:
        sb = line_start(log, ev->time, "task_start_failed");
        lf(sb, " task=%s attempt=%d", ev->key, ev->attempt);
        add_quoted(sb, "error", ev->text);
        break;
    case RUNNER_EVENT_STALE:
        sb = line_start(log, ev->time, "task_stale");
        lf(sb, " task=%s attempt=%d state=%s", ev->key, ev->attempt,
           task_state_name(ev->outcome ? ev->outcome->state : ev->to));
        add_quoted(sb, "error", ev->text);
        break;
    case RUNNER_EVENT_CHAIN_SKIPPED:
        sb = line_start(log, ev->time, "chain_skipped");
        lf(sb, " task=%s skipped=%lld", ev->key, ev->count);
        add_quoted(sb, "reason", ev->text);
        break;
    case RUNNER_EVENT_ORPHAN_ENDED:
        sb = line_start(log, ev->time, "task_orphan_ended");
        lf(sb, " task=%s attempt=%d pgid=%d", ev->key, ev->attempt, ev->pid);
        add_quoted(sb, "owner", ev->text);
        break;
    case RUNNER_EVENT_LEASE_EXPIRED:
        sb = line_start(log, ev->time, "task_lease_expired");
        lf(sb, " task=%s attempt=%d", ev->key, ev->attempt);
        add_quoted(sb, "owner", ev->text);
        break;
    case RUNNER_EVENT_WAITING:
        sb = line_start(log, ev->time, "waiting");
        lf(sb, " for=%s", ev->after ? ev->after : "");
        break;
    case RUNNER_EVENT_BLOCKED:
    case RUNNER_EVENT_STOP:
    case RUNNER_EVENT_CANCEL:
        sb = line_start(log, ev->time,
                        ev->kind == RUNNER_EVENT_BLOCKED ? "blocked"
                        : ev->kind == RUNNER_EVENT_STOP  ? "stop"
                                                         : "cancel");
        add_quoted(sb, "reason", ev->text);
        break;
    case RUNNER_EVENT_INTERRUPT:
        sb = line_start(log, ev->time, "interrupt");
        lf(sb, " signal=%d running=%lld", ev->signo, ev->count);
        break;
    case RUNNER_EVENT_STORE_BUSY:
        sb = line_start(log, ev->time, "store_busy");
        lf(sb, " done=%lld", ev->count);
        break;
    case RUNNER_EVENT_END:
        sb = line_start(log, ev->time, "run_end");
        lf(sb, " study=%s end=%s status=%s elapsed=%.3f", ev->study, end_name(ev),
           ev->recorded ? study_status_name(ev->status) : "unrecorded", ev->elapsed);
        if (ev->text && ev->text[0])
            add_quoted(sb, "reason", ev->text);
        break;
    default:
        return;
    }
    line_end(log);
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
    sb_fini(&log->line);
    free(log);
}

char *studylog_quote(const char *s)
{
    struct strbuf sb = STRBUF_INIT;

    quote_into(&sb, s);
    return sb_take(&sb);
}
