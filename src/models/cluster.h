/* Clusters of the aggregation models (dla, eden, ballistic, cca): the particles in
 * arrival order, their fractal analysis (radius of gyration, mass-radius fractal
 * dimension) and their picture. Shared so that every growth model reports the same
 * metrics computed the same way. */
#ifndef SWEEP_MODELS_CLUSTER_H
#define SWEEP_MODELS_CLUSTER_H

#include "common/err.h"

#include <jansson.h>
#include <stddef.h>

/* The parameter rows the growth models share: the same name, type, default and
 * bounds everywhere, and a description each model words for itself (the meaning of a
 * sticking attempt differs between the models). Used inside a struct model_param[]. */
#define CLUSTER_PARAM_N_PARTICLES(description)                                         \
    {                                                                                  \
        .name = "n_particles", .type = MODEL_INT, .def = "1000", .min = MODEL_INCL(1), \
        .desc = description                                                            \
    }
#define CLUSTER_PARAM_SEED                                                             \
    {                                                                                  \
        .name = "seed", .type = MODEL_INT, .def = "0",                                 \
        .desc = "random seed (sweep sets it per repetition)"                           \
    }
#define CLUSTER_PARAM_STICKING(description)                                            \
    {                                                                                  \
        .name = "sticking_probability", .type = MODEL_REAL, .def = "1",                \
        .min = MODEL_EXCL(0), .max = MODEL_INCL(1), .desc = description                \
    }
/* particle_radius where the lattice spacing is 1 (dla has its own row: there the
 * spacing is twice the radius). */
#define CLUSTER_PARAM_RADIUS(description)                                              \
    {                                                                                  \
        .name = "particle_radius", .type = MODEL_REAL, .def = "1",                     \
        .min = MODEL_EXCL(0), .unit = "lattice units", .desc = description             \
    }
#define CLUSTER_PARAM_DIM(description)                                                 \
    {                                                                                  \
        .name = "dim", .type = MODEL_INT, .def = "2", .min = MODEL_INCL(2),            \
        .max = MODEL_INCL(3), .desc = description                                      \
    }
#define CLUSTER_PARAM_FILE(param, description)                                         \
    {                                                                                  \
        .name = param, .type = MODEL_STRING, .def = "\"\"", .desc = description        \
    }

struct cluster {
    int dim; /* 2 or 3 */
    size_t n, cap;
    double *pos;    /* n * 3 coordinates (z = 0 in 2D), lattice units, arrival order */
    double seed[3]; /* where growth started (the first particle, or a centre) */
};

/* An empty cluster. Its seed is unset (NAN): the analysis then measures distances
 * from the first particle. A model that grew from another centre sets seed itself,
 * before or after adding the particles. */
void cluster_init(struct cluster *c, int dim);
/* Appends a particle (amortised O(1)). */
void cluster_add(struct cluster *c, double x, double y, double z);
void cluster_fini(struct cluster *c);

struct cluster_stats {
    double rg;         /* radius of gyration about the centre of mass */
    double max_radius; /* largest distance of a particle from the seed */
    double df;         /* slope of log N(r) against log r over [fit_rmin, fit_rmax] */
    double df_fit_r2;  /* r^2 of that least-squares fit */
    double fit_rmin, fit_rmax;
    size_t fit_points; /* radii used in the fit */
};

/* Mass-radius analysis about the seed: N(r) = particles within r, at logarithmically
 * spaced r between fit_rmin = max(5, 4 particle radii) (the seed region) and
 * fit_rmax = max_radius / 2 (inside the active growth zone); see cluster.c for the
 * reasons. A cluster too small for a fit (fewer than 3 radii in that range) gets
 * df = NAN, which is not an error. O(n log n). */
void cluster_analyze(const struct cluster *c,
                     double particle_radius,
                     struct cluster_stats *out);

/* Adds n_particles, rg, df, df_fit_r2, max_radius (and fit_rmin, fit_rmax) to metrics;
 * a NAN df becomes null. */
void cluster_metrics(const struct cluster_stats *s,
                     size_t n_particles,
                     json_t *metrics);

/* Checks that path names a format cluster_write_image knows (.png, .svg or .pdf, any
 * case), so that a model can refuse a bad `image` parameter before it computes:
 * SWEEP_OK, or SWEEP_EINVAL with "image: expected a file name ending in .png, .svg
 * or .pdf, got \"...\"" (the model prefixes its name). */
int cluster_image_check(const char *path, struct err *err);

/* Writes the positions as CSV: a header line "x,y,z", then one line per particle in
 * arrival order (%.17g, so values read back exactly). On failure (SWEEP_EIO,
 * "positions: cannot write PATH: reason") no file is left behind. */
int cluster_write_positions(const struct cluster *c, const char *path, struct err *err);

/* A picture of the cluster (a 2D cluster, or the xy projection of a 3D one), each
 * particle a disc coloured by arrival order (dark blue first, yellow last,
 * viridis-like); PNG, SVG or PDF by the extension of path. On failure (SWEEP_EINVAL for
 * an unknown extension, SWEEP_EIO with "image: cannot write PATH: reason") no file is
 * left behind. Messages start with "image: "; the model prefixes its name. */
int cluster_write_image(const struct cluster *c,
                        double particle_radius,
                        const char *path,
                        struct err *err);

#endif
