/* The progress report page (see report.h). The page has a fixed layout in a
 * REPORT_WIDTH x REPORT_HEIGHT coordinate space: a title, a progress bar, two cards
 * (a ring of task states with its legend; stacked bars per priority band) and a
 * statistics table. Text that might not fit (the study name, counts inside bar
 * segments) is measured first and shortened or left out, so no text overlaps. The
 * colours are the Okabe-Ito palette used by chart.c, with greys for the states that
 * are not results (pending, cancelled). Everything is drawn with cairo into memory,
 * then written to a temporary file that is renamed over the output. The SVG is cairo's
 * own (glyph outlines, not <text>), with a <title> added after the root element so the
 * study name is searchable; chart.c's deterministic SVG canvas is file-local there and
 * was not reused. */
#include "report.h"

#include "text.h"

#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/store.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define FONT_FAMILY "DejaVu Sans"
#define MARGIN 40.0

#define COLOR_TEXT 0x222222
#define COLOR_MUTED 0x666666
#define COLOR_FAINT 0xAAAAAA
#define COLOR_CARD_EDGE 0xDDDDDD
#define COLOR_CARD_FILL 0xFAFAFA
#define COLOR_ROW_SHADE 0xF0F0F0
#define COLOR_TRACK 0xEEEEEE

/* The order in which states are stacked in the ring and the bars: results first,
 * then what is still to come. */
static const enum task_state draw_order[TASK_NSTATES] = {
    TASK_SUCCEEDED,   TASK_FAILED,  TASK_TIMED_OUT, TASK_CANCELLED, TASK_SKIPPED,
    TASK_INTERRUPTED, TASK_RUNNING, TASK_PENDING,   TASK_WAITING,
};

/* The states of pipelines appear in legends and tables only when some task is in
 * them. */
static bool state_shown(const long long n[TASK_NSTATES], enum task_state s)
{
    return (s != TASK_SKIPPED && s != TASK_WAITING) || n[s] > 0;
}

/* Okabe-Ito colours per state, and whether text on them should be white. */
static const struct {
    const char *label;
    unsigned int rgb;
    bool dark;
} state_style[TASK_NSTATES] = {
    [TASK_PENDING] = {"Pending", 0xD9D9D9, false},
    [TASK_RUNNING] = {"Running", 0x0072B2, true},
    [TASK_SUCCEEDED] = {"Succeeded", 0x009E73, true},
    [TASK_FAILED] = {"Failed", 0xD55E00, true},
    [TASK_TIMED_OUT] = {"Timed out", 0xE69F00, false},
    [TASK_CANCELLED] = {"Cancelled", 0x8C8C8C, true},
    [TASK_INTERRUPTED] = {"Interrupted", 0xCC79A7, false},
    [TASK_SKIPPED] = {"Skipped", 0x56B4E9, false},
    [TASK_WAITING] = {"Waiting", 0xF0E442, false},
};

static const char *const band_names[3] = {"LOW", "MEDIUM", "HIGH"};

/* Totals derived from the counts. */
struct totals {
    long long state[TASK_NSTATES];
    long long all, done, ended; /* done: no more work; ended: ran to an end */
    long long failed;           /* failed or timed out */
};

static void totals_compute(const struct report *r, struct totals *t)
{
    memset(t, 0, sizeof(*t));
    for (int b = 0; b < 3; b++) {
        for (int s = 0; s < TASK_NSTATES; s++) {
            t->state[s] += r->counts[b][s];
            t->all += r->counts[b][s];
        }
    }
    t->ended =
        t->state[TASK_SUCCEEDED] + t->state[TASK_FAILED] + t->state[TASK_TIMED_OUT];
    t->done = t->ended + t->state[TASK_CANCELLED] + t->state[TASK_SKIPPED];
    t->failed = t->state[TASK_FAILED] + t->state[TASK_TIMED_OUT];
}

static double pct(long long part, long long whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0;
}

/* A share as "42%", with "<1%" for a part below 1% and ">99%" for one above 99% that
 * is not the whole (never "0%" of something nor "100%" of less than all). */
static void share_format(char *buf, size_t n, long long part, long long whole)
{
    double p = pct(part, whole);

    if (part > 0 && p < 1)
        snprintf(buf, n, "<1%%");
    else if (part < whole && p > 99)
        snprintf(buf, n, ">99%%");
    else
        snprintf(buf, n, "%.0f%%", p);
}

void report_outcome(long long succeeded,
                    long long failed,
                    long long all,
                    char *ok,
                    size_t nok,
                    char *bad,
                    size_t nbad)
{
    /* As the legend shows it: "100%" only when every task succeeded. */
    share_format(ok, nok, succeeded, all);
    if (failed > 0) {
        share_format(bad, nbad, failed, all);
        snprintf(bad + strlen(bad), nbad - strlen(bad), " failed");
    } else if (nbad > 0) {
        bad[0] = '\0';
    }
}

void report_throughput(double run_seconds, long long ended, char *buf, size_t n)
{
    double per_h = run_seconds > 0 ? (double)ended / (run_seconds / 3600.0) : 0;
    double rate = per_h;
    const char *unit = "h";

    if (run_seconds < REPORT_RATE_MIN_SECONDS || ended < REPORT_RATE_MIN_TASKS) {
        snprintf(buf, n, "\u2013");
        return;
    }
    if (per_h >= 6000) {
        rate = per_h / 3600.0;
        unit = "s";
    } else if (per_h >= 600) {
        rate = per_h / 60.0;
        unit = "min";
    }
    snprintf(buf, n, "%.*f tasks/%s", rate < 10 ? 2 : rate < 100 ? 1 : 0, rate, unit);
}

/* A count for a narrow place: exact up to 99999, then "123k", "4.5M", "75B", "1.2T". */
static void count_format(char *buf, size_t n, long long v)
{
    static const char *const units[] = {"k", "M", "B", "T"};
    double x = (double)v;
    size_t u = 0;

    if (v < 100000) {
        snprintf(buf, n, "%lld", v);
        return;
    }
    x /= 1000;
    while (x >= 999.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
        x /= 1000;
        u++;
    }
    snprintf(buf, n, "%.*f%s", x < 10 ? 1 : 0, x, units[u]);
}

enum anchor {
    LEFT,
    CENTRE,
    RIGHT,
};

static void set_rgb(cairo_t *cr, unsigned int rgb)
{
    cairo_set_source_rgb(cr, (rgb >> 16 & 0xFF) / 255.0, (rgb >> 8 & 0xFF) / 255.0,
                         (rgb & 0xFF) / 255.0);
}

static void set_font(cairo_t *cr, double size, bool bold)
{
    cairo_select_font_face(cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *s, double size, bool bold)
{
    cairo_text_extents_t e;

    set_font(cr, size, bold);
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* Draws s with its baseline at y, anchored at x. */
static void text(cairo_t *cr,
                 double x,
                 double y,
                 const char *s,
                 double size,
                 bool bold,
                 unsigned int rgb,
                 enum anchor a)
{
    double w = text_width(cr, s, size, bold);

    set_rgb(cr, rgb);
    cairo_move_to(cr, a == LEFT ? x : a == CENTRE ? x - w / 2 : x - w, y);
    cairo_show_text(cr, s);
    cairo_new_path(cr);
}

/* s shortened with a trailing ellipsis until it is at most maxw wide (in place). */
static void text_fit(cairo_t *cr, char *s, double size, bool bold, double maxw)
{
    size_t n = strlen(s);
    char *buf = xmalloc(n + 4);

    strcpy(buf, s);
    while (n > 0 && text_width(cr, buf, size, bold) > maxw) {
        do
            n--;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80);
        memcpy(buf, s, n);
        strcpy(buf + n, "\u2026");
    }
    strcpy(s, buf);
    free(buf);
}

/* ---- shapes ---- */

static void rounded_rect(cairo_t *cr, double x, double y, double w, double h, double r)
{
    r = fmin(r, fmin(w, h) / 2);
    cairo_new_sub_path(cr);
    cairo_arc(cr, x + w - r, y + r, r, -M_PI / 2, 0);
    cairo_arc(cr, x + w - r, y + h - r, r, 0, M_PI / 2);
    cairo_arc(cr, x + r, y + h - r, r, M_PI / 2, M_PI);
    cairo_arc(cr, x + r, y + r, r, M_PI, 3 * M_PI / 2);
    cairo_close_path(cr);
}

static void card(cairo_t *cr, double x, double y, double w, double h, const char *title)
{
    rounded_rect(cr, x + 0.5, y + 0.5, w, h, 8);
    set_rgb(cr, COLOR_CARD_FILL);
    cairo_fill_preserve(cr);
    set_rgb(cr, COLOR_CARD_EDGE);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    text(cr, x + 18, y + 30, title, 16, true, COLOR_TEXT, LEFT);
}

/* A horizontal bar of the states in n, stacked in draw order over [x, x + w]; counts
 * are written inside the segments they fit in when `labels`. An empty bar is a track.
 */
static void stacked_bar(cairo_t *cr,
                        double x,
                        double y,
                        double w,
                        double h,
                        const long long n[TASK_NSTATES],
                        bool labels)
{
    long long all = 0;
    double at = x;

    for (int s = 0; s < TASK_NSTATES; s++)
        all += n[s];
    cairo_save(cr);
    rounded_rect(cr, x, y, w, h, 4);
    cairo_clip(cr);
    set_rgb(cr, COLOR_TRACK);
    cairo_paint(cr);
    for (int i = 0; i < TASK_NSTATES && all > 0; i++) {
        enum task_state s = draw_order[i];
        double sw = w * (double)n[s] / (double)all;
        char buf[32];

        if (n[s] == 0)
            continue;
        set_rgb(cr, state_style[s].rgb);
        cairo_rectangle(cr, at, y, sw, h);
        cairo_fill(cr);
        if (at > x) { /* a white hairline between segments */
            set_rgb(cr, 0xFFFFFF);
            cairo_rectangle(cr, at - 0.75, y, 1.5, h);
            cairo_fill(cr);
        }
        count_format(buf, sizeof(buf), n[s]);
        if (labels && text_width(cr, buf, 12, true) + 10 <= sw)
            text(cr, at + sw / 2, y + h / 2 + 4.5, buf, 12, true,
                 state_style[s].dark ? 0xFFFFFF : COLOR_TEXT, CENTRE);
        at += sw;
    }
    cairo_restore(cr);
}

/* ---- sections ---- */

static void draw_header(cairo_t *cr, const struct report *r, const struct totals *t)
{
    char *name = text_clean(r->study), *title = xasprintf("Progress report: %s", name);
    char sub[160];

    text_fit(cr, title, 24, true, REPORT_WIDTH - 2 * MARGIN);
    text(cr, MARGIN, 54, title, 24, true, COLOR_TEXT, LEFT);
    if (r->status)
        snprintf(sub, sizeof(sub), "Study status %s  \u00b7  %lld task%s", r->status,
                 t->all, t->all == 1 ? "" : "s");
    else
        snprintf(sub, sizeof(sub), "%lld task%s", t->all, t->all == 1 ? "" : "s");
    text(cr, MARGIN, 80, sub, 13, false, COLOR_MUTED, LEFT);
    free(title);
    free(name);
}

static void draw_progress(cairo_t *cr, const struct totals *t)
{
    const double y = 100, h = 26, w = REPORT_WIDTH - 2 * MARGIN - 110;
    char buf[512], ok[32], bad[32], n[6][32];

    stacked_bar(cr, MARGIN, y, w, h, t->state, false);
    /* The big number is what succeeded: a failed task is not "done". */
    report_outcome(t->state[TASK_SUCCEEDED], t->failed, t->all, ok, sizeof(ok), bad,
                   sizeof(bad));
    text(cr, REPORT_WIDTH - MARGIN, y + 21, ok, 24, true, COLOR_TEXT, RIGHT);
    text(cr, REPORT_WIDTH - MARGIN, y + h + 20, "succeeded", 12, false, COLOR_MUTED,
         RIGHT);
    count_format(n[0], sizeof(n[0]), t->state[TASK_SUCCEEDED]);
    count_format(n[1], sizeof(n[1]), t->all);
    count_format(n[2], sizeof(n[2]), t->failed);
    count_format(n[3], sizeof(n[3]), t->state[TASK_RUNNING]);
    count_format(n[4], sizeof(n[4]), t->state[TASK_PENDING]);
    count_format(n[5], sizeof(n[5]), t->state[TASK_INTERRUPTED]);
    snprintf(buf, sizeof(buf),
             "%s of %s succeeded  \u00b7  %s failed  \u00b7  %s running  \u00b7  %s "
             "pending  \u00b7  %s interrupted",
             n[0], n[1], n[2], n[3], n[4], n[5]);
    text(cr, MARGIN, y + h + 20, buf, 12, false, COLOR_MUTED, LEFT);
}

/* The ring of states and its legend (state, count, share). */
static void draw_ring(cairo_t *cr, const struct totals *t, double x, double y, double w)
{
    const double cx = x + 122, cy = y + 160, ro = 98, ri = 63;
    double a = -M_PI / 2;
    char buf[32], bad[32];

    card(cr, x, y, w, 290, "Overall progress");
    if (t->all == 0) {
        cairo_arc(cr, cx, cy, ro, 0, 2 * M_PI);
        cairo_arc_negative(cr, cx, cy, ri, 2 * M_PI, 0);
        set_rgb(cr, COLOR_TRACK);
        cairo_fill(cr);
    }
    for (int i = 0; i < TASK_NSTATES && t->all > 0; i++) {
        enum task_state s = draw_order[i];
        double da = 2 * M_PI * (double)t->state[s] / (double)t->all;

        if (t->state[s] == 0)
            continue;
        cairo_arc(cr, cx, cy, ro, a, a + da);
        cairo_arc_negative(cr, cx, cy, ri, a + da, a);
        cairo_close_path(cr);
        set_rgb(cr, state_style[s].rgb);
        cairo_fill_preserve(cr);
        set_rgb(cr, 0xFFFFFF);
        cairo_set_line_width(cr, t->state[s] == t->all ? 0 : 1.5);
        cairo_stroke(cr);
        a += da;
    }
    report_outcome(t->state[TASK_SUCCEEDED], t->failed, t->all, buf, sizeof(buf), bad,
                   sizeof(bad));
    text(cr, cx, cy + 6, buf, 30, true, COLOR_TEXT, CENTRE);
    text(cr, cx, cy + 26, t->all ? "succeeded" : "no tasks", 12, false, COLOR_MUTED,
         CENTRE);
    if (bad[0])
        text(cr, cx, cy + 43, bad, 12, true, state_style[TASK_FAILED].rgb, CENTRE);

    int shown = 0, line = 0;
    for (int i = 0; i < TASK_NSTATES; i++)
        shown += state_shown(t->state, draw_order[i]);
    for (int i = 0; i < TASK_NSTATES; i++) {
        enum task_state s = draw_order[i];
        double ly = y + 78 + (shown > 7 ? 23 : 28) * line;
        unsigned int fg = t->state[s] ? COLOR_TEXT : COLOR_FAINT;

        if (!state_shown(t->state, s))
            continue;
        line++;

        rounded_rect(cr, x + 238, ly - 11, 13, 13, 2);
        set_rgb(cr, state_style[s].rgb);
        cairo_fill(cr);
        text(cr, x + 259, ly, state_style[s].label, 13, false, fg, LEFT);
        count_format(buf, sizeof(buf), t->state[s]);
        text(cr, x + w - 60, ly, buf, 13, true, fg, RIGHT);
        share_format(buf, sizeof(buf), t->state[s], t->all);
        text(cr, x + w - 16, ly, buf, 12, false,
             t->state[s] ? COLOR_MUTED : COLOR_FAINT, RIGHT);
    }
}

/* One stacked bar per priority band, HIGH first. */
static void
draw_priorities(cairo_t *cr, const struct report *r, double x, double y, double w)
{
    const double bx = x + 110, bw = w - 110 - 80;
    char buf[64], num[32], bad[32];

    card(cr, x, y, w, 290, "Progress by priority");
    for (int i = 0; i < 3; i++) {
        int b = 2 - i;
        double by = y + 74 + 70 * i;
        long long all = 0;

        for (int s = 0; s < TASK_NSTATES; s++)
            all += r->counts[b][s];
        text(cr, x + 18, by + 16, band_names[b], 13, true, COLOR_TEXT, LEFT);
        count_format(num, sizeof(num), all);
        snprintf(buf, sizeof(buf), "%s task%s", num, all == 1 ? "" : "s");
        text(cr, x + 18, by + 33, buf, 11, false, COLOR_MUTED, LEFT);
        stacked_bar(cr, bx, by, bw, 34, r->counts[b], true);
        if (all == 0) {
            text(cr, bx + bw / 2, by + 21.5, "no tasks", 12, false, COLOR_MUTED,
                 CENTRE);
            continue;
        }
        report_outcome(r->counts[b][TASK_SUCCEEDED],
                       r->counts[b][TASK_FAILED] + r->counts[b][TASK_TIMED_OUT], all,
                       buf, sizeof(buf), bad, sizeof(bad));
        text(cr, x + w - 18, by + 17, buf, 15, true, COLOR_TEXT, RIGHT);
        text(cr, x + w - 18, by + 33, "succeeded", 11, false, COLOR_MUTED, RIGHT);
    }
    text(cr, bx, y + 276, "Numbers in the bars: tasks per state", 11, false,
         COLOR_MUTED, LEFT);
}

static void table_row(cairo_t *cr,
                      double x,
                      double y,
                      double w,
                      double h,
                      int row,
                      const char *label,
                      const char *value)
{
    if (row % 2 == 0) {
        set_rgb(cr, COLOR_ROW_SHADE);
        cairo_rectangle(cr, x, y - 17 * h / 24, w, h);
        cairo_fill(cr);
    }
    text(cr, x + 10, y, label, 13, false, COLOR_TEXT, LEFT);
    text(cr, x + w - 10, y, value, 13, true, COLOR_TEXT, RIGHT);
}

static void draw_stats(cairo_t *cr, const struct report *r, const struct totals *t)
{
    static const enum task_state left[] = {
        TASK_SUCCEEDED,   TASK_FAILED,  TASK_TIMED_OUT, TASK_CANCELLED, TASK_SKIPPED,
        TASK_INTERRUPTED, TASK_RUNNING, TASK_PENDING,   TASK_WAITING};
    const double x = MARGIN, y = 464, w = REPORT_WIDTH - 2 * MARGIN;
    const double cw = (w - 3 * 18) / 2, lx = x + 18, rx = lx + cw + 18, ty = y + 62;
    char v[6][64];
    const char *labels[6] = {"Success rate",     "Tasks ended", "Mean task time",
                             "Median task time", "Throughput",  "Run time"};
    char buf[64];

    card(cr, x, y, w, 252, "Statistics");
    snprintf(buf, sizeof(buf), "%lld", t->all);
    table_row(cr, lx, ty, cw, 24, 0, "Total tasks", buf);
    int row = 1, rows = 1;
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++)
        rows += state_shown(t->state, left[i]);
    for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
        if (!state_shown(t->state, left[i]))
            continue;
        snprintf(buf, sizeof(buf), "%lld", t->state[left[i]]);
        /* Up to 8 rows of 24 px fit the card; 9 or 10 rows close up. */
        double h = rows > 8 ? 18.5 : 24;
        table_row(cr, lx, ty + h * row, cw, h, row, state_style[left[i]].label, buf);
        row++;
    }

    if (t->ended > 0)
        snprintf(v[0], sizeof(v[0]), "%.1f%%  (%lld of %lld)",
                 pct(t->state[TASK_SUCCEEDED], t->ended), t->state[TASK_SUCCEEDED],
                 t->ended);
    else
        snprintf(v[0], sizeof(v[0]), "\u2013");
    if (t->all > 0)
        snprintf(v[1], sizeof(v[1]), "%.1f%%  (%lld of %lld)", pct(t->done, t->all),
                 t->done, t->all);
    else
        snprintf(v[1], sizeof(v[1]), "\u2013");
    snprintf(v[2], sizeof(v[2]), "\u2013");
    snprintf(v[3], sizeof(v[3]), "\u2013");
    if (isfinite(r->mean_wall))
        duration_format(r->mean_wall, v[2], sizeof(v[2]));
    if (isfinite(r->median_wall))
        duration_format(r->median_wall, v[3], sizeof(v[3]));
    report_throughput(r->run_seconds, t->ended, v[4], sizeof(v[4]));
    if (r->run_seconds > 0) {
        duration_format(r->run_seconds, v[5], sizeof(v[5]));
    } else {
        snprintf(v[4], sizeof(v[4]), "\u2013");
        snprintf(v[5], sizeof(v[5]), "not started");
    }
    for (int i = 0; i < 6; i++)
        table_row(cr, rx, ty + 24 * i, cw, 24, i, labels[i], v[i]);
    text(cr, rx + 10, ty + 24 * 6 + 4,
         "Success rate and times: tasks that ran to an end", 11, false, COLOR_MUTED,
         LEFT);
    text(
        cr, rx + 10, ty + 24 * 6 + 20,
        "(succeeded, failed, timed out). Throughput: those per run time, from 10 s on.",
        11, false, COLOR_MUTED, LEFT);
}

static void draw_footer(cairo_t *cr, const struct report *r)
{
    char when[40], buf[80];

    if (r->generated_at <= 0)
        return;
    time_iso8601(r->generated_at, when, sizeof(when));
    when[19] = '\0'; /* to the second */
    snprintf(buf, sizeof(buf), "Generated %s UTC by sweep", when);
    for (char *p = buf; *p; p++)
        if (*p == 'T' && p[-1] >= '0' && p[-1] <= '9')
            *p = ' ';
    text(cr, REPORT_WIDTH - MARGIN, REPORT_HEIGHT - 16, buf, 11, false, COLOR_MUTED,
         RIGHT);
}

static void draw_page(cairo_t *cr, const struct report *r)
{
    struct totals t;
    cairo_font_options_t *fo = cairo_font_options_create();

    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    totals_compute(r, &t);
    set_rgb(cr, 0xFFFFFF);
    cairo_paint(cr);
    draw_header(cr, r, &t);
    draw_progress(cr, &t);
    draw_ring(cr, &t, MARGIN, 166, 450);
    draw_priorities(cr, r, REPORT_WIDTH / 2.0 + 10, 166,
                    REPORT_WIDTH / 2.0 - 10 - MARGIN);
    draw_stats(cr, r, &t);
    draw_footer(cr, r);
}

/* ---- output ---- */

static cairo_status_t
to_strbuf(void *closure, const unsigned char *data, unsigned int n)
{
    sb_add(closure, (const char *)data, n);
    return CAIRO_STATUS_SUCCESS;
}

/* Draws the page into out; returns a cairo status. */
static cairo_status_t
render_to(const struct report *r, enum text_format fmt, struct strbuf *out)
{
    cairo_surface_t *surface;
    cairo_status_t st;
    cairo_t *cr;

    if (fmt == FORMAT_PDF) {
        surface = cairo_pdf_surface_create_for_stream(to_strbuf, out, REPORT_WIDTH,
                                                      REPORT_HEIGHT);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "sweep");
    } else if (fmt == FORMAT_SVG) {
        surface = cairo_svg_surface_create_for_stream(to_strbuf, out, REPORT_WIDTH,
                                                      REPORT_HEIGHT);
        cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX);
    } else {
        surface =
            cairo_image_surface_create(CAIRO_FORMAT_RGB24, REPORT_WIDTH, REPORT_HEIGHT);
    }
    cr = cairo_create(surface);
    draw_page(cr, r);
    st = cairo_status(cr);
    cairo_destroy(cr);
    if (st == CAIRO_STATUS_SUCCESS && fmt == FORMAT_PNG)
        st = cairo_surface_write_to_png_stream(surface, to_strbuf, out);
    cairo_surface_finish(surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    return st;
}

/* Adds <title>Progress report: NAME</title> after the root element of cairo's SVG. */
static void svg_add_title(struct strbuf *svg, const char *study)
{
    struct strbuf out = STRBUF_INIT;
    const char *root = strstr(sb_str(svg), "<svg"),
               *end = root ? strchr(root, '>') : NULL;
    char *name = text_clean(study);

    if (!end)
        goto out;
    sb_add(&out, svg->buf, (size_t)(end + 1 - svg->buf));
    sb_adds(&out, "\n<title>Progress report: ");
    for (const char *p = name; *p; p++) {
        if (*p == '&')
            sb_adds(&out, "&amp;");
        else if (*p == '<')
            sb_adds(&out, "&lt;");
        else if (*p == '>')
            sb_adds(&out, "&gt;");
        else
            sb_addc(&out, *p);
    }
    sb_adds(&out, "</title>");
    sb_adds(&out, end + 1);
    sb_fini(svg);
    *svg = out;
out:
    free(name);
}

int report_check_path(const char *path, struct err *err)
{
    enum text_format fmt;

    return text_format_of(path, &fmt, err);
}

/* The page in format fmt into data (empty on error). */
static int render_buf(const struct report *r,
                      enum text_format fmt,
                      const char *what,
                      struct strbuf *data,
                      struct err *err)
{
    cairo_status_t st = render_to(r, fmt, data);

    if (st != CAIRO_STATUS_SUCCESS) {
        sb_fini(data);
        return err_set(err, SWEEP_EINTERNAL, "%s: cairo: %s", what,
                       cairo_status_to_string(st));
    }
    if (fmt == FORMAT_SVG)
        svg_add_title(data, r->study);
    return SWEEP_OK;
}

int report_render(const struct report *r, const char *path, struct err *err)
{
    struct strbuf data = STRBUF_INIT;
    enum text_format fmt;
    int rc;

    if (text_format_of(path, &fmt, err))
        return SWEEP_EINVAL;
    rc = render_buf(r, fmt, path, &data, err);
    if (!rc)
        rc = fileio_write_atomic(path, data.buf, data.len, "report", err);
    sb_fini(&data);
    return rc;
}

/* ---- the numbers of a study from the store ---- */

/* Wall times of the tasks that ran to an end. */
struct walls {
    double *v;
    size_t n, cap;
};

static int collect_wall(const struct store_task *t, void *arg)
{
    struct walls *w = arg;

    if ((t->state == TASK_SUCCEEDED || t->state == TASK_FAILED ||
         t->state == TASK_TIMED_OUT) &&
        isfinite(t->wall) && t->wall >= 0) {
        w->v = xgrow(w->v, &w->cap, w->n + 1, sizeof(*w->v));
        w->v[w->n++] = t->wall;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void walls_stats(struct walls *w, double *mean, double *median)
{
    double sum = 0;

    *mean = *median = NAN;
    if (w->n == 0)
        return;
    for (size_t i = 0; i < w->n; i++)
        sum += w->v[i];
    *mean = sum / (double)w->n;
    qsort(w->v, w->n, sizeof(*w->v), cmp_double);
    *median = w->n % 2 ? w->v[w->n / 2] : (w->v[w->n / 2 - 1] + w->v[w->n / 2]) / 2;
}

/* Run time: from the first start to the end of the last run, or to now while it runs
 * (or when the end was not recorded). */
static double run_seconds(const struct store_study *s, double now)
{
    if (s->started_at <= 0)
        return 0;
    if (s->status != STUDY_RUNNING && s->finished_at >= s->started_at)
        return s->finished_at - s->started_at;
    return fmax(0, now - s->started_at);
}

/* Renders study's report to path (a file) or, path NULL, into data as fmt. */
static int study_render(struct store *st,
                        const char *study,
                        const char *path,
                        enum text_format fmt,
                        struct strbuf *data,
                        struct err *err)
{
    struct store_study s = {0};
    struct walls w = {0};
    struct report r = {0};
    int rc;

    if ((rc = store_study_get(st, study, &s, err)) != 0 ||
        (rc = store_study_counts(st, s.id, r.counts, err)) != 0 ||
        (rc = store_task_each(st, s.id, -1, collect_wall, &w, err)) != 0)
        goto out;
    r.study = s.name;
    r.status = study_status_name(s.status);
    walls_stats(&w, &r.mean_wall, &r.median_wall);
    r.generated_at = time_now();
    r.run_seconds = run_seconds(&s, r.generated_at);
    rc = path ? report_render(&r, path, err) : render_buf(&r, fmt, "report", data, err);
out:
    free(w.v);
    store_study_fini(&s);
    return rc;
}

int report_study_write(struct store *st,
                       const char *study,
                       const char *path,
                       struct err *err)
{
    return study_render(st, study, path, FORMAT_PNG, NULL, err);
}

int report_study_mem(struct store *st,
                     const char *study,
                     const char *format,
                     char **out,
                     size_t *len,
                     struct err *err)
{
    struct strbuf data = STRBUF_INIT;
    enum text_format fmt;
    char name[16];
    int rc;

    *out = NULL;
    *len = 0;
    snprintf(name, sizeof(name), "report.%s", format);
    if (strlen(format) > 4 || text_format_of(name, &fmt, err))
        return err_set(err, SWEEP_EINVAL,
                       "format: expected png, svg or pdf, got \"%s\"", format);
    rc = study_render(st, study, NULL, fmt, &data, err);
    if (!rc) {
        *len = data.len;
        *out = sb_take(&data);
    }
    sb_fini(&data);
    return rc;
}
