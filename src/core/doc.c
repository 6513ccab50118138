/* YAML/JSON documents as trees of positioned nodes (see doc.h). The YAML side walks
 * libyaml's events recursively (depth is bounded, so the recursion is too); the JSON
 * side is a recursive-descent parser over the bytes. Both end in the same checks:
 * duplicate keys (sorted, O(n log n) per map) and scalar typing. */
#include "core/doc.h"

#include "common/strbuf.h"
#include "common/suggest.h"
#include "common/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct pctx {
    const char *name;
    const char *text;
    size_t len;
    struct err *err;
    size_t alias_nodes; /* nodes added by alias copies so far */
};

static int perr(struct pctx *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int perr(struct pctx *p, int line, int col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(p->err, SWEEP_EINVAL, "%s:%d:%d: %s", p->name, line, col, msg);
}

/* Line and column (1-based, in characters) of a byte offset. */
static void pos_of(const char *text, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            ++*line;
            *col = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

/* Offset of the first byte that is not well-formed UTF-8, or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (len - i <= n)
            return i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

static struct doc_node *node_new(enum doc_type type, int line, int col)
{
    struct doc_node *n = xcalloc(1, sizeof(*n));
    n->type = type;
    n->line = line;
    n->col = col;
    return n;
}

void doc_destroy(struct doc_node *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->n; i++) {
        if (node->keys)
            doc_destroy(node->keys[i]);
        doc_destroy(node->items[i]);
    }
    free(node->keys);
    free(node->items);
    free(node->text);
    free(node);
}

/* Appends a child (and its key, for a map); cap is the allocated length. */
static void
node_push(struct doc_node *n, size_t *cap, struct doc_node *key, struct doc_node *val)
{
    size_t kcap = *cap; /* keys grow in step with items: same start, same doubling */
    n->items = xgrow(n->items, cap, n->n + 1, sizeof(*n->items));
    if (n->type == DOC_MAP) {
        n->keys = xgrow(n->keys, &kcap, n->n + 1, sizeof(*n->keys));
        n->keys[n->n] = key;
    }
    n->items[n->n++] = val;
}

/* ---- scalar typing (YAML 1.2 core schema) ---- */

static bool all_digits(const char *s, const char *set)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!strchr(set, *s))
            return false;
    }
    return true;
}

static bool is_decimal_number(const char *s)
{
    /* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    size_t digits = 0;

    if (*s == '-' || *s == '+')
        s++;
    while (*s >= '0' && *s <= '9')
        s++, digits++;
    if (*s == '.') {
        size_t frac = 0;
        s++;
        while (*s >= '0' && *s <= '9')
            s++, frac++;
        if (!digits && !frac)
            return false;
    } else if (!digits) {
        return false;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!all_digits(s, "0123456789"))
            return false;
        return true;
    }
    return *s == '\0';
}

static bool is_special_float(const char *s)
{
    static const char *const names[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"};

    if ((*s == '-' || *s == '+') && s[1] == '.' && s[2] != 'n' && s[2] != 'N')
        s++;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0)
            return true;
    }
    return false;
}

static int set_int(struct pctx *p, struct doc_node *n, const char *digits, int base)
{
    errno = 0;
    n->i = strtoll(digits, NULL, base);
    if (errno == ERANGE)
        return perr(p, n->line, n->col, "integer out of range: %s", n->text);
    n->type = DOC_INT;
    return SWEEP_OK;
}

static int set_real(struct pctx *p, struct doc_node *n)
{
    n->r = strtod(n->text, NULL);
    if (!isfinite(n->r))
        return perr(p, n->line, n->col, "number out of range: %s", n->text);
    n->type = DOC_REAL;
    return SWEEP_OK;
}

/* Types a plain (unquoted) scalar whose text is set. */
static int plain_resolve(struct pctx *p, struct doc_node *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const trues[] = {"true", "True", "TRUE"};
    static const char *const falses[] = {"false", "False", "FALSE"};
    const char *s = n->text;
    const char *d = (*s == '-' || *s == '+') ? s + 1 : s;

    n->type = DOC_STRING;
    for (size_t i = 0; i < 5; i++) {
        if (strcmp(s, nulls[i]) == 0) {
            n->type = DOC_NULL;
            return SWEEP_OK;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, trues[i]) == 0 || strcmp(s, falses[i]) == 0) {
            n->type = DOC_BOOL;
            n->b = s[0] == 't' || s[0] == 'T';
            return SWEEP_OK;
        }
    }
    if (all_digits(d, "0123456789"))
        return set_int(p, n, s, 10);
    if (strncmp(s, "0o", 2) == 0 && all_digits(s + 2, "01234567"))
        return set_int(p, n, s + 2, 8);
    if (strncmp(s, "0x", 2) == 0 && all_digits(s + 2, "0123456789abcdefABCDEF"))
        return set_int(p, n, s + 2, 16);
    if (is_decimal_number(s))
        return set_real(p, n);
    if (is_special_float(s))
        return perr(p, n->line, n->col,
                    "%s: infinity and NaN are not supported (quote it for a string)",
                    s);
    return SWEEP_OK;
}

/* ---- duplicate keys ---- */

struct keyref {
    const struct doc_node *key;
    size_t idx;
};

static int keyref_cmp(const void *a, const void *b)
{
    const struct keyref *x = a, *y = b;
    int c = strcmp(x->key->text, y->key->text);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The duplicate reported is the one that comes first in the document. */
static int map_check_dups(struct pctx *p, const struct doc_node *map)
{
    struct keyref *refs;
    size_t best = map->n, first = 0;

    if (map->n < 2)
        return SWEEP_OK;
    refs = xmalloc(map->n * sizeof(*refs));
    for (size_t i = 0; i < map->n; i++)
        refs[i] = (struct keyref){map->keys[i], i};
    qsort(refs, map->n, sizeof(*refs), keyref_cmp);
    for (size_t i = 1; i < map->n; i++) {
        if (strcmp(refs[i - 1].key->text, refs[i].key->text) == 0 &&
            refs[i].idx < best) {
            best = refs[i].idx;
            /* refs[i-1] is the run's first occurrence only at the run's start. */
            size_t j = i - 1;
            while (j > 0 && strcmp(refs[j - 1].key->text, refs[i].key->text) == 0)
                j--;
            first = refs[j].idx;
        }
    }
    free(refs);
    if (best == map->n)
        return SWEEP_OK;
    {
        const struct doc_node *k = map->keys[best], *f = map->keys[first];
        char desc[128];
        doc_describe(k, desc, sizeof(desc));
        return perr(p, k->line, k->col, "duplicate key %s (first at %d:%d)", desc,
                    f->line, f->col);
    }
}

/* ---- JSON ---- */

struct jp {
    struct pctx *p;
    const unsigned char *s;
    size_t len, pos;
    int line, col;
};

static void jp_adv(struct jp *j)
{
    unsigned char c = j->s[j->pos++];
    if (c == '\n') {
        j->line++;
        j->col = 1;
    } else if ((c & 0xC0) != 0x80 && c != '\r') {
        j->col++;
    }
}

static int jp_peek(const struct jp *j)
{
    return j->pos < j->len ? j->s[j->pos] : -1;
}

static void jp_ws(struct jp *j)
{
    int c;
    while ((c = jp_peek(j)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        jp_adv(j);
}

static int jp_fail(struct jp *j, const char *what)
{
    int c = jp_peek(j);
    if (c < 0)
        return perr(j->p, j->line, j->col, "invalid JSON: expected %s, got the end",
                    what);
    if (c >= 0x20 && c < 0x7F)
        return perr(j->p, j->line, j->col, "invalid JSON: expected %s, got '%c'", what,
                    c);
    return perr(j->p, j->line, j->col, "invalid JSON: expected %s", what);
}

static int jp_hex4(struct jp *j, unsigned *out)
{
    *out = 0;
    for (int k = 0; k < 4; k++) {
        int c = jp_peek(j);
        unsigned v;
        if (c >= '0' && c <= '9')
            v = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = (unsigned)(c - 'A' + 10);
        else
            return jp_fail(j, "4 hex digits after \\u");
        *out = *out << 4 | v;
        jp_adv(j);
    }
    return SWEEP_OK;
}

static void utf8_put(struct strbuf *sb, unsigned cp)
{
    if (cp < 0x80) {
        sb_addc(sb, (char)cp);
    } else if (cp < 0x800) {
        sb_addc(sb, (char)(0xC0 | cp >> 6));
        sb_addc(sb, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        sb_addc(sb, (char)(0xE0 | cp >> 12));
        sb_addc(sb, (char)(0x80 | (cp >> 6 & 0x3F)));
        sb_addc(sb, (char)(0x80 | (cp & 0x3F)));
    } else {
        sb_addc(sb, (char)(0xF0 | cp >> 18));
        sb_addc(sb, (char)(0x80 | (cp >> 12 & 0x3F)));
        sb_addc(sb, (char)(0x80 | (cp >> 6 & 0x3F)));
        sb_addc(sb, (char)(0x80 | (cp & 0x3F)));
    }
}

/* One escape after the backslash (already consumed). */
static int jp_escape(struct jp *j, struct strbuf *sb)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int line = j->line, col = j->col - 1, c = jp_peek(j);
    const char *e = c > 0 ? strchr(from, c) : NULL;
    unsigned cp, lo;

    if (e && *e) {
        sb_addc(sb, to[e - from]);
        jp_adv(j);
        return SWEEP_OK;
    }
    if (c != 'u')
        return jp_fail(j, "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    jp_adv(j);
    if (jp_hex4(j, &cp))
        return SWEEP_EINVAL;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (jp_peek(j) != '\\' || j->pos + 1 >= j->len || j->s[j->pos + 1] != 'u')
            return perr(j->p, line, col, "invalid JSON: unpaired surrogate \\u%04X",
                        cp);
        jp_adv(j);
        jp_adv(j);
        if (jp_hex4(j, &lo))
            return SWEEP_EINVAL;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return perr(j->p, line, col, "invalid JSON: unpaired surrogate \\u%04X",
                        cp);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return perr(j->p, line, col, "invalid JSON: unpaired surrogate \\u%04X", cp);
    } else if (cp == 0) {
        return perr(j->p, line, col, "NUL characters in strings are not supported");
    }
    utf8_put(sb, cp);
    return SWEEP_OK;
}

static int jp_string(struct jp *j, struct doc_node **out)
{
    struct doc_node *n = node_new(DOC_STRING, j->line, j->col);
    struct strbuf sb = STRBUF_INIT;
    int c;

    n->quoted = true;
    jp_adv(j); /* the opening quote */
    for (;;) {
        c = jp_peek(j);
        if (c < 0) {
            perr(j->p, n->line, n->col, "invalid JSON: unterminated string");
            goto fail;
        }
        if (c == '"')
            break;
        if (c < 0x20) {
            perr(j->p, j->line, j->col, "invalid JSON: control character in a string");
            goto fail;
        }
        jp_adv(j);
        if (c != '\\')
            sb_addc(&sb, (char)c);
        else if (jp_escape(j, &sb))
            goto fail;
    }
    jp_adv(j);
    sb_addc(&sb, '\0'); /* so that an empty string is allocated too */
    n->text = sb_take(&sb);
    *out = n;
    return SWEEP_OK;
fail:
    sb_fini(&sb);
    doc_destroy(n);
    return SWEEP_EINVAL;
}

static size_t jp_digits(struct jp *j)
{
    size_t k = 0;
    while (jp_peek(j) >= '0' && jp_peek(j) <= '9')
        jp_adv(j), k++;
    return k;
}

static int jp_number(struct jp *j, struct doc_node **out)
{
    struct doc_node *n = node_new(DOC_INT, j->line, j->col);
    size_t start = j->pos;
    bool real = false;
    int rc;

    if (jp_peek(j) == '-')
        jp_adv(j);
    if (jp_peek(j) == '0')
        jp_adv(j);
    else if (!jp_digits(j))
        goto bad;
    if (jp_peek(j) == '.') {
        jp_adv(j);
        real = true;
        if (!jp_digits(j))
            goto bad;
    }
    if (jp_peek(j) == 'e' || jp_peek(j) == 'E') {
        jp_adv(j);
        real = true;
        if (jp_peek(j) == '+' || jp_peek(j) == '-')
            jp_adv(j);
        if (!jp_digits(j))
            goto bad;
    }
    n->text = xstrndup((const char *)j->s + start, j->pos - start);
    rc = real ? set_real(j->p, n) : set_int(j->p, n, n->text, 10);
    if (rc) {
        doc_destroy(n);
        return rc;
    }
    *out = n;
    return SWEEP_OK;
bad:
    doc_destroy(n);
    return jp_fail(j, "a digit");
}

static int jp_value(struct jp *j, int depth, struct doc_node **out);

/* An array or object; the opening bracket is at the current position. */
static int jp_collection(struct jp *j, int depth, struct doc_node **out)
{
    bool map = jp_peek(j) == '{';
    int close = map ? '}' : ']';
    struct doc_node *n = node_new(map ? DOC_MAP : DOC_SEQ, j->line, j->col);
    size_t cap = 0;

    if (depth >= DOC_MAX_DEPTH) {
        perr(j->p, n->line, n->col, "nesting deeper than %d levels", DOC_MAX_DEPTH);
        goto fail;
    }
    jp_adv(j);
    jp_ws(j);
    if (jp_peek(j) == close) {
        jp_adv(j);
        *out = n;
        return SWEEP_OK;
    }
    for (;;) {
        struct doc_node *key = NULL, *val = NULL;

        if (map) {
            if (jp_peek(j) != '"') {
                jp_fail(j, "a string key");
                goto fail;
            }
            if (jp_string(j, &key))
                goto fail;
            jp_ws(j);
            if (jp_peek(j) != ':') {
                doc_destroy(key);
                jp_fail(j, "':' after the key");
                goto fail;
            }
            jp_adv(j);
            jp_ws(j);
        }
        if (jp_value(j, depth + 1, &val)) {
            doc_destroy(key);
            goto fail;
        }
        node_push(n, &cap, key, val);
        jp_ws(j);
        if (jp_peek(j) == close)
            break;
        if (jp_peek(j) != ',') {
            jp_fail(j, map ? "',' or '}'" : "',' or ']'");
            goto fail;
        }
        jp_adv(j);
        jp_ws(j);
    }
    jp_adv(j);
    if (map && map_check_dups(j->p, n))
        goto fail;
    *out = n;
    return SWEEP_OK;
fail:
    doc_destroy(n);
    return SWEEP_EINVAL;
}

static int jp_value(struct jp *j, int depth, struct doc_node **out)
{
    static const struct {
        const char *word;
        enum doc_type type;
        bool b;
    } words[] = {
        {"true", DOC_BOOL, true}, {"false", DOC_BOOL, false}, {"null", DOC_NULL, 0}};
    int c = jp_peek(j);

    if (c == '{' || c == '[')
        return jp_collection(j, depth, out);
    if (c == '"')
        return jp_string(j, out);
    if (c == '-' || (c >= '0' && c <= '9'))
        return jp_number(j, out);
    for (size_t i = 0; i < 3; i++) {
        size_t k = strlen(words[i].word);
        if (j->len - j->pos >= k && memcmp(j->s + j->pos, words[i].word, k) == 0) {
            struct doc_node *n = node_new(words[i].type, j->line, j->col);
            n->b = words[i].b;
            n->text = xstrdup(words[i].word);
            for (size_t m = 0; m < k; m++)
                jp_adv(j);
            *out = n;
            return SWEEP_OK;
        }
    }
    return jp_fail(j, "a value");
}

static int json_parse(struct pctx *p, struct doc_node **out)
{
    struct jp j = {p, (const unsigned char *)p->text, p->len, 0, 1, 1};
    size_t bad = utf8_check(j.s, j.len);
    struct doc_node *root = NULL;

    if (bad < j.len) {
        int line, col;
        pos_of(p->text, p->len, bad, &line, &col);
        return perr(p, line, col, "invalid UTF-8");
    }
    if (j.len >= 3 && memcmp(j.s, "\xEF\xBB\xBF", 3) == 0)
        j.pos = 3;
    jp_ws(&j);
    if (jp_value(&j, 0, &root))
        return SWEEP_EINVAL;
    jp_ws(&j);
    if (j.pos < j.len) {
        doc_destroy(root);
        return jp_fail(&j, "the end after the JSON value");
    }
    *out = root;
    return SWEEP_OK;
}

/* ---- YAML ---- */

struct anchor {
    char *name;
    const struct doc_node *node;
};

struct yb {
    struct pctx *p;
    yaml_parser_t parser;
    struct anchor *anchors;
    size_t nanchors, cap;
};

static int yb_next(struct yb *y, yaml_event_t *ev)
{
    yaml_parser_t *ps = &y->parser;
    int line, col;

    if (yaml_parser_parse(ps, ev))
        return SWEEP_OK;
    if (ps->error == YAML_MEMORY_ERROR)
        return err_set(y->p->err, SWEEP_EINTERNAL, "%s: out of memory parsing YAML",
                       y->p->name);
    if (ps->error == YAML_READER_ERROR) {
        pos_of(y->p->text, y->p->len, ps->problem_offset, &line, &col);
    } else {
        line = (int)ps->problem_mark.line + 1;
        col = (int)ps->problem_mark.column + 1;
    }
    if (ps->context && ps->error != YAML_READER_ERROR)
        return perr(y->p, line, col, "invalid YAML: %s (%s at %d:%d)",
                    ps->problem ? ps->problem : "syntax error", ps->context,
                    (int)ps->context_mark.line + 1, (int)ps->context_mark.column + 1);
    return perr(y->p, line, col, "invalid YAML: %s",
                ps->problem ? ps->problem : "syntax error");
}

/* Counts nodes (stopping past `limit`) and the height of a subtree. */
static void
node_measure(const struct doc_node *n, size_t limit, size_t *count, int *height)
{
    int h = 0;

    ++*count;
    for (size_t i = 0; i < n->n && *count <= limit; i++) {
        int hi = 0;
        node_measure(n->items[i], limit, count, &hi);
        if (hi > h)
            h = hi;
        if (n->keys)
            ++*count;
    }
    *height = h + 1;
}

static struct doc_node *node_copy(const struct doc_node *n)
{
    struct doc_node *c = node_new(n->type, n->line, n->col);
    size_t cap = 0;

    c->text = n->text ? xstrdup(n->text) : NULL;
    c->quoted = n->quoted;
    c->b = n->b;
    c->i = n->i;
    c->r = n->r;
    for (size_t i = 0; i < n->n; i++)
        node_push(c, &cap, n->keys ? node_copy(n->keys[i]) : NULL,
                  node_copy(n->items[i]));
    return c;
}

static int
yb_alias(struct yb *y, const yaml_event_t *ev, int depth, struct doc_node **out)
{
    const char *name = (const char *)ev->data.alias.anchor;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    size_t count = 0;
    int height = 0;

    for (size_t i = y->nanchors; i-- > 0;) {
        if (strcmp(y->anchors[i].name, name) != 0)
            continue;
        node_measure(y->anchors[i].node, DOC_MAX_ALIAS_NODES, &count, &height);
        if (y->p->alias_nodes + count > DOC_MAX_ALIAS_NODES)
            return perr(y->p, line, col, "aliases expand to more than %d nodes",
                        DOC_MAX_ALIAS_NODES);
        if (depth + height > DOC_MAX_DEPTH)
            return perr(y->p, line, col, "nesting deeper than %d levels",
                        DOC_MAX_DEPTH);
        y->p->alias_nodes += count;
        *out = node_copy(y->anchors[i].node);
        (*out)->line = line;
        (*out)->col = col;
        return SWEEP_OK;
    }
    return perr(y->p, line, col,
                "unknown anchor \"%.100s\" (an alias must follow its anchor)", name);
}

/* Explicit tags: only the ones that do not change what the node is. */
static int yb_tag(struct yb *y,
                  const yaml_event_t *ev,
                  const unsigned char *tag,
                  const char *allowed)
{
    const char *t = (const char *)tag;

    if (!t || strcmp(t, "!") == 0 || strcmp(t, allowed) == 0)
        return SWEEP_OK;
    return perr(y->p, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                "unsupported tag %.100s", t);
}

/* A key stays text: keys are names, never typed. */
static int
yb_scalar(struct yb *y, const yaml_event_t *ev, bool key, struct doc_node **out)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    struct doc_node *n = node_new(DOC_STRING, (int)ev->start_mark.line + 1,
                                  (int)ev->start_mark.column + 1);

    *out = n;
    if (yb_tag(y, ev, ev->data.scalar.tag, YAML_STR_TAG))
        return SWEEP_EINVAL;
    if (memchr(v, '\0', len))
        return perr(y->p, n->line, n->col,
                    "NUL characters in strings are not supported");
    n->text = xstrndup(v, len);
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    if (!n->quoted && !ev->data.scalar.tag && !key)
        return plain_resolve(y->p, n);
    return SWEEP_OK;
}

static int yb_node(
    struct yb *y, const yaml_event_t *ev, int depth, bool key, struct doc_node **out);

static int
yb_collection(struct yb *y, const yaml_event_t *ev, int depth, struct doc_node **out)
{
    bool map = ev->type == YAML_MAPPING_START_EVENT;
    yaml_event_type_t end = map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
    struct doc_node *n = node_new(map ? DOC_MAP : DOC_SEQ, (int)ev->start_mark.line + 1,
                                  (int)ev->start_mark.column + 1);
    size_t cap = 0;
    yaml_event_t e;

    *out = n;
    if (yb_tag(y, ev, map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag,
               map ? YAML_MAP_TAG : YAML_SEQ_TAG))
        return SWEEP_EINVAL;
    if (depth >= DOC_MAX_DEPTH)
        return perr(y->p, n->line, n->col, "nesting deeper than %d levels",
                    DOC_MAX_DEPTH);
    for (;;) {
        struct doc_node *key = NULL, *val = NULL;
        int rc;

        if (yb_next(y, &e))
            return SWEEP_EINVAL;
        if (e.type == end) {
            yaml_event_delete(&e);
            break;
        }
        if (map) {
            rc = yb_node(y, &e, depth + 1, true, &key);
            yaml_event_delete(&e);
            if (!rc && (key->type == DOC_SEQ || key->type == DOC_MAP))
                rc = perr(y->p, key->line, key->col, "expected a scalar key, got %s",
                          key->type == DOC_SEQ ? "a list" : "a mapping");
            if (rc || (rc = yb_next(y, &e))) {
                doc_destroy(key);
                return rc;
            }
            key->type = DOC_STRING;
        }
        rc = yb_node(y, &e, depth + 1, false, &val);
        yaml_event_delete(&e);
        if (rc) {
            doc_destroy(key);
            doc_destroy(val);
            return rc;
        }
        node_push(n, &cap, key, val);
    }
    return map ? map_check_dups(y->p, n) : SWEEP_OK;
}

/* Builds the node that starts with `ev` (owned by the caller). On failure *out may hold
 * a partial node, which the caller frees. */
static int yb_node(
    struct yb *y, const yaml_event_t *ev, int depth, bool key, struct doc_node **out)
{
    const unsigned char *anchor = NULL;
    int rc;

    *out = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return yb_alias(y, ev, depth, out);
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        rc = yb_scalar(y, ev, key, out);
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        rc = yb_collection(y, ev, depth, out);
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        rc = yb_collection(y, ev, depth, out);
        break;
    default:
        return perr(y->p, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "invalid YAML: unexpected event");
    }
    if (rc || !anchor)
        return rc;
    y->anchors = xgrow(y->anchors, &y->cap, y->nanchors + 1, sizeof(*y->anchors));
    y->anchors[y->nanchors++] = (struct anchor){xstrdup((const char *)anchor), *out};
    return SWEEP_OK;
}

/* Reads the next event and checks its type; `what` names it in the message. */
static int
yb_expect(struct yb *y, yaml_event_t *e, yaml_event_type_t type, const char *what)
{
    if (yb_next(y, e))
        return SWEEP_EINVAL;
    if (e->type == type)
        return SWEEP_OK;
    yaml_mark_t at = e->start_mark;
    yaml_event_delete(e);
    return perr(y->p, (int)at.line + 1, (int)at.column + 1, "invalid YAML: %s", what);
}

static int yaml_parse(struct pctx *p, struct doc_node **out)
{
    struct yb y = {.p = p};
    struct doc_node *root = NULL;
    yaml_event_t e;
    int rc;

    if (!yaml_parser_initialize(&y.parser))
        return err_set(p->err, SWEEP_EINTERNAL, "%s: cannot start the YAML parser",
                       p->name);
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)p->text, p->len);
    if ((rc = yb_expect(&y, &e, YAML_STREAM_START_EVENT, "expected a stream")))
        goto out;
    yaml_event_delete(&e);
    if ((rc = yb_next(&y, &e)))
        goto out;
    if (e.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&e);
        root = node_new(DOC_NULL, 1, 1);
        root->text = xstrdup("");
        goto out;
    }
    yaml_event_delete(&e); /* the document start */
    if ((rc = yb_next(&y, &e)))
        goto out;
    rc = yb_node(&y, &e, 0, false, &root);
    yaml_event_delete(&e);
    if (rc)
        goto out;
    if ((rc = yb_expect(&y, &e, YAML_DOCUMENT_END_EVENT,
                        "expected the end of the document")))
        goto out;
    yaml_event_delete(&e);
    rc = yb_expect(&y, &e, YAML_STREAM_END_EVENT,
                   "expected a single document, got a second one");
    if (!rc)
        yaml_event_delete(&e);
out:
    for (size_t i = 0; i < y.nanchors; i++)
        free(y.anchors[i].name);
    free(y.anchors);
    yaml_parser_delete(&y.parser);
    if (rc) {
        doc_destroy(root);
        return rc;
    }
    *out = root;
    return SWEEP_OK;
}

/* ---- public ---- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int doc_parse(const char *name,
              const char *text,
              size_t len,
              struct doc_node **out,
              struct err *err)
{
    struct pctx p = {name, text, len, err, 0};
    size_t i = 0;
    struct err yerr;
    int rc;

    *out = NULL;
    if (len > DOC_MAX_SIZE)
        return err_set(err, SWEEP_EINVAL, "%s: larger than %u MiB", name,
                       DOC_MAX_SIZE >> 20);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && text[i] && strchr(" \t\r\n", text[i]))
        i++;
    if (i == len || (text[i] != '{' && text[i] != '['))
        return yaml_parse(&p, out);
    rc = json_parse(&p, out);
    if (!rc || ends_with(name, ".json"))
        return rc;
    /* Not JSON: maybe a YAML flow collection such as {study: x}. */
    p.err = &yerr;
    p.alias_nodes = 0;
    if (!yaml_parse(&p, out)) {
        err_clear(err);
        return SWEEP_OK;
    }
    if (err && (ends_with(name, ".yaml") || ends_with(name, ".yml")))
        *err = yerr;
    return SWEEP_EINVAL;
}

const struct doc_node *doc_map_get(const struct doc_node *map, const char *key)
{
    if (!map || map->type != DOC_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        if (strcmp(map->keys[i]->text, key) == 0)
            return map->items[i];
    }
    return NULL;
}

json_t *doc_to_json(const struct doc_node *node)
{
    json_t *v = NULL;

    switch (node->type) {
    case DOC_NULL:
        return json_null();
    case DOC_BOOL:
        return json_boolean(node->b);
    case DOC_INT:
        return json_integer(node->i);
    case DOC_REAL:
        return json_real(node->r);
    case DOC_STRING:
        /* The parsers only let valid UTF-8 without NUL through. */
        return json_string(node->text);
    case DOC_SEQ:
        v = json_array();
        for (size_t i = 0; i < node->n; i++)
            json_array_append_new(v, doc_to_json(node->items[i]));
        return v;
    case DOC_MAP:
        v = json_object();
        for (size_t i = 0; i < node->n; i++)
            json_object_set_new(v, node->keys[i]->text, doc_to_json(node->items[i]));
        return v;
    }
    return json_null();
}

bool doc_is_empty(const struct doc_node *node)
{
    return node->type == DOC_NULL && !node->quoted && node->text && !node->text[0];
}

void doc_quote(const char *s, size_t max_chars, char *buf, size_t n)
{
    struct strbuf sb = STRBUF_INIT;
    size_t chars = 0;

    sb_addc(&sb, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c & 0xC0) != 0x80 && chars++ == max_chars) {
            sb_adds(&sb, "...");
            break;
        }
        if (c == '"' || c == '\\')
            sb_addf(&sb, "\\%c", c);
        else if (c == '\n')
            sb_adds(&sb, "\\n");
        else if (c == '\t')
            sb_adds(&sb, "\\t");
        else if (c < 0x20 || c == 0x7F)
            sb_addf(&sb, "\\u%04x", c);
        else
            sb_addc(&sb, (char)c);
    }
    sb_addc(&sb, '"');
    snprintf(buf, n, "%s", sb_str(&sb));
    sb_fini(&sb);
}

void doc_describe(const struct doc_node *node, char *buf, size_t n)
{
    switch (node->type) {
    case DOC_SEQ:
        snprintf(buf, n, "a list");
        break;
    case DOC_MAP:
        snprintf(buf, n, "a mapping");
        break;
    case DOC_NULL:
        snprintf(buf, n, "%s", doc_is_empty(node) ? "nothing" : "null");
        break;
    case DOC_STRING:
        doc_quote(node->text, 40, buf, n);
        break;
    default:
        snprintf(buf, n, "%.40s", node->text);
    }
}

/* ---- the errors of a checker ---- */

int doc_vfailf(const char *file,
               struct err *err,
               const struct doc_node *at,
               const char *fmt,
               va_list ap)
{
    char msg[1536];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    return err_set(err, SWEEP_EINVAL, "%s:%d:%d: %s", file, at->line, at->col, msg);
}

int doc_failf(
    const char *file, struct err *err, const struct doc_node *at, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = doc_vfailf(file, err, at, fmt, ap);
    va_end(ap);
    return rc;
}

int doc_bad(const char *file,
            struct err *err,
            const struct doc_node *n,
            const char *field,
            const char *what)
{
    char got[512];

    doc_describe(n, got, sizeof(got));
    return doc_failf(file, err, n, "%s: expected %s, got %s", field, what, got);
}

int doc_check_fields(const char *file,
                     struct err *err,
                     const struct doc_node *map,
                     const char *prefix,
                     const char *const *allowed,
                     size_t nallowed)
{
    for (size_t i = 0; i < map->n; i++) {
        const char *key = map->keys[i]->text, *near;
        struct strbuf sb = STRBUF_INIT;
        char quoted[1024], *full;
        bool known = false;

        for (size_t k = 0; k < nallowed && !known; k++)
            known = strcmp(key, allowed[k]) == 0;
        if (known)
            continue;
        near = suggest_closest(key, allowed, nallowed);
        full = xasprintf("%s%s%s", prefix, *prefix ? "." : "", key);
        doc_quote(full, 120, quoted, sizeof(quoted));
        free(full);
        sb_addf(&sb, "unknown field %s", quoted);
        if (near)
            sb_addf(&sb, " (did you mean \"%s\"?)", near);
        sb_adds(&sb, "; expected one of: ");
        for (size_t k = 0; k < nallowed; k++)
            sb_addf(&sb, "%s%s", k ? ", " : "", allowed[k]);
        doc_failf(file, err, map->keys[i], "%s", sb_str(&sb));
        sb_fini(&sb);
        return SWEEP_EINVAL;
    }
    return SWEEP_OK;
}
