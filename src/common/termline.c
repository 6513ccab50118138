/* A line fitted to a terminal's width (see termline.h). */
#include "termline.h"

#include "strbuf.h"

#include <stdio.h>
#include <string.h>

size_t termline_width(const char *s)
{
    size_t w = 0;

    for (; s && *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

size_t termline_cut(const char *s, size_t cols, char *buf, size_t n)
{
    size_t w = termline_width(s), i = 0, c = 0, ell = strlen(TERMLINE_ELLIPSIS);

    if (n == 0)
        return 0;
    buf[0] = '\0';
    if (!s || cols < 1)
        return 0;
    if (w <= cols) {
        snprintf(buf, n, "%s", s);
        return w;
    }
    /* cols - 1 characters, then the ellipsis. */
    while (s[i] && c < cols - 1) {
        i++;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        c++;
    }
    if (i + ell >= n)
        return 0;
    memcpy(buf, s, i);
    memcpy(buf + i, TERMLINE_ELLIPSIS, ell + 1);
    return c + 1;
}

/* Columns of the fields of rank <= maxrank, but the cut one (index `cut`). */
static size_t
fixed_width(const struct termline_field *f, size_t nf, int maxrank, size_t cut)
{
    size_t w = 0;
    bool first = true;

    for (size_t i = 0; i < nf; i++) {
        if (!f[i].text || f[i].rank > maxrank)
            continue;
        if (!first && f[i].sep)
            w += termline_width(f[i].sep);
        first = false;
        if (i != cut)
            w += termline_width(f[i].text);
    }
    return w;
}

static size_t join(const struct termline_field *f,
                   size_t nf,
                   int maxrank,
                   size_t cut,
                   size_t cut_cols,
                   char *buf,
                   size_t n)
{
    struct strbuf sb = {0};
    bool first = true;
    size_t w;

    for (size_t i = 0; i < nf; i++) {
        if (!f[i].text || f[i].rank > maxrank)
            continue;
        if (!first && f[i].sep)
            sb_adds(&sb, f[i].sep);
        first = false;
        if (i == cut) {
            char part[1024];
            termline_cut(f[i].text, cut_cols, part, sizeof(part));
            sb_adds(&sb, part);
        } else {
            sb_adds(&sb, f[i].text);
        }
    }
    snprintf(buf, n, "%s", sb_str(&sb));
    w = termline_width(buf);
    sb_fini(&sb);
    return w;
}

size_t
termline_fit(const struct termline_field *f, size_t nf, int width, char *buf, size_t n)
{
    size_t cut = nf, full = 0, w;
    int maxrank = 0;

    for (size_t i = 0; i < nf; i++) {
        if (f[i].text && f[i].rank > maxrank)
            maxrank = f[i].rank;
        if (f[i].text && f[i].keep > 0 && cut == nf)
            cut = i;
    }
    if (cut < nf)
        full = termline_width(f[cut].text);
    if (width <= 0)
        return join(f, nf, maxrank, nf, 0, buf, n);
    /* Drop ranks from the highest while the cut field would go below its keep. */
    for (int r = maxrank; r >= 0; r--) {
        size_t fixed = fixed_width(f, nf, r, cut), avail;
        size_t want =
            cut < nf ? (full < (size_t)f[cut].keep ? full : (size_t)f[cut].keep) : 0;

        if (fixed > (size_t)width)
            continue;
        avail = (size_t)width - fixed;
        if (cut < nf && avail >= want)
            return join(f, nf, r, cut, avail, buf, n);
        if (cut == nf)
            return join(f, nf, r, nf, 0, buf, n);
    }
    /* Only rank 0 left: the cut field gets what remains (at least "x…"), then the
     * whole line is cut. */
    {
        size_t fixed = fixed_width(f, nf, 0, cut);
        size_t avail = fixed < (size_t)width ? (size_t)width - fixed : 0;
        char line[4096];

        join(f, nf, 0, cut, avail < 2 ? 2 : avail, line, sizeof(line));
        w = termline_cut(line, (size_t)width, buf, n);
    }
    return w;
}
