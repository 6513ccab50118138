/* Unit tests of the navier-stokes model (src/models/navier_stokes.c) against exact
 * solutions and invariants, on small grids so that each test takes well under a second
 * at -O2 and a few seconds under sanitizers: the 2D Taylor-Green vortex decays as
 * E0 exp(-4 nu t) (relative error < 1e-8), RK4's fourth order in time (error ratio in
 * [12, 20] when halving dt), the 3D Taylor-Green energy and enstrophy at t = 0 (0.125
 * and 0.375 to 1e-14), the divergence at round-off (< 1e-10) and the energy budget
 * dE/dt = -2 nu Z of a random field, bit-identical repeated runs, the adaptive step,
 * blow-up detection, the time series file and every parameter error message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/xalloc.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct model model_navier_stokes;

static char outdir[] = "/tmp/test_navier_stokes.XXXXXX";
static char csv_path[sizeof(outdir) + 32];

/* Runs the model on a JSON parameter object as `sweep sim` does: the row's check,
 * then run. Returns the exit status (2 when the check refuses the parameters). */
static int run_ns(const char *params, json_t **metrics, struct err *err)
{
    const struct model *m = &model_navier_stokes;
    struct model_args args = {.model = m, .attempt = 1, .outdir = outdir};
    json_t *p = json_loads(params, 0, NULL), *typed = NULL;
    int rc = 2;

    assert_non_null(p);
    err_clear(err);
    *metrics = json_object();
    if (model_params_check(m, p, &typed, err) == SWEEP_OK) {
        args.params = typed;
        rc = m->run(&args, *metrics, err);
    }
    json_decref(typed);
    json_decref(p);
    return rc;
}

static double metric(const json_t *metrics, const char *name)
{
    const json_t *v = json_object_get(metrics, name);

    assert_true(json_is_number(v));
    return json_number_value(v);
}

static bool metric_bool(const json_t *metrics, const char *name)
{
    const json_t *v = json_object_get(metrics, name);

    assert_true(json_is_boolean(v));
    return json_is_true(v);
}

/* Runs and expects success with every declared metric present but "error", which a
 * failed run alone reports. */
static json_t *run_ok(const char *params)
{
    struct err err;
    json_t *metrics;

    if (run_ns(params, &metrics, &err) != 0)
        fail_msg("%s: %s", params, err.msg);
    for (size_t i = 0; i < model_navier_stokes.nmetrics; i++) {
        const char *name = model_navier_stokes.metrics[i].name;
        if (strcmp(name, "error") == 0)
            assert_null(json_object_get(metrics, name));
        else
            assert_non_null(json_object_get(metrics, name));
    }
    assert_int_equal(json_object_size(metrics), model_navier_stokes.nmetrics - 1);
    assert_true(metric_bool(metrics, "success"));
    return metrics;
}

/* timeseries.csv: checks the header, returns the rows (up to max) as
 * t, energy, enstrophy, dissipation, max_velocity. */
static size_t read_rows(double (*rows)[5], size_t max)
{
    FILE *f = fopen(csv_path, "r");
    char line[512];
    size_t n = 0;

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "t,energy,enstrophy,dissipation,max_velocity\n");
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *end;
        assert_true(n < max);
        for (int c = 0; c < 5; c++) {
            rows[n][c] = strtod(p, &end);
            assert_true(end != p && isfinite(rows[n][c]));
            assert_true(*end == (c < 4 ? ',' : '\n'));
            p = end + 1;
        }
        n++;
    }
    fclose(f);
    return n;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = xmalloc(1 << 20);
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static double rel(double got, double want)
{
    return fabs(got - want) / fabs(want);
}

/* 2D Taylor-Green: the nonlinear term is a pure gradient, so E = E0 exp(-4 nu t) with
 * E0 = 0.25 and Z = 0.5 exp(-4 nu t) exactly; what remains is RK4's error, ~1e-17. */
static void test_tg2d_decay(void **state)
{
    json_t *m = run_ok("{\"grid_size\": [16, 16, 1], \"Re\": 100, \"dt\": 0.01, "
                       "\"T_final\": 1}");
    double rows[16][5], nu = 0.01;
    size_t n = read_rows(rows, 16);

    (void)state;
    assert_int_equal(metric(m, "n_steps"), 100);
    assert_true(metric(m, "final_time") == 1.0);
    assert_true(rel(metric(m, "energy"), 0.25 * exp(-4 * nu)) < 1e-8);
    assert_true(rel(metric(m, "enstrophy"), 0.5 * exp(-4 * nu)) < 1e-8);
    assert_true(rel(metric(m, "dissipation"), 2 * nu * 0.5 * exp(-4 * nu)) < 1e-8);
    assert_true(rel(metric(m, "max_velocity"), exp(-2 * nu)) < 1e-8);
    assert_true(rel(metric(m, "max_vorticity"), 2 * exp(-2 * nu)) < 1e-8);
    assert_true(metric(m, "divergence_max") < 1e-12);
    assert_true(metric_bool(m, "convergence"));
    assert_int_equal(n, 11);
    for (size_t i = 0; i < n; i++) {
        assert_true(fabs(rows[i][0] - 0.1 * (double)i) < 1e-14);
        assert_true(rel(rows[i][1], 0.25 * exp(-4 * nu * rows[i][0])) < 1e-8);
    }
    json_decref(m);

    /* [nx, ny] is the same 2D solver. */
    m = run_ok("{\"grid_size\": [16, 16], \"Re\": 100, \"T_final\": 0.1}");
    assert_true(rel(metric(m, "energy"), 0.25 * exp(-0.4 * nu)) < 1e-8);
    json_decref(m);
}

/* The energy error of the 2D case at T = 1, Re = 1 (nu k^2 dt = 0.1 and 0.05, well
 * inside RK4's stability interval): halving dt divides it by 2^4 = 16; accepted
 * [12, 20]. */
static void test_temporal_convergence(void **state)
{
    static const char *const runs[2] = {
        "{\"grid_size\": [8, 8, 1], \"Re\": 1, \"dt\": 0.05, \"T_final\": 1}",
        "{\"grid_size\": [8, 8, 1], \"Re\": 1, \"dt\": 0.025, \"T_final\": 1}",
    };
    double error[2];

    (void)state;
    for (int i = 0; i < 2; i++) {
        json_t *m = run_ok(runs[i]);
        error[i] = rel(metric(m, "energy"), 0.25 * exp(-4.0));
        json_decref(m);
    }
    print_message("energy error at dt = 0.05: %.3e, 0.025: %.3e, ratio %.2f\n",
                  error[0], error[1], error[0] / error[1]);
    assert_true(error[0] > 1e-7); /* time stepping, far above round-off */
    assert_in_range((long)(error[0] / error[1] * 100), 1200, 2000);
}

/* 3D Taylor-Green at t = 0 (the first time series row): E = 1/8, Z = 3/8, max |u| = 1
 * at grid points, to round-off. */
static void test_tg3d_initial(void **state)
{
    json_t *m = run_ok("{\"grid_size\": [16, 16, 16], \"dt\": 0.01, \"T_final\": "
                       "0.01}");
    double rows[4][5];
    size_t n = read_rows(rows, 4);

    (void)state;
    assert_int_equal(n, 2);
    assert_true(rows[0][0] == 0);
    assert_true(fabs(rows[0][1] - 0.125) < 1e-15);
    assert_true(fabs(rows[0][2] - 0.375) < 1e-14);
    assert_true(fabs(rows[0][3] - 2 * 0.01 * 0.375) < 1e-16);
    assert_true(fabs(rows[0][4] - 1) < 1e-14);
    assert_true(rows[1][0] == 0.01);
    assert_int_equal(metric(m, "n_steps"), 1);
    assert_true(metric(m, "divergence_max") < 1e-10);
    json_decref(m);
}

/* A random field: divergence at round-off at every row, the requested energy at
 * t = 0, and the energy budget E(T) - E(0) = -int_0^T 2 nu Z dt (the dealiased
 * nonlinear term conserves energy; the trapezoid rule over 40 steps, 1e-4). */
static void test_random_3d(void **state)
{
    json_t *m = run_ok("{\"grid_size\": [16, 16, 16], \"initial\": \"random\", "
                       "\"seed\": 3, \"k0\": 3, \"E0\": 0.5, \"Re\": 200, \"dt\": "
                       "0.005, \"T_final\": 0.2, \"output_every\": 1}");
    double rows[64][5], dissipated = 0;
    size_t n = read_rows(rows, 64);

    (void)state;
    assert_int_equal(n, 41);
    assert_true(fabs(rows[0][1] - 0.5) < 1e-14);
    assert_true(metric(m, "divergence_max") < 1e-10);
    assert_true(metric_bool(m, "convergence"));
    assert_true(metric(m, "cfl_max") > 0.01 && metric(m, "cfl_max") < 1);
    for (size_t i = 1; i < n; i++) {
        assert_true(rows[i][1] < rows[i - 1][1]);
        dissipated +=
            0.5 * (rows[i][3] + rows[i - 1][3]) * (rows[i][0] - rows[i - 1][0]);
    }
    assert_true(rows[0][1] - rows[n - 1][1] > 0.01); /* it does decay */
    assert_true(rel(rows[0][1] - rows[n - 1][1], dissipated) < 1e-4);
    assert_true(rows[n - 1][2] != rows[0][2]);
    json_decref(m);
}

/* The same inputs give the same bits: every metric but the timings, and the file. */
static void test_deterministic(void **state)
{
    static const char *const timing[] = {"execution_time", "time_per_step", "fft_time",
                                         "fft_fraction"};
    static const char params[] = "{\"grid_size\": [16, 16, 16], \"initial\": "
                                 "\"random\", \"seed\": 7, \"T_final\": 0.05, "
                                 "\"output_every\": 1}";
    json_t *a = run_ok(params), *b, *c;
    char *fa = read_file(csv_path), *fb;
    const char *key;
    json_t *va;

    (void)state;
    b = run_ok(params);
    fb = read_file(csv_path);
    assert_string_equal(fa, fb);
    for (size_t i = 0; i < 4; i++) {
        json_object_del(a, timing[i]);
        json_object_del(b, timing[i]);
    }
    json_object_foreach(a, key, va)
    {
        json_t *vb = json_object_get(b, key);
        assert_non_null(vb);
        if (json_is_real(va)) {
            double x = json_real_value(va), y = json_real_value(vb);
            assert_memory_equal(&x, &y, sizeof(x));
        } else {
            assert_true(json_equal(va, vb));
        }
    }
    assert_int_equal(json_object_size(a), json_object_size(b));
    c = run_ok("{\"grid_size\": [16, 16, 16], \"initial\": \"random\", \"seed\": 8, "
               "\"T_final\": 0.05}");
    assert_true(metric(c, "max_velocity") != metric(a, "max_velocity"));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    free(fa);
    free(fb);
}

/* cfl_max > 0: the step keeps CFL <= cfl_max and lands exactly on T_final; threads
 * give the same physics. */
static void test_adaptive_and_threads(void **state)
{
    json_t *m = run_ok("{\"grid_size\": [16, 16, 16], \"initial\": \"random\", "
                       "\"E0\": 0.5, \"cfl_max\": 0.5, \"dt\": 0.1, \"T_final\": "
                       "0.37, \"output_every\": 0}");
    json_t *t1, *t2;
    double rows[4][5];

    (void)state;
    assert_true(metric(m, "final_time") == 0.37);
    assert_true(metric(m, "cfl_max") <= 0.5 * (1 + 1e-12));
    assert_true(metric(m, "cfl_max") > 0.4);
    assert_true(metric_bool(m, "convergence"));
    assert_int_equal(read_rows(rows, 4), 2);
    assert_true(rows[1][0] == 0.37);
    json_decref(m);

    t1 = run_ok("{\"grid_size\": [16, 16, 16], \"T_final\": 0.05, \"threads\": 1}");
    t2 = run_ok("{\"grid_size\": [16, 16, 16], \"T_final\": 0.05, \"threads\": 2}");
    assert_true(rel(metric(t2, "energy"), metric(t1, "energy")) < 1e-13);
    assert_true(rel(metric(t2, "enstrophy"), metric(t1, "enstrophy")) < 1e-13);
    json_decref(t1);
    json_decref(t2);
}

/* A step whose CFL number is above 1.35, the RK4 stability limit of the scheme, is
 * not a success even when the field has not blown up yet: the run stops before that
 * step with exit status 1, the reason in err and in the result's "error", success and
 * convergence false, cfl_max the offending CFL number, and a time series of finite
 * rows. The first case is issue 9's: CFL 2.55 at t = 0 was success true, exit 0. */
static void test_unstable(void **state)
{
    static const struct {
        const char *params, *msg;
        int steps; /* steps taken before the stop; -1: any */
    } cases[] = {
        {"{\"grid_size\": [16, 16, 16], \"dt\": 1, \"T_final\": 5}",
         "navier-stokes: unstable at t=0 (step 0): CFL 2.546 is above 1.35, the RK4 "
         "stability limit of this scheme; reduce dt (to 0.53 or less here) or set "
         "cfl_max > 0 to adapt the step",
         0},
        /* An almost inviscid random field: stops at the first step, at CFL > 1.35. */
        {"{\"grid_size\": [16, 16, 16], \"initial\": \"random\", \"E0\": 0.5, "
         "\"k0\": 6, \"Re\": 1e6, \"dt\": 0.4, \"T_final\": 100, "
         "\"output_every\": 1}",
         NULL, -1},
        /* Just above the limit: 2D Taylor-Green, rate 32 / (2 pi) at t = 0. */
        {"{\"grid_size\": [32, 32, 1], \"dt\": 0.266, \"T_final\": 1}",
         "navier-stokes: unstable at t=0 (step 0): CFL 1.355 is above 1.35", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err;
        json_t *m;
        double rows[256][5];
        size_t n;

        assert_int_equal(run_ns(cases[i].params, &m, &err), 1);
        print_message("%s\n", err.msg);
        if (cases[i].msg)
            assert_non_null(strstr(err.msg, cases[i].msg));
        assert_non_null(strstr(err.msg, "navier-stokes: unstable at t="));
        assert_non_null(strstr(err.msg, "the RK4 stability limit of this scheme"));
        assert_string_equal(json_string_value(json_object_get(m, "error")), err.msg);
        assert_false(metric_bool(m, "success"));
        assert_false(metric_bool(m, "convergence"));
        assert_true(metric(m, "cfl_max") > 1.35);
        if (cases[i].steps >= 0)
            assert_int_equal(metric(m, "n_steps"), cases[i].steps);
        /* Rows up to the last state reached, which is still finite. */
        n = read_rows(rows, 256);
        assert_true(n >= 1 && n <= (size_t)metric(m, "n_steps") + 1);
        json_decref(m);
    }
}

/* Just below the limit a fixed step is a success; adaptive steps stay below it. */
static void test_cfl_limit_ok(void **state)
{
    json_t *m = run_ok("{\"grid_size\": [32, 32, 1], \"dt\": 0.265, "
                       "\"T_final\": 1}");

    (void)state;
    assert_true(metric(m, "cfl_max") < 1.35 && metric(m, "cfl_max") > 1.3);
    json_decref(m);
    m = run_ok("{\"grid_size\": [16, 16, 16], \"initial\": \"random\", \"E0\": 0.5, "
               "\"Re\": 1e6, \"cfl_max\": 1.35, \"dt\": 1, \"T_final\": 2}");
    assert_true(metric(m, "cfl_max") <= 1.35 * (1 + 1e-12));
    json_decref(m);
}

/* Bad parameters: refused with a message naming the parameter, exit status 2, before
 * anything is computed or written. */
static void test_bad_params(void **state)
{
    static const struct {
        const char *params, *msg;
    } cases[] = {
        {"{\"Re\": -1}", "navier-stokes: Re: expected a number > 0, got -1"},
        {"{\"Re\": 0}", "navier-stokes: Re: expected a number > 0, got 0"},
        {"{\"dt\": 0}", "navier-stokes: dt: expected a number > 0, got 0"},
        {"{\"dt\": -0.1}", "navier-stokes: dt: expected a number > 0, got -0.1"},
        {"{\"T_final\": 0.005}",
         "navier-stokes: T_final: must be >= dt (0.01), got 0.005"},
        {"{\"grid_size\": [33, 32, 32]}",
         "navier-stokes: grid_size[0]: expected a positive even integer, got 33"},
        {"{\"grid_size\": [32, 31, 32]}",
         "navier-stokes: grid_size[1]: expected a positive even integer, got 31"},
        {"{\"grid_size\": [32, 32, 3]}", "navier-stokes: grid_size[2]: expected a "
                                         "positive even integer (or 1 for 2D), got 3"},
        {"{\"grid_size\": [0, 32, 32]}",
         "navier-stokes: grid_size[0]: expected an integer in [1, 65536], got 0"},
        {"{\"grid_size\": [32]}", "navier-stokes: grid_size: expected a list of "
                                  "integers in [1, 65536] with 2 to 3 items, got [32]"},
        {"{\"grid_size\": [1024, 1024, 1024]}",
         "navier-stokes: grid_size: [1024, 1024, 1024] needs 120.2 GiB of memory, more "
         "than the limit of 2 GiB; reduce the resolution"},
        {"{\"Re\": 1}",
         "navier-stokes: dt: 0.01 is above the RK4 stability limit 0.00927 of the "
         "viscous term on this grid (2.78 / (nu k_max^2), nu = 1/Re = 1, k_max^2 = "
         "300); reduce dt, raise Re, or set cfl_max > 0 to adapt the step"},
        {"{\"dt\": 1e-12}", "navier-stokes: dt: T_final / dt = 1e+12 steps, more than "
                            "the limit of 1e+09; raise dt"},
        {"{\"initial\": \"gaussian\"}",
         "navier-stokes: initial: expected one of "
         "\"taylor-green\", \"random\", got \"gaussian\""},
        {"{\"cfl_max\": 3}",
         "navier-stokes: cfl_max: expected a number in [0, 1.35], got 3"},
        {"{\"cfl_max\": 1.4}",
         "navier-stokes: cfl_max: expected a number in [0, 1.35], got 1.4"},
        {"{\"threads\": 0}",
         "navier-stokes: threads: expected an integer in [1, 256], got 0"},
        {"{\"Reynolds\": 100}",
         "navier-stokes: unknown parameter \"Reynolds\" (did you mean \"Re\"?); known "
         "parameters: Re, dt, "
         "T_final, grid_size, initial, seed, k0, E0, cfl_max, output_every, threads"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err;
        json_t *m;

        unlink(csv_path);
        assert_int_equal(run_ns(cases[i].params, &m, &err), 2);
        assert_string_equal(err.msg, cases[i].msg);
        assert_int_equal(json_object_size(m), 0);
        assert_int_not_equal(access(csv_path, F_OK), 0);
        json_decref(m);
    }
}

/* Rows at step 0, every output_every steps and the last step (once). */
static void test_timeseries_rows(void **state)
{
    static const struct {
        int every;
        size_t rows;
        double last_but_one;
    } cases[] = {{10, 4, 0.2}, {0, 2, 0}, {1, 26, 0.24}, {5, 6, 0.2}, {100, 2, 0}};
    double rows[32][5];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char params[160];
        json_t *m;
        size_t n;

        snprintf(params, sizeof(params),
                 "{\"grid_size\": [8, 8, 1], \"T_final\": 0.25, \"output_every\": %d}",
                 cases[i].every);
        m = run_ok(params);
        n = read_rows(rows, 32);
        assert_int_equal(n, cases[i].rows);
        assert_true(rows[0][0] == 0);
        assert_true(rows[n - 1][0] == 0.25);
        assert_true(fabs(rows[n - 2][0] - cases[i].last_but_one) < 1e-15);
        assert_int_equal(metric(m, "n_steps"), 25);
        json_decref(m);
    }
}

/* T_final not a multiple of dt: the last step is shortened to land on it. */
static void test_last_step(void **state)
{
    json_t *m = run_ok("{\"grid_size\": [8, 8, 1], \"Re\": 10, \"dt\": 0.3, "
                       "\"T_final\": 1}");

    (void)state;
    assert_int_equal(metric(m, "n_steps"), 4);
    assert_true(metric(m, "final_time") == 1.0);
    assert_true(rel(metric(m, "energy"), 0.25 * exp(-0.4)) < 1e-4);
    json_decref(m);
}

/* The row: every default valid, the default run is the 32^3 Taylor-Green vortex. The
 * parameter check itself (what `sweep run` and the package reader call before any
 * task runs) refuses a grid the model cannot allocate and a fixed dt above the
 * viscous limit, naming the parameter, the value and the limit. */
static void test_row(void **state)
{
    const struct model *m = &model_navier_stokes;
    json_t *typed = NULL, *empty = json_object(), *p;
    struct err err;

    (void)state;
    assert_string_equal(m->name, "navier-stokes");
    for (size_t i = 0; i < m->nparams; i++)
        json_decref(model_param_default(&m->params[i]));
    assert_int_equal(model_params_check(m, empty, &typed, &err), SWEEP_OK);
    assert_int_equal(json_object_size(typed), m->nparams);
    json_decref(typed);
    json_decref(empty);

    p = json_loads("{\"grid_size\": [65536, 65536, 65536]}", 0, NULL);
    typed = NULL;
    assert_int_equal(model_params_check(m, p, &typed, &err), SWEEP_EINVAL);
    assert_null(typed);
    assert_string_equal(err.msg,
                        "navier-stokes: grid_size: [65536, 65536, 65536] needs "
                        "31458240.0 GiB of memory, more than the limit of 2 "
                        "GiB; reduce the resolution");
    json_decref(p);
    p = json_loads("{\"Re\": 1, \"dt\": 0.1}", 0, NULL);
    assert_int_equal(model_params_check(m, p, NULL, &err), SWEEP_EINVAL);
    assert_non_null(strstr(err.msg, "navier-stokes: dt: 0.1 is above the RK4 "
                                    "stability limit 0.00927"));
    json_decref(p);
}

/* A directory that cannot be written: exit status 1 and why. */
static void test_unwritable_outdir(void **state)
{
    const struct model *m = &model_navier_stokes;
    json_t *typed = NULL, *empty = json_object(), *metrics = json_object();
    struct model_args args = {.model = m, .attempt = 1, .outdir = "/nonexistent/dir"};
    struct err err;

    (void)state;
    assert_int_equal(model_params_check(m, empty, &typed, &err), SWEEP_OK);
    args.params = typed;
    assert_int_equal(m->run(&args, metrics, &err), 1);
    assert_string_equal(err.msg, "navier-stokes: cannot write "
                                 "/nonexistent/dir/timeseries.csv: No such file or "
                                 "directory");
    json_decref(metrics);
    json_decref(typed);
    json_decref(empty);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(outdir))
        return -1;
    snprintf(csv_path, sizeof(csv_path), "%s/timeseries.csv", outdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(csv_path);
    return rmdir(outdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tg2d_decay),
        cmocka_unit_test(test_temporal_convergence),
        cmocka_unit_test(test_tg3d_initial),
        cmocka_unit_test(test_random_3d),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_adaptive_and_threads),
        cmocka_unit_test(test_unstable),
        cmocka_unit_test(test_cfl_limit_ok),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_timeseries_rows),
        cmocka_unit_test(test_last_step),
        cmocka_unit_test(test_row),
        cmocka_unit_test(test_unwritable_outdir),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
