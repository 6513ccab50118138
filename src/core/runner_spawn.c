/* Starting an attempt (runner.h, runner_int.h): the head of the ready queue taken and
 * marked running in the store (runner_head, runner_start_head), tasks claimed ahead of
 * a free slot (runner_claim_head, runner_spawn_claimed) and given back
 * (rn_unclaim_all), and the submission of an attempt after the tick's commit
 * (runner_spawn): its directory made (under a shard directory made once per run), its
 * old logs moved aside, the reduce's input written, its argv (with the directories of
 * the steps before it in its chain) and environment built, and the executor given it.
 * A failure to start becomes a failed attempt recorded by the next tick. */
#include "runner_int.h"

#include "common/jsonx.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Claiming ahead (runner.h): up to runner_claim_max() tasks while tasks take less than
 * CLAIM_WALL seconds on average, CLAIM_FEW while they take less than CLAIM_WALL_MAX
 * (the tick between an end and the next start, about 1.5 ms at 8 in flight, is still
 * 1-3% of such a task; two claimed tasks cover the ends that come before the next
 * tick, and the store counts two more as running than run), none beyond. */
#define CLAIM_WALL 0.05
#define CLAIM_WALL_MAX 1.0
#define CLAIM_FEW 2

/* ---- directories ---- */

/* mkdir -p; returns 1 when the last directory was created, 0 when it existed, or -1
 * with errno. The common case (parents exist) costs one mkdir. */
int rn_mkdirs(const char *path)
{
    char *p;
    int rc = 0;

    if (mkdir(path, 0755) == 0)
        return 1;
    if (errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -1;
    p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            rc = -1;
            goto out;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) == 0)
        rc = 1;
    else if (errno != EEXIST)
        rc = -1;
out:
    free(p);
    return rc;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Whether the directory holds nothing but . and ..: an open, two getdents64 (the
 * second sees the end) and a close. */
static bool dir_empty(const char *path)
{
    char buf[512];
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool empty = fd >= 0;

    while (empty) {
        ssize_t n = getdents64(fd, buf, sizeof(buf));
        if (n <= 0) {
            empty = n == 0;
            break;
        }
        for (ssize_t off = 0; off < n && empty;) {
            const struct dirent64 *d = (const struct dirent64 *)(buf + off);
            empty = strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0;
            off += d->d_reclen;
        }
    }
    if (fd >= 0)
        close(fd);
    return empty;
}

/* Directories given on. A new directory costs ext4 an inode and a block (a mkdir took
 * about 50 us of sweep's CPU, the largest cost of a short task), a rename a fraction
 * of that. So the directory of an ended task that left nothing in it (no output file,
 * no result file: executor_outcome.output) is kept as a spare, under its own name,
 * and the next task's directory is that spare renamed: the task starts in an empty
 * directory of its own as before, and the ended one is left with no directory, as it
 * left no file. Not in a study with steps or a reduce, whose tasks name the
 * directories of the steps before them. A spare is checked empty after the rename
 * (what the ended task's group wrote after its end, or a process that left that group
 * and writes there later, is moved back with it); a process that left the group and
 * writes there after the rename writes into the new task's directory (the same limit
 * as for its kills, exec.h). */
void rn_dir_ended(struct runner *r,
                  const struct rtask *t,
                  const struct executor_outcome *out)
{
    if (!t->dir || out->output || out->metrics || out->error ||
        r->nspare >= RN_SPARE_MAX || r->spec->has_steps || r->spec->reduce)
        return;
    r->spare[r->nspare++] = xstrdup(t->dir);
}

void rn_dir_spares_free(struct runner *r)
{
    while (r->nspare > 0)
        free(r->spare[--r->nspare]);
}

/* Renames the last spare to dir: 1 when dir is now that empty directory, else 0 (no
 * spare, dir exists, or the spare was not empty: it goes back to its name). */
static int dir_from_spare(struct runner *r, const char *dir)
{
    char *spare;

    if (r->nspare == 0)
        return 0;
    spare = r->spare[r->nspare - 1];
    if (renameat2(AT_FDCWD, spare, AT_FDCWD, dir, RENAME_NOREPLACE) < 0) {
        /* dir exists (a rerun): the spare waits for a new one */
        if (errno != EEXIST) {
            r->nspare--;
            free(spare);
        }
        return 0;
    }
    r->nspare--;
    if (dir_empty(dir)) {
        free(spare);
        return 1;
    }
    /* Should this fail, the task gets the directory as it is, as a rerun its own. */
    rename(dir, spare);
    free(spare);
    return 0;
}

/* Makes a task's directory (dir, under its shard tasks/<k0k1>): a spare renamed, or
 * one mkdir: the shard directory (and the ones above it) is made once per run and
 * remembered. Returns as rn_mkdirs(). */
static int task_mkdir(struct runner *r, const char *dir, const char *key)
{
    int hi = hex_digit(key[0]), lo = hi < 0 ? -1 : hex_digit(key[1]);
    int shard = lo < 0 ? -1 : hi * 16 + lo, rc;

    if (shard >= 0 && !(r->shards[shard / 64] & (UINT64_C(1) << (shard % 64)))) {
        char *parent = xstrdup(dir);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        rc = rn_mkdirs(parent);
        free(parent);
        if (rc < 0)
            return -1;
        r->shards[shard / 64] |= UINT64_C(1) << (shard % 64);
    }
    if (shard >= 0 && dir_from_spare(r, dir))
        return 1;
    return rn_mkdirs(dir);
}

/* ---- argv (taskview.c builds it; the chain's directories come from the store) ---- */

struct chain_dirs {
    struct runner *r;
    char **dirs;
    size_t n;
};

static int add_chain_dir(const struct store_task *t, void *arg)
{
    struct chain_dirs *c = arg;
    c->dirs[c->n++] = runner_task_dir(c->r->home, c->r->spec->name, t->key);
    return c->n == (size_t)c->r->spec->nsteps; /* never more than the steps */
}

/* The argv of a task about to start: runner_task_argv, with the directories of the
 * steps before it in its chain looked up in the store when its command uses them. */
static int argv_for(struct runner *r,
                    const struct rtask *t,
                    const json_t *params,
                    const char *params_json,
                    const char *reduce_input,
                    char ***out,
                    struct err *err)
{
    const struct spec *spec = r->spec;
    struct chain_dirs cd = {.r = r};
    struct runner_argv_in in = {.step = t->step,
                                .params = params,
                                .params_json = params_json,
                                .key = t->key,
                                .seed = t->seed,
                                .repetition = t->repetition,
                                .task_dir = t->dir,
                                .reduce_input = reduce_input};
    int rc = SWEEP_OK;

    *out = NULL;
    if (t->chain >= 0 && t->step > 0 &&
        runner_step_uses_steps(spec_step_at(spec, t->step))) {
        struct store_task me = {
            .study_id = r->study_id, .seq = t->seq, .step = t->step, .chain = t->chain};
        cd.dirs = xcalloc(spec->nsteps + 1, sizeof(char *));
        if ((rc = store_task_chain_before(r->st, &me, r->generation, add_chain_dir, &cd,
                                          err)) != 0)
            goto out;
        if (cd.n != (size_t)t->step) {
            rc = err_set(err, SWEEP_EINTERNAL,
                         "task %s: found %zu of the %d steps before it", t->key, cd.n,
                         t->step);
            goto out;
        }
        in.step_dirs = cd.dirs;
    }
    rc = runner_task_argv(spec, r->o->self_path, &in, out, err);
out:
    for (size_t i = 0; i < cd.n; i++)
        free(cd.dirs[i]);
    free(cd.dirs);
    return rc;
}

/* ---- starting tasks ---- */

double runner_head_at(const struct runner *r, struct runner_head *head)
{
    const struct sched_item *top = sched_heap_peek(&r->ready);
    double now = run_mono(r);
    int need;

    if (r->phase != PHASE_RUN || r->stopping || !top)
        return INFINITY;
    /* A task wider than every slot runs alone. */
    need = top->cpus > r->slots ? r->slots : top->cpus;
    if (r->used + need > r->slots)
        return INFINITY;
    head->priority = top->priority;
    head->seq = top->seq;
    head->cpus = need;
    return r->rl.interval > 0 && r->rl.next > now ? r->rl.next : now;
}

bool runner_head(struct runner *r, struct runner_head *head)
{
    return runner_head_at(r, head) <= run_mono(r);
}

bool runner_head_ahead(struct runner *r, struct runner_head *head)
{
    const struct sched_item *top = sched_heap_peek(&r->ready);

    /* Not with a rate limit: a claimed task starts whenever a slot frees. Only for
     * short tasks (CLAIM_WALL_MAX): with long ones the commit between an end and the
     * next start costs nothing that shows, and the store then counts as running only
     * what runs. */
    size_t max = r->wall_avg < CLAIM_WALL       ? (size_t)runner_claim_max(r->slots)
                 : r->wall_avg < CLAIM_WALL_MAX ? CLAIM_FEW
                                                : 0;

    if (r->phase != PHASE_RUN || r->stopping || !top || r->rl.interval > 0 ||
        r->nclaimed >= max || r->nwalls < 2)
        return false;
    head->priority = top->priority;
    head->seq = top->seq;
    head->cpus = top->cpus > r->slots ? r->slots : top->cpus;
    return true;
}

/* Takes the head of the ready queue (runner_head said yes), with `need` slots, and
 * marks it running in the store (inside the tick's transaction); it is submitted by
 * runner_spawn(), or, claimed ahead (runner_claim_head), kept until a slot frees.
 * 1 when it starts, 0 when it was cancelled since it was read. */
static int start_head(struct runner *r, int need, bool ahead, struct err *err)
{
    struct sched_item it;
    struct rtask *t;
    int rc;

    ratelimit_take(&r->rl, run_mono(r));
    sched_heap_pop(&r->ready, &it);
    t = it.data;
    struct store_task_group group = {.study_id = r->study_id,
                                     .generation = r->generation,
                                     .seq = t->seq,
                                     .step = t->step,
                                     .priority = t->priority};
    t->cpus = need;
    t->attempts++;
    t->started_at = run_now(r);
    t->stop = STOP_NONE;
    rc = store_task_started_in(r->st, &group, t->id, t->attempts, t->started_at, err);
    if (rc == SWEEP_ENOTFOUND) {
        /* No longer pending: cancelled since it was read. */
        err_clear(err);
        rn_rtask_free(t);
        return 0;
    }
    /* A reduce's attempt replaces its outputs: the hash of the last success goes. */
    if (rc == SWEEP_OK && t->chain < 0)
        rc = store_task_set_input_hash(r->st, t->id, NULL, err);
    if (rc) {
        rn_rtask_free(t);
        return -rc;
    }
    r->sum->attempts++;
    if (ahead) {
        r->claimed =
            xgrow(r->claimed, &r->cap_claimed, r->nclaimed + 1, sizeof(*r->claimed));
        r->claimed[r->nclaimed++] = t;
        return 1;
    }
    r->running =
        xgrow(r->running, &r->cap_running, r->nrunning + 1, sizeof(*r->running));
    r->running[r->nrunning++] = t;
    r->used += need;
    r->starts = xgrow(r->starts, &r->cap_starts, r->nstarts + 1, sizeof(*r->starts));
    r->starts[r->nstarts++] = t;
    return 1;
}

int runner_start_head(struct runner *r, int need, struct err *err)
{
    return start_head(r, need, false, err);
}

int runner_claim_head(struct runner *r, struct err *err)
{
    const struct sched_item *top = sched_heap_peek(&r->ready);
    int need = top && top->cpus > r->slots ? r->slots : top ? top->cpus : 1;
    return start_head(r, need, true, err);
}

/* The first claimed task when it fits `free` slots of the engine and the study's own,
 * taken out of the claimed list and made running (its slots taken); else NULL. */
static struct rtask *claimed_take(struct runner *r, int free)
{
    struct rtask *t;

    if (r->phase != PHASE_RUN || r->stopping || r->hold || r->nclaimed == 0)
        return NULL;
    t = r->claimed[0];
    if (t->cpus > free || r->used + t->cpus > r->slots)
        return NULL;
    memmove(r->claimed, r->claimed + 1, (r->nclaimed - 1) * sizeof(*r->claimed));
    r->nclaimed--;
    r->running =
        xgrow(r->running, &r->cap_running, r->nrunning + 1, sizeof(*r->running));
    r->running[r->nrunning++] = t;
    r->used += t->cpus;
    return t;
}

int runner_claimed_priority(const struct runner *r)
{
    return r->nclaimed > 0 && r->phase == PHASE_RUN && !r->stopping
               ? r->claimed[0]->priority
               : INT_MIN;
}

int runner_start_claimed(struct runner *r, int free)
{
    struct rtask *t = claimed_take(r, free);

    if (!t)
        return 0;
    r->starts = xgrow(r->starts, &r->cap_starts, r->nstarts + 1, sizeof(*r->starts));
    r->starts[r->nstarts++] = t;
    return t->cpus;
}

/* Gives back the claimed tasks (store_task_unclaim): in the tick's transaction when
 * the run stops, or on its own at the end of a run. */
int rn_unclaim_all(struct runner *r, struct err *err)
{
    int rc = SWEEP_OK;

    while (r->nclaimed > 0 && rc == SWEEP_OK) {
        struct rtask *t = r->claimed[r->nclaimed - 1];
        rc = store_task_unclaim(r->st, t->id, t->attempts, err);
        if (rc == SWEEP_ENOTFOUND) {
            err_clear(err);
            rc = SWEEP_OK;
        }
        if (rc == SWEEP_OK) {
            r->nclaimed--;
            r->sum->attempts--;
            rn_rtask_free(t);
        }
    }
    return rc;
}

/* Spawns a task already marked running. A failure to start becomes a failed attempt
 * recorded at the next tick. */
static void spawn_task(struct runner *r, struct rtask *t)
{
    json_error_t je;
    json_t *params = json_loads(t->params_json, 0, &je);
    char *result_path = NULL, *out_path = NULL, *err_path = NULL, *reduce_input = NULL;
    char *view = NULL; /* the parameters as the task sees them */
    char **argv = NULL, **envp = NULL;
    struct executor_attempt cmd = {0};
    struct executor_handle h = {0};
    struct err err = {0};
    int fresh;

    t->dir = runner_task_dir(r->home, r->spec->name, t->key);
    if (!params) {
        err_set(&err, SWEEP_EINTERNAL, "stored parameters are not JSON: %s", je.text);
        goto fail;
    }
    /* The seed parameter carries the task's seed (each repetition its own). */
    view = expand_apply_seed(r->spec, params, t->seed) ? jsonx_canon_str(params)
                                                       : xstrdup(t->params_json);
    fresh = task_mkdir(r, t->dir, t->key);
    if (fresh < 0) {
        err_set(&err, SWEEP_EIO, "cannot create task directory %s: %s", t->dir,
                strerror(errno));
        goto fail;
    }
    result_path = xasprintf("%s/result.json", t->dir);
    out_path = xasprintf("%s/stdout.log", t->dir);
    err_path = xasprintf("%s/stderr.log", t->dir);
    if (!fresh) {
        unlink(result_path);
        /* The logs are made at the task's first byte (executor.h): those of an earlier
         * attempt are kept as stdout.N.log, or removed, so that a task that writes
         * nothing shows no old output. */
        if (t->attempts > 1) {
            char *o = xasprintf("%s/stdout.%d.log", t->dir, t->attempts - 1);
            char *e = xasprintf("%s/stderr.%d.log", t->dir, t->attempts - 1);
            rename(out_path, o);
            rename(err_path, e);
            free(o);
            free(e);
        }
        unlink(out_path);
        unlink(err_path);
    }
    if (t->chain < 0) {
        reduce_input = xasprintf("%s/input.json", t->dir);
        if (rn_write_reduce_input(r, reduce_input, t->input_hash, &err))
            goto fail;
    }
    if (argv_for(r, t, params, view, reduce_input, &argv, &err))
        goto fail;
    {
        struct taskview_task tv = {.key = t->key,
                                   .dir = t->dir,
                                   .result_path = result_path,
                                   .params = params,
                                   .params_json = view,
                                   .seed = t->seed,
                                   .attempt = t->attempts,
                                   .repetition = t->repetition,
                                   .step = t->step};
        envp = taskview_envp(&r->env, r->spec, &tv);
        cmd.cwd = taskview_cwd(r->spec, t->dir);
    }
    cmd.argv = argv;
    cmd.envp = envp;
    cmd.stdout_path = out_path;
    cmd.stderr_path = err_path;
    cmd.timeout = spec_step_at(r->spec, t->step)->timeout;
    cmd.kill_after = spec_step_at(r->spec, t->step)->kill_after;
    cmd.result_path = result_path;
    cmd.cpus = t->cpus;
    cmd.ctx = t;
    if (executor_submit(r->ex, &cmd, &h, &err))
        goto fail;
    t->xid = h.id;
    t->pid = h.pid;
    /* Its process group (a local task leads its own), for the next run should this one
     * die: recorded by the next tick, which comes at once (runner_next_wakeup) and
     * usually records an end too. */
    if (t->pid > 0) {
        if (r->ndone == 0 && r->nunrec == 0)
            r->pending_since = run_mono(r);
        r->unrec = xgrow(r->unrec, &r->cap_unrec, r->nunrec + 1, sizeof(*r->unrec));
        r->unrec[r->nunrec++] =
            (struct pgid_rec){.task_id = t->id, .attempt = t->attempts, .pid = t->pid};
    }
    if (r->o->on_task)
        r->o->on_task(r->o->on_task_arg, RUNNER_TASK_STARTED, t->key);
    {
        struct runner_event ev = {.kind = RUNNER_EVENT_TASK,
                                  .task_id = t->id,
                                  .key = t->key,
                                  .attempt = t->attempts,
                                  .from = TASK_PENDING,
                                  .to = TASK_RUNNING,
                                  .pid = (int)t->pid,
                                  .params = view};
        rn_emit(r, &ev);
    }
    goto out;
fail:
    t->xid = 0;
    t->pid = 0;
    t->spawn_error = xstrdup(err.msg);
    {
        struct runner_event ev = {.kind = RUNNER_EVENT_START_FAILED,
                                  .task_id = t->id,
                                  .key = t->key,
                                  .attempt = t->attempts,
                                  .text = err.msg};
        rn_emit(r, &ev);
    }
    r->spawn_failed = xgrow(r->spawn_failed, &r->cap_spawn_failed, r->nspawn_failed + 1,
                            sizeof(*r->spawn_failed));
    r->spawn_failed[r->nspawn_failed++] = t;
out:
    json_decref(params);
    free(view);
    taskview_strv_free(argv);
    taskview_envp_free(&r->env, envp);
    free(result_path);
    free(out_path);
    free(err_path);
    free(reduce_input);
}

size_t runner_spawn(struct runner *r)
{
    size_t n = r->nstarts;

    for (size_t i = 0; i < n; i++)
        spawn_task(r, r->starts[i]);
    r->nstarts = 0;
    return n;
}

int runner_spawn_claimed(struct runner *r, int free)
{
    struct rtask *t = claimed_take(r, free);

    if (!t)
        return 0;
    spawn_task(r, t);
    return t->cpus;
}

size_t runner_nclaimed(const struct runner *r)
{
    return r->nclaimed;
}
