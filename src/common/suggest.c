/* The nearest known name to a mistyped one (see suggest.h). */
#include "suggest.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

static size_t suggest_min(size_t a, size_t b)
{
    return a < b ? a : b;
}

static bool suggest_same(char a, char b)
{
    return tolower((unsigned char)a) == tolower((unsigned char)b);
}

size_t suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t rows[3][SUGGEST_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

    if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t d = prev[j - 1] + !suggest_same(a[i - 1], b[j - 1]);
            d = suggest_min(d, prev[j] + 1);
            d = suggest_min(d, cur[j - 1] + 1);
            if (i > 1 && j > 1 && suggest_same(a[i - 1], b[j - 2]) &&
                suggest_same(a[i - 2], b[j - 1]))
                d = suggest_min(d, prev2[j - 2] + 1);
            cur[j] = d;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

void suggest_init(struct suggest *s, const char *word)
{
    *s = (struct suggest){.word = word, .best_dist = SIZE_MAX};
}

/* One of the two is a prefix of the other, ignoring case. */
static bool suggest_is_prefix(const char *a, const char *b)
{
    while (*a && *b && suggest_same(*a, *b))
        a++, b++;
    return !*a || !*b;
}

void suggest_add(struct suggest *s, const char *candidate)
{
    size_t d;

    if (!candidate || !*candidate || !*s->word || strcmp(candidate, s->word) == 0)
        return;
    d = suggest_distance(s->word, candidate);
    if (d != SIZE_MAX && 2 * d <= strlen(candidate) && d < s->best_dist) {
        s->best = candidate;
        s->best_dist = d;
    }
    if (!s->prefix && d != SIZE_MAX && suggest_is_prefix(s->word, candidate))
        s->prefix = candidate;
}

const char *suggest_best(const struct suggest *s)
{
    return s->best ? s->best : s->prefix;
}

const char *suggest_closest(const char *word, const char *const *cands, size_t n)
{
    struct suggest s;

    suggest_init(&s, word);
    for (size_t i = 0; i < n; i++)
        suggest_add(&s, cands[i]);
    return suggest_best(&s);
}
