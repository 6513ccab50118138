/* The progress report of a study (`sweep report`): one page with the overall progress
 * as a ring of task states, the progress of each priority band as stacked bars, a
 * progress bar and a table of statistics (counts, success rate, mean and median task
 * time, throughput). It is drawn from a plain struct of numbers that the caller fills
 * in (this module never reads the store), to PNG, SVG or PDF chosen by the output
 * file's extension. No cairo type appears in this header. */
#ifndef SWEEP_REPORT_REPORT_H
#define SWEEP_REPORT_REPORT_H

#include "common/err.h"
#include "core/task.h"

#include <stddef.h>

/* The page size: pixels (PNG, SVG) or points (PDF). */
#define REPORT_WIDTH 1000
#define REPORT_HEIGHT 760

struct report {
    const char
        *study; /* the title; invalid UTF-8 and control characters are replaced */
    const char *status; /* the study's status ("RUNNING", ...), NULL for none */
    /* Tasks per priority band and state: band 0 = LOW, 1 = MEDIUM, 2 = HIGH, as
     * store_study_counts() gives them. */
    long long counts[3][TASK_NSTATES];
    /* Wall time of the tasks that ran to an end (succeeded, failed, timed out), in
     * seconds; NaN when there is none. */
    double mean_wall, median_wall;
    /* Seconds the study has been running (start to finish, or to now); 0 when it has
     * not started. Throughput is the finished tasks per unit of this time
     * (report_throughput()). */
    double run_seconds;
    double generated_at; /* epoch seconds shown in the footer; 0 for no footer */
};

/* A throughput needs this much run time and this many tasks that ran to an end;
 * below, report_throughput() says nothing (a rate of a few milliseconds says
 * nothing). */
#define REPORT_RATE_MIN_SECONDS 10.0
#define REPORT_RATE_MIN_TASKS 2

/* The words the picture uses for an outcome: ok = the share of `all` that succeeded
 * ("85%", rounded down, so "100%" only when every task did), shown as "succeeded";
 * bad = "15% failed" when `failed` (failed or timed out) > 0, else "". A failed task is
 * never counted as done. */
void report_outcome(long long succeeded,
                    long long failed,
                    long long all,
                    char *ok,
                    size_t nok,
                    char *bad,
                    size_t nbad);

/* The tasks that ran to an end per unit of run time: "0.75 tasks/h", "12.5 tasks/min",
 * "40.0 tasks/s" (the unit that keeps the number small); an en dash below
 * REPORT_RATE_MIN_SECONDS or REPORT_RATE_MIN_TASKS. */
void report_throughput(double run_seconds, long long ended, char *buf, size_t n);

/* Renders the report to path (".png", ".svg" or ".pdf", any case). The file is written
 * under a temporary name and renamed, so a failure leaves no partial file. The SVG is
 * cairo's (text as glyph outlines) with a <title> naming the study. Errors:
 * SWEEP_EINVAL (extension), SWEEP_EIO (writing), SWEEP_EINTERNAL (cairo). */
int report_render(const struct report *r, const char *path, struct err *err);

struct store;
/* The report of study with its numbers from the store: its counts per band and
 * state, the mean and median wall time of its tasks that ran to an end (all of them
 * are read and sorted: O(n log n) time, O(n) memory in its tasks), its run time to
 * now. report_study_write() renders it to path as report_render() does;
 * report_study_mem() into a new buffer *out of *len bytes (free it) in format "png",
 * "svg" or "pdf". SWEEP_ENOTFOUND for an unknown study, SWEEP_EINVAL for a bad
 * format, else as report_render(). */
int report_study_write(struct store *st,
                       const char *study,
                       const char *path,
                       struct err *err);
int report_study_mem(struct store *st,
                     const char *study,
                     const char *format,
                     char **out,
                     size_t *len,
                     struct err *err);

/* Checks that path names a format report_render can write, so that a command can fail
 * before doing any work. Error: SWEEP_EINVAL. */
int report_check_path(const char *path, struct err *err);

#endif
