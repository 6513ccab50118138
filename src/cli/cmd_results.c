/* sweep results: one row per task (key first, then its id), as an aligned table (on a
 * terminal), CSV or JSON. Parameters and metrics become columns; nested metric objects
 * are flattened as a.b. A study of a package directory has a package_id column. */
#include "cli.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "common/termline.h"
#include "core/packages.h"
#include "core/spec.h"
#include "core/store.h"

#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct cli_cmd cmd_results;

/* Columns: these, then every parameter, every metric, then the tail. */
static const char *const head_cols[] = {
    "key", "id", "state", "attempts", "repetition", "seed", "priority",
};
static const char *const tail_cols[] = {
    "exit_code", "signal", "wall", "user", "sys", "maxrss_kb", "error", "finished_at",
};
#define NHEAD (sizeof(head_cols) / sizeof(head_cols[0]))
#define NTAIL (sizeof(tail_cols) / sizeof(tail_cols[0]))

static int add_leaf(const char *name, const json_t *v, void *out)
{
    json_object_set(out, name, (json_t *)v);
    return 0;
}

/* Adds obj's leaves to out as "a.b" -> value. */
static void flatten(const json_t *obj, json_t *out)
{
    jsonx_walk_leaves(obj, add_leaf, out);
}

static json_t *parse_obj(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v ? v : json_object();
}

struct names {
    char **v;
    size_t n, cap;
};

static void names_add(struct names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], name) == 0)
            return;
    ns->v = xgrow(ns->v, &ns->cap, ns->n + 1, sizeof(char *));
    ns->v[ns->n++] = xstrdup(name);
}

static void names_fini(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

enum results_format { RESULTS_TABLE, RESULTS_CSV, RESULTS_JSON };

/* The table's rows (--format table): cells kept until every width is known. */
struct table {
    char **cell; /* row-major, ncols per row, the header first */
    size_t ncols, nrows, cap;
    size_t cell_in_row;
};

struct results {
    struct names params, metrics;
    bool csv;
    bool first;
    enum results_format format;
    json_t *packages; /* a package study: canonical task parameters -> package_id */
    struct table table;
    json_t *steps; /* a pipeline's step names (JSON array), else NULL */
    int step;      /* --step: only this step's tasks (the reduce: nsteps); -1 all */
};

/* The name of a task's step in a pipeline ("reduce" after the last). */
static const char *step_name(const struct results *r, const struct store_task *t)
{
    json_t *name = json_array_get(r->steps, (size_t)t->step);
    return name ? json_string_value(name) : "reduce";
}

static bool wanted(const struct results *r, const struct store_task *t)
{
    return r->step < 0 || t->step == r->step;
}

/* The task's metrics flattened as a.b; in a pipeline, under its step's name
 * (simulate.energy), so that the steps' columns stay apart. */
static json_t *task_metrics(const struct results *r, const struct store_task *t)
{
    json_t *m = parse_obj(t->metrics_json), *flat = json_object(), *out;
    const char *k;
    json_t *v;

    flatten(m, flat);
    json_decref(m);
    if (!r->steps)
        return flat;
    out = json_object();
    json_object_foreach(flat, k, v)
    {
        char *name = xasprintf("%s.%s", step_name(r, t), k);
        json_object_set(out, name, v);
        free(name);
    }
    json_decref(flat);
    return out;
}

static int collect_names(const struct store_task *t, void *arg)
{
    struct results *r = arg;
    json_t *p, *flat;
    const char *k;
    json_t *v;

    if (!wanted(r, t))
        return 0;
    p = parse_obj(t->params_json);
    flat = task_metrics(r, t);
    json_object_foreach(p, k, v)
    {
        /* A package study has its own package_id column. */
        if (!r->packages || strcmp(k, "package_id") != 0)
            names_add(&r->params, k);
    }
    json_object_foreach(flat, k, v) names_add(&r->metrics, k);
    json_decref(flat);
    json_decref(p);
    return 0;
}

static bool is_fixed(const char *name)
{
    for (size_t i = 0; i < NHEAD; i++)
        if (strcmp(head_cols[i], name) == 0)
            return true;
    for (size_t i = 0; i < NTAIL; i++)
        if (strcmp(tail_cols[i], name) == 0)
            return true;
    return false;
}

/* A parameter whose name is taken by a fixed column (a `seed` parameter beside the
 * seed the task got) is "param.<name>". */
static char *param_col(const char *name)
{
    return is_fixed(name) ? xasprintf("param.%s", name) : xstrdup(name);
}

static bool is_fixed_or_param(const struct results *r, const char *name)
{
    if (is_fixed(name))
        return true;
    for (size_t i = 0; i < r->params.n; i++)
        if (strcmp(r->params.v[i], name) == 0)
            return true;
    return false;
}

/* A metric whose name is taken by a parameter or a fixed column is "result.<name>". */
static char *metric_col(const struct results *r, const char *name)
{
    return is_fixed_or_param(r, name) ? xasprintf("result.%s", name) : xstrdup(name);
}

/* A priority as its band's name where it is one (HIGH, MEDIUM, LOW), else the integer
 * (10): the same text in the table, the CSV and the JSON. */
static void priority_text(int priority, char *buf, size_t n)
{
    if (priority == PRIORITY_HIGH || priority == PRIORITY_MEDIUM ||
        priority == PRIORITY_LOW)
        snprintf(buf, n, "%s", priority_name(priority));
    else
        snprintf(buf, n, "%d", priority);
}

/* The key under which a package's or a task's parameters are looked up: canonical
 * JSON without package_id (a package's task has it only when run with --command). */
static char *package_lookup_key(const json_t *params)
{
    json_t *p = json_deep_copy(params);
    char *key;

    json_object_del(p, "package_id");
    key = jsonx_canon_str(p);
    json_decref(p);
    return key;
}

/* A study made from a package directory (`sweep run DIR`, `sweep run-package`) has its
 * spec path at DIR/priority_summary.json. Its tasks are told apart by their
 * parameters, which are those of their package file (batch.c), so the directory is
 * read again to give each task its package_id; should it be gone or changed, the
 * column is left empty where no package matches. Returns the map, or NULL for a study
 * of a spec file. */
static json_t *package_map(const struct store_study *s)
{
    char *copy, *dir;
    struct packages pk = {0};
    struct err err = {0};
    json_t *map;
    const char *base = strrchr(s->spec_path, '/');

    if (strcmp(base ? base + 1 : s->spec_path, "priority_summary.json") != 0)
        return NULL;
    map = json_object();
    copy = xstrdup(s->spec_path);
    dir = dirname(copy);
    if (packages_load(dir, &pk, &err)) {
        fprintf(stderr, "sweep: results: package_id left empty: %s\n", err.msg);
    } else {
        for (size_t i = 0; i < pk.n; i++) {
            json_t *params = packages_params(&pk.v[i], false);
            char *key = package_lookup_key(params);
            json_object_set_new(map, key, json_integer(pk.v[i].id));
            free(key);
            json_decref(params);
        }
    }
    packages_fini(&pk);
    free(copy);
    return map;
}

/* The package_id of a task of a package study ("" when none matches). */
static void
package_id_text(const struct results *r, const json_t *params, char *buf, size_t n)
{
    char *key = package_lookup_key(params);
    json_t *id = json_object_get(r->packages, key);

    if (json_is_integer(id))
        snprintf(buf, n, "%lld", (long long)json_integer_value(id));
    else if (n > 0)
        buf[0] = '\0';
    free(key);
}

static void csv_header(const struct results *r)
{
    for (size_t i = 0; i < NHEAD; i++) {
        cli_csv_field(head_cols[i], false);
        /* A pipeline's step column; "pipeline_step" when a parameter is "step". */
        if (i == 0 && r->steps)
            cli_csv_field(is_fixed_or_param(r, "step") ? "pipeline_step" : "step",
                          false);
        if (i == 0 && r->packages)
            cli_csv_field("package_id", false);
    }
    for (size_t i = 0; i < r->params.n; i++) {
        char *c = param_col(r->params.v[i]);
        cli_csv_field(c, false);
        free(c);
    }
    for (size_t i = 0; i < r->metrics.n; i++) {
        char *c = metric_col(r, r->metrics.v[i]);
        cli_csv_field(c, false);
        free(c);
    }
    for (size_t i = 0; i < NTAIL; i++)
        cli_csv_field(tail_cols[i], i == NTAIL - 1);
}

static void csv_value(const json_t *v, bool last)
{
    char *s = v ? jsonx_arg_str(v) : xstrdup("");
    cli_csv_field(s, last);
    free(s);
}

static void csv_num(double d, bool last)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%.6f", d);
    cli_csv_field(buf, last);
}

static json_t *task_json(const struct store_task *t, json_t *params, json_t *metrics)
{
    json_t *o = json_object();
    char ts[40];

    json_object_set_new(o, "key", json_string(t->key));
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "state", json_string(task_state_name(t->state)));
    json_object_set_new(o, "attempts", json_integer(t->attempts));
    json_object_set_new(o, "repetition", json_integer(t->repetition));
    json_object_set_new(o, "seed", json_integer(t->seed));
    priority_text(t->priority, ts, sizeof(ts));
    json_object_set_new(o, "priority", json_string(ts));
    json_object_set_new(o, "priority_value", json_integer(t->priority));
    json_object_set(o, "params", params);
    json_object_set(o, "metrics", metrics);
    json_object_set_new(o, "exit_code",
                        t->exit_code >= 0 ? json_integer(t->exit_code) : json_null());
    json_object_set_new(o, "signal", t->signal ? json_integer(t->signal) : json_null());
    json_object_set_new(o, "wall", json_real(t->wall));
    json_object_set_new(o, "user", json_real(t->user));
    json_object_set_new(o, "sys", json_real(t->sys));
    json_object_set_new(o, "maxrss_kb", json_integer(t->maxrss_kb));
    json_object_set_new(o, "error", t->error ? json_string(t->error) : json_null());
    if (t->started_at > 0) {
        time_iso8601(t->started_at, ts, sizeof(ts));
        json_object_set_new(o, "started_at", json_string(ts));
    }
    if (t->finished_at > 0) {
        time_iso8601(t->finished_at, ts, sizeof(ts));
        json_object_set_new(o, "finished_at", json_string(ts));
    }
    return o;
}

/* ---- --format table ---- */

static void table_cell(struct table *tb, char *text)
{
    size_t at = tb->nrows * tb->ncols + tb->cell_in_row++;

    tb->cell = xgrow(tb->cell, &tb->cap, at + 1, sizeof(char *));
    tb->cell[at] = text;
}

/* A value for a terminal: reals in 6 significant digits, no control characters, at
 * most 40 characters (CSV and JSON have the whole value). */
static char *table_value(const json_t *v)
{
    char *s, cut[256];

    if (!v)
        return xstrdup("");
    if (json_is_real(v))
        return xasprintf("%.6g", json_real_value(v));
    s = jsonx_arg_str(v);
    for (char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    termline_cut(s, 40, cut, sizeof(cut));
    free(s);
    return xstrdup(cut);
}

/* The table's columns: key, [step], [package_id], id, state, attempts, repetition,
 * seed, priority, the parameters, the metrics, wall, error: what a reader scans; exit
 * code, signal, user and sys time, peak RSS and times are in the CSV and JSON. */
static void table_header(struct results *r)
{
    static const char *const tail[] = {"wall", "error"};
    struct table *tb = &r->table;

    tb->ncols = NHEAD + (r->steps ? 1 : 0) + (r->packages ? 1 : 0) + r->params.n +
                r->metrics.n + 2;
    for (size_t i = 0; i < NHEAD; i++) {
        table_cell(tb, xstrdup(head_cols[i]));
        if (i == 0 && r->steps)
            table_cell(
                tb, xstrdup(is_fixed_or_param(r, "step") ? "pipeline_step" : "step"));
        if (i == 0 && r->packages)
            table_cell(tb, xstrdup("package_id"));
    }
    for (size_t i = 0; i < r->params.n; i++)
        table_cell(tb, param_col(r->params.v[i]));
    for (size_t i = 0; i < r->metrics.n; i++)
        table_cell(tb, metric_col(r, r->metrics.v[i]));
    for (size_t i = 0; i < 2; i++)
        table_cell(tb, xstrdup(tail[i]));
    tb->nrows++;
    tb->cell_in_row = 0;
}

static void
table_add(struct results *r, const struct store_task *t, json_t *p, json_t *flat)
{
    struct table *tb = &r->table;
    char buf[64];

    table_cell(tb, xstrdup(t->key));
    if (r->steps)
        table_cell(tb, xstrdup(step_name(r, t)));
    if (r->packages) {
        package_id_text(r, p, buf, sizeof(buf));
        table_cell(tb, xstrdup(buf));
    }
    table_cell(tb, xasprintf("%lld", t->id));
    table_cell(tb, xstrdup(task_state_name(t->state)));
    table_cell(tb, xasprintf("%d", t->attempts));
    table_cell(tb, xasprintf("%d", t->repetition));
    table_cell(tb, xasprintf("%lld", t->seed));
    priority_text(t->priority, buf, sizeof(buf));
    table_cell(tb, xstrdup(buf));
    for (size_t i = 0; i < r->params.n; i++)
        table_cell(tb, table_value(json_object_get(p, r->params.v[i])));
    for (size_t i = 0; i < r->metrics.n; i++)
        table_cell(tb, table_value(json_object_get(flat, r->metrics.v[i])));
    if (t->started_at > 0)
        duration_format(t->wall, buf, sizeof(buf));
    else
        buf[0] = '\0';
    table_cell(tb, xstrdup(buf));
    {
        json_t *e = t->error ? json_string(t->error) : NULL;
        table_cell(tb, table_value(e));
        json_decref(e);
    }
    tb->nrows++;
    tb->cell_in_row = 0;
}

/* Prints the table: numbers (and wall) to the right, text to the left. A column is
 * numbers when it has a value and every value reads as one. */
static void table_print(struct results *r)
{
    struct table *tb = &r->table;
    bool *left = xcalloc(tb->ncols ? tb->ncols : 1, sizeof(bool));

    for (size_t c = 0; c < tb->ncols; c++) {
        bool any = false, text = false;
        for (size_t row = 1; row < tb->nrows && !text; row++) {
            const char *v = tb->cell[row * tb->ncols + c];
            char *end;
            if (*v) {
                any = true;
                strtod(v, &end);
                text = *end != '\0';
            }
        }
        left[c] = c == 0 || !any || (text && strcmp(tb->cell[c], "wall") != 0);
    }
    cli_table_print(tb->cell, tb->nrows, tb->ncols, left);
    for (size_t i = 0; i < tb->nrows * tb->ncols; i++)
        free(tb->cell[i]);
    free(tb->cell);
    free(left);
}

static int print_row(const struct store_task *t, void *arg)
{
    struct results *r = arg;
    json_t *p, *m, *flat;
    char buf[64];

    if (!wanted(r, t))
        return 0;
    p = parse_obj(t->params_json);
    m = parse_obj(t->metrics_json);
    flat = task_metrics(r, t);
    if (r->format == RESULTS_JSON) {
        json_t *o = task_json(t, p, m);
        if (r->steps)
            json_object_set_new(o, "step", json_string(step_name(r, t)));
        if (r->packages) {
            package_id_text(r, p, buf, sizeof(buf));
            json_object_set_new(o, "package_id",
                                buf[0] ? json_integer(strtoll(buf, NULL, 10))
                                       : json_null());
        }
        fputs(r->first ? "[\n  " : ",\n  ", stdout);
        char *line = jsonx_line_str(o);
        fputs(line, stdout);
        free(line);
        json_decref(o);
        r->first = false;
        goto out;
    }
    if (r->format == RESULTS_TABLE) {
        table_add(r, t, p, flat);
        goto out;
    }
    cli_csv_field(t->key, false);
    if (r->steps)
        cli_csv_field(step_name(r, t), false);
    if (r->packages) {
        package_id_text(r, p, buf, sizeof(buf));
        cli_csv_field(buf, false);
    }
    snprintf(buf, sizeof(buf), "%lld", t->id);
    cli_csv_field(buf, false);
    cli_csv_field(task_state_name(t->state), false);
    snprintf(buf, sizeof(buf), "%d", t->attempts);
    cli_csv_field(buf, false);
    snprintf(buf, sizeof(buf), "%d", t->repetition);
    cli_csv_field(buf, false);
    snprintf(buf, sizeof(buf), "%lld", t->seed);
    cli_csv_field(buf, false);
    priority_text(t->priority, buf, sizeof(buf));
    cli_csv_field(buf, false);
    for (size_t i = 0; i < r->params.n; i++)
        csv_value(json_object_get(p, r->params.v[i]), false);
    for (size_t i = 0; i < r->metrics.n; i++)
        csv_value(json_object_get(flat, r->metrics.v[i]), false);
    if (t->exit_code >= 0)
        snprintf(buf, sizeof(buf), "%d", t->exit_code);
    else
        buf[0] = '\0';
    cli_csv_field(buf, false);
    if (t->signal)
        snprintf(buf, sizeof(buf), "%d", t->signal);
    else
        buf[0] = '\0';
    cli_csv_field(buf, false);
    csv_num(t->wall, false);
    csv_num(t->user, false);
    csv_num(t->sys, false);
    snprintf(buf, sizeof(buf), "%ld", t->maxrss_kb);
    cli_csv_field(buf, false);
    cli_csv_field(t->error ? t->error : "", false);
    if (t->finished_at > 0)
        time_iso8601(t->finished_at, buf, sizeof(buf));
    else
        buf[0] = '\0';
    cli_csv_field(buf, true);
out:
    json_decref(flat);
    json_decref(p);
    json_decref(m);
    return 0;
}

static int results_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"state", required_argument, NULL, 's'},
        {"step", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'J'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    struct results r = {.first = true, .step = -1};
    int format = -1; /* not given: a table on a terminal, else CSV */
    const char *step = NULL;
    struct store *st = NULL;
    struct store_study s = {0};
    struct err err = {0};
    int c, rc = EXIT_OK, state = -1;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                format = RESULTS_JSON;
            else if (strcmp(optarg, "csv") == 0)
                format = RESULTS_CSV;
            else if (strcmp(optarg, "table") == 0)
                format = RESULTS_TABLE;
            else
                return cli_usage_error(&cmd_results,
                                       "--format: expected table, csv or json, got "
                                       "\"%s\"",
                                       optarg);
            break;
        case 'J':
            format = RESULTS_JSON;
            break;
        case 's': {
            enum task_state ts;
            if (task_state_parse(optarg, &ts) < 0)
                return cli_usage_error(
                    &cmd_results,
                    "--state: expected pending, running, succeeded, failed, "
                    "timed_out, cancelled, interrupted, skipped or waiting, got "
                    "\"%s\"",
                    optarg);
            state = (int)ts;
            break;
        }
        case 'S':
            step = optarg;
            break;
        case 'H':
            home = optarg;
            break;
        default:
            return cli_option_error(&cmd_results, opts, c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_results, "expected one study name");
    if (format < 0)
        format = isatty(STDOUT_FILENO) ? RESULTS_TABLE : RESULTS_CSV;
    r.format = (enum results_format)format;
    r.csv = r.format == RESULTS_CSV;
    if (store_open(cli_home(home), &st, &err) ||
        store_study_get(st, argv[optind], &s, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (s.steps_json) {
        json_t *info = json_loads(s.steps_json, 0, NULL);
        r.steps = json_incref(json_object_get(info, "steps"));
        json_decref(info);
    }
    if (step && cli_step_index(&s, step, &r.step, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    r.packages = package_map(&s);
    if (r.format != RESULTS_JSON) {
        if (store_task_each(st, s.id, state, collect_names, &r, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        if (r.csv)
            csv_header(&r);
        else
            table_header(&r);
    }
    if (store_task_each(st, s.id, state, print_row, &r, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (r.format == RESULTS_JSON)
        fputs(r.first ? "[]\n" : "\n]\n", stdout);
    else if (r.format == RESULTS_TABLE)
        table_print(&r);
out:
    if (r.format == RESULTS_TABLE && rc != EXIT_OK) {
        for (size_t i = 0; i < r.table.nrows * r.table.ncols + r.table.cell_in_row; i++)
            free(r.table.cell[i]);
        free(r.table.cell);
    }
    json_decref(r.packages);
    json_decref(r.steps);
    names_fini(&r.params);
    names_fini(&r.metrics);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_results = {
    .name = "results",
    .summary = "one row per task: parameters, metrics, state, resources",
    .usage =
        "Usage: sweep results STUDY [--format table|csv|json] [--state STATE]\n"
        "                     [--step NAME] [--home DIR]\n"
        "\n"
        "Prints one row per task, the task key first, then its id (unique in the\n"
        "home: 'sweep logs ID'), state, attempts, repetition, seed (the one the task\n"
        "got), priority (HIGH, MEDIUM, LOW, or the integer when it is not a band),\n"
        "exit code, signal, wall/user/sys seconds, peak RSS and error, every\n"
        "parameter and every metric (nested metrics as a.b; a metric named like a\n"
        "parameter becomes result.<name>). In a pipeline, a step column\n"
        "follows the key and each metric is under its step's name (simulate.energy).\n"
        "A study of a package directory has a package_id column after the key.\n"
        "\n"
        "Options:\n"
        "  -f, --format FORMAT    table: aligned columns for a terminal (reals to 6\n"
        "                         digits, text cut at 40 characters; no exit code,\n"
        "                         signal, user/sys, RSS or times); csv: RFC 4180;\n"
        "                         json: an array (priority as text, priority_value\n"
        "                         as the integer). Default: table on a terminal,\n"
        "                         csv when piped or redirected\n"
        "  --json                 same as --format json\n"
        "  --state STATE          only tasks in this state (e.g. failed)\n"
        "  --step NAME            a pipeline: only this step's tasks (or reduce)\n"
        "  --home DIR             sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help             show this help\n"
        "\n"
        "Example:\n"
        "  sweep results quickstart --state failed\n"
        "  sweep results quickstart --format csv > results.csv\n",
    .fn = results_main,
};
