/* `sweep models [MODEL]`: the built-in models, read straight from their registry rows:
 * a one-line summary each, or for one model every parameter (name, type, default,
 * range, unit, description) and every metric. --json and --json-schema print the
 * shapes of models/schema.h, which the API and MCP use too. */
#include "cli.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "models/model.h"
#include "models/schema.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const struct cli_cmd cmd_models;

/* Prints rows of ncols cells as aligned columns, two spaces apart, indented by two; the
 * last column is not padded. */
/* The width the listings fit (an 80-column terminal less its last column). */
#define MODELS_COLS 79
/* The narrowest last column that stays beside the others. */
#define MODELS_MIN_LAST 32

/* Appends text to line word by word, wrapped at MODELS_COLS: each full line is printed
 * and the next begins with `indent` blanks; the last one is left in line. */
static void models_wrap(struct strbuf *line, size_t indent, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, " ");
        if (line->len > indent && line->len + 1 + n > MODELS_COLS) {
            puts(sb_str(line));
            sb_reset(line);
            sb_addf(line, "%*s", (int)indent, "");
        } else if (line->len > indent) {
            sb_addc(line, ' ');
        }
        sb_add(line, text, n);
        text += n;
        text += strspn(text, " ");
    }
}

static void models_table(char **cells, size_t nrows, size_t ncols)
{
    int width[8] = {0};

    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            int n = (int)strlen(cells[r * ncols + c]);
            width[c] = n > width[c] ? n : width[c];
        }
    for (size_t r = 0; r < nrows; r++) {
        struct strbuf line = STRBUF_INIT;
        const char *last = cells[r * ncols + ncols - 1];
        size_t indent;

        sb_adds(&line, " ");
        for (size_t c = 0; c + 1 < ncols; c++)
            sb_addf(&line, " %-*s", width[c] + 1, cells[r * ncols + c]);
        sb_addc(&line, ' ');
        /* The last cell wrapped at MODELS_COLS, under its own column, or on lines of
         * its own below the row when that column would be too narrow to read. */
        indent = line.len;
        if (ncols > 1 && indent + MODELS_MIN_LAST > MODELS_COLS && *last) {
            while (line.len && line.buf[line.len - 1] == ' ')
                line.buf[--line.len] = '\0';
            puts(sb_str(&line));
            sb_reset(&line);
            sb_adds(&line, "        ");
            indent = line.len;
        }
        models_wrap(&line, indent, last);
        /* Empty trailing cells leave spaces behind. */
        while (line.len && line.buf[line.len - 1] == ' ')
            line.buf[--line.len] = '\0';
        puts(sb_str(&line));
        sb_fini(&line);
    }
}

static void models_free_cells(char **cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
    free(cells);
}

/* The model's example command, continued with a backslash on the next line (a shell
 * reads it as one) where it would pass MODELS_COLS. */
static void models_example(const struct model *m)
{
    char *cmd = xasprintf("sweep sim %s%s%s", m->name, m->example ? " " : "",
                          m->example ? m->example : "");
    const char *p = cmd;
    size_t indent = 2;

    while (indent + strlen(p) > MODELS_COLS) {
        /* The last blank before an option that leaves room for " \\", else the
         * last blank; none: the word stays long. */
        size_t room = MODELS_COLS - indent - 2, cut = 0, opt = 0;
        for (size_t i = 1; i < room && p[i]; i++) {
            if (p[i] == ' ')
                cut = i;
            if (p[i] == ' ' && p[i + 1] == '-')
                opt = i;
        }
        if (opt > 0)
            cut = opt;
        if (cut == 0)
            break;
        printf("%*s%.*s \\\n", (int)indent, "", (int)cut, p);
        p += cut + 1;
        indent = 6;
    }
    printf("%*s%s\n", (int)indent, "", p);
    free(cmd);
}

static char *models_param_range(const struct model_param *p)
{
    struct strbuf sb = STRBUF_INIT;
    char buf[128];

    if (p->type == MODEL_ENUM) {
        for (const char *const *c = p->choices; *c; c++)
            sb_addf(&sb, "%s%s", c == p->choices ? "" : "|", *c);
        return sb_take(&sb);
    }
    model_param_range(p, buf, sizeof(buf));
    sb_fini(&sb);
    return xstrdup(buf);
}

static char *models_param_desc(const struct model_param *p)
{
    struct strbuf sb = STRBUF_INIT;

    sb_adds(&sb, p->desc ? p->desc : "");
    for (const char *const *a = p->aliases; a && *a; a++)
        sb_addf(&sb, "%s%s", a == p->aliases ? " (also: " : ", ", *a);
    if (p->aliases && *p->aliases)
        sb_addc(&sb, ')');
    return sb_take(&sb);
}

static void models_show(const struct model *m)
{
    static const size_t pcols = 6, mcols = 3;
    char **cells = xcalloc((m->nparams + 1) * pcols, sizeof(*cells));
    struct strbuf text = STRBUF_INIT;
    size_t k = 0;

    printf("%s: %s\n\n", m->name, m->summary);
    models_wrap(&text, 0, m->description);
    puts(sb_str(&text));
    sb_fini(&text);

    cells[k++] = xstrdup("NAME");
    cells[k++] = xstrdup("TYPE");
    cells[k++] = xstrdup("DEFAULT");
    cells[k++] = xstrdup("RANGE");
    cells[k++] = xstrdup("UNIT");
    cells[k++] = xstrdup("DESCRIPTION");
    for (size_t i = 0; i < m->nparams; i++) {
        const struct model_param *p = &m->params[i];
        json_t *def = model_param_default(p);
        cells[k++] = xstrdup(p->name);
        cells[k++] = xstrdup(model_type_name(p->type));
        cells[k++] = def ? jsonx_arg_str(def) : xstrdup("(required)");
        cells[k++] = models_param_range(p);
        cells[k++] = xstrdup(p->unit ? p->unit : "");
        cells[k++] = models_param_desc(p);
        json_decref(def);
    }
    printf("\nParameters:\n");
    models_table(cells, m->nparams + 1, pcols);
    models_free_cells(cells, k);

    cells = xcalloc((m->nmetrics + 1) * mcols, sizeof(*cells));
    k = 0;
    cells[k++] = xstrdup("NAME");
    cells[k++] = xstrdup("UNIT");
    cells[k++] = xstrdup("DESCRIPTION");
    for (size_t i = 0; i < m->nmetrics; i++) {
        cells[k++] = xstrdup(m->metrics[i].name);
        cells[k++] = xstrdup(m->metrics[i].unit ? m->metrics[i].unit : "");
        cells[k++] = xstrdup(m->metrics[i].desc ? m->metrics[i].desc : "");
    }
    printf("\nMetrics:\n");
    models_table(cells, m->nmetrics + 1, mcols);
    models_free_cells(cells, k);

    printf("\nExample:\n");
    models_example(m);
}

static void models_list(void)
{
    char **cells = xcalloc(model_count() * 2, sizeof(*cells));
    size_t k = 0;

    for (size_t i = 0; i < model_count(); i++) {
        cells[k++] = xstrdup(model_at(i)->name);
        cells[k++] = xstrdup(model_at(i)->summary);
    }
    printf("Models:\n");
    models_table(cells, model_count(), 2);
    models_free_cells(cells, k);

    cells = xcalloc(model_alias_count() * 2, sizeof(*cells));
    k = 0;
    for (size_t i = 0; i < model_alias_count(); i++) {
        const struct model_alias *a = model_alias_at(i);
        cells[k++] = xstrdup(a->name);
        cells[k++] = xasprintf("%s with %s", a->model, a->preset);
    }
    if (model_alias_count()) {
        printf("\nAliases (task types of existing task files):\n");
        models_table(cells, model_alias_count(), 2);
    }
    models_free_cells(cells, k);
    printf("\nRun 'sweep models MODEL' for its parameters and metrics,\n"
           "'sweep sim MODEL' to run it.\n");
}

static int models_print_json(json_t *v)
{
    cli_print_json(v);
    json_decref(v);
    return EXIT_OK;
}

static int models_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"json-schema", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const struct model *m = NULL;
    json_t *preset = NULL;
    bool json = false, schema = false;
    int c;

    optind = 0; /* GNU getopt: start over, also when called twice in one process */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 's')
            schema = true;
        else
            return cli_option_error(&cmd_models, options, c, argv);
    }
    if (json && schema)
        return cli_usage_error(&cmd_models,
                               "--json and --json-schema exclude each other");
    if (argc - optind > 1)
        return cli_usage_error(&cmd_models, "expected at most one MODEL");
    if (optind < argc) {
        m = model_resolve(argv[optind], &preset);
        if (!m) {
            char msg[512];
            model_unknown_msg(argv[optind], msg, sizeof(msg));
            return cli_usage_error(&cmd_models, "%s", msg);
        }
        if (preset && !json && !schema) {
            char *text = jsonx_canon_str(preset);
            printf("%s is an alias: %s with %s\n\n", argv[optind], m->name, text);
            free(text);
        }
    }

    if (schema) {
        json_t *v = m ? model_params_json_schema(m, preset) : model_names_json_schema();
        json_decref(preset);
        return models_print_json(v);
    }
    json_decref(preset);
    if (json)
        return models_print_json(m ? model_schema_json(m) : model_list_json());
    if (m)
        models_show(m);
    else
        models_list();
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_UNEXPECTED;
}

const struct cli_cmd cmd_models = {
    .name = "models",
    .summary = "list the built-in models, their parameters and metrics",
    .usage =
        "Usage: sweep models [MODEL] [--json | --json-schema]\n"
        "\n"
        "Lists the built-in models with a one-line summary. With MODEL, shows every\n"
        "parameter (name, type, default, range, unit, description) and every metric\n"
        "the model reports. A study runs a model with `model: MODEL`; 'sweep sim\n"
        "MODEL' runs it once.\n"
        "\n"
        "Options:\n"
        "  --json         print JSON: every model's description, or MODEL's\n"
        "  --json-schema  print a JSON Schema (draft 2020-12): of MODEL's parameter\n"
        "                 object, or without MODEL of a model's name (every name and\n"
        "                 alias, also in capitals)\n"
        "  -h, --help     show this help\n"
        "\n"
        "Examples:\n"
        "  sweep models\n"
        "  sweep models chaos --json\n"
        "  sweep models DLA --json-schema\n",
    .fn = models_main,
};
