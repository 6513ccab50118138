/* The dla model: Witten-Sander diffusion-limited aggregation on the square (dim 2) or
 * simple cubic (dim 3) lattice. A seed occupies the centre; one walker at a time is
 * launched uniformly on the circle (sphere) of radius R_launch = R_max + 5 sites,
 * R_max being the largest distance of an occupied site from the centre, and walks
 * until it sits on an empty site next to the cluster, where it sticks with
 * probability sticking_probability (otherwise it steps to a random empty neighbour
 * and walks on). Large clusters are practical because the walker moves in large
 * steps wherever the cluster is far:
 *  - beyond R_launch + 1 it is put back on the launch circle in one move, at the
 *    point where a Brownian walker from there first hits it: the exterior Poisson
 *    kernel, a wrapped Cauchy angle in 2D; in 3D the walker escapes for good with
 *    probability 1 - R/r (and a new walker is launched, which is the same thing) or
 *    lands by the inverted distribution of the kernel. No kill radius is needed;
 *  - outside the cluster's circle it jumps r - R_max - 2 in a random direction;
 *  - elsewhere a hierarchy of occupancy grids (level k: cells of 2^k sites, marked
 *    when any site in them is occupied) bounds the distance to the cluster: if the
 *    3^dim cells of level k around the walker are empty, every occupied site is more
 *    than 2^k sites away, and the walker jumps 2^k - 1 in a random direction.
 * A jump ends on the nearest site to the point reached, which is never on or next to
 * the cluster (it stays at least 2 sites clear before rounding, which moves it by at
 * most sqrt(3)/2). This is the usual continuum approximation of the walk far from
 * the cluster, exact in the limit of large distances; next to the cluster the walk
 * is the lattice walk. The lattice (one byte per site, and a twelfth more in 2D for
 * the coarse levels) grows with the cluster, doubling and refilled from the list of
 * sites; the run is refused before it starts when the lattice that n_particles is
 * expected to need passes DLA_MAX_BYTES (2 GiB), and stopped, saying so, if a
 * cluster outgrows that bound. Stored positions are site indices times the lattice
 * spacing 2 * particle_radius, so that touching particles of that radius sit on
 * neighbouring sites; particle_radius only scales positions, the analysis range and
 * the picture. Time: about 2 s for 10^5 particles in 2D on one core. */
#include "model.h"

#include "cluster.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DLA_EXIT_BAD_PARAMS 2
#define DLA_EXIT_IO 3

#define DLA_MAX_BYTES (2.0 * 1024 * 1024 * 1024) /* lattice and positions */
#define DLA_LAUNCH_GAP 5                         /* R_launch - R_max, sites */
#define DLA_HALF0 32                             /* initial half side, sites */
#define DLA_MAX_LEVELS 32

static const struct model_param dla_params[] = {
    CLUSTER_PARAM_N_PARTICLES("particles in the final cluster, the seed included"),
    CLUSTER_PARAM_SEED,
    CLUSTER_PARAM_STICKING(
        "probability that a walker next to the cluster sticks at each visit"),
    {.name = "particle_radius",
     .type = MODEL_REAL,
     .def = "1",
     .min = MODEL_EXCL(0),
     .max = MODEL_INCL(1e100),
     .desc = "particle radius; the lattice spacing is twice this (scales positions, "
             "the fit range and the picture): lengths are in the unit of this value, "
             "lattice units / 2 with the default 1"},
    CLUSTER_PARAM_DIM("2: square lattice; 3: simple cubic lattice"),
    CLUSTER_PARAM_FILE(
        "image",
        "file name (.png, .svg or .pdf) in the output directory for a picture "
        "of the cluster coloured by arrival order; empty: none"),
    CLUSTER_PARAM_FILE(
        "positions",
        "file name in the output directory for the particle positions as CSV "
        "(x,y,z in arrival order); empty: none"),
};

static const struct model_metric dla_metrics[] = {
    {.name = "n_particles",
     .desc = "the n_particles parameter, reported back (not measured: the cluster "
             "always grows to it)"},
    {.name = "df",
     .desc = "mass-radius fractal dimension, slope of log N(r) over [fit_rmin, "
             "fit_rmax]; null for a cluster too small to fit"},
    {.name = "rg",
     .unit = "as particle_radius",
     .desc = "radius of gyration about the centre of mass"},
    {.name = "df_fit_r2", .desc = "r^2 of the df fit"},
    {.name = "max_radius",
     .unit = "as particle_radius",
     .desc = "largest distance of a particle from the seed"},
    {.name = "fit_rmin",
     .unit = "as particle_radius",
     .desc = "smallest radius of the df fit: max(5, 4 radii)"},
    {.name = "fit_rmax",
     .unit = "as particle_radius",
     .desc = "largest radius of the df fit: max_radius / 2"},
    {.name = "walker_steps",
     .desc = "walker moves in all: lattice steps, jumps and returns"},
    {.name = "execution_time", .unit = "s", .desc = "wall-clock time of the run"},
};

/* The lattice and the walk. Coordinates are site offsets from the centre; the grid
 * covers [-half, half) on every axis, with half a power of two. */
struct dla {
    int dim;
    int half, side;                /* side = 2 * half */
    int levels;                    /* mark[2 .. levels - 1] exist */
    uint8_t *occ;                  /* side^dim sites, 1 = occupied */
    uint8_t *mark[DLA_MAX_LEVELS]; /* (side >> k)^dim cells */
    int *sites;                    /* occupied sites, 3 per particle, arrival order */
    size_t nsites, cap;
    double rmax; /* R_max, sites */
    double p;    /* sticking probability */
    struct rng rng;
    uint64_t steps;
};

/* Cells in a level-k grid of a lattice of the given side (k = 0: the sites). */
static size_t dla_cells(int side, int dim, int k)
{
    size_t n = (size_t)(side >> k);

    return dim == 2 ? n * n : n * n * n;
}

/* Bytes of a lattice of half side `half`: sites plus the coarse levels. */
static double dla_lattice_bytes(int half, int dim)
{
    double bytes = 0;

    for (int k = 0; (2 * half) >> k >= 1; k++)
        if (k == 0 || k >= 2)
            bytes += (double)dla_cells(2 * half, dim, k);
    return bytes;
}

static size_t dla_index(const struct dla *d, const int *w, int k)
{
    size_t n = (size_t)(d->side >> k);
    size_t x = (size_t)(w[0] + d->half) >> k, y = (size_t)(w[1] + d->half) >> k;

    if (d->dim == 2)
        return y * n + x;
    return ((size_t)(w[2] + d->half) >> k) * n * n + y * n + x;
}

/* Allocates an empty lattice of half side `half`. */
static void dla_alloc(struct dla *d, int half)
{
    d->half = half;
    d->side = 2 * half;
    d->occ = xcalloc(dla_cells(d->side, d->dim, 0), 1);
    d->levels = 2;
    while (d->levels < DLA_MAX_LEVELS && d->side >> d->levels >= 1) {
        d->mark[d->levels] = xcalloc(dla_cells(d->side, d->dim, d->levels), 1);
        d->levels++;
    }
}

/* Frees the lattice (not the list of sites). */
static void dla_free_lattice(struct dla *d)
{
    free(d->occ);
    for (int k = 2; k < d->levels; k++)
        free(d->mark[k]);
}

/* Marks site w occupied on every level. */
static void dla_mark(struct dla *d, const int *w)
{
    d->occ[dla_index(d, w, 0)] = 1;
    for (int k = 2; k < d->levels; k++)
        d->mark[k][dla_index(d, w, k)] = 1;
}

/* Occupies site w: the lattice, the list of sites and R_max. */
static void dla_occupy(struct dla *d, const int *w)
{
    double r = sqrt((double)w[0] * w[0] + (double)w[1] * w[1] + (double)w[2] * w[2]);

    dla_mark(d, w);
    d->sites = xgrow(d->sites, &d->cap, 3 * (d->nsites + 1), sizeof(int));
    memcpy(d->sites + 3 * d->nsites++, w, 3 * sizeof(int));
    d->rmax = fmax(d->rmax, r);
}

/* Bytes of the lists of n particles (positions and sites), counting the doubling of
 * their arrays. */
static double dla_list_bytes(double n)
{
    return 2 * n * (3 * sizeof(double) + 3 * sizeof(int));
}

/* Doubles the lattice and refills it from the list of sites. Returns 0, or
 * SWEEP_EINVAL (err set) when the new lattice would pass the memory bound. */
static int dla_grow(struct dla *d, struct err *err)
{
    double bytes =
        dla_lattice_bytes(2 * d->half, d->dim) + dla_list_bytes((double)d->nsites);

    if (bytes > DLA_MAX_BYTES || 2 * d->half > INT32_MAX / 4)
        return err_set(err, SWEEP_EINVAL,
                       "dla: the cluster outgrew the memory bound: a lattice of %d^%d "
                       "sites would need %.2f GiB, above the %.0f GiB bound",
                       4 * d->half, d->dim, bytes / (1 << 30),
                       DLA_MAX_BYTES / (1 << 30));
    dla_free_lattice(d);
    dla_alloc(d, 2 * d->half);
    for (size_t i = 0; i < d->nsites; i++)
        dla_mark(d, d->sites + 3 * i);
    return SWEEP_OK;
}

static int dla_round(double v)
{
    return (int)floor(v + 0.5);
}

/* Puts the walker at the nearest site to the point `len` away in a uniformly random
 * direction from `from` (real coordinates). */
static void dla_jump(struct dla *d, const double *from, double len, int *w)
{
    double u = 2 * M_PI * rng_uniform(&d->rng);

    if (d->dim == 2) {
        w[0] = dla_round(from[0] + len * cos(u));
        w[1] = dla_round(from[1] + len * sin(u));
        w[2] = 0;
    } else {
        double z = 2 * rng_uniform(&d->rng) - 1, s = sqrt(1 - z * z);
        w[0] = dla_round(from[0] + len * s * cos(u));
        w[1] = dla_round(from[1] + len * s * sin(u));
        w[2] = dla_round(from[2] + len * z);
    }
}

static void dla_launch(struct dla *d, double radius, int *w)
{
    const double origin[3] = {0, 0, 0};

    dla_jump(d, origin, radius, w);
}

/* A walker at distance r > radius from the centre, moved to where its Brownian path
 * first meets the sphere (circle) of that radius, or relaunched when in 3D it
 * escapes to infinity instead. */
static void dla_return(struct dla *d, int *w, double r, double radius)
{
    if (d->dim == 2) {
        /* The exterior Poisson kernel of a disc is the wrapped Cauchy distribution
         * with rho = radius / r: a Cauchy angle of scale log(r / radius), wrapped. */
        double gamma = log(r / radius);
        double t = atan2(w[1], w[0]) + gamma * tan(M_PI * (rng_uniform(&d->rng) - 0.5));
        w[0] = dla_round(radius * cos(t));
        w[1] = dla_round(radius * sin(t));
        return;
    }
    if (rng_uniform(&d->rng) >= radius / r) {
        dla_launch(d, radius, w);
        return;
    }
    /* The kernel given a hit, r (r^2 - R^2) / (2 (r^2 + R^2 - 2 r R t)^(3/2)) in
     * t = cos(angle from the walker's direction), inverted; the azimuth is uniform. */
    {
        double e[3] = {w[0] / r, w[1] / r, w[2] / r}, a[3], b[3], n;
        double u = rng_uniform(&d->rng), phi = 2 * M_PI * rng_uniform(&d->rng);
        double s = 1 / (2 * radius * u / (r * r - radius * radius) + 1 / (r + radius));
        double t = (r * r + radius * radius - s * s) / (2 * r * radius), q;
        int axis = 0;

        t = fmax(-1, fmin(1, t));
        q = sqrt(1 - t * t);
        for (int k = 1; k < 3; k++)
            if (fabs(e[k]) < fabs(e[axis]))
                axis = k;
        /* a = e x (unit vector of the axis where e is smallest), b = e x a. */
        a[0] = axis == 0 ? 0 : axis == 1 ? -e[2] : e[1];
        a[1] = axis == 0 ? e[2] : axis == 1 ? 0 : -e[0];
        a[2] = axis == 0 ? -e[1] : axis == 1 ? e[0] : 0;
        n = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
        for (int k = 0; k < 3; k++)
            a[k] /= n;
        b[0] = e[1] * a[2] - e[2] * a[1];
        b[1] = e[2] * a[0] - e[0] * a[2];
        b[2] = e[0] * a[1] - e[1] * a[0];
        for (int k = 0; k < 3; k++)
            w[k] = dla_round(radius *
                             (t * e[k] + q * (cos(phi) * a[k] + sin(phi) * b[k])));
    }
}

/* The empty neighbours of w into nb (2 * dim sites); returns their number. */
static int dla_free_neighbours(const struct dla *d, const int *w, int nb[][3])
{
    int count = 0;

    for (int axis = 0; axis < d->dim; axis++)
        for (int dir = -1; dir <= 1; dir += 2) {
            int v[3] = {w[0], w[1], w[2]};
            v[axis] += dir;
            if (!d->occ[dla_index(d, v, 0)]) {
                memcpy(nb[count], v, sizeof(v));
                count++;
            }
        }
    return count;
}

/* Whether the 3^dim cells of level k around the walker's cell are all unmarked
 * (cells outside the lattice are empty). */
static bool dla_block_empty(const struct dla *d, const int *w, int k)
{
    int n = d->side >> k, c[3] = {0, 0, 0}, zlo = 0, zhi = 0;
    const uint8_t *m = d->mark[k];

    for (int a = 0; a < d->dim; a++)
        c[a] = (w[a] + d->half) >> k;
    if (d->dim == 3) {
        zlo = c[2] > 0 ? c[2] - 1 : 0;
        zhi = c[2] < n - 1 ? c[2] + 1 : n - 1;
    }
    for (int z = zlo; z <= zhi; z++)
        for (int y = c[1] > 0 ? c[1] - 1 : 0; y <= c[1] + 1 && y < n; y++)
            for (int x = c[0] > 0 ? c[0] - 1 : 0; x <= c[0] + 1 && x < n; x++)
                if (m[((size_t)z * (size_t)n + (size_t)y) * (size_t)n + (size_t)x])
                    return false;
    return true;
}

/* The longest safe jump from w by the hierarchy: 2^k - 1 for the highest level k
 * whose block around w is empty, or 0 when even level 2 is not. */
static double dla_hierarchy_jump(const struct dla *d, const int *w)
{
    int k = 2;

    while (k < d->levels && dla_block_empty(d, w, k))
        k++;
    return k > 2 ? (double)((1 << (k - 1)) - 1) : 0;
}

/* Walks one walker from launch until it sticks; returns its site in w. */
static void dla_walk(struct dla *d, int *w)
{
    double launch = d->rmax + DLA_LAUNCH_GAP;
    int nb[6][3];

    dla_launch(d, launch, w);
    for (;;) {
        double r2 = (double)w[0] * w[0] + (double)w[1] * w[1] + (double)w[2] * w[2];
        double r = sqrt(r2), len;
        int free_nb;

        d->steps++;
        if (r > launch + 1) {
            dla_return(d, w, r, launch);
            continue;
        }
        free_nb = dla_free_neighbours(d, w, nb);
        if (free_nb < 2 * d->dim) {
            if (d->p >= 1 || rng_uniform(&d->rng) < d->p)
                return;
            memcpy(w, nb[rng_next(&d->rng) % (uint64_t)free_nb], sizeof(nb[0]));
            continue;
        }
        len = r - d->rmax - 2;
        if (len < 3)
            len = dla_hierarchy_jump(d, w);
        if (len >= 3) {
            const double from[3] = {w[0], w[1], w[2]};
            dla_jump(d, from, len, w);
        } else {
            memcpy(w, nb[rng_next(&d->rng) % (uint64_t)(2 * d->dim)], sizeof(nb[0]));
        }
    }
}

/* The lattice a cluster of n particles is expected to need, as a half side in sites
 * (a power of two), from R_max measured with this model and a margin: in 2D R_max was
 * 220, 726 and 3219 sites at n = 10^4, 10^5 and 10^6 (the arms of large square-lattice
 * clusters grow as n^(2/3)), estimated as 0.5 n^(2/3) + 50; in 3D 126 sites at 10^5,
 * estimated as n^(1/2.3) + 20. Denser clusters (p < 1) are smaller. */
static int dla_half_estimate(int64_t n, int dim)
{
    double r =
        dim == 2 ? 0.5 * pow((double)n, 2.0 / 3) + 50 : pow((double)n, 1 / 2.3) + 20;
    double need = r + DLA_LAUNCH_GAP + 4, half = DLA_HALF0;

    while (half < need)
        half *= 2;
    return half > (double)INT32_MAX / 4 ? INT32_MAX / 4 : (int)half;
}

/* Rules the row cannot state, checked before anything is computed: the image name
 * and the memory the run would need. */
static int dla_check(const struct model_args *args, struct err *err)
{
    int64_t n = model_arg_int(args, "n_particles");
    int dim = (int)model_arg_int(args, "dim");
    const char *image = model_arg_str(args, "image");
    int half = dla_half_estimate(n, dim);
    double bytes = dla_lattice_bytes(half, dim) + dla_list_bytes((double)n);

    if (*image && cluster_image_check(image, err) != SWEEP_OK) {
        err_prefix(err, "dla");
        return SWEEP_EINVAL;
    }
    if (bytes > DLA_MAX_BYTES)
        return err_set(err, SWEEP_EINVAL,
                       "dla: n_particles = %lld in %dD would need about %.1f GiB (a "
                       "lattice of %d^%d sites), above the %.0f GiB bound",
                       (long long)n, dim, bytes / (1 << 30), 2 * half, dim,
                       DLA_MAX_BYTES / (1 << 30));
    return SWEEP_OK;
}

/* The picture and the positions file, when asked for, in the output directory. */
static int
dla_write_files(const struct model_args *args, const struct cluster *c, struct err *err)
{
    const char *image = model_arg_str(args, "image");
    const char *positions = model_arg_str(args, "positions");
    double radius = model_arg_real(args, "particle_radius");
    int rc = SWEEP_OK;

    if (*image) {
        char *path = xasprintf("%s/%s", args->outdir, image);
        rc = cluster_write_image(c, radius, path, err);
        free(path);
    }
    if (rc == SWEEP_OK && *positions) {
        char *path = xasprintf("%s/%s", args->outdir, positions);
        rc = cluster_write_positions(c, path, err);
        free(path);
    }
    if (rc != SWEEP_OK)
        err_prefix(err, "dla");
    return rc;
}

static int dla_run(const struct model_args *args, json_t *metrics, struct err *err)
{
    int64_t n = model_arg_int(args, "n_particles");
    double radius = model_arg_real(args, "particle_radius"), spacing = 2 * radius;
    double start = time_mono();
    struct cluster_stats stats;
    struct cluster c;
    struct dla d;
    int w[3] = {0, 0, 0}, rc = 0;

    if (dla_check(args, err) != SWEEP_OK)
        return DLA_EXIT_BAD_PARAMS;
    memset(&d, 0, sizeof(d));
    d.dim = (int)model_arg_int(args, "dim");
    d.p = model_arg_real(args, "sticking_probability");
    rng_init(&d.rng, (uint64_t)model_arg_int(args, "seed"), 0);
    dla_alloc(&d, DLA_HALF0);
    cluster_init(&c, d.dim);
    c.seed[0] = c.seed[1] = c.seed[2] = 0;
    dla_occupy(&d, w);
    cluster_add(&c, 0, 0, 0);
    while ((int64_t)c.n < n) {
        dla_walk(&d, w);
        dla_occupy(&d, w);
        cluster_add(&c, spacing * w[0], spacing * w[1], spacing * w[2]);
        /* Room for the launch circle, one site beyond it and its neighbours. */
        if (d.rmax + DLA_LAUNCH_GAP + 4 > d.half && dla_grow(&d, err) != SWEEP_OK) {
            rc = DLA_EXIT_BAD_PARAMS;
            goto out;
        }
    }
    cluster_analyze(&c, radius, &stats);
    cluster_metrics(&stats, c.n, metrics);
    json_object_set_new(metrics, "walker_steps", json_integer((json_int_t)d.steps));
    if (dla_write_files(args, &c, err) != SWEEP_OK)
        rc = DLA_EXIT_IO;
out:
    json_object_set_new(metrics, "execution_time", json_real(time_mono() - start));
    dla_free_lattice(&d);
    free(d.sites);
    cluster_fini(&c);
    return rc;
}

const struct model model_dla = {
    .name = "dla",
    .summary = "diffusion-limited aggregation (Witten-Sander) on a 2D or 3D lattice",
    .description =
        "Witten-Sander DLA on the square (dim 2) or simple cubic (dim 3) lattice: "
        "random walkers launched just outside the cluster stick to it on contact "
        "(with probability sticking_probability per visit), grown from one seed "
        "to n_particles. Walkers far from the cluster move in large steps (a "
        "hierarchy of occupancy grids, and an exact return to the launch circle), so "
        "clusters of 10^5 to 10^6 particles are practical. Reports the radius of "
        "gyration, the mass-radius fractal dimension df (about 1.71 in 2D and 2.5 "
        "in 3D for large clusters) and optionally writes a picture coloured by "
        "arrival order.",
    .example = "--set n_particles=10000 --set image=dla.png",
    .params = dla_params,
    .nparams = MODEL_COUNT(dla_params),
    .metrics = dla_metrics,
    .nmetrics = MODEL_COUNT(dla_metrics),
    .run = dla_run,
    .check = dla_check,
};
