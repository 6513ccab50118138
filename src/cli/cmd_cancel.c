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
        {"study", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL, *study_flag = NULL;
    char *study = NULL;
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
        else if (c == 's')
            study_flag = optarg;
        else
            return cli_option_error(&cmd_cancel, opts, c, argv);
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_cancel, "expected one study name or task");
    if (store_open(cli_home(home), &st, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (!study_flag && store_study_get(st, argv[optind], &s, &err) == SWEEP_OK) {
        if (store_study_cancel(st, s.id, &n, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        printf("study %s cancelled (%lld tasks)\n", s.name, n);
        goto out;
    }
    if (cli_task_resolve(st, study_flag, argv[optind], &t, &study, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (store_cancel(st, t.study_id, t.id, &n, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (n == 0)
        printf("task %lld %s/%s is %s: nothing to cancel\n", t.id, study, t.key,
               task_state_name(t.state));
    else
        printf("task %lld %s/%s cancelled\n", t.id, study, t.key);
out:
    free(study);
    store_task_fini(&t);
    store_study_fini(&s);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_cancel = {
    .name = "cancel",
    .summary = "cancel a study or one task",
    .usage =
        "Usage: sweep cancel STUDY|TASK [--study STUDY] [--home DIR]\n"
        "\n"
        "Cancels every pending and running task of STUDY, or one TASK (its id, its\n"
        "key or a unique prefix of it, or STUDY/KEY; --study STUDY KEY looks in that\n"
        "study only). Pending tasks are cancelled at once; a running 'sweep run'\n"
        "kills the running ones within a second (SIGTERM, then SIGKILL after the\n"
        "study's kill_after). 'sweep run' of the same spec resumes them later.\n"
        "\n"
        "Options:\n"
        "  --study STUDY  TASK is a task of this study (a key or prefix)\n"
        "  --home DIR     sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help     show this help\n"
        "\n"
        "Examples:\n"
        "  sweep cancel quickstart\n"
        "  sweep cancel quickstart/3fa2c1\n",
    .fn = cancel_main,
};
