/* The parametric-sweep package layout that users of the earlier batch scripts keep
 * their studies in: a directory (parametric_sweep_packages/ by convention) with
 *   priority_summary.json  {"HIGH": [{package_id, priority, description, parameters}],
 *                           "MEDIUM": [...], "LOW": [...]}
 *   package_0001.json      {"package_id": 1, "Re": 1000, ..., "priority": "HIGH"}
 * packages_load() reads and checks all of it before anything runs and reports every
 * problem it finds at once, each naming its file: a missing or malformed file, a
 * package listed in the summary without its file, a package file the summary does not
 * list, a package_id or priority that disagrees between the two, a file named like a
 * package file that does not follow the pattern package_N.json (N of 1 to 9 digits).
 */
#ifndef SWEEP_CORE_PACKAGES_H
#define SWEEP_CORE_PACKAGES_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct package {
    int id;            /* package_id, >= 0 */
    int priority;      /* PRIORITY_HIGH, _MEDIUM or _LOW */
    char *path;        /* the package file */
    char *description; /* from the summary; NULL when it has none */
    json_t *config;    /* the package file's object, as read */
};

struct packages {
    char *dir;
    struct package *v; /* ordered by id */
    size_t n;
};

/* Loads the directory into *out (free with packages_fini). SWEEP_ENOTFOUND when the
 * directory or the summary does not exist, SWEEP_EINVAL for any other problem; the
 * message lists the problems, one per line. On failure *out is left empty. */
int packages_load(const char *dir, struct packages *out, struct err *err);
/* A check of one package that was read (its parameters against the model): nonzero
 * with err set for a problem, which is reported with the others, naming the file. */
typedef int packages_check_fn(const struct package *p, void *arg, struct err *err);
/* packages_load, and check (when not NULL) on each package read without a problem. */
int packages_load_checked(const char *dir,
                          struct packages *out,
                          packages_check_fn *check,
                          void *check_arg,
                          struct err *err);
void packages_fini(struct packages *p);

/* The package with this id, or NULL. */
const struct package *packages_find(const struct packages *p, int id);

/* The task parameters of a package: its configuration without "priority" and
 * "description", and without "package_id" unless with_id (a new reference). */
json_t *packages_params(const struct package *p, bool with_id);

/* "package_0007" for id 7 (at least four digits), into buf. */
void packages_name(int id, char *buf, size_t size);

#endif
