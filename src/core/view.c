/* The shapes every front end shows (see view.h): a study's status and summary, the
 * list of studies, result rows with their columns, the aggregate's JSON text. */
#include "core/view.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/aggregate.h"
#include "core/eta.h"
#include "core/packages.h"
#include "core/runner.h"
#include "core/spec.h"

#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

/* ---- counts ---- */

json_t *view_counts_json(const long long c[TASK_NSTATES])
{
    json_t *o = json_object();
    long long total = 0;

    for (int i = 0; i < TASK_NSTATES; i++) {
        json_object_set_new(o, task_state_name((enum task_state)i), json_integer(c[i]));
        total += c[i];
    }
    json_object_set_new(o, "total", json_integer(total));
    return o;
}

int view_steps_counts(struct store *st,
                      const struct store_study *s,
                      json_t **out,
                      struct err *err)
{
    json_t *info = s->steps_json ? json_loads(s->steps_json, 0, NULL) : NULL;
    json_t *names = json_object_get(info, "steps");
    int n = (int)json_array_size(names), rc;
    bool reduce = json_is_true(json_object_get(info, "reduce"));
    long long(*c)[TASK_NSTATES];

    *out = NULL;
    if (n == 0) {
        json_decref(info);
        return SWEEP_OK;
    }
    c = xcalloc((size_t)n + 1, sizeof(*c));
    rc = store_study_step_counts(st, s->id, n, c, err);
    if (rc == SWEEP_OK) {
        *out = json_array();
        for (int i = 0; i < n + reduce; i++) {
            json_t *row = view_counts_json(c[i]);
            json_object_set_new(row, "name",
                                i < n ? json_incref(json_array_get(names, (size_t)i))
                                      : json_string("reduce"));
            json_array_append_new(*out, row);
        }
    }
    free(c);
    json_decref(info);
    return rc;
}

long long view_count_of(const json_t *counts, const char *state)
{
    return (long long)json_integer_value(json_object_get(counts, state));
}

json_t *view_progress_json(long long counts[3][TASK_NSTATES])
{
    long long all[TASK_NSTATES] = {0}, total = 0, ended;
    json_t *o = json_object();

    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TASK_NSTATES; i++)
            all[i] += counts[b][i];
    for (int i = 0; i < TASK_NSTATES; i++)
        total += all[i];
    ended = all[TASK_SUCCEEDED] + all[TASK_FAILED] + all[TASK_TIMED_OUT] +
            all[TASK_CANCELLED] + all[TASK_SKIPPED];
    json_object_set_new(o, "total", json_integer(total));
    json_object_set_new(o, "completed", json_integer(all[TASK_SUCCEEDED]));
    json_object_set_new(o, "failed",
                        json_integer(all[TASK_FAILED] + all[TASK_TIMED_OUT]));
    json_object_set_new(
        o, "percentage",
        json_real(total ? round(1000.0 * (double)ended / (double)total) / 10.0 : 0.0));
    return o;
}

/* ---- a study's status ---- */

const char *view_band_name(int band)
{
    static const char *const names[3] = {"LOW", "MEDIUM", "HIGH"};

    return band >= 0 && band < 3 ? names[band] : "?";
}

const char *view_study_status_name(struct store *st, const struct store_study *s)
{
    if ((s->status == STUDY_RUNNING || s->status == STUDY_WAITING) &&
        !runner_is_active(store_home(st), s->name))
        return study_status_name(STUDY_INTERRUPTED);
    return study_status_name(s->status);
}

json_t *view_by_priority_json(long long counts[3][TASK_NSTATES])
{
    json_t *by = json_object();

    for (int b = 2; b >= 0; b--)
        json_object_set_new(by, view_band_name(b), view_counts_json(counts[b]));
    return by;
}

/* The summary's members from its parts: status is the name as shown. */
static json_t *summary_json(const struct store_study *s,
                            const char *status,
                            long long counts[3][TASK_NSTATES])
{
    json_t *o = json_object();
    long long all[TASK_NSTATES] = {0};
    char ts[40];

    json_object_set_new(o, "study", json_string(s->name));
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "description",
                        s->description ? json_string(s->description) : json_null());
    time_iso8601(s->created_at, ts, sizeof(ts));
    json_object_set_new(o, "created_at", json_string(ts));
    time_iso8601(s->updated_at, ts, sizeof(ts));
    json_object_set_new(o, "updated_at", json_string(ts));
    for (int b = 2; b >= 0; b--)
        for (int i = 0; i < TASK_NSTATES; i++)
            all[i] += counts[b][i];
    json_object_set_new(o, "counts", view_counts_json(all));
    json_object_set_new(o, "by_priority", view_by_priority_json(counts));
    json_object_set_new(o, "reason", s->reason ? json_string(s->reason) : json_null());
    return o;
}

json_t *view_study_summary(struct store *st,
                           const struct store_study *s,
                           long long counts[3][TASK_NSTATES])
{
    return summary_json(s, view_study_status_name(st, s), counts);
}

int view_stored_aggregate(struct store *st,
                          long long study_id,
                          json_t **out,
                          double *computed_at,
                          struct err *err)
{
    char *text = NULL;
    int rc = store_aggregate_get(st, study_id, &text, computed_at, err);

    *out = NULL;
    if (rc == SWEEP_ENOTFOUND) {
        err_clear(err);
        return SWEEP_OK;
    }
    if (rc != SWEEP_OK)
        return rc;
    /* Stored by aggregate_save(); should it not parse, it is left out rather than
     * making the whole status fail. */
    *out = json_loads(text, 0, NULL);
    free(text);
    return SWEEP_OK;
}

int view_status_load(struct store *st,
                     const char *name,
                     struct view_status *out,
                     struct err *err)
{
    int rc;

    /* A run that ends between the reads and the look at its lock would show as
     * INTERRUPTED with the counts of its last moments: then everything is read once
     * more, and the status its end stored shows (a run that died stays INTERRUPTED). */
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            view_status_fini(out);
        memset(out, 0, sizeof(*out));
        if ((rc = store_study_get(st, name, &out->study, err)) != SWEEP_OK ||
            (rc = store_study_counts(st, out->study.id, out->counts, err)) !=
                SWEEP_OK ||
            (rc = eta_study_counted(st, &out->study, out->counts, time_now(), &out->eta,
                                    err)) != SWEEP_OK ||
            (rc = view_steps_counts(st, &out->study, &out->steps, err)) != SWEEP_OK ||
            (rc = view_stored_aggregate(st, out->study.id, &out->aggregate,
                                        &out->aggregate_at, err)) != SWEEP_OK ||
            (rc = view_failures_json(st, &out->study, out->counts, &out->failures,
                                     err)) != SWEEP_OK)
            return rc;
        out->status = view_study_status_name(st, &out->study);
        if (out->study.status == STUDY_INTERRUPTED ||
            strcmp(out->status, study_status_name(STUDY_INTERRUPTED)) != 0)
            break;
    }
    return SWEEP_OK;
}

void view_status_fini(struct view_status *v)
{
    store_study_fini(&v->study);
    json_decref(v->steps);
    json_decref(v->failures);
    json_decref(v->aggregate);
    memset(v, 0, sizeof(*v));
}

json_t *view_status_json(const struct view_status *v)
{
    long long counts[3][TASK_NSTATES];
    json_t *o;
    char ts[40];

    memcpy(counts, v->counts, sizeof(counts));
    o = summary_json(&v->study, v->status, counts);
    if (v->steps)
        json_object_set(o, "steps", v->steps);
    json_object_set_new(o, "estimated_remaining",
                        v->eta >= 0 ? json_real(v->eta) : json_null());
    json_object_set(o, "failures", v->failures);
    if (v->aggregate) {
        json_object_set(o, "aggregate", v->aggregate);
        time_iso8601(v->aggregate_at, ts, sizeof(ts));
        json_object_set_new(o, "aggregate_computed_at", json_string(ts));
    }
    return o;
}

json_t *view_study_check_json(const struct view_status *v)
{
    long long counts[3][TASK_NSTATES];

    memcpy(counts, v->counts, sizeof(counts));
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:O}", "study_id", v->study.name, "status", v->status,
        "progress", view_progress_json(counts), "estimated_remaining",
        v->eta >= 0 ? json_real(v->eta) : json_null(), "failures", v->failures);
}

json_t *view_study_get_json(const struct view_status *v)
{
    long long counts[3][TASK_NSTATES];
    json_t *o = view_study_check_json(v);
    const struct store_study *s = &v->study;

    memcpy(counts, v->counts, sizeof(counts));
    json_object_set_new(o, "by_priority", view_by_priority_json(counts));
    json_object_set_new(o, "description",
                        s->description ? json_string(s->description) : json_null());
    json_object_set_new(o, "reason", s->reason ? json_string(s->reason) : json_null());
    if (v->steps)
        json_object_set(o, "steps", v->steps);
    return o;
}

static json_t *time_or_null(double t)
{
    char ts[40];

    if (t <= 0)
        return json_null();
    time_iso8601(t, ts, sizeof(ts));
    return json_string(ts);
}

/* A string that may not be UTF-8 (a task's stderr line): null when it is not. */
static json_t *text_or_null(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;

    return v ? v : json_null();
}

json_t *view_task_json(const struct store_task *t, const char *study)
{
    char prio[32];
    json_t *params = jsonx_object_or_empty(t->params_json);
    json_t *metrics = t->metrics_json ? jsonx_object_or_empty(t->metrics_json) : NULL;

    view_priority_text(t->priority, prio, sizeof(prio));
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:f, s:o, s:o}", "id",
        (json_int_t)t->id, "study", study, "key", t->key, "state",
        task_state_name(t->state), "priority", prio, "attempts", t->attempts, "params",
        params, "metrics", metrics ? metrics : json_null(), "exit_code",
        t->exit_code >= 0 && t->attempts > 0 ? json_integer(t->exit_code) : json_null(),
        "signal", t->signal > 0 ? json_integer(t->signal) : json_null(), "error",
        text_or_null(t->error), "wall", t->wall, "started_at",
        time_or_null(t->started_at), "finished_at", time_or_null(t->finished_at));
}

/* The last non-empty line of a file (at most its last 4 KB), or NULL. */
static char *last_line(const char *path)
{
    char buf[4096];
    FILE *f = fopen(path, "re");
    size_t n = 0;
    char *end, *start;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > (long)sizeof(buf) - 1)
            fseek(f, size - (long)sizeof(buf) + 1, SEEK_SET);
        else
            rewind(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
    }
    fclose(f);
    buf[n] = '\0';
    end = buf + n;
    while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        *--end = '\0';
    if (end == buf)
        return NULL;
    start = end;
    while (start > buf && start[-1] != '\n')
        start--;
    return xstrdup(start);
}

struct failures {
    struct store *st;
    const char *study;
    json_t *arr;
};

static int add_failure(const struct store_task *t, void *arg)
{
    struct failures *f = arg;
    char *why = view_task_why(t, store_home(f->st), f->study);
    json_t *text = json_string(why);

    /* Not UTF-8 (an error or a stderr may be any bytes): '?' for each other byte. */
    if (!text) {
        for (char *c = why; *c; c++)
            if ((unsigned char)*c >= 0x80)
                *c = '?';
        text = json_string(why);
    }
    json_array_append_new(f->arr,
                          json_pack("{s:s, s:o, s:s, s:o}", "key", t->key, "params",
                                    jsonx_object_or_empty(t->params_json), "state",
                                    task_state_name(t->state), "why",
                                    text ? text : json_string("")));
    free(why);
    return json_array_size(f->arr) >= VIEW_FAILURES_MAX;
}

int view_failures_json(struct store *st,
                       const struct store_study *s,
                       long long counts[3][TASK_NSTATES],
                       json_t **out,
                       struct err *err)
{
    static const enum task_state states[] = {TASK_FAILED, TASK_TIMED_OUT};
    struct failures f = {.st = st, .study = s->name, .arr = json_array()};
    int rc = SWEEP_OK;

    for (size_t i = 0; i < 2 && rc == SWEEP_OK; i++) {
        size_t have = json_array_size(f.arr);
        long long n =
            counts[0][states[i]] + counts[1][states[i]] + counts[2][states[i]];
        if (n > 0 && have < VIEW_FAILURES_MAX)
            rc = store_task_in_state(st, s->id, states[i],
                                     (int)(VIEW_FAILURES_MAX - have), add_failure, &f,
                                     err);
    }
    if (rc != SWEEP_OK) {
        json_decref(f.arr);
        return rc;
    }
    *out = f.arr;
    return SWEEP_OK;
}

char *view_task_why(const struct store_task *t, const char *home, const char *study)
{
    struct strbuf sb = STRBUF_INIT;
    char *dir = runner_task_dir(home, study, t->key);
    char *path = xasprintf("%s/stderr.log", dir);
    char *line = last_line(path);

    if (t->error)
        sb_adds(&sb, t->error);
    else if (t->state == TASK_TIMED_OUT)
        sb_adds(&sb, "timed out");
    else if (t->signal > 0)
        sb_addf(&sb, "killed by SIG%s",
                sigabbrev_np(t->signal) ? sigabbrev_np(t->signal) : "?");
    else if (t->exit_code >= 0)
        sb_addf(&sb, "exit code %d", t->exit_code);
    if (line)
        sb_addf(&sb, "%sstderr: %s", sb.len ? "; " : "", line);
    free(line);
    free(path);
    free(dir);
    return sb_take(&sb);
}

json_t *view_attempt_json(const struct store_attempt *a)
{
    bool ended = a->state != TASK_RUNNING;

    return json_pack(
        "{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:f, s:o}", "attempt", a->attempt, "state",
        task_state_name(a->state), "exit_code",
        ended && a->exit_code >= 0 && a->signal <= 0 ? json_integer(a->exit_code)
                                                     : json_null(),
        "signal", a->signal > 0 ? json_integer(a->signal) : json_null(), "error",
        text_or_null(a->error), "started_at", time_or_null(a->started_at),
        "finished_at", time_or_null(ended ? a->finished_at : 0), "wall", a->wall,
        "owner", text_or_null(a->owner));
}

int view_study_status(struct store *st, const char *name, json_t **out, struct err *err)
{
    struct view_status v;
    int rc = view_status_load(st, name, &v, err);

    *out = rc == SWEEP_OK ? view_status_json(&v) : NULL;
    view_status_fini(&v);
    return rc;
}

struct list_ctx {
    struct store *st;
    json_t *arr;
    json_t *again; /* the indexes in arr of the studies to read again */
    int rc;        /* of a count that failed */
    struct err *err;
};

static int list_one(const struct store_study *s, void *arg)
{
    struct list_ctx *c = arg;
    long long counts[3][TASK_NSTATES];
    json_t *o;

    if ((c->rc = store_study_counts(c->st, s->id, counts, c->err)) != SWEEP_OK)
        return 1;
    o = view_study_summary(c->st, s, counts);
    if (s->status != STUDY_INTERRUPTED &&
        strcmp(json_string_value(json_object_get(o, "status")),
               study_status_name(STUDY_INTERRUPTED)) == 0)
        json_array_append_new(c->again,
                              json_integer((json_int_t)json_array_size(c->arr)));
    json_array_append_new(c->arr, o);
    return 0;
}

int view_study_list(struct store *st, json_t **out, struct err *err)
{
    struct list_ctx c = {
        .st = st, .arr = json_array(), .again = json_array(), .err = err};
    int rc = store_study_list(st, list_one, &c, err);
    size_t i;
    json_t *v;

    /* A count that failed stopped the iteration. */
    if (rc == SWEEP_OK)
        rc = c.rc;
    /* A run that ended between the list's read (one snapshot for every study) and the
     * look at its lock shows as INTERRUPTED: such a study is read once more, now that
     * the list's snapshot is over, as view_status_load() does (a run that died stays
     * INTERRUPTED). */
    json_array_foreach(c.again, i, v)
    {
        size_t at = (size_t)json_integer_value(v);
        const char *name =
            json_string_value(json_object_get(json_array_get(c.arr, at), "study"));
        struct view_status vs;

        if (rc != SWEEP_OK)
            break;
        rc = view_status_load(st, name, &vs, err);
        if (rc == SWEEP_OK) {
            json_array_set_new(c.arr, at,
                               summary_json(&vs.study, vs.status, vs.counts));
        } else if (rc == SWEEP_ENOTFOUND) { /* removed meanwhile: shown as it was */
            err_clear(err);
            rc = SWEEP_OK;
        }
        view_status_fini(&vs);
    }
    if (rc != SWEEP_OK) {
        json_decref(c.arr);
        c.arr = NULL;
    }
    json_decref(c.again);
    *out = c.arr;
    return rc;
}

/* ---- result rows ---- */

/* Columns: these, then every parameter, every metric, then the tail. */
static const char *const head_cols[] = {
    "key", "id", "state", "attempts", "repetition", "seed", "priority",
};
static const char *const tail_cols[] = {
    "exit_code", "signal", "wall", "user", "sys", "maxrss_kb", "error", "finished_at",
};
#define NHEAD (sizeof(head_cols) / sizeof(head_cols[0]))
#define NTAIL (sizeof(tail_cols) / sizeof(tail_cols[0]))

void view_csv_field(struct strbuf *sb, const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n") || (*s && (s[0] == ' ' || s[strlen(s) - 1] == ' '))) {
        sb_addc(sb, '"');
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                sb_addc(sb, '"');
            sb_addc(sb, *p);
        }
        sb_addc(sb, '"');
    } else {
        sb_adds(sb, s);
    }
    sb_addc(sb, last ? '\n' : ',');
}

int view_step_index(const struct store_study *s,
                    const char *name,
                    int *step,
                    struct err *err)
{
    json_t *info = s->steps_json ? json_loads(s->steps_json, 0, NULL) : NULL;
    json_t *steps = json_object_get(info, "steps"), *v;
    int n = (int)json_array_size(steps), rc = SWEEP_OK;
    size_t i;

    *step = n > 0 ? n - 1 : -1;
    if (!name)
        goto out;
    if (n == 0) {
        rc = err_set(err, SWEEP_EINVAL, "--step: study %s has no steps", s->name);
        goto out;
    }
    json_array_foreach(steps, i, v)
    {
        if (strcmp(json_string_value(v), name) == 0) {
            *step = (int)i;
            goto out;
        }
    }
    if (strcmp(name, "reduce") == 0 && json_is_true(json_object_get(info, "reduce"))) {
        *step = n;
        goto out;
    }
    char *known = json_dumps(steps, JSON_COMPACT);
    rc =
        err_set(err, SWEEP_EINVAL, "--step: study %s has no step \"%s\"; its steps: %s",
                s->name, name, known);
    free(known);
out:
    json_decref(info);
    return rc;
}

void view_priority_text(int priority, char *buf, size_t n)
{
    if (priority == PRIORITY_HIGH || priority == PRIORITY_MEDIUM ||
        priority == PRIORITY_LOW)
        snprintf(buf, n, "%s", priority_name(priority));
    else
        snprintf(buf, n, "%d", priority);
}

static int add_leaf(const char *name, const json_t *v, void *out)
{
    json_object_set(out, name, (json_t *)v);
    return 0;
}

static void names_add(char ***v, size_t *n, size_t *cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], name) == 0)
            return;
    *v = xgrow(*v, cap, *n + 1, sizeof(char *));
    (*v)[(*n)++] = xstrdup(name);
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The name of step `step` in a pipeline ("reduce" after the last). */
static const char *step_name_at(const struct view_results *r, int step)
{
    json_t *name = json_array_get(r->steps, (size_t)step);
    return name ? json_string_value(name) : "reduce";
}

/* The name of a task's step in a pipeline. */
static const char *step_name(const struct view_results *r, const struct store_task *t)
{
    return step_name_at(r, t->step);
}

static bool wanted(const struct view_results *r, const struct store_task *t)
{
    return r->step < 0 || t->step == r->step;
}

/* The task's metrics flattened as a.b; in a pipeline, under its step's name
 * (simulate.energy), so that the steps' columns stay apart. */
static json_t *
task_metrics(const struct view_results *r, const struct store_task *t, const json_t *m)
{
    json_t *flat = json_object(), *out, *v;
    const char *k;

    jsonx_walk_leaves(m, add_leaf, flat);
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

static bool is_fixed_or_param(const struct view_results *r, const char *name)
{
    if (is_fixed(name))
        return true;
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i], name) == 0)
            return true;
    return false;
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
 * column is left empty where no package matches (and r->note says why). Sets
 * r->packages, or leaves it NULL for a study of a spec file. */
static void package_map(struct view_results *r, const struct store_study *s)
{
    char *copy, *dir;
    struct packages pk = {0};
    struct err err = {0};
    const char *base = strrchr(s->spec_path, '/');

    if (strcmp(base ? base + 1 : s->spec_path, "priority_summary.json") != 0)
        return;
    r->packages = json_object();
    copy = xstrdup(s->spec_path);
    dir = dirname(copy);
    if (packages_load(dir, &pk, &err)) {
        r->note = xasprintf("results: package_id left empty: %s", err.msg);
    } else {
        for (size_t i = 0; i < pk.n; i++) {
            json_t *params = packages_params(&pk.v[i], false);
            char *key = package_lookup_key(params);
            json_object_set_new(r->packages, key, json_integer(pk.v[i].id));
            free(key);
            json_decref(params);
        }
    }
    packages_fini(&pk);
    free(copy);
}

/* The package_id of a task of a package study ("" when none matches). */
static void
package_id_text(const struct view_results *r, const json_t *params, char *buf, size_t n)
{
    char *key = package_lookup_key(params);
    json_t *id = json_object_get(r->packages, key);

    if (json_is_integer(id))
        snprintf(buf, n, "%lld", (long long)json_integer_value(id));
    else if (n > 0)
        buf[0] = '\0';
    free(key);
}

/* Passes the rows of the tasks to fn (view_results_each()). */
struct each_ctx {
    struct view_results *r;
    view_row_fn *fn;
    void *arg;
};

static int each_task(const struct store_task *t, void *arg)
{
    struct each_ctx *c = arg;
    struct view_row row = {.task = t};
    int stop;

    if (!wanted(c->r, t))
        return 0;
    row.params = jsonx_object_or_empty(t->params_json);
    row.metrics = jsonx_object_or_empty(t->metrics_json);
    row.flat = task_metrics(c->r, t, row.metrics);
    row.step = c->r->steps ? step_name(c->r, t) : NULL;
    if (c->r->packages)
        package_id_text(c->r, row.params, row.package_id, sizeof(row.package_id));
    stop = c->fn(c->r, &row, c->arg);
    json_decref(row.params);
    json_decref(row.metrics);
    json_decref(row.flat);
    return stop;
}

int view_results_each(struct view_results *r,
                      view_row_fn *fn,
                      void *arg,
                      struct err *err)
{
    struct each_ctx c = {.r = r, .fn = fn, .arg = arg};

    return store_task_each(r->st, r->study_id, r->state, each_task, &c, err);
}

int view_results_page(struct view_results *r,
                      long long offset,
                      long long limit,
                      view_row_fn *fn,
                      void *arg,
                      struct err *err)
{
    struct each_ctx c = {.r = r, .fn = fn, .arg = arg};

    if (r->step >= 0)
        return err_set(err, SWEEP_EINVAL, "a page of the results of one step");
    return store_task_page(r->st, r->study_id, r->state, INT_MIN, INT_MAX, offset,
                           limit, each_task, &c, err);
}

/* The names that a pass over every task finds, each at its first task, for
 * store_result_names_merge(). */
struct found_names {
    struct store_name *v;
    size_t n, cap;
    json_t *seen; /* "kind:step:name" -> true */
};

static void found_add(struct found_names *f,
                      int kind,
                      const struct store_task *t,
                      const char *name,
                      int pos)
{
    char *key = xasprintf("%d:%d:%s", kind, t->step, name);

    if (!json_object_get(f->seen, key)) {
        json_object_set_new(f->seen, key, json_true());
        f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
        f->v[f->n++] =
            (struct store_name){kind,   t->step, xstrdup(name),
                                t->seq, pos,     kind == STORE_NAME_METRIC ? t->id : 0};
    }
    free(key);
}

struct collect_ctx {
    struct view_results *r;
    struct found_names *found; /* NULL: the pass does not see every task */
};

static int
collect_names(const struct view_results *cr, const struct view_row *row, void *arg)
{
    struct collect_ctx *c = arg;
    struct view_results *r = c->r;
    const char *k;
    json_t *v;
    int pos = 0;

    (void)cr;
    json_object_foreach(row->params, k, v)
    {
        if (c->found)
            found_add(c->found, STORE_NAME_PARAM, row->task, k, pos++);
        /* A package study has its own package_id column. */
        if (!r->packages || strcmp(k, "package_id") != 0)
            names_add(&r->params, &r->nparams, &r->params_cap, k);
    }
    pos = 0;
    json_object_foreach(row->flat, k, v)
    {
        /* The store keeps a metric's name without its step's. */
        if (c->found)
            found_add(c->found, STORE_NAME_METRIC, row->task,
                      row->step ? k + strlen(row->step) + 1 : k, pos++);
        names_add(&r->metrics, &r->nmetrics, &r->metrics_cap, k);
    }
    return 0;
}

/* The names from the list the store keeps (store_result_names()): *done is false when
 * it is not complete for the latest generation (*generation), and nothing is set. */
static int names_from_store(struct view_results *r,
                            long long *generation,
                            bool *done,
                            struct err *err)
{
    struct store_name *v;
    size_t n;
    int rc = store_result_names(r->st, r->study_id, generation, done, &v, &n, err);

    for (size_t i = 0; rc == SWEEP_OK && *done && i < n; i++) {
        if (r->step >= 0 && v[i].step != r->step)
            continue;
        if (v[i].kind == STORE_NAME_PARAM) {
            if (!r->packages || strcmp(v[i].name, "package_id") != 0)
                names_add(&r->params, &r->nparams, &r->params_cap, v[i].name);
        } else if (r->steps) {
            char *name = xasprintf("%s.%s", step_name_at(r, v[i].step), v[i].name);
            names_add(&r->metrics, &r->nmetrics, &r->metrics_cap, name);
            free(name);
        } else {
            names_add(&r->metrics, &r->nmetrics, &r->metrics_cap, v[i].name);
        }
    }
    store_names_free(v, n);
    return rc;
}

/* The parameter and metric names, whatever the state filter (the study's columns,
 * those that its tasks in that state do not have being empty, so that filtered and
 * unfiltered results line up): from the store's list when it is complete (O(names),
 * so the first row comes at once at any size); else from a pass over the tasks (of
 * the step shown), which, when it sees every task, hands what it found to the store
 * so that the next one is not needed (best effort: a busy store is left for another
 * time). */
static int collect_columns(struct view_results *r, struct err *err)
{
    struct found_names found = {0};
    struct collect_ctx c = {.r = r};
    long long generation = 0;
    int state = r->state;
    bool done = false;
    int rc = SWEEP_OK;

    if ((rc = names_from_store(r, &generation, &done, err)) != 0 || done)
        return rc;
    if (r->step < 0) {
        found.seen = json_object();
        c.found = &found;
    }
    r->state = -1;
    rc = view_results_each(r, collect_names, &c, err);
    r->state = state;
    if (rc == SWEEP_OK && c.found) {
        struct err ignored = {0};
        store_result_names_merge(r->st, r->study_id, generation, found.v, found.n,
                                 &ignored);
    }
    store_names_free(found.v, found.n);
    json_decref(found.seen);
    return rc;
}

int view_results_open(struct store *st,
                      const struct store_study *s,
                      int state,
                      int step,
                      bool columns,
                      struct view_results *r,
                      struct err *err)
{
    int rc;

    memset(r, 0, sizeof(*r));
    r->st = st;
    r->study_id = s->id;
    r->state = state;
    r->step = step;
    if (s->steps_json) {
        json_t *info = json_loads(s->steps_json, 0, NULL);
        r->steps = json_incref(json_object_get(info, "steps"));
        json_decref(info);
    }
    package_map(r, s);
    if (!columns)
        return SWEEP_OK;
    if ((rc = collect_columns(r, err)) != SWEEP_OK)
        return rc;
    r->columns = true;
    if (r->steps)
        r->step_col = is_fixed_or_param(r, "step") ? "pipeline_step" : "step";
    r->param_cols = xcalloc(r->nparams ? r->nparams : 1, sizeof(char *));
    for (size_t i = 0; i < r->nparams; i++)
        r->param_cols[i] = is_fixed(r->params[i]) ? xasprintf("param.%s", r->params[i])
                                                  : xstrdup(r->params[i]);
    r->metric_cols = xcalloc(r->nmetrics ? r->nmetrics : 1, sizeof(char *));
    for (size_t i = 0; i < r->nmetrics; i++)
        r->metric_cols[i] = is_fixed_or_param(r, r->metrics[i])
                                ? xasprintf("result.%s", r->metrics[i])
                                : xstrdup(r->metrics[i]);
    return SWEEP_OK;
}

void view_results_fini(struct view_results *r)
{
    json_decref(r->steps);
    json_decref(r->packages);
    free(r->note);
    if (r->param_cols)
        names_free(r->param_cols, r->nparams);
    if (r->metric_cols)
        names_free(r->metric_cols, r->nmetrics);
    names_free(r->params, r->nparams);
    names_free(r->metrics, r->nmetrics);
    memset(r, 0, sizeof(*r));
}

json_t *view_row_json(const struct view_results *r, const struct view_row *row)
{
    const struct store_task *t = row->task;
    json_t *o = json_object();
    char ts[40];

    json_object_set_new(o, "key", json_string(t->key));
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "state", json_string(task_state_name(t->state)));
    json_object_set_new(o, "attempts", json_integer(t->attempts));
    json_object_set_new(o, "repetition", json_integer(t->repetition));
    json_object_set_new(o, "seed", json_integer(t->seed));
    view_priority_text(t->priority, ts, sizeof(ts));
    json_object_set_new(o, "priority", json_string(ts));
    json_object_set_new(o, "priority_value", json_integer(t->priority));
    json_object_set(o, "params", row->params);
    json_object_set(o, "metrics", row->metrics);
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
    if (row->step)
        json_object_set_new(o, "step", json_string(row->step));
    if (r->packages)
        json_object_set_new(o, "package_id",
                            row->package_id[0]
                                ? json_integer(strtoll(row->package_id, NULL, 10))
                                : json_null());
    return o;
}

void view_results_csv_header(const struct view_results *r, struct strbuf *sb)
{
    for (size_t i = 0; i < NHEAD; i++) {
        view_csv_field(sb, head_cols[i], false);
        if (i == 0 && r->step_col)
            view_csv_field(sb, r->step_col, false);
        if (i == 0 && r->packages)
            view_csv_field(sb, "package_id", false);
    }
    for (size_t i = 0; i < r->nparams; i++)
        view_csv_field(sb, r->param_cols[i], false);
    for (size_t i = 0; i < r->nmetrics; i++)
        view_csv_field(sb, r->metric_cols[i], false);
    for (size_t i = 0; i < NTAIL; i++)
        view_csv_field(sb, tail_cols[i], i == NTAIL - 1);
}

static void csv_value(struct strbuf *sb, const json_t *v)
{
    char *s = v ? jsonx_arg_str(v) : xstrdup("");
    view_csv_field(sb, s, false);
    free(s);
}

static void csv_printf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void csv_printf(struct strbuf *sb, const char *fmt, ...)
{
    char buf[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    view_csv_field(sb, buf, false);
}

void view_row_csv(const struct view_results *r,
                  const struct view_row *row,
                  struct strbuf *sb)
{
    const struct store_task *t = row->task;
    char buf[64];

    view_csv_field(sb, t->key, false);
    if (row->step)
        view_csv_field(sb, row->step, false);
    if (r->packages)
        view_csv_field(sb, row->package_id, false);
    csv_printf(sb, "%lld", t->id);
    view_csv_field(sb, task_state_name(t->state), false);
    csv_printf(sb, "%d", t->attempts);
    csv_printf(sb, "%d", t->repetition);
    csv_printf(sb, "%lld", t->seed);
    view_priority_text(t->priority, buf, sizeof(buf));
    view_csv_field(sb, buf, false);
    for (size_t i = 0; i < r->nparams; i++)
        csv_value(sb, json_object_get(row->params, r->params[i]));
    for (size_t i = 0; i < r->nmetrics; i++)
        csv_value(sb, json_object_get(row->flat, r->metrics[i]));
    if (t->exit_code >= 0)
        csv_printf(sb, "%d", t->exit_code);
    else
        view_csv_field(sb, "", false);
    if (t->signal)
        csv_printf(sb, "%d", t->signal);
    else
        view_csv_field(sb, "", false);
    csv_printf(sb, "%.6f", t->wall);
    csv_printf(sb, "%.6f", t->user);
    csv_printf(sb, "%.6f", t->sys);
    csv_printf(sb, "%ld", t->maxrss_kb);
    view_csv_field(sb, t->error ? t->error : "", false);
    if (t->finished_at > 0)
        time_iso8601(t->finished_at, buf, sizeof(buf));
    else
        buf[0] = '\0';
    view_csv_field(sb, buf, true);
}

/* ---- the aggregate ---- */

json_t *view_aggregate_fits(const struct aggregate *a)
{
    json_t *fits = json_array();
    const char *x = a->by[a->nby - 1];

    for (size_t g = 0; g < a->ngroups; g = aggregate_series_end(a, g)) {
        size_t end = aggregate_series_end(a, g);
        for (size_t m = 0; m < a->nmetrics; m++) {
            struct fit_power f;
            struct err err = {0};
            json_t *j;

            if (aggregate_fit_power(a, m, g, end, &f, &err) == SWEEP_OK) {
                j = aggregate_fit_json(a, m, g, &f);
            } else {
                j = json_object();
                json_object_set_new(j, "x", json_string(x));
                json_object_set_new(j, "metric", json_string(a->metrics[m]));
                json_object_set_new(j, "error", json_string(err.msg));
            }
            json_array_append_new(fits, j);
        }
    }
    return fits;
}

char *view_aggregate_json_str(const struct aggregate *a, bool fit)
{
    json_t *j = aggregate_to_json(a), *fits, *f;
    char *text = aggregate_json_str(j);
    struct strbuf sb = STRBUF_INIT;
    size_t i, len = strlen(text);

    json_decref(j);
    if (!fit)
        return text;
    fits = view_aggregate_fits(a);
    /* The groups' text, indented one level more, without its final newline. */
    sb_adds(&sb, "{\"groups\": ");
    for (i = 0; i + 1 < len; i++) {
        sb_addc(&sb, text[i]);
        if (text[i] == '\n')
            sb_adds(&sb, "  ");
    }
    sb_adds(&sb, ",\n \"fits\": [");
    json_array_foreach(fits, i, f)
    {
        char *line = jsonx_canon_str(f);
        sb_addf(&sb, "%s\n  %s", i ? "," : "", line);
        free(line);
    }
    sb_adds(&sb, json_array_size(fits) ? "\n ]}\n" : "]}\n");
    free(text);
    json_decref(fits);
    return sb_take(&sb);
}

/* ---- the task inbox's files ---- */

json_t *view_inbox_task_json(const struct view_row *row,
                             const char *algorithm,
                             const char *worker_id)
{
    const struct store_task *t = row->task;
    json_t *id = json_object_get(row->params, "task_id");
    json_t *params = json_deep_copy(row->params);
    char ts[40];

    json_object_del(params, "task_id");
    view_priority_text(t->priority, ts, sizeof(ts));
    json_t *o = json_pack(
        "{s:o, s:o, s:o, s:f, s:{s:s, s:O}, s:s}", "task_id",
        id ? json_incref(id) : json_string(t->key), "algorithm",
        algorithm ? json_string(algorithm) : json_null(), "parameters", params,
        "execution_time", t->wall, "result", "status", task_state_name(t->state),
        "metrics", row->metrics ? row->metrics : json_null(), "worker_id", worker_id);
    if (t->finished_at > 0) {
        char at[40];
        time_iso8601(t->finished_at, at, sizeof(at));
        json_object_set_new(o, "completed_at", json_string(at));
    } else {
        json_object_set_new(o, "completed_at", json_null());
    }
    json_object_set_new(o, "priority", json_string(ts));
    return o;
}

struct inbox_ctx {
    const char *algorithm, *worker_id;
    json_t *tasks;
};

static int
inbox_row(const struct view_results *r, const struct view_row *row, void *arg)
{
    struct inbox_ctx *c = arg;

    (void)r;
    json_array_append_new(c->tasks,
                          view_inbox_task_json(row, c->algorithm, c->worker_id));
    return 0;
}

int view_inbox_results(struct store *st,
                       const struct store_study *s,
                       const char *file,
                       const char *worker_id,
                       json_t **out,
                       struct err *err)
{
    struct view_results r;
    json_t *spec = json_loads(s->spec_json ? s->spec_json : "{}", 0, NULL);
    struct inbox_ctx c = {.algorithm =
                              json_string_value(json_object_get(spec, "model")),
                          .worker_id = worker_id,
                          .tasks = json_array()};
    char at[40];
    int rc = view_results_open(st, s, -1, -1, false, &r, err);

    if (!rc)
        rc = view_results_each(&r, inbox_row, &c, err);
    view_results_fini(&r);
    time_iso8601(time_now(), at, sizeof(at));
    *out = rc ? NULL
              : json_pack("{s:s, s:s, s:s, s:O}", "study", s->name, "file", file,
                          "generated_at", at, "tasks", c.tasks);
    json_decref(c.tasks);
    json_decref(spec);
    return rc;
}

struct stats_ctx {
    struct store *st;
    long long counts[3][TASK_NSTATES], studies;
    int rc;
    struct err *err;
};

static int stats_one(const struct store_study *s, void *arg)
{
    struct stats_ctx *c = arg;
    long long counts[3][TASK_NSTATES];

    if ((c->rc = store_study_counts(c->st, s->id, counts, c->err)) != SWEEP_OK)
        return 1;
    for (int b = 0; b < 3; b++)
        for (int k = 0; k < TASK_NSTATES; k++)
            c->counts[b][k] += counts[b][k];
    c->studies++;
    return 0;
}

int view_orchestrator_stats(
    struct store *st, double uptime, long long tasks_run, json_t **out, struct err *err)
{
    struct stats_ctx c = {.st = st, .err = err};
    long long total[TASK_NSTATES] = {0};
    json_t *bands;
    char at[40];
    int rc = store_study_list(st, stats_one, &c, err);

    if (!rc)
        rc = c.rc;
    *out = NULL;
    if (rc)
        return rc;
    bands = json_object();
    for (int b = 2; b >= 0; b--) {
        json_object_set_new(bands, view_band_name(b), view_counts_json(c.counts[b]));
        for (int k = 0; k < TASK_NSTATES; k++)
            total[k] += c.counts[b][k];
    }
    time_iso8601(time_now(), at, sizeof(at));
    *out = json_pack(
        "{s:s, s:f, s:I, s:o, s:o, s:{s:I, s:f}}", "updated_at", at, "uptime_seconds",
        uptime, "studies", (json_int_t)c.studies, "totals", view_counts_json(total),
        "by_priority", bands, "throughput", "tasks_run", (json_int_t)tasks_run,
        "tasks_per_minute", uptime > 0 ? (double)tasks_run * 60.0 / uptime : 0.0);
    return SWEEP_OK;
}

/* ---- live events and totals ---- */

static json_t *ts_json(double epoch)
{
    char ts[40];

    time_iso8601(epoch, ts, sizeof(ts));
    return json_string(ts);
}

json_t *view_event_json(const struct runner_event *ev)
{
    bool task = ev->kind == RUNNER_EVENT_TASK ||
                ev->kind == RUNNER_EVENT_ORPHAN_ENDED ||
                ev->kind == RUNNER_EVENT_LEASE_EXPIRED;
    const char *to = ev->kind == RUNNER_EVENT_START     ? "RUNNING"
                     : ev->kind == RUNNER_EVENT_WAITING ? "WAITING"
                     : ev->kind == RUNNER_EVENT_END     ? study_status_name(ev->status)
                                                        : NULL;

    if (task)
        return json_pack("{s:s?, s:I, s:s?, s:i, s:s, s:s, s:o}", "study", ev->study,
                         "task_id", (json_int_t)ev->task_id, "key", ev->key, "attempt",
                         ev->attempt, "from", task_state_name(ev->from), "to",
                         task_state_name(ev->to), "time", ts_json(ev->time));
    return json_pack("{s:s?, s:n, s:n, s:n, s:s?, s:s?, s:o}", "study", ev->study,
                     "task_id", "key", "attempt", "from",
                     ev->kind == RUNNER_EVENT_END ? "RUNNING" : NULL, "to", to, "time",
                     ts_json(ev->time));
}

int view_stats_json(struct store *st, json_t **out, struct err *err)
{
    static const char *const bands[] = {"HIGH", "MEDIUM", "LOW"};
    long long total[TASK_NSTATES] = {0}, band[3][TASK_NSTATES] = {{0}};
    json_t *list, *studies = json_object(), *by = json_object(), *s;
    size_t i;
    int rc = view_study_list(st, &list, err);

    *out = NULL;
    if (rc) {
        json_decref(studies);
        json_decref(by);
        return rc;
    }
    json_array_foreach(list, i, s)
    {
        const char *status = json_string_value(json_object_get(s, "status"));
        json_t *n = json_object_get(studies, status ? status : "?");

        json_object_set_new(studies, status ? status : "?",
                            json_integer(json_integer_value(n) + 1));
        for (int b = 0; b < 3; b++) {
            json_t *c = json_object_get(json_object_get(s, "by_priority"), bands[b]);
            for (int t = 0; t < TASK_NSTATES; t++) {
                long long v = view_count_of(c, task_state_name((enum task_state)t));
                band[b][t] += v;
                total[t] += v;
            }
        }
    }
    for (int b = 0; b < 3; b++)
        json_object_set_new(by, bands[b], view_counts_json(band[b]));
    *out = json_pack("{s:o, s:o, s:o, s:I}", "tasks", view_counts_json(total),
                     "tasks_by_priority", by, "studies_by_status", studies,
                     "studies_total", (json_int_t)json_array_size(list));
    json_decref(list);
    return SWEEP_OK;
}
