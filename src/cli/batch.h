/* Running a parametric-sweep package directory (core/packages.h): `sweep run DIR` and
 * `sweep run-package`. The packages become the tasks of one study (named after the
 * directory) that the runner runs like any other, so resume, priorities, timeouts and
 * the store work the same; around it this layer writes what the layout's users know:
 * parametric_sweep_results/results_package_XXXX.json as each package ends,
 * parametric_sweep_logs/batch.log and package_XXXX.log, and
 * artifacts/parametric_sweep_progress.png, and it exits with the layout's codes. */
#ifndef SWEEP_CLI_BATCH_H
#define SWEEP_CLI_BATCH_H

#include <stdbool.h>

/* Exit code of a batch in which a package timed out (as timeout(1) exits). */
#define EXIT_PACKAGE_TIMEOUT 124

struct batch_opts {
    const char *dir;     /* the packages directory */
    const char *home;    /* --home, or NULL */
    const char *out_dir; /* results files (default parametric_sweep_results) */
    const char
        *logs_dir; /* batch.log, package_XXXX.log (default parametric_sweep_logs) */
    const char *report;  /* default artifacts/parametric_sweep_progress.png */
    const char *command; /* a program line with {name} placeholders; NULL: the
                            navier-stokes model */
    int band;            /* run only this priority band (PRIORITY_*), 0 = all */
    int max_parallel;    /* packages at once, >= 1 */
    double timeout;      /* per package, seconds; 0: 24 h */
    bool stop_on_error;
    bool quiet;  /* no progress line */
    bool json;   /* the summary as JSON */
    int only_id; /* run-package: run this package (again if it completed); -1: all */
};

/* Runs the batch; returns the exit code: 0 every selected package completed, 1 some
 * failed, 2 a missing or invalid configuration file (nothing runs), 3 an unexpected
 * error, 124 some package timed out, 130 interrupted by SIGINT, 143 by SIGTERM (128 +
 * the signal; run again to resume). */
int batch_run(const struct batch_opts *o);

#endif
