/* Fits across the points of a sweep: a power law y = prefactor * x^exponent through
 * the means of a metric at each value of a parameter, as a weighted least-squares
 * straight line of ln(mean) against ln(x).
 *
 * Weights: each point's standard error of the mean (stderr) becomes the error of
 * ln(mean) by propagation, sigma = stderr / mean, and the point weighs 1 / sigma^2.
 * When any point has no usable stderr (one sample, or all samples equal: stderr
 * missing or zero), every point weighs the same (ordinary least squares), so that one
 * exact-looking point cannot pull the line onto itself.
 *
 * The exponent's standard error: weighted, sqrt(S / D) (S the sum of the weights, D
 * the determinant of the normal equations), multiplied by sqrt(chi2 / (n - 2)) when
 * that is above 1, i.e. when the points scatter about the line more than their error
 * bars say (never made smaller); unweighted, sqrt(S / D * chi2 / (n - 2)), from the
 * scatter alone, undefined (NAN) for two points. Points with x or mean not positive
 * and finite cannot be on a log-log line and are left out. O(n). */
#ifndef SWEEP_CORE_FIT_H
#define SWEEP_CORE_FIT_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>

struct fit_power {
    double exponent, exponent_stderr;   /* stderr NAN when undefined */
    double prefactor, prefactor_stderr; /* prefactor = exp(intercept) */
    size_t n_points;                    /* the points used */
    bool weighted;                      /* false: ordinary least squares */
    double chi2_dof; /* sum of squared weighted residuals / (n - 2); NAN for n = 2 */
};

/* Fits y = prefactor * x^exponent to the n points (x[i], y[i]) with standard errors
 * yerr[i] (NULL, NAN or <= 0: none; see above). Fewer than two usable points, or all
 * at one x, is SWEEP_EINVAL with a message saying so. */
int fit_power_law(size_t n,
                  const double *x,
                  const double *y,
                  const double *yerr,
                  struct fit_power *out,
                  struct err *err);

#endif
