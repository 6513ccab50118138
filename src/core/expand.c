/* Expansion of a spec into tasks (see expand.h). An odometer of row indices walks the
 * cartesian product of spec->dims, then a cursor walks the explicit task list; each
 * point and repetition is a chain that yields one task per step, and the reduce comes
 * last. The current point's params object and text buffers are reused from one task to
 * the next, so memory is O(size of the spec) whatever the number of tasks. Keys and
 * seeds hash canonical JSON fed to SHA-256 in pieces from jsonx_canon: the wrapper
 * objects are written out with their members already in sorted order, exactly as
 * jsonx_canon would print them, and the common prefix {"params":...,"rep": is hashed
 * once per point. A running hash over every key emitted gives the reduce its key. */
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
    size_t step;      /* step to emit next; 0 means start a chain */
    bool points_done; /* every chain has been emitted */
    bool reduce_done;
    int priority;   /* of the current point */
    long long seed; /* of the current chain */
    long long chain;
    char prev_key[EXPAND_KEY_LEN + 1]; /* of the step before, in the current chain */
    json_t *params;                    /* the current point (reused) */
    struct strbuf params_json;
    struct sha256 prefix; /* hash of `{"params":<params_json>,"rep":` */
    struct sha256 keys;   /* of every key emitted so far, for the reduce's */
    char **run_canon;     /* per step: canonical JSON of the model name or argv */
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

static char *expand_run_canon(const struct spec_step *st)
{
    json_t *argv;
    char *out;

    if (st->kind == SPEC_MODEL)
        return expand_canon_string(st->model);
    argv = json_array();
    for (size_t i = 0; i < st->argc; i++)
        json_array_append_new(argv, json_string_nocheck(st->argv[i]));
    out = jsonx_canon_str(argv);
    json_decref(argv);
    return out;
}

static bool expand_shell(const struct spec_step *st)
{
    return st->kind == SPEC_COMMAND && st->shell;
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
    ex->run_canon = xcalloc(spec->nsteps + 1, sizeof(*ex->run_canon));
    for (size_t i = 0; i < spec->nsteps; i++)
        ex->run_canon[i] = expand_run_canon(&spec->steps[i]);
    if (spec->reduce)
        ex->run_canon[spec->nsteps] = expand_run_canon(spec->reduce);
    ex->study_canon = expand_canon_string(spec->name);
    sha256_init(&ex->keys);
    return ex;
}

void expand_destroy(struct expand *ex)
{
    if (!ex)
        return;
    free(ex->idx);
    json_decref(ex->params);
    sb_fini(&ex->params_json);
    for (size_t i = 0; i <= ex->spec->nsteps; i++)
        free(ex->run_canon[i]);
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

/* Starts the hashes of the current point: `{"params":<params_json>,"rep":`. */
static void expand_begin_point(struct expand *ex)
{
    sb_reset(&ex->params_json);
    jsonx_canon(ex->params, &ex->params_json);
    sha256_init(&ex->prefix);
    expand_hash_str(&ex->prefix, "{\"params\":");
    sha256_update(&ex->prefix, ex->params_json.buf, ex->params_json.len);
    expand_hash_str(&ex->prefix, ",\"rep\":");
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
    char num[16], *p = num + sizeof(num);
    unsigned u = rep < 0 ? 0u - (unsigned)rep : (unsigned)rep;

    /* "%d" without printf (once per task: printf was 5% of a preparation). */
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    if (rep < 0)
        *--p = '-';
    sha256_update(&c, p, (size_t)(num + sizeof(num) - p));
    expand_hash_str(&c, member);
    expand_hash_str(&c, value);
    expand_hash_str(&c, extra);
    sha256_final(&c, digest);
}

/* A 31-bit seed from the first 4 bytes (big-endian) of a SHA-256 digest. */
static long long expand_seed_of(const uint8_t d[32])
{
    return (long long)((((uint32_t)d[0] << 24) | ((uint32_t)d[1] << 16) |
                        ((uint32_t)d[2] << 8) | (uint32_t)d[3]) &
                       0x7fffffffu);
}

/* The integer seed parameter the point sets ("seed" first, then the front end's other
 * names in order), or NULL. */
static const json_t *expand_given_seed(const struct spec *spec, const json_t *params)
{
    const json_t *v = json_object_get(params, "seed");

    for (size_t i = 0; !json_is_integer(v) && i < spec->nseed_names; i++)
        v = json_object_get(params, spec->seed_names[i]);
    return json_is_integer(v) ? v : NULL;
}

long long expand_rep_seed(long long given, int rep)
{
    struct sha256 c;
    char text[96];
    uint8_t d[32];

    if (rep == 0)
        return given;
    /* Canonical JSON of {"rep": rep, "seed": given}, members in sorted order. */
    snprintf(text, sizeof(text), "{\"rep\":%d,\"seed\":%lld}", rep, given);
    sha256_init(&c);
    expand_hash_str(&c, text);
    sha256_final(&c, d);
    return expand_seed_of(d);
}

static long long expand_seed(const struct expand *ex, int rep)
{
    const json_t *s = expand_given_seed(ex->spec, ex->params);
    uint8_t d[32];

    if (s)
        return expand_rep_seed((long long)json_integer_value(s), rep);
    expand_hash_rep(ex, rep, ",\"study\":", ex->study_canon, "}", d);
    return expand_seed_of(d);
}

bool expand_is_seed_name(const struct spec *spec, const char *name)
{
    if (strcmp(name, "seed") == 0)
        return true;
    for (size_t i = 0; i < spec->nseed_names; i++)
        if (strcmp(spec->seed_names[i], name) == 0)
            return true;
    return false;
}

bool expand_apply_seed(const struct spec *spec, json_t *params, long long seed)
{
    const char *name;
    json_t *v;
    bool changed = false;

    json_object_foreach(params, name, v)
    {
        if (!json_is_integer(v) || !expand_is_seed_name(spec, name) ||
            json_integer_value(v) == seed)
            continue;
        json_integer_set(v, seed);
        changed = true;
    }
    return changed;
}

static void expand_hex_key(const uint8_t d[32], char key[EXPAND_KEY_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < EXPAND_KEY_LEN / 2; i++) {
        key[2 * i] = hex[d[i] >> 4];
        key[2 * i + 1] = hex[d[i] & 15];
    }
    key[EXPAND_KEY_LEN] = '\0';
}

/* The key of step `step` of the current chain: its "run", the key of the step before
 * (ex->prev_key) from step 1 on, and "shell" (members in canonical order). */
static void
expand_key(const struct expand *ex, int rep, size_t step, char key[EXPAND_KEY_LEN + 1])
{
    char extra[64] = "";
    uint8_t d[32];

    if (step) {
        strcat(extra, ",\"run_after\":\"");
        strcat(extra, ex->prev_key);
        strcat(extra, "\"");
    }
    if (expand_shell(&ex->spec->steps[step]))
        strcat(extra, ",\"shell\":true");
    strcat(extra, "}");
    expand_hash_rep(ex, rep, ",\"run\":", ex->run_canon[step], extra, d);
    expand_hex_key(d, key);
}

/* The reduce: {"reduce": <run>[, "shell": true], "tasks": <hex of every key>}. */
static int expand_reduce(struct expand *ex, struct expand_task *t)
{
    const struct spec_step *st = ex->spec->reduce;
    struct sha256 c;
    uint8_t d[32];
    char hex[65];

    json_object_clear(ex->params);
    expand_begin_point(ex);
    sha256_final(&ex->keys, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    sha256_init(&c);
    expand_hash_str(&c, "{\"reduce\":");
    expand_hash_str(&c, ex->run_canon[ex->spec->nsteps]);
    if (expand_shell(st))
        expand_hash_str(&c, ",\"shell\":true");
    expand_hash_str(&c, ",\"tasks\":\"");
    expand_hash_str(&c, hex);
    expand_hash_str(&c, "\"}");
    sha256_final(&c, d);

    t->params = ex->params;
    t->params_json = ex->params_json.buf;
    expand_hex_key(d, t->key);
    t->seq = ex->seq++;
    t->repetition = 0;
    t->seed = expand_seed(ex, 0);
    t->priority = st->priority;
    t->step = (int)ex->spec->nsteps;
    t->chain = -1;
    t->cpus = st->cpus;
    ex->reduce_done = true;
    return 1;
}

int expand_next(struct expand *ex, struct expand_task *t)
{
    const struct spec *spec = ex->spec;
    const struct spec_step *st;

    if (ex->step == 0 && ex->rep == 0 && !ex->points_done) {
        if (expand_load_point(ex))
            expand_begin_point(ex); /* every repetition and step starts alike */
        else
            ex->points_done = true;
    }
    if (ex->points_done)
        return spec->reduce && !ex->reduce_done ? expand_reduce(ex, t) : 0;
    if (ex->step == 0)
        ex->seed = expand_seed(ex, ex->rep);
    st = &spec->steps[ex->step];
    t->params = ex->params;
    t->params_json = ex->params_json.buf;
    expand_key(ex, ex->rep, ex->step, t->key);
    sha256_update(&ex->keys, t->key, EXPAND_KEY_LEN);
    memcpy(ex->prev_key, t->key, sizeof(ex->prev_key));
    t->seq = ex->seq++;
    t->repetition = ex->rep;
    t->seed = ex->seed;
    t->priority = st->has_priority ? st->priority : ex->priority;
    t->step = (int)ex->step;
    t->chain = ex->chain;
    t->cpus = st->cpus;
    if (++ex->step < spec->nsteps)
        return 1;
    ex->step = 0;
    ex->chain++;
    if (++ex->rep >= expand_reps(spec))
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
    if (__builtin_mul_overflow(points, (uint64_t)expand_reps(spec), &total) ||
        __builtin_mul_overflow(total, (uint64_t)spec->nsteps, &total) ||
        __builtin_add_overflow(total, (uint64_t)(spec->reduce != NULL), &total))
        return UINT64_MAX;
    return total;
}

/* The band of a priority as the runner's --priority filter sees it: 2 HIGH, 1 MEDIUM,
 * 0 LOW. */
static int expand_band(int priority)
{
    return priority >= PRIORITY_HIGH ? 2 : priority == PRIORITY_MEDIUM ? 1 : 0;
}

uint64_t expand_count_band(const struct spec *spec, int band)
{
    uint64_t grid = 0, total = 0, reps = (uint64_t)expand_reps(spec);
    size_t ntasks = spec->tasks ? json_array_size(spec->tasks) : 0;

    if (band == 0)
        return expand_count(spec);
    band = expand_band(band);
    if (expand_grid_nonempty(spec)) {
        grid = 1;
        for (size_t d = 0; d < spec->ndims; d++)
            if (__builtin_mul_overflow(grid, (uint64_t)spec->dims[d].nrows, &grid))
                return UINT64_MAX;
    }
    for (size_t s = 0; s < spec->nsteps; s++) {
        const struct spec_step *st = &spec->steps[s];
        uint64_t points = 0;

        if (expand_band(st->has_priority ? st->priority : spec->priority) == band)
            points = grid;
        for (size_t i = 0; i < ntasks; i++) {
            const json_t *v =
                json_object_get(json_array_get(spec->tasks, i), "priority");
            int p = st->has_priority ? st->priority
                                     : expand_task_priority(v, spec->priority);
            points += expand_band(p) == band;
        }
        if (__builtin_mul_overflow(points, reps, &points) ||
            __builtin_add_overflow(total, points, &total))
            return UINT64_MAX;
    }
    if (spec->reduce && expand_band(spec->reduce->priority) == band &&
        __builtin_add_overflow(total, 1, &total))
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
