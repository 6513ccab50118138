/* sweep cancel: cancel a study (every task not yet ended) or one task. A running
 * `sweep run` notices within a second and kills the cancelled tasks. */
#include "cli.h"

#include "core/store.h"

#include <getopt.h>

extern const struct cli_cmd cmd_cancel;

static int cancel_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    struct store *st = NULL;
    struct store_study s = {0};
    struct store_task t = {0};
    struct err err = {0};
    long long n = 0;
    int c, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'H')
            home = optarg;
        else
            return cli_option_error(&cmd_cancel, opts, c, argv);
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_cancel, "expected one study name or task key");
    if (store_open(cli_home(home), &st, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (store_study_get(st, argv[optind], &s, &err) == SWEEP_OK) {
        if (store_begin(st, &err) || store_cancel(st, s.id, 0, &n, &err) ||
            store_study_set_status(st, s.id, STUDY_CANCELLED, &err) ||
            store_commit(st, &err)) {
            store_rollback(st);
            rc = cli_fail(&err);
            goto out;
        }
        printf("study %s cancelled (%lld tasks)\n", s.name, n);
        goto out;
    }
    if (store_task_find(st, 0, argv[optind], &t, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (store_cancel(st, t.study_id, t.id, &n, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (n == 0)
        printf("task %s is %s: nothing to cancel\n", t.key, task_state_name(t.state));
    else
        printf("task %s cancelled\n", t.key);
out:
    store_task_fini(&t);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_cancel = {
    .name = "cancel",
    .summary = "cancel a study or one task",
    .usage =
        "Usage: sweep cancel STUDY|TASK [--home DIR]\n"
        "\n"
        "Cancels every pending and running task of STUDY, or one TASK (a key or a\n"
        "unique prefix). Pending tasks are cancelled at once; a running 'sweep run'\n"
        "kills the running ones within a second (SIGTERM, then SIGKILL after the\n"
        "study's kill_after). 'sweep run' of the same spec resumes them later.\n"
        "\n"
        "Options:\n"
        "  --home DIR  sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help  show this help\n"
        "\n"
        "Example:\n"
        "  sweep cancel quickstart\n",
    .fn = cancel_main,
};
