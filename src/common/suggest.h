/* "Did you mean": the known name nearest to a mistyped one, for every place where a
 * user types a name (commands, options, spec fields, placeholders, models, model
 * parameters). Nearness is the edit distance with adjacent transpositions counting as
 * one edit (optimal string alignment), ignoring case; a candidate is close enough when
 * at most half of its characters need an edit. When none is, a candidate that is a
 * prefix of the word or the word a prefix of it (ignoring case, "Temp" for "T",
 * "temp" for "temperature") is taken. Names longer than SUGGEST_MAX_LEN get no
 * suggestion. Each comparison is O(len(word) * len(candidate)). */
#ifndef SWEEP_COMMON_SUGGEST_H
#define SWEEP_COMMON_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

#define SUGGEST_MAX_LEN 128

/* The search for one word; candidates are fed one at a time with suggest_add, so any
 * table (options, models, parameters, JSON keys) can be searched without copying it. */
struct suggest {
    const char *word;
    const char *best;   /* nearest candidate so far (borrowed), or NULL */
    size_t best_dist;   /* its distance */
    const char *prefix; /* first prefix candidate (see above), or NULL */
};

/* The distance between a and b (see above); SIZE_MAX when either is too long. */
size_t suggest_distance(const char *a, const char *b);

void suggest_init(struct suggest *s, const char *word);
/* Considers one candidate (borrowed until suggest_best; NULL and "" are skipped). The
 * first of equally near candidates wins. */
void suggest_add(struct suggest *s, const char *candidate);
/* The suggestion, or NULL when no candidate is close enough. A candidate equal to the
 * word is never suggested (it was not mistyped); one that differs only in case is. */
const char *suggest_best(const struct suggest *s);

/* suggest_best over the n strings of cands. */
const char *suggest_closest(const char *word, const char *const *cands, size_t n);

#endif
