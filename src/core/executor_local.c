/* The local executor: executor.h over the process pool of exec.h. An attempt is a
 * process group on this machine (its id is the leader's pid); cancel is exec_kill with
 * the attempt's kill_after as the grace; when an attempt ends, its $SWEEP_RESULT file
 * is read here, so that the runner gets metrics the same way from every executor.
 *
 * A task's stdout and stderr files are made at its first byte (exec.h); one that could
 * not be made or written is reported as the attempt's error.
 *
 * Each live attempt keeps a small record (its result path and the caller's ctx) in a
 * list, freed when it ends or when the executor is destroyed. O(1) per submit and end.
 */
#include "core/executor.h"

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/xalloc.h"
#include "core/exec.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESULT_MAX_SIZE (64u << 20) /* a $SWEEP_RESULT file larger fails the task */

struct local_attempt {
    struct local_attempt *prev, *next;
    pid_t pid;
    char *result_path;
    void *ctx;
};

struct local {
    struct executor ex;
    struct exec_pool *pool;
    struct local_attempt *live; /* a list, most recent first */
    /* during dispatch: where ends go */
    executor_done_fn *done;
    void *done_arg;
};

void executor_read_result(const char *path, char **metrics, char **error)
{
    struct err err = {0};
    json_error_t je;
    char *text = NULL;
    size_t len = 0;
    json_t *v;

    *metrics = NULL;
    *error = NULL;
    /* No file, the common case: no error message made to be dropped. */
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return;
    if (fileio_read_user(path, RESULT_MAX_SIZE, &text, &len, &err)) {
        if (err.code != SWEEP_ENOTFOUND)
            *error = xasprintf("cannot read the result: %s", err.msg);
        return;
    }
    v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!v) {
        *error = xasprintf("%s:%d:%d: result is not valid JSON: %s", path, je.line,
                           je.column, je.text);
        return;
    }
    if (!json_is_object(v)) {
        *error = xasprintf("%s:1:1: result must be a JSON object", path);
        json_decref(v);
        return;
    }
    *metrics = jsonx_canon_str(v);
    json_decref(v);
}

static void attempt_unlink(struct local *l, struct local_attempt *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        l->live = a->next;
    if (a->next)
        a->next->prev = a->prev;
}

static void attempt_free(struct local_attempt *a)
{
    free(a->result_path);
    free(a);
}

static int local_submit(void *ctx,
                        const struct executor_attempt *at,
                        struct executor_handle *h,
                        struct err *err)
{
    struct local *l = ctx;
    struct local_attempt *a = xcalloc(1, sizeof(*a));
    struct exec_cmd cmd = {.argv = at->argv,
                           .envp = at->envp,
                           .cwd = at->cwd,
                           .stdout_path = at->stdout_path,
                           .stderr_path = at->stderr_path,
                           .timeout = at->timeout,
                           .kill_after = at->kill_after,
                           .ctx = a};
    int rc;

    a->result_path = at->result_path ? xstrdup(at->result_path) : NULL;
    a->ctx = at->ctx;
    rc = exec_spawn(l->pool, &cmd, &a->pid, err);
    if (rc) {
        attempt_free(a);
        return rc;
    }
    a->next = l->live;
    if (l->live)
        l->live->prev = a;
    l->live = a;
    h->id = (uint64_t)a->pid;
    h->pid = a->pid;
    return SWEEP_OK;
}

static void local_cancel(void *ctx, uint64_t id, bool now)
{
    struct local *l = ctx;

    if (now)
        exec_kill(l->pool, (pid_t)id, SIGKILL, false);
    else
        exec_kill(l->pool, (pid_t)id, SIGTERM, true);
}

static void local_ended(const struct exec_result *res, void *arg)
{
    struct local *l = arg;
    struct local_attempt *a = res->ctx;
    struct executor_outcome o = {.ctx = a->ctx,
                                 .id = (uint64_t)res->pid,
                                 .exited = res->exited,
                                 .exit_code = res->exit_code,
                                 .signal = res->signal,
                                 .timed_out = res->timed_out,
                                 .wall = res->wall,
                                 .user = res->user,
                                 .sys = res->sys,
                                 .maxrss_kb = res->maxrss_kb,
                                 .output = res->output};
    char *metrics = NULL, *error = NULL;

    if (a->result_path)
        executor_read_result(a->result_path, &metrics, &error);
    /* Output that could not be kept fails the task as a bad result file does. */
    if (!error && res->out_err)
        error = xasprintf("cannot write the task's output to %s: %s", res->out_path,
                          strerror(res->out_err));
    o.metrics = metrics;
    o.error = error;
    attempt_unlink(l, a);
    attempt_free(a);
    l->done(&o, l->done_arg);
    free(metrics);
    free(error);
}

static int local_dispatch(void *ctx,
                          int timeout_ms,
                          executor_done_fn *done,
                          void *arg,
                          int *signo,
                          struct err *err)
{
    struct local *l = ctx;

    l->done = done;
    l->done_arg = arg;
    return exec_poll(l->pool, timeout_ms, local_ended, l, signo, err);
}

static int local_fd(void *ctx)
{
    return exec_pool_fd(((struct local *)ctx)->pool);
}

static void local_destroy(void *ctx)
{
    struct local *l = ctx;

    exec_pool_destroy(l->pool);
    while (l->live) {
        struct local_attempt *a = l->live;
        attempt_unlink(l, a);
        attempt_free(a);
    }
    free(l);
}

static const struct executor_ops local_ops = {
    .name = "local",
    .submit = local_submit,
    .cancel = local_cancel,
    .dispatch = local_dispatch,
    .fd = local_fd,
    .destroy = local_destroy,
};

int executor_local_create(struct executor **out, struct err *err)
{
    struct local *l = xcalloc(1, sizeof(*l));
    int rc = exec_pool_create(&l->pool, err);

    if (rc) {
        free(l);
        *out = NULL;
        return rc;
    }
    l->ex.ops = &local_ops;
    l->ex.ctx = l;
    *out = &l->ex;
    return SWEEP_OK;
}
