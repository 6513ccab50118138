/* Scheduling decisions, free of I/O so they can be tested alone: the ready queue
 * (highest priority first, then expansion order), the queue of retries waiting for
 * their backoff, slot accounting (a task takes `cpus` slots), the rate limiter, the
 * retry policy and its backoff schedule. The runner owns the loop and asks these. */
#ifndef SWEEP_CORE_SCHED_H
#define SWEEP_CORE_SCHED_H

#include "core/spec.h"
#include "core/task.h"

#include <stdbool.h>
#include <stddef.h>

/* What the scheduler needs to order one task; the rest stays in the store. */
struct sched_item {
    long long seq; /* expansion order */
    int priority;
    int cpus;
    double not_before; /* monotonic time before which it may not start (retries) */
    void *data;        /* the caller's */
};

/* A binary heap of items; ordered by (priority desc, seq asc), or by not_before when
 * made with by_time. O(log n) push and pop. */
struct sched_heap {
    struct sched_item *items;
    size_t len, cap;
    bool by_time;
};

void sched_heap_push(struct sched_heap *h, const struct sched_item *it);
/* Removes the first item into *out; returns false when empty. */
bool sched_heap_pop(struct sched_heap *h, struct sched_item *out);
const struct sched_item *sched_heap_peek(const struct sched_heap *h);
void sched_heap_fini(struct sched_heap *h);

/* Delay before retry number `retry` (1 for the first retry): backoff * 2^(retry-1),
 * capped at backoff_max, with "equal jitter": half fixed, half scaled by u in [0, 1).
 */
double sched_backoff(const struct spec_retry *r, int retry, double u);

/* Whether a failed attempt (`state` FAILED or TIMED_OUT; exit code or signal) should be
 * retried, given that `attempts` attempts have been made. */
bool sched_should_retry(const struct spec_retry *r,
                        int attempts,
                        enum task_state state,
                        int exit_code,
                        int signal);

/* Rate limit as a token bucket of capacity 1: starts are evenly spaced at 1/rate. */
struct ratelimit {
    double interval; /* seconds between starts; 0 = unlimited */
    double next;     /* monotonic time of the next allowed start */
};

void ratelimit_init(struct ratelimit *rl, double per_second);
/* 0 when a start is allowed now (and takes it), else the seconds to wait. */
double ratelimit_take(struct ratelimit *rl, double now);

#endif
