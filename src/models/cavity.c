/* The cavity model: steady 2D lid-driven cavity flow (unit square, lid y = 1 moving at
 * u = 1, no-slip walls, nu = 1/Re) by time marching the vorticity-stream function
 * equations, w_t + u w_x + v w_y = nu lap(w), lap(psi) = -w, u = psi_y, v = -psi_x,
 * from rest until the residual max |dw/dt| over the interior nodes falls below
 * `tolerance`. The grid is uniform with n intervals per side (n + 1 nodes, h = 1/n, so
 * n = 128 is the 129 x 129 grid of Ghia, Ghia & Shin 1982). Space: second-order
 * central differences; wall vorticity from psi by Thom's formula (second order
 * globally, E & Liu 1996). psi comes from a direct Poisson solve: one FFTW RODFT00 sine
 * transform of the interior each way (planned once per run with FFTW_ESTIMATE, so the
 * results do not depend on timing) and a division by the eigenvalues of the 5-point
 * Laplacian, exact to round-off in O(n^2 log n). Time: classic RK4, the wall vorticity
 * recomputed at every stage; the step is either `dt` or chosen at every step from the
 * diffusive (8 nu / h^2) and advective ((|u| + |v|) / h) limits. The steady state
 * solves the discrete equations exactly, so it does not depend on dt. */
#include "model.h"

#include "common/timeutil.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RK4 is stable for dt * lambda in the diamond |Re| + |Im| <= 2.5 (its region reaches
 * -2.79 on the real axis, 2.83 on the imaginary one), and the step below puts every
 * eigenvalue of the central-difference operator there. Measured with Thom's walls, the
 * runs blow up from 2.78 at Re = 1 (pure diffusion), 3.4 to 4.0 at Re = 100 on 32^2,
 * 4.8 to 5.8 at Re = 1000 on 64^2. */
#define CAVITY_SAFETY 2.5

/* Exit statuses of a failed run; 2 (bad parameters) is sweep sim's own. */
#define CAVITY_EXIT_FAILED 1
#define CAVITY_EXIT_BAD_PARAMS 2
#define CAVITY_EXIT_IO 3

static const struct model_param cavity_params[] = {
    {.name = "Re",
     .type = MODEL_REAL,
     .def = "100",
     .min = MODEL_EXCL(0),
     .desc = "Reynolds number U L / nu (lid speed U = 1, side L = 1)"},
    {.name = "grid_size",
     .type = MODEL_INT_LIST,
     .def = "[64, 64]",
     .min = MODEL_INCL(8),
     .max = MODEL_INCL(1024),
     .min_items = 2,
     .max_items = 2,
     .desc = "[n, n]: intervals per side, square (n + 1 nodes, spacing 1/n)"},
    {.name = "tolerance",
     .type = MODEL_REAL,
     .def = "1e-6",
     .min = MODEL_EXCL(0),
     .desc = "converged when max |d(vorticity)/dt| over the interior is below this"},
    {.name = "max_steps",
     .type = MODEL_INT,
     .def = "200000",
     .min = MODEL_INCL(1),
     .desc = "time steps allowed before the run fails as not converged"},
    {.name = "dt",
     .type = MODEL_REAL,
     .def = "0",
     .min = MODEL_INCL(0),
     .desc = "time step; 0: chosen at every step from the stability limits"},
};

static const struct model_metric cavity_metrics[] = {
    {.name = "success", .desc = "the run converged to a steady state"},
    {.name = "converged", .desc = "residual fell below tolerance within max_steps"},
    {.name = "n_steps", .desc = "time steps taken"},
    {.name = "residual", .desc = "max |d(vorticity)/dt| over the interior, last step"},
    {.name = "dt",
     .desc = "measured: the last time step taken, the dt parameter when > 0, else "
             "the automatic step (lid speed and side 1)"},
    {.name = "final_time", .desc = "time marched"},
    {.name = "u_min", .desc = "min of u(0.5, y), the vertical centreline"},
    {.name = "u_min_y", .unit = "L", .desc = "y of u_min"},
    {.name = "v_min", .desc = "min of v(x, 0.5), the horizontal centreline"},
    {.name = "v_min_x", .unit = "L", .desc = "x of v_min"},
    {.name = "v_max", .desc = "max of v(x, 0.5)"},
    {.name = "v_max_x", .unit = "L", .desc = "x of v_max"},
    {.name = "psi_min", .desc = "min of the stream function: primary vortex strength"},
    {.name = "psi_min_x", .unit = "L", .desc = "x of the primary vortex centre"},
    {.name = "psi_min_y", .unit = "L", .desc = "y of the primary vortex centre"},
    {.name = "execution_time", .unit = "s", .desc = "wall-clock time of the run"},
};

/* The solver state. Fields are (n + 1)^2 node arrays, index j * (n + 1) + i for the
 * node (x, y) = (i h, j h), walls included. */
struct cavity {
    int n;       /* intervals per side */
    double h;    /* 1 / n */
    double nu;   /* 1 / Re */
    double *w;   /* vorticity; walls set from psi by Thom's formula */
    double *psi; /* stream function; 0 on the walls */
    double *w0;  /* vorticity at the start of the step */
    double *acc; /* RK4 sum k1 + 2 k2 + 2 k3 + k4 */
    double *rhs; /* dw/dt at the interior nodes */
    double *buf; /* (n - 1)^2 interior values, transformed in place */
    double *inv; /* (n - 1)^2: 1 / (eigenvalue of -lap * 4 n^2), per sine mode */
    fftw_plan dst;
};

static size_t cavity_at(const struct cavity *c, int i, int j)
{
    return (size_t)j * (size_t)(c->n + 1) + (size_t)i;
}

static void cavity_fini(struct cavity *c)
{
    if (c->dst)
        fftw_destroy_plan(c->dst);
    fftw_free(c->buf);
    free(c->inv);
    free(c->w);
    free(c->psi);
    free(c->w0);
    free(c->acc);
    free(c->rhs);
}

/* Allocates the fields (vorticity and psi zero: the fluid at rest) and plans the sine
 * transform. Returns 0, or -1 when FFTW cannot allocate or plan. */
static int cavity_init(struct cavity *c, int n, double re)
{
    size_t nodes = (size_t)(n + 1) * (size_t)(n + 1);
    size_t m = (size_t)(n - 1);
    double *lam = xcalloc(m, sizeof(*lam));

    memset(c, 0, sizeof(*c));
    c->n = n;
    c->h = 1.0 / n;
    c->nu = 1.0 / re;
    c->w = xcalloc(nodes, sizeof(double));
    c->psi = xcalloc(nodes, sizeof(double));
    c->w0 = xcalloc(nodes, sizeof(double));
    c->acc = xcalloc(nodes, sizeof(double));
    c->rhs = xcalloc(nodes, sizeof(double));
    c->inv = xcalloc(m * m, sizeof(double));
    /* Aligned, so FFTW's choice of kernels (hence the rounding) is always the same. */
    c->buf = fftw_alloc_real(m * m);
    if (!c->buf) {
        free(lam);
        return -1;
    }
    c->dst = fftw_plan_r2r_2d(n - 1, n - 1, c->buf, c->buf, FFTW_RODFT00, FFTW_RODFT00,
                              FFTW_ESTIMATE);
    if (!c->dst) {
        free(lam);
        return -1;
    }
    /* Mode k of the sine series: -lap = (4 / h^2) sin^2(k pi / 2n). A RODFT00 applied
     * twice multiplies by 2n per dimension, folded into the same factor. */
    for (size_t k = 0; k < m; k++) {
        double s = sin((double)(k + 1) * M_PI / (2.0 * n));
        lam[k] = 4.0 * n * n * s * s;
    }
    for (size_t l = 0; l < m; l++)
        for (size_t k = 0; k < m; k++)
            c->inv[l * m + k] = 1.0 / ((lam[k] + lam[l]) * 4.0 * n * n);
    free(lam);
    return 0;
}

/* psi from the interior vorticity (lap psi = -w, psi = 0 on the walls), then the wall
 * vorticity from psi by Thom's formula: the Taylor series of psi from a wall to the
 * first interior node, with psi = 0, its normal derivative given by the wall's speed
 * and its second normal derivative = -w on the wall. Corners are never read. */
static void cavity_solve_psi(struct cavity *c)
{
    int n = c->n, m = n - 1;
    double h2 = c->h * c->h;

    for (int j = 1; j < n; j++)
        for (int i = 1; i < n; i++)
            c->buf[(j - 1) * m + (i - 1)] = c->w[cavity_at(c, i, j)];
    fftw_execute(c->dst);
    for (size_t k = 0; k < (size_t)m * (size_t)m; k++)
        c->buf[k] *= c->inv[k];
    fftw_execute(c->dst);
    for (int j = 1; j < n; j++)
        for (int i = 1; i < n; i++)
            c->psi[cavity_at(c, i, j)] = c->buf[(j - 1) * m + (i - 1)];

    for (int k = 1; k < n; k++) {
        c->w[cavity_at(c, k, 0)] = -2.0 * c->psi[cavity_at(c, k, 1)] / h2;
        c->w[cavity_at(c, k, n)] = -2.0 * c->psi[cavity_at(c, k, n - 1)] / h2 -
                                   2.0 / c->h; /* the lid, u = 1 */
        c->w[cavity_at(c, 0, k)] = -2.0 * c->psi[cavity_at(c, 1, k)] / h2;
        c->w[cavity_at(c, n, k)] = -2.0 * c->psi[cavity_at(c, n - 1, k)] / h2;
    }
}

/* dw/dt at the interior nodes into rhs, for the current interior vorticity; returns
 * max (|u| + |v|) over the interior for the advective limit. */
static double cavity_rate(struct cavity *c)
{
    int n = c->n, stride = n + 1;
    double h = c->h, nu = c->nu, speed = 0;
    const double *w = c->w, *psi = c->psi;

    cavity_solve_psi(c);
    for (int j = 1; j < n; j++) {
        for (int i = 1; i < n; i++) {
            size_t p = cavity_at(c, i, j);
            double u = (psi[p + stride] - psi[p - stride]) / (2 * h);
            double v = -(psi[p + 1] - psi[p - 1]) / (2 * h);
            double wx = (w[p + 1] - w[p - 1]) / (2 * h);
            double wy = (w[p + stride] - w[p - stride]) / (2 * h);
            double lap =
                (w[p + 1] + w[p - 1] + w[p + stride] + w[p - stride] - 4 * w[p]) /
                (h * h);

            c->rhs[p] = nu * lap - u * wx - v * wy;
            if (fabs(u) + fabs(v) > speed)
                speed = fabs(u) + fabs(v);
        }
    }
    return speed;
}

/* The automatic step: diffusive limit 8 nu / h^2 and advective limit speed / h, with
 * the speed at least the lid's. */
static double cavity_auto_dt(const struct cavity *c, double speed)
{
    double a = speed > 1 ? speed : 1;

    return CAVITY_SAFETY / (a / c->h + 8 * c->nu / (c->h * c->h));
}

/* One RK4 step of size dt (0: automatic). Sets *dt_used and returns the residual max
 * |w_new - w_old| / dt over the interior, or NaN when a value is not finite. */
static double cavity_step(struct cavity *c, double dt, double *dt_used)
{
    static const double stage[3] = {0.5, 0.5, 1.0};
    static const double weight[4] = {1.0, 2.0, 2.0, 1.0};
    size_t nodes = (size_t)(c->n + 1) * (size_t)(c->n + 1);
    int n = c->n;
    double speed, res = 0;
    bool finite = true;

    memcpy(c->w0, c->w, nodes * sizeof(double));
    speed = cavity_rate(c);
    if (dt == 0)
        dt = cavity_auto_dt(c, speed);
    *dt_used = dt;
    for (int s = 0; s < 4; s++) {
        if (s > 0)
            cavity_rate(c);
        for (int j = 1; j < n; j++) {
            for (int i = 1; i < n; i++) {
                size_t p = cavity_at(c, i, j);
                c->acc[p] = (s == 0 ? 0 : c->acc[p]) + weight[s] * c->rhs[p];
                if (s < 3)
                    c->w[p] = c->w0[p] + stage[s] * dt * c->rhs[p];
            }
        }
    }
    for (int j = 1; j < n; j++) {
        for (int i = 1; i < n; i++) {
            size_t p = cavity_at(c, i, j);
            double d;

            c->w[p] = c->w0[p] + dt / 6 * c->acc[p];
            d = fabs(c->w[p] - c->w0[p]) / dt;
            finite = finite && isfinite(c->w[p]);
            if (d > res)
                res = d;
        }
    }
    return finite ? res : NAN;
}

/* u(0.5, y_j) into u[0..n] and v(x_i, 0.5) into v[0..n] by central differences of
 * psi; for odd n the centreline lies between two grid lines and is their mean. */
static void cavity_centrelines(const struct cavity *c, double *u, double *v)
{
    int n = c->n, lo = n / 2, hi = (n + 1) / 2;
    const double *psi = c->psi;
    double h = c->h;

    for (int k = 0; k <= n; k++) {
        u[k] = k == n ? 1.0 : 0.0;
        v[k] = 0.0;
    }
    for (int k = 1; k < n; k++) {
        u[k] = (psi[cavity_at(c, lo, k + 1)] - psi[cavity_at(c, lo, k - 1)] +
                psi[cavity_at(c, hi, k + 1)] - psi[cavity_at(c, hi, k - 1)]) /
               (4 * h);
        v[k] = -(psi[cavity_at(c, k + 1, lo)] - psi[cavity_at(c, k - 1, lo)] +
                 psi[cavity_at(c, k + 1, hi)] - psi[cavity_at(c, k - 1, hi)]) /
               (4 * h);
    }
}

/* The minimum of sign * f over the interior nodes 1..n-1 of a profile, refined by the
 * parabola through the node and its two neighbours: the value (times sign back) into
 * *val and its coordinate into *pos. */
static void
cavity_extremum(const double *f, int n, double sign, double h, double *val, double *pos)
{
    int m = 1;
    double a, b, d, off = 0;

    for (int k = 2; k < n; k++)
        if (sign * f[k] < sign * f[m])
            m = k;
    a = sign * f[m - 1];
    b = sign * f[m + 1];
    d = a - 2 * sign * f[m] + b;
    if (d > 0)
        off = 0.5 * (a - b) / d; /* in [-0.5, 0.5]: f[m] is the smallest node */
    *val = sign * (sign * f[m] - 0.25 * (a - b) * off);
    *pos = (m + off) * h;
}

/* The minimum of psi (the primary vortex) refined by the quadratic through the 3 x 3
 * nodes around the smallest node; the node itself when the fit has no minimum within
 * one cell. */
static void cavity_vortex(const struct cavity *c, double *val, double *x, double *y)
{
    int n = c->n, stride = n + 1, mi = 1, mj = 1;
    const double *psi = c->psi;
    double gx, gy, hxx, hyy, hxy, det, sx = 0, sy = 0;
    size_t p;

    for (int j = 1; j < n; j++)
        for (int i = 1; i < n; i++)
            if (psi[cavity_at(c, i, j)] < psi[cavity_at(c, mi, mj)]) {
                mi = i;
                mj = j;
            }
    p = cavity_at(c, mi, mj);
    gx = (psi[p + 1] - psi[p - 1]) / 2;
    gy = (psi[p + stride] - psi[p - stride]) / 2;
    hxx = psi[p + 1] - 2 * psi[p] + psi[p - 1];
    hyy = psi[p + stride] - 2 * psi[p] + psi[p - stride];
    hxy = (psi[p + stride + 1] - psi[p + stride - 1] - psi[p - stride + 1] +
           psi[p - stride - 1]) /
          4;
    det = hxx * hyy - hxy * hxy;
    if (hxx > 0 && det > 0) {
        sx = -(hyy * gx - hxy * gy) / det;
        sy = -(hxx * gy - hxy * gx) / det;
        if (fabs(sx) > 1 || fabs(sy) > 1)
            sx = sy = 0;
    }
    *val = psi[p] + gx * sx + gy * sy + 0.5 * hxx * sx * sx + 0.5 * hyy * sy * sy +
           hxy * sx * sy;
    *x = (mi + sx) * c->h;
    *y = (mj + sy) * c->h;
}

/* Writes "header\n" and then "coordinate,value" for the n + 1 nodes to dir/name. */
static int cavity_write_profile(const char *dir,
                                const char *name,
                                const char *header,
                                const double *f,
                                int n,
                                struct err *err)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *fp = fopen(path, "we");
    int rc = SWEEP_OK;

    if (!fp) {
        rc = err_set(err, SWEEP_EIO, "cavity: cannot write %s: %s", path,
                     strerror(errno));
        goto out;
    }
    fprintf(fp, "%s\n", header);
    for (int k = 0; k <= n; k++)
        fprintf(fp, "%.17g,%.17g\n", (double)k / n, f[k]);
    if (ferror(fp) | (fclose(fp) != 0))
        rc = err_set(err, SWEEP_EIO, "cavity: cannot write %s: %s", path,
                     strerror(errno));
out:
    free(path);
    return rc;
}

/* The profile metrics and the two CSV files of the current state. */
static int cavity_report(const struct cavity *c,
                         const char *outdir,
                         json_t *metrics,
                         struct err *err)
{
    int n = c->n;
    double *u = xcalloc((size_t)n + 1, sizeof(*u));
    double *v = xcalloc((size_t)n + 1, sizeof(*v));
    double val, x, y;
    int rc;

    cavity_centrelines(c, u, v);
    cavity_extremum(u, n, 1, c->h, &val, &y);
    json_object_set_new(metrics, "u_min", json_real(val));
    json_object_set_new(metrics, "u_min_y", json_real(y));
    cavity_extremum(v, n, 1, c->h, &val, &x);
    json_object_set_new(metrics, "v_min", json_real(val));
    json_object_set_new(metrics, "v_min_x", json_real(x));
    cavity_extremum(v, n, -1, c->h, &val, &x);
    json_object_set_new(metrics, "v_max", json_real(val));
    json_object_set_new(metrics, "v_max_x", json_real(x));
    cavity_vortex(c, &val, &x, &y);
    json_object_set_new(metrics, "psi_min", json_real(val));
    json_object_set_new(metrics, "psi_min_x", json_real(x));
    json_object_set_new(metrics, "psi_min_y", json_real(y));
    rc = cavity_write_profile(outdir, "u_centerline.csv", "y,u", u, n, err);
    if (rc == SWEEP_OK)
        rc = cavity_write_profile(outdir, "v_centerline.csv", "x,v", v, n, err);
    free(u);
    free(v);
    return rc;
}

/* A real metric, or null when it is not finite (JSON has no NaN). */
static void cavity_set_real(json_t *metrics, const char *name, double d)
{
    json_object_set_new(metrics, name, isfinite(d) ? json_real(d) : json_null());
}

/* Rules the row cannot state, checked before anything is computed (the row's bound
 * of 1024 intervals keeps the memory, about 60 (n + 1)^2 bytes, under 64 MB). */
static int cavity_check_grid(const json_t *grid, struct err *err)
{
    json_int_t nx = json_integer_value(json_array_get(grid, 0));
    json_int_t ny = json_integer_value(json_array_get(grid, 1));

    if (nx != ny)
        return err_set(err, SWEEP_EINVAL,
                       "cavity: grid_size: expected a square grid [n, n], got [%lld, "
                       "%lld]",
                       (long long)nx, (long long)ny);
    return SWEEP_OK;
}

static int cavity_check(const struct model_args *args, struct err *err)
{
    return cavity_check_grid(model_arg_list(args, "grid_size"), err);
}

static int cavity_run(const struct model_args *args, json_t *metrics, struct err *err)
{
    double re = model_arg_real(args, "Re");
    const json_t *grid = model_arg_list(args, "grid_size");
    double tol = model_arg_real(args, "tolerance");
    int64_t max_steps = model_arg_int(args, "max_steps");
    double dt = model_arg_real(args, "dt");
    double start = time_mono(), res = INFINITY, dt_used = 0, t = 0;
    int64_t steps = 0;
    struct cavity c;
    int n, rc = 0;

    if (cavity_check_grid(grid, err) != SWEEP_OK)
        return CAVITY_EXIT_BAD_PARAMS;
    n = (int)json_integer_value(json_array_get(grid, 0));
    if (cavity_init(&c, n, re) != 0) {
        err_set(err, SWEEP_EINTERNAL,
                "cavity: FFTW could not allocate or plan a %d x %d sine transform",
                n - 1, n - 1);
        rc = CAVITY_EXIT_FAILED;
        goto out;
    }
    while (steps < max_steps && !(res < tol) && !isnan(res)) {
        res = cavity_step(&c, dt, &dt_used);
        steps++;
        t += dt_used;
    }
    /* No CFL test is needed here, unlike navier-stokes: success means converged, and
     * a step past the stability limit never converges (the residual grows until the
     * vorticity is not finite: blew up, exit status 1), while a steady state reached
     * solves the discrete equations whatever dt was. */
    json_object_set_new(metrics, "success", json_boolean(res < tol));
    json_object_set_new(metrics, "converged", json_boolean(res < tol));
    json_object_set_new(metrics, "n_steps", json_integer((json_int_t)steps));
    cavity_set_real(metrics, "residual", res);
    json_object_set_new(metrics, "dt", json_real(dt_used));
    cavity_set_real(metrics, "final_time", t);
    if (isnan(res)) {
        if (dt > 0)
            err_set(err, SWEEP_EINVAL,
                    "cavity: blew up at step %lld (t = %g): the vorticity is not "
                    "finite; dt = %g is above the stable step (about %g for this Re "
                    "and grid); dt = 0 chooses it",
                    (long long)steps, t, dt, cavity_auto_dt(&c, 1));
        else
            err_set(err, SWEEP_EINTERNAL,
                    "cavity: blew up at step %lld (t = %g): the vorticity is not "
                    "finite with the automatic dt = %g",
                    (long long)steps, t, dt_used);
        rc = CAVITY_EXIT_FAILED;
        goto out;
    }
    cavity_solve_psi(&c); /* psi and walls of the final vorticity */
    if (cavity_report(&c, args->outdir, metrics, err) != SWEEP_OK) {
        rc = CAVITY_EXIT_IO;
        goto out;
    }
    if (!(res < tol)) {
        err_set(err, SWEEP_EINVAL,
                "cavity: not converged: residual %g is above tolerance %g after "
                "max_steps = %lld steps (t = %g)",
                res, tol, (long long)steps, t);
        rc = CAVITY_EXIT_FAILED;
    }
out:
    json_object_set_new(metrics, "execution_time", json_real(time_mono() - start));
    cavity_fini(&c);
    return rc;
}

const struct model model_cavity = {
    .name = "cavity",
    .summary = "2D lid-driven cavity: steady Navier-Stokes flow by time marching",
    .description =
        "The lid-driven square cavity (lid speed 1, side 1, nu = 1/Re) solved for its "
        "steady state: vorticity-stream function on a uniform n x n grid, second-order "
        "central differences, Thom's wall vorticity, an FFT sine-transform Poisson "
        "solver and RK4 time marching until max |d(vorticity)/dt| < tolerance. "
        "Reports the centreline velocity extrema and the primary vortex (compare with "
        "Ghia, Ghia & Shin 1982) and writes u_centerline.csv (y,u) and "
        "v_centerline.csv (x,v). Fails with success false when it does not converge "
        "within max_steps or blows up.",
    .example = "--set Re=400 --set grid_size=[64,64]",
    .params = cavity_params,
    .nparams = MODEL_COUNT(cavity_params),
    .metrics = cavity_metrics,
    .nmetrics = MODEL_COUNT(cavity_metrics),
    .run = cavity_run,
    .check = cavity_check,
};
