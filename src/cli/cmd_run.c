/* sweep run: expand a study spec, store it, run its tasks, resume on re-run. */
#include "cli.h"
#include "remote.h"
#include "progress.h"

#include "batch.h"

#include "common/jsonx.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/expand.h"
#include "core/engine.h"
#include "core/runner.h"
#include "core/sigwatch.h"
#include "core/spec.h"
#include "core/store.h"
#include "core/tmpl.h"
#include "core/view.h"
#include "models/speccheck.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct cli_cmd cmd_run;

struct run_args {
    const char *home;
    const char *spec_path;
    char **spec_paths; /* every spec given (sweep run a.yaml b.yaml) */
    int nspecs;
    struct runner_opts ro;
    bool json;
    bool quiet;
    bool dry_run;
    bool all;           /* --dry-run lists every task, not the first DRY_RUN_LIST */
    uint64_t max_tasks; /* a larger study is refused */
    bool prepare;       /* store the study, run nothing */
    int mode;           /* 0 not given, 1 sequential, 2 parallel */
    /* a package directory only */
    const char *command, *out_dir;
    double timeout;
    const char *server, *token_file; /* --server: submit to a running sweep serve */
    bool detach;                     /* --server: do not follow the study */
    const char *local_opt;           /* the first option of a local run only */
};

/* SWEEP_DEBUG_STATS=1: what the store cost this run (preparation included), on
 * stderr, for bench/ (store_stats_get()). */
static void print_store_stats(struct store *st)
{
    struct store_stats s;

    if (!st || !store_debug_stats())
        return;
    store_stats_get(st, &s);
    fprintf(stderr,
            "store: statements=%lld trigger_statements=%lld vm_steps=%lld commits=%lld "
            "pages=%lld\n",
            s.statements, s.trigger_statements, s.vm_steps, s.commits, s.pages);
}

static int parse_int_arg(const char *s, int min, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (!*s || *end || v < min || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

/* A positive integer up to UINT64_MAX, digits only. */
static int parse_count_arg(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v == 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    enum {
        OPT_MODE = 256,
        OPT_STOP,
        OPT_HALT,
        OPT_FORCE,
        OPT_SKIP_FAILED,
        OPT_HOME,
        OPT_JSON,
        OPT_QUIET,
        OPT_DRY,
        OPT_PREPARE,
        OPT_COMMAND,
        OPT_OUT_DIR,
        OPT_TIMEOUT,
        OPT_MAX_TASKS,
        OPT_ALL,
        OPT_SERVER,
        OPT_TOKEN_FILE,
        OPT_DETACH
    };
    static const struct option opts[] = {
        {"mode", required_argument, NULL, OPT_MODE},
        {"max-parallel", required_argument, NULL, 'j'},
        {"priority", required_argument, NULL, 'p'},
        {"stop-on-error", no_argument, NULL, OPT_STOP},
        {"halt", required_argument, NULL, OPT_HALT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"skip-failed", no_argument, NULL, OPT_SKIP_FAILED},
        {"home", required_argument, NULL, OPT_HOME},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"dry-run", no_argument, NULL, OPT_DRY},
        {"all", no_argument, NULL, OPT_ALL},
        {"max-tasks", required_argument, NULL, OPT_MAX_TASKS},
        {"prepare", no_argument, NULL, OPT_PREPARE},
        {"command", required_argument, NULL, OPT_COMMAND},
        {"output-dir", required_argument, NULL, OPT_OUT_DIR},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"server", required_argument, NULL, OPT_SERVER},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"detach", no_argument, NULL, OPT_DETACH},
        {NULL, 0, NULL, 0},
    };
    int c, li = -1;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "j:p:q", opts, &li)) != -1) {
        /* The first option of a local run only, refused with --server. */
        if (!a->local_opt && c != OPT_JSON && c != 'q' && c != OPT_QUIET &&
            c != OPT_SERVER && c != OPT_TOKEN_FILE && c != OPT_DETACH &&
            c != OPT_HOME && c != '?' && c != ':')
            a->local_opt = li >= 0 ? opts[li].name : c == 'j' ? "-j" : "-p";
        li = -1;
        switch (c) {
        case OPT_MODE:
            if (strcmp(optarg, "sequential") == 0)
                a->mode = 1;
            else if (strcmp(optarg, "parallel") == 0)
                a->mode = 2;
            else
                return cli_usage_error(&cmd_run,
                                       "--mode: expected sequential or parallel, got "
                                       "\"%s\"",
                                       optarg);
            break;
        case 'j':
            if (parse_int_arg(optarg, 1, &a->ro.max_parallel) < 0)
                return cli_usage_error(
                    &cmd_run,
                    "--max-parallel: expected a positive integer, got "
                    "\"%s\"",
                    optarg);
            break;
        case 'p':
            if (strcasecmp(optarg, "ALL") == 0)
                a->ro.band = 0;
            else if (priority_parse(optarg, &a->ro.band) < 0)
                return cli_usage_error(
                    &cmd_run,
                    "--priority: expected HIGH, MEDIUM, LOW, ALL or an "
                    "integer, got \"%s\"",
                    optarg);
            break;
        case OPT_STOP:
            a->ro.stop_on_error = true;
            break;
        case OPT_HALT:
            if (strcmp(optarg, "now") == 0)
                a->ro.halt_now = true;
            else if (strcmp(optarg, "soon") != 0)
                return cli_usage_error(
                    &cmd_run, "--halt: expected now or soon, got \"%s\"", optarg);
            a->ro.stop_on_error = true;
            break;
        case OPT_FORCE:
            a->ro.force = true;
            break;
        case OPT_SKIP_FAILED:
            a->ro.rerun = STORE_RERUN_UNTRIED;
            break;
        case OPT_HOME:
            a->home = optarg;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        case 'q':
        case OPT_QUIET:
            a->quiet = true;
            break;
        case OPT_DRY:
            a->dry_run = true;
            break;
        case OPT_ALL:
            a->all = true;
            break;
        case OPT_MAX_TASKS:
            if (parse_count_arg(optarg, &a->max_tasks) < 0)
                return cli_usage_error(
                    &cmd_run, "--max-tasks: expected a positive integer, got \"%s\"",
                    optarg);
            break;
        case OPT_PREPARE:
            a->prepare = true;
            break;
        case OPT_COMMAND:
            a->command = optarg;
            break;
        case OPT_OUT_DIR:
            a->out_dir = optarg;
            break;
        case OPT_TIMEOUT:
            if (duration_parse(optarg, &a->timeout) < 0 || a->timeout <= 0)
                return cli_usage_error(&cmd_run,
                                       "--timeout: expected a duration such as 90s, "
                                       "30m or 24h, got \"%s\"",
                                       optarg);
            break;
        case OPT_SERVER:
            a->server = optarg;
            break;
        case OPT_TOKEN_FILE:
            a->token_file = optarg;
            break;
        case OPT_DETACH:
            a->detach = true;
            break;
        default:
            return cli_option_error(&cmd_run, opts, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_run, "missing the study spec file");
    a->spec_path = argv[optind];
    a->spec_paths = argv + optind;
    a->nspecs = argc - optind;
    if (a->ro.force && a->ro.rerun == STORE_RERUN_UNTRIED)
        return cli_usage_error(&cmd_run, "--force reruns every task and --skip-failed "
                                         "leaves failed ones: give one of them");
    if (a->all && !a->dry_run)
        return cli_usage_error(&cmd_run, "--all goes with --dry-run");
    if (a->mode == 1) {
        if (a->ro.max_parallel > 1)
            return cli_usage_error(&cmd_run,
                                   "--mode sequential runs one task at a time; drop "
                                   "--max-parallel");
        a->ro.max_parallel = 1;
    }
    return EXIT_OK;
}

#define DRY_RUN_LIST 20                /* tasks --dry-run lists without --all */
#define MAX_TASKS_DEFAULT 100000000ULL /* --max-tasks */

/* Refuses a study larger than --max-tasks (n saturates at UINT64_MAX). */
static int too_many(const struct spec *spec, uint64_t n, uint64_t max)
{
    if (n == UINT64_MAX)
        fprintf(stderr,
                "sweep: %s: study %s has more than %llu tasks, more than --max-tasks "
                "%llu; make the grid smaller\n",
                spec->path, spec->name, (unsigned long long)(UINT64_MAX - 1),
                (unsigned long long)max);
    else
        fprintf(stderr,
                "sweep: %s: study %s has %llu tasks, more than --max-tasks %llu; make "
                "the grid smaller, or give --max-tasks %llu to run it\n",
                spec->path, spec->name, (unsigned long long)n, (unsigned long long)max,
                (unsigned long long)n);
    return EXIT_USAGE;
}

/* Prints one task of a dry run: key, band, step, repetition, seed and parameters, then
 * the argv it runs (runner_task_argv, as the runner builds it), each element a shell
 * word so the line can be copied. chain_keys: the keys of the steps of its chain so
 * far. */
static int dry_run_task(const struct spec *spec,
                        const struct expand_task *t,
                        const char *home,
                        char *const *chain_keys,
                        struct err *err)
{
    /* What the task sees: its seed parameter carries its seed (expand_apply_seed); a
     * copy, as t->params is the expansion's own. */
    json_t *params = json_deep_copy(t->params);
    char *view = expand_apply_seed(spec, params, t->seed) ? jsonx_canon_str(params)
                                                          : xstrdup(t->params_json);
    struct runner_argv_in in = {.step = t->step,
                                .params = params,
                                .params_json = view,
                                .key = t->key,
                                .seed = t->seed,
                                .repetition = t->repetition};
    char *task_dir = runner_task_dir(home, spec->name, t->key), *reduce_input = NULL;
    char **argv = NULL, **dirs = NULL;
    size_t ndirs = 0;
    int rc;

    in.task_dir = task_dir;
    if (t->chain < 0) {
        in.reduce_input = reduce_input = xasprintf("%s/input.json", task_dir);
    } else if (t->step > 0 && runner_step_uses_steps(spec_step_at(spec, t->step))) {
        dirs = xcalloc((size_t)t->step, sizeof(char *));
        for (ndirs = 0; ndirs < (size_t)t->step; ndirs++)
            dirs[ndirs] = runner_task_dir(home, spec->name, chain_keys[ndirs]);
        in.step_dirs = dirs;
    }
    rc = runner_task_argv(spec, cli_self_path(), &in, &argv, err);
    if (rc)
        goto out;
    if (spec->has_steps || spec->reduce)
        printf("%s  %-6s %s chain=%lld rep=%d seed=%lld  %s\n", t->key,
               priority_name(t->priority), spec_step_at(spec, t->step)->name, t->chain,
               t->repetition, t->seed, t->params_json);
    else
        printf("%s  %-6s rep=%d seed=%lld  %s\n", t->key, priority_name(t->priority),
               t->repetition, t->seed, t->params_json);
    printf("   ");
    for (char **p = argv; *p; p++) {
        char *w = tmpl_shell_word(*p);
        printf(" %s", w);
        free(w);
    }
    printf("\n");
out:
    for (char **p = argv; p && *p; p++)
        free(*p);
    free(argv);
    for (size_t i = 0; i < ndirs; i++)
        free(dirs[i]);
    free(dirs);
    free(task_dir);
    free(reduce_input);
    free(view);
    json_decref(params);
    return rc;
}

/* --dry-run: the count first (from the spec's sizes, without expanding it), then the
 * first DRY_RUN_LIST tasks of the --priority band (every one with --all) with the argv
 * each runs. Nothing is stored. */
static int dry_run(const struct spec *spec, const struct run_args *a)
{
    uint64_t total = expand_count(spec), nband = expand_count_band(spec, a->ro.band);
    uint64_t limit = a->all ? UINT64_MAX : DRY_RUN_LIST, listed = 0;
    const char *home = cli_home(a->home);
    char **chain_keys = xcalloc(spec->nsteps + 1, sizeof(char *));
    struct err err = {0};
    struct expand *ex;
    struct expand_task t;
    int rc = EXIT_OK;

    printf("study %s: %llu tasks", spec->name, (unsigned long long)total);
    if (a->ro.band)
        printf(", %llu of them %s", (unsigned long long)nband,
               priority_name(a->ro.band));
    printf("\n");
    if (spec->format) /* a task file (taskfile.h): how its priorities became bands */
        printf("%s: priority high or 1 (or less) is HIGH, medium or 2 MEDIUM, low or 3 "
               "(or more) LOW; an integer n runs as sweep's priority 4 - n\n",
               spec->format);
    if (total > a->max_tasks) {
        free(chain_keys);
        return too_many(spec, total, a->max_tasks);
    }
    ex = expand_create(spec);
    while (listed < limit && listed < nband && expand_next(ex, &t) == 1) {
        if (t.chain >= 0 && t.step < (int)spec->nsteps) {
            free(chain_keys[t.step]);
            chain_keys[t.step] = xstrdup(t.key);
        }
        if (a->ro.band &&
            strcmp(priority_name(t.priority), priority_name(a->ro.band)) != 0)
            continue;
        if (dry_run_task(spec, &t, home, chain_keys, &err)) {
            rc = cli_fail(&err);
            break;
        }
        listed++;
    }
    if (rc == EXIT_OK && listed < nband)
        printf("... %llu more (--all lists every one)\n",
               (unsigned long long)(nband - listed));
    expand_destroy(ex);
    for (size_t i = 0; i <= spec->nsteps; i++)
        free(chain_keys[i]);
    free(chain_keys);
    return rc;
}

static const char *const band_names[3] = {"LOW", "MEDIUM", "HIGH"};

/* What went wrong, so that a failed run says it without a second command. */
static void print_failures(struct store *st,
                           const struct spec *spec,
                           const struct runner_summary *s,
                           long long failed,
                           long long timed_out)
{
    struct store_study study = {0};
    long long counts[3][TASK_NSTATES];
    json_t *failures = NULL;
    struct err err = {0};

    memcpy(counts, s->counts, sizeof(counts));
    if (failed + timed_out > 0 && store_study_get(st, spec->name, &study, &err) == 0 &&
        view_failures_json(st, &study, counts, &failures, &err) == 0)
        cli_print_failures(failures, spec->name, failed, timed_out, "");
    json_decref(failures);
    store_study_fini(&study);
}

static void print_summary(struct store *st,
                          const struct spec *spec,
                          const struct runner_summary *s,
                          const json_t *steps)
{
    long long skipped = 0, interrupted = 0, failed = 0, timed_out = 0;
    char d[32];

    duration_format(s->elapsed, d, sizeof(d));
    printf("\nstudy %s: %s in %s", spec->name, study_status_name(s->status), d);
    if (s->skipped)
        printf(" (%lld already succeeded, skipped)", s->skipped);
    if (s->left_failed)
        printf(" (%lld failed before, not rerun: --skip-failed)", s->left_failed);
    printf("\n");
    if (s->reason[0])
        printf("%s\n", s->reason);
    /* The wall times of the tasks added up: with tasks in parallel, more than the
     * run's own time above, so it says that it is a sum. 77 columns. */
    printf("%-8s %7s %9s %6s %9s %9s %7s %15s\n", "priority", "total", "succeeded",
           "failed", "timed_out", "cancelled", "pending", "task time (sum)");
    for (int b = 2; b >= 0; b--) {
        const long long *c = s->counts[b];
        long long total = 0;
        for (int i = 0; i < TASK_NSTATES; i++)
            total += c[i];
        if (total == 0)
            continue;
        duration_format(s->wall[b], d, sizeof(d));
        printf("%-8s %7lld %9lld %6lld %9lld %9lld %7lld %15s\n", band_names[b], total,
               c[TASK_SUCCEEDED], c[TASK_FAILED], c[TASK_TIMED_OUT], c[TASK_CANCELLED],
               c[TASK_PENDING] + c[TASK_RUNNING] + c[TASK_INTERRUPTED] +
                   c[TASK_WAITING],
               d);
        skipped += c[TASK_SKIPPED];
        interrupted += c[TASK_INTERRUPTED];
        failed += c[TASK_FAILED];
        timed_out += c[TASK_TIMED_OUT];
    }
    if (interrupted > 0)
        printf("%lld of the pending %s stopped while running, and will run again\n",
               interrupted, interrupted == 1 ? "was" : "were");
    if (skipped > 0)
        printf("%lld skipped (pipeline steps after a failure, or the reduce)\n",
               skipped);
    if (steps)
        cli_print_steps(steps);
    if (s->note[0])
        printf("%s\n", s->note);
    print_failures(st, spec, s, failed, timed_out);
    if (s->end == RUNNER_INTERRUPTED || s->end == RUNNER_STOPPED)
        printf("Run the same command again to resume.\n");
}

static void print_summary_json(const struct spec *spec,
                               const struct runner_summary *s,
                               json_t *steps)
{
    json_t *o = json_object(), *by = json_object();

    json_object_set_new(o, "study", json_string(spec->name));
    json_object_set_new(o, "status", json_string(study_status_name(s->status)));
    json_object_set_new(o, "elapsed", json_real(s->elapsed));
    json_object_set_new(o, "skipped", json_integer(s->skipped));
    json_object_set_new(o, "left_failed", json_integer(s->left_failed));
    json_object_set_new(o, "attempts", json_integer(s->attempts));
    json_object_set_new(o, "reason",
                        s->reason[0] ? json_string(s->reason) : json_null());
    json_object_set_new(o, "note", s->note[0] ? json_string(s->note) : json_null());
    for (int b = 2; b >= 0; b--) {
        json_t *c = json_object();
        long long total = 0;
        for (int i = 0; i < TASK_NSTATES; i++) {
            json_object_set_new(c, task_state_name((enum task_state)i),
                                json_integer(s->counts[b][i]));
            total += s->counts[b][i];
        }
        json_object_set_new(c, "total", json_integer(total));
        json_object_set_new(c, "wall", json_real(s->wall[b]));
        json_object_set_new(by, band_names[b], c);
    }
    json_object_set_new(o, "by_priority", by);
    if (steps)
        json_object_set(o, "steps", steps);
    cli_print_json(o);
    json_decref(o);
}

static int exit_code_for(const struct runner_summary *s)
{
    long long bad = 0;

    /* 128 + the signal, as a shell reports a command it killed: 130 for SIGINT
     * (Ctrl-C), 143 for SIGTERM, 129 for SIGHUP. */
    if (s->end == RUNNER_INTERRUPTED)
        return s->signo > 0 ? 128 + s->signo : EXIT_INTERRUPTED;
    for (int b = 0; b < 3; b++)
        bad += s->counts[b][TASK_FAILED] + s->counts[b][TASK_TIMED_OUT] +
               s->counts[b][TASK_CANCELLED];
    return bad > 0 || s->end != RUNNER_FINISHED ? EXIT_TASK_FAILED : EXIT_OK;
}

/* `sweep run DIR`: a parametric-sweep package directory (batch.h). Sequential unless
 * --mode parallel (4 at a time unless -j) or -j N is given. */
static int run_packages(const struct run_args *a)
{
    struct batch_opts bo = {
        .dir = a->spec_path,
        .home = a->home,
        .out_dir = a->out_dir,
        .report = "artifacts/parametric_sweep_progress.png",
        .command = a->command,
        .band = a->ro.band,
        .max_parallel = a->ro.max_parallel > 0 ? a->ro.max_parallel
                        : a->mode == 2         ? 4
                                               : 1,
        .timeout = a->timeout,
        .stop_on_error = a->ro.stop_on_error,
        .quiet = a->quiet,
        .json = a->json,
        .only_id = -1,
    };

    if (a->ro.halt_now || a->ro.force || a->dry_run || a->prepare ||
        a->ro.rerun == STORE_RERUN_UNTRIED)
        return cli_usage_error(
            &cmd_run, "--halt now, --force, --skip-failed, --dry-run and "
                      "--prepare are for a spec file, not a package directory");
    return batch_run(&bo);
}

/* One study of `sweep run a.yaml b.yaml ...`. */
struct multi_study {
    struct spec *spec;
    struct speccheck *models;
    long long study_id, generation;
    int lock;
    struct runner *runner;
};

/* `sweep run a.yaml b.yaml ...`: every study prepared (each locked, checked and stored
 * as alone), then run at once by one engine over one local executor, sharing -j
 * slots (else the CPUs); each study keeps its own max_parallel, rate limit, after:,
 * retries and stop-on-error. One summary block per study; the exit status is the
 * worst. */
static int run_multi(struct run_args *a)
{
    int n = a->nspecs, rc = EXIT_OK, worst = EXIT_OK, slots;
    struct multi_study *ms = xcalloc((size_t)n, sizeof(*ms));
    struct store *st = NULL;
    struct executor *ex = NULL;
    struct engine *e = NULL;
    struct progress *prog = NULL;
    struct err err = {0};
    struct stat sb;

    for (int i = 0; i < n; i++)
        ms[i].lock = -1;
    if (a->dry_run || a->prepare || a->command || a->out_dir || a->timeout > 0) {
        rc = cli_usage_error(&cmd_run, "--dry-run, --prepare and the package options "
                                       "take one spec");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct multi_study *m = &ms[i];
        uint64_t ntasks;

        if (stat(a->spec_paths[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            rc = cli_usage_error(&cmd_run, "%s: a package directory runs alone",
                                 a->spec_paths[i]);
            goto out;
        }
        if (spec_load(a->spec_paths[i], &m->spec, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(ms[j].spec->name, m->spec->name) == 0) {
                rc = cli_usage_error(&cmd_run, "study %s is given twice (%s and %s)",
                                     m->spec->name, a->spec_paths[j], a->spec_paths[i]);
                goto out;
            }
        }
        if (speccheck_create(m->spec, SPECCHECK_LINES, &m->models, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        if ((ntasks = expand_count(m->spec)) > a->max_tasks) {
            rc = too_many(m->spec, ntasks, a->max_tasks);
            goto out;
        }
        if (runner_lock(cli_home(a->home), m->spec->name, &m->lock, &err) ||
            (!st && store_open(cli_home(a->home), &st, &err)) ||
            runner_prepare(st, m->spec, speccheck_task, m->models, &m->study_id,
                           &m->generation, &ntasks, &err)) {
            rc = cli_fail(&err);
            if (runner_prepare_signal())
                rc = 128 + runner_prepare_signal();
            goto out;
        }
    }
    if (executor_local_create(&ex, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    slots = a->ro.max_parallel;
    if (slots <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        slots = c > 0 ? (int)c : 1;
    }
    a->ro.self_path = cli_self_path();
    a->ro.notes = stderr;
    a->ro.executor = ex;
    prog = progress_create(a->quiet ? NULL : stderr, isatty(STDERR_FILENO),
                           cli_stderr_columns);
    progress_attach(prog, &a->ro);
    e = engine_create(st, ex, NULL, slots);
    for (int i = 0; i < n; i++) {
        struct runner_opts ro = a->ro;
        /* A study's own max_parallel, else the whole budget. */
        ro.max_parallel =
            ms[i].spec->max_parallel > 0 ? ms[i].spec->max_parallel : slots;
        if (runner_create(st, ms[i].spec, ms[i].study_id, ms[i].generation, &ro,
                          &ms[i].runner, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        engine_add(e, ms[i].runner);
        progress_add(prog, ms[i].runner);
    }
    /* SIGINT, SIGTERM and SIGHUP stop every study cleanly while the run lasts. */
    if (sigwatch_open(&err)) {
        rc = cli_fail(&err);
        goto out;
    }
    {
        struct engine_loop lp = {
            .max_wait = a->ro.tick_max, .on_tick = progress_tick, .on_tick_arg = prog};
        engine_run(e, &lp, &err);
    }
    sigwatch_close();
    for (int i = 0; i < n; i++) {
        const struct runner_summary *sum = runner_summary_get(ms[i].runner);
        const struct spec *spec = ms[i].spec;
        json_t *steps = NULL;
        int code;

        if (runner_result(ms[i].runner, &err)) {
            code = cli_fail(&err);
            if (code == EXIT_USAGE)
                code = EXIT_UNEXPECTED;
        } else {
            if (spec->has_steps || spec->reduce) {
                struct store_study s = {0};
                if (store_study_get(st, spec->name, &s, &err) == 0)
                    steps = cli_steps_counts(st, &s, &err);
                store_study_fini(&s);
            }
            if (a->json)
                print_summary_json(spec, sum, steps);
            else
                print_summary(st, spec, sum, steps);
            json_decref(steps);
            code = exit_code_for(sum);
        }
        if (code > worst)
            worst = code;
    }
    rc = worst;
out:
    engine_destroy(e);
    for (int i = 0; i < n; i++) {
        runner_destroy(ms[i].runner);
        speccheck_destroy(ms[i].models);
        spec_destroy(ms[i].spec);
    }
    executor_destroy(ex);
    progress_destroy(prog);
    print_store_stats(st);
    store_close(st);
    for (int i = 0; i < n; i++) {
        if (ms[i].lock >= 0)
            close(ms[i].lock);
    }
    free(ms);
    return rc;
}

static int run_main(int argc, char **argv)
{
    struct run_args a = {.max_tasks = MAX_TASKS_DEFAULT};
    struct spec *spec = NULL;
    struct store *st = NULL;
    struct runner_summary sum;
    struct err err = {0};
    struct speccheck *models = NULL;
    struct progress *prog = NULL;
    json_t *steps = NULL;
    long long study_id, generation;
    uint64_t ntasks = 0;
    struct stat sb;
    int lock = -1, rc;

    rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if ((a.server = remote_server(a.server, a.home))) {
        if (a.nspecs > 1)
            return cli_usage_error(&cmd_run, "--server takes one spec file");
        if (a.local_opt)
            return cli_usage_error(&cmd_run,
                                   "%s%s is for a local run: the service runs the "
                                   "spec as it is, with its own slots",
                                   a.local_opt[0] == '-' ? "" : "--", a.local_opt);
        return remote_run(a.server, a.token_file, a.spec_path, a.detach, a.json,
                          a.quiet);
    }
    if (a.detach)
        return cli_usage_error(&cmd_run, "--detach goes with --server");
    if (a.nspecs > 1)
        return run_multi(&a);
    if (stat(a.spec_path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return run_packages(&a);
    if (a.command || a.out_dir || a.timeout > 0)
        return cli_usage_error(&cmd_run,
                               "--command, --output-dir and --timeout are for a "
                               "package directory; a spec file sets its own");
    if (spec_load(a.spec_path, &spec, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (speccheck_create(spec, SPECCHECK_LINES, &models, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (a.dry_run) {
        rc = dry_run(spec, &a);
        goto out;
    }
    /* Counted from the sizes alone, before anything is written. */
    if ((ntasks = expand_count(spec)) > a.max_tasks) {
        rc = too_many(spec, ntasks, a.max_tasks);
        goto out;
    }
    a.ro.self_path = cli_self_path();
    a.ro.notes = stderr;
    prog = progress_create(a.quiet ? NULL : stderr, isatty(STDERR_FILENO),
                           cli_stderr_columns);
    progress_attach(prog, &a.ro);

    if (runner_lock(cli_home(a.home), spec->name, &lock, &err) ||
        store_open(cli_home(a.home), &st, &err) ||
        runner_prepare(st, spec, speccheck_task, models, &study_id, &generation,
                       &ntasks, &err)) {
        rc = cli_fail(&err);
        if (runner_prepare_signal())
            rc = 128 + runner_prepare_signal();
        goto out;
    }
    if (a.prepare) {
        printf("study %s: %llu tasks stored; 'sweep run %s' runs them\n", spec->name,
               (unsigned long long)ntasks, a.spec_path);
        rc = EXIT_OK;
        goto out;
    }
    /* SIGINT, SIGTERM and SIGHUP are the program's: while the run lasts they stop it
     * cleanly (runner_run hears of them through the watch) instead of killing sweep. */
    if (cli_runner_run(st, spec, study_id, generation, &a.ro, &sum, &err)) {
        rc = cli_fail(&err);
        if (rc == EXIT_USAGE)
            rc = EXIT_UNEXPECTED;
        goto out;
    }
    if (spec->has_steps || spec->reduce) {
        struct store_study s = {0};
        if (store_study_get(st, spec->name, &s, &err) == 0)
            steps = cli_steps_counts(st, &s, &err);
        store_study_fini(&s);
    }
    if (a.json)
        print_summary_json(spec, &sum, steps);
    else
        print_summary(st, spec, &sum, steps);
    rc = exit_code_for(&sum);
out:
    progress_destroy(prog);
    print_store_stats(st);
    store_close(st);
    if (lock >= 0)
        close(lock);
    json_decref(steps);
    speccheck_destroy(models);
    spec_destroy(spec);
    return rc;
}

const struct cli_cmd cmd_run = {
    .name = "run",
    .summary = "run a study: expand, store, run in parallel, resume on re-run",
    .usage =
        "Usage: sweep run SPEC [OPTIONS]\n"
        "       sweep run SPEC SPEC... [OPTIONS]\n"
        "       sweep run PACKAGES_DIR [OPTIONS]\n"
        "\n"
        "Expands the study in SPEC (YAML or JSON), stores its tasks under the sweep "
        "home\n"
        "and runs them. Running the same spec again resumes: succeeded tasks are\n"
        "skipped, failed, timed-out, cancelled and interrupted ones run again\n"
        "(with --skip-failed, failed and timed-out ones stay as they are).\n"
        "A spec with steps runs a pipeline: the steps as a chain for every point, "
        "then\n"
        "its reduce once; with after:, the run first waits, visibly, for the studies\n"
        "named there to complete (README: Pipelines).\n"
        "Several specs run at once in this one process, sharing -j slots (default\n"
        "the CPUs): tasks start by priority across the studies, each study keeps\n"
        "its own max_parallel, rate_limit, after:, retries and --stop-on-error;\n"
        "one progress line and one summary each; the exit status is the worst.\n"
        "\n"
        "Options:\n"
        "  --mode sequential|parallel  one task at a time, or up to --max-parallel\n"
        "  -j, --max-parallel N        slots in parallel (default: the spec's\n"
        "                              max_parallel, else the number of CPUs)\n"
        "  -p, --priority P            run only HIGH, MEDIUM, LOW (or ALL) tasks\n"
        "  --stop-on-error             start no new task after a failure with no\n"
        "                              retry left; running tasks finish\n"
        "  --halt now|soon             now: also kill running tasks; soon: as\n"
        "                              --stop-on-error\n"
        "  --force                     rerun succeeded tasks too\n"
        "  --skip-failed               run only what never ran or was interrupted or\n"
        "                              cancelled; failed and timed-out tasks stay\n"
        "                              failed (GNU parallel's --resume); the exit\n"
        "                              status still counts them\n"
        "  --dry-run                   print the number of tasks, then the first 20\n"
        "                              (of the --priority band) with the argv each\n"
        "                              runs, shell-quoted; store and run nothing\n"
        "  --all                       with --dry-run: list every task\n"
        "  --max-tasks N               refuse a study of more than N tasks (default\n"
        "                              100000000), before anything is stored\n"
        "  --prepare                   store the study and its tasks; run nothing\n"
        "  --json                      print the final summary as JSON\n"
        "  -q, --quiet                 no progress line\n"
        "  --home DIR                  sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  --server URL                submit SPEC to a running `sweep serve`\n"
        "                              (default $SWEEP_SERVER) and follow it\n"
        "  --detach                    with --server: submit and return\n"
        "  --token-file F              the service's token ($SWEEP_TOKEN_FILE)\n"
        "  -h, --help                  show this help\n"
        "\n"
        "Exit status: 0 all tasks succeeded, 1 some task failed, 2 spec or usage "
        "error,\n"
        "3 unexpected error, 4 the study is held by another sweep process (another\n"
        "'sweep run' of it runs: the message names its pid), 130 interrupted by\n"
        "SIGINT, 143 by SIGTERM (128 + the signal; run again to resume).\n"
        "\n"
        "A package directory (parametric_sweep_packages/: priority_summary.json and "
        "one\n"
        "package_XXXX.json per package) runs each package as a task of the "
        "navier-stokes\n"
        "model, one at a time unless --mode parallel (4 at a time, or -j N). Each "
        "ended\n"
        "package writes parametric_sweep_results/results_package_XXXX.json and\n"
        "parametric_sweep_logs/package_XXXX.log; parametric_sweep_logs/batch.log logs\n"
        "the batch and artifacts/parametric_sweep_progress.png shows its progress.\n"
        "Completed packages are skipped on a re-run. Every file is checked first: a\n"
        "missing or malformed one runs nothing. For a package directory only:\n"
        "  --command LINE              run this program instead of the model (split "
        "on\n"
        "                              blanks, no shell; {name} placeholders, "
        "including\n"
        "                              {package_id})\n"
        "  --output-dir DIR            results files (default "
        "parametric_sweep_results)\n"
        "  --timeout DURATION          per package (default 24h)\n"
        "Exit status there: 0 all completed, 1 some failed, 2 a configuration file\n"
        "missing or invalid, 3 unexpected error, 4 held by another sweep process,\n"
        "124 some package timed out; with --server also 5 the service cannot be\n"
        "reached, 6 a token is needed (401), 8 an answer that is not JSON.\n"
        "\n"
        "Example:\n"
        "  sweep run study.yaml --max-parallel 8 --stop-on-error\n"
        "  sweep run study.yaml --skip-failed\n"
        "  sweep run a.yaml b.yaml c.yaml -j 8\n"
        "  sweep run study.yaml --dry-run --priority HIGH\n"
        "  sweep run study.yaml --server http://127.0.0.1:5000 --detach\n"
        "  sweep run parametric_sweep_packages/ --mode parallel --priority HIGH\n",
    .fn = run_main,
};
