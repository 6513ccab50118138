/* Ready queue, backoff, retry policy and rate limit (see sched.h). */
#include "sched.h"

#include "common/xalloc.h"

#include <math.h>
#include <stdlib.h>

static bool before(const struct sched_heap *h,
                   const struct sched_item *a,
                   const struct sched_item *b)
{
    if (h->by_time) {
        if (a->not_before != b->not_before)
            return a->not_before < b->not_before;
        return a->seq < b->seq;
    }
    if (a->priority != b->priority)
        return a->priority > b->priority;
    return a->seq < b->seq;
}

static void swap(struct sched_item *a, struct sched_item *b)
{
    struct sched_item t = *a;
    *a = *b;
    *b = t;
}

void sched_heap_push(struct sched_heap *h, const struct sched_item *it)
{
    size_t i;

    h->items = xgrow(h->items, &h->cap, h->len + 1, sizeof(*h->items));
    i = h->len++;
    h->items[i] = *it;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(h, &h->items[i], &h->items[parent]))
            break;
        swap(&h->items[i], &h->items[parent]);
        i = parent;
    }
}

bool sched_heap_pop(struct sched_heap *h, struct sched_item *out)
{
    size_t i = 0;

    if (h->len == 0)
        return false;
    *out = h->items[0];
    h->items[0] = h->items[--h->len];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < h->len && before(h, &h->items[l], &h->items[best]))
            best = l;
        if (r < h->len && before(h, &h->items[r], &h->items[best]))
            best = r;
        if (best == i)
            break;
        swap(&h->items[i], &h->items[best]);
        i = best;
    }
    return true;
}

const struct sched_item *sched_heap_peek(const struct sched_heap *h)
{
    return h->len ? &h->items[0] : NULL;
}

void sched_heap_fini(struct sched_heap *h)
{
    free(h->items);
    h->items = NULL;
    h->len = h->cap = 0;
}

double sched_backoff(const struct spec_retry *r, int retry, double u)
{
    double d = r->backoff;

    if (retry < 1)
        retry = 1;
    /* 2^(retry-1) without overflow: stop doubling once past the cap. */
    for (int i = 1; i < retry && d < r->backoff_max; i++)
        d *= 2;
    if (d > r->backoff_max)
        d = r->backoff_max;
    if (u < 0)
        u = 0;
    if (u >= 1)
        u = nextafter(1.0, 0.0);
    return d / 2 + u * (d / 2);
}

bool sched_should_retry(const struct spec_retry *r,
                        int attempts,
                        enum task_state state,
                        int exit_code,
                        int signal)
{
    if (attempts > r->max)
        return false;
    if (state == TASK_TIMED_OUT)
        return r->on & RETRY_ON_TIMEOUT;
    if (state != TASK_FAILED)
        return false;
    if (signal)
        return r->on & RETRY_ON_SIGNAL;
    /* An exit code retries when `nonzero` is listed, or when it is one of exit:N. */
    if ((r->on & RETRY_ON_NONZERO) && exit_code != 0)
        return true;
    for (size_t i = 0; i < r->nexit; i++) {
        if (r->exit_codes[i] == exit_code)
            return true;
    }
    return false;
}

void ratelimit_init(struct ratelimit *rl, double per_second)
{
    rl->interval = per_second > 0 ? 1.0 / per_second : 0;
    rl->next = 0;
}

double ratelimit_take(struct ratelimit *rl, double now)
{
    if (rl->interval <= 0)
        return 0;
    if (now < rl->next)
        return rl->next - now;
    rl->next = now + rl->interval;
    return 0;
}
