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
     * not started. Throughput is the finished tasks per hour of this time. */
    double run_seconds;
    double generated_at; /* epoch seconds shown in the footer; 0 for no footer */
};

/* Renders the report to path (".png", ".svg" or ".pdf", any case). The file is written
 * under a temporary name and renamed, so a failure leaves no partial file. The SVG is
 * cairo's (text as glyph outlines) with a <title> naming the study. Errors:
 * SWEEP_EINVAL (extension), SWEEP_EIO (writing), SWEEP_EINTERNAL (cairo). */
int report_render(const struct report *r, const char *path, struct err *err);

/* Checks that path names a format report_render can write, so that a command can fail
 * before doing any work. Error: SWEEP_EINVAL. */
int report_check_path(const char *path, struct err *err);

#endif
