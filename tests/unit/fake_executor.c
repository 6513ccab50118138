/* The fake executor with virtual time: see fake_executor.h. Linear scans everywhere
 * (tests run tens of attempts). */
#include "fake_executor.h"

#include "common/xalloc.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_TIME_LIMIT 1e7 /* virtual seconds: a runner that never ends fails */
#define FAKE_IDLE_MAX 1000  /* dispatches with nothing due in a row: it spins */

struct fake_event {
    double at;
    fake_event_fn *fn;
    void *arg;
    bool done;
};

struct fake_executor {
    struct executor ex;
    struct runner_clock clock;
    fake_plan_fn *plan;
    void *plan_arg;
    double now;
    struct fake_attempt **att;
    size_t natt, cap_att;
    struct fake_event *ev;
    size_t nev, cap_ev;
    uint64_t next_id;
    int max_cpus, max_running;
    /* dispatches in a row that found nothing to do at the same virtual time, and
     * the attempts submitted when the last one began */
    int idle;
    size_t idle_natt;
};

static double fake_mono(void *arg)
{
    return ((struct fake_executor *)arg)->now;
}

static double fake_epoch(void *arg)
{
    return FAKE_EPOCH + ((struct fake_executor *)arg)->now;
}

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++) {
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    }
    return NULL;
}

/* When a running attempt ends, as things stand: its duration, its timeout, or the
 * delay after a cancel. */
static double end_time(const struct fake_attempt *a, double cancel_at, bool cancel_now)
{
    double end = a->hang ? INFINITY : a->submitted + a->duration;

    if (a->timeout > 0 && a->submitted + a->timeout < end)
        end = a->submitted + a->timeout;
    if (a->cancelled) {
        double c = cancel_now ? cancel_at : cancel_at + 0.5;
        if (c < end)
            end = c;
    }
    return end;
}

static void account(struct fake_executor *f)
{
    int cpus = 0, n = 0;

    for (size_t i = 0; i < f->natt; i++) {
        if (f->att[i]->ended < 0) {
            cpus += f->att[i]->cpus;
            n++;
        }
    }
    if (cpus > f->max_cpus)
        f->max_cpus = cpus;
    if (n > f->max_running)
        f->max_running = n;
}

static int fake_submit(void *ctx,
                       const struct executor_attempt *at,
                       struct executor_handle *h,
                       struct err *err)
{
    struct fake_executor *f = ctx;
    struct fake_attempt *a = xcalloc(1, sizeof(*a));
    const char *s;
    size_t argc = 0;

    (void)err;
    a->id = ++f->next_id;
    snprintf(a->key, sizeof(a->key), "%s",
             (s = env_get(at->envp, "SWEEP_TASK_ID")) ? s : "");
    snprintf(a->step, sizeof(a->step), "%s",
             (s = env_get(at->envp, "SWEEP_STEP")) ? s : "");
    s = env_get(at->envp, "SWEEP_ATTEMPT");
    a->attempt = s ? atoi(s) : 0;
    while (at->argv[argc])
        argc++;
    a->argv0 = xstrdup(at->argv[0]);
    a->argv_last = xstrdup(at->argv[argc - 1]);
    a->cpus = at->cpus;
    a->ctx = at->ctx;
    a->timeout = at->timeout;
    a->submitted = f->now;
    a->ended = -1;
    a->duration = 1.0;
    if (f->plan)
        f->plan(f->plan_arg, a);
    f->att = xgrow(f->att, &f->cap_att, f->natt + 1, sizeof(*f->att));
    f->att[f->natt++] = a;
    account(f);
    h->id = a->id;
    h->pid = 0;
    return SWEEP_OK;
}

static void fake_cancel(void *ctx, uint64_t id, bool now)
{
    struct fake_executor *f = ctx;

    for (size_t i = 0; i < f->natt; i++) {
        struct fake_attempt *a = f->att[i];
        if (a->id != id || a->ended >= 0)
            continue;
        if (!a->cancelled) {
            a->cancelled = true;
            a->cancel_at = f->now;
            a->cancel_now = now;
        } else if (now && !a->cancel_now) {
            a->cancel_at = fmin(a->cancel_at + 0.5, f->now);
            a->cancel_now = true;
        }
    }
}

static double attempt_end(const struct fake_attempt *a)
{
    return end_time(a, a->cancel_at, a->cancel_now);
}

static int fake_dispatch(void *ctx,
                         int timeout_ms,
                         executor_done_fn *done,
                         void *arg,
                         int *signo,
                         struct err *err)
{
    struct fake_executor *f = ctx;
    double until = timeout_ms < 0 ? INFINITY : f->now + timeout_ms / 1000.0;
    int n = 0;

    /* the earliest of the deadline, an end and an event */
    for (size_t i = 0; i < f->natt; i++) {
        if (f->att[i]->ended < 0)
            until = fmin(until, attempt_end(f->att[i]));
    }
    for (size_t i = 0; i < f->nev; i++) {
        if (!f->ev[i].done)
            until = fmin(until, f->ev[i].at);
    }
    if (until > FAKE_TIME_LIMIT) {
        err_set(err, SWEEP_EINTERNAL, "fake executor: nothing happens before %g s",
                FAKE_TIME_LIMIT);
        return -1;
    }
    /* A runner that keeps asking for a tick with nothing to do would spin in real
     * time; here time would stand still for ever. */
    if (until > f->now || f->natt != f->idle_natt)
        f->idle = 0;
    f->idle_natt = f->natt;
    if (++f->idle > FAKE_IDLE_MAX) {
        err_set(err, SWEEP_EINTERNAL,
                "fake executor: %d dispatches in a row at %g s with nothing due: the "
                "runner spins",
                FAKE_IDLE_MAX, f->now);
        return -1;
    }
    if (until > f->now)
        f->now = until;
    for (size_t i = 0; i < f->nev; i++) {
        if (!f->ev[i].done && f->ev[i].at <= f->now) {
            f->idle = 0;
            f->ev[i].done = true;
            f->ev[i].fn(f->ev[i].arg, f->now, signo);
        }
    }
    for (size_t i = 0; i < f->natt; i++) {
        struct fake_attempt *a = f->att[i];
        struct executor_outcome o = {0};
        double end;

        if (a->ended >= 0 || (end = attempt_end(a)) > f->now)
            continue;
        a->ended = end;
        o.ctx = a->ctx;
        o.id = a->id;
        o.wall = end - a->submitted;
        if (a->cancelled && end < a->submitted + a->duration) {
            o.signal = a->cancel_now ? SIGKILL : SIGTERM;
        } else if (a->timeout > 0 && end >= a->submitted + a->timeout &&
                   (a->hang || a->duration > a->timeout)) {
            o.signal = SIGTERM;
            o.timed_out = a->timed_out = true;
        } else if (a->signal) {
            o.signal = a->signal;
        } else {
            o.exited = true;
            o.exit_code = a->exit_code;
            o.metrics = a->metrics;
            o.error = a->error;
        }
        n++;
        f->idle = 0;
        done(&o, arg);
    }
    return n;
}

static void fake_destroy_ops(void *ctx)
{
    (void)ctx; /* fake_executor_destroy frees it: the test reads it after the run */
}

static const struct executor_ops fake_ops = {
    .name = "fake",
    .submit = fake_submit,
    .cancel = fake_cancel,
    .dispatch = fake_dispatch,
    .fd = NULL,
    .destroy = fake_destroy_ops,
};

struct fake_executor *fake_executor_create(fake_plan_fn *plan, void *plan_arg)
{
    struct fake_executor *f = xcalloc(1, sizeof(*f));

    f->ex.ops = &fake_ops;
    f->ex.ctx = f;
    f->clock.mono = fake_mono;
    f->clock.now = fake_epoch;
    f->clock.arg = f;
    f->plan = plan;
    f->plan_arg = plan_arg;
    return f;
}

struct executor *fake_executor_get(struct fake_executor *f)
{
    return &f->ex;
}

const struct runner_clock *fake_executor_clock(struct fake_executor *f)
{
    return &f->clock;
}

void fake_executor_destroy(struct fake_executor *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->natt; i++) {
        free(f->att[i]->argv0);
        free(f->att[i]->argv_last);
        free(f->att[i]->metrics);
        free(f->att[i]->error);
        free(f->att[i]);
    }
    free(f->att);
    free(f->ev);
    free(f);
}

void fake_executor_at(struct fake_executor *f, double at, fake_event_fn *fn, void *arg)
{
    f->ev = xgrow(f->ev, &f->cap_ev, f->nev + 1, sizeof(*f->ev));
    f->ev[f->nev++] = (struct fake_event){.at = at, .fn = fn, .arg = arg};
}

double fake_executor_now(const struct fake_executor *f)
{
    return f->now;
}

size_t fake_executor_count(const struct fake_executor *f)
{
    return f->natt;
}

const struct fake_attempt *fake_executor_attempt(const struct fake_executor *f,
                                                 size_t i)
{
    return i < f->natt ? f->att[i] : NULL;
}

int fake_executor_max_cpus(const struct fake_executor *f)
{
    return f->max_cpus;
}

int fake_executor_max_running(const struct fake_executor *f)
{
    return f->max_running;
}
