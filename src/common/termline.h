/* One line of text fitted to a terminal's width: the progress line of `sweep run` and
 * the rows of `sweep monitor`. A pure function of the fields and the width (the caller
 * asks the terminal for its width), so that it is tested without a terminal. Widths are
 * counted in columns: one per UTF-8 character (wide characters are not told apart). */
#ifndef SWEEP_COMMON_TERMLINE_H
#define SWEEP_COMMON_TERMLINE_H

#include <stdbool.h>
#include <stddef.h>

/* The ellipsis that marks a cut text (one column). */
#define TERMLINE_ELLIPSIS "\u2026"

struct termline_field {
    const char *sep;  /* printed before the field unless it comes first; may be NULL */
    const char *text; /* NULL: the field is left out */
    int rank;         /* 0: always kept; higher ranks are dropped first */
    int keep;         /* a field that may be cut (rank 0 only): keep at least this
                         many columns before any other field is dropped; 0: never cut */
};

/* Columns of a UTF-8 string (its characters). */
size_t termline_width(const char *s);

/* Copies at most `cols` columns of s into buf (size n), ending with the ellipsis when
 * s is longer; cols < 1 gives "". Returns the columns written. */
size_t termline_cut(const char *s, size_t cols, char *buf, size_t n);

/* Joins the fields into buf (size n) so that the line takes at most `width` columns
 * (width <= 0: no limit). While it is too wide: the field that may be cut gives up
 * columns down to its `keep`, then the fields of the highest rank are dropped, then
 * the field that may be cut is cut further (down to one character and the ellipsis),
 * and at last the line itself is cut. Returns the columns of the line. */
size_t
termline_fit(const struct termline_field *f, size_t nf, int width, char *buf, size_t n);

#endif
