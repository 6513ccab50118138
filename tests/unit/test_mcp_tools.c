/* Unit tests of the MCP tools (src/mcp/tools.c) over the local backend
 * (src/mcp/local.c) in a mkdtemp() home, calling each tool's handler as the session
 * does (mcp_tool_find(name)->call). Covered: the table and its schemas (objects; the
 * algorithm enum with the registry's names and the capitals; the bounds of values and
 * repetitions), every bad argument answered with is_error and a message that says
 * what is allowed, and, with SWEEP_BIN set (ctest sets it), studies of the chaos
 * model run by the detached `sweep run` to COMPLETED (waited for with a deadline),
 * their aggregate (mean_value, n_samples per value) and the linked resources, a
 * retry after an induced failure, a cancel, and a check that waits for the end with
 * progress. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mcp/tool.h"

#include "common/timeutil.h"
#include "core/runner.h"
#include "core/store.h"
#include "mcp/backend.h"
#include "mcp/local.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    struct mcp_backend *be;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *bin = getenv("SWEEP_BIN");
    struct err err = {0};

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/sweep-test-mcp-XXXXXX");
    if (!mkdtemp(f->dir) ||
        !(f->be = mcp_local_create(f->dir, bin ? bin : "/nonexistent/sweep", &err))) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    mcp_local_destroy(f->be);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Calls tool name with args (JSON text) into *r. */
static void
call(struct fixture *f, const char *name, const char *args, struct mcp_result *r)
{
    const struct mcp_tool *t = mcp_tool_find(name);
    struct mcp_call c = {.be = f->be};
    json_error_t je;
    json_t *a = json_loads(args, 0, &je);

    if (!t)
        fail_msg("no tool %s", name);
    if (!a)
        fail_msg("bad test JSON %s: %s", args, je.text);
    memset(r, 0, sizeof(*r));
    t->call(&c, a, r);
    json_decref(a);
    assert_non_null(r->text);
}

static void test_schemas(void **state)
{
    static const char *const names[] = {"run_parametric_study",
                                        "run_grid_study",
                                        "check_study_status",
                                        "get_study_results",
                                        "retry_failed_simulations",
                                        "cancel_study",
                                        "list_studies",
                                        "list_models"};
    const struct mcp_tool *t;
    json_t *in, *out, *alg, *values, *reps;
    size_t n, i;
    bool upper = false, lower = false;
    json_t *v;

    (void)state;
    t = mcp_tools(&n);
    assert_int_equal(n, sizeof(names) / sizeof(names[0]));
    for (i = 0; i < n; i++) {
        assert_ptr_equal(mcp_tool_find(names[i]), &t[i]);
        in = t[i].input_schema();
        out = t[i].output_schema ? t[i].output_schema() : NULL;
        if (!json_is_object(in) ||
            strcmp(json_string_value(json_object_get(in, "type")), "object") != 0 ||
            !json_is_object(json_object_get(in, "properties")))
            fail_msg("%s: the input schema is not an object schema", names[i]);
        if (out && !json_is_object(out))
            fail_msg("%s: the output schema is not an object", names[i]);
        assert_non_null(t[i].description);
        json_decref(in);
        json_decref(out);
    }
    assert_null(mcp_tool_find("nope"));

    in = mcp_tool_find("run_parametric_study")->input_schema();
    alg = json_object_get(
        json_object_get(json_object_get(in, "properties"), "algorithm"), "enum");
    json_array_foreach(alg, i, v)
    {
        upper = upper || strcmp(json_string_value(v), "DLA") == 0;
        lower = lower || strcmp(json_string_value(v), "dla") == 0;
    }
    assert_true(upper && lower);
    values = json_object_get(json_object_get(in, "properties"), "values");
    assert_int_equal(json_integer_value(json_object_get(values, "minItems")), 2);
    assert_int_equal(json_integer_value(json_object_get(values, "maxItems")), 100);
    reps = json_object_get(json_object_get(in, "properties"), "repetitions");
    assert_int_equal(json_integer_value(json_object_get(reps, "minimum")), 1);
    assert_int_equal(json_integer_value(json_object_get(reps, "maximum")), 10);
    assert_int_equal(json_integer_value(json_object_get(reps, "default")), 1);
    json_decref(in);
}

/* Bad arguments: is_error, and the message says what is allowed. */
static void test_bad_arguments(void **state)
{
    static const struct {
        const char *tool, *args, *want;
    } cases[] = {
        {"run_parametric_study",
         "{\"algorithm\": \"nope\", \"variable_parameter\": \"x\", \"values\": [1, 2]}",
         "the models: chaos, navier-stokes"},
        {"run_parametric_study", "{\"variable_parameter\": \"x\", \"values\": [1, 2]}",
         "needs \"algorithm\""},
        {"run_parametric_study",
         "{\"algorithm\": \"DLA\", \"variable_parameter\": \"temperature\", "
         "\"values\": [1, 2]}",
         "variable_parameter: dla: unknown parameter \"temperature\"; known "
         "parameters: n_particles, seed"},
        {"run_parametric_study",
         "{\"algorithm\": \"DLA\", \"variable_parameter\": \"n_particles\", "
         "\"values\": [100]}",
         "values: expected a list of 2 to 100 values of n_particles, got 1"},
        {"run_parametric_study",
         "{\"algorithm\": \"chaos\", \"variable_parameter\": \"x\", \"values\": "
         "[1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,"
         "7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,"
         "3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1]}",
         "expected a list of 2 to 100 values of x, got 101"},
        {"run_parametric_study",
         "{\"algorithm\": \"dla\", \"variable_parameter\": \"n_particles\", "
         "\"values\": [100, 0]}",
         "values[1]: dla: n_particles: expected an integer"},
        {"run_parametric_study",
         "{\"algorithm\": \"dla\", \"variable_parameter\": \"n_particles\", "
         "\"values\": [100, 200], \"repetitions\": 0}",
         "repetitions: expected 1 to 10, got 0"},
        {"run_parametric_study",
         "{\"algorithm\": \"dla\", \"variable_parameter\": \"n_particles\", "
         "\"values\": [100, 200], \"repetitions\": 11}",
         "repetitions: expected 1 to 10, got 11"},
        {"run_parametric_study",
         "{\"algorithm\": \"dla\", \"variable_parameter\": \"n_particles\", "
         "\"values\": [100, 200], \"base_parameters\": {\"sticking_probability\": 2}}",
         "base_parameters.sticking_probability: dla: sticking_probability: expected "
         "a "},
        {"run_parametric_study",
         "{\"algorithm\": \"dla\", \"variable_parameter\": \"n_particles\", "
         "\"values\": [100, 200], \"priority\": \"URGENT\"}",
         "priority: expected HIGH, MEDIUM, LOW"},
        {"run_parametric_study",
         "{\"algorithm\": \"dla\", \"variable_parameter\": \"n_particles\", "
         "\"values\": [100, 200], \"colour\": 1}",
         "unknown field \"colour\" in a parametric study (its fields: algorithm,"},
        {"run_grid_study",
         "{\"algorithm\": \"chaos\", \"parameters\": {\"x\": [1, 2], \"q\": [1]}}",
         "parameters.q: chaos: unknown parameter \"q\""},
        {"run_parametric_study",
         "{\"algorithm\": \"chaos\", \"variable_parameter\": \"x\", \"values\": [1, 2, "
         "1.0]}",
         "values[2]: 1.0 is given twice (values[0] too)"},
        {"run_grid_study",
         "{\"algorithm\": \"chaos\", \"parameters\": {\"x\": [1], \"y\": [3, 3]}}",
         "parameters.y[1]: 3 is given twice (parameters.y[0] too)"},
        {"run_grid_study", "{\"algorithm\": \"chaos\", \"parameters\": {}}",
         "a grid study needs"},
        {"run_grid_study",
         "{\"algorithm\": \"chaos\", \"parameters\": {\"x\": "
         "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
         "29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,"
         "54,"
         "55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,"
         "80,"
         "81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100], \"y\": "
         "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
         "29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,"
         "54,"
         "55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,"
         "80,"
         "81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100]}, "
         "\"repetitions\": 2}",
         "has 20000 tasks, more than 10000"},
        {"check_study_status", "{}", "study_id: expected the name of a study"},
        {"check_study_status", "{\"study_id\": \"ghost\"}",
         "study_id: no study \"ghost\"; there is no study yet"},
        {"check_study_status", "{\"study_id\": \"ghost\", \"x\": 1}",
         "unknown field \"x\" in the arguments of check_study_status (its fields: "
         "study_id, wait_seconds)"},
        {"retry_failed_simulations", "{\"study_id\": \"ghost\"}", "no study \"ghost\""},
        {"cancel_study", "{\"study_id\": \"ghost\"}", "no study \"ghost\""},
        {"get_study_results", "{\"study_id\": \"ghost\"}", "no study \"ghost\""},
        {"get_study_results", "{\"study_id\": \"ghost\", \"aggregate\": 1}",
         "aggregate: expected true or false"},
        {"list_models", "{\"model\": \"dlaa\"}",
         "model: unknown model \"dlaa\" (did you mean \"dla\"?)"},
        {"list_studies", "{\"all\": true}",
         "unknown field \"all\" in the arguments of list_studies (its fields: none)"},
    };
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mcp_result r;
        call(f, cases[i].tool, cases[i].args, &r);
        if (!r.is_error || r.structured || !strstr(r.text, cases[i].want))
            fail_msg("case %zu (%s): is_error %d, '%s' does not hold '%s'", i,
                     cases[i].tool, r.is_error, r.text, cases[i].want);
        mcp_result_fini(&r);
    }
}

static void test_list_models(void **state)
{
    struct fixture *f = *state;
    struct mcp_result r;
    json_t *models, *p;
    size_t i;
    bool found = false;

    call(f, "list_models", "{\"model\": \"DLA\"}", &r);
    assert_false(r.is_error);
    models = json_object_get(r.structured, "models");
    assert_int_equal(json_array_size(models), 1);
    json_array_foreach(json_object_get(json_array_get(models, 0), "parameters"), i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "name")), "n_particles") == 0) {
            found = true;
            assert_string_equal(json_string_value(json_object_get(p, "type")), "int");
            assert_non_null(json_object_get(p, "default"));
            assert_non_null(json_object_get(p, "minimum"));
        }
    }
    assert_true(found);
    mcp_result_fini(&r);
    call(f, "list_models", "{}", &r);
    assert_false(r.is_error);
    assert_true(json_array_size(json_object_get(r.structured, "models")) >= 7);
    mcp_result_fini(&r);
}

/* Polls check_study_status until the study's status is want (or a final other one:
 * failure), for at most 60 s. */
static void wait_status(struct fixture *f, const char *study, const char *want)
{
    static const char *const final[] = {"COMPLETED", "PARTIALLY_FAILED", "FAILED",
                                        "CANCELLED", "INTERRUPTED"};
    double deadline = time_now() + 60;
    char args[200];
    struct mcp_result r;

    snprintf(args, sizeof(args), "{\"study_id\": \"%s\"}", study);
    for (;;) {
        const char *status;
        call(f, "check_study_status", args, &r);
        if (r.is_error)
            fail_msg("check_study_status: %s", r.text);
        status = json_string_value(json_object_get(r.structured, "status"));
        if (strcmp(status, want) == 0) {
            mcp_result_fini(&r);
            return;
        }
        for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++)
            if (strcmp(status, final[i]) == 0)
                fail_msg("study %s ended %s, not %s (%s)", study, status, want, r.text);
        mcp_result_fini(&r);
        if (time_now() > deadline)
            fail_msg("study %s is not %s after 60 s", study, want);
        usleep(50000);
    }
}

/* Waits (60 s at most) until no sweep process runs the study. */
static void wait_idle(struct fixture *f, const char *study)
{
    double deadline = time_now() + 60;

    while (runner_is_active(f->dir, study)) {
        if (time_now() > deadline)
            fail_msg("study %s still runs after 60 s", study);
        usleep(50000);
    }
}

static void test_study_runs(void **state)
{
    struct fixture *f = *state;
    struct mcp_result r;
    json_t *agg, *links, *l, *contents;
    struct err err = {0};
    size_t i;

    if (!getenv("SWEEP_BIN"))
        skip();
    call(f, "run_parametric_study",
         "{\"algorithm\": \"chaos\", \"variable_parameter\": \"x\", \"values\": [1, 2, "
         "3], \"repetitions\": 2, \"base_parameters\": {\"duration\": 0}, \"study\": "
         "\"c1\", \"priority\": \"HIGH\"}",
         &r);
    if (r.is_error)
        fail_msg("%s", r.text);
    assert_string_equal(json_string_value(json_object_get(r.structured, "study_id")),
                        "c1");
    assert_int_equal(
        json_integer_value(json_object_get(r.structured, "total_simulations")), 6);
    /* Stored before it runs: the status is known at once. */
    assert_non_null(json_string_value(json_object_get(r.structured, "status")));
    mcp_result_fini(&r);
    wait_status(f, "c1", "COMPLETED");
    wait_idle(f, "c1");

    call(f, "get_study_results", "{\"study_id\": \"c1\"}", &r);
    if (r.is_error)
        fail_msg("%s", r.text);
    agg = json_object_get(r.structured, "aggregate");
    assert_int_equal(json_object_size(agg), 3);
    for (i = 1; i <= 3; i++) {
        char key[8];
        json_t *g;
        snprintf(key, sizeof(key), "%zu", i);
        g = json_object_get(agg, key);
        assert_int_equal(json_integer_value(json_object_get(g, "n_samples")), 2);
        assert_true(json_is_number(json_object_get(g, "mean_value")));
        assert_non_null(json_object_get(g, "std_value"));
    }
    assert_null(json_object_get(r.structured, "rows"));
    assert_non_null(strstr(r.text, "x=2: mean_value"));
    links = r.links;
    assert_int_equal(json_array_size(links), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(links, 0), "uri")),
        "sweep://studies/c1/results.csv");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r.structured, "links"), "plot")),
                        "sweep://studies/c1/plot.svg?x=x&y=value");
    json_array_foreach(links, i, l)
    {
        const char *uri = json_string_value(json_object_get(l, "uri"));
        const char *want[] = {"key,", "\"3\"", "<svg"};
        assert_string_equal(json_string_value(json_object_get(l, "type")),
                            "resource_link");
        contents = mcp_resource_read(f->be, uri, &err);
        if (!contents)
            fail_msg("%s: %s", uri, err.msg);
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(contents, 0), "mimeType")),
            json_string_value(json_object_get(l, "mimeType")));
        if (!strstr(
                json_string_value(json_object_get(json_array_get(contents, 0), "text")),
                want[i]))
            fail_msg("%s does not hold %s", uri, want[i]);
        json_decref(contents);
    }
    mcp_result_fini(&r);
    assert_null(mcp_resource_read(f->be, "sweep://studies/c1/nope.txt", &err));
    assert_int_equal(err.code, SWEEP_ENOTFOUND);
    assert_null(mcp_resource_read(f->be, "sweep://studies/ghost/results.csv", &err));
    assert_int_equal(err.code, SWEEP_ENOTFOUND);

    /* Rows, bounded. */
    call(f, "get_study_results", "{\"study_id\": \"c1\", \"aggregate\": false}", &r);
    assert_false(r.is_error);
    assert_int_equal(json_array_size(json_object_get(r.structured, "rows")), 6);
    assert_int_equal(json_integer_value(json_object_get(r.structured, "rows_total")),
                     6);
    mcp_result_fini(&r);

    call(f, "list_studies", "{}", &r);
    assert_false(r.is_error);
    assert_int_equal(json_array_size(json_object_get(r.structured, "studies")), 1);
    mcp_result_fini(&r);
}

/* An induced failure (chaos: the first attempt fails), then a retry that succeeds;
 * a long study cancelled. */
static void test_retry_cancel(void **state)
{
    struct fixture *f = *state;
    struct mcp_result r;
    struct store *st;
    struct store_study s = {0};
    struct err err = {0};

    if (!getenv("SWEEP_BIN"))
        skip();
    call(f, "run_grid_study",
         "{\"algorithm\": \"CHAOS\", \"parameters\": {\"x\": [1, 2], \"y\": [0]}, "
         "\"base_parameters\": {\"fail_attempts\": 1}, \"study\": \"f1\"}",
         &r);
    if (r.is_error)
        fail_msg("%s", r.text);
    assert_int_equal(
        json_integer_value(json_object_get(r.structured, "total_simulations")), 2);
    mcp_result_fini(&r);
    wait_status(f, "f1", "FAILED");
    wait_idle(f, "f1");
    call(f, "retry_failed_simulations", "{\"study_id\": \"f1\"}", &r);
    if (r.is_error)
        fail_msg("%s", r.text);
    assert_int_equal(json_integer_value(json_object_get(r.structured, "requeued")), 2);
    mcp_result_fini(&r);
    wait_status(f, "f1", "COMPLETED");
    wait_idle(f, "f1");
    call(f, "retry_failed_simulations", "{\"study_id\": \"f1\"}", &r);
    assert_false(r.is_error);
    assert_int_equal(json_integer_value(json_object_get(r.structured, "requeued")), 0);
    mcp_result_fini(&r);

    call(
        f, "run_parametric_study",
        "{\"algorithm\": \"chaos\", \"variable_parameter\": \"x\", \"values\": [1, 2], "
        "\"base_parameters\": {\"duration\": 60}, \"study\": \"long\"}",
        &r);
    if (r.is_error)
        fail_msg("%s", r.text);
    mcp_result_fini(&r);
    call(f, "cancel_study", "{\"study_id\": \"long\"}", &r);
    if (r.is_error)
        fail_msg("%s", r.text);
    assert_string_equal(json_string_value(json_object_get(r.structured, "status")),
                        "CANCELLED");
    mcp_result_fini(&r);
    /* The cancel came after the detached run had started (a run starting later would
     * take the cancelled tasks back). */
    st = f->be->store(f->be->ctx, &err);
    assert_non_null(st);
    assert_int_equal(store_study_get(st, "long", &s, &err), 0);
    assert_true(s.started_at > 0);
    store_study_fini(&s);
    wait_idle(f, "long");
    wait_status(f, "long", "CANCELLED");
}

static const char *held_state(void *ctx, const char *study, char **detail)
{
    (void)ctx;
    if (strcmp(study, "held") != 0)
        return NULL;
    *detail = strdup("being stored");
    return "QUEUED";
}

/* A study the backend holds but the store does not show yet (the service's, being
 * stored): its status, with progress null; another name is still unknown. */
static void test_pending(void **state)
{
    struct fixture *f = *state;
    struct mcp_backend be = *f->be;
    struct mcp_call c = {.be = &be};
    struct mcp_result r = {0};
    json_t *a = json_pack("{s:s}", "study_id", "held");

    be.pending_state = held_state;
    mcp_tool_find("check_study_status")->call(&c, a, &r);
    assert_false(r.is_error);
    assert_string_equal(json_string_value(json_object_get(r.structured, "status")),
                        "QUEUED");
    assert_true(json_is_null(json_object_get(r.structured, "progress")));
    assert_non_null(strstr(r.text, "being stored"));
    mcp_result_fini(&r);
    json_decref(a);
    a = json_pack("{s:s}", "study_id", "other");
    mcp_tool_find("check_study_status")->call(&c, a, &r);
    assert_true(r.is_error);
    mcp_result_fini(&r);
    json_decref(a);
}

struct progress_log {
    int n;
    double last, total;
};

static void record_progress(void *arg, double progress, double total, const char *msg)
{
    struct progress_log *l = arg;

    assert_non_null(msg);
    assert_true(progress <= total);
    l->n++;
    l->last = progress;
    l->total = total;
}

/* check_study_status with wait_seconds: answers once the study has ended, with
 * progress meanwhile. */
static void test_wait(void **state)
{
    struct fixture *f = *state;
    struct progress_log log = {0};
    struct mcp_call c = {
        .be = f->be, .progress = record_progress, .progress_arg = &log};
    struct mcp_result r;
    json_t *a;

    if (!getenv("SWEEP_BIN"))
        skip();
    call(f, "run_parametric_study",
         "{\"algorithm\": \"chaos\", \"variable_parameter\": \"x\", \"values\": [1, 2, "
         "3], \"base_parameters\": {\"duration\": 0.4}, \"study\": \"w\"}",
         &r);
    if (r.is_error)
        fail_msg("%s", r.text);
    mcp_result_fini(&r);
    a = json_pack("{s:s, s:i}", "study_id", "w", "wait_seconds", 50);
    memset(&r, 0, sizeof(r));
    mcp_tool_find("check_study_status")->call(&c, a, &r);
    json_decref(a);
    if (r.is_error)
        fail_msg("%s", r.text);
    assert_string_equal(json_string_value(json_object_get(r.structured, "status")),
                        "COMPLETED");
    assert_true(log.n >= 1);
    assert_true(log.total == 3);
    mcp_result_fini(&r);
    wait_idle(f, "w");
    call(f, "check_study_status", "{\"study_id\": \"w\", \"wait_seconds\": 51}", &r);
    assert_true(r.is_error);
    assert_non_null(strstr(r.text, "wait_seconds: expected 0 to 50 seconds"));
    mcp_result_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_models, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_study_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
