/* The engine: several runners (one per study, runner.h) stepped together over one
 * executor and one budget of slots, as `sweep run a.yaml b.yaml` and later the service
 * run them. Each tick starts tasks in priority order across the studies (a HIGH task
 * of b before a MEDIUM one of a; ties by the order the runners were added, then each
 * study's own order) within the free slots, while each study keeps its own slots,
 * rate limit, `after:`, retries and stop-on-error. Ends reported by the executor are
 * routed to the runner whose attempt it was. The engine does not decide what a
 * signal means: engine_run() hands one to every runner (runner_interrupt) only while
 * the program's signal watch (sigwatch.h) is open, which the front end decides.
 *
 * Ownership: the store, the executor and the runners are borrowed; destroy the
 * runners after the engine. */
#ifndef SWEEP_CORE_ENGINE_H
#define SWEEP_CORE_ENGINE_H

#include "core/executor.h"
#include "core/runner.h"
#include "core/store.h"

#include <stdbool.h>

struct engine;

/* slots: the budget shared by every runner (<= 0: the CPUs); clock may be NULL (the
 * real one; a test gives its fake's). */
struct engine *engine_create(struct store *st,
                             struct executor *ex,
                             const struct runner_clock *clock,
                             int slots);
void engine_destroy(struct engine *e);
/* Adds a runner (made with the same executor); the order of adding breaks ties. A
 * long-running owner (the service) may add runners between ticks, at any time. */
void engine_add(struct engine *e, struct runner *r);
/* Takes a runner that is done (runner_done) out of the engine, keeping the order of the
 * others; the caller may then destroy it. False (nothing changed) when r is not in the
 * engine or not done: a runner with attempts in flight must stay to hear their ends.
 * O(runners). */
bool engine_remove(struct engine *e, struct runner *r);
/* How many runners the engine has. */
size_t engine_count(const struct engine *e);

/* One tick (see runner.h): leases renewed when due, every runner moved on, the ends
 * taken, the starts chosen across runners, one transaction, then the spawns. An error
 * of the store ends every runner still running on it (runner_fail) and is returned. */
int engine_tick(struct engine *e, struct err *err);
/* The monotonic time of the next tick needed (the earliest of the runners' and of
 * the lease renewal). */
double engine_next_wakeup(const struct engine *e);
bool engine_done(const struct engine *e);
/* Hands a signal to every runner (runner_interrupt). */
void engine_interrupt(struct engine *e, int signo);
/* Hands the executor's ended attempts (waiting at most timeout_ms) to their runners;
 * *signo as executor_dispatch. */
int engine_dispatch(struct engine *e, int timeout_ms, int *signo, struct err *err);

struct engine_loop {
    double max_wait; /* the longest wait between ticks (seconds; 0: none) */
    /* After each tick, with each runner (for progress lines); may be NULL. */
    runner_tick_fn *on_tick;
    void *on_tick_arg;
};
/* Ticks and dispatches until every runner is done; signals taken by the program's
 * watch stop them (engine_interrupt). Returns the first error (each runner's own is
 * in runner_result). */
int engine_run(struct engine *e, const struct engine_loop *lp, struct err *err);

#endif
