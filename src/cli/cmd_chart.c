/* sweep chart: a line or scatter chart of columns of CSV files (a task's
 * timeseries.csv, a results export), one series per file and y column, drawn by
 * report/chart. A file inside a task directory of a sweep home
 * (HOME/studies/STUDY/tasks/XX/KEY/...) is named by the task's parameters that differ
 * between the files, read from the store; --by colours the series by one parameter,
 * with a colour bar for numbers. The CSV reader follows RFC 4180 (a header row, quoted
 * fields with "" for a quote and line breaks inside quotes, CRLF or LF) and also
 * accepts a UTF-8 byte order mark and skips blank lines. A file is read whole into
 * memory. */
#include "cli.h"

#include "common/fileio.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/store.h"
#include "report/chart.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
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

/* Reads the columns f->cols[].name of the CSV file f->path. */
static int file_read(struct file *f, struct err *err)
{
    struct csv c = {.path = f->path, .line = 1};
    char *data = NULL;
    size_t len, line;
    int rc, more;

    rc = fileio_read_user(f->path, 0, &data, &len, err);
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

/* ---- the parameters of task files ---- */

/* Splits the absolute path of a file in a task directory, HOME/studies/STUDY/tasks/
 * XX/KEY/..., into new strings; false when it is not one. */
static bool task_path(const char *abs, char **home, char **study, char **key)
{
    const char *p = NULL, *q;

    for (q = strstr(abs, "/studies/"); q; q = strstr(q + 1, "/studies/"))
        p = q;
    if (!p)
        return false;
    q = p + strlen("/studies/");
    const char *slash = strchr(q, '/');
    if (!slash || slash == q || strncmp(slash, "/tasks/", 7) != 0)
        return false;
    const char *xx = slash + 7, *k = xx + 3, *end;
    if (!isxdigit((unsigned char)xx[0]) || !isxdigit((unsigned char)xx[1]) ||
        xx[2] != '/')
        return false;
    for (end = k; isxdigit((unsigned char)*end); end++)
        ;
    if (end - k < 4 || *end != '/')
        return false;
    *home = xstrndup(abs, (size_t)(p - abs));
    *study = xstrndup(q, (size_t)(slash - q));
    *key = xstrndup(k, (size_t)(end - k));
    return true;
}

/* The parameters of the task whose directory holds path (a new object), or NULL when
 * path is not in a task directory or the task is not in the store. One store is kept
 * open across calls (*st, for *st_home). */
static json_t *task_params(const char *path, struct store **st, char **st_home)
{
    char abs[PATH_MAX], *home = NULL, *study = NULL, *key = NULL;
    struct store_study s = {0};
    struct store_task t = {0};
    struct err err = {0};
    json_t *params = NULL;

    if (!realpath(path, abs) || !task_path(abs, &home, &study, &key))
        goto out;
    if (!*st_home || strcmp(*st_home, home) != 0) {
        store_close(*st);
        *st = NULL;
        free(*st_home);
        *st_home = NULL;
        if (store_open(home, st, &err))
            goto out;
        *st_home = xstrdup(home);
    }
    if (store_study_get(*st, study, &s, &err) ||
        store_task_find(*st, s.id, key, &t, &err))
        goto out;
    params = t.params_json ? json_loads(t.params_json, 0, NULL) : NULL;
    if (params && !json_is_object(params)) {
        json_decref(params);
        params = NULL;
    }
out:
    store_task_fini(&t);
    store_study_fini(&s);
    free(home);
    free(study);
    free(key);
    return params;
}

/* Are the values of parameter name not the same in every file (or missing in some)?
 * params[i] may be NULL (a file outside a task directory). */
static bool param_varies(json_t **params, size_t n, const char *name)
{
    const json_t *first = NULL;

    for (size_t i = 0; i < n; i++) {
        const json_t *v = params[i] ? json_object_get(params[i], name) : NULL;
        if (i == 0)
            first = v;
        else if (!v != !first || (v && !json_equal(v, first)))
            return true;
    }
    return false;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The parameter names that vary between the files, sorted; seed only with_seed. */
static char **varying_params(json_t **params, size_t n, bool with_seed, size_t *count)
{
    json_t *seen = json_object();
    char **names = NULL;
    size_t cap = 0;
    const char *k;
    json_t *v;

    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!params[i])
            continue;
        json_object_foreach(params[i], k, v)
        {
            if (json_object_get(seen, k) || (!with_seed && strcmp(k, "seed") == 0))
                continue;
            json_object_set_new(seen, k, json_true());
            if (param_varies(params, n, k)) {
                names = xgrow(names, &cap, *count + 1, sizeof(*names));
                names[(*count)++] = xstrdup(k);
            }
        }
    }
    json_decref(seen);
    if (*count)
        qsort(names, *count, sizeof(*names), cmp_cstr);
    return names;
}

/* "p=v, q=w" of the named parameters of one file; NULL when the file has none of
 * them. New string. */
static char *params_text(const json_t *params, char **names, size_t n)
{
    struct strbuf sb = STRBUF_INIT;

    for (size_t i = 0; params && i < n; i++) {
        const json_t *v = json_object_get(params, names[i]);
        char *text;
        if (!v)
            continue;
        text = json_is_null(v) ? xstrdup("null") : jsonx_arg_str(v);
        sb_addf(&sb, "%s%s=%s", sb.len ? ", " : "", names[i], text);
        free(text);
    }
    if (!sb.len) {
        sb_fini(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

/* Each file's series-name prefix from its task's varying parameters (seed too when
 * they alone leave two files alike), or its path tail (file_prefix) when it is not a
 * task file or no parameter varies. */
static char **file_names(char **paths, json_t **params, size_t n, bool *by_params)
{
    char **out = xcalloc(n ? n : 1, sizeof(*out));

    for (int with_seed = 0; with_seed < 2; with_seed++) {
        size_t nv;
        char **names = varying_params(params, n, with_seed, &nv);
        bool dup = false;
        for (size_t i = 0; i < n; i++) {
            free(out[i]);
            out[i] = params_text(params[i], names, nv);
            by_params[i] = out[i] != NULL;
            if (!out[i])
                out[i] = file_prefix(paths, n, i);
            for (size_t j = 0; j < i && !dup; j++)
                dup = strcmp(out[i], out[j]) == 0 && strcmp(paths[i], paths[j]) != 0;
        }
        for (size_t i = 0; i < nv; i++)
            free(names[i]);
        free(names);
        if (!dup)
            break;
    }
    return out;
}

/* ---- colouring by a parameter ---- */

/* Series coloured by one parameter: numbers on a colour bar, other values one palette
 * colour each with one legend entry per value. */
struct colouring {
    const char *param;
    bool numeric;
    json_t *values; /* non-numeric: canonical text -> its palette index */
};

/* Checks that every file's task has the parameter and sets up the colour bar (lo to
 * hi; logarithmic for positive values spanning two decades or more). */
static int colouring_init(struct colouring *cl,
                          const char *param,
                          char **paths,
                          json_t **params,
                          size_t n,
                          struct chart *ch)
{
    double lo = HUGE_VAL, hi = -HUGE_VAL;

    cl->param = param;
    cl->numeric = true;
    cl->values = json_object();
    for (size_t i = 0; i < n; i++) {
        const json_t *v = params[i] ? json_object_get(params[i], param) : NULL;
        if (!params[i])
            return cli_usage_error(&cmd_chart,
                                   "--by %s: %s is not in a task directory of a sweep "
                                   "home (HOME/studies/STUDY/tasks/XX/KEY/), so it has "
                                   "no parameters",
                                   param, paths[i]);
        if (!v)
            return cli_usage_error(&cmd_chart,
                                   "--by %s: the task of %s has no parameter \"%s\"",
                                   param, paths[i], param);
        if (!json_is_number(v)) {
            cl->numeric = false;
            continue;
        }
        lo = fmin(lo, json_number_value(v));
        hi = fmax(hi, json_number_value(v));
    }
    if (cl->numeric)
        chart_set_colorbar(ch, param, lo, hi, lo > 0 && hi / lo >= 100);
    return EXIT_OK;
}

/* The legend name of a series of the file with params (new string, or NULL for
 * none): none on a colour bar, "<param>=<value>" (with ": col" when several y
 * columns) for the first series of each value; *colour is its palette index. */
static char *colouring_name(struct colouring *cl,
                            const json_t *params,
                            const char *col,
                            size_t ny,
                            size_t *colour)
{
    const json_t *v = json_object_get(params, cl->param);
    char *key, *text, *name = NULL;
    json_t *idx;

    *colour = 0;
    if (cl->numeric)
        return NULL;
    key = jsonx_canon_str(v);
    if (ny > 1) {
        char *k2 = xasprintf("%s\x1f%s", key, col);
        free(key);
        key = k2;
    }
    idx = json_object_get(cl->values, key);
    if (!idx) {
        idx = json_integer((json_int_t)json_object_size(cl->values));
        json_object_set_new(cl->values, key, idx);
        text = json_is_null(v) ? xstrdup("null") : jsonx_arg_str(v);
        name = ny > 1 ? xasprintf("%s=%s: %s", cl->param, text, col)
                      : xasprintf("%s=%s", cl->param, text);
        free(text);
    }
    *colour = (size_t)json_integer_value(idx);
    free(key);
    return name;
}

/* Colours the series just added (colour from colouring_name()). */
static void colouring_apply(const struct colouring *cl,
                            struct chart *ch,
                            const json_t *params,
                            size_t colour)
{
    if (cl->numeric)
        chart_series_value(ch, json_number_value(json_object_get(params, cl->param)));
    else
        chart_series_palette(ch, colour);
}

/* Without --by and --label, more series than this are coloured by the one parameter
 * that varies (when it is numeric) instead of a legend too long to read. */
#define AUTO_BY_SERIES 12

/* The one numeric parameter (seed aside) that varies between task files, or NULL.
 * Borrowed from params[0]. */
static const char *auto_by(json_t **params, size_t n)
{
    size_t nv;
    char **names = varying_params(params, n, false, &nv);
    const char *by = NULL, *k;
    json_t *v;

    if (nv == 1 && params[0]) {
        json_object_foreach(params[0], k, v)
        {
            if (strcmp(k, names[0]) == 0)
                by = k;
        }
        for (size_t i = 0; by && i < n; i++)
            if (!params[i] || !json_is_number(json_object_get(params[i], by)))
                by = NULL;
    }
    for (size_t i = 0; i < nv; i++)
        free(names[i]);
    free(names);
    return by;
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
    const char *x, *y, *yerr, *title, *xlabel, *ylabel, *out, *by;
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
        OPT_HEIGHT,
        OPT_BY
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
        {"by", required_argument, NULL, OPT_BY},
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
            rc = cli_parse_size(&cmd_chart, "--width", optarg, &o->width);
            break;
        case OPT_HEIGHT:
            rc = cli_parse_size(&cmd_chart, "--height", optarg, &o->height);
            break;
        case OPT_BY:
            o->by = optarg;
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
    struct colouring cl = {0};
    json_t **params = NULL;
    bool *by_params = NULL;
    char **prefixes = NULL, *st_home = NULL;
    const char *by = NULL;
    struct store *st = NULL;
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

    params = xcalloc(nfiles, sizeof(*params));
    by_params = xcalloc(nfiles, sizeof(*by_params));
    for (size_t i = 0; i < nfiles; i++)
        params[i] = task_params(argv[optind + (int)i], &st, &st_home);
    prefixes = file_names(argv + optind, params, nfiles, by_params);
    by = o.by;
    if (!by && !o.nlabels && nseries > AUTO_BY_SERIES &&
        (by = auto_by(params, nfiles)) != NULL)
        printf("%zu series coloured by %s (--by %s); a legend would be too long\n",
               nseries, by, by);

    ch = chart_create(o.title);
    if (by &&
        (rc = colouring_init(&cl, by, argv + optind, params, nfiles, ch)) != EXIT_OK)
        goto out;
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
        const char *prefix = prefixes[i];
        int style = o.style >= 0                ? o.style
                    : f->nrows <= MARKER_POINTS ? CHART_LINE_POINTS
                                                : CHART_LINE;
        for (size_t k = 0; k < ny; k++, s++) {
            size_t colour = 0;
            char *name;
            if (o.nlabels)
                name = xstrdup(o.labels[s]);
            else if (by)
                name = colouring_name(&cl, params[i], ys[k], ny, &colour);
            else if (by_params[i] && ny == 1)
                name = xstrdup(prefix);
            else
                name = xasprintf("%s: %s", prefix, ys[k]);
            chart_add_series(ch, name, f->nrows, f->cols[0].v, f->cols[1 + k].v,
                             nerr ? f->cols[1 + ny + k].v : NULL,
                             (enum chart_style)style);
            if (by)
                colouring_apply(&cl, ch, params[i], colour);
            free(name);
        }
        npoints += f->nrows * ny;
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
    for (size_t i = 0; params && i < nfiles; i++) {
        json_decref(params[i]);
        free(prefixes ? prefixes[i] : NULL);
    }
    free(params);
    free(prefixes);
    free(by_params);
    json_decref(cl.values);
    store_close(st);
    free(st_home);
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
        "                   [--by PARAM] [-o FILE] [--width W] [--height H]\n"
        "\n"
        "Draws one series per file and y column, named \"<file stem>: <column>\"\n"
        "(with parent directories when stems repeat). A file in a task directory of a\n"
        "sweep home (HOME/studies/STUDY/tasks/XX/KEY/) is named by its task's\n"
        "parameters that differ between the files (\"Re=400\"; \": <column>\" added\n"
        "for several y columns; seed only when needed to tell two apart). More than\n"
        "12 such series with one numeric parameter varying are coloured by it.\n"
        "Each file is CSV with a header row (RFC 4180 quoting); empty or non-numeric\n"
        "cells are skipped and counted on stderr, and a line breaks where a point is\n"
        "missing.\n"
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
        "  --by PARAM         colour the series of task files by their parameter\n"
        "                     PARAM: numbers on a colour bar (logarithmic when\n"
        "                     positive and spanning two decades), other values one\n"
        "                     colour and one legend entry each\n"
        "  -h, --help         show this help\n"
        "\n"
        "Examples:\n"
        "  # the energy of every task of study ns (a navier-stokes sweep) over time\n"
        "  sweep chart .sweep/studies/ns/tasks/*/*/timeseries.csv --x t --y energy \\\n"
        "      --xlabel 'time (s)' --logy --by Re -o energy.png\n"
        "  sweep chart a.csv b.csv --x n --y df --yerr df_stderr --logx -o df.svg\n",
    .fn = chart_main,
};
