/* The ring of live events and its subscribers (see events.h). */
#include "server/events.h"

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/runner.h"
#include "core/view.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_FILL 16384 /* the most frames formatted for one subscriber at once */

struct events_item {
    const char *type; /* static: "task", "study" or another literal */
    char *data;
};

struct events {
    pthread_mutex_t mu;
    struct events_item *items; /* items[seq % cap] */
    size_t cap, max_subs, nsubs;
    uint64_t last; /* the last seq pushed; the ring holds max(1, last-cap+1)..last */
    double heartbeat;
    bool closed;
    struct events_sub *subs;
};

struct events_sub {
    struct events *ev;
    struct events_hooks hooks;
    uint64_t next; /* the seq to send next */
    struct strbuf pend;
    size_t off; /* pend's bytes sent */
    double last_write;
    bool asleep;
    struct events_sub *prev, *nxt;
};

struct events *events_create(size_t capacity, size_t max_subs, double heartbeat)
{
    struct events *ev = xcalloc(1, sizeof(*ev));

    pthread_mutex_init(&ev->mu, NULL);
    ev->cap = capacity ? capacity : 1;
    ev->items = xcalloc(ev->cap, sizeof(*ev->items));
    ev->max_subs = max_subs;
    ev->heartbeat = heartbeat;
    return ev;
}

void events_destroy(struct events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->cap; i++)
        free(ev->items[i].data);
    free(ev->items);
    pthread_mutex_destroy(&ev->mu);
    free(ev);
}

/* Wakes sub when asleep (mutex held). */
static void wake_sub(struct events_sub *sub)
{
    if (!sub->asleep)
        return;
    sub->asleep = false;
    if (sub->hooks.resume)
        sub->hooks.resume(sub->hooks.arg);
}

uint64_t events_push(struct events *ev, const char *type, const char *data)
{
    struct events_item *it;
    uint64_t seq;

    pthread_mutex_lock(&ev->mu);
    seq = ++ev->last;
    it = &ev->items[seq % ev->cap];
    free(it->data);
    it->type = type;
    it->data = xstrdup(data);
    for (struct events_sub *s = ev->subs; s; s = s->nxt)
        wake_sub(s);
    pthread_mutex_unlock(&ev->mu);
    return seq;
}

void events_on_runner(void *arg, const struct runner_event *re)
{
    const char *type;
    json_t *j;
    char *data;

    switch (re->kind) {
    case RUNNER_EVENT_TASK:
    case RUNNER_EVENT_ORPHAN_ENDED:
    case RUNNER_EVENT_LEASE_EXPIRED:
        type = "task";
        break;
    case RUNNER_EVENT_START:
    case RUNNER_EVENT_WAITING:
    case RUNNER_EVENT_END:
        type = "study";
        break;
    default:
        return;
    }
    j = view_event_json(re);
    data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (data)
        events_push(arg, type, data);
    free(data);
    json_decref(j);
}

uint64_t events_last(struct events *ev)
{
    uint64_t n;

    pthread_mutex_lock(&ev->mu);
    n = ev->last;
    pthread_mutex_unlock(&ev->mu);
    return n;
}

struct events_sub *events_subscribe(struct events *ev,
                                    uint64_t last_id,
                                    const struct events_hooks *h,
                                    double now)
{
    struct events_sub *sub = NULL;

    pthread_mutex_lock(&ev->mu);
    if (ev->nsubs < ev->max_subs) {
        sub = xcalloc(1, sizeof(*sub));
        sub->ev = ev;
        sub->hooks = *h;
        /* 0 (none seen): from the oldest kept; beyond the last: only new ones. */
        sub->next = last_id > ev->last ? ev->last + 1 : last_id + 1;
        if (last_id == 0 && ev->last > ev->cap)
            sub->next = ev->last - ev->cap + 1;
        sub->last_write = now;
        sub->nxt = ev->subs;
        if (ev->subs)
            ev->subs->prev = sub;
        ev->subs = sub;
        ev->nsubs++;
    }
    pthread_mutex_unlock(&ev->mu);
    return sub;
}

void events_unsubscribe(struct events_sub *sub)
{
    struct events *ev;

    if (!sub)
        return;
    ev = sub->ev;
    pthread_mutex_lock(&ev->mu);
    if (sub->prev)
        sub->prev->nxt = sub->nxt;
    else
        ev->subs = sub->nxt;
    if (sub->nxt)
        sub->nxt->prev = sub->prev;
    ev->nsubs--;
    pthread_mutex_unlock(&ev->mu);
    sb_fini(&sub->pend);
    free(sub);
}

size_t events_subscribers(struct events *ev)
{
    size_t n;

    pthread_mutex_lock(&ev->mu);
    n = ev->nsubs;
    pthread_mutex_unlock(&ev->mu);
    return n;
}

/* Formats sub's next frames into its pending buffer (mutex held). */
static void fill(struct events_sub *sub, double now)
{
    struct events *ev = sub->ev;
    uint64_t oldest = ev->last >= ev->cap ? ev->last - ev->cap + 1 : 1;

    sb_reset(&sub->pend);
    sub->off = 0;
    if (sub->next < oldest) {
        sb_addf(&sub->pend, "event: dropped\ndata: {\"missed\":%llu}\n\n",
                (unsigned long long)(oldest - sub->next));
        sub->next = oldest;
    }
    while (sub->next <= ev->last && sub->pend.len < EVENTS_FILL) {
        const struct events_item *it = &ev->items[sub->next % ev->cap];
        sb_addf(&sub->pend, "event: %s\nid: %llu\ndata: %s\n\n", it->type,
                (unsigned long long)sub->next, it->data);
        sub->next++;
    }
    if (sub->pend.len == 0 && now - sub->last_write >= ev->heartbeat)
        sb_adds(&sub->pend, ": heartbeat\n\n");
}

ssize_t events_read(struct events_sub *sub, char *buf, size_t max, double now)
{
    struct events *ev = sub->ev;
    size_t n;

    pthread_mutex_lock(&ev->mu);
    if (ev->closed) {
        pthread_mutex_unlock(&ev->mu);
        return -1;
    }
    if (sub->off == sub->pend.len)
        fill(sub, now);
    if (sub->off == sub->pend.len) {
        sub->asleep = true;
        if (sub->hooks.suspend)
            sub->hooks.suspend(sub->hooks.arg);
        pthread_mutex_unlock(&ev->mu);
        return 0;
    }
    n = sub->pend.len - sub->off;
    n = n < max ? n : max;
    memcpy(buf, sb_str(&sub->pend) + sub->off, n);
    sub->off += n;
    sub->last_write = now;
    pthread_mutex_unlock(&ev->mu);
    return (ssize_t)n;
}

void events_tick(struct events *ev, double now)
{
    pthread_mutex_lock(&ev->mu);
    for (struct events_sub *s = ev->subs; s; s = s->nxt) {
        if (now - s->last_write >= ev->heartbeat)
            wake_sub(s);
    }
    pthread_mutex_unlock(&ev->mu);
}

void events_close(struct events *ev)
{
    pthread_mutex_lock(&ev->mu);
    ev->closed = true;
    for (struct events_sub *s = ev->subs; s; s = s->nxt)
        wake_sub(s);
    pthread_mutex_unlock(&ev->mu);
}
