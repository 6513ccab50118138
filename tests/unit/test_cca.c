/* Unit tests of the cca model (src/models/cca.c): the same seed gives the same metrics
 * bit for bit and another seed other ones; small boxes aggregate into one cluster (2D,
 * 3D, sticking_probability < 1, other mobility exponents, crowded boxes where moves are
 * refused), and the final cluster read back from the positions file has n particles,
 * connected by nearest-neighbour steps in unwrapped coordinates, on n distinct sites of
 * the periodic box; a run cut at max_steps = 0, 1, 10, ... is a prefix of the full run
 * (n_clusters never rises, steps and time never fall) and each end state passes the
 * model's own check (every particle alone on its site, cluster sizes summing to n);
 * reaching max_steps is not a failure and still reports every metric; a dimer and a
 * trimer built across the periodic boundary have the Rg of their unwrapped shapes; df
 * lies in [1.30, 1.60] for 1,000 particles in 2D (seeds 1 to 3; over seeds 1 to 20 it
 * is 1.455 +- 0.035, min 1.41, max 1.53; literature 1.44 to 1.45) and in [1.65, 2.0]
 * for 2,000 particles in 3D at volume_fraction 0.01 (seeds 1 to 10: 1.75 to 1.91;
 * literature about 1.78); and the failure paths: bad parameters (status 2, exact
 * messages, no metrics), a run too large for memory and an unknown image format
 * (status 2 before any computation), an image or positions file that cannot be
 * written (status 3, metrics kept). About a second at -O2, a few under ASan at -O0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/jsonx.h"
#include "common/xalloc.h"
#include "models/model.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct model model_cca;

static char outdir[] = "/tmp/test_cca.XXXXXX";

/* Runs the model on a JSON parameter object as `sweep sim` does: the row's check, then
 * run, writing into dir. Returns the exit status (2 when the check refuses). */
static int
run_in(const char *dir, const char *params, json_t **metrics, struct err *err)
{
    const struct model *m = &model_cca;
    struct model_args args = {.model = m, .attempt = 1, .outdir = dir};
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

/* A run that must succeed; returns its metrics. */
static json_t *run_ok(const char *params)
{
    struct err err;
    json_t *m;
    int rc = run_in(outdir, params, &m, &err);

    if (rc != 0)
        fail_msg("%s: status %d: %s", params, rc, err.msg);
    return m;
}

static double metric(const json_t *metrics, const char *name)
{
    const json_t *v = json_object_get(metrics, name);

    if (!json_is_number(v))
        fail_msg("metric %s: not a number", name);
    return json_number_value(v);
}

/* The metrics without execution_time, as canonical JSON (free it). */
static char *canon_without_time(json_t *m)
{
    json_t *copy = json_copy(m);
    char *s;

    json_object_del(copy, "execution_time");
    s = jsonx_canon_str(copy);
    json_decref(copy);
    return s;
}

/* Reads outdir/name, the CSV of cluster_write_positions, into xyz (3 per line). */
static size_t read_positions(const char *name, double **xyz)
{
    char *path = xasprintf("%s/%s", outdir, name), line[256];
    FILE *f = fopen(path, "r");
    size_t n = 0, cap = 0;

    assert_non_null(f);
    *xyz = NULL;
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "x,y,z\n");
    while (fgets(line, sizeof(line), f)) {
        char *p = line;

        *xyz = xgrow(*xyz, &cap, 3 * (n + 1), sizeof(double));
        for (int k = 0; k < 3; k++) {
            (*xyz)[3 * n + k] = strtod(p, &p);
            assert_int_equal(*p, k < 2 ? ',' : '\n');
            p++;
        }
        n++;
    }
    fclose(f);
    unlink(path);
    free(path);
    return n;
}

/* The cluster in xyz: on lattice sites, distinct even after wrapping into the box of
 * side L, and connected by nearest-neighbour steps (unwrapped). O(n^2). */
static void check_cluster(const double *xyz, size_t n, long side)
{
    size_t *queue = xcalloc(n, sizeof(*queue)), head = 0, tail = 1;
    char *seen = xcalloc(n, 1);

    for (size_t i = 0; i < 3 * n; i++)
        assert_true(xyz[i] == floor(xyz[i]));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            bool same = true;
            for (int k = 0; k < 3; k++) {
                long d = (long)(xyz[3 * i + k] - xyz[3 * j + k]);
                same = same && ((d % side) + side) % side == 0;
            }
            assert_false(same);
        }
    seen[0] = 1;
    while (head < tail) {
        size_t i = queue[head++];
        for (size_t j = 0; j < n; j++) {
            double d = 0;
            for (int k = 0; k < 3; k++)
                d += fabs(xyz[3 * i + k] - xyz[3 * j + k]);
            if (!seen[j] && d == 1) {
                seen[j] = 1;
                queue[tail++] = j;
            }
        }
    }
    assert_int_equal(tail, n);
    free(queue);
    free(seen);
}

static void test_deterministic(void **state)
{
    const char *a = "{\"n_particles\": 300, \"seed\": 7}";
    const char *b = "{\"n_particles\": 300, \"seed\": 8}";
    json_t *m1 = run_ok(a), *m2 = run_ok(a), *m3 = run_ok(b);
    char *s1 = canon_without_time(m1), *s2 = canon_without_time(m2);
    char *s3 = canon_without_time(m3);

    (void)state;
    assert_string_equal(s1, s2);
    assert_string_not_equal(s1, s3);
    assert_true(metric(m1, "rg") != metric(m3, "rg"));
    free(s1);
    free(s2);
    free(s3);
    json_decref(m1);
    json_decref(m2);
    json_decref(m3);
}

/* Runs to the end aggregate into one connected cluster of n particles. */
static void test_one_cluster(void **state)
{
    static const char *const cases[] = {
        "{\"n_particles\": 200}",
        "{\"n_particles\": 200, \"dim\": 3, \"seed\": 1}",
        "{\"n_particles\": 100, \"sticking_probability\": 0.2, \"seed\": 2}",
        "{\"n_particles\": 150, \"volume_fraction\": 0.3, \"mobility_exponent\": 0}",
        "{\"n_particles\": 100, \"volume_fraction\": 0.6, \"sticking_probability\": "
        "0.1, \"mobility_exponent\": 1, \"seed\": 3}",
        "{\"n_particles\": 120, \"volume_fraction\": 0.4, \"dim\": 3, "
        "\"sticking_probability\": 0.3, \"mobility_exponent\": -1}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = json_loads(cases[i], 0, NULL), *m;
        char *params;
        double *xyz;
        size_t n;

        json_object_set_new(in, "positions", json_string("p.csv"));
        params = jsonx_canon_str(in);
        m = run_ok(params);
        n = (size_t)json_integer_value(json_object_get(in, "n_particles"));
        assert_int_equal(metric(m, "n_clusters"), 1);
        assert_int_equal(metric(m, "largest_cluster"), n);
        assert_int_equal(metric(m, "n_particles"), n);
        assert_true(metric(m, "steps") < 1e10);
        assert_int_equal(read_positions("p.csv", &xyz), n);
        check_cluster(xyz, n, (long)metric(m, "box_size"));
        free(xyz);
        free(params);
        json_decref(in);
        json_decref(m);
    }
}

/* A run stopped after k steps is the start of the run stopped later: n_clusters never
 * rises, steps and time never fall. Every end state passes the model's own check
 * (status 0): each particle alone on its site, cluster sizes summing to n. */
static void test_prefix(void **state)
{
    static const char *const base[] = {
        "\"n_particles\": 200, \"seed\": 5",
        "\"n_particles\": 100, \"volume_fraction\": 0.5, \"sticking_probability\": "
        "0.3, \"seed\": 6",
        "\"n_particles\": 150, \"dim\": 3, \"volume_fraction\": 0.2, "
        "\"sticking_probability\": 0.5, \"seed\": 7",
    };
    static const long long stops[] = {0, 1, 10, 100, 1000, 10000, 100000, -1};

    (void)state;
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
        double clusters = INFINITY, steps = -1, t = -1;

        for (size_t j = 0; j < sizeof(stops) / sizeof(stops[0]); j++) {
            char params[256];
            json_t *m;

            if (stops[j] < 0)
                snprintf(params, sizeof(params), "{%s}", base[i]);
            else
                snprintf(params, sizeof(params), "{%s, \"max_steps\": %lld}", base[i],
                         stops[j]);
            m = run_ok(params);
            assert_true(metric(m, "n_clusters") <= clusters);
            assert_true(metric(m, "steps") >= steps);
            assert_true(metric(m, "time") >= t);
            if (stops[j] >= 0)
                assert_true(metric(m, "steps") <= stops[j]);
            assert_true(metric(m, "largest_cluster") + metric(m, "n_clusters") - 1 <=
                        metric(m, "n_particles"));
            clusters = metric(m, "n_clusters");
            steps = metric(m, "steps");
            t = metric(m, "time");
            json_decref(m);
        }
        assert_int_equal(clusters, 1);
    }
}

/* Stopping at max_steps is a success with n_clusters > 1 and every metric reported;
 * nothing is big enough for a df (null). */
static void test_max_steps(void **state)
{
    json_t *m = run_ok("{\"n_particles\": 500, \"max_steps\": 1000}");
    static const char *const numbers[] = {
        "n_particles",     "rg",
        "max_radius",      "fit_rmin",
        "fit_rmax",        "df_rg_clusters",
        "steps",           "time",
        "box_size",        "n_clusters",
        "largest_cluster", "actual_volume_fraction",
        "execution_time",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        metric(m, numbers[i]);
    assert_int_equal(metric(m, "steps"), 1000);
    assert_true(metric(m, "n_clusters") > 1);
    assert_true(metric(m, "largest_cluster") < 500);
    assert_true(json_is_null(json_object_get(m, "df")));
    assert_true(json_is_null(json_object_get(m, "df_fit_r2")));
    assert_int_equal(metric(m, "box_size"), 100); /* sqrt(500 / 0.05) */
    assert_true(metric(m, "actual_volume_fraction") == 0.05);
    json_decref(m);
}

/* The box side: (n / phi)^(1/dim) rounded, raised until the box has room to spare. */
static void test_box_size(void **state)
{
    static const struct {
        const char *params;
        int side;
    } cases[] = {
        {"{\"n_particles\": 1000}", 141},                       /* 141.42 */
        {"{\"n_particles\": 1000, \"dim\": 3}", 27},            /* 27.14 */
        {"{\"n_particles\": 1}", 4},                            /* 4.47 */
        {"{\"n_particles\": 10, \"volume_fraction\": 0.9}", 4}, /* 3.33, 9 < 10 */
        {"{\"n_particles\": 9, \"volume_fraction\": 0.99}", 4}, /* 3.02, 9 = 9 */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *m = run_ok(cases[i].params);

        assert_int_equal(metric(m, "box_size"), cases[i].side);
        json_decref(m);
    }
}

/* A dimer and a trimer in boxes of side 2 and 4, where joining across the boundary is
 * common: their Rg is that of the unwrapped shape (0.5; straight sqrt(2/3) or bent
 * 2/3), not of wrapped coordinates (up to 1.25 for a trimer in the box of side 4). */
static void test_unwrapped(void **state)
{
    (void)state;
    for (int seed = 0; seed < 20; seed++) {
        char params[128];
        json_t *m;
        double rg;

        snprintf(params, sizeof(params),
                 "{\"n_particles\": 2, \"volume_fraction\": 0.5, \"seed\": %d}", seed);
        m = run_ok(params);
        assert_int_equal(metric(m, "box_size"), 2);
        assert_true(fabs(metric(m, "rg") - 0.5) < 1e-12);
        json_decref(m);
        snprintf(params, sizeof(params),
                 "{\"n_particles\": 3, \"volume_fraction\": 0.2, \"seed\": %d}", seed);
        m = run_ok(params);
        rg = metric(m, "rg");
        assert_int_equal(metric(m, "box_size"), 4);
        assert_true(fabs(rg - sqrt(2.0 / 3)) < 1e-12 || fabs(rg - 2.0 / 3) < 1e-12);
        json_decref(m);
    }
}

/* df from Rg ~ s^(1/df) over the clusters formed, against the literature (2D about
 * 1.44, 3D about 1.78; see the opening comment for the measured spread). */
static void test_df(void **state)
{
    (void)state;
    for (int seed = 1; seed <= 3; seed++) {
        char params[128];
        json_t *m;

        snprintf(params, sizeof(params), "{\"n_particles\": 1000, \"seed\": %d}", seed);
        m = run_ok(params);
        assert_true(metric(m, "df") >= 1.30 && metric(m, "df") <= 1.60);
        assert_true(metric(m, "df_fit_r2") > 0.8);
        assert_true(metric(m, "df_rg_clusters") >= 50);
        json_decref(m);
    }
    json_t *m = run_ok("{\"n_particles\": 2000, \"dim\": 3, \"volume_fraction\": 0.01, "
                       "\"seed\": 1}");
    assert_true(metric(m, "df") >= 1.65 && metric(m, "df") <= 2.0);
    json_decref(m);
}

static void test_bad_params(void **state)
{
    static const struct {
        const char *params, *msg;
    } cases[] = {
        {"{\"n_particles\": 0}", "cca: n_particles: expected an integer >= 1, got 0"},
        {"{\"sticking_probability\": 0}",
         "cca: sticking_probability: expected a number in (0, 1], got 0"},
        {"{\"sticking_probability\": 1.5}",
         "cca: sticking_probability: expected a number in (0, 1], got 1.5"},
        {"{\"particle_radius\": 0}",
         "cca: particle_radius: expected a number > 0, got 0"},
        {"{\"dim\": 1}", "cca: dim: expected an integer in [2, 3], got 1"},
        {"{\"volume_fraction\": 0}",
         "cca: volume_fraction: expected a number in (0, 1), got 0"},
        {"{\"volume_fraction\": 1}",
         "cca: volume_fraction: expected a number in (0, 1), got 1"},
        {"{\"max_steps\": -1}", "cca: max_steps: expected an integer >= 0, got -1"},
        {"{\"mobility_exponent\": 3.5}",
         "cca: mobility_exponent: expected a number in [-3, 3], got 3.5"},
        {"{\"image\": 5}", "cca: image: expected a string, got 5"},
        {"{\"image\": \"cluster.gif\"}",
         "cca: image: expected a file name ending in .png, .svg or .pdf, got "
         "\"cluster.gif\""},
        {"{\"n_particles\": 100000000, \"volume_fraction\": 0.01}",
         "cca: n_particles: 100000000 particles at volume_fraction 0.01 need a lattice "
         "of side 100000 and 59.6 GiB of memory, more than the limit of 2 GiB; lower "
         "n_particles or raise volume_fraction"},
        {"{\"n_particles\": 1000, \"volume_fraction\": 1e-9}",
         "cca: n_particles: 1000 particles at volume_fraction 1e-09 need a lattice of "
         "side 1000000 and 3725.3 GiB of memory, more than the limit of 2 GiB; lower "
         "n_particles or raise volume_fraction"},
        {"{\"n_particles\": 9000000000000000000, \"dim\": 3}",
         "cca: n_particles: 9000000000000000000 particles at volume_fraction 0.05 "
         "need a lattice of side 5646216 and 2682208953153.5 GiB of memory, more than "
         "the limit of 2 GiB; lower n_particles or raise volume_fraction"},
        {"{\"volume\": 0.1}",
         "cca: unknown parameter \"volume\" (did you mean \"volume_fraction\"?); known "
         "parameters: n_particles, seed, "
         "sticking_probability, particle_radius, dim, image, positions, "
         "volume_fraction, max_steps, mobility_exponent"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err;
        json_t *m;

        assert_int_equal(run_in(outdir, cases[i].params, &m, &err), 2);
        assert_string_equal(err.msg, cases[i].msg);
        assert_int_equal(json_object_size(m), 0);
        json_decref(m);
    }
}

/* The picture is written; an unwritable image or positions file fails with status 3
 * and the metrics of the run kept. */
static void test_files(void **state)
{
    static const struct {
        const char *params, *msg;
    } bad[] = {
        {"{\"n_particles\": 50, \"image\": \"c.png\"}",
         "cca: image: cannot write /nonexistent/dir/c.png: No such file or directory"},
        {"{\"n_particles\": 50, \"positions\": \"p.csv\"}",
         "cca: positions: cannot write /nonexistent/dir/p.csv: No such file or "
         "directory"},
    };
    char *png = xasprintf("%s/c.png", outdir), magic[8] = {0};
    json_t *m = run_ok("{\"n_particles\": 200, \"image\": \"c.png\"}");
    FILE *f = fopen(png, "rb");

    (void)state;
    assert_non_null(f);
    assert_int_equal(fread(magic, 1, 8, f), 8);
    assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
    fclose(f);
    unlink(png);
    free(png);
    json_decref(m);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err;

        assert_int_equal(run_in("/nonexistent/dir", bad[i].params, &m, &err), 3);
        assert_string_equal(err.msg, bad[i].msg);
        assert_int_equal(metric(m, "n_clusters"), 1);
        metric(m, "execution_time");
        json_decref(m);
    }
}

/* The row: every default valid; every metric a run reports is in the row, and every
 * metric of the row is reported. */
static void test_row(void **state)
{
    const struct model *row = &model_cca;
    json_t *m = run_ok("{\"n_particles\": 300}");
    const char *key;
    json_t *val;

    (void)state;
    assert_string_equal(row->name, "cca");
    for (size_t i = 0; i < row->nparams; i++)
        json_decref(model_param_default(&row->params[i]));
    json_object_foreach(m, key, val)
    {
        size_t i = 0;
        while (i < row->nmetrics && strcmp(row->metrics[i].name, key) != 0)
            i++;
        if (i == row->nmetrics)
            fail_msg("metric %s is not in the row", key);
    }
    for (size_t i = 0; i < row->nmetrics; i++)
        assert_non_null(json_object_get(m, row->metrics[i].name));
    assert_int_equal(json_object_size(m), row->nmetrics);
    json_decref(m);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(outdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(outdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_one_cluster),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_max_steps),
        cmocka_unit_test(test_box_size),
        cmocka_unit_test(test_unwrapped),
        cmocka_unit_test(test_df),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_row),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
