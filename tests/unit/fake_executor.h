/* A fake executor (executor.h) with virtual time, for testing the runner without
 * spawning anything. Time stands still until the runner dispatches: a dispatch with a
 * timeout moves the virtual clock to the earliest of its deadline, the next end of an
 * attempt and the next event the test scheduled, and reports what ended by then.
 *
 * The test decides each attempt's outcome when it is submitted, through a plan
 * callback (how long it runs, exit code, signal, metrics, or that it hangs until
 * cancelled); timeouts are applied as the local executor does (SIGTERM at the
 * deadline, timed_out). A cancelled attempt ends `term_delay` seconds later with
 * SIGTERM (or at once with SIGKILL when cancelled now). Every attempt is kept in
 * submission order with its times, for the test to check.
 *
 * A dispatch fails when a thousand in a row found nothing due at the same virtual
 * time: in real time that runner would spin.
 *
 * The clock (fake_executor_clock) is what runner_opts.clock takes: mono is the virtual
 * time, now is FAKE_EPOCH plus it. */
#ifndef SWEEP_TESTS_FAKE_EXECUTOR_H
#define SWEEP_TESTS_FAKE_EXECUTOR_H

#include "core/executor.h"
#include "core/runner.h"

#include <stdbool.h>
#include <stddef.h>

#define FAKE_EPOCH 1.8e9 /* the virtual epoch at virtual time 0 */

struct fake_attempt {
    uint64_t id;
    /* from the attempt's environment */
    char key[64];
    char step[64]; /* SWEEP_STEP, or "" */
    int attempt;   /* SWEEP_ATTEMPT */
    char *argv0, *argv_last;
    int cpus;
    double timeout;
    double submitted, ended; /* virtual seconds; ended < 0 while running */
    /* the outcome, set by the plan (defaults: 1 s, exit 0, no metrics) */
    double duration;
    bool hang; /* runs until cancelled (or its timeout) */
    int exit_code;
    int signal;       /* killed by this signal instead of exiting */
    char *metrics;    /* JSON text reported as the result; strdup'd by the plan */
    char *error;      /* a result that could not be read */
    bool cancelled;   /* executor_cancel was called for it */
    double cancel_at; /* when it was (first) cancelled */
    bool cancel_now;  /* with SIGKILL at once */
    bool timed_out;   /* reported so */
    void *ctx;        /* the runner's */
};

/* Called at submit: set a->duration, exit_code, ... (the rest of *a is filled in). */
typedef void fake_plan_fn(void *arg, struct fake_attempt *a);
/* An event the test scheduled at a virtual time; may set *signo (a signal caught). */
typedef void fake_event_fn(void *arg, double now, int *signo);

struct fake_executor;

struct fake_executor *fake_executor_create(fake_plan_fn *plan, void *plan_arg);
/* The executor to give runner_opts.executor (owned by the fake). */
struct executor *fake_executor_get(struct fake_executor *f);
const struct runner_clock *fake_executor_clock(struct fake_executor *f);
void fake_executor_destroy(struct fake_executor *f);

/* Calls fn once when virtual time reaches `at` (during a dispatch). */
void fake_executor_at(struct fake_executor *f, double at, fake_event_fn *fn, void *arg);

double fake_executor_now(const struct fake_executor *f);
size_t fake_executor_count(const struct fake_executor *f);
const struct fake_attempt *fake_executor_attempt(const struct fake_executor *f,
                                                 size_t i);
/* The most slots (sum of cpus) and attempts ever running at once. */
int fake_executor_max_cpus(const struct fake_executor *f);
int fake_executor_max_running(const struct fake_executor *f);

#endif
