/* Unit tests of src/server without a socket: the route table (paths, methods, ids
 * that could name paths outside the home), the bearer token check, paging numbers,
 * the error body, and the spec a POST /studies body becomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "server/inbox.h"
#include "server/route.h"
#include "server/service.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_route_find(void **state)
{
    static const struct {
        const char *method, *path;
        int rc;
        enum route_id id;
        const char *arg;
    } cases[] = {
        {"GET", "/health", 0, ROUTE_HEALTH, ""},
        {"GET", "/status", 0, ROUTE_STATUS, ""},
        {"GET", "/studies", 0, ROUTE_STUDY_LIST, ""},
        {"POST", "/studies", 0, ROUTE_STUDY_SUBMIT, ""},
        {"GET", "/studies/dla-1.b_2", 0, ROUTE_STUDY_GET, "dla-1.b_2"},
        {"POST", "/studies/s/cancel", 0, ROUTE_STUDY_CANCEL, "s"},
        {"POST", "/studies/s/retry", 0, ROUTE_STUDY_RETRY, "s"},
        {"GET", "/studies/s/results", 0, ROUTE_STUDY_RESULTS, "s"},
        {"GET", "/tasks", 0, ROUTE_TASK_LIST, ""},
        {"POST", "/tasks", 0, ROUTE_TASK_SUBMIT, ""},
        {"GET", "/tasks/42", 0, ROUTE_TASK_GET, "42"},
        {"DELETE", "/tasks/3fa2c1", 0, ROUTE_TASK_CANCEL, "3fa2c1"},
        {"GET", "/openapi.json", 0, ROUTE_OPENAPI, ""},
        {"GET", "/studies/s/aggregate", 0, ROUTE_STUDY_AGG, "s"},
        {"GET", "/studies/s/plot.svg", 0, ROUTE_STUDY_PLOT, "s"},
        {"GET", "/studies/s/report.png", 0, ROUTE_STUDY_REPORT, "s"},
        {"POST", "/execute_tasks", 0, ROUTE_EXEC_TASKS, ""},
        {"GET", "/execute_tasks", 405, ROUTE_NONE, NULL},
        {"GET", "/studies/s/plot.png", 404, ROUTE_NONE, NULL},
        {"GET", "/studies/../report.png", 400, ROUTE_NONE, NULL},
        {"GET", "/", 0, ROUTE_DASHBOARD, ""},
        {"GET", "/static/app.js", 0, ROUTE_STATIC, "app.js"},
        {"GET", "/tasks/7/logs", 0, ROUTE_TASK_LOGS, "7"},
        {"GET", "/tasks/7/attempts", 0, ROUTE_TASK_ATTEMPTS, "7"},
        {"POST", "/", 405, ROUTE_NONE, NULL},
        {"GET", "/static/..", 400, ROUTE_NONE, NULL},
        {"GET", "/static/a/b.js", 404, ROUTE_NONE, NULL},
        {"GET", "/tasks/../logs", 400, ROUTE_NONE, NULL},
        /* unknown paths */
        {"GET", "/nope", 404, ROUTE_NONE, NULL},
        {"GET", "/studies/s/nope", 404, ROUTE_NONE, NULL},
        {"GET", "/studies/a/b/results", 404, ROUTE_NONE, NULL},
        {"GET", "/health/", 404, ROUTE_NONE, NULL},
        {"GET", "/studies/s/cancel/x", 404, ROUTE_NONE, NULL},
        /* wrong methods */
        {"PUT", "/studies", 405, ROUTE_NONE, NULL},
        {"GET", "/studies/s/cancel", 405, ROUTE_NONE, NULL},
        {"DELETE", "/health", 405, ROUTE_NONE, NULL},
        /* ids that are not names */
        {"GET", "/studies/..", 400, ROUTE_NONE, NULL},
        {"GET", "/studies/.", 400, ROUTE_NONE, NULL},
        {"GET", "/studies/", 400, ROUTE_NONE, NULL},
        {"POST", "/studies/../cancel", 400, ROUTE_NONE, NULL},
        {"DELETE", "/tasks/a b", 400, ROUTE_NONE, NULL},
        {"GET", "/tasks/%2e%2e", 400, ROUTE_NONE, NULL},
        {"GET", "/studies/a\\b", 400, ROUTE_NONE, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct route_match m;
        int rc = route_find(cases[i].method, cases[i].path, &m);
        if (rc != cases[i].rc)
            fail_msg("%s %s: %d, expected %d", cases[i].method, cases[i].path, rc,
                     cases[i].rc);
        if (rc == 0) {
            assert_int_equal(m.id, cases[i].id);
            assert_string_equal(m.arg, cases[i].arg);
            assert_int_equal(m.changes_state, strcmp(cases[i].method, "GET") != 0);
        }
    }
    {
        struct route_match m;
        char path[400];
        assert_int_equal(route_find("PATCH", "/tasks/1", &m), 405);
        assert_string_equal(m.allow, "GET, DELETE");
        /* An id longer than 200 characters. */
        memset(path, 'a', sizeof(path));
        memcpy(path, "/studies/", 9);
        path[9 + 201] = '\0';
        assert_int_equal(route_find("GET", path, &m), 400);
        path[9 + 200] = '\0';
        assert_int_equal(route_find("GET", path, &m), 0);
    }
}

static void test_route_bearer(void **state)
{
    (void)state;
    assert_true(route_bearer_ok("Bearer s3cret", "s3cret"));
    assert_false(route_bearer_ok("Bearer s3cre", "s3cret"));
    assert_false(route_bearer_ok("Bearer s3cretX", "s3cret"));
    assert_false(route_bearer_ok("Bearer s3cres", "s3cret"));
    assert_false(route_bearer_ok("bearer s3cret", "s3cret"));
    assert_false(route_bearer_ok("s3cret", "s3cret"));
    assert_false(route_bearer_ok("Bearer ", "s3cret"));
    assert_false(route_bearer_ok(NULL, "s3cret"));
    assert_false(route_bearer_ok("Bearer ", ""));
}

static void test_route_query_int(void **state)
{
    long long v;

    (void)state;
    assert_int_equal(route_query_int(NULL, 1, 1000, 100, &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(route_query_int("", 1, 1000, 100, &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(route_query_int("25", 1, 1000, 100, &v), 0);
    assert_int_equal(v, 25);
    assert_int_equal(route_query_int("0", 1, 1000, 100, &v), -1);
    assert_int_equal(route_query_int("1001", 1, 1000, 100, &v), -1);
    assert_int_equal(route_query_int("-1", 0, 1000, 100, &v), -1);
    assert_int_equal(route_query_int("1e3", 0, 1000, 100, &v), -1);
    assert_int_equal(route_query_int("99999999999999999999999", 0, 1000, 1, &v), -1);
}

static void test_route_error_json(void **state)
{
    char *s = route_error_json("not_found", "no study named \"x\"");
    json_t *v = json_loads(s, 0, NULL);

    (void)state;
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "error")), "not_found");
    assert_string_equal(json_string_value(json_object_get(v, "detail")),
                        "no study named \"x\"");
    assert_int_equal(json_object_size(v), 2);
    json_decref(v);
    free(s);
    /* Not UTF-8 in the detail still gives JSON. */
    s = route_error_json("x", "\xff\xfe");
    v = json_loads(s, 0, NULL);
    assert_non_null(v);
    json_decref(v);
    free(s);
}

/* Error details name paths in the home relative to it, and never the home itself. */
static void test_route_scrub_home(void **state)
{
    static const struct {
        const char *home, *in, *out; /* out NULL: unchanged */
    } cases[] = {
        {"/h/.sweep", "{\"detail\":\"cannot open /h/.sweep/sweep.db: locked\"}",
         "{\"detail\":\"cannot open sweep.db: locked\"}"},
        {"/h/.sweep/", "no file /h/.sweep/my/t.yaml or /h/.sweep/x",
         "no file my/t.yaml or x"},
        {"/h/.sweep", "the home /h/.sweep is full", "the home (home) is full"},
        {"/h/.sweep", "/h/.sweep", "(home)"},
        {"/h/.sweep", "/h/.sweep2/x and /h/.sweep_b", NULL},
        {"/h/.sweep", "/h/.swee", NULL},
        {"/h/.sweep", "", NULL},
        {"/", "/etc/passwd", NULL},
        {"", "x", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = 0;
        char *got =
            route_scrub_home(cases[i].in, strlen(cases[i].in), cases[i].home, &n);
        if (!cases[i].out) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        assert_string_equal(got, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
        free(got);
    }
}

/* The bodies of POST /studies: the parametric shape becomes a spec; bad ones are
 * refused with the reason. */
static void test_api_study_spec(void **state)
{
    static const struct {
        const char *body;
        int rc;
        bool forbidden;
        const char *want; /* a substring of the spec text, or of the error */
    } cases[] = {
        {"{\"algorithm\": \"DLA\", \"variable_parameter\": \"n_particles\", "
         "\"values\": "
         "[100, 200], \"base_parameters\": {\"seed\": 1}, \"repetitions\": 3, "
         "\"study\": \"d1\"}",
         0, false, "\"n_particles\": [\n      100,"},
        {"{\"study\": \"c1\", \"model\": \"chaos\", \"parameters\": {\"duration\": [0, "
         "0.1]}}",
         0, false, "\"model\": \"chaos\""},
        {"{\"study\": \"c1\", \"command\": [\"/bin/true\"]}", SWEEP_EINVAL, true,
         "--allow-commands"},
        {"{\"algorithm\": \"nope\", \"variable_parameter\": \"x\", \"values\": [1]}",
         SWEEP_EINVAL, false, "nope"},
        {"{\"algorithm\": \"chaos\", \"variable_parameter\": \"duration\", \"values\": "
         "[]}",
         SWEEP_EINVAL, false, "non-empty"},
        {"{\"algorithm\": \"chaos\", \"variable_parameter\": \"bogus\", \"values\": "
         "[1]}",
         SWEEP_EINVAL, false, "bogus"},
        {"{\"algorithm\": \"chaos\", \"variable_parameter\": \"duration\", \"values\": "
         "[1], \"extra\": 1}",
         SWEEP_EINVAL, false, "unknown field \"extra\""},
        {"{\"study\": \"../x\", \"model\": \"chaos\"}", SWEEP_EINVAL, false, "study"},
        {"{\"a\": 1, \"a\": 2}", SWEEP_EINVAL, false, "bad JSON"},
        {"[1, 2]", SWEEP_EINVAL, false, "expected a JSON object"},
        {"{\"study\":", SWEEP_EINVAL, false, "bad JSON at line 1"},
        {"", SWEEP_EINVAL, false, "no body"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = NULL, *name = NULL;
        bool forbidden = false;
        struct err err = {0};
        int rc = api_study_spec(cases[i].body, strlen(cases[i].body), false, false,
                                &text, &name, &forbidden, &err);
        if (rc != cases[i].rc)
            fail_msg("case %zu: %d (%s), expected %d", i, rc, err.msg, cases[i].rc);
        assert_int_equal(forbidden, cases[i].forbidden);
        if (!strstr(rc ? err.msg : text, cases[i].want))
            fail_msg("case %zu: '%s' does not hold '%s'", i, rc ? err.msg : text,
                     cases[i].want);
        free(text);
        free(name);
    }
    {
        /* A generated name for a parametric study without one. */
        char *text = NULL, *name = NULL;
        bool forbidden;
        struct err err = {0};
        const char *b = "{\"algorithm\": \"chaos\", \"variable_parameter\": "
                        "\"duration\", \"values\": [0]}";
        assert_int_equal(
            api_study_spec(b, strlen(b), false, false, &text, &name, &forbidden, &err),
            0);
        assert_true(strncmp(name, "chaos-", 6) == 0);
        free(text);
        free(name);
    }
    {
        /* The models are checked as `sweep run` checks them (models/speccheck.h), but
         * a body's errors name the field, not the lines of the spec made of it; a
         * task_id is no model parameter. */
        static const char *const bad[][2] = {
            {"{\"study\": \"b\", \"model\": \"chaos\", \"parameters\": {\"bogus\": "
             "[1]}}",
             "parameters.bogus: chaos: unknown parameter \"bogus\";"},
            {"{\"study\": \"p\", \"steps\": [{\"name\": \"a\", \"model\": \"chaos\"}, "
             "{\"name\": \"b\", \"model\": \"chaoss\"}]}",
             "steps[1].model: unknown model \"chaoss\" (did you mean \"chaos\"?)"},
        };
        const char *ok = "{\"study\": \"t\", \"model\": \"chaos\", \"parameters\": "
                         "{\"x\": [1], \"task_id\": [\"q\"]}}";
        char *text = NULL, *name = NULL;
        bool forbidden;
        struct err err = {0};

        for (size_t i = 0; i < 2; i++) {
            assert_int_equal(api_study_spec(bad[i][0], strlen(bad[i][0]), false, false,
                                            &text, &name, &forbidden, &err),
                             SWEEP_EINVAL);
            if (strncmp(err.msg, bad[i][1], strlen(bad[i][1])) != 0)
                fail_msg("'%s' does not start with '%s'", err.msg, bad[i][1]);
        }
        assert_int_equal(api_study_spec(ok, strlen(ok), false, false, &text, &name,
                                        &forbidden, &err),
                         0);
        free(text);
        free(name);
    }
    {
        /* A YAML body (Content-Type application/yaml) is read as a spec file is; as
         * JSON it is not; a YAML error says where in the body. */
        const char *y = "study: y1\nmodel: chaos\nparameters:\n  duration: [0, 0.1]\n";
        const char *bad = "study: y2\nmodel: [chaos\n";
        char *text = NULL, *name = NULL;
        bool forbidden;
        struct err err = {0};

        assert_int_equal(
            api_study_spec(y, strlen(y), true, false, &text, &name, &forbidden, &err),
            0);
        assert_string_equal(name, "y1");
        assert_non_null(strstr(text, "\"model\": \"chaos\""));
        free(text);
        free(name);
        text = name = NULL;
        assert_int_equal(
            api_study_spec(y, strlen(y), false, false, &text, &name, &forbidden, &err),
            SWEEP_EINVAL);
        assert_non_null(strstr(err.msg, "bad JSON"));
        assert_int_equal(api_study_spec(bad, strlen(bad), true, false, &text, &name,
                                        &forbidden, &err),
                         SWEEP_EINVAL);
        if (strncmp(err.msg, "body:", 5) != 0)
            fail_msg("a YAML error does not say where: %s", err.msg);
        assert_int_equal(
            api_study_spec("- 1\n", 4, true, false, &text, &name, &forbidden, &err),
            SWEEP_EINVAL);
        assert_non_null(strstr(err.msg, "expected a YAML object"));
    }
}

static void test_inbox_names(void **state)
{
    static const char *const ignored[] = {
        "", ".x.json", ".q.json.tmp.123", "a.json.tmp", ".tmp", "processed", "rejected",
    };
    static const char *const taken[] = {
        "a.json", "tasks.yaml", "tmp", "a.tmp.json", "processed.json", "x",
    };
    char buf[128];

    (void)state;
    for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
        assert_true(inbox_ignored(ignored[i]));
    for (size_t i = 0; i < sizeof(taken) / sizeof(*taken); i++)
        assert_false(inbox_ignored(taken[i]));
    /* 2026-12-07 01:02:03 UTC */
    inbox_processed_name("tasks.yaml", 1796605323.9, buf, sizeof(buf));
    assert_string_equal(buf, "20261207_010203_tasks.yaml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_find),
        cmocka_unit_test(test_route_bearer),
        cmocka_unit_test(test_route_query_int),
        cmocka_unit_test(test_route_error_json),
        cmocka_unit_test(test_route_scrub_home),
        cmocka_unit_test(test_api_study_spec),
        cmocka_unit_test(test_inbox_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
