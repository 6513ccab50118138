/* Unit tests of the spec parser (src/core/spec.c, src/core/doc.c): valid specs give the
 * expected struct (values of range/linspace/logspace, zip axes, base, tasks, every
 * default, pipeline steps with what they inherit, reduce, after, and the one step of a
 * single-step study), a JSON spec gives the same struct as its YAML twin, and every
 * kind of error gives its exact message with the right line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/doc.h"
#include "core/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct spec *parse_ok(const char *name, const char *text)
{
    struct err err = {0};
    struct spec *spec = NULL;

    if (spec_parse(name, text, strlen(text), &spec, &err) != SWEEP_OK)
        fail_msg("%s: unexpected error: %s", name, err.msg);
    assert_non_null(spec);
    return spec;
}

/* The axes as text: "a:[1,2];b,c:[[1,\"x\"],[2,\"y\"]]" (canonical JSON values). */
static char *dims_str(const struct spec *spec)
{
    struct strbuf sb = STRBUF_INIT;

    for (size_t i = 0; i < spec->ndims; i++) {
        const struct spec_dim *d = &spec->dims[i];
        json_t *rows = json_array();
        char *s;

        for (size_t k = 0; k < d->nnames; k++)
            sb_addf(&sb, "%s%s", k ? "," : (i ? ";" : ""), d->names[k]);
        for (size_t r = 0; r < d->nrows; r++) {
            json_t *row = json_array();
            for (size_t k = 0; k < d->nnames; k++)
                json_array_append(row, d->values[r * d->nnames + k]);
            if (d->nnames == 1) {
                json_array_append(rows, json_array_get(row, 0));
                json_decref(row);
            } else {
                json_array_append_new(rows, row);
            }
        }
        s = jsonx_canon_str(rows);
        sb_addf(&sb, ":%s", s);
        free(s);
        json_decref(rows);
    }
    return sb_take(&sb);
}

static void assert_json(const json_t *v, const char *want)
{
    char *got = v ? jsonx_canon_str(v) : xstrdup("(null)");
    assert_string_equal(got, want);
    free(got);
}

static void test_defaults(void **state)
{
    struct spec *s = parse_ok("study.yaml", "study: mini\nmodel: chaos\n");
    char *cwd = realpath(".", NULL);
    (void)state;

    assert_string_equal(s->path, "study.yaml");
    assert_string_equal(s->dir, cwd);
    assert_string_equal(s->name, "mini");
    assert_null(s->description);
    assert_int_equal(s->kind, SPEC_MODEL);
    assert_string_equal(s->model, "chaos");
    assert_int_equal(s->argc, 0);
    assert_false(s->shell);
    assert_json(s->base, "{}");
    assert_int_equal(s->ndims, 0);
    assert_null(s->tasks);
    assert_true(s->has_grid); /* neither parameters nor tasks: one task */
    assert_int_equal(s->repetitions, 1);
    assert_int_equal(s->priority, PRIORITY_MEDIUM);
    assert_int_equal(s->max_parallel, 0);
    assert_int_equal(s->cpus, 1);
    assert_true(s->timeout == 86400);
    assert_true(s->kill_after == 10);
    assert_int_equal(s->retry.max, 0);
    assert_true(s->retry.backoff == 1);
    assert_true(s->retry.backoff_max == 300);
    assert_int_equal(s->retry.on,
                     RETRY_ON_TIMEOUT | RETRY_ON_SIGNAL | RETRY_ON_NONZERO);
    assert_int_equal(s->retry.nexit, 0);
    assert_true(s->rate_limit == 0);
    assert_null(s->workdir);
    assert_null(s->env);
    assert_json(s->json, "{\"model\":\"chaos\",\"study\":\"mini\"}");
    free(cwd);
    spec_destroy(s);
}

static void test_every_field(void **state)
{
    static const char text[] =
        "study: full.v1-a_b\n"
        "description: every field\n"
        "command: [python3, sim.py, --re, \"{Re}\", 10, 2.5, true]\n"
        "parameters:\n"
        "  Re: [100, 200]\n"
        "  mode: fast\n"
        "base: {eps: 1e-3, name: x, grid: [64, 64], none: null}\n"
        "tasks:\n"
        "  - {Re: 5, priority: high}\n"
        "  - {Re: 6, priority: 7}\n"
        "  - {}\n"
        "repetitions: 4\n"
        "priority: low\n"
        "max_parallel: 8\n"
        "cpus: 2\n"
        "timeout: 30m\n"
        "kill_after: 500ms\n"
        "retries:\n"
        "  max: 3\n"
        "  backoff: 2s\n"
        "  backoff_max: 1m\n"
        "  on: [timeout, exit:3, exit:42]\n"
        "rate_limit: 10/m\n"
        "workdir: /tmp/work\n"
        "env: {OMP_NUM_THREADS: 4, MODE: fast, FLAG: true}\n";
    struct spec *s = parse_ok("full.yaml", text);
    char *dims = dims_str(s);
    (void)state;

    assert_string_equal(s->name, "full.v1-a_b");
    assert_string_equal(s->description, "every field");
    assert_int_equal(s->kind, SPEC_COMMAND);
    assert_null(s->model);
    assert_int_equal(s->argc, 7);
    assert_string_equal(s->argv[0], "python3");
    assert_string_equal(s->argv[3], "{Re}");
    assert_string_equal(s->argv[4], "10");
    assert_string_equal(s->argv[5], "2.5");
    assert_string_equal(s->argv[6], "true");
    assert_string_equal(dims, "Re:[100,200];mode:[\"fast\"]");
    assert_json(s->base,
                "{\"eps\":0.001,\"grid\":[64,64],\"name\":\"x\",\"none\":null}");
    assert_json(s->tasks,
                "[{\"Re\":5,\"priority\":\"high\"},{\"Re\":6,\"priority\":7},{}]");
    assert_true(s->has_grid);
    assert_int_equal(s->repetitions, 4);
    assert_int_equal(s->priority, PRIORITY_LOW);
    assert_int_equal(s->max_parallel, 8);
    assert_int_equal(s->cpus, 2);
    assert_true(s->timeout == 1800);
    assert_true(s->kill_after == 0.5);
    assert_int_equal(s->retry.max, 3);
    assert_true(s->retry.backoff == 2);
    assert_true(s->retry.backoff_max == 60);
    assert_int_equal(s->retry.on, RETRY_ON_TIMEOUT);
    assert_int_equal(s->retry.nexit, 2);
    assert_int_equal(s->retry.exit_codes[0], 3);
    assert_int_equal(s->retry.exit_codes[1], 42);
    assert_true(s->rate_limit == 10.0 / 60);
    assert_string_equal(s->workdir, "/tmp/work");
    assert_json(s->env,
                "{\"FLAG\":\"true\",\"MODE\":\"fast\",\"OMP_NUM_THREADS\":\"4\"}");
    free(dims);
    spec_destroy(s);
}

/* Each parameter form and the values it expands to. */
static void test_parameter_values(void **state)
{
    static const struct {
        const char *param;
        const char *want;
    } cases[] = {
        {"[1, 2, 3]", "[1,2,3]"},
        {"[a, \"b\", 1.5, true, null, [64, 64], {k: v}]",
         "[\"a\",\"b\",1.5,true,null,[64,64],{\"k\":\"v\"}]"},
        {"42", "[42]"},
        {"\"007\"", "[\"007\"]"},
        {"hello world", "[\"hello world\"]"},
        {"{range: [1, 10, 3]}", "[1,4,7,10]"},
        {"{range: [1, 11, 3]}", "[1,4,7,10]"},
        {"{range: [1, 4]}", "[1,2,3,4]"},
        {"{range: [5, 1, -2]}", "[5,3,1]"},
        {"{range: [3, 3, 1]}", "[3]"},
        {"{range: [-9223372036854775808, 9223372036854775807, 9223372036854775807]}",
         "[-9223372036854775808,-1,9223372036854775806]"},
        {"{range: [0.1, 1.0, 0.1]}", "[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]"},
        {"{range: [0, 1, 0.25]}", "[0.0,0.25,0.5,0.75,1.0]"},
        {"{range: [1.0, 0.0, -0.3]}", "[1.0,0.7,0.4,0.1]"},
        {"{linspace: [0, 1, 5]}", "[0.0,0.25,0.5,0.75,1.0]"},
        {"{linspace: [0, 1, 3]}", "[0.0,0.5,1.0]"},
        {"{linspace: [2, 3, 1]}", "[2.0]"},
        {"{linspace: [1, 0, 11]}", "[1.0,0.9,0.8,0.7,0.6,0.5,0.4,0.3,0.2,0.1,0.0]"},
        {"{logspace: [-3, 0, 4]}", "[0.001,0.01,0.1,1.0]"},
        {"{logspace: [0, 2, 5]}", "[1.0,3.16227766016838,10.0,31.6227766016838,100.0]"},
        {"{logspace: [1, 1, 1]}", "[10.0]"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text =
            xasprintf("study: p\nmodel: m\nparameters:\n  x: %s\n", cases[i].param);
        struct spec *s = parse_ok(text, text);
        char *want = xasprintf("x:%s", cases[i].want), *got = dims_str(s);
        if (strcmp(got, want) != 0)
            fail_msg("x: %s: got %s, want %s", cases[i].param, got, want);
        free(want);
        free(got);
        free(text);
        spec_destroy(s);
    }
}

/* JSON is parsed as JSON when it starts with { or [; YAML flow style still works. */
static void test_formats(void **state)
{
    static const char *const texts[] = {
        "{\"study\":\"a\",\"model\":\"m\",\"parameters\":{\"x\":[1,2]}}",
        "\xEF\xBB\xBF {\"study\":\"a\",\"model\":\"m\",\n\"parameters\":{\"x\":[1,2]}}",
        "{study: a, model: m, parameters: {x: [1, 2]}}",
        "study: a\r\nmodel: m\r\nparameters:\r\n  x:\r\n    - 1\r\n    - 2\r\n",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct spec *s = parse_ok("", texts[i]);
        char *dims = dims_str(s);
        assert_string_equal(dims, "x:[1,2]");
        assert_json(s->json,
                    "{\"model\":\"m\",\"parameters\":{\"x\":[1,2]},\"study\":\"a\"}");
        free(dims);
        spec_destroy(s);
    }
}

static void test_zip_and_order(void **state)
{
    static const char text[] = "study: z\nmodel: m\n"
                               "parameters:\n"
                               "  a: [1, 2, 3]\n"
                               "  p: [x, y]\n"
                               "  b: {range: [10, 30, 10]}\n"
                               "  c: [u, v, w]\n"
                               "  q: 0\n"
                               "zip: [[c, a], [q]]\n";
    struct spec *s = parse_ok("zip.yaml", text);
    char *dims = dims_str(s);
    (void)state;

    /* The group sits where its first member (a) stands, names in zip order. */
    assert_int_equal(s->ndims, 4);
    assert_string_equal(dims, "c,a:[[\"u\",1],[\"v\",2],[\"w\",3]];p:[\"x\",\"y\"];"
                              "b:[10,20,30];q:[0]");
    free(dims);
    spec_destroy(s);
}

static void test_tasks_only_and_shell(void **state)
{
    struct spec *s = parse_ok("t.yaml", "study: t\n"
                                        "command: echo {x} > out.txt\n"
                                        "shell: true\n"
                                        "tasks: [{x: 1}, {x: two, priority: 5}]\n");
    (void)state;

    assert_false(s->has_grid);
    assert_int_equal(s->ndims, 0);
    assert_true(s->shell);
    assert_int_equal(s->argc, 1);
    assert_string_equal(s->argv[0], "echo {x} > out.txt");
    assert_json(s->tasks, "[{\"x\":1},{\"priority\":5,\"x\":\"two\"}]");
    spec_destroy(s);

    /* A one-element list is fine with shell: true, and retries may be just a count. */
    s = parse_ok("t.yaml",
                 "study: t\ncommand: [\"exit 3\"]\nshell: true\nretries: 2\n");
    assert_int_equal(s->argc, 1);
    assert_string_equal(s->argv[0], "exit 3");
    assert_int_equal(s->retry.max, 2);
    spec_destroy(s);
}

static void test_retry_details(void **state)
{
    struct spec *s = parse_ok("r.yaml", "study: r\nmodel: m\nretries: 2\n");
    (void)state;

    assert_int_equal(s->retry.max, 2);
    assert_int_equal(s->retry.on,
                     RETRY_ON_TIMEOUT | RETRY_ON_SIGNAL | RETRY_ON_NONZERO);
    spec_destroy(s);

    /* backoff_max follows a backoff above its default; on: [] never retries. */
    s = parse_ok("r.yaml",
                 "study: r\nmodel: m\nretries: {max: 1, backoff: 10m, on: []}\n");
    assert_true(s->retry.backoff == 600);
    assert_true(s->retry.backoff_max == 600);
    assert_int_equal(s->retry.on, 0);
    spec_destroy(s);

    s = parse_ok("r.yaml",
                 "study: r\nmodel: m\nretries: {on: [signal, nonzero]}\n"
                 "rate_limit: 5/s\ntimeout: 90\nkill_after: 0\npriority: -3\n");
    assert_int_equal(s->retry.on, RETRY_ON_SIGNAL | RETRY_ON_NONZERO);
    assert_int_equal(s->retry.nexit, 0);
    assert_true(s->rate_limit == 5);
    assert_true(s->timeout == 90);
    assert_true(s->kill_after == 0);
    assert_int_equal(s->priority, -3);
    spec_destroy(s);

    s = parse_ok("r.yaml", "study: r\nmodel: m\nrate_limit: 100/h\npriority: HIGH\n");
    assert_true(s->rate_limit == 100.0 / 3600);
    assert_int_equal(s->priority, PRIORITY_HIGH);
    spec_destroy(s);
}

static void test_paths(void **state)
{
    struct spec *s = parse_ok("/nonexistent-dir/sub/study.yaml",
                              "study: w\nmodel: m\nworkdir: runs/out\n");
    (void)state;

    assert_string_equal(s->dir, "/nonexistent-dir/sub");
    assert_string_equal(s->workdir, "/nonexistent-dir/sub/runs/out");
    spec_destroy(s);

    /* Existing directories are resolved to their real path. */
    s = parse_ok("/tmp/../study.yaml", "study: w\nmodel: m\nworkdir: ./tmp/..\n");
    assert_string_equal(s->dir, "/");
    assert_string_equal(s->workdir, "/");
    spec_destroy(s);
}

static const char yaml_twin[] = "# the same study twice\n"
                                "study: twin\n"
                                "description: \"caf\\u00e9 \\U0001F600\"\n"
                                "command: [sim, --re, \"{Re}\", \"{n}\"]\n"
                                "parameters:\n"
                                "  Re: {range: [0.1, 0.3, 0.1]}\n"
                                "  n: [1, 2, 3]\n"
                                "  m: [a, b, c]\n"
                                "  l: {linspace: [0, 1, 3]}\n"
                                "zip: [[n, m]]\n"
                                "base: {eps: 0.5, grid: [64, 64]}\n"
                                "tasks:\n"
                                "  - {Re: 9, priority: HIGH}\n"
                                "repetitions: 2\n"
                                "priority: 10\n"
                                "cpus: 4\n"
                                "timeout: 1h\n"
                                "retries: {max: 2, on: [timeout, exit:7]}\n"
                                "rate_limit: 2/s\n"
                                "workdir: out\n"
                                "env: {A: 1}\n";

static const char json_twin[] =
    "{\n"
    "  \"study\": \"twin\",\n"
    "  \"description\": \"caf\\u00e9 \\ud83d\\ude00\",\n"
    "  \"command\": [\"sim\", \"--re\", \"{Re}\", \"{n}\"],\n"
    "  \"parameters\": {\"Re\": {\"range\": [0.1, 0.3, 0.1]}, \"n\": [1, 2, 3],\n"
    "                 \"m\": [\"a\", \"b\", \"c\"], \"l\": {\"linspace\": [0, 1, "
    "3]}},\n"
    "  \"zip\": [[\"n\", \"m\"]],\n"
    "  \"base\": {\"eps\": 0.5, \"grid\": [64, 64]},\n"
    "  \"tasks\": [{\"Re\": 9, \"priority\": \"HIGH\"}],\n"
    "  \"repetitions\": 2, \"priority\": 10, \"cpus\": 4, \"timeout\": \"1h\",\n"
    "  \"retries\": {\"max\": 2, \"on\": [\"timeout\", \"exit:7\"]},\n"
    "  \"rate_limit\": \"2/s\", \"workdir\": \"out\", \"env\": {\"A\": 1}\n"
    "}\n";

static void test_json_equals_yaml(void **state)
{
    struct spec *y = parse_ok("/d/study.yaml", yaml_twin);
    struct spec *j = parse_ok("/d/study.json", json_twin);
    char *dy = dims_str(y), *dj = dims_str(j);
    (void)state;

    assert_string_equal(dy, dj);
    assert_string_equal(dy, "Re:[0.1,0.2,0.3];n,m:[[1,\"a\"],[2,\"b\"],[3,\"c\"]];"
                            "l:[0.0,0.5,1.0]");
    assert_string_equal(y->name, j->name);
    assert_string_equal(y->description, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_string_equal(y->description, j->description);
    assert_int_equal(y->kind, j->kind);
    assert_int_equal(y->argc, j->argc);
    for (size_t i = 0; i < y->argc; i++)
        assert_string_equal(y->argv[i], j->argv[i]);
    assert_true(json_equal(y->base, j->base));
    assert_true(json_equal(y->tasks, j->tasks));
    assert_true(json_equal(y->env, j->env));
    assert_true(json_equal(y->json, j->json));
    assert_int_equal(y->has_grid, j->has_grid);
    assert_int_equal(y->repetitions, j->repetitions);
    assert_int_equal(y->priority, 10);
    assert_int_equal(y->priority, j->priority);
    assert_int_equal(y->cpus, j->cpus);
    assert_true(y->timeout == j->timeout);
    assert_int_equal(y->retry.max, j->retry.max);
    assert_int_equal(y->retry.on, j->retry.on);
    assert_int_equal(y->retry.nexit, 1);
    assert_int_equal(j->retry.exit_codes[0], 7);
    assert_true(y->rate_limit == j->rate_limit);
    assert_string_equal(y->workdir, "/d/out");
    assert_string_equal(y->workdir, j->workdir);
    free(dy);
    free(dj);
    spec_destroy(y);
    spec_destroy(j);
}

static const char pipeline_yaml[] =
    "study: re-sweep\n"
    "parameters: {Re: [100, 400, 1000]}\n"
    "repetitions: 3\n"
    "priority: low\n"
    "cpus: 2\n"
    "timeout: 1h\n"
    "kill_after: 5s\n"
    "retries: {max: 2, backoff: 3s, on: [exit:3]}\n"
    "steps:\n"
    "  - name: simulate\n"
    "    model: cavity\n"
    "    cpus: 8\n"
    "    priority: high\n"
    "  - name: analyze\n"
    "    command: [./analyze.py, \"{steps.simulate.dir}\", --out, \"{task_dir}\"]\n"
    "    timeout: 10m\n"
    "    retries: 1\n"
    "  - name: export\n"
    "    shell: true\n"
    "    command: \"./export.sh {steps.analyze.result} {steps.simulate.result}\"\n"
    "reduce:\n"
    "  command: [./summarize.py, \"{reduce.input}\"]\n"
    "  when: always\n"
    "  kill_after: 1s\n"
    "after: [baseline-study, other.v2]\n";

static const char pipeline_json[] =
    "{\"study\": \"re-sweep\", \"parameters\": {\"Re\": [100, 400, 1000]},\n"
    " \"repetitions\": 3, \"priority\": \"low\", \"cpus\": 2, \"timeout\": \"1h\",\n"
    " \"kill_after\": \"5s\",\n"
    " \"retries\": {\"max\": 2, \"backoff\": \"3s\", \"on\": [\"exit:3\"]},\n"
    " \"steps\": [\n"
    "  {\"name\": \"simulate\", \"model\": \"cavity\", \"cpus\": 8, \"priority\": "
    "\"high\"},\n"
    "  {\"name\": \"analyze\",\n"
    "   \"command\": [\"./analyze.py\", \"{steps.simulate.dir}\", \"--out\", "
    "\"{task_dir}\"],\n"
    "   \"timeout\": \"10m\", \"retries\": 1},\n"
    "  {\"name\": \"export\", \"shell\": true,\n"
    "   \"command\": \"./export.sh {steps.analyze.result} "
    "{steps.simulate.result}\"}],\n"
    " \"reduce\": {\"command\": [\"./summarize.py\", \"{reduce.input}\"],\n"
    "            \"when\": \"always\", \"kill_after\": \"1s\"},\n"
    " \"after\": [\"baseline-study\", \"other.v2\"]}\n";

static void assert_steps_equal(const struct spec_step *a, const struct spec_step *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->kind, b->kind);
    if (a->model || b->model)
        assert_string_equal(a->model, b->model);
    assert_int_equal(a->argc, b->argc);
    for (size_t i = 0; i < a->argc; i++)
        assert_string_equal(a->argv[i], b->argv[i]);
    assert_int_equal(a->shell, b->shell);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->has_priority, b->has_priority);
    assert_int_equal(a->cpus, b->cpus);
    assert_true(a->timeout == b->timeout);
    assert_true(a->kill_after == b->kill_after);
    assert_int_equal(a->retry.max, b->retry.max);
    assert_true(a->retry.backoff == b->retry.backoff);
    assert_true(a->retry.backoff_max == b->retry.backoff_max);
    assert_int_equal(a->retry.on, b->retry.on);
    assert_int_equal(a->retry.nexit, b->retry.nexit);
    for (size_t i = 0; i < a->retry.nexit; i++)
        assert_int_equal(a->retry.exit_codes[i], b->retry.exit_codes[i]);
}

/* A 3-step pipeline with a reduce and after: each step's own fields and what it
 * inherits from the study; the JSON twin gives the same. */
static void test_pipeline(void **state)
{
    struct spec *y = parse_ok("study.yaml", pipeline_yaml);
    struct spec *j = parse_ok("study.json", pipeline_json);
    const struct spec_step *st;
    (void)state;

    assert_true(y->has_steps);
    assert_int_equal(y->kind, 0);
    assert_null(y->model);
    assert_int_equal(y->argc, 0);
    assert_int_equal(y->nsteps, 3);

    st = &y->steps[0]; /* sets cpus and priority; inherits the rest */
    assert_string_equal(st->name, "simulate");
    assert_int_equal(st->line, 10);
    assert_int_equal(st->kind, SPEC_MODEL);
    assert_string_equal(st->model, "cavity");
    assert_int_equal(st->argc, 0);
    assert_int_equal(st->cpus, 8);
    assert_int_equal(st->priority, PRIORITY_HIGH);
    assert_true(st->has_priority);
    assert_true(st->timeout == 3600);
    assert_true(st->kill_after == 5);
    assert_int_equal(st->retry.max, 2);
    assert_true(st->retry.backoff == 3);
    assert_int_equal(st->retry.nexit, 1);
    assert_int_equal(st->retry.exit_codes[0], 3);
    assert_ptr_not_equal(st->retry.exit_codes, y->retry.exit_codes); /* a copy */

    st = &y->steps[1]; /* own timeout and retries (from the defaults) */
    assert_string_equal(st->name, "analyze");
    assert_int_equal(st->line, 14);
    assert_int_equal(st->kind, SPEC_COMMAND);
    assert_null(st->model);
    assert_int_equal(st->argc, 4);
    assert_string_equal(st->argv[1], "{steps.simulate.dir}");
    assert_false(st->shell);
    assert_int_equal(st->cpus, 2);
    assert_int_equal(st->priority, PRIORITY_LOW);
    assert_false(st->has_priority);
    assert_true(st->timeout == 600);
    assert_int_equal(st->retry.max, 1);
    assert_true(st->retry.backoff == 1);
    assert_true(st->retry.backoff_max == 300);
    assert_int_equal(st->retry.on,
                     RETRY_ON_TIMEOUT | RETRY_ON_SIGNAL | RETRY_ON_NONZERO);
    assert_int_equal(st->retry.nexit, 0);

    st = &y->steps[2]; /* a shell command; everything inherited */
    assert_string_equal(st->name, "export");
    assert_int_equal(st->line, 18);
    assert_true(st->shell);
    assert_int_equal(st->argc, 1);
    assert_string_equal(st->argv[0],
                        "./export.sh {steps.analyze.result} {steps.simulate.result}");
    assert_int_equal(st->cpus, 2);
    assert_true(st->timeout == 3600);
    assert_int_equal(st->retry.max, 2);
    assert_int_equal(st->retry.on, 0);

    st = y->reduce;
    assert_non_null(st);
    assert_string_equal(st->name, "reduce");
    assert_int_equal(st->line, 22);
    assert_int_equal(st->argc, 2);
    assert_string_equal(st->argv[1], "{reduce.input}");
    assert_true(st->kill_after == 1);
    assert_true(st->timeout == 3600);
    assert_int_equal(st->priority, PRIORITY_LOW);
    assert_int_equal(y->reduce_when, REDUCE_ALWAYS);
    assert_int_equal(y->nafter, 2);
    assert_string_equal(y->after[0], "baseline-study");
    assert_string_equal(y->after[1], "other.v2");

    assert_int_equal(spec_step_index(y, "simulate"), 0);
    assert_int_equal(spec_step_index(y, "export"), 2);
    assert_int_equal(spec_step_index(y, "reduce"), -1);
    assert_int_equal(spec_step_index(y, "re-sweep"), -1);

    assert_int_equal(j->nsteps, y->nsteps);
    assert_true(j->has_steps);
    for (size_t i = 0; i < y->nsteps; i++)
        assert_steps_equal(&y->steps[i], &j->steps[i]);
    assert_steps_equal(y->reduce, j->reduce);
    assert_int_equal(j->reduce_when, REDUCE_ALWAYS);
    assert_int_equal(j->nafter, 2);
    assert_string_equal(j->after[1], "other.v2");
    assert_true(json_equal(y->json, j->json));
    spec_destroy(y);
    spec_destroy(j);
}

/* A single-step study is a chain of one step named after the study; the top-level
 * fields stay. Defaults of reduce and after. */
static void test_single_step(void **state)
{
    static const struct {
        const char *text;
        int kind;
        bool shell;
        size_t argc;
    } cases[] = {
        {"study: one\nmodel: chaos\ncpus: 3\npriority: 7\nretries: {on: [exit:9]}\n",
         SPEC_MODEL, false, 0},
        {"study: one\ncommand: [sim, \"{x}\"]\nparameters: {x: [1]}\ncpus: 3\n"
         "priority: 7\nretries: {on: [exit:9]}\n",
         SPEC_COMMAND, false, 2},
        {"study: one\ncommand: \"sim {x} | tee out\"\nshell: true\nparameters: {x: "
         "[1]}\ncpus: 3\npriority: 7\nretries: {on: [exit:9]}\n",
         SPEC_COMMAND, true, 1},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct spec *s = parse_ok("one.yaml", cases[i].text);
        const struct spec_step *st = &s->steps[0];

        assert_false(s->has_steps);
        assert_int_equal(s->nsteps, 1);
        assert_string_equal(st->name, "one");
        assert_int_equal(st->line, 0);
        assert_int_equal(s->kind, cases[i].kind);
        assert_int_equal(st->kind, cases[i].kind);
        assert_int_equal(st->shell, cases[i].shell);
        assert_int_equal(s->argc, cases[i].argc);
        assert_int_equal(st->argc, cases[i].argc);
        for (size_t k = 0; k < st->argc; k++) {
            assert_string_equal(st->argv[k], s->argv[k]);
            assert_ptr_not_equal(st->argv[k], s->argv[k]);
        }
        if (cases[i].kind == SPEC_MODEL)
            assert_string_equal(st->model, s->model);
        else
            assert_null(st->model);
        assert_int_equal(st->cpus, 3);
        assert_int_equal(st->priority, 7);
        assert_false(st->has_priority);
        assert_true(st->timeout == 86400);
        assert_int_equal(st->retry.nexit, 1);
        assert_int_equal(st->retry.exit_codes[0], 9);
        assert_null(s->reduce);
        assert_int_equal(s->reduce_when, REDUCE_ALL_SUCCEEDED);
        assert_int_equal(s->nafter, 0);
        assert_null(s->after);
        spec_destroy(s);
    }
}

/* spec_retries_default (sweep serve --max-retries): only the steps and the reduce
 * whose retries the spec leaves open get it; an explicit 0 is kept. Each case: the
 * spec, then the retries of step 0, step 1 (or -1: none) and the reduce (-1: none). */
static void test_retries_default(void **state)
{
    static const struct {
        const char *yaml;
        int step0, step1, reduce;
    } cases[] = {
        {"study: r\nmodel: m\n", 3, -1, -1},
        {"study: r\nmodel: m\nretries: 0\n", 0, -1, -1},
        {"study: r\nmodel: m\nretries: {max: 0}\n", 0, -1, -1},
        {"study: r\nmodel: m\nretries: {backoff: 2}\n", 0, -1, -1},
        {"study: r\nmodel: m\nretries: 1\n", 1, -1, -1},
        {"study: r\nmodel: m\nreduce: {model: s}\n", 3, -1, 3},
        {"study: r\nmodel: m\nreduce: {model: s, retries: 0}\n", 3, -1, 0},
        {"study: r\nmodel: m\nretries: 0\nreduce: {model: s}\n", 0, -1, 0},
        {"study: r\nsteps:\n- {name: a, model: m, retries: 0}\n- {name: b, model: m}\n"
         "reduce: {model: s}\n",
         0, 3, 3},
        {"study: r\nretries: 1\nsteps:\n- {name: a, model: m}\n"
         "- {name: b, model: m, retries: 0}\n",
         1, 0, -1},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct spec *s = parse_ok("r.yaml", cases[i].yaml);
        spec_retries_default(s, 3);
        assert_int_equal(s->steps[0].retry.max, cases[i].step0);
        if (cases[i].step1 >= 0)
            assert_int_equal(s->steps[1].retry.max, cases[i].step1);
        else
            assert_int_equal(s->nsteps, 1);
        if (cases[i].reduce >= 0)
            assert_int_equal(s->reduce->retry.max, cases[i].reduce);
        else
            assert_null(s->reduce);
        spec_destroy(s);
    }
}

/* reduce and after on a single-step study; after as one name; when by default. */
static void test_reduce_and_after(void **state)
{
    struct spec *s =
        parse_ok("r.yaml", "study: r\nmodel: chaos\n"
                           "reduce: {model: summary, cpus: 4, priority: 9}\n"
                           "after: base\n");
    (void)state;

    assert_int_equal(s->nsteps, 1);
    assert_string_equal(s->steps[0].name, "r");
    assert_non_null(s->reduce);
    assert_int_equal(s->reduce->kind, SPEC_MODEL);
    assert_string_equal(s->reduce->model, "summary");
    assert_int_equal(s->reduce->cpus, 4);
    assert_int_equal(s->reduce->priority, 9);
    assert_true(s->reduce->has_priority);
    assert_int_equal(s->reduce->line, 3);
    assert_int_equal(s->reduce_when, REDUCE_ALL_SUCCEEDED);
    assert_int_equal(s->nafter, 1);
    assert_string_equal(s->after[0], "base");
    spec_destroy(s);

    s = parse_ok("r.yaml", "study: r\nsteps: [{name: a, model: m}]\n"
                           "reduce: {command: [x], when: all_succeeded}\n");
    assert_true(s->has_steps);
    assert_int_equal(s->nsteps, 1);
    assert_string_equal(s->steps[0].name, "a");
    assert_int_equal(s->reduce_when, REDUCE_ALL_SUCCEEDED);
    spec_destroy(s);
}

/* What a document that is no spec nor task file adds (spec.c not_a_spec). */
#define TRIED                                                                          \
    " (tried: a study spec, study: NAME ...; a task-queue JSON, {\"metadata\": "       \
    "{...}, "                                                                          \
    "\"tasks\": [...]}; a tasks.yaml, tasks: [...])"

/* Every kind of error, with its exact message. */
static void test_errors(void **state)
{
    static const struct {
        const char *name;
        const char *text;
        const char *want;
    } cases[] = {
        /* documents */
        {"study.yaml", "study: [1, 2\nmodel: x\n",
         "study.yaml:2:6: invalid YAML: did not find expected ',' or ']' (while "
         "parsing a "
         "flow sequence at 1:8)"},
        {"study.yaml", "study: x\n  model: y\n",
         "study.yaml:2:8: invalid YAML: mapping values are not allowed in this "
         "context"},
        {"study.json", "{\"study\": \"a\",}",
         "study.json:1:15: invalid JSON: expected a string key, got '}'"},
        {"study.json", "{\"study\": \"a\"\n  \"model\": 1}",
         "study.json:2:3: invalid JSON: expected ',' or '}', got '\"'"},
        {"study.json", "{\"study\": \"\\ud800\"}",
         "study.json:1:12: invalid JSON: unpaired surrogate \\uD800"},
        {"study.json", "[1, 2",
         "study.json:1:6: invalid JSON: expected ',' or ']', got the end"},
        {"study.yaml", "study: a\nmodel: b\nstudy: c\n",
         "study.yaml:3:1: duplicate key \"study\" (first at 1:1)"},
        {"study.json", "{\"study\": \"a\",\n \"model\": \"b\",\n \"study\": \"c\"}",
         "study.json:3:2: duplicate key \"study\" (first at 1:2)"},
        {"study.yaml", "study: a\nmodel: b\nparameters: {x: [.inf]}\n",
         "study.yaml:3:18: .inf: infinity and NaN are not supported (quote it for a "
         "string)"},
        {"study.yaml", "study: a\nmodel: b\nrepetitions: 99999999999999999999\n",
         "study.yaml:3:14: integer out of range: 99999999999999999999"},
        {"study.yaml", "study: a\nmodel: !!int 3\n",
         "study.yaml:2:8: unsupported tag tag:yaml.org,2002:int"},
        {"study.yaml", "study: a\nmodel: *m\n",
         "study.yaml:2:8: unknown anchor \"m\" (an alias must follow its anchor)"},
        {"study.yaml", "study: a\nmodel: b\n---\nstudy: c\n",
         "study.yaml:3:1: invalid YAML: expected a single document, got a second one"},
        {"study.yaml", "? [a]\n: b\n",
         "study.yaml:1:3: expected a scalar key, got a list"},
        {"study.yaml", "",
         "study.yaml:1:1: expected a mapping of study fields (study: ..., command: "
         "...), "
         "got an empty document" TRIED},
        {"study.yaml", "- a\n- b\n",
         "study.yaml:1:1: expected a mapping of study fields (study: ..., command: "
         "...), "
         "got a list" TRIED},
        {"", "hello",
         "<spec>:1:1: expected a mapping of study fields (study: ..., command: ...), "
         "got a "
         "single value" TRIED},
        {"study.yaml", "study: a\nmodel: m\nbase: {.inf: 1}\n",
         "study.yaml:3:8: base: expected a parameter name of letters, digits and '_' "
         "(not "
         "starting with a digit, at most 100 characters), got \".inf\""},
        {"flow.json", "{study: a, model: m}",
         "flow.json:1:2: invalid JSON: expected a string key, got 's'"},
        {"", "{study: a, model: [m}",
         "<spec>:1:2: invalid JSON: expected a string key, got 's'"},
        {"flow.yaml", "{study: a, model: [m}",
         "flow.yaml:1:21: invalid YAML: did not find expected ',' or ']' (while "
         "parsing a "
         "flow sequence at 1:19)"},
        {"crlf.json", "\xEF\xBB\xBF{\r\n  \"study\": \"a\",\r\n  \"model\": 5}",
         "crlf.json:3:12: model: expected the name of a built-in model, got 5"},
        {"crlf.yaml", "\xEF\xBB\xBFstudy: a\r\nmodel: 5\r\n",
         "crlf.yaml:2:8: model: expected the name of a built-in model, got 5"},
        /* unknown and missing fields */
        {"study.yaml", "study: a\nmodel: b\nretry: 3\n",
         "study.yaml:3:1: unknown field \"retry\" (did you mean \"retries\"?); "
         "expected one of: study, description, model, command, shell, steps, reduce, "
         "after, parameters, zip, base, tasks, repetitions, priority, max_parallel, "
         "cpus, timeout, kill_after, retries, rate_limit, workdir, env"},
        {"study.yaml", "study: a\nmodel: b\nstep: []\n",
         "study.yaml:3:1: unknown field \"step\" (did you mean \"steps\"?); expected "
         "one of: study, description, model, command, shell, steps, reduce, after, "
         "parameters, zip, base, tasks, repetitions, priority, max_parallel, cpus, "
         "timeout, kill_after, retries, rate_limit, workdir, env"},
        {"study.yaml", "study: a\nmodel: b\nretries:\n  max: 1\n  bakoff: 2s\n",
         "study.yaml:5:3: unknown field \"retries.bakoff\" (did you mean "
         "\"backoff\"?); "
         "expected one of: max, backoff, backoff_max, on"},
        {"study.yaml", "model: b\n",
         "study.yaml: missing required field \"study\"" TRIED},
        {"study.yaml", "study: a\n",
         "study.yaml: missing field \"model\", \"command\" or \"steps\" (what each "
         "task runs)"},
        {"study.yaml", "study: ../etc\nmodel: b\n",
         "study.yaml:1:8: study: expected a name of letters, digits, '.', '_' and '-' "
         "(starting with a letter or digit, at most 100 characters), got \"../etc\""},
        {"study.yaml", "study: a\ndescription: [x]\nmodel: b\n",
         "study.yaml:2:14: description: expected a string, got a list"},
        /* model, command, shell */
        {"study.yaml", "study: a\nmodel: b\ncommand: [c]\n",
         "study.yaml:3:10: command: expected either model or command, got both (model "
         "at "
         "2:8)"},
        {"study.yaml", "study: a\nmodel: \"\"\n",
         "study.yaml:2:8: model: expected the name of a built-in model, got \"\""},
        {"study.yaml", "study: a\ncommand: python sim.py {x}\n",
         "study.yaml:2:10: command: expected a list of arguments such as [python, "
         "sim.py, "
         "\"{x}\"] (a single string needs shell: true), got \"python sim.py {x}\""},
        {"study.yaml", "study: a\ncommand: []\n",
         "study.yaml:2:10: command: expected a list of arguments such as [python, "
         "sim.py, "
         "\"{x}\"], got a list"},
        {"study.yaml", "study: a\ncommand: [sim, {a: 1}]\n",
         "study.yaml:2:16: command[1]: expected a string, got a mapping"},
        {"study.yaml", "study: a\ncommand: [\"\", x]\n",
         "study.yaml:2:11: command[0]: expected the program to run, got \"\""},
        {"study.yaml", "study: a\ncommand: [a, b]\nshell: true\n",
         "study.yaml:2:10: command: expected one string with shell: true, got a list "
         "of 2"},
        {"study.yaml", "study: a\ncommand: [a]\nshell: yes\n",
         "study.yaml:3:8: shell: expected true or false, got \"yes\""},
        {"study.yaml", "study: a\nmodel: m\nshell: true\n",
         "study.yaml:3:8: shell: expected false with model (shell applies to command), "
         "got "
         "true"},
        /* parameters */
        {"study.yaml", "study: a\nmodel: m\nparameters: [x, y]\n",
         "study.yaml:3:13: parameters: expected a mapping of parameter names to "
         "values, got "
         "a list"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  grid-size: [1]\n",
         "study.yaml:4:3: parameters: expected a parameter name of letters, digits and "
         "'_' "
         "(not starting with a digit, at most 100 characters), got \"grid-size\""},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  priority: [1]\n",
         "study.yaml:4:3: parameters: expected a parameter name other than priority "
         "(it "
         "sets a task's priority), got \"priority\""},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re:\n",
         "study.yaml:4:6: parameters.Re: expected a list of values, one value, or one "
         "of "
         "{range: [start, stop, step]}, {linspace: [a, b, n]}, {logspace: [a, b, n]}, "
         "got "
         "nothing"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: []\n",
         "study.yaml:4:7: parameters.Re: expected at least one value, got a list"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: [1, , 2]\n",
         "study.yaml:4:11: invalid YAML: did not find expected node content (while "
         "parsing "
         "a flow node at 4:11)"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {range: [1, 10, 0]}\n",
         "study.yaml:4:23: parameters.Re.range[2]: expected a step other than 0, got "
         "0"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {range: [1, 10, -1]}\n",
         "study.yaml:4:23: parameters.Re.range[2]: expected a positive step (stop is "
         "above "
         "start), got -1"},
        {"study.yaml",
         "study: a\nmodel: m\nparameters:\n  Re: {range: [1.0, 0.0, 0.1]}\n",
         "study.yaml:4:26: parameters.Re.range[2]: expected a negative step (stop is "
         "below "
         "start), got 0.1"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {range: [5.1, 4]}\n",
         "study.yaml:4:21: parameters.Re.range[1]: expected a stop not below start "
         "(the "
         "step is 1), got 4"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {range: [1, 2, 3, 4]}\n",
         "study.yaml:4:15: parameters.Re.range: expected [start, stop] or [start, "
         "stop, "
         "step], got a list of 4"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {range: 5}\n",
         "study.yaml:4:15: parameters.Re.range: expected [start, stop] or [start, "
         "stop, "
         "step], got 5"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {range: [1, x, 1]}\n",
         "study.yaml:4:19: parameters.Re.range[1]: expected a number, got \"x\""},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {range: [1, 2000000]}\n",
         "study.yaml:4:15: parameters.Re.range: expected at most 1000000 values in all "
         "parameters, got 2000000 more"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {linspace: [0, 1, 0]}\n",
         "study.yaml:4:25: parameters.Re.linspace[2]: expected a count of at least 1, "
         "got 0"},
        {"study.yaml",
         "study: a\nmodel: m\nparameters:\n  Re: {linspace: [0, 1, 2.5]}\n",
         "study.yaml:4:25: parameters.Re.linspace[2]: expected a count of at least 1, "
         "got "
         "2.5"},
        {"study.yaml",
         "study: a\nmodel: m\nparameters:\n  Re: {logspace: [0, 400, 3]}\n",
         "study.yaml:4:22: parameters.Re.logspace[1]: expected an exponent of a finite "
         "power of 10, got 400"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {rnge: [1, 2, 1]}\n",
         "study.yaml:4:8: unknown field \"parameters.Re.rnge\" (did you mean "
         "\"range\"?); "
         "expected one of: range, linspace, logspace"},
        {"study.yaml",
         "study: a\nmodel: m\nparameters:\n  Re: {range: [1, 2], linspace: [0, 1, "
         "2]}\n",
         "study.yaml:4:23: parameters.Re: expected one of range, linspace, logspace, "
         "got "
         "both range and linspace"},
        {"study.yaml", "study: a\nmodel: m\nparameters:\n  Re: {}\n",
         "study.yaml:4:7: parameters.Re: expected a list of values, one value, or one "
         "of "
         "{range: [start, stop, step]}, {linspace: [a, b, n]}, {logspace: [a, b, n]}, "
         "got "
         "a mapping"},
        /* zip */
        {"study.yaml",
         "study: a\nmodel: m\nparameters: {a: [1, 2], b: [1, 2, 3]}\n"
         "zip: [[a, b]]\n",
         "study.yaml:4:7: zip[0]: expected lists of equal length, got a: 2, b: 3"},
        {"study.yaml",
         "study: a\nmodel: m\nparameters: {a: [1], b: [2]}\nzip: [[a, c]]\n",
         "study.yaml:4:11: zip[0][1]: expected the name of a parameter in parameters, "
         "got "
         "\"c\""},
        {"study.yaml",
         "study: a\nmodel: m\nparameters: {a: [1], b: [2]}\n"
         "zip: [[a, b], [b]]\n",
         "study.yaml:4:16: zip[1][0]: expected a parameter in one zip group only, got "
         "\"b\" "
         "again (in zip[0])"},
        {"study.yaml", "study: a\nmodel: m\nparameters: {a: [1]}\nzip: [a]\n",
         "study.yaml:4:7: zip[0]: expected a list of parameter names that vary "
         "together, "
         "got \"a\""},
        {"study.yaml", "study: a\nmodel: m\nzip: [[a]]\n",
         "study.yaml:3:6: zip: expected parameters to zip (there is no parameters "
         "field), "
         "got a list"},
        /* base and tasks */
        {"study.yaml",
         "study: a\nmodel: m\nparameters:\n  Re: [1, 2]\nbase:\n  Re: 3\n",
         "study.yaml:6:3: base.Re: expected a name not also in parameters, got \"Re\" "
         "(in "
         "parameters at 4:3)"},
        {"study.yaml", "study: a\nmodel: m\nbase:\n  x:\n",
         "study.yaml:4:5: base.x: expected a value, got nothing"},
        {"study.yaml", "study: a\nmodel: m\nbase: [1]\n",
         "study.yaml:3:7: base: expected a mapping of parameter names to fixed values, "
         "got "
         "a list"},
        {"study.yaml", "study: a\nmodel: m\ntasks: []\n",
         "study.yaml:3:8: tasks: expected a list of parameter sets (mappings), got a "
         "list"},
        {"study.yaml", "study: a\nmodel: m\ntasks:\n  - x: 1\n  - 5\n",
         "study.yaml:5:5: tasks[1]: expected a mapping of parameter names to values, "
         "got 5"},
        {"study.yaml",
         "study: a\nmodel: m\ntasks:\n  - {x: 1}\n  - {x: 2}\n  - {x: 3}\n"
         "  - {x: 4, priority: urgent}\n",
         "study.yaml:7:22: tasks[3].priority: expected HIGH, MEDIUM, LOW or an "
         "integer, got "
         "\"urgent\""},
        {"study.yaml", "study: a\nmodel: m\ntasks:\n  - {9x: 1}\n",
         "study.yaml:4:6: tasks[0]: expected a parameter name of letters, digits and "
         "'_' "
         "(not starting with a digit, at most 100 characters), got \"9x\""},
        /* run settings */
        {"study.yaml", "study: a\nmodel: m\nrepetitions: 0\n",
         "study.yaml:3:14: repetitions: expected a positive integer, got 0"},
        {"study.yaml", "study: a\nmodel: m\nrepetitions: \"2\"\n",
         "study.yaml:3:14: repetitions: expected a positive integer, got \"2\""},
        {"study.yaml", "study: a\nmodel: m\npriority: urgent\n",
         "study.yaml:3:11: priority: expected HIGH, MEDIUM, LOW or an integer, got "
         "\"urgent\""},
        {"study.yaml", "study: a\nmodel: m\nmax_parallel: 0\n",
         "study.yaml:3:15: max_parallel: expected a positive integer, got 0"},
        {"study.yaml", "study: a\nmodel: m\ncpus: 1.5\n",
         "study.yaml:3:7: cpus: expected a positive integer, got 1.5"},
        {"study.yaml", "study: a\nmodel: m\ntimeout: fast\n",
         "study.yaml:3:10: timeout: expected a duration such as 500ms, 90s, 30m, 24h "
         "or a "
         "number of seconds, got \"fast\""},
        {"study.yaml", "study: a\nmodel: m\ntimeout: 0s\n",
         "study.yaml:3:10: timeout: expected a duration greater than 0, got \"0s\""},
        {"study.yaml", "study: a\nmodel: m\ntimeout: 400d\n",
         "study.yaml:3:10: timeout: expected a duration of at most 366d, got \"400d\""},
        {"study.yaml", "study: a\nmodel: m\nkill_after: -1\n",
         "study.yaml:3:13: kill_after: expected a duration such as 500ms, 90s, 30m, "
         "24h or "
         "a number of seconds, got -1"},
        {"study.yaml", "study: a\nmodel: m\nretries:\n  max: three\n",
         "study.yaml:4:8: retries.max: expected a non-negative integer, got \"three\""},
        {"study.json",
         "{\"study\": \"a\", \"model\": \"m\",\n \"retries\": {\"max\": -1}}",
         "study.json:2:21: retries.max: expected a non-negative integer, got -1"},
        {"study.yaml", "study: a\nmodel: m\nretries: {backoff: 10s, backoff_max: 5s}\n",
         "study.yaml:3:38: retries.backoff_max: expected a duration not below backoff "
         "(10.0s), got \"5s\""},
        {"study.yaml", "study: a\nmodel: m\nretries: {on: [timeout, crash]}\n",
         "study.yaml:3:25: retries.on[1]: expected timeout, signal, nonzero or exit:N "
         "(N "
         "from 1 to 255), got \"crash\""},
        {"study.yaml", "study: a\nmodel: m\nretries: {on: [exit:0]}\n",
         "study.yaml:3:16: retries.on[0]: expected timeout, signal, nonzero or exit:N "
         "(N "
         "from 1 to 255), got \"exit:0\""},
        {"study.yaml", "study: a\nmodel: m\nretries: {on: [nonzero, exit:3]}\n",
         "study.yaml:3:25: retries.on[1]: expected either nonzero or exit:N codes, not "
         "both, got \"exit:3\""},
        {"study.yaml", "study: a\nmodel: m\nretries: {on: timeout}\n",
         "study.yaml:3:15: retries.on: expected a list of timeout, signal, nonzero, "
         "exit:N, "
         "got \"timeout\""},
        {"study.yaml", "study: a\nmodel: m\nretries: [1]\n",
         "study.yaml:3:10: retries: expected a mapping {max, backoff, backoff_max, on} "
         "or a "
         "number of retries, got a list"},
        {"study.yaml", "study: a\nmodel: m\nrate_limit: 10/x\n",
         "study.yaml:3:13: rate_limit: expected a rate such as 5/s, 10/m or 100/h, got "
         "\"10/x\""},
        {"study.yaml", "study: a\nmodel: m\nrate_limit: 0/s\n",
         "study.yaml:3:13: rate_limit: expected a positive rate, got \"0/s\""},
        {"study.yaml", "study: a\nmodel: m\nworkdir: 5\n",
         "study.yaml:3:10: workdir: expected a directory path, got 5"},
        {"study.yaml", "study: a\nmodel: m\nenv:\n  BAD-NAME: 1\n",
         "study.yaml:4:3: env: expected a variable name of letters, digits and '_', "
         "got "
         "\"BAD-NAME\""},
        {"study.yaml", "study: a\nmodel: m\nenv:\n  SWEEP_SEED: 1\n",
         "study.yaml:4:3: env: expected a name not starting with SWEEP_ (set by "
         "sweep), got "
         "\"SWEEP_SEED\""},
        {"study.yaml", "study: a\nmodel: m\nenv:\n  X: [1]\n",
         "study.yaml:4:6: env.X: expected a string, got a list"},
        /* pipelines: steps */
        {"study.yaml", "study: a\nmodel: b\nsteps: []\n",
         "study.yaml:2:8: model: expected either steps or model (set it on each step), "
         "got both (steps at 3:8)"},
        {"study.yaml", "study: a\nsteps: [{name: s, model: m}]\ncommand: [x]\n",
         "study.yaml:3:10: command: expected either steps or command (set it on each "
         "step), got both (steps at 2:8)"},
        {"study.yaml", "study: a\nshell: false\nsteps: [{name: s, model: m}]\n",
         "study.yaml:2:8: shell: expected either steps or shell (set it on each step), "
         "got both (steps at 3:8)"},
        {"study.yaml", "study: a\nsteps: []\n",
         "study.yaml:2:8: steps: expected a list of steps such as [{name: simulate, "
         "model: chaos}], got a list"},
        {"study.yaml", "study: a\nsteps: {name: s}\n",
         "study.yaml:2:8: steps: expected a list of steps such as [{name: simulate, "
         "model: chaos}], got a mapping"},
        {"study.yaml", "study: a\nsteps:\n  - name: s\n    model: m\n  - 5\n",
         "study.yaml:5:5: steps[1]: expected a mapping {name, model or command, ...}, "
         "got 5"},
        {"study.yaml", "study: a\nsteps:\n  - name: s\n    model: m\n    timout: 5\n",
         "study.yaml:5:5: unknown field \"steps[0].timout\" (did you mean "
         "\"timeout\"?); expected one of: name, model, command, shell, timeout, "
         "kill_after, retries, cpus, priority"},
        {"study.yaml", "study: a\nsteps:\n  - model: m\n",
         "study.yaml:3:5: steps[0]: missing field \"name\""},
        {"study.yaml", "study: a\nsteps:\n  - {name: sim-1, model: m}\n",
         "study.yaml:3:12: steps[0].name: expected a step name of letters, digits and "
         "'_' (not starting with a digit, at most 100 characters), got \"sim-1\""},
        {"study.yaml", "study: a\nsteps:\n  - {name: [s], model: m}\n",
         "study.yaml:3:12: steps[0].name: expected a step name of letters, digits and "
         "'_' (not starting with a digit, at most 100 characters), got a list"},
        {"study.yaml", "study: a\nsteps:\n  - {name: reduce, model: m}\n",
         "study.yaml:3:12: steps[0].name: expected a name other than reduce (the "
         "reduce's own), got \"reduce\""},
        {"study.yaml",
         "study: a\nsteps:\n  - {name: s, model: m}\n  - {name: t, model: m}\n"
         "  - {name: s, model: m}\n",
         "study.yaml:5:12: steps[2].name: expected a unique step name, got \"s\" again "
         "(steps[0] at 3:12)"},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, model: m, command: [x]}\n",
         "study.yaml:3:34: steps[0].command: expected either model or command, got "
         "both (model at 3:22)"},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, model: m}\n  - {name: t}\n",
         "study.yaml:4:5: steps[1]: missing field \"model\" or \"command\" (what the "
         "step runs)"},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, model: m, shell: true}\n",
         "study.yaml:3:32: steps[0].shell: expected false with model (shell applies to "
         "command), got true"},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, model: 5}\n",
         "study.yaml:3:22: steps[0].model: expected the name of a built-in model, got "
         "5"},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, command: x}\n",
         "study.yaml:3:24: steps[0].command: expected a list of arguments such as "
         "[python, sim.py, \"{x}\"] (a single string needs shell: true), got \"x\""},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, command: [x, [y]]}\n",
         "study.yaml:3:28: steps[0].command[1]: expected a string, got a list"},
        {"study.yaml",
         "study: a\nsteps:\n  - {name: s, model: m}\n  - {name: t, model: m, cpus: "
         "0}\n",
         "study.yaml:4:31: steps[1].cpus: expected a positive integer, got 0"},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, model: m, priority: urgent}\n",
         "study.yaml:3:35: steps[0].priority: expected HIGH, MEDIUM, LOW or an "
         "integer, got \"urgent\""},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, model: m, timeout: 0}\n",
         "study.yaml:3:34: steps[0].timeout: expected a duration greater than 0, got "
         "0"},
        {"study.yaml", "study: a\nsteps:\n  - {name: s, model: m, kill_after: x}\n",
         "study.yaml:3:37: steps[0].kill_after: expected a duration such as 500ms, "
         "90s, 30m, 24h or a number of seconds, got \"x\""},
        {"study.yaml",
         "study: a\nsteps:\n  - name: s\n    model: m\n    retries: {max: -1}\n",
         "study.yaml:5:20: steps[0].retries.max: expected a non-negative integer, got "
         "-1"},
        {"study.yaml",
         "study: a\nsteps:\n  - name: s\n    model: m\n    retries: {on: [exit:0]}\n",
         "study.yaml:5:20: steps[0].retries.on[0]: expected timeout, signal, nonzero "
         "or exit:N (N from 1 to 255), got \"exit:0\""},
        {"study.yaml",
         "study: a\nsteps:\n  - name: s\n    model: m\n    retries: {bakoff: 1s}\n",
         "study.yaml:5:15: unknown field \"steps[0].retries.bakoff\" (did you mean "
         "\"backoff\"?); expected one of: max, backoff, backoff_max, on"},
        /* pipelines: reduce and after */
        {"study.yaml", "study: a\nmodel: m\nreduce: [x]\n",
         "study.yaml:3:9: reduce: expected a mapping {model or command, when, ...}, "
         "got "
         "a list"},
        {"study.yaml", "study: a\nmodel: m\nreduce: {command: [x], name: r}\n",
         "study.yaml:3:24: unknown field \"reduce.name\"; expected one of: model, "
         "command, shell, when, timeout, kill_after, retries, cpus, priority"},
        {"study.yaml", "study: a\nmodel: m\nreduce: {when: always}\n",
         "study.yaml:3:9: reduce: missing field \"model\" or \"command\" (what the "
         "step "
         "runs)"},
        {"study.yaml", "study: a\nmodel: m\nreduce: {command: [x], when: sometimes}\n",
         "study.yaml:3:30: reduce.when: expected all_succeeded or always, got "
         "\"sometimes\""},
        {"study.yaml", "study: a\nmodel: m\nreduce: {command: [x], cpus: -1}\n",
         "study.yaml:3:30: reduce.cpus: expected a positive integer, got -1"},
        {"study.yaml", "study: a\nmodel: m\nafter: []\n",
         "study.yaml:3:8: after: expected a study name or a list of study names, got a "
         "list"},
        {"study.yaml", "study: a\nmodel: m\nafter: {b: 1}\n",
         "study.yaml:3:8: after: expected a study name or a list of study names, got a "
         "mapping"},
        {"study.yaml", "study: a\nmodel: m\nafter: ../b\n",
         "study.yaml:3:8: after: expected a study name of letters, digits, '.', '_' "
         "and '-' (starting with a letter or digit, at most 100 characters), got "
         "\"../b\""},
        {"study.yaml", "study: a\nmodel: m\nafter: [b, a]\n",
         "study.yaml:3:12: after[1]: expected the name of another study (not this "
         "one), got \"a\""},
        {"study.yaml", "study: a\nmodel: m\nafter: [b, [c]]\n",
         "study.yaml:3:12: after[1]: expected a study name of letters, digits, '.', "
         "'_' "
         "and '-' (starting with a letter or digit, at most 100 characters), got a "
         "list"},
        /* pipelines: step references, at the element that holds them */
        {"study.yaml",
         "study: re-sweep\n"
         "parameters: {Re: [100, 400]}\n"
         "steps:\n"
         "  - name: simulate\n"
         "    model: cavity\n"
         "  - name: analyze\n"
         "    command: [./analyze.py,\n"
         "      \"{steps.simulate.dir}\",\n"
         "      \"{steps.export.dir}\"]\n"
         "  - name: export\n"
         "    command: [./export.sh, \"{steps.analyze.result}\"]\n",
         "study.yaml:9:7: steps[1].command[2]: {steps.export.dir}: a step can only use "
         "the steps before it; \"export\" runs after \"analyze\""},
        {"study.yaml",
         "study: a\nsteps:\n  - {name: sim, model: m}\n"
         "  - {name: an, command: [an, \"--in={steps.an.result}\"]}\n",
         "study.yaml:4:30: steps[1].command[1]: {steps.an.result}: a step can only use "
         "the steps before it; \"an\" is this step"},
        {"study.yaml",
         "study: a\nsteps:\n  - {name: sim, model: m}\n  - {name: an, model: m}\n"
         "  - {name: ex, command: [ex, \"{steps.sim.dir}{steps.anl.dir}\"]}\n",
         "study.yaml:5:30: steps[2].command[1]: {steps.anl.dir}: unknown step \"anl\" "
         "(did you mean \"an\"?); the steps are: sim, an, ex"},
        {"study.yaml",
         "study: a\nsteps:\n  - {name: sim, model: m}\n"
         "  - {name: an, command: [an, \"{steps.sim.out}\"]}\n",
         "study.yaml:4:30: steps[1].command[1]: {steps.sim.out}: expected "
         "{steps.NAME.dir} or {steps.NAME.result}"},
        {"study.yaml",
         "study: a\nsteps:\n  - {name: sim, model: m}\n"
         "  - name: an\n    shell: true\n    command: \"an {steps.sim}\"\n",
         "study.yaml:6:14: steps[1].command: {steps.sim}: expected {steps.NAME.dir} or "
         "{steps.NAME.result}"},
        {"study.yaml",
         "study: a\nsteps:\n  - {name: sim, model: m}\n"
         "  - {name: an, command: [an, \"{reduce.input}\"]}\n",
         "study.yaml:4:30: steps[1].command[1]: {reduce.input}: only the reduce's "
         "command can use it"},
        {"study.yaml",
         "study: a\nsteps:\n  - {name: sim, model: m}\n"
         "  - {name: an, command: [an, \"x{\"]}\n",
         "study.yaml:4:30: steps[1].command[1]: template \"x{\", column 2: '{' does "
         "not start a placeholder {name} (a letter or '_', then letters, digits, '_' "
         "or '.'); write \"{{\" for a literal brace"},
        {"study.yaml", "study: a\ncommand: [sim, \"{steps.sim.dir}\"]\n",
         "study.yaml:2:16: command[1]: {steps.sim.dir}: a single-step study has no "
         "steps to refer to"},
        {"study.yaml", "study: a\ncommand: \"sim {reduce.input}\"\nshell: true\n",
         "study.yaml:2:10: command: {reduce.input}: only the reduce's command can use "
         "it"},
        {"study.yaml", "study: a\ncommand: [sim, \"a}\"]\n",
         "study.yaml:2:16: command[1]: template \"a}\", column 2: lone '}' (write "
         "\"}}\" for a literal brace)"},
        {"study.yaml",
         "study: a\nsteps: [{name: sim, model: m}]\n"
         "reduce: {command: [sum, \"{steps.sim.result}\"]}\n",
         "study.yaml:3:25: reduce.command[1]: {steps.sim.result}: the reduce cannot "
         "use {steps...}; every step's results are in {reduce.input}"},
        {"study.yaml",
         "study: a\nmodel: m\nreduce: {command: [sum, \"{reduce.output}\"]}\n",
         "study.yaml:3:25: reduce.command[1]: {reduce.output}: expected "
         "{reduce.input}"},
    };
    int failed = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err = {0};
        struct spec *spec = (struct spec *)&err; /* must be reset to NULL */
        int rc = spec_parse(cases[i].name, cases[i].text, strlen(cases[i].text), &spec,
                            &err);
        if (rc != SWEEP_EINVAL || strcmp(err.msg, cases[i].want) != 0) {
            print_error("case %zu: rc %d\n got: %s\nwant: %s\n", i, rc, err.msg,
                        cases[i].want);
            failed++;
        }
        assert_null(spec);
    }
    assert_int_equal(failed, 0);
}

/* Anchors are resolved, but never loop and never grow without bound. */
static void test_aliases_and_limits(void **state)
{
    static const char laughs[] = "study: a\nmodel: m\n"
                                 "base:\n"
                                 "  l0: &a [x, x, x, x, x, x, x, x, x, x]\n"
                                 "  l1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                                 "  l2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                                 "  l3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                                 "  l4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                                 "  l5: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    struct err err = {0};
    struct spec *s = parse_ok("a.yaml", "study: a\nmodel: m\n"
                                        "base: {opts: &o {n: 1, m: [2]}}\n"
                                        "tasks: [{x: *o}, {x: *o}]\n");
    struct strbuf sb = STRBUF_INIT;
    char *big;
    (void)state;

    assert_json(s->tasks, "[{\"x\":{\"m\":[2],\"n\":1}},{\"x\":{\"m\":[2],\"n\":1}}]");
    spec_destroy(s);

    assert_int_equal(spec_parse("a.yaml", laughs, strlen(laughs), &s, &err),
                     SWEEP_EINVAL);
    assert_string_equal(err.msg,
                        "a.yaml:8:39: aliases expand to more than 100000 nodes");

    /* Nesting: 65 levels of lists in YAML and in JSON. */
    sb_adds(&sb, "study: a\nmodel: m\nbase: {x: ");
    for (int i = 0; i < 65; i++)
        sb_addc(&sb, '[');
    assert_int_equal(spec_parse("n.yaml", sb_str(&sb), sb.len, &s, &err), SWEEP_EINVAL);
    assert_string_equal(err.msg, "n.yaml:3:73: nesting deeper than 64 levels");
    sb_reset(&sb);
    for (int i = 0; i < 100000; i++)
        sb_addc(&sb, '[');
    assert_int_equal(spec_parse("n.json", sb_str(&sb), sb.len, &s, &err), SWEEP_EINVAL);
    assert_string_equal(err.msg, "n.json:1:65: nesting deeper than 64 levels");
    sb_fini(&sb);

    big = xcalloc(DOC_MAX_SIZE + 1, 1);
    memset(big, ' ', DOC_MAX_SIZE + 1);
    assert_int_equal(spec_parse("big.yaml", big, DOC_MAX_SIZE + 1, &s, &err),
                     SWEEP_EINVAL);
    assert_string_equal(err.msg, "big.yaml: larger than 16 MiB");
    free(big);
}

static void test_load(void **state)
{
    char dir[] = "/tmp/test_spec.XXXXXX", *path, *real;
    struct err err = {0};
    struct spec *s = NULL;
    FILE *f;
    (void)state;

    assert_non_null(mkdtemp(dir));
    real = realpath(dir, NULL);
    path = xasprintf("%s/study.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"study\": \"l\", \"model\": \"m\", \"workdir\": \"w\"}", f);
    fclose(f);
    assert_int_equal(spec_load(path, &s, &err), SWEEP_OK);
    assert_string_equal(s->path, path);
    assert_string_equal(s->dir, real);
    spec_destroy(s);

    f = fopen(path, "w");
    fputs("{\"study\": \"l\", \"model\": 5}", f);
    fclose(f);
    assert_int_equal(spec_load(path, &s, &err), SWEEP_EINVAL);
    assert_null(s);
    {
        char *want = xasprintf(
            "%s:1:25: model: expected the name of a built-in model, got 5", path);
        assert_string_equal(err.msg, want);
        free(want);
    }
    unlink(path);

    assert_int_equal(spec_load(path, &s, &err), SWEEP_ENOTFOUND);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(spec_load(dir, &s, &err), SWEEP_EINVAL);
    assert_non_null(strstr(err.msg, "is a directory, not a regular file"));

    /* A FIFO is refused at once (reading it would block until a writer came), and a
     * loop of symbolic links is the user's to fix: both are SWEEP_EINVAL (exit 2). */
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(spec_load(path, &s, &err), SWEEP_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err.msg, "is a FIFO, not a regular file"));
    unlink(path);
    assert_int_equal(symlink(path, path), 0);
    assert_int_equal(spec_load(path, &s, &err), SWEEP_EINVAL);
    assert_non_null(strstr(err.msg, "a loop of symbolic links"));
    unlink(path);
    rmdir(dir);
    free(path);
    free(real);
}

static void test_priority(void **state)
{
    static const struct {
        const char *in;
        int rc, want;
    } cases[] = {
        {"HIGH", 0, PRIORITY_HIGH},
        {"medium", 0, PRIORITY_MEDIUM},
        {"Low", 0, PRIORITY_LOW},
        {"7", 0, 7},
        {"-2", 0, -2},
        {"+3", 0, 3},
        {"", -1, 0},
        {"urgent", -1, 0},
        {"3x", -1, 0},
        {" 3", -1, 0},
        {"99999999999", -1, 0},
        {"-", -1, 0},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = 0;
        assert_int_equal(priority_parse(cases[i].in, &got), cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(got, cases[i].want);
    }
    assert_string_equal(priority_name(PRIORITY_HIGH), "HIGH");
    assert_string_equal(priority_name(10), "HIGH");
    assert_string_equal(priority_name(PRIORITY_MEDIUM), "MEDIUM");
    assert_string_equal(priority_name(PRIORITY_LOW), "LOW");
    assert_string_equal(priority_name(-5), "LOW");
}

/* spec_where and spec_param_where: the positions the checks after parsing report. */
static void test_where(void **state)
{
    static const char yaml[] = "study: w\n"
                               "steps:\n"
                               "  - name: sim\n"
                               "    model: chaos\n"
                               "  - name: post\n"
                               "    command: [cat, \"{steps.sim.result}\"]\n"
                               "reduce: {command: [\"sum\", \"{reduce.input}\"]}\n"
                               "parameters:\n"
                               "  T: [1, 2]\n"
                               "base: {seed: 3}\n"
                               "tasks:\n"
                               "  - {x: 1}\n"
                               "  - {y: 2, x: 3}\n";
    static const struct {
        const char *field;
        int line, col; /* 0: unknown */
    } cases[] = {
        {"steps[0].model", 4, 12},
        {"steps[1].command[0]", 6, 15},
        {"steps[1].command[1]", 6, 20},
        {"reduce.command[1]", 7, 27},
        {"parameters.T", 9, 3},
        {"base.seed", 10, 8},
        {"model", 0, 0},
        {"steps[1].command[2]", 0, 0},
    };
    static const struct {
        const char *name, *field;
        int line, col;
    } params[] = {
        {"T", "parameters.T", 9, 3},
        {"seed", "base.seed", 10, 8},
        {"x", "tasks[0].x", 12, 6},
        {"y", "tasks[1].y", 13, 6},
        {"z", "", 0, 0},
    };
    struct spec *spec = parse_ok("w.yaml", yaml);
    char field[64];
    int line, col;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = spec_where(spec, cases[i].field, &line, &col);
        assert_int_equal(rc, cases[i].line ? 0 : -1);
        if (line != cases[i].line || col != cases[i].col)
            fail_msg("%s: got %d:%d, want %d:%d", cases[i].field, line, col,
                     cases[i].line, cases[i].col);
    }
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        int rc =
            spec_param_where(spec, params[i].name, field, sizeof(field), &line, &col);
        assert_int_equal(rc, params[i].line ? 0 : -1);
        assert_string_equal(field, params[i].field);
        assert_int_equal(line, params[i].line);
        assert_int_equal(col, params[i].col);
    }
    spec_step_prefix(spec, 1, field, sizeof(field));
    assert_string_equal(field, "steps[1].");
    spec_step_prefix(spec, 2, field, sizeof(field));
    assert_string_equal(field, "reduce.");
    spec_destroy(spec);

    spec =
        parse_ok("one.json", "{\"study\": \"j\",\n \"command\": [\"echo\", \"{x}\"],\n"
                             " \"parameters\": {\"x\": [1]}}");
    assert_int_equal(spec_where(spec, "command[1]", &line, &col), 0);
    assert_int_equal(line, 2);
    assert_int_equal(col, 22);
    spec_step_prefix(spec, 0, field, sizeof(field));
    assert_string_equal(field, "");
    spec_destroy(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_parameter_values),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_zip_and_order),
        cmocka_unit_test(test_tasks_only_and_shell),
        cmocka_unit_test(test_retry_details),
        cmocka_unit_test(test_retries_default),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_json_equals_yaml),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_single_step),
        cmocka_unit_test(test_reduce_and_after),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_aliases_and_limits),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_priority),
        cmocka_unit_test(test_where),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
