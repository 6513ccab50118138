/* Helpers shared by the subcommands (see cli.h). */
#include "cli.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/suggest.h"
#include "common/termline.h"
#include "common/xalloc.h"
#include "core/runner.h"
#include "core/sigwatch.h"
#include "core/spec.h"
#include "core/store.h"
#include "core/view.h"
#include "models/model.h"
#include "report/chart.h"

#include <jansson.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

const char *cli_home(const char *flag)
{
    static char *abs;
    const char *home = flag && *flag ? flag : getenv("SWEEP_HOME");
    char cwd[PATH_MAX];

    if (!home || !*home)
        home = ".sweep";
    /* Absolute, since tasks run in their own directories and get paths under it. */
    if (home[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return home;
    free(abs);
    abs = xasprintf("%s/%s", cwd, home);
    return abs;
}

int cli_fail(const struct err *err)
{
    fprintf(stderr, "sweep: %s\n", err->msg[0] ? err->msg : "unknown error");
    switch (err->code) {
    case SWEEP_EINVAL:
    case SWEEP_ENOTFOUND:
        return EXIT_USAGE;
    case SWEEP_EBUSY:
        return EXIT_BUSY;
    default:
        return EXIT_UNEXPECTED;
    }
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sweep %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sweep %s --help'.\n", cmd->name);
    return EXIT_USAGE;
}

/* A long option given as "--name[=value]": which one it is (exactly, or the one option
 * it abbreviates), else the error. */
static int cli_long_option_error(const struct cli_cmd *cmd,
                                 const struct option *opts,
                                 const char *arg)
{
    const char *eq = strchr(arg, '=');
    char *word = xstrndup(arg, eq ? (size_t)(eq - arg) : strlen(arg));
    const struct option *found = NULL;
    struct strbuf abbrev = STRBUF_INIT;
    struct suggest sg;
    int nabbrev = 0, rc;

    suggest_init(&sg, word);
    suggest_add(&sg, "help"); /* every command's, answered by main.c */
    for (const struct option *o = opts; o->name; o++) {
        suggest_add(&sg, o->name);
        if (strcmp(o->name, word) == 0) {
            found = o;
        } else if (*word && strncmp(o->name, word, strlen(word)) == 0) {
            sb_addf(&abbrev, "%s--%s", nabbrev ? ", " : "", o->name);
            nabbrev++;
        }
    }
    if (!found && nabbrev == 1)
        for (const struct option *o = opts; o->name && !found; o++)
            if (strncmp(o->name, word, strlen(word)) == 0)
                found = o;
    if (found && eq && found->has_arg == no_argument)
        rc = cli_usage_error(cmd, "option '--%s' takes no value", found->name);
    else if (found)
        rc = cli_usage_error(cmd, "option '--%s' needs a value", found->name);
    else if (nabbrev > 1)
        rc = cli_usage_error(cmd, "option '--%s' is ambiguous: it could be %s", word,
                             sb_str(&abbrev));
    else if (suggest_best(&sg))
        rc = cli_usage_error(cmd, "unknown option '--%s' (did you mean '--%s'?)", word,
                             suggest_best(&sg));
    else
        rc = cli_usage_error(cmd, "unknown option '--%s'", word);
    sb_fini(&abbrev);
    free(word);
    return rc;
}

int cli_option_error(const struct cli_cmd *cmd,
                     const struct option *opts,
                     int c,
                     char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    bool needs_value = c == ':';

    if (arg && strncmp(arg, "--", 2) == 0 && arg[2])
        return cli_long_option_error(cmd, opts, arg + 2);
    if (!optopt)
        return cli_usage_error(cmd, "unknown option '%s'", arg ? arg : "");
    for (const struct option *o = opts; o->name && !needs_value; o++)
        needs_value = o->val == optopt && o->has_arg == required_argument;
    if (needs_value)
        return cli_usage_error(cmd, "option '-%c' needs a value", optopt);
    return cli_usage_error(cmd, "unknown option '-%c'", optopt);
}

int cli_help(const struct cli_cmd *cmd)
{
    fputs(cmd->usage, stdout);
    return EXIT_OK;
}

const char *cli_self_path(void)
{
    static char path[PATH_MAX];
    ssize_t n;

    if (path[0])
        return path;
    n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0)
        return "sweep";
    path[n] = '\0';
    return path;
}

int cli_term_columns(int fd)
{
    struct winsize ws;
    const char *env = getenv("COLUMNS");
    char *end;
    long v;

    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (env && *env) {
        v = strtol(env, &end, 10);
        if (!*end && v > 0 && v <= 10000)
            return (int)v;
    }
    return 80;
}

int cli_stderr_columns(void)
{
    return cli_term_columns(STDERR_FILENO);
}

void cli_table_widths(char *const *cells, size_t rows, size_t cols, size_t *width)
{
    memset(width, 0, cols * sizeof(*width));
    for (size_t i = 0; i < rows * cols; i++) {
        size_t w = termline_width(cells[i]);
        if (w > width[i % cols])
            width[i % cols] = w;
    }
}

void cli_table_row(char *const *cells,
                   size_t cols,
                   const size_t *width,
                   const bool *left)
{
    /* No blanks after the last cell that is not empty. */
    size_t end = cols;

    while (end > 1 && !*cells[end - 1])
        end--;
    for (size_t c = 0; c < end; c++) {
        const char *cell = cells[c];
        size_t w = termline_width(cell), pad = w < width[c] ? width[c] - w : 0;
        bool last = c == end - 1;

        if (!left[c])
            printf("%*s", (int)pad, "");
        fputs(cell, stdout);
        if (left[c] && !last)
            printf("%*s", (int)pad, "");
        if (!last)
            fputs("  ", stdout);
    }
    putchar('\n');
}

void cli_table_print(char *const *cells, size_t rows, size_t cols, const bool *left)
{
    size_t *width = xcalloc(cols ? cols : 1, sizeof(size_t));

    cli_table_widths(cells, rows, cols, width);
    for (size_t r = 0; r < rows; r++)
        cli_table_row(cells + r * cols, cols, width, left);
    free(width);
}

int cli_parse_size(const struct cli_cmd *cmd, const char *opt, const char *s, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < CHART_MIN_SIZE || v > CHART_MAX_SIZE)
        return cli_usage_error(cmd, "%s: expected an integer from %d to %d, got \"%s\"",
                               opt, CHART_MIN_SIZE, CHART_MAX_SIZE, s);
    *out = (int)v;
    return EXIT_OK;
}

int cli_task_resolve(struct store *st,
                     const char *study_flag,
                     const char *name,
                     struct store_task *out,
                     char **study,
                     struct err *err)
{
    struct store_study s = {0};
    char near[256];
    int rc;

    if (study_flag && store_study_get(st, study_flag, &s, err) != SWEEP_OK)
        return err->code;
    rc = store_task_resolve(st, s.id, name, out, study, err);
    /* A bare name that is no task: a study where a task is wanted, a mistyped study,
     * or neither. */
    if (rc != SWEEP_ENOTFOUND || study_flag || strchr(name, '/'))
        ;
    else if (store_study_get(st, name, &s, &(struct err){0}) == SWEEP_OK)
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "'%s' is a study, not a task: name one of its tasks (STUDY/KEY; "
                     "sweep results %s --state failed lists the failed ones)",
                     name, name);
    else if (store_study_near(st, name, near, sizeof(near)))
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "no study or task named '%s' (did you mean the study '%s'?)", name,
                     near);
    else
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "no study or task named '%s' (a task is named by its id, its key "
                     "or 4+ first hex digits of it, or STUDY/KEY; see 'sweep results')",
                     name);
    store_study_fini(&s);
    return rc;
}

void cli_spec_seed_names(struct spec *spec, const struct model *m)
{
    const struct model_param *p = m ? model_param_find(m, "seed") : NULL;

    if (!p)
        return;
    spec_add_seed_name(spec, p->name);
    for (const char *const *a = p->aliases; a && *a; a++)
        spec_add_seed_name(spec, *a);
}

void cli_csv_field(const char *s, bool last)
{
    struct strbuf sb = STRBUF_INIT;

    view_csv_field(&sb, s, last);
    fputs(sb_str(&sb), stdout);
    sb_fini(&sb);
}

int cli_step_index(const struct store_study *s,
                   const char *name,
                   int *step,
                   struct err *err)
{
    return view_step_index(s, name, step, err);
}

void cli_print_json(const json_t *v)
{
    char *text = jsonx_pretty_str(v);
    fputs(text, stdout);
    free(text);
}

json_t *cli_steps_counts(struct store *st, const struct store_study *s, struct err *err)
{
    json_t *steps;

    return view_steps_counts(st, s, &steps, err) == SWEEP_OK ? steps : NULL;
}

long long cli_count_of(const json_t *row, const char *state)
{
    return view_count_of(row, state);
}

void cli_print_failures(const json_t *failures,
                        const char *study,
                        long long failed,
                        long long timed_out,
                        const char *indent)
{
    long long n = failed + timed_out;
    const json_t *f;
    char line[1024];
    size_t i;

    if (n == 0)
        return;
    printf("%s%lld %s; %s:\n", indent, n,
           timed_out == 0 ? "failed" : "failed or timed out",
           n > (long long)json_array_size(failures) ? "the first" : "why");
    json_array_foreach(failures, i, f)
    {
        char *params = json_dumps(json_object_get(f, "params"), JSON_COMPACT);
        char *text =
            xasprintf("%s  %s %s", indent, json_string_value(json_object_get(f, "key")),
                      params ? params : "{}");
        termline_cut(text, 79, line, sizeof(line));
        printf("%s\n", line);
        free(text);
        text =
            xasprintf("%s    %s", indent, json_string_value(json_object_get(f, "why")));
        termline_cut(text, 79, line, sizeof(line));
        printf("%s\n", line);
        free(text);
        free(params);
    }
    printf("%sAll of them: sweep results %s --state %s\n"
           "%sA task's stdout and stderr: sweep logs KEY\n",
           indent, study, failed > 0 ? "failed" : "timed_out", indent);
}

int cli_name_width(const json_t *arr, const char *member, int min)
{
    const json_t *o;
    size_t i;
    int w = min;

    json_array_foreach(arr, i, o)
    {
        const char *name = json_string_value(json_object_get(o, member));
        size_t n = name ? strlen(name) : 0;
        if (n > (size_t)w)
            w = n > CLI_NAME_WIDTH_MAX ? CLI_NAME_WIDTH_MAX : (int)n;
    }
    return w;
}

void cli_print_steps(const json_t *steps)
{
    size_t i;
    json_t *r;
    /* 69 columns and the longest step's name. */
    int w = cli_name_width(steps, "name", 6);

    printf("  %-*s %7s %7s %7s %7s %9s %6s %7s %9s\n", w, "step", "total", "waiting",
           "pending", "running", "succeeded", "failed", "skipped", "cancelled");
    json_array_foreach(steps, i, r)
    {
        printf("  %-*s %7lld %7lld %7lld %7lld %9lld %6lld %7lld %9lld\n", w,
               json_string_value(json_object_get(r, "name")), cli_count_of(r, "total"),
               cli_count_of(r, "waiting"),
               cli_count_of(r, "pending") + cli_count_of(r, "interrupted"),
               cli_count_of(r, "running"), cli_count_of(r, "succeeded"),
               cli_count_of(r, "failed") + cli_count_of(r, "timed_out"),
               cli_count_of(r, "skipped"), cli_count_of(r, "cancelled"));
    }
}

int cli_runner_run(struct store *st,
                   const struct spec *spec,
                   long long study_id,
                   long long generation,
                   const struct runner_opts *o,
                   struct runner_summary *sum,
                   struct err *err)
{
    int rc = sigwatch_open(err);

    if (rc)
        return rc;
    rc = runner_run(st, spec, study_id, generation, o, sum, err);
    sigwatch_close();
    return rc;
}
