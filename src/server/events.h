/* The service's live events (GET /events, server-sent events): a bounded ring of
 * formatted events shared by the main thread, which pushes the state changes its
 * runners tell (runner_event), and the HTTP threads, each streaming it to the clients
 * it serves. Module-private to src/server; no socket here (http.c holds the
 * libmicrohttpd side), so that the ring is unit-tested alone (tests/unit/
 * test_server.c).
 *
 * Each event has a sequence number (1, 2, ...: the SSE id), a type ("task" or
 * "study") and one line of JSON data. The ring keeps the last `capacity` events; a
 * subscriber (one client) reads from its own position: a client that falls more than
 * the ring behind (a slow reader) gets one "dropped" event saying how many it missed,
 * then goes on from the oldest kept: the main thread never waits for a client.
 *
 * A subscriber with nothing to read sleeps: events_read() calls its hooks' suspend
 * (under the ring's mutex, so that no wake is lost) and returns 0; the next push, a
 * heartbeat falling due (events_tick()) or events_close() calls its resume, once.
 * Locking: one mutex over the ring and the subscribers; the hooks are called with it
 * held and must not call back into events_*. Costs: a push is O(1) plus O(sleeping
 * subscribers) wakes; a read copies at most max bytes. */
#ifndef SWEEP_SERVER_EVENTS_H
#define SWEEP_SERVER_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct events;
struct events_sub;
struct runner_event;

#define EVENTS_HEARTBEAT 15.0 /* seconds between ": heartbeat" comments */

/* How a subscriber's connection sleeps and wakes (libmicrohttpd's suspend and
 * resume); called with the ring's mutex held. */
struct events_hooks {
    void (*suspend)(void *arg);
    void (*resume)(void *arg);
    void *arg;
};

/* A ring of `capacity` events (>= 1), subscribers at most max_subs, a heartbeat every
 * `heartbeat` seconds of silence. */
struct events *events_create(size_t capacity, size_t max_subs, double heartbeat);
/* Frees the ring; every subscriber must be gone (accepts NULL). */
void events_destroy(struct events *ev);

/* Appends an event (type and data copied; data one line of JSON) and wakes the
 * sleeping subscribers. Returns its sequence number. */
uint64_t events_push(struct events *ev, const char *type, const char *data);
/* The event of a runner's report, when it is a state change the stream tells (TASK,
 * ORPHAN_ENDED, LEASE_EXPIRED: "task"; START, WAITING, END: "study"; data
 * view_event_json()), pushed; others are ignored. A runner_event_fn. */
void events_on_runner(void *ev, const struct runner_event *re);
/* The number of the last event pushed (0: none yet). */
uint64_t events_last(struct events *ev);

/* A new subscriber that has seen every event up to last_id (0: none; the stream then
 * starts with what the ring holds; a last_id beyond the last event: only new ones),
 * at monotonic time now. NULL when max_subs are connected. */
struct events_sub *events_subscribe(struct events *ev,
                                    uint64_t last_id,
                                    const struct events_hooks *h,
                                    double now);
/* Removes a subscriber (its connection ended; accepts NULL). It must not be asleep. */
void events_unsubscribe(struct events_sub *sub);
/* The subscribers connected now. */
size_t events_subscribers(struct events *ev);

/* Copies the next bytes of sub's stream into buf (at most max, >= 64), as SSE frames
 * ("event: task\nid: 7\ndata: {...}\n\n", ": heartbeat\n\n" after `heartbeat`
 * seconds of silence, "event: dropped\ndata: {\"missed\": n}\n\n"). Returns the bytes
 * copied; 0 when there is nothing to send (sub is then asleep: see above); -1 once
 * the ring is closed (the end of the stream). */
ssize_t events_read(struct events_sub *sub, char *buf, size_t max, double now);
/* Wakes the sleeping subscribers whose heartbeat is due at monotonic time now. */
void events_tick(struct events *ev, double now);
/* Ends every stream: the sleeping subscribers are woken, reads return -1. */
void events_close(struct events *ev);

#endif
