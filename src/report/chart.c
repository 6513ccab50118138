/* Chart layout and rendering (see chart.h). The layout is computed in pixels by code
 * that knows nothing of the output format; a small canvas layer then draws lines,
 * shapes and text either through cairo (PNG, PDF) or as SVG elements written here, so
 * that SVG has real, searchable text and identical bytes for identical input. Text is
 * measured with cairo's toy font API (DejaVu Sans, metrics unhinted) for every format,
 * so the SVG layout matches the PNG. Layout and drawing are O(points) per series, with
 * four more passes over the points to find the emptiest corner for the legend. */
#include "chart.h"

#include "text.h"

#include "common/xalloc.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FONT_FAMILY "DejaVu Sans"
#define SVG_FONTS "DejaVu Sans, Verdana, Arial, sans-serif"

struct series {
    char *name; /* NULL: no legend entry */
    size_t n;
    double *x, *y, *yerr; /* yerr may be NULL */
    enum chart_style style;
    unsigned int rgb;
    size_t shape;
    bool dashed; /* a fitted curve: a dashed line, not dodged */
};

struct colorbar {
    char *label;
    double lo, hi;
    bool log, on;
};

struct chart {
    char *title;
    char *label[2];
    bool log[2];
    bool dodge;
    struct colorbar cbar;
    struct series *series;
    size_t nseries, cap;
    size_t ncolors; /* palette colours handed out */
};

/* Okabe-Ito, in an order that keeps the hard-to-see yellow last. */
static const unsigned int palette[] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7,
                                       0xE69F00, 0x56B4E9, 0x000000, 0xF0E442};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

/* viridis (perceptually uniform, colour-blind safe, prints in grey) at 0, 1/9, ..., 1;
 * colours between are interpolated. */
static const unsigned int viridis[] = {0x440154, 0x482878, 0x3E4A89, 0x31688E,
                                       0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59,
                                       0xB4DE2C, 0xFDE725};
#define NVIRIDIS (sizeof(viridis) / sizeof(viridis[0]))
#define NSHAPES 5

#define COLOR_TEXT 0x222222
#define COLOR_FRAME 0x444444
#define COLOR_GRID 0xE3E3E3
#define COLOR_LEGEND_EDGE 0xBBBBBB
#define COLOR_NODATA 0x888888

/* ---- text hygiene ---- */

/* The chart keeps no text for an empty string: NULL means "none". */
static char *text_or_null(const char *s)
{
    return s && *s ? text_clean(s) : NULL;
}

/* ---- building a chart ---- */

struct chart *chart_create(const char *title)
{
    struct chart *c = xcalloc(1, sizeof(*c));
    c->title = text_or_null(title);
    return c;
}

void chart_destroy(struct chart *chart)
{
    if (!chart)
        return;
    for (size_t i = 0; i < chart->nseries; i++) {
        struct series *s = &chart->series[i];
        free(s->name);
        free(s->x);
        free(s->y);
        free(s->yerr);
    }
    free(chart->series);
    free(chart->cbar.label);
    free(chart->title);
    free(chart->label[CHART_X]);
    free(chart->label[CHART_Y]);
    free(chart);
}

void chart_set_label(struct chart *chart, enum chart_axis axis, const char *label)
{
    free(chart->label[axis]);
    chart->label[axis] = text_or_null(label);
}

void chart_set_log(struct chart *chart, enum chart_axis axis, bool log)
{
    chart->log[axis] = log;
}

static double *copy_doubles(const double *v, size_t n)
{
    double *out;

    if (!v)
        return NULL;
    out = xmalloc(n * sizeof(*out));
    memcpy(out, v, n * sizeof(*out));
    return out;
}

void chart_add_series(struct chart *chart,
                      const char *name,
                      size_t n,
                      const double *x,
                      const double *y,
                      const double *yerr,
                      enum chart_style style)
{
    struct series *s;

    chart->series =
        xgrow(chart->series, &chart->cap, chart->nseries + 1, sizeof(*chart->series));
    s = &chart->series[chart->nseries++];
    s->name = text_or_null(name);
    s->n = n;
    s->x = copy_doubles(x, n);
    s->y = copy_doubles(y, n);
    s->yerr = copy_doubles(yerr, n);
    s->style = style;
    s->dashed = false;
    s->shape = chart->ncolors;
    s->rgb = palette[chart->ncolors++ % NPALETTE];
}

void chart_series_palette(struct chart *chart, size_t i)
{
    struct series *s;

    if (!chart->nseries)
        return;
    s = &chart->series[chart->nseries - 1];
    s->shape = i;
    s->rgb = palette[i % NPALETTE];
}

static unsigned int viridis_at(double f)
{
    double p = (f < 0 ? 0 : f > 1 ? 1 : f) * (NVIRIDIS - 1);
    size_t i = (size_t)p < NVIRIDIS - 1 ? (size_t)p : NVIRIDIS - 2;
    double t = p - (double)i;
    unsigned int a = viridis[i], b = viridis[i + 1], out = 0;

    for (int sh = 16; sh >= 0; sh -= 8) {
        double ca = (a >> sh) & 0xFF, cb = (b >> sh) & 0xFF;
        out |= (unsigned int)lround(ca + t * (cb - ca)) << sh;
    }
    return out;
}

/* Where v lies on the colour bar, 0..1. */
static double cbar_frac(const struct colorbar *cb, double v)
{
    double lo = cb->lo, hi = cb->hi;

    if (cb->log) {
        v = v > 0 ? log10(v) : -HUGE_VAL;
        lo = log10(lo);
        hi = log10(hi);
    }
    return hi > lo ? (v - lo) / (hi - lo) : 0.5;
}

void chart_set_colorbar(
    struct chart *chart, const char *label, double lo, double hi, bool log)
{
    free(chart->cbar.label);
    chart->cbar.label = text_or_null(label);
    if (log && !(lo > 0 && hi > 0))
        log = false;
    chart->cbar.lo = fmin(lo, hi);
    chart->cbar.hi = fmax(lo, hi);
    chart->cbar.log = log;
    chart->cbar.on = isfinite(lo) && isfinite(hi);
}

void chart_series_value(struct chart *chart, double v)
{
    if (!chart->nseries || !chart->cbar.on)
        return;
    chart->series[chart->nseries - 1].rgb = viridis_at(cbar_frac(&chart->cbar, v));
    chart->series[chart->nseries - 1].shape = 0;
}

void chart_set_dodge(struct chart *chart, bool dodge)
{
    chart->dodge = dodge;
}

void chart_add_power_fit(struct chart *chart,
                         const char *name,
                         double prefactor,
                         double exponent,
                         double xlo,
                         double xhi)
{
    enum { N = 64 };
    double x[N], y[N];
    unsigned int rgb;
    size_t shape;
    struct series *s;

    if (!(xlo > 0) || !(xhi >= xlo))
        return;
    for (int i = 0; i < N; i++) {
        x[i] = xlo * pow(xhi / xlo, (double)i / (N - 1));
        y[i] = prefactor * pow(x[i], exponent);
    }
    rgb = chart->nseries ? chart->series[chart->nseries - 1].rgb : palette[0];
    shape = chart->nseries ? chart->series[chart->nseries - 1].shape : 0;
    chart_add_series(chart, name, N, x, y, NULL, CHART_LINE);
    chart->ncolors--;
    s = &chart->series[chart->nseries - 1];
    s->rgb = rgb;
    s->shape = shape;
    s->dashed = true;
}

/* ---- ticks ---- */

static void ticks_linear(double lo, double hi, int max, struct chart_ticks *t)
{
    static const double mult[] = {1, 2, 5};
    double big, raw, mag;

    if (!(fabs(lo) <= 1e300) || !(fabs(hi) <= 1e300) || hi < lo) {
        lo = 0;
        hi = 1;
    }
    /* A range too narrow for doubles to resolve is widened around its value. */
    big = fmax(fabs(lo), fabs(hi));
    if (hi - lo <= big * 1e-12 || hi - lo < 1e-250) {
        double mid = (lo + hi) / 2, d = fabs(mid) < 1e-250 ? 1 : fabs(mid) * 0.1;
        lo = mid - d;
        hi = mid + d;
    }
    raw = (hi - lo) / (max - 1);
    mag = pow(10, floor(log10(raw)));
    for (int k = 0;; k++) {
        double step = mult[k % 3] * mag * pow(10, k / 3);
        double first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9);

        if (step < raw * (1 - 1e-9))
            continue;
        t->step = step;
        if (last - first + 1 <= max) {
            t->n = (size_t)(last - first) + 1;
            for (size_t i = 0; i < t->n; i++) {
                double v = (first + (double)i) * step;
                t->v[i] = fabs(v) < step * 1e-9 ? 0 : v;
            }
            break;
        }
        /* Two ticks around zero (max 2) can only be -step and step. */
        if (step >= hi - lo) {
            t->n = 2;
            t->v[0] = first * step;
            t->v[1] = last * step;
            break;
        }
    }
}

/* 1-2-5 values of the decades that cover [lo, hi], when at most max of them do. */
static bool ticks_log125(double lo, double hi, int max, struct chart_ticks *t)
{
    static const double mult[] = {1, 2, 5};
    double dlo = floor(log10(lo) + 1e-9), dhi = ceil(log10(hi) - 1e-9);
    size_t first = 0, last = 0, n = 0;
    double cand[3 * CHART_MAX_TICKS + 1];

    if (dhi - dlo > CHART_MAX_TICKS)
        return false;
    for (double d = dlo; d <= dhi; d++) {
        for (size_t m = 0; m < 3; m++) {
            double v = mult[m] * pow(10, d);
            if (v <= lo * (1 + 1e-9))
                first = n;
            cand[n++] = v;
            if (v >= hi * (1 - 1e-9)) {
                last = n - 1;
                goto found;
            }
        }
    }
    return false;
found:
    if (last - first + 1 > (size_t)max)
        return false;
    t->step = 0;
    t->n = last - first + 1;
    memcpy(t->v, cand + first, t->n * sizeof(double));
    return true;
}

static void ticks_log(double lo, double hi, int max, struct chart_ticks *t)
{
    /* Each divides 300, so that ticks stay within 1e-300..1e300. */
    static const double steps[] = {1, 2, 3, 4, 5, 10, 20, 25, 50, 100};
    double dlo, dhi;

    if (!(lo >= 1e-300) || !(hi <= 1e300) || hi < lo) {
        lo = 1;
        hi = 10;
    }
    if (hi <= lo * (1 + 1e-12)) {
        double mid = sqrt(lo * hi);
        lo = mid / sqrt(10);
        hi = mid * sqrt(10);
    }
    if (ticks_log125(lo, hi, max, t))
        return;
    dlo = floor(log10(lo) + 1e-9);
    dhi = ceil(log10(hi) - 1e-9);
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
        double a = floor(dlo / steps[k]) * steps[k],
               b = ceil(dhi / steps[k]) * steps[k];

        if ((b - a) / steps[k] + 1 > max)
            continue;
        t->step = steps[k];
        t->n = (size_t)((b - a) / steps[k]) + 1;
        for (size_t i = 0; i < t->n; i++)
            t->v[i] = pow(10, a + (double)i * steps[k]);
        return;
    }
    /* Only two ticks allowed, and no step gives two: the outer decades. */
    t->step = dhi - dlo;
    t->n = 2;
    t->v[0] = pow(10, dlo);
    t->v[1] = pow(10, dhi);
}

void chart_ticks_compute(
    double lo, double hi, bool log, int max_ticks, struct chart_ticks *t)
{
    int max = max_ticks < 2                 ? 2
              : max_ticks > CHART_MAX_TICKS ? CHART_MAX_TICKS
                                            : max_ticks;

    memset(t, 0, sizeof(*t));
    t->log = log;
    if (log)
        ticks_log(lo, hi, max, t);
    else
        ticks_linear(lo, hi, max, t);
    t->lo = t->v[0];
    t->hi = t->v[t->n - 1];
}

/* Drops trailing zeros after a decimal point, and the point itself. */
static void strip_zeros(char *buf)
{
    size_t n = strlen(buf);

    if (!strchr(buf, '.'))
        return;
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
}

void chart_tick_label(const struct chart_ticks *t, size_t i, char *buf, size_t len)
{
    double v = t->v[i];
    int estep;

    if (t->log) {
        snprintf(buf, len, "%g", v);
        return;
    }
    if (v == 0) {
        snprintf(buf, len, "0");
        return;
    }
    estep = (int)floor(log10(t->step) + 1e-9);
    if (estep < -4 || fmax(fabs(t->lo), fabs(t->hi)) >= 1e6) {
        /* Exponent form on the whole axis: mantissa digits down to the step's. */
        int decimals = (int)floor(log10(fabs(v)) + 1e-9) - estep;
        char mant[64], *e;

        decimals = decimals < 0 ? 0 : decimals > 16 ? 16 : decimals;
        snprintf(mant, sizeof(mant), "%.*e", decimals, v);
        e = strchr(mant, 'e');
        *e = '\0';
        strip_zeros(mant);
        snprintf(buf, len, "%se%s", mant, e + 1);
        return;
    }
    snprintf(buf, len, "%.*f", estep < 0 ? -estep : 0, v);
    strip_zeros(buf);
}

/* ---- canvas: cairo or SVG ---- */

struct font {
    double size;
    bool bold;
};

enum anchor {
    ANCHOR_START,
    ANCHOR_MIDDLE,
    ANCHOR_END,
};

/* cr draws (PNG, PDF) or only measures text (SVG, written to svg). */
struct canvas {
    cairo_t *cr;
    FILE *svg;
};

static void cv_source(struct canvas *cv, unsigned int rgb, double alpha)
{
    cairo_set_source_rgba(cv->cr, (rgb >> 16 & 0xFF) / 255.0, (rgb >> 8 & 0xFF) / 255.0,
                          (rgb & 0xFF) / 255.0, alpha);
}

static void cv_font(struct canvas *cv, struct font f)
{
    cairo_select_font_face(cv->cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL,
                           f.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cv->cr, f.size);
}

static double cv_text_width(struct canvas *cv, struct font f, const char *s)
{
    cairo_text_extents_t e;

    cv_font(cv, f);
    cairo_text_extents(cv->cr, s, &e);
    return e.x_advance;
}

/* A number in SVG: two decimals at most, no trailing zeros, never "-0". */
static void svg_num(FILE *f, double v)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "%.2f", v);
    strip_zeros(buf);
    fputs(strcmp(buf, "-0") == 0 ? "0" : buf, f);
}

static void svg_attr(FILE *f, const char *name, double v)
{
    fprintf(f, " %s=\"", name);
    svg_num(f, v);
    fputc('"', f);
}

static void svg_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void cv_line(struct canvas *cv,
                    double x0,
                    double y0,
                    double x1,
                    double y1,
                    unsigned int rgb,
                    double width)
{
    if (cv->svg) {
        fputs("<line", cv->svg);
        svg_attr(cv->svg, "x1", x0);
        svg_attr(cv->svg, "y1", y0);
        svg_attr(cv->svg, "x2", x1);
        svg_attr(cv->svg, "y2", y1);
        fprintf(cv->svg, " stroke=\"#%06x\"", rgb);
        svg_attr(cv->svg, "stroke-width", width);
        fputs("/>\n", cv->svg);
        return;
    }
    cairo_move_to(cv->cr, x0, y0);
    cairo_line_to(cv->cr, x1, y1);
    cv_source(cv, rgb, 1);
    cairo_set_line_width(cv->cr, width);
    cairo_stroke(cv->cr);
}

/* A rectangle filled with fill at fill_alpha (alpha 0: not filled), and outlined in
 * stroke when width > 0. */
static void cv_rect(struct canvas *cv,
                    double x,
                    double y,
                    double w,
                    double h,
                    unsigned int fill,
                    double fill_alpha,
                    unsigned int stroke,
                    double width)
{
    if (cv->svg) {
        fputs("<rect", cv->svg);
        svg_attr(cv->svg, "x", x);
        svg_attr(cv->svg, "y", y);
        svg_attr(cv->svg, "width", w);
        svg_attr(cv->svg, "height", h);
        if (fill_alpha > 0) {
            fprintf(cv->svg, " fill=\"#%06x\"", fill);
            if (fill_alpha < 1)
                svg_attr(cv->svg, "fill-opacity", fill_alpha);
        } else {
            fputs(" fill=\"none\"", cv->svg);
        }
        if (width > 0) {
            fprintf(cv->svg, " stroke=\"#%06x\"", stroke);
            svg_attr(cv->svg, "stroke-width", width);
        }
        fputs("/>\n", cv->svg);
        return;
    }
    cairo_rectangle(cv->cr, x, y, w, h);
    if (fill_alpha > 0) {
        cv_source(cv, fill, fill_alpha);
        cairo_fill_preserve(cv->cr);
    }
    if (width > 0) {
        cv_source(cv, stroke, 1);
        cairo_set_line_width(cv->cr, width);
        cairo_stroke_preserve(cv->cr);
    }
    cairo_new_path(cv->cr);
}

/* A line through n points, xy holding x0, y0, x1, y1, ... */
static void cv_polyline(struct canvas *cv,
                        const double *xy,
                        size_t n,
                        unsigned int rgb,
                        double width,
                        bool dashed)
{
    if (n < 2)
        return;
    if (cv->svg) {
        fputs("<polyline fill=\"none\" stroke-linejoin=\"round\" "
              "stroke-linecap=\"round\"",
              cv->svg);
        fprintf(cv->svg, " stroke=\"#%06x\"", rgb);
        svg_attr(cv->svg, "stroke-width", width);
        if (dashed) {
            fputs(" stroke-dasharray=\"", cv->svg);
            svg_num(cv->svg, 4 * width);
            fputc(' ', cv->svg);
            svg_num(cv->svg, 2.5 * width);
            fputc('"', cv->svg);
        }
        fputs(" points=\"", cv->svg);
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                fputc(' ', cv->svg);
            svg_num(cv->svg, xy[2 * i]);
            fputc(',', cv->svg);
            svg_num(cv->svg, xy[2 * i + 1]);
        }
        fputs("\"/>\n", cv->svg);
        return;
    }
    cairo_move_to(cv->cr, xy[0], xy[1]);
    for (size_t i = 1; i < n; i++)
        cairo_line_to(cv->cr, xy[2 * i], xy[2 * i + 1]);
    cv_source(cv, rgb, 1);
    cairo_set_line_width(cv->cr, width);
    cairo_set_line_join(cv->cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cv->cr, CAIRO_LINE_CAP_ROUND);
    if (dashed) {
        double dash[2] = {4 * width, 2.5 * width};
        cairo_set_dash(cv->cr, dash, 2, 0);
    }
    cairo_stroke(cv->cr);
    cairo_set_dash(cv->cr, NULL, 0, 0);
    cairo_set_line_cap(cv->cr, CAIRO_LINE_CAP_BUTT);
}

/* A filled marker of radius r: circle, square, triangle up, diamond, triangle down. */
static void cv_marker(
    struct canvas *cv, size_t shape, double x, double y, double r, unsigned int rgb)
{
    static const double shapes[NSHAPES][9] = {
        {0},
        {4, -0.9, -0.9, 0.9, -0.9, 0.9, 0.9, -0.9, 0.9},
        {3, 0, -1.3, 1.15, 0.75, -1.15, 0.75},
        {4, 0, -1.3, 1.3, 0, 0, 1.3, -1.3, 0},
        {3, 0, 1.3, 1.15, -0.75, -1.15, -0.75},
    };
    const double *p = shapes[shape % NSHAPES];
    size_t n = (size_t)p[0];

    if (cv->svg) {
        if (n == 0) {
            fputs("<circle", cv->svg);
            svg_attr(cv->svg, "cx", x);
            svg_attr(cv->svg, "cy", y);
            svg_attr(cv->svg, "r", r);
        } else {
            fputs("<polygon points=\"", cv->svg);
            for (size_t i = 0; i < n; i++) {
                if (i > 0)
                    fputc(' ', cv->svg);
                svg_num(cv->svg, x + r * p[1 + 2 * i]);
                fputc(',', cv->svg);
                svg_num(cv->svg, y + r * p[2 + 2 * i]);
            }
            fputc('"', cv->svg);
        }
        fprintf(cv->svg, " fill=\"#%06x\"/>\n", rgb);
        return;
    }
    if (n == 0)
        cairo_arc(cv->cr, x, y, r, 0, 2 * M_PI);
    for (size_t i = 0; i < n; i++)
        cairo_line_to(cv->cr, x + r * p[1 + 2 * i], y + r * p[2 + 2 * i]);
    cairo_close_path(cv->cr);
    cv_source(cv, rgb, 1);
    cairo_fill(cv->cr);
}

/* Text with its baseline at y, anchored at x; vertical text reads bottom to top. */
static void cv_text(struct canvas *cv,
                    double x,
                    double y,
                    enum anchor anchor,
                    bool vertical,
                    struct font f,
                    unsigned int rgb,
                    const char *s)
{
    static const char *const anchors[] = {"start", "middle", "end"};
    double shift;

    if (cv->svg) {
        fputs("<text", cv->svg);
        svg_attr(cv->svg, "x", x);
        svg_attr(cv->svg, "y", y);
        svg_attr(cv->svg, "font-size", f.size);
        if (f.bold)
            fputs(" font-weight=\"bold\"", cv->svg);
        fprintf(cv->svg, " fill=\"#%06x\"", rgb);
        if (anchor != ANCHOR_START)
            fprintf(cv->svg, " text-anchor=\"%s\"", anchors[anchor]);
        if (vertical) {
            fputs(" transform=\"rotate(-90 ", cv->svg);
            svg_num(cv->svg, x);
            fputc(' ', cv->svg);
            svg_num(cv->svg, y);
            fputs(")\"", cv->svg);
        }
        fputc('>', cv->svg);
        svg_escaped(cv->svg, s);
        fputs("</text>\n", cv->svg);
        return;
    }
    shift = cv_text_width(cv, f, s) * (anchor == ANCHOR_START    ? 0
                                       : anchor == ANCHOR_MIDDLE ? 0.5
                                                                 : 1);
    cairo_save(cv->cr);
    cairo_translate(cv->cr, x, y);
    if (vertical)
        cairo_rotate(cv->cr, -M_PI / 2);
    cairo_move_to(cv->cr, -shift, 0);
    cv_source(cv, rgb, 1);
    cairo_show_text(cv->cr, s);
    cairo_new_path(cv->cr); /* show_text leaves a current point */
    cairo_restore(cv->cr);
}

/* s, or its longest prefix (on a UTF-8 boundary) plus an ellipsis that fits in maxw. */
static char *fit_text(struct canvas *cv, struct font f, const char *s, double maxw)
{
    char *out = xstrdup(s);
    size_t n = strlen(out);

    if (cv_text_width(cv, f, out) <= maxw)
        return out;
    out = xrealloc(out, n + sizeof("\u2026"));
    while (n > 0) {
        do
            n--;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80);
        memcpy(out, s, n);
        strcpy(out + n, "\u2026");
        if (cv_text_width(cv, f, out) <= maxw)
            break;
    }
    return out;
}

/* ---- layout ---- */

struct layout {
    double w, h, s;
    struct font title_f, label_f, tick_f, legend_f;
    double pad, gap, ticklen, line_w, marker_r;
    double thin;                     /* width of grid, ticks and frame: whole pixels */
    double left, right, top, bottom; /* the plot area */
    struct chart_ticks xt, yt;
    size_t xevery, yevery; /* every k-th tick is labelled */
    bool empty;            /* no point can be drawn */
    char *title, *xlabel, *ylabel;
    char **names;          /* per series: its legend text, or NULL */
    double *dodge;         /* per series: its x offset in pixels, or NULL for none */
    bool margin;           /* keep points off the frame (charts with markers) */
    struct chart_ticks ct; /* the colour bar's ticks */
    double cbx, cbw;       /* the colour bar's left edge and width; cbw 0: none */
    double cbtotal;        /* the width kept for it right of the plot */
    size_t nlegend;
    double lx, ly, lw, lh, lrow, lsample, lpad;
};

/* Can v be drawn on the axis? Not NaN or infinite, and positive on a log axis; values
 * beyond 1e300 (1e-300 on a log axis) count as infinite, so that no tick or pixel
 * computation overflows. */
static bool axis_ok(bool log, double v)
{
    return log ? v >= 1e-300 && v <= 1e300 : fabs(v) <= 1e300;
}

static bool point_ok(const struct chart *c, double x, double y)
{
    return axis_ok(c->log[CHART_X], x) && axis_ok(c->log[CHART_Y], y);
}

/* The error bar of point i as [*lo, *hi], or false when it has none. On a log axis a
 * bar reaching zero or below is cut at the bottom of the axis (lo = 0). */
static bool
errbar(const struct chart *c, const struct series *s, size_t i, double *lo, double *hi)
{
    double e = s->yerr ? s->yerr[i] : NAN;

    if (!(e > 0) || !isfinite(e) || !point_ok(c, s->x[i], s->y[i]))
        return false;
    *lo = s->y[i] - e;
    *hi = s->y[i] + e;
    if (c->log[CHART_Y] && *lo < 1e-300)
        *lo = 0;
    return axis_ok(c->log[CHART_Y], *hi) && (*lo == 0 || axis_ok(c->log[CHART_Y], *lo));
}

struct range {
    double lo, hi;
    bool any;
};

static void range_add(struct range *r, double v)
{
    if (!r->any || v < r->lo)
        r->lo = v;
    if (!r->any || v > r->hi)
        r->hi = v;
    r->any = true;
}

static size_t data_ranges(const struct chart *c, struct range *xr, struct range *yr)
{
    size_t count = 0;

    for (size_t k = 0; k < c->nseries; k++) {
        const struct series *s = &c->series[k];
        for (size_t i = 0; i < s->n; i++) {
            double lo, hi;
            if (!point_ok(c, s->x[i], s->y[i]))
                continue;
            count++;
            range_add(xr, s->x[i]);
            range_add(yr, s->y[i]);
            if (errbar(c, s, i, &lo, &hi)) {
                range_add(yr, hi);
                if (lo > 0 || !c->log[CHART_Y])
                    range_add(yr, lo);
            }
        }
    }
    return count;
}

static double axis_frac(const struct chart_ticks *t, double v)
{
    if (t->log)
        return (log10(v) - log10(t->lo)) / (log10(t->hi) - log10(t->lo));
    return (v - t->lo) / (t->hi - t->lo);
}

static double px_x(const struct layout *L, double v)
{
    return L->left + axis_frac(&L->xt, v) * (L->right - L->left);
}

/* On a log axis, 0 maps to the bottom of the plot (a cut error bar). */
static double px_y(const struct layout *L, double v)
{
    if (L->yt.log && v <= 0)
        return L->bottom;
    return L->bottom - axis_frac(&L->yt, v) * (L->bottom - L->top);
}

/* Would labelling every k-th tick over an axis of the given length (pixels) keep the
 * labels apart? */
static bool labels_fit(struct canvas *cv,
                       const struct layout *L,
                       const struct chart_ticks *t,
                       bool horizontal,
                       double length,
                       size_t every)
{
    double prev_pos = 0, prev_half = 0;

    for (size_t i = 0; i < t->n; i += every) {
        double pos = axis_frac(t, t->v[i]) * length, half;
        char buf[64];

        chart_tick_label(t, i, buf, sizeof(buf));
        half = horizontal ? cv_text_width(cv, L->tick_f, buf) / 2 : L->tick_f.size / 2;
        if (i > 0 && pos - prev_pos < prev_half + half + L->gap)
            return false;
        prev_pos = pos;
        prev_half = half;
    }
    return true;
}

/* The most ticks, up to about one per spacing pixels, whose labels do not collide;
 * when even two collide, only every k-th label is kept. */
static void fit_ticks_only(struct canvas *cv,
                           const struct layout *L,
                           const struct range *r,
                           bool log,
                           double length,
                           bool horizontal,
                           struct chart_ticks *t,
                           size_t *every)
{
    double spacing = (horizontal ? 80 : 45) * L->s;
    double fit = fmax(2, fmin(CHART_MAX_TICKS, floor(length / spacing) + 1));

    for (int max = (int)fit; max >= 2; max--) {
        chart_ticks_compute(r->lo, r->hi, log, max, t);
        if (labels_fit(cv, L, t, horizontal, length, 1)) {
            *every = 1;
            return;
        }
    }
    for (*every = 2; *every < t->n; (*every)++)
        if (labels_fit(cv, L, t, horizontal, length, *every))
            return;
}

/* Widens the axis beyond its outer ticks where data would sit on the frame or within
 * frac of the axis' length of it, so that no marker or error bar is cut by the frame.
 */
static void add_margin(struct chart_ticks *t, const struct range *r, double frac)
{
    double lo = t->lo, hi = t->hi, dlo = r->lo, dhi = r->hi, m;

    if (t->log) {
        lo = log10(lo);
        hi = log10(hi);
        dlo = log10(dlo);
        dhi = log10(dhi);
    }
    m = frac * (hi - lo);
    if (!isfinite(m) || !isfinite(dlo) || !isfinite(dhi))
        return;
    lo = fmin(lo, dlo - m);
    hi = fmax(hi, dhi + m);
    t->lo = t->log ? pow(10, lo) : lo;
    t->hi = t->log ? pow(10, hi) : hi;
}

static void fit_ticks(struct canvas *cv,
                      const struct layout *L,
                      const struct range *r,
                      bool log,
                      double length,
                      bool horizontal,
                      struct chart_ticks *t,
                      size_t *every)
{
    fit_ticks_only(cv, L, r, log, length, horizontal, t, every);
    if (L->margin)
        add_margin(t, r, 0.035);
}

static double tick_label_width(struct canvas *cv,
                               const struct layout *L,
                               const struct chart_ticks *t,
                               size_t i)
{
    char buf[64];

    chart_tick_label(t, i, buf, sizeof(buf));
    return cv_text_width(cv, L->tick_f, buf);
}

/* Places the x axis between left and at most right_max, keeping the first and last tick
 * labels (centred on the plot's edges) inside the picture. */
static void layout_x(struct canvas *cv,
                     struct layout *L,
                     const struct range *xr,
                     bool log,
                     double right_max)
{
    L->left = round(L->left);
    L->right = round(right_max);
    for (int pass = 0; pass < 3; pass++) {
        double first, last;

        fit_ticks(cv, L, xr, log, L->right - L->left, true, &L->xt, &L->xevery);
        first = tick_label_width(cv, L, &L->xt, 0) / 2;
        last = (L->xt.n - 1) % L->xevery == 0
                   ? tick_label_width(cv, L, &L->xt, L->xt.n - 1) / 2
                   : 0;
        if (L->left - first >= L->pad / 2 && L->right + last <= L->w - L->pad / 2)
            break;
        L->left = ceil(fmax(L->left, L->pad / 2 + first));
        L->right = floor(fmin(right_max, L->w - L->pad / 2 - last));
    }
}

/* Does the segment (x0,y0)-(x1,y1) meet the rectangle r = {x, y, w, h}?
 * (Liang-Barsky clipping) */
static bool seg_hits_rect(double x0, double y0, double x1, double y1, const double *r)
{
    double t0 = 0, t1 = 1, dx = x1 - x0, dy = y1 - y0;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {x0 - r[0], r[0] + r[2] - x0, y0 - r[1], r[1] + r[3] - y0};

    for (int i = 0; i < 4; i++) {
        double t;
        if (p[i] == 0) {
            if (q[i] < 0)
                return false;
            continue;
        }
        t = q[i] / p[i];
        if (p[i] < 0) {
            if (t > t1)
                return false;
            t0 = fmax(t0, t);
        } else {
            if (t < t0)
                return false;
            t1 = fmin(t1, t);
        }
    }
    return true;
}

/* How much data (points, line segments, error bars) a legend at rect r would cover or
 * nearly touch. */
static size_t
legend_cover(const struct chart *c, const struct layout *L, const double *at)
{
    double m = L->marker_r + L->gap / 2;
    double grown[4] = {at[0] - m, at[1] - m, at[2] + 2 * m, at[3] + 2 * m};
    double r[4] = {at[0] - L->gap / 2, at[1] - L->gap / 2, at[2] + L->gap,
                   at[3] + L->gap};
    size_t hits = 0;

    for (size_t k = 0; k < c->nseries; k++) {
        const struct series *s = &c->series[k];
        bool prev = false;
        double px = 0, py = 0;

        for (size_t i = 0; i < s->n; i++) {
            double x, y, lo, hi;
            if (!point_ok(c, s->x[i], s->y[i])) {
                prev = false;
                continue;
            }
            x = px_x(L, s->x[i]);
            y = px_y(L, s->y[i]);
            hits += seg_hits_rect(x, y, x, y, grown);
            if (prev && s->style != CHART_POINTS)
                hits += seg_hits_rect(px, py, x, y, r);
            if (errbar(c, s, i, &lo, &hi))
                hits += seg_hits_rect(x, px_y(L, lo), x, px_y(L, hi), r);
            prev = true;
            px = x;
            py = y;
        }
    }
    return hits;
}

/* Sizes the legend and puts it in the corner that covers the least data (upper right,
 * upper left, lower left, lower right on ties), or to the right of the plot when every
 * corner covers data and the plot can spare the width; one that fits nowhere is left
 * out. */
static void layout_legend(struct canvas *cv,
                          const struct chart *c,
                          struct layout *L,
                          const struct range *xr)
{
    double inset = 8 * L->s, maxname = 0, best[4] = {0};
    size_t best_hits = (size_t)-1;

    L->lpad = 7 * L->s;
    L->lrow = L->legend_f.size * 1.5;
    L->lsample = 28 * L->s;
    for (size_t k = 0; k < c->nseries; k++)
        if (L->names[k])
            maxname = fmax(maxname, cv_text_width(cv, L->legend_f, L->names[k]));
    L->lw = 2 * L->lpad + L->lsample + L->gap + maxname;
    L->lh = 2 * L->lpad + (double)L->nlegend * L->lrow;
    if (L->lw <= L->right - L->left - 2 * inset &&
        L->lh <= L->bottom - L->top - 2 * inset) {
        const double corners[4][2] = {
            {L->right - inset - L->lw, L->top + inset},
            {L->left + inset, L->top + inset},
            {L->left + inset, L->bottom - inset - L->lh},
            {L->right - inset - L->lw, L->bottom - inset - L->lh},
        };
        for (size_t i = 0; i < 4; i++) {
            double r[4] = {corners[i][0], corners[i][1], L->lw, L->lh};
            size_t hits = legend_cover(c, L, r);
            if (hits < best_hits) {
                best_hits = hits;
                memcpy(best, r, sizeof(best));
            }
        }
    }
    L->lx = best[0];
    L->ly = best[1];
    if (best_hits == 0)
        return;
    /* Outside, when the plot keeps most of its width and the legend fits the height. */
    double right = L->w - L->pad - L->cbtotal - L->lw - 2 * L->gap;
    if (right - L->left >= 0.55 * (L->right - L->left) &&
        L->top + L->lh <= L->h - L->pad) {
        layout_x(cv, L, xr, c->log[CHART_X], right);
        L->lx = L->w - L->pad - L->cbtotal - L->lw;
        L->ly = L->top;
    } else if (best_hits == (size_t)-1) {
        L->nlegend = 0; /* fits nowhere: a tiny picture goes without */
    }
}

/* Sizes the colour bar (bar, ticks, tick labels, vertical label) at the right edge. */
static void layout_colorbar(struct canvas *cv, const struct chart *c, struct layout *L)
{
    double maxw = 0;

    chart_ticks_compute(c->cbar.lo, c->cbar.hi, c->cbar.log, 6, &L->ct);
    for (size_t i = 0; i < L->ct.n; i++)
        maxw = fmax(maxw, tick_label_width(cv, L, &L->ct, i));
    L->cbw = 14 * L->s + L->ticklen + L->gap / 2 + maxw +
             (c->cbar.label ? L->gap + L->label_f.size : 0);
    L->cbtotal = L->cbw + 2 * L->gap;
    L->cbx = L->w - L->pad - L->cbw;
}

/* Offsets in x of the series with markers, so that the points and error bars of
 * series at the same x stand side by side: about one and a half marker widths apart,
 * centred on the true x. Fitted curves stay where they are. */
static void layout_dodge(const struct chart *c, struct layout *L)
{
    size_t m = 0, rank = 0;

    for (size_t k = 0; k < c->nseries; k++)
        m += !c->series[k].dashed && c->series[k].style != CHART_LINE;
    if (m < 2)
        return;
    L->dodge = xcalloc(c->nseries, sizeof(double));
    for (size_t k = 0; k < c->nseries; k++) {
        if (c->series[k].dashed || c->series[k].style == CHART_LINE)
            continue;
        L->dodge[k] = ((double)rank++ - (double)(m - 1) / 2) * 1.6 * L->marker_r;
    }
}

static void layout_compute(
    struct canvas *cv, const struct chart *c, double w, double h, struct layout *L)
{
    struct range xr = {0}, yr = {0};
    double s = fmin(w / 800, h / 500), ywidth = 0, below;

    s = s < 0.8 ? 0.8 : s > 4 ? 4 : s;
    L->w = w;
    L->h = h;
    L->s = s;
    L->title_f = (struct font){15 * s, true};
    L->label_f = (struct font){12.5 * s, false};
    L->tick_f = (struct font){11 * s, false};
    L->legend_f = (struct font){11 * s, false};
    L->pad = 12 * s;
    L->gap = 6 * s;
    L->ticklen = 5 * s;
    L->line_w = 1.8 * s;
    L->thin = fmax(1, round(s));
    L->marker_r = 3.3 * s;
    L->empty = data_ranges(c, &xr, &yr) == 0;
    for (size_t k = 0; k < c->nseries; k++)
        L->margin = L->margin || c->series[k].style != CHART_LINE || c->series[k].yerr;
    if (!xr.any)
        xr = c->log[CHART_X] ? (struct range){1, 10, true} : (struct range){0, 1, true};
    if (!yr.any)
        yr = c->log[CHART_Y] ? (struct range){1, 10, true} : (struct range){0, 1, true};

    /* Vertical: title, plot, tick labels, x label. */
    L->top = L->pad + (c->title ? L->title_f.size + 1.5 * L->gap : L->tick_f.size / 2);
    below = L->ticklen + L->gap / 2 + 0.75 * L->tick_f.size;
    below += c->label[CHART_X] ? L->gap + L->label_f.size : 0.25 * L->tick_f.size;
    L->top = round(L->top);
    L->bottom = round(h - L->pad - below);
    fit_ticks(cv, L, &yr, c->log[CHART_Y], L->bottom - L->top, false, &L->yt,
              &L->yevery);

    /* Horizontal: y label, tick labels, plot. */
    for (size_t i = 0; i < L->yt.n; i += L->yevery)
        ywidth = fmax(ywidth, tick_label_width(cv, L, &L->yt, i));
    L->left = L->pad + (c->label[CHART_Y] ? L->label_f.size + L->gap : 0) + ywidth +
              L->gap / 2 + L->ticklen;
    if (c->cbar.on)
        layout_colorbar(cv, c, L);
    layout_x(cv, L, &xr, c->log[CHART_X], w - L->pad - L->cbtotal);
    if (c->dodge)
        layout_dodge(c, L);

    L->names = xcalloc(c->nseries ? c->nseries : 1, sizeof(*L->names));
    for (size_t k = 0; k < c->nseries && !L->empty; k++) {
        const struct series *sr = &c->series[k];
        size_t i = 0;
        while (i < sr->n && !point_ok(c, sr->x[i], sr->y[i]))
            i++;
        if (!sr->name || i == sr->n)
            continue;
        L->names[k] = fit_text(cv, L->legend_f, sr->name, 0.45 * (L->right - L->left));
        L->nlegend++;
    }
    if (L->nlegend > 0)
        layout_legend(cv, c, L, &xr);

    if (c->title)
        L->title = fit_text(cv, L->title_f, c->title, w - 2 * L->pad);
    if (c->label[CHART_X])
        L->xlabel = fit_text(cv, L->label_f, c->label[CHART_X], w - 2 * L->pad);
    if (c->label[CHART_Y])
        L->ylabel = fit_text(cv, L->label_f, c->label[CHART_Y], L->bottom - L->top);
}

static void layout_fini(struct layout *L, size_t nseries)
{
    free(L->dodge);
    for (size_t k = 0; k < nseries; k++)
        free(L->names[k]);
    free(L->names);
    free(L->title);
    free(L->xlabel);
    free(L->ylabel);
}

/* ---- drawing ---- */

/* A coordinate on the pixel grid, so that thin lines stay sharp in PNG: a line of odd
 * width is centred on a pixel, one of even width on a pixel edge. */
static double crisp(const struct layout *L, double v)
{
    return (int)L->thin % 2 ? floor(v) + 0.5 : round(v);
}

/* Centre x of a text of width tw, as near to want as the picture's margins allow. */
static double clamp_centre(const struct layout *L, double want, double tw)
{
    double lo = L->pad + tw / 2, hi = L->w - L->pad - tw / 2;
    return lo > hi ? L->w / 2 : want < lo ? lo : want > hi ? hi : want;
}

static void draw_axes(struct canvas *cv, const struct layout *L)
{
    double grid_w = L->thin, digit_mid = 0.36 * L->tick_f.size;
    char buf[64];

    for (size_t i = 0; i < L->xt.n; i++) {
        double x = crisp(L, px_x(L, L->xt.v[i]));
        cv_line(cv, x, L->top, x, L->bottom, COLOR_GRID, grid_w);
    }
    for (size_t i = 0; i < L->yt.n; i++) {
        double y = crisp(L, px_y(L, L->yt.v[i]));
        cv_line(cv, L->left, y, L->right, y, COLOR_GRID, grid_w);
    }
    for (size_t i = 0; i < L->xt.n; i++) {
        double x = crisp(L, px_x(L, L->xt.v[i]));
        cv_line(cv, x, L->bottom, x, L->bottom + L->ticklen, COLOR_FRAME, grid_w);
        if (i % L->xevery)
            continue;
        chart_tick_label(&L->xt, i, buf, sizeof(buf));
        cv_text(cv, x, L->bottom + L->ticklen + L->gap / 2 + 0.75 * L->tick_f.size,
                ANCHOR_MIDDLE, false, L->tick_f, COLOR_TEXT, buf);
    }
    for (size_t i = 0; i < L->yt.n; i++) {
        double y = crisp(L, px_y(L, L->yt.v[i]));
        cv_line(cv, L->left - L->ticklen, y, L->left, y, COLOR_FRAME, grid_w);
        if (i % L->yevery)
            continue;
        chart_tick_label(&L->yt, i, buf, sizeof(buf));
        cv_text(cv, L->left - L->ticklen - L->gap / 2, y + digit_mid, ANCHOR_END, false,
                L->tick_f, COLOR_TEXT, buf);
    }
}

/* Short unlabelled ticks at 2..9 times each decade of a log axis labelled by decades,
 * when a decade is tall or wide enough for them. */
static void draw_minor_ticks(struct canvas *cv, const struct layout *L, bool xaxis)
{
    const struct chart_ticks *t = xaxis ? &L->xt : &L->yt;
    double len = xaxis ? L->right - L->left : L->bottom - L->top;
    double w = L->thin;

    if (!t->log || t->step != 1 || len / (double)(t->n - 1) < 40 * L->s)
        return;
    for (size_t i = 0; i + 1 < t->n; i++) {
        for (int m = 2; m <= 9; m++) {
            double v = t->v[i] * m;
            if (xaxis) {
                double x = crisp(L, px_x(L, v));
                cv_line(cv, x, L->bottom, x, L->bottom + L->ticklen * 0.6, COLOR_FRAME,
                        w);
            } else {
                double y = crisp(L, px_y(L, v));
                cv_line(cv, L->left - L->ticklen * 0.6, y, L->left, y, COLOR_FRAME, w);
            }
        }
    }
}

static void
draw_series(struct canvas *cv, const struct chart *c, const struct layout *L, size_t k)
{
    const struct series *s = &c->series[k];
    unsigned int rgb = s->rgb;
    double cap = 3.5 * L->s, *xy = xmalloc((s->n ? s->n : 1) * 2 * sizeof(double));
    double dx = L->dodge ? L->dodge[k] : 0;
    size_t run = 0;

    for (size_t i = 0; i < s->n; i++) {
        double lo, hi, x;
        if (!errbar(c, s, i, &lo, &hi))
            continue;
        x = px_x(L, s->x[i]) + dx;
        cv_line(cv, x, px_y(L, lo), x, px_y(L, hi), rgb, 1.2 * L->s);
        cv_line(cv, x - cap, px_y(L, hi), x + cap, px_y(L, hi), rgb, 1.2 * L->s);
        if (lo > 0 || !c->log[CHART_Y])
            cv_line(cv, x - cap, px_y(L, lo), x + cap, px_y(L, lo), rgb, 1.2 * L->s);
    }
    /* The line breaks at points that cannot be drawn. */
    for (size_t i = 0; i <= s->n && s->style != CHART_POINTS; i++) {
        if (i < s->n && point_ok(c, s->x[i], s->y[i])) {
            xy[2 * run] = px_x(L, s->x[i]) + dx;
            xy[2 * run + 1] = px_y(L, s->y[i]);
            run++;
            continue;
        }
        cv_polyline(cv, xy, run, rgb, s->dashed ? 0.8 * L->line_w : L->line_w,
                    s->dashed);
        run = 0;
    }
    for (size_t i = 0; i < s->n && s->style != CHART_LINE; i++)
        if (point_ok(c, s->x[i], s->y[i]))
            cv_marker(cv, s->shape, px_x(L, s->x[i]) + dx, px_y(L, s->y[i]),
                      L->marker_r, rgb);
    free(xy);
}

static void
draw_legend(struct canvas *cv, const struct chart *c, const struct layout *L)
{
    double y = L->ly + L->lpad + L->lrow / 2, x = L->lx + L->lpad;

    cv_rect(cv, L->lx, L->ly, L->lw, L->lh, 0xFFFFFF, 0.9, COLOR_LEGEND_EDGE, L->thin);
    for (size_t k = 0; k < c->nseries; k++) {
        const struct series *s = &c->series[k];
        if (!L->names[k])
            continue;
        if (s->style != CHART_POINTS) {
            double xy[4] = {x, y, x + L->lsample, y};
            cv_polyline(cv, xy, 2, s->rgb, s->dashed ? 0.8 * L->line_w : L->line_w,
                        s->dashed);
        }
        if (s->style != CHART_LINE)
            cv_marker(cv, s->shape, x + L->lsample / 2, y, L->marker_r, s->rgb);
        cv_text(cv, x + L->lsample + L->gap, y + 0.36 * L->legend_f.size, ANCHOR_START,
                false, L->legend_f, COLOR_TEXT, L->names[k]);
        y += L->lrow;
    }
}

/* The colour bar: a gradient of 64 bands from the bottom (lo) to the top (hi) of the
 * plot's height, ticks and labels to its right, the label beside them. */
static void
draw_colorbar(struct canvas *cv, const struct chart *c, const struct layout *L)
{
    const struct chart_ticks *t = &L->ct;
    double bw = 14 * L->s, top = L->top, h = L->bottom - L->top, x = L->cbx;
    double tx = x + bw, lmax = 0;
    char buf[64];
    enum { BANDS = 64 };

    for (int i = 0; i < BANDS; i++) {
        double y0 = top + h * (1 - (double)(i + 1) / BANDS);
        cv_rect(cv, x, y0, bw, h / BANDS + 0.5, viridis_at((i + 0.5) / BANDS), 1, 0, 0);
    }
    cv_rect(cv, crisp(L, x), crisp(L, top), round(bw), round(h), 0, 0, COLOR_FRAME,
            L->thin);
    for (size_t i = 0; i < t->n; i++) {
        double f = cbar_frac(&c->cbar, t->v[i]), y;
        if (f < -1e-9 || f > 1 + 1e-9)
            continue;
        y = crisp(L, top + h * (1 - f));
        cv_line(cv, tx, y, tx + L->ticklen, y, COLOR_FRAME, L->thin);
        chart_tick_label(t, i, buf, sizeof(buf));
        lmax = fmax(lmax, cv_text_width(cv, L->tick_f, buf));
        cv_text(cv, tx + L->ticklen + L->gap / 2, y + 0.36 * L->tick_f.size,
                ANCHOR_START, false, L->tick_f, COLOR_TEXT, buf);
    }
    if (c->cbar.label)
        cv_text(
            cv, tx + L->ticklen + L->gap / 2 + lmax + L->gap + 0.78 * L->label_f.size,
            top + h / 2, ANCHOR_MIDDLE, true, L->label_f, COLOR_TEXT, c->cbar.label);
}

static void draw_chart(struct canvas *cv, const struct chart *c, const struct layout *L)
{
    double frame_w = L->thin;
    double pcx = (L->left + L->right) / 2;

    cv_rect(cv, 0, 0, L->w, L->h, 0xFFFFFF, 1, 0, 0);
    draw_axes(cv, L);
    draw_minor_ticks(cv, L, true);
    draw_minor_ticks(cv, L, false);
    /* Data over the frame, so that points on the axis ends stay whole. */
    cv_rect(cv, crisp(L, L->left), crisp(L, L->top),
            crisp(L, L->right) - crisp(L, L->left),
            crisp(L, L->bottom) - crisp(L, L->top), 0, 0, COLOR_FRAME, frame_w);
    for (size_t k = 0; k < c->nseries; k++)
        draw_series(cv, c, L, k);
    if (L->empty)
        cv_text(cv, pcx, (L->top + L->bottom) / 2 + 0.36 * L->label_f.size,
                ANCHOR_MIDDLE, false, L->label_f, COLOR_NODATA, "no data");
    if (L->nlegend > 0)
        draw_legend(cv, c, L);
    if (L->cbw > 0)
        draw_colorbar(cv, c, L);
    if (L->title) {
        double tw = cv_text_width(cv, L->title_f, L->title);
        cv_text(cv, clamp_centre(L, pcx, tw), L->pad + 0.75 * L->title_f.size,
                ANCHOR_MIDDLE, false, L->title_f, COLOR_TEXT, L->title);
    }
    if (L->xlabel) {
        double tw = cv_text_width(cv, L->label_f, L->xlabel);
        cv_text(cv, clamp_centre(L, pcx, tw), L->h - L->pad - 0.22 * L->label_f.size,
                ANCHOR_MIDDLE, false, L->label_f, COLOR_TEXT, L->xlabel);
    }
    if (L->ylabel)
        cv_text(cv, L->pad + 0.78 * L->label_f.size, (L->top + L->bottom) / 2,
                ANCHOR_MIDDLE, true, L->label_f, COLOR_TEXT, L->ylabel);
}

/* ---- output ---- */

static cairo_status_t
write_stream(void *closure, const unsigned char *data, unsigned int n)
{
    return fwrite(data, 1, n, closure) == n ? CAIRO_STATUS_SUCCESS
                                            : CAIRO_STATUS_WRITE_ERROR;
}

/* Unhinted metrics, so that text measures the same on every surface. */
static void set_font_options(cairo_t *cr)
{
    cairo_font_options_t *fo = cairo_font_options_create();

    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
}

static void
draw_svg_document(struct canvas *cv, const struct chart *c, const struct layout *L)
{
    fprintf(cv->svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "
                     "xmlns=\"http://www.w3.org/2000/svg\"");
    svg_attr(cv->svg, "width", L->w);
    svg_attr(cv->svg, "height", L->h);
    fprintf(cv->svg, " viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\">\n", L->w, L->h,
            SVG_FONTS);
    if (c->title) {
        fputs("<title>", cv->svg);
        svg_escaped(cv->svg, c->title);
        fputs("</title>\n", cv->svg);
    }
    draw_chart(cv, c, L);
    fputs("</svg>\n", cv->svg);
}

/* Draws the chart into f in the given format; returns a cairo status. */
static cairo_status_t
render_to(const struct chart *c, enum text_format fmt, int width, int height, FILE *f)
{
    cairo_surface_t *surface;
    struct canvas cv = {0};
    struct layout L = {0};
    cairo_status_t st;

    if (fmt == FORMAT_PDF) {
        surface = cairo_pdf_surface_create_for_stream(write_stream, f, width, height);
        if (c->title)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, c->title);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "sweep");
    } else {
        /* SVG measures text on a tiny image surface. */
        surface = fmt == FORMAT_PNG
                      ? cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)
                      : cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    }
    cv.cr = cairo_create(surface);
    cv.svg = fmt == FORMAT_SVG ? f : NULL;
    set_font_options(cv.cr);
    layout_compute(&cv, c, width, height, &L);
    if (cv.svg)
        draw_svg_document(&cv, c, &L);
    else
        draw_chart(&cv, c, &L);
    layout_fini(&L, c->nseries);
    st = cairo_status(cv.cr);
    cairo_destroy(cv.cr);
    if (st == CAIRO_STATUS_SUCCESS && fmt == FORMAT_PNG)
        st = cairo_surface_write_to_png_stream(surface, write_stream, f);
    cairo_surface_finish(surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    return st;
}

int chart_check_path(const char *path, struct err *err)
{
    enum text_format fmt;

    return text_format_of(path, &fmt, err);
}

int chart_render(
    const struct chart *chart, const char *path, int width, int height, struct err *err)
{
    enum text_format fmt;
    cairo_status_t st;
    char *tmp = NULL;
    FILE *f = NULL;
    int fd, rc = SWEEP_OK;

    if (text_format_of(path, &fmt, err))
        return SWEEP_EINVAL;
    if (width < CHART_MIN_SIZE || width > CHART_MAX_SIZE || height < CHART_MIN_SIZE ||
        height > CHART_MAX_SIZE)
        return err_set(
            err, SWEEP_EINVAL,
            "%s: size %dx%d is out of range; width and height must be %d to %d", path,
            width, height, CHART_MIN_SIZE, CHART_MAX_SIZE);
    tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = err_set(err, SWEEP_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    f = fdopen(fd, "w");
    if (!f) {
        rc = err_set(err, SWEEP_EIO, "%s: %s", path, strerror(errno));
        close(fd);
        goto out_unlink;
    }
    st = render_to(chart, fmt, width, height, f);
    if (ferror(f) || st == CAIRO_STATUS_WRITE_ERROR) {
        rc = err_set(err, SWEEP_EIO, "%s: write failed", path);
        goto out_close;
    }
    if (st != CAIRO_STATUS_SUCCESS) {
        rc = err_set(err, SWEEP_EINTERNAL, "%s: cairo: %s", path,
                     cairo_status_to_string(st));
        goto out_close;
    }
    if (fclose(f) != 0) {
        f = NULL;
        rc = err_set(err, SWEEP_EIO, "%s: %s", path, strerror(errno));
        goto out_unlink;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        rc = err_set(err, SWEEP_EIO, "%s: %s", path, strerror(errno));
        goto out_unlink;
    }
    goto out;
out_close:
    fclose(f);
out_unlink:
    unlink(tmp);
out:
    free(tmp);
    return rc;
}

int chart_render_mem(const struct chart *chart,
                     const char *format,
                     int width,
                     int height,
                     char **out,
                     size_t *len,
                     struct err *err)
{
    enum text_format fmt;
    char name[16];
    cairo_status_t st;
    FILE *f;
    int rc = SWEEP_OK;

    *out = NULL;
    *len = 0;
    snprintf(name, sizeof(name), "chart.%s", format);
    if (strlen(format) > 4 || text_format_of(name, &fmt, err))
        return err_set(err, SWEEP_EINVAL,
                       "format: expected png, svg or pdf, got \"%s\"", format);
    if (width < CHART_MIN_SIZE || width > CHART_MAX_SIZE || height < CHART_MIN_SIZE ||
        height > CHART_MAX_SIZE)
        return err_set(err, SWEEP_EINVAL,
                       "size %dx%d is out of range; width and height must be %d to %d",
                       width, height, CHART_MIN_SIZE, CHART_MAX_SIZE);
    f = open_memstream(out, len);
    if (!f)
        return err_set(err, SWEEP_EIO, "open_memstream: %s", strerror(errno));
    st = render_to(chart, fmt, width, height, f);
    if (ferror(f) || st == CAIRO_STATUS_WRITE_ERROR)
        rc = err_set(err, SWEEP_EIO, "chart: write to memory failed");
    else if (st != CAIRO_STATUS_SUCCESS)
        rc = err_set(err, SWEEP_EINTERNAL, "chart: cairo: %s",
                     cairo_status_to_string(st));
    fclose(f);
    if (rc) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return rc;
}
