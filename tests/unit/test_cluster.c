/* Unit tests of the shared cluster module (src/models/cluster.c): the radius of
 * gyration and largest radius of hand-made clusters against their closed forms, the
 * mass-radius dimension of compact shapes (a filled disc: 2, a straight line: 1, a
 * filled cube: 3), no fit for a tiny cluster, the metrics object, and the files:
 * pictures in each format (magic bytes; the PNG decoded to check the background and
 * the colour ramp by arrival order), positions read back exactly, and the failure
 * paths with their messages, leaving no file behind. The PNG is decoded with cairo,
 * which the module under test draws with anyway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/xalloc.h"
#include "models/cluster.h"

#include <cairo.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* |a - b| <= tol, saying which values differ when not. */
#define assert_near(a, b, tol) near_at((a), (b), (tol), __FILE__, __LINE__)
static void near_at(double a, double b, double tol, const char *file, int line)
{
    if (!(fabs(a - b) <= tol)) {
        print_error("%.17g != %.17g (tolerance %g)\n", a, b, tol);
        _fail(file, line);
    }
}

/* A line of m particles, spacing 1, along `axis`, from the origin. */
static void make_line(struct cluster *c, int dim, int axis, int from, int to)
{
    cluster_init(c, dim);
    for (int i = from; i <= to; i++) {
        double p[3] = {0, 0, 0};
        p[axis] = i;
        cluster_add(c, p[0], p[1], p[2]);
    }
}

/* The lattice sites within radius r of the origin, in raster order; seed at the
 * origin. */
static void make_disc(struct cluster *c, int r)
{
    cluster_init(c, 2);
    for (int y = -r; y <= r; y++)
        for (int x = -r; x <= r; x++)
            if (x * x + y * y <= r * r)
                cluster_add(c, x, y, 0);
    c->seed[0] = c->seed[1] = c->seed[2] = 0;
}

/* An m x m square of sites from the origin (the seed is the first particle). */
static void make_square(struct cluster *c, int m)
{
    cluster_init(c, 2);
    for (int y = 0; y < m; y++)
        for (int x = 0; x < m; x++)
            cluster_add(c, x, y, 0);
}

static void test_line(void **state)
{
    struct cluster c;
    struct cluster_stats s;

    (void)state;
    /* 101 sites from the origin: rg^2 = (m^2 - 1) / 12, max_radius = 100. */
    make_line(&c, 2, 0, 0, 100);
    cluster_analyze(&c, 1, &s);
    assert_near(s.rg, sqrt((101.0 * 101 - 1) / 12), 1e-9);
    assert_near(s.max_radius, 100, 1e-12);
    assert_near(s.fit_rmin, 5, 0);
    assert_near(s.fit_rmax, 50, 1e-12);
    cluster_fini(&c);

    /* The same along z in 3D, the seed at its centre: N(r) = 2 floor(r) + 1. */
    make_line(&c, 3, 2, -1000, 1000);
    c.seed[0] = c.seed[1] = c.seed[2] = 0;
    cluster_analyze(&c, 1, &s);
    assert_near(s.rg, sqrt((2001.0 * 2001 - 1) / 12), 1e-6);
    assert_near(s.max_radius, 1000, 1e-12);
    assert_int_equal(s.fit_points, 16);
    assert_true(fabs(s.df - 1) < 0.05);
    assert_true(s.df_fit_r2 > 0.99);
    cluster_fini(&c);
}

static void test_disc(void **state)
{
    struct cluster c;
    struct cluster_stats s;

    (void)state;
    /* A filled disc: rg = R / sqrt(2) in the continuum (1% here), max_radius = R. */
    make_disc(&c, 200);
    cluster_analyze(&c, 1, &s);
    assert_true(fabs(s.rg / (200 / sqrt(2)) - 1) < 0.01);
    assert_near(s.max_radius, 200, 1e-12);
    assert_near(s.fit_rmax, 100, 1e-12);
    assert_true(fabs(s.df - 2) < 0.05);
    assert_true(s.df_fit_r2 > 0.999);
    cluster_fini(&c);
}

static void test_square_and_cube(void **state)
{
    struct cluster c;
    struct cluster_stats s;
    int m = 64;

    (void)state;
    /* rg^2 = 2 (m^2 - 1) / 12 about the centre; the seed is the corner. */
    make_square(&c, m);
    cluster_analyze(&c, 1, &s);
    assert_near(s.rg, sqrt(2 * ((double)m * m - 1) / 12), 1e-9);
    assert_near(s.max_radius, (m - 1) * sqrt(2), 1e-9);
    cluster_fini(&c);

    /* A filled ball of sites has df 3. */
    cluster_init(&c, 3);
    for (int z = -40; z <= 40; z++)
        for (int y = -40; y <= 40; y++)
            for (int x = -40; x <= 40; x++)
                if (x * x + y * y + z * z <= 1600)
                    cluster_add(&c, x, y, z);
    c.seed[0] = c.seed[1] = c.seed[2] = 0;
    cluster_analyze(&c, 1, &s);
    assert_true(fabs(s.df - 3) < 0.1);
    assert_true(fabs(s.rg / (40 * sqrt(0.6)) - 1) < 0.02);
    cluster_fini(&c);
}

/* particle_radius moves the start of the fit to 4 radii once that is above 5. */
static void test_fit_range(void **state)
{
    struct cluster c;
    struct cluster_stats s;

    (void)state;
    make_disc(&c, 100);
    cluster_analyze(&c, 3, &s);
    assert_near(s.fit_rmin, 12, 0);
    assert_near(s.fit_rmax, 50, 1e-12);
    /* 1 + floor(4 log2(50 / 12)) = 9 radii, a quarter octave or more apart. */
    assert_int_equal(s.fit_points, 9);
    cluster_fini(&c);
}

static void test_tiny(void **state)
{
    struct cluster c;
    struct cluster_stats s;
    json_t *m = json_object();

    (void)state;
    /* max_radius 13: fit_rmax 6.5 is less than a half octave above 5. */
    make_line(&c, 2, 0, 0, 13);
    cluster_analyze(&c, 1, &s);
    assert_true(isnan(s.df));
    assert_true(isnan(s.df_fit_r2));
    assert_int_equal(s.fit_points, 0);
    assert_near(s.max_radius, 13, 0);
    cluster_metrics(&s, c.n, m);
    assert_true(json_is_null(json_object_get(m, "df")));
    assert_true(json_is_null(json_object_get(m, "df_fit_r2")));
    assert_int_equal(json_integer_value(json_object_get(m, "n_particles")), 14);
    cluster_fini(&c);
    json_decref(m);

    /* One particle, and none. */
    make_line(&c, 2, 0, 7, 7);
    cluster_analyze(&c, 1, &s);
    assert_near(s.rg, 0, 0);
    assert_near(s.max_radius, 0, 0);
    assert_true(isnan(s.df));
    cluster_fini(&c);
    cluster_init(&c, 2);
    cluster_analyze(&c, 1, &s);
    assert_int_equal(s.fit_points, 0);
    assert_true(isnan(s.df));
    cluster_fini(&c);
}

static void test_metrics(void **state)
{
    struct cluster c;
    struct cluster_stats s;
    json_t *m = json_object();
    const char *keys[] = {"rg",         "df",       "df_fit_r2",
                          "max_radius", "fit_rmin", "fit_rmax"};
    const double *vals[] = {&s.rg,         &s.df,       &s.df_fit_r2,
                            &s.max_radius, &s.fit_rmin, &s.fit_rmax};

    (void)state;
    make_disc(&c, 60);
    cluster_analyze(&c, 1, &s);
    cluster_metrics(&s, c.n, m);
    assert_int_equal(json_object_size(m), 7);
    assert_int_equal(json_integer_value(json_object_get(m, "n_particles")), c.n);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(m, keys[i]);
        assert_true(json_is_real(v));
        assert_true(json_real_value(v) == *vals[i]);
    }
    cluster_fini(&c);
    json_decref(m);
}

/* A fresh directory for output files. */
static void make_dir(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/test_cluster.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

/* The first bytes of a file, NUL-terminated; returns how many were read. */
static size_t read_head(const char *path, char *buf, size_t n)
{
    FILE *fp = fopen(path, "rb");
    size_t got;

    assert_non_null(fp);
    got = fread(buf, 1, n - 1, fp);
    buf[got] = '\0';
    fclose(fp);
    return got;
}

static void test_image_formats(void **state)
{
    static const struct {
        const char *name;
        const char *magic;
        size_t len;
    } cases[] = {
        {"c.png", "\x89PNG\r\n\x1a\n", 8},
        {"C.PNG", "\x89PNG\r\n\x1a\n", 8},
        {"c.svg", "<?xml", 5},
        {"c.pdf", "%PDF-", 5},
    };
    struct cluster c;
    struct err err = {0};
    char dir[64], head[64];

    (void)state;
    make_dir(dir, sizeof(dir));
    make_disc(&c, 30);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = xasprintf("%s/%s", dir, cases[i].name);
        assert_int_equal(cluster_write_image(&c, 1, path, &err), SWEEP_OK);
        assert_true(read_head(path, head, sizeof(head)) >= cases[i].len);
        assert_memory_equal(head, cases[i].magic, cases[i].len);
        if (strstr(cases[i].name, "svg"))
            assert_non_null(strstr(head, "<svg"));
        assert_int_equal(unlink(path), 0);
        free(path);
    }
    cluster_fini(&c);
    assert_int_equal(rmdir(dir), 0);
}

/* Pixels of `img` within 3 per channel of rgb: how many, and their mean x. */
static size_t count_colour(cairo_surface_t *img, unsigned int rgb, double *mean_x)
{
    int w = cairo_image_surface_get_width(img), h = cairo_image_surface_get_height(img);
    int stride = cairo_image_surface_get_stride(img);
    const unsigned char *data = cairo_image_surface_get_data(img);
    size_t count = 0;
    double sum = 0;

    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t px =
                *(const uint32_t *)(data + (size_t)y * stride + 4 * (size_t)x);
            bool close = true;
            for (int ch = 0; ch < 3; ch++) {
                int a = (int)(px >> (8 * ch) & 0xff), b = (int)(rgb >> (8 * ch) & 0xff);
                close = close && abs(a - b) <= 3;
            }
            if (close) {
                count++;
                sum += x;
            }
        }
    *mean_x = count ? sum / (double)count : NAN;
    return count;
}

/* Three particles left to right in arrival order: dark purple, teal, yellow (the
 * ends and the middle of viridis) from left to right on white. */
static void test_image_colours(void **state)
{
    struct cluster c;
    struct err err = {0};
    char dir[64], *path;
    cairo_surface_t *img;
    double xw, x0, x1, x2;

    (void)state;
    make_dir(dir, sizeof(dir));
    path = xasprintf("%s/c.png", dir);
    cluster_init(&c, 2);
    cluster_add(&c, 0, 0, 0);
    cluster_add(&c, 20, 0, 0);
    cluster_add(&c, 40, 0, 0);
    assert_int_equal(cluster_write_image(&c, 1, path, &err), SWEEP_OK);
    img = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(img), 800);
    assert_int_equal(cairo_image_surface_get_height(img), 800);
    assert_true(count_colour(img, 0xffffff, &xw) > 700 * 700);
    assert_true(count_colour(img, 0x440154, &x0) > 100);
    assert_true(count_colour(img, 0x21908d, &x1) > 100);
    assert_true(count_colour(img, 0xfde725, &x2) > 100);
    assert_true(x0 < x1 && x1 < x2);
    cairo_surface_destroy(img);
    cluster_fini(&c);
    assert_int_equal(unlink(path), 0);
    free(path);
    assert_int_equal(rmdir(dir), 0);
}

static void test_image_errors(void **state)
{
    static const char *bad[] = {"c.jpg", "c", "png", "c.png.txt", "dir.png/c", ""};
    struct cluster c;
    struct err err = {0};
    char dir[64], *path, expected[256];

    (void)state;
    make_dir(dir, sizeof(dir));
    make_disc(&c, 10);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(expected, sizeof(expected),
                 "image: expected a file name ending in .png, .svg or .pdf, got \"%s\"",
                 bad[i]);
        assert_int_equal(cluster_image_check(bad[i], &err), SWEEP_EINVAL);
        assert_string_equal(err.msg, expected);
    }
    assert_int_equal(cluster_image_check("a.b/c.Svg", &err), SWEEP_OK);

    /* Writing: a bad name creates nothing; a missing directory says so. */
    path = xasprintf("%s/c.gif", dir);
    assert_int_equal(cluster_write_image(&c, 1, path, &err), SWEEP_EINVAL);
    assert_int_equal(access(path, F_OK), -1);
    free(path);
    path = xasprintf("%s/missing/c.png", dir);
    assert_int_equal(cluster_write_image(&c, 1, path, &err), SWEEP_EIO);
    snprintf(expected, sizeof(expected),
             "image: cannot write %s: No such file or directory", path);
    assert_string_equal(err.msg, expected);
    free(path);
    cluster_fini(&c);
    assert_int_equal(rmdir(dir), 0);
}

static void test_positions(void **state)
{
    struct cluster c;
    struct err err = {0};
    char dir[64], *path, line[256], expected[256];
    FILE *fp;
    size_t i = 0;

    (void)state;
    make_dir(dir, sizeof(dir));
    path = xasprintf("%s/p.csv", dir);
    cluster_init(&c, 3);
    cluster_add(&c, 0, 0, 0);
    cluster_add(&c, 0.1, -2.5e-300, 1e300);
    cluster_add(&c, 1.0 / 3, -7, 2);
    assert_int_equal(cluster_write_positions(&c, path, &err), SWEEP_OK);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof(line), fp));
    assert_string_equal(line, "x,y,z\n");
    while (fgets(line, sizeof(line), fp)) {
        char *p = line;
        assert_true(i < c.n);
        for (int k = 0; k < 3; k++) {
            char *end;
            assert_true(strtod(p, &end) == c.pos[3 * i + k]);
            assert_int_equal(*end, k < 2 ? ',' : '\n');
            p = end + 1;
        }
        i++;
    }
    assert_int_equal(i, c.n);
    fclose(fp);
    assert_int_equal(unlink(path), 0);
    free(path);

    path = xasprintf("%s/missing/p.csv", dir);
    assert_int_equal(cluster_write_positions(&c, path, &err), SWEEP_EIO);
    snprintf(expected, sizeof(expected),
             "positions: cannot write %s: No such file or directory", path);
    assert_string_equal(err.msg, expected);
    free(path);
    cluster_fini(&c);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_disc),
        cmocka_unit_test(test_square_and_cube),
        cmocka_unit_test(test_fit_range),
        cmocka_unit_test(test_tiny),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_image_formats),
        cmocka_unit_test(test_image_colours),
        cmocka_unit_test(test_image_errors),
        cmocka_unit_test(test_positions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
