/* Clusters of the aggregation models (see cluster.h): storage in arrival order, the
 * fractal analysis every growth model reports, the positions as CSV and the picture.
 * The mass-radius dimension is the least-squares slope of log N(r) against log r,
 * N(r) being the number of particles within r of the seed, at up to
 * CLUSTER_FIT_RADII radii spaced evenly in log r (at most CLUSTER_FIT_PER_OCTAVE per
 * factor 2) between fit_rmin and fit_rmax:
 *  - fit_rmin = max(5, 4 particle radii): below a few particle diameters N(r) counts
 *    a handful of particles (it jumps by whole particles, and the seed region of a
 *    lattice cluster is shaped by the lattice), so the slope there measures the
 *    discreteness, not the fractal;
 *  - fit_rmax = max_radius / 2: the outer part of a growing cluster is its active
 *    zone, where branches are still being filled in and N(r) bends over towards the
 *    total mass. In 2D DLA of 10^5 particles the local slope is about 1.7 out to
 *    0.35 R_max, 1.4 between 0.35 and 0.5 R_max and 0.4 beyond; stopping at R_max / 3
 *    instead changed df by less than 0.01 there, so the fit keeps the wider range.
 * Both ends are reported (fit_rmin, fit_rmax) so a reader knows what was fitted. The
 * analysis sorts the distances once: O(n log n) time, n doubles of memory.
 * The picture is drawn with cairo. src/report is the cairo module; this file is the
 * one other place that includes cairo.h, because a model writes its own picture and
 * models do not depend on the report layer. */
#include "cluster.h"

#include "common/xalloc.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CLUSTER_FIT_RADII 16     /* most radii in the fit */
#define CLUSTER_FIT_PER_OCTAVE 4 /* at most this many radii per factor 2 in r */

#define CLUSTER_IMAGE_SIZE 800  /* pixels (PNG) or points (SVG, PDF), square */
#define CLUSTER_IMAGE_MARGIN 16 /* around the cluster */
#define CLUSTER_CAPTION 28      /* band below the cluster for the caption */
#define CLUSTER_COLOURS 256     /* arrival order is drawn in this many colours */
#define CLUSTER_MIN_DISC 0.5    /* smallest disc radius drawn, so large clusters show */

enum cluster_format { CLUSTER_NONE, CLUSTER_PNG, CLUSTER_SVG, CLUSTER_PDF };

void cluster_init(struct cluster *c, int dim)
{
    memset(c, 0, sizeof(*c));
    c->dim = dim;
    c->seed[0] = c->seed[1] = c->seed[2] = NAN;
}

void cluster_add(struct cluster *c, double x, double y, double z)
{
    double *p;

    c->pos = xgrow(c->pos, &c->cap, c->n + 1, 3 * sizeof(double));
    p = c->pos + 3 * c->n++;
    p[0] = x;
    p[1] = y;
    p[2] = z;
}

void cluster_fini(struct cluster *c)
{
    free(c->pos);
    c->pos = NULL;
    c->n = c->cap = 0;
}

static int cluster_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The number of sorted values d[0..n) that are <= r. */
static size_t cluster_count_within(const double *d, size_t n, double r)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d[mid] <= r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Radius of gyration about the centre of mass, in two passes for accuracy. */
static double cluster_rg(const struct cluster *c)
{
    double com[3] = {0, 0, 0}, sum = 0;

    for (size_t i = 0; i < c->n; i++)
        for (int k = 0; k < 3; k++)
            com[k] += c->pos[3 * i + k];
    for (int k = 0; k < 3; k++)
        com[k] /= (double)c->n;
    for (size_t i = 0; i < c->n; i++)
        for (int k = 0; k < 3; k++) {
            double d = c->pos[3 * i + k] - com[k];
            sum += d * d;
        }
    return sqrt(sum / (double)c->n);
}

/* The least-squares line through the points (log r, log N(r)) at `m` radii evenly
 * spaced in log between s->fit_rmin and s->fit_rmax: slope into df, r^2 into
 * df_fit_r2 (NAN when N(r) is the same at every radius). */
static void cluster_fit(const double *d, size_t n, size_t m, struct cluster_stats *s)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, ratio = s->fit_rmax / s->fit_rmin;

    for (size_t j = 0; j < m; j++) {
        double r = s->fit_rmin * pow(ratio, (double)j / (double)(m - 1));
        double x = log(r), y = log((double)cluster_count_within(d, n, r));

        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
    }
    sxx -= sx * sx / (double)m;
    sxy -= sx * sy / (double)m;
    syy -= sy * sy / (double)m;
    s->df = sxy / sxx;
    s->df_fit_r2 = syy > 0 ? sxy * sxy / (sxx * syy) : NAN;
    s->fit_points = m;
}

void cluster_analyze(const struct cluster *c,
                     double particle_radius,
                     struct cluster_stats *out)
{
    const double *seed = isnan(c->seed[0]) ? c->pos : c->seed;
    double *d, rmin = 4 * particle_radius > 5 ? 4 * particle_radius : 5;
    size_t m = 0;

    memset(out, 0, sizeof(*out));
    out->df = out->df_fit_r2 = NAN;
    out->fit_rmin = rmin;
    out->fit_rmax = NAN;
    if (c->n == 0)
        return;
    out->rg = cluster_rg(c);
    d = xmalloc(c->n * sizeof(*d));
    for (size_t i = 0; i < c->n; i++) {
        double sum = 0;
        for (int k = 0; k < 3; k++) {
            double dk = c->pos[3 * i + k] - seed[k];
            sum += dk * dk;
        }
        d[i] = sqrt(sum);
    }
    qsort(d, c->n, sizeof(*d), cluster_cmp_double);
    out->max_radius = d[c->n - 1];
    out->fit_rmax = out->max_radius / 2;
    if (out->fit_rmax > rmin) {
        double octaves = log2(out->fit_rmax / rmin);
        m = 1 + (size_t)floor(CLUSTER_FIT_PER_OCTAVE * octaves);
        if (m > CLUSTER_FIT_RADII)
            m = CLUSTER_FIT_RADII;
    }
    if (m >= 3)
        cluster_fit(d, c->n, m, out);
    free(d);
}

/* A real metric, or null when it is not finite (JSON has no NaN). */
static void cluster_set_real(json_t *metrics, const char *name, double v)
{
    json_object_set_new(metrics, name, isfinite(v) ? json_real(v) : json_null());
}

void cluster_metrics(const struct cluster_stats *s, size_t n_particles, json_t *metrics)
{
    json_object_set_new(metrics, "n_particles", json_integer((json_int_t)n_particles));
    cluster_set_real(metrics, "rg", s->rg);
    cluster_set_real(metrics, "df", s->df);
    cluster_set_real(metrics, "df_fit_r2", s->df_fit_r2);
    cluster_set_real(metrics, "max_radius", s->max_radius);
    cluster_set_real(metrics, "fit_rmin", s->fit_rmin);
    cluster_set_real(metrics, "fit_rmax", s->fit_rmax);
}

int cluster_write_positions(const struct cluster *c, const char *path, struct err *err)
{
    FILE *fp = fopen(path, "we");
    int errnum = 0;

    if (!fp)
        return err_set(err, SWEEP_EIO, "positions: cannot write %s: %s", path,
                       strerror(errno));
    fputs("x,y,z\n", fp);
    for (size_t i = 0; i < c->n; i++) {
        const double *p = c->pos + 3 * i;
        fprintf(fp, "%.17g,%.17g,%.17g\n", p[0], p[1], p[2]);
    }
    if (ferror(fp))
        errnum = errno ? errno : EIO;
    if (fclose(fp) != 0 && !errnum)
        errnum = errno;
    if (!errnum)
        return SWEEP_OK;
    unlink(path);
    return err_set(err, SWEEP_EIO, "positions: cannot write %s: %s", path,
                   strerror(errnum));
}

static enum cluster_format cluster_format_of(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (!dot || strchr(dot, '/'))
        return CLUSTER_NONE;
    if (strcasecmp(dot, ".png") == 0)
        return CLUSTER_PNG;
    if (strcasecmp(dot, ".svg") == 0)
        return CLUSTER_SVG;
    if (strcasecmp(dot, ".pdf") == 0)
        return CLUSTER_PDF;
    return CLUSTER_NONE;
}

int cluster_image_check(const char *path, struct err *err)
{
    if (cluster_format_of(path) == CLUSTER_NONE)
        return err_set(err, SWEEP_EINVAL,
                       "image: expected a file name ending in .png, .svg or .pdf, got "
                       "\"%s\"",
                       path);
    return SWEEP_OK;
}

/* Viridis (matplotlib's perceptually uniform map) at t = 0, 1/8, ..., 1; colours in
 * between are interpolated linearly, close enough to the real map for a picture. */
static void cluster_colour(double t, double rgb[3])
{
    static const unsigned int stops[] = {0x440154, 0x472c7a, 0x3b518b,
                                         0x2c718e, 0x21908d, 0x27ad81,
                                         0x5cc863, 0xaadc32, 0xfde725};
    const size_t last = sizeof(stops) / sizeof(stops[0]) - 1;
    double x = t * (double)last;
    size_t k = x >= (double)last ? last - 1 : (size_t)x;
    double f = x - (double)k;

    for (int ch = 0; ch < 3; ch++) {
        int shift = 16 - 8 * ch;
        double a = (stops[k] >> shift & 0xff) / 255.0;
        double b = (stops[k + 1] >> shift & 0xff) / 255.0;
        rgb[ch] = a + (b - a) * f;
    }
}

/* Draws the white page, the discs (xy projection) scaled to fit above the caption
 * band, and the caption. Particles are grouped into CLUSTER_COLOURS runs of arrival
 * order, each filled as one path: a few hundred fills whatever the size. */
static void cluster_draw(cairo_t *cr, const struct cluster *c, double radius)
{
    const double size = CLUSTER_IMAGE_SIZE, margin = CLUSTER_IMAGE_MARGIN;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    double scale = 1, disc, box = size - CLUSTER_CAPTION - 2 * margin;
    size_t bins = c->n < CLUSTER_COLOURS ? c->n : CLUSTER_COLOURS;
    struct cluster_stats s;
    char caption[128];

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    for (size_t i = 0; i < c->n; i++)
        for (int k = 0; k < 2; k++) {
            double v = c->pos[3 * i + k];
            lo[k] = fmin(lo[k], v - radius);
            hi[k] = fmax(hi[k], v + radius);
        }
    if (c->n > 0)
        scale = box / fmax(hi[0] - lo[0], hi[1] - lo[1]);
    disc = fmax(radius * scale, CLUSTER_MIN_DISC);
    for (size_t b = 0; b < bins; b++) {
        size_t first = (c->n * b + bins - 1) / bins,
               end = (c->n * (b + 1) + bins - 1) / bins;
        double rgb[3];

        cluster_colour(bins > 1 ? (double)b / (double)(bins - 1) : 0, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        for (size_t i = first; i < end; i++) {
            /* Centred in the box; y grows upwards as in the model. */
            double x = margin + (box - scale * (hi[0] - lo[0])) / 2 +
                       scale * (c->pos[3 * i] - lo[0]);
            double y = margin + box - (box - scale * (hi[1] - lo[1])) / 2 -
                       scale * (c->pos[3 * i + 1] - lo[1]);
            cairo_new_sub_path(cr);
            cairo_arc(cr, x, y, disc, 0, 2 * M_PI);
        }
        cairo_fill(cr);
    }

    cluster_analyze(c, radius, &s);
    if (isnan(s.df))
        snprintf(caption, sizeof(caption), "n = %zu, df n/a (too small)%s", c->n,
                 c->dim == 3 ? ", xy projection" : "");
    else
        snprintf(caption, sizeof(caption), "n = %zu, df = %.3f%s", c->n, s.df,
                 c->dim == 3 ? ", xy projection" : "");
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 13);
    cairo_set_source_rgb(cr, 0x22 / 255.0, 0x22 / 255.0, 0x22 / 255.0);
    cairo_move_to(cr, margin, size - CLUSTER_CAPTION / 2.0 + 4);
    cairo_show_text(cr, caption);
}

/* Where cairo writes: the file and the first errno of a failed write. */
struct cluster_sink {
    FILE *fp;
    int errnum;
};

static cairo_status_t
cluster_sink_write(void *closure, const unsigned char *data, unsigned int length)
{
    struct cluster_sink *sink = closure;

    if (fwrite(data, 1, length, sink->fp) != length) {
        if (!sink->errnum)
            sink->errnum = errno ? errno : EIO;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

int cluster_write_image(const struct cluster *c,
                        double particle_radius,
                        const char *path,
                        struct err *err)
{
    enum cluster_format fmt = cluster_format_of(path);
    struct cluster_sink sink = {0};
    cairo_surface_t *surface;
    cairo_status_t status;
    cairo_t *cr;
    bool failed;

    if (fmt == CLUSTER_NONE)
        return cluster_image_check(path, err);
    sink.fp = fopen(path, "we");
    if (!sink.fp)
        return err_set(err, SWEEP_EIO, "image: cannot write %s: %s", path,
                       strerror(errno));
    if (fmt == CLUSTER_PNG)
        surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, CLUSTER_IMAGE_SIZE,
                                             CLUSTER_IMAGE_SIZE);
    else if (fmt == CLUSTER_SVG)
        surface = cairo_svg_surface_create_for_stream(
            cluster_sink_write, &sink, CLUSTER_IMAGE_SIZE, CLUSTER_IMAGE_SIZE);
    else
        surface = cairo_pdf_surface_create_for_stream(
            cluster_sink_write, &sink, CLUSTER_IMAGE_SIZE, CLUSTER_IMAGE_SIZE);
    cr = cairo_create(surface);
    cluster_draw(cr, c, particle_radius);
    status = cairo_status(cr);
    cairo_destroy(cr);
    if (status == CAIRO_STATUS_SUCCESS && fmt == CLUSTER_PNG)
        status = cairo_surface_write_to_png_stream(surface, cluster_sink_write, &sink);
    cairo_surface_finish(surface);
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    failed = ferror(sink.fp) != 0;
    if (fclose(sink.fp) != 0 && !sink.errnum)
        sink.errnum = errno;
    if (status == CAIRO_STATUS_SUCCESS && !failed && !sink.errnum)
        return SWEEP_OK;
    unlink(path);
    return err_set(err, SWEEP_EIO, "image: cannot write %s: %s", path,
                   sink.errnum                      ? strerror(sink.errnum)
                   : status != CAIRO_STATUS_SUCCESS ? cairo_status_to_string(status)
                                                    : "write error");
}
