/* What the pictures of src/report share about text and files: cleaning a string so that
 * cairo and XML accept it, and the output format an extension names. Internal to
 * src/report. */
#ifndef SWEEP_REPORT_TEXT_H
#define SWEEP_REPORT_TEXT_H

#include "common/err.h"

enum text_format {
    FORMAT_PNG,
    FORMAT_SVG,
    FORMAT_PDF,
};

/* A copy of s (free it) that is valid UTF-8 without control characters: invalid bytes
 * become '?', control characters ' ' (cairo rejects invalid UTF-8, XML rejects control
 * characters). NULL gives "". */
char *text_clean(const char *s);

/* The format named by path's extension (.png, .svg, .pdf, any case); SWEEP_EINVAL,
 * naming the path and the allowed extensions, for another or none. */
int text_format_of(const char *path, enum text_format *fmt, struct err *err);

#endif
