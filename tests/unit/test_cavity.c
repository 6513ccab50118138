/* Unit tests of the cavity model (src/models/cavity.c) against Ghia, Ghia & Shin, J.
 * Comput. Phys. 48 (1982) 387-411, Table I (u along the vertical centreline) and
 * Table V (primary vortex), at Re = 100 on small grids so that every test runs in
 * seconds, also under ASan at -O0. A 32 x 32 grid gives max |u - Ghia| = 0.0089 over
 * Table I and a psi_min 2.9% weaker than Ghia's (docs/cavity-validation.md); the
 * tolerances below leave about a factor 1.5. Also: walls and lid in the profiles, the
 * symmetry of Stokes flow, a steady state independent of dt, determinism, and the
 * failure paths (not converged, blow-up, bad parameters, unwritable directory) with
 * their exit statuses and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/jsonx.h"
#include "common/xalloc.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct model model_cavity;

/* Ghia et al. 1982, Table I, Re = 100: y and u(0.5, y), the walls excluded. */
static const double ghia_y[] = {0.9766, 0.9688, 0.9609, 0.9531, 0.8516,
                                0.7344, 0.6172, 0.5000, 0.4531, 0.2813,
                                0.1719, 0.1016, 0.0703, 0.0625, 0.0547};
static const double ghia_u[] = {0.84123,  0.78871,  0.73722,  0.68717,  0.23151,
                                0.00332,  -0.13641, -0.20581, -0.21090, -0.15662,
                                -0.10150, -0.06434, -0.04775, -0.04192, -0.03717};
/* Table V, Re = 100: the primary vortex. */
#define GHIA_PSI_MIN (-0.103423)
#define GHIA_PSI_X 0.6172
#define GHIA_PSI_Y 0.7344

/* One run: its status, metrics, message, and the profiles it wrote. */
struct run {
    int rc;
    json_t *metrics;
    struct err err;
    char dir[64];
    int n;         /* points in each profile */
    double *y, *u; /* u_centerline.csv */
    double *x, *v; /* v_centerline.csv */
};

/* Reads a two-column CSV with the given header; returns the number of rows, or -1
 * when the file is missing or its header differs. */
static int read_profile(
    const char *dir, const char *name, const char *header, double **c, double **f)
{
    char *path = xasprintf("%s/%s", dir, name), line[128];
    FILE *fp = fopen(path, "r");
    size_t ccap = 0, fcap = 0;
    int k = 0;

    free(path);
    *c = *f = NULL;
    if (!fp)
        return -1;
    if (!fgets(line, sizeof(line), fp) || strcspn(line, "\n") != strlen(header) ||
        strncmp(line, header, strlen(header)) != 0) {
        fclose(fp);
        return -1;
    }
    while (fgets(line, sizeof(line), fp)) {
        char *end, *end2;

        *c = xgrow(*c, &ccap, (size_t)k + 1, sizeof(double));
        *f = xgrow(*f, &fcap, (size_t)k + 1, sizeof(double));
        (*c)[k] = strtod(line, &end);
        assert_int_equal(*end, ',');
        (*f)[k] = strtod(end + 1, &end2);
        assert_int_equal(*end2, '\n');
        k++;
    }
    fclose(fp);
    return k;
}

/* Runs the model with parameters `params` (JSON text) in a new directory. */
static void run_cavity(const char *params, struct run *r)
{
    json_t *in = json_loads(params, 0, NULL), *typed = NULL;
    struct model_args args = {.model = &model_cavity, .attempt = 1};
    int nv;

    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/test_cavity.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    assert_non_null(in);
    r->metrics = json_object();
    /* As sweep sim: parameters the check refuses exit 2 before anything runs. */
    if (model_params_check(&model_cavity, in, &typed, &r->err) == SWEEP_OK) {
        args.params = typed;
        args.outdir = r->dir;
        r->rc = model_cavity.run(&args, r->metrics, &r->err);
    } else {
        r->rc = 2;
    }
    r->n = read_profile(r->dir, "u_centerline.csv", "y,u", &r->y, &r->u);
    nv = read_profile(r->dir, "v_centerline.csv", "x,v", &r->x, &r->v);
    assert_int_equal(nv, r->n);
    json_decref(typed);
    json_decref(in);
}

/* The parameter check alone (what `sweep run` and the package reader call before any
 * task runs) refuses params (JSON text) with msg. */
static void assert_check_refuses(const char *params, const char *msg)
{
    json_t *in = json_loads(params, 0, NULL);
    struct err err = {0};

    assert_non_null(in);
    assert_int_equal(model_params_check(&model_cavity, in, NULL, &err), SWEEP_EINVAL);
    assert_string_equal(err.msg, msg);
    json_decref(in);
}

static void run_fini(struct run *r)
{
    char *u = xasprintf("%s/u_centerline.csv", r->dir);
    char *v = xasprintf("%s/v_centerline.csv", r->dir);

    unlink(u);
    unlink(v);
    assert_int_equal(rmdir(r->dir), 0);
    free(u);
    free(v);
    free(r->y);
    free(r->u);
    free(r->x);
    free(r->v);
    json_decref(r->metrics);
}

static double metric(const struct run *r, const char *name)
{
    const json_t *v = json_object_get(r->metrics, name);

    assert_non_null(v);
    return json_number_value(v);
}

static bool metric_true(const struct run *r, const char *name)
{
    const json_t *v = json_object_get(r->metrics, name);

    assert_true(json_is_boolean(v));
    return json_is_true(v);
}

/* f at coordinate s of a profile on the uniform nodes k / (n - 1), by the cubic
 * through the four nearest nodes (fourth order, so it adds nothing to the O(h^2)
 * error of the solution). */
static double interp(const double *f, int n, double s)
{
    double t = s * (n - 1), sum = 0;
    int i = (int)floor(t) - 1;

    i = i < 0 ? 0 : i > n - 4 ? n - 4 : i;
    for (int a = 0; a < 4; a++) {
        double l = 1;
        for (int b = 0; b < 4; b++)
            if (b != a)
                l *= (t - (i + b)) / (a - b);
        sum += l * f[i + a];
    }
    return sum;
}

/* max |u - Ghia| over Table I. */
static double ghia_deviation(const struct run *r)
{
    double dev = 0;

    for (size_t k = 0; k < sizeof(ghia_y) / sizeof(ghia_y[0]); k++) {
        double d = fabs(interp(r->u, r->n, ghia_y[k]) - ghia_u[k]);
        dev = d > dev ? d : dev;
    }
    return dev;
}

static struct run re100; /* Re = 100 on 32 x 32, shared by the tests below */

static int setup_re100(void **state)
{
    (void)state;
    run_cavity("{\"Re\": 100, \"grid_size\": [32, 32]}", &re100);
    return 0;
}

static int teardown_re100(void **state)
{
    (void)state;
    run_fini(&re100);
    return 0;
}

static void test_converges(void **state)
{
    const struct model *m = &model_cavity;

    (void)state;
    assert_int_equal(re100.rc, 0);
    assert_true(metric_true(&re100, "success"));
    assert_true(metric_true(&re100, "converged"));
    assert_true(metric(&re100, "residual") < 1e-6);
    assert_true(metric(&re100, "n_steps") > 100);
    assert_true(metric(&re100, "dt") > 0);
    assert_true(metric(&re100, "execution_time") >= 0);
    /* Every declared metric, and nothing else. */
    assert_int_equal(json_object_size(re100.metrics), m->nmetrics);
    for (size_t i = 0; i < m->nmetrics; i++)
        assert_non_null(json_object_get(re100.metrics, m->metrics[i].name));
}

static void test_ghia_u(void **state)
{
    (void)state;
    assert_int_equal(re100.n, 33);
    /* 32 x 32 gives 0.0089. */
    assert_true(ghia_deviation(&re100) < 0.015);
    /* The extremum, against the smallest value in Table I (at y = 0.4531; the
     * refined minimum lies between table points and is a little lower). */
    assert_true(fabs(metric(&re100, "u_min") - (-0.21090)) < 0.015);
    assert_true(fabs(metric(&re100, "u_min_y") - 0.4531) < 0.03);
}

static void test_ghia_vortex(void **state)
{
    (void)state;
    /* 32 x 32: -0.10044 at (0.6214, 0.7426), 2.9% weaker. */
    assert_true(fabs(metric(&re100, "psi_min") / GHIA_PSI_MIN - 1) < 0.045);
    assert_true(fabs(metric(&re100, "psi_min_x") - GHIA_PSI_X) < 0.02);
    assert_true(fabs(metric(&re100, "psi_min_y") - GHIA_PSI_Y) < 0.02);
}

/* The profiles: the nodes, no slip on the walls, u = 1 under the lid, and the
 * extrema reported in the metrics lie on the profiles. */
static void test_profiles(void **state)
{
    int n = re100.n;
    double lo = 0, hi = 0;

    (void)state;
    for (int k = 0; k < n; k++) {
        assert_float_equal(re100.y[k], (double)k / (n - 1), 1e-15);
        assert_float_equal(re100.x[k], (double)k / (n - 1), 1e-15);
        lo = re100.v[k] < lo ? re100.v[k] : lo;
        hi = re100.v[k] > hi ? re100.v[k] : hi;
    }
    assert_true(re100.u[0] == 0 && re100.u[n - 1] == 1);
    assert_true(re100.v[0] == 0 && re100.v[n - 1] == 0);
    /* Refined extrema: beyond the smallest node value, by less than a cell's worth. */
    assert_true(metric(&re100, "v_min") <= lo && metric(&re100, "v_min") > lo - 0.005);
    assert_true(metric(&re100, "v_max") >= hi && metric(&re100, "v_max") < hi + 0.005);
    assert_true(metric(&re100, "v_min_x") > 0.5 && metric(&re100, "v_max_x") < 0.5);
}

/* Stokes flow (Re -> 0) is symmetric about x = 0.5: v(x) = -v(1 - x) and the vortex
 * centre on x = 0.5. At Re = 0.01 the inertial asymmetry is of order 1e-5. */
static void test_stokes_symmetry(void **state)
{
    struct run r;

    (void)state;
    run_cavity("{\"Re\": 0.01, \"grid_size\": [16, 16]}", &r);
    assert_int_equal(r.rc, 0);
    for (int k = 0; k < r.n; k++)
        assert_float_equal(r.v[k], -r.v[r.n - 1 - k], 1e-4);
    assert_float_equal(metric(&r, "psi_min_x"), 0.5, 2e-4);
    assert_float_equal(metric(&r, "v_max"), -metric(&r, "v_min"), 1e-4);
    assert_float_equal(metric(&r, "v_max_x"), 1 - metric(&r, "v_min_x"), 1e-3);
    run_fini(&r);
}

/* The steady state solves the discrete equations, so it does not depend on the step
 * that reached it: the automatic step and a third of it agree to the tolerance. */
static void test_dt_independent(void **state)
{
    struct run a, b;
    const char *names[] = {"u_min", "v_min", "v_max", "psi_min", "psi_min_x"};
    char *params;

    (void)state;
    run_cavity("{\"grid_size\": [16, 16], \"tolerance\": 1e-9}", &a);
    assert_int_equal(a.rc, 0);
    params = xasprintf("{\"grid_size\": [16, 16], \"tolerance\": 1e-9, \"dt\": %.17g}",
                       metric(&a, "dt") / 3);
    run_cavity(params, &b);
    assert_int_equal(b.rc, 0);
    assert_float_equal(metric(&b, "dt"), metric(&a, "dt") / 3, 1e-17);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_float_equal(metric(&a, names[i]), metric(&b, names[i]), 1e-9);
    free(params);
    run_fini(&a);
    run_fini(&b);
}

/* Same parameters, same metrics to the bit (execution_time aside). */
static void test_deterministic(void **state)
{
    struct run a, b;
    char *ca, *cb;

    (void)state;
    run_cavity("{\"Re\": 400, \"grid_size\": [16, 16], \"tolerance\": 1e-4}", &a);
    run_cavity("{\"Re\": 400, \"grid_size\": [16, 16], \"tolerance\": 1e-4}", &b);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    json_object_del(a.metrics, "execution_time");
    json_object_del(b.metrics, "execution_time");
    ca = jsonx_canon_str(a.metrics);
    cb = jsonx_canon_str(b.metrics);
    assert_string_equal(ca, cb);
    free(ca);
    free(cb);
    run_fini(&a);
    run_fini(&b);
}

/* Halving h brings the profile closer to Ghia (32: 0.0089, 64: 0.0023, order 2). The
 * slowest test: 2 s at -O2, 10 s under ASan at -O0. */
static void test_refinement(void **state)
{
    struct run coarse, fine;

    (void)state;
    run_cavity("{\"Re\": 100, \"grid_size\": [32, 32]}", &coarse);
    run_cavity("{\"Re\": 100, \"grid_size\": [64, 64]}", &fine);
    assert_int_equal(coarse.rc, 0);
    assert_int_equal(fine.rc, 0);
    assert_true(ghia_deviation(&fine) < ghia_deviation(&coarse) / 2.5);
    assert_true(fabs(metric(&fine, "psi_min") - GHIA_PSI_MIN) <
                fabs(metric(&coarse, "psi_min") - GHIA_PSI_MIN) / 2.5);
    run_fini(&coarse);
    run_fini(&fine);
}

/* Out of steps: status 1, success and converged false, the metrics and profiles of
 * where it stopped. */
static void test_not_converged(void **state)
{
    struct run r;

    (void)state;
    run_cavity("{\"grid_size\": [16, 16], \"max_steps\": 10}", &r);
    assert_int_equal(r.rc, 1);
    assert_false(metric_true(&r, "success"));
    assert_false(metric_true(&r, "converged"));
    assert_int_equal((int)metric(&r, "n_steps"), 10);
    assert_true(metric(&r, "residual") > 1e-6);
    assert_non_null(json_object_get(r.metrics, "psi_min"));
    assert_int_equal(r.n, 17);
    assert_non_null(strstr(r.err.msg, "cavity: not converged: residual "));
    assert_non_null(strstr(r.err.msg, "after max_steps = 10 steps"));
    run_fini(&r);
}

/* A step far above the stable one: found at the first non-finite value, status 1,
 * residual null, no profiles. */
static void test_blow_up(void **state)
{
    struct run r;

    (void)state;
    run_cavity("{\"grid_size\": [16, 16], \"dt\": 1}", &r);
    assert_int_equal(r.rc, 1);
    assert_false(metric_true(&r, "success"));
    assert_false(metric_true(&r, "converged"));
    assert_true(json_is_null(json_object_get(r.metrics, "residual")));
    assert_true(metric(&r, "n_steps") < 100);
    assert_null(json_object_get(r.metrics, "psi_min"));
    assert_int_equal(r.n, -1);
    assert_non_null(strstr(r.err.msg, "cavity: blew up at step "));
    assert_non_null(strstr(r.err.msg, "dt = 1 is above the stable step"));
    run_fini(&r);
}

/* Parameters the row refuses, with the message sweep sim prints. */
static void test_bad_params(void **state)
{
    static const struct {
        const char *params, *msg;
    } cases[] = {
        {"{\"Re\": 0}", "cavity: Re: expected a number > 0, got 0"},
        {"{\"Re\": -100}", "cavity: Re: expected a number > 0, got -100"},
        {"{\"Re\": \"high\"}", "cavity: Re: expected a number > 0, got \"high\""},
        {"{\"grid_size\": [4, 4]}",
         "cavity: grid_size[0]: expected an integer in [8, 1024], got 4"},
        {"{\"grid_size\": [64, 2048]}",
         "cavity: grid_size[1]: expected an integer in [8, 1024], got 2048"},
        {"{\"grid_size\": [32.5, 32]}",
         "cavity: grid_size[0]: expected an integer in [8, 1024], got 32.5"},
        {"{\"grid_size\": [32]}", "cavity: grid_size: expected a list of integers in "
                                  "[8, 1024] with 2 items, got [32]"},
        {"{\"grid_size\": 32}", "cavity: grid_size: expected a list of integers in "
                                "[8, 1024] with 2 items, got 32"},
        {"{\"tolerance\": 0}", "cavity: tolerance: expected a number > 0, got 0"},
        {"{\"max_steps\": 0}", "cavity: max_steps: expected an integer >= 1, got 0"},
        {"{\"dt\": -0.001}", "cavity: dt: expected a number >= 0, got -0.001"},
        {"{\"reynolds\": 100}",
         "cavity: unknown parameter \"reynolds\" (did you mean \"Re\"?); known "
         "parameters: Re, grid_size, tolerance, max_steps, dt"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = json_loads(cases[i].params, 0, NULL), *typed = NULL;
        struct err err = {0};

        assert_non_null(in);
        assert_int_equal(model_params_check(&model_cavity, in, &typed, &err),
                         SWEEP_EINVAL);
        assert_null(typed);
        assert_string_equal(err.msg, cases[i].msg);
        json_decref(in);
    }
}

/* A rectangular grid passes the row but not the run's check: status 2 before any
 * computation (no metrics, no files). */
static void test_grid_not_square(void **state)
{
    struct run r;

    (void)state;
    run_cavity("{\"grid_size\": [32, 64]}", &r);
    assert_int_equal(r.rc, 2);
    assert_int_equal(r.err.code, SWEEP_EINVAL);
    assert_string_equal(
        r.err.msg, "cavity: grid_size: expected a square grid [n, n], got [32, 64]");
    assert_check_refuses("{\"grid_size\": [32, 64]}",
                         "cavity: grid_size: expected a square grid [n, n], got [32, "
                         "64]");
    assert_int_equal(json_object_size(r.metrics), 0);
    assert_int_equal(r.n, -1);
    run_fini(&r);
}

/* Profiles that cannot be written: status 3 and the path in the message. */
static void test_unwritable_outdir(void **state)
{
    json_t *in = json_loads("{\"grid_size\": [8, 8], \"tolerance\": 1e-3}", 0, NULL);
    json_t *typed = NULL, *metrics = json_object();
    struct model_args args = {.model = &model_cavity, .attempt = 1};
    struct err err = {0};

    (void)state;
    assert_int_equal(model_params_check(&model_cavity, in, &typed, &err), SWEEP_OK);
    args.params = typed;
    args.outdir = "/nonexistent/cavity";
    assert_int_equal(model_cavity.run(&args, metrics, &err), 3);
    assert_string_equal(err.msg, "cavity: cannot write /nonexistent/cavity/"
                                 "u_centerline.csv: No such file or directory");
    json_decref(metrics);
    json_decref(typed);
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(test_converges),
        cmocka_unit_test(test_ghia_u),
        cmocka_unit_test(test_ghia_vortex),
        cmocka_unit_test(test_profiles),
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stokes_symmetry),
        cmocka_unit_test(test_dt_independent),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_refinement),
        cmocka_unit_test(test_not_converged),
        cmocka_unit_test(test_blow_up),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_grid_not_square),
        cmocka_unit_test(test_unwritable_outdir),
    };
    int failed = cmocka_run_group_tests_name("cavity_re100_32", shared, setup_re100,
                                             teardown_re100);

    return failed + cmocka_run_group_tests_name("cavity", tests, NULL, NULL);
}
