/* Allocation that aborts with a message on failure, as tmux, redis and git do. */
#ifndef SWEEP_COMMON_XALLOC_H
#define SWEEP_COMMON_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of `size`-byte elements so that it holds at least `need`; doubles. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
