/* Settings from flag > environment > .env > default, each with its source (see
 * config.h). A table of a few settings: every look-up is a linear scan, O(settings).
 */
#include "common/config.h"

#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config_value {
    char *value; /* owned; NULL when unset */
    enum config_source source;
    char *where; /* owned */
    long long num;
    char *flag; /* the flag's value, until config_load() */
};

struct config {
    const struct config_def *defs;
    size_t n;
    struct config_value *v;
};

struct config *config_create(const struct config_def *defs, size_t n)
{
    struct config *c = xcalloc(1, sizeof(*c));

    c->defs = defs;
    c->n = n;
    c->v = xcalloc(n ? n : 1, sizeof(*c->v));
    return c;
}

void config_destroy(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].value);
        free(c->v[i].where);
        free(c->v[i].flag);
    }
    free(c->v);
    free(c);
}

static long config_index(const struct config *c, const char *name)
{
    for (size_t i = 0; c && i < c->n; i++) {
        if (strcmp(c->defs[i].name, name) == 0)
            return (long)i;
    }
    return -1;
}

int config_set_flag(struct config *c,
                    const char *name,
                    const char *value,
                    struct err *err)
{
    long i = config_index(c, name);

    if (i < 0)
        return err_set(err, SWEEP_EINVAL, "no setting named '%s'", name);
    free(c->v[i].flag);
    c->v[i].flag = xstrdup(value);
    return SWEEP_OK;
}

/* A whole decimal number of digits only into *out. */
static int parse_digits(const char *s, long long max, long long *out)
{
    long long v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (max - (*s - '0')) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

int config_parse_bind(
    const char *value, char *host, size_t hostlen, int *port, struct err *err)
{
    const char *colon = strrchr(value, ':');
    struct in_addr a;
    char h[64];
    long long p;
    size_t n;

    if (!colon || colon == value || (n = (size_t)(colon - value)) >= sizeof(h) ||
        parse_digits(colon + 1, 65535, &p) < 0)
        goto bad;
    memcpy(h, value, n);
    h[n] = '\0';
    if (strcmp(h, "localhost") == 0)
        strcpy(h, "127.0.0.1");
    if (inet_pton(AF_INET, h, &a) != 1 || strlen(h) >= hostlen)
        goto bad;
    strcpy(host, h);
    *port = (int)p;
    return SWEEP_OK;
bad:
    return err_set(err, SWEEP_EINVAL,
                   "expected HOST:PORT (an IPv4 address or localhost, a port from 0 "
                   "to 65535), got '%s'",
                   value);
}

int config_check_value(enum config_kind kind,
                       const char *value,
                       long long *num,
                       struct err *err)
{
    long long v = 0, mult = 1;
    char digits[32];
    size_t n = strlen(value);

    switch (kind) {
    case CONFIG_STRING:
        if (!*value)
            return err_set(err, SWEEP_EINVAL, "expected a value, got ''");
        return SWEEP_OK;
    case CONFIG_POSITIVE_INT:
        if (parse_digits(value, INT_MAX, &v) < 0 || v < 1)
            return err_set(err, SWEEP_EINVAL, "expected a positive integer, got '%s'",
                           value);
        *num = v;
        return SWEEP_OK;
    case CONFIG_SIZE:
        if (n > 0 && strchr("KkMmGg", value[n - 1])) {
            char u = (char)toupper((unsigned char)value[n - 1]);
            mult = u == 'K' ? 1024LL : u == 'M' ? 1024LL * 1024 : 1024LL * 1024 * 1024;
            n--;
        }
        if (n == 0 || n >= sizeof(digits))
            goto bad_size;
        memcpy(digits, value, n);
        digits[n] = '\0';
        if (parse_digits(digits, LLONG_MAX / mult, &v) < 0 || v < 1)
            goto bad_size;
        *num = v * mult;
        return SWEEP_OK;
    case CONFIG_BOOL:
        if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") ||
            !strcmp(value, "1") || !strcasecmp(value, "on")) {
            *num = 1;
            return SWEEP_OK;
        }
        if (!strcasecmp(value, "no") || !strcasecmp(value, "false") ||
            !strcmp(value, "0") || !strcasecmp(value, "off")) {
            *num = 0;
            return SWEEP_OK;
        }
        return err_set(err, SWEEP_EINVAL, "expected yes or no, got '%s'", value);
    case CONFIG_BIND: {
        char host[64];
        int port;
        return config_parse_bind(value, host, sizeof(host), &port, err);
    }
    }
    return err_set(err, SWEEP_EINTERNAL, "unknown kind of setting");
bad_size:
    return err_set(err, SWEEP_EINVAL,
                   "expected a size in bytes such as 1048576, 512K or 1M, got '%s'",
                   value);
}

static const char *env_lookup(char *const *envv, const char *name)
{
    size_t n = strlen(name);

    for (; envv && *envv; envv++) {
        if (strncmp(*envv, name, n) == 0 && (*envv)[n] == '=')
            return *envv + n + 1;
    }
    return NULL;
}

static void set_value(struct config_value *v,
                      const char *value,
                      enum config_source src,
                      char *where)
{
    free(v->value);
    free(v->where);
    v->value = value ? xstrdup(value) : NULL;
    v->source = src;
    v->where = where;
}

/* One line of a .env file: the setting it names, if the table has it, takes its value
 * (when nothing better set it). */
static int
dotenv_line(struct config *c, const char *path, int lineno, char *line, struct err *err)
{
    char *eq, *name, *value, *end;

    while (isspace((unsigned char)*line))
        line++;
    end = line + strlen(line);
    while (end > line && isspace((unsigned char)end[-1]))
        *--end = '\0';
    if (!*line || *line == '#')
        return SWEEP_OK;
    if (strncmp(line, "export ", 7) == 0)
        line += 7;
    eq = strchr(line, '=');
    if (!eq || eq == line)
        return err_set(err, SWEEP_EINVAL, "%s line %d: expected NAME=VALUE, got '%s'",
                       path, lineno, line);
    *eq = '\0';
    name = line;
    for (char *p = eq; p > name && isspace((unsigned char)p[-1]);)
        *--p = '\0';
    value = eq + 1;
    while (isspace((unsigned char)*value))
        value++;
    end = value + strlen(value);
    if (end - value >= 2 && (*value == '"' || *value == '\'') && end[-1] == *value) {
        end[-1] = '\0';
        value++;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->defs[i].env, name) == 0 && c->v[i].source <= CONFIG_DOTENV)
            set_value(&c->v[i], value, CONFIG_DOTENV,
                      xasprintf("%s line %d", path, lineno));
    }
    return SWEEP_OK;
}

static int dotenv_read(struct config *c, const char *path, struct err *err)
{
    char *data = NULL, *line;
    size_t len;
    int rc, lineno = 0;

    rc = fileio_read_user(path, 1 << 20, &data, &len, err);
    if (rc == SWEEP_ENOTFOUND) {
        err_clear(err);
        return SWEEP_OK;
    }
    if (rc)
        return rc;
    if (strlen(data) != len) {
        rc = err_set(err, SWEEP_EINVAL, "%s: holds a NUL byte", path);
        goto out;
    }
    /* strtok_r would skip empty lines and so miscount them: split by hand. */
    line = data;
    while (line && !rc) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        rc = dotenv_line(c, path, lineno, line, err);
        line = nl ? nl + 1 : NULL;
    }
out:
    free(data);
    return rc;
}

int config_load(struct config *c,
                const char *dotenv_path,
                char *const *envv,
                struct err *err)
{
    int rc;

    for (size_t i = 0; i < c->n; i++) {
        const struct config_def *d = &c->defs[i];
        const char *e;

        if (c->v[i].flag) {
            char flag[64];
            snprintf(flag, sizeof(flag), "--%s", d->name);
            for (char *p = flag; *p; p++)
                if (*p == '_')
                    *p = '-';
            set_value(&c->v[i], c->v[i].flag, CONFIG_FLAG, xasprintf("flag %s", flag));
        } else if ((e = env_lookup(envv, d->env)) != NULL) {
            set_value(&c->v[i], e, CONFIG_ENV, xasprintf("environment %s", d->env));
        } else {
            set_value(&c->v[i], d->def, d->def ? CONFIG_DEFAULT : CONFIG_UNSET,
                      xstrdup(d->def ? "default" : "unset"));
        }
    }
    if (dotenv_path && (rc = dotenv_read(c, dotenv_path, err)) != SWEEP_OK)
        return rc;
    for (size_t i = 0; i < c->n; i++) {
        const struct config_def *d = &c->defs[i];
        struct config_value *v = &c->v[i];

        if (!v->value)
            continue;
        rc = config_check_value(d->kind, v->value, &v->num, err);
        if (rc) {
            if (v->source == CONFIG_FLAG)
                err_prefix(err, "%s", v->where + 5);
            else if (v->source == CONFIG_ENV)
                err_prefix(err, "%s from the environment", d->env);
            else if (v->source == CONFIG_DOTENV)
                err_prefix(err, "%s from %s", d->env, v->where);
            else
                err_prefix(err, "the default of %s", d->name);
            return rc;
        }
    }
    return SWEEP_OK;
}

const char *config_get(const struct config *c, const char *name)
{
    long i = config_index(c, name);

    return i < 0 ? NULL : c->v[i].value;
}

long long config_num(const struct config *c, const char *name)
{
    long i = config_index(c, name);

    return i < 0 || !c->v[i].value ? 0 : c->v[i].num;
}

enum config_source config_source_of(const struct config *c, const char *name)
{
    long i = config_index(c, name);

    return i < 0 ? CONFIG_UNSET : c->v[i].source;
}

const char *config_where(const struct config *c, const char *name)
{
    long i = config_index(c, name);

    return i < 0 || !c->v[i].where ? "unset" : c->v[i].where;
}

static const char *source_name(enum config_source s)
{
    static const char *const names[] = {"unset", "default", "dotenv", "environment",
                                        "flag"};
    return names[s];
}

json_t *config_json(const struct config *c)
{
    json_t *o = json_object();

    for (size_t i = 0; i < c->n; i++) {
        const struct config_value *v = &c->v[i];
        json_object_set_new(o, c->defs[i].name,
                            json_pack("{s:o, s:s, s:s, s:s}", "value",
                                      v->value ? json_string(v->value) : json_null(),
                                      "source", source_name(v->source), "where",
                                      v->where ? v->where : "unset", "env",
                                      c->defs[i].env));
    }
    return o;
}

char *config_text(const struct config *c)
{
    struct strbuf sb = STRBUF_INIT;
    int w = 0, wv = 1;

    for (size_t i = 0; i < c->n; i++) {
        int n = (int)strlen(c->defs[i].name);
        int nv = c->v[i].value ? (int)strlen(c->v[i].value) : 1;
        w = n > w ? n : w;
        wv = nv > wv ? nv : wv;
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct config_value *v = &c->v[i];
        sb_addf(&sb, "%-*s  %-*s  %s\n", w, c->defs[i].name, wv,
                v->value ? v->value : "-", v->where ? v->where : "unset");
    }
    return sb_take(&sb);
}
