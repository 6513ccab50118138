/* sweep monitor: a live summary of one study on the console, redrawn in place every
 * interval: a box with its status, counts by priority, a progress bar, the estimated
 * time left and the time of the last update. It ends when the study has finished, or
 * on q or Ctrl-C. When stdout is not a terminal it prints one plain block per interval
 * (no escape codes) so that it can be logged. The terminal is put in non-canonical mode
 * only when stdin is a terminal, and restored on every way out; SIGINT and SIGTERM only
 * write to a self-pipe that the loop polls. The box takes the terminal's width (at
 * most 80 columns, at least 32): on a narrow terminal the study name is cut, the
 * progress bar is shorter and the least important columns are left out; it is read
 * again at each redraw, so a resized terminal is followed. */
#include "cli.h"

#include "common/strbuf.h"
#include "common/termline.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/eta.h"
#include "core/runner.h"
#include "core/store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

extern const struct cli_cmd cmd_monitor;

#define BOX_MAX 78 /* columns inside the box on a wide terminal (80 in all) */
#define BOX_MIN 30 /* ... and on a narrow one (32 in all; narrower ones cut it) */
#define BAR_MAX 50

static int monitor_sig_pipe[2] = {-1, -1};

static void monitor_on_signal(int signo)
{
    int saved = errno;
    char c = (char)signo;

    if (write(monitor_sig_pipe[1], &c, 1) < 0) {
        /* the pipe is full: a signal is already waiting */
    }
    errno = saved;
}

/* ---- the box ---- */

/* The box drawn into sb, `inner` columns between its borders. */
struct box {
    struct strbuf *sb;
    int inner;
};

/* The box for a terminal of `columns` columns. */
static int box_inner(int columns)
{
    int inner = columns - 2;

    return inner > BOX_MAX ? BOX_MAX : inner < BOX_MIN ? BOX_MIN : inner;
}

static void hline(struct box *bx, const char *left, const char *right)
{
    sb_adds(bx->sb, left);
    for (int i = 0; i < bx->inner; i++)
        sb_adds(bx->sb, "─");
    sb_adds(bx->sb, right);
    sb_addc(bx->sb, '\n');
}

/* One row: text cut (with an ellipsis) or padded to the box width, less a margin. */
static void row_text(struct box *bx, const char *text)
{
    char cut[1024];
    size_t w = termline_cut(text, (size_t)bx->inner - 1, cut, sizeof(cut));

    sb_adds(bx->sb, "│");
    sb_adds(bx->sb, cut);
    for (size_t i = w; i < (size_t)bx->inner - 1; i++)
        sb_addc(bx->sb, ' ');
    sb_adds(bx->sb, " │\n");
}

static void row(struct box *bx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void row(struct box *bx, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    row_text(bx, text);
}

/* left, then right against the right border; right is left out when both do not fit. */
static void row_lr(struct box *bx, const char *left, const char *right)
{
    size_t lw = termline_width(left), rw = termline_width(right);
    struct strbuf line = {0};

    sb_adds(&line, left);
    if (lw + 1 + rw <= (size_t)bx->inner - 1) {
        for (size_t i = lw + rw; i < (size_t)bx->inner - 1; i++)
            sb_addc(&line, ' ');
        sb_adds(&line, right);
    }
    row_text(bx, sb_str(&line));
    sb_fini(&line);
}

/* A table inside the box: the first column is a name (left), the others counts
 * (right). On a wide box every column has its full width; on a narrow one each is
 * as wide as its header or widest value, and the columns of the highest rank are left
 * out until the rest fits. */
struct col {
    const char *head;
    int width; /* on a wide box */
    int rank;  /* 0: always shown */
};

#define TABLE_MAXCOLS 8
#define TABLE_MAXROWS 64

struct table {
    const struct col *cols;
    size_t ncols, nrows;
    char cell[TABLE_MAXROWS][TABLE_MAXCOLS][32];
};

static void table_row(struct table *t, const char *name, const long long *v)
{
    if (t->nrows >= TABLE_MAXROWS)
        return;
    termline_cut(name, 16, t->cell[t->nrows][0], sizeof(t->cell[0][0]));
    for (size_t c = 1; c < t->ncols; c++)
        snprintf(t->cell[t->nrows][c], sizeof(t->cell[0][0]), "%lld", v[c - 1]);
    t->nrows++;
}

static void table_draw(struct box *bx, const struct table *t)
{
    int width[TABLE_MAXCOLS], full = 1, narrow, maxrank = 0, shown;
    struct strbuf line = {0};

    for (size_t c = 0; c < t->ncols; c++) {
        full += t->cols[c].width + (c > 0);
        width[c] = (int)strlen(t->cols[c].head);
        for (size_t r = 0; r < t->nrows; r++)
            if ((int)termline_width(t->cell[r][c]) > width[c])
                width[c] = (int)termline_width(t->cell[r][c]);
        if (t->cols[c].rank > maxrank)
            maxrank = t->cols[c].rank;
    }
    shown = maxrank;
    if (full <= bx->inner - 1) {
        for (size_t c = 0; c < t->ncols; c++)
            width[c] = t->cols[c].width;
    } else {
        for (; shown > 0; shown--) {
            narrow = 1;
            for (size_t c = 0; c < t->ncols; c++)
                if (t->cols[c].rank <= shown)
                    narrow += width[c] + (c > 0);
            if (narrow <= bx->inner - 1)
                break;
        }
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        sb_reset(&line);
        sb_addc(&line, ' ');
        for (size_t c = 0; c < t->ncols; c++) {
            const char *text = r == 0 ? t->cols[c].head : t->cell[r - 1][c];
            int pad = width[c] - (int)termline_width(text);
            if (t->cols[c].rank > shown)
                continue;
            if (c > 0)
                sb_addc(&line, ' ');
            for (int i = 0; c > 0 && i < pad; i++)
                sb_addc(&line, ' ');
            sb_adds(&line, text);
            for (int i = 0; c == 0 && i < pad; i++)
                sb_addc(&line, ' ');
        }
        row_text(bx, sb_str(&line));
    }
    sb_fini(&line);
}

static void bar_row(struct box *bx, long long ended, long long total)
{
    int pct = total > 0 ? (int)(ended * 100 / total) : 0;
    char tail[64];
    int bar, fill;

    snprintf(tail, sizeof(tail), " %3d%%  %lld/%lld", pct, ended, total);
    bar = bx->inner - 2 - (int)strlen(tail);
    if (bar > BAR_MAX)
        bar = BAR_MAX;
    if (bar < 1)
        bar = 1;
    fill = total > 0 ? (int)(ended * bar / total) : 0;
    {
        struct strbuf line = {0};
        sb_addc(&line, ' ');
        for (int i = 0; i < bar; i++)
            sb_adds(&line, i < fill ? "█" : "░");
        sb_adds(&line, tail);
        row_text(bx, sb_str(&line));
        sb_fini(&line);
    }
}

static const char *const monitor_bands[3] = {"LOW", "MEDIUM", "HIGH"};

static const struct col count_cols[] = {
    {"priority", 8, 0},   {"total", 8, 0},  {"pending", 8, 1},    {"running", 8, 2},
    {"succeeded", 10, 0}, {"failed", 8, 0}, {"timed_out", 10, 3}, {"cancelled", 9, 3},
};

static void counts_row(struct table *t, const char *name, const long long c[])
{
    long long v[7] = {0};

    for (int i = 0; i < TASK_NSTATES; i++)
        v[0] += c[i];
    v[1] = c[TASK_PENDING] + c[TASK_INTERRUPTED] + c[TASK_WAITING];
    v[2] = c[TASK_RUNNING];
    v[3] = c[TASK_SUCCEEDED];
    v[4] = c[TASK_FAILED];
    v[5] = c[TASK_TIMED_OUT];
    v[6] = c[TASK_CANCELLED];
    table_row(t, name, v);
}

/* A pipeline: one row per step, the reduce last. */
static int steps_rows(struct store *st,
                      const struct store_study *s,
                      struct box *bx,
                      struct err *err)
{
    static const struct col cols[] = {
        {"step", 16, 0},      {"total", 8, 0},  {"waiting", 8, 1}, {"running", 8, 2},
        {"succeeded", 10, 0}, {"failed", 8, 0}, {"skipped", 8, 3},
    };
    json_t *steps = cli_steps_counts(st, s, err), *r;
    struct table *t;
    size_t i;

    if (!steps)
        return err->code;
    t = xcalloc(1, sizeof(*t));
    t->cols = cols;
    t->ncols = sizeof(cols) / sizeof(cols[0]);
    json_array_foreach(steps, i, r)
    {
        long long v[6] = {
            cli_count_of(r, "total"),
            cli_count_of(r, "waiting") + cli_count_of(r, "pending") +
                cli_count_of(r, "interrupted"),
            cli_count_of(r, "running"),
            cli_count_of(r, "succeeded"),
            cli_count_of(r, "failed") + cli_count_of(r, "timed_out"),
            cli_count_of(r, "skipped") + cli_count_of(r, "cancelled"),
        };
        table_row(t, json_string_value(json_object_get(r, "name")), v);
    }
    hline(bx, "├", "┤");
    table_draw(bx, t);
    free(t);
    json_decref(steps);
    return SWEEP_OK;
}

struct frame {
    char status[32];
    bool done; /* the study has finished: nothing more to show */
};

/* Reads the study (fresh each time) and draws the box into sb, `columns` wide. */
static int monitor_draw(struct store *st,
                        const char *name,
                        int columns,
                        struct strbuf *sb,
                        struct frame *fr,
                        struct err *err)
{
    struct store_study s = {0};
    long long counts[3][TASK_NSTATES], all[TASK_NSTATES] = {0}, ended;
    enum study_status status;
    struct box bx = {.sb = sb, .inner = box_inner(columns)};
    struct table *t = NULL;
    bool active;
    double eta, now = time_now();
    char left[48] = "", ts[40], updated[64], title[1040], shown[1024];
    int rc;

    rc = store_study_get(st, name, &s, err);
    if (!rc)
        rc = store_study_counts(st, s.id, counts, err);
    if (!rc)
        rc = eta_study(st, &s, now, &eta, err);
    if (rc)
        goto out;
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TASK_NSTATES; i++)
            all[i] += counts[b][i];
    active = runner_is_active(store_home(st), s.name);
    status = (s.status == STUDY_RUNNING || s.status == STUDY_WAITING) && !active
                 ? STUDY_INTERRUPTED
                 : s.status;
    /* Ended: COMPLETED .. INTERRUPTED (not WAITING, which comes after them). */
    fr->done = status >= STUDY_COMPLETED && status <= STUDY_INTERRUPTED &&
               (all[TASK_RUNNING] == 0 || !active);
    snprintf(fr->status, sizeof(fr->status), "%s", study_status_name(status));
    ended = all[TASK_SUCCEEDED] + all[TASK_FAILED] + all[TASK_TIMED_OUT] +
            all[TASK_CANCELLED] + all[TASK_SKIPPED];
    /* No ETA when nothing runs (ended, or no run holds the study). */
    if (eta > 0) {
        memcpy(left, " ETA ", 6);
        duration_format(eta, left + 5, sizeof(left) - 5);
    } else if (eta == ETA_UNKNOWN) {
        snprintf(left, sizeof(left), " ETA unknown");
    }
    time_iso8601(now, ts, sizeof(ts));
    snprintf(updated, sizeof(updated), "updated %s", ts);

    hline(&bx, "┌", "┐");
    /* The name gives way to the status. */
    snprintf(title, sizeof(title), " study ");
    termline_cut(s.name,
                 (size_t)(bx.inner - 1 - 7 - 1) > strlen(fr->status)
                     ? (size_t)(bx.inner - 1 - 7 - 1) - strlen(fr->status)
                     : 1,
                 shown, sizeof(shown));
    snprintf(title + 7, sizeof(title) - 7, "%s", shown);
    row_lr(&bx, title, fr->status);
    if (s.reason)
        row(&bx, " %s", s.reason);
    hline(&bx, "├", "┤");
    t = xcalloc(1, sizeof(*t));
    t->cols = count_cols;
    t->ncols = sizeof(count_cols) / sizeof(count_cols[0]);
    for (int b = 2; b >= 0; b--)
        counts_row(t, monitor_bands[b], counts[b]);
    counts_row(t, "all", all);
    table_draw(&bx, t);
    if (s.steps_json && (rc = steps_rows(st, &s, &bx, err)) != SWEEP_OK)
        goto out;
    hline(&bx, "├", "┤");
    bar_row(&bx, ended,
            all[TASK_SUCCEEDED] + all[TASK_FAILED] + all[TASK_TIMED_OUT] +
                all[TASK_CANCELLED] + all[TASK_SKIPPED] + all[TASK_PENDING] +
                all[TASK_RUNNING] + all[TASK_INTERRUPTED] + all[TASK_WAITING]);
    row_lr(&bx, left, updated);
    hline(&bx, "└", "┘");
out:
    free(t);
    store_study_fini(&s);
    return rc;
}

/* ---- the study, when none is named: the most recently updated ---- */

struct latest {
    char *name;
    double updated_at;
};

static int monitor_latest_one(const struct store_study *s, void *arg)
{
    struct latest *l = arg;

    if (!l->name || s->updated_at > l->updated_at) {
        free(l->name);
        l->name = xstrdup(s->name);
        l->updated_at = s->updated_at;
    }
    return 0;
}

/* ---- the terminal and the loop ---- */

struct term {
    bool tty_in, tty_out;
    bool raw; /* termios changed: restore `saved` */
    struct termios saved;
    struct sigaction old_int, old_term;
    bool handlers;
};

static int term_setup(struct term *t, struct err *err)
{
    struct sigaction sa = {.sa_handler = monitor_on_signal};
    struct termios raw;

    if (pipe2(monitor_sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return err_set(err, SWEEP_EIO, "monitor: pipe: %s", strerror(errno));
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &t->old_int);
    sigaction(SIGTERM, &sa, &t->old_term);
    t->handlers = true;
    if (t->tty_in && tcgetattr(STDIN_FILENO, &t->saved) == 0) {
        raw = t->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C is SIGINT */
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
            t->raw = true;
    }
    return 0;
}

static void term_restore(struct term *t)
{
    if (t->raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
    if (t->handlers) {
        sigaction(SIGINT, &t->old_int, NULL);
        sigaction(SIGTERM, &t->old_term, NULL);
    }
    for (int i = 0; i < 2; i++) {
        if (monitor_sig_pipe[i] >= 0)
            close(monitor_sig_pipe[i]);
        monitor_sig_pipe[i] = -1;
    }
}

enum wake { WAKE_TICK, WAKE_QUIT, WAKE_SIGNAL };

/* Waits up to `seconds` for a key (q quits) or a signal. */
static enum wake monitor_wait(const struct term *t, double seconds)
{
    double deadline = time_mono() + seconds;

    for (;;) {
        struct pollfd p[2] = {{.fd = monitor_sig_pipe[0], .events = POLLIN},
                              {.fd = STDIN_FILENO, .events = POLLIN}};
        double left = deadline - time_mono();
        char c;
        int n;

        if (left <= 0)
            return WAKE_TICK;
        n = poll(p, t->raw ? 2 : 1, (int)(left * 1000.0) + 1);
        if (n < 0 && errno != EINTR)
            return WAKE_SIGNAL;
        if (n <= 0)
            continue;
        if (p[0].revents)
            return WAKE_SIGNAL;
        if (p[1].revents) {
            if (read(STDIN_FILENO, &c, 1) != 1 || c == 'q' || c == 'Q')
                return WAKE_QUIT;
        }
    }
}

static int monitor_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"interval", required_argument, NULL, 'i'},
        {"once", no_argument, NULL, 'o'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    double interval = 5;
    bool once = false;
    struct store *st = NULL;
    struct latest latest = {0};
    struct term term = {0};
    struct strbuf sb = {0};
    struct frame fr = {.done = false};
    struct err err = {0};
    int c, rc = EXIT_OK, lines = 0;
    enum wake w;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'i') {
            if (duration_parse(optarg, &interval) < 0 || interval < 0.05)
                return cli_usage_error(&cmd_monitor,
                                       "--interval: expected a duration of at least "
                                       "50ms such as 5, 500ms or 1m, got '%s'",
                                       optarg);
        } else if (c == 'o') {
            once = true;
        } else if (c == 'H') {
            home = optarg;
        } else {
            return cli_option_error(&cmd_monitor, opts, c, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(&cmd_monitor, "expected at most one study name");
    if (store_open(cli_home(home), &st, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (optind < argc) {
        latest.name = xstrdup(argv[optind]);
    } else if (store_study_list(st, monitor_latest_one, &latest, &err)) {
        rc = cli_fail(&err);
        goto out;
    } else if (!latest.name) {
        fprintf(stderr,
                "sweep: no studies yet in %s; start one with 'sweep run "
                "study.yaml'\n",
                store_home(st));
        rc = EXIT_USAGE;
        goto out;
    }
    term.tty_out = !once && isatty(STDOUT_FILENO);
    term.tty_in = !once && isatty(STDIN_FILENO);
    if (!once && term_setup(&term, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    for (;;) {
        sb_reset(&sb);
        if (monitor_draw(st, latest.name,
                         term.tty_out ? cli_term_columns(STDOUT_FILENO) : 80, &sb, &fr,
                         &err)) {
            rc = cli_fail(&err);
            break;
        }
        if (term.tty_out && lines > 0)
            printf("\033[%dA\r\033[J", lines); /* back to the top of the last box */
        else if (!term.tty_out && lines > 0)
            putchar('\n');
        fputs(sb_str(&sb), stdout);
        fflush(stdout);
        lines = 0;
        for (const char *p = sb_str(&sb); *p; p++)
            lines += *p == '\n';
        if (once || fr.done)
            break;
        w = monitor_wait(&term, interval);
        if (w == WAKE_QUIT)
            break;
        if (w == WAKE_SIGNAL) {
            rc = EXIT_INTERRUPTED;
            break;
        }
    }
out:
    term_restore(&term);
    sb_fini(&sb);
    free(latest.name);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_monitor = {
    .name = "monitor",
    .summary = "watch a study live: counts, progress bar and time left",
    .usage =
        "Usage: sweep monitor [STUDY] [--interval DURATION] [--once] [--home DIR]\n"
        "\n"
        "Shows a summary of STUDY (default: the most recently updated study) in a\n"
        "box: its status, task counts by priority (pending includes interrupted\n"
        "tasks), a progress bar of the tasks that ended, the estimated time left and\n"
        "the time of the last update, redrawn in place, as wide as the terminal (at\n"
        "most 80 columns; a narrow one cuts the name and leaves out the least\n"
        "important columns). The time left is shown only while a run is on. It\n"
        "exits by itself when the study has finished, or on q or Ctrl-C (exit code\n"
        "130 on a signal). When stdout is not a terminal it prints one block per\n"
        "interval, 80 columns wide and without escape codes, for a log.\n"
        "\n"
        "Options:\n"
        "  --interval DURATION  time between updates: 5 (seconds), 500ms, 1m\n"
        "                       (default 5s, at least 50ms)\n"
        "  --once               print one block and exit\n"
        "  --home DIR           sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help           show this help\n"
        "\n"
        "Example:\n"
        "  sweep run study.yaml --quiet & sweep monitor quickstart --interval 2\n",
    .fn = monitor_main,
};
