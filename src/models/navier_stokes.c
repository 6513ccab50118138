/* The navier-stokes model: the incompressible Navier-Stokes equations in the periodic
 * box [0, 2pi)^3 (nz = 1: the 2D equations in [0, 2pi)^2) with unit velocity and
 * length, so nu = 1/Re, solved by a pseudo-spectral method. The velocity lives in
 * Fourier space; FFTW3 real-to-complex transforms (in place, planned once per run with
 * FFTW_ESTIMATE, so the plan and hence the results never depend on timing) take it to
 * the grid, where the nonlinear term is evaluated in rotational form u x omega; its
 * transform is dealiased by the 2/3 rule (a mode survives when 3|k_i| < n_i on every
 * axis) and projected onto divergence-free fields (the part along k, the pressure
 * gradient, is removed). The viscous term -nu k^2 u is advanced explicitly together
 * with the nonlinear term by classical RK4: then the 2D Taylor-Green vortex, whose
 * nonlinear term is a pure gradient, measures the order of the time stepping, which an
 * integrating factor would hide by integrating it exactly. The price is a viscous limit
 * dt <= 2.78 / (nu k_max^2) (the RK4 stability interval on the negative real axis):
 * a larger fixed dt is refused before the run, an adaptive step is capped below it.
 * Memory: three spectral copies of the velocity (state, RK4 accumulator, stage) and
 * six in-place transform buffers (three in 2D), about 15 * 8 * nx*ny*nz bytes in 3D
 * (128^3: 256 MB); grids needing more than 2 GiB are refused. A step costs 36
 * transforms in 3D (6 inverse and 3 forward per stage), 20 in 2D. */
#include "model.h"

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "rng.h"

#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <errno.h>
#include <fftw3.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_MAX_BYTES (2.0 * 1024 * 1024 * 1024)
#define NS_MAX_STEPS 1e9
/* |1 + z + z^2/2 + z^3/6 + z^4/24| <= 1 on the real axis for -2.785 <= z <= 0. */
#define NS_RK4_REAL_LIMIT 2.78
/* The CFL limit of RK4 with this scheme, which a step must hold: RK4 is stable on the
 * imaginary axis for |z| <= 2 sqrt(2). The advection of mode k has the (frozen
 * coefficient) eigenvalue i u.k, and with the 2/3 rule |u.k| <= sum |u_i| k_cut,i <
 * sum |u_i| n_i / 3, while the CFL number here is dt sum |u_i| n_i / (2 pi): so dt
 * |u.k| <= 2 sqrt(2) holds when CFL <= 2 sqrt(2) * 3 / (2 pi) = 1.3505. A step above
 * it stops the run as unstable (success false, exit status 1), whether or not the
 * field has blown up yet (a smooth field can survive a few such steps). */
#define NS_RK4_CFL_LIMIT 1.35
/* The kinetic energy of an unforced viscous run never grows (dE/dt = -2 nu Z); a time
 * series row whose energy exceeds the previous row's by more than this fraction (far
 * above round-off, ~1e-15, and RK4's truncation error in a stable run) stops the run
 * as unstable. */
#define NS_ENERGY_GROWTH_TOL 1e-6
/* The CFL bound a fixed step must hold for `convergence` (cfl_max when adaptive). */
#define NS_FIXED_CFL_BOUND 1.0
/* Divergence counts as round-off below this times max(1, max |omega|). */
#define NS_DIV_TOL 1e-8
/* An adaptive step this many times below the first one means the flow blew up. */
#define NS_DT_COLLAPSE 1e-3

static const char *const ns_initials[] = {"taylor-green", "random", NULL};

static const struct model_param ns_params[] = {
    {.name = "Re",
     .type = MODEL_REAL,
     .def = "100",
     .min = MODEL_EXCL(0),
     .desc = "Reynolds number; the viscosity is nu = 1/Re"},
    {.name = "dt",
     .type = MODEL_REAL,
     .def = "0.01",
     .min = MODEL_EXCL(0),
     .desc = "time step (with cfl_max > 0: the largest step)"},
    {.name = "T_final",
     .type = MODEL_REAL,
     .def = "1",
     .min = MODEL_EXCL(0),
     .desc = "end time, >= dt; the last step is shortened to land on it"},
    {.name = "grid_size",
     .type = MODEL_INT_LIST,
     .def = "[32, 32, 32]",
     .min = MODEL_INCL(1),
     .max = MODEL_INCL(65536),
     .min_items = 2,
     .max_items = 3,
     .desc = "[nx, ny, nz], even numbers; nz = 1 (or [nx, ny]) gives the 2D solver"},
    {.name = "initial",
     .type = MODEL_ENUM,
     .def = "\"taylor-green\"",
     .choices = ns_initials,
     .desc = "taylor-green (sin x cos y cos z, -cos x sin y cos z, 0), or random: "
             "divergence-free, E(k) ~ k^4 exp(-2 (k/k0)^2), energy E0"},
    {.name = "seed",
     .type = MODEL_INT,
     .def = "0",
     .desc = "random seed of the random initial field"},
    {.name = "k0",
     .type = MODEL_REAL,
     .def = "4",
     .min = MODEL_EXCL(0),
     .desc = "peak wavenumber of the random initial spectrum"},
    {.name = "E0",
     .type = MODEL_REAL,
     .def = "0.125",
     .min = MODEL_EXCL(0),
     .desc = "kinetic energy 0.5 <u.u> of the random initial field"},
    {.name = "cfl_max",
     .type = MODEL_REAL,
     .def = "0",
     .min = MODEL_INCL(0),
     .max = MODEL_INCL(NS_RK4_CFL_LIMIT),
     .desc = "0: fixed dt; > 0: adapt the step to keep the CFL number at most this "
             "(1.35: the RK4 stability limit of the scheme)"},
    {.name = "output_every",
     .type = MODEL_INT,
     .def = "10",
     .min = MODEL_INCL(0),
     .desc = "steps between rows of timeseries.csv; 0: only the first and last"},
    {.name = "threads",
     .type = MODEL_INT,
     .def = "1",
     .min = MODEL_INCL(1),
     .max = MODEL_INCL(256),
     .desc = "FFTW threads (1: the orchestrator runs tasks in parallel)"},
};

static const struct model_metric ns_metrics[] = {
    {.name = "success",
     .desc = "the run reached T_final with finite fields, every step's CFL number "
             "within the RK4 limit 1.35 and the energy never growing"},
    {.name = "error", .desc = "why the run failed; only when success is false"},
    {.name = "n_steps", .desc = "time steps taken"},
    {.name = "final_time", .desc = "time reached"},
    {.name = "max_velocity", .desc = "max |u| over the grid at the final time"},
    {.name = "max_vorticity", .desc = "max |omega| over the grid at the final time"},
    {.name = "energy", .desc = "kinetic energy 0.5 <u.u> at the final time"},
    {.name = "enstrophy", .desc = "enstrophy 0.5 <omega.omega> at the final time"},
    {.name = "dissipation",
     .desc = "dissipation rate 2 nu enstrophy at the final time"},
    {.name = "divergence_max",
     .desc = "max |div u| over the grid, over every time series row"},
    {.name = "cfl_max",
     .desc = "measured: the largest CFL number dt * max(|u|/dx + |v|/dy + |w|/dz) "
             "of any step (the cfl_max parameter bounds an adaptive step)"},
    {.name = "convergence",
     .desc = "every field stayed finite, the divergence at round-off and the CFL "
             "number within its bound (cfl_max, or 1 with a fixed dt)"},
    {.name = "execution_time", .unit = "s", .desc = "wall-clock time of the run"},
    {.name = "time_per_step",
     .unit = "s",
     .desc = "wall-clock time of one RK4 step (without time series rows)"},
    {.name = "fft_time", .unit = "s", .desc = "time spent in FFTW during the steps"},
    {.name = "fft_fraction", .desc = "fft_time / time of the steps"},
};

/* The parameters, read and checked. */
struct ns_config {
    double nu, dt, t_final, cfl_max, k0, e0;
    size_t n[3]; /* nx, ny, nz; nz = 1 in 2D */
    int ndim;
    bool random;
    uint64_t seed;
    int64_t output_every, n_fixed; /* n_fixed: steps with a fixed dt */
    int threads;
    double dt_visc; /* the viscous stability limit of the step */
};

/* The solver. Spectral arrays have dims m[0] x m[1] x m[2] (x, y, z; FFTW halves the
 * last axis, z in 3D and y in 2D, where m[2] = 1), so the wavenumber of mode (i, j, l)
 * is always (k[0][i], k[1][j], k[2][l]). The transform buffers hold nmodes complex
 * values, that is rows x pstride doubles on the grid, of which the first len of each
 * row are grid points (FFTW's padding for in-place transforms). Spectral fields are
 * the Fourier coefficients: u(x) = sum_k u_k exp(i k.x). */
struct ns {
    int ndim, nbuf; /* nbuf: velocity and vorticity components, 6 in 3D, 3 in 2D */
    size_t n[3], m[3], nmodes, rows, len, pstride;
    double *k[3];
    bool *keep[3];
    size_t nkeep2; /* modes kept on axis 2, a prefix (k = 0, 1, ...) */
    double nu, inv_n, inv_dx[3];
    double complex *u[3], *acc[3], *stage[3], *buf[6];
    fftw_plan r2c, c2r;
    double fft_time; /* seconds inside fftw_execute_* */
};

/* What the grid pass of an evaluation sees. */
struct ns_stats {
    double umax, wmax; /* max |u|, max |omega| */
    double rate;       /* max (|u|/dx + |v|/dy + |w|/dz): CFL = dt * rate */
    bool finite;
};

static bool ns_threads_ready; /* fftw_init_threads is called once per process */

static double ns_bytes(int ndim, const size_t n[3])
{
    double modes = ndim == 3 ? (double)n[0] * (double)n[1] * (double)(n[2] / 2 + 1)
                             : (double)n[0] * (double)(n[1] / 2 + 1);

    return modes * (double)sizeof(double complex) * (4 * ndim + (ndim == 3 ? 3 : 1));
}

/* The largest |k| kept by the 2/3 rule on an axis of n points: 3k < n. */
static double ns_kcut(size_t n)
{
    return (double)((n - 1) / 3);
}

static int
ns_config_read(const struct model_args *a, struct ns_config *c, struct err *err)
{
    const json_t *grid = model_arg_list(a, "grid_size");
    double kmax2 = 0, steps;

    memset(c, 0, sizeof(*c));
    c->nu = 1 / model_arg_real(a, "Re");
    c->dt = model_arg_real(a, "dt");
    c->t_final = model_arg_real(a, "T_final");
    c->cfl_max = model_arg_real(a, "cfl_max");
    c->k0 = model_arg_real(a, "k0");
    c->e0 = model_arg_real(a, "E0");
    c->random = strcmp(model_arg_str(a, "initial"), "random") == 0;
    c->seed = (uint64_t)model_arg_int(a, "seed");
    c->output_every = model_arg_int(a, "output_every");
    c->threads = (int)model_arg_int(a, "threads");

    c->n[2] = 1;
    for (size_t i = 0; i < json_array_size(grid); i++) {
        json_int_t v = json_integer_value(json_array_get(grid, i));
        if (v % 2 != 0 && !(i == 2 && v == 1))
            return err_set(err, SWEEP_EINVAL,
                           "navier-stokes: grid_size[%zu]: expected a positive even "
                           "integer%s, got %lld",
                           i, i == 2 ? " (or 1 for 2D)" : "", (long long)v);
        c->n[i] = (size_t)v;
    }
    c->ndim = c->n[2] == 1 ? 2 : 3;
    if (ns_bytes(c->ndim, c->n) > NS_MAX_BYTES)
        return err_set(err, SWEEP_EINVAL,
                       "navier-stokes: grid_size: [%zu, %zu, %zu] needs %.1f GiB of "
                       "memory, more than the limit of %.0f GiB; reduce the resolution",
                       c->n[0], c->n[1], c->n[2], ns_bytes(c->ndim, c->n) / 0x1p30,
                       NS_MAX_BYTES / 0x1p30);
    if (c->t_final < c->dt)
        return err_set(err, SWEEP_EINVAL,
                       "navier-stokes: T_final: must be >= dt (%g), got %g", c->dt,
                       c->t_final);
    steps = c->t_final / c->dt;
    if (c->cfl_max == 0 && steps > NS_MAX_STEPS)
        return err_set(err, SWEEP_EINVAL,
                       "navier-stokes: dt: T_final / dt = %.3g steps, more than the "
                       "limit of %.0e; raise dt",
                       steps, NS_MAX_STEPS);
    /* ceil, forgiving the rounding of T_final / dt = 100.00000000000001. */
    if (c->cfl_max == 0)
        c->n_fixed = (int64_t)ceil(steps * (1 - 1e-9));
    if (c->n_fixed < 1)
        c->n_fixed = 1;

    for (int i = 0; i < 3; i++)
        kmax2 += ns_kcut(c->n[i]) * ns_kcut(c->n[i]);
    c->dt_visc = kmax2 > 0 ? NS_RK4_REAL_LIMIT / (c->nu * kmax2) : INFINITY;
    if (c->cfl_max == 0 && c->dt > c->dt_visc)
        return err_set(err, SWEEP_EINVAL,
                       "navier-stokes: dt: %g is above the RK4 stability limit %.3g "
                       "of the viscous term on this grid (2.78 / (nu k_max^2), nu = "
                       "1/Re = %g, k_max^2 = %g); reduce dt, raise Re, or set cfl_max "
                       "> 0 to adapt the step",
                       c->dt, c->dt_visc, c->nu, kmax2);
    return SWEEP_OK;
}

static double complex *ns_alloc(size_t n)
{
    double complex *p = fftw_alloc_complex(n);

    if (!p) {
        fprintf(stderr, "sweep: out of memory allocating %zu bytes\n", n * sizeof(*p));
        abort();
    }
    memset(p, 0, n * sizeof(*p));
    return p;
}

static void ns_init(struct ns *s, const struct ns_config *c)
{
    int h;

    memset(s, 0, sizeof(*s));
    s->ndim = c->ndim;
    s->nbuf = c->ndim == 3 ? 6 : 3;
    memcpy(s->n, c->n, sizeof(s->n));
    h = s->ndim - 1; /* the axis FFTW halves */
    for (int a = 0; a < 3; a++)
        s->m[a] = a == h ? s->n[a] / 2 + 1 : s->n[a];
    if (s->ndim == 2)
        s->m[2] = 1;
    s->nmodes = s->m[0] * s->m[1] * s->m[2];
    s->len = s->n[h];
    s->rows = s->ndim == 3 ? s->n[0] * s->n[1] : s->n[0];
    s->pstride = 2 * s->m[h];
    s->nu = c->nu;
    s->inv_n = 1 / ((double)s->n[0] * (double)s->n[1] * (double)s->n[2]);
    for (int a = 0; a < 3; a++) {
        s->inv_dx[a] = a < s->ndim ? (double)s->n[a] / (2 * M_PI) : 0;
        s->k[a] = xcalloc(s->m[a], sizeof(double));
        s->keep[a] = xcalloc(s->m[a], sizeof(bool));
        for (size_t i = 0; i < s->m[a]; i++) {
            /* FFTW order: 0, 1, ..., n/2, then -n/2 + 1, ..., -1 on full axes. */
            double kv =
                a == h || i <= s->n[a] / 2 ? (double)i : (double)i - (double)s->n[a];
            s->k[a][i] = kv;
            s->keep[a][i] = 3 * fabs(kv) < (double)s->n[a];
        }
    }
    while (s->nkeep2 < s->m[2] && s->keep[2][s->nkeep2])
        s->nkeep2++;
    for (int comp = 0; comp < s->ndim; comp++) {
        s->u[comp] = ns_alloc(s->nmodes);
        s->acc[comp] = ns_alloc(s->nmodes);
        s->stage[comp] = ns_alloc(s->nmodes);
    }
    for (int b = 0; b < s->nbuf; b++)
        s->buf[b] = ns_alloc(s->nmodes);

    if (c->threads > 1 && !ns_threads_ready)
        ns_threads_ready = fftw_init_threads() != 0;
    if (ns_threads_ready)
        fftw_plan_with_nthreads(c->threads);
    if (s->ndim == 3) {
        s->r2c = fftw_plan_dft_r2c_3d((int)s->n[0], (int)s->n[1], (int)s->n[2],
                                      (double *)s->buf[0], s->buf[0], FFTW_ESTIMATE);
        s->c2r = fftw_plan_dft_c2r_3d((int)s->n[0], (int)s->n[1], (int)s->n[2],
                                      s->buf[0], (double *)s->buf[0], FFTW_ESTIMATE);
    } else {
        s->r2c = fftw_plan_dft_r2c_2d((int)s->n[0], (int)s->n[1], (double *)s->buf[0],
                                      s->buf[0], FFTW_ESTIMATE);
        s->c2r = fftw_plan_dft_c2r_2d((int)s->n[0], (int)s->n[1], s->buf[0],
                                      (double *)s->buf[0], FFTW_ESTIMATE);
    }
    /* Leave FFTW's global thread count as other models expect it. */
    if (ns_threads_ready)
        fftw_plan_with_nthreads(1);
    if (!s->r2c || !s->c2r) {
        fprintf(stderr, "sweep: bug: FFTW could not plan a %zux%zux%zu transform\n",
                s->n[0], s->n[1], s->n[2]);
        abort();
    }
}

static void ns_fini(struct ns *s)
{
    fftw_destroy_plan(s->r2c);
    fftw_destroy_plan(s->c2r);
    for (int c = 0; c < s->ndim; c++) {
        fftw_free(s->u[c]);
        fftw_free(s->acc[c]);
        fftw_free(s->stage[c]);
    }
    for (int b = 0; b < s->nbuf; b++)
        fftw_free(s->buf[b]);
    for (int a = 0; a < 3; a++) {
        free(s->k[a]);
        free(s->keep[a]);
    }
}

/* In-place transforms of one buffer, timed. The forward one is not normalized. */
static void ns_forward(struct ns *s, double complex *b)
{
    double t0 = time_mono();

    fftw_execute_dft_r2c(s->r2c, (double *)b, b);
    s->fft_time += time_mono() - t0;
}

static void ns_inverse(struct ns *s, double complex *b)
{
    double t0 = time_mono();

    fftw_execute_dft_c2r(s->c2r, b, (double *)b);
    s->fft_time += time_mono() - t0;
}

/* i * z without a complex multiplication (glibc's CMPLX is missing under clang). */
static double complex ns_times_i(double complex z)
{
    return __builtin_complex(-cimag(z), creal(z));
}

/* Spectral velocity `in` and its curl i k x u into the transform buffers: the modes
 * the 2/3 rule keeps, zeros elsewhere (the buffers hold the last transforms). */
static void ns_fill_buffers(struct ns *s, double complex *const in[3])
{
    double complex **b = s->buf;

    for (int n = 0; n < s->nbuf; n++)
        memset(b[n], 0, s->nmodes * sizeof(double complex));
    for (size_t i = 0; i < s->m[0]; i++) {
        double kx = s->k[0][i];
        for (size_t j = 0; j < s->m[1]; j++) {
            double ky = s->k[1][j];
            size_t line = (i * s->m[1] + j) * s->m[2];

            if (!s->keep[0][i] || !s->keep[1][j])
                continue;
            for (size_t idx = line; idx < line + s->nkeep2; idx++) {
                double kz = s->k[2][idx - line];
                double complex u = in[0][idx], v = in[1][idx], w;

                b[0][idx] = u;
                b[1][idx] = v;
                if (s->ndim == 2) {
                    b[2][idx] = ns_times_i(kx * v - ky * u);
                    continue;
                }
                w = in[2][idx];
                b[2][idx] = w;
                b[3][idx] = ns_times_i(ky * w - kz * v);
                b[4][idx] = ns_times_i(kz * u - kx * w);
                b[5][idx] = ns_times_i(kx * v - ky * u);
            }
        }
    }
}

/* The grid pass: statistics of u and omega, and u x omega into buffers 0..ndim-1. */
static void ns_cross(struct ns *s, struct ns_stats *st)
{
    double *b[6], umax2 = 0, wmax2 = 0, rate = 0, sum = 0;

    for (int i = 0; i < s->nbuf; i++)
        b[i] = (double *)s->buf[i];
    for (size_t r = 0; r < s->rows; r++) {
        for (size_t p = r * s->pstride, end = p + s->len; p < end; p++) {
            double u = b[0][p], v = b[1][p], w = 0, ox = 0, oy = 0, oz, rt, u2, w2;

            if (s->ndim == 3) {
                w = b[2][p];
                ox = b[3][p];
                oy = b[4][p];
                oz = b[5][p];
            } else {
                oz = b[2][p];
            }
            rt = fabs(u) * s->inv_dx[0] + fabs(v) * s->inv_dx[1] +
                 fabs(w) * s->inv_dx[2];
            u2 = u * u + v * v + w * w;
            w2 = ox * ox + oy * oy + oz * oz;
            sum += rt + w2; /* NaN and Inf survive a sum, not a max */
            rate = rt > rate ? rt : rate;
            umax2 = u2 > umax2 ? u2 : umax2;
            wmax2 = w2 > wmax2 ? w2 : wmax2;
            b[0][p] = v * oz - w * oy;
            b[1][p] = w * ox - u * oz;
            if (s->ndim == 3)
                b[2][p] = u * oy - v * ox;
        }
    }
    st->umax = sqrt(umax2);
    st->wmax = sqrt(wmax2);
    st->rate = rate;
    st->finite = isfinite(sum);
}

/* Evaluates u x omega of the spectral velocity `in`: 6 inverse and 3 forward
 * transforms in 3D; the (unnormalized, aliased) result is in buffers 0..ndim-1. */
static void ns_eval(struct ns *s, double complex *const in[3], struct ns_stats *st)
{
    ns_fill_buffers(s, in);
    for (int b = 0; b < s->nbuf; b++)
        ns_inverse(s, s->buf[b]);
    ns_cross(s, st);
    for (int c = 0; c < s->ndim; c++)
        ns_forward(s, s->buf[c]);
}

/* Completes RK4 stage `st` (0..3) from the evaluation in the buffers: the right-hand
 * side r = P(dealiased u x omega) - nu k^2 in, then
 *   stage 0: acc = u + dt/6 r, stage = u + dt/2 r
 *   1, 2:    acc += dt/3 r,   stage = u + dt/2 r (1) or u + dt r (2)
 *   3:       u = acc + dt/6 r.
 * Only the modes the 2/3 rule keeps are touched: elsewhere u, acc and stage are zero
 * from the start and stay so. The mean (k = 0) does not change. */
static void ns_update(struct ns *s, int st, double dt)
{
    static const double wacc[4] = {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6};
    static const double wstage[4] = {0.5, 0.5, 1, 0};
    double complex *const *in = st == 0 ? s->u : s->stage;
    double a = wacc[st] * dt, bs = wstage[st] * dt;

    for (size_t i = 0; i < s->m[0]; i++) {
        double kx = s->k[0][i];
        for (size_t j = 0; j < s->m[1]; j++) {
            double ky = s->k[1][j];
            size_t line = (i * s->m[1] + j) * s->m[2];

            if (!s->keep[0][i] || !s->keep[1][j])
                continue;
            for (size_t idx = line; idx < line + s->nkeep2; idx++) {
                double kz = s->k[2][idx - line], kv[3] = {kx, ky, kz};
                double k2 = kx * kx + ky * ky + kz * kz;
                double inv_k2 = k2 > 0 ? 1 / k2 : 0;
                double complex nl[3] = {0, 0, 0}, kn = 0;

                for (int c = 0; c < s->ndim && k2 > 0; c++) {
                    nl[c] = s->buf[c][idx] * s->inv_n;
                    kn += kv[c] * nl[c];
                }
                for (int c = 0; c < s->ndim; c++) {
                    double complex r =
                        nl[c] - kv[c] * inv_k2 * kn - s->nu * k2 * in[c][idx];
                    if (st == 0)
                        s->acc[c][idx] = s->u[c][idx] + a * r;
                    else
                        s->acc[c][idx] += a * r;
                    if (st < 3)
                        s->stage[c][idx] = s->u[c][idx] + bs * r;
                    else
                        s->u[c][idx] = s->acc[c][idx];
                }
            }
        }
    }
}

/* Stages 2 to 4 of a step whose first evaluation (of u) is in the buffers. */
static void ns_finish_step(struct ns *s, double dt)
{
    struct ns_stats st;

    ns_update(s, 0, dt);
    for (int i = 1; i < 4; i++) {
        ns_eval(s, s->stage, &st);
        ns_update(s, i, dt);
    }
}

static double ns_abs2(double complex z)
{
    return creal(z) * creal(z) + cimag(z) * cimag(z);
}

/* Energy 0.5 <u.u> and enstrophy 0.5 <omega.omega> of u by Parseval. Modes on the
 * halved axis other than 0 and n/2 stand for their conjugates too. */
static void ns_energy(const struct ns *s, double *energy, double *enstrophy)
{
    int h = s->ndim - 1;
    double e = 0, z = 0;
    size_t idx = 0, ix[3];

    for (ix[0] = 0; ix[0] < s->m[0]; ix[0]++) {
        for (ix[1] = 0; ix[1] < s->m[1]; ix[1]++) {
            for (ix[2] = 0; ix[2] < s->m[2]; ix[2]++, idx++) {
                double kx = s->k[0][ix[0]], ky = s->k[1][ix[1]], kz = s->k[2][ix[2]];
                double wt = ix[h] == 0 || 2 * ix[h] == s->n[h] ? 1 : 2;
                double complex u = s->u[0][idx], v = s->u[1][idx];
                double complex w = s->ndim == 3 ? s->u[2][idx] : 0;

                e += wt * (ns_abs2(u) + ns_abs2(v) + ns_abs2(w));
                z += wt * (ns_abs2(ky * w - kz * v) + ns_abs2(kz * u - kx * w) +
                           ns_abs2(kx * v - ky * u));
            }
        }
    }
    *energy = 0.5 * e;
    *enstrophy = 0.5 * z;
}

/* max |div u| over the grid: one inverse transform into the first vorticity buffer,
 * free after an evaluation (the velocity buffers hold its result). */
static double ns_divergence(struct ns *s)
{
    double complex *b = s->buf[s->ndim];
    double *d = (double *)b, dmax = 0;
    size_t idx = 0;

    for (size_t i = 0; i < s->m[0]; i++)
        for (size_t j = 0; j < s->m[1]; j++)
            for (size_t l = 0; l < s->m[2]; l++, idx++) {
                double complex kd =
                    s->k[0][i] * s->u[0][idx] + s->k[1][j] * s->u[1][idx];
                if (s->ndim == 3)
                    kd += s->k[2][l] * s->u[2][idx];
                b[idx] = ns_times_i(kd);
            }
    ns_inverse(s, b);
    for (size_t r = 0; r < s->rows; r++)
        for (size_t p = r * s->pstride, end = p + s->len; p < end; p++)
            dmax = fabs(d[p]) > dmax ? fabs(d[p]) : dmax;
    return dmax;
}

/* The initial velocity on the grid into buffers 0..ndim-1: Taylor-Green, or white
 * noise N(0, 1) drawn from the seed in grid order. */
static void ns_initial_grid(struct ns *s, const struct ns_config *c)
{
    struct rng rng;

    rng_init(&rng, c->seed, 0);
    for (int comp = 0; comp < s->ndim; comp++) {
        double *b = (double *)s->buf[comp];
        for (size_t i = 0; i < s->n[0]; i++) {
            double x = 2 * M_PI * (double)i / (double)s->n[0];
            for (size_t j = 0; j < s->n[1]; j++) {
                double y = 2 * M_PI * (double)j / (double)s->n[1];
                for (size_t l = 0; l < s->n[2]; l++) {
                    double z = 2 * M_PI * (double)l / (double)s->n[2];
                    size_t p = s->ndim == 3 ? (i * s->n[1] + j) * s->pstride + l
                                            : i * s->pstride + j;
                    if (c->random)
                        b[p] = rng_normal(&rng);
                    else if (comp == 0)
                        b[p] = sin(x) * cos(y) * cos(z);
                    else if (comp == 1)
                        b[p] = -cos(x) * sin(y) * cos(z);
                    else
                        b[p] = 0;
                }
            }
        }
    }
}

/* The initial spectral velocity: the transform of the grid field, dealiased, shaped to
 * the random spectrum, projected onto divergence-free fields, without a mean. */
static void ns_initial(struct ns *s, const struct ns_config *c)
{
    double energy, enstrophy;
    size_t idx = 0;

    ns_initial_grid(s, c);
    for (int comp = 0; comp < s->ndim; comp++)
        ns_forward(s, s->buf[comp]);
    for (size_t i = 0; i < s->m[0]; i++) {
        for (size_t j = 0; j < s->m[1]; j++) {
            for (size_t l = 0; l < s->m[2]; l++, idx++) {
                double kv[3] = {s->k[0][i], s->k[1][j], s->k[2][l]};
                double k2 = kv[0] * kv[0] + kv[1] * kv[1] + kv[2] * kv[2];
                double kk = sqrt(k2), shape = s->inv_n;
                bool live = s->keep[0][i] && s->keep[1][j] && s->keep[2][l] && k2 > 0;
                double complex v[3] = {0, 0, 0}, kvv = 0;

                /* White noise has a flat spectrum: scale each mode by the square
                 * root of E(k) over the number of modes in its shell. */
                if (c->random && live)
                    shape *= sqrt(pow(kk, 4) * exp(-2 * k2 / (c->k0 * c->k0)) /
                                  (s->ndim == 3 ? 4 * M_PI * k2 : 2 * M_PI * kk));
                for (int comp = 0; comp < s->ndim && live; comp++) {
                    v[comp] = s->buf[comp][idx] * shape;
                    kvv += kv[comp] * v[comp];
                }
                for (int comp = 0; comp < s->ndim; comp++)
                    s->u[comp][idx] = live ? v[comp] - kv[comp] / k2 * kvv : 0;
            }
        }
    }
    ns_energy(s, &energy, &enstrophy);
    if (c->random && energy > 0) {
        double scale = sqrt(c->e0 / energy);
        for (int comp = 0; comp < s->ndim; comp++)
            for (size_t m = 0; m < s->nmodes; m++)
                s->u[comp][m] *= scale;
    }
    s->fft_time = 0;
}

/* What the run produced, for the metrics. */
struct ns_result {
    int64_t steps;
    double t, energy, enstrophy, div_max, cfl_max, wmax_seen;
    double energy_prev; /* the energy of the row before, for the growth check */
    struct ns_stats last;
    double step_time, step_fft;
};

static int ns_row(struct ns *s, FILE *ts, double t, struct ns_result *res)
{
    double div = ns_divergence(s);

    ns_energy(s, &res->energy, &res->enstrophy);
    res->div_max = div > res->div_max ? div : res->div_max;
    return fprintf(ts, "%.17g,%.17g,%.17g,%.17g,%.17g\n", t, res->energy,
                   res->enstrophy, 2 * s->nu * res->enstrophy, res->last.umax) < 0;
}

/* The step after t, or 0 when the adaptive step collapsed. Lands on T_final without
 * leaving a sliver: a step that would leave less than itself takes half the rest. */
static double ns_choose_dt(
    const struct ns_config *c, int64_t n, double t, double rate, double *dt_first)
{
    double dt = c->dt, rest = c->t_final - t;

    if (c->cfl_max == 0)
        return n == c->n_fixed - 1 ? c->t_final - (double)n * c->dt : c->dt;
    if (dt > 0.9 * c->dt_visc)
        dt = 0.9 * c->dt_visc;
    if (rate > 0 && c->cfl_max / rate < dt)
        dt = c->cfl_max / rate;
    if (n == 0)
        *dt_first = dt;
    else if (dt < NS_DT_COLLAPSE * *dt_first)
        return 0;
    if (dt >= rest)
        return rest;
    return 2 * dt > rest ? rest / 2 : dt;
}

/* Stops the run: "WHAT at t=T (step N): REASON; ADVICE" (WHAT: "blow-up" or
 * "unstable"), with the energy of the state reached. Returns the exit status, 1. */
static int ns_stop(const struct ns *s,
                   struct ns_result *res,
                   struct err *err,
                   const char *what,
                   const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

static int ns_stop(const struct ns *s,
                   struct ns_result *res,
                   struct err *err,
                   const char *what,
                   const char *fmt,
                   ...)
{
    char reason[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    ns_energy(s, &res->energy, &res->enstrophy);
    err_set(err, SWEEP_EINVAL, "navier-stokes: %s at t=%g (step %lld): %s", what,
            res->t, (long long)res->steps, reason);
    return 1;
}

/* Steps from 0 to T_final, writing the time series. Returns 0, or 1 with err set on a
 * blow-up (a field not finite, an adaptive step that collapsed), an unstable run (a
 * step above the CFL limit, the energy growing between two rows) or a write error. */
static int ns_integrate(struct ns *s,
                        const struct ns_config *c,
                        FILE *ts,
                        struct ns_result *res,
                        struct err *err)
{
    double t = 0, dt_first = 0;
    int64_t n = 0;

    memset(res, 0, sizeof(*res));
    for (;;) {
        double t0 = time_mono(), f0 = s->fft_time, dt, seg, fseg, cfl;
        bool done = c->cfl_max == 0 ? n == c->n_fixed : t == c->t_final;
        bool row = n == 0 || done || (c->output_every > 0 && n % c->output_every == 0);

        ns_eval(s, s->u, &res->last);
        seg = time_mono() - t0;
        fseg = s->fft_time - f0;
        res->steps = n;
        res->t = t;
        if (!res->last.finite)
            return ns_stop(s, res, err, "blow-up",
                           "the velocity is not finite; reduce dt or raise the "
                           "resolution");
        if (res->last.wmax > res->wmax_seen)
            res->wmax_seen = res->last.wmax;
        if (row && ns_row(s, ts, t, res)) {
            err_set(err, SWEEP_EIO, "navier-stokes: cannot write timeseries.csv");
            return 1;
        }
        if (row && n > 0 &&
            !(res->energy <= res->energy_prev * (1 + NS_ENERGY_GROWTH_TOL)))
            return ns_stop(s, res, err, "unstable",
                           "the kinetic energy grew from %.6g to %.6g (more than %g "
                           "relative) in an unforced viscous run; reduce dt",
                           res->energy_prev, res->energy, NS_ENERGY_GROWTH_TOL);
        if (row)
            res->energy_prev = res->energy;
        if (done)
            return 0;
        dt = ns_choose_dt(c, n, t, res->last.rate, &dt_first);
        if (dt == 0)
            return ns_stop(s, res, err, "blow-up",
                           "the adaptive step fell below %g times the first one "
                           "(max velocity %.3g); raise the resolution",
                           NS_DT_COLLAPSE, res->last.umax);
        cfl = dt * res->last.rate;
        if (cfl > res->cfl_max)
            res->cfl_max = cfl;
        if (cfl > NS_RK4_CFL_LIMIT * (1 + 1e-12))
            return ns_stop(s, res, err, "unstable",
                           "CFL %.4g is above %g, the RK4 stability limit of this "
                           "scheme; reduce dt (to %.3g or less here) or set cfl_max > "
                           "0 to adapt the step",
                           cfl, NS_RK4_CFL_LIMIT, NS_RK4_CFL_LIMIT / res->last.rate);
        t0 = time_mono();
        f0 = s->fft_time;
        ns_finish_step(s, dt);
        res->step_time += seg + time_mono() - t0;
        res->step_fft += fseg + s->fft_time - f0;
        n++;
        if (c->cfl_max == 0)
            t = n == c->n_fixed ? c->t_final : (double)n * c->dt;
        else
            t = dt == c->t_final - t ? c->t_final : t + dt;
    }
}

/* A real metric, or null when it is not finite (JSON has no NaN). */
static void ns_set_real(json_t *metrics, const char *name, double v)
{
    json_object_set_new(metrics, name, isfinite(v) ? json_real(v) : json_null());
}

static void ns_metrics_set(const struct ns *s,
                           const struct ns_config *c,
                           const struct ns_result *res,
                           const struct err *err,
                           bool ok,
                           double elapsed,
                           json_t *metrics)
{
    double bound = c->cfl_max > 0 ? c->cfl_max : NS_FIXED_CFL_BOUND;
    double div_tol = NS_DIV_TOL * (res->wmax_seen > 1 ? res->wmax_seen : 1);
    bool conv = ok && res->last.finite && res->div_max <= div_tol &&
                res->cfl_max <= bound * (1 + 1e-12);

    json_object_set_new(metrics, "success", json_boolean(ok));
    if (!ok)
        json_object_set_new(metrics, "error",
                            json_string(err->msg[0] ? err->msg : "the run failed"));
    json_object_set_new(metrics, "n_steps", json_integer((json_int_t)res->steps));
    ns_set_real(metrics, "final_time", res->t);
    ns_set_real(metrics, "max_velocity", res->last.umax);
    ns_set_real(metrics, "max_vorticity", res->last.wmax);
    ns_set_real(metrics, "energy", res->energy);
    ns_set_real(metrics, "enstrophy", res->enstrophy);
    ns_set_real(metrics, "dissipation", 2 * s->nu * res->enstrophy);
    ns_set_real(metrics, "divergence_max", res->div_max);
    ns_set_real(metrics, "cfl_max", res->cfl_max);
    json_object_set_new(metrics, "convergence", json_boolean(conv));
    ns_set_real(metrics, "execution_time", elapsed);
    ns_set_real(metrics, "time_per_step",
                res->steps ? res->step_time / (double)res->steps : 0);
    ns_set_real(metrics, "fft_time", res->step_fft);
    ns_set_real(metrics, "fft_fraction",
                res->step_time > 0 ? res->step_fft / res->step_time : 0);
}

/* The parameter check before anything runs: even grid sizes, the memory the grid
 * needs (NS_MAX_BYTES), T_final >= dt, the number of steps and the viscous limit of a
 * fixed dt. */
static int ns_check(const struct model_args *args, struct err *err)
{
    struct ns_config c;

    return ns_config_read(args, &c, err);
}

static int ns_run(const struct model_args *args, json_t *metrics, struct err *err)
{
    double start = time_mono();
    struct ns_config c;
    struct ns_result res;
    struct ns s;
    char *path;
    FILE *ts;
    int rc;

    if (ns_config_read(args, &c, err))
        return 2;
    path = xasprintf("%s/timeseries.csv", args->outdir);
    ts = fopen(path, "we");
    if (!ts) {
        err_set(err, SWEEP_EIO, "navier-stokes: cannot write %s: %s", path,
                strerror(errno));
        free(path);
        return 1;
    }
    ns_init(&s, &c);
    ns_initial(&s, &c);
    fputs("t,energy,enstrophy,dissipation,max_velocity\n", ts);
    rc = ns_integrate(&s, &c, ts, &res, err);
    if (fclose(ts) != 0 && rc == 0) {
        err_set(err, SWEEP_EIO, "navier-stokes: cannot write %s: %s", path,
                strerror(errno));
        rc = 1;
    }
    ns_metrics_set(&s, &c, &res, err, rc == 0, time_mono() - start, metrics);
    ns_fini(&s);
    free(path);
    return rc;
}

const struct model model_navier_stokes = {
    .name = "navier-stokes",
    .summary = "incompressible Navier-Stokes in a periodic box, pseudo-spectral",
    .description =
        "The incompressible Navier-Stokes equations in the periodic box [0, 2pi)^3 "
        "(grid_size [nx, ny, 1]: the 2D equations), unit velocity and length, nu = "
        "1/Re. Pseudo-spectral (FFTW3): the nonlinear term u x omega on the grid, "
        "dealiased by the 2/3 rule, pressure by projection in Fourier space, "
        "classical RK4 in time with the viscous term explicit (dt <= 2.78 / (nu "
        "k_max^2)), fixed dt or adaptive with cfl_max. Starts from the Taylor-Green "
        "vortex or a random divergence-free field with E(k) ~ k^4 exp(-2 (k/k0)^2). "
        "Writes timeseries.csv (t, energy, enstrophy, dissipation, max_velocity) "
        "every output_every steps. A run stops with success false, an error and exit "
        "status 1 when a field is not finite, a step's CFL number is above 1.35 (the "
        "RK4 stability limit of the scheme) or the energy grows between two rows.",
    .example = "--set Re=1600 --set grid_size=[64,64,64] --set T_final=1",
    .params = ns_params,
    .nparams = MODEL_COUNT(ns_params),
    .metrics = ns_metrics,
    .nmetrics = MODEL_COUNT(ns_metrics),
    .run = ns_run,
    .check = ns_check,
};
