/* sweep retry: run one task again. The task (failed, timed out, cancelled, interrupted
 * or even succeeded) goes back to pending and runs at once under the study's run lock,
 * with the study's stored spec (its retries, timeout and environment); every other task
 * of the study stays exactly as it is. Its attempts are numbered on from the last. */
#include "cli.h"
#include "progress.h"

#include "core/runner.h"
#include "core/spec.h"
#include "core/store.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct cli_cmd cmd_retry;

/* The task the user named (an id, a key or prefix, STUDY/KEY: cli_task_resolve) and
 * its study. */
static int retry_lookup(struct store *st,
                        const char *name,
                        struct store_task *t,
                        struct store_study *s,
                        struct err *err)
{
    char *study = NULL;
    int rc = cli_task_resolve(st, NULL, name, t, &study, err);

    if (rc == SWEEP_OK)
        rc = store_study_get(st, study, s, err);
    free(study);
    return rc;
}

/* Why the task cannot run now, or NULL. */
static const char *not_runnable(const struct store_task *t)
{
    if (t->state == TASK_WAITING)
        return "it waits for the step before it in its chain to succeed";
    if (t->state == TASK_SKIPPED)
        return "it was skipped after a step before it did not succeed; retry that "
               "step, or run the study again";
    return NULL;
}

static int report(struct store *st, const char *key, long long study_id, bool *ok)
{
    struct store_task t = {0};
    struct err err = {0};
    int rc = store_task_find(st, study_id, key, &t, &err);

    if (rc)
        return cli_fail(&err);
    *ok = t.state == TASK_SUCCEEDED;
    if (t.state == TASK_PENDING || t.state == TASK_WAITING) {
        fprintf(stderr,
                "sweep retry: task %s did not run: it is %s (a pipeline step waits for "
                "the step before it; a task of an earlier expansion of the spec runs "
                "no more)\n",
                t.key, task_state_name(t.state));
        rc = EXIT_TASK_FAILED;
    } else {
        printf("task %s: %s (attempt %d)%s%s\n", t.key, task_state_name(t.state),
               t.attempts, t.error && !*ok ? ": " : "", t.error && !*ok ? t.error : "");
    }
    store_task_fini(&t);
    return rc;
}

static int retry_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"home", required_argument, NULL, 'H'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL, *why;
    bool quiet = false, ok = false;
    struct store *st = NULL;
    struct store_study s = {0};
    struct store_task t = {0};
    struct spec *spec = NULL;
    struct runner_opts ro = {0};
    struct progress *prog = NULL;
    struct runner_summary sum;
    struct err err = {0};
    long long pending;
    size_t n;
    int c, lock = -1, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        if (c == 'H')
            home = optarg;
        else if (c == 'q')
            quiet = true;
        else
            return cli_option_error(&cmd_retry, opts, c, argv);
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_retry, "expected one task key");
    if (store_open(cli_home(home), &st, &err) ||
        retry_lookup(st, argv[optind], &t, &s, &err) ||
        runner_lock_as(store_home(st), s.name, "sweep retry", &lock, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    n = strlen(s.spec_path);
    if (n >= 21 && strcmp(s.spec_path + n - 21, "priority_summary.json") == 0) {
        fprintf(stderr,
                "sweep retry: task %s is a package of a package directory: run it "
                "again with 'sweep run-package --package-id N'\n",
                t.key);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((why = not_runnable(&t)) != NULL) {
        fprintf(stderr, "sweep retry: task %s is %s: %s\n", t.key,
                task_state_name(t.state), why);
        rc = EXIT_USAGE;
        goto out;
    }
    if (spec_parse(s.spec_path, s.spec_json, strlen(s.spec_json), &spec, &err)) {
        err_prefix(&err, "the stored spec of study %s", s.name);
        rc = cli_fail(&err);
        goto out;
    }
    /* A task left running by a run that died is ended and interrupted first; then it
     * runs. */
    if (runner_end_orphans(st, s.id, NULL, NULL, &pending, &err) ||
        store_begin(st, &err) ||
        store_study_reset(st, s.id, s.generation, STORE_RERUN_NONE, &pending, &err) ||
        store_task_requeue(st, t.id, &err) || store_commit(st, &err)) {
        store_rollback(st);
        rc = cli_fail(&err);
        goto out;
    }
    ro.self_path = cli_self_path();
    prog = progress_create(quiet ? NULL : stderr, isatty(STDERR_FILENO), NULL);
    progress_attach(prog, &ro);
    ro.only_key = t.key;
    ro.rerun = STORE_RERUN_NONE;
    if (cli_runner_run(st, spec, s.id, s.generation, &ro, &sum, &err)) {
        rc = cli_fail(&err);
        if (rc == EXIT_USAGE)
            rc = EXIT_UNEXPECTED;
        goto out;
    }
    rc = report(st, t.key, s.id, &ok);
    if (rc == EXIT_OK && sum.end == RUNNER_INTERRUPTED)
        rc = EXIT_INTERRUPTED;
    else if (rc == EXIT_OK && !ok)
        rc = EXIT_TASK_FAILED;
out:
    progress_destroy(prog);
    spec_destroy(spec);
    store_task_fini(&t);
    store_study_fini(&s);
    store_close(st);
    if (lock >= 0)
        close(lock);
    return rc;
}

const struct cli_cmd cmd_retry = {
    .name = "retry",
    .summary = "run one ended task again (failed, timed out, cancelled ...)",
    .usage =
        "Usage: sweep retry TASK [-q] [--home DIR]\n"
        "\n"
        "Puts TASK (its id, its key or a unique prefix, or STUDY/KEY, as 'sweep\n"
        "results' shows them) back to pending and runs it now, with the spec stored\n"
        "with its study: its command or model, retries, timeout and environment.\n"
        "Its earlier attempts stay (sweep logs TASK --attempt N); every other task\n"
        "of the study stays as it is. A succeeded task runs again too. Refused\n"
        "while the study runs. In a pipeline, the steps after it run on the next\n"
        "'sweep run' of the spec.\n"
        "\n"
        "Options:\n"
        "  -q, --quiet      no progress line\n"
        "  --home DIR       sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help       this help\n"
        "\n"
        "Exit status: 0 the task succeeded, 1 it failed (or could not run), 2 no\n"
        "such task or it cannot run now, 3 unexpected error, 4 the study is held by\n"
        "another sweep process, 130 interrupted.\n"
        "\n"
        "Example:\n"
        "  sweep retry 3f2a9c1e\n",
    .fn = retry_main,
};
