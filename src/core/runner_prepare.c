/* Before a run (see runner.h): where a study and its tasks keep their files, the run
 * lock that keeps two sweep processes from running one study (the holder writes its
 * pid, since when and what it is into the lock file, so that the one refused can say
 * who holds it), runner_prepare(), which checks the commands' placeholders against the
 * expansion and streams the expanded tasks into the store in one transaction (a bad
 * task refuses the whole study and nothing is stored), and runner_study_remove(). */
#include "runner.h"

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/expand.h"
#include "core/tmpl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* ---- paths and lock ---- */

char *runner_study_dir(const char *home, const char *study)
{
    return xasprintf("%s/studies/%s", home, study);
}

char *runner_task_dir(const char *home, const char *study, const char *key)
{
    return xasprintf("%s/studies/%s/tasks/%.2s/%s", home, study, key, key);
}

/* The holder's note in the lock file: "<pid> <epoch seconds> <what>\n". Written after
 * the lock is taken; a failure to write only makes the refusal less precise. */
static void lock_note_write(int fd, const char *holder)
{
    char buf[256];
    int n =
        snprintf(buf, sizeof(buf), "%d %.3f %s\n", (int)getpid(), time_now(), holder);
    ssize_t w;

    if (n <= 0 || ftruncate(fd, 0) < 0)
        return;
    w = pwrite(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, 0);
    (void)w;
}

/* The refusal when another process holds the lock: who (pid, since when, what) when
 * its note is readable and that pid lives, else "another sweep process". */
static int lock_busy(const char *study, int fd, const char *path, struct err *err)
{
    char buf[256], since[32] = "", *end;
    const char *what;
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    long pid = 0;
    double at = 0;
    struct tm tm;
    time_t t;

    if (n > 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        errno = 0;
        pid = strtol(buf, &end, 10);
        if (errno || end == buf || *end != ' ' || pid <= 0 || pid > INT_MAX)
            pid = 0;
        else
            at = strtod(end + 1, &end);
        if (pid > 0 && *end == ' ' && at > 0) {
            t = (time_t)at;
            if (localtime_r(&t, &tm))
                strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
        }
        if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
            pid = 0; /* a note left by a holder that has gone */
    }
    if (pid <= 0 || !since[0])
        return err_set(
            err, SWEEP_EBUSY,
            "study '%s' is held by another sweep process (lock %s); wait for "
            "it or `sweep cancel %s`",
            study, path, study);
    what = end + 1;
    if (strncmp(what, "sweep rm", 8) == 0)
        return err_set(err, SWEEP_EBUSY,
                       "study '%s' is being removed by pid %ld since %s (%s); wait for "
                       "it",
                       study, pid, since, what);
    return err_set(err, SWEEP_EBUSY,
                   "study '%s' is being run by pid %ld since %s (%s); wait for it or "
                   "`sweep cancel %s`",
                   study, pid, since, what, study);
}

int runner_lock_as(
    const char *home, const char *study, const char *holder, int *fd, struct err *err)
{
    char *dir = runner_study_dir(home, study);
    char *path = xasprintf("%s/run.lock", dir);
    int rc = SWEEP_OK, f = -1;

    if ((rc = fileio_mkdirs(dir, err)) != 0)
        goto out;
    f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        rc = err_set(err, SWEEP_EIO, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    if (flock(f, LOCK_EX | LOCK_NB) < 0) {
        rc = lock_busy(study, f, path, err);
        close(f);
        goto out;
    }
    lock_note_write(f, holder);
    *fd = f;
out:
    free(path);
    free(dir);
    return rc;
}

int runner_lock(const char *home, const char *study, int *fd, struct err *err)
{
    return runner_lock_as(home, study, "sweep run", fd, err);
}

bool runner_is_active(const char *home, const char *study)
{
    char *path = xasprintf("%s/studies/%s/run.lock", home, study);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    bool held = false;

    if (f >= 0) {
        held = flock(f, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
        close(f);
    }
    free(path);
    return held;
}

/* ---- prepare: spec -> store ---- */

/* Every placeholder of every command names a parameter, a built-in or a step before
 * it; the parameters are those the expansion gives (the reduce has none). */
static int check_templates(const struct spec *spec, struct err *err)
{
    size_t n = 0;
    char **names = expand_param_names(spec, &n), **steps = spec_step_names(spec);
    int rc = SWEEP_OK;

    for (size_t j = 0; j <= spec->nsteps && rc == SWEEP_OK; j++) {
        const struct spec_step *step = spec_step_at(spec, (int)j);
        bool reduce = j == spec->nsteps;
        struct tmpl_scope scope = {.step_names = steps, .nsteps = j, .reduce = reduce};

        if (!step || step->kind != SPEC_COMMAND)
            continue;
        for (size_t i = 0; i < step->argc && rc == SWEEP_OK; i++) {
            char field[96];
            int line, col;

            rc = tmpl_check(step->argv[i], names, reduce ? 0 : n, &scope, err);
            if (!rc)
                continue;
            spec_step_prefix(spec, (int)j, field, 64);
            snprintf(field + strlen(field), sizeof(field) - strlen(field),
                     "command[%zu]", i);
            if (spec_where(spec, field, &line, &col) == 0)
                err_prefix(err, "%s:%d:%d: %s", spec->path, line, col, field);
            else
                err_prefix(err, "%s: %s", spec->path, field);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(steps);
    return rc;
}

/* {"steps": [names], "reduce": bool} for a pipeline (status and results show steps),
 * NULL for a single-step study. */
static char *steps_json(const struct spec *spec)
{
    json_t *o, *names;
    char *text;

    if (!spec->has_steps && !spec->reduce)
        return NULL;
    o = json_object();
    names = json_array();
    for (size_t i = 0; i < spec->nsteps; i++)
        json_array_append_new(names, json_string(spec->steps[i].name));
    json_object_set_new(o, "steps", names);
    json_object_set_new(o, "reduce", json_boolean(spec->reduce != NULL));
    text = jsonx_canon_str(o);
    json_decref(o);
    return text;
}

/* ---- storing the study ---- */

static volatile sig_atomic_t prepare_signo;
static const int prepare_signals[] = {SIGINT, SIGTERM, SIGHUP};

static void on_prepare_signal(int signo)
{
    prepare_signo = signo;
}

int runner_prepare_signal(void)
{
    return (int)prepare_signo;
}

/* While the study is stored, a signal only sets prepare_signo (checked per task). */
static void prepare_signals_catch(struct sigaction old[], size_t n)
{
    struct sigaction sa = {0};

    prepare_signo = 0;
    sa.sa_handler = on_prepare_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < n; i++)
        sigaction(prepare_signals[i], &sa, &old[i]);
}

static void prepare_signals_restore(const struct sigaction old[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        sigaction(prepare_signals[i], &old[i], NULL);
}

static int prepare_interrupted(struct err *err)
{
    return err_set(err, SWEEP_EIO,
                   "interrupted by SIG%s while storing the study: nothing was stored",
                   sigabbrev_np(prepare_signo) ? sigabbrev_np(prepare_signo) : "?");
}

int runner_prepare(struct store *st,
                   const struct spec *spec,
                   runner_check_fn *check,
                   void *check_arg,
                   long long *study_id,
                   long long *generation,
                   uint64_t *ntasks,
                   struct err *err)
{
    struct expand *ex = NULL;
    struct expand_task t;
    char *spec_json = NULL, *steps = steps_json(spec);
    uint64_t n = 0;
    struct sigaction old[3];
    int rc;

    prepare_signo = 0;
    rc = check_templates(spec, err);
    if (rc)
        return rc;
    prepare_signals_catch(old, 3);
    rc = store_begin(st, err);
    if (rc) {
        prepare_signals_restore(old, 3);
        return rc;
    }
    spec_json = jsonx_canon_str(spec->json);
    rc = store_study_put(st, spec->name, spec->description, spec->path, spec_json,
                         study_id, generation, err);
    if (!rc)
        rc = store_study_set_steps(st, *study_id, steps, err);
    if (rc)
        goto fail;
    ex = expand_create(spec);
    while (expand_next(ex, &t) == 1) {
        if (prepare_signo) {
            rc = prepare_interrupted(err);
            goto fail;
        }
        if (check) {
            rc = check(spec_step_at(spec, t.step), t.params, check_arg, err);
            if (rc) {
                err_prefix(err, "%s: task %lld (%s)", spec->path, t.seq, t.params_json);
                goto fail;
            }
        }
        rc = store_task_put(st, *study_id, *generation, &t, t.cpus, err);
        if (rc)
            goto fail;
        n++;
    }
    rc = prepare_signo ? prepare_interrupted(err) : store_commit(st, err);
    if (rc)
        goto fail;
    prepare_signals_restore(old, 3);
    *ntasks = n;
    expand_destroy(ex);
    free(spec_json);
    free(steps);
    return SWEEP_OK;
fail:
    store_rollback(st);
    /* A preparation that failed on a full disk leaves its pages in the WAL. */
    store_wal_truncate(st);
    prepare_signals_restore(old, 3);
    expand_destroy(ex);
    free(spec_json);
    free(steps);
    return rc;
}

/* ---- removing a study ---- */

/* Removes everything under the open directory dfd (closed here), depth first, never
 * following a symbolic link out of it. Returns 0, or -1 with errno set and the entry
 * that failed in *bad (borrowed until the next call). O(entries). */
static int rm_under(int dfd, char *bad, size_t nbad)
{
    DIR *d = fdopendir(dfd);
    struct dirent *e;
    int rc = 0, sub;

    if (!d) {
        close(dfd);
        return -1;
    }
    while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno != EISDIR) {
            rc = -1;
        } else if ((sub = openat(dirfd(d), e->d_name,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
                       0 ||
                   rm_under(sub, bad, nbad) < 0) {
            rc = -1;
        } else if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
            rc = -1;
        }
        if (rc < 0 && !bad[0]) {
            sub = errno;
            snprintf(bad, nbad, "%s", e->d_name);
            errno = sub;
        }
    }
    if (rc == 0 && errno != 0)
        rc = -1;
    sub = errno;
    closedir(d);
    errno = sub;
    return rc;
}

int runner_study_remove(struct store *st, const char *study, struct err *err)
{
    const char *home = store_home(st);
    char *dir = runner_study_dir(home, study);
    char *gone = xasprintf("%s/studies/.removed.%s.%d", home, study, (int)getpid());
    char bad[256] = "";
    struct store_study s = {0};
    int rc, fd;

    if (strchr(study, '/') || study[0] == '.' || !study[0]) {
        rc = err_set(err, SWEEP_EINVAL, "'%s' is not a study name", study);
        goto out;
    }
    if ((rc = store_study_get(st, study, &s, err)) != 0)
        goto out;
    if ((rc = store_begin(st, err)) != 0 || (rc = store_study_delete(st, s.id, err)) ||
        (rc = store_commit(st, err)) != 0) {
        store_rollback(st);
        goto out;
    }
    /* Out of the way first: a `sweep run` of the name from now on starts afresh in a
     * new directory, while the old one is emptied. */
    if (rename(dir, gone) < 0) {
        if (errno != ENOENT)
            rc =
                err_set(err, SWEEP_EIO,
                        "study '%s' deleted from the store, but its files stay: cannot "
                        "rename %s: %s",
                        study, dir, strerror(errno));
        goto out;
    }
    fd = open(gone, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || rm_under(fd, bad, sizeof(bad)) < 0 || rmdir(gone) < 0)
        rc =
            err_set(err, SWEEP_EIO,
                    "study '%s' deleted from the store, but not all its files: %s%s%s: "
                    "%s",
                    study, gone, bad[0] ? "/.../" : "", bad, strerror(errno));
out:
    store_study_fini(&s);
    free(gone);
    free(dir);
    return rc;
}
