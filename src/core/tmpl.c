/* Command templates (see tmpl.h). One scanner splits a template into literal text and
 * {name} placeholders and rejects stray braces; tmpl_render substitutes values, and
 * tmpl_check only looks names up (through tmpl_each_name, which spec.c also uses), so
 * they accept and refuse exactly the same templates. A name is looked up among the
 * parameters first, then among the built-ins, so a parameter a user calls "study" is
 * what {study} means in that user's command. */
#include "core/tmpl.h"

#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/suggest.h"
#include "common/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const tmpl_builtins[] = {"task_dir", "seed", "repetition",
                                            "study",    "key",  "spec_dir"};
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

/* The step NAME of "steps.NAME.dir" or "steps.NAME.result" (its length in *len), with
 * *result telling which; NULL when name has neither form. */
static const char *tmpl_step_ref(const char *name, size_t *len, bool *result)
{
    const char *dot;

    if (strncmp(name, "steps.", 6) != 0)
        return NULL;
    name += 6;
    dot = strchr(name, '.');
    if (!dot || dot == name)
        return NULL;
    if (strcmp(dot, ".dir") != 0 && strcmp(dot, ".result") != 0)
        return NULL;
    *len = (size_t)(dot - name);
    *result = strcmp(dot, ".result") == 0;
    return name;
}

/* The index of the step a "steps.NAME.dir|result" name refers to among names[0..n),
 * or -1. */
static long tmpl_step_find(const char *name, char *const *names, size_t n, bool *result)
{
    size_t len;
    const char *step = tmpl_step_ref(name, &len, result);

    for (size_t i = 0; step && i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], step, len) == 0)
            return (long)i;
    return -1;
}

static int tmpl_unknown(const char *tmpl,
                        const char *name,
                        char *const *names,
                        size_t n,
                        const struct tmpl_scope *scope,
                        struct err *err)
{
    struct strbuf list = STRBUF_INIT, builtins = STRBUF_INIT, near = STRBUF_INIT;
    char **refs = NULL;
    size_t i, nrefs = scope ? 2 * scope->nsteps : 0;
    struct suggest sg;

    suggest_init(&sg, name);
    for (i = 0; i < n; i++) {
        sb_addf(&list, "%s%s", i ? ", " : "", names[i]);
        suggest_add(&sg, names[i]);
    }
    for (i = 0; i < TMPL_NBUILTINS; i++) {
        sb_addf(&builtins, "%s%s", i ? ", " : "", tmpl_builtins[i]);
        suggest_add(&sg, tmpl_builtins[i]);
    }
    refs = xcalloc(nrefs + 1, sizeof(*refs));
    for (i = 0; scope && i < scope->nsteps; i++) {
        sb_addf(&builtins, ", steps.%s.dir, steps.%s.result", scope->step_names[i],
                scope->step_names[i]);
        refs[2 * i] = xasprintf("steps.%s.dir", scope->step_names[i]);
        refs[2 * i + 1] = xasprintf("steps.%s.result", scope->step_names[i]);
        suggest_add(&sg, refs[2 * i]);
        suggest_add(&sg, refs[2 * i + 1]);
    }
    if (scope && scope->reduce) {
        sb_adds(&builtins, ", reduce.input");
        suggest_add(&sg, "reduce.input");
    }
    if (suggest_best(&sg))
        sb_addf(&near, " (did you mean {%s}?)", suggest_best(&sg));
    err_set(err, SWEEP_EINVAL,
            "unknown placeholder {%s} in template \"%s\"%s; parameters are: %s "
            "(built-ins: %s)",
            name, tmpl, sb_str(&near), n ? sb_str(&list) : "(none)", sb_str(&builtins));
    for (i = 0; i < nrefs; i++)
        free(refs[i]);
    free(refs);
    sb_fini(&list);
    sb_fini(&builtins);
    sb_fini(&near);
    return SWEEP_EINVAL;
}

/* The error for an unknown name in tmpl_render: lists the task's parameters. */
static int tmpl_unknown_param(const char *tmpl,
                              const char *name,
                              const struct tmpl_ctx *ctx,
                              struct err *err)
{
    struct tmpl_scope scope = {ctx->step_names, ctx->nsteps, ctx->reduce_input != NULL};
    size_t n = 0, cap = 0;
    char **names = NULL;
    const char *key;
    json_t *v;
    int rc;

    if (ctx->params)
        json_object_foreach((json_t *)ctx->params, key, v)
        {
            names = xgrow(names, &cap, n + 1, sizeof(*names));
            names[n++] = (char *)key;
        }
    if (n)
        qsort(names, n, sizeof(*names), tmpl_cmp_str);
    rc = tmpl_unknown(tmpl, name, names, n, &scope, err);
    free(names);
    return rc;
}

static bool tmpl_is_builtin(const char *name)
{
    for (size_t i = 0; i < TMPL_NBUILTINS; i++)
        if (strcmp(name, tmpl_builtins[i]) == 0)
            return true;
    return false;
}

/* The value of a placeholder as a new string, or NULL for an unknown name. */
static char *tmpl_value(const char *name, const struct tmpl_ctx *ctx)
{
    const json_t *v = ctx->params ? json_object_get(ctx->params, name) : NULL;
    bool result;
    long step;

    if (v)
        return jsonx_arg_str(v);
    if (strcmp(name, "task_dir") == 0)
        return xstrdup(ctx->task_dir ? ctx->task_dir : "");
    if (strcmp(name, "spec_dir") == 0)
        return xstrdup(ctx->spec_dir ? ctx->spec_dir : "");
    if (strcmp(name, "seed") == 0)
        return xasprintf("%lld", ctx->seed);
    if (strcmp(name, "repetition") == 0)
        return xasprintf("%d", ctx->repetition);
    if (strcmp(name, "study") == 0)
        return xstrdup(ctx->study ? ctx->study : "");
    if (strcmp(name, "key") == 0)
        return xstrdup(ctx->key ? ctx->key : "");
    if (strcmp(name, "reduce.input") == 0 && ctx->reduce_input)
        return xstrdup(ctx->reduce_input);
    step = tmpl_step_find(name, ctx->step_names, ctx->nsteps, &result);
    if (step < 0)
        return NULL;
    return result ? xasprintf("%s/result.json", ctx->step_dirs[step])
                  : xstrdup(ctx->step_dirs[step]);
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

char *tmpl_shell_word(const char *s)
{
    struct strbuf sb = STRBUF_INIT;

    if (*s && s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789_@%+=:,./-")] == '\0')
        return xstrdup(s);
    tmpl_add_quoted(&sb, s);
    return sb_take(&sb);
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
        char *name, *val;

        if (!tok.is_name) {
            sb_add(&sb, tok.s, tok.len);
            continue;
        }
        name = xstrndup(tok.s, tok.len);
        val = tmpl_value(name, ctx);
        if (!val)
            rc = tmpl_unknown_param(tmpl, name, ctx, err);
        free(name);
        if (rc)
            goto out;
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

int tmpl_each_name(const char *tmpl, tmpl_name_fn *fn, void *arg, struct err *err)
{
    struct tmpl_tok tok;
    size_t pos = 0, at = 0;
    int more = 0, rc = 0;

    while (rc == 0 && (more = tmpl_scan(tmpl, &pos, &tok, err)) == 1) {
        if (tok.is_name) {
            char *name = xstrndup(tok.s, tok.len);
            rc = fn(name, at + 1, arg);
            free(name);
        }
        at = pos;
    }
    if (rc)
        return rc;
    return more < 0 ? SWEEP_EINVAL : SWEEP_OK;
}

struct tmpl_check_arg {
    const char *tmpl;
    char *const *names;
    size_t n;
    const struct tmpl_scope *scope;
    struct err *err;
};

static int tmpl_check_name(const char *name, size_t column, void *arg)
{
    const struct tmpl_check_arg *a = arg;
    const struct tmpl_scope *scope = a->scope;
    bool result;

    (void)column;
    if (a->n > 0 && bsearch(&name, a->names, a->n, sizeof(*a->names), tmpl_cmp_str))
        return SWEEP_OK;
    if (tmpl_is_builtin(name))
        return SWEEP_OK;
    if (scope && scope->reduce && strcmp(name, "reduce.input") == 0)
        return SWEEP_OK;
    if (scope && tmpl_step_find(name, scope->step_names, scope->nsteps, &result) >= 0)
        return SWEEP_OK;
    return tmpl_unknown(a->tmpl, name, a->names, a->n, scope, a->err);
}

int tmpl_check(const char *tmpl,
               char *const *names,
               size_t n,
               const struct tmpl_scope *scope,
               struct err *err)
{
    struct tmpl_check_arg arg = {tmpl, names, n, scope, err};

    return tmpl_each_name(tmpl, tmpl_check_name, &arg, err);
}
