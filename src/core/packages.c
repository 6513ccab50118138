/* Reading a parametric-sweep package directory (see packages.h). The summary is read
 * first, then every package_N.json file of the directory, then the caller's check of
 * each package that was read; problems are collected in one message rather than
 * stopping at the first, so that a user fixes them in one go. Each problem is reported
 * once: a package file that exists but is invalid is not also "missing". A file named
 * like a package file that does not follow the pattern (package_0000000002.json, ten
 * digits) is a problem; files of other names in the directory are left alone. */
#include "core/packages.h"

#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/doc.h"
#include "core/spec.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SUMMARY "priority_summary.json"

/* What the summary says about one package. */
struct entry {
    int id;
    int priority;
    const char *where; /* "HIGH[2]" */
    char *description;
    bool has_file;
};

struct load {
    const char *dir;
    bool summary_ok; /* the summary could be read: "not listed" makes sense */
    struct strbuf problems;
    int nproblems;
    struct entry *entries;
    size_t nentries, cap_entries;
    struct packages *out;
    size_t cap_out;
};

static void problem(struct load *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct load *l, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sb_addf(&l->problems, "\n  %s", buf);
    l->nproblems++;
}

static const char *const band_names[] = {"LOW", "MEDIUM", "HIGH"};

/* PRIORITY_* for a band name in any case; 0 for anything else. */
static int band_parse(const char *s)
{
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, band_names[i]) == 0)
            return PRIORITY_LOW + i;
    }
    return 0;
}

static const char *band_name(int priority)
{
    return band_names[priority - PRIORITY_LOW];
}

/* A JSON integer in [0, INT_MAX], or -1. */
static int id_value(const json_t *v)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > 999999999)
        return -1;
    return (int)json_integer_value(v);
}

/* Reads a JSON object from path (a regular file only: a FIFO would block); NULL after
 * recording the problem. */
static json_t *read_object(struct load *l, const char *path)
{
    struct err err = {0};
    json_error_t je;
    char *text = NULL;
    size_t len = 0;
    json_t *v;

    if (fileio_read_user(path, DOC_MAX_SIZE, &text, &len, &err)) {
        problem(l, "%s", err.msg);
        return NULL;
    }
    v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!v) {
        problem(l, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        problem(l, "%s: expected a JSON object, got a JSON %s", path,
                json_is_array(v) ? "array" : "scalar");
        json_decref(v);
        return NULL;
    }
    return v;
}

static struct entry *entry_find(struct load *l, int id)
{
    for (size_t i = 0; i < l->nentries; i++) {
        if (l->entries[i].id == id)
            return &l->entries[i];
    }
    return NULL;
}

static void summary_entry(
    struct load *l, const char *path, const char *band, size_t i, const json_t *e)
{
    char where[64];
    const json_t *v;
    int id;

    snprintf(where, sizeof(where), "%s[%zu]", band, i);
    if (!json_is_object(e)) {
        problem(l,
                "%s: %s: expected an object {package_id, priority, description, "
                "parameters}",
                path, where);
        return;
    }
    id = id_value(json_object_get(e, "package_id"));
    if (id < 0) {
        problem(l, "%s: %s.package_id: expected a non-negative integer", path, where);
        return;
    }
    v = json_object_get(e, "priority");
    if (v &&
        (!json_is_string(v) || band_parse(json_string_value(v)) != band_parse(band)))
        problem(l, "%s: %s.priority: expected \"%s\" (the list it is in)", path, where,
                band);
    v = json_object_get(e, "description");
    if (v && !json_is_string(v))
        problem(l, "%s: %s.description: expected a string", path, where);
    v = json_object_get(e, "parameters");
    if (v && !json_is_object(v))
        problem(l, "%s: %s.parameters: expected an object", path, where);
    struct entry *dup = entry_find(l, id);
    if (dup) {
        problem(l, "%s: package %d is listed twice (%s and %s)", path, id, dup->where,
                where);
        return;
    }
    l->entries =
        xgrow(l->entries, &l->cap_entries, l->nentries + 1, sizeof(*l->entries));
    l->entries[l->nentries++] = (struct entry){
        .id = id,
        .priority = band_parse(band),
        .where = xstrdup(where),
        .description =
            json_is_string(json_object_get(e, "description"))
                ? xstrdup(json_string_value(json_object_get(e, "description")))
                : NULL,
    };
}

static void read_summary(struct load *l)
{
    char *path = xasprintf("%s/%s", l->dir, SUMMARY);
    json_t *s = read_object(l, path);
    const char *band;
    json_t *list;

    if (!s)
        goto out;
    l->summary_ok = true;
    json_object_foreach(s, band, list)
    {
        if (!band_parse(band) || strcmp(band, band_name(band_parse(band))) != 0) {
            problem(l, "%s: unexpected key \"%s\": expected HIGH, MEDIUM or LOW", path,
                    band);
            continue;
        }
        if (!json_is_array(list)) {
            problem(l, "%s: %s: expected a list of packages", path, band);
            continue;
        }
        for (size_t i = 0; i < json_array_size(list); i++)
            summary_entry(l, path, band, i, json_array_get(list, i));
    }
    json_decref(s);
out:
    free(path);
}

/* The N of "package_N.json" (1 to 9 digits), or -1. */
static int file_id(const char *name)
{
    const char *p = name + strlen("package_");
    long v = 0;
    int nd = 0;

    if (strncmp(name, "package_", strlen("package_")) != 0)
        return -1;
    for (; isdigit((unsigned char)*p) && nd < 9; p++, nd++)
        v = v * 10 + (*p - '0');
    return nd > 0 && strcmp(p, ".json") == 0 ? (int)v : -1;
}

/* Whether a name that file_id refuses looks meant as a package file: "package", a
 * digit and ".json", in any case (package_0000000002.json, Package_3.json,
 * package-4.json; not package.json). */
static bool looks_like_package(const char *name)
{
    size_t n = strlen(name);

    return strncasecmp(name, "package", strlen("package")) == 0 && n > 5 &&
           strcasecmp(name + n - 5, ".json") == 0 && strpbrk(name, "0123456789");
}

/* A name that looks like a package file and does not match the pattern; when its
 * digits name a package the summary lists, that package is not also "missing". */
static void bad_name(struct load *l, const char *name)
{
    const char *p = name + strlen("package");
    long long v = 0;
    int nd = 0;
    struct entry *e;

    while (*p && !isdigit((unsigned char)*p))
        p++;
    for (; isdigit((unsigned char)*p) && nd < 18; p++, nd++)
        v = v * 10 + (*p - '0');
    e = nd > 0 && v <= 999999999 ? entry_find(l, (int)v) : NULL;
    if (e) {
        e->has_file = true;
        problem(l,
                "%s/%s: not a package file name: expected package_N.json with N of 1 "
                "to 9 digits (rename it package_%04d.json)",
                l->dir, name, e->id);
    } else {
        problem(l,
                "%s/%s: not a package file name: expected package_N.json with N of 1 "
                "to 9 digits (e.g. package_0002.json)",
                l->dir, name);
    }
}

static void read_package(struct load *l, const char *name, int id)
{
    char *path = xasprintf("%s/%s", l->dir, name);
    struct entry *e = entry_find(l, id);
    json_t *cfg = NULL, *v;
    int fid;

    /* The file exists: whatever is wrong with it, the package is not "missing". */
    if (e && e->has_file) {
        problem(l, "%s: a second file for package %d", path, id);
        goto out;
    }
    if (e)
        e->has_file = true;
    cfg = read_object(l, path);
    if (!cfg)
        goto out;
    fid = id_value(json_object_get(cfg, "package_id"));
    if (fid != id) {
        problem(l, "%s: package_id: expected %d (the number in the file name)", path,
                id);
        goto out;
    }
    if (!e) {
        if (l->summary_ok)
            problem(l, "%s: package %d is not listed in %s", path, id, SUMMARY);
        goto out;
    }
    v = json_object_get(cfg, "priority");
    if (v && (!json_is_string(v) || band_parse(json_string_value(v)) != e->priority)) {
        problem(l, "%s: priority: expected \"%s\" (as %s lists it)", path,
                band_name(e->priority), SUMMARY);
        goto out;
    }
    l->out->v = xgrow(l->out->v, &l->cap_out, l->out->n + 1, sizeof(*l->out->v));
    l->out->v[l->out->n++] = (struct package){
        .id = id,
        .priority = e->priority,
        .path = path,
        .description = e->description ? xstrdup(e->description) : NULL,
        .config = cfg,
    };
    return;
out:
    json_decref(cfg);
    free(path);
}

static int by_id(const void *a, const void *b)
{
    const struct package *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int packages_load(const char *dir, struct packages *out, struct err *err)
{
    return packages_load_checked(dir, out, NULL, NULL, err);
}

int packages_load_checked(const char *dir,
                          struct packages *out,
                          packages_check_fn *check,
                          void *check_arg,
                          struct err *err)
{
    struct load l = {.dir = dir, .out = out};
    struct stat sb;
    struct dirent **names = NULL;
    int nnames = 0;
    char *summary = xasprintf("%s/%s", dir, SUMMARY);
    int rc = SWEEP_OK;

    memset(out, 0, sizeof(*out));
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        rc = err_set(err, SWEEP_ENOTFOUND, "%s: no such directory of packages", dir);
        goto out;
    }
    if (stat(summary, &sb) != 0 && errno == ENOENT) {
        rc = err_set(err, SWEEP_ENOTFOUND,
                     "%s: not found: a package directory needs %s (keys HIGH, MEDIUM, "
                     "LOW, each a list of {package_id, priority, description, "
                     "parameters})",
                     summary, SUMMARY);
        goto out;
    }
    read_summary(&l);
    /* In name order, so that the problems are listed in the order of the files. */
    nnames = scandir(dir, &names, NULL, alphasort);
    if (nnames < 0) {
        nnames = 0;
        rc = err_set(err, SWEEP_EIO, "%s: cannot read the directory: %s", dir,
                     strerror(errno));
        goto out;
    }
    for (int i = 0; i < nnames; i++) {
        int id = file_id(names[i]->d_name);
        if (id >= 0)
            read_package(&l, names[i]->d_name, id);
        else if (looks_like_package(names[i]->d_name))
            bad_name(&l, names[i]->d_name);
    }
    for (size_t i = 0; check && i < out->n; i++) {
        struct err e = {0};
        if (check(&out->v[i], check_arg, &e) != 0)
            problem(&l, "%s: %s", out->v[i].path, e.msg);
    }
    for (size_t i = 0; i < l.nentries; i++) {
        if (!l.entries[i].has_file)
            problem(&l,
                    "%s: %s lists package %d, but %s/package_%04d.json does not exist",
                    summary, l.entries[i].where, l.entries[i].id, dir, l.entries[i].id);
    }
    if (l.nproblems == 0 && out->n == 0)
        problem(&l, "%s: no packages: %s lists none", dir, SUMMARY);
    if (l.nproblems > 0) {
        if (l.nproblems == 1)
            rc = err_set(err, SWEEP_EINVAL, "%s", sb_str(&l.problems) + 3);
        else
            rc = err_set(err, SWEEP_EINVAL, "%s: %d problems in the package layout:%s",
                         dir, l.nproblems, sb_str(&l.problems));
        goto out;
    }
    qsort(out->v, out->n, sizeof(*out->v), by_id);
    out->dir = xstrdup(dir);
out:
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    for (size_t i = 0; i < l.nentries; i++) {
        free((char *)l.entries[i].where);
        free(l.entries[i].description);
    }
    free(l.entries);
    sb_fini(&l.problems);
    free(summary);
    if (rc)
        packages_fini(out);
    return rc;
}

void packages_fini(struct packages *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].path);
        free(p->v[i].description);
        json_decref(p->v[i].config);
    }
    free(p->v);
    free(p->dir);
    memset(p, 0, sizeof(*p));
}

const struct package *packages_find(const struct packages *p, int id)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].id == id)
            return &p->v[i];
    }
    return NULL;
}

json_t *packages_params(const struct package *p, bool with_id)
{
    json_t *params = json_deep_copy(p->config);

    json_object_del(params, "priority");
    json_object_del(params, "description");
    if (!with_id)
        json_object_del(params, "package_id");
    return params;
}

void packages_name(int id, char *buf, size_t size)
{
    snprintf(buf, size, "package_%04d", id);
}
