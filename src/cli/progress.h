/* The progress of `sweep run` (and retry, batch) on stderr: one line per study, fed by
 * the runners' counts after each tick (runner_progress_get) and their events (the
 * "NAME: waiting for OTHER" lines of `after:`). On a terminal the lines are redrawn in
 * place (one line for one study; a block of one line per study for several) at most
 * every 0.2 s; piped, a study's line is printed when 5 more tasks have ended or 10 s
 * have passed, each line starting with the study's name. */
#ifndef SWEEP_CLI_PROGRESS_H
#define SWEEP_CLI_PROGRESS_H

#include "core/runner.h"

#include <stdbool.h>
#include <stdio.h>

struct progress;

/* out NULL: shows nothing. columns (may be NULL): the terminal's width now, asked at
 * each redraw. */
struct progress *progress_create(FILE *out, bool tty, int (*columns)(void));
void progress_destroy(struct progress *p);
/* Sets o's on_tick, on_event and tick_max to feed p (runner_run). On a terminal,
 * o->notes (when set) is replaced by a stream of p's that takes the block of lines
 * off the screen before each note and writes it to the notes given, so that the
 * block is drawn again below the note; valid until progress_destroy(). */
void progress_attach(struct progress *p, struct runner_opts *o);
/* Adds a study's line (in this order) before the run; a runner runner_run makes is
 * added when first seen. */
void progress_add(struct progress *p, struct runner *r);
/* runner_tick_fn and runner_event_fn, with p as arg. */
void progress_tick(void *arg, struct runner *r);
void progress_event(void *arg, const struct runner_event *ev);

#endif
