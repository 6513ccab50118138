/* JSON helpers on top of jansson: the canonical form used for task keys and storage
 * (sorted keys, no spaces, reals in their shortest round-trip form so 0.1 prints as
 * 0.1), and how a value prints as one command-line argument. */
#ifndef SWEEP_COMMON_JSONX_H
#define SWEEP_COMMON_JSONX_H

#include "strbuf.h"

#include <jansson.h>

/* Appends the canonical JSON text of v. */
void jsonx_canon(const json_t *v, struct strbuf *sb);
/* Canonical JSON text as a new string (free it). */
char *jsonx_canon_str(const json_t *v);
/* A real in its shortest form that reads back to the same double ("0.1", "1e-06",
 * "3.0" keeps a ".0" so that it stays a real). buf: at least 32 bytes. */
void jsonx_real_str(double d, char *buf, size_t n);
/* A value as one argument: strings as they are, numbers as above, true/false, null as
 * "", arrays and objects as canonical JSON. New string (free it). */
char *jsonx_arg_str(const json_t *v);

#endif
