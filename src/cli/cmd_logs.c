/* sweep logs: a task's stdout and stderr (one after the other on stdout, each under a
 * header as tail prints them, or followed as they grow), or a study's log. A task is
 * named as store_task_resolve() says (id, key, prefix, STUDY/KEY). */
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
#include <time.h>

extern const struct cli_cmd cmd_logs;

#define FOLLOW_POLL_NS 100000000L /* --follow reads the files every 0.1 s */

struct logs {
    struct store *st;
    struct store_task t;
    char *study; /* the task's */
    char *dir;   /* its directory */
    bool want_out, want_err;
};

/* One stream of a task being followed: what has been printed of it so far. */
struct stream {
    const char *name; /* "stdout", "stderr" */
    char *path;
    long off;
};

static void
logs_header(const struct logs *l, const char *stream, int attempt, bool first)
{
    printf("%s==> %s: task %lld %s/%s, attempt %d <==\n", first ? "" : "\n", stream,
           l->t.id, l->study, l->t.key, attempt);
}

/* The log file of a stream of an attempt: stdout.log for the last one, stdout.N.log for
 * an earlier one (the runner renames them when it starts the next attempt). */
static char *logs_path(const struct logs *l, const char *stream, int attempt)
{
    if (attempt == l->t.attempts)
        return xasprintf("%s/%s.log", l->dir, stream);
    return xasprintf("%s/%s.%d.log", l->dir, stream, attempt);
}

/* Prints what the file holds past s->off and advances it; returns the bytes printed
 * (0 when the file is missing or has nothing new). */
static long logs_read_new(struct stream *s)
{
    char buf[65536];
    size_t n;
    long total = 0;
    FILE *in = fopen(s->path, "re");

    if (!in)
        return 0;
    if (fseek(in, 0, SEEK_END) == 0 && ftell(in) < s->off)
        s->off = 0; /* truncated or replaced: start again */
    if (fseek(in, s->off, SEEK_SET) == 0) {
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
            fwrite(buf, 1, n, stdout);
            total += (long)n;
        }
    }
    s->off += total;
    fclose(in);
    fflush(stdout);
    return total;
}

/* The logs of one ended (or running) attempt, each stream under its header when both
 * are shown. */
static int logs_print(struct logs *l, int attempt)
{
    const char *names[2] = {"stdout", "stderr"};
    bool want[2] = {l->want_out, l->want_err};
    bool both = l->want_out && l->want_err, first = true;
    int missing = 0, shown = 0;

    for (int i = 0; i < 2; i++) {
        char *path;
        if (!want[i])
            continue;
        shown++;
        path = logs_path(l, names[i], attempt);
        if (both)
            logs_header(l, names[i], attempt, first);
        first = false;
        fflush(stdout);
        /* No file: the attempt wrote nothing to it (the files are made at the first
         * byte). */
        if (fileio_copy_to(path, stdout) < 0 && errno != ENOENT) {
            if (both)
                printf("(no %s: %s)\n", path, strerror(errno));
            else
                fprintf(stderr, "sweep: no %s log %s\n", names[i], path);
            missing++;
        }
        free(path);
    }
    fflush(stdout);
    return missing == shown ? EXIT_USAGE : EXIT_OK;
}

static void logs_sleep(void)
{
    struct timespec ts = {0, FOLLOW_POLL_NS};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* --follow: prints the current attempt's streams as they grow (a header whenever the
 * stream printed changes, as tail -f does), a new attempt from its start, until the
 * task has ended for good or nothing runs it any more (no `sweep run` holds its
 * study). */
static int logs_follow(struct logs *l, struct err *err)
{
    struct stream s[2] = {{.name = "stdout"}, {.name = "stderr"}};
    bool want[2] = {l->want_out, l->want_err};
    bool both = l->want_out && l->want_err, first = true;
    int attempt = -1, last = -1, rc = EXIT_OK;
    char id[32];

    snprintf(id, sizeof(id), "%lld", l->t.id);
    for (;;) {
        bool over;

        if (l->t.attempts != attempt && l->t.attempts > 0) {
            attempt = l->t.attempts;
            last = -1;
            for (int i = 0; i < 2; i++) {
                free(s[i].path);
                s[i].path = xasprintf("%s/%s.log", l->dir, s[i].name);
                s[i].off = 0;
            }
        }
        /* Read the state before the files: once it says ended, one more read gets
         * everything the task wrote. */
        over = l->t.state != TASK_RUNNING &&
               (task_state_is_final(l->t.state) ||
                !runner_is_active(store_home(l->st), l->study));
        for (int i = 0; i < 2 && attempt > 0; i++) {
            if (!want[i])
                continue;
            if (both && last != i) {
                /* The header goes out only with something under it. */
                FILE *in = fopen(s[i].path, "re");
                long size = -1;
                if (in && fseek(in, 0, SEEK_END) == 0)
                    size = ftell(in);
                if (in)
                    fclose(in);
                if (size < 0 || size <= s[i].off)
                    continue;
                logs_header(l, s[i].name, attempt, first);
                first = false;
                last = i;
            }
            logs_read_new(&s[i]);
        }
        if (over)
            break;
        logs_sleep();
        store_task_fini(&l->t);
        if ((rc = store_task_resolve(l->st, 0, id, &l->t, NULL, err)) != 0) {
            rc = cli_fail(err);
            break;
        }
    }
    if (rc == EXIT_OK && attempt < 0)
        printf("task %s has not run yet (%s)\n", l->t.key, task_state_name(l->t.state));
    for (int i = 0; i < 2; i++)
        free(s[i].path);
    return rc;
}

static int logs_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"stdout", no_argument, NULL, 'o'},
        {"stderr", no_argument, NULL, 'e'},
        {"attempt", required_argument, NULL, 'a'},
        {"follow", no_argument, NULL, 'f'},
        {"study", required_argument, NULL, 's'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL, *study_flag = NULL;
    bool follow = false;
    int attempt = 0, c, rc = EXIT_OK;
    struct logs l = {0};
    struct store_study s = {0};
    struct err err = {0};
    char *path = NULL;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            l.want_out = true;
            break;
        case 'e':
            l.want_err = true;
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
        case 'f':
            follow = true;
            break;
        case 's':
            study_flag = optarg;
            break;
        case 'H':
            home = optarg;
            break;
        default:
            return cli_option_error(&cmd_logs, opts, c, argv);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(&cmd_logs, "expected one task (or study name)");
    if (follow && attempt)
        return cli_usage_error(&cmd_logs,
                               "--follow follows the current attempt; drop --attempt");
    if (!l.want_out && !l.want_err)
        l.want_out = l.want_err = true;
    if (store_open(cli_home(home), &l.st, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    /* A study name shows the study log. */
    if (!study_flag && store_study_get(l.st, argv[optind], &s, &err) == SWEEP_OK) {
        if (follow || attempt) {
            rc = cli_usage_error(&cmd_logs,
                                 "--follow and --attempt are for a task, and %s is a "
                                 "study",
                                 s.name);
            goto out;
        }
        l.dir = runner_study_dir(store_home(l.st), s.name);
        path = xasprintf("%s/study.log", l.dir);
        if (fileio_copy_to(path, stdout) < 0)
            printf("study %s has no log yet\n", s.name);
        goto out;
    }
    if (cli_task_resolve(l.st, study_flag, argv[optind], &l.t, &l.study, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    l.dir = runner_task_dir(store_home(l.st), l.study, l.t.key);
    if (follow) {
        rc = logs_follow(&l, &err);
        goto out;
    }
    if (l.t.attempts == 0) {
        if (attempt) {
            fprintf(stderr,
                    "sweep: task %s/%s has no attempt %d: it has not run yet (%s)\n",
                    l.study, l.t.key, attempt, task_state_name(l.t.state));
            rc = EXIT_USAGE;
        } else {
            printf("task %s has not run yet (%s)\n", l.t.key,
                   task_state_name(l.t.state));
        }
        goto out;
    }
    if (attempt > l.t.attempts) {
        fprintf(stderr, "sweep: task %s/%s has no attempt %d; its attempts: %s%d\n",
                l.study, l.t.key, attempt, l.t.attempts > 1 ? "1 to " : "",
                l.t.attempts);
        rc = EXIT_USAGE;
        goto out;
    }
    rc = logs_print(&l, attempt ? attempt : l.t.attempts);
out:
    free(path);
    free(l.dir);
    free(l.study);
    store_task_fini(&l.t);
    store_study_fini(&s);
    store_close(l.st);
    return rc;
}

const struct cli_cmd cmd_logs = {
    .name = "logs",
    .summary = "print a task's stdout and stderr, or a study's log",
    .usage =
        "Usage: sweep logs TASK|STUDY [--stdout] [--stderr] [--attempt N] [-f]\n"
        "                 [--study STUDY] [--home DIR]\n"
        "\n"
        "TASK is a task id, a task key or a unique prefix of one (at least 4 hex\n"
        "digits), or STUDY/KEY, as shown by 'sweep results' (the id column, or the\n"
        "key). Prints the stdout and then the stderr of the task's last attempt,\n"
        "both on stdout, each under a header line ('==> stdout: ... <=='), so that\n"
        "'sweep logs TASK | less' shows everything; one stream alone is printed\n"
        "without a header. With a study name, prints the study log (one line per\n"
        "event with ISO-8601 timestamps).\n"
        "\n"
        "Options:\n"
        "  --stdout / --stderr  only that stream\n"
        "  --attempt N          an earlier attempt's logs (1 is the first)\n"
        "  -f, --follow         print the logs as they grow, as tail -f does, until\n"
        "                       the task has ended (or no 'sweep run' runs it)\n"
        "  --study STUDY        TASK is a key (or id) of that study's tasks\n"
        "  --home DIR           sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help           show this help\n"
        "\n"
        "Examples:\n"
        "  sweep logs 3fa2c1 --stderr\n"
        "  sweep logs quickstart/3fa2c1 --follow\n"
        "  sweep logs 42 --attempt 1\n",
    .fn = logs_main,
};
