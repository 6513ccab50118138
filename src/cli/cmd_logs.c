/* sweep logs: a task's stdout and stderr, or a study's log. */
#include "cli.h"

#include "common/fileio.h"

#include "common/xalloc.h"
#include "core/runner.h"
#include "core/store.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_logs;

struct find_name {
    long long id;
    char *name;
};

static int match_id(const struct store_study *s, void *arg)
{
    struct find_name *f = arg;
    if (s->id != f->id)
        return 0;
    f->name = xstrdup(s->name);
    return 1;
}

static int logs_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"stdout", no_argument, NULL, 'o'},
        {"stderr", no_argument, NULL, 'e'},
        {"attempt", required_argument, NULL, 'a'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    bool want_out = false, want_err = false;
    int attempt = 0, c, rc = EXIT_OK;
    struct store *st = NULL;
    struct store_study s = {0};
    struct store_task t = {0};
    struct find_name fn = {0};
    struct err err = {0};
    char *dir = NULL, *out = NULL, *errp = NULL;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            want_out = true;
            break;
        case 'e':
            want_err = true;
            break;
        case 'a': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > INT_MAX)
                return cli_usage_error(
                    &cmd_logs, "--attempt: expected a positive integer, got \"%s\"",
                    optarg);
            attempt = (int)v;
            break;
        }
        case 'H':
            home = optarg;
            break;
        default:
            return cli_option_error(&cmd_logs, opts, c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_logs, "expected one task key (or study name)");
    if (!want_out && !want_err)
        want_out = want_err = true;
    if (store_open(cli_home(home), &st, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    /* A study name shows the study log. */
    if (store_study_get(st, argv[optind], &s, &err) == SWEEP_OK) {
        dir = runner_study_dir(store_home(st), s.name);
        out = xasprintf("%s/study.log", dir);
        if (fileio_copy_to(out, stdout) < 0)
            printf("study %s has no log yet\n", s.name);
        goto out;
    }
    if (store_task_find(st, 0, argv[optind], &t, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    fn.id = t.study_id;
    if (store_study_list(st, match_id, &fn, &err) < 0 || !fn.name) {
        rc = cli_fail(&err);
        goto out;
    }
    dir = runner_task_dir(store_home(st), fn.name, t.key);
    if (attempt == 0 || attempt == t.attempts) {
        out = xasprintf("%s/stdout.log", dir);
        errp = xasprintf("%s/stderr.log", dir);
    } else {
        out = xasprintf("%s/stdout.%d.log", dir, attempt);
        errp = xasprintf("%s/stderr.%d.log", dir, attempt);
    }
    if (t.attempts == 0) {
        printf("task %s has not run yet (%s)\n", t.key, task_state_name(t.state));
        goto out;
    }
    if (want_out && fileio_copy_to(out, stdout) < 0 && !want_err) {
        fprintf(stderr, "sweep: no stdout log %s\n", out);
        rc = EXIT_USAGE;
    }
    fflush(stdout);
    if (want_err && fileio_copy_to(errp, stderr) < 0 && !want_out) {
        fprintf(stderr, "sweep: no stderr log %s\n", errp);
        rc = EXIT_USAGE;
    }
out:
    free(dir);
    free(out);
    free(errp);
    free(fn.name);
    store_task_fini(&t);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_logs = {
    .name = "logs",
    .summary = "print a task's stdout and stderr, or a study's log",
    .usage =
        "Usage: sweep logs TASK|STUDY [--stdout] [--stderr] [--attempt N] [--home "
        "DIR]\n"
        "\n"
        "TASK is a task key or a unique prefix of one (at least 4 characters), as\n"
        "shown by 'sweep results'. Prints the task's stdout (to stdout) and stderr\n"
        "(to stderr) of its last attempt. With a study name, prints the study log\n"
        "(one line per event with ISO-8601 timestamps).\n"
        "\n"
        "Options:\n"
        "  --stdout / --stderr  only that stream\n"
        "  --attempt N          an earlier attempt's logs\n"
        "  --home DIR           sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help           show this help\n"
        "\n"
        "Example:\n"
        "  sweep logs 3fa2c1 --stderr\n",
    .fn = logs_main,
};
