/* Unit tests of the spec's model check that every front end uses
 * (src/models/speccheck.c): each spec of a table gives its exact message (place in the
 * file, field, the model's words) in both forms, with lines for a file and with the
 * field alone for a JSON body; task_id is never a model parameter; pipelines check
 * every step and the reduce; and the per-task check of runner_prepare() merges an
 * alias's preset, drops task_id and refuses what only a whole task shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/spec.h"
#include "models/speccheck.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHAOS_KNOWN                                                                    \
    "known parameters: duration, cpu, fail_rate, fail_attempts, exit_code, crash, "    \
    "hang, x, y, sigma, seed"

struct spec_case {
    const char *what;
    const char *file; /* its name: YAML, or a task file in JSON */
    const char *text;
    const char *lines;  /* the message of SPECCHECK_LINES; NULL: accepted */
    const char *fields; /* the message of SPECCHECK_FIELDS */
};

static const struct spec_case cases[] = {
    {"unknown model, did you mean", "a.yaml",
     "study: a\nmodel: dlx\nparameters:\n  n_particles: [10, 20]\n",
     "a.yaml:2:8: model: unknown model \"dlx\" (did you mean \"dla\"?); see 'sweep "
     "models'",
     "model: unknown model \"dlx\" (did you mean \"dla\"?); see 'sweep models'"},
    {"unknown model, nothing near", "a.yaml", "study: a\nmodel: zzzzzz\n",
     "a.yaml:2:8: model: unknown model \"zzzzzz\"; see 'sweep models'",
     "model: unknown model \"zzzzzz\"; see 'sweep models'"},
    {"a parameter the model lacks", "b.yaml",
     "study: b\nmodel: chaos\nparameters:\n  x: [1, 2]\n  bogus: [1]\n",
     "b.yaml:5:3: parameters.bogus: chaos: unknown parameter \"bogus\"; " CHAOS_KNOWN,
     "parameters.bogus: chaos: unknown parameter \"bogus\"; " CHAOS_KNOWN},
    {"a misspelt parameter in base", "b.yaml",
     "study: b\nmodel: chaos\nbase:\n  duration: 0.1\n  sigmaa: 1\n",
     "b.yaml:5:3: base.sigmaa: chaos: unknown parameter \"sigmaa\" (did you mean "
     "\"sigma\"?); " CHAOS_KNOWN,
     "base.sigmaa: chaos: unknown parameter \"sigmaa\" (did you mean \"sigma\"?); "
     "" CHAOS_KNOWN},
    {"a value out of range", "c.yaml",
     "study: c\nmodel: dla\nparameters:\n  n_particles: [10, -5]\nbase:\n  seed: 1\n",
     "c.yaml:4:3: parameters.n_particles: dla: n_particles: expected an integer >= "
     "1, got -5",
     "parameters.n_particles: dla: n_particles: expected an integer >= 1, got -5"},
    {"a value out of range in base", "c.yaml",
     "study: c\nmodel: dla\nbase:\n  sticking_probability: 7\n",
     "c.yaml:4:3: base.sticking_probability: dla: sticking_probability: expected a "
     "number in (0, 1], got 7",
     "base.sticking_probability: dla: sticking_probability: expected a number in (0, "
     "1], got 7"},
    {"task_id is no model parameter", "t.yaml",
     "study: t\nmodel: chaos\nparameters:\n  x: [1, 2]\n  task_id: [q, r]\n", NULL,
     NULL},
    {"nor in base", "t.yaml", "study: t\nmodel: chaos\nbase:\n  task_id: z\n", NULL,
     NULL},
    {"a task file: task_id, priority and the place of a bad parameter", "tf.json",
     "{\"metadata\": {\"name\": \"tf\"}, \"tasks\": [\n"
     " {\"task_id\": \"a\", \"algorithm\": \"chaos\", \"parameters\": {\"x\": 1},"
     " \"priority\": \"high\"},\n"
     " {\"task_id\": \"b\", \"algorithm\": \"chaos\", \"parameters\": {\"sigmaa\": "
     "1}}]}\n",
     "tf.json:3:56: tasks[1].parameters.sigmaa: chaos: unknown parameter \"sigmaa\" "
     "(did you mean \"sigma\"?); " CHAOS_KNOWN,
     "tasks[1].parameters.sigmaa: chaos: unknown parameter \"sigmaa\" (did you mean "
     "\"sigma\"?); " CHAOS_KNOWN},
    {"a task file's unknown algorithm", "tf.json",
     "{\"tasks\": [{\"task_id\": \"a\", \"algorithm\": \"chaoz\"}]}\n",
     "tf.json:1:42: tasks[0].algorithm: unknown model \"chaoz\" (did you mean "
     "\"chaos\"?); see 'sweep models'",
     "tasks[0].algorithm: unknown model \"chaoz\" (did you mean \"chaos\"?); see "
     "'sweep models'"},
    {"a pipeline: the second step's model", "p.yaml",
     "study: p\nparameters:\n  n_particles: [300]\nsteps:\n  - name: simulate\n"
     "    model: dla\n  - name: second\n    model: chaoss\n",
     "p.yaml:8:12: steps[1].model: unknown model \"chaoss\" (did you mean "
     "\"chaos\"?); see 'sweep models'",
     "steps[1].model: unknown model \"chaoss\" (did you mean \"chaos\"?); see 'sweep "
     "models'"},
    {"a pipeline: every step's model checks the parameters", "p.yaml",
     "study: p\nparameters:\n  x: [0.5]\nsteps:\n  - name: a\n    model: chaos\n"
     "  - name: b\n    model: dla\n",
     "p.yaml:3:3: parameters.x: dla: unknown parameter \"x\"; known parameters: "
     "n_particles, seed, sticking_probability, particle_radius, dim, image, positions",
     "parameters.x: dla: unknown parameter \"x\"; known parameters: n_particles, seed, "
     "sticking_probability, particle_radius, dim, image, positions"},
    {"a pipeline: the reduce's model", "p.yaml",
     "study: p\nparameters:\n  x: [0.5]\nsteps:\n  - name: a\n    model: chaos\n"
     "  - name: b\n    command: [/bin/true]\nreduce:\n  model: nope\n",
     "p.yaml:10:10: reduce.model: unknown model \"nope\"; see 'sweep models'",
     "reduce.model: unknown model \"nope\"; see 'sweep models'"},
    {"a pipeline of a model and a command", "p.yaml",
     "study: p\nparameters:\n  x: [0.5]\nsteps:\n  - name: a\n    model: chaos\n"
     "  - name: b\n    command: [/bin/true, '{x}']\nreduce:\n  model: chaos\n",
     NULL, NULL},
};

static struct spec *parse(const char *file, const char *text)
{
    struct err err = {0};
    struct spec *spec = NULL;

    if (spec_parse(file, text, strlen(text), &spec, &err) != SWEEP_OK)
        fail_msg("%s: does not parse: %s", file, err.msg);
    return spec;
}

static void test_spec_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct spec_case *c = &cases[i];
        for (int w = 0; w < 2; w++) {
            struct spec *spec = parse(c->file, c->text);
            const char *want = w ? c->fields : c->lines;
            struct speccheck *chk = (struct speccheck *)&chk; /* an error sets NULL */
            struct err err = {0};
            int rc = speccheck_create(spec, w ? SPECCHECK_FIELDS : SPECCHECK_LINES,
                                      &chk, &err);

            if (!want && rc != SWEEP_OK)
                fail_msg("%s: refused: %s", c->what, err.msg);
            if (want && rc != SWEEP_EINVAL)
                fail_msg("%s: accepted (rc %d), expected: %s", c->what, rc, want);
            if (want && strcmp(err.msg, want) != 0)
                fail_msg("%s:\n   got: %s\nwanted: %s", c->what, err.msg, want);
            if (want)
                assert_null(chk);
            else
                assert_non_null(chk);
            speccheck_destroy(chk);
            spec_destroy(spec);
        }
    }
}

/* One task as runner_prepare() hands it to the check. */
static int task(struct spec *spec, int step, const char *params, struct err *err)
{
    struct speccheck *chk = NULL;
    json_error_t je;
    json_t *p = json_loads(params, 0, &je);
    int rc;

    assert_non_null(p);
    assert_int_equal(speccheck_create(spec, SPECCHECK_LINES, &chk, err), SWEEP_OK);
    err_clear(err);
    rc = speccheck_task(spec_step_at(spec, step), p, chk, err);
    speccheck_destroy(chk);
    json_decref(p);
    return rc;
}

static void test_task(void **state)
{
    struct spec *spec = parse("s.yaml", "study: s\nmodel: chaos\n");
    struct err err = {0};

    (void)state;
    /* task_id names the task: the model never sees it. */
    assert_int_equal(task(spec, 0, "{\"x\": 1, \"task_id\": \"a\"}", &err), SWEEP_OK);
    assert_int_equal(task(spec, 0, "{\"x\": 1, \"fail_rate\": 7}", &err), SWEEP_EINVAL);
    assert_string_equal(err.msg,
                        "chaos: fail_rate: expected a number in [0, 1], got 7");
    spec_destroy(spec);

    /* An alias: its preset goes under the task's parameters; its model's seed has
     * another name, which the spec learns. */
    spec = parse("b.yaml", "study: b\nmodel: benchmark\n");
    assert_int_equal(spec->nseed_names, 0);
    assert_int_equal(task(spec, 0, "{\"num_particles\": 32}", &err), SWEEP_OK);
    assert_int_equal(spec->nseed_names, 1);
    assert_string_equal(spec->seed_names[0], "semilla");
    /* What only a whole task shows: a parameter under two of its names. */
    assert_int_equal(
        task(spec, 0, "{\"num_particles\": 32, \"num_particulas\": 32}", &err),
        SWEEP_EINVAL);
    assert_non_null(strstr(err.msg, "num_particulas"));
    spec_destroy(spec);

    /* A pipeline: each step against its own model; a command step is not checked. */
    spec = parse("p.yaml", "study: p\nsteps:\n  - name: a\n    model: chaos\n"
                           "  - name: b\n    command: [/bin/true]\n"
                           "  - name: c\n    model: dla\n");
    assert_int_equal(task(spec, 0, "{\"x\": 1}", &err), SWEEP_OK);
    assert_int_equal(task(spec, 1, "{\"anything\": 1}", &err), SWEEP_OK);
    assert_int_equal(task(spec, 2, "{\"n_particles\": 0}", &err), SWEEP_EINVAL);
    assert_string_equal(err.msg, "dla: n_particles: expected an integer >= 1, got 0");
    spec_destroy(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_table),
        cmocka_unit_test(test_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
