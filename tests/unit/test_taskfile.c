/* Unit tests of the task files (src/core/taskfile.c, through spec_parse as `sweep run`
 * reads them): a task-queue JSON and a tasks.yaml give the study spec of explicit
 * tasks they stand for (name, description, model, each task's parameters, task_id and
 * priority), the stored spec reads back as a plain spec, where points into the task
 * file, the study name is sanitized, and every error gives its exact message with the
 * line, column and field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/jsonx.h"
#include "common/xalloc.h"
#include "core/doc.h"
#include "core/expand.h"
#include "core/spec.h"
#include "core/taskfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct spec *parse_ok(const char *name, const char *text)
{
    struct err err = {0};
    struct spec *spec = NULL;

    if (spec_parse(name, text, strlen(text), &spec, &err) != SWEEP_OK)
        fail_msg("%s: unexpected error: %s", name, err.msg);
    assert_non_null(spec);
    return spec;
}

static void assert_json(const json_t *v, const char *want)
{
    char *got = jsonx_canon_str(v);

    if (strcmp(got, want) != 0)
        fail_msg("got %s\nwant %s", got, want);
    free(got);
}

static const char queue_json[] =
    "{\n"
    "  \"metadata\": {\"creation_date\": \"2024-01-15\", \"description\": \"DLA "
    "runs\",\n"
    "               \"total_tasks\": 3, \"created_by\": \"hand\"},\n"
    "  \"tasks\": [\n"
    "    {\"task_id\": \"task_001\", \"algorithm\": \"DLA\",\n"
    "     \"parameters\": {\"n_particles\": 100, \"seed\": 123},\n"
    "     \"priority\": \"high\", \"description\": \"small\"},\n"
    "    {\"task_id\": \"task_002\", \"algorithm\": \"dla\",\n"
    "     \"parameters\": {\"n_particles\": 200}, \"priority\": \"LOW\"},\n"
    "    {\"task_id\": 7, \"algorithm\": \"Dla\", \"parameters\": {}}\n"
    "  ]\n"
    "}\n";

static void test_queue_json(void **state)
{
    struct spec *spec = parse_ok("inbox/dla-runs.json", queue_json);
    struct expand *ex;
    struct expand_task t;
    int line, col;
    char field[128];

    (void)state;
    assert_string_equal(spec->format, TASKFILE_QUEUE_JSON);
    assert_string_equal(spec->name, "dla-runs");
    assert_string_equal(spec->description, "DLA runs");
    assert_int_equal(spec->kind, SPEC_MODEL);
    assert_string_equal(spec->model, "dla");
    assert_false(spec->has_grid);
    assert_int_equal(spec->repetitions, 1);
    assert_json(spec->tasks,
                "[{\"n_particles\":100,\"priority\":3,\"seed\":123,\"task_id\":"
                "\"task_001\"},{\"n_particles\":200,\"priority\":1,\"task_id\":"
                "\"task_002\"},{\"task_id\":\"7\"}]");
    /* The tasks, their bands and the ids in their parameters (so in their keys). */
    ex = expand_create(spec);
    assert_int_equal(expand_next(ex, &t), 1);
    assert_string_equal(t.params_json,
                        "{\"n_particles\":100,\"seed\":123,\"task_id\":\"task_001\"}");
    assert_int_equal(t.priority, PRIORITY_HIGH);
    assert_int_equal(expand_next(ex, &t), 1);
    assert_int_equal(t.priority, PRIORITY_LOW);
    assert_int_equal(expand_next(ex, &t), 1);
    assert_string_equal(t.params_json, "{\"task_id\":\"7\"}");
    assert_int_equal(t.priority, PRIORITY_MEDIUM);
    assert_int_equal(expand_next(ex, &t), 0);
    expand_destroy(ex);
    /* Where the front end's model checks point: into the task file. */
    assert_int_equal(spec_where(spec, "model", &line, &col), 0);
    assert_int_equal(line, 5);
    assert_int_equal(col, 42);
    assert_string_equal(spec_where_label(spec, "model"), "tasks[0].algorithm");
    assert_int_equal(spec_task_param_where(spec, 1, "n_particles", field, sizeof(field),
                                           &line, &col),
                     0);
    assert_string_equal(field, "tasks[1].parameters.n_particles");
    assert_int_equal(line, 9);
    assert_int_equal(col, 21);
    assert_int_equal(spec_param_where(spec, "seed", field, sizeof(field), &line, &col),
                     0);
    assert_string_equal(field, "tasks[0].parameters.seed");
    assert_int_equal(line, 6);
    spec_destroy(spec);
}

static const char tasks_yaml[] = "tasks:\n"
                                 "  - id: \"simulation_small\"\n"
                                 "    type: \"benchmark\"\n"
                                 "    parameters:\n"
                                 "      num_particulas: 100\n"
                                 "      semilla: 42\n"
                                 "    priority: 1\n"
                                 "    description: \"small\"\n"
                                 "  - id: medium\n"
                                 "    type: BENCHMARK\n"
                                 "    priority: 2\n"
                                 "  - id: late\n"
                                 "    type: benchmark\n"
                                 "    parameters: {num_particulas: [1, 2]}\n"
                                 "    priority: 7\n";

static void test_tasks_yaml(void **state)
{
    struct spec *spec = parse_ok("configs/tasks.yaml", tasks_yaml), *back;
    struct err err = {0};
    char *text;

    (void)state;
    assert_string_equal(spec->format, TASKFILE_TASKS_YAML);
    assert_string_equal(spec->name, "tasks");
    assert_null(spec->description);
    assert_string_equal(spec->model, "benchmark");
    /* Integer priorities: 1 is the most urgent, sweep's priority is 4 - n. */
    assert_json(spec->tasks,
                "[{\"num_particulas\":100,\"priority\":3,\"semilla\":42,\"task_id\":"
                "\"simulation_small\"},{\"priority\":2,\"task_id\":\"medium\"},"
                "{\"num_particulas\":[1,2],\"priority\":-3,\"task_id\":\"late\"}]");
    assert_string_equal(priority_name(taskfile_priority(1)), "HIGH");
    assert_string_equal(priority_name(taskfile_priority(0)), "HIGH");
    assert_string_equal(priority_name(taskfile_priority(2)), "MEDIUM");
    assert_string_equal(priority_name(taskfile_priority(3)), "LOW");
    assert_true(taskfile_priority(3) > taskfile_priority(4));
    /* What is stored is a plain spec that reads back the same. */
    text = jsonx_canon_str(spec->json);
    assert_int_equal(spec_parse("configs/tasks.yaml", text, strlen(text), &back, &err),
                     SWEEP_OK);
    assert_null(back->format);
    assert_string_equal(back->name, "tasks");
    assert_string_equal(back->model, "benchmark");
    assert_true(json_equal(back->tasks, spec->tasks));
    spec_destroy(back);
    free(text);
    spec_destroy(spec);
}

/* The same tasks in either syntax and either spelling give the same spec. */
static void test_syntax_and_spelling(void **state)
{
    struct spec *a = parse_ok("x.json", "{\"tasks\": [{\"id\": \"a\", \"type\": "
                                        "\"eden\", \"parameters\": {\"n\": 5}}]}");
    struct spec *b = parse_ok("x.yaml", "metadata:\n"
                                        "tasks:\n"
                                        "- task_id: a\n"
                                        "  algorithm: EDEN\n"
                                        "  parameters:\n"
                                        "    n: 5\n");

    (void)state;
    assert_string_equal(a->format, TASKFILE_TASKS_YAML);
    assert_string_equal(b->format, TASKFILE_QUEUE_JSON);
    assert_true(json_equal(a->json, b->json));
    spec_destroy(a);
    spec_destroy(b);
}

static void test_study_name(void **state)
{
    static const struct {
        const char *s;
        bool is_path;
        const char *want;
    } cases[] = {
        {"task_queues/dla.json", true, "dla"},
        {"/a/b.c/tareas manuales (1).yaml", true, "tareas_manuales__1_"},
        {"20240115_103000_lote.json", true, "20240115_103000_lote"},
        {".hidden", true, "hidden"},
        {"noext", true, "noext"},
        {"__--", true, "tasks"},
        {"My Study!", false, "My_Study_"},
        {"a/b.json", false, "a_b.json"},
        {"", false, "tasks"},
    };
    char *name;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        name = taskfile_study_name(cases[i].s, cases[i].is_path);
        assert_string_equal(name, cases[i].want);
        free(name);
    }
    name =
        taskfile_study_name("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                            false);
    assert_int_equal(strlen(name), 100);
    free(name);
    /* metadata.name wins over the file's name, sanitized as well. */
    struct spec *spec = parse_ok(
        "q.json", "{\"metadata\": {\"name\": \"lote 1\"}, \"tasks\": [{\"task_id\": "
                  "1, \"algorithm\": \"dla\"}]}");
    assert_string_equal(spec->name, "lote_1");
    spec_destroy(spec);
}

/* Every error, with its exact message. */
static void test_errors(void **state)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"{\"metadata\": {}}", "t.json: missing required field \"tasks\" (a task file: "
                               "{\"metadata\": {...}, \"tasks\": [...]})"},
        {"{\"tasks\": [], \"x\": 1}",
         "t.json:1:15: unknown field \"x\"; expected one of: metadata, tasks"},
        {"{\"metadata\": [1], \"tasks\": []}",
         "t.json:1:14: metadata: expected a mapping (name, description, ...), got a "
         "list"},
        {"{\"tasks\": []}", "t.json:1:11: tasks: expected a list of at least one task, "
                            "got []"},
        {"{\"tasks\": {\"a\": 1}}",
         "t.json:1:11: tasks: expected a list of at least one task, got a mapping"},
        {"{\"metadata\": {\"name\": [1]}, \"tasks\": [1]}",
         "t.json:1:23: metadata.name: expected a study name, got a list"},
        {"{\"metadata\": {\"description\": 5}, \"tasks\": [1]}",
         "t.json:1:30: metadata.description: expected a string, got 5"},
        {"{\"tasks\": [1]}", "t.json:1:12: tasks[0]: expected a task: a mapping of "
                             "task_id, algorithm, parameters, priority and "
                             "description, got 1"},
        {"{\"tasks\": [{\"task_id\": \"a\", \"algoritm\": \"dla\"}]}",
         "t.json:1:29: unknown field \"tasks[0].algoritm\" (did you mean "
         "\"algorithm\"?); expected one of: task_id, id, algorithm, type, "
         "parameters, priority, description"},
        {"{\"tasks\": [{\"task_id\": \"a\", \"id\": \"b\", \"algorithm\": \"dla\"}]}",
         "t.json:1:35: tasks[0].id: expected either task_id or id, got both"},
        {"{\"tasks\": [{\"type\": \"dla\", \"algorithm\": \"dla\", \"id\": 1}]}",
         "t.json:1:21: tasks[0].type: expected either algorithm or type, got both"},
        {"{\"tasks\": [{\"algorithm\": \"dla\"}]}",
         "t.json:1:12: tasks[0]: missing required field \"task_id\" (or \"id\")"},
        {"{\"tasks\": [{\"id\": \"a\"}]}",
         "t.json:1:12: tasks[0]: missing required field \"algorithm\" (or \"type\")"},
        {"{\"tasks\": [{\"id\": \"\", \"type\": \"dla\"}]}",
         "t.json:1:19: tasks[0].id: expected a string or integer of 1 to 100 "
         "printable characters, got \"\""},
        {"{\"tasks\": [{\"id\": \"a\\tb\", \"type\": \"dla\"}]}",
         "t.json:1:19: tasks[0].id: expected a string or integer of 1 to 100 "
         "printable characters, got \"a\\tb\""},
        {"{\"tasks\": [{\"id\": 1.5, \"type\": \"dla\"}]}",
         "t.json:1:19: tasks[0].id: expected a string or integer of 1 to 100 "
         "printable characters, got 1.5"},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"dla\"}, {\"id\": \"1\", \"type\": "
         "\"dla\"}]}",
         "t.json:1:45: tasks[1].id: expected an id of its own, got \"1\", the id of "
         "tasks[0]"},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"d l a\"}]}",
         "t.json:1:30: tasks[0].type: expected a model name (see 'sweep models'): "
         "letters, digits, '_' and '-', got \"d l a\""},
        {"{\"tasks\": [{\"id\": 1, \"type\": 3}]}",
         "t.json:1:30: tasks[0].type: expected a model name (see 'sweep models'): "
         "letters, digits, '_' and '-', got 3"},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"dla\"}, {\"id\": 2, \"type\": "
         "\"CCA\"}]}",
         "t.json:1:56: tasks[1].type: expected \"dla\", the model of tasks[0] (a file "
         "is one study, and a study runs one model: put the tasks of \"CCA\" in a "
         "file of their own), got \"CCA\""},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"dla\", \"parameters\": [1]}]}",
         "t.json:1:51: tasks[0].parameters: expected a mapping of parameter names to "
         "values, got a list"},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"dla\", \"parameters\": {\"n-p\": 1}}]}",
         "t.json:1:52: tasks[0].parameters.n-p: expected a parameter name of letters, "
         "digits and '_' (not starting with a digit, at most 100 characters), got "
         "\"n-p\""},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"dla\", \"parameters\": {\"task_id\": "
         "1}}]}",
         "t.json:1:52: tasks[0].parameters.task_id: expected a parameter name other "
         "than priority and task_id (they are fields of the task, beside "
         "parameters), got \"task_id\""},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"dla\", \"priority\": \"urgent\"}]}",
         "t.json:1:49: tasks[0].priority: expected high, medium, low or an integer "
         "from -1000000 to 1000000 (1 is the most urgent), got \"urgent\""},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"dla\", \"priority\": 10000000}]}",
         "t.json:1:49: tasks[0].priority: expected high, medium, low or an integer "
         "from -1000000 to 1000000 (1 is the most urgent), got 10000000"},
        {"{\"tasks\": [{\"id\": 1, \"type\": \"dla\", \"description\": [1]}]}",
         "t.json:1:52: tasks[0].description: expected a string, got a list"},
        /* YAML: an empty parameter value, and the line of a later task. */
        {"tasks:\n- id: a\n  type: dla\n- id: b\n  type: dla\n  parameters:\n"
         "    n_particles:\n",
         "t.json:7:17: tasks[1].parameters.n_particles: expected a value, got nothing"},
        /* A spec that forgot its study is told so, as a spec. */
        {"model: dla\ntasks: [{n: 1}]\n",
         "t.json: missing required field \"study\" (tried: a study spec, study: NAME "
         "...; a task-queue JSON, {\"metadata\": {...}, \"tasks\": [...]}; a "
         "tasks.yaml, tasks: [...])"},
        /* Neither a spec nor a task file: what was tried. */
        {"{\"tasks_\": []}",
         "t.json:1:2: unknown field \"tasks_\" (did you mean \"tasks\"?); expected one "
         "of: study, description, model, command, shell, steps, reduce, after, "
         "parameters, zip, base, tasks, repetitions, priority, max_parallel, cpus, "
         "timeout, kill_after, retries, rate_limit, workdir, env (tried: a study "
         "spec, study: NAME ...; a task-queue JSON, {\"metadata\": {...}, "
         "\"tasks\": [...]}; a tasks.yaml, tasks: [...])"},
    };
    size_t failed = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err = {0};
        struct spec *spec = NULL;
        int rc =
            spec_parse("t.json", cases[i].text, strlen(cases[i].text), &spec, &err);
        if (rc != SWEEP_EINVAL || strcmp(err.msg, cases[i].want) != 0) {
            print_error("case %zu: rc %d\n got: %s\nwant: %s\n", i, rc, err.msg,
                        cases[i].want);
            failed++;
        }
        assert_null(spec);
    }
    assert_int_equal(failed, 0);
}

/* taskfile_parse refuses a study spec; a spec with study and tasks stays a spec. */
static void test_detect(void **state)
{
    static const char spec_text[] = "study: s\nmodel: dla\ntasks: [{n_particles: 5}]\n";
    struct err err = {0};
    struct spec *spec = NULL;

    (void)state;
    assert_int_equal(
        taskfile_parse("s.yaml", spec_text, strlen(spec_text), &spec, &err),
        SWEEP_EINVAL);
    assert_string_equal(err.msg, "s.yaml: not a task file: expected a mapping of "
                                 "\"tasks\" (and \"metadata\"), without the fields of "
                                 "a study spec");
    assert_null(spec);
    spec = parse_ok("s.yaml", spec_text);
    assert_null(spec->format);
    assert_string_equal(spec->name, "s");
    spec_destroy(spec);
}

/* The error helpers every checker of documents shares (core/doc.h): one message
 * format for an unknown field, with or without a prefix, its suggestion, and a value
 * of the wrong kind. */
static void test_doc_errors(void **state)
{
    static const char *const allowed[] = {"name", "model", "retries"};
    static const struct {
        const char *text, *prefix, *want;
    } cases[] = {
        {"name: a\nmodle: dla\n", "",
         "d.yaml:2:1: unknown field \"modle\" (did you mean \"model\"?); expected one "
         "of: name, model, retries"},
        {"{\"name\": 1, \"zzz\": 2}", "steps[2]",
         "d.yaml:1:13: unknown field \"steps[2].zzz\"; expected one of: name, model, "
         "retries"},
        {"name: a\nmodel: b\n", "", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct doc_node *d = NULL;
        struct err err = {0};
        int rc;

        assert_int_equal(
            doc_parse("d.yaml", cases[i].text, strlen(cases[i].text), &d, &err),
            SWEEP_OK);
        rc = doc_check_fields("d.yaml", &err, d, cases[i].prefix, allowed, 3);
        if (cases[i].want) {
            assert_int_equal(rc, SWEEP_EINVAL);
            assert_string_equal(err.msg, cases[i].want);
        } else {
            assert_int_equal(rc, SWEEP_OK);
            assert_int_equal(
                doc_bad("d.yaml", &err, doc_map_get(d, "model"), "model", "a number"),
                SWEEP_EINVAL);
            assert_string_equal(err.msg, "d.yaml:2:8: model: expected a number, got "
                                         "\"b\"");
        }
        doc_destroy(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_json),
        cmocka_unit_test(test_tasks_yaml),
        cmocka_unit_test(test_syntax_and_spelling),
        cmocka_unit_test(test_study_name),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_doc_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
