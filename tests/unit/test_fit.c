/* Unit tests of the power-law fit (src/core/fit.c) against answers worked out by hand
 * from the weighted least-squares formulas (the sums S, Su, Sv, Suu, Suv of each case
 * are in the comments), not with fit.c's code: exact power laws (exponent and
 * prefactor exact, chi2 zero), a three-point line with unequal weights (exponent
 * 11/7, stderr sqrt(2/7)), the same with error bars ten times smaller (stderr scaled
 * by sqrt(chi2/dof)), the unweighted fallback when a point has no stderr, points that
 * cannot be on a log-log line left out, and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/fit.h"

#include <math.h>
#include <string.h>

/* y = 3 x^0.5 at x = 1, 2, 4, 8 with a relative stderr of 0.1 at every point: w =
 * 100, u = ln2 * (0, 1, 2, 3), S = 400, Su = 600 ln2, Suu = 1400 ln2^2, D = 200000
 * ln2^2, so var(b) = S / D = 0.002 / ln2^2. */
static void test_exact(void **state)
{
    double x[] = {1, 2, 4, 8}, y[4], e[4];
    struct fit_power f;
    struct err err = {0};

    (void)state;
    for (int i = 0; i < 4; i++) {
        y[i] = 3 * sqrt(x[i]);
        e[i] = 0.1 * y[i];
    }
    assert_int_equal(fit_power_law(4, x, y, e, &f, &err), SWEEP_OK);
    assert_true(fabs(f.exponent - 0.5) < 1e-12);
    assert_true(fabs(f.prefactor - 3) < 1e-12);
    assert_true(fabs(f.exponent_stderr - sqrt(0.002) / log(2)) < 1e-12);
    assert_true(f.chi2_dof < 1e-20);
    assert_true(f.weighted);
    assert_int_equal(f.n_points, 4);
}

/* u = ln x = (0, 1, 2), v = ln y = (0, 1, 3), sigma = stderr / y = (1, 1, 0.5), so w
 * = (1, 1, 4): S = 6, Su = 9, Sv = 13, Suu = 17, Suv = 25, D = 21; b = 33/21 = 11/7,
 * a = -4/21; residuals 4/21, -8/21, 1/21, chi2 = 84/441 = 4/21 < dof = 1, so var(b) =
 * S / D = 2/7 and var(a) = Suu / D = 17/21. */
static void test_weighted(void **state)
{
    double e1 = exp(1), e3 = exp(3);
    double x[] = {1, e1, exp(2)}, y[] = {1, e1, e3}, e[] = {1, e1, 0.5 * e3};
    struct fit_power f;
    struct err err = {0};

    (void)state;
    assert_int_equal(fit_power_law(3, x, y, e, &f, &err), SWEEP_OK);
    assert_true(fabs(f.exponent - 11.0 / 7) < 1e-12);
    assert_true(fabs(f.prefactor - exp(-4.0 / 21)) < 1e-12);
    assert_true(fabs(f.exponent_stderr - sqrt(2.0 / 7)) < 1e-12);
    assert_true(fabs(f.prefactor_stderr - exp(-4.0 / 21) * sqrt(17.0 / 21)) < 1e-12);
    assert_true(fabs(f.chi2_dof - 4.0 / 21) < 1e-12);
    assert_true(f.weighted);

    /* Error bars ten times smaller: w = (100, 100, 400), the same line, chi2 = 400/21
     * > 1, so var(b) = S / D * chi2 = (600 / 210000) * (400 / 21) = 8/147. */
    for (int i = 0; i < 3; i++)
        e[i] /= 10;
    assert_int_equal(fit_power_law(3, x, y, e, &f, &err), SWEEP_OK);
    assert_true(fabs(f.exponent - 11.0 / 7) < 1e-12);
    assert_true(fabs(f.chi2_dof - 400.0 / 21) < 1e-9);
    assert_true(fabs(f.exponent_stderr - sqrt(8.0 / 147)) < 1e-12);
}

/* One point without a stderr (n = 1, or zero): every point weighs 1. S = 3, Su = 3,
 * Sv = 4, Suu = 5, Suv = 7, D = 6; b = 9/6 = 1.5, a = -1/6, chi2 = 1/6, var(b) = S / D
 * * chi2 / 1 = 1/12. Points with x or y not positive are left out. */
static void test_unweighted_and_skipped(void **state)
{
    double e1 = exp(1), e3 = exp(3);
    double x[] = {1, e1, -1, exp(2), 5}, y[] = {1, e1, 7, e3, 0};
    double e[] = {1, NAN, 1, 0, 1};
    struct fit_power f;
    struct err err = {0};

    (void)state;
    assert_int_equal(fit_power_law(5, x, y, e, &f, &err), SWEEP_OK);
    assert_false(f.weighted);
    assert_int_equal(f.n_points, 3);
    assert_true(fabs(f.exponent - 1.5) < 1e-12);
    assert_true(fabs(f.prefactor - exp(-1.0 / 6)) < 1e-12);
    assert_true(fabs(f.exponent_stderr - sqrt(1.0 / 12)) < 1e-12);
    assert_int_equal(fit_power_law(5, x, y, NULL, &f, &err), SWEEP_OK);
    assert_true(fabs(f.exponent_stderr - sqrt(1.0 / 12)) < 1e-12);

    /* Two points, unweighted: the line through them, no error. */
    assert_int_equal(fit_power_law(2, x, y, NULL, &f, &err), SWEEP_OK);
    assert_true(fabs(f.exponent - 1) < 1e-12);
    assert_true(isnan(f.exponent_stderr));
    assert_true(isnan(f.chi2_dof));
}

static void test_errors(void **state)
{
    double x[] = {2, 2, 2, -1}, y[] = {1, 2, 3, 4};
    struct fit_power f;
    struct err err = {0};

    (void)state;
    assert_int_equal(fit_power_law(4, x, y, NULL, &f, &err), SWEEP_EINVAL);
    assert_non_null(strstr(err.msg, "two or more values of x"));
    assert_int_equal(fit_power_law(1, x, y, NULL, &f, &err), SWEEP_EINVAL);
    assert_non_null(strstr(err.msg, "at least two points"));
    assert_int_equal(fit_power_law(0, x, y, NULL, &f, &err), SWEEP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_weighted),
        cmocka_unit_test(test_unweighted_and_skipped),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
