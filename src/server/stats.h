/* The service's performance figures (GET /stats/performance, /metrics, /workers):
 * counted in memory from the events its runners tell (runner_event: a task started,
 * an attempt ended), since the service started. Fed by the main thread, read by the
 * HTTP threads (one mutex). Module-private to src/server; no socket, unit-tested in
 * tests/unit/test_server.c.
 *
 * Figures: attempts running now; tasks ended for good (throughput over the last
 * minute and since the start, per second); queue wait (latency) of first attempts:
 * from their study's start in this service to their own start; duration of every
 * attempt that ended (its wall seconds); utilisation = busy slot-seconds (attempts'
 * durations, the running ones so far) / (slots x uptime). Mean and median over the
 * last STATS_SAMPLES samples. Costs: an event is O(1) (O(running) to find a running
 * attempt); a read sorts a copy of the samples, O(n log n). */
#ifndef SWEEP_SERVER_STATS_H
#define SWEEP_SERVER_STATS_H

#include "common/err.h"

#include <jansson.h>

struct stats;
struct store;
struct runner_event;

#define STATS_SAMPLES 65536

/* Counting starts at epoch time `now` with `slots` slots. */
struct stats *stats_create(int slots, double now);
void stats_destroy(struct stats *s); /* accepts NULL */
/* Counts a runner's event (a runner_event_fn; arg is the struct stats). */
void stats_on_runner(void *arg, const struct runner_event *ev);

/* {"uptime", "slots", "running", "tasks_ended", "throughput": {"last_minute",
 * "since_start"} (tasks per second), "latency": {"mean", "median", "samples"},
 * "duration": {...the same}, "utilisation" (0 to 1)} at epoch time now; means and
 * medians in seconds, null without samples. New reference. */
json_t *stats_performance_json(struct stats *s, double now);
/* The local executor as the one worker: {"id": "local", "host", "slots", "running",
 * "status": "ok", "last_heartbeat" (now, ISO-8601: it is this process)}. */
json_t *stats_worker_json(struct stats *s, double now);
/* ---- metrics.c ---- */
/* GET /metrics: the Prometheus text exposition (version 0.0.4) into *out (free it):
 * sweep_tasks{study,state}, sweep_tasks_total{state}, sweep_queue_depth{state},
 * sweep_throughput{window}, sweep_tasks_ended, sweep_running, sweep_slots,
 * sweep_workers, sweep_utilisation, sweep_uptime_seconds, sweep_event_streams (the
 * GET /events clients connected: `streams`), each with HELP and TYPE. Store errors
 * pass through. */
int stats_metrics_text(struct stats *s,
                       struct store *st,
                       double now,
                       size_t streams,
                       char **out,
                       struct err *err);

#endif
