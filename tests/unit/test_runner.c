/* Unit tests of the runner (src/core/runner.c) through a fake executor with virtual
 * time (fake_executor.h): nothing is spawned, and the test decides when each attempt
 * ends and how. Each test stores a study from a YAML spec in its own mkdtemp() home,
 * runs it with runner_run, and checks the order and times of the attempts the fake
 * saw and the states the store holds: priorities, slots and cpus, retries with their
 * backoff, timeouts, the rate limit, cancellation, SIGINT, `after` and pipelines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/engine.h"
#include "core/runner.h"
#include "core/spec.h"
#include "common/timeutil.h"
#include "core/store.h"
#include "fake_executor.h"

#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
    char dir[64];
    char home[128];
    struct store *st;
    struct err err;
    /* the last run */
    struct spec *spec;
    long long study_id, generation;
    struct fake_executor *fake;
    struct runner_summary sum;
    int rc;
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
    snprintf(f->dir, sizeof(f->dir), "/tmp/sweep-test-runner-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->home, sizeof(f->home), "%s/home", f->dir);
    if (store_open(f->home, &f->st, &f->err) != 0) {
        fprintf(stderr, "store_open: %s\n", f->err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    spec_destroy(f->spec);
    fake_executor_destroy(f->fake);
    store_close(f->st);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Stores the study of `yaml` (f->spec, f->study_id) and makes the fake with `plan`. */
static void prepare(struct fixture *f, const char *yaml, fake_plan_fn *plan, void *arg)
{
    char path[256];
    uint64_t n = 0;

    snprintf(path, sizeof(path), "%s/spec.yaml", f->dir);
    spec_destroy(f->spec);
    f->spec = NULL;
    if (spec_parse(path, yaml, strlen(yaml), &f->spec, &f->err) != 0)
        fail_msg("spec: %s", f->err.msg);
    if (runner_prepare(f->st, f->spec, NULL, NULL, &f->study_id, &f->generation, &n,
                       &f->err) != 0)
        fail_msg("prepare: %s", f->err.msg);
    fake_executor_destroy(f->fake);
    f->fake = fake_executor_create(plan, arg);
}

/* Runs the prepared study through the fake; opts may be NULL. */
static void run(struct fixture *f, struct runner_opts *opts)
{
    struct runner_opts o = {0};

    if (opts)
        o = *opts;
    o.self_path = "/nonexistent/sweep";
    o.executor = fake_executor_get(f->fake);
    o.clock = fake_executor_clock(f->fake);
    f->rc =
        runner_run(f->st, f->spec, f->study_id, f->generation, &o, &f->sum, &f->err);
    if (f->rc != 0)
        fail_msg("runner_run: %s", f->err.msg);
}

static const struct fake_attempt *att(struct fixture *f, size_t i)
{
    const struct fake_attempt *a = fake_executor_attempt(f->fake, i);
    assert_non_null(a);
    return a;
}

/* The first attempt whose last argument is `name` (and of step `step` if not NULL). */
static const struct fake_attempt *
att_of(struct fixture *f, const char *name, const char *step, int attempt)
{
    for (size_t i = 0; i < fake_executor_count(f->fake); i++) {
        const struct fake_attempt *a = att(f, i);
        if (strcmp(a->argv_last, name) == 0 && (!step || strcmp(a->step, step) == 0) &&
            a->attempt == attempt)
            return a;
    }
    return NULL;
}

/* The stored state of the task whose params contain `needle`. */
struct find {
    const char *needle;
    int step;
    struct store_task t;
    int n;
};

static int find_task(const struct store_task *t, void *arg)
{
    struct find *q = arg;

    if (strstr(t->params_json, q->needle) && (q->step < 0 || t->step == q->step)) {
        q->n++;
        q->t = *t;
        q->t.params_json = strdup(t->params_json);
        q->t.error = t->error ? strdup(t->error) : NULL;
        q->t.metrics_json = t->metrics_json ? strdup(t->metrics_json) : NULL;
    }
    return 0;
}

static enum task_state
task_state(struct fixture *f, const char *needle, int step, struct store_task *out)
{
    struct find q = {.needle = needle, .step = step};
    enum task_state s;

    assert_int_equal(store_task_each(f->st, f->study_id, -1, find_task, &q, &f->err),
                     0);
    assert_int_equal(q.n, 1);
    s = q.t.state;
    if (out)
        *out = q.t;
    else
        store_task_fini(&q.t);
    return s;
}

static long long count(struct fixture *f, enum task_state s)
{
    long long n = 0;
    for (int b = 0; b < 3; b++)
        n += f->sum.counts[b][s];
    return n;
}

/* ---- plans ---- */

/* Every attempt takes 1 s and succeeds. */
static void plan_ok(void *arg, struct fake_attempt *a)
{
    (void)arg;
    a->duration = 1.0;
}

/* ---- priorities and slots ---- */

/* HIGH before MEDIUM before LOW (and an integer above HIGH first), one at a time: each
 * starts when the one before has ended. */
static void test_priority_order(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = {"top", "high", "mid", "low", "low2"};

    prepare(f,
            "study: prio\n"
            "command: [sim, '{name}']\n"
            "max_parallel: 1\n"
            "tasks:\n"
            "  - {name: low, priority: LOW}\n"
            "  - {name: high, priority: HIGH}\n"
            "  - {name: mid}\n"
            "  - {name: low2, priority: LOW}\n"
            "  - {name: top, priority: 10}\n",
            plan_ok, NULL);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(att(f, i)->argv_last, want[i]);
        if (i > 0)
            assert_true(att(f, i)->submitted >= att(f, i - 1)->ended);
    }
    assert_int_equal(fake_executor_max_running(f->fake), 1);
    assert_int_equal(f->sum.end, RUNNER_FINISHED);
    assert_int_equal(f->sum.status, STUDY_COMPLETED);
    assert_int_equal(count(f, TASK_SUCCEEDED), 5);
    assert_int_equal(f->sum.attempts, 5);
}

/* With --priority, only that band runs. */
static void test_priority_band(void **state)
{
    struct fixture *f = *state;
    struct runner_opts o = {.band = PRIORITY_HIGH};

    prepare(f,
            "study: band\n"
            "command: [sim, '{name}']\n"
            "tasks:\n"
            "  - {name: low, priority: LOW}\n"
            "  - {name: high, priority: HIGH}\n"
            "  - {name: high2, priority: HIGH}\n",
            plan_ok, NULL);
    run(f, &o);
    assert_int_equal(fake_executor_count(f->fake), 2);
    assert_string_equal(att(f, 0)->argv_last, "high");
    assert_string_equal(att(f, 1)->argv_last, "high2");
    assert_int_equal(task_state(f, "\"low\"", -1, NULL), TASK_PENDING);
}

/* 4 slots, tasks of 2 cpus: two at a time, never more than 4 cpus; all start at once
 * when the slots allow. */
static void test_slots_cpus(void **state)
{
    struct fixture *f = *state;

    prepare(f,
            "study: slots\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: {range: [1, 6]}}\n"
            "max_parallel: 4\n"
            "cpus: 2\n",
            plan_ok, NULL);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 6);
    assert_int_equal(fake_executor_max_cpus(f->fake), 4);
    assert_int_equal(fake_executor_max_running(f->fake), 2);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(att(f, i)->cpus, 2);
        /* pairs: 0-1 at 0 s, 2-3 at 1 s, 4-5 at 2 s */
        assert_true(fabs(att(f, i)->submitted - (double)(i / 2)) < 1e-6);
    }
    assert_int_equal(count(f, TASK_SUCCEEDED), 6);
}

/* A task wider than every slot runs alone, with all the slots. */
static void test_wide_task_runs_alone(void **state)
{
    struct fixture *f = *state;

    prepare(f,
            "study: wide\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: [1, 2, 3]}\n"
            "max_parallel: 3\n"
            "cpus: 8\n",
            plan_ok, NULL);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 3);
    assert_int_equal(fake_executor_max_running(f->fake), 1);
    assert_int_equal(att(f, 0)->cpus, 3);
    assert_int_equal(count(f, TASK_SUCCEEDED), 3);
}

/* ---- retries, timeouts, outcomes ---- */

/* Fails (exit 3) on attempts 1 and 2, succeeds on the 3rd. */
static void plan_third_time(void *arg, struct fake_attempt *a)
{
    (void)arg;
    a->duration = 2.0;
    a->exit_code = a->attempt < 3 ? 3 : 0;
    if (a->attempt == 3)
        a->metrics = strdup("{\"value\":42}");
}

/* Each retry waits for its backoff in virtual time (backoff 10 s doubling, equal
 * jitter: 5-10 s before the 2nd attempt, 10-20 s before the 3rd), then succeeds. */
static void test_retry_backoff(void **state)
{
    struct fixture *f = *state;
    struct store_task t;
    const struct fake_attempt *a1, *a2, *a3;

    prepare(f,
            "study: retry\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: [1]}\n"
            "retries: {max: 3, backoff: 10s}\n",
            plan_third_time, NULL);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 3);
    a1 = att(f, 0), a2 = att(f, 1), a3 = att(f, 2);
    assert_int_equal(a1->attempt, 1);
    assert_int_equal(a2->attempt, 2);
    assert_int_equal(a3->attempt, 3);
    assert_true(a2->submitted >= a1->ended + 5.0 - 1e-6);
    assert_true(a2->submitted <= a1->ended + 10.0 + 0.01);
    assert_true(a3->submitted >= a2->ended + 10.0 - 1e-6);
    assert_true(a3->submitted <= a2->ended + 20.0 + 0.01);
    assert_int_equal(task_state(f, "\"x\"", -1, &t), TASK_SUCCEEDED);
    assert_int_equal(t.attempts, 3);
    assert_string_equal(t.metrics_json, "{\"value\":42}");
    /* times are the virtual clock's */
    assert_true(fabs(t.finished_at - (FAKE_EPOCH + a3->ended)) < 1e-3);
    store_task_fini(&t);
    assert_int_equal(f->sum.attempts, 3);
    assert_int_equal(f->sum.status, STUDY_COMPLETED);
}

/* Always fails: retried `max` times, then failed; the study failed. */
static void plan_fail(void *arg, struct fake_attempt *a)
{
    (void)arg;
    a->exit_code = 1;
}

static void test_retry_exhausted(void **state)
{
    struct fixture *f = *state;
    struct store_task t;

    prepare(f,
            "study: exhausted\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: [1]}\n"
            "retries: {max: 1, backoff: 1s}\n",
            plan_fail, NULL);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 2);
    assert_int_equal(task_state(f, "\"x\"", -1, &t), TASK_FAILED);
    assert_string_equal(t.error, "exit code 1");
    store_task_fini(&t);
    assert_int_equal(f->sum.status, STUDY_FAILED);
}

/* Hangs: ended at its timeout by the executor, recorded timed out, not retried when
 * retries are only on a nonzero exit. */
static void plan_hang(void *arg, struct fake_attempt *a)
{
    (void)arg;
    a->hang = true;
}

static void test_timeout(void **state)
{
    struct fixture *f = *state;
    struct store_task t;

    prepare(f,
            "study: slow\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: [1]}\n"
            "timeout: 5s\n"
            "retries: {max: 2, on: [nonzero]}\n",
            plan_hang, NULL);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 1);
    assert_true(att(f, 0)->timed_out);
    assert_true(fabs(att(f, 0)->ended - 5.0) < 1e-6);
    assert_int_equal(task_state(f, "\"x\"", -1, &t), TASK_TIMED_OUT);
    assert_string_equal(t.error, "timed out after 5.00s");
    store_task_fini(&t);
}

/* A result the executor could not read fails a task that exited 0. */
static void plan_bad_result(void *arg, struct fake_attempt *a)
{
    (void)arg;
    a->error = strdup("result.json:1:1: result must be a JSON object");
}

static void test_result_error(void **state)
{
    struct fixture *f = *state;
    struct store_task t;

    prepare(f, "study: bad\ncommand: [sim, '{x}']\nparameters: {x: [1]}\n",
            plan_bad_result, NULL);
    run(f, NULL);
    assert_int_equal(task_state(f, "\"x\"", -1, &t), TASK_FAILED);
    assert_string_equal(t.error, "result.json:1:1: result must be a JSON object");
    store_task_fini(&t);
}

/* --stop-on-error --halt now: the first failure cancels the others now running. */
static void plan_first_fails(void *arg, struct fake_attempt *a)
{
    (void)arg;
    if (strcmp(a->argv_last, "1") == 0) {
        a->duration = 1.0;
        a->exit_code = 2;
    } else {
        a->hang = true;
    }
}

static void test_halt_now(void **state)
{
    struct fixture *f = *state;
    struct runner_opts o = {.stop_on_error = true, .halt_now = true};

    prepare(f,
            "study: halt\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: [1, 2, 3, 4]}\n"
            "max_parallel: 2\n",
            plan_first_fails, NULL);
    run(f, &o);
    assert_int_equal(f->sum.end, RUNNER_STOPPED);
    assert_int_equal(fake_executor_count(f->fake), 2); /* 3 and 4 never start */
    assert_true(att(f, 1)->cancelled);
    assert_int_equal(task_state(f, "\"x\":2", -1, NULL), TASK_CANCELLED);
    assert_int_equal(task_state(f, "\"x\":3", -1, NULL), TASK_PENDING);
}

/* ---- rate limit ---- */

static void plan_short(void *arg, struct fake_attempt *a)
{
    (void)arg;
    a->duration = 0.01;
}

/* A rate limit that would allow more starts than the slots do: the runner waits for
 * the ends (the fake fails a runner that spins, waking with nothing to do). */
static void test_rate_limit_slots_full(void **state)
{
    struct fixture *f = *state;

    prepare(f,
            "study: rlfull\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: {range: [1, 4]}}\n"
            "rate_limit: 50/s\nmax_parallel: 1\n",
            plan_ok, NULL);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 4);
    for (size_t i = 1; i < 4; i++)
        assert_true(fabs(att(f, i)->submitted - att(f, i - 1)->ended) < 1e-6);
    assert_int_equal(count(f, TASK_SUCCEEDED), 4);
}

/* 2/s: starts at least 0.5 s apart although the slots would allow all at once. */
static void test_rate_limit(void **state)
{
    struct fixture *f = *state;

    prepare(f,
            "study: rate\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: {range: [1, 6]}}\n"
            "max_parallel: 8\n"
            "rate_limit: 2/s\n",
            plan_short, NULL);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 6);
    for (size_t i = 1; i < 6; i++)
        assert_true(att(f, i)->submitted - att(f, i - 1)->submitted >= 0.5 - 1e-6);
    /* and not much more: the runner wakes up for the next token */
    assert_true(att(f, 5)->submitted <= 2.5 + 0.01);
}

/* ---- cancel and interrupt ---- */

struct cancel_ctx {
    struct fixture *f;
    const char *needle; /* a task to cancel, or NULL for the study */
};

static void cancel_event(void *arg, double now, int *signo)
{
    struct cancel_ctx *c = arg;
    struct fixture *f = c->f;
    long long n = 0;

    (void)now, (void)signo;
    if (c->needle) {
        struct store_task t;
        task_state(f, c->needle, -1, &t);
        assert_int_equal(store_cancel(f->st, f->study_id, t.id, &n, &f->err), 0);
        store_task_fini(&t);
    } else {
        /* as `sweep cancel STUDY` does */
        assert_int_equal(store_cancel(f->st, f->study_id, 0, &n, &f->err), 0);
        assert_int_equal(
            store_study_set_status(f->st, f->study_id, STUDY_CANCELLED, &f->err), 0);
    }
    assert_true(n > 0);
}

/* `sweep cancel` of one running task: its flag in the store reaches the executor as a
 * cancel (within the runner's cancel poll), it is recorded cancelled, the others run
 * on. */
static void plan_x1_hangs(void *arg, struct fake_attempt *a)
{
    (void)arg;
    a->duration = 10.0;
    a->hang = strcmp(a->argv_last, "1") == 0;
}

static void test_cancel_task(void **state)
{
    struct fixture *f = *state;
    struct cancel_ctx c = {.f = f, .needle = "\"x\":1"};
    const struct fake_attempt *a;
    struct store_task t;

    prepare(f,
            "study: canceltask\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: [1, 2]}\n"
            "max_parallel: 2\n",
            plan_x1_hangs, NULL);
    fake_executor_at(f->fake, 3.0, cancel_event, &c);
    run(f, NULL);
    a = att_of(f, "1", NULL, 1);
    assert_non_null(a);
    assert_true(a->cancelled);
    assert_false(a->cancel_now); /* SIGTERM first, with its grace */
    assert_true(a->cancel_at >= 3.0 && a->cancel_at <= 4.0 + 1e-6);
    assert_int_equal(task_state(f, "\"x\":1", -1, &t), TASK_CANCELLED);
    assert_string_equal(t.error, "cancelled by sweep cancel");
    store_task_fini(&t);
    assert_false(att_of(f, "2", NULL, 1)->cancelled);
    assert_int_equal(task_state(f, "\"x\":2", -1, NULL), TASK_SUCCEEDED);
    assert_int_equal(f->sum.end, RUNNER_FINISHED);
}

/* `sweep cancel STUDY`: the running ones are cancelled, the pending ones never start,
 * the run ends cancelled. */
static void test_cancel_study(void **state)
{
    struct fixture *f = *state;
    struct cancel_ctx c = {.f = f};

    prepare(f,
            "study: cancelstudy\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: {range: [1, 5]}}\n"
            "max_parallel: 2\n",
            plan_hang, NULL);
    fake_executor_at(f->fake, 2.0, cancel_event, &c);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 2);
    assert_true(att(f, 0)->cancelled && att(f, 1)->cancelled);
    assert_int_equal(f->sum.end, RUNNER_CANCELLED);
    assert_int_equal(f->sum.status, STUDY_CANCELLED);
    assert_int_equal(count(f, TASK_CANCELLED), 5);
}

static void sigint_event(void *arg, double now, int *signo)
{
    (void)arg, (void)now;
    *signo = SIGINT;
}

/* SIGINT caught by the executor: the running attempts are asked to stop and recorded
 * interrupted (to run again), nothing new starts. */
static void test_interrupt(void **state)
{
    struct fixture *f = *state;

    prepare(f,
            "study: intr\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: {range: [1, 4]}}\n"
            "max_parallel: 2\n",
            plan_hang, NULL);
    fake_executor_at(f->fake, 1.5, sigint_event, NULL);
    run(f, NULL);
    assert_int_equal(f->sum.end, RUNNER_INTERRUPTED);
    assert_int_equal(f->sum.signo, SIGINT);
    assert_int_equal(fake_executor_count(f->fake), 2);
    assert_true(att(f, 0)->cancelled && !att(f, 0)->cancel_now);
    assert_int_equal(count(f, TASK_INTERRUPTED), 2);
    assert_int_equal(count(f, TASK_PENDING), 2);
    assert_int_equal(f->sum.status, STUDY_INTERRUPTED);
}

/* ---- claiming ahead (short tasks) ---- */

struct refill_ctx {
    struct fixture *f;
    double duration; /* of each attempt; 0: 0.01 s */
    int early;       /* submits made before every attempt that had ended was recorded */
    long long most_running; /* the most the store counted as running at a submit */
};

/* At each submit: attempts that have ended (virtual time) against the ends the store
 * has recorded. */
static void plan_refill(void *arg, struct fake_attempt *a)
{
    struct refill_ctx *c = arg;
    struct fake_executor *fake = c->f->fake;
    long long counts[3][TASK_NSTATES] = {{0}}, recorded = 0, ended = 0, running = 0;

    a->duration = c->duration > 0 ? c->duration : 0.01;
    a->exit_code = strcmp(a->argv_last, "13") == 0; /* x = 13 fails */
    for (size_t i = 0; i < fake_executor_count(fake); i++) {
        const struct fake_attempt *e = fake_executor_attempt(fake, i);
        ended += e != a && e->ended >= 0 && e->ended <= fake_executor_now(fake);
    }
    assert_int_equal(store_study_counts(c->f->st, c->f->study_id, counts, &c->f->err),
                     0);
    for (int b = 0; b < 3; b++) {
        recorded += counts[b][TASK_SUCCEEDED] + counts[b][TASK_FAILED];
        running += counts[b][TASK_RUNNING];
    }
    c->early += ended > recorded;
    if (running > c->most_running)
        c->most_running = running;
}

/* With short tasks a slot freed by an end is refilled at once, from the executor's
 * callback, before the end is committed; slots are never exceeded; and a run that
 * stops gives back what it had claimed: those tasks are pending with no attempt. */
static void test_claim_ahead(void **state)
{
    struct fixture *f = *state;
    struct refill_ctx c = {.f = f};
    struct runner_opts o = {.stop_on_error = true};
    struct store_task t;
    long long pending = 0;

    prepare(f,
            "study: claim\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: {range: [1, 40]}}\n"
            "max_parallel: 2\n",
            plan_refill, &c);
    run(f, &o);
    assert_true(c.early > 0);
    assert_int_equal(fake_executor_max_running(f->fake), 2);
    assert_int_equal(f->sum.end, RUNNER_STOPPED);
    assert_int_equal(f->sum.attempts, (long long)fake_executor_count(f->fake));
    for (int x = 1; x <= 40; x++) {
        char needle[32];
        snprintf(needle, sizeof(needle), "\"x\":%d}", x);
        if (task_state(f, needle, -1, &t) == TASK_PENDING) {
            pending++;
            assert_int_equal(t.attempts, 0);
        }
        store_task_fini(&t);
    }
    assert_int_equal(pending, 40 - (long long)fake_executor_count(f->fake));
    assert_int_equal(count(f, TASK_RUNNING), 0);
}

/* Tasks of 50 ms to 1 s are refilled at once too, from at most 2 claimed ahead (the
 * store counts the 2 running slots and 2 claimed ones at most); tasks of a second or
 * more are not claimed ahead: each start waits for the tick, and the store counts as
 * running only what runs. */
static void test_claim_ahead_longer(void **state)
{
    struct fixture *f = *state;
    struct runner_opts o = {0};
    const char *spec = "study: longer\n"
                       "command: [sim, '{x}']\n"
                       "parameters: {x: {range: [1, 20]}}\n"
                       "max_parallel: 2\n";
    struct refill_ctx mid = {.f = f, .duration = 0.2};

    prepare(f, spec, plan_refill, &mid);
    run(f, &o);
    assert_true(mid.early > 0);
    assert_true(mid.most_running <= 2 + 2);
    assert_int_equal(fake_executor_max_running(f->fake), 2);
}

static void test_claim_ahead_none(void **state)
{
    struct fixture *f = *state;
    struct runner_opts o = {0};
    struct refill_ctx slow = {.f = f, .duration = 2.0};

    prepare(f,
            "study: slow\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: {range: [1, 20]}}\n"
            "max_parallel: 2\n",
            plan_refill, &slow);
    run(f, &o);
    assert_int_equal(slow.early, 0);
    assert_true(slow.most_running <= 2);
}

/* ---- after ---- */

struct after_ctx {
    struct fixture *f;
    long long first_id;
    enum study_status to;
    bool checked;
};

/* While waiting, the study shows WAITING and why. */
static void after_check(void *arg, double now, int *signo)
{
    struct after_ctx *c = arg;
    struct store_study s = {0};

    (void)now, (void)signo;
    assert_int_equal(store_study_get(c->f->st, "second", &s, &c->f->err), 0);
    assert_int_equal(s.status, STUDY_WAITING);
    assert_non_null(s.reason);
    assert_string_equal(s.reason, "waiting for first");
    store_study_fini(&s);
    c->checked = true;
}

static void after_end_first(void *arg, double now, int *signo)
{
    struct after_ctx *c = arg;

    (void)now, (void)signo;
    assert_int_equal(store_study_set_status(c->f->st, c->first_id, c->to, &c->f->err),
                     0);
}

static void prepare_after_pair(struct fixture *f, struct after_ctx *c)
{
    prepare(f, "study: first\ncommand: [sim, '{x}']\nparameters: {x: [1]}\n", plan_ok,
            NULL);
    c->f = f;
    c->first_id = f->study_id;
    prepare(f,
            "study: second\n"
            "command: [sim, '{x}']\n"
            "parameters: {x: [1, 2]}\n"
            "after: first\n",
            plan_ok, NULL);
}

/* `after`: nothing starts until the study named there has completed. */
static void test_after_waits(void **state)
{
    struct fixture *f = *state;
    struct after_ctx c = {.to = STUDY_COMPLETED};

    prepare_after_pair(f, &c);
    fake_executor_at(f->fake, 2.0, after_check, &c);
    fake_executor_at(f->fake, 5.0, after_end_first, &c);
    run(f, NULL);
    assert_true(c.checked);
    assert_int_equal(fake_executor_count(f->fake), 2);
    assert_true(att(f, 0)->submitted >= 5.0);
    assert_true(att(f, 0)->submitted <= 6.0 + 1e-6);
    assert_int_equal(f->sum.status, STUDY_COMPLETED);
}

/* ... and a study of `after` that failed blocks it: nothing runs. */
static void test_after_failed(void **state)
{
    struct fixture *f = *state;
    struct after_ctx c = {.to = STUDY_FAILED};

    prepare_after_pair(f, &c);
    fake_executor_at(f->fake, 3.0, after_end_first, &c);
    run(f, NULL);
    assert_int_equal(fake_executor_count(f->fake), 0);
    assert_int_equal(f->sum.end, RUNNER_STOPPED);
    assert_int_equal(f->sum.status, STUDY_FAILED);
    assert_string_equal(f->sum.reason, "after: study first ended FAILED");
}

/* ---- pipelines ---- */

/* analyze fails for x = 2; a step takes 1 s (simulate 3 s) plus x */
static void plan_pipeline(void *arg, struct fake_attempt *a)
{
    (void)arg;
    /* chains end at different times: x = 3 last */
    a->duration = (strcmp(a->step, "simulate") == 0 ? 3.0 : 1.0) + atoi(a->argv_last);
    if (strcmp(a->step, "analyze") == 0 && strcmp(a->argv_last, "2") == 0)
        a->exit_code = 5;
    if (strcmp(a->step, "simulate") == 0)
        a->metrics = strdup("{\"v\":1}");
}

/* Steps in order within each chain, a failed step skips the rest of its chain, and
 * the reduce runs once, after every chain has ended. */
static void test_pipeline(void **state)
{
    struct fixture *f = *state;
    static const char *const steps[] = {"simulate", "analyze", "export"};
    const struct fake_attempt *reduce = NULL;
    double last_end = 0;
    size_t nreduce = 0;

    prepare(f,
            "study: pipe\n"
            "parameters: {x: [1, 2, 3]}\n"
            "max_parallel: 4\n"
            "steps:\n"
            "  - {name: simulate, command: [sim, '{x}']}\n"
            "  - {name: analyze, command: [ana, '{x}']}\n"
            "  - {name: export, command: [exp, '{x}']}\n"
            "reduce:\n"
            "  command: [red, '{reduce.input}']\n"
            "  when: always\n",
            plan_pipeline, NULL);
    run(f, NULL);
    for (size_t i = 0; i < fake_executor_count(f->fake); i++) {
        const struct fake_attempt *a = att(f, i);
        if (strcmp(a->step, "reduce") == 0) {
            reduce = a;
            nreduce++;
        } else if (a->ended > last_end) {
            last_end = a->ended;
        }
    }
    for (int x = 1; x <= 3; x++) {
        char name[8];
        snprintf(name, sizeof(name), "%d", x);
        for (int s = 1; s < 3; s++) {
            const struct fake_attempt *prev = att_of(f, name, steps[s - 1], 1);
            const struct fake_attempt *a = att_of(f, name, steps[s], 1);
            if (x == 2 && s == 2) {
                assert_null(a); /* export after the failed analyze: skipped */
                continue;
            }
            assert_non_null(prev);
            assert_non_null(a);
            assert_true(a->submitted >= prev->ended);
        }
    }
    assert_int_equal(nreduce, 1);
    assert_true(reduce->submitted >= last_end);
    assert_int_equal(task_state(f, "\"x\":2", 2, NULL), TASK_SKIPPED);
    assert_int_equal(task_state(f, "\"x\":2", 1, NULL), TASK_FAILED);
    assert_int_equal(task_state(f, "\"x\":3", 2, NULL), TASK_SUCCEEDED);
    assert_int_equal(fake_executor_count(f->fake), 3 + 3 + 2 + 1);
    assert_int_equal(f->sum.status, STUDY_PARTIALLY_FAILED);
}

/* The reduce of the default `when` is skipped when a chain failed. */
static void test_pipeline_reduce_skipped(void **state)
{
    struct fixture *f = *state;

    prepare(f,
            "study: pipe2\n"
            "parameters: {x: [1, 2]}\n"
            "steps:\n"
            "  - {name: simulate, command: [sim, '{x}']}\n"
            "  - {name: analyze, command: [ana, '{x}']}\n"
            "reduce: {command: [red, '{reduce.input}']}\n",
            plan_pipeline, NULL);
    run(f, NULL);
    for (size_t i = 0; i < fake_executor_count(f->fake); i++)
        assert_string_not_equal(att(f, i)->step, "reduce");
    assert_int_equal(fake_executor_count(f->fake), 4);
    assert_int_equal(count(f, TASK_SKIPPED), 1);
}

/* ---- several studies in one engine (core/engine.c) ---- */

struct multi {
    struct spec *spec[4];
    long long id[4], gen[4];
    struct runner *r[4];
    size_t n;
};

/* Stores one more study of the engine (the fake is f's, made by the caller). */
static void multi_add(struct fixture *f, struct multi *m, const char *yaml)
{
    char path[256];
    uint64_t n = 0;
    size_t i = m->n++;

    snprintf(path, sizeof(path), "%s/spec%zu.yaml", f->dir, i);
    if (spec_parse(path, yaml, strlen(yaml), &m->spec[i], &f->err) != 0)
        fail_msg("spec: %s", f->err.msg);
    if (runner_prepare(f->st, m->spec[i], NULL, NULL, &m->id[i], &m->gen[i], &n,
                       &f->err) != 0)
        fail_msg("prepare: %s", f->err.msg);
}

/* Runs every study of m in one engine of `slots` over f's fake, to the end. */
static void multi_run(struct fixture *f, struct multi *m, int slots)
{
    struct runner_opts o = {.self_path = "/nonexistent/sweep"};
    struct engine *e;

    o.executor = fake_executor_get(f->fake);
    o.clock = fake_executor_clock(f->fake);
    e = engine_create(f->st, o.executor, o.clock, slots);
    for (size_t i = 0; i < m->n; i++) {
        if (runner_create(f->st, m->spec[i], m->id[i], m->gen[i], &o, &m->r[i],
                          &f->err) != 0)
            fail_msg("runner_create: %s", f->err.msg);
        engine_add(e, m->r[i]);
    }
    if (engine_run(e, NULL, &f->err) != 0)
        fail_msg("engine_run: %s", f->err.msg);
    engine_destroy(e);
    for (size_t i = 0; i < m->n; i++)
        assert_true(runner_done(m->r[i]));
}

static enum study_status multi_status(struct multi *m, size_t i)
{
    return runner_summary_get(m->r[i])->status;
}

static void multi_fini(struct multi *m)
{
    for (size_t i = 0; i < m->n; i++) {
        runner_destroy(m->r[i]);
        spec_destroy(m->spec[i]);
    }
}

/* One slot, three studies: HIGH tasks of b first, then MEDIUM ones of a and c (a
 * before c: the order of the studies breaks ties), then LOW of a. */
static void test_engine_priority_across(void **state)
{
    struct fixture *f = *state;
    struct multi m = {0};
    static const char *const want[] = {"b1", "b2", "a1", "a2", "c1", "a3"};

    f->fake = fake_executor_create(plan_ok, NULL);
    multi_add(f, &m,
              "study: a\ncommand: [sim, '{name}']\ntasks:\n"
              "  - {name: a3, priority: LOW}\n  - {name: a1}\n  - {name: a2}\n");
    multi_add(f, &m,
              "study: b\ncommand: [sim, '{name}']\ntasks:\n"
              "  - {name: b1, priority: HIGH}\n  - {name: b2, priority: HIGH}\n");
    multi_add(f, &m, "study: c\ncommand: [sim, '{name}']\ntasks:\n  - {name: c1}\n");
    multi_run(f, &m, 1);
    assert_int_equal(fake_executor_count(f->fake), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(att(f, i)->argv_last, want[i]);
    assert_int_equal(fake_executor_max_running(f->fake), 1);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(multi_status(&m, i), STUDY_COMPLETED);
    multi_fini(&m);
}

/* Two studies of 2 slots each in an engine of 3: never more than 3 in flight in all,
 * and the budget is used (3 at once at some point). */
static void test_engine_slots_shared(void **state)
{
    struct fixture *f = *state;
    struct multi m = {0};

    f->fake = fake_executor_create(plan_ok, NULL);
    multi_add(f, &m,
              "study: a\ncommand: [sim, 'a{x}']\nparameters: {x: {range: [1, 5]}}\n"
              "max_parallel: 2\n");
    multi_add(f, &m,
              "study: b\ncommand: [sim, 'b{x}']\nparameters: {x: {range: [1, 5]}}\n"
              "max_parallel: 2\n");
    multi_run(f, &m, 3);
    assert_int_equal(fake_executor_count(f->fake), 10);
    assert_int_equal(fake_executor_max_running(f->fake), 3);
    assert_int_equal(multi_status(&m, 0), STUDY_COMPLETED);
    assert_int_equal(multi_status(&m, 1), STUDY_COMPLETED);
    multi_fini(&m);
}

/* a's rate limit (2/s) spaces a's starts only: b's start at once. */
static void test_engine_rate_limits(void **state)
{
    struct fixture *f = *state;
    struct multi m = {0};
    const struct fake_attempt *prev = NULL;
    int nb = 0;

    f->fake = fake_executor_create(plan_short, NULL);
    multi_add(f, &m,
              "study: a\ncommand: [sim, 'a{x}']\nparameters: {x: {range: [1, 4]}}\n"
              "rate_limit: 2/s\nmax_parallel: 8\n");
    multi_add(f, &m,
              "study: b\ncommand: [sim, 'b{x}']\nparameters: {x: {range: [1, 4]}}\n"
              "max_parallel: 8\n");
    multi_run(f, &m, 16);
    assert_int_equal(fake_executor_count(f->fake), 8);
    for (size_t i = 0; i < 8; i++) {
        const struct fake_attempt *a = att(f, i);
        if (a->argv_last[0] == 'b') {
            assert_true(a->submitted < 1e-6);
            nb++;
            continue;
        }
        if (prev)
            assert_true(a->submitted - prev->submitted >= 0.5 - 1e-6);
        prev = a;
    }
    assert_int_equal(nb, 4);
    assert_true(prev && prev->submitted >= 1.5 - 1e-6);
    multi_fini(&m);
}

/* A HIGH study held back by its rate limit (5/s) beside a MEDIUM one of short tasks,
 * which are claimed ahead: each time a HIGH task's turn comes, it takes the next slot
 * that frees (within one short task), not the slots of the claimed MEDIUM ones. */
static void test_engine_rate_limited_first(void **state)
{
    struct fixture *f = *state;
    struct multi m = {0};
    int nh = 0;

    f->fake = fake_executor_create(plan_short, NULL);
    multi_add(f, &m,
              "study: m\ncommand: [sim, 'm{x}']\nparameters: {x: {range: [1, 200]}}\n");
    multi_add(f, &m,
              "study: h\ncommand: [sim, 'h{x}']\nparameters: {x: {range: [1, 4]}}\n"
              "priority: HIGH\nrate_limit: 5/s\n");
    multi_run(f, &m, 2);
    assert_int_equal(fake_executor_count(f->fake), 204);
    for (size_t i = 0; i < 204; i++) {
        const struct fake_attempt *a = att(f, i);
        if (a->argv_last[0] != 'h')
            continue;
        assert_true(a->submitted <= 0.2 * nh + 0.01 + 1e-6);
        nh++;
    }
    assert_int_equal(nh, 4);
    assert_int_equal(fake_executor_max_running(f->fake), 2);
    multi_fini(&m);
}

/* Every attempt takes 10 s. */
static void plan_long(void *arg, struct fake_attempt *a)
{
    (void)arg;
    a->duration = 10.0;
}

/* `sweep cancel a` while a and b run: a ends cancelled, b runs on and completes. */
static void test_engine_cancel_one(void **state)
{
    struct fixture *f = *state;
    struct multi m = {0};
    struct cancel_ctx c = {.f = f};

    f->fake = fake_executor_create(plan_long, NULL);
    multi_add(f, &m,
              "study: a\ncommand: [sim, 'a{x}']\nparameters: {x: {range: [1, 2]}}\n");
    multi_add(f, &m,
              "study: b\ncommand: [sim, 'b{x}']\nparameters: {x: {range: [1, 2]}}\n");
    f->study_id = m.id[0];
    fake_executor_at(f->fake, 3.0, cancel_event, &c);
    multi_run(f, &m, 8);
    assert_int_equal(multi_status(&m, 0), STUDY_CANCELLED);
    assert_int_equal(runner_summary_get(m.r[0])->end, RUNNER_CANCELLED);
    assert_int_equal(multi_status(&m, 1), STUDY_COMPLETED);
    for (size_t i = 0; i < fake_executor_count(f->fake); i++) {
        const struct fake_attempt *a = att(f, i);
        assert_true(a->cancelled == (a->argv_last[0] == 'a'));
    }
    multi_fini(&m);
}

/* A long-running engine (the service's): a finished runner is taken out and
 * destroyed, a new one added later runs to the end in the same engine; a runner not
 * done, or not there, is not removed. */
static void test_engine_remove(void **state)
{
    struct fixture *f = *state;
    struct multi m = {0};
    struct runner_opts o = {.self_path = "/nonexistent/sweep"};
    struct engine *e;

    f->fake = fake_executor_create(plan_ok, NULL);
    multi_add(f, &m, "study: a\ncommand: [sim, 'a{x}']\nparameters: {x: [1, 2]}\n");
    multi_add(f, &m, "study: b\ncommand: [sim, 'b{x}']\nparameters: {x: [1, 2, 3]}\n");
    o.executor = fake_executor_get(f->fake);
    o.clock = fake_executor_clock(f->fake);
    e = engine_create(f->st, o.executor, o.clock, 2);
    for (size_t i = 0; i < 2; i++) {
        if (runner_create(f->st, m.spec[i], m.id[i], m.gen[i], &o, &m.r[i], &f->err))
            fail_msg("runner_create: %s", f->err.msg);
    }
    engine_add(e, m.r[0]);
    assert_false(engine_remove(e, m.r[1])); /* not in it */
    assert_false(engine_remove(e, m.r[0])); /* not done */
    assert_int_equal(engine_count(e), 1);
    if (engine_run(e, NULL, &f->err) != 0)
        fail_msg("engine_run: %s", f->err.msg);
    assert_true(engine_remove(e, m.r[0]));
    assert_int_equal(engine_count(e), 0);
    assert_false(engine_remove(e, m.r[0]));
    runner_destroy(m.r[0]);
    m.r[0] = NULL;
    /* Added afterwards: runs alone in the same engine. */
    engine_add(e, m.r[1]);
    assert_int_equal(engine_count(e), 1);
    if (engine_run(e, NULL, &f->err) != 0)
        fail_msg("engine_run: %s", f->err.msg);
    assert_int_equal(multi_status(&m, 1), STUDY_COMPLETED);
    assert_int_equal(fake_executor_count(f->fake), 5);
    engine_destroy(e);
    multi_fini(&m);
}

/* b has `after: a`, both in one engine: b starts when a has completed, then runs. */
static void test_engine_after(void **state)
{
    struct fixture *f = *state;
    struct multi m = {0};
    double a_end = 0;

    f->fake = fake_executor_create(plan_ok, NULL);
    multi_add(f, &m,
              "study: b\ncommand: [sim, 'b{x}']\nparameters: {x: [1, 2]}\n"
              "after: a\n");
    multi_add(f, &m,
              "study: a\ncommand: [sim, 'a{x}']\nparameters: {x: [1, 2]}\n"
              "max_parallel: 1\n");
    multi_run(f, &m, 4);
    assert_int_equal(fake_executor_count(f->fake), 4);
    for (size_t i = 0; i < 4; i++) {
        const struct fake_attempt *a = att(f, i);
        if (a->argv_last[0] == 'a')
            a_end = a->ended > a_end ? a->ended : a_end;
    }
    for (size_t i = 0; i < 4; i++) {
        const struct fake_attempt *a = att(f, i);
        if (a->argv_last[0] == 'b')
            assert_true(a->submitted >= a_end);
    }
    assert_int_equal(multi_status(&m, 0), STUDY_COMPLETED);
    assert_int_equal(multi_status(&m, 1), STUDY_COMPLETED);
    multi_fini(&m);
}

/* ---- events and the study log ---- */

/* What an owner heard: the name of the study.log line each event makes, and its
 * time. */
struct heard {
    size_t n;
    char line[64][96]; /* "<ISO time> <event name>" */
    int kinds[64];
};

static const char *event_line_name(const struct runner_event *ev)
{
    switch (ev->kind) {
    case RUNNER_EVENT_START:
        return "run_start";
    case RUNNER_EVENT_TASK:
        if (ev->from == TASK_PENDING && ev->to == TASK_RUNNING)
            return "task_start";
        if (ev->from == TASK_RUNNING && ev->to == TASK_PENDING)
            return "task_retry";
        return ev->from == TASK_RUNNING ? "task_end" : "reduce";
    case RUNNER_EVENT_END:
        return "run_end";
    case RUNNER_EVENT_LEASE_EXPIRED:
        return "task_lease_expired";
    case RUNNER_EVENT_ORPHAN_ENDED:
        return "task_orphan_ended";
    default:
        return "other";
    }
}

static void hear(void *arg, const struct runner_event *ev)
{
    struct heard *h = arg;
    char ts[40];

    assert_true(h->n < 64);
    time_iso8601(ev->time, ts, sizeof(ts));
    snprintf(h->line[h->n], sizeof(h->line[h->n]), "%s %s", ts, event_line_name(ev));
    h->kinds[h->n++] = (int)ev->kind;
    if (ev->kind == RUNNER_EVENT_TASK && ev->to == TASK_PENDING) {
        /* a retry carries how the attempt ended and when it runs again */
        assert_non_null(ev->outcome);
        assert_int_equal(ev->outcome->state, TASK_FAILED);
        assert_string_equal(ev->outcome->error, "exit code 3");
        assert_true(ev->outcome->retry_at > ev->time);
    }
    if (ev->kind == RUNNER_EVENT_START) {
        assert_int_equal(ev->tasks, 2);
        assert_int_equal(ev->pending, 2);
    }
}

/* The lines of a study's log (at most 64), without their line breaks. */
static size_t log_lines(struct fixture *f, const char *study, char lines[64][512])
{
    char path[256];
    size_t n = 0;
    FILE *in;

    snprintf(path, sizeof(path), "%s/studies/%s/study.log", f->home, study);
    in = fopen(path, "r");
    if (!in)
        return 0;
    while (n < 64 && fgets(lines[n], 512, in)) {
        lines[n][strcspn(lines[n], "\n")] = '\0';
        n++;
    }
    fclose(in);
    return n;
}

/* The study log is a consumer of the runner's events: the owner hears every event
 * that makes a line (run start, each task's start, retry and end, run end), in the
 * order of the lines and with their times (the virtual clock's), and the retry
 * carries the attempt's outcome. */
static void test_events_are_the_log(void **state)
{
    struct fixture *f = *state;
    struct heard h = {0};
    struct runner_opts o = {.on_event = hear, .on_event_arg = &h};
    static char lines[64][512];
    size_t n;

    prepare(f,
            "study: ev\ncommand: [sim, '{x}']\nparameters: {x: [1, 2]}\n"
            "retries: {max: 3, backoff: 10s}\nmax_parallel: 1\n",
            plan_third_time, NULL);
    run(f, &o);
    assert_int_equal(f->sum.status, STUDY_COMPLETED);
    n = log_lines(f, "ev", lines);
    /* run_start, 6 task_start, 4 task_retry, 2 task_end, run_end */
    assert_int_equal(n, 14);
    assert_int_equal(h.n, n);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(lines[i], h.line[i], strlen(h.line[i])) != 0 ||
            lines[i][strlen(h.line[i])] != ' ')
            fail_msg("line %zu: %s\nevent: %s", i, lines[i], h.line[i]);
    }
    assert_int_equal(h.kinds[0], RUNNER_EVENT_START);
    assert_int_equal(h.kinds[n - 1], RUNNER_EVENT_END);
    assert_non_null(strstr(lines[0], " run_start study=ev pid="));
    assert_non_null(strstr(lines[n - 1], " run_end study=ev end=finished "
                                         "status=COMPLETED elapsed="));
}

static int first_task(const struct store_task *t, void *arg)
{
    *(long long *)arg = t->id;
    return 1;
}

/* An open attempt of task_id owned by `owner` whose lease ran out long ago. */
static void expired_attempt(struct fixture *f, long long task_id, const char *owner)
{
    store_set_owner(f->st, owner, 60);
    assert_int_equal(store_task_started(f->st, task_id, 1, 1000.0, &f->err), 0);
    assert_int_equal(store_lease_renew(f->st, owner, 1.0, NULL, &f->err), 0);
    store_set_owner(f->st, NULL, 0);
}

/* runner_leases_tick in an engine of two studies: each attempt it ends goes to its
 * own study's log (an orphan of a dead run on this host in b, an expired lease of
 * another host in c), and to the owner's on_event of that study; a study the engine
 * does not run (d) has its own log written too; a's log has none of them. */
static void test_leases_to_their_study(void **state)
{
    struct fixture *f = *state;
    struct multi m = {0};
    struct heard h = {0};
    struct runner_opts o = {
        .self_path = "/nonexistent/sweep", .on_event = hear, .on_event_arg = &h};
    static char lines[64][512];
    const char *names[] = {"a", "b", "c", "d"};
    char host[256], dead[300];
    long long id[4] = {0};
    struct engine *e;
    size_t n;

    f->fake = fake_executor_create(plan_ok, NULL);
    for (int i = 0; i < 4; i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml),
                 "study: %s\ncommand: [sim, '{x}']\n"
                 "parameters: {x: [1, 2]}\n",
                 names[i]);
        multi_add(f, &m, yaml);
        assert_int_equal(
            store_task_each(f->st, m.id[i], -1, first_task, &id[i], &f->err), 0);
    }
    gethostname(host, sizeof(host));
    snprintf(dead, sizeof(dead), "%s:999999999:1", host);
    expired_attempt(f, id[1], dead);
    expired_attempt(f, id[2], "otherhost:1:1");
    expired_attempt(f, id[3], "otherhost:1:1");
    {
        /* d is not run here: its directory is where its log goes */
        char dir[256];
        snprintf(dir, sizeof(dir), "%s/studies", f->home);
        mkdir(dir, 0755);
        snprintf(dir, sizeof(dir), "%s/studies/d", f->home);
        assert_int_equal(mkdir(dir, 0755), 0);
    }
    o.executor = fake_executor_get(f->fake);
    o.clock = fake_executor_clock(f->fake);
    e = engine_create(f->st, o.executor, o.clock, 4);
    for (size_t i = 0; i < 3; i++) {
        if (runner_create(f->st, m.spec[i], m.id[i], m.gen[i], &o, &m.r[i], &f->err))
            fail_msg("runner_create: %s", f->err.msg);
        engine_add(e, m.r[i]);
    }
    if (engine_run(e, NULL, &f->err) != 0)
        fail_msg("engine_run: %s", f->err.msg);
    engine_destroy(e);
    for (int i = 0; i < 4; i++) {
        int orphan = 0, expired = 0;
        n = log_lines(f, names[i], lines);
        for (size_t k = 0; k < n; k++) {
            orphan += strstr(lines[k], " task_orphan_ended task=") != NULL;
            expired += strstr(lines[k], " task_lease_expired task=") != NULL;
            if (strstr(lines[k], "_expired") || strstr(lines[k], "orphan"))
                assert_non_null(strstr(lines[k], " attempt=1 "));
        }
        assert_int_equal(orphan, i == 1);
        assert_int_equal(expired, i == 2 || i == 3);
    }
    {
        int orphan = 0, expired = 0;
        for (size_t k = 0; k < h.n; k++) {
            orphan += h.kinds[k] == RUNNER_EVENT_ORPHAN_ENDED;
            expired += h.kinds[k] == RUNNER_EVENT_LEASE_EXPIRED;
        }
        assert_int_equal(orphan, 1);
        assert_int_equal(expired, 1); /* d's is not an event of a runner here */
    }
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(multi_status(&m, i), STUDY_COMPLETED);
    multi_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_priority_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_are_the_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leases_to_their_study, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_band, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slots_cpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_task_runs_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_halt_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_slots_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_study, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_ahead_longer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_ahead_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_after_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_reduce_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_priority_across, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_slots_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_rate_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_rate_limited_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_engine_cancel_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_remove, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
