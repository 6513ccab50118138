/* Unit tests of what a task sees (src/core/taskview.c), built from the spec and the
 * task's row alone: the shared environment (SWEEP_* of sweep's own environment left
 * out, the spec's env replacing a variable of the same name), one attempt's SWEEP_*
 * variables and SWEEP_P_<NAME>, SWEEP_STEP only in a pipeline, and the reduce's input
 * from task rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/spec.h"
#include "core/taskview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct spec *parse(const char *yaml)
{
    struct spec *spec = NULL;
    struct err err = {0};

    if (spec_parse("/tmp/spec.yaml", yaml, strlen(yaml), &spec, &err) != 0)
        fail_msg("spec: %s", err.msg);
    return spec;
}

static const char *get(char **envp, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;

    for (char **p = envp; *p; p++) {
        if (strncmp(*p, name, n) == 0 && (*p)[n] == '=') {
            assert_null(found); /* never twice */
            found = *p + n + 1;
        }
    }
    return found;
}

static void test_env(void **state)
{
    struct spec *spec = parse("study: s\n"
                              "command: [sim]\n"
                              "parameters: {n: [10]}\n"
                              "env: {HOME: /spec/home, EXTRA: 3}\n");
    char *outer[] = {"PATH=/bin",
                     "HOME=/root",
                     "SWEEP_SEED=99",
                     "SWEEP_X=1",
                     "PWD=/where/sweep/runs",
                     NULL};
    json_t *params = json_pack("{s:i, s:s}", "n-particles", 10, "label", "a b");
    struct taskview_task t = {.key = "abc123",
                              .dir = "/h/studies/s/tasks/ab/abc123",
                              .result_path = "/h/studies/s/tasks/ab/abc123/result.json",
                              .params = params,
                              .params_json = "{\"label\":\"a b\",\"n-particles\":10}",
                              .seed = 42,
                              .attempt = 2,
                              .repetition = 1,
                              .step = 0};
    struct taskview_env e;
    char **envp;

    (void)state;
    taskview_env_init(&e, spec, outer);
    envp = taskview_envp(&e, spec, &t);
    assert_string_equal(get(envp, "PATH"), "/bin");
    assert_string_equal(get(envp, "HOME"), "/spec/home");
    assert_string_equal(get(envp, "EXTRA"), "3");
    assert_null(get(envp, "SWEEP_X"));
    assert_string_equal(get(envp, "SWEEP_SEED"), "42");
    assert_string_equal(get(envp, "SWEEP_STUDY"), "s");
    assert_string_equal(get(envp, "SWEEP_TASK_ID"), "abc123");
    assert_string_equal(get(envp, "SWEEP_TASK_DIR"), t.dir);
    assert_string_equal(get(envp, "SWEEP_RESULT"), t.result_path);
    assert_string_equal(get(envp, "SWEEP_PARAMS"), t.params_json);
    assert_string_equal(get(envp, "SWEEP_ATTEMPT"), "2");
    assert_string_equal(get(envp, "SWEEP_REPETITION"), "1");
    assert_string_equal(get(envp, "SWEEP_P_N_PARTICLES"), "10");
    assert_string_equal(get(envp, "SWEEP_P_LABEL"), "a b");
    assert_null(get(envp, "SWEEP_STEP")); /* not a pipeline */
    /* Its working directory, not sweep's. */
    assert_string_equal(get(envp, "PWD"), t.dir);
    assert_string_equal(taskview_cwd(spec, t.dir), t.dir);
    taskview_envp_free(&e, envp);
    taskview_env_fini(&e);
    json_decref(params);
    spec_destroy(spec);

    /* A workdir is the working directory; a PWD of the spec's env is kept. */
    spec = parse("study: w\ncommand: [sim]\nworkdir: /data/run\n");
    params = json_object();
    t.params = params;
    taskview_env_init(&e, spec, outer);
    envp = taskview_envp(&e, spec, &t);
    assert_string_equal(get(envp, "PWD"), "/data/run");
    assert_string_equal(taskview_cwd(spec, t.dir), "/data/run");
    taskview_envp_free(&e, envp);
    taskview_env_fini(&e);
    spec_destroy(spec);
    spec = parse("study: v\ncommand: [sim]\nenv: {PWD: /mine}\n");
    taskview_env_init(&e, spec, outer);
    envp = taskview_envp(&e, spec, &t);
    assert_string_equal(get(envp, "PWD"), "/mine");
    taskview_envp_free(&e, envp);
    taskview_env_fini(&e);
    json_decref(params);
    spec_destroy(spec);
}

static void test_env_step(void **state)
{
    struct spec *spec = parse("study: p\n"
                              "parameters: {x: [1]}\n"
                              "steps:\n"
                              "  - {name: simulate, command: [sim]}\n"
                              "  - {name: analyze, command: [ana]}\n");
    char *outer[] = {NULL};
    json_t *params = json_object();
    struct taskview_task t = {.key = "k",
                              .dir = "/d",
                              .result_path = "/d/r",
                              .params = params,
                              .params_json = "{}",
                              .attempt = 1,
                              .step = 1};
    struct taskview_env e;
    char **envp;

    (void)state;
    taskview_env_init(&e, spec, outer);
    envp = taskview_envp(&e, spec, &t);
    assert_string_equal(get(envp, "SWEEP_STEP"), "analyze");
    taskview_envp_free(&e, envp);
    taskview_env_fini(&e);
    json_decref(params);
    spec_destroy(spec);
}

static void test_reduce_input(void **state)
{
    struct spec *spec = parse("study: p\n"
                              "parameters: {x: [1, 2]}\n"
                              "steps:\n"
                              "  - {name: simulate, command: [sim]}\n"
                              "  - {name: analyze, command: [ana]}\n"
                              "reduce: {command: [red, '{reduce.input}']}\n");
    struct store_task rows[] = {
        {.key = "k1",
         .chain = 0,
         .step = 0,
         .params_json = "{\"x\":1}",
         .seed = 7,
         .state = TASK_SUCCEEDED,
         .metrics_json = "{\"v\":1}"},
        {.key = "k2",
         .chain = 0,
         .step = 1,
         .params_json = "{\"x\":1}",
         .seed = 7,
         .state = TASK_FAILED,
         .error = "exit code 5"},
        {.key = "k3",
         .chain = 1,
         .step = 0,
         .params_json = "{\"x\":2}",
         .seed = 8,
         .state = TASK_SUCCEEDED},
        {.key = "k4",
         .chain = 1,
         .step = 1,
         .params_json = "{\"x\":2}",
         .seed = 8,
         .state = TASK_SKIPPED},
        {.key = "k5", .chain = -1, .step = 2, .params_json = "{}"}, /* the reduce */
    };
    struct taskview_reduce in;
    char *text;

    (void)state;
    taskview_reduce_init(&in, spec, "/h");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        taskview_reduce_add(&in, &rows[i]);
    text = taskview_reduce_take(&in);
    assert_string_equal(
        text,
        "{\"study\":\"p\",\"steps\":[\"simulate\",\"analyze\"],\"points\":["
        "{\"chain\":0,\"repetition\":0,\"seed\":7,\"params\":{\"x\":1},\"steps\":{"
        "\"simulate\":{\"key\":\"k1\",\"state\":\"succeeded\",\"dir\":"
        "\"/h/studies/p/tasks/k1/k1\",\"error\":null,\"metrics\":{\"v\":1}},"
        "\"analyze\":{\"key\":\"k2\",\"state\":\"failed\",\"dir\":"
        "\"/h/studies/p/tasks/k2/k2\",\"error\":\"exit code 5\",\"metrics\":null}}},"
        "{\"chain\":1,\"repetition\":0,\"seed\":8,\"params\":{\"x\":2},\"steps\":{"
        "\"simulate\":{\"key\":\"k3\",\"state\":\"succeeded\",\"dir\":"
        "\"/h/studies/p/tasks/k3/k3\",\"error\":null,\"metrics\":null},"
        "\"analyze\":{\"key\":\"k4\",\"state\":\"skipped\",\"dir\":"
        "\"/h/studies/p/tasks/k4/k4\",\"error\":null,\"metrics\":null}}}]}");
    free(text);
    spec_destroy(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_env_step),
        cmocka_unit_test(test_reduce_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
