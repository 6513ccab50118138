/* Power-law fits across a sweep's points (see fit.h): weighted linear least squares
 * of ln(y) against ln(x) with the closed-form normal equations. */
#include "fit.h"

#include <math.h>

static bool usable(double x, double y)
{
    return x > 0 && y > 0 && isfinite(x) && isfinite(y);
}

int fit_power_law(size_t n,
                  const double *x,
                  const double *y,
                  const double *yerr,
                  struct fit_power *out,
                  struct err *err)
{
    double S = 0, Su = 0, Sv = 0, Suu = 0, Suv = 0, D, a, b, chi2 = 0, scale;
    size_t m = 0;
    bool weighted = yerr != NULL;

    *out = (struct fit_power){0};
    for (size_t i = 0; i < n; i++) {
        if (!usable(x[i], y[i]))
            continue;
        m++;
        if (weighted && !(yerr[i] > 0 && isfinite(yerr[i])))
            weighted = false;
    }
    if (m < 2)
        return err_set(err, SWEEP_EINVAL,
                       "a power-law fit needs at least two points with x and mean "
                       "above zero; there %s %zu",
                       m == 1 ? "is" : "are", m);
    for (size_t i = 0; i < n; i++) {
        double u, v, w = 1;
        if (!usable(x[i], y[i]))
            continue;
        u = log(x[i]);
        v = log(y[i]);
        if (weighted) {
            double sigma = yerr[i] / y[i];
            w = 1 / (sigma * sigma);
        }
        S += w;
        Su += w * u;
        Sv += w * v;
        Suu += w * u * u;
        Suv += w * u * v;
    }
    D = S * Suu - Su * Su;
    if (!(D > 1e-12 * S * Suu) || !isfinite(D))
        return err_set(err, SWEEP_EINVAL,
                       "a power-law fit needs points at two or more values of x");
    b = (S * Suv - Su * Sv) / D;
    a = (Suu * Sv - Su * Suv) / D;
    for (size_t i = 0; i < n; i++) {
        double r, w = 1;
        if (!usable(x[i], y[i]))
            continue;
        if (weighted) {
            double sigma = yerr[i] / y[i];
            w = 1 / (sigma * sigma);
        }
        r = log(y[i]) - a - b * log(x[i]);
        chi2 += w * r * r;
    }
    out->chi2_dof = m > 2 ? chi2 / (double)(m - 2) : NAN;
    if (weighted)
        scale = m > 2 && out->chi2_dof > 1 ? out->chi2_dof : 1;
    else
        scale = out->chi2_dof; /* NAN for two points */
    out->exponent = b;
    out->exponent_stderr = sqrt(S / D * scale);
    out->prefactor = exp(a);
    out->prefactor_stderr = out->prefactor * sqrt(Suu / D * scale);
    out->n_points = m;
    out->weighted = weighted;
    return SWEEP_OK;
}
