/* sweep rm: delete a study: its tasks, their attempts and metrics and its aggregate in
 * the store, and its files under the sweep home (task directories, study.log). Refused
 * while another sweep process holds the study (a running `sweep run`); asks first on a
 * terminal, and off a terminal deletes only with --yes. Other studies, also those whose
 * name starts with this one's, are not touched. */
#include "cli.h"

#include "core/runner.h"
#include "core/store.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

extern const struct cli_cmd cmd_rm;

/* Asks on the terminal; true for y or yes (any case). */
static bool confirm(const char *study, long long ntasks, const char *dir)
{
    char line[64];

    fprintf(stderr, "Delete study '%s', its %lld tasks, their results and %s? [y/N] ",
            study, ntasks, dir);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return false;
    line[strcspn(line, "\r\n")] = '\0';
    return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

static int rm_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"yes", no_argument, NULL, 'y'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL, *name;
    bool yes = false;
    struct store *st = NULL;
    struct store_study s = {0};
    struct err err = {0};
    long long counts[3][TASK_NSTATES], ntasks = 0;
    char *dir = NULL;
    int c, lock = -1, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "y", opts, NULL)) != -1) {
        if (c == 'y')
            yes = true;
        else if (c == 'H')
            home = optarg;
        else
            return cli_option_error(&cmd_rm, opts, c, argv);
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_rm, "expected one study name");
    name = argv[optind];
    if (store_open(cli_home(home), &st, &err) || store_study_get(st, name, &s, &err) ||
        runner_lock_as(store_home(st), s.name, "sweep rm", &lock, &err) ||
        store_study_counts(st, s.id, counts, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < TASK_NSTATES; i++)
            ntasks += counts[b][i];
    dir = runner_study_dir(store_home(st), s.name);
    if (!yes && !isatty(STDIN_FILENO)) {
        fprintf(stderr,
                "sweep rm: not deleting study '%s' (%lld tasks) without confirmation, "
                "and the input is not a terminal to ask on: pass --yes\n",
                s.name, ntasks);
        rc = EXIT_USAGE;
        goto out;
    }
    if (!yes && !confirm(s.name, ntasks, dir)) {
        printf("study %s kept\n", s.name);
        goto out;
    }
    if (runner_study_remove(st, s.name, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("study %s removed (%lld tasks, %s)\n", s.name, ntasks, dir);
out:
    free(dir);
    store_study_fini(&s);
    store_close(st);
    if (lock >= 0)
        close(lock);
    return rc;
}

const struct cli_cmd cmd_rm = {
    .name = "rm",
    .summary = "delete a study, its tasks, results and files",
    .usage =
        "Usage: sweep rm STUDY [--yes] [--home DIR]\n"
        "\n"
        "Deletes STUDY from the sweep home: its tasks, every attempt, metrics and\n"
        "the stored aggregate, and its files (<home>/studies/STUDY: the task\n"
        "directories and study.log). Files a run wrote elsewhere stay. Refused\n"
        "while the study runs ('sweep cancel' it first, or wait). Asks on a\n"
        "terminal; off a terminal it deletes only with --yes.\n"
        "\n"
        "Options:\n"
        "  -y, --yes        delete without asking\n"
        "  --home DIR       sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help       this help\n"
        "\n"
        "Exit status: 0 deleted (or kept when the answer was not yes), 2 no such\n"
        "study or no --yes off a terminal, 3 unexpected error, 4 the study is\n"
        "held by another sweep process (it runs).\n"
        "\n"
        "Example:\n"
        "  sweep rm quickstart --yes\n",
    .fn = rm_main,
};
