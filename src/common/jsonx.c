/* Canonical JSON and argument strings (see jsonx.h). */
#include "jsonx.h"

#include "xalloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonx_real_str(double d, char *buf, size_t n)
{
    if (!isfinite(d)) {
        /* JSON has no NaN/Inf; null is what a reader can parse. */
        snprintf(buf, n, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (!strpbrk(buf, ".eEn"))
        strncat(buf, ".0", n - strlen(buf) - 1);
}

static void canon_string(const char *s, size_t len, struct strbuf *sb)
{
    static const char hex[] = "0123456789abcdef";

    sb_addc(sb, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            sb_adds(sb, "\\\"");
            break;
        case '\\':
            sb_adds(sb, "\\\\");
            break;
        case '\n':
            sb_adds(sb, "\\n");
            break;
        case '\t':
            sb_adds(sb, "\\t");
            break;
        case '\r':
            sb_adds(sb, "\\r");
            break;
        default:
            if (c < 0x20) {
                char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
                sb_adds(sb, u);
            } else {
                sb_addc(sb, (char)c);
            }
        }
    }
    sb_addc(sb, '"');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void jsonx_canon(const json_t *v, struct strbuf *sb)
{
    char buf[64];

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
        const char *k;
        json_t *val;

        json_object_foreach((json_t *)v, k, val) keys[i++] = k;
        qsort(keys, n, sizeof(*keys), cmp_str);
        sb_addc(sb, '{');
        for (i = 0; i < n; i++) {
            if (i)
                sb_addc(sb, ',');
            canon_string(keys[i], strlen(keys[i]), sb);
            sb_addc(sb, ':');
            jsonx_canon(json_object_get(v, keys[i]), sb);
        }
        sb_addc(sb, '}');
        free(keys);
        break;
    }
    case JSON_ARRAY:
        sb_addc(sb, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                sb_addc(sb, ',');
            jsonx_canon(json_array_get(v, i), sb);
        }
        sb_addc(sb, ']');
        break;
    case JSON_STRING:
        canon_string(json_string_value(v), json_string_length(v), sb);
        break;
    case JSON_INTEGER: {
        /* "%lld" without printf: a preparation prints a number per parameter of every
         * task. */
        long long i = (long long)json_integer_value(v);
        unsigned long long u =
            i < 0 ? 0ull - (unsigned long long)i : (unsigned long long)i;
        char *p = buf + sizeof(buf);
        do
            *--p = (char)('0' + u % 10);
        while ((u /= 10) > 0);
        if (i < 0)
            *--p = '-';
        sb_add(sb, p, (size_t)(buf + sizeof(buf) - p));
        break;
    }
    case JSON_REAL:
        jsonx_real_str(json_real_value(v), buf, sizeof(buf));
        sb_adds(sb, buf);
        break;
    case JSON_TRUE:
        sb_adds(sb, "true");
        break;
    case JSON_FALSE:
        sb_adds(sb, "false");
        break;
    case JSON_NULL:
        sb_adds(sb, "null");
        break;
    }
}

char *jsonx_canon_str(const json_t *v)
{
    struct strbuf sb = STRBUF_INIT;
    jsonx_canon(v, &sb);
    return sb_take(&sb);
}

static bool is_container(const json_t *v)
{
    return json_is_object(v) || json_is_array(v);
}

/* depth < 0: everything on one line. */
static void newline(struct strbuf *sb, int depth)
{
    if (depth < 0)
        return;
    sb_addc(sb, '\n');
    for (int i = 0; i < depth; i++)
        sb_adds(sb, "  ");
}

static int deeper(int depth)
{
    return depth < 0 ? depth : depth + 1;
}

static void pretty(const json_t *v, int depth, struct strbuf *sb)
{
    const char *k;
    json_t *x;
    size_t i = 0;

    if (json_is_object(v) && json_object_size(v) > 0) {
        sb_addc(sb, '{');
        json_object_foreach((json_t *)v, k, x)
        {
            sb_adds(sb, i++ ? (depth < 0 ? ", " : ",") : "");
            newline(sb, deeper(depth));
            canon_string(k, strlen(k), sb);
            sb_adds(sb, ": ");
            pretty(x, deeper(depth), sb);
        }
        newline(sb, depth);
        sb_addc(sb, '}');
        return;
    }
    if (json_is_array(v) && json_array_size(v) > 0) {
        bool flat = true; /* scalars only: on one line */
        for (i = 0; i < json_array_size(v); i++)
            flat = flat && !is_container(json_array_get(v, i));
        flat = flat || depth < 0;
        sb_addc(sb, '[');
        for (i = 0; i < json_array_size(v); i++) {
            sb_adds(sb, i ? (flat ? ", " : ",") : "");
            if (!flat)
                newline(sb, deeper(depth));
            pretty(json_array_get(v, i), deeper(depth), sb);
        }
        if (!flat)
            newline(sb, depth);
        sb_addc(sb, ']');
        return;
    }
    jsonx_canon(v, sb);
}

char *jsonx_pretty_str(const json_t *v)
{
    struct strbuf sb = STRBUF_INIT;

    pretty(v, 0, &sb);
    sb_addc(&sb, '\n');
    return sb_take(&sb);
}

char *jsonx_line_str(const json_t *v)
{
    struct strbuf sb = STRBUF_INIT;

    pretty(v, -1, &sb);
    return sb_take(&sb);
}

char *jsonx_arg_str(const json_t *v)
{
    char buf[64];

    switch (json_typeof(v)) {
    case JSON_STRING:
        return xstrndup(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return xasprintf("%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        jsonx_real_str(json_real_value(v), buf, sizeof(buf));
        return xstrdup(buf);
    case JSON_TRUE:
        return xstrdup("true");
    case JSON_FALSE:
        return xstrdup("false");
    case JSON_NULL:
        return xstrdup("");
    default:
        return jsonx_canon_str(v);
    }
}

static int walk(const json_t *obj, struct strbuf *path, jsonx_leaf_fn *fn, void *arg)
{
    size_t len = path->len;
    const char *k;
    json_t *v;
    int rc = 0;

    json_object_foreach((json_t *)obj, k, v)
    {
        if (len)
            sb_addc(path, '.');
        sb_adds(path, k);
        rc = json_is_object(v) ? walk(v, path, fn, arg) : fn(sb_str(path), v, arg);
        path->len = len;
        if (path->buf)
            path->buf[len] = '\0';
        if (rc)
            break;
    }
    return rc;
}

int jsonx_walk_leaves(const json_t *obj, jsonx_leaf_fn *fn, void *arg)
{
    struct strbuf path = STRBUF_INIT;
    int rc = walk(obj, &path, fn, arg);

    sb_fini(&path);
    return rc;
}

json_t *jsonx_object_or_empty(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;

    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v ? v : json_object();
}
