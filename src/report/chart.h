/* Charts for sweep's pictures: a chart is built in memory (title, axis labels, linear
 * or log axes, series of points with optional error bars) and rendered to PNG, SVG or
 * PDF, chosen by the output file's extension. The layout is automatic: "nice" 1-2-5
 * ticks (decades on log axes), tick labels thinned so that no text overlaps, a
 * colour-blind-safe palette (Okabe-Ito), and a legend in the emptiest corner of the
 * plot (or beside it when every corner would cover data), a margin inside the frame
 * so that markers and error bars at the ends of an axis are not cut, optionally a
 * viridis colour bar for series coloured by a value, series side by side at one x, and
 * dashed fitted power laws. Points that cannot be drawn
 * (NaN, Inf, or not positive on a log axis) are skipped, and a line breaks there. SVG
 * output is written by this module with real <text> elements and is byte-for-byte
 * deterministic; PNG and PDF are drawn with cairo. No cairo type appears in this
 * header. */
#ifndef SWEEP_REPORT_CHART_H
#define SWEEP_REPORT_CHART_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

enum chart_axis {
    CHART_X,
    CHART_Y,
};

enum chart_style {
    CHART_LINE,        /* points joined by a line */
    CHART_POINTS,      /* markers only */
    CHART_LINE_POINTS, /* a line and a marker on each point */
};

/* Smallest and largest width or height chart_render accepts (pixels, or points for
 * PDF). */
#define CHART_MIN_SIZE 120
#define CHART_MAX_SIZE 8192

struct chart;

/* A chart with no series yet; title may be NULL or "" for none. Strings are copied;
 * invalid UTF-8 and control characters are replaced. */
struct chart *chart_create(const char *title);
void chart_destroy(struct chart *chart);

/* The label of an axis, with its unit in the text, e.g. "time (s)"; NULL or "" for
 * none. */
void chart_set_label(struct chart *chart, enum chart_axis axis, const char *label);
void chart_set_log(struct chart *chart, enum chart_axis axis, bool log);

/* Adds a series of n points; the arrays are copied. yerr (may be NULL) is the
 * half-height of each point's error bar; a NaN or non-positive value draws no bar. A
 * series named NULL or "" has no legend entry. Series take palette colours and marker
 * shapes in the order they are added. */
void chart_add_series(struct chart *chart,
                      const char *name,
                      size_t n,
                      const double *x,
                      const double *y,
                      const double *yerr,
                      enum chart_style style);

/* Gives the last added series palette colour and marker shape i (series that share
 * a value share a colour) instead of the next ones. */
void chart_series_palette(struct chart *chart, size_t i);

/* A colour bar right of the plot, from lo to hi (log: logarithmic, when both are
 * positive) in the viridis colour map, labelled label (may be NULL); series coloured
 * with chart_series_value() take their colour from it. */
void chart_set_colorbar(
    struct chart *chart, const char *label, double lo, double hi, bool log);
/* Colours the last added series by v on the colour bar (a circle marker). */
void chart_series_value(struct chart *chart, double v);

/* Series with markers drawn side by side in x (a fraction of a marker apart, centred
 * on their true x), so that points and error bars at the same x do not hide each
 * other. */
void chart_set_dodge(struct chart *chart, bool dodge);

/* A fitted power law y = prefactor * x^exponent from xlo to xhi (both > 0) as a
 * dashed line in the colour of the last added series, named name in the legend. */
void chart_add_power_fit(struct chart *chart,
                         const char *name,
                         double prefactor,
                         double exponent,
                         double xlo,
                         double xhi);

/* Renders to path: ".png", ".svg" or ".pdf" (any case) selects the format. width and
 * height are pixels (PNG, SVG) or points (PDF), within [CHART_MIN_SIZE,
 * CHART_MAX_SIZE]. The file is written under a temporary name and renamed, so a failure
 * leaves no partial file. Errors: SWEEP_EINVAL (extension, size), SWEEP_EIO (writing).
 */
int chart_render(const struct chart *chart,
                 const char *path,
                 int width,
                 int height,
                 struct err *err);

/* Renders into memory instead of a file: format is "png", "svg" or "pdf" (the bytes
 * chart_render would write for that extension), width and height as there. *out is a
 * new buffer of *len bytes (free it); NUL-terminated, so an SVG is also a string.
 * Errors: SWEEP_EINVAL (format, size), SWEEP_EIO, SWEEP_EINTERNAL (cairo); *out is
 * then NULL. */
int chart_render_mem(const struct chart *chart,
                     const char *format,
                     int width,
                     int height,
                     char **out,
                     size_t *len,
                     struct err *err);

/* Checks that path names a format chart_render can write (.png, .svg, .pdf), so that a
 * command can fail before doing any work. Error: SWEEP_EINVAL. */
int chart_check_path(const char *path, struct err *err);

/* Ticks of one axis; exposed for tests and for sweep's other pictures. */
#define CHART_MAX_TICKS 32

struct chart_ticks {
    bool log;
    double lo, hi; /* the axis range: the data range widened to the outer ticks */
    double step;   /* linear: the tick step; log: decades per tick, 0 for 1-2-5 ticks */
    size_t n;
    double v[CHART_MAX_TICKS];
};

/* At most max_ticks (clamped to [2, CHART_MAX_TICKS]) nice ticks covering [lo, hi]:
 * steps of 1, 2 or 5 times a power of ten on a linear axis; on a log axis 1-2-5 values
 * within decades when they fit, else every decade or every few decades. An empty range
 * is widened around its value; a range that cannot be drawn (not finite, or not
 * positive on a log axis) becomes 0..1 (1..10 on a log axis). */
void chart_ticks_compute(
    double lo, double hi, bool log, int max_ticks, struct chart_ticks *t);

/* The label of tick i, compact and as precise as the step needs: "0.01", "2.5", "1000",
 * "1e-05", "1.5e+06". */
void chart_tick_label(const struct chart_ticks *t, size_t i, char *buf, size_t len);

#endif
