/* The package batch (see batch.h). Its steps: load and check the directory (nothing
 * runs when anything is wrong); build the study spec, one explicit task per package
 * with the package's priority; store it; note the packages that already completed
 * (rewriting a results file that a crash kept from being written); run the rest
 * through the runner, whose task events write each package's results file, its log and
 * a line of batch.log as soon as the store has its end; then draw the progress report
 * and print the summary. The store decides what completed: results files are outputs.
 */
#include "batch.h"

#include "cli.h"
#include "progress.h"

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/expand.h"
#include "core/packages.h"
#include "core/runner.h"
#include "core/spec.h"
#include "core/store.h"
#include "models/model.h"
#include "report/report.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MODEL "navier-stokes"

struct batch {
    const struct batch_opts *o;
    struct packages pk;
    char (*keys)[EXPAND_KEY_LEN + 1]; /* the task key of each package, as pk.v */
    struct spec *spec;
    const struct model *model; /* NULL for --command */
    struct store *st;
    long long study_id;
    FILE *log; /* batch.log */
    char *out_dir, *logs_dir;
    bool write_failed; /* a results or log file could not be written (reported) */
};

static bool selected(const struct batch *b, const struct package *p)
{
    if (b->o->only_id >= 0)
        return p->id == b->o->only_id;
    return b->o->band == 0 || p->priority == b->o->band;
}

static void blog(struct batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One timestamped line of batch.log. */
static void blog(struct batch *b, const char *fmt, ...)
{
    char ts[40];
    va_list ap;

    if (!b->log)
        return;
    time_iso8601(time_now(), ts, sizeof(ts));
    fprintf(b->log, "%s ", ts);
    va_start(ap, fmt);
    vfprintf(b->log, fmt, ap);
    va_end(ap);
    fputc('\n', b->log);
    fflush(b->log);
}

/* The study's name: the directory's own name, made a valid study name. */
static char *study_name(const char *dir)
{
    char *abs = realpath(dir, NULL), *copy = xstrdup(abs ? abs : dir);
    char *base = basename(copy), *name;

    name = xasprintf("%s%s", isalnum((unsigned char)base[0]) ? "" : "p", base);
    for (char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            *p = '-';
    }
    if (strlen(name) > 100)
        name[100] = '\0';
    free(copy);
    free(abs);
    return name;
}

/* --command "prog --re {Re}": split on blanks (no shell); a relative program path is
 * made absolute from the current directory, where the user wrote it. */
static json_t *command_argv(const char *line)
{
    json_t *argv = json_array();
    char *copy = xstrdup(line), *save = NULL;

    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (json_array_size(argv) == 0 && w[0] != '/' && strchr(w, '/')) {
            char cwd[PATH_MAX];
            if (getcwd(cwd, sizeof(cwd))) {
                char *abs = xasprintf("%s/%s", cwd, w);
                json_array_append_new(argv, json_string(abs));
                free(abs);
                continue;
            }
        }
        json_array_append_new(argv, json_string(w));
    }
    free(copy);
    return argv;
}

/* A package's parameters against the model (with packages_load_checked, so that every
 * bad package is reported with the other problems of the directory). */
static int check_package(const struct package *p, void *arg, struct err *err)
{
    json_t *params = packages_params(p, false);
    int rc = model_params_check(arg, params, NULL, err);

    json_decref(params);
    return rc;
}

/* The study spec: one explicit task per package (all of them, whatever is selected, so
 * that the study shows the whole batch); the packages were checked when read. */
static int build_spec(struct batch *b, struct err *err)
{
    const struct batch_opts *o = b->o;
    json_t *spec = json_object(), *tasks = json_array();
    char *name = study_name(o->dir), *path = NULL, *text = NULL;
    int rc;

    json_object_set_new(spec, "study", json_string(name));
    json_object_set_new(spec, "description",
                        json_sprintf("parametric-sweep packages of %s", o->dir));
    if (o->command) {
        json_object_set_new(spec, "command", command_argv(o->command));
    } else {
        b->model = model_find(DEFAULT_MODEL);
        json_object_set_new(spec, "model", json_string(DEFAULT_MODEL));
    }
    for (size_t i = 0; i < b->pk.n; i++) {
        const struct package *p = &b->pk.v[i];
        json_t *params = packages_params(p, o->command != NULL);
        json_object_set_new(params, "priority",
                            json_string(priority_name(p->priority)));
        json_array_append_new(tasks, params);
    }
    json_object_set_new(spec, "tasks", tasks);
    if (o->timeout > 0)
        json_object_set_new(spec, "timeout", json_real(o->timeout));
    json_object_set_new(spec, "max_parallel", json_integer(o->max_parallel));
    path = xasprintf("%s/priority_summary.json", o->dir);
    text = json_dumps(spec, JSON_COMPACT);
    rc = spec_parse(path, text, strlen(text), &b->spec, err);
    if (rc == SWEEP_OK)
        cli_spec_seed_names(b->spec, b->model);
    json_decref(spec);
    free(text);
    free(path);
    free(name);
    return rc;
}

/* The key of each package's task, from the same expansion the store got. */
static void learn_keys(struct batch *b)
{
    struct expand *ex = expand_create(b->spec);
    struct expand_task t;

    b->keys = xcalloc(b->pk.n, sizeof(*b->keys));
    for (size_t i = 0; i < b->pk.n && expand_next(ex, &t) == 1; i++)
        memcpy(b->keys[i], t.key, sizeof(t.key));
    expand_destroy(ex);
}

static const struct package *package_of(const struct batch *b, const char *key)
{
    for (size_t i = 0; i < b->pk.n; i++) {
        if (strcmp(b->keys[i], key) == 0)
            return &b->pk.v[i];
    }
    return NULL;
}

static char *results_path(const struct batch *b, const struct package *p)
{
    char name[32];
    packages_name(p->id, name, sizeof(name));
    return xasprintf("%s/results_%s.json", b->out_dir, name);
}

/* The results file of a package's ended task:
 * {package_id, timestamp, config, results, execution_time, status, ...}. */
static void
write_results(struct batch *b, const struct package *p, const struct store_task *t)
{
    json_t *o = json_object(), *metrics = NULL;
    char ts[40], *path = results_path(b, p), *text;
    struct err err = {0};

    if (t->metrics_json)
        metrics = json_loads(t->metrics_json, 0, NULL);
    time_iso8601(t->finished_at, ts, sizeof(ts));
    json_object_set_new(o, "package_id", json_integer(p->id));
    json_object_set_new(o, "timestamp", json_string(ts));
    json_object_set(o, "config", p->config);
    json_object_set_new(o, "results", metrics ? metrics : json_object());
    json_object_set_new(o, "execution_time", json_real(t->wall));
    json_object_set_new(
        o, "status", json_string(t->state == TASK_SUCCEEDED ? "completed" : "failed"));
    json_object_set_new(o, "state", json_string(task_state_name(t->state)));
    if (t->error)
        json_object_set_new(o, "error", json_string(t->error));
    json_object_set_new(o, "attempts", json_integer(t->attempts));
    json_object_set_new(o, "task", json_string(t->key));
    text = jsonx_pretty_str(o);
    if (fileio_write_atomic(path, text, strlen(text), "results file", &err)) {
        fprintf(stderr, "sweep: %s\n", err.msg);
        blog(b, "error: %s", err.msg);
        b->write_failed = true;
    }
    free(text);
    free(path);
    json_decref(o);
}

/* parametric_sweep_logs/package_XXXX.log: what the package's last attempt printed,
 * after a header that says how it ended. */
static void
write_package_log(struct batch *b, const struct package *p, const struct store_task *t)
{
    char name[32];
    char *dir = runner_task_dir(store_home(b->st), b->spec->name, t->key);
    char *out = xasprintf("%s/stdout.log", dir),
         *errp = xasprintf("%s/stderr.log", dir);
    char *path, *tmp;
    FILE *f;

    packages_name(p->id, name, sizeof(name));
    path = xasprintf("%s/%s.log", b->logs_dir, name);
    tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    f = fopen(tmp, "we");
    if (!f) {
        fprintf(stderr, "sweep: cannot write %s: %s\n", tmp, strerror(errno));
        b->write_failed = true;
        goto out;
    }
    fprintf(f, "package %d (%s): %s after %d attempt%s, exit code %d, %.3f s\n", p->id,
            priority_name(p->priority), task_state_name(t->state), t->attempts,
            t->attempts == 1 ? "" : "s", t->exit_code, t->wall);
    if (t->error)
        fprintf(f, "error: %s\n", t->error);
    fprintf(f, "task %s, files in %s\n", t->key, dir);
    fprintf(f, "---- stdout ----\n");
    fileio_copy_to(out, f);
    fprintf(f, "---- stderr ----\n");
    fileio_copy_to(errp, f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "sweep: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        b->write_failed = true;
    }
out:
    free(tmp);
    free(path);
    free(out);
    free(errp);
    free(dir);
}

static void on_task(void *arg, enum runner_task_event ev, const char *key)
{
    struct batch *b = arg;
    const struct package *p = package_of(b, key);
    struct store_task t = {0};
    struct err err = {0};

    if (!p)
        return;
    if (ev == RUNNER_TASK_STARTED) {
        blog(b, "package %04d started (%s)", p->id, priority_name(p->priority));
        return;
    }
    if (store_task_find(b->st, b->study_id, key, &t, &err)) {
        blog(b, "error: package %04d: %s", p->id, err.msg);
        return;
    }
    if (t.state == TASK_SUCCEEDED || t.state == TASK_FAILED ||
        t.state == TASK_TIMED_OUT) {
        write_results(b, p, &t);
        write_package_log(b, p, &t);
    }
    blog(b, "package %04d %s in %.3f s%s%s", p->id,
         t.state == TASK_SUCCEEDED ? "completed" : task_state_name(t.state), t.wall,
         t.error ? ": " : "", t.error ? t.error : "");
    store_task_fini(&t);
}

/* A package's task as the store has it now. */
static int task_of(struct batch *b, size_t i, struct store_task *t, struct err *err)
{
    return store_task_find(b->st, b->study_id, b->keys[i], t, err);
}

/* Before the run: the selected packages that already completed are skipped; a missing
 * or stale results file of one (a crash between the store and the file) is rewritten.
 * For run-package, a completed package is queued again. */
static int note_completed(struct batch *b, long long *skipped, struct err *err)
{
    for (size_t i = 0; i < b->pk.n; i++) {
        const struct package *p = &b->pk.v[i];
        struct store_task t = {0};
        int rc;

        if (!selected(b, p))
            continue;
        if ((rc = task_of(b, i, &t, err)) != 0)
            return rc;
        if (t.state == TASK_SUCCEEDED && b->o->only_id >= 0) {
            rc = store_task_requeue(b->st, t.id, err);
            blog(b, "package %04d completed before; running it again", p->id);
        } else if (t.state == TASK_SUCCEEDED) {
            char *path = results_path(b, p);
            json_t *old = json_load_file(path, 0, NULL);
            if (!old || !json_equal(json_object_get(old, "config"), p->config) ||
                !json_is_string(json_object_get(old, "status")) ||
                strcmp(json_string_value(json_object_get(old, "status")),
                       "completed")) {
                write_results(b, p, &t);
                write_package_log(b, p, &t);
            }
            json_decref(old);
            free(path);
            (*skipped)++;
            blog(b, "package %04d already completed, skipped", p->id);
        }
        store_task_fini(&t);
        if (rc)
            return rc;
    }
    return SWEEP_OK;
}

struct tally {
    long long selected, completed, failed, timed_out, other;
};

static int summarize(struct batch *b, struct tally *n, json_t *list, struct err *err)
{
    for (size_t i = 0; i < b->pk.n; i++) {
        const struct package *p = &b->pk.v[i];
        struct store_task t = {0};
        int rc;

        if (!selected(b, p))
            continue;
        if ((rc = task_of(b, i, &t, err)) != 0)
            return rc;
        n->selected++;
        if (t.state == TASK_SUCCEEDED)
            n->completed++;
        else if (t.state == TASK_FAILED)
            n->failed++;
        else if (t.state == TASK_TIMED_OUT)
            n->timed_out++;
        else
            n->other++;
        if (list) {
            json_t *o = json_object();
            char *path = results_path(b, p);
            json_object_set_new(o, "package_id", json_integer(p->id));
            json_object_set_new(o, "priority", json_string(priority_name(p->priority)));
            json_object_set_new(o, "state", json_string(task_state_name(t.state)));
            json_object_set_new(o, "results", json_string(path));
            json_array_append_new(list, o);
            free(path);
        }
        store_task_fini(&t);
    }
    return SWEEP_OK;
}

/* What this batch did with the packages it selected (the study's own status also
 * counts the packages of other priorities, which it did not run). */
static const char *outcome(const struct runner_summary *sum, const struct tally *n)
{
    long long bad = n->failed + n->timed_out;

    if (sum->end == RUNNER_INTERRUPTED)
        return "INTERRUPTED";
    if (sum->end == RUNNER_CANCELLED)
        return "CANCELLED";
    if (bad == 0 && n->other == 0)
        return "COMPLETED";
    if (bad == 0)
        return "INCOMPLETE";
    return n->completed == 0 && n->other == 0 ? "FAILED" : "PARTIALLY_FAILED";
}

static void print_summary(struct batch *b,
                          const struct runner_summary *sum,
                          const struct tally *n,
                          long long skipped,
                          json_t *list)
{
    if (b->o->json) {
        json_t *o = json_object();
        json_object_set_new(o, "study", json_string(b->spec->name));
        json_object_set_new(o, "status", json_string(study_status_name(sum->status)));
        json_object_set_new(o, "outcome", json_string(outcome(sum, n)));
        json_object_set_new(o, "selected", json_integer(n->selected));
        json_object_set_new(o, "completed", json_integer(n->completed));
        json_object_set_new(o, "skipped", json_integer(skipped));
        json_object_set_new(o, "failed", json_integer(n->failed));
        json_object_set_new(o, "timed_out", json_integer(n->timed_out));
        json_object_set_new(o, "not_run", json_integer(n->other));
        json_object_set_new(o, "results_dir", json_string(b->out_dir));
        json_object_set_new(o, "logs_dir", json_string(b->logs_dir));
        json_object_set_new(o, "report", json_string(b->o->report));
        json_object_set(o, "packages", list);
        cli_print_json(o);
        json_decref(o);
        return;
    }
    printf(
        "\npackages of %s: %lld selected, %lld completed (%lld already), %lld failed, "
        "%lld timed out, %lld not run\n",
        b->o->dir, n->selected, n->completed, skipped, n->failed, n->timed_out,
        n->other);
    if (sum->reason[0])
        printf("%s\n", sum->reason);
    printf("results in %s/, logs in %s/, report %s\n", b->out_dir, b->logs_dir,
           b->o->report);
}

static int exit_code(const struct runner_summary *sum, const struct tally *n)
{
    if (sum->end == RUNNER_INTERRUPTED) /* 128 + the signal: 130 SIGINT, 143 SIGTERM */
        return sum->signo > 0 ? 128 + sum->signo : EXIT_INTERRUPTED;
    if (n->timed_out > 0)
        return EXIT_PACKAGE_TIMEOUT;
    return n->failed > 0 || n->other > 0 ? EXIT_TASK_FAILED : EXIT_OK;
}

static int open_outputs(struct batch *b, struct err *err)
{
    char *copy = xstrdup(b->o->report), *log_path = NULL;
    int rc;

    if ((rc = report_check_path(b->o->report, err)) != 0 ||
        (rc = fileio_mkdirs(b->out_dir, err)) != 0 ||
        (rc = fileio_mkdirs(b->logs_dir, err)) != 0 ||
        (rc = fileio_mkdirs(dirname(copy), err)) != 0)
        goto out;
    log_path = xasprintf("%s/batch.log", b->logs_dir);
    b->log = fopen(log_path, "ae");
    if (!b->log)
        rc = err_set(err, SWEEP_EIO, "cannot write %s: %s", log_path, strerror(errno));
out:
    free(log_path);
    free(copy);
    return rc;
}

int batch_run(const struct batch_opts *o)
{
    struct batch b = {.o = o};
    struct runner_opts ro = {0};
    struct runner_summary sum = {0};
    struct progress *prog = NULL;
    struct tally n = {0};
    struct err err = {0};
    long long generation, skipped = 0;
    uint64_t ntasks;
    json_t *list = json_array();
    bool configured = false; /* past the checks: an error now is unexpected */
    int lock = -1, rc;

    b.out_dir = xstrdup(o->out_dir ? o->out_dir : "parametric_sweep_results");
    b.logs_dir = xstrdup(o->logs_dir ? o->logs_dir : "parametric_sweep_logs");
    if (packages_load_checked(o->dir, &b.pk, o->command ? NULL : check_package,
                              (void *)model_find(DEFAULT_MODEL), &err) ||
        build_spec(&b, &err))
        goto fail;
    if (o->only_id >= 0 && !packages_find(&b.pk, o->only_id)) {
        err_set(&err, SWEEP_ENOTFOUND, "%s: no package %d (no package_%04d.json)",
                o->dir, o->only_id, o->only_id);
        goto fail;
    }
    if (open_outputs(&b, &err) ||
        runner_lock(cli_home(o->home), b.spec->name, &lock, &err) ||
        store_open(cli_home(o->home), &b.st, &err) ||
        runner_prepare(b.st, b.spec, NULL, NULL, &b.study_id, &generation, &ntasks,
                       &err))
        goto fail;
    learn_keys(&b);
    configured = true;
    blog(&b, "batch start: %s, %zu packages, priority %s, %d at a time", o->dir, b.pk.n,
         o->only_id >= 0 ? "(one package)"
         : o->band       ? priority_name(o->band)
                         : "ALL",
         o->max_parallel);
    if (note_completed(&b, &skipped, &err))
        goto fail;

    ro.self_path = cli_self_path();
    ro.max_parallel = o->max_parallel;
    ro.band = o->only_id >= 0 ? 0 : o->band;
    ro.stop_on_error = o->stop_on_error;
    prog = progress_create(o->quiet ? NULL : stderr, isatty(STDERR_FILENO),
                           cli_stderr_columns);
    progress_attach(prog, &ro);
    ro.only_key =
        o->only_id >= 0 ? b.keys[packages_find(&b.pk, o->only_id) - b.pk.v] : NULL;
    ro.on_task = on_task;
    ro.on_task_arg = &b;
    if (cli_runner_run(b.st, b.spec, b.study_id, generation, &ro, &sum, &err) ||
        summarize(&b, &n, list, &err))
        goto fail;
    if (cli_report_write(b.st, b.spec->name, o->report, &err)) {
        fprintf(stderr, "sweep: %s\n", err.msg);
        b.write_failed = true;
    }
    blog(&b,
         "batch end: %s%s%s; %lld selected (%s), %lld completed (%lld already), "
         "%lld failed, %lld timed out, %lld not run; %lld other package%s not "
         "selected; study %s",
         outcome(&sum, &n), sum.reason[0] ? ": " : "", sum.reason, n.selected,
         o->only_id >= 0 ? "one package"
         : o->band       ? priority_name(o->band)
                         : "all",
         n.completed, skipped, n.failed, n.timed_out, n.other,
         (long long)b.pk.n - n.selected, (long long)b.pk.n - n.selected == 1 ? "" : "s",
         study_status_name(sum.status));
    print_summary(&b, &sum, &n, skipped, list);
    rc = b.write_failed ? EXIT_UNEXPECTED : exit_code(&sum, &n);
    goto out;
fail:
    blog(&b, "error: %s", err.msg);
    rc = cli_fail(&err);
    if (configured && rc == EXIT_USAGE)
        rc = EXIT_UNEXPECTED;
    if (!configured && runner_prepare_signal())
        rc = 128 + runner_prepare_signal();
out:
    progress_destroy(prog);
    if (b.log)
        fclose(b.log);
    store_close(b.st);
    if (lock >= 0)
        close(lock);
    spec_destroy(b.spec);
    packages_fini(&b.pk);
    free(b.keys);
    free(b.out_dir);
    free(b.logs_dir);
    json_decref(list);
    return rc;
}
