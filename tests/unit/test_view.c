/* Unit tests of the shapes every front end shows (src/core/view.c), on a real store in
 * a mkdtemp() home with hand-made tasks (parameters, priority, step, final state,
 * metrics and times). Covered: CSV fields, counts and progress, a study's status (the
 * members and their order, INTERRUPTED without a run, estimated_remaining null without
 * a run and a number with one, the stored aggregate, a pipeline's steps), the list of
 * studies, --step names, result rows (CSV header and cells with renamed columns, the
 * columns from the store's list of names as a pass over the tasks gives them, JSON
 * rows, state and step filters), and the aggregate's JSON text with and without fits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/view.h"

#include "common/strbuf.h"
#include "core/aggregate.h"
#include "core/runner.h"
#include "core/spec.h"
#include "core/store.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    struct store *st;
    long long study, gen;
    int ntasks;
    struct err err;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/sweep-test-view-XXXXXX");
    if (!mkdtemp(f->dir) || store_open(f->dir, &f->st, &f->err) != 0 ||
        store_study_put(f->st, "v", "a study", "s.yaml",
                        "{\"study\":\"v\",\"max_parallel\":2}", &f->study, &f->gen,
                        &f->err) != 0) {
        fprintf(stderr, "setup: %s\n", f->err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* A hand-made task of the fixture's study. */
struct spec_task {
    const char *params;
    int priority;
    int step;
    enum task_state state; /* TASK_PENDING: left pending; TASK_RUNNING: started */
    const char *metrics;
    double wall;
    const char *error;
};

static long long add(struct fixture *f, const struct spec_task *s)
{
    struct expand_task t = {.params_json = (char *)s->params,
                            .seq = f->ntasks,
                            .priority = s->priority ? s->priority : PRIORITY_MEDIUM,
                            .step = s->step,
                            .chain = f->ntasks};
    struct task_outcome o = {.state = s->state,
                             .metrics_json = s->metrics,
                             .exit_code = s->state == TASK_SUCCEEDED ? 0 : 3,
                             .started_at = 1000.0,
                             .finished_at = 1000.0 + s->wall,
                             .wall = s->wall,
                             .user = 0.25,
                             .sys = 0.125,
                             .maxrss_kb = 2048,
                             .error = s->error};
    struct store_task got;
    long long id;

    snprintf(t.key, sizeof(t.key), "%016x", 0xb0000000u + (unsigned)f->ntasks);
    t.seed = 100 + f->ntasks++;
    assert_int_equal(store_task_put(f->st, f->study, f->gen, &t, 1, &f->err), 0);
    assert_int_equal(store_task_find(f->st, f->study, t.key, &got, &f->err), 0);
    id = got.id;
    if (s->state != TASK_PENDING)
        assert_int_equal(store_task_started(f->st, got.id, 1, 1000.0, &f->err), 0);
    if (s->state != TASK_PENDING && s->state != TASK_RUNNING)
        assert_int_equal(store_task_finished(f->st, got.id, 1, &o, &f->err), 0);
    store_task_fini(&got);
    return id;
}

/* The member names of object o, comma-separated, in order. */
static char *keys(const json_t *o)
{
    struct strbuf sb = STRBUF_INIT;
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)o, k, v) sb_addf(&sb, "%s%s", sb.len ? "," : "", k);
    return sb_take(&sb);
}

static void assert_keys(const json_t *o, const char *want)
{
    char *got = keys(o);
    assert_string_equal(got, want);
    free(got);
}

static void assert_dump(const json_t *o, const char *want)
{
    char *got = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    assert_string_equal(got, want);
    free(got);
}

/* ---- CSV fields ---- */

static void test_csv_field(void **state)
{
    static const struct {
        const char *in;
        bool last;
        const char *want;
    } cases[] = {
        {"plain", false, "plain,"},
        {"", true, "\n"},
        {"a,b", false, "\"a,b\","},
        {"say \"hi\"", true, "\"say \"\"hi\"\"\"\n"},
        {"two\nlines", false, "\"two\nlines\","},
        {" lead", false, "\" lead\","},
        {"trail ", false, "\"trail \","},
        {"in side", false, "in side,"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct strbuf sb = STRBUF_INIT;
        view_csv_field(&sb, cases[i].in, cases[i].last);
        assert_string_equal(sb_str(&sb), cases[i].want);
        sb_fini(&sb);
    }
}

/* ---- counts and progress ---- */

static void test_counts_progress(void **state)
{
    long long c[TASK_NSTATES] = {0}, by[3][TASK_NSTATES] = {{0}};
    json_t *j;

    (void)state;
    c[TASK_PENDING] = 4;
    c[TASK_SUCCEEDED] = 5;
    c[TASK_WAITING] = 1;
    j = view_counts_json(c);
    assert_dump(j, "{\"pending\":4,\"running\":0,\"succeeded\":5,\"failed\":0,"
                   "\"timed_out\":0,\"cancelled\":0,\"interrupted\":0,\"skipped\":0,"
                   "\"waiting\":1,\"total\":10}");
    assert_int_equal(view_count_of(j, "succeeded"), 5);
    assert_int_equal(view_count_of(j, "total"), 10);
    assert_int_equal(view_count_of(j, "nonsense"), 0);
    json_decref(j);

    /* Nothing: 0 %, not a division by zero. */
    j = view_progress_json(by);
    assert_dump(j, "{\"total\":0,\"completed\":0,\"failed\":0,\"percentage\":0.0}");
    json_decref(j);
    /* 12 tasks over the bands: 5 succeeded, 1 failed + 1 timed out, 1 cancelled,
     * 4 pending; 8 ended = 66.666..% -> 66.7. */
    by[2][TASK_SUCCEEDED] = 3;
    by[1][TASK_SUCCEEDED] = 2;
    by[1][TASK_FAILED] = 1;
    by[0][TASK_TIMED_OUT] = 1;
    by[0][TASK_CANCELLED] = 1;
    by[0][TASK_PENDING] = 4;
    j = view_progress_json(by);
    assert_keys(j, "total,completed,failed,percentage");
    assert_int_equal(view_count_of(j, "total"), 12);
    assert_int_equal(view_count_of(j, "completed"), 5);
    assert_int_equal(view_count_of(j, "failed"), 2);
    assert_true(fabs(json_real_value(json_object_get(j, "percentage")) - 66.7) < 1e-9);
    json_decref(j);
}

/* ---- a study's status ---- */

static void test_status(void **state)
{
    struct fixture *f = *state;
    json_t *o, *by;
    int lock = -1;

    add(f, &(struct spec_task){"{\"x\":1}", PRIORITY_HIGH, 0, TASK_SUCCEEDED,
                               "{\"e\":1}", 10, NULL});
    add(f, &(struct spec_task){"{\"x\":2}", PRIORITY_MEDIUM, 0, TASK_FAILED, NULL, 2,
                               "exit code 3"});
    add(f,
        &(struct spec_task){"{\"x\":3}", PRIORITY_LOW, 0, TASK_PENDING, NULL, 0, NULL});
    add(f,
        &(struct spec_task){"{\"x\":4}", PRIORITY_LOW, 0, TASK_PENDING, NULL, 0, NULL});
    assert_int_equal(store_study_mark_started(f->st, f->study, 1, &f->err), 0);

    /* RUNNING in the store, but no sweep process holds it: INTERRUPTED, and no time
     * left to show although tasks are left. */
    assert_int_equal(view_study_status(f->st, "v", &o, &f->err), 0);
    assert_keys(o, "study,status,description,created_at,updated_at,counts,by_priority,"
                   "reason,estimated_remaining,failures");
    assert_dump(
        json_object_get(o, "failures"),
        "[{\"key\":\"00000000b0000001\",\"params\":{\"x\":2},\"state\":\"failed\","
        "\"why\":\"exit code 3\"}]");
    assert_string_equal(json_string_value(json_object_get(o, "study")), "v");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "INTERRUPTED");
    assert_string_equal(json_string_value(json_object_get(o, "description")),
                        "a study");
    assert_true(json_is_null(json_object_get(o, "reason")));
    assert_true(json_is_null(json_object_get(o, "estimated_remaining")));
    assert_int_equal(view_count_of(json_object_get(o, "counts"), "total"), 4);
    assert_int_equal(view_count_of(json_object_get(o, "counts"), "pending"), 2);
    by = json_object_get(o, "by_priority");
    assert_keys(by, "HIGH,MEDIUM,LOW");
    assert_int_equal(view_count_of(json_object_get(by, "HIGH"), "succeeded"), 1);
    assert_int_equal(view_count_of(json_object_get(by, "MEDIUM"), "failed"), 1);
    assert_int_equal(view_count_of(json_object_get(by, "LOW"), "pending"), 2);
    assert_null(json_object_get(o, "steps"));
    assert_null(json_object_get(o, "aggregate"));
    json_decref(o);

    /* While a run holds the study: RUNNING, and an estimate (2 finished in 6 s on
     * average, 2 left on 2 slots: 6 s). */
    assert_int_equal(runner_lock(f->dir, "v", &lock, &f->err), 0);
    assert_int_equal(view_study_status(f->st, "v", &o, &f->err), 0);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "RUNNING");
    assert_true(json_is_real(json_object_get(o, "estimated_remaining")));
    assert_true(fabs(json_real_value(json_object_get(o, "estimated_remaining")) - 6.0) <
                1e-9);
    json_decref(o);
    close(lock);

    /* The stored aggregate comes last, with when it was computed. */
    assert_int_equal(aggregate_save(f->st, f->study, f->gen, -1, NULL, &f->err), 0);
    assert_int_equal(view_study_status(f->st, "v", &o, &f->err), 0);
    assert_keys(o,
                "study,status,description,created_at,updated_at,counts,by_priority,"
                "reason,estimated_remaining,failures,aggregate,aggregate_computed_at");
    assert_true(json_is_object(json_object_get(o, "aggregate")) ||
                json_is_array(json_object_get(o, "aggregate")));
    json_decref(o);

    /* An unknown study. */
    o = json_true(); /* must be reset */
    assert_int_equal(view_study_status(f->st, "nope", &o, &f->err), SWEEP_ENOTFOUND);
    assert_null(o);
    assert_non_null(strstr(f->err.msg, "nope"));
}

/* The REST API's shapes: a study's check and one task. */
static void test_check_and_task(void **state)
{
    struct fixture *f = *state;
    struct view_status v;
    struct store_task t = {0};
    json_t *o;
    char key[32];

    add(f, &(struct spec_task){"{\"x\":1}", PRIORITY_HIGH, 0, TASK_SUCCEEDED,
                               "{\"e\":1}", 10, NULL});
    add(f, &(struct spec_task){"{\"x\":2}", PRIORITY_LOW, 0, TASK_FAILED, NULL, 2,
                               "exit code 3 \xff"});
    add(f, &(struct spec_task){"{\"x\":3}", 7, 0, TASK_PENDING, NULL, 0, NULL});
    assert_int_equal(view_status_load(f->st, "v", &v, &f->err), 0);
    o = view_study_check_json(&v);
    view_status_fini(&v);
    assert_keys(o, "study_id,status,progress,estimated_remaining,failures");
    /* An error that is not UTF-8 still says why. */
    assert_dump(
        json_object_get(o, "failures"),
        "[{\"key\":\"00000000b0000001\",\"params\":{\"x\":2},\"state\":\"failed\","
        "\"why\":\"exit code 3 ?\"}]");
    assert_string_equal(json_string_value(json_object_get(o, "study_id")), "v");
    assert_int_equal(view_count_of(json_object_get(o, "progress"), "total"), 3);
    assert_int_equal(view_count_of(json_object_get(o, "progress"), "completed"), 1);
    assert_int_equal(view_count_of(json_object_get(o, "progress"), "failed"), 1);
    json_decref(o);

    assert_int_equal(store_task_find(f->st, f->study, "00000000b0000000", &t, &f->err),
                     0);
    o = view_task_json(&t, "v");
    store_task_fini(&t);
    assert_keys(o, "id,study,key,state,priority,attempts,params,metrics,exit_code,"
                   "signal,error,wall,started_at,finished_at");
    assert_dump(json_object_get(o, "params"), "{\"x\":1}");
    assert_dump(json_object_get(o, "metrics"), "{\"e\":1}");
    assert_string_equal(json_string_value(json_object_get(o, "state")), "succeeded");
    assert_string_equal(json_string_value(json_object_get(o, "priority")), "HIGH");
    assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 0);
    assert_true(json_is_null(json_object_get(o, "error")));
    assert_true(json_is_string(json_object_get(o, "finished_at")));
    json_decref(o);
    /* An error that is not UTF-8 is null, not a missing object. */
    assert_int_equal(store_task_find(f->st, f->study, "00000000b0000001", &t, &f->err),
                     0);
    o = view_task_json(&t, "v");
    store_task_fini(&t);
    assert_non_null(o);
    assert_true(json_is_null(json_object_get(o, "error")));
    json_decref(o);
    /* Pending, priority 7: no exit code, no times, the integer as the priority. */
    snprintf(key, sizeof(key), "00000000b0000002");
    assert_int_equal(store_task_find(f->st, f->study, key, &t, &f->err), 0);
    o = view_task_json(&t, "v");
    store_task_fini(&t);
    assert_true(json_is_null(json_object_get(o, "exit_code")));
    assert_true(json_is_null(json_object_get(o, "metrics")));
    assert_true(json_is_null(json_object_get(o, "started_at")));
    assert_string_equal(json_string_value(json_object_get(o, "priority")), "7");
    json_decref(o);
}

/* A pipeline's status has one row of counts per step, the reduce last. */
static void test_status_steps(void **state)
{
    struct fixture *f = *state;
    struct view_status v;
    json_t *o, *steps;

    assert_int_equal(
        store_study_set_steps(f->st, f->study,
                              "{\"reduce\":true,\"steps\":[\"simulate\",\"analyze\"]}",
                              &f->err),
        0);
    add(f,
        &(struct spec_task){"{\"x\":1}", 0, 0, TASK_SUCCEEDED, "{\"e\":1}", 1, NULL});
    add(f, &(struct spec_task){"{\"x\":1}", 0, 1, TASK_FAILED, NULL, 1, "bad"});
    add(f,
        &(struct spec_task){"{\"x\":2}", 0, 0, TASK_SUCCEEDED, "{\"e\":2}", 1, NULL});
    add(f,
        &(struct spec_task){"{\"x\":2}", 0, 1, TASK_SUCCEEDED, "{\"d\":4}", 1, NULL});
    add(f, &(struct spec_task){"{}", 0, 2, TASK_PENDING, NULL, 0, NULL});

    assert_int_equal(view_status_load(f->st, "v", &v, &f->err), 0);
    assert_string_equal(v.status, "CREATED");
    /* Nothing runs it and a task is left. */
    assert_true(v.eta < 0);
    o = view_status_json(&v);
    assert_keys(o, "study,status,description,created_at,updated_at,counts,by_priority,"
                   "reason,steps,estimated_remaining,failures");
    steps = json_object_get(o, "steps");
    assert_int_equal(json_array_size(steps), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(steps, 0), "name")),
        "simulate");
    assert_int_equal(view_count_of(json_array_get(steps, 0), "succeeded"), 2);
    assert_int_equal(view_count_of(json_array_get(steps, 1), "failed"), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(steps, 2), "name")), "reduce");
    assert_int_equal(view_count_of(json_array_get(steps, 2), "pending"), 1);
    json_decref(o);
    view_status_fini(&v);
}

/* ---- the list of studies ---- */

static void test_list(void **state)
{
    struct fixture *f = *state;
    long long other, gen, counts[3][TASK_NSTATES];
    struct store_study s = {0};
    json_t *arr, *one;

    add(f, &(struct spec_task){"{\"x\":1}", 0, 0, TASK_SUCCEEDED, NULL, 1, NULL});
    assert_int_equal(
        store_study_put(f->st, "w", NULL, "w.yaml", "{}", &other, &gen, &f->err), 0);
    assert_int_equal(store_study_set_status(f->st, other, STUDY_WAITING, &f->err), 0);

    assert_int_equal(view_study_list(f->st, &arr, &f->err), 0);
    assert_int_equal(json_array_size(arr), 2);
    /* Newest first; the summary, without a status' estimate, steps or aggregate. */
    one = json_array_get(arr, 0);
    assert_string_equal(json_string_value(json_object_get(one, "study")), "w");
    assert_keys(one, "study,status,description,created_at,updated_at,counts,"
                     "by_priority,reason");
    /* WAITING without a run holding it. */
    assert_string_equal(json_string_value(json_object_get(one, "status")),
                        "INTERRUPTED");
    assert_int_equal(view_count_of(json_object_get(one, "counts"), "total"), 0);
    one = json_array_get(arr, 1);
    assert_string_equal(json_string_value(json_object_get(one, "study")), "v");
    assert_int_equal(view_count_of(json_object_get(one, "counts"), "succeeded"), 1);

    /* The same as the summary of that one study. */
    assert_int_equal(store_study_get(f->st, "v", &s, &f->err), 0);
    assert_int_equal(store_study_counts(f->st, s.id, counts, &f->err), 0);
    {
        json_t *sum = view_study_summary(f->st, &s, counts);
        assert_true(json_equal(sum, one));
        json_decref(sum);
    }
    store_study_fini(&s);
    json_decref(arr);
}

/* ---- --step ---- */

static void test_step_index(void **state)
{
    static const struct {
        const char *steps_json; /* NULL: a single-step study */
        const char *name;
        int rc, step;
        const char *msg;
    } cases[] = {
        {NULL, NULL, SWEEP_OK, -1, NULL},
        {NULL, "simulate", SWEEP_EINVAL, 0, "has no steps"},
        {"{\"reduce\":true,\"steps\":[\"a\",\"b\"]}", NULL, SWEEP_OK, 1, NULL},
        {"{\"reduce\":true,\"steps\":[\"a\",\"b\"]}", "a", SWEEP_OK, 0, NULL},
        {"{\"reduce\":true,\"steps\":[\"a\",\"b\"]}", "reduce", SWEEP_OK, 2, NULL},
        {"{\"reduce\":false,\"steps\":[\"a\",\"b\"]}", "reduce", SWEEP_EINVAL, 0,
         "its steps: [\"a\",\"b\"]"},
        {"{\"reduce\":true,\"steps\":[\"a\",\"b\"]}", "c", SWEEP_EINVAL, 0,
         "no step \"c\""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store_study s = {.name = "p", .steps_json = (char *)cases[i].steps_json};
        struct err err = {0};
        int step = -9;
        assert_int_equal(view_step_index(&s, cases[i].name, &step, &err), cases[i].rc);
        if (cases[i].rc == SWEEP_OK)
            assert_int_equal(step, cases[i].step);
        else
            assert_non_null(strstr(err.msg, cases[i].msg));
    }
}

/* ---- result rows ---- */

struct rows {
    struct strbuf csv;
    json_t *json;
};

static int collect(const struct view_results *r, const struct view_row *row, void *arg)
{
    struct rows *out = arg;

    view_row_csv(r, row, &out->csv);
    json_array_append_new(out->json, view_row_json(r, row));
    return 0;
}

static void
rows_of(struct fixture *f, int state, int step, bool columns, struct rows *out)
{
    struct store_study s = {0};
    struct view_results r;

    out->csv = (struct strbuf)STRBUF_INIT;
    out->json = json_array();
    assert_int_equal(store_study_get(f->st, "v", &s, &f->err), 0);
    assert_int_equal(view_results_open(f->st, &s, state, step, columns, &r, &f->err),
                     0);
    if (columns)
        view_results_csv_header(&r, &out->csv);
    assert_int_equal(view_results_each(&r, collect, out, &f->err), 0);
    view_results_fini(&r);
    store_study_fini(&s);
}

static void rows_fini(struct rows *r)
{
    sb_fini(&r->csv);
    json_decref(r->json);
}

/* A parameter named like a fixed column is param.<name>; a metric named like a
 * parameter or a fixed column is result.<name>; nested metrics are a.b. */
static void test_results_columns(void **state)
{
    struct fixture *f = *state;
    struct rows rows;
    json_t *o;

    add(f, &(struct spec_task){"{\"seed\":7,\"x\":\"a,b\"}", PRIORITY_HIGH, 0,
                               TASK_SUCCEEDED, "{\"x\":1.5,\"n\":{\"a\":2},\"wall\":3}",
                               1.5, NULL});
    add(f, &(struct spec_task){"{\"seed\":8,\"x\":\"c\"}", 10, 0, TASK_FAILED, NULL,
                               0.5, "exit code 3"});
    add(f, &(struct spec_task){"{\"seed\":9,\"x\":\"d\"}", 0, 0, TASK_PENDING, NULL, 0,
                               NULL});

    rows_of(f, -1, -1, true, &rows);
    assert_string_equal(
        sb_str(&rows.csv),
        "key,id,state,attempts,repetition,seed,priority,param.seed,x,result.x,n.a,"
        "result.wall,exit_code,signal,wall,user,sys,maxrss_kb,error,finished_at\n"
        "00000000b0000000,1,succeeded,1,0,100,HIGH,7,\"a,b\",1.5,2,3,0,,1.500000,"
        "0.250000,0.125000,2048,,1970-01-01T00:16:41.500Z\n"
        "00000000b0000001,2,failed,1,0,101,10,8,c,,,,3,,0.500000,0.250000,0.125000,"
        "2048,exit code 3,1970-01-01T00:16:40.500Z\n"
        "00000000b0000002,3,pending,0,0,102,MEDIUM,9,d,,,,,,0.000000,0.000000,"
        "0.000000,0,,\n");
    assert_int_equal(json_array_size(rows.json), 3);
    o = json_array_get(rows.json, 1);
    assert_keys(o, "key,id,state,attempts,repetition,seed,priority,priority_value,"
                   "params,metrics,exit_code,signal,wall,user,sys,maxrss_kb,error,"
                   "started_at,finished_at");
    assert_string_equal(json_string_value(json_object_get(o, "priority")), "10");
    assert_int_equal(json_integer_value(json_object_get(o, "priority_value")), 10);
    assert_true(json_is_null(json_object_get(o, "signal")));
    assert_string_equal(json_string_value(json_object_get(o, "error")), "exit code 3");
    /* A pending task: no exit code, no times. */
    o = json_array_get(rows.json, 2);
    assert_true(json_is_null(json_object_get(o, "exit_code")));
    assert_null(json_object_get(o, "finished_at"));
    /* The metrics as the task wrote them, not flattened. */
    o = json_array_get(rows.json, 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(o, "metrics"), "n"), "a")),
                     2);
    rows_fini(&rows);

    /* Only the failed ones; JSON rows need no columns. */
    rows_of(f, TASK_FAILED, -1, false, &rows);
    assert_int_equal(json_array_size(rows.json), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(rows.json, 0), "state")),
        "failed");
    rows_fini(&rows);
}

/* The columns come from the names the store keeps, and are those of a pass over the
 * tasks: with metric sets that differ between tasks and tasks ending out of order, a
 * parameter named like a fixed column (param.seed) and metrics named like a parameter
 * or a fixed column (result.x, result.wall). A generation whose list is not complete
 * (store_study_put() again) is read by a pass, which stores what it found. */
static void test_results_columns_kept(void **state)
{
    struct fixture *f = *state;
    static const char *const params[] = {"{\"seed\":1,\"x\":1}", "{\"seed\":2,\"x\":2}",
                                         "{\"seed\":3,\"x\":3,\"y\":0}"};
    static const char *const metrics[] = {
        "{\"a\":1}", "{\"x\":2,\"a\":1,\"b\":{\"c\":1}}", "{\"wall\":3,\"d\":4}"};
    static const char want[] =
        "key,id,state,attempts,repetition,seed,priority,param.seed,x,y,a,result.x,b.c,"
        "result.wall,d,exit_code,signal,wall,user,sys,maxrss_kb,error,finished_at\n";
    struct rows kept, pass, again;
    long long id[3], gen, sid;
    struct store_name *v;
    size_t n;
    bool complete;

    for (int i = 0; i < 3; i++)
        id[i] =
            add(f, &(struct spec_task){params[i], 0, 0, TASK_RUNNING, NULL, 0, NULL});
    for (int i = 2; i >= 0; i--) {
        struct task_outcome o = {.state = TASK_SUCCEEDED, .metrics_json = metrics[i]};
        assert_int_equal(store_task_finished(f->st, id[i], 1, &o, &f->err), 0);
    }
    rows_of(f, -1, -1, true, &kept);
    assert_true(strncmp(sb_str(&kept.csv), want, strlen(want)) == 0);
    /* A new generation of the same tasks, by store_study_put(): read by a pass. */
    assert_int_equal(
        store_study_put(f->st, "v", "a study", "s.yaml", "{}", &sid, &gen, &f->err), 0);
    for (int i = 0; i < 3; i++) {
        struct expand_task t = {.params_json = (char *)params[i],
                                .seq = i,
                                .chain = i,
                                .priority = PRIORITY_MEDIUM};
        snprintf(t.key, sizeof(t.key), "%016x", 0xb0000000u + (unsigned)i);
        assert_int_equal(store_task_put(f->st, sid, gen, &t, 1, &f->err), 0);
    }
    assert_int_equal(store_result_names(f->st, sid, &gen, &complete, &v, &n, &f->err),
                     0);
    assert_false(complete);
    rows_of(f, -1, -1, true, &pass);
    assert_string_equal(sb_str(&pass.csv), sb_str(&kept.csv));
    /* The pass stored its names: the list is complete again, and gives the same. */
    assert_int_equal(store_result_names(f->st, sid, &gen, &complete, &v, &n, &f->err),
                     0);
    assert_true(complete);
    assert_int_equal(n, 8);
    store_names_free(v, n);
    rows_of(f, -1, -1, true, &again);
    assert_string_equal(sb_str(&again.csv), sb_str(&kept.csv));
    rows_fini(&kept);
    rows_fini(&pass);
    rows_fini(&again);
}

/* A pipeline: the step column after the key, metrics under the step's name, and a
 * parameter named "step" keeps its name while the pipeline's column is pipeline_step.
 */
static void test_results_pipeline(void **state)
{
    struct fixture *f = *state;
    struct rows rows;

    assert_int_equal(
        store_study_set_steps(f->st, f->study,
                              "{\"reduce\":true,\"steps\":[\"simulate\",\"analyze\"]}",
                              &f->err),
        0);
    add(f, &(struct spec_task){"{\"step\":1}", 0, 0, TASK_SUCCEEDED, "{\"e\":1}", 1,
                               NULL});
    add(f, &(struct spec_task){"{\"step\":1}", 0, 1, TASK_SUCCEEDED, "{\"e\":2}", 1,
                               NULL});
    add(f, &(struct spec_task){"{}", 0, 2, TASK_SUCCEEDED, "{\"points\":1}", 1, NULL});

    rows_of(f, -1, -1, true, &rows);
    assert_non_null(strstr(sb_str(&rows.csv),
                           "key,pipeline_step,id,state,attempts,repetition,seed,"
                           "priority,step,simulate.e,analyze.e,reduce.points,"));
    assert_non_null(strstr(sb_str(&rows.csv), "00000000b0000001,analyze,2,"));
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(rows.json, 2), "step")),
        "reduce");
    rows_fini(&rows);

    /* --step analyze: its rows and its metrics only. */
    rows_of(f, -1, 1, true, &rows);
    assert_int_equal(json_array_size(rows.json), 1);
    assert_non_null(strstr(sb_str(&rows.csv), ",step,analyze.e,exit_code,"));
    rows_fini(&rows);
}

/* ---- the aggregate ---- */

static void test_aggregate_json(void **state)
{
    struct fixture *f = *state;
    static const double xs[] = {1, 2, 4};
    struct aggregate a = {0};
    const char *by[] = {"x"};
    json_t *doc, *fits, *fit, *groups;
    char *plain, *text;

    /* m = 2 x^1.5 exactly, twice per x; z is negative, so it cannot be fitted. */
    for (size_t i = 0; i < 3; i++)
        for (int rep = 0; rep < 2; rep++) {
            char params[64], metrics[128];
            snprintf(params, sizeof(params), "{\"x\":%g}", xs[i]);
            snprintf(metrics, sizeof(metrics), "{\"m\":%.17g,\"z\":-1}",
                     2 * pow(xs[i], 1.5));
            add(f, &(struct spec_task){params, 0, 0, TASK_SUCCEEDED, metrics, 1, NULL});
        }
    assert_int_equal(aggregate_study(f->st, f->study, by, 1, NULL, 0, &a, &f->err), 0);

    /* Without a fit: the aggregate's own text. */
    groups = aggregate_to_json(&a);
    plain = aggregate_json_str(groups);
    text = view_aggregate_json_str(&a, false);
    assert_string_equal(text, plain);
    free(text);

    /* With one: {"groups": <the same>, "fits": [one per metric]}. */
    text = view_aggregate_json_str(&a, true);
    assert_true(strncmp(text, "{\"groups\": {\n", 13) == 0);
    doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    assert_true(json_equal(json_object_get(doc, "groups"), groups));
    fits = json_object_get(doc, "fits");
    assert_int_equal(json_array_size(fits), 2);
    fit = json_array_get(fits, 0);
    assert_string_equal(json_string_value(json_object_get(fit, "metric")), "m");
    assert_string_equal(json_string_value(json_object_get(fit, "x")), "x");
    assert_true(fabs(json_number_value(json_object_get(fit, "exponent")) - 1.5) < 1e-9);
    fit = json_array_get(fits, 1);
    assert_keys(fit, "error,metric,x");
    assert_string_equal(json_string_value(json_object_get(fit, "metric")), "z");
    json_decref(doc);
    free(text);
    free(plain);
    json_decref(groups);
    aggregate_fini(&a);
}

/* ---- the inbox's results files ---- */

static void test_inbox_results(void **state)
{
    struct fixture *f = *state;
    struct store_study s = {0};
    json_t *res, *t, *stats;

    add(f, &(struct spec_task){"{\"task_id\":\"a1\",\"n\":5}", PRIORITY_HIGH, 0,
                               TASK_SUCCEEDED, "{\"rg\":2.5}", 1.5, NULL});
    add(f, &(struct spec_task){"{\"n\":6}", PRIORITY_LOW, 0, TASK_FAILED, NULL, 0.5,
                               "exit 3"});
    add(f, &(struct spec_task){"{\"n\":7}", 0, 0, TASK_PENDING, NULL, 0, NULL});
    assert_int_equal(store_study_get(f->st, "v", &s, &f->err), 0);
    assert_int_equal(view_inbox_results(f->st, &s, "q.json", "local@h", &res, &f->err),
                     0);
    assert_keys(res, "study,file,generated_at,tasks");
    assert_string_equal(json_string_value(json_object_get(res, "file")), "q.json");
    assert_int_equal(json_array_size(json_object_get(res, "tasks")), 3);
    t = json_array_get(json_object_get(res, "tasks"), 0);
    assert_keys(t, "task_id,algorithm,parameters,execution_time,result,worker_id,"
                   "completed_at,priority");
    /* task_id out of the parameters; the spec names no model: algorithm null. */
    assert_string_equal(json_string_value(json_object_get(t, "task_id")), "a1");
    assert_dump(json_object_get(t, "parameters"), "{\"n\":5}");
    assert_true(json_is_null(json_object_get(t, "algorithm")));
    assert_dump(json_object_get(t, "result"),
                "{\"status\":\"succeeded\",\"metrics\":{\"rg\":2.5}}");
    assert_true(json_real_value(json_object_get(t, "execution_time")) == 1.5);
    assert_string_equal(json_string_value(json_object_get(t, "worker_id")), "local@h");
    assert_string_equal(json_string_value(json_object_get(t, "completed_at")),
                        "1970-01-01T00:16:41.500Z");
    assert_string_equal(json_string_value(json_object_get(t, "priority")), "HIGH");
    /* Without a task_id: its key; not ended: completed_at null. */
    t = json_array_get(json_object_get(res, "tasks"), 1);
    assert_string_equal(json_string_value(json_object_get(t, "task_id")),
                        "00000000b0000001");
    assert_dump(json_object_get(t, "result"), "{\"status\":\"failed\",\"metrics\":{}}");
    assert_string_equal(json_string_value(json_object_get(t, "priority")), "LOW");
    t = json_array_get(json_object_get(res, "tasks"), 2);
    assert_true(json_is_null(json_object_get(t, "completed_at")));
    json_decref(res);

    /* Every study's tasks by state and band; throughput per minute of uptime. */
    assert_int_equal(view_orchestrator_stats(f->st, 120.0, 6, &stats, &f->err), 0);
    assert_keys(stats, "updated_at,uptime_seconds,studies,totals,by_priority,"
                       "throughput");
    assert_int_equal(view_count_of(json_object_get(stats, "totals"), "total"), 3);
    assert_int_equal(view_count_of(json_object_get(stats, "totals"), "failed"), 1);
    assert_keys(json_object_get(stats, "by_priority"), "HIGH,MEDIUM,LOW");
    assert_int_equal(
        view_count_of(json_object_get(json_object_get(stats, "by_priority"), "HIGH"),
                      "succeeded"),
        1);
    assert_dump(json_object_get(stats, "throughput"),
                "{\"tasks_run\":6,\"tasks_per_minute\":3.0}");
    json_decref(stats);
    store_study_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_field),
        cmocka_unit_test(test_counts_progress),
        cmocka_unit_test(test_step_index),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_and_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_columns_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_results_pipeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregate_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inbox_results, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
