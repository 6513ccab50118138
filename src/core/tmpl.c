/* Command templates (see tmpl.h). One scanner splits a template into literal text and
 * {name} placeholders and rejects stray braces; tmpl_render substitutes values and
 * tmpl_check only looks names up, so both accept and refuse exactly the same templates.
 * A name is looked up among the parameters first, then among the built-ins, so a
 * parameter a user calls "study" is what {study} means in that user's command. */
#include "core/tmpl.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const tmpl_builtins[] = {"task_dir", "seed", "repetition", "study",
                                            "key"};
#define TMPL_NBUILTINS (sizeof(tmpl_builtins) / sizeof(tmpl_builtins[0]))

/* A piece of a template: literal text, or the name inside a {name} placeholder. */
struct tmpl_tok {
    const char *s;
    size_t len;
    bool is_name;
};

static bool tmpl_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool tmpl_name_char(char c)
{
    return tmpl_name_start(c) || (c >= '0' && c <= '9') || c == '.';
}

/* Reads the token at *pos and moves past it. Returns 1 for a token, 0 at the end, or
 * -1 with err set for a brace that is neither doubled nor part of a placeholder. */
static int
tmpl_scan(const char *tmpl, size_t *pos, struct tmpl_tok *tok, struct err *err)
{
    const char *p = tmpl + *pos;
    size_t n;

    if (*p == '\0')
        return 0;
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
        *tok = (struct tmpl_tok){p, 1, false};
        *pos += 2;
        return 1;
    }
    if (p[0] == '}') {
        err_set(
            err, SWEEP_EINVAL,
            "template \"%s\", column %zu: lone '}' (write \"}}\" for a literal brace)",
            tmpl, *pos + 1);
        return -1;
    }
    if (p[0] == '{') {
        n = 0;
        if (tmpl_name_start(p[1]))
            for (n = 1; tmpl_name_char(p[1 + n]); n++)
                ;
        if (n == 0 || p[1 + n] != '}') {
            err_set(err, SWEEP_EINVAL,
                    "template \"%s\", column %zu: '{' does not start a placeholder "
                    "{name} (a letter or '_', then letters, digits, '_' or '.'); write "
                    "\"{{\" for a literal brace",
                    tmpl, *pos + 1);
            return -1;
        }
        *tok = (struct tmpl_tok){p + 1, n, true};
        *pos += n + 2;
        return 1;
    }
    n = strcspn(p, "{}");
    *tok = (struct tmpl_tok){p, n, false};
    *pos += n;
    return 1;
}

static int tmpl_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int tmpl_unknown(const char *tmpl,
                        const struct tmpl_tok *tok,
                        char *const *names,
                        size_t n,
                        struct err *err)
{
    struct strbuf list = STRBUF_INIT, builtins = STRBUF_INIT;
    size_t i;

    for (i = 0; i < n; i++) {
        if (i)
            sb_adds(&list, ", ");
        sb_adds(&list, names[i]);
    }
    for (i = 0; i < TMPL_NBUILTINS; i++) {
        if (i)
            sb_adds(&builtins, ", ");
        sb_adds(&builtins, tmpl_builtins[i]);
    }
    err_set(err, SWEEP_EINVAL,
            "unknown placeholder {%.*s} in template \"%s\"; parameters are: %s "
            "(built-ins: %s)",
            (int)tok->len, tok->s, tmpl, n ? sb_str(&list) : "(none)",
            sb_str(&builtins));
    sb_fini(&list);
    sb_fini(&builtins);
    return SWEEP_EINVAL;
}

/* The error for an unknown name in tmpl_render: lists the task's parameters. */
static int tmpl_unknown_param(const char *tmpl,
                              const struct tmpl_tok *tok,
                              const json_t *params,
                              struct err *err)
{
    size_t n = 0, cap = 0;
    char **names = NULL;
    const char *name;
    json_t *v;
    int rc;

    if (params)
        json_object_foreach((json_t *)params, name, v)
        {
            names = xgrow(names, &cap, n + 1, sizeof(*names));
            names[n++] = (char *)name;
        }
    if (n)
        qsort(names, n, sizeof(*names), tmpl_cmp_str);
    rc = tmpl_unknown(tmpl, tok, names, n, err);
    free(names);
    return rc;
}

static bool tmpl_tok_is(const struct tmpl_tok *tok, const char *name)
{
    return strlen(name) == tok->len && memcmp(name, tok->s, tok->len) == 0;
}

static bool tmpl_is_builtin(const struct tmpl_tok *tok)
{
    for (size_t i = 0; i < TMPL_NBUILTINS; i++)
        if (tmpl_tok_is(tok, tmpl_builtins[i]))
            return true;
    return false;
}

/* The value of a placeholder as a new string, or NULL for an unknown name. */
static char *tmpl_value(const struct tmpl_tok *tok, const struct tmpl_ctx *ctx)
{
    const json_t *v =
        ctx->params ? json_object_getn(ctx->params, tok->s, tok->len) : NULL;

    if (v)
        return jsonx_arg_str(v);
    if (tmpl_tok_is(tok, "task_dir"))
        return xstrdup(ctx->task_dir ? ctx->task_dir : "");
    if (tmpl_tok_is(tok, "seed"))
        return xasprintf("%lld", ctx->seed);
    if (tmpl_tok_is(tok, "repetition"))
        return xasprintf("%d", ctx->repetition);
    if (tmpl_tok_is(tok, "study"))
        return xstrdup(ctx->study ? ctx->study : "");
    if (tmpl_tok_is(tok, "key"))
        return xstrdup(ctx->key ? ctx->key : "");
    return NULL;
}

/* Appends s in single quotes for /bin/sh: each ' inside becomes '\'' . */
static void tmpl_add_quoted(struct strbuf *sb, const char *s)
{
    sb_addc(sb, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            sb_adds(sb, "'\\''");
        else
            sb_addc(sb, *s);
    }
    sb_addc(sb, '\'');
}

int tmpl_render(const char *tmpl,
                const struct tmpl_ctx *ctx,
                bool shell_quote,
                char **out,
                struct err *err)
{
    struct strbuf sb = STRBUF_INIT;
    struct tmpl_tok tok;
    size_t pos = 0;
    int rc = SWEEP_OK, more;

    while ((more = tmpl_scan(tmpl, &pos, &tok, err)) == 1) {
        char *val;

        if (!tok.is_name) {
            sb_add(&sb, tok.s, tok.len);
            continue;
        }
        val = tmpl_value(&tok, ctx);
        if (!val) {
            rc = tmpl_unknown_param(tmpl, &tok, ctx->params, err);
            goto out;
        }
        if (shell_quote)
            tmpl_add_quoted(&sb, val);
        else
            sb_adds(&sb, val);
        free(val);
    }
    if (more < 0) {
        rc = SWEEP_EINVAL;
        goto out;
    }
    *out = sb_take(&sb);
out:
    sb_fini(&sb);
    return rc;
}

int tmpl_check(const char *tmpl, char *const *names, size_t n, struct err *err)
{
    struct tmpl_tok tok;
    size_t pos = 0;
    int more;

    while ((more = tmpl_scan(tmpl, &pos, &tok, err)) == 1) {
        char *name;
        bool found;

        if (!tok.is_name || tmpl_is_builtin(&tok))
            continue;
        name = xstrndup(tok.s, tok.len);
        found = n > 0 && bsearch(&name, names, n, sizeof(*names), tmpl_cmp_str) != NULL;
        free(name);
        if (!found)
            return tmpl_unknown(tmpl, &tok, names, n, err);
    }
    return more < 0 ? SWEEP_EINVAL : SWEEP_OK;
}
