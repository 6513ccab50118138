/* Tests of report/report.c: a report drawn from hand-made numbers to PNG, SVG and PDF
 * in a temporary directory (format by magic bytes, a non-trivial size, a PNG that is
 * not blank and an SVG that names the study), edge cases that must still draw (no
 * tasks, a very long or invalid UTF-8 name, huge counts), and the errors: an unknown
 * extension and an unwritable directory, neither leaving a file behind. */
#include "report/report.h"

#include "common/xalloc.h"

#include <cairo.h>
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/test_report.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;

    while (d && (e = readdir(d))) {
        char *p;
        if (e->d_name[0] == '.')
            continue;
        p = xasprintf("%s/%s", f->dir, e->d_name);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A study part-way through: every state present, in all three bands. */
static struct report sample(void)
{
    struct report r = {
        .study = "dla-scaling",
        .status = "RUNNING",
        .mean_wall = 12.5,
        .median_wall = 9.75,
        .run_seconds = 3600,
        .generated_at = 1795000000,
    };
    static const long long c[3][TASK_NSTATES] = {
        /* pending running succeeded failed timed_out cancelled interrupted */
        {30, 2, 10, 1, 0, 0, 0}, /* LOW */
        {10, 4, 40, 3, 1, 2, 1}, /* MEDIUM */
        {0, 2, 25, 2, 1, 0, 0},  /* HIGH */
    };

    memcpy(r.counts, c, sizeof(c));
    return r;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = xmalloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Pixels of the PNG at path that are not white, and in *dark those with a channel
 * below half (text, the ring and bars, not the light card backgrounds). */
static size_t png_ink(const char *path, int *w, int *h, size_t *dark)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    const unsigned char *data;
    size_t ink = 0;
    int stride;

    *dark = 0;
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    cairo_surface_flush(s);
    data = cairo_image_surface_get_data(s);
    stride = cairo_image_surface_get_stride(s);
    *w = cairo_image_surface_get_width(s);
    *h = cairo_image_surface_get_height(s);
    for (int y = 0; y < *h; y++) {
        const unsigned int *row =
            (const unsigned int *)(const void *)(data + y * stride);
        for (int x = 0; x < *w; x++) {
            unsigned int p = row[x];
            ink += (p & 0xFFFFFF) != 0xFFFFFF;
            *dark +=
                (p >> 16 & 0xFF) < 0x80 || (p >> 8 & 0xFF) < 0x80 || (p & 0xFF) < 0x80;
        }
    }
    cairo_surface_destroy(s);
    return ink;
}

/* Renders r to <dir>/<name> and checks the format, size and content. */
static void check_render(struct fixture *f, const struct report *r, const char *name)
{
    static const struct {
        const char *ext;
        const char *magic;
        size_t magic_len;
    } formats[] = {
        {".png", "\x89PNG\r\n\x1a\n", 8},
        {".svg", "<?xml", 5},
        {".PDF", "%PDF-", 5},
    };

    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        char *path = xasprintf("%s/%s%s", f->dir, name, formats[i].ext);
        struct err err = {0};
        size_t len;
        char *data;

        assert_int_equal(report_render(r, path, &err), SWEEP_OK);
        data = read_all(path, &len);
        assert_true(len > 2000);
        assert_memory_equal(data, formats[i].magic, formats[i].magic_len);
        if (i == 0) {
            int w, h;
            size_t dark, ink = png_ink(path, &w, &h, &dark);
            assert_int_equal(w, REPORT_WIDTH);
            assert_int_equal(h, REPORT_HEIGHT);
            /* Cards cover much of the page; text alone is more than 0.5% of it. */
            assert_true(ink > (size_t)(w * h) / 4);
            assert_true(dark > (size_t)(w * h) / 200);
        }
        if (i == 1) {
            assert_non_null(strstr(data, "<svg"));
            assert_non_null(strstr(data, "</svg>"));
            assert_non_null(strstr(data, "<title>Progress report: "));
        }
        free(data);
        free(path);
    }
}

static void test_render_formats(void **state)
{
    struct fixture *f = *state;
    struct report r = sample();
    size_t len;
    char *svg, *path;

    check_render(f, &r, "report");
    path = xasprintf("%s/report.svg", f->dir);
    svg = read_all(path, &len);
    assert_non_null(strstr(svg, "<title>Progress report: dla-scaling</title>"));
    free(svg);
    free(path);
    assert_int_equal(count_files(f->dir), 3); /* no temporary file left */
}

/* Reports that must still draw: nothing to show, no run yet, odd names, huge counts. */
static void test_render_edge_cases(void **state)
{
    struct fixture *f = *state;
    struct report empty = {.study = "empty", .mean_wall = NAN, .median_wall = NAN};
    struct report odd = sample();
    struct report huge = sample();
    char *long_name = xmalloc(2001);
    char *path, *svg;
    size_t len;

    check_render(f, &empty, "empty");

    memset(long_name, 'n', 2000);
    long_name[2000] = '\0';
    odd.study = long_name;
    odd.status = NULL;
    odd.generated_at = 0;
    odd.run_seconds = 0;
    check_render(f, &odd, "long");

    odd.study = "bad\xff\xfe name <&> \x01 \xc3\xa9t\xc3\xa9";
    check_render(f, &odd, "odd");
    path = xasprintf("%s/odd.svg", f->dir);
    svg = read_all(path, &len);
    assert_non_null(strstr(svg, "<title>Progress report: bad?? name &lt;&amp;&gt;   "
                                "\xc3\xa9t\xc3\xa9</title>"));
    free(svg);
    free(path);

    for (int b = 0; b < 3; b++)
        for (int s = 0; s < TASK_NSTATES; s++)
            huge.counts[b][s] *= 1000000000LL;
    huge.counts[0][TASK_PENDING] = 1; /* a share that rounds to <1% */
    huge.mean_wall = 1e7;
    check_render(f, &huge, "huge");
    free(long_name);
}

static void test_render_errors(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {"report.gif", "report", "report.png.txt",
                                      "dir.png/report", ".svgx"};
    struct report r = sample();

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *path = xasprintf("%s/%s", f->dir, bad[i]);
        struct err err = {0};

        assert_int_equal(report_render(&r, path, &err), SWEEP_EINVAL);
        assert_non_null(strstr(err.msg, ".png, .svg or .pdf"));
        assert_int_equal(report_check_path(path, &err), SWEEP_EINVAL);
        free(path);
    }
    {
        char *path = xasprintf("%s/missing/report.png", f->dir);
        struct err err = {0};

        assert_int_equal(report_check_path(path, &err), SWEEP_OK);
        assert_int_equal(report_render(&r, path, &err), SWEEP_EIO);
        assert_non_null(strstr(err.msg, path));
        free(path);
    }
    assert_int_equal(count_files(f->dir), 0);
}

/* The words of the picture: "done" is never said of a failure, and a throughput of a
 * run too short to measure is not shown. */
static void test_words(void **state)
{
    static const struct {
        long long ok, failed, all;
        const char *want_ok, *want_bad;
    } outcomes[] = {
        {17, 3, 20, "85%", "15% failed"},
        {20, 0, 20, "100%", ""},
        {199, 1, 200, ">99%", "<1% failed"},
        {39, 1, 40, "98%", "2% failed"}, /* as the legend rounds it */
        {0, 0, 0, "0%", ""},
        {5, 0, 10, "50%", ""},
    };
    static const struct {
        double seconds;
        long long ended;
        const char *want;
    } rates[] = {
        {0.033, 3, "\u2013"},       {9.9, 100, "\u2013"},
        {3600, 1, "\u2013"},        {3 * 3600.0, 3, "1.00 tasks/h"},
        {60, 10, "10.0 tasks/min"}, {10, 400, "40.0 tasks/s"},
        {0, 0, "\u2013"},
    };
    char ok[32], bad[32], buf[64];
    (void)state;
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
        report_outcome(outcomes[i].ok, outcomes[i].failed, outcomes[i].all, ok,
                       sizeof(ok), bad, sizeof(bad));
        assert_string_equal(ok, outcomes[i].want_ok);
        assert_string_equal(bad, outcomes[i].want_bad);
    }
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        report_throughput(rates[i].seconds, rates[i].ended, buf, sizeof(buf));
        assert_string_equal(buf, rates[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_render_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_edge_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_errors, setup, teardown),
        cmocka_unit_test(test_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
