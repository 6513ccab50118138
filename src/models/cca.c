/* The cca model: diffusion-limited cluster-cluster aggregation on a lattice (Meakin
 * 1983; Kolb, Botet & Jullien 1983).
 * Set-up: n_particles on distinct random sites of a periodic square (dim 2) or cubic
 * (dim 3) lattice of side L = (n / phi)^(1/dim) rounded to the nearest integer, raised
 * if needed until the box has more sites than particles (phi = volume_fraction; the
 * fraction used, n / L^dim, is reported). Each particle is a cluster; particles placed
 * on neighbouring sites are joined first, each contact with sticking_probability.
 * A step picks a cluster with probability proportional to its mobility D(s) = s^alpha
 * (alpha = mobility_exponent, -1/2 by default; 0 makes all clusters equally mobile)
 * and one of the 2 dim directions at random, and moves the cluster one site as a
 * rigid body, with periodic wrap. A move onto a site of another cluster (possible only
 * when a contact did not stick) is refused but counts as a step. After the step, moved
 * or not, each other cluster with a particle next to one of the cluster's particles
 * joins it with probability sticking_probability; testing after a refused move too
 * means that clusters jammed in a crowded box keep trying and cannot stall the run.
 * The run ends when one cluster is left or after max_steps steps; stopping at
 * max_steps is not a failure, n_clusters says how far it got. Time: the
 * continuous-time rule, each step adding 1 / (sum of the mobilities), so a monomer
 * moves one site per unit time on average.
 * Data: an occupancy grid holds the particle on each site, so a move and its contact
 * test cost O(cluster size), never a scan of all particles. Union-find in its
 * quick-find form: each particle carries its cluster's label, and a merge relabels the
 * smaller cluster (O(n log n) relabelling over a run) and appends its membership list
 * to the larger one's, so each list is in joining order. A cluster is picked by
 * descending a binary tree of mobility sums, O(log n). Each particle has coordinates
 * in its cluster's frame and each cluster a displacement: the unwrapped position is
 * their sum, continuous even for a cluster that spans the box (so its Rg means
 * something), a move changes the displacement alone, and exact integer sums of the
 * frame coordinates give each new cluster's Rg in O(1).
 * Metrics: rg, max_radius and df_mass (cluster_analyze about the particle nearest the
 * centre of mass) describe the largest cluster. `df` is df_rg, from Rg ~ s^(1/df)
 * over the clusters formed during the run (one point per merge, see cca_fit_rg): it
 * uses every cluster and needs no single large one. df_mass does not work as df: at
 * the default phi the final cluster spans the box and its N(r) crosses over to the
 * box filling, so over 5 seeds at n = 10^4 in 2D df_mass ranges from 1.29 to 2.04
 * where df_rg stays within 1.44 to 1.48. Memory, about 4 L^dim + 240 n bytes, is
 * checked against a 2 GiB limit before anything is allocated. */
#include "model.h"

#include "cluster.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Exit statuses of a failed run; 2 (bad parameters) is sweep sim's own. */
#define CCA_EXIT_FAILED 1
#define CCA_EXIT_BAD_PARAMS 2
#define CCA_EXIT_IO 3

#define CCA_MAX_BYTES (2.0 * 0x1p30)
/* Bytes per particle, an upper bound of the arrays below plus the largest cluster's
 * copy and its analysis. */
#define CCA_BYTES_PER_PARTICLE 240.0
/* The df_rg fit: clusters of at least CCA_FIT_SMIN particles whose Rg is at most
 * CCA_FIT_RG_BOX times the box side. */
#define CCA_FIT_SMIN 10
#define CCA_FIT_RG_BOX 0.25

static const struct model_param cca_params[] = {
    CLUSTER_PARAM_N_PARTICLES("number of particles (each starts as a cluster of one)"),
    CLUSTER_PARAM_SEED,
    CLUSTER_PARAM_STICKING(
        "probability that two clusters in contact join, tried at each step of "
        "either one"),
    CLUSTER_PARAM_RADIUS(
        "disc size in the image and the inner radius of the mass-radius fit"),
    CLUSTER_PARAM_DIM("2: square lattice, 3: cubic lattice (periodic)"),
    CLUSTER_PARAM_FILE(
        "image",
        "file (.png, .svg or .pdf) in the output directory for a picture of the "
        "largest cluster; empty: none"),
    CLUSTER_PARAM_FILE(
        "positions",
        "file name in the output directory for the positions of the largest "
        "cluster as CSV (x,y,z unwrapped, in joining order); empty: none"),
    {.name = "volume_fraction",
     .type = MODEL_REAL,
     .def = "0.05",
     .min = MODEL_EXCL(0),
     .max = MODEL_EXCL(1),
     .desc = "n_particles / L^dim: sets the side L of the periodic box"},
    {.name = "max_steps",
     .type = MODEL_INT,
     .def = "10000000000",
     .min = MODEL_INCL(0),
     .desc = "cluster moves allowed; the run stops there with n_clusters > 1"},
    {.name = "mobility_exponent",
     .type = MODEL_REAL,
     .def = "-0.5",
     .min = MODEL_INCL(-3),
     .max = MODEL_INCL(3),
     .desc = "alpha in the mobility D(s) = s^alpha of a cluster of s particles"},
};

static const struct model_metric cca_metrics[] = {
    {.name = "n_particles",
     .desc = "the n_particles parameter, reported back (not measured: the particles in "
             "the box)"},
    {.name = "df",
     .desc = "fractal dimension from Rg ~ s^(1/df) over the clusters formed "
             "(s >= 10, Rg <= L/4)"},
    {.name = "rg",
     .unit = "lattice units",
     .desc = "radius of gyration of the largest cluster (unwrapped)"},
    {.name = "df_fit_r2", .desc = "r^2 of the log Rg against log s fit"},
    {.name = "max_radius",
     .unit = "lattice units",
     .desc = "largest distance of a particle of the largest cluster from its particle "
             "nearest the centre of mass"},
    {.name = "df_mass",
     .desc = "mass-radius fractal dimension of the largest cluster (about the same "
             "particle)"},
    {.name = "df_mass_fit_r2", .desc = "r^2 of the df_mass fit"},
    {.name = "fit_rmin",
     .unit = "lattice units",
     .desc = "inner radius of the df_mass fit"},
    {.name = "fit_rmax",
     .unit = "lattice units",
     .desc = "outer radius of the df_mass fit"},
    {.name = "df_rg_clusters", .desc = "clusters (merges) that the df fit used"},
    {.name = "n_clusters", .desc = "clusters left at the end (1: fully aggregated)"},
    {.name = "largest_cluster", .desc = "particles in the largest cluster"},
    {.name = "steps", .desc = "cluster moves tried (refused ones included)"},
    {.name = "time", .desc = "continuous time: sum of 1 / (total mobility) per step"},
    {.name = "box_size",
     .unit = "lattice units",
     .desc = "side L of the periodic lattice"},
    {.name = "actual_volume_fraction", .desc = "n_particles / L^dim"},
    {.name = "execution_time", .unit = "s", .desc = "wall-clock time of the run"},
};

/* The state of a run. Particle arrays have n entries, coordinates 3 per particle (z =
 * 0 in 2D). Cluster arrays are indexed by label: a cluster's label is the particle it
 * started from, which stays the head of its membership list; a merged-away label has
 * size 0. */
struct cca {
    int dim;
    int32_t side;       /* L */
    size_t sites;       /* L^dim */
    int32_t n;          /* particles */
    double p, alpha;    /* sticking probability, mobility exponent */
    int32_t *grid;      /* the particle on each site, or -1 */
    int32_t *pos;       /* wrapped lattice coordinates in [0, L) */
    int64_t *body;      /* coordinates in the cluster's frame */
    int32_t *label;     /* each particle's cluster */
    int32_t *next;      /* next particle of the same cluster, or -1 */
    int32_t *size;      /* per cluster */
    int32_t *tail;      /* per cluster: last particle of its list */
    int64_t *disp;      /* per cluster: 3 coordinates, unwrapped = body + disp */
    int64_t *sum1;      /* per cluster: 3 sums of body coordinates */
    int64_t *sum2;      /* per cluster: sum of squared body coordinates */
    double *tree;       /* mobility sums: leaves at [leaves, 2 leaves), root at 1 */
    size_t leaves;      /* a power of two >= n */
    uint64_t *stamp;    /* per cluster: last contact scan that saw it */
    uint64_t scan;      /* contact scans so far */
    int32_t *contact;   /* per contact: moved particle, other particle, direction */
    int32_t n_clusters; /* clusters left */
    double *hist_s;     /* size and Rg of the cluster made by each merge */
    double *hist_rg;
    size_t nhist;
    struct rng rng;
};

/* The side L for n particles at volume fraction phi (see the opening comment), as a
 * double so that absurd requests are measured before they overflow anything. */
static double cca_side(int64_t n, double phi, int dim)
{
    double side = floor(pow((double)n / phi, 1.0 / dim) + 0.5);

    if (side < 1)
        side = 1;
    while (pow(side, dim) <= (double)n)
        side++;
    return side;
}

static double cca_bytes(int64_t n, double side, int dim)
{
    return 4 * pow(side, dim) + CCA_BYTES_PER_PARTICLE * (double)n;
}

static size_t cca_site(const struct cca *c, const int32_t *x)
{
    return (size_t)x[0] + (size_t)c->side * ((size_t)x[1] + (size_t)c->side * x[2]);
}

/* The site next to coordinates x in direction dir (axis dir / 2, + for even dir). */
static size_t cca_neighbour(const struct cca *c, const int32_t *x, int dir)
{
    int32_t y[3] = {x[0], x[1], x[2]};
    int axis = dir / 2;

    y[axis] += dir % 2 ? -1 : 1;
    if (y[axis] < 0)
        y[axis] = c->side - 1;
    else if (y[axis] == c->side)
        y[axis] = 0;
    return cca_site(c, y);
}

static double cca_mobility(const struct cca *c, int32_t s)
{
    return s > 0 ? pow(s, c->alpha) : 0;
}

/* Sets cluster a's leaf and recomputes the sums above it from their children, so every
 * node is exactly the sum of its two children (no drift from adding differences). */
static void cca_tree_set(struct cca *c, int32_t a, double w)
{
    size_t k = c->leaves + (size_t)a;

    c->tree[k] = w;
    for (k /= 2; k >= 1; k /= 2)
        c->tree[k] = c->tree[2 * k] + c->tree[2 * k + 1];
}

/* A cluster drawn with probability proportional to its mobility. A child whose sum is
 * 0 is never entered, so rounding can never lead to a merged-away label. */
static int32_t cca_tree_pick(struct cca *c)
{
    double u = rng_uniform(&c->rng) * c->tree[1];
    size_t k = 1;

    while (k < c->leaves) {
        double left = c->tree[2 * k], right = c->tree[2 * k + 1];

        if (right == 0 || (left > 0 && u < left)) {
            k = 2 * k;
        } else {
            u -= left;
            k = 2 * k + 1;
        }
    }
    return (int32_t)(k - c->leaves);
}

static double cca_rg(const struct cca *c, int32_t a)
{
    double s = c->size[a], r2 = (double)c->sum2[a] / s;

    for (int k = 0; k < 3; k++) {
        double m = (double)c->sum1[3 * a + k] / s;
        r2 -= m * m;
    }
    return r2 > 0 ? sqrt(r2) : 0;
}

/* Joins clusters a (holding particle i) and b (holding j, the neighbour of i in
 * direction dir). The smaller one is relabelled into the larger one's frame, shifted
 * so that j sits one step from i in unwrapped coordinates too, and its list appended.
 */
static void
cca_merge(struct cca *c, int32_t a, int32_t b, int32_t i, int32_t j, int dir)
{
    int32_t big = c->size[a] >= c->size[b] ? a : b, small = big == a ? b : a;
    int64_t ui[3], uj[3], shift[3];
    int axis = dir / 2;

    for (int k = 0; k < 3; k++) {
        ui[k] = c->body[3 * i + k] + c->disp[3 * a + k];
        uj[k] = c->body[3 * j + k] + c->disp[3 * b + k];
    }
    ui[axis] += dir % 2 ? -1 : 1; /* where j belongs */
    for (int k = 0; k < 3; k++) {
        /* shift = what the small cluster's body coordinates gain: its offset to the
         * big frame plus the whole periods that put j (or i) next to the other. */
        int64_t delta = small == b ? ui[k] - uj[k] : uj[k] - ui[k];
        shift[k] = c->disp[3 * small + k] + delta - c->disp[3 * big + k];
    }
    for (int32_t m = small; m >= 0; m = c->next[m]) {
        int64_t *bm = &c->body[3 * m];

        for (int k = 0; k < 3; k++) {
            bm[k] += shift[k];
            c->sum1[3 * big + k] += bm[k];
            c->sum2[big] += bm[k] * bm[k];
        }
        c->label[m] = big;
    }
    c->next[c->tail[big]] = small;
    c->tail[big] = c->tail[small];
    c->size[big] += c->size[small];
    c->size[small] = 0;
    cca_tree_set(c, small, 0);
    cca_tree_set(c, big, cca_mobility(c, c->size[big]));
    c->n_clusters--;
    c->hist_s[c->nhist] = c->size[big];
    c->hist_rg[c->nhist] = cca_rg(c, big);
    c->nhist++;
}

static bool cca_sticks(struct cca *c)
{
    return c->p >= 1 || rng_uniform(&c->rng) < c->p;
}

/* Tests the clusters touching cluster a, each once, in the order first seen, and joins
 * those that stick. */
static void cca_contacts(struct cca *c, int32_t a)
{
    size_t nc = 0;

    c->scan++;
    for (int32_t m = a; m >= 0; m = c->next[m]) {
        for (int dir = 0; dir < 2 * c->dim; dir++) {
            int32_t j = c->grid[cca_neighbour(c, &c->pos[3 * m], dir)];

            if (j < 0 || c->label[j] == a || c->stamp[c->label[j]] == c->scan)
                continue;
            c->stamp[c->label[j]] = c->scan;
            c->contact[3 * nc] = m;
            c->contact[3 * nc + 1] = j;
            c->contact[3 * nc + 2] = dir;
            nc++;
        }
    }
    /* Each contact is with another cluster, untouched by the merges before it; the
     * moved particle's label changes when its cluster was the smaller one. */
    for (size_t k = 0; k < nc; k++) {
        int32_t i = c->contact[3 * k], j = c->contact[3 * k + 1];

        if (cca_sticks(c))
            cca_merge(c, c->label[i], c->label[j], i, j, c->contact[3 * k + 2]);
    }
}

/* Moves cluster a one site in direction dir unless a site it would take belongs to
 * another cluster. */
static void cca_move(struct cca *c, int32_t a, int dir)
{
    int axis = dir / 2, step = dir % 2 ? -1 : 1;

    for (int32_t m = a; m >= 0; m = c->next[m]) {
        int32_t j = c->grid[cca_neighbour(c, &c->pos[3 * m], dir)];
        if (j >= 0 && c->label[j] != a)
            return;
    }
    /* Clear all, then fill all: the cluster may step onto its own sites. */
    for (int32_t m = a; m >= 0; m = c->next[m])
        c->grid[cca_site(c, &c->pos[3 * m])] = -1;
    for (int32_t m = a; m >= 0; m = c->next[m]) {
        int32_t *x = &c->pos[3 * m];

        x[axis] += step;
        if (x[axis] < 0)
            x[axis] = c->side - 1;
        else if (x[axis] == c->side)
            x[axis] = 0;
        c->grid[cca_site(c, x)] = m;
    }
    c->disp[3 * a + axis] += step;
}

static void cca_fini(struct cca *c)
{
    free(c->grid);
    free(c->pos);
    free(c->body);
    free(c->label);
    free(c->next);
    free(c->size);
    free(c->tail);
    free(c->disp);
    free(c->sum1);
    free(c->sum2);
    free(c->tree);
    free(c->stamp);
    free(c->contact);
    free(c->hist_s);
    free(c->hist_rg);
}

/* Allocates the state and places the particles on distinct random sites (rejection:
 * the box has more sites than particles), each a cluster of one. */
static void cca_init(struct cca *c, const struct model_args *args, int32_t side)
{
    size_t n;

    memset(c, 0, sizeof(*c));
    c->dim = (int)model_arg_int(args, "dim");
    c->side = side;
    c->sites = (size_t)side * (size_t)side * (c->dim == 3 ? (size_t)side : 1);
    c->n = (int32_t)model_arg_int(args, "n_particles");
    c->p = model_arg_real(args, "sticking_probability");
    c->alpha = model_arg_real(args, "mobility_exponent");
    rng_init(&c->rng, (uint64_t)model_arg_int(args, "seed"), 0);
    n = (size_t)c->n;
    c->grid = xmalloc(c->sites * sizeof(*c->grid));
    memset(c->grid, 0xff, c->sites * sizeof(*c->grid)); /* -1 everywhere */
    c->pos = xcalloc(3 * n, sizeof(*c->pos));
    c->body = xcalloc(3 * n, sizeof(*c->body));
    c->label = xcalloc(n, sizeof(*c->label));
    c->next = xcalloc(n, sizeof(*c->next));
    c->size = xcalloc(n, sizeof(*c->size));
    c->tail = xcalloc(n, sizeof(*c->tail));
    c->disp = xcalloc(3 * n, sizeof(*c->disp));
    c->sum1 = xcalloc(3 * n, sizeof(*c->sum1));
    c->sum2 = xcalloc(n, sizeof(*c->sum2));
    for (c->leaves = 1; c->leaves < n; c->leaves *= 2)
        ;
    c->tree = xcalloc(2 * c->leaves, sizeof(*c->tree));
    c->stamp = xcalloc(n, sizeof(*c->stamp));
    c->contact = xcalloc(3 * n, sizeof(*c->contact));
    c->hist_s = xcalloc(n, sizeof(*c->hist_s));
    c->hist_rg = xcalloc(n, sizeof(*c->hist_rg));
    c->n_clusters = c->n;

    for (int32_t i = 0; i < c->n; i++) {
        int32_t *x = &c->pos[3 * i];
        size_t s;

        do {
            s = (size_t)(rng_next(&c->rng) % c->sites);
        } while (c->grid[s] >= 0);
        c->grid[s] = i;
        x[0] = (int32_t)(s % (size_t)side);
        x[1] = (int32_t)(s / (size_t)side % (size_t)side);
        x[2] = c->dim == 3 ? (int32_t)(s / ((size_t)side * (size_t)side)) : 0;
        for (int k = 0; k < 3; k++) {
            c->body[3 * i + k] = x[k];
            c->sum1[3 * i + k] = x[k];
            c->sum2[i] += (int64_t)x[k] * x[k];
        }
        c->label[i] = i;
        c->next[i] = -1;
        c->size[i] = 1;
        c->tail[i] = i;
        c->tree[c->leaves + (size_t)i] = 1; /* 1^alpha */
    }
    for (size_t k = c->leaves - 1; k >= 1; k--)
        c->tree[k] = c->tree[2 * k] + c->tree[2 * k + 1];
}

/* Joins the particles placed on neighbouring sites: each pair of neighbours in
 * different clusters, looked at from the particle below along the axis (twice in a
 * box of side 2), sticks with probability sticking_probability. */
static void cca_join_initial(struct cca *c)
{
    for (int32_t i = 0; i < c->n; i++) {
        for (int dir = 0; dir < 2 * c->dim; dir += 2) {
            int32_t j = c->grid[cca_neighbour(c, &c->pos[3 * i], dir)];

            if (j >= 0 && c->label[j] != c->label[i] && cca_sticks(c))
                cca_merge(c, c->label[i], c->label[j], i, j, dir);
        }
    }
}

/* Checks the end state: every particle alone on its site, each cluster's list as long
 * as its size and labelled with it, the sizes summing to n. A failure is a bug. */
static int cca_verify(const struct cca *c, struct err *err)
{
    int64_t total = 0, live = 0;
    size_t occupied = 0;

    for (size_t s = 0; s < c->sites; s++)
        occupied += c->grid[s] >= 0;
    for (int32_t i = 0; i < c->n; i++)
        if (c->grid[cca_site(c, &c->pos[3 * i])] != i)
            return err_set(err, SWEEP_EINTERNAL,
                           "cca: bug: particle %d is not on its site", (int)i);
    for (int32_t a = 0; a < c->n; a++) {
        int32_t len = 0;

        if (c->size[a] == 0)
            continue;
        for (int32_t m = a; m >= 0; m = c->next[m], len++)
            if (c->label[m] != a)
                return err_set(err, SWEEP_EINTERNAL,
                               "cca: bug: particle %d in the list of cluster %d is "
                               "labelled %d",
                               (int)m, (int)a, (int)c->label[m]);
        if (len != c->size[a])
            return err_set(err, SWEEP_EINTERNAL,
                           "cca: bug: cluster %d lists %d particles, size %d", (int)a,
                           (int)len, (int)c->size[a]);
        total += c->size[a];
        live++;
    }
    if (occupied != (size_t)c->n || total != c->n || live != c->n_clusters)
        return err_set(err, SWEEP_EINTERNAL,
                       "cca: bug: %zu sites occupied, cluster sizes sum to %lld over "
                       "%lld clusters, for %d particles in %d clusters",
                       occupied, (long long)total, (long long)live, (int)c->n,
                       (int)c->n_clusters);
    return SWEEP_OK;
}

/* df_rg = 1 / b for the least-squares line log Rg = a + b log s through the clusters
 * made by merges, each one point, from CCA_FIT_SMIN particles (smaller ones are
 * lattice animals, not fractals) up to Rg = CCA_FIT_RG_BOX L (larger ones crowd each
 * other near the gel point and grow denser). Rg is the quantity that scatters at a
 * given s, so it is the one regressed; the slope of log s on log Rg would be biased
 * low by that scatter (1.39 to 1.42 instead of 1.45 to 1.48 on the same 2D runs). r2
 * is that of the line. NAN with fewer than 3 clusters or a single size. Returns the
 * clusters used. */
static size_t cca_fit_rg(const struct cca *c, double *df, double *r2)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, vx, vy, cxy, np;
    size_t used = 0;

    for (size_t k = 0; k < c->nhist; k++) {
        double x = log(c->hist_s[k]), y = log(c->hist_rg[k]);

        if (c->hist_s[k] < CCA_FIT_SMIN || c->hist_rg[k] > CCA_FIT_RG_BOX * c->side)
            continue;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
        used++;
    }
    np = (double)used;
    vx = sxx - sx * sx / np;
    vy = syy - sy * sy / np;
    cxy = sxy - sx * sy / np;
    *df = *r2 = NAN;
    if (used >= 3 && vx > 0 && cxy > 0) {
        *df = vx / cxy;
        *r2 = cxy * cxy / (vx * vy);
    }
    return used;
}

/* The largest cluster (the lowest label among equals), unwrapped, in joining order.
 * The seed of its mass-radius analysis is its particle nearest to its centre of mass:
 * the centre itself may lie in a hole of the cluster, where N(r) is 0 for small r. */
static int32_t cca_largest(const struct cca *c, struct cluster *out)
{
    int32_t big = 0;
    double com[3], best = INFINITY;

    for (int32_t a = 1; a < c->n; a++)
        if (c->size[a] > c->size[big])
            big = a;
    for (int k = 0; k < 3; k++)
        com[k] = (double)c->sum1[3 * big + k] / c->size[big];
    cluster_init(out, c->dim);
    for (int32_t m = big; m >= 0; m = c->next[m]) {
        const int64_t *b = &c->body[3 * m], *d = &c->disp[3 * big];
        double r2 = 0;

        for (int k = 0; k < 3; k++)
            r2 += ((double)b[k] - com[k]) * ((double)b[k] - com[k]);
        if (r2 < best) {
            best = r2;
            for (int k = 0; k < 3; k++)
                out->seed[k] = (double)(b[k] + d[k]);
        }
        cluster_add(out, (double)(b[0] + d[0]), (double)(b[1] + d[1]),
                    (double)(b[2] + d[2]));
    }
    return big;
}

/* A real metric, or null when it is not finite (JSON has no NaN). */
static void cca_set_real(json_t *metrics, const char *name, double d)
{
    json_object_set_new(metrics, name, isfinite(d) ? json_real(d) : json_null());
}

/* The metrics of the end state, and the picture and positions when asked for. */
static int cca_report(const struct cca *c,
                      const struct model_args *args,
                      json_t *metrics,
                      struct err *err)
{
    double radius = model_arg_real(args, "particle_radius");
    const char *image = model_arg_str(args, "image");
    const char *positions = model_arg_str(args, "positions");
    struct cluster_stats st;
    struct cluster cl;
    double df, r2;
    size_t used = cca_fit_rg(c, &df, &r2);
    int32_t big = cca_largest(c, &cl);
    int rc = SWEEP_OK;

    cluster_analyze(&cl, radius, &st);
    cluster_metrics(&st, (size_t)c->n, metrics);
    /* df is df_rg (see the opening comment); df_mass is the mass-radius fit. */
    cca_set_real(metrics, "df_mass", st.df);
    cca_set_real(metrics, "df_mass_fit_r2", st.df_fit_r2);
    cca_set_real(metrics, "df", df);
    cca_set_real(metrics, "df_fit_r2", r2);
    json_object_set_new(metrics, "df_rg_clusters", json_integer((json_int_t)used));
    json_object_set_new(metrics, "n_clusters", json_integer(c->n_clusters));
    json_object_set_new(metrics, "largest_cluster", json_integer(c->size[big]));
    json_object_set_new(metrics, "box_size", json_integer(c->side));
    json_object_set_new(metrics, "actual_volume_fraction",
                        json_real((double)c->n / (double)c->sites));
    if (image[0]) {
        char *path = xasprintf("%s/%s", args->outdir, image);

        rc = cluster_write_image(&cl, radius, path, err);
        free(path);
    }
    if (rc == SWEEP_OK && positions[0]) {
        char *path = xasprintf("%s/%s", args->outdir, positions);

        rc = cluster_write_positions(&cl, path, err);
        free(path);
    }
    if (rc != SWEEP_OK)
        err_prefix(err, "cca");
    cluster_fini(&cl);
    return rc;
}

/* The parameter check before anything runs: the image name and the memory. */
static int cca_check(const struct model_args *args, struct err *err)
{
    int64_t n = model_arg_int(args, "n_particles");
    double phi = model_arg_real(args, "volume_fraction");
    int dim = (int)model_arg_int(args, "dim");
    double side = cca_side(n, phi, dim);
    const char *image = model_arg_str(args, "image");

    if (image[0] && cluster_image_check(image, err) != SWEEP_OK) {
        err_prefix(err, "cca");
        return SWEEP_EINVAL;
    }
    if (cca_bytes(n, side, dim) > CCA_MAX_BYTES)
        return err_set(
            err, SWEEP_EINVAL,
            "cca: n_particles: %lld particles at volume_fraction %g need a lattice "
            "of side %.0f and %.1f GiB of memory, more than the limit of %.0f GiB; "
            "lower n_particles or raise volume_fraction",
            (long long)n, phi, side, cca_bytes(n, side, dim) / 0x1p30,
            CCA_MAX_BYTES / 0x1p30);
    return SWEEP_OK;
}

static int cca_run(const struct model_args *args, json_t *metrics, struct err *err)
{
    int64_t n = model_arg_int(args, "n_particles");
    double phi = model_arg_real(args, "volume_fraction");
    int dim = (int)model_arg_int(args, "dim");
    int64_t max_steps = model_arg_int(args, "max_steps"), steps = 0;
    double start = time_mono(), t = 0;
    double side = cca_side(n, phi, dim);
    struct cca c;
    int rc;

    if (cca_check(args, err) != SWEEP_OK)
        return CCA_EXIT_BAD_PARAMS;
    cca_init(&c, args, (int32_t)side);
    cca_join_initial(&c);
    while (c.n_clusters > 1 && steps < max_steps) {
        int32_t a = cca_tree_pick(&c);
        int dir = (int)(rng_next(&c.rng) % (uint64_t)(2 * dim));

        t += 1 / c.tree[1];
        steps++;
        cca_move(&c, a, dir);
        cca_contacts(&c, a);
    }
    if (cca_verify(&c, err) != SWEEP_OK) {
        rc = CCA_EXIT_FAILED;
        goto out;
    }
    rc = cca_report(&c, args, metrics, err) == SWEEP_OK ? 0 : CCA_EXIT_IO;
    json_object_set_new(metrics, "steps", json_integer((json_int_t)steps));
    json_object_set_new(metrics, "time", json_real(t));
    json_object_set_new(metrics, "execution_time", json_real(time_mono() - start));
out:
    cca_fini(&c);
    return rc;
}

const struct model model_cca = {
    .name = "cca",
    .summary = "diffusion-limited cluster-cluster aggregation on a periodic lattice",
    .description =
        "Lattice cluster-cluster aggregation (Meakin; Kolb, Botet and Jullien): "
        "n_particles on random sites of a periodic square (dim 2) or cubic (dim 3) "
        "box of side L = (n_particles / volume_fraction)^(1/dim), rounded. Clusters, "
        "picked with probability proportional to s^mobility_exponent, move one site "
        "at a time as rigid bodies and join clusters they touch with probability "
        "sticking_probability, until one cluster is left or max_steps moves are "
        "done (not a failure: n_clusters tells). df comes from Rg ~ s^(1/df) over "
        "the clusters formed (sizes >= 10, Rg <= L/4); df_mass is the "
        "mass-radius dimension of the largest cluster. Expected df: about 1.44 in 2D, "
        "1.78 in 3D, in dilute boxes; crowding raises it (2D: 1.46 at the default "
        "volume_fraction 0.05; 3D: 1.9 at 0.05, 1.77 at 0.003).",
    .example = "--set n_particles=2000 --set image=cca.png",
    .params = cca_params,
    .nparams = MODEL_COUNT(cca_params),
    .metrics = cca_metrics,
    .nmetrics = MODEL_COUNT(cca_metrics),
    .run = cca_run,
    .check = cca_check,
};
