/* `sweep new`: writes a task file (taskfile.h) for a built-in model, the tasks being
 * every combination of the values given for its parameters, each repeated
 * --repetitions times. With --model it asks nothing; without, it asks on stdin for the
 * model, each parameter's values (its type, range and default shown, Enter keeping
 * the default), repetitions, priority, a description and the output file, and asks
 * again after an answer it cannot use. Every value is checked against the model's
 * schema as it is read, every task as a whole (the model's own checks) before anything
 * is written, and the file is read back as `sweep run` reads it. The file appears
 * whole: it is written to a hidden temporary in the same directory and renamed, so an
 * inbox watching that directory never sees half of it. */
#include "cli.h"

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/expand.h"
#include "core/spec.h"
#include "core/taskfile.h"
#include "models/model.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const struct cli_cmd cmd_new;

#define NEW_MAX_TASKS 100000 /* a task file is a list; larger studies are specs */
#define NEW_DEFAULT_MODEL "dla"

/* The values of one parameter, under its canonical name. */
struct new_param {
    const struct model_param *p;
    json_t *values; /* array */
};

struct new_plan {
    const struct model *m;
    char *model;    /* as the file names it: the name given, in lower case */
    json_t *preset; /* an alias's preset parameters, or NULL */
    struct new_param *pv;
    size_t npv;
    int repetitions;
    int band; /* PRIORITY_HIGH, _MEDIUM or _LOW */
    char *name;
    char *description;
    char *out;
    bool yaml;
    bool force;
};

static void plan_fini(struct new_plan *pl)
{
    free(pl->model);
    json_decref(pl->preset);
    for (size_t i = 0; i < pl->npv; i++)
        json_decref(pl->pv[i].values);
    free(pl->pv);
    free(pl->name);
    free(pl->description);
    free(pl->out);
}

/* ---- values ---- */

static int set_model(struct new_plan *pl, const char *name, struct err *err)
{
    char lower[64], msg[512];
    size_t n = strlen(name);

    if (n == 0 || n >= sizeof(lower)) {
        model_unknown_msg(name, msg, sizeof(msg));
        return err_set(err, SWEEP_EINVAL, "%s; see 'sweep models'", msg);
    }
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    json_decref(pl->preset);
    pl->preset = NULL;
    if (!(pl->m = model_resolve(lower, &pl->preset))) {
        model_unknown_msg(name, msg, sizeof(msg));
        return err_set(err, SWEEP_EINVAL, "%s; see 'sweep models'", msg);
    }
    free(pl->model);
    pl->model = xstrdup(lower);
    return SWEEP_OK;
}

/* One value as typed: a string for a string or enum parameter, else JSON when it reads
 * as JSON (100, 0.5, true, [64, 64]), else a string (which the check then refuses). */
static json_t *value_of(const struct model_param *p, const char *s)
{
    json_t *v = NULL;

    if (p->type != MODEL_STRING && p->type != MODEL_ENUM)
        v = json_loads(s, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(s);
}

/* "100, 200" or "[64,64], [128,128]": the values, split at commas outside brackets,
 * each checked against the parameter's type and range. */
static int parse_values(const struct model *m,
                        const struct model_param *p,
                        const char *text,
                        json_t **out,
                        struct err *err)
{
    json_t *values = json_array();
    const char *s = text;

    *out = NULL;
    for (;;) {
        const char *start = s, *end;
        int depth = 0;
        char *tok;
        json_t *v;

        while (*s && !(*s == ',' && depth == 0)) {
            depth += *s == '[' ? 1 : *s == ']' ? -1 : 0;
            s++;
        }
        end = s;
        while (start < end && isspace((unsigned char)*start))
            start++;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if (start == end) {
            json_decref(values);
            return err_set(err, SWEEP_EINVAL,
                           "%s: expected values separated by commas, got \"%s\"",
                           p->name, text);
        }
        tok = xstrndup(start, (size_t)(end - start));
        v = value_of(p, tok);
        free(tok);
        if (model_param_check(m, p->name, v, err)) {
            json_decref(v);
            json_decref(values);
            return SWEEP_EINVAL;
        }
        json_array_append_new(values, v);
        if (!*s)
            break;
        s++;
    }
    *out = values;
    return SWEEP_OK;
}

/* NAME=VALUES for the plan's model; a name given twice is an error. */
static int
set_param(struct new_plan *pl, const char *name, const char *text, struct err *err)
{
    const struct model_param *p = model_param_find(pl->m, name);
    json_t *values;

    if (!p) {
        json_t *null = json_null();
        int rc = model_param_check(pl->m, name, null, err); /* names the nearest */
        json_decref(null);
        return rc ? rc : err_set(err, SWEEP_EINVAL, "unknown parameter \"%s\"", name);
    }
    for (size_t i = 0; i < pl->npv; i++)
        if (pl->pv[i].p == p)
            return err_set(err, SWEEP_EINVAL, "%s: given twice", p->name);
    if (parse_values(pl->m, p, text, &values, err))
        return SWEEP_EINVAL;
    pl->pv = xrealloc(pl->pv, (pl->npv + 1) * sizeof(*pl->pv));
    pl->pv[pl->npv].p = p;
    pl->pv[pl->npv++].values = values;
    return SWEEP_OK;
}

static int parse_band(const char *s, int *band)
{
    if (strcasecmp(s, "high") == 0)
        *band = PRIORITY_HIGH;
    else if (strcasecmp(s, "medium") == 0)
        *band = PRIORITY_MEDIUM;
    else if (strcasecmp(s, "low") == 0)
        *band = PRIORITY_LOW;
    else
        return -1;
    return 0;
}

static int parse_count(const char *s, int min, int max, int *out)
{
    char *end;
    long v;

    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* ---- the tasks ---- */

/* The number of tasks, or 0 when more than NEW_MAX_TASKS. */
static size_t plan_count(const struct new_plan *pl)
{
    size_t n = (size_t)pl->repetitions;

    for (size_t i = 0; i < pl->npv; i++) {
        n *= json_array_size(pl->pv[i].values);
        if (n > NEW_MAX_TASKS)
            return 0;
    }
    return n;
}

/* "n_particles=100, seed=7 (repetition 2 of 3)". */
static char *task_description(const struct new_plan *pl, const json_t *params, int rep)
{
    struct strbuf sb = STRBUF_INIT;
    const char *k;
    json_t *v;

    sb_adds(&sb, pl->model);
    json_object_foreach((json_t *)params, k, v)
    {
        char *s = jsonx_arg_str(v);
        sb_addf(&sb, "%s%s=%s", sb.len > strlen(pl->model) + 1 ? ", " : " ", k, s);
        free(s);
    }
    if (pl->repetitions > 1)
        sb_addf(&sb, " (repetition %d of %d)", rep + 1, pl->repetitions);
    return sb_take(&sb);
}

/* Every task, in the order of an odometer over the parameters (the last varying
 * fastest), each point repeated. A repetition after the first of a point that sets an
 * integer seed gets the seed a study's repetition would (expand_rep_seed); without
 * one, sweep derives a seed per task from its parameters, task_id included. Each task
 * is checked whole by the model. */
static int plan_tasks(const struct new_plan *pl, json_t **out, struct err *err)
{
    size_t total = plan_count(pl), *at = xcalloc(pl->npv + 1, sizeof(size_t));
    json_t *tasks = json_array();
    int width = 3, rc = SWEEP_OK;

    *out = NULL;
    for (size_t n = total; n >= 1000; n /= 10)
        width++;
    for (size_t id = 1; id <= total;) {
        json_t *point = json_object();
        for (size_t i = 0; i < pl->npv; i++)
            json_object_set(point, pl->pv[i].p->name,
                            json_array_get(pl->pv[i].values, at[i]));
        for (int rep = 0; rep < pl->repetitions && rc == SWEEP_OK; rep++, id++) {
            json_t *params = json_deep_copy(point), *seed, *task, *merged;
            char *desc;
            if (rep > 0 && json_is_integer(seed = json_object_get(params, "seed")))
                json_object_set_new(
                    params, "seed",
                    json_integer(expand_rep_seed(json_integer_value(seed), rep)));
            merged = json_deep_copy(params);
            model_preset_merge(pl->m, merged, pl->preset);
            rc = model_params_check(pl->m, merged, NULL, err);
            json_decref(merged);
            if (rc) {
                json_decref(params);
                break;
            }
            desc = task_description(pl, params, rep);
            task = json_object();
            json_object_set_new(task, "task_id",
                                json_sprintf("%s_%0*zu", pl->model, width, id));
            json_object_set_new(task, "algorithm", json_string(pl->model));
            json_object_set_new(task, "parameters", params);
            json_object_set_new(task, "priority",
                                json_string(pl->band == PRIORITY_HIGH     ? "high"
                                            : pl->band == PRIORITY_MEDIUM ? "medium"
                                                                          : "low"));
            json_object_set_new(task, "description", json_string(desc));
            json_array_append_new(tasks, task);
            free(desc);
        }
        json_decref(point);
        if (rc)
            break;
        /* The odometer: the last parameter varies fastest. */
        for (size_t i = pl->npv; i-- > 0;) {
            if (++at[i] < json_array_size(pl->pv[i].values))
                break;
            at[i] = 0;
        }
    }
    free(at);
    if (rc) {
        json_decref(tasks);
        return rc;
    }
    *out = tasks;
    return SWEEP_OK;
}

/* ---- writing ---- */

static json_t *plan_metadata(const struct new_plan *pl, size_t ntasks)
{
    json_t *meta = json_object();
    char now[40];

    time_iso8601(time_now(), now, sizeof(now));
    json_object_set_new(meta, "name", json_string(pl->name));
    if (pl->description && *pl->description)
        json_object_set_new(meta, "description", json_string(pl->description));
    json_object_set_new(meta, "creation_date", json_string(now));
    json_object_set_new(meta, "total_tasks", json_integer((json_int_t)ntasks));
    json_object_set_new(meta, "created_by", json_string("sweep new"));
    return meta;
}

/* A JSON text is a YAML flow value (strings in double quotes with JSON's escapes). */
static void yaml_value(struct strbuf *sb, const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

    sb_adds(sb, s);
    free(s);
}

/* The tasks.yaml form: type and id, integer priorities (1 is the most urgent). */
static char *yaml_text(const json_t *meta, const json_t *tasks)
{
    struct strbuf sb = STRBUF_INIT;
    const char *k;
    json_t *v, *t;
    size_t i;

    sb_adds(&sb, "# A tasks.yaml written by 'sweep new'; run it with 'sweep run "
                 "FILE'.\n# priority: 1 is the most urgent (HIGH), 2 MEDIUM, 3 LOW.\n"
                 "metadata:\n");
    json_object_foreach((json_t *)meta, k, v)
    {
        sb_addf(&sb, "  %s: ", k);
        yaml_value(&sb, v);
        sb_addc(&sb, '\n');
    }
    sb_adds(&sb, "tasks:\n");
    json_array_foreach(tasks, i, t)
    {
        const char *prio = json_string_value(json_object_get(t, "priority"));
        sb_adds(&sb, "  - id: ");
        yaml_value(&sb, json_object_get(t, "task_id"));
        sb_adds(&sb, "\n    type: ");
        yaml_value(&sb, json_object_get(t, "algorithm"));
        sb_adds(&sb, "\n    parameters: ");
        yaml_value(&sb, json_object_get(t, "parameters"));
        sb_addf(&sb, "\n    priority: %d\n    description: ",
                strcmp(prio, "high") == 0     ? 1
                : strcmp(prio, "medium") == 0 ? 2
                                              : 3);
        yaml_value(&sb, json_object_get(t, "description"));
        sb_addc(&sb, '\n');
    }
    return sb_take(&sb);
}

/* Writes text to path through a hidden temporary beside it and a rename. */
static int write_file(const char *path, const char *text, struct err *err)
{
    char *copy = xstrdup(path), *base = xstrdup(path);
    char *tmp =
        xasprintf("%s/.%s.tmp.%ld", dirname(copy), basename(base), (long)getpid());
    FILE *f = fopen(tmp, "wx");
    int rc = SWEEP_OK;

    if (!f) {
        rc = err_set(err, SWEEP_EIO, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fputs(text, f) == EOF || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = err_set(err, SWEEP_EIO, "cannot write %s: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        goto out;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        rc = err_set(err, SWEEP_EIO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
out:
    free(tmp);
    free(copy);
    free(base);
    return rc;
}

/* The file's text, checked by reading it back as `sweep run` does. */
static int plan_write(const struct new_plan *pl, size_t *ntasks, struct err *err)
{
    json_t *tasks = NULL, *doc;
    struct spec *spec = NULL;
    char *text, *dir;
    int rc;

    if ((rc = plan_tasks(pl, &tasks, err)))
        return rc;
    *ntasks = json_array_size(tasks);
    doc = json_object();
    json_object_set_new(doc, "metadata", plan_metadata(pl, *ntasks));
    json_object_set(doc, "tasks", tasks);
    text = pl->yaml ? yaml_text(json_object_get(doc, "metadata"), tasks)
                    : json_dumps(doc, JSON_INDENT(2));
    if (!pl->yaml) {
        char *nl = xasprintf("%s\n", text);
        free(text);
        text = nl;
    }
    rc = spec_parse(pl->out, text, strlen(text), &spec, err);
    if (rc)
        err_prefix(err, "bug: the file written does not read back");
    spec_destroy(spec);
    if (!rc) {
        char *copy = xstrdup(pl->out);
        dir = dirname(copy);
        rc = fileio_mkdirs(dir, err);
        free(copy);
    }
    if (!rc)
        rc = write_file(pl->out, text, err);
    free(text);
    json_decref(doc);
    json_decref(tasks);
    return rc;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* The inbox `sweep serve` on this home watches by default (serve_inbox_path(): the
 * same settings, <home>/.env included), resolved once by new_main(). */
static char *new_inbox;

static char *default_out(const struct new_plan *pl)
{
    char stamp[40], iso[40];

    time_iso8601(time_now(), iso, sizeof(iso));
    /* 2026-12-07T00:30:00.123Z -> 20261207_003000 */
    snprintf(stamp, sizeof(stamp), "%.4s%.2s%.2s_%.2s%.2s%.2s", iso, iso + 5, iso + 8,
             iso + 11, iso + 14, iso + 17);
    return xasprintf("%s/%s_%s.%s", new_inbox, pl->model, stamp,
                     pl->yaml ? "yaml" : "json");
}

/* ---- interactive ---- */

/* One line of stdin after the prompt ("prompt [def]: "), trimmed; an empty line is
 * `def` unless keep_empty. NULL at the end of the input. */
static char *ask_line(const char *prompt, const char *def, bool keep_empty)
{
    char *line = NULL, *s, *end;
    size_t cap = 0;

    if (def && *def)
        printf("%s [%s]: ", prompt, def);
    else
        printf("%s: ", prompt);
    fflush(stdout);
    if (getline(&line, &cap, stdin) < 0) {
        free(line);
        printf("\n");
        return NULL;
    }
    for (s = line; isspace((unsigned char)*s); s++)
        ;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    s = *s || keep_empty ? xstrdup(s) : xstrdup(def ? def : "");
    free(line);
    return s;
}

static char *ask(const char *prompt, const char *def)
{
    return ask_line(prompt, def, false);
}

/* Says what was wrong with an answer before it is asked again. */
static void retry_msg(const struct err *err)
{
    printf("  %s; try again\n", err->msg);
}

static int eof(void)
{
    fprintf(stderr, "sweep new: the input ended before every question was answered; "
                    "nothing was written\n");
    return EXIT_USAGE;
}

static char *model_choices(void)
{
    struct strbuf sb = STRBUF_INIT;

    for (size_t i = 0; i < model_count(); i++)
        sb_addf(&sb, "%s%s", i ? ", " : "", model_at(i)->name);
    for (size_t i = 0; i < model_alias_count(); i++)
        sb_addf(&sb, ", %s", model_alias_at(i)->name);
    return sb_take(&sb);
}

/* "n_particles: int, >= 1, default 1000 - Number of particles". */
static void describe_param(const struct new_plan *pl, const struct model_param *p)
{
    json_t *def = json_object_get(pl->preset, p->name), *own = NULL;
    char range[160], *d;

    if (!def)
        def = own = model_param_default(p);
    d = def ? jsonx_canon_str(def) : NULL;
    if (p->type == MODEL_ENUM) {
        struct strbuf sb = STRBUF_INIT;
        for (const char *const *c = p->choices; *c; c++)
            sb_addf(&sb, "%s%s", c == p->choices ? "one of " : "|", *c);
        snprintf(range, sizeof(range), "%s", sb_str(&sb));
        sb_fini(&sb);
    } else {
        model_param_range(p, range, sizeof(range));
    }
    printf("%s: %s%s%s, %s%s%s%s\n", p->name, model_type_name(p->type),
           *range ? ", " : "", range, d ? "default " : "required", d ? d : "",
           p->unit ? " " : "", p->unit ? p->unit : "");
    if (p->desc)
        printf("  %s\n", p->desc);
    free(d);
    json_decref(own);
}

/* Asks every parameter of the model; Enter keeps the default (nothing is written for
 * it). Returns -1 at the end of the input. */
static int ask_params(struct new_plan *pl)
{
    for (size_t i = 0; i < pl->m->nparams; i++) {
        const struct model_param *p = &pl->m->params[i];
        json_t *def = json_object_get(pl->preset, p->name), *own = NULL;
        char *d;

        if (!def)
            def = own = model_param_default(p);
        /* An empty string default shows as "". */
        d = !def                                              ? NULL
            : json_is_string(def) && !*json_string_value(def) ? xstrdup("\"\"")
                                                              : jsonx_arg_str(def);
        json_decref(own);
        describe_param(pl, p);
        for (;;) {
            struct err err = {0};
            char *answer = ask_line("  values, comma-separated", d, true);
            if (!answer) {
                free(d);
                return -1;
            }
            if (!*answer && !d) {
                free(answer);
                printf("  %s is required; try again\n", p->name);
                continue;
            }
            if (!*answer || (d && strcmp(answer, d) == 0)) {
                free(answer);
                break;
            }
            int rc = set_param(pl, p->name, answer, &err);
            free(answer);
            if (rc == SWEEP_OK)
                break;
            retry_msg(&err);
        }
        free(d);
    }
    return 0;
}

static int interactive(struct new_plan *pl)
{
    struct err err = {0};
    char *choices = model_choices(), *a, *prompt, *def;

    printf("A new task file: Enter keeps the value in brackets.\n");
    prompt = xasprintf("Model (%s)", choices);
    free(choices);
    for (;;) {
        int rc;
        if (!(a = ask(prompt, NEW_DEFAULT_MODEL))) {
            free(prompt);
            return eof();
        }
        rc = set_model(pl, a, &err);
        free(a);
        if (rc == SWEEP_OK)
            break;
        retry_msg(&err);
    }
    free(prompt);
    for (;;) {
        if (ask_params(pl))
            return eof();
        for (;;) {
            if (!(a = ask("Repetitions of each combination", "1")))
                return eof();
            int rc = parse_count(a, 1, NEW_MAX_TASKS, &pl->repetitions);
            if (rc)
                printf(
                    "  expected a whole number from 1 to %d, got \"%s\"; try again\n",
                    NEW_MAX_TASKS, a);
            free(a);
            if (!rc)
                break;
        }
        if (plan_count(pl) > 0)
            break;
        printf("  more than %d tasks: give fewer values; the parameters again:\n",
               NEW_MAX_TASKS);
        for (size_t i = 0; i < pl->npv; i++)
            json_decref(pl->pv[i].values);
        pl->npv = 0;
    }
    for (;;) {
        if (!(a = ask("Priority (high, medium, low)", "medium")))
            return eof();
        int rc = parse_band(a, &pl->band);
        if (rc)
            printf("  expected high, medium or low, got \"%s\"; try again\n", a);
        free(a);
        if (!rc)
            break;
    }
    if (!(a = ask("Description", "")))
        return eof();
    pl->description = a;
    def = default_out(pl);
    for (;;) {
        struct stat sbuf;
        if (!(a = ask("Output file (.json: task-queue JSON, .yaml: tasks.yaml)",
                      def))) {
            free(def);
            return eof();
        }
        if (stat(a, &sbuf) == 0 && S_ISDIR(sbuf.st_mode)) {
            printf("  %s is a directory; give a file name; try again\n", a);
            free(a);
            continue;
        }
        if (stat(a, &sbuf) == 0) {
            char *yes = ask("  it exists; overwrite it? (y/n)", "n");
            bool ok = yes && (strcmp(yes, "y") == 0 || strcmp(yes, "yes") == 0);
            if (!yes) {
                free(a);
                free(def);
                return eof();
            }
            free(yes);
            if (!ok) {
                free(a);
                continue;
            }
        }
        break;
    }
    free(def);
    pl->out = a;
    pl->yaml = has_suffix(a, ".yaml") || has_suffix(a, ".yml");
    return EXIT_OK;
}

/* ---- the command ---- */

static int new_main(int argc, char **argv)
{
    enum { OPT_REPS = 256, OPT_PRIO, OPT_NAME, OPT_DESC, OPT_FORMAT, OPT_FORCE };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"param", required_argument, NULL, 'p'},
        {"repetitions", required_argument, NULL, OPT_REPS},
        {"priority", required_argument, NULL, OPT_PRIO},
        {"name", required_argument, NULL, OPT_NAME},
        {"description", required_argument, NULL, OPT_DESC},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, OPT_FORCE},
        {NULL, 0, NULL, 0},
    };
    struct new_plan pl = {.repetitions = 1, .band = PRIORITY_MEDIUM};
    const char *model = NULL, *format = NULL, **params = NULL;
    struct err err = {0};
    size_t nparams = 0, ntasks = 0;
    int c, rc = EXIT_OK;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:p:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'p':
            params = xrealloc(params, (nparams + 1) * sizeof(*params));
            params[nparams++] = optarg;
            break;
        case OPT_REPS:
            if (parse_count(optarg, 1, NEW_MAX_TASKS, &pl.repetitions)) {
                rc = cli_usage_error(&cmd_new,
                                     "--repetitions: expected a whole number from 1 to "
                                     "%d, got \"%s\"",
                                     NEW_MAX_TASKS, optarg);
                goto out;
            }
            break;
        case OPT_PRIO:
            if (parse_band(optarg, &pl.band)) {
                rc = cli_usage_error(
                    &cmd_new, "--priority: expected high, medium or low, got \"%s\"",
                    optarg);
                goto out;
            }
            break;
        case OPT_NAME:
            free(pl.name);
            pl.name = xstrdup(optarg);
            break;
        case OPT_DESC:
            free(pl.description);
            pl.description = xstrdup(optarg);
            break;
        case OPT_FORMAT:
            format = optarg;
            break;
        case 'o':
            free(pl.out);
            pl.out = xstrdup(optarg);
            break;
        case OPT_FORCE:
            pl.force = true;
            break;
        default:
            rc = cli_option_error(&cmd_new, opts, c, argv);
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error(&cmd_new, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (format && strcmp(format, "json") != 0 && strcmp(format, "yaml") != 0) {
        rc = cli_usage_error(&cmd_new, "--format: expected json or yaml, got \"%s\"",
                             format);
        goto out;
    }
    if (!model && nparams) {
        rc = cli_usage_error(&cmd_new, "--param needs --model");
        goto out;
    }
    if ((!pl.out || !model) && !(new_inbox = serve_inbox_path(cli_home(NULL), &err))) {
        rc = cli_fail(&err);
        goto out;
    }
    if (model) {
        if (set_model(&pl, model, &err)) {
            rc = cli_usage_error(&cmd_new, "--model: %s", err.msg);
            goto out;
        }
        for (size_t i = 0; i < nparams; i++) {
            char *eq = strchr(params[i], '='), *name;
            if (!eq || eq == params[i]) {
                rc = cli_usage_error(&cmd_new,
                                     "--param: expected NAME=VALUE[,VALUE...], got "
                                     "\"%s\"",
                                     params[i]);
                goto out;
            }
            name = xstrndup(params[i], (size_t)(eq - params[i]));
            rc = set_param(&pl, name, eq + 1, &err);
            free(name);
            if (rc) {
                rc = cli_usage_error(&cmd_new, "--param: %s", err.msg);
                goto out;
            }
        }
        if (plan_count(&pl) == 0) {
            rc = cli_usage_error(&cmd_new,
                                 "more than %d tasks: a task file lists its tasks; "
                                 "for more, write a study spec (sweep run --help)",
                                 NEW_MAX_TASKS);
            goto out;
        }
        pl.yaml = format ? strcmp(format, "yaml") == 0
                         : pl.out && (has_suffix(pl.out, ".yaml") ||
                                      has_suffix(pl.out, ".yml"));
        if (!pl.out)
            pl.out = default_out(&pl);
        if (!pl.force && access(pl.out, F_OK) == 0) {
            fprintf(stderr, "sweep new: %s exists; give --force to replace it\n",
                    pl.out);
            rc = EXIT_USAGE;
            goto out;
        }
    } else if ((rc = interactive(&pl)) != EXIT_OK) {
        goto out;
    }
    if (format)
        pl.yaml = strcmp(format, "yaml") == 0;
    if (!pl.name)
        pl.name = taskfile_study_name(pl.out, true);
    if (plan_write(&pl, &ntasks, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("wrote %zu task%s of %s to %s (%s); run them with: sweep run %s\n", ntasks,
           ntasks == 1 ? "" : "s", pl.model, pl.out,
           pl.yaml ? TASKFILE_TASKS_YAML : TASKFILE_QUEUE_JSON, pl.out);
out:
    free(new_inbox);
    new_inbox = NULL;
    free(params);
    plan_fini(&pl);
    return rc;
}

const struct cli_cmd cmd_new = {
    .name = "new",
    .summary = "write a task file (task-queue JSON or tasks.yaml), asking",
    .usage =
        "Usage: sweep new [--model MODEL [--param NAME=V1,V2...]... [--repetitions N]\n"
        "                 [--priority high|medium|low] [-o FILE] [--format "
        "json|yaml]]\n"
        "                 [--name NAME] [--description TEXT] [--force]\n"
        "\n"
        "Writes a task file that 'sweep run FILE' (and a service's inbox) accepts:\n"
        "one task per combination of the values given, each repeated N times, with\n"
        "ids MODEL_001, MODEL_002, ... A parameter not given keeps the model's\n"
        "default. Every value is checked against the model ('sweep models MODEL')\n"
        "before anything is written; the file appears whole (written beside it,\n"
        "then renamed).\n"
        "\n"
        "Without --model it asks: the model, the values of each parameter (its type,\n"
        "range and default shown; Enter keeps the default), repetitions, priority,\n"
        "a description and the output file; a bad answer is explained and asked\n"
        "again.\n"
        "\n"
        "Options:\n"
        "  -m, --model MODEL         the model (any case, or an alias: 'sweep "
        "models')\n"
        "  -p, --param NAME=VALUES   values of a parameter, separated by commas\n"
        "                            (lists in brackets: grid=[64,64],[128,128])\n"
        "  --repetitions N           tasks per combination (default 1); with an\n"
        "                            integer seed, repetition i gets the seed a\n"
        "                            study's repetition i would\n"
        "  --priority BAND           high, medium (default) or low\n"
        "  -o, --output FILE         where to write (default\n"
        "                            HOME/task_queues/MODEL_YYYYMMDD_HHMMSS.json:\n"
        "                            the inbox sweep serve watches: $SWEEP_INBOX,\n"
        "                            else SWEEP_INBOX in HOME/.env)\n"
        "  --format json|yaml        task-queue JSON (default) or tasks.yaml (the\n"
        "                            default for a FILE ending in .yaml or .yml)\n"
        "  --name NAME               the study's name (default: from FILE's name)\n"
        "  --description TEXT        the study's description\n"
        "  --force                   replace FILE if it exists\n"
        "  -h, --help                show this help\n"
        "\n"
        "Examples:\n"
        "  sweep new\n"
        "  sweep new --model dla --param n_particles=100,200 --repetitions 3 \\\n"
        "      --priority high -o inbox/dla.json\n"
        "  sweep run inbox/dla.json\n",
    .fn = new_main,
};
