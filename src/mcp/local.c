/* The local backend of the MCP tools (local.h): studies stored in the home by this
 * process, then run by a detached `sweep run` of their spec file. The preparation,
 * retry and cancel are the core's (runner_prepare, store_requeue_failed,
 * store_study_cancel), as `sweep run`, `sweep serve` and `sweep cancel` do them; what
 * is this file's own is the detached start. */
#include "mcp/local.h"

#include "common/fileio.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/runner.h"
#include "core/spec.h"
#include "core/store.h"
#include "mcp/backend.h"
#include "models/speccheck.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The longest wait of a cancel for the start of a study's run, and of a retry for the
 * end of its run (local_cancel, lock_ended). */
#define LOCAL_START_WAIT 10.0

struct local {
    struct mcp_backend be;
    char *home; /* absolute */
    char *self_path;
    struct store *st;
};

static struct store *local_store(void *ctx, struct err *err)
{
    struct local *l = ctx;

    if (!l->st && store_open(l->home, &l->st, err))
        return NULL;
    return l->st;
}

/* The child side of the detached start: a new session, signals at their defaults,
 * stdin /dev/null, stdout and stderr to the log, every other fd closed but the
 * report pipe (close-on-exec). Never returns. */
static void detached_child(char *const *argv, const char *log, int report)
{
    sigset_t none;
    int fd, e;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
        goto fail;
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
        goto fail;
    for (fd = 3; fd < 1024; fd++)
        if (fd != report)
            close(fd);
    execv(argv[0], argv);
fail:
    e = errno;
    while (write(report, &e, sizeof(e)) < 0 && errno == EINTR)
        ;
    _exit(127);
}

/* Starts argv (argv[0] a path) detached from this process: double fork and setsid,
 * so that it is nobody's child here, has no controlling terminal, and goes on when
 * the MCP session and its client end. An exec that fails is reported (SWEEP_ESPAWN)
 * through a close-on-exec pipe. */
static int spawn_detached(char *const *argv, const char *log, struct err *err)
{
    int p[2], e = 0, status = 0;
    ssize_t n;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0)
        return err_set(err, SWEEP_ESPAWN, "starting %s: pipe: %s", argv[0],
                       strerror(errno));
    pid = fork();
    if (pid < 0) {
        e = errno;
        close(p[0]);
        close(p[1]);
        return err_set(err, SWEEP_ESPAWN, "starting %s: fork: %s", argv[0],
                       strerror(e));
    }
    if (pid == 0) {
        close(p[0]);
        if (setsid() < 0)
            _exit(127);
        pid = fork();
        if (pid == 0)
            detached_child(argv, log, p[1]);
        _exit(pid < 0 ? 127 : 0);
    }
    close(p[1]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    do
        n = read(p[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    close(p[0]);
    if (n == (ssize_t)sizeof(e))
        return err_set(err, SWEEP_ESPAWN, "starting %s: %s", argv[0], strerror(e));
    if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0))
        return err_set(err, SWEEP_ESPAWN, "starting %s: the detached start failed",
                       argv[0]);
    return SWEEP_OK;
}

/* <home>/mcp/<study><ext>. New string. */
static char *mcp_path(const struct local *l, const char *study, const char *ext)
{
    return xasprintf("%s/mcp/%s%s", l->home, study, ext);
}

/* Writes the spec file of the study (unless spec_text is NULL: written already) and
 * starts `sweep run FILE` detached. The caller has released the study's run lock,
 * which the run takes. */
static int
run_detached(struct local *l, const char *study, const char *spec_text, struct err *err)
{
    char *dir = xasprintf("%s/mcp", l->home), *path = mcp_path(l, study, ".json");
    char *log = mcp_path(l, study, ".log");
    char *argv[] = {l->self_path, "run", path, "--home", l->home, "--quiet", NULL};
    int rc = fileio_mkdirs(dir, err);

    if (!rc && spec_text)
        rc = fileio_write_atomic(path, spec_text, strlen(spec_text), "spec", err);
    if (!rc)
        rc = spawn_detached(argv, log, err);
    free(dir);
    free(path);
    free(log);
    return rc;
}

static int local_submit(void *ctx, const char *name, const char *text, struct err *err)
{
    struct local *l = ctx;
    char *dir = xasprintf("%s/mcp", l->home), *path = mcp_path(l, name, ".json");
    struct spec *spec = NULL;
    struct speccheck *models = NULL;
    struct store *st = NULL;
    long long id = 0, generation;
    uint64_t ntasks;
    int lock = -1, rc;

    rc = spec_parse(path, text, strlen(text), &spec, err);
    if (!rc && strcmp(spec->name, name) != 0)
        rc = err_set(err, SWEEP_EINVAL, "the spec names study '%s', not '%s'",
                     spec->name, name);
    if (!rc)
        rc = speccheck_create(spec, SPECCHECK_FIELDS, &models, err);
    if (!rc && !(st = local_store(l, err)))
        rc = err->code;
    if (!rc)
        rc = runner_lock_as(l->home, name, "sweep mcp", &lock, err);
    /* The file first: the study is stored with its path, which `sweep run` reads. */
    if (!rc)
        rc = fileio_mkdirs(dir, err);
    if (!rc)
        rc = fileio_write_atomic(path, text, strlen(text), "spec", err);
    if (!rc)
        rc = runner_prepare(st, spec, speccheck_task, models, &id, &generation, &ntasks,
                            err);
    if (!rc)
        rc = store_study_set_status(st, id, STUDY_QUEUED, err);
    if (lock >= 0)
        close(lock);
    if (!rc)
        rc = run_detached(l, name, NULL, err);
    speccheck_destroy(models);
    spec_destroy(spec);
    free(dir);
    free(path);
    return rc;
}

/* The run lock of a study whose run has ended: the run that recorded its end may
 * still hold it for a moment (its last writes, its exit), so a retry right after the
 * status turned final waits for it, LOCAL_START_WAIT seconds at most; a study that
 * runs (RUNNING, WAITING, QUEUED for its start) is refused at once (SWEEP_EBUSY,
 * naming the process). */
static int lock_ended(struct local *l,
                      const char *study,
                      struct store_study *s,
                      int *lock,
                      struct err *err)
{
    double deadline = time_now() + LOCAL_START_WAIT;
    int rc;

    while ((rc = runner_lock_as(l->home, study, "sweep mcp", lock, err)) ==
               SWEEP_EBUSY &&
           s->status != STUDY_RUNNING && s->status != STUDY_WAITING &&
           s->status != STUDY_QUEUED && time_now() < deadline) {
        usleep(20000);
        store_study_fini(s);
        if (store_study_get(l->st, study, s, err))
            return err->code;
    }
    return rc;
}

static int
local_retry(void *ctx, const char *study, long long *requeued, struct err *err)
{
    struct local *l = ctx;
    struct store *st = local_store(l, err);
    struct store_study s = {0};
    int lock = -1, rc;

    *requeued = 0;
    if (!st)
        return err->code;
    rc = store_study_get(st, study, &s, err);
    if (!rc)
        rc = lock_ended(l, study, &s, &lock, err);
    if (!rc)
        rc = store_begin(st, err);
    if (!rc) {
        rc = store_requeue_failed(st, s.id, requeued, err);
        if (!rc && *requeued > 0)
            rc = store_study_set_status(st, s.id, STUDY_QUEUED, err);
        if (!rc)
            rc = store_commit(st, err);
        if (rc) {
            store_rollback(st);
            *requeued = 0;
        }
    }
    if (lock >= 0)
        close(lock);
    if (!rc && *requeued > 0)
        rc = run_detached(l, study, s.spec_json, err);
    store_study_fini(&s);
    return rc;
}

/* A study submitted or retried here stays QUEUED until its detached run has reset
 * its tasks (the cancelled ones back to pending, as a `sweep run` that resumes does)
 * and marked it started, in one transaction. A cancel before that would be undone:
 * it waits for the start, LOCAL_START_WAIT seconds at most (a run that never starts
 * leaves it QUEUED). */
static int local_cancel(void *ctx, const char *study, struct err *err)
{
    struct local *l = ctx;
    struct store *st = local_store(l, err);
    struct store_study s = {0};
    double deadline = time_now() + LOCAL_START_WAIT;
    long long n;
    int rc;

    if (!st)
        return err->code;
    while ((rc = store_study_get(st, study, &s, err)) == SWEEP_OK &&
           s.status == STUDY_QUEUED && time_now() < deadline) {
        store_study_fini(&s);
        usleep(20000);
    }
    if (!rc)
        rc = store_study_cancel(st, s.id, &n, err);
    store_study_fini(&s);
    return rc;
}

/* The names of the QUEUED studies that were queued before `before`. */
struct queued {
    char **names;
    size_t n, cap;
    double before;
};

static int queued_one(const struct store_study *s, void *arg)
{
    struct queued *q = arg;

    if (s->status == STUDY_QUEUED && s->updated_at < q->before) {
        q->names = xgrow(q->names, &q->cap, q->n + 1, sizeof(*q->names));
        q->names[q->n++] = xstrdup(s->name);
    }
    return 0;
}

/* A study that a session here queued but whose detached run never took it (the
 * machine restarted, the run died first) would stay QUEUED: when a session opens, each
 * one queued more than LOCAL_START_WAIT seconds ago, whose spec file is still in
 * <home>/mcp and which no run holds, is started again. Best effort: what fails stays
 * as it was. */
static void local_revive(struct local *l)
{
    struct queued q = {.before = time_now() - LOCAL_START_WAIT};
    struct err err = {0};

    if (store_study_list(l->st, queued_one, &q, &err) != SWEEP_OK)
        q.n = 0;
    for (size_t i = 0; i < q.n; i++) {
        char *path = mcp_path(l, q.names[i], ".json");
        int lock = -1;

        err_clear(&err);
        if (access(path, R_OK) == 0 &&
            runner_lock_as(l->home, q.names[i], "sweep mcp", &lock, &err) == SWEEP_OK) {
            close(lock);
            run_detached(l, q.names[i], NULL, &err);
        }
        free(path);
    }
    for (size_t i = 0; i < q.n; i++)
        free(q.names[i]);
    free(q.names);
}

struct mcp_backend *
mcp_local_create(const char *home, const char *self_path, struct err *err)
{
    struct local *l = xcalloc(1, sizeof(*l));
    char abs[PATH_MAX];

    if (store_open(home, &l->st, err)) {
        free(l);
        return NULL;
    }
    l->home = xstrdup(realpath(home, abs) ? abs : home);
    l->self_path = xstrdup(self_path);
    local_revive(l);
    l->be = (struct mcp_backend){.ctx = l,
                                 .store = local_store,
                                 .submit = local_submit,
                                 .retry = local_retry,
                                 .cancel = local_cancel,
                                 .base_url = NULL,
                                 .allow_commands = false};
    return &l->be;
}

void mcp_local_destroy(struct mcp_backend *be)
{
    struct local *l = be ? be->ctx : NULL;

    if (!l)
        return;
    store_close(l->st);
    free(l->home);
    free(l->self_path);
    free(l);
}
