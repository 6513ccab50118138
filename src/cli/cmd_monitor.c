/* sweep monitor: a live summary of one study on the console, redrawn in place every
 * interval: a box with its status, counts by priority, a progress bar, the estimated
 * time left and the time of the last update. It ends when the study has finished, or
 * on q or Ctrl-C. When stdout is not a terminal it prints one plain block per interval
 * (no escape codes) so that it can be logged. The terminal is put in non-canonical mode
 * only when stdin is a terminal, and restored on every way out; SIGINT and SIGTERM only
 * write to a self-pipe that the loop polls. Redrawing assumes a terminal at least as
 * wide as the box (80 columns). */
#include "cli.h"

#include "common/strbuf.h"
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

#define BOX_WIDTH 78 /* columns inside the box */
#define BAR_WIDTH 50

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

static void hline(struct strbuf *sb, const char *left, const char *right)
{
    sb_adds(sb, left);
    for (int i = 0; i < BOX_WIDTH; i++)
        sb_adds(sb, "─");
    sb_adds(sb, right);
    sb_addc(sb, '\n');
}

/* One row of ASCII text, cut or padded to the box width (less a margin). */
static void row(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void row(struct strbuf *sb, const char *fmt, ...)
{
    char text[BOX_WIDTH];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    sb_addf(sb, "│%-*s │\n", BOX_WIDTH - 1, text);
}

static void bar_row(struct strbuf *sb, long long ended, long long total)
{
    int pct = total > 0 ? (int)(ended * 100 / total) : 0;
    int fill = total > 0 ? (int)(ended * BAR_WIDTH / total) : 0;
    char tail[BOX_WIDTH - BAR_WIDTH - 1];

    snprintf(tail, sizeof(tail), " %3d%%  %lld/%lld", pct, ended, total);
    sb_adds(sb, "│ ");
    for (int i = 0; i < BAR_WIDTH; i++)
        sb_adds(sb, i < fill ? "█" : "░");
    sb_addf(sb, "%-*s │\n", BOX_WIDTH - BAR_WIDTH - 2, tail);
}

static const char *const monitor_bands[3] = {"LOW", "MEDIUM", "HIGH"};

static void counts_row(struct strbuf *sb, const char *name, const long long c[])
{
    long long total = 0;

    for (int i = 0; i < TASK_NSTATES; i++)
        total += c[i];
    row(sb, " %-8s %8lld %8lld %8lld %10lld %8lld %10lld %9lld", name, total,
        c[TASK_PENDING] + c[TASK_INTERRUPTED] + c[TASK_WAITING], c[TASK_RUNNING],
        c[TASK_SUCCEEDED], c[TASK_FAILED], c[TASK_TIMED_OUT], c[TASK_CANCELLED]);
}

/* A pipeline: one row per step, the reduce last. */
static int steps_rows(struct store *st,
                      const struct store_study *s,
                      struct strbuf *sb,
                      struct err *err)
{
    json_t *steps = cli_steps_counts(st, s, err), *r;
    size_t i;

    if (!steps)
        return err->code;
    hline(sb, "├", "┤");
    row(sb, " %-16s %8s %8s %8s %10s %8s %8s", "step", "total", "waiting", "running",
        "succeeded", "failed", "skipped");
    json_array_foreach(steps, i, r)
    {
        row(sb, " %-16.16s %8lld %8lld %8lld %10lld %8lld %8lld",
            json_string_value(json_object_get(r, "name")), cli_count_of(r, "total"),
            cli_count_of(r, "waiting") + cli_count_of(r, "pending") +
                cli_count_of(r, "interrupted"),
            cli_count_of(r, "running"), cli_count_of(r, "succeeded"),
            cli_count_of(r, "failed") + cli_count_of(r, "timed_out"),
            cli_count_of(r, "skipped") + cli_count_of(r, "cancelled"));
    }
    json_decref(steps);
    return SWEEP_OK;
}

struct frame {
    char status[32];
    bool done; /* the study has finished: nothing more to show */
};

/* Reads the study (fresh each time) and draws the box into sb. */
static int monitor_draw(struct store *st,
                        const char *name,
                        struct strbuf *sb,
                        struct frame *fr,
                        struct err *err)
{
    struct store_study s = {0};
    long long counts[3][TASK_NSTATES], all[TASK_NSTATES] = {0}, ended;
    enum study_status status;
    bool active;
    double eta, now = time_now();
    char left[32] = "unknown", ts[40];
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
    if (eta >= 0)
        duration_format(eta, left, sizeof(left));
    time_iso8601(now, ts, sizeof(ts));

    hline(sb, "┌", "┐");
    row(sb, " study %-40.40s %*s", s.name, BOX_WIDTH - 49, fr->status);
    if (s.reason)
        row(sb, " %.*s", BOX_WIDTH - 3, s.reason);
    hline(sb, "├", "┤");
    row(sb, " %-8s %8s %8s %8s %10s %8s %10s %9s", "priority", "total", "pending",
        "running", "succeeded", "failed", "timed_out", "cancelled");
    for (int b = 2; b >= 0; b--)
        counts_row(sb, monitor_bands[b], counts[b]);
    counts_row(sb, "all", all);
    if (s.steps_json && (rc = steps_rows(st, &s, sb, err)) != SWEEP_OK)
        goto out;
    hline(sb, "├", "┤");
    bar_row(sb, ended,
            all[TASK_SUCCEEDED] + all[TASK_FAILED] + all[TASK_TIMED_OUT] +
                all[TASK_CANCELLED] + all[TASK_SKIPPED] + all[TASK_PENDING] +
                all[TASK_RUNNING] + all[TASK_INTERRUPTED] + all[TASK_WAITING]);
    row(sb, " ETA %-20s%*s updated %s", left, BOX_WIDTH - 59, "", ts);
    hline(sb, "└", "┘");
out:
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
        if (monitor_draw(st, latest.name, &sb, &fr, &err)) {
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
        "the time of the last update, redrawn in place. It exits by itself when the\n"
        "study has finished, or on q or Ctrl-C (exit code 130 on a signal). When\n"
        "stdout is not a terminal it prints one block per interval, without escape\n"
        "codes, for a log.\n"
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
