/* sweep serve: the orchestrator service. Reads its settings (flag > environment >
 * <home>/.env > default, common/config.h) and the token, then hands over to
 * server_run() (src/server). */
#include "cli.h"

#include "common/config.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "server/server.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct cli_cmd cmd_serve;
extern char **environ;

/* Every setting of the service; the name is the flag (with '-' for '_'). */
static const struct config_def serve_defs[] = {
    {"bind", "SWEEP_BIND", CONFIG_BIND, "127.0.0.1:5000", "address to listen on"},
    {"max_parallel", "SWEEP_MAX_PARALLEL", CONFIG_POSITIVE_INT, NULL,
     "slots shared by every study (default: the CPUs)"},
    {"token_file", "SWEEP_TOKEN_FILE", CONFIG_STRING, NULL,
     "file holding the bearer token for POST and DELETE"},
    {"max_body", "SWEEP_MAX_BODY", CONFIG_SIZE, "1M", "largest request body"},
    {"threads", "SWEEP_HTTP_THREADS", CONFIG_POSITIVE_INT, "4", "HTTP threads"},
    {"allow_commands", "SWEEP_ALLOW_COMMANDS", CONFIG_BOOL, "no",
     "accept specs that run commands, not only models"},
    {"tasks_file", "SWEEP_TASKS_FILE", CONFIG_STRING, "configs/tasks.yaml",
     "task file POST /execute_tasks runs (relative: to the home)"},
    {"inbox", "SWEEP_INBOX", CONFIG_STRING, "task_queues",
     "task inbox directory (relative: in the home)"},
    {"results_path", "SWEEP_RESULTS_PATH", CONFIG_STRING, "results",
     "where the inbox's results go (relative: in the home)"},
    {"history_size", "SWEEP_HISTORY_SIZE", CONFIG_POSITIVE_INT, "4096",
     "events GET /events keeps for replay (16..1000000)"},
    {"worker_timeout", "SWEEP_WORKER_TIMEOUT", CONFIG_POSITIVE_INT, "60",
     "seconds before an attempt whose owner stopped renewing is gone"},
    {"max_retries", "SWEEP_MAX_RETRIES", CONFIG_POSITIVE_INT, NULL,
     "retries of a task whose spec sets none (default: the spec's)"},
};
#define NDEFS (sizeof(serve_defs) / sizeof(serve_defs[0]))

/* The token: the file's first line, without surrounding blanks; not empty. */
static int read_token(const char *path, char **out, struct err *err)
{
    char *data = NULL, *p, *end;
    size_t len;
    int rc = fileio_read_user(path, 4096, &data, &len, err);

    if (rc)
        return rc;
    p = data;
    while (isspace((unsigned char)*p))
        p++;
    end = p;
    while (*end && *end != '\n' && *end != '\r')
        end++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (end == p) {
        free(data);
        return err_set(err, SWEEP_EINVAL, "token file %s is empty", path);
    }
    *out = xstrndup(p, (size_t)(end - p));
    free(data);
    return SWEEP_OK;
}

/* A POSITIVE_INT setting from lo to hi; SWEEP_EINVAL names it and its source as
 * config_load() does ("SWEEP_HISTORY_SIZE from /h/.env line 3: ..."). */
static int check_range(const struct config *cfg,
                       const char *name,
                       const char *env,
                       long long lo,
                       long long hi,
                       struct err *err)
{
    long long n = config_num(cfg, name);
    enum config_source src = config_source_of(cfg, name);

    if (n >= lo && n <= hi)
        return SWEEP_OK;
    err_set(err, SWEEP_EINVAL, "expected %lld to %lld, got '%s'", lo, hi,
            config_get(cfg, name));
    if (src == CONFIG_FLAG)
        err_prefix(err, "%s", config_where(cfg, name) + 5);
    else if (src == CONFIG_ENV)
        err_prefix(err, "%s from the environment", env);
    else if (src == CONFIG_DOTENV)
        err_prefix(err, "%s from %s", env, config_where(cfg, name));
    else
        err_prefix(err, "the default of %s", name);
    return err->code;
}

/* name's value as a path: absolute as is, relative in the home (new string). */
static char *home_path(const struct config *cfg, const char *name, const char *home)
{
    const char *v = config_get(cfg, name);
    return v[0] == '/' ? xstrdup(v) : xasprintf("%s/%s", home, v);
}

char *serve_inbox_path(const char *home, struct err *err)
{
    const struct config_def *row = NULL;
    struct config *cfg;
    char *dotenv = xasprintf("%s/.env", home), *path = NULL;

    for (size_t i = 0; i < NDEFS && !row; i++)
        if (strcmp(serve_defs[i].name, "inbox") == 0)
            row = &serve_defs[i];
    cfg = config_create(row, 1); /* that setting alone: the others are serve's */
    if (config_load(cfg, dotenv, environ, err) == SWEEP_OK)
        path = home_path(cfg, "inbox", home);
    config_destroy(cfg);
    free(dotenv);
    return path;
}

static int serve_main(int argc, char **argv)
{
    enum {
        OPT_HOME = 256,
        OPT_PRINT,
        OPT_JSON,
        OPT_ALLOW,
        OPT_TASKS,
        OPT_RESULTS,
        OPT_HISTORY,
        OPT_WTIMEOUT,
        OPT_RETRIES,
    };
    static const struct option opts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"max-parallel", required_argument, NULL, 'j'},
        {"token-file", required_argument, NULL, 't'},
        {"max-body", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 'T'},
        {"allow-commands", no_argument, NULL, OPT_ALLOW},
        {"tasks-file", required_argument, NULL, OPT_TASKS},
        {"inbox", required_argument, NULL, 'i'},
        {"results-path", required_argument, NULL, OPT_RESULTS},
        {"history-size", required_argument, NULL, OPT_HISTORY},
        {"worker-timeout", required_argument, NULL, OPT_WTIMEOUT},
        {"max-retries", required_argument, NULL, OPT_RETRIES},
        {"home", required_argument, NULL, OPT_HOME},
        {"print-config", no_argument, NULL, OPT_PRINT},
        {"json", no_argument, NULL, OPT_JSON},
        {NULL, 0, NULL, 0},
    };
    struct config *cfg = config_create(serve_defs, NDEFS);
    struct server_opts so = {0};
    struct err err = {0};
    const char *home_flag = NULL;
    char *dotenv = NULL, *token = NULL, *inbox = NULL, *results = NULL;
    bool print = false, json = false;
    int c, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "j:", opts, NULL)) != -1) {
        const char *name = NULL;
        switch (c) {
        case 'b':
            name = "bind";
            break;
        case 'j':
            name = "max_parallel";
            break;
        case 't':
            name = "token_file";
            break;
        case 'm':
            name = "max_body";
            break;
        case 'T':
            name = "threads";
            break;
        case 'i':
            name = "inbox";
            break;
        case OPT_ALLOW:
            config_set_flag(cfg, "allow_commands", "yes", &err);
            break;
        case OPT_TASKS:
            name = "tasks_file";
            break;
        case OPT_RESULTS:
            name = "results_path";
            break;
        case OPT_HISTORY:
            name = "history_size";
            break;
        case OPT_WTIMEOUT:
            name = "worker_timeout";
            break;
        case OPT_RETRIES:
            name = "max_retries";
            break;
        case OPT_HOME:
            home_flag = optarg;
            break;
        case OPT_PRINT:
            print = true;
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            rc = cli_option_error(&cmd_serve, opts, c, argv);
            goto out;
        }
        if (name)
            config_set_flag(cfg, name, optarg, &err);
    }
    if (optind != argc) {
        rc = cli_usage_error(&cmd_serve, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (json && !print) {
        rc = cli_usage_error(&cmd_serve, "--json goes with --print-config");
        goto out;
    }
    so.home = cli_home(home_flag);
    dotenv = xasprintf("%s/.env", so.home);
    if (config_load(cfg, dotenv, environ, &err) ||
        check_range(cfg, "history_size", "SWEEP_HISTORY_SIZE", 16, 1000000, &err) ||
        check_range(cfg, "worker_timeout", "SWEEP_WORKER_TIMEOUT", 1, 86400, &err) ||
        (config_get(cfg, "max_retries") &&
         check_range(cfg, "max_retries", "SWEEP_MAX_RETRIES", 1, 1000, &err))) {
        rc = cli_fail(&err);
        goto out;
    }
    if (print) {
        if (json) {
            json_t *j = config_json(cfg);
            json_object_set_new(
                j, "home", json_pack("{s:s, s:s}", "value", so.home, "source", "home"));
            cli_print_json(j);
            json_decref(j);
        } else {
            char *t = config_text(cfg);
            printf("home  %s\n%s", so.home, t);
            free(t);
        }
        goto out;
    }
    if (config_get(cfg, "token_file") &&
        read_token(config_get(cfg, "token_file"), &token, &err)) {
        err_prefix(&err, "token_file from %s", config_where(cfg, "token_file"));
        rc = cli_fail(&err);
        goto out;
    }
    so.bind = config_get(cfg, "bind");
    so.max_parallel = (int)config_num(cfg, "max_parallel");
    if (so.max_parallel <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        so.max_parallel = n > 0 ? (int)n : 1;
    }
    so.token = token;
    so.max_body = (size_t)config_num(cfg, "max_body");
    so.threads = (int)config_num(cfg, "threads");
    so.allow_commands = config_num(cfg, "allow_commands") != 0;
    so.taskfile = config_get(cfg, "tasks_file");
    so.self_path = cli_self_path();
    inbox = home_path(cfg, "inbox", so.home);
    so.inbox = inbox;
    results = home_path(cfg, "results_path", so.home);
    so.results = results;
    so.history = (int)config_num(cfg, "history_size");
    so.max_retries = (int)config_num(cfg, "max_retries");
    /* the lease of the attempts the engine starts (runner_lease() reads it); by
     * default runner_lease()'s own (60, or $SWEEP_LEASE as tests shorten it) */
    if (config_source_of(cfg, "worker_timeout") != CONFIG_DEFAULT)
        setenv("SWEEP_LEASE", config_get(cfg, "worker_timeout"), 1);
    so.out = stdout;
    if (server_opts_check(&so, &err) || server_run(&so, &err)) {
        rc = cli_fail(&err);
        if (rc == EXIT_USAGE && err.code != SWEEP_EINVAL)
            rc = EXIT_UNEXPECTED;
    }
out:
    free(results);
    free(inbox);
    free(token);
    free(dotenv);
    config_destroy(cfg);
    return rc;
}

const struct cli_cmd cmd_serve = {
    .name = "serve",
    .summary = "run the orchestrator service: a REST API over one engine",
    .usage =
        "Usage: sweep serve [--bind HOST:PORT] [-j N] [--token-file F] [OPTIONS]\n"
        "\n"
        "Runs every study submitted to it in this one process, sharing -j slots\n"
        "across studies in priority order, and answers a JSON API meanwhile:\n"
        "  GET /health, GET /status, GET /studies, POST /studies (a spec as JSON, or\n"
        "  {\"algorithm\", \"variable_parameter\", \"values\", \"base_parameters\",\n"
        "  \"repetitions\"}), GET /studies/ID, POST /studies/ID/cancel,\n"
        "  POST /studies/ID/retry (failed tasks), GET /studies/ID/results?format=\n"
        "  csv|json, GET /tasks (?status= &study= &priority= &limit= &offset=),\n"
        "  POST /tasks (one task), GET /tasks/ID, DELETE /tasks/ID (cancel),\n"
        "  GET /studies/ID/aggregate (?by= &metrics= &fit=power),\n"
        "  GET /studies/ID/plot.svg?x=PARAM&y=METRIC (&by= &fit=power &logx=1),\n"
        "  GET /studies/ID/report.png, POST /execute_tasks (the tasks file, or a\n"
        "  task file as the body).\n"
        "  GET /events (server-sent events; Last-Event-ID), GET /metrics\n"
        "  (Prometheus), GET /stats, GET /stats/performance, GET /workers,\n"
        "  GET /workers/ID, GET /ping_all.\n"
        "SIGTERM or SIGINT: new work is refused (503), running tasks are stopped and\n"
        "recorded interrupted; the next 'sweep serve' on the home resumes them.\n"
        "Every setting comes from its flag, else its SWEEP_* variable, else a line\n"
        "of <home>/.env, else its default; --print-config shows which.\n"
        "GET /openapi.json describes the whole API (OpenAPI 3.1).\n"
        "A web dashboard is at / (open http://HOST:PORT/ in a browser); a task's\n"
        "log at GET /tasks/ID/logs?stream=stderr&tail=50, its attempts at\n"
        "GET /tasks/ID/attempts.\n"
        "MCP clients (AI agents) reach the tools of 'sweep mcp' at POST /mcp\n"
        "(streamable HTTP; the token as for every POST).\n"
        "\n"
        "Options:\n"
        "  --bind HOST:PORT       listen there (SWEEP_BIND; default 127.0.0.1:5000;\n"
        "                         port 0: any free one, printed at start); an\n"
        "                         address not loopback needs a token\n"
        "  -j, --max-parallel N   slots shared by the studies (SWEEP_MAX_PARALLEL;\n"
        "                         default: the CPUs)\n"
        "  --token-file F         POST and DELETE need 'Authorization: Bearer\n"
        "                         TOKEN', TOKEN the file's first line\n"
        "                         (SWEEP_TOKEN_FILE)\n"
        "  --max-body SIZE        larger request bodies get 413 (SWEEP_MAX_BODY;\n"
        "                         default 1M)\n"
        "  --threads N            HTTP threads (SWEEP_HTTP_THREADS; default 4)\n"
        "  --allow-commands       accept specs that run commands, not only models\n"
        "                         (SWEEP_ALLOW_COMMANDS)\n"
        "  --tasks-file F         the task file POST /execute_tasks runs\n"
        "                         (SWEEP_TASKS_FILE; relative to the home;\n"
        "                         default configs/tasks.yaml)\n"
        "  --inbox DIR            task inbox watched for task files and specs\n"
        "                         (SWEEP_INBOX; default task_queues; a relative\n"
        "                         DIR is in the home): each complete file runs as\n"
        "                         a study, then moves to DIR/processed/ (or to\n"
        "                         DIR/rejected/ with NAME.error); results go to\n"
        "                         --results-path\n"
        "  --results-path DIR     where the inbox's task_results_*.json and\n"
        "                         orchestrator_stats.json go (SWEEP_RESULTS_PATH;\n"
        "                         default results; relative: in the home)\n"
        "  --history-size N       events GET /events keeps for replay\n"
        "                         (SWEEP_HISTORY_SIZE; 16..1000000; default 4096)\n"
        "  --worker-timeout SEC   lease of an attempt: an owner that stopped\n"
        "                         renewing it for SEC is gone, its task runs again\n"
        "                         (SWEEP_WORKER_TIMEOUT; 1..86400; default 60)\n"
        "  --max-retries N        retries of each step (the reduce too) whose\n"
        "                         spec sets none; `retries: 0` stays 0\n"
        "                         (SWEEP_MAX_RETRIES; 1..1000; default: none)\n"
        "  --print-config         print each setting, its value and its source\n"
        "  --json                 with --print-config: as JSON\n"
        "  --home DIR             sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help             show this help\n"
        "\n"
        "Exit status: 0 stopped by SIGTERM or SIGINT, 2 a bad setting (named with\n"
        "its source), 3 could not start (the port taken, the store unusable),\n"
        "4 another sweep serve runs on the home.\n"
        "\n"
        "Examples:\n"
        "  sweep serve --bind 127.0.0.1:5000 -j 8\n"
        "  curl -s localhost:5000/studies -d '{\"algorithm\": \"DLA\",\n"
        "    \"variable_parameter\": \"n_particles\", \"values\": [100, 200],\n"
        "    \"repetitions\": 3}'\n"
        "  SWEEP_MAX_PARALLEL=4 sweep serve --print-config\n"
        "  sweep serve --results-path /data/results --history-size 100000\n"
        "  curl -s 'localhost:5000/studies/dla/plot.svg?x=n_particles&y=rg' >rg.svg\n"
        "  curl -s -X POST localhost:5000/execute_tasks\n"
        "  sweep serve --inbox task_queues &\n"
        "  sweep new --model dla   # into .sweep/task_queues/: runs at once\n"

        "  curl -sN localhost:5000/events     # live task and study changes\n",
    .fn = serve_main,
};
