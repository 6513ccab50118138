/* Routes and request checks without a socket (see route.h). The table is small: a
 * match is a linear scan over it, O(routes x path length). */
#include "server/route.h"

#include "common/strbuf.h"
#include "common/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row: method, path pattern ("*" is one {id} segment), route. */
struct route_row {
    const char *method;
    const char *pattern;
    enum route_id id;
};

static const struct route_row routes[] = {
    {"GET", "/health", ROUTE_HEALTH},
    {"GET", "/status", ROUTE_STATUS},
    {"GET", "/studies", ROUTE_STUDY_LIST},
    {"POST", "/studies", ROUTE_STUDY_SUBMIT},
    {"GET", "/studies/*", ROUTE_STUDY_GET},
    {"POST", "/studies/*/cancel", ROUTE_STUDY_CANCEL},
    {"POST", "/studies/*/retry", ROUTE_STUDY_RETRY},
    {"GET", "/studies/*/results", ROUTE_STUDY_RESULTS},
    {"GET", "/tasks", ROUTE_TASK_LIST},
    {"POST", "/tasks", ROUTE_TASK_SUBMIT},
    {"GET", "/tasks/*", ROUTE_TASK_GET},
    {"DELETE", "/tasks/*", ROUTE_TASK_CANCEL},
    {"GET", "/openapi.json", ROUTE_OPENAPI},
    {"GET", "/studies/*/aggregate", ROUTE_STUDY_AGG},
    {"GET", "/studies/*/plot.svg", ROUTE_STUDY_PLOT},
    {"GET", "/studies/*/report.png", ROUTE_STUDY_REPORT},
    {"POST", "/execute_tasks", ROUTE_EXEC_TASKS},
    {"GET", "/events", ROUTE_EVENTS},
    {"GET", "/metrics", ROUTE_METRICS},
    {"GET", "/stats", ROUTE_STATS},
    {"GET", "/stats/performance", ROUTE_STATS_PERF},
    {"GET", "/workers", ROUTE_WORKER_LIST},
    {"GET", "/workers/*", ROUTE_WORKER_GET},
    {"GET", "/ping_all", ROUTE_PING_ALL},
    {"GET", "/", ROUTE_DASHBOARD},
    {"GET", "/static/*", ROUTE_STATIC},
    {"GET", "/tasks/*/logs", ROUTE_TASK_LOGS},
    {"GET", "/tasks/*/attempts", ROUTE_TASK_ATTEMPTS},
    {"POST", "/mcp", ROUTE_MCP},
    {"DELETE", "/mcp", ROUTE_MCP},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

bool route_id_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > ROUTE_ARG_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Whether path matches pattern; the {id} segment goes to arg (at most argn - 1
 * bytes; a longer one still matches, and is refused by the caller as too long). */
static bool
match(const char *pattern, const char *path, char *arg, size_t argn, bool *long_arg)
{
    const char *p = pattern, *s = path;

    while (*p && *s) {
        if (*p == '*') {
            const char *end = strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            *long_arg = n >= argn;
            snprintf(arg, argn, "%.*s", (int)(n < argn ? n : argn - 1), s);
            s += n;
            p++;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    /* "/studies/" leaves an empty {id}. */
    if (*p == '*' && !*s) {
        *arg = '\0';
        return p[1] == '\0';
    }
    return !*p && !*s;
}

int route_find(const char *method, const char *path, struct route_match *m)
{
    bool path_known = false;

    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < NROUTES; i++) {
        char arg[ROUTE_ARG_MAX + 1] = "";
        bool long_arg = false;

        if (!match(routes[i].pattern, path, arg, sizeof(arg), &long_arg))
            continue;
        if (strchr(routes[i].pattern, '*') && (long_arg || !route_id_ok(arg)))
            return 400;
        if (strcmp(routes[i].method, method) != 0) {
            size_t n = strlen(m->allow);
            snprintf(m->allow + n, sizeof(m->allow) - n, "%s%s", n ? ", " : "",
                     routes[i].method);
            path_known = true;
            continue;
        }
        m->id = routes[i].id;
        strcpy(m->arg, arg);
        m->changes_state = strcmp(method, "GET") != 0;
        return 0;
    }
    return path_known ? 405 : 404;
}

bool route_bearer_ok(const char *authorization, const char *token)
{
    size_t n, t = strlen(token);
    unsigned char diff;

    if (!authorization || strncmp(authorization, "Bearer ", 7) != 0 || t == 0)
        return false;
    authorization += 7;
    n = strlen(authorization);
    /* Every byte of the given value is looked at whatever matches: the time tells the
     * length given, not the token. */
    diff = n != t;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(authorization[i] ^ token[i % t]);
    return diff == 0;
}

int route_query_int(
    const char *s, long long min, long long max, long long def, long long *out)
{
    long long v = 0;

    if (!s || !*s) {
        *out = def;
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (max - (*p - '0')) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < min)
        return -1;
    *out = v;
    return 0;
}

char *route_error_json(const char *error, const char *detail)
{
    json_t *detail_j = json_string(detail ? detail : "");
    json_t *o = json_pack("{s:s, s:o}", "error", error, "detail",
                          detail_j ? detail_j : json_string("(not UTF-8)"));
    char *s = json_dumps(o, JSON_COMPACT), *r = xasprintf("%s\n", s);

    free(s);
    json_decref(o);
    return r;
}

static bool path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

char *route_scrub_home(const char *text, size_t len, const char *home, size_t *out_len)
{
    size_t h = home ? strlen(home) : 0, i = 0, start = 0;
    struct strbuf sb = STRBUF_INIT;
    bool found = false;

    while (h > 1 && home[h - 1] == '/')
        h--;
    if (h <= 1) /* no home, or "/" */
        return NULL;
    for (; i + h <= len; i++) {
        const char *after = text + i + h;
        bool end = i + h == len;

        if (memcmp(text + i, home, h) != 0 || (!end && path_char(*after)))
            continue;
        sb_add(&sb, text + start, i - start);
        if (!end && *after == '/') {
            i += h; /* the '/' too */
        } else {
            sb_adds(&sb, "(home)");
            i += h - 1;
        }
        start = i + 1;
        found = true;
    }
    if (!found)
        return NULL;
    sb_add(&sb, text + start, len - start);
    *out_len = sb.len;
    return sb_take(&sb);
}

const char *route_status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}
