/* Unit tests of the local executor behind executor.h (src/core/executor_local.c): the
 * outcome of an attempt carries its $SWEEP_RESULT (read by the executor), a result
 * that is not a JSON object is an error text, cancel stops a task with SIGTERM (and
 * now with SIGKILL), a spawn failure is an error at submit with no outcome later, and
 * the handle is the task's pid. exec.c itself is tested in test_exec.c. Waits have a
 * generous deadline only to turn a hang into a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/timeutil.h"
#include "core/executor.h"

#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEADLINE 20.0 /* seconds */

struct fixture {
    char dir[PATH_MAX];
    char result[PATH_MAX + 16];
    struct executor *ex;
    int n;
    struct executor_outcome last;
    char metrics[256], error[512];
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct err err = {0};

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/sweep-test-executor-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->result, sizeof(f->result), "%s/result.json", f->dir);
    if (executor_local_create(&f->ex, &err) != 0) {
        fprintf(stderr, "executor_local_create: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    executor_destroy(f->ex);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void on_done(const struct executor_outcome *o, void *arg)
{
    struct fixture *f = arg;

    f->n++;
    f->last = *o;
    snprintf(f->metrics, sizeof(f->metrics), "%s", o->metrics ? o->metrics : "(null)");
    snprintf(f->error, sizeof(f->error), "%s", o->error ? o->error : "(null)");
    f->last.metrics = f->last.error = NULL;
}

/* Runs `sh -c script` with $SWEEP_RESULT set; returns its handle. */
static struct executor_handle submit(struct fixture *f, const char *script, int *ctx)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    char env_result[PATH_MAX + 32];
    char *envp[] = {"PATH=/usr/bin:/bin", env_result, NULL};
    struct executor_attempt a = {.argv = argv,
                                 .envp = envp,
                                 .cwd = f->dir,
                                 .result_path = f->result,
                                 .kill_after = 3600, /* longer than DEADLINE */
                                 .cpus = 1,
                                 .ctx = ctx};
    struct executor_handle h = {0};
    struct err err = {0};

    snprintf(env_result, sizeof(env_result), "SWEEP_RESULT=%s", f->result);
    assert_int_equal(executor_submit(f->ex, &a, &h, &err), 0);
    return h;
}

/* Dispatches until `n` attempts have ended. */
static void wait_ended(struct fixture *f, int n)
{
    double until = time_mono() + DEADLINE;
    struct err err = {0};

    while (f->n < n && time_mono() < until)
        assert_true(executor_dispatch(f->ex, 100, on_done, f, NULL, &err) >= 0);
    assert_int_equal(f->n, n);
}

static void test_result_read(void **state)
{
    struct fixture *f = *state;
    int ctx;
    struct executor_handle h =
        submit(f, "printf '{\"b\": 2, \"a\": 1}' >\"$SWEEP_RESULT\"", &ctx);

    assert_true(h.id != 0);
    assert_int_equal((pid_t)h.id, h.pid);
    wait_ended(f, 1);
    assert_ptr_equal(f->last.ctx, &ctx);
    assert_int_equal(f->last.id, h.id);
    assert_true(f->last.exited);
    assert_int_equal(f->last.exit_code, 0);
    assert_string_equal(f->metrics, "{\"a\":1,\"b\":2}"); /* canonical */
    assert_string_equal(f->error, "(null)");
}

static void test_no_result(void **state)
{
    struct fixture *f = *state;

    submit(f, "exit 3", NULL);
    wait_ended(f, 1);
    assert_int_equal(f->last.exit_code, 3);
    assert_string_equal(f->metrics, "(null)");
    assert_string_equal(f->error, "(null)"); /* no file is not an error */
}

static void test_bad_result(void **state)
{
    struct fixture *f = *state;

    submit(f, "echo '[1, 2]' >\"$SWEEP_RESULT\"", NULL);
    wait_ended(f, 1);
    assert_string_equal(f->metrics, "(null)");
    assert_non_null(strstr(f->error, "result must be a JSON object"));
}

static void test_cancel(void **state)
{
    struct fixture *f = *state;
    struct executor_handle a = submit(f, "sleep 30", NULL);
    struct executor_handle b = submit(f, "trap '' TERM; sleep 30", NULL);
    struct err err = {0};

    executor_cancel(f->ex, a.id, false);
    wait_ended(f, 1);
    assert_int_equal(f->last.id, a.id);
    assert_int_equal(f->last.signal, SIGTERM);
    assert_false(f->last.timed_out);
    executor_cancel(f->ex, b.id, true); /* ignores SIGTERM: killed now */
    wait_ended(f, 2);
    assert_int_equal(f->last.id, b.id);
    assert_int_equal(f->last.signal, SIGKILL);
    executor_cancel(f->ex, b.id, true); /* no longer running: ignored */
    assert_int_equal(executor_dispatch(f->ex, 0, on_done, f, NULL, &err), 0);
}

static void test_spawn_error(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"/nonexistent/program", NULL};
    char *envp[] = {NULL};
    struct executor_attempt a = {.argv = argv, .envp = envp, .cwd = f->dir};
    struct executor_handle h = {0};
    struct err err = {0};

    assert_int_equal(executor_submit(f->ex, &a, &h, &err), SWEEP_ESPAWN);
    assert_non_null(strstr(err.msg, "/nonexistent/program"));
    assert_int_equal(executor_dispatch(f->ex, 50, on_done, f, NULL, &err), 0);
    assert_int_equal(f->n, 0);
    assert_true(executor_fd(f->ex) >= 0); /* the pool's epoll set */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_result_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spawn_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
