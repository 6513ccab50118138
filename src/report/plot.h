/* The picture of `sweep plot` (and of the service's GET /studies/{id}/plot.svg): one
 * metric of a study against one numeric parameter, the mean over the repetitions of
 * each point with its standard error as an error bar, one series per combination of
 * the values of the other parameters that vary (by first, then the rest by name), so
 * that points of different parameter values are never pooled. The statistics and the
 * optional power-law fit come from core/aggregate.c (grouped by [by..., x], so the
 * groups of one series are contiguous and ordered by x); the picture from chart.c.
 * This module reads the store but never writes; the front ends render the chart. */
#ifndef SWEEP_REPORT_PLOT_H
#define SWEEP_REPORT_PLOT_H

#include "common/err.h"
#include "common/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

struct store;
struct store_study;
struct chart;

/* More series than this in one plot is refused rather than drawn unreadable. */
#define PLOT_MAX_SERIES 20

struct plot_spec {
    const char *x;      /* the parameter on the x axis (numeric values) */
    const char *y;      /* the metric on the y axis */
    const char *by;     /* one series per value of this parameter first; NULL: none */
    int step;           /* a pipeline's step (view_step_index()) */
    const char *title;  /* NULL: the study's name */
    const char *xlabel; /* axis labels (NULL: the names) */
    const char *ylabel;
    bool logx, logy;
    bool fit; /* a power-law fit per series, drawn dashed (set logx and logy too) */
};

/* Builds the chart of p for study s into *out (chart_destroy(); also made when there
 * is nothing to draw) and the number of points drawn into *npoints (0: no succeeded
 * task has the metric yet). notes (may be NULL) gets lines for people: each fit's
 * exponent, the parameters added to the grouping. Errors, with *out NULL: an unknown
 * parameter or metric (SWEEP_EINVAL naming the known ones, from aggregate), a
 * non-numeric x or more than PLOT_MAX_SERIES series (SWEEP_EINVAL), the store's.
 * Time: two aggregations of the study, O(tasks). */
int plot_build(struct store *st,
               const struct store_study *s,
               const struct plot_spec *p,
               struct chart **out,
               size_t *npoints,
               struct strbuf *notes,
               struct err *err);

#endif
