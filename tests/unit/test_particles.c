/* Unit tests of the particles model (src/models/particles.c): Lennard-Jones molecular
 * dynamics. Published values: the LAMMPS `in.lj` / `in.melt` benchmark (fcc at density
 * 0.8442, lj/cut 2.5, velocity create 3.0) logs E_pair = -6.7733681 and Press =
 * -3.7033504 at step 0 with 4000 atoms (-3.7027964 with 32000; both give a virial part
 * of -6.2353173 once the kinetic part rho T (N - 1) / N is taken off), which the
 * perfect lattice must reproduce for any N = 4 m^3 and seed; and the same melt started
 * at T = 1.44 reaches T = 0.703, E_pair = -5.675, Press = 0.711 after 1000 steps with
 * 32000 atoms, which a 256-particle run must match within the loose band stated in
 * test_melt. Also: energy conservation, naive and cells agreeing, determinism, the
 * initial temperature and total momentum, the lattice for N != 4 m^3, and bad
 * parameters with their messages. The test includes the model's source to reach its
 * state (positions, velocities, the loop chosen); the static library's copy of the
 * model is then never linked. Sizes are small so that each test takes seconds under
 * ASan at -O0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "models/particles.c"

#include "common/jsonx.h"

#include <stdio.h>

#define LAMMPS_EPAIR (-6.7733681)
#define LAMMPS_PVIRIAL (-6.2353173)

/* Runs the model with the parameters in JSON text; returns its status. */
static int run(const char *params, json_t **metrics, struct err *err)
{
    json_t *in = json_loads(params, 0, NULL), *typed = NULL;
    struct model_args args = {.model = &model_particles, .attempt = 1, .outdir = "."};
    int rc;

    assert_non_null(in);
    err_clear(err);
    *metrics = json_object();
    /* As sweep sim: parameters the check refuses exit 2 before anything runs. */
    if (model_params_check(&model_particles, in, &typed, err)) {
        json_decref(in);
        return 2;
    }
    args.params = typed;
    rc = model_particles.run(&args, *metrics, err);
    json_decref(typed);
    json_decref(in);
    return rc;
}

static double metric(const json_t *metrics, const char *name)
{
    const json_t *v = json_object_get(metrics, name);

    if (!json_is_number(v))
        fail_msg("metric %s missing", name);
    return json_number_value(v);
}

/* Sets up the state (lattice, velocities, forces) as a run does. */
static void state_init(struct particles *s, const char *params)
{
    json_t *in = json_loads(params, 0, NULL), *typed = NULL;
    struct model_args args = {.model = &model_particles, .attempt = 1};
    struct err err = {0};

    assert_non_null(in);
    assert_int_equal(model_params_check(&model_particles, in, &typed, &err), 0);
    args.params = typed;
    if (particles_init(s, &args, &err))
        fail_msg("%s: %s", params, err.msg);
    particles_forces(s);
    json_decref(typed);
    json_decref(in);
}

/* |total momentum| */
static double momentum(const struct particles *s)
{
    double p[3] = {0, 0, 0};

    for (int i = 0; i < s->n; i++)
        for (int k = 0; k < 3; k++)
            p[k] += s->vel[3 * i + k];
    return sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
}

/* The perfect fcc lattice at step 0 against the LAMMPS log, with every force loop. */
static void test_lammps_lattice(void **state)
{
    static const struct {
        int n;
        const char *algorithm;
        bool shift;
        enum particles_loop loop;
    } cases[] = {
        {500, "naive", false, PARTICLES_NAIVE},
        {500, "cells", false, PARTICLES_NAIVE}, /* 3 cells per side: all pairs */
        {4000, "cells", false, PARTICLES_CELLS},
        {32, "cells", false, PARTICLES_IMAGES}, /* side 3.36 < 2 * cutoff */
        {108, "naive", true, PARTICLES_NAIVE},
        {4000, "cells", true, PARTICLES_CELLS},
    };
    /* 54 neighbours within 2.5 in this fcc (shells of 12, 6, 24, 12), each pair
     * shifted by -u(2.5). */
    double w, shift = -27 * particles_u(2.5 * 2.5, &w);
    (void)state;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char params[256];
        struct particles s;
        struct err err;
        json_t *m;
        double n = cases[c].n, pkin = 0.8442 * 3.0 * (n - 1) / n;
        double want = LAMMPS_EPAIR + (cases[c].shift ? shift : 0);

        snprintf(params, sizeof(params),
                 "{\"num_particles\": %d, \"algorithm\": \"%s\", \"shift\": %s, "
                 "\"temperature\": 3.0, \"num_steps\": 0, \"seed\": %zu}",
                 cases[c].n, cases[c].algorithm, cases[c].shift ? "true" : "false", c);
        assert_int_equal(run(params, &m, &err), 0);
        if (fabs(metric(m, "potential_energy") - want) > 1e-7 ||
            fabs(metric(m, "pressure") - pkin - LAMMPS_PVIRIAL) > 5e-7)
            fail_msg("case %zu: E_pot %.9f (want %.9f), P - rho T %.9f", c,
                     metric(m, "potential_energy"), want, metric(m, "pressure") - pkin);
        assert_true(fabs(metric(m, "temperature") - 3.0) < 1e-12);
        assert_true(metric(m, "energy_drift") == 0);
        assert_true(metric(m, "steps_completed") == 0);
        json_decref(m);

        state_init(&s, params);
        assert_int_equal(s.loop, cases[c].loop);
        particles_fini(&s);
    }
}

/* The check: 500 particles, 1,000 steps, the defaults (shifted potential, dt
 * = 0.005, T = 0.722). Measured: 2.6e-5. */
static void test_energy_drift(void **state)
{
    struct err err;
    json_t *m;
    (void)state;

    assert_int_equal(run("{\"num_particles\": 500, \"num_steps\": 1000}", &m, &err), 0);
    assert_true(metric(m, "energy_drift") < 1e-4);
    assert_true(metric(m, "energy_drift") > 0);
    assert_true(metric(m, "steps_completed") == 1000);
    assert_true(metric(m, "particles_processed") == 500000);
    assert_true(metric(m, "memory_used") > 0);
    assert_true(metric(m, "execution_time") > 0);
    assert_true(metric(m, "steps_per_second") > 0);
    assert_int_equal(json_object_size(m), model_particles.nmetrics);
    for (size_t i = 0; i < model_particles.nmetrics; i++)
        metric(m, model_particles.metrics[i].name);
    json_decref(m);
}

/* naive and cells, stepped side by side: the same positions and energies. They add
 * the same terms in the same order, so the difference is 0; the bound is the issue's.
 */
static void test_naive_cells_agree(void **state)
{
    static const char *const cases[] = {
        /* side 10.86: 4 cells per side, a dense gas */
        "\"num_particles\": 256, \"density\": 0.2, \"temperature\": 1.0, \"seed\": 3}",
        /* side 8.40: 4 cells per side, truncated potential, a hot start */
        "\"num_particles\": 500, \"cutoff\": 2.0, \"shift\": false, \"temperature\": "
        "1.5, \"seed\": 4}",
    };
    (void)state;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct particles a, b;
        char params[256];
        double dx = 0;

        snprintf(params, sizeof(params), "{\"algorithm\": \"naive\", %s", cases[c]);
        state_init(&a, params);
        snprintf(params, sizeof(params), "{\"algorithm\": \"cells\", %s", cases[c]);
        state_init(&b, params);
        assert_int_equal(a.loop, PARTICLES_NAIVE);
        assert_int_equal(b.loop, PARTICLES_CELLS);
        assert_int_equal(b.nc, 4);
        for (int step = 0; step < 100; step++) {
            particles_step(&a, 0.005);
            particles_step(&b, 0.005);
        }
        for (size_t k = 0; k < 3 * (size_t)a.n; k++)
            dx = fmax(dx, fabs(a.pos[k] - b.pos[k]));
        assert_true(dx <= 1e-10);
        assert_true(fabs(a.epot - b.epot) / a.n <= 1e-10);
        assert_true(fabs(a.virial - b.virial) / a.n <= 1e-10);
        assert_true(fabs(particles_kinetic(&a) - particles_kinetic(&b)) / a.n <= 1e-10);
        particles_fini(&a);
        particles_fini(&b);
    }
}

static void test_deterministic(void **state)
{
    static const char *const physics[] = {"energy_initial", "energy_final",
                                          "energy_drift",   "temperature",
                                          "pressure",       "potential_energy"};
    static const char *const params[] = {
        "{\"num_particles\": 108, \"num_steps\": 50, \"seed\": 7}",
        "{\"num_particles\": 108, \"num_steps\": 50, \"seed\": 7}",
        "{\"num_particles\": 108, \"num_steps\": 50, \"seed\": 8}",
    };
    json_t *m[3];
    struct err err;
    (void)state;

    for (int i = 0; i < 3; i++)
        assert_int_equal(run(params[i], &m[i], &err), 0);
    for (size_t k = 0; k < sizeof(physics) / sizeof(physics[0]); k++)
        assert_true(metric(m[0], physics[k]) == metric(m[1], physics[k]));
    assert_true(metric(m[0], "energy_final") != metric(m[2], "energy_final"));
    assert_true(metric(m[0], "pressure") != metric(m[2], "pressure"));
    for (int i = 0; i < 3; i++)
        json_decref(m[i]);
}

/* The initial temperature is the one asked for, the total momentum zero, and it stays
 * zero: every pair force is added to i and subtracted from j. */
static void test_temperature_momentum(void **state)
{
    static const struct {
        const char *params;
        double t;
    } cases[] = {
        {"{\"num_particles\": 500, \"seed\": 1}", 0.722},
        {"{\"num_particles\": 100, \"temperature\": 1.5, \"seed\": 2}", 1.5},
        {"{\"num_particles\": 256, \"temperature\": 0, \"seed\": 3}", 0},
        {"{\"num_particles\": 32, \"temperature\": 2, \"seed\": 4}", 2},
    };
    (void)state;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct particles s;

        state_init(&s, cases[c].params);
        assert_true(fabs(particles_temperature(&s, particles_kinetic(&s)) -
                         cases[c].t) <= 1e-14 * (1 + cases[c].t));
        assert_true(momentum(&s) < 1e-12);
        for (int step = 0; step < 50; step++)
            particles_step(&s, 0.005);
        if (momentum(&s) > 1e-11)
            fail_msg("case %zu: |P| = %g after 50 steps", c, momentum(&s));
        particles_fini(&s);
    }
}

/* LAMMPS's melt from T = 1.44 reaches T = 0.703, E_pair = -5.675, Press = 0.711 after
 * 1000 steps (32000 atoms). 256 particles fluctuate more: over seeds 1 to 8 this run
 * gives E_pot -5.74 to -5.60 (mean -5.669), T 0.650 to 0.744 (mean 0.696), P 0.28 to
 * 1.00 (mean 0.706); the band is about twice that spread around LAMMPS's values. */
static void test_melt(void **state)
{
    struct err err;
    json_t *m;
    (void)state;

    assert_int_equal(
        run("{\"num_particles\": 256, \"num_steps\": 1000, \"temperature\": "
            "1.44, \"shift\": false, \"seed\": 1}",
            &m, &err),
        0);
    if (metric(m, "potential_energy") < -5.85 ||
        metric(m, "potential_energy") > -5.50 || metric(m, "temperature") < 0.60 ||
        metric(m, "temperature") > 0.82 || metric(m, "pressure") < 0.0 ||
        metric(m, "pressure") > 1.5)
        fail_msg("E_pot %g, T %g, P %g", metric(m, "potential_energy"),
                 metric(m, "temperature"), metric(m, "pressure"));
    /* The truncated potential jumps at the cutoff: energy is kept only roughly. */
    assert_true(metric(m, "energy_drift") < 1e-2);
    json_decref(m);
}

/* N != 4 m^3: the first N sites of the smallest lattice, inside the box, no two
 * closer than the nearest-neighbour distance; N = 4 m^3 fills it exactly. */
static void test_lattice(void **state)
{
    static const struct {
        int n, m;
    } cases[] = {{1, 1}, {5, 2}, {100, 3}, {108, 3}, {109, 4}, {500, 5}};
    (void)state;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char params[128];
        struct particles s;
        double a, dmin = INFINITY, d[3];

        snprintf(params, sizeof(params), "{\"num_particles\": %d, \"num_steps\": 0}",
                 cases[c].n);
        state_init(&s, params);
        a = s.box / cases[c].m;
        for (size_t k = 0; k < 3 * (size_t)s.n; k++)
            assert_true(s.pos[k] >= 0 && s.pos[k] < s.box);
        for (int i = 0; i < s.n; i++)
            for (int j = i + 1; j < s.n; j++)
                dmin =
                    fmin(dmin,
                         sqrt(particles_delta(s.pos + 3 * i, s.pos + 3 * j, s.box, d)));
        assert_true(s.n == 1 || fabs(dmin - a / sqrt(2)) < 1e-12 * a);
        particles_fini(&s);
    }
}

static void test_value_aliases(void **state)
{
    static const char *const in[][2] = {{"python", "naive"},
                                        {"cython", "cells"},
                                        {"naive", "naive"},
                                        {"cells", "cells"}};
    (void)state;

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        json_t *p = json_pack("{s:s, s:i, s:i, s:i}", "algorithm", in[i][0],
                              "num_particulas", 32, "num_pasos", 3, "semilla", 9);
        json_t *typed = NULL;
        struct err err = {0};

        assert_int_equal(model_params_check(&model_particles, p, &typed, &err), 0);
        assert_string_equal(json_string_value(json_object_get(typed, "algorithm")),
                            in[i][1]);
        assert_int_equal(json_integer_value(json_object_get(typed, "num_particles")),
                         32);
        assert_int_equal(json_integer_value(json_object_get(typed, "num_steps")), 3);
        assert_int_equal(json_integer_value(json_object_get(typed, "seed")), 9);
        json_decref(typed);
        json_decref(p);
    }
}

static void test_bad_params(void **state)
{
    static const struct {
        const char *params;
        const char *want;
    } cases[] = {
        {"{\"num_particles\": 0}",
         "particles: num_particles: expected an integer >= 1, "
         "got 0"},
        {"{\"num_particulas\": -5}",
         "particles: num_particulas: expected an integer >= 1, got -5"},
        {"{\"density\": 0}", "particles: density: expected a number > 0, got 0"},
        {"{\"density\": -0.8}", "particles: density: expected a number > 0, got -0.8"},
        {"{\"algorithm\": \"fast\"}",
         "particles: algorithm: expected one of \"naive\", \"cells\", got \"fast\""},
        {"{\"foo\": 1}",
         "particles: unknown parameter \"foo\"; known parameters: num_particles, "
         "num_steps, seed, algorithm, cutoff, shift, density, temperature, dt"},
        {"{\"dt\": 0}", "particles: dt: expected a number > 0, got 0"},
        {"{\"cutoff\": -1}", "particles: cutoff: expected a number > 0, got -1"},
        {"{\"temperature\": -1}",
         "particles: temperature: expected a number >= 0, got -1"},
        {"{\"num_steps\": -1}",
         "particles: num_steps: expected an integer in [0, 1000000000], got -1"},
        {"{\"shift\": \"yes\"}",
         "particles: shift: expected true or false, got \"yes\""},
        {"{\"num_steps\": 1, \"num_pasos\": 2}",
         "particles: num_steps: given twice (as \"num_steps\" and \"num_pasos\")"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *p = json_loads(cases[i].params, 0, NULL), *typed = NULL;
        struct err err = {0};

        assert_non_null(p);
        assert_int_equal(model_params_check(&model_particles, p, &typed, &err),
                         SWEEP_EINVAL);
        assert_null(typed);
        if (strcmp(err.msg, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.msg, cases[i].want);
        json_decref(p);
    }
}

/* Refused by the run before it allocates (status 2), or failed (status 1). */
static void test_run_failures(void **state)
{
    static const struct {
        const char *params;
        int rc;
        const char *want;
    } cases[] = {
        {"{\"num_particles\": 100000000}", 2,
         "particles: num_particles: 100000000 particles need 11.2 GiB of memory, more "
         "than the limit of 2 GiB; reduce num_particles"},
        {"{\"num_particles\": 1, \"density\": 1000}", 2,
         "particles: cutoff: 2.5 is more than 8 box sides (side 0.1 for 1 particle at "
         "density 1000); lower the cutoff or the density, or add particles"},
        {"{\"density\": 1e-320}", 2,
         "particles: density: 9.99989e-321 gives a box side of inf for 500 particles; "
         "choose a density nearer 1"},
        {"{\"num_particles\": 108, \"dt\": 1, \"num_steps\": 100}", 1,
         "particles: the energy is not finite after step "},
        {"{\"num_particles\": 864, \"dt\": 1, \"num_steps\": 100}", 1, /* cells */
         "particles: the energy is not finite after step "},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err;
        json_t *m;

        json_t *in = json_loads(cases[i].params, 0, NULL);

        /* Bad parameters (status 2) are refused by the parameter check itself, which
         * `sweep run` and the package reader call before any task runs. */
        assert_int_equal(model_params_check(&model_particles, in, NULL, &err),
                         cases[i].rc == 2 ? SWEEP_EINVAL : SWEEP_OK);
        json_decref(in);
        assert_int_equal(run(cases[i].params, &m, &err), cases[i].rc);
        if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.msg, cases[i].want);
        assert_int_equal(json_object_size(m), 0);
        json_decref(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lammps_lattice),
        cmocka_unit_test(test_energy_drift),
        cmocka_unit_test(test_naive_cells_agree),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_temperature_momentum),
        cmocka_unit_test(test_melt),
        cmocka_unit_test(test_lattice),
        cmocka_unit_test(test_value_aliases),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_run_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
