/* Unit tests of src/core/sched.c: priority order, backoff schedule, retry policy, rate
 * limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/sched.h"

#include <signal.h>

static void test_heap_priority_then_seq(void **state)
{
    struct sched_heap h = {0};
    struct sched_item it = {0};
    /* (priority, seq) pushed out of order; expected pop order below. */
    static const int in[][2] = {{1, 0}, {3, 5}, {2, 1}, {3, 2}, {1, 9}, {2, 0}, {5, 7}};
    static const int want[][2] = {{5, 7}, {3, 2}, {3, 5}, {2, 0},
                                  {2, 1}, {1, 0}, {1, 9}};
    (void)state;

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        it.priority = in[i][0];
        it.seq = in[i][1];
        sched_heap_push(&h, &it);
    }
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_true(sched_heap_pop(&h, &it));
        assert_int_equal(it.priority, want[i][0]);
        assert_int_equal(it.seq, want[i][1]);
    }
    assert_false(sched_heap_pop(&h, &it));
    sched_heap_fini(&h);
}

static void test_heap_by_time_many(void **state)
{
    struct sched_heap h = {.by_time = true};
    struct sched_item it = {0};
    double last = -1;
    (void)state;

    for (int i = 0; i < 1000; i++) {
        it.not_before = (double)((i * 7919) % 1000);
        it.seq = i;
        sched_heap_push(&h, &it);
    }
    for (int i = 0; i < 1000; i++) {
        assert_true(sched_heap_pop(&h, &it));
        assert_true(it.not_before >= last);
        last = it.not_before;
    }
    sched_heap_fini(&h);
}

static void test_backoff_schedule(void **state)
{
    struct spec_retry r = {.max = 10, .backoff = 1.0, .backoff_max = 10.0};
    /* retry n: base = min(10, 2^(n-1)); equal jitter puts it in [base/2, base). */
    static const double base[] = {1, 2, 4, 8, 10, 10, 10};
    (void)state;

    for (int n = 1; n <= 7; n++) {
        double lo = sched_backoff(&r, n, 0.0), hi = sched_backoff(&r, n, 0.999999);
        assert_true(lo == base[n - 1] / 2);
        assert_true(hi < base[n - 1] && hi > base[n - 1] * 0.99);
    }
    /* Huge retry numbers do not overflow. */
    assert_true(sched_backoff(&r, 100000, 0.5) <= 10.0);
}

static void test_should_retry(void **state)
{
    int codes[] = {75};
    struct spec_retry all = {
        .max = 2, .on = RETRY_ON_TIMEOUT | RETRY_ON_SIGNAL | RETRY_ON_NONZERO};
    struct spec_retry only75 = {.max = 2, .on = 0, .nexit = 1, .exit_codes = codes};
    struct spec_retry timeouts = {.max = 1, .on = RETRY_ON_TIMEOUT};
    static const struct {
        int which; /* 0 all, 1 only75, 2 timeouts */
        int attempts;
        enum task_state st;
        int code, sig;
        bool want;
    } cases[] = {
        {0, 1, TASK_FAILED, 1, 0, true},        {0, 2, TASK_FAILED, 1, 0, true},
        {0, 3, TASK_FAILED, 1, 0, false},       {0, 1, TASK_TIMED_OUT, -1, 15, true},
        {0, 1, TASK_FAILED, -1, SIGSEGV, true}, {0, 1, TASK_CANCELLED, -1, 15, false},
        {1, 1, TASK_FAILED, 75, 0, true},       {1, 1, TASK_FAILED, 1, 0, false},
        {1, 1, TASK_TIMED_OUT, -1, 15, false},  {1, 1, TASK_FAILED, -1, SIGKILL, false},
        {2, 1, TASK_TIMED_OUT, -1, 15, true},   {2, 2, TASK_TIMED_OUT, -1, 15, false},
        {2, 1, TASK_FAILED, 3, 0, false},
    };
    const struct spec_retry *pol[] = {&all, &only75, &timeouts};
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = sched_should_retry(pol[cases[i].which], cases[i].attempts,
                                      cases[i].st, cases[i].code, cases[i].sig);
        if (got != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
    }
}

static void test_ratelimit_even_spacing(void **state)
{
    struct ratelimit rl;
    int started = 0;
    (void)state;

    /* 10 per minute: over 60 simulated seconds, at most 10 starts (+1 at t=0 edge). */
    ratelimit_init(&rl, 10.0 / 60.0);
    for (double t = 100.0; t < 160.0; t += 0.5) {
        if (ratelimit_take(&rl, t) == 0)
            started++;
    }
    assert_int_equal(started, 10);
    /* A refused take says how long to wait. */
    ratelimit_init(&rl, 2.0);
    assert_true(ratelimit_take(&rl, 5.0) == 0);
    assert_true(ratelimit_take(&rl, 5.1) > 0.39 && ratelimit_take(&rl, 5.1) < 0.41);
    assert_true(ratelimit_take(&rl, 5.5) == 0);
    /* Unlimited. */
    ratelimit_init(&rl, 0);
    for (int i = 0; i < 100; i++)
        assert_true(ratelimit_take(&rl, 1.0) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_priority_then_seq),
        cmocka_unit_test(test_heap_by_time_many),
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_should_retry),
        cmocka_unit_test(test_ratelimit_even_spacing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
