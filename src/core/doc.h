/* A YAML or JSON document as a tree of nodes that remember where they were written, so
 * that a checker (spec.c) can say "study.yaml:12:5: ..." about any value. YAML goes
 * through libyaml; JSON has its own small parser so that every JSON text works (libyaml
 * refuses some, e.g. surrogate pairs) with the same positions. Plain YAML scalars are
 * typed by the YAML 1.2 core schema (true/false, null/~/empty, 12, -3, 0x1f, 0o17, 1.5,
 * 1e-3); quoted scalars are always strings; .inf and .nan are refused, as JSON has no
 * such numbers. Duplicate keys, non-scalar keys, NUL characters, unsupported tags and
 * aliases to unknown anchors are errors. Aliases are resolved by copying, with a budget
 * that stops billion-laughs inputs. Input is at most DOC_MAX_SIZE bytes and nests at
 * most DOC_MAX_DEPTH levels. */
#ifndef SWEEP_CORE_DOC_H
#define SWEEP_CORE_DOC_H

#include "common/err.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define DOC_MAX_SIZE (16u << 20)
#define DOC_MAX_DEPTH 64
/* Nodes that alias copies may add in all; far above what a spec uses anchors for. */
#define DOC_MAX_ALIAS_NODES 100000

enum doc_type {
    DOC_NULL,
    DOC_BOOL,
    DOC_INT,
    DOC_REAL,
    DOC_STRING,
    DOC_SEQ,
    DOC_MAP,
};

struct doc_node {
    enum doc_type type;
    int line, col; /* 1-based; columns count characters, not bytes */
    char *text;    /* scalars: the text as written, unquoted and unescaped (never NULL
                      for a scalar; "" for an empty value); NULL for seq and map */
    bool quoted;   /* scalar written in quotes (so it is a string) */
    bool b;        /* DOC_BOOL */
    long long i;   /* DOC_INT */
    double r;      /* DOC_REAL (finite) */
    size_t n;      /* DOC_SEQ: items; DOC_MAP: key/value pairs */
    struct doc_node **items; /* DOC_SEQ: the items; DOC_MAP: the values */
    struct doc_node **keys; /* DOC_MAP: the keys, always DOC_STRING, in written order */
};

/* Parses `len` bytes of YAML or JSON (JSON when the text starts with '{' or '['; if
 * that fails, YAML is tried unless `name` ends in .json). `name` prefixes messages:
 * "name:line:col: reason". Returns SWEEP_OK and *out (free with doc_destroy), or
 * SWEEP_EINVAL. An empty document is a DOC_NULL node at 1:1. */
int doc_parse(const char *name,
              const char *text,
              size_t len,
              struct doc_node **out,
              struct err *err);
void doc_destroy(struct doc_node *node);

/* The value of `key` in a map, or NULL; borrowed from the map. Linear in its size. */
const struct doc_node *doc_map_get(const struct doc_node *map, const char *key);
/* The node as plain JSON (new reference); map keys become object keys. */
json_t *doc_to_json(const struct doc_node *node);
/* What a message shows for the node after "got": `"three"` for a string (quoted,
 * escaped, cut after 40 characters), the text of a number or boolean, `null`, `nothing`
 * for an empty value, `a list` or `a mapping`. */
void doc_describe(const struct doc_node *node, char *buf, size_t n);
/* s in double quotes with JSON escapes, cut after max_chars characters ("..."). */
void doc_quote(const char *s, size_t max_chars, char *buf, size_t n);
/* True for an empty value (`key:` with nothing after it). */
bool doc_is_empty(const struct doc_node *node);

/* ---- the errors of a checker of documents (spec.c, taskfile.c) ----
 * Each sets err to SWEEP_EINVAL with a message led by "file:line:col: " (the node's
 * position) and returns SWEEP_EINVAL. */

/* "file:line:col: " + the formatted message (cut at 1.5 KiB). */
int doc_failf(const char *file,
              struct err *err,
              const struct doc_node *at,
              const char *fmt,
              ...) __attribute__((format(printf, 4, 5)));
int doc_vfailf(const char *file,
               struct err *err,
               const struct doc_node *at,
               const char *fmt,
               va_list ap) __attribute__((format(printf, 4, 0)));
/* "file:line:col: field: expected what, got <the node>" (doc_describe()). */
int doc_bad(const char *file,
            struct err *err,
            const struct doc_node *n,
            const char *field,
            const char *what);
/* SWEEP_OK when every key of map is one of allowed; else, at the first other key,
 * "file:line:col: unknown field "prefix.key" (did you mean "near"?); expected one of:
 * a, b, c" (the field path quoted as doc_quote() does, cut after 120 characters; no
 * "prefix." for an empty prefix; the suggestion only when one is close, suggest.h).
 * O(keys x allowed). */
int doc_check_fields(const char *file,
                     struct err *err,
                     const struct doc_node *map,
                     const char *prefix,
                     const char *const *allowed,
                     size_t nallowed);

#endif
