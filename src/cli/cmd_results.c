/* sweep results: one row per task (key first, then its id), as an aligned table (on a
 * terminal), CSV or JSON, printed as the rows are read (view_results_each()), so the
 * first comes at once and memory stays flat at any size. Parameters and metrics become
 * columns; nested metric objects are flattened as a.b. A study of a package directory
 * has a package_id column. */
#include "cli.h"
#include "remote.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/suggest.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "common/termline.h"
#include "core/store.h"
#include "core/view.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct cli_cmd cmd_results;

enum results_format { RESULTS_TABLE, RESULTS_CSV, RESULTS_JSON };

/* The table (--format table) is sized by its header and first TABLE_FIRST_ROWS rows:
 * their cells are kept until then, printed, and every later row is printed as it is
 * read, in the same widths and alignment (a wider cell pushes the rest of its row to
 * the right), so that the first rows come at once and memory stays that of one row. */
#define TABLE_FIRST_ROWS 1000

struct table {
    char **cell; /* row-major, ncols per row, the header first */
    size_t ncols, nrows, cap;
    size_t cell_in_row;
    size_t *width; /* set once the first rows are printed */
    bool *left;
};

struct results {
    enum results_format format;
    bool first; /* no JSON row printed yet */
    struct table table;
};

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

static void table_free_cells(struct table *tb)
{
    for (size_t i = 0; i < tb->nrows * tb->ncols + tb->cell_in_row; i++)
        free(tb->cell[i]);
    tb->nrows = 0;
    tb->cell_in_row = 0;
}

/* Prints the rows kept so far, and sizes the table on them: numbers (and wall) to the
 * right, text to the left. A column is numbers when it has a value and every value
 * reads as one. */
static void table_flush(struct table *tb)
{
    tb->width = xcalloc(tb->ncols ? tb->ncols : 1, sizeof(size_t));
    tb->left = xcalloc(tb->ncols ? tb->ncols : 1, sizeof(bool));
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
        tb->left[c] = c == 0 || !any || (text && strcmp(tb->cell[c], "wall") != 0);
    }
    cli_table_widths(tb->cell, tb->nrows, tb->ncols, tb->width);
    for (size_t row = 0; row < tb->nrows; row++)
        cli_table_row(tb->cell + row * tb->ncols, tb->ncols, tb->width, tb->left);
    table_free_cells(tb);
}

/* After a row was added: printed at once once the table is sized, else kept. */
static void table_row_done(struct table *tb)
{
    if (tb->width) {
        cli_table_row(tb->cell, tb->ncols, tb->width, tb->left);
        table_free_cells(tb);
    } else if (tb->nrows > TABLE_FIRST_ROWS) {
        table_flush(tb);
    }
}

/* The table's columns: key, [step], [package_id], id, state, attempts, repetition,
 * seed, priority, the parameters, the metrics, wall, error: what a reader scans; exit
 * code, signal, user and sys time, peak RSS and times are in the CSV and JSON. */
static void table_header(struct table *tb, const struct view_results *v)
{
    static const char *const head[] = {
        "key", "id", "state", "attempts", "repetition", "seed", "priority",
    };
    static const char *const tail[] = {"wall", "error"};
    size_t nhead = sizeof(head) / sizeof(head[0]);

    tb->ncols = nhead + (v->step_col ? 1 : 0) + (v->packages ? 1 : 0) + v->nparams +
                v->nmetrics + 2;
    for (size_t i = 0; i < nhead; i++) {
        table_cell(tb, xstrdup(head[i]));
        if (i == 0 && v->step_col)
            table_cell(tb, xstrdup(v->step_col));
        if (i == 0 && v->packages)
            table_cell(tb, xstrdup("package_id"));
    }
    for (size_t i = 0; i < v->nparams; i++)
        table_cell(tb, xstrdup(v->param_cols[i]));
    for (size_t i = 0; i < v->nmetrics; i++)
        table_cell(tb, xstrdup(v->metric_cols[i]));
    for (size_t i = 0; i < 2; i++)
        table_cell(tb, xstrdup(tail[i]));
    tb->nrows++;
    tb->cell_in_row = 0;
}

static void
table_add(struct table *tb, const struct view_results *v, const struct view_row *row)
{
    const struct store_task *t = row->task;
    char buf[64];

    table_cell(tb, xstrdup(t->key));
    if (row->step)
        table_cell(tb, xstrdup(row->step));
    if (v->packages)
        table_cell(tb, xstrdup(row->package_id));
    table_cell(tb, xasprintf("%lld", t->id));
    table_cell(tb, xstrdup(task_state_name(t->state)));
    table_cell(tb, xasprintf("%d", t->attempts));
    table_cell(tb, xasprintf("%d", t->repetition));
    table_cell(tb, xasprintf("%lld", t->seed));
    view_priority_text(t->priority, buf, sizeof(buf));
    table_cell(tb, xstrdup(buf));
    for (size_t i = 0; i < v->nparams; i++)
        table_cell(tb, table_value(json_object_get(row->params, v->params[i])));
    for (size_t i = 0; i < v->nmetrics; i++)
        table_cell(tb, table_value(json_object_get(row->flat, v->metrics[i])));
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
    table_row_done(tb);
}

static void table_fini(struct table *tb)
{
    table_free_cells(tb);
    free(tb->cell);
    free(tb->width);
    free(tb->left);
}

static int
print_row(const struct view_results *v, const struct view_row *row, void *arg)
{
    struct results *r = arg;
    struct strbuf sb = STRBUF_INIT;

    if (r->format == RESULTS_TABLE) {
        table_add(&r->table, v, row);
        return 0;
    }
    if (r->format == RESULTS_JSON) {
        json_t *o = view_row_json(v, row);
        char *line = jsonx_line_str(o);
        sb_adds(&sb, r->first ? "[\n  " : ",\n  ");
        sb_adds(&sb, line);
        free(line);
        json_decref(o);
        r->first = false;
    } else {
        view_row_csv(v, row, &sb);
    }
    fputs(sb_str(&sb), stdout);
    sb_fini(&sb);
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
        {"server", required_argument, NULL, 'R'},
        {"token-file", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL, *server = NULL, *token_file = NULL;
    struct results r = {.first = true};
    int format = -1; /* not given: a table on a terminal, else CSV */
    const char *step_arg = NULL;
    struct store *st = NULL;
    struct store_study s = {0};
    struct view_results v = {0};
    struct err err = {0};
    int c, rc = EXIT_OK, state = -1, step = -1;

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
            if (task_state_parse(optarg, &ts) < 0) {
                const char *names[TASK_NSTATES], *near;
                for (int i = 0; i < TASK_NSTATES; i++)
                    names[i] = task_state_name((enum task_state)i);
                near = suggest_closest(optarg, names, TASK_NSTATES);
                return cli_usage_error(
                    &cmd_results,
                    "--state: expected pending, running, succeeded, failed, "
                    "timed_out, cancelled, interrupted, skipped or waiting, got "
                    "\"%s\"%s%s%s",
                    optarg, near ? " (did you mean '" : "", near ? near : "",
                    near ? "'?)" : "");
            }
            state = (int)ts;
            break;
        }
        case 'S':
            step_arg = optarg;
            break;
        case 'H':
            home = optarg;
            break;
        case 'R':
            server = optarg;
            break;
        case 'T':
            token_file = optarg;
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
    if ((server = remote_server(server, home))) {
        if (state >= 0 || step_arg)
            return cli_usage_error(&cmd_results,
                                   "--state and --step are not for --server");
        return remote_results(server, token_file, argv[optind],
                              format == RESULTS_JSON  ? "json"
                              : format == RESULTS_CSV ? "csv"
                                                      : "table");
    }
    if (store_open(cli_home(home), &st, &err) ||
        store_study_get(st, argv[optind], &s, &err) ||
        (step_arg && view_step_index(&s, step_arg, &step, &err)) ||
        view_results_open(st, &s, state, step, r.format != RESULTS_JSON, &v, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (v.note)
        fprintf(stderr, "sweep: %s\n", v.note);
    if (r.format == RESULTS_CSV) {
        struct strbuf sb = STRBUF_INIT;
        view_results_csv_header(&v, &sb);
        fputs(sb_str(&sb), stdout);
        sb_fini(&sb);
    } else if (r.format == RESULTS_TABLE) {
        table_header(&r.table, &v);
    }
    if (view_results_each(&v, print_row, &r, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (r.format == RESULTS_JSON)
        fputs(r.first ? "[]\n" : "\n]\n", stdout);
    else if (r.format == RESULTS_TABLE && !r.table.width)
        table_flush(&r.table);
out:
    if (r.format == RESULTS_TABLE)
        table_fini(&r.table);
    view_results_fini(&v);
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
        "Columns come in the order the tasks (in expansion order) first have them;\n"
        "with --state, they are those of the tasks in that state. Rows are printed\n"
        "as they are read, the first at once however large the study.\n"
        "\n"
        "Options:\n"
        "  -f, --format FORMAT    table: aligned columns for a terminal (reals to 6\n"
        "                         digits, text cut at 40 characters, widths from the\n"
        "                         first 1000 rows; no exit code, signal, user/sys,\n"
        "                         RSS or times); csv: RFC 4180;\n"
        "                         json: an array (priority as text, priority_value\n"
        "                         as the integer). Default: table on a terminal,\n"
        "                         csv when piped or redirected\n"
        "  --json                 same as --format json\n"
        "  --state STATE          only tasks in this state (e.g. failed)\n"
        "  --step NAME            a pipeline: only this step's tasks (or reduce)\n"
        "  --home DIR             sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  --server URL           from a running `sweep serve` (default\n"
        "                         $SWEEP_SERVER); not with --state or --step\n"
        "  --token-file F         the service's token (default $SWEEP_TOKEN_FILE)\n"
        "  -h, --help             show this help\n"
        "\n"
        "Example:\n"
        "  sweep results quickstart --state failed\n"
        "  sweep results quickstart --format csv > results.csv\n"
        "  sweep results quickstart --json --server http://127.0.0.1:5000\n",
    .fn = results_main,
};
