/* The progress lines of a run (progress.h). On a terminal, the runners' notes (the
 * stderr of tasks that fail at once, runner_opts.notes) go through a stream of ours
 * that erases the block of lines first, so that a note is printed above the block and
 * the block is drawn again below it, never over it. */
#include "cli/progress.h"

#include "common/termline.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct pline {
    struct runner *r;
    char *study;
    char *waiting; /* the last "waiting for NAME", or NULL */
    bool seen;     /* started (or ended) once: counted from then */
    bool ended;    /* its last line was printed */
    double last_progress;
    long long last_reported;
};

struct progress {
    FILE *out;
    bool tty;
    int (*columns)(void);
    struct pline *v;
    size_t n, cap;
    size_t drawn;       /* tty block: lines on the screen now */
    double last_redraw; /* tty block */
    FILE *notes;        /* runner_opts.notes as the runners get it (tty), or NULL */
    FILE *notes_to;     /* where the notes go (the caller's notes) */
};

struct progress *progress_create(FILE *out, bool tty, int (*columns)(void))
{
    struct progress *p = xcalloc(1, sizeof(*p));

    p->out = out;
    p->tty = tty;
    p->columns = columns;
    return p;
}

void progress_destroy(struct progress *p)
{
    if (!p)
        return;
    if (p->notes)
        fclose(p->notes);
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].study);
        free(p->v[i].waiting);
    }
    free(p->v);
    free(p);
}

/* Takes the block of lines off the screen (the cursor ends at the start of its first
 * line): the block is redrawn from there at the next tick. */
static void block_erase(struct progress *p)
{
    if (p->drawn > 1)
        fprintf(p->out, "\r\033[%zuA", p->drawn - 1);
    if (p->drawn > 0)
        fputs("\r\033[J", p->out);
    p->drawn = 0;
    p->last_redraw = 0;
}

/* A note of a runner: written where the caller's notes go, the block erased before. */
static ssize_t notes_write(void *arg, const char *buf, size_t n)
{
    struct progress *p = arg;

    block_erase(p);
    fflush(p->out);
    fwrite(buf, 1, n, p->notes_to);
    fflush(p->notes_to);
    return (ssize_t)n;
}

void progress_attach(struct progress *p, struct runner_opts *o)
{
    /* Notes through our stream, line by line (a line without fflush is not held). */
    if (p->out && p->tty && o->notes && o->notes != p->notes) {
        if (!p->notes) {
            cookie_io_functions_t io = {.write = notes_write};
            p->notes_to = o->notes;
            p->notes = fopencookie(p, "w", io);
            if (p->notes)
                setvbuf(p->notes, NULL, _IOLBF, 4096);
        }
        if (p->notes && o->notes == p->notes_to)
            o->notes = p->notes;
    }
    o->on_tick = progress_tick;
    o->on_tick_arg = p;
    o->on_event = progress_event;
    o->on_event_arg = p;
    o->tick_max = p->out && p->tty ? 0.25 : 0;
    o->tty = p->out && p->tty;
}

void progress_add(struct progress *p, struct runner *r)
{
    struct runner_progress rp;
    struct pline *l;

    runner_progress_get(r, &rp);
    p->v = xgrow(p->v, &p->cap, p->n + 1, sizeof(*p->v));
    l = &p->v[p->n++];
    memset(l, 0, sizeof(*l));
    l->r = r;
    l->study = xstrdup(rp.study);
}

/* One line: "NAME: 17/41 ended, 0 failed, 2 running, 12 queued, 9.3 tasks/s,
 * ETA 2.31s". On a terminal it is fitted to the columns: the name is cut first (to 16
 * columns), then the queue, the rate, the running count and the ETA are dropped in that
 * order. No ETA when nothing is left to run or nothing has ended yet; no rate before a
 * second has passed and a task has ended (a rate of a few milliseconds says nothing).
 * A study not started yet shows why it waits. */
static void format_line(struct progress *p,
                        const struct pline *l,
                        const struct runner_progress *rp,
                        char *line,
                        size_t size)
{
    /* The rate of this run: what had ended before it (a resumed run) does not count. */
    long long here = rp->finished - rp->carried;
    double rate = rp->elapsed > 0 ? (double)here / rp->elapsed : 0;
    long long remaining = rp->total - rp->finished;
    char done[64], failed[32], running[32], waiting[32], speed[32], eta[48] = "";
    int width = 0;

    if (!l->seen) {
        snprintf(line, size, "%s: %s", rp->study, l->waiting ? l->waiting : "starting");
        return;
    }
    if (remaining < rp->queued + rp->running)
        remaining = rp->queued + rp->running;
    snprintf(done, sizeof(done), "%lld/%lld ended", rp->finished, rp->total);
    snprintf(failed, sizeof(failed), "%lld failed", rp->failed);
    snprintf(running, sizeof(running), "%lld running", rp->running);
    snprintf(waiting, sizeof(waiting), "%lld queued", remaining - rp->running);
    snprintf(speed, sizeof(speed), "%.1f tasks/s", rate);
    if (remaining > 0 && !rp->stopping && rate > 0) {
        memcpy(eta, "ETA ", 5);
        duration_format((double)remaining / rate, eta + 4, sizeof(eta) - 4);
    }
    const struct termline_field f[] = {
        {NULL, rp->study, 0, 16},
        {": ", done, 0, 0},
        {", ", failed, 0, 0},
        {", ", running, 2, 0},
        {", ", waiting, 4, 0},
        {", ", rp->elapsed >= 1.0 && here > 0 ? speed : NULL, 3, 0},
        {", ", eta[0] ? eta : NULL, 1, 0},
    };
    /* One column spare: a line as wide as the terminal would wrap on some. */
    if (p->tty && p->columns)
        width = p->columns() - 1;
    termline_fit(f, sizeof(f) / sizeof(f[0]), width > 0 ? width : 0, line, size);
}

static struct pline *line_of(struct progress *p, struct runner *r)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].r == r)
            return &p->v[i];
    }
    progress_add(p, r);
    return &p->v[p->n - 1];
}

/* Several studies on a terminal: the block of their lines redrawn in place. */
static void redraw_block(struct progress *p, double now, bool force, bool last)
{
    char line[1024];

    if (!force && now - p->last_redraw < 0.2)
        return;
    p->last_redraw = now;
    if (p->drawn > 1)
        fprintf(p->out, "\r\033[%zuA", p->drawn - 1);
    for (size_t i = 0; i < p->n; i++) {
        struct runner_progress rp;
        runner_progress_get(p->v[i].r, &rp);
        format_line(p, &p->v[i], &rp, line, sizeof(line));
        fprintf(p->out, "%s\r\033[K%s", i ? "\n" : "", line);
    }
    p->drawn = p->n;
    if (last) {
        fputc('\n', p->out);
        p->drawn = 0;
    }
    fflush(p->out);
}

void progress_tick(void *arg, struct runner *r)
{
    struct progress *p = arg;
    struct pline *l;
    struct runner_progress rp;
    char line[1024];
    bool force = false;

    if (!p->out)
        return;
    l = line_of(p, r);
    runner_progress_get(r, &rp);
    if (!rp.started) {
        /* not started yet (waiting for `after`) */
        if (p->tty && p->n > 1)
            redraw_block(p, rp.now, false, false);
        return;
    }
    if (!l->seen) {
        l->seen = true;
        l->last_reported = rp.finished;
    }
    if (l->ended)
        return;
    if (rp.done) {
        l->ended = true;
        force = true;
    }
    if (p->tty && p->n > 1) {
        bool all = true;
        for (size_t i = 0; i < p->n; i++)
            all = all && p->v[i].ended;
        redraw_block(p, rp.now, all, all);
        return;
    }
    if (force) {
        if (!p->tty && l->last_reported == rp.finished)
            return;
    } else if (p->tty) {
        if (rp.now - l->last_progress < 0.2)
            return;
    } else if (rp.finished - l->last_reported < 5 && rp.now - l->last_progress < 10) {
        return;
    }
    l->last_progress = rp.now;
    l->last_reported = rp.finished;
    format_line(p, l, &rp, line, sizeof(line));
    fprintf(p->out, "%s%s%s", p->tty ? "\r\033[K" : "", line,
            p->tty && !force ? "" : "\n");
    fflush(p->out);
}

void progress_event(void *arg, const struct runner_event *ev)
{
    struct progress *p = arg;

    if (!p->out || ev->kind != RUNNER_EVENT_WAITING)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].study, ev->study) == 0) {
            free(p->v[i].waiting);
            p->v[i].waiting = xstrdup(ev->text);
        }
    }
    if (p->tty && p->n > 1)
        return; /* shown in the block */
    fprintf(p->out, "%s: %s\n", ev->study, ev->text);
    fflush(p->out);
}
