/* Unit tests of the time-left estimate (src/core/eta.c): the formula on hand-made task
 * lists with the expected seconds worked out by hand in each row, the slots read from a
 * stored spec, and eta_study() on a real store (three finished tasks, one running, two
 * pending) and on an unknown study. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/eta.h"
#include "core/runner.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1000.0

/* One task: state, cpus, wall (finished) or start time (running). */
struct t {
    enum task_state state;
    int cpus;
    double wall, started_at;
};

static const struct {
    const char *name;
    int slots;
    struct t tasks[8];
    int n;
    double want;
} cases[] = {
    {"empty study", 4, {{0}}, 0, 0},
    {"nothing finished yet", 2, {{TASK_PENDING, 1, 0, 0}}, 1, ETA_UNKNOWN},
    {"only running, nothing finished", 2, {{TASK_RUNNING, 1, 0, 990}}, 1, ETA_UNKNOWN},
    {"all finished", 2, {{TASK_SUCCEEDED, 1, 10, 0}, {TASK_FAILED, 1, 30, 0}}, 2, 0},
    {"cancelled tasks are not left",
     2,
     {{TASK_SUCCEEDED, 1, 10, 0}, {TASK_CANCELLED, 1, 0, 0}},
     2,
     0},
    /* mean 20; 4 pending * 20 / 2 slots = 40 */
    {"one cpu each",
     2,
     {{TASK_SUCCEEDED, 1, 10, 0},
      {TASK_TIMED_OUT, 1, 30, 0},
      {TASK_PENDING, 1, 0, 0},
      {TASK_PENDING, 1, 0, 0},
      {TASK_INTERRUPTED, 1, 0, 0},
      {TASK_PENDING, 1, 0, 0}},
     6,
     40},
    /* mean 10; cpus 2 + 4 = 6; 60 / 4 slots = 15 */
    {"cpus weigh the work",
     4,
     {{TASK_SUCCEEDED, 1, 10, 0}, {TASK_PENDING, 2, 0, 0}, {TASK_PENDING, 4, 0, 0}},
     3,
     15},
    /* cpus 8 count as the 4 slots: mean 10 * (4 + 4) / 4 = 20 */
    {"cpus beyond the slots count as the slots",
     4,
     {{TASK_SUCCEEDED, 1, 10, 0}, {TASK_PENDING, 8, 0, 0}, {TASK_PENDING, 8, 0, 0}},
     3,
     20},
    /* cpus 0 counts as 1: mean 12 * 2 / 1 = 24 */
    {"cpus 0 counts as one",
     1,
     {{TASK_SUCCEEDED, 1, 12, 0}, {TASK_PENDING, 0, 0, 0}, {TASK_PENDING, 1, 0, 0}},
     3,
     24},
    /* mean 30; running: 2 * 30 - (20 + 5) = 35; pending 30; (35 + 30) / 2 = 32.5 */
    {"elapsed time of running tasks is taken off",
     2,
     {{TASK_SUCCEEDED, 1, 30, 0},
      {TASK_RUNNING, 1, 0, NOW - 20},
      {TASK_RUNNING, 1, 0, NOW - 5},
      {TASK_PENDING, 1, 0, 0}},
     4,
     32.5},
    /* mean 10; running for 50 s already: 10 - 50 < 0 counts 0 */
    {"a running task past the mean counts zero",
     1,
     {{TASK_SUCCEEDED, 1, 10, 0}, {TASK_RUNNING, 1, 0, NOW - 50}},
     2,
     0},
    /* mean 10; running 2 cpus for 5 s: 2 * 10 - 10 = 10; / 4 slots = 2.5 */
    {"running multi-cpu task",
     4,
     {{TASK_SUCCEEDED, 2, 10, 0}, {TASK_RUNNING, 2, 0, NOW - 5}},
     2,
     2.5},
    /* mean 40; one pending on 8 slots: 40 / 8 = 5, but the task itself takes 40 */
    {"the last task takes at least the mean",
     8,
     {{TASK_SUCCEEDED, 1, 40, 0}, {TASK_PENDING, 1, 0, 0}},
     2,
     40},
    /* slots 0 counts as 1: mean 5 * 2 = 10 */
    {"slots 0 counts as one",
     0,
     {{TASK_SUCCEEDED, 1, 5, 0}, {TASK_PENDING, 1, 0, 0}, {TASK_PENDING, 1, 0, 0}},
     3,
     10},
    /* a running task without a start time takes nothing off: 10 * 1 / 1 = 10 */
    {"running without a start time",
     1,
     {{TASK_SUCCEEDED, 1, 10, 0}, {TASK_RUNNING, 1, 0, 0}},
     2,
     10},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct eta_sums s;
        double got;

        eta_sums_init(&s, cases[i].slots);
        for (int k = 0; k < cases[i].n; k++) {
            struct store_task t = {
                .state = cases[i].tasks[k].state,
                .cpus = cases[i].tasks[k].cpus,
                .wall = cases[i].tasks[k].wall,
                .started_at = cases[i].tasks[k].started_at,
            };
            eta_sums_add(&s, &t, NOW);
        }
        got = eta_estimate(&s);
        if (got < cases[i].want - 1e-9 || got > cases[i].want + 1e-9)
            fail_msg("%s: got %g, expected %g", cases[i].name, got, cases[i].want);
    }
}

static void test_slots(void **state)
{
    static const struct {
        const char *spec_json;
        int want; /* 0: the number of cpus */
    } rows[] = {
        {"{\"study\":\"a\",\"max_parallel\":3}", 3},
        {"{\"study\":\"a\"}", 0},
        {"{\"max_parallel\":0}", 0},
        {"{\"max_parallel\":-2}", 0},
        {"{\"max_parallel\":\"4\"}", 0},
        {"not json", 0},
        {NULL, 0},
    };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct store_study s = {.spec_json = (char *)rows[i].spec_json};
        int want = rows[i].want ? rows[i].want : (ncpu > 0 ? (int)ncpu : 1);
        assert_int_equal(eta_study_slots(&s), want);
    }
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void put_task(struct store *st, long long id, long long gen, int seq)
{
    struct expand_task t = {.params_json = "{}", .seq = seq};
    struct err err = {0};

    snprintf(t.key, sizeof(t.key), "%016d", seq);
    assert_int_equal(store_task_put(st, id, gen, &t, 1, &err), 0);
}

/* Three tasks finish in 10, 20 and 30 s; one runs since 5 s; two wait; 2 slots:
 * mean 20; running 20 - 5 = 15; pending 2 * 20 = 40; (15 + 40) / 2 = 27.5. */
static void test_study(void **state)
{
    char dir[] = "/tmp/sweep-test-eta-XXXXXX";
    struct store *st = NULL;
    struct store_study s = {0};
    struct err err = {0};
    long long id, gen;
    double eta = -3;
    int lock = -1;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_open(dir, &st, &err), 0);
    assert_int_equal(store_study_put(st, "s", NULL, "s.yaml",
                                     "{\"study\":\"s\",\"max_parallel\":2}", &id, &gen,
                                     &err),
                     0);
    for (int i = 0; i < 6; i++)
        put_task(st, id, gen, i);
    for (int i = 0; i < 4; i++) {
        char key[EXPAND_KEY_LEN + 1];
        struct store_task t = {0};
        snprintf(key, sizeof(key), "%016d", i);
        assert_int_equal(store_task_find(st, id, key, &t, &err), 0);
        assert_int_equal(store_task_started(st, t.id, 1, 100.0 + i, &err), 0);
        if (i < 3) {
            struct task_outcome o = {.state = TASK_SUCCEEDED,
                                     .started_at = 100,
                                     .finished_at = 100 + 10.0 * (i + 1),
                                     .wall = 10.0 * (i + 1)};
            assert_int_equal(store_task_finished(st, t.id, 1, &o, &err), 0);
        }
        store_task_fini(&t);
    }
    assert_int_equal(store_study_get(st, "s", &s, &err), 0);
    /* No sweep process runs it: tasks are left, yet no time left to show. */
    assert_int_equal(eta_study(st, &s, 103.0 + 5.0, &eta, &err), 0);
    assert_true(eta == ETA_IDLE);
    /* While a run holds the study's lock. */
    assert_int_equal(runner_lock(dir, "s", &lock, &err), 0);
    assert_int_equal(eta_study(st, &s, 103.0 + 5.0, &eta, &err), 0);
    assert_true(eta > 27.5 - 1e-9 && eta < 27.5 + 1e-9);
    close(lock);

    s.id = 9999; /* failure path: an unknown study */
    assert_int_equal(eta_study(st, &s, 0, &eta, &err), SWEEP_ENOTFOUND);
    store_study_fini(&s);
    store_close(st);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_study),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
