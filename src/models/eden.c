/* The eden model: Eden growth on the square (2D) or simple cubic (3D) lattice, in the
 * version where every perimeter site is equally likely (Eden's original rule, "version
 * A" of Jullien & Botet 1985). The cluster starts as one occupied site at the centre;
 * each step occupies one perimeter site (an empty site with an occupied nearest
 * neighbour) drawn uniformly at random. The perimeter is an array with an index map
 * (every site's state is empty, occupied or its slot in the array), so a step draws,
 * removes and adds sites in O(1) with no rescan: n sites cost O(n) time and
 * O(lattice) memory. The lattice holds 1.5 times the radius of a disc (ball) of n sites
 * plus 16, far beyond the surface roughness of Eden clusters (of order R^(1/3)); its
 * border sites are never occupied, so a cluster can never leave it. With
 * sticking_probability p < 1 a drawn site is accepted with probability p, else another
 * is drawn: since the redraw is uniform too, the cluster statistics are exactly those
 * of p = 1 and only the random sequence (and 1/p times the draws) differ. Eden
 * clusters are compact: df = dim for large clusters (in 2D, with the fit of cluster.c,
 * 1.993 at 10^4 and 1.995 at 10^6 sites, 5 seeds each). */
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
#define EDEN_EXIT_BAD_PARAMS 2
#define EDEN_EXIT_IO 3

/* Runs that would need more memory than this are refused before allocating. */
#define EDEN_MEMORY_LIMIT (2.0 * 1024 * 1024 * 1024)

/* Site states other than a slot in the perimeter array. */
#define EDEN_EMPTY (-1)
#define EDEN_OCCUPIED (-2)
#define EDEN_BORDER (-3)

static const struct model_param eden_params[] = {
    CLUSTER_PARAM_N_PARTICLES("sites in the final cluster, the seed included"),
    CLUSTER_PARAM_SEED,
    CLUSTER_PARAM_STICKING(
        "a drawn perimeter site is accepted with this probability, else "
        "another is drawn: the statistics of 1 at 1/p times the draws"),
    CLUSTER_PARAM_RADIUS(
        "radius of a particle in the picture and the analysis (the fit "
        "starts at 4 radii); the lattice spacing is 1"),
    CLUSTER_PARAM_DIM("2: square lattice, 3: simple cubic lattice"),
    CLUSTER_PARAM_FILE(
        "image",
        "file name (.png, .svg or .pdf) in the output directory for a picture "
        "of the cluster coloured by arrival order; empty: none"),
};

static const struct model_metric eden_metrics[] = {
    {.name = "n_particles",
     .desc = "the n_particles parameter, reported back (not measured: the cluster "
             "always grows to it)"},
    {.name = "rg",
     .unit = "lattice units",
     .desc = "radius of gyration about the centre of mass"},
    {.name = "df", .desc = "mass-radius fractal dimension (null if too small to fit)"},
    {.name = "df_fit_r2", .desc = "r^2 of the log N(r) against log r fit"},
    {.name = "max_radius",
     .unit = "lattice units",
     .desc = "largest distance of a site from the seed"},
    {.name = "fit_rmin",
     .unit = "lattice units",
     .desc = "smallest radius of the df fit"},
    {.name = "fit_rmax",
     .unit = "lattice units",
     .desc = "largest radius of the df fit"},
    {.name = "execution_time", .unit = "s", .desc = "wall-clock time of the run"},
};

/* The lattice: sites -half..half on each axis (z = 0 only in 2D), site (x, y, z) at
 * index (x + half) + side (y + half) + side^2 (z + half). */
struct eden {
    int dim;
    int64_t half, side;
    size_t nsites;
    int32_t *state;  /* EDEN_EMPTY, EDEN_OCCUPIED, EDEN_BORDER or perimeter slot */
    uint32_t *perim; /* perimeter sites; order is arbitrary */
    size_t nperim, cap;
    ptrdiff_t step[6]; /* index offsets of the 2 * dim nearest neighbours */
};

/* The lattice half-width for n sites, and the memory it needs with the positions. */
static double eden_half_width(int64_t n, int dim, double *bytes)
{
    double r = dim == 2 ? sqrt((double)n / M_PI) : cbrt(3.0 * (double)n / (4.0 * M_PI));
    double half = ceil(1.5 * r) + 16;

    *bytes = pow(2 * half + 1, dim) * sizeof(int32_t) + (double)n * 3 * sizeof(double);
    return half;
}

/* Puts a site with no perimeter slot yet into the perimeter. */
static void eden_perim_add(struct eden *e, size_t site)
{
    e->perim = xgrow(e->perim, &e->cap, e->nperim + 1, sizeof(*e->perim));
    e->state[site] = (int32_t)e->nperim;
    e->perim[e->nperim++] = (uint32_t)site;
}

/* Occupies a site (empty or on the perimeter), adds it to the cluster and its empty
 * neighbours to the perimeter. */
static void eden_occupy(struct eden *e, size_t site, struct cluster *c)
{
    int64_t side = e->side, i = (int64_t)site;
    int32_t slot = e->state[site];

    if (slot >= 0) { /* the last slot fills the hole */
        uint32_t last = e->perim[--e->nperim];
        e->perim[slot] = last;
        e->state[last] = slot;
    }
    e->state[site] = EDEN_OCCUPIED;
    for (int k = 0; k < 2 * e->dim; k++) {
        size_t nb = (size_t)((ptrdiff_t)site + e->step[k]);
        if (e->state[nb] == EDEN_EMPTY)
            eden_perim_add(e, nb);
    }
    cluster_add(c, (double)(i % side - e->half), (double)(i / side % side - e->half),
                e->dim == 3 ? (double)(i / side / side - e->half) : 0.0);
}

/* The lattice of half-width `half`, all empty but its border. */
static void eden_init(struct eden *e, int dim, int64_t half)
{
    int64_t side = 2 * half + 1;

    memset(e, 0, sizeof(*e));
    e->dim = dim;
    e->half = half;
    e->side = side;
    e->nsites = (size_t)(dim == 2 ? side * side : side * side * side);
    e->state = xmalloc(e->nsites * sizeof(*e->state));
    for (size_t s = 0; s < e->nsites; s++) {
        int64_t x = (int64_t)s % side, y = (int64_t)s / side % side;
        int64_t z = (int64_t)s / side / side;
        bool border = x == 0 || x == side - 1 || y == 0 || y == side - 1 ||
                      (dim == 3 && (z == 0 || z == side - 1));
        e->state[s] = border ? EDEN_BORDER : EDEN_EMPTY;
    }
    for (int a = 0; a < dim; a++) {
        ptrdiff_t stride = a == 0   ? 1
                           : a == 1 ? (ptrdiff_t)side
                                    : (ptrdiff_t)(side * side);
        e->step[2 * a] = stride;
        e->step[2 * a + 1] = -stride;
    }
}

static void eden_fini(struct eden *e)
{
    free(e->state);
    free(e->perim);
}

/* The lattice for n sites must fit in EDEN_MEMORY_LIMIT. */
static int eden_memory_check(int64_t n, int dim, struct err *err)
{
    double bytes;

    eden_half_width(n, dim, &bytes);
    if (bytes > EDEN_MEMORY_LIMIT)
        return err_set(
            err, SWEEP_EINVAL,
            "eden: n_particles = %lld in %dD needs about %.1f GiB of memory, "
            "more than the limit of %.0f GiB; reduce n_particles",
            (long long)n, dim, bytes / (1024.0 * 1024 * 1024),
            EDEN_MEMORY_LIMIT / (1024.0 * 1024 * 1024));
    return SWEEP_OK;
}

/* Grows an Eden cluster of n sites into c (initialised for dim, empty), the seed at
 * the origin. Exported for the tests. Returns SWEEP_OK, or SWEEP_EINVAL with nothing
 * allocated when the lattice would need more than the memory limit. */
int eden_grow(struct cluster *c,
              int64_t n,
              int dim,
              double sticking_probability,
              uint64_t seed,
              struct err *err)
{
    double bytes, half = eden_half_width(n, dim, &bytes);
    struct eden e;
    struct rng rng;

    if (eden_memory_check(n, dim, err) != SWEEP_OK)
        return SWEEP_EINVAL;
    eden_init(&e, dim, (int64_t)half);
    rng_init(&rng, seed, 0);
    eden_occupy(&e, e.nsites / 2, c); /* the centre */
    for (int64_t k = 1; k < n; k++) {
        size_t slot = (size_t)(rng_next(&rng) % e.nperim);

        while (sticking_probability < 1 && !(rng_uniform(&rng) < sticking_probability))
            slot = (size_t)(rng_next(&rng) % e.nperim);
        eden_occupy(&e, e.perim[slot], c);
    }
    eden_fini(&e);
    return SWEEP_OK;
}

/* The parameter check before anything runs: the image name and the memory. */
static int eden_check(const struct model_args *args, struct err *err)
{
    const char *image = model_arg_str(args, "image");

    if (*image && cluster_image_check(image, err) != SWEEP_OK) {
        err_prefix(err, "eden");
        return SWEEP_EINVAL;
    }
    return eden_memory_check(model_arg_int(args, "n_particles"),
                             (int)model_arg_int(args, "dim"), err);
}

static int eden_run(const struct model_args *args, json_t *metrics, struct err *err)
{
    int64_t n = model_arg_int(args, "n_particles");
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
        err_prefix(err, "eden");
        return EDEN_EXIT_BAD_PARAMS;
    }
    cluster_init(&c, dim);
    if (eden_grow(&c, n, dim, p, seed, err) != SWEEP_OK) {
        rc = EDEN_EXIT_BAD_PARAMS;
        goto out;
    }
    cluster_analyze(&c, radius, &stats);
    cluster_metrics(&stats, c.n, metrics);
    if (*image) {
        path = xasprintf("%s/%s", args->outdir, image);
        if (cluster_write_image(&c, radius, path, err) != SWEEP_OK) {
            err_prefix(err, "eden");
            rc = EDEN_EXIT_IO;
        }
    }
    json_object_set_new(metrics, "execution_time", json_real(time_mono() - start));
out:
    free(path);
    cluster_fini(&c);
    return rc;
}

const struct model model_eden = {
    .name = "eden",
    .summary = "Eden growth: a random perimeter site is occupied at each step",
    .description =
        "Eden growth on the square (dim 2) or simple cubic (dim 3) lattice from one "
        "site at the centre: at each step a perimeter site (an empty site next to the "
        "cluster) is drawn uniformly at random and occupied, until the cluster has "
        "n_particles sites. Eden clusters are compact with a rough surface, so df "
        "tends to dim. With sticking_probability < 1 a drawn site is accepted with "
        "that probability, else another is drawn, which leaves the statistics those "
        "of 1 (and takes 1/p times the draws). Reports rg, the mass-radius df and its "
        "fit, max_radius; image=NAME.png "
        "writes a picture coloured by arrival order.",
    .example = "--set n_particles=10000 --set image=eden.png",
    .params = eden_params,
    .nparams = MODEL_COUNT(eden_params),
    .metrics = eden_metrics,
    .nmetrics = MODEL_COUNT(eden_metrics),
    .run = eden_run,
    .check = eden_check,
};
