/* Task files (see taskfile.h): a task-queue JSON or tasks.yaml document checked field
 * by field, with the file, line, column and field of the first problem, then turned
 * into the equivalent study spec (one explicit task per task, its id as the parameter
 * task_id), which spec_parse checks and builds as any spec. The spec's `where` is then
 * replaced by the positions in the task file, so that the checks made after parsing
 * (a model's name and parameters, in the front end) point into the file the user
 * wrote, not into the generated spec. */
#include "core/taskfile.h"

#include "common/xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define TASKFILE_MAX_ID 100
#define TASKFILE_MAX_NAME 100
#define TASKFILE_MAX_PRIORITY 1000000

struct tctx {
    const char *file; /* for messages */
    struct err *err;
    json_t *where; /* field -> [line, col(, label)], see spec_where */
};

static int failf(struct tctx *c, const struct doc_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The messages of this checker (doc.h): "file:line:col: " + the message. */
static int failf(struct tctx *c, const struct doc_node *at, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = doc_vfailf(c->file, c->err, at, fmt, ap);
    va_end(ap);
    return rc;
}

/* "file:line:col: field: expected what, got <the node>". */
static int
bad(struct tctx *c, const struct doc_node *n, const char *field, const char *what)
{
    return doc_bad(c->file, c->err, n, field, what);
}

/* Every key of `map` is one of `allowed` (doc_check_fields(): "unknown field
 * "prefix.key" ..."). */
static int check_fields(struct tctx *c,
                        const struct doc_node *map,
                        const char *prefix,
                        const char *const *allowed,
                        size_t nallowed)
{
    return doc_check_fields(c->file, c->err, map, prefix, allowed, nallowed);
}

/* The value of whichever of two spellings of a field the map has (into *which), or
 * NULL; both is an error (-1 in *which). */
static const struct doc_node *either(struct tctx *c,
                                     const struct doc_node *map,
                                     const char *field,
                                     const char *a,
                                     const char *b,
                                     const char **which)
{
    const struct doc_node *va = doc_map_get(map, a), *vb = doc_map_get(map, b);

    *which = va ? a : b;
    if (va && vb) {
        failf(c, vb, "%s.%s: expected either %s or %s, got both", field, b, a, b);
        *which = NULL;
        return NULL;
    }
    return va ? va : vb;
}

static void where_put(json_t *where, const char *field, const struct doc_node *at)
{
    json_object_set_new(where, field, json_pack("[ii]", at->line, at->col));
}

/* ---- names and priorities ---- */

char *taskfile_study_name(const char *s, bool is_path)
{
    const char *start = s, *end = s + strlen(s), *slash = strrchr(s, '/'), *dot;
    char *name = xmalloc(TASKFILE_MAX_NAME + 1);
    size_t n = 0;

    if (is_path) {
        if (slash)
            start = slash + 1;
        dot = strrchr(start, '.');
        if (dot && dot > start)
            end = dot;
    }
    for (const char *p = start; p < end && n < TASKFILE_MAX_NAME; p++) {
        unsigned char ch = (unsigned char)*p;
        if (n == 0 && !isalnum(ch))
            continue;
        name[n++] = isalnum(ch) || ch == '.' || ch == '_' || ch == '-' ? (char)ch : '_';
    }
    name[n] = '\0';
    if (n == 0)
        strcpy(name, "tasks");
    return name;
}

int taskfile_priority(int n)
{
    return 4 - n;
}

static int
parse_priority(struct tctx *c, const struct doc_node *v, const char *field, int *out)
{
    static const char what[] =
        "high, medium, low or an integer from -1000000 to 1000000 (1 is the most "
        "urgent)";
    static const struct {
        const char *name;
        int value;
    } names[] = {
        {"high", PRIORITY_HIGH}, {"medium", PRIORITY_MEDIUM}, {"low", PRIORITY_LOW}};

    if (v->type == DOC_INT) {
        if (v->i < -TASKFILE_MAX_PRIORITY || v->i > TASKFILE_MAX_PRIORITY)
            return bad(c, v, field, what);
        *out = taskfile_priority((int)v->i);
        return SWEEP_OK;
    }
    for (size_t i = 0; v->type == DOC_STRING && i < NELEMS(names); i++) {
        if (strcasecmp(v->text, names[i].name) == 0) {
            *out = names[i].value;
            return SWEEP_OK;
        }
    }
    return bad(c, v, field, what);
}

/* ---- one task ---- */

static int parse_id(struct tctx *c, const struct doc_node *v, const char *field)
{
    static const char what[] = "a string or integer of 1 to 100 printable characters";
    size_t n;

    if (v->type != DOC_STRING && v->type != DOC_INT)
        return bad(c, v, field, what);
    n = strlen(v->text);
    if (n == 0 || n > TASKFILE_MAX_ID)
        return bad(c, v, field, what);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v->text[i] < 0x20 || v->text[i] == 0x7f)
            return bad(c, v, field, what);
    return SWEEP_OK;
}

/* A model name as tasks write it: letters, digits, '_' and '-'; kept in lower case. */
static int
parse_model(struct tctx *c, const struct doc_node *v, const char *field, char **out)
{
    static const char what[] =
        "a model name (see 'sweep models'): letters, digits, '_' and '-'";
    size_t n;

    if (v->type != DOC_STRING || (n = strlen(v->text)) == 0 || n > 63)
        return bad(c, v, field, what);
    *out = xstrdup(v->text);
    for (char *p = *out; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!isalnum(ch) && ch != '_' && ch != '-') {
            free(*out);
            *out = NULL;
            return bad(c, v, field, what);
        }
        *p = (char)tolower(ch);
    }
    return SWEEP_OK;
}

static bool ident_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 100 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

static int parse_params(struct tctx *c,
                        const struct doc_node *p,
                        size_t index,
                        const char *field,
                        json_t *task)
{
    char f[400], w[300];

    if (p->type == DOC_NULL && !p->quoted)
        return SWEEP_OK;
    if (p->type != DOC_MAP)
        return bad(c, p, field, "a mapping of parameter names to values");
    for (size_t k = 0; k < p->n; k++) {
        const struct doc_node *key = p->keys[k], *val = p->items[k];

        snprintf(f, sizeof(f), "%s.%s", field, key->text);
        if (!ident_ok(key->text))
            return bad(c, key, f,
                       "a parameter name of letters, digits and '_' (not starting "
                       "with a digit, at most 100 characters)");
        if (strcmp(key->text, "priority") == 0 || strcmp(key->text, "task_id") == 0)
            return bad(c, key, f,
                       "a parameter name other than priority and task_id (they are "
                       "fields of the task, beside parameters)");
        if (doc_is_empty(val))
            return bad(c, val, f, "a value");
        json_object_set_new(task, key->text, doc_to_json(val));
        snprintf(w, sizeof(w), "tasks[%zu].%s", index, key->text);
        where_put(c->where, w, key);
        snprintf(w, sizeof(w), "tasks.%s", key->text);
        if (!json_object_get(c->where, w))
            json_object_set_new(
                c->where, w,
                json_pack("[iiI]", key->line, key->col, (json_int_t)index));
    }
    return SWEEP_OK;
}

static const char *const task_fields[] = {
    "task_id", "id", "algorithm", "type", "parameters", "priority", "description",
};

/* Task `index` into a task of the spec, appended to `tasks`; its model (lower case)
 * must be *model when that is set, else sets it. ids: id -> index so far. */
static int parse_task(struct tctx *c,
                      const struct doc_node *t,
                      size_t index,
                      json_t *ids,
                      char **model,
                      const char **format,
                      json_t *tasks)
{
    const struct doc_node *id, *algo, *v;
    const char *id_name, *algo_name;
    char field[64], f[128], *name = NULL;
    json_t *task, *seen;
    int rc = SWEEP_EINVAL;

    snprintf(field, sizeof(field), "tasks[%zu]", index);
    if (t->type != DOC_MAP)
        return bad(c, t, field,
                   "a task: a mapping of task_id, algorithm, parameters, priority and "
                   "description");
    if (check_fields(c, t, field, task_fields, NELEMS(task_fields)))
        return SWEEP_EINVAL;
    id = either(c, t, field, "task_id", "id", &id_name);
    if (!id_name)
        return SWEEP_EINVAL;
    algo = either(c, t, field, "algorithm", "type", &algo_name);
    if (!algo_name)
        return SWEEP_EINVAL;
    if (!id)
        return failf(c, t, "%s: missing required field \"task_id\" (or \"id\")", field);
    if (!algo)
        return failf(c, t, "%s: missing required field \"algorithm\" (or \"type\")",
                     field);
    snprintf(f, sizeof(f), "%s.%s", field, id_name);
    if (parse_id(c, id, f))
        return SWEEP_EINVAL;
    if ((seen = json_object_get(ids, id->text)))
        return failf(c, id,
                     "%s: expected an id of its own, got \"%s\", the id of "
                     "tasks[%lld]",
                     f, id->text, (long long)json_integer_value(seen));
    json_object_set_new(ids, id->text, json_integer((json_int_t)index));
    snprintf(f, sizeof(f), "%s.%s", field, algo_name);
    if (parse_model(c, algo, f, &name))
        return SWEEP_EINVAL;
    if (!*model) {
        *model = name;
        *format =
            strcmp(id_name, "task_id") == 0 ? TASKFILE_QUEUE_JSON : TASKFILE_TASKS_YAML;
        json_object_set_new(c->where, "model",
                            json_pack("[iis]", algo->line, algo->col, f));
        name = NULL;
    } else if (strcmp(name, *model) != 0) {
        failf(c, algo,
              "%s: expected \"%s\", the model of tasks[0] (a file is one study, and a "
              "study runs one model: put the tasks of \"%s\" in a file of their own), "
              "got \"%s\"",
              f, *model, algo->text, algo->text);
        free(name);
        return SWEEP_EINVAL;
    }
    free(name);
    task = json_object();
    snprintf(f, sizeof(f), "%s.parameters", field);
    if ((v = doc_map_get(t, "parameters")) && parse_params(c, v, index, f, task))
        goto out;
    json_object_set_new(task, "task_id", json_string(id->text));
    if ((v = doc_map_get(t, "priority"))) {
        int prio = PRIORITY_MEDIUM;
        snprintf(f, sizeof(f), "%s.priority", field);
        if (parse_priority(c, v, f, &prio))
            goto out;
        json_object_set_new(task, "priority", json_integer(prio));
    }
    if ((v = doc_map_get(t, "description")) && v->type != DOC_NULL &&
        v->type != DOC_STRING) {
        snprintf(f, sizeof(f), "%s.description", field);
        bad(c, v, f, "a string");
        goto out;
    }
    json_array_append(tasks, task);
    rc = SWEEP_OK;
out:
    json_decref(task);
    return rc;
}

/* ---- the file ---- */

bool taskfile_detect(const struct doc_node *root)
{
    if (root->type != DOC_MAP ||
        !(doc_map_get(root, "tasks") || doc_map_get(root, "metadata")))
        return false;
    /* A spec that forgot its `study` is still told so, as a spec. */
    for (size_t i = 0; i < root->n; i++)
        if (strcmp(root->keys[i]->text, "tasks") != 0 &&
            spec_is_field(root->keys[i]->text))
            return false;
    return true;
}

static const char *const top_fields[] = {"metadata", "tasks"};

/* The study spec of the file, as JSON, into *out. */
static int to_spec_json(struct tctx *c,
                        const char *path,
                        const struct doc_node *root,
                        json_t **out,
                        const char **format)
{
    const struct doc_node *meta, *tasks, *v;
    json_t *spec = NULL, *list = NULL, *ids = NULL;
    char *model = NULL, *name;
    int rc = SWEEP_EINVAL;

    *out = NULL;
    if (check_fields(c, root, "", top_fields, NELEMS(top_fields)))
        return SWEEP_EINVAL;
    meta = doc_map_get(root, "metadata");
    if (meta && meta->type != DOC_MAP && meta->type != DOC_NULL)
        return bad(c, meta, "metadata", "a mapping (name, description, ...)");
    if (!(tasks = doc_map_get(root, "tasks")))
        return err_set(c->err, SWEEP_EINVAL,
                       "%s: missing required field \"tasks\" (a task file: "
                       "{\"metadata\": {...}, \"tasks\": [...]})",
                       c->file);
    if (tasks->type == DOC_SEQ && tasks->n == 0)
        return failf(c, tasks, "tasks: expected a list of at least one task, got []");
    if (tasks->type != DOC_SEQ)
        return bad(c, tasks, "tasks", "a list of at least one task");
    spec = json_object();
    if (meta && meta->type == DOC_MAP && (v = doc_map_get(meta, "name")) &&
        v->type != DOC_NULL) {
        if (v->type != DOC_STRING && v->type != DOC_INT)
            goto bad_name;
        name = taskfile_study_name(v->text, false);
    } else {
        name = taskfile_study_name(path, true);
    }
    json_object_set_new(spec, "study", json_string(name));
    free(name);
    if (meta && meta->type == DOC_MAP && (v = doc_map_get(meta, "description")) &&
        v->type != DOC_NULL) {
        if (v->type != DOC_STRING) {
            bad(c, v, "metadata.description", "a string");
            goto out;
        }
        json_object_set_new(spec, "description", json_string(v->text));
    }
    list = json_array();
    ids = json_object();
    for (size_t i = 0; i < tasks->n; i++)
        if (parse_task(c, tasks->items[i], i, ids, &model, format, list))
            goto out;
    json_object_set_new(spec, "model", json_string(model));
    json_object_set_new(spec, "tasks", list);
    list = NULL;
    *out = spec;
    spec = NULL;
    rc = SWEEP_OK;
    goto out;
bad_name:
    bad(c, v, "metadata.name", "a study name");
out:
    free(model);
    json_decref(ids);
    json_decref(list);
    json_decref(spec);
    return rc;
}

int taskfile_to_spec(const char *path,
                     struct doc_node *root,
                     struct spec **out,
                     struct err *err)
{
    struct tctx c = {path && *path ? path : "<spec>", err, json_object()};
    const char *format = NULL;
    json_t *json = NULL;
    char *text = NULL;
    int rc;

    *out = NULL;
    if (!taskfile_detect(root))
        rc = err_set(err, SWEEP_EINVAL,
                     "%s: not a task file: expected a mapping of \"tasks\" (and "
                     "\"metadata\"), without the fields of a study spec",
                     c.file);
    else
        rc = to_spec_json(&c, c.file, root, &json, &format);
    /* The file's tree goes before the spec's is built: never both at once. */
    doc_destroy(root);
    if (rc == SWEEP_OK) {
        text = json_dumps(json, JSON_COMPACT);
        json_decref(json);
        json = NULL;
        rc = spec_parse(path, text, strlen(text), out, err);
    }
    if (rc == SWEEP_OK) {
        json_decref((*out)->where);
        (*out)->where = c.where;
        c.where = NULL;
        (*out)->format = format;
    }
    free(text);
    json_decref(json);
    json_decref(c.where);
    return rc;
}

int taskfile_parse(
    const char *path, const char *text, size_t len, struct spec **out, struct err *err)
{
    struct doc_node *root = NULL;
    int rc;

    *out = NULL;
    if ((rc = doc_parse(path && *path ? path : "<spec>", text, len, &root, err)))
        return rc;
    return taskfile_to_spec(path, root, out, err);
}
