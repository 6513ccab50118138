/* Before a run (see runner.h): where a study and its tasks keep their files, the run
 * lock that keeps two sweep processes from running one study (the holder writes its
 * pid, since when and what it is into the lock file, so that the one refused can say
 * who holds it), runner_prepare(), which checks the commands' placeholders against the
 * expansion and stores the expanded tasks as a hidden generation, in chunks sorted by
 * key, made visible when complete (a bad task refuses the whole study and the study
 * stays as it was), and runner_study_remove(). The owners of attempts are in
 * runner_owner.c. */
#include "runner.h"

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/strbuf.h"
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

/* The expansion is stored in chunks of chunk_tasks tasks. A chunk is expanded (keys
 * hashed, params checked) outside any transaction, then inserted; its inserts end
 * their transaction after chunk_seconds (checked every 1,000 tasks), so another writer
 * waits about that long at most.
 *
 * In which order. In expansion order the table, tasks_order and tasks_queue only grow
 * at their end, and the ids follow the expansion, which a run follows too (a tick's
 * start and end of neighbouring tasks then write the same pages of the table: 9.4 ->
 * 3.0 pages written to the log per task, about 10% of a run's CPU); but a task's key
 * is a hash, so each insert lands at a random place of the (study_id, key) index. That
 * costs nothing more while the study's part of that index stays in the cache (32 MB:
 * its keys up to about a million, RUNNER_KEYS_IN_CACHE). Beyond, each insert reads and
 * dirties a page of its own, the cache spills it, and each commit writes (and the
 * checkpoint after it syncs) about one page per task: 10^7 tasks took 417 s. So once
 * the study's keys outgrow the cache a chunk is sorted by key: it sweeps the index
 * once (a page read and written once per chunk; the sweeps total about N^2 / (2 *
 * chunk_tasks * keys per page) pages), and the ids still follow the expansion, given
 * explicitly (prep_chunk_store()), at the cost of inserts at random places of the
 * chunk's part of the table. Measured (2 cores, idle): 10^6 tasks in expansion order
 * 8.4 s (6.7 s CPU), sorted by key with ids in key order 10.8 s, sorted with ids in
 * expansion order 14.2 s; 10^7 (the first million in expansion order) about 215 s
 * (160 s CPU; ids in key order: 194 s, 139 s CPU). Still SQLite's own work per row
 * dominates: the table alone 3.2 us, the key index 2.1, tasks_order 2.0, tasks_queue
 * 1.3, the 15 columns left to their defaults about 1 (32 rows a statement:
 * store_task_stage_batch(); no JSON parsed again per task: prep_chunk.shape). The
 * chunk's memory is about 100 bytes a task (25 MB). */
static uint64_t chunk_tasks = 250000;
static double chunk_seconds = 1.0;
static uint64_t keys_in_cache = RUNNER_KEYS_IN_CACHE;

/* The pause between two transactions of one chunk. SQLite has no queue of writers:
 * one that waits polls the lock, at most 100 ms apart, and would miss the instant
 * between two transactions (reproduced: `sweep run --prepare` of a small study gave
 * up after 5 s beside a million-task preparation). A pause as long as that interval
 * lets every waiting writer in. Between two chunks, the expansion of the next one
 * (outside any transaction) is that pause. */
#define CHUNK_PAUSE_NS 100000000L

void runner_prepare_chunks(uint64_t max_tasks, double max_seconds, uint64_t max_keys)
{
    chunk_tasks = max_tasks > 0 ? max_tasks : 1;
    chunk_seconds = max_seconds;
    keys_in_cache = max_keys;
}

/* A task of the expansion held until its chunk is stored. */
struct prep_task {
    char key[EXPAND_KEY_LEN + 1];
    int repetition, priority, step, cpus;
    long long seq, seed, chain;
    size_t params; /* offset of its params_json in prep_chunk.text */
    size_t shape;  /* index of its parameter names in prep_chunk.shape */
};

/* The tasks of one chunk and their params_json texts (the steps and repetitions of
 * a point share one). A task's parameter names are noted in the store as it is
 * stored (store_names_note_params(), which reads only the names of t->params): the
 * tasks of a chunk share the objects of `shape`, one per run of tasks with the same
 * names in expansion order (usually one per chunk), each the names with null values,
 * so that no task's params_json is parsed again. */
struct prep_chunk {
    struct prep_task *t;
    size_t n, cap;
    struct strbuf text;
    size_t last; /* offset of the last text added */
    json_t **shape;
    size_t nshape, capshape;
};

/* Whether obj has exactly the names of shape. O(names). */
static bool shape_same(const json_t *shape, const json_t *obj)
{
    const char *name;
    json_t *v;

    if (json_object_size(shape) != json_object_size(obj))
        return false;
    json_object_foreach((json_t *)obj, name, v)
    {
        if (!json_object_get(shape, name))
            return false;
    }
    return true;
}

/* The index in c->shape of the names of params: the last one when it has the same
 * names, else a new one. */
static size_t prep_chunk_shape(struct prep_chunk *c, const json_t *params)
{
    const char *name;
    json_t *v, *shape;

    if (c->nshape > 0 && shape_same(c->shape[c->nshape - 1], params))
        return c->nshape - 1;
    shape = json_object();
    json_object_foreach((json_t *)params, name, v)
        json_object_set_new(shape, name, json_null());
    c->shape = xgrow(c->shape, &c->capshape, c->nshape + 1, sizeof(*c->shape));
    c->shape[c->nshape] = shape;
    return c->nshape++;
}

static void prep_chunk_add(struct prep_chunk *c, const struct expand_task *t)
{
    struct prep_task *p;

    c->t = xgrow(c->t, &c->cap, c->n + 1, sizeof(*c->t));
    p = &c->t[c->n++];
    memcpy(p->key, t->key, sizeof(p->key));
    p->repetition = t->repetition;
    p->priority = t->priority;
    p->step = t->step;
    p->cpus = t->cpus;
    p->seq = t->seq;
    p->seed = t->seed;
    p->chain = t->chain;
    if (c->text.len == 0 || strcmp(c->text.buf + c->last, t->params_json) != 0) {
        c->last = c->text.len;
        sb_add(&c->text, t->params_json, strlen(t->params_json) + 1);
    }
    p->params = c->last;
    p->shape = prep_chunk_shape(c, t->params);
}

static void prep_chunk_reset(struct prep_chunk *c)
{
    c->n = 0;
    c->last = 0;
    sb_reset(&c->text);
    for (size_t i = 0; i < c->nshape; i++)
        json_decref(c->shape[i]);
    c->nshape = 0;
}

static void prep_chunk_fini(struct prep_chunk *c)
{
    prep_chunk_reset(c);
    free(c->t);
    free(c->shape);
    sb_fini(&c->text);
}

/* Key order; a key repeated within the expansion keeps its first (lowest seq) place
 * first, so that it is the one stored, as in expansion order. */
static int prep_task_cmp(const void *a, const void *b)
{
    const struct prep_task *x = a, *y = b;
    int c = memcmp(x->key, y->key, EXPAND_KEY_LEN);

    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Expands up to chunk_tasks tasks into c, checking each; *done is set when the
 * expansion has no more. */
static int prep_chunk_fill(struct expand *ex,
                           const struct spec *spec,
                           runner_check_fn *check,
                           void *check_arg,
                           struct prep_chunk *c,
                           bool *done,
                           struct err *err)
{
    struct expand_task t;
    int rc;

    prep_chunk_reset(c);
    while (c->n < chunk_tasks) {
        if (expand_next(ex, &t) != 1) {
            *done = true;
            break;
        }
        if (prepare_signo)
            return prepare_interrupted(err);
        if (check) {
            rc = check(spec_step_at(spec, t.step), t.params, check_arg, err);
            if (rc) {
                err_prefix(err, "%s: task %lld (%s)", spec->path, t.seq, t.params_json);
                return rc;
            }
        }
        prep_chunk_add(c, &t);
    }
    return SWEEP_OK;
}

/* Sorts the chunk by key, then moves to the front the last task in expansion order
 * of those that come first with their key (a key repeated in the chunk keeps its
 * first place); *first_seq receives the chunk's first seq. */
static void prep_chunk_sort(struct prep_chunk *c, long long *first_seq)
{
    size_t last = 0;

    *first_seq = 0;
    if (c->n == 0)
        return;
    qsort(c->t, c->n, sizeof(*c->t), prep_task_cmp);
    *first_seq = c->t[0].seq;
    for (size_t i = 1; i < c->n; i++) {
        if (c->t[i].seq > c->t[last].seq &&
            memcmp(c->t[i].key, c->t[i - 1].key, EXPAND_KEY_LEN) != 0)
            last = i;
        if (c->t[i].seq < *first_seq)
            *first_seq = c->t[i].seq;
    }
    struct prep_task p = c->t[last];
    memmove(c->t + 1, c->t, last * sizeof(*c->t));
    c->t[0] = p;
}

/* Stores the chunk, STORE_STAGE_BATCH tasks a statement, in one or more transactions
 * (see chunk_tasks): in expansion order, or, when by_key, in key order with each new
 * task's id following its seq all the same: the ids from the next free one at the
 * chunk's first transaction, whose first statement inserts the chunk's last task and
 * so takes the chunk's range of ids from any other writer (one that inserts meanwhile
 * gets ids above it). A task whose id is taken all the same (its key was the study's
 * already, so the range was not taken) gets the next free id. */
static int prep_chunk_store(struct store *st,
                            long long study_id,
                            long long generation,
                            struct prep_chunk *c,
                            bool by_key,
                            struct err *err)
{
    struct expand_task batch[STORE_STAGE_BATCH];
    long long first_seq = 0, id_base = 0;
    double start = 0;
    bool in_txn = false;
    int rc = SWEEP_OK;

    if (by_key)
        prep_chunk_sort(c, &first_seq);
    for (size_t i = 0; i < c->n;) {
        size_t m = c->n - i < STORE_STAGE_BATCH ? c->n - i : STORE_STAGE_BATCH;

        if (prepare_signo) {
            rc = prepare_interrupted(err);
            break;
        }
        if (!in_txn) {
            if (i > 0)
                nanosleep(&(struct timespec){0, CHUNK_PAUSE_NS}, NULL);
            if ((rc = store_begin(st, err)) != 0)
                break;
            in_txn = true;
            start = time_now();
            if (by_key && i == 0 && (rc = store_task_next_id(st, &id_base, err)) != 0)
                break;
            if (by_key && i == 0)
                id_base -= first_seq;
        }
        for (size_t j = 0; j < m; j++) {
            const struct prep_task *p = &c->t[i + j];
            batch[j] = (struct expand_task){
                .params = c->shape[p->shape],
                .params_json = c->text.buf + p->params,
                .seq = p->seq,
                .repetition = p->repetition,
                .seed = p->seed,
                .priority = p->priority,
                .step = p->step,
                .chain = p->chain,
                .cpus = p->cpus,
            };
            memcpy(batch[j].key, p->key, sizeof(batch[j].key));
        }
        if ((rc = store_task_stage_batch(st, study_id, generation, batch, m,
                                         by_key ? &id_base : NULL, err)) != 0)
            break;
        i += m;
        if (chunk_seconds > 0 && i % 1024 == 0 && i < c->n &&
            time_now() - start >= chunk_seconds) {
            in_txn = false;
            if ((rc = store_commit(st, err)) != 0)
                break;
        }
    }
    if (rc == SWEEP_OK && in_txn)
        rc = store_commit(st, err);
    return rc; /* the caller rolls back an open transaction */
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
    struct prep_chunk chunk = {0};
    char *spec_json = NULL, *steps = steps_json(spec);
    long long visible = 0;
    uint64_t keys = 0;
    uint64_t n = 0;
    bool staged = false, done = false;
    struct sigaction old[3];
    int rc;

    prepare_signo = 0;
    rc = check_templates(spec, err);
    if (rc)
        return rc;
    prepare_signals_catch(old, 3);
    /* The new generation is filled in chunks and made visible in the last, small
     * transaction (store_study_publish()): whatever stops it before leaves the study
     * as it was. */
    rc = store_begin(st, err);
    if (!rc)
        rc = store_study_stage(st, spec->name, study_id, &visible, generation, err);
    if (!rc) {
        staged = true;
        rc = store_commit(st, err);
    }
    if (rc)
        goto fail;
    /* The keys the study has already (of its visible generation). */
    if (visible > 0) {
        long long counts[3][TASK_NSTATES];
        if ((rc = store_study_counts(st, *study_id, counts, err)) != 0)
            goto fail;
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < TASK_NSTATES; i++)
                keys += (uint64_t)counts[b][i];
    }
    ex = expand_create(spec);
    while (!done) {
        rc = prep_chunk_fill(ex, spec, check, check_arg, &chunk, &done, err);
        if (!rc)
            rc = prep_chunk_store(st, *study_id, *generation, &chunk,
                                  keys + n + chunk.n > keys_in_cache, err);
        if (rc)
            goto fail;
        n += chunk.n;
    }
    prep_chunk_fini(&chunk);
    chunk = (struct prep_chunk){0};
    if (prepare_signo) {
        rc = prepare_interrupted(err);
        goto fail;
    }
    if ((rc = store_begin(st, err)) != 0)
        goto fail;
    spec_json = jsonx_canon_str(spec->json);
    rc = store_study_set_steps(st, *study_id, steps, err);
    if (!rc)
        rc = store_study_publish(st, *study_id, *generation, spec->description,
                                 spec->path, spec_json, err);
    if (!rc)
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
    store_rollback(st); /* also a transaction whose commit failed, or none */
    if (staged) {
        struct err ignored = {0};
        /* Best effort: what stays is discarded by the next preparation. */
        store_study_unstage(st, *study_id, (long long)chunk_tasks, &ignored);
    }
    /* A preparation that failed on a full disk leaves its pages in the WAL. */
    store_wal_truncate(st);
    prepare_signals_restore(old, 3);
    prep_chunk_fini(&chunk);
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
