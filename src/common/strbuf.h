/* A growable string: always NUL-terminated, `len` bytes used. */
#ifndef SWEEP_COMMON_STRBUF_H
#define SWEEP_COMMON_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
};

#define STRBUF_INIT                                                                    \
    {                                                                                  \
        NULL, 0, 0                                                                     \
    }

void sb_add(struct strbuf *sb, const char *s, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_reset(struct strbuf *sb);
/* The string, "" when empty; borrowed until the next change. */
const char *sb_str(const struct strbuf *sb);
/* Moves the string to the caller (free it) and resets the buffer. */
char *sb_take(struct strbuf *sb);
void sb_fini(struct strbuf *sb);

#endif
