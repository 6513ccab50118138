/* sweep chart: a line or scatter chart of columns of CSV files (a task's
 * timeseries.csv, a results export), one series per file and y column, drawn by
 * report/chart. The CSV reader follows RFC 4180 (a header row, quoted fields with ""
 * for a quote and line breaks inside quotes, CRLF or LF) and also accepts a UTF-8 byte
 * order mark and skips blank lines. A file is read whole into memory. */
#include "cli.h"

#include "common/strbuf.h"
#include "common/xalloc.h"
#include "report/chart.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_chart;

/* Series with at most this many points get markers on their line by default. */
#define MARKER_POINTS 50

/* ---- CSV ---- */

struct csv {
    const char *path;
    const char *p, *end, *line_start;
    size_t line;         /* line number of *p */
    struct strbuf cells; /* the record's fields, each NUL-terminated */
    size_t *off;         /* where each field starts in cells */
    size_t n, cap;
};

static int
csv_error(const struct csv *c, const char *at, struct err *err, const char *what)
{
    return err_set(err, SWEEP_EINVAL, "%s:%zu:%zu: %s", c->path, c->line,
                   (size_t)(at - c->line_start) + 1, what);
}

static void csv_newline(struct csv *c)
{
    c->line++;
    c->line_start = c->p;
}

/* Reads one field at c->p into cells. */
static int csv_field(struct csv *c, struct err *err)
{
    c->off = xgrow(c->off, &c->cap, c->n + 1, sizeof(*c->off));
    c->off[c->n++] = c->cells.len;
    /* Blanks before an opening quote (", " after a quoted field) are dropped. */
    const char *q = c->p;
    while (q < c->end && (*q == ' ' || *q == '\t'))
        q++;
    if (q < c->end && *q == '"') {
        c->p = q;
        const char *open = c->p++;
        size_t open_line = c->line;
        const char *open_start = c->line_start;

        for (;;) {
            if (c->p == c->end) {
                c->line = open_line;
                c->line_start = open_start;
                return csv_error(c, open, err, "quoted field is never closed");
            }
            if (*c->p == '"') {
                if (c->p + 1 < c->end && c->p[1] == '"') {
                    sb_addc(&c->cells, '"');
                    c->p += 2;
                    continue;
                }
                c->p++;
                break;
            }
            sb_addc(&c->cells, *c->p++);
            if (c->p[-1] == '\n')
                csv_newline(c);
        }
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
            c->p++;
        if (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n')
            return csv_error(c, c->p, err,
                             "unexpected character after a closing quote (a quote "
                             "inside a quoted field is written \"\")");
    } else {
        const char *s = c->p;
        while (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n')
            c->p++;
        sb_add(&c->cells, s, (size_t)(c->p - s));
    }
    sb_addc(&c->cells, '\0');
    return SWEEP_OK;
}

/* Reads the next record, skipping blank lines; *line is where it starts. Returns 1 with
 * a record, 0 at the end, or -1 on error. */
static int csv_next(struct csv *c, size_t *line, struct err *err)
{
    for (;;) {
        if (c->p == c->end)
            return 0;
        sb_reset(&c->cells);
        c->n = 0;
        *line = c->line;
        for (;;) {
            if (csv_field(c, err))
                return -1;
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            break;
        }
        if (c->p < c->end && *c->p == '\r')
            c->p++;
        if (c->p < c->end && *c->p == '\n')
            c->p++;
        csv_newline(c);
        if (c->n > 1 || c->cells.buf[0] != '\0')
            return 1;
    }
}

static const char *csv_cell(const struct csv *c, size_t i)
{
    return i < c->n ? c->cells.buf + c->off[i] : "";
}

/* ---- reading the columns ---- */

/* One column wanted from a file: its values, NaN where a cell is empty or not a
 * number. */
struct column {
    const char *name;
    size_t index;
    double *v;
    size_t skipped,
        first_skipped; /* how many cells were skipped; the first one's line */
};

struct file {
    const char *path;
    size_t nrows, cap;
    struct column *cols; /* x, then each y, then each yerr */
    size_t ncols;
};

static bool parse_number(const char *s, double *v)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return false;
    *v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    return *end == '\0' && end != s;
}

static bool same_name(const char *header, const char *want)
{
    size_t n;

    while (*header == ' ' || *header == '\t')
        header++;
    n = strlen(want);
    if (strncmp(header, want, n) != 0)
        return false;
    header += n;
    while (*header == ' ' || *header == '\t')
        header++;
    return *header == '\0';
}

/* Finds each wanted column in the header record, which starts on the given line. */
static int
find_columns(const struct csv *c, struct file *f, size_t line, struct err *err)
{
    for (size_t k = 0; k < f->ncols; k++) {
        size_t i = 0;
        while (i < c->n && !same_name(csv_cell(c, i), f->cols[k].name))
            i++;
        if (i < c->n) {
            f->cols[k].index = i;
            continue;
        }
        struct strbuf sb = STRBUF_INIT;
        for (i = 0; i < c->n && i < 20; i++)
            sb_addf(&sb, "%s%s", i ? ", " : "", csv_cell(c, i));
        if (c->n > 20)
            sb_addf(&sb, ", ... (%zu in all)", c->n);
        err_set(err, SWEEP_EINVAL, "%s:%zu: no column \"%s\"; columns are: %s", f->path,
                line, f->cols[k].name, sb_str(&sb));
        sb_fini(&sb);
        return SWEEP_EINVAL;
    }
    return SWEEP_OK;
}

static int read_all(const char *path, char **data, size_t *len, struct err *err)
{
    FILE *in = fopen(path, "rb");
    struct strbuf sb = STRBUF_INIT;
    char buf[65536];
    size_t n;

    if (!in)
        return err_set(err, errno == ENOENT ? SWEEP_ENOTFOUND : SWEEP_EIO, "%s: %s",
                       path, strerror(errno));
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        sb_add(&sb, buf, n);
    if (ferror(in)) {
        fclose(in);
        sb_fini(&sb);
        return err_set(err, SWEEP_EIO, "%s: read failed", path);
    }
    fclose(in);
    *len = sb.len;
    *data = sb_take(&sb);
    return SWEEP_OK;
}

/* Reads the columns f->cols[].name of the CSV file f->path. */
static int file_read(struct file *f, struct err *err)
{
    struct csv c = {.path = f->path, .line = 1};
    char *data = NULL;
    size_t len, line;
    int rc, more;

    rc = read_all(f->path, &data, &len, err);
    if (rc)
        return rc;
    c.p = c.line_start = data;
    c.end = data + len;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        c.p = c.line_start = data + 3;
    more = csv_next(&c, &line, err);
    if (more == 0)
        rc = err_set(err, SWEEP_EINVAL, "%s: empty file; expected a header row",
                     f->path);
    if (more <= 0 || (rc = find_columns(&c, f, line, err)))
        goto out;
    while ((more = csv_next(&c, &line, err)) > 0) {
        if (f->nrows == f->cap) {
            size_t cap = f->cap;
            for (size_t k = 0; k < f->ncols; k++) {
                cap = f->cap;
                f->cols[k].v = xgrow(f->cols[k].v, &cap, f->nrows + 1, sizeof(double));
            }
            f->cap = cap;
        }
        for (size_t k = 0; k < f->ncols; k++) {
            struct column *col = &f->cols[k];
            if (parse_number(csv_cell(&c, col->index), &col->v[f->nrows]))
                continue;
            col->v[f->nrows] = NAN;
            if (col->skipped++ == 0)
                col->first_skipped = line;
        }
        f->nrows++;
    }
    rc = more < 0 ? SWEEP_EINVAL : SWEEP_OK;
out:
    free(c.off);
    sb_fini(&c.cells);
    free(data);
    return rc;
}

/* ---- naming series ---- */

/* The last depth components of path, without the last one's extension. */
static char *path_tail(const char *path, int depth)
{
    const char *end = path + strlen(path), *start = end, *dot;

    while (end > path + 1 && end[-1] == '/')
        end--;
    start = end;
    for (int d = 0; d < depth && start > path; d++) {
        do
            start--;
        while (start > path && start[-1] != '/');
    }
    dot = end;
    while (dot > start && dot[-1] != '.' && dot[-1] != '/')
        dot--;
    if (dot > start + 1 && dot[-1] == '.' && dot[-2] != '/')
        end = dot - 1;
    return xstrndup(start, (size_t)(end - start));
}

/* The file's stem, with as many parent directories as it takes to tell it from the
 * other files (task1/timeseries and task2/timeseries). */
static char *file_prefix(char **paths, size_t n, size_t i)
{
    for (int depth = 1;; depth++) {
        char *mine = path_tail(paths[i], depth), *full = path_tail(paths[i], depth + 1);
        bool unique = true, last = strcmp(mine, full) == 0;

        free(full);
        for (size_t j = 0; j < n && unique; j++) {
            char *other = path_tail(paths[j], depth);
            unique = j == i || strcmp(paths[j], paths[i]) == 0 || strcmp(mine, other);
            free(other);
        }
        if (unique || last)
            return mine;
        free(mine);
    }
}

/* ---- the command ---- */

/* Splits a comma-separated list of column names. */
static char **split_names(const char *s, size_t *n)
{
    char **out = NULL;
    size_t cap = 0;

    *n = 0;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        out = xgrow(out, &cap, *n + 1, sizeof(*out));
        out[(*n)++] = xstrndup(s, len);
        if (!comma)
            return out;
        s = comma + 1;
    }
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int parse_size(const char *opt, const char *s, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < CHART_MIN_SIZE || v > CHART_MAX_SIZE)
        return cli_usage_error(&cmd_chart,
                               "%s: expected an integer from %d to %d, got \"%s\"", opt,
                               CHART_MIN_SIZE, CHART_MAX_SIZE, s);
    *out = (int)v;
    return EXIT_OK;
}

static int parse_style(const char *s, int *style)
{
    static const char *const names[] = {"line", "points", "linepoints"};

    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *style = i;
            return EXIT_OK;
        }
    }
    return cli_usage_error(
        &cmd_chart, "--style: expected line, points or linepoints, got \"%s\"", s);
}

struct options {
    const char *x, *y, *yerr, *title, *xlabel, *ylabel, *out;
    char **labels;
    size_t nlabels, labels_cap;
    bool logx, logy;
    int style; /* an enum chart_style, or -1 for a line with markers on short series */
    int width, height;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    enum {
        OPT_X = 256,
        OPT_Y,
        OPT_YERR,
        OPT_LABEL,
        OPT_TITLE,
        OPT_XLABEL,
        OPT_YLABEL,
        OPT_LOGX,
        OPT_LOGY,
        OPT_STYLE,
        OPT_WIDTH,
        OPT_HEIGHT
    };
    static const struct option opts[] = {
        {"x", required_argument, NULL, OPT_X},
        {"y", required_argument, NULL, OPT_Y},
        {"yerr", required_argument, NULL, OPT_YERR},
        {"label", required_argument, NULL, OPT_LABEL},
        {"title", required_argument, NULL, OPT_TITLE},
        {"xlabel", required_argument, NULL, OPT_XLABEL},
        {"ylabel", required_argument, NULL, OPT_YLABEL},
        {"logx", no_argument, NULL, OPT_LOGX},
        {"logy", no_argument, NULL, OPT_LOGY},
        {"style", required_argument, NULL, OPT_STYLE},
        {"output", required_argument, NULL, 'o'},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"height", required_argument, NULL, OPT_HEIGHT},
        {NULL, 0, NULL, 0},
    };
    int c, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while (rc == EXIT_OK && (c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
        switch (c) {
        case OPT_X:
            o->x = optarg;
            break;
        case OPT_Y:
            o->y = optarg;
            break;
        case OPT_YERR:
            o->yerr = optarg;
            break;
        case OPT_LABEL:
            o->labels =
                xgrow(o->labels, &o->labels_cap, o->nlabels + 1, sizeof(char *));
            o->labels[o->nlabels++] = optarg;
            break;
        case OPT_TITLE:
            o->title = optarg;
            break;
        case OPT_XLABEL:
            o->xlabel = optarg;
            break;
        case OPT_YLABEL:
            o->ylabel = optarg;
            break;
        case OPT_LOGX:
            o->logx = true;
            break;
        case OPT_LOGY:
            o->logy = true;
            break;
        case OPT_STYLE:
            rc = parse_style(optarg, &o->style);
            break;
        case 'o':
            o->out = optarg;
            break;
        case OPT_WIDTH:
            rc = parse_size("--width", optarg, &o->width);
            break;
        case OPT_HEIGHT:
            rc = parse_size("--height", optarg, &o->height);
            break;
        case ':':
            rc = cli_option_error(&cmd_chart, opts, c, argv);
            break;
        default:
            rc = cli_option_error(&cmd_chart, opts, c, argv);
        }
    }
    if (rc != EXIT_OK)
        return rc;
    if (optind == argc)
        return cli_usage_error(&cmd_chart, "expected at least one CSV file");
    if (!o->x || !*o->x)
        return cli_usage_error(&cmd_chart, "--x COLUMN is required");
    if (!o->y || !*o->y)
        return cli_usage_error(&cmd_chart, "--y COLUMN[,COLUMN...] is required");
    return EXIT_OK;
}

/* Reports the cells of each column that were skipped. */
static void report_skipped(const struct file *f)
{
    for (size_t k = 0; k < f->ncols; k++) {
        const struct column *col = &f->cols[k];
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup = dup || f->cols[j].index == col->index;
        if (col->skipped && !dup)
            fprintf(
                stderr,
                "sweep chart: %s: skipped %zu empty or non-numeric cell%s in column "
                "\"%s\" (the first on line %zu)\n",
                f->path, col->skipped, col->skipped == 1 ? "" : "s", col->name,
                col->first_skipped);
    }
}

static int chart_main(int argc, char **argv)
{
    struct options o = {.out = "chart.png", .width = 800, .height = 500, .style = -1};
    struct file *files = NULL;
    struct chart *ch = NULL;
    struct err err = {0};
    char **ys = NULL, **errs = NULL, *ylabel = NULL;
    size_t ny = 0, nerr = 0, nfiles = 0, nseries, npoints = 0, s = 0;
    int rc;

    rc = parse_options(argc, argv, &o);
    if (rc != EXIT_OK)
        goto out;
    if (chart_check_path(o.out, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    nfiles = (size_t)(argc - optind);
    ys = split_names(o.y, &ny);
    if (o.yerr) {
        errs = split_names(o.yerr, &nerr);
        if (nerr != ny) {
            rc =
                cli_usage_error(&cmd_chart,
                                "--yerr names %zu column%s but --y names %zu; give one "
                                "error column per y column",
                                nerr, nerr == 1 ? "" : "s", ny);
            goto out;
        }
    }
    nseries = nfiles * ny;
    if (o.nlabels && o.nlabels != nseries) {
        rc =
            cli_usage_error(&cmd_chart,
                            "--label given %zu time%s for %zu series (%zu file%s times "
                            "%zu y column%s); give one label per series",
                            o.nlabels, o.nlabels == 1 ? "" : "s", nseries, nfiles,
                            nfiles == 1 ? "" : "s", ny, ny == 1 ? "" : "s");
        goto out;
    }

    files = xcalloc(nfiles, sizeof(*files));
    for (size_t i = 0; i < nfiles; i++) {
        struct file *f = &files[i];
        f->path = argv[optind + (int)i];
        f->ncols = 1 + ny + nerr;
        f->cols = xcalloc(f->ncols, sizeof(*f->cols));
        f->cols[0].name = o.x;
        for (size_t k = 0; k < ny; k++)
            f->cols[1 + k].name = ys[k];
        for (size_t k = 0; k < nerr; k++)
            f->cols[1 + ny + k].name = errs[k];
        if (file_read(f, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        report_skipped(f);
    }

    ch = chart_create(o.title);
    chart_set_log(ch, CHART_X, o.logx);
    chart_set_log(ch, CHART_Y, o.logy);
    chart_set_label(ch, CHART_X, o.xlabel ? o.xlabel : o.x);
    if (!o.ylabel) {
        struct strbuf sb = STRBUF_INIT;
        for (size_t k = 0; k < ny; k++)
            sb_addf(&sb, "%s%s", k ? ", " : "", ys[k]);
        ylabel = sb_take(&sb);
    }
    chart_set_label(ch, CHART_Y, o.ylabel ? o.ylabel : ylabel);
    for (size_t i = 0; i < nfiles; i++) {
        const struct file *f = &files[i];
        char *prefix = file_prefix(argv + optind, nfiles, i);
        int style = o.style >= 0                ? o.style
                    : f->nrows <= MARKER_POINTS ? CHART_LINE_POINTS
                                                : CHART_LINE;
        for (size_t k = 0; k < ny; k++, s++) {
            char *name =
                o.nlabels ? xstrdup(o.labels[s]) : xasprintf("%s: %s", prefix, ys[k]);
            chart_add_series(ch, name, f->nrows, f->cols[0].v, f->cols[1 + k].v,
                             nerr ? f->cols[1 + ny + k].v : NULL,
                             (enum chart_style)style);
            free(name);
        }
        npoints += f->nrows * ny;
        free(prefix);
    }
    if (chart_render(ch, o.out, o.width, o.height, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("wrote %s (%zu series, %zu points)\n", o.out, nseries, npoints);
out:
    for (size_t i = 0; files && i < nfiles; i++) {
        for (size_t k = 0; k < files[i].ncols; k++)
            free(files[i].cols[k].v);
        free(files[i].cols);
    }
    free(files);
    chart_destroy(ch);
    free_names(ys, ny);
    free_names(errs, nerr);
    free(ylabel);
    free(o.labels);
    return rc;
}

const struct cli_cmd cmd_chart = {
    .name = "chart",
    .summary = "draw columns of CSV files as a chart (PNG, SVG or PDF)",
    .usage =
        "Usage: sweep chart FILE.csv... --x COL --y COL[,COL...] [--yerr "
        "COL[,COL...]]\n"
        "                   [--label NAME]... [--title T] [--xlabel T] [--ylabel T]\n"
        "                   [--logx] [--logy] [--style line|points|linepoints]\n"
        "                   [-o FILE] [--width W] [--height H]\n"
        "\n"
        "Draws one series per file and y column, named \"<file stem>: <column>\"\n"
        "(with parent directories when stems repeat). Each file is CSV with a header\n"
        "row (RFC 4180 quoting); empty or non-numeric cells are skipped and counted\n"
        "on stderr, and a line breaks where a point is missing.\n"
        "\n"
        "Options:\n"
        "  --x COL            the column for the x axis\n"
        "  --y COL[,COL...]   the columns to draw against it\n"
        "  --yerr COL[,...]   error bar half-heights, one column per --y column\n"
        "  --label NAME       a series' legend name, once per series in order\n"
        "                     (files in order, then y columns)\n"
        "  --title T          title above the chart (default none)\n"
        "  --xlabel T         x axis label, with units (default the --x column)\n"
        "  --ylabel T         y axis label, with units (default the --y columns)\n"
        "  --logx, --logy     logarithmic axis; values <= 0 are skipped\n"
        "  --style S          line, points or linepoints (default: a line, with\n"
        "                     markers when a file has at most 50 rows)\n"
        "  -o, --output FILE  output file; .png, .svg or .pdf (default chart.png)\n"
        "  --width W          width in pixels (points for PDF; default 800)\n"
        "  --height H         height in pixels (points for PDF; default 500)\n"
        "  -h, --help         show this help\n"
        "\n"
        "Examples:\n"
        "  # the energy of every task of study ns (a navier-stokes sweep) over time\n"
        "  sweep chart .sweep/studies/ns/tasks/*/*/timeseries.csv --x t --y energy \\\n"
        "      --xlabel 'time (s)' --logy -o energy.png\n"
        "  sweep chart a.csv b.csv --x n --y df --yerr df_stderr --logx -o df.svg\n",
    .fn = chart_main,
};
