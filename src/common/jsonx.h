/* JSON helpers on top of jansson: the canonical form used for task keys and storage
 * (sorted keys, no spaces, reals in their shortest round-trip form so 0.1 prints as
 * 0.1), how a value prints as one command-line argument, and the flattening of nested
 * metrics objects into "a.b" names. */
#ifndef SWEEP_COMMON_JSONX_H
#define SWEEP_COMMON_JSONX_H

#include "strbuf.h"

#include <jansson.h>

/* Appends the canonical JSON text of v. */
void jsonx_canon(const json_t *v, struct strbuf *sb);
/* Canonical JSON text as a new string (free it). */
char *jsonx_canon_str(const json_t *v);
/* text parsed as a JSON object (a new reference); an empty object when text is NULL,
 * not JSON or not an object (a stored task's params or metrics). */
json_t *jsonx_object_or_empty(const char *text);
/* A real in its shortest form that reads back to the same double ("0.1", "1e-06",
 * "3.0" keeps a ".0" so that it stays a real). buf: at least 32 bytes. */
void jsonx_real_str(double d, char *buf, size_t n);
/* A value as one argument: strings as they are, numbers as above, true/false, null as
 * "", arrays and objects as canonical JSON. New string (free it). */
char *jsonx_arg_str(const json_t *v);

/* Indented JSON text for people and files they read (new string, with a final
 * newline): members in the object's order, two spaces per level, an array of scalars
 * on one line, reals in their shortest round-trip form (0.05, not
 * 0.050000000000000003). */
char *jsonx_pretty_str(const json_t *v);
/* The same on one line, members separated by ", " (no final newline). */
char *jsonx_line_str(const json_t *v);

/* Calls fn for every leaf of obj (a member that is not an object: numbers, strings,
 * booleans, null, arrays), named by its path through nested objects, "a.b.c"; an empty
 * nested object has no leaf. Stops at the first non-zero return of fn and returns it;
 * else 0. */
typedef int jsonx_leaf_fn(const char *path, const json_t *v, void *arg);
int jsonx_walk_leaves(const json_t *obj, jsonx_leaf_fn *fn, void *arg);

#endif
