/* The particles model: Lennard-Jones molecular dynamics in reduced units (sigma =
 * epsilon = m = k_B = 1) in a periodic cubic box, integrated by velocity Verlet. The
 * pair potential u(r) = 4 (r^-12 - r^-6) is cut at `cutoff` and, with `shift` (the
 * default), shifted by u(cutoff) so that it is continuous; without it, it is the plain
 * truncated potential of LAMMPS' lj/cut. The force is the same either way. The box has
 * side (N / density)^(1/3); particles start on the sites of an fcc lattice of m^3
 * cubic cells with m the smallest integer such that 4 m^3 >= N (N = 4 m^3 fills it; for
 * other N the first N sites in x, y, z, basis order are taken, leaving the last sites
 * empty). Velocities are normal deviates from the seed (rng.h), less their mean (zero
 * total momentum), scaled so the temperature 2 KE / (3N - 3) is exactly `temperature`.
 * `algorithm: naive` visits all N (N - 1) / 2 pairs; `cells` sorts the particles into
 * cells at least `cutoff` wide (at most N cells) and visits the 27 cells around each
 * particle's; with fewer than 4 cells per side those 27 are the whole box, so it runs
 * the all-pairs loop. For each particle i the cells loop sorts its partners j > i by
 * index before adding their forces, so both algorithms add the same terms in the same
 * order and give the same trajectory bit for bit. A box narrower than twice the cutoff
 * adds every periodic image within the cutoff (a particle's own images included), with
 * either algorithm. The pressure is the virial pressure (2 KE + sum r.f) / 3V of the
 * cut force, with no tail correction (LAMMPS lj/cut without pair_modify tail). Cost
 * per step: naive O(N^2); cells O(N) at fixed density. */
#include "model.h"

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Exit status of a run that blew up; 2 (bad parameters) is sweep sim's own. */
#define PARTICLES_EXIT_FAILED 1
#define PARTICLES_EXIT_BAD_PARAMS 2

#define PARTICLES_MAX_BYTES (2.0 * 1024 * 1024 * 1024)
/* A box smaller than cutoff / PARTICLES_MAX_IMAGES is refused: the image sum would
 * visit (2 * 8 + 1)^3 shifts per pair. */
#define PARTICLES_MAX_IMAGES 8
/* Cells are wider than the cutoff by this relative margin, so that a particle binned
 * into the next cell by rounding is still in the 27-cell stencil of every partner
 * closer than the cutoff, and the cells loop finds exactly the pairs naive finds. */
#define PARTICLES_CELL_MARGIN 1e-9
/* Cells per side below which `cells` runs the all-pairs loop: with 3 the 27-cell
 * stencil is the whole box, so cells would visit every pair and then sort. */
#define PARTICLES_MIN_CELLS 4

static const struct model_param particles_params[] = {
    {.name = "num_particles",
     .type = MODEL_INT,
     .def = "500",
     .min = MODEL_INCL(1),
     .aliases = (const char *const[]){"num_particulas", NULL},
     .desc = "number of particles N; N = 4 m^3 (32, 108, 256, 500, 864, 2048, 4000, "
             "...) fills the fcc lattice"},
    {.name = "num_steps",
     .type = MODEL_INT,
     .def = "1000",
     .min = MODEL_INCL(0),
     .max = MODEL_INCL(1e9),
     .aliases = (const char *const[]){"num_pasos", NULL},
     .desc = "velocity Verlet steps"},
    {.name = "seed",
     .type = MODEL_INT,
     .def = "0",
     .aliases = (const char *const[]){"semilla", NULL},
     .desc = "random seed of the initial velocities (sweep sets it per repetition)"},
    {.name = "algorithm",
     .type = MODEL_ENUM,
     .def = "\"cells\"",
     .choices = (const char *const[]){"naive", "cells", NULL},
     .choice_aliases =
         (const char *const[]){"python", "naive", "cython", "cells", NULL},
     .desc = "force loop: naive (all pairs, O(N^2)) or cells (cell lists, O(N)); "
             "python and cython are accepted for naive and cells"},
    {.name = "cutoff",
     .type = MODEL_REAL,
     .def = "2.5",
     .min = MODEL_EXCL(0),
     .unit = "sigma",
     .desc = "pair interaction cutoff radius"},
    {.name = "shift",
     .type = MODEL_BOOL,
     .def = "true",
     .desc = "shift the potential to zero at the cutoff (false: plain truncation, as "
             "LAMMPS lj/cut)"},
    {.name = "density",
     .type = MODEL_REAL,
     .def = "0.8442",
     .min = MODEL_EXCL(0),
     .unit = "sigma^-3",
     .desc = "number density N / V"},
    {.name = "temperature",
     .type = MODEL_REAL,
     .def = "0.722",
     .min = MODEL_INCL(0),
     .unit = "epsilon/k_B",
     .desc = "initial temperature"},
    {.name = "dt",
     .type = MODEL_REAL,
     .def = "0.005",
     .min = MODEL_EXCL(0),
     .unit = "tau",
     .desc = "time step"},
};

static const struct model_metric particles_metrics[] = {
    {.name = "particles_processed", .desc = "num_particles * steps_completed"},
    {.name = "steps_completed", .desc = "velocity Verlet steps taken"},
    {.name = "memory_used",
     .unit = "MB",
     .desc = "peak resident memory of the process"},
    {.name = "energy_initial",
     .unit = "epsilon",
     .desc = "total energy per particle at the start"},
    {.name = "energy_final",
     .unit = "epsilon",
     .desc = "total energy per particle at the end"},
    {.name = "energy_drift",
     .desc = "|energy_final - energy_initial| / |energy_initial|"},
    {.name = "temperature",
     .unit = "epsilon/k_B",
     .desc = "measured: the final temperature 2 KE / (3N - 3) (the temperature "
             "parameter sets the initial one)"},
    {.name = "pressure",
     .unit = "epsilon/sigma^3",
     .desc = "final virial pressure of the cut force, no tail correction"},
    {.name = "potential_energy",
     .unit = "epsilon",
     .desc = "final potential energy per particle"},
    {.name = "execution_time", .unit = "s", .desc = "wall-clock time of the run"},
    {.name = "steps_per_second",
     .unit = "1/s",
     .desc = "steps per second of wall time"},
};

/* A partner j > i within the cutoff, kept by the cells loop until sorted. */
struct particles_near {
    int j;
    double d[3]; /* r_i - r_j, minimum image */
    double r2;
};

enum particles_loop {
    PARTICLES_NAIVE,  /* all pairs, minimum image */
    PARTICLES_CELLS,  /* cell lists, minimum image */
    PARTICLES_IMAGES, /* all pairs and every image within the cutoff: a small box */
};

struct particles {
    int n;
    enum particles_loop loop;
    double box, inv_box;       /* side L and 1 / L */
    double rc2, eshift;        /* cutoff^2; u(cutoff) with shift, else 0 */
    double *pos, *vel, *force; /* 3n each: x, y, z of particle 0, then 1, ... */
    double epot, virial;       /* sum of u and of r.f over pairs, last evaluation */
    /* PARTICLES_CELLS */
    int nc;     /* cells per side */
    int *start; /* nc^3 + 1: cell c holds order[start[c] .. start[c + 1] - 1] */
    int *order; /* n: the particles by cell, by increasing index within a cell */
    int *cell;  /* n: the cell of each particle */
    struct particles_near *near; /* n */
    /* PARTICLES_IMAGES */
    int nimg;
    double *img;         /* 3 * nimg shift vectors, zero included */
    double eself, wself; /* u and r.f of one particle with its own images, halved */
};

/* Reduced-unit LJ energy and r.f (= r * |f|) at r2, not shifted. */
static double particles_u(double r2, double *w)
{
    double r6i = 1.0 / (r2 * r2 * r2);

    *w = 48.0 * r6i * (r6i - 0.5);
    return 4.0 * r6i * (r6i - 1.0);
}

/* r_i - r_j in the minimum image convention, into d; returns its square length.
 * Positions are within [0, L] (see particles_step), so one shift is enough. */
static inline double
particles_delta(const double *ri, const double *rj, double box, double d[3])
{
    double half = 0.5 * box;
    double x = ri[0] - rj[0], y = ri[1] - rj[1], z = ri[2] - rj[2];

    x = x > half ? x - box : x < -half ? x + box : x;
    y = y > half ? y - box : y < -half ? y + box : y;
    z = z > half ? z - box : z < -half ? z + box : z;
    d[0] = x;
    d[1] = y;
    d[2] = z;
    return x * x + y * y + z * z;
}

/* Adds the pair (i, j) at separation d, r2 < cutoff^2. The only place forces and
 * energies are summed, so every loop gives the same rounding for the same order. */
static void
particles_pair(struct particles *s, int i, int j, const double d[3], double r2)
{
    double w, u = particles_u(r2, &w), ff = w / r2;

    for (int k = 0; k < 3; k++) {
        s->force[3 * i + k] += ff * d[k];
        s->force[3 * j + k] -= ff * d[k];
    }
    s->epot += u - s->eshift;
    s->virial += w;
}

static void particles_naive(struct particles *s)
{
    double d[3], rc2 = s->rc2, box = s->box;

    for (int i = 0; i < s->n; i++) {
        const double *ri = s->pos + 3 * i;
        for (int j = i + 1; j < s->n; j++) {
            double r2 = particles_delta(ri, s->pos + 3 * j, box, d);
            if (r2 < rc2)
                particles_pair(s, i, j, d, r2);
        }
    }
}

/* Sorts the particles by cell (a counting sort, stable: by increasing index within a
 * cell). O(N + cells). */
static void particles_bin(struct particles *s)
{
    int nc = s->nc, ncells = nc * nc * nc;
    double scale = nc * s->inv_box;

    memset(s->start, 0, ((size_t)ncells + 1) * sizeof(int));
    for (int i = 0; i < s->n; i++) {
        int c[3];
        for (int k = 0; k < 3; k++) {
            /* Clamped before the conversion: a run that blew up has NaN here. */
            double f = s->pos[3 * i + k] * scale;
            c[k] = f > 0 ? (f < nc ? (int)f : nc - 1) : 0;
        }
        s->cell[i] = (c[2] * nc + c[1]) * nc + c[0];
        s->start[s->cell[i] + 1]++;
    }
    for (int c = 0; c < ncells; c++)
        s->start[c + 1] += s->start[c];
    for (int i = 0; i < s->n; i++)
        s->order[s->start[s->cell[i]]++] = i;
    /* Each start[c] now holds the end of cell c, the start of cell c + 1. */
    memmove(s->start + 1, s->start, (size_t)ncells * sizeof(int));
    s->start[0] = 0;
}

/* Sorts partners by index (insertion sort: a few dozen, partly ordered). */
static void particles_sort(struct particles_near *a, int n)
{
    for (int k = 1; k < n; k++) {
        struct particles_near v = a[k];
        int m = k;
        for (; m > 0 && a[m - 1].j > v.j; m--)
            a[m] = a[m - 1];
        a[m] = v;
    }
}

/* For each i, collects the partners j > i within the cutoff from the 27 cells around
 * i's, then adds them in the order of j, as the naive loop does. */
static void particles_cells(struct particles *s)
{
    const int *start = s->start, *order = s->order;
    int nc = s->nc;

    particles_bin(s);
    for (int i = 0; i < s->n; i++) {
        int c = s->cell[i], cx = c % nc, cy = c / nc % nc, cz = c / (nc * nc);
        const double *ri = s->pos + 3 * i;
        int count = 0;

        for (int dz = -1; dz <= 1; dz++) {
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    int nb = (((cz + dz + nc) % nc) * nc + (cy + dy + nc) % nc) * nc +
                             (cx + dx + nc) % nc;
                    /* From the end of the cell down to the first j <= i. */
                    for (int k = start[nb + 1] - 1; k >= start[nb] && order[k] > i;
                         k--) {
                        struct particles_near *p = &s->near[count];
                        int j = order[k];
                        p->r2 = particles_delta(ri, s->pos + 3 * j, s->box, p->d);
                        if (p->r2 < s->rc2) {
                            p->j = j;
                            count++;
                        }
                    }
                }
            }
        }
        particles_sort(s->near, count);
        for (int k = 0; k < count; k++)
            particles_pair(s, i, s->near[k].j, s->near[k].d, s->near[k].r2);
    }
}

/* A box narrower than twice the cutoff: each pair with every image of j within the
 * cutoff. A particle's own images add the constant eself and wself. */
static void particles_images(struct particles *s)
{
    double d0[3], d[3];

    for (int i = 0; i < s->n; i++) {
        for (int j = i + 1; j < s->n; j++) {
            particles_delta(s->pos + 3 * i, s->pos + 3 * j, s->box, d0);
            for (int m = 0; m < s->nimg; m++) {
                double r2 = 0;
                for (int k = 0; k < 3; k++) {
                    d[k] = d0[k] + s->img[3 * m + k];
                    r2 += d[k] * d[k];
                }
                if (r2 < s->rc2)
                    particles_pair(s, i, j, d, r2);
            }
        }
    }
}

/* Forces, potential energy and virial at the current positions. */
static void particles_forces(struct particles *s)
{
    memset(s->force, 0, 3 * (size_t)s->n * sizeof(double));
    s->epot = s->n * s->eself;
    s->virial = s->n * s->wself;
    switch (s->loop) {
    case PARTICLES_NAIVE:
        particles_naive(s);
        break;
    case PARTICLES_CELLS:
        particles_cells(s);
        break;
    case PARTICLES_IMAGES:
        particles_images(s);
        break;
    }
}

static double particles_kinetic(const struct particles *s)
{
    double ke = 0;

    for (size_t k = 0; k < 3 * (size_t)s->n; k++)
        ke += s->vel[k] * s->vel[k];
    return 0.5 * ke;
}

/* Degrees of freedom: 3N less the conserved total momentum. */
static double particles_temperature(const struct particles *s, double ke)
{
    return s->n > 1 ? 2.0 * ke / (3.0 * s->n - 3.0) : 0.0;
}

/* The image shifts that can bring a minimum-image separation (each component within
 * L/2) within the cutoff, and the energy of a particle with its own images. */
static void particles_init_images(struct particles *s, int kmax, double rc)
{
    int side = 2 * kmax + 1;

    s->img = xcalloc(3 * (size_t)side * side * side, sizeof(double));
    for (int a = -kmax; a <= kmax; a++) {
        for (int b = -kmax; b <= kmax; b++) {
            for (int c = -kmax; c <= kmax; c++) {
                int n[3] = {a, b, c};
                double near2 = 0, r2 = 0, w;
                for (int k = 0; k < 3; k++) {
                    double gap = fabs(n[k] * s->box) - 0.5 * s->box;
                    near2 += gap > 0 ? gap * gap : 0;
                    r2 += n[k] * s->box * n[k] * s->box;
                }
                if (near2 >= rc * rc)
                    continue;
                for (int k = 0; k < 3; k++)
                    s->img[3 * s->nimg + k] = n[k] * s->box;
                s->nimg++;
                if (r2 > 0 && r2 < s->rc2) {
                    s->eself += 0.5 * (particles_u(r2, &w) - s->eshift);
                    s->wself += 0.5 * w;
                }
            }
        }
    }
}

/* First n sites of an fcc lattice of m^3 cubic cells filling the box. */
static void particles_lattice(struct particles *s)
{
    static const double basis[4][3] = {
        {0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
    int m = 1, i = 0;
    double a;

    while (4.0 * m * m * m < s->n)
        m++;
    a = s->box / m;
    for (int x = 0; x < m; x++)
        for (int y = 0; y < m; y++)
            for (int z = 0; z < m; z++)
                for (int b = 0; b < 4 && i < s->n; b++, i++) {
                    s->pos[3 * i + 0] = (x + basis[b][0]) * a;
                    s->pos[3 * i + 1] = (y + basis[b][1]) * a;
                    s->pos[3 * i + 2] = (z + basis[b][2]) * a;
                }
}

/* Normal velocities from the seed, zero total momentum, exactly temperature t. */
static void particles_velocities(struct particles *s, uint64_t seed, double t)
{
    size_t n3 = 3 * (size_t)s->n;
    double mean[3] = {0, 0, 0}, ke, scale;
    struct rng rng;

    rng_init(&rng, seed, 0);
    for (size_t k = 0; k < n3; k++) {
        s->vel[k] = rng_normal(&rng);
        mean[k % 3] += s->vel[k];
    }
    for (size_t k = 0; k < n3; k++)
        s->vel[k] -= mean[k % 3] / s->n;
    ke = particles_kinetic(s);
    scale = ke > 0 && s->n > 1 ? sqrt(t / particles_temperature(s, ke)) : 0.0;
    for (size_t k = 0; k < n3; k++)
        s->vel[k] *= scale;
}

static void particles_fini(struct particles *s)
{
    free(s->pos);
    free(s->vel);
    free(s->force);
    free(s->start);
    free(s->order);
    free(s->cell);
    free(s->near);
    free(s->img);
}

/* Chooses the loop and checks the box and the memory it needs, allocating nothing;
 * *kmax: the image shells of the image loop. Returns 0, or SWEEP_EINVAL with err set.
 */
static int particles_plan(struct particles *s,
                          const struct model_args *a,
                          int *kmax_out,
                          struct err *err)
{
    int64_t n = model_arg_int(a, "num_particles");
    double rc = model_arg_real(a, "cutoff"), density = model_arg_real(a, "density");
    double w, bytes = 9.0 * sizeof(double) * (double)n;
    int kmax = 0;

    memset(s, 0, sizeof(*s));
    s->box = cbrt((double)n / density);
    s->inv_box = 1.0 / s->box;
    s->rc2 = rc * rc;
    s->eshift = model_arg_bool(a, "shift") ? particles_u(s->rc2, &w) : 0.0;
    if (!isfinite(s->box) || s->box <= 0)
        return err_set(err, SWEEP_EINVAL,
                       "particles: density: %g gives a box side of %g for %lld "
                       "particles; choose a density nearer 1",
                       density, s->box, (long long)n);
    if (rc > 0.5 * s->box) {
        s->loop = PARTICLES_IMAGES;
        kmax = (int)ceil(rc * s->inv_box + 0.5);
        if (rc * s->inv_box > PARTICLES_MAX_IMAGES)
            return err_set(err, SWEEP_EINVAL,
                           "particles: cutoff: %g is more than %d box sides (side %g "
                           "for %lld particle%s at density %g); lower the cutoff or "
                           "the density, or add particles",
                           rc, PARTICLES_MAX_IMAGES, s->box, (long long)n,
                           n == 1 ? "" : "s", density);
    } else if (strcmp(model_arg_str(a, "algorithm"), "cells") == 0) {
        int cap = 1; /* at most n cells */
        while ((double)(cap + 1) * (cap + 1) * (cap + 1) <= (double)n)
            cap++;
        s->nc = (int)fmin(s->box / (rc * (1 + PARTICLES_CELL_MARGIN)), cap);
        s->loop = s->nc >= PARTICLES_MIN_CELLS ? PARTICLES_CELLS : PARTICLES_NAIVE;
        if (s->loop == PARTICLES_CELLS)
            bytes += (double)n * (2 * sizeof(int) + sizeof(struct particles_near)) +
                     ((double)s->nc * s->nc * s->nc + 1) * sizeof(int);
    }
    if (bytes > PARTICLES_MAX_BYTES)
        return err_set(err, SWEEP_EINVAL,
                       "particles: num_particles: %lld particles need %.1f GiB of "
                       "memory, more than the limit of %.0f GiB; reduce num_particles",
                       (long long)n, bytes / 0x1p30, PARTICLES_MAX_BYTES / 0x1p30);
    s->n = (int)n; /* < 2^31: the bound allows about 2e7 */
    *kmax_out = kmax;
    return SWEEP_OK;
}

/* The parameter check before anything runs: particles_plan on a scratch state. */
static int particles_check(const struct model_args *a, struct err *err)
{
    struct particles s;
    int kmax;

    return particles_plan(&s, a, &kmax, err);
}

/* Plans the run (particles_plan), then allocates and sets up the lattice and
 * velocities. Returns 0, or 2 with err set before allocating anything. */
static int
particles_init(struct particles *s, const struct model_args *a, struct err *err)
{
    int kmax;
    int64_t n;

    if (particles_plan(s, a, &kmax, err) != SWEEP_OK)
        return SWEEP_EINVAL;
    n = s->n;

    s->pos = xcalloc(3 * (size_t)n, sizeof(double));
    s->vel = xcalloc(3 * (size_t)n, sizeof(double));
    s->force = xcalloc(3 * (size_t)n, sizeof(double));
    if (s->loop == PARTICLES_CELLS) {
        s->start = xcalloc((size_t)s->nc * s->nc * s->nc + 1, sizeof(int));
        s->order = xcalloc((size_t)n, sizeof(int));
        s->cell = xcalloc((size_t)n, sizeof(int));
        s->near = xcalloc((size_t)n, sizeof(struct particles_near));
    }
    if (s->loop == PARTICLES_IMAGES)
        particles_init_images(s, kmax, model_arg_real(a, "cutoff"));
    particles_lattice(s);
    particles_velocities(s, (uint64_t)model_arg_int(a, "seed"),
                         model_arg_real(a, "temperature"));
    return 0;
}

/* One velocity Verlet step; positions are wrapped back into [0, L). */
static void particles_step(struct particles *s, double dt)
{
    size_t n3 = 3 * (size_t)s->n;

    for (size_t k = 0; k < n3; k++) {
        s->vel[k] += 0.5 * dt * s->force[k];
        s->pos[k] += dt * s->vel[k];
        s->pos[k] -= s->box * floor(s->pos[k] * s->inv_box);
    }
    particles_forces(s);
    for (size_t k = 0; k < n3; k++)
        s->vel[k] += 0.5 * dt * s->force[k];
}

static int
particles_run(const struct model_args *args, json_t *metrics, struct err *err)
{
    double start = time_mono(), dt = model_arg_real(args, "dt");
    int64_t steps = model_arg_int(args, "num_steps"), done = 0;
    double e0, e1, ke, loop_start, loop_time, vol;
    struct particles s;
    struct rusage ru;
    int rc = 0;

    if (particles_init(&s, args, err))
        return PARTICLES_EXIT_BAD_PARAMS;
    particles_forces(&s);
    e0 = (particles_kinetic(&s) + s.epot) / s.n;
    loop_start = time_mono();
    for (; done < steps && isfinite(s.epot); done++)
        particles_step(&s, dt);
    loop_time = time_mono() - loop_start;
    ke = particles_kinetic(&s);
    e1 = (ke + s.epot) / s.n;
    if (!isfinite(e1)) {
        err_set(err, SWEEP_EINVAL,
                "particles: the energy is not finite after step %lld (dt = %g): the "
                "run blew up; lower dt or the temperature",
                (long long)done, dt);
        rc = PARTICLES_EXIT_FAILED;
        goto out;
    }

    vol = s.box * s.box * s.box;
    getrusage(RUSAGE_SELF, &ru);
    json_object_set_new(metrics, "particles_processed", json_integer(s.n * done));
    json_object_set_new(metrics, "steps_completed", json_integer(done));
    json_object_set_new(metrics, "memory_used", json_real(ru.ru_maxrss / 1024.0));
    json_object_set_new(metrics, "energy_initial", json_real(e0));
    json_object_set_new(metrics, "energy_final", json_real(e1));
    json_object_set_new(metrics, "energy_drift",
                        json_real(fabs(e1 - e0) / (e0 != 0 ? fabs(e0) : 1.0)));
    json_object_set_new(metrics, "temperature",
                        json_real(particles_temperature(&s, ke)));
    json_object_set_new(metrics, "pressure",
                        json_real((2.0 * ke + s.virial) / (3.0 * vol)));
    json_object_set_new(metrics, "potential_energy", json_real(s.epot / s.n));
    json_object_set_new(metrics, "execution_time", json_real(time_mono() - start));
    json_object_set_new(metrics, "steps_per_second",
                        json_real(loop_time > 0 ? done / loop_time : 0.0));
out:
    particles_fini(&s);
    return rc;
}

const struct model model_particles = {
    .name = "particles",
    .summary = "Lennard-Jones molecular dynamics in a periodic box (velocity Verlet)",
    .description =
        "Lennard-Jones molecular dynamics in reduced units (sigma = epsilon = m = 1) "
        "in "
        "a periodic cubic box of side (num_particles / density)^(1/3), integrated by "
        "velocity Verlet with step dt. The potential is cut at `cutoff` and shifted to "
        "zero there (shift=false: plain truncation, as LAMMPS lj/cut). Particles start "
        "on an fcc lattice (num_particles = 4 m^3 fills it exactly; otherwise the "
        "first "
        "num_particles sites of the smallest lattice that holds them) with normal "
        "velocities drawn from the seed, zero total momentum and exactly the initial "
        "temperature. algorithm=naive loops over all pairs (O(N^2)), algorithm=cells "
        "uses cell lists (O(N)); both give the same trajectory bit for bit. Reports "
        "the energy per particle at the start and end and its relative drift, the "
        "final temperature, virial pressure (no tail correction) and potential energy "
        "per particle, and the speed. The task types benchmark and benchmark_cython "
        "are this model with algorithm naive and cells.",
    .example = "--set num_particles=500 --set num_steps=1000",
    .params = particles_params,
    .nparams = MODEL_COUNT(particles_params),
    .metrics = particles_metrics,
    .nmetrics = MODEL_COUNT(particles_metrics),
    .run = particles_run,
    .check = particles_check,
};
