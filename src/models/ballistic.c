/* The ballistic model: ballistic particle-cluster aggregation (Vold 1963, Sutherland
 * 1966; on the lattice as in Meakin 1983) on the square (2D) or simple cubic (3D)
 * lattice. The cluster starts as one occupied site at the origin. Each particle
 * arrives on a straight line with a direction uniform on the circle (sphere) and an
 * impact offset uniform on the segment (disc) of radius R = rc + 2 across it, rc being
 * the largest distance of an occupied site from the seed: every site next to the
 * cluster lies within rc + 1 and its cell within rc + 1.87, so every contact can be
 * reached, and the line is followed only inside the circle (sphere) of radius R. The
 * particle moves through the lattice cells its line crosses, in order (exact grid
 * traversal, Amanatides & Woo 1987: successive cells share a face, so it never slips
 * diagonally past a site), and sticks at the first empty site with an occupied nearest
 * neighbour; a particle whose line leaves the circle without a contact is discarded
 * (counted in `missed`). With sticking_probability p < 1 it sticks at each contact with
 * probability p and otherwise goes on along its line, so it can reach deeper into the
 * cluster; if the next cell is occupied it cannot go on and sticks where it is. Each
 * particle costs O(R) cell steps, so n particles take O(n^(1 + 1/df)). The lattice (one
 * byte a site) doubles its width whenever the cluster comes within 4 sites of its edge.
 * Ballistic clusters are denser than DLA: df tends to dim for large clusters, slowly
 * (in 2D, with the fit of cluster.c, 1.88 at 10^4, 1.90 at 10^5 and 1.92 at 10^6
 * particles, 5 seeds each). */
#include "model.h"

#include "cluster.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Status of a run refused for its parameters or memory, and of an unwritable image. */
#define BALLISTIC_EXIT_BAD_PARAMS 2
#define BALLISTIC_EXIT_IO 3

/* Runs that would need more memory than this are refused before allocating it. */
#define BALLISTIC_MEMORY_LIMIT (2.0 * 1024 * 1024 * 1024)
#define BALLISTIC_GIB (1024.0 * 1024 * 1024)

/* Site bits. */
#define BALLISTIC_OCCUPIED 1
#define BALLISTIC_CONTACT 2 /* has an occupied nearest neighbour */

/* The initial lattice half-width, and the distance in sites the cluster keeps from the
 * lattice edge (the traversal reads cells up to rc + 2.87 from the seed). */
#define BALLISTIC_HALF0 16
#define BALLISTIC_EDGE 4

static const struct model_param ballistic_params[] = {
    CLUSTER_PARAM_N_PARTICLES("particles in the final cluster, the seed included"),
    CLUSTER_PARAM_SEED,
    CLUSTER_PARAM_STICKING(
        "probability of sticking at each contact; otherwise the particle goes "
        "on along its line"),
    CLUSTER_PARAM_RADIUS(
        "radius of a particle in the picture and the analysis (the fit "
        "starts at 4 radii); the lattice spacing is 1"),
    CLUSTER_PARAM_DIM("2: square lattice, 3: simple cubic lattice"),
    CLUSTER_PARAM_FILE(
        "image",
        "file name (.png, .svg or .pdf) in the output directory for a picture "
        "of the cluster coloured by arrival order; empty: none"),
};

static const struct model_metric ballistic_metrics[] = {
    {.name = "n_particles",
     .desc = "the n_particles parameter, reported back (not measured: the cluster "
             "always grows to it; see missed)"},
    {.name = "rg",
     .unit = "lattice units",
     .desc = "radius of gyration about the centre of mass"},
    {.name = "df", .desc = "mass-radius fractal dimension (null if too small to fit)"},
    {.name = "df_fit_r2", .desc = "r^2 of the log N(r) against log r fit"},
    {.name = "max_radius",
     .unit = "lattice units",
     .desc = "largest distance of a particle from the seed"},
    {.name = "fit_rmin",
     .unit = "lattice units",
     .desc = "smallest radius of the df fit"},
    {.name = "fit_rmax",
     .unit = "lattice units",
     .desc = "largest radius of the df fit"},
    {.name = "missed", .desc = "particles whose line missed the cluster (discarded)"},
    {.name = "execution_time", .unit = "s", .desc = "wall-clock time of the run"},
};

/* The lattice: sites -half..half on each axis (z = 0 only in 2D), site (x, y, z) at
 * index (x + half) + side (y + half) + side^2 (z + half). */
struct ballistic {
    int dim;
    int64_t half, side;
    uint8_t *site;       /* BALLISTIC_* bits */
    ptrdiff_t stride[3]; /* index offset of one step along each axis */
    double rc;           /* largest distance of an occupied site from the seed */
};

static double ballistic_bytes(int64_t half, int dim)
{
    return pow(2.0 * (double)half + 1, dim);
}

/* A memory estimate for n particles before the run: the positions and the lattice the
 * doubling reaches for a cluster of radius 2 sqrt(n) (2D) or 2.5 n^(1/3) (3D), above
 * the radii measured (over 10 seeds at most 1.92 sqrt(n) and 2.03 n^(1/3) for 2 to
 * 10^4 particles; 1.0 sqrt(n) and 1.5 n^(1/3) at 10^6). */
static double ballistic_estimate(int64_t n, int dim)
{
    double r = (dim == 2 ? 2.0 : 2.5) * pow((double)n, 1.0 / dim);
    double half = BALLISTIC_HALF0;

    while (half < r + BALLISTIC_EDGE)
        half *= 2;
    return ballistic_bytes((int64_t)half, dim) + (double)n * 3 * sizeof(double);
}

static size_t ballistic_index(const struct ballistic *b, const int64_t *x)
{
    size_t i = (size_t)(x[0] + b->half) + (size_t)(x[1] + b->half) * (size_t)b->side;

    if (b->dim == 3)
        i += (size_t)(x[2] + b->half) * (size_t)(b->side * b->side);
    return i;
}

/* Marks the site at x occupied and its neighbours as contacts. */
static void ballistic_mark(struct ballistic *b, const int64_t *x)
{
    size_t i = ballistic_index(b, x);

    b->site[i] |= BALLISTIC_OCCUPIED;
    for (int a = 0; a < b->dim; a++) {
        b->site[i + (size_t)b->stride[a]] |= BALLISTIC_CONTACT;
        b->site[i - (size_t)b->stride[a]] |= BALLISTIC_CONTACT;
    }
}

/* Allocates the lattice of half-width `half` and marks the cluster's sites on it. */
static void ballistic_alloc(struct ballistic *b, int64_t half, const struct cluster *c)
{
    free(b->site);
    b->half = half;
    b->side = 2 * half + 1;
    b->site = xcalloc((size_t)ballistic_bytes(half, b->dim), 1);
    b->stride[0] = 1;
    b->stride[1] = (ptrdiff_t)b->side;
    b->stride[2] = (ptrdiff_t)(b->side * b->side);
    for (size_t k = 0; k < c->n; k++) {
        int64_t x[3] = {(int64_t)c->pos[3 * k], (int64_t)c->pos[3 * k + 1],
                        (int64_t)c->pos[3 * k + 2]};
        ballistic_mark(b, x);
    }
}

/* Adds the particle at x to the cluster, doubling the lattice when the cluster comes
 * within BALLISTIC_EDGE sites of its edge. Returns SWEEP_OK, or SWEEP_EINVAL when the
 * larger lattice would need more than the memory limit. */
static int ballistic_occupy(struct ballistic *b,
                            const int64_t *x,
                            struct cluster *c,
                            struct err *err)
{
    double r = sqrt((double)(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]));
    int64_t half = b->half;

    cluster_add(c, (double)x[0], (double)x[1], (double)x[2]);
    ballistic_mark(b, x);
    if (r <= b->rc)
        return SWEEP_OK;
    b->rc = r;
    while ((double)half < ceil(b->rc) + BALLISTIC_EDGE)
        half *= 2;
    if (half == b->half)
        return SWEEP_OK;
    if (ballistic_bytes(half, b->dim) > BALLISTIC_MEMORY_LIMIT)
        return err_set(err, SWEEP_EINVAL,
                       "ballistic: after %zu particles the cluster needs a lattice of "
                       "%.1f GiB, more than the limit of %.0f GiB; reduce n_particles",
                       c->n, ballistic_bytes(half, b->dim) / BALLISTIC_GIB,
                       BALLISTIC_MEMORY_LIMIT / BALLISTIC_GIB);
    ballistic_alloc(b, half, c);
    return SWEEP_OK;
}

/* Draws a line: a unit direction u and the point q of the line closest to the seed
 * (q perpendicular to u), |q| uniform on the segment (2D) or the disc (3D) of radius
 * R. */
static void
ballistic_line(struct rng *rng, int dim, double radius, double *u, double *q)
{
    double phi = 2 * M_PI * rng_uniform(rng);

    if (dim == 2) {
        double s = radius * (2 * rng_uniform(rng) - 1);

        u[0] = cos(phi);
        u[1] = sin(phi);
        u[2] = 0;
        q[0] = -s * u[1];
        q[1] = s * u[0];
        q[2] = 0;
    } else {
        double uz = 2 * rng_uniform(rng) - 1, st = sqrt(1 - uz * uz);
        double rr = radius * sqrt(rng_uniform(rng)), al = 2 * M_PI * rng_uniform(rng);
        /* e1 and e2 = u x e1: an orthonormal basis of the plane across u. */
        double e1[3] = {-sin(phi), cos(phi), 0};
        double e2[3] = {-uz * cos(phi), -uz * sin(phi), st};

        u[0] = st * cos(phi);
        u[1] = st * sin(phi);
        u[2] = uz;
        for (int a = 0; a < 3; a++)
            q[a] = rr * (cos(al) * e1[a] + sin(al) * e2[a]);
    }
}

/* Follows one particle along its line through the circle (sphere) of radius R around
 * the seed. Returns true and sets x to the site where it sticks, or false if it
 * misses. */
static bool ballistic_fly(
    const struct ballistic *b, struct rng *rng, double p, double radius, int64_t *x)
{
    double u[3], q[3], p0[3], tmax[3], tdelta[3], len;
    int64_t prev[3];
    int step[3];

    ballistic_line(rng, b->dim, radius, u, q);
    len = sqrt(fmax(0, radius * radius - (q[0] * q[0] + q[1] * q[1] + q[2] * q[2])));
    for (int a = 0; a < 3; a++) {
        p0[a] = q[a] - len * u[a];
        x[a] = a < b->dim ? (int64_t)lround(p0[a]) : 0;
        step[a] = u[a] > 0 ? 1 : -1;
        tdelta[a] = a < b->dim && u[a] != 0 ? 1 / fabs(u[a]) : INFINITY;
        tmax[a] =
            isinf(tdelta[a]) ? INFINITY : ((double)x[a] + 0.5 * step[a] - p0[a]) / u[a];
    }
    /* The first cell is at least rc + 1.13 from the seed: neither occupied nor a
     * contact, so `prev` is always set when the particle is blocked. */
    memcpy(prev, x, sizeof(prev));
    for (;;) {
        uint8_t s = b->site[ballistic_index(b, x)];
        int a = 0;

        if (s & BALLISTIC_OCCUPIED) { /* blocked: stays in the contact before */
            memcpy(x, prev, sizeof(prev));
            return true;
        }
        if ((s & BALLISTIC_CONTACT) && (p >= 1 || rng_uniform(rng) < p))
            return true;
        memcpy(prev, x, sizeof(prev));
        for (int k = 1; k < b->dim; k++)
            if (tmax[k] < tmax[a])
                a = k;
        if (tmax[a] > 2 * len)
            return false;
        x[a] += step[a];
        tmax[a] += tdelta[a];
    }
}

/* The estimate for n particles must fit in BALLISTIC_MEMORY_LIMIT. */
static int ballistic_memory_check(int64_t n, int dim, struct err *err)
{
    double need = ballistic_estimate(n, dim);

    if (need > BALLISTIC_MEMORY_LIMIT)
        return err_set(err, SWEEP_EINVAL,
                       "ballistic: n_particles = %lld in %dD needs about %.1f GiB of "
                       "memory, more than the limit of %.0f GiB; reduce n_particles",
                       (long long)n, dim, need / BALLISTIC_GIB,
                       BALLISTIC_MEMORY_LIMIT / BALLISTIC_GIB);
    return SWEEP_OK;
}

/* Grows a ballistic cluster of n particles into c (initialised for dim, empty), the
 * seed at the origin; *missed counts the discarded particles. Exported for the tests.
 * Returns SWEEP_OK, or SWEEP_EINVAL when the lattice would need more than the memory
 * limit (before allocating anything when the estimate for n says so). */
int ballistic_grow(struct cluster *c,
                   int64_t n,
                   int dim,
                   double sticking_probability,
                   uint64_t seed,
                   int64_t *missed,
                   struct err *err)
{
    struct ballistic b = {.dim = dim};
    int64_t x[3] = {0, 0, 0};
    struct rng rng;
    int rc;

    *missed = 0;
    if (ballistic_memory_check(n, dim, err) != SWEEP_OK)
        return SWEEP_EINVAL;
    rng_init(&rng, seed, 0);
    ballistic_alloc(&b, BALLISTIC_HALF0, c);
    rc = ballistic_occupy(&b, x, c, err);
    while (rc == SWEEP_OK && (int64_t)c->n < n) {
        if (ballistic_fly(&b, &rng, sticking_probability, b.rc + 2, x))
            rc = ballistic_occupy(&b, x, c, err);
        else
            ++*missed;
    }
    free(b.site);
    return rc;
}

/* The parameter check before anything runs: the image name and the memory. */
static int ballistic_check(const struct model_args *args, struct err *err)
{
    const char *image = model_arg_str(args, "image");

    if (*image && cluster_image_check(image, err) != SWEEP_OK) {
        err_prefix(err, "ballistic");
        return SWEEP_EINVAL;
    }
    return ballistic_memory_check(model_arg_int(args, "n_particles"),
                                  (int)model_arg_int(args, "dim"), err);
}

static int
ballistic_run(const struct model_args *args, json_t *metrics, struct err *err)
{
    int64_t n = model_arg_int(args, "n_particles"), missed;
    uint64_t seed = (uint64_t)model_arg_int(args, "seed");
    double p = model_arg_real(args, "sticking_probability");
    double radius = model_arg_real(args, "particle_radius");
    int dim = (int)model_arg_int(args, "dim");
    const char *image = model_arg_str(args, "image");
    double start = time_mono();
    struct cluster_stats stats;
    struct cluster c;
    char *path = NULL;
    int rc = 0;

    if (*image && cluster_image_check(image, err) != SWEEP_OK) {
        err_prefix(err, "ballistic");
        return BALLISTIC_EXIT_BAD_PARAMS;
    }
    cluster_init(&c, dim);
    if (ballistic_grow(&c, n, dim, p, seed, &missed, err) != SWEEP_OK) {
        rc = BALLISTIC_EXIT_BAD_PARAMS;
        goto out;
    }
    cluster_analyze(&c, radius, &stats);
    cluster_metrics(&stats, c.n, metrics);
    json_object_set_new(metrics, "missed", json_integer((json_int_t)missed));
    if (*image) {
        path = xasprintf("%s/%s", args->outdir, image);
        if (cluster_write_image(&c, radius, path, err) != SWEEP_OK) {
            err_prefix(err, "ballistic");
            rc = BALLISTIC_EXIT_IO;
        }
    }
    json_object_set_new(metrics, "execution_time", json_real(time_mono() - start));
out:
    free(path);
    cluster_fini(&c);
    return rc;
}

const struct model model_ballistic = {
    .name = "ballistic",
    .summary = "ballistic particle-cluster aggregation: particles on straight lines",
    .description =
        "Ballistic particle-cluster aggregation (Vold, Sutherland) on the square (dim "
        "2) or simple cubic (dim 3) lattice from one site: each particle arrives on a "
        "straight line with a random direction and a random offset across the "
        "cluster, follows the lattice cells its line crosses and sticks at the first "
        "empty site next to the cluster, or is discarded (missed) if the line passes "
        "by. With sticking_probability < 1 it sticks at each contact with that "
        "probability and otherwise goes on along its line. Clusters are denser than "
        "DLA (df near dim). Reports rg, the mass-radius df and its fit, max_radius, "
        "missed; image=NAME.png writes a picture coloured by arrival order.",
    .example = "--set n_particles=10000 --set image=ballistic.png",
    .params = ballistic_params,
    .nparams = MODEL_COUNT(ballistic_params),
    .metrics = ballistic_metrics,
    .nmetrics = MODEL_COUNT(ballistic_metrics),
    .run = ballistic_run,
    .check = ballistic_check,
};
