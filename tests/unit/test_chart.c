/* Unit tests of src/report/chart.c: nice ticks and their labels (tables of ranges and
 * expected labels, linear and log), deterministic SVG with its texts, PNG/SVG/PDF magic
 * bytes, every error of chart_render, skipping of points that cannot be drawn, the
 * empty chart, the legend's placement, text hygiene, and fitted lines, dodged series,
 * the margin inside the frame and the colour bar. With SWEEP_BIN set (ctest sets
 * it), also drives `sweep chart` on CSV files: quoting, naming, and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/xalloc.h"
#include "report/chart.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ---- */

struct fixture {
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/sweep-test-chart-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static char *path_in(const struct fixture *f, const char *name)
{
    return xasprintf("%s/%s", f->dir, name);
}

/* The whole file, NUL-terminated; *len its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *in = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(in);
    assert_int_equal(fseek(in, 0, SEEK_END), 0);
    n = ftell(in);
    assert_true(n >= 0);
    rewind(in);
    buf = xmalloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, in), (size_t)n);
    buf[n] = '\0';
    fclose(in);
    if (len)
        *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *out = fopen(path, "wb");

    assert_non_null(out);
    assert_int_equal(fwrite(text, 1, strlen(text), out), strlen(text));
    assert_int_equal(fclose(out), 0);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The number in attribute name="..." of the first element that contains marker. */
static double attr_of(const char *svg, const char *marker, const char *name)
{
    const char *m = strstr(svg, marker), *start, *a;
    char key[64];

    assert_non_null(m);
    start = m;
    while (start > svg && *start != '<')
        start--;
    snprintf(key, sizeof(key), " %s=\"", name);
    a = strstr(start, key);
    assert_non_null(a);
    return strtod(a + strlen(key), NULL);
}

/* A small chart: two named series, one with error bars. */
static struct chart *small_chart(void)
{
    static const double x[] = {0, 1, 2, 3, 4}, y1[] = {1, 3, 2, 5, 4},
                        y2[] = {0.5, 1, 1.5, 2, 2.5}, e[] = {0.2, 0.3, 0.2, 0.4, 0.1};
    struct chart *c = chart_create("Energy <drift> & decay");

    chart_set_label(c, CHART_X, "time (s)");
    chart_set_label(c, CHART_Y, "energy (J)");
    chart_add_series(c, "run-a: energy", 5, x, y1, NULL, CHART_LINE);
    chart_add_series(c, "run-b: energy", 5, x, y2, e, CHART_LINE_POINTS);
    return c;
}

/* ---- ticks ---- */

static char *tick_labels(double lo, double hi, bool log, int max)
{
    struct chart_ticks t;
    char *out = xstrdup(""), buf[64];

    chart_ticks_compute(lo, hi, log, max, &t);
    for (size_t i = 0; i < t.n; i++) {
        char *next;
        chart_tick_label(&t, i, buf, sizeof(buf));
        next = xasprintf("%s%s%s", out, i ? " " : "", buf);
        free(out);
        out = next;
    }
    return out;
}

static void test_ticks_table(void **state)
{
    static const struct {
        double lo, hi;
        bool log;
        int max;
        const char *want;
    } cases[] = {
        /* linear: steps of 1, 2 or 5 times a power of ten, range widened to ticks */
        {0, 1, false, 6, "0 0.2 0.4 0.6 0.8 1"},
        {0, 10, false, 6, "0 2 4 6 8 10"},
        {0.3, 2.7, false, 6, "0 1 2 3"},
        {-3, 7, false, 6, "-5 0 5 10"},
        {1000, 1010, false, 6, "1000 1002 1004 1006 1008 1010"},
        {-0.1, 0.1, false, 6, "-0.1 -0.05 0 0.05 0.1"},
        {0.1, 0.7, false, 7, "0.1 0.2 0.3 0.4 0.5 0.6 0.7"},
        {0, 2.5, false, 6, "0 0.5 1 1.5 2 2.5"},
        {0, 2e6, false, 5, "0 5e+05 1e+06 1.5e+06 2e+06"},
        {0, 5e-5, false, 6, "0 1e-05 2e-05 3e-05 4e-05 5e-05"},
        {0, 1.2e-4, false, 7, "0 2e-05 4e-05 6e-05 8e-05 1e-04 1.2e-04"},
        /* empty, unusable and clamped ranges */
        {5, 5, false, 6, "4.5 5 5.5"},
        {0, 0, false, 6, "-1 -0.5 0 0.5 1"},
        {NAN, 1, false, 6, "0 0.2 0.4 0.6 0.8 1"},
        {0, INFINITY, false, 6, "0 0.2 0.4 0.6 0.8 1"},
        {0, 10, false, 0, "0 10"},
        /* log: 1-2-5 within decades when they fit, else decades */
        {1, 1000, true, 6, "1 10 100 1000"},
        {1, 1000, true, 10, "1 2 5 10 20 50 100 200 500 1000"},
        {0.01, 1, true, 8, "0.01 0.02 0.05 0.1 0.2 0.5 1"},
        {150, 400, true, 8, "100 200 500"},
        {3, 30, true, 8, "2 5 10 20 50"},
        {1e-5, 1e5, true, 11, "1e-05 0.0001 0.001 0.01 0.1 1 10 100 1000 10000 100000"},
        {1e-5, 1e5, true, 6, "1e-06 0.001 1 1000 1e+06"},
        {1, 1e300, true, 6, "1 1e+100 1e+200 1e+300"},
        {100, 100, true, 8, "20 50 100 200 500"},
        {-1, 10, true, 8, "1 2 5 10"},
        {0, 0, true, 8, "1 2 5 10"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = tick_labels(cases[i].lo, cases[i].hi, cases[i].log, cases[i].max);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu [%g, %g]%s: got \"%s\", want \"%s\"", i, cases[i].lo,
                     cases[i].hi, cases[i].log ? " log" : "", got, cases[i].want);
        free(got);
    }
}

static void test_ticks_cover_range(void **state)
{
    static const double ranges[][2] = {
        {0.013, 0.987}, {-7.3, 1e3},      {1e-9, 3e-9},    {42, 42.5},
        {-1e6, -999.9}, {0.5, 7e7},       {-1e300, 1e300}, {1e-300, 1e300},
        {1e299, 1e300}, {1e-300, 1e-299}, {1, 1 + 1e-15},  {-5e-324, 5e-324}};
    (void)state;

    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        for (int log = 0; log <= 1; log++) {
            for (int max = 2; max <= 12; max++) {
                struct chart_ticks t;
                double lo = ranges[i][0], hi = ranges[i][1];
                if (log && lo <= 0)
                    continue;
                chart_ticks_compute(lo, hi, log, max, &t);
                assert_true(t.n >= 2 && t.n <= (size_t)max);
                assert_true(t.lo <= lo * (1 + 1e-9) || t.lo <= lo);
                assert_true(t.hi >= hi * (1 - 1e-9) || t.hi >= hi);
                for (size_t k = 0; k < t.n; k++)
                    assert_true(isfinite(t.v[k]) && (!log || t.v[k] > 0));
                for (size_t k = 1; k < t.n; k++)
                    assert_true(t.v[k] > t.v[k - 1]);
            }
        }
    }
}

static void test_tick_label_table(void **state)
{
    static const struct {
        bool log;
        double step, hi, v;
        const char *want;
    } cases[] = {
        {false, 0.1, 1, 0.1 + 0.2, "0.3"},
        {false, 0.5, 3, 2.5, "2.5"},
        {false, 1000, 5000, 1000, "1000"},
        {false, 0.01, 0.05, 0.01, "0.01"},
        {false, 1e-5, 5e-5, 1e-5, "1e-05"},
        {false, 2e5, 2e6, 1.2e6, "1.2e+06"},
        {false, 1, 5, -3, "-3"},
        {false, 0.5, 1, -0.0, "0"},
        {false, 0.0001, 0.001, 0.0003, "0.0003"},
        {false, 1, 1000010, 1000003, "1.000003e+06"},
        {true, 1, 1e6, 1e-5, "1e-05"},
        {true, 1, 1e6, 1000, "1000"},
        {true, 0, 1, 0.02, "0.02"},
        {true, 1, 1e6, 1e5, "100000"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct chart_ticks t = {.log = cases[i].log,
                                .lo = 0,
                                .hi = cases[i].hi,
                                .step = cases[i].step,
                                .n = 1,
                                .v = {cases[i].v}};
        char buf[64];
        chart_tick_label(&t, 0, buf, sizeof(buf));
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf, cases[i].want);
    }
}

/* ---- rendering ---- */

static void test_svg_deterministic(void **state)
{
    struct fixture *f = *state;
    struct chart *c = small_chart();
    char *p1 = path_in(f, "a.svg"), *p2 = path_in(f, "b.svg"), *s1, *s2;
    struct err err = {0};
    size_t n1, n2;

    assert_int_equal(chart_render(c, p1, 800, 500, &err), SWEEP_OK);
    assert_int_equal(chart_render(c, p2, 800, 500, &err), SWEEP_OK);
    s1 = slurp(p1, &n1);
    s2 = slurp(p2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(s1, s2, n1);
    /* Real text, escaped. */
    assert_non_null(strstr(s1, ">Energy &lt;drift&gt; &amp; decay</text>"));
    assert_non_null(strstr(s1, "<title>Energy &lt;drift&gt; &amp; decay</title>"));
    assert_non_null(strstr(s1, ">time (s)</text>"));
    assert_non_null(strstr(s1, ">energy (J)</text>"));
    assert_non_null(strstr(s1, ">run-a: energy</text>"));
    assert_non_null(strstr(s1, ">run-b: energy</text>"));
    assert_non_null(strstr(s1, "rotate(-90")); /* the y label */
    /* Okabe-Ito colours, in order. */
    assert_non_null(strstr(s1, "stroke=\"#0072b2\""));
    assert_non_null(strstr(s1, "fill=\"#d55e00\""));
    assert_null(strstr(s1, "no data"));
    free(s1);
    free(s2);
    free(p1);
    free(p2);
    chart_destroy(c);
}

static void test_formats_magic(void **state)
{
    static const struct {
        const char *name;
        const char *magic;
        size_t len;
    } cases[] = {
        {"c.png", "\x89PNG\r\n\x1a\n", 8},
        {"c.PNG", "\x89PNG\r\n\x1a\n", 8},
        {"c.svg", "<?xml", 5},
        {"c.pdf", "%PDF-", 5},
        {"c.Pdf", "%PDF-", 5},
    };
    struct fixture *f = *state;
    struct chart *c = small_chart();
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = path_in(f, cases[i].name), *data;
        struct err err = {0};
        size_t len;

        assert_int_equal(chart_render(c, p, 640, 400, &err), SWEEP_OK);
        data = slurp(p, &len);
        assert_true(len > 1000);
        assert_memory_equal(data, cases[i].magic, cases[i].len);
        free(data);
        free(p);
    }
    chart_destroy(c);
}

static void test_render_errors(void **state)
{
    static const struct {
        const char *name; /* in the fixture directory */
        int w, h;
        int code;
        const char *want; /* in the message */
    } cases[] = {
        {"c.gif", 800, 500, SWEEP_EINVAL, "c.gif: unknown image format"},
        {"c", 800, 500, SWEEP_EINVAL, ".png, .svg or .pdf"},
        {"dir.png/c", 800, 500, SWEEP_EINVAL, "unknown image format"},
        {"c.png", 100, 500, SWEEP_EINVAL, "size 100x500 is out of range"},
        {"c.svg", 800, 9000, SWEEP_EINVAL, "must be 120 to 8192"},
        {"missing/c.png", 800, 500, SWEEP_EIO, "missing/c.png: No such file"},
    };
    struct fixture *f = *state;
    struct chart *c = small_chart();
    DIR *d;
    struct dirent *e;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = path_in(f, cases[i].name);
        struct err err = {0};

        assert_int_equal(chart_render(c, p, cases[i].w, cases[i].h, &err),
                         cases[i].code);
        assert_int_equal(err.code, cases[i].code);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        assert_int_equal(access(p, F_OK), -1);
        free(p);
    }
    assert_int_equal(chart_check_path("x.svg", NULL), SWEEP_OK);
    assert_int_equal(chart_check_path("x.jpeg", NULL), SWEEP_EINVAL);
    /* Nothing was left behind, not even a temporary file. */
    d = opendir(f->dir);
    assert_non_null(d);
    while ((e = readdir(d)))
        assert_true(e->d_name[0] == '.');
    closedir(d);
    chart_destroy(c);
}

static void test_skips_undrawable_points(void **state)
{
    static const double x[] = {1, 2, NAN, 4, INFINITY, 6, 7, -1},
                        y[] = {1, -2, 3, 0, 5, 6, NAN, 8};
    struct fixture *f = *state;
    char *p = path_in(f, "s.svg"), *svg;
    struct err err = {0};
    struct chart *c = chart_create(NULL);

    /* Linear: points 0, 1, 3, 5, 7 can be drawn; a circle each, and one in the legend.
     */
    chart_add_series(c, "s", 8, x, y, NULL, CHART_POINTS);
    assert_int_equal(chart_render(c, p, 400, 300, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_int_equal(count(svg, "<circle"), 5 + 1);
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    free(svg);

    /* Log y: -2 and 0 go too; log x: -1 goes too. */
    chart_set_log(c, CHART_Y, true);
    assert_int_equal(chart_render(c, p, 400, 300, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_int_equal(count(svg, "<circle"), 3 + 1);
    free(svg);
    chart_set_log(c, CHART_X, true);
    assert_int_equal(chart_render(c, p, 400, 300, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_int_equal(count(svg, "<circle"), 2 + 1);
    assert_null(strstr(svg, ">0</text>"));
    assert_null(strstr(svg, ">-"));
    free(svg);
    chart_destroy(c);

    /* Values too large for the pixel arithmetic count as infinite. */
    c = chart_create(NULL);
    chart_add_series(c, "huge", 3, (double[]){1, 2, 3}, (double[]){1e308, -1e308, 1},
                     (double[]){1e308, 1, 1e308}, CHART_LINE_POINTS);
    assert_int_equal(chart_render(c, p, 400, 300, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_int_equal(count(svg, "<circle"), 1 + 1);
    assert_null(strstr(svg, "nan"));
    free(svg);
    chart_destroy(c);

    /* A line breaks at a missing point: two polylines. */
    c = chart_create(NULL);
    chart_add_series(c, NULL, 8, (double[]){1, 2, 3, 4, 5, 6, 7, 8},
                     (double[]){1, 2, NAN, 4, 5, 6, 7, 8}, NULL, CHART_LINE);
    assert_int_equal(chart_render(c, p, 400, 300, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_int_equal(count(svg, "<polyline"), 2);
    free(svg);
    chart_destroy(c);
    free(p);
}

static void test_empty_chart(void **state)
{
    static const double x[] = {NAN, 1}, y[] = {1, -1};
    struct fixture *f = *state;
    char *p = path_in(f, "e.svg"), *png = path_in(f, "e.png"), *svg;
    struct err err = {0};
    struct chart *c = chart_create("Empty");

    /* No series at all. */
    assert_int_equal(chart_render(c, p, 400, 300, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_non_null(strstr(svg, ">no data</text>"));
    assert_non_null(strstr(svg, ">0</text>"));
    assert_non_null(strstr(svg, ">1</text>"));
    free(svg);

    /* Series with nothing drawable, on log y: axes 1..10, no legend entry. */
    chart_set_log(c, CHART_Y, true);
    chart_add_series(c, "ghost", 2, x, y, NULL, CHART_LINE_POINTS);
    chart_add_series(c, "none", 0, NULL, NULL, NULL, CHART_LINE);
    assert_int_equal(chart_render(c, p, 400, 300, &err), SWEEP_OK);
    assert_int_equal(chart_render(c, png, 400, 300, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_non_null(strstr(svg, ">no data</text>"));
    assert_non_null(strstr(svg, ">10</text>"));
    assert_null(strstr(svg, "ghost"));
    assert_int_equal(count(svg, "<circle"), 0);
    free(svg);
    chart_destroy(c);
    free(p);
    free(png);
}

/* Data crowding the upper right sends the legend elsewhere; data in every corner sends
 * it beside the plot. */
static void test_legend_placement(void **state)
{
    struct fixture *f = *state;
    char *p = path_in(f, "l.svg"), *svg;
    struct err err = {0};
    double x[40], y[40], frame_x, frame_w, legend_x, legend_y;
    struct chart *c = chart_create(NULL);

    for (int i = 0; i < 40; i++) {
        x[i] = 8 + (i % 10) * 2 / 9.0; /* a cloud filling the upper right */
        y[i] = 9 + (i / 10) / 3.0;
    }
    x[0] = 0;
    y[0] = 0;
    chart_add_series(c, "cloud", 40, x, y, NULL, CHART_POINTS);
    assert_int_equal(chart_render(c, p, 600, 400, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    legend_x = attr_of(svg, "fill-opacity=", "x");
    legend_y = attr_of(svg, "fill-opacity=", "y");
    frame_x = attr_of(svg, "fill=\"none\" stroke=\"#444444\"", "x");
    frame_w = attr_of(svg, "fill=\"none\" stroke=\"#444444\"", "width");
    assert_true(legend_x < frame_x + frame_w / 2); /* upper left */
    assert_true(legend_y < 200);
    free(svg);
    chart_destroy(c);

    /* A diagonal cross through every corner: the legend goes outside. */
    c = chart_create(NULL);
    chart_add_series(c, "up", 2, (double[]){0, 1}, (double[]){0, 1}, NULL, CHART_LINE);
    chart_add_series(c, "down", 2, (double[]){0, 1}, (double[]){1, 0}, NULL,
                     CHART_LINE);
    assert_int_equal(chart_render(c, p, 600, 400, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    legend_x = attr_of(svg, "fill-opacity=", "x");
    frame_x = attr_of(svg, "fill=\"none\" stroke=\"#444444\"", "x");
    frame_w = attr_of(svg, "fill=\"none\" stroke=\"#444444\"", "width");
    assert_true(legend_x > frame_x + frame_w);
    free(svg);
    chart_destroy(c);
    free(p);
}

/* Item 15/16/26 of issue 9: a fitted power law is a dashed line in its series' colour
 * (and does not use up a palette colour), series with markers at one x stand apart
 * (dodge), the outer points keep off the frame (margin), and series coloured by a
 * value take the viridis ends at the ends of the colour bar. */
static void test_fit_dodge_margin_colorbar(void **state)
{
    struct fixture *f = *state;
    char *p = path_in(f, "fit.svg"), *svg;
    struct err err = {0};
    static const double x[] = {1, 2, 4}, y1[] = {1, 4, 16}, y2[] = {2, 8, 32};
    static const double e[] = {0.1, 0.2, 0.4};
    double frame_x, cx0, cx1;
    struct chart *c = chart_create(NULL);

    chart_set_log(c, CHART_X, true);
    chart_set_log(c, CHART_Y, true);
    chart_set_dodge(c, true);
    chart_add_series(c, "a", 3, x, y1, e, CHART_POINTS);
    chart_add_power_fit(c, "a fit", 1, 2, 1, 4);
    chart_add_series(c, "b", 3, x, y2, e, CHART_POINTS);
    assert_int_equal(chart_render(c, p, 600, 400, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    /* The fit in the plot and in the legend; the colour of "a"; "b" keeps the second
     * palette colour and the second marker shape (a square polygon). */
    assert_int_equal(count(svg, "stroke-dasharray"), 2);
    assert_non_null(strstr(svg, "<polyline fill=\"none\" stroke-linejoin=\"round\" "
                                "stroke-linecap=\"round\" stroke=\"#0072b2\""));
    assert_non_null(strstr(svg, "fill=\"#d55e00\""));
    assert_non_null(strstr(svg, ">a fit<"));
    frame_x = attr_of(svg, "fill=\"none\" stroke=\"#444444\"", "x");
    cx0 = attr_of(svg, "<circle", "cx");
    assert_true(cx0 - frame_x > 5); /* not on the frame */
    /* The first error bar of each series: vertical lines at different x. */
    cx1 = attr_of(svg, "stroke=\"#d55e00\"", "x1");
    assert_true(fabs(attr_of(svg, "stroke=\"#0072b2\"", "x1") - cx1) > 3);
    free(svg);
    chart_destroy(c);

    c = chart_create(NULL);
    chart_set_colorbar(c, "Re", 1, 100, true);
    chart_add_series(c, NULL, 3, x, y1, NULL, CHART_LINE);
    chart_series_value(c, 1);
    chart_add_series(c, NULL, 3, x, y2, NULL, CHART_LINE);
    chart_series_value(c, 100);
    assert_int_equal(chart_render(c, p, 600, 400, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_non_null(strstr(svg, "stroke=\"#440154\""));
    assert_non_null(strstr(svg, "stroke=\"#fde725\""));
    assert_non_null(strstr(svg, ">Re<"));
    assert_non_null(strstr(svg, ">10<"));
    free(svg);
    chart_destroy(c);
    free(p);
}

static void test_text_hygiene(void **state)
{
    struct fixture *f = *state;
    char *p = path_in(f, "t.svg"), *pdf = path_in(f, "t.pdf"),
         *png = path_in(f, "t.png");
    char *svg, long_name[600];
    struct err err = {0};
    struct chart *c = chart_create("bad \xff\xfe utf8 \x01 and caf\xc3\xa9");

    memset(long_name, 'w', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    chart_set_label(c, CHART_X, "\xc3");
    chart_add_series(c, long_name, 2, (double[]){1, 2}, (double[]){1, 2}, NULL,
                     CHART_LINE);
    /* Invalid UTF-8 would put cairo in an error state; it is replaced instead. */
    assert_int_equal(chart_render(c, png, 400, 300, &err), SWEEP_OK);
    assert_int_equal(chart_render(c, pdf, 400, 300, &err), SWEEP_OK);
    assert_int_equal(chart_render(c, p, 400, 300, &err), SWEEP_OK);
    svg = slurp(p, NULL);
    assert_non_null(strstr(svg, ">bad ?? utf8   and caf\xc3\xa9</text>"));
    assert_non_null(strstr(svg, ">?</text>"));
    /* A name too long for the plot ends in an ellipsis. */
    assert_non_null(strstr(svg, "www\xe2\x80\xa6</text>"));
    assert_null(strstr(svg, long_name));
    free(svg);
    chart_destroy(c);
    free(p);
    free(pdf);
    free(png);
}

/* ---- sweep chart ---- */

/* Runs $SWEEP_BIN chart with args (NULL-terminated) in dir; stderr into *errtext.
 * Returns the exit code. */
static int run_chart(const char *dir, const char *const *args, char **errtext)
{
    const char *bin = getenv("SWEEP_BIN");
    char *errpath = xasprintf("%s/stderr.txt", dir);
    const char *argv[32] = {bin, "chart"};
    size_t n = 2;
    int status = -1;
    pid_t pid;

    while (*args && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0 || chdir(dir) < 0 || dup2(null, 1) < 0 ||
            dup2(fd, 2) < 0)
            _exit(126);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    *errtext = slurp(errpath, NULL);
    unlink(errpath);
    free(errpath);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_cli(void **state)
{
    static const struct {
        const char *args[12];
        int code;
        const char *want_err; /* in stderr; NULL: must be empty */
        const char *out;      /* a file that must exist afterwards */
    } cases[] = {
        {{"run.csv", "--x", "t", "--y", "energy", "-o", "a.png"},
         0,
         "run.csv: skipped 2 empty or non-numeric cells in column \"energy\" (the "
         "first "
         "on line 4)",
         "a.png"},
        {{"run.csv", "--x", "t", "--y", "energy"}, 0, "skipped 2", "chart.png"},
        {{"run.csv", "--x", "t", "--y", "energy", "--logy", "--title", "T", "--xlabel",
          "time (s)", "-o", "b.pdf"},
         0,
         "skipped",
         "b.pdf"},
        {{"run.csv", "--x", "t", "--y", "energy2,note", "-o", "c.svg"},
         0,
         "\"note\"",
         "c.svg"},
        {{"run.csv", "--x", "t", "--y", "energy3"},
         2,
         "run.csv:1: no column \"energy3\"; columns are: t, energy, energy2, note",
         NULL},
        {{"run.csv", "--x", "time", "--y", "energy"}, 2, "no column \"time\"", NULL},
        {{"open.csv", "--x", "a", "--y", "b"},
         2,
         "open.csv:3:3: quoted field is never closed",
         NULL},
        {{"after.csv", "--x", "a", "--y", "b"},
         2,
         "after.csv:2:6: unexpected character after a closing quote",
         NULL},
        {{"empty.csv", "--x", "a", "--y", "b"}, 2, "empty.csv: empty file", NULL},
        {{"blank.csv", "--x", "t", "--y", "y"},
         2,
         "blank.csv:3: no column \"y\"; columns are: t, x",
         NULL},
        {{"nope.csv", "--x", "a", "--y", "b"}, 2, "nope.csv: No such file", NULL},
        {{"run.csv", "--x", "t", "--y", "energy", "-o", "x.gif"},
         2,
         "x.gif: unknown image format",
         NULL},
        {{"run.csv", "--x", "t", "--y", "energy", "--label", "a", "--label", "b"},
         2,
         "--label given 2 times for 1 series",
         NULL},
        {{"run.csv", "--x", "t", "--y", "energy", "--yerr", "a,b"},
         2,
         "--yerr names 2 columns but --y names 1",
         NULL},
        {{"run.csv", "--x", "t"}, 2, "--y COLUMN", NULL},
        {{"--x", "t", "--y", "energy"}, 2, "at least one CSV file", NULL},
        {{"run.csv", "--x", "t", "--y", "energy", "--width", "12"},
         2,
         "--width: expected an integer from 120 to 8192",
         NULL},
        {{"run.csv", "--x", "t", "--y", "energy", "--style", "bars"},
         2,
         "--style",
         NULL},
        {{"run.csv", "--x", "t", "--y", "energy", "-o", "no/dir.png"},
         3,
         "no/dir.png",
         NULL},
    };
    struct fixture *f = *state;
    const char *bin = getenv("SWEEP_BIN");
    char *p;

    if (!bin || !*bin)
        skip();
    /* A BOM, CRLF, quoting with commas, quotes and a line break, blanks around quotes,
     * an empty cell, a non-numeric cell, a blank line, a short row. */
    p = path_in(f, "run.csv");
    spit(p, "\xEF\xBB\xBFt,energy, \"energy2\" ,note\r\n"
            "0,1.5,2,\"a, \"\"quoted\"\"\r\nnote\"\r\n"
            "1,,3,x\r\n"
            "\r\n"
            "2,abc,4,y\n"
            "3,2.5\n"
            "4,3,5,z\n");
    free(p);
    p = path_in(f, "open.csv");
    spit(p, "a,b\n1,2\n3,\"4\n5,6\n");
    free(p);
    p = path_in(f, "after.csv");
    spit(p, "a,b\n1,\"2\"x\n");
    free(p);
    p = path_in(f, "empty.csv");
    spit(p, "");
    free(p);
    p = path_in(f, "blank.csv");
    spit(p, "\n\r\nt,x\n1,2\n");
    free(p);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *errtext;
        int code = run_chart(f->dir, cases[i].args, &errtext);

        if (code != cases[i].code)
            fail_msg("case %zu: exit %d, want %d; stderr: %s", i, code, cases[i].code,
                     errtext);
        if (cases[i].want_err && !strstr(errtext, cases[i].want_err))
            fail_msg("case %zu: stderr \"%s\" lacks \"%s\"", i, errtext,
                     cases[i].want_err);
        if (cases[i].out) {
            p = path_in(f, cases[i].out);
            assert_int_equal(access(p, F_OK), 0);
            free(p);
        }
        free(errtext);
    }
}

/* Series names: "<stem>: <col>", with parent directories when stems repeat, or
 * --label. */
static void test_cli_names(void **state)
{
    struct fixture *f = *state;
    const char *bin = getenv("SWEEP_BIN");
    char *p, *svg, *errtext;

    if (!bin || !*bin)
        skip();
    for (int i = 1; i <= 2; i++) {
        p = xasprintf("%s/task%d", f->dir, i);
        assert_int_equal(mkdir(p, 0700), 0);
        free(p);
        p = xasprintf("%s/task%d/timeseries.csv", f->dir, i);
        spit(p, "t,energy,enstrophy\n0,1,2\n1,0.5,1\n2,0.25,0.5\n");
        free(p);
    }
    p = path_in(f, "other.data.csv");
    spit(p, "t,energy,enstrophy\n0,1,2\n1,2,3\n");
    free(p);

    assert_int_equal(
        run_chart(f->dir,
                  (const char *const[]){"task1/timeseries.csv", "task2/timeseries.csv",
                                        "other.data.csv", "--x", "t", "--y",
                                        "energy,enstrophy", "-o", "n.svg", NULL},
                  &errtext),
        0);
    assert_null(strstr(errtext, "sweep")); /* nothing skipped, no error */
    free(errtext);
    p = path_in(f, "n.svg");
    svg = slurp(p, NULL);
    assert_non_null(strstr(svg, ">task1/timeseries: energy</text>"));
    assert_non_null(strstr(svg, ">task2/timeseries: enstrophy</text>"));
    assert_non_null(strstr(svg, ">other.data: energy</text>"));
    assert_non_null(strstr(svg, ">energy, enstrophy</text>")); /* default y label */
    assert_non_null(strstr(svg, ">t</text>"));                 /* default x label */
    free(svg);

    assert_int_equal(
        run_chart(f->dir,
                  (const char *const[]){"task1/timeseries.csv", "--x", "t", "--y",
                                        "energy,enstrophy", "--label", "E", "--label",
                                        "Z & co", "-o", "n.svg", NULL},
                  &errtext),
        0);
    free(errtext);
    svg = slurp(p, NULL);
    assert_non_null(strstr(svg, ">E</text>"));
    assert_non_null(strstr(svg, ">Z &amp; co</text>"));
    assert_null(strstr(svg, "timeseries"));
    free(svg);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks_table),
        cmocka_unit_test(test_ticks_cover_range),
        cmocka_unit_test(test_tick_label_table),
        cmocka_unit_test_setup_teardown(test_svg_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skips_undrawable_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_chart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legend_placement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_hygiene, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fit_dodge_margin_colorbar, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
