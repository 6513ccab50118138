/* Expansion of a spec into tasks (see expand.h). An odometer of row indices walks the
 * cartesian product of spec->dims, then a cursor walks the explicit task list; the
 * current point's params object and text buffers are reused from one task to the next,
 * so memory is O(size of the spec) whatever the number of tasks. Keys and seeds hash
 * canonical JSON fed to SHA-256 in pieces from jsonx_canon: the wrapper objects are
 * written out with their members already in sorted order, exactly as jsonx_canon would
 * print them, and the common prefix {"params":...,"rep": is hashed once per point. */
#include "core/expand.h"

#include "common/jsonx.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct expand {
    const struct spec *spec;
    size_t *idx;      /* odometer: current row of each dim */
    bool grid_left;   /* the odometer has a point still to emit */
    size_t next_task; /* index of the next explicit task */
    int rep;          /* repetition to emit next; 0 means load a new point */
    int priority;     /* of the current point */
    json_t *params;   /* the current point (reused) */
    struct strbuf params_json;
    struct sha256 prefix; /* hash of `{"params":<params_json>,"rep":` */
    char *run_canon;      /* canonical JSON of the model name or argv template */
    char *study_canon;    /* canonical JSON of the study name */
    long long seq;
};

/* spec.c guarantees repetitions >= 1; anything less counts as 1 here and in
 * expand_next() alike. */
static int expand_reps(const struct spec *spec)
{
    return spec->repetitions < 1 ? 1 : spec->repetitions;
}

static char *expand_canon_string(const char *s)
{
    json_t *v = json_string_nocheck(s ? s : "");
    char *out = jsonx_canon_str(v);
    json_decref(v);
    return out;
}

static char *expand_run_canon(const struct spec *spec)
{
    json_t *argv;
    char *out;

    if (spec->kind == SPEC_MODEL)
        return expand_canon_string(spec->model);
    argv = json_array();
    for (size_t i = 0; i < spec->argc; i++)
        json_array_append_new(argv, json_string_nocheck(spec->argv[i]));
    out = jsonx_canon_str(argv);
    json_decref(argv);
    return out;
}

/* Whether the grid part yields points at all: a spec with neither `parameters` nor
 * `tasks` is one point of base alone (an odometer over zero dims). */
static bool expand_grid_nonempty(const struct spec *spec)
{
    if (!spec->has_grid && spec->tasks)
        return false;
    for (size_t d = 0; d < spec->ndims; d++)
        if (spec->dims[d].nrows == 0)
            return false;
    return true;
}

struct expand *expand_create(const struct spec *spec)
{
    struct expand *ex = xcalloc(1, sizeof(*ex));

    ex->spec = spec;
    ex->idx = xcalloc(spec->ndims ? spec->ndims : 1, sizeof(*ex->idx));
    ex->grid_left = expand_grid_nonempty(spec);
    ex->params = json_object();
    ex->run_canon = expand_run_canon(spec);
    ex->study_canon = expand_canon_string(spec->name);
    return ex;
}

void expand_destroy(struct expand *ex)
{
    if (!ex)
        return;
    free(ex->idx);
    json_decref(ex->params);
    sb_fini(&ex->params_json);
    free(ex->run_canon);
    free(ex->study_canon);
    free(ex);
}

/* An explicit task's "priority": a name or an integer (spec.c has checked which). */
static int expand_task_priority(const json_t *v, int dflt)
{
    int p;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        return i < INT_MIN ? INT_MIN : i > INT_MAX ? INT_MAX : (int)i;
    }
    if (json_is_string(v) && priority_parse(json_string_value(v), &p) == 0)
        return p;
    return dflt;
}

/* Loads the next point into ex->params; returns false when there is none. */
static bool expand_load_point(struct expand *ex)
{
    const struct spec *spec = ex->spec;

    json_object_clear(ex->params);
    if (spec->base)
        json_object_update(ex->params, spec->base);

    if (ex->grid_left) {
        size_t d;

        for (d = 0; d < spec->ndims; d++) {
            const struct spec_dim *dim = &spec->dims[d];
            for (size_t k = 0; k < dim->nnames; k++)
                json_object_set(ex->params, dim->names[k],
                                dim->values[ex->idx[d] * dim->nnames + k]);
        }
        ex->priority = spec->priority;
        /* Advance the odometer, last axis fastest; wrapping the first ends the grid. */
        for (d = spec->ndims; d > 0; d--) {
            if (++ex->idx[d - 1] < spec->dims[d - 1].nrows)
                break;
            ex->idx[d - 1] = 0;
        }
        if (d == 0)
            ex->grid_left = false;
        return true;
    }

    if (spec->tasks && ex->next_task < json_array_size(spec->tasks)) {
        json_t *task = json_array_get(spec->tasks, ex->next_task++);
        const char *name;
        json_t *v;

        ex->priority = spec->priority;
        json_object_foreach(task, name, v)
        {
            if (strcmp(name, "priority") == 0)
                ex->priority = expand_task_priority(v, spec->priority);
            else
                json_object_set(ex->params, name, v);
        }
        return true;
    }
    return false;
}

static void expand_hash_str(struct sha256 *c, const char *s)
{
    sha256_update(c, s, strlen(s));
}

/* Finishes a hash that ex->prefix began: the repetition, then the one member that
 * follows "rep" (a key and its canonical value), then `extra` (any further members and
 * the closing brace). */
static void expand_hash_rep(const struct expand *ex,
                            int rep,
                            const char *member,
                            const char *value,
                            const char *extra,
                            uint8_t digest[32])
{
    struct sha256 c = ex->prefix;
    char num[16];

    snprintf(num, sizeof(num), "%d", rep);
    expand_hash_str(&c, num);
    expand_hash_str(&c, member);
    expand_hash_str(&c, value);
    expand_hash_str(&c, extra);
    sha256_final(&c, digest);
}

static long long expand_seed(const struct expand *ex, int rep)
{
    json_t *s = json_object_get(ex->params, "seed");
    uint8_t d[32];

    if (json_is_integer(s))
        return (long long)json_integer_value(s);
    expand_hash_rep(ex, rep, ",\"study\":", ex->study_canon, "}", d);
    return (long long)((((uint32_t)d[0] << 24) | ((uint32_t)d[1] << 16) |
                        ((uint32_t)d[2] << 8) | (uint32_t)d[3]) &
                       0x7fffffffu);
}

static void expand_key(const struct expand *ex, int rep, char key[EXPAND_KEY_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    bool shell = ex->spec->kind == SPEC_COMMAND && ex->spec->shell;
    uint8_t d[32];

    expand_hash_rep(ex, rep, ",\"run\":", ex->run_canon,
                    shell ? ",\"shell\":true}" : "}", d);
    for (int i = 0; i < EXPAND_KEY_LEN / 2; i++) {
        key[2 * i] = hex[d[i] >> 4];
        key[2 * i + 1] = hex[d[i] & 15];
    }
    key[EXPAND_KEY_LEN] = '\0';
}

int expand_next(struct expand *ex, struct expand_task *t)
{
    if (ex->rep == 0) {
        if (!expand_load_point(ex))
            return 0;
        sb_reset(&ex->params_json);
        jsonx_canon(ex->params, &ex->params_json);
        /* Key and seed texts of every repetition start alike: hash that once. */
        sha256_init(&ex->prefix);
        expand_hash_str(&ex->prefix, "{\"params\":");
        sha256_update(&ex->prefix, ex->params_json.buf, ex->params_json.len);
        expand_hash_str(&ex->prefix, ",\"rep\":");
    }
    t->params = ex->params;
    t->params_json = ex->params_json.buf;
    expand_key(ex, ex->rep, t->key);
    t->seq = ex->seq++;
    t->repetition = ex->rep;
    t->seed = expand_seed(ex, ex->rep);
    t->priority = ex->priority;
    if (++ex->rep >= expand_reps(ex->spec))
        ex->rep = 0;
    return 1;
}

uint64_t expand_count(const struct spec *spec)
{
    uint64_t points = 0, total;

    if (expand_grid_nonempty(spec)) {
        points = 1;
        for (size_t d = 0; d < spec->ndims; d++)
            if (__builtin_mul_overflow(points, (uint64_t)spec->dims[d].nrows, &points))
                return UINT64_MAX;
    }
    if (spec->tasks &&
        __builtin_add_overflow(points, (uint64_t)json_array_size(spec->tasks), &points))
        return UINT64_MAX;
    if (__builtin_mul_overflow(points, (uint64_t)expand_reps(spec), &total))
        return UINT64_MAX;
    return total;
}

static int expand_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char **expand_param_names(const struct spec *spec, size_t *n)
{
    const char **all = NULL, *name;
    size_t len = 0, cap = 0, out_n = 0;
    json_t *v, *task;
    size_t i;
    char **out;

    if (spec->base)
        json_object_foreach(spec->base, name, v)
        {
            all = xgrow(all, &cap, len + 1, sizeof(*all));
            all[len++] = name;
        }
    for (size_t d = 0; d < spec->ndims; d++)
        for (size_t k = 0; k < spec->dims[d].nnames; k++) {
            all = xgrow(all, &cap, len + 1, sizeof(*all));
            all[len++] = spec->dims[d].names[k];
        }
    if (spec->tasks)
        json_array_foreach(spec->tasks, i, task)
        {
            json_object_foreach(task, name, v)
            {
                if (strcmp(name, "priority") == 0)
                    continue;
                all = xgrow(all, &cap, len + 1, sizeof(*all));
                all[len++] = name;
            }
        }
    if (len)
        qsort(all, len, sizeof(*all), expand_cmp_str);
    out = xmalloc((len + 1) * sizeof(*out));
    for (i = 0; i < len; i++)
        if (out_n == 0 || strcmp(out[out_n - 1], all[i]) != 0)
            out[out_n++] = xstrdup(all[i]);
    out[out_n] = NULL;
    free(all);
    *n = out_n;
    return out;
}
