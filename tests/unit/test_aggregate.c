/* Unit tests of the aggregation (src/core/aggregate.c) through the real store: tasks
 * are written to a store in a mkdtemp() home with their parameters, final state and
 * metrics, then aggregated. Expected means and deviations are computed here from the
 * hard-coded samples with the two-pass textbook formulas, not with aggregate.c.
 * Covered: grouping by one and several parameters with mixed value types and natural
 * order, default grouping (every parameter but seed), flattened and boolean metrics, n
 * = 1, failed and timed-out tasks counted but not aggregated, unknown and repeated
 * names; the JSON form and its text (shape, order, values checked against the same
 * reference formulas), and the aggregate stored with a study (aggregate_save). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/aggregate.h"
#include "common/timeutil.h"
#include "core/store.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    snprintf(f->dir, sizeof(f->dir), "/tmp/sweep-test-aggregate-XXXXXX");
    if (!mkdtemp(f->dir) || store_open(f->dir, &f->st, &f->err) != 0 ||
        store_study_put(f->st, "agg", NULL, "s.yaml", "{}", &f->study, &f->gen,
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

/* Adds a task with these parameters that ends in `state` with these metrics (NULL:
 * none); TASK_PENDING leaves it pending. */
static void
add(struct fixture *f, const char *params, enum task_state state, const char *metrics)
{
    struct expand_task t = {.params_json = (char *)params, .seq = f->ntasks};
    struct task_outcome o = {.state = state, .metrics_json = metrics, .exit_code = 0};
    struct store_task got;

    snprintf(t.key, sizeof(t.key), "%016x", 0xa0000000u + (unsigned)f->ntasks);
    t.seed = f->ntasks++;
    assert_int_equal(store_task_put(f->st, f->study, f->gen, &t, 1, &f->err), 0);
    if (state == TASK_PENDING)
        return;
    assert_int_equal(store_task_find(f->st, f->study, t.key, &got, &f->err), 0);
    assert_int_equal(store_task_started(f->st, got.id, 1, 1.0, &f->err), 0);
    assert_int_equal(store_task_finished(f->st, got.id, 1, &o, &f->err), 0);
    store_task_fini(&got);
}

/* Adds one succeeded task per sample: {"<metric>": x} with the given parameters. */
static void add_samples(struct fixture *f,
                        const char *params,
                        const char *metric,
                        const double *x,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char m[128];
        snprintf(m, sizeof(m), "{\"%s\": %.17g}", metric, x[i]);
        add(f, params, TASK_SUCCEEDED, m);
    }
}

/* cmocka's assert_float_equal works in float; these need double. */
#define assert_near(got, want, tol)                                                    \
    do {                                                                               \
        double got_ = (got), want_ = (want);                                           \
        if (!(fabs(got_ - want_) <= (tol)))                                            \
            fail_msg("%s = %.17g, expected %.17g", #got, got_, want_);                 \
    } while (0)

/* The expected statistics, by the two-pass definitions:
 *   mean = sum(x) / n
 *   std  = sqrt(sum((x - mean)^2) / (n - 1))   (sample; undefined for n < 2)
 *   sem  = std / sqrt(n) */
static double ref_mean(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

static double ref_std(const double *x, size_t n)
{
    double m = ref_mean(x, n), ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (double)(n - 1));
}

static void check_stat(const struct aggregate_stat *s, const double *x, size_t n)
{
    double lo = x[0], hi = x[0];

    for (size_t i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    assert_int_equal(s->n, (long long)n);
    assert_near(s->mean, ref_mean(x, n), 1e-12 * (1 + fabs(ref_mean(x, n))));
    assert_near(s->min, lo, 0);
    assert_near(s->max, hi, 0);
    if (n < 2) {
        assert_true(isnan(aggregate_stat_std(s)));
        assert_true(isnan(aggregate_stat_sem(s)));
    } else {
        assert_near(aggregate_stat_std(s), ref_std(x, n), 1e-9);
        assert_near(aggregate_stat_sem(s), ref_std(x, n) / sqrt((double)n), 1e-9);
    }
}

static const char *value_str(const struct aggregate_group *g, size_t i, char *buf)
{
    char *s = json_dumps(json_array_get(g->values, i), JSON_ENCODE_ANY);
    snprintf(buf, 64, "%s", s);
    free(s);
    return buf;
}

/* Welford on its own, including values with a large common offset, where the naive
 * sum-of-squares formula loses every digit. */
static void test_stat_add(void **state)
{
    static const struct {
        double x[6];
        size_t n;
    } cases[] = {
        {{2, 4, 4, 4, 5, 5}, 6},
        {{1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16}, 4},
        {{-3.5}, 1},
        {{0.1, 0.2}, 2},
    };
    (void)state;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct aggregate_stat s = {0};
        for (size_t i = 0; i < cases[c].n; i++)
            aggregate_stat_add(&s, cases[c].x[i]);
        check_stat(&s, cases[c].x, cases[c].n);
    }
    /* {4, 7, 13, 16} + 1e9: variance 30 exactly. */
    struct aggregate_stat s = {0};
    for (size_t i = 0; i < 4; i++)
        aggregate_stat_add(&s, cases[1].x[i]);
    assert_near(aggregate_stat_std(&s), sqrt(30.0), 1e-9);
    struct aggregate_stat empty = {0};
    assert_true(isnan(aggregate_stat_std(&empty)));
}

/* Grouping by one parameter whose values mix types: order null, false, true, numbers
 * (1 and 1.0 together, 2 before 10), then strings lexically. */
static void test_group_mixed_types(void **state)
{
    struct fixture *f = *state;
    static const double a[] = {1.5, 2.5, 4.0}, b[] = {10, 20}, c[] = {7}, d[] = {3, 5},
                        e[] = {-1, 1}, g[] = {0.25}, h[] = {100, 300};
    static const char *const want[] = {"null", "false", "true",  "1",
                                       "2",    "10",    "\"B\"", "\"a\""};
    struct aggregate ag;
    const char *by[] = {"p"};
    char buf[64];

    add_samples(f, "{\"p\":\"a\"}", "v", h, 2);
    add_samples(f, "{\"p\":10}", "v", a, 3);
    add_samples(f, "{\"p\":1}", "v", b, 1);
    add_samples(f, "{\"p\":1.0}", "v", b + 1, 1); /* same group as 1 */
    add_samples(f, "{\"p\":2}", "v", c, 1);
    add_samples(f, "{\"p\":\"B\"}", "v", d, 2);
    add_samples(f, "{\"q\":1}", "v", e, 2); /* no p: null */
    add_samples(f, "{\"p\":true}", "v", g, 1);
    add(f, "{\"p\":false}", TASK_FAILED, NULL);

    assert_int_equal(aggregate_study(f->st, f->study, by, 1, NULL, 0, &ag, &f->err), 0);
    assert_int_equal(ag.nby, 1);
    assert_string_equal(ag.by[0], "p");
    assert_int_equal(ag.nmetrics, 1);
    assert_string_equal(ag.metrics[0], "v");
    assert_int_equal(ag.ngroups, 8);
    for (size_t i = 0; i < ag.ngroups; i++)
        assert_string_equal(value_str(&ag.groups[i], 0, buf), want[i]);
    check_stat(&ag.groups[0].stats[0], e, 2);
    assert_int_equal(ag.groups[1].n_samples, 0);
    assert_int_equal(ag.groups[1].n_failed, 1);
    assert_int_equal(ag.groups[1].stats[0].n, 0);
    check_stat(&ag.groups[2].stats[0], g, 1);
    check_stat(&ag.groups[3].stats[0], b, 2);
    check_stat(&ag.groups[4].stats[0], c, 1);
    check_stat(&ag.groups[5].stats[0], a, 3);
    check_stat(&ag.groups[6].stats[0], d, 2);
    check_stat(&ag.groups[7].stats[0], h, 2);
    aggregate_fini(&ag);
}

/* Default grouping: every parameter but seed, so repetitions (which differ only in
 * seed) fall together; two parameters order by the first, then the second. Metrics:
 * nested objects flattened, booleans as 0/1, strings ignored, a metric missing from a
 * task leaves its n smaller. Failed and timed-out tasks are counted, cancelled and
 * pending ones ignored. */
static void test_default_grouping(void **state)
{
    struct fixture *f = *state;
    struct aggregate ag;
    char buf[64];
    static const double a1[] = {0.5, 0.75, 1.0}, ok1[] = {1, 0, 1}, a2[] = {2.0},
                        t2[] = {9.0, 11.0};

    add(f, "{\"n\":2,\"s\":\"x\",\"seed\":1}", TASK_SUCCEEDED,
        "{\"a\":0.5,\"ok\":true,\"tag\":\"r1\",\"sub\":{\"t\":9}}");
    add(f, "{\"n\":2,\"s\":\"x\",\"seed\":2}", TASK_SUCCEEDED,
        "{\"a\":0.75,\"ok\":false,\"sub\":{\"t\":11}}");
    add(f, "{\"n\":2,\"s\":\"x\",\"seed\":3}", TASK_SUCCEEDED,
        "{\"a\":1.0,\"ok\":true,\"list\":[1,2]}");
    add(f, "{\"n\":2,\"s\":\"x\",\"seed\":4}", TASK_FAILED, "{\"a\":1000}");
    add(f, "{\"n\":2,\"s\":\"x\",\"seed\":5}", TASK_TIMED_OUT, NULL);
    add(f, "{\"n\":2,\"s\":\"x\",\"seed\":6}", TASK_CANCELLED, NULL);
    add(f, "{\"n\":2,\"s\":\"x\",\"seed\":7}", TASK_PENDING, NULL);
    add(f, "{\"n\":1,\"s\":\"y\",\"seed\":1}", TASK_SUCCEEDED, "{\"a\":2.0}");
    add(f, "{\"n\":2,\"s\":\"w\",\"seed\":1}", TASK_FAILED, NULL);

    assert_int_equal(aggregate_study(f->st, f->study, NULL, 0, NULL, 0, &ag, &f->err),
                     0);
    assert_int_equal(ag.nby, 2);
    assert_string_equal(ag.by[0], "n");
    assert_string_equal(ag.by[1], "s");
    assert_int_equal(ag.nmetrics, 3); /* sorted; "tag" and "list" are not numbers */
    assert_string_equal(ag.metrics[0], "a");
    assert_string_equal(ag.metrics[1], "ok");
    assert_string_equal(ag.metrics[2], "sub.t");
    assert_int_equal(ag.ngroups, 3);

    assert_string_equal(value_str(&ag.groups[0], 0, buf), "1");
    assert_string_equal(value_str(&ag.groups[0], 1, buf), "\"y\"");
    assert_int_equal(ag.groups[0].n_samples, 1);
    check_stat(&ag.groups[0].stats[0], a2, 1);
    assert_int_equal(ag.groups[0].stats[1].n, 0);

    assert_string_equal(value_str(&ag.groups[1], 1, buf), "\"w\"");
    assert_int_equal(ag.groups[1].n_samples, 0);
    assert_int_equal(ag.groups[1].n_failed, 1);

    assert_string_equal(value_str(&ag.groups[2], 0, buf), "2");
    assert_string_equal(value_str(&ag.groups[2], 1, buf), "\"x\"");
    assert_int_equal(ag.groups[2].n_samples, 3);
    assert_int_equal(ag.groups[2].n_failed, 2); /* failed + timed out, not cancelled */
    check_stat(&ag.groups[2].stats[0], a1, 3);  /* the failed task's 1000 left out */
    check_stat(&ag.groups[2].stats[1], ok1, 3);
    check_stat(&ag.groups[2].stats[2], t2, 2);
    aggregate_fini(&ag);
}

/* By default, a parameter with the same value in every task (a `base` parameter) is
 * not a group key; one that some task lacks is (its group has null). */
static void test_default_by_varying_only(void **state)
{
    struct fixture *f = *state;
    struct aggregate ag;
    char buf[64];

    add(f, "{\"re\":100,\"grid\":[16,16],\"seed\":1}", TASK_SUCCEEDED, "{\"e\":1}");
    add(f, "{\"re\":400,\"grid\":[16,16],\"seed\":2}", TASK_SUCCEEDED, "{\"e\":2}");
    add(f, "{\"re\":400,\"grid\":[16,16],\"seed\":3,\"x\":1}", TASK_SUCCEEDED,
        "{\"e\":4}");
    assert_int_equal(aggregate_study(f->st, f->study, NULL, 0, NULL, 0, &ag, &f->err),
                     0);
    assert_int_equal(ag.nby, 2);
    assert_string_equal(ag.by[0], "re");
    assert_string_equal(ag.by[1], "x");
    assert_int_equal(ag.ngroups, 3);
    assert_string_equal(value_str(&ag.groups[1], 0, buf), "400");
    assert_string_equal(value_str(&ag.groups[1], 1, buf), "null");
    assert_int_equal(ag.groups[1].n_samples, 1);
    aggregate_fini(&ag);
}

/* --by several, --metrics a subset, in the order given; --by nothing: one group. */
static void test_chosen_names(void **state)
{
    struct fixture *f = *state;
    struct aggregate ag;
    const char *by[] = {"y", "x"}, *metrics[] = {"m2", "m1"};
    static const double m1[] = {1, 2, 3, 4}, m2_y0[] = {10, 30}, m2_y1[] = {20, 40};

    add(f, "{\"x\":1,\"y\":0}", TASK_SUCCEEDED, "{\"m1\":1,\"m2\":10,\"m3\":0}");
    add(f, "{\"x\":1,\"y\":1}", TASK_SUCCEEDED, "{\"m1\":2,\"m2\":20,\"m3\":0}");
    add(f, "{\"x\":2,\"y\":0}", TASK_SUCCEEDED, "{\"m1\":3,\"m2\":30,\"m3\":0}");
    add(f, "{\"x\":2,\"y\":1}", TASK_SUCCEEDED, "{\"m1\":4,\"m2\":40,\"m3\":0}");

    assert_int_equal(aggregate_study(f->st, f->study, by, 1, metrics, 2, &ag, &f->err),
                     0);
    assert_int_equal(ag.nmetrics, 2);
    assert_string_equal(ag.metrics[0], "m2");
    assert_int_equal(ag.ngroups, 2);
    check_stat(&ag.groups[0].stats[0], m2_y0, 2);
    check_stat(&ag.groups[1].stats[0], m2_y1, 2);
    aggregate_fini(&ag);

    assert_int_equal(aggregate_study(f->st, f->study, by, 2, metrics, 2, &ag, &f->err),
                     0);
    assert_int_equal(ag.ngroups, 4);
    assert_int_equal(json_integer_value(json_array_get(ag.groups[1].values, 0)), 0);
    assert_int_equal(json_integer_value(json_array_get(ag.groups[1].values, 1)), 2);
    aggregate_fini(&ag);

    assert_int_equal(aggregate_study(f->st, f->study, by, 0, NULL, 0, &ag, &f->err), 0);
    assert_int_equal(ag.ngroups, 1);
    assert_int_equal(ag.nmetrics, 3);
    check_stat(&ag.groups[0].stats[0], m1, 4);
    aggregate_fini(&ag);
}

/* Unknown or repeated names are SWEEP_EINVAL naming them and the known ones; an
 * unknown study is SWEEP_ENOTFOUND; *out is left empty. */
static void test_errors(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *by[2];
        size_t nby;
        const char *metrics[2];
        size_t nmetrics;
        const char *msg[2];
    } cases[] = {
        {{"z"}, 1, {NULL}, 0, {"unknown parameter \"z\"", "known parameters: seed, x"}},
        {{"x", "x"}, 2, {NULL}, 0, {"parameter \"x\" given twice", ""}},
        {{"x"}, 1, {"v", "w"}, 2, {"unknown metric \"w\"", "known metrics: flag, v"}},
        {{"x"}, 1, {"v", "v"}, 2, {"metric \"v\" given twice", ""}},
    };
    struct aggregate ag;

    add(f, "{\"x\":1,\"seed\":3}", TASK_SUCCEEDED, "{\"v\":1,\"flag\":false}");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = aggregate_study(f->st, f->study, cases[i].by, cases[i].nby,
                                 cases[i].nmetrics ? cases[i].metrics : NULL,
                                 cases[i].nmetrics, &ag, &f->err);
        assert_int_equal(rc, SWEEP_EINVAL);
        assert_non_null(strstr(f->err.msg, cases[i].msg[0]));
        assert_non_null(strstr(f->err.msg, cases[i].msg[1]));
        assert_int_equal(ag.ngroups, 0);
        assert_null(ag.groups);
        aggregate_fini(&ag);
    }
    assert_int_equal(aggregate_study(f->st, 999, NULL, 0, NULL, 0, &ag, &f->err),
                     SWEEP_ENOTFOUND);
}

/* A study without tasks: no groups, no metrics, and the defaults are empty. */
static void test_empty(void **state)
{
    struct fixture *f = *state;
    struct aggregate ag;

    assert_int_equal(aggregate_study(f->st, f->study, NULL, 0, NULL, 0, &ag, &f->err),
                     0);
    assert_int_equal(ag.ngroups, 0);
    assert_int_equal(ag.nby, 0);
    assert_int_equal(ag.nmetrics, 0);
    aggregate_fini(&ag);
    aggregate_fini(NULL);
}

/* ---- JSON ---- */

/* A member that must be a real near `want`, or null when want is NAN. */
static void check_member(const json_t *o, const char *name, double want)
{
    json_t *v = json_object_get(o, name);

    if (!v)
        fail_msg("no member %s", name);
    if (isnan(want)) {
        assert_true(json_is_null(v));
        return;
    }
    assert_true(json_is_real(v));
    assert_near(json_real_value(v), want, 1e-12 * (1 + fabs(want)));
}

/* The members of one group for metric m over samples x: counts, then the five
 * statistics in order, from the reference formulas. */
static void check_group_json(
    const json_t *o, const char *m, const double *x, size_t n, long long n_failed)
{
    static const char *const order[] = {"n_samples", "n_failed", "mean_", "std_",
                                        "stderr_",   "min_",     "max_"};
    double lo = x[0], hi = x[0], std = n < 2 ? NAN : ref_std(x, n);
    char name[64];
    size_t i = 0;
    const char *k;
    json_t *v;

    assert_true(json_is_object(o));
    json_object_foreach((json_t *)o, k, v)
    {
        snprintf(name, sizeof(name), "%s%s", order[i], i < 2 ? "" : m);
        assert_string_equal(k, name);
        i++;
    }
    assert_int_equal(i, 7);
    for (i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    assert_int_equal(json_integer_value(json_object_get(o, "n_samples")), n);
    assert_int_equal(json_integer_value(json_object_get(o, "n_failed")), n_failed);
    snprintf(name, sizeof(name), "mean_%s", m);
    check_member(o, name, ref_mean(x, n));
    snprintf(name, sizeof(name), "std_%s", m);
    check_member(o, name, std);
    snprintf(name, sizeof(name), "stderr_%s", m);
    check_member(o, name, std / sqrt((double)n));
    snprintf(name, sizeof(name), "min_%s", m);
    check_member(o, name, lo);
    snprintf(name, sizeof(name), "max_%s", m);
    check_member(o, name, hi);
}

/* One parameter: {"<value>": {"n_samples", "n_failed", "mean_df", ...}} in group order,
 * a later value that prints like an earlier one keyed by its quoted text; the text
 * form: one group per line, reals shortest, parses back to the same object. */
static void test_to_json_by_one(void **state)
{
    struct fixture *f = *state;
    static const double one[] = {1.5, 3.5}, two[] = {10}, str1[] = {7, 9, 11};
    static const char *const keys[] = {"1", "2", "\"1\""};
    struct aggregate ag;
    json_t *j, *back;
    const char *k;
    json_t *v;
    size_t i = 0;

    add_samples(f, "{\"n\":2,\"seed\":1}", "df", two, 1);
    add_samples(f, "{\"n\":1,\"seed\":1}", "df", one, 2);
    add(f, "{\"n\":1,\"seed\":3}", TASK_FAILED, NULL);
    add_samples(f, "{\"n\":\"1\",\"seed\":1}", "df", str1, 3);

    /* The default grouping (every parameter but seed) is one parameter here. */
    assert_int_equal(aggregate_study(f->st, f->study, NULL, 0, NULL, 0, &ag, &f->err),
                     0);
    j = aggregate_to_json(&ag);
    assert_true(json_is_object(j));
    assert_int_equal(json_object_size(j), 3);
    json_object_foreach(j, k, v) assert_string_equal(k, keys[i++]);
    check_group_json(json_object_get(j, "1"), "df", one, 2, 1);
    check_group_json(json_object_get(j, "2"), "df", two, 1, 0);
    check_group_json(json_object_get(j, "\"1\""), "df", str1, 3, 0);

    char *text = aggregate_json_str(j);
    back = json_loads(text, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, j));
    assert_non_null(strstr(text, "{\n  \"1\": {\"n_samples\": 2, \"n_failed\": 1,"
                                 " \"mean_df\": 2.5, \"std_df\": "));
    assert_non_null(strstr(text, "\n  \"2\": {\"n_samples\": 1, \"n_failed\": 0,"
                                 " \"mean_df\": 10.0, \"std_df\": null,"
                                 " \"stderr_df\": null, \"min_df\": 10.0,"
                                 " \"max_df\": 10.0},\n"));
    assert_non_null(strstr(text, "\n  \"\\\"1\\\"\": {\"n_samples\": 3"));
    assert_string_equal(text + strlen(text) - 4, "}\n}\n");
    free(text);
    json_decref(back);
    json_decref(j);
    aggregate_fini(&ag);
}

/* Several parameters: [{"params": {in --by order}, "n_samples", ...}]; none: one
 * group with empty params. */
static void test_to_json_by_many(void **state)
{
    struct fixture *f = *state;
    const char *by[] = {"y", "x"};
    static const double a[] = {1, 2, 4}, b[] = {8};
    struct aggregate ag;
    json_t *j, *g;
    const char *k;
    json_t *v;
    size_t i = 0;

    add_samples(f, "{\"x\":1,\"y\":\"b\"}", "m", a, 3);
    add_samples(f, "{\"x\":2,\"y\":\"a\"}", "m", b, 1);
    assert_int_equal(aggregate_study(f->st, f->study, by, 2, NULL, 0, &ag, &f->err), 0);
    j = aggregate_to_json(&ag);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 2);
    g = json_array_get(j, 0);
    json_object_foreach(g, k, v)
    {
        if (i++ == 0)
            assert_string_equal(k, "params");
    }
    char *params = json_dumps(json_object_get(g, "params"), JSON_COMPACT);
    assert_string_equal(params, "{\"y\":\"a\",\"x\":2}");
    free(params);
    json_object_del(g, "params");
    check_group_json(g, "m", b, 1, 0);
    g = json_array_get(j, 1);
    json_object_del(g, "params");
    check_group_json(g, "m", a, 3, 0);
    char *text = aggregate_json_str(j);
    assert_non_null(strstr(text, "[\n  {\"n_samples\": 1,"));
    assert_string_equal(text + strlen(text) - 4, "}\n]\n");
    free(text);
    json_decref(j);
    aggregate_fini(&ag);

    assert_int_equal(aggregate_study(f->st, f->study, by, 0, NULL, 0, &ag, &f->err), 0);
    j = aggregate_to_json(&ag);
    assert_int_equal(json_array_size(j), 1);
    assert_int_equal(json_object_size(json_object_get(json_array_get(j, 0), "params")),
                     0);
    json_decref(j);
    aggregate_fini(&ag);
}

/* aggregate_save stores the default aggregate; store_aggregate_get reads it back; a
 * later save replaces it. */
static void test_save_round_trip(void **state)
{
    struct fixture *f = *state;
    static const double x1[] = {0.5, 0.75, 1.25}, x2[] = {3, 4};
    char *text = (char *)"unset";
    double at, t0, t1;
    json_t *j;

    assert_int_equal(store_aggregate_get(f->st, f->study, &text, &at, &f->err),
                     SWEEP_ENOTFOUND);
    assert_null(text);
    add_samples(f, "{\"n\":10,\"seed\":1}", "df", x1, 3);
    add_samples(f, "{\"n\":20,\"seed\":1}", "df", x2, 1);
    t0 = time_now();
    assert_int_equal(aggregate_save(f->st, f->study, f->gen, -1, NULL, &f->err), 0);
    t1 = time_now();
    assert_int_equal(store_aggregate_get(f->st, f->study, &text, &at, &f->err), 0);
    assert_true(at >= t0 && at <= t1);
    j = json_loads(text, 0, NULL);
    assert_non_null(j);
    check_group_json(json_object_get(j, "10"), "df", x1, 3, 0);
    check_group_json(json_object_get(j, "20"), "df", x2, 1, 0);
    json_decref(j);
    free(text);

    add_samples(f, "{\"n\":20,\"seed\":2}", "df", x2 + 1, 1);
    assert_int_equal(aggregate_save(f->st, f->study, f->gen, -1, NULL, &f->err), 0);
    assert_int_equal(store_aggregate_get(f->st, f->study, &text, &at, &f->err), 0);
    j = json_loads(text, 0, NULL);
    check_group_json(json_object_get(j, "20"), "df", x2, 2, 0);
    json_decref(j);
    free(text);
}

/* No tasks: [] is stored; tasks without numeric metrics: the counts only; an unknown
 * study: SWEEP_ENOTFOUND and nothing stored. */
static void test_save_without_metrics(void **state)
{
    struct fixture *f = *state;
    char *text;
    double at;

    assert_int_equal(aggregate_save(f->st, f->study, f->gen, -1, NULL, &f->err), 0);
    assert_int_equal(store_aggregate_get(f->st, f->study, &text, &at, &f->err), 0);
    assert_string_equal(text, "[]\n");
    free(text);

    add(f, "{\"p\":1,\"seed\":1}", TASK_SUCCEEDED, "{\"tag\":\"x\",\"list\":[1]}");
    add(f, "{\"p\":1,\"seed\":2}", TASK_SUCCEEDED, NULL);
    add(f, "{\"p\":1,\"seed\":3}", TASK_FAILED, NULL);
    add(f, "{\"p\":2,\"seed\":4}", TASK_FAILED, NULL);
    assert_int_equal(aggregate_save(f->st, f->study, f->gen, -1, NULL, &f->err), 0);
    assert_int_equal(store_aggregate_get(f->st, f->study, &text, &at, &f->err), 0);
    assert_string_equal(text, "{\n  \"1\": {\"n_samples\": 2, \"n_failed\": 1},\n"
                              "  \"2\": {\"n_samples\": 0, \"n_failed\": 1}\n}\n");
    free(text);

    assert_int_equal(aggregate_save(f->st, 999, 1, -1, NULL, &f->err), SWEEP_ENOTFOUND);
    assert_int_equal(store_aggregate_get(f->st, 999, &text, &at, &f->err),
                     SWEEP_ENOTFOUND);
}

/* Repetitions that gave identical values are found and named (a task that ignores its
 * seed); a point with spread, one sample, or only failures is not counted. */
static void test_copies(void **state)
{
    struct fixture *f = *state;
    static const double same[] = {0.25, 0.25, 0.25}, spread[] = {1, 1, 2};
    struct aggregate ag;
    const char *by[] = {"n"};
    size_t first = 99;
    char *note;

    add_samples(f, "{\"n\":10}", "df", spread, 3);
    add_samples(f, "{\"n\":20}", "df", same, 3);
    add_samples(f, "{\"n\":30}", "df", same, 1);
    add(f, "{\"n\":40}", TASK_FAILED, NULL);
    add(f, "{\"n\":40}", TASK_FAILED, NULL);
    assert_int_equal(aggregate_study(f->st, f->study, by, 1, NULL, 0, &ag, &f->err), 0);
    assert_int_equal(aggregate_copies(&ag, &first), 1);
    assert_int_equal(first, 1);
    note = aggregate_copies_note(&ag);
    assert_non_null(note);
    assert_non_null(strstr(note, "1 of 4 points"));
    assert_non_null(strstr(note, "n=20: 3 samples"));
    free(note);
    aggregate_fini(&ag);

    assert_int_equal(aggregate_save(f->st, f->study, f->gen, -1, &note, &f->err), 0);
    assert_non_null(note);
    free(note);
}

/* Power-law fits across the last grouping parameter, one per run of the others: for
 * L = 8 two repetitions x^2 * 0.9 and x^2 * 1.1 at x = 1, 2, 4 (mean x^2, stderr 0.1
 * x^2, so sigma = 0.1 everywhere: w = 100, S = 300, Su = 300 ln2, Suu = 500 ln2^2, D =
 * 60000 ln2^2, var(b) = S / D = 0.005 / ln2^2); for L = 16 one task each, 3 sqrt(x)
 * exactly (no stderr: unweighted, exponent 0.5, prefactor 3, no scatter). */
static void test_fit_power(void **state)
{
    struct fixture *f = *state;
    const char *const by[] = {"L", "x"}, *const metrics[] = {"m"}, *const bys[] = {"s"};
    struct aggregate ag;
    struct fit_power fit;
    char p[96], m[64];
    int seed = 0;
    json_t *j;

    for (int x = 1; x <= 4; x *= 2) {
        for (int r = 0; r < 2; r++) {
            snprintf(p, sizeof(p), "{\"L\":8,\"x\":%d,\"s\":\"a\",\"seed\":%d}", x,
                     ++seed);
            snprintf(m, sizeof(m), "{\"m\":%.17g}", x * x * (r ? 1.1 : 0.9));
            add(f, p, TASK_SUCCEEDED, m);
        }
        snprintf(p, sizeof(p), "{\"L\":16,\"x\":%d,\"s\":\"b\",\"seed\":%d}", x,
                 ++seed);
        snprintf(m, sizeof(m), "{\"m\":%.17g}", 3 * sqrt(x));
        add(f, p, TASK_SUCCEEDED, m);
    }
    assert_int_equal(aggregate_study(f->st, f->study, by, 2, metrics, 1, &ag, &f->err),
                     0);
    assert_int_equal(ag.ngroups, 6);
    assert_int_equal(aggregate_series_end(&ag, 0), 3);
    assert_int_equal(aggregate_series_end(&ag, 3), 6);
    assert_int_equal(aggregate_fit_power(&ag, 0, 0, 3, &fit, &f->err), 0);
    assert_true(fit.weighted);
    assert_int_equal(fit.n_points, 3);
    assert_true(fabs(fit.exponent - 2) < 1e-12);
    assert_true(fabs(fit.prefactor - 1) < 1e-12);
    assert_true(fabs(fit.exponent_stderr - sqrt(0.005) / log(2)) < 1e-12);
    j = aggregate_fit_json(&ag, 0, 0, &fit);
    assert_int_equal(json_integer_value(json_object_get(j, "n_points")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "x")), "x");
    assert_string_equal(json_string_value(json_object_get(j, "metric")), "m");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "params"), "L")), 8);
    assert_true(fabs(json_real_value(json_object_get(j, "exponent")) - 2) < 1e-12);
    json_decref(j);
    assert_int_equal(aggregate_fit_power(&ag, 0, 3, 6, &fit, &f->err), 0);
    assert_false(fit.weighted);
    assert_true(fabs(fit.exponent - 0.5) < 1e-12);
    assert_true(fabs(fit.prefactor - 3) < 1e-12);
    assert_true(fit.exponent_stderr < 1e-6);
    aggregate_fini(&ag);

    /* A string x cannot be fitted against. */
    assert_int_equal(aggregate_study(f->st, f->study, bys, 1, metrics, 1, &ag, &f->err),
                     0);
    assert_int_equal(aggregate_fit_power(&ag, 0, 0, ag.ngroups, &fit, &f->err),
                     SWEEP_EINVAL);
    assert_non_null(strstr(f->err.msg, "\"s\" must be numeric"));
    aggregate_fini(&ag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_add),
        cmocka_unit_test_setup_teardown(test_group_mixed_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_grouping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_by_varying_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chosen_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_to_json_by_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_to_json_by_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_without_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fit_power, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
