/* Lists of strings written as "a,b,c" (command-line flags and query parameters such
 * as --by and ?metrics=). Ownership: a list made by strlist_split() is freed with
 * strlist_free(). */
#ifndef SWEEP_COMMON_STRLIST_H
#define SWEEP_COMMON_STRLIST_H

#include <stddef.h>

/* Splits s at its commas into *out, a new array of *n new strings ("" gives none, and
 * *out NULL). Returns -1, with *out NULL and *n 0, for an empty item ("a,,b", "a,"). */
int strlist_split(const char *s, char ***out, size_t *n);
/* Frees a list of n strings; accepts NULL. */
void strlist_free(char **v, size_t n);

#endif
