/* sweep client: talk to a running `sweep serve` (status, ping, execute, monitor), and
 * the --server branch of `sweep status`, `sweep results` and `sweep run` (remote.h).
 * The HTTP and its errors are in src/client/; this file turns answers into the output
 * of the local commands and errors into exit codes. */
#include "cli.h"
#include "remote.h"

#include "client/client.h"
#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/sigwatch.h"
#include "core/view.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern const struct cli_cmd cmd_client;

const char *remote_server(const char *flag, const char *home_flag)
{
    const char *env = getenv("SWEEP_SERVER");

    if (flag && *flag)
        return flag;
    return env && *env && !home_flag ? env : NULL;
}

int remote_fail(int client_code, const struct err *err)
{
    fprintf(stderr, "sweep: %s\n", err->msg[0] ? err->msg : "unknown error");
    switch (client_code) {
    case CLIENT_ECONNECT:
        return EXIT_NO_SERVICE;
    case CLIENT_EAUTH:
        return EXIT_AUTH;
    case CLIENT_ENOTFOUND:
        return EXIT_NOT_FOUND;
    case CLIENT_EPROTO:
        return EXIT_BAD_ANSWER;
    case CLIENT_EREFUSED:
        return EXIT_USAGE;
    default:
        return EXIT_UNEXPECTED;
    }
}

/* Waits up to ms milliseconds; true when SIGINT, SIGTERM or SIGHUP arrived (a
 * sigwatch is open). */
static bool wait_signal(int ms)
{
    struct pollfd p = {.fd = sigwatch_fd(), .events = POLLIN};

    if (poll(&p, 1, ms) < 0 && errno != EINTR)
        return false;
    return sigwatch_take() != 0;
}

/* ---- sweep status / results / run --server ---- */

/* A string member of an answer, "?" when it is missing (a service of another
 * version). */
static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "?";
}

static long long progress_of(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(o, "progress"), key));
}

int remote_status(const char *url, const char *token_file, const char *study, bool json)
{
    struct client *c = NULL;
    struct err err = {0};
    json_t *v = NULL;
    char *path = NULL, *esc = study ? client_escape(study) : NULL;
    int rc = client_create(url, token_file, &c, &err);

    if (!rc) {
        path = esc ? xasprintf("/studies/%s", esc) : xstrdup("/studies");
        rc = client_json(c, "GET", path, NULL, NULL, &v, &err);
    }
    if (rc) {
        rc = remote_fail(rc, &err);
    } else if (json) {
        cli_print_json(v);
    } else if (study) {
        /* A study that runs while no task has ended yet: as the local ETA_UNKNOWN. */
        status_print_study(v, json_is_null(json_object_get(v, "estimated_remaining")) &&
                                  strcmp(jstr(v, "status"), "RUNNING") == 0);
    } else if (json_array_size(v) == 0) {
        printf("no studies yet on %s; submit one with 'sweep run study.yaml --server "
               "%s'\n",
               client_url(c), client_url(c));
    } else {
        status_print_list(v);
    }
    json_decref(v);
    free(path);
    free(esc);
    client_destroy(c);
    return rc;
}

/* Splits one CSV record of text at *pos (RFC 4180: quoted fields, "" for a quote)
 * into cells appended to *cells; returns false at the end of the text. */
static bool csv_record(const char *text, size_t *pos, char ***cells, size_t *n)
{
    const char *p = text + *pos;

    if (!*p)
        return false;
    for (;;) {
        struct strbuf sb = STRBUF_INIT;
        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"' && p[1] == '"')
                    sb_addc(&sb, *p++);
                else if (*p == '"')
                    break;
                else
                    sb_addc(&sb, *p);
            }
            if (*p == '"')
                p++;
        }
        while (*p && *p != ',' && *p != '\n' && *p != '\r')
            sb_addc(&sb, *p++);
        *cells = xrealloc(*cells, (*n + 1) * sizeof(**cells));
        (*cells)[(*n)++] = sb_take(&sb);
        if (*p != ',')
            break;
        p++;
    }
    if (*p == '\r')
        p++;
    if (*p == '\n')
        p++;
    *pos = (size_t)(p - text);
    return true;
}

/* The CSV of GET /studies/{id}/results as the local table: numbers right-aligned. */
static void print_csv_table(const char *text)
{
    char **cells = NULL;
    size_t n = 0, pos = 0, cols = 0, rows = 0;
    bool *left;

    while (csv_record(text, &pos, &cells, &n)) {
        if (rows == 0)
            cols = n;
        while (n % cols) { /* a short row: padded */
            cells = xrealloc(cells, (n + 1) * sizeof(*cells));
            cells[n++] = xstrdup("");
        }
        rows++;
    }
    if (cols == 0)
        return;
    left = xcalloc(cols, sizeof(*left));
    for (size_t col = 0; col < cols; col++) {
        for (size_t r = 1; r < rows && !left[col]; r++) {
            char *end;
            const char *s = cells[r * cols + col];
            if (*s && (strtod(s, &end), *end))
                left[col] = true;
        }
    }
    cli_table_print(cells, rows, cols, left);
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
    free(cells);
    free(left);
}

int remote_results(const char *url,
                   const char *token_file,
                   const char *study,
                   const char *format)
{
    struct client *c = NULL;
    struct err err = {0};
    char *esc = client_escape(study), *path = NULL, *text = NULL;
    bool json = strcmp(format, "json") == 0;
    long status = 0;
    json_t *v = NULL;
    int rc = client_create(url, token_file, &c, &err);

    if (rc)
        goto out;
    path = xasprintf("/studies/%s/results?format=%s", esc, json ? "json" : "csv");
    if (json) {
        const json_t *row;
        size_t i;
        rc = client_json(c, "GET", path, NULL, NULL, &v, &err);
        /* As the local command prints it: one row per line. */
        json_array_foreach(v, i, row)
        {
            char *line = jsonx_line_str(row);
            printf("%s%s", i ? ",\n  " : "[\n  ", line);
            free(line);
        }
        if (!rc)
            fputs(json_array_size(v) ? "\n]\n" : "[]\n", stdout);
        goto out;
    }
    rc = client_request(c, "GET", path, NULL, 0, &status, &text, NULL, &err);
    if (!rc && status != 200) /* an error answer: JSON */
        rc = client_json(c, "GET", path, NULL, NULL, NULL, &err);
    if (rc)
        goto out;
    if (strcmp(format, "csv") == 0)
        fputs(text, stdout);
    else
        print_csv_table(text);
out:
    if (rc)
        rc = remote_fail(rc, &err);
    json_decref(v);
    free(text);
    free(path);
    free(esc);
    client_destroy(c);
    return rc;
}

/* Whether a study status is final, and the exit code of `sweep run` for it. */
static bool status_final(const json_t *o, int *code)
{
    const char *s = json_string_value(json_object_get(o, "status"));

    if (!s)
        s = "";
    if (strcmp(s, "COMPLETED") == 0)
        *code = progress_of(o, "failed") > 0 ? EXIT_TASK_FAILED : EXIT_OK;
    else if (strcmp(s, "PARTIALLY_FAILED") == 0 || strcmp(s, "FAILED") == 0 ||
             strcmp(s, "CANCELLED") == 0)
        *code = EXIT_TASK_FAILED;
    else if (strcmp(s, "INTERRUPTED") == 0)
        *code = EXIT_INTERRUPTED;
    else if (strcmp(s, "REJECTED") == 0)
        *code = EXIT_USAGE;
    else
        return false;
    return true;
}

int remote_run(const char *url,
               const char *token_file,
               const char *spec_path,
               bool detach,
               bool json,
               bool quiet)
{
    struct client *c = NULL;
    struct err err = {0};
    char *body = NULL, *path = NULL, *esc = NULL;
    json_t *v = NULL;
    bool tty = isatty(STDERR_FILENO) && !quiet, watching = false;
    int rc = client_create(url, token_file, &c, &err), code = EXIT_OK;

    if (!rc)
        rc = client_spec_body(spec_path, &body, NULL, &err);
    if (!rc)
        rc = client_json(c, "POST", "/studies", body, NULL, &v, &err);
    if (rc)
        goto out;
    if (!json_is_string(json_object_get(v, "study_id"))) {
        rc = CLIENT_EPROTO;
        err_set(&err, SWEEP_EIO, "%s/studies: an answer without \"study_id\"",
                client_url(c));
        goto out;
    }
    esc = client_escape(jstr(v, "study_id"));
    if (!quiet)
        fprintf(stderr, "sweep: study %s submitted to %s\n", jstr(v, "study_id"),
                client_url(c));
    if (detach) {
        if (json)
            cli_print_json(v);
        goto out;
    }
    path = xasprintf("/studies/%s", esc);
    watching = sigwatch_open(&err) == SWEEP_OK;
    for (;;) {
        json_decref(v);
        v = NULL;
        if ((rc = client_json(c, "GET", path, NULL, NULL, &v, &err)))
            goto out;
        if (status_final(v, &code))
            break;
        if (tty) {
            fprintf(stderr, "\r\033[K%s: %s %lld/%lld ended", jstr(v, "study_id"),
                    jstr(v, "status"),
                    progress_of(v, "completed") + progress_of(v, "failed"),
                    progress_of(v, "total"));
            fflush(stderr);
        }
        if (watching && wait_signal(1000)) {
            fprintf(stderr, "%ssweep: stopped following; study %s runs on at %s\n",
                    tty ? "\n" : "", jstr(v, "study_id"), client_url(c));
            code = EXIT_INTERRUPTED;
            goto out;
        }
        if (!watching)
            sleep(1);
    }
    if (tty)
        fputs("\r\033[K", stderr);
    if (json)
        cli_print_json(v);
    else if (!quiet)
        status_print_study(v, false);
out:
    if (watching)
        sigwatch_close();
    if (rc)
        code = remote_fail(rc, &err);
    json_decref(v);
    free(path);
    free(esc);
    free(body);
    client_destroy(c);
    return code;
}

/* ---- sweep client ---- */

struct client_args {
    const char *server, *token_file;
    double interval;
    bool json;
    const char *file; /* execute: the tasks file, or NULL */
};

static int client_ping(struct client *c, const struct client_args *a, struct err *err)
{
    json_t *health = NULL, *all = NULL;
    long status = 0;
    const char *state;
    int rc = client_json(c, "GET", "/health", NULL, NULL, &health, err);

    if (rc)
        return rc;
    state = json_string_value(json_object_get(health, "status"));
    /* /ping_all (the workers) is optional: a service without workers has none. */
    rc = client_json(c, "GET", "/ping_all", NULL, &status, &all, err);
    if (rc == CLIENT_ENOTFOUND)
        rc = CLIENT_OK;
    if (!rc && a->json) {
        json_t *o = json_pack("{s:s, s:O, s:O*}", "url", client_url(c), "health",
                              health, "ping_all", all);
        cli_print_json(o);
        json_decref(o);
    } else if (!rc) {
        printf("%s: %s\n", client_url(c), state ? state : "?");
        if (all) {
            char *text = json_dumps(all, JSON_COMPACT);
            printf("workers: %s\n", text);
            free(text);
        }
    }
    if (!rc && (!state || strcmp(state, "ok") != 0)) {
        err_set(err, SWEEP_EIO, "%s/health: the service is %s", client_url(c),
                state ? state : "in an unknown state");
        rc = CLIENT_ESERVER;
    }
    json_decref(health);
    json_decref(all);
    return rc;
}

static int client_status(struct client *c, const struct client_args *a, struct err *err)
{
    json_t *v = NULL;
    int rc = client_json(c, "GET", "/status", NULL, NULL, &v, err);

    if (rc)
        return rc;
    if (a->json) {
        cli_print_json(v);
    } else {
        printf("service %s: %s, pid %lld, since %s, %lld slots, %lld studies running, "
               "%lld queued\n",
               client_url(c), jstr(v, "status"),
               json_integer_value(json_object_get(v, "pid")), jstr(v, "started_at"),
               json_integer_value(json_object_get(v, "slots")),
               json_integer_value(json_object_get(v, "studies_running")),
               json_integer_value(json_object_get(v, "studies_queued")));
        if (json_array_size(json_object_get(v, "studies")))
            status_print_list(json_object_get(v, "studies"));
        else
            printf("no studies yet\n");
    }
    json_decref(v);
    return CLIENT_OK;
}

/* POST /execute_tasks: with no FILE, the service runs its own tasks file; a task file
 * goes as it is written (the service's messages then point into it), with POST
 * /studies of its study as the way for a service without the endpoint; a study spec
 * goes to POST /studies. */
static int
client_execute(struct client *c, const struct client_args *a, struct err *err)
{
    json_t *v = NULL;
    char *spec = NULL, *text = NULL;
    size_t len = 0;
    long status = 0;
    bool taskfile = false;
    int rc = CLIENT_OK;

    if (a->file && (rc = client_spec_body(a->file, &spec, &taskfile, err)))
        return rc;
    if (a->file && taskfile && fileio_read_user(a->file, 64u << 20, &text, &len, err)) {
        free(spec);
        return CLIENT_ESERVER;
    }
    if (!a->file || taskfile)
        rc = client_json(c, "POST", "/execute_tasks", text, &status, &v, err);
    /* A spec, or a task file for a service without /execute_tasks (with a body, a 404
     * or 405 is the endpoint's): its study through POST /studies. */
    if (a->file &&
        (!taskfile || (rc == CLIENT_ENOTFOUND && (status == 404 || status == 405))))
        rc = client_json(c, "POST", "/studies", spec, NULL, &v, err);
    if (!rc && a->json)
        cli_print_json(v);
    else if (!rc)
        printf("submitted to %s: study %s, %s\n", client_url(c), jstr(v, "study_id"),
               jstr(v, "status"));
    json_decref(v);
    free(text);
    free(spec);
    return rc;
}

/* One frame of the monitor: the service line, then one line per study, each cut to
 * cols characters; the progress bar takes what the columns leave. */
static void monitor_frame(const json_t *v, const char *url, int cols, bool tty)
{
    const json_t *studies = json_object_get(v, "studies"), *o;
    char line[1024], ts[32];
    time_t now = time(NULL);
    struct tm tm;
    size_t i;
    int name_w = 5, barw;

    if (cols > (int)sizeof(line) - 1)
        cols = (int)sizeof(line) - 1;
    localtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
    if (tty)
        fputs("\033[H\033[J", stdout);
    snprintf(line, sizeof(line), "%s  %s  %s, %lld slots, %lld running, %lld queued",
             ts, url, jstr(v, "status"),
             json_integer_value(json_object_get(v, "slots")),
             json_integer_value(json_object_get(v, "studies_running")),
             json_integer_value(json_object_get(v, "studies_queued")));
    printf("%.*s\n", cols, line);
    json_array_foreach(studies, i, o)
    {
        int w = (int)strlen(jstr(o, "study"));
        name_w = w > name_w ? w : name_w;
    }
    if (name_w > 30)
        name_w = 30;
    /* name, status (17), the bar, ended (8) and failed (8), a space between each */
    barw = cols - name_w - 37;
    if (barw >= 10)
        snprintf(line, sizeof(line), "%-*s %-17s %-*s %8s %8s", name_w, "STUDY",
                 "STATUS", barw, "PROGRESS", "ENDED", "FAILED");
    else
        snprintf(line, sizeof(line), "%-*s %-17s %8s %8s", name_w, "STUDY", "STATUS",
                 "ENDED", "FAILED");
    printf("%.*s\n", cols, line);
    json_array_foreach(studies, i, o)
    {
        const json_t *c = json_object_get(o, "counts");
        long long total = view_count_of(c, "total");
        long long failed = view_count_of(c, "failed") + view_count_of(c, "timed_out");
        long long ended = view_count_of(c, "succeeded") + failed +
                          view_count_of(c, "cancelled") + view_count_of(c, "skipped");
        char counts[48];
        int n = snprintf(line, sizeof(line), "%-*.*s %-17s ", name_w, name_w,
                         jstr(o, "study"), jstr(o, "status"));

        if (barw >= 10 && n + barw < (int)sizeof(line) - 24) {
            int fill =
                total > 0 ? (int)((double)ended / (double)total * (barw - 2) + 0.5) : 0;
            line[n++] = '[';
            for (int k = 0; k < barw - 2; k++)
                line[n++] = k < fill ? '#' : '.';
            line[n++] = ']';
            line[n++] = ' ';
        }
        snprintf(counts, sizeof(counts), "%lld/%lld", ended, total);
        snprintf(line + n, sizeof(line) - (size_t)n, "%8s %8lld", counts, failed);
        printf("%.*s\n", cols, line);
    }
    if (json_array_size(studies) == 0)
        printf("no studies yet\n");
    if (!tty)
        printf("\n");
    fflush(stdout);
}

static int
client_monitor(struct client *c, const struct client_args *a, struct err *err)
{
    bool tty = isatty(STDOUT_FILENO), first = true;
    int rc = CLIENT_OK;

    if (sigwatch_open(err))
        return CLIENT_ESERVER;
    for (;;) {
        json_t *v = NULL;
        int r = client_json(c, "GET", "/status", NULL, NULL, &v, err);
        if (r && first) { /* not there at all: the error and its code */
            rc = r;
            break;
        }
        if (r) /* gone for a while (a restart): said, and tried again */
            printf("%s\n", err->msg);
        else
            monitor_frame(v, client_url(c), cli_term_columns(STDOUT_FILENO), tty);
        fflush(stdout);
        json_decref(v);
        first = false;
        if (wait_signal((int)(a->interval * 1000)))
            break; /* Ctrl-C: a clean end */
    }
    sigwatch_close();
    return rc;
}

static int client_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"server", required_argument, NULL, 'S'},
        {"token-file", required_argument, NULL, 'T'},
        {"interval", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'J'},
        {NULL, 0, NULL, 0},
    };
    struct client_args a = {.interval = 5};
    struct client *cl = NULL;
    struct err err = {0};
    const char *sub;
    char *end;
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            a.server = optarg;
            break;
        case 'T':
            a.token_file = optarg;
            break;
        case 'i':
            errno = 0;
            a.interval = strtod(optarg, &end);
            if (errno || end == optarg || *end || !isfinite(a.interval) ||
                a.interval < 0.1 || a.interval > 86400)
                return cli_usage_error(&cmd_client,
                                       "--interval: expected seconds from 0.1 to "
                                       "86400, got \"%s\"",
                                       optarg);
            break;
        case 'J':
            a.json = true;
            break;
        default:
            return cli_option_error(&cmd_client, opts, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_client,
                               "expected a command: status, ping, execute or monitor");
    sub = argv[optind++];
    if (strcmp(sub, "execute") == 0 && optind < argc)
        a.file = argv[optind++];
    if (optind < argc)
        return cli_usage_error(&cmd_client, "unexpected argument '%s'", argv[optind]);
    if (strcmp(sub, "status") && strcmp(sub, "ping") && strcmp(sub, "execute") &&
        strcmp(sub, "monitor"))
        return cli_usage_error(&cmd_client,
                               "unknown command '%s': expected status, ping, execute "
                               "or monitor",
                               sub);
    if ((rc = client_create(remote_server(a.server, NULL), a.token_file, &cl, &err)))
        return remote_fail(rc, &err);
    if (strcmp(sub, "status") == 0)
        rc = client_status(cl, &a, &err);
    else if (strcmp(sub, "ping") == 0)
        rc = client_ping(cl, &a, &err);
    else if (strcmp(sub, "execute") == 0)
        rc = client_execute(cl, &a, &err);
    else
        rc = client_monitor(cl, &a, &err);
    client_destroy(cl);
    return rc ? remote_fail(rc, &err) : EXIT_OK;
}

const struct cli_cmd cmd_client = {
    .name = "client",
    .summary = "talk to a running sweep serve (status, ping, execute, monitor)",
    .usage =
        "Usage: sweep client status|ping|execute [FILE]|monitor [OPTIONS]\n"
        "\n"
        "Talks to a running `sweep serve`:\n"
        "  status   the service and its studies as a table (--json: GET /status)\n"
        "  ping     exit 0 when the service answers /health with ok (and\n"
        "           /ping_all when it has one), else a message and a non-zero exit\n"
        "  execute  POST /execute_tasks: the service runs its tasks file, or FILE\n"
        "           (a task-queue JSON or tasks.yaml) when given; a study spec FILE,\n"
        "           or any FILE for a service without that endpoint, goes to\n"
        "           POST /studies\n"
        "  monitor  the studies, refreshed every --interval seconds and fitted to\n"
        "           the terminal's width; Ctrl-C ends it\n"
        "\n"
        "Exit codes: 0 ok, 2 a request the service refused (a bad spec), 3 other\n"
        "errors, 5 the service cannot be reached, 6 401: a token is needed or\n"
        "wrong, 7 404: not found, 8 the answer is not JSON.\n"
        "\n"
        "Options:\n"
        "  --server URL      the service (default $SWEEP_SERVER, else\n"
        "                    " CLIENT_DEFAULT_URL ")\n"
        "  --token-file F    send the token in F (default $SWEEP_TOKEN_FILE)\n"
        "  --interval SECS   monitor: seconds between refreshes (default 5)\n"
        "  --json            status, ping, execute: the answer as JSON\n"
        "  -h, --help        show this help\n"
        "\n"
        "Example:\n"
        "  sweep client ping --server http://127.0.0.1:5000\n"
        "  sweep client status --json\n"
        "  sweep client execute tasks.yaml --token-file ~/.sweep-token\n"
        "  sweep client monitor --interval 2\n",
    .fn = client_main,
};
