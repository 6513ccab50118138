/* Before a run (see runner.h): where a study and its tasks keep their files, the run
 * lock that keeps two sweep processes from running one study (the holder writes its
 * pid, since when and what it is into the lock file, so that the one refused can say
 * who holds it), runner_prepare(), which checks the commands' placeholders against the
 * expansion and stores the expanded tasks as a hidden generation, in chunks sorted by
 * key, made visible when complete (a bad task refuses the whole study and the study
 * stays as it was), runner_study_remove(), and the owner of a run's attempts: who this
 * process is, whether the owner of an attempt is alive, and ending the tasks of a run
 * that died (runner_end_orphans). */
#include "runner.h"

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/expand.h"
#include "core/studylog.h"
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

/* ---- owners: this process, and the tasks of a run that died ---- */

#define ORPHAN_GRACE                                                                   \
    3.0 /* seconds between SIGTERM and SIGKILL to a dead run's task                    \
         */
#define ORPHAN_DEADLINE                                                                \
    5.0 /* seconds to wait for its group to be gone after SIGKILL                      \
         */
#define ORPHAN_POLL_US 20000

/* Fields 3 (state), 5 (process group) and 22 (start time, clock ticks since boot) of
 * /proc/PID/stat. Returns -1 when there is no such process. */
static int proc_stat(pid_t pid, char *state, pid_t *pgrp, unsigned long long *start)
{
    char path[64], buf[1024], *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields follow the last ')'. */
    p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++;
    for (int field = 3; field <= 22; field++) {
        char *end;
        while (*p == ' ')
            p++;
        if (field == 3) {
            *state = *p;
        } else if (field == 5 || field == 22) {
            errno = 0;
            unsigned long long v = strtoull(p, &end, 10);
            if (errno || end == p)
                return -1;
            if (field == 5)
                *pgrp = (pid_t)v;
            else
                *start = v;
        }
        p = strchr(p, ' ');
        if (!p && field < 22)
            return -1;
    }
    return 0;
}

/* The epoch time at which a process with start time `ticks` started. */
static double proc_start_epoch(unsigned long long ticks)
{
    struct timespec boot;
    long hz = sysconf(_SC_CLK_TCK);

    if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
        return 0;
    return time_now() - ((double)boot.tv_sec + boot.tv_nsec * 1e-9) +
           (double)ticks / (double)hz;
}

double runner_lease(void)
{
    const char *v = getenv("SWEEP_LEASE");
    char *end;
    double d;

    if (!v || !*v)
        return STORE_LEASE_DEFAULT;
    errno = 0;
    d = strtod(v, &end);
    if (errno || *end != '\0' || !(d >= 1.0 && d <= 86400.0))
        return STORE_LEASE_DEFAULT;
    return d;
}

char *runner_owner_self(void)
{
    char host[256] = "localhost";
    unsigned long long start = 0;
    pid_t pgrp;
    char state;

    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    proc_stat(getpid(), &state, &pgrp, &start);
    return xasprintf("%s:%d:%llu", host, (int)getpid(), start);
}

enum runner_owner_state runner_owner_state(const char *owner)
{
    char host[256] = "", *end;
    const char *colon2, *colon1;
    unsigned long long start = 0, pstart = 0;
    long pid;
    pid_t pgrp;
    char state;

    if (!owner || !(colon2 = strrchr(owner, ':')) || colon2 == owner)
        return RUNNER_OWNER_FOREIGN;
    for (colon1 = colon2 - 1; colon1 > owner && *colon1 != ':'; colon1--)
        ;
    if (*colon1 != ':')
        return RUNNER_OWNER_FOREIGN;
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    if ((size_t)(colon1 - owner) != strlen(host) ||
        strncmp(owner, host, (size_t)(colon1 - owner)) != 0)
        return RUNNER_OWNER_FOREIGN;
    errno = 0;
    pid = strtol(colon1 + 1, &end, 10);
    if (errno || end != colon2 || pid <= 0 || pid > INT_MAX)
        return RUNNER_OWNER_FOREIGN;
    errno = 0;
    start = strtoull(colon2 + 1, &end, 10);
    if (errno || *end != '\0')
        return RUNNER_OWNER_FOREIGN;
    /* Gone, a zombie, or its pid taken by a process started at another time. */
    if (proc_stat((pid_t)pid, &state, &pgrp, &pstart) != 0 || state == 'Z' ||
        pstart != start)
        return RUNNER_OWNER_DEAD;
    return RUNNER_OWNER_ALIVE;
}

/* Whether a process group still has a member that is not a zombie (zombies may stay
 * for good when nobody reaps the orphans: pid 1 in some containers). kill(-pgid, 0)
 * answers at once when it is empty; else /proc is scanned: O(processes). */
static bool group_alive(pid_t pgid)
{
    DIR *d;
    struct dirent *e;
    bool alive = false;

    if (kill(-pgid, 0) != 0 && errno == ESRCH)
        return false;
    d = opendir("/proc");
    if (!d)
        return true;
    while (!alive && (e = readdir(d))) {
        char *end, state;
        pid_t pgrp;
        unsigned long long start;
        long pid = strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        if (proc_stat((pid_t)pid, &state, &pgrp, &start) == 0 && pgrp == pgid &&
            state != 'Z')
            alive = true;
    }
    closedir(d);
    return alive;
}

/* Whether the group `pgid` is still the one the attempt started: its leader, when it
 * is still there (even as a zombie), started between the attempt's start and the
 * time its process was recorded (with a second of slack each way); a leader started
 * at another time reuses the pid. A group whose leader is gone is its remains. */
static bool group_is_attempt(const struct store_open_attempt *a)
{
    unsigned long long start;
    pid_t pgrp;
    char state;

    if (proc_stat((pid_t)a->pgid, &state, &pgrp, &start) != 0)
        return true;
    double t = proc_start_epoch(start);
    double until = a->spawned_at > 0 ? a->spawned_at : a->started_at;
    return t >= a->started_at - 1.0 && t <= until + 1.0;
}

struct orphans {
    struct store_open_attempt *a;
    size_t n, cap;
};

static int orphan_collect(const struct store_open_attempt *a, void *arg)
{
    struct orphans *o = arg;

    /* Those without owner are left to store_study_reset, another host's to lease
     * expiry, and a live owner keeps its own. */
    if (!a->owner || runner_owner_state(a->owner) != RUNNER_OWNER_DEAD)
        return 0;
    o->a = xgrow(o->a, &o->cap, o->n + 1, sizeof(*o->a));
    o->a[o->n] = *a;
    o->a[o->n].owner = xstrdup(a->owner);
    o->a[o->n].study = xstrdup(a->study ? a->study : "");
    o->n++;
    return 0;
}

/* A process left of an orphaned attempt, found by its environment (strays_find). */
struct stray {
    pid_t pid;
    unsigned long long
        start;     /* when it started (/proc/PID/stat): a reused pid differs */
    size_t orphan; /* its attempt in struct orphans */
    bool live;
};

/* What is left of a dead run's attempts: their process groups (live[i] for o->a[i])
 * and the strays. */
struct leftovers {
    const struct orphans *o;
    bool *live;
    struct stray *s;
    size_t ns, cap;
};

/* Whether the NUL-separated entries env[0..n) hold `want`. */
static bool env_has(const char *env, size_t n, const char *want)
{
    size_t wl = strlen(want);

    for (size_t off = 0; off < n;) {
        size_t len = strnlen(env + off, n - off);
        if (len == wl && memcmp(env + off, want, wl) == 0)
            return true;
        off += len + 1;
    }
    return false;
}

/* The environment of process pid (NUL-separated entries), or false. */
static bool proc_environ(pid_t pid, struct strbuf *sb)
{
    char path[64], buf[16384];
    ssize_t n;
    int fd;

    sb_reset(sb);
    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        sb_add(sb, buf, (size_t)n);
    close(fd);
    return n == 0;
}

/* Finds the processes left of the orphaned attempts by what each task's process and
 * its descendants inherit, SWEEP_TASK_DIR and SWEEP_ATTEMPT (taskview.h): also those
 * that left the task's process group (setsid) and those of a task whose group was
 * never recorded (the run died between the spawn and the commit after it). One pass
 * over /proc, O(processes); this process, zombies and processes of other users (not
 * readable) are skipped. */
static void strays_find(struct leftovers *l, const char *home)
{
    const struct orphans *o = l->o;
    char **dir = xcalloc(o->n, sizeof(*dir)), **att = xcalloc(o->n, sizeof(*att));
    struct strbuf env = STRBUF_INIT;
    struct dirent *e;
    DIR *d = opendir("/proc");

    for (size_t i = 0; i < o->n; i++) {
        char *td = runner_task_dir(home, o->a[i].study, o->a[i].key);
        dir[i] = xasprintf("SWEEP_TASK_DIR=%s", td);
        att[i] = xasprintf("SWEEP_ATTEMPT=%d", o->a[i].attempt);
        free(td);
    }
    while (d && (e = readdir(d))) {
        char *end, state;
        pid_t pgrp;
        unsigned long long start;
        long pid = strtol(e->d_name, &end, 10);

        if (*end != '\0' || pid <= 0 || pid == (long)getpid() ||
            proc_stat((pid_t)pid, &state, &pgrp, &start) != 0 || state == 'Z' ||
            !proc_environ((pid_t)pid, &env))
            continue;
        for (size_t i = 0; i < o->n; i++) {
            if (env_has(env.buf, env.len, dir[i]) &&
                env_has(env.buf, env.len, att[i])) {
                l->s = xgrow(l->s, &l->cap, l->ns + 1, sizeof(*l->s));
                l->s[l->ns++] = (struct stray){(pid_t)pid, start, i, true};
                break;
            }
        }
    }
    if (d)
        closedir(d);
    for (size_t i = 0; i < o->n; i++) {
        free(dir[i]);
        free(att[i]);
    }
    free(dir);
    free(att);
    sb_fini(&env);
}

/* Whether the stray is still running: neither gone, a zombie nor its pid reused. */
static bool stray_alive(const struct stray *s)
{
    unsigned long long start;
    pid_t pgrp;
    char state;

    return proc_stat(s->pid, &state, &pgrp, &start) == 0 && state != 'Z' &&
           start == s->start;
}

/* Sends sig to every group and stray still live. */
static void leftovers_signal(const struct leftovers *l, int sig)
{
    for (size_t i = 0; i < l->o->n; i++) {
        if (l->live[i])
            kill(-(pid_t)l->o->a[i].pgid, sig);
    }
    for (size_t i = 0; i < l->ns; i++) {
        if (l->s[i].live && stray_alive(&l->s[i]))
            kill(l->s[i].pid, sig);
    }
}

/* Waits until every group and stray is gone or the deadline passes; returns how many
 * are left (their entries stay live). */
static size_t leftovers_wait(struct leftovers *l, double seconds)
{
    double deadline = time_mono() + seconds;
    size_t left;

    for (;;) {
        left = 0;
        for (size_t i = 0; i < l->o->n; i++) {
            if (l->live[i] && !group_alive((pid_t)l->o->a[i].pgid))
                l->live[i] = false;
            left += l->live[i];
        }
        for (size_t i = 0; i < l->ns; i++) {
            if (l->s[i].live && !stray_alive(&l->s[i]))
                l->s[i].live = false;
            left += l->s[i].live;
        }
        if (left == 0 || time_mono() >= deadline)
            return left;
        usleep(ORPHAN_POLL_US);
    }
}

void runner_log_event(const char *home, const struct runner_event *ev)
{
    char *dir = runner_study_dir(home, ev->study);
    char *path = xasprintf("%s/study.log", dir);
    struct studylog *log = NULL;
    struct err err = {0};

    if (access(dir, F_OK) == 0 && studylog_open(path, &log, &err) == SWEEP_OK) {
        studylog_on_event(log, ev);
        studylog_close(log);
    }
    free(path);
    free(dir);
}

/* The events of runner_end_orphans and runner_leases_tick: to on_event, else to the
 * study's log. */
struct leases_out {
    struct store *st;
    runner_event_fn *on_event;
    void *arg;
};

static void leases_emit(const struct leases_out *out, struct runner_event *ev)
{
    ev->time = time_now();
    if (out->on_event)
        out->on_event(out->arg, ev);
    else
        runner_log_event(store_home(out->st), ev);
}

int runner_end_orphans(struct store *st,
                       long long study_id,
                       runner_event_fn *on_event,
                       void *arg,
                       long long *n,
                       struct err *err)
{
    const struct leases_out out = {st, on_event, arg};
    struct orphans o = {0};
    struct leftovers l = {.o = &o};
    int rc;

    *n = 0;
    rc = store_attempt_each_open(st, study_id, orphan_collect, &o, err);
    if (rc || o.n == 0)
        goto out;
    l.live = xcalloc(o.n, sizeof(*l.live));
    for (size_t i = 0; i < o.n; i++)
        l.live[i] = o.a[i].pgid > 0 && group_is_attempt(&o.a[i]) &&
                    group_alive((pid_t)o.a[i].pgid);
    strays_find(&l, store_home(st));
    leftovers_signal(&l, SIGTERM);
    if (leftovers_wait(&l, ORPHAN_GRACE) > 0) {
        leftovers_signal(&l, SIGKILL);
        if (leftovers_wait(&l, ORPHAN_DEADLINE) > 0) {
            for (size_t i = 0; i < o.n; i++) {
                if (l.live[i]) {
                    rc = err_set(err, SWEEP_EBUSY,
                                 "task %s (attempt %d) of a sweep run that died (%s) "
                                 "is still running as process group %d after SIGKILL; "
                                 "end it, then run again",
                                 o.a[i].key, o.a[i].attempt, o.a[i].owner, o.a[i].pgid);
                    goto out;
                }
            }
            for (size_t i = 0; i < l.ns; i++) {
                if (l.s[i].live) {
                    const struct store_open_attempt *a = &o.a[l.s[i].orphan];
                    rc = err_set(err, SWEEP_EBUSY,
                                 "task %s (attempt %d) of a sweep run that died (%s) "
                                 "left process %d, still running after SIGKILL; "
                                 "end it, then run again",
                                 a->key, a->attempt, a->owner, (int)l.s[i].pid);
                    goto out;
                }
            }
        }
    }
    for (size_t i = 0; i < o.n; i++) {
        bool ran = o.a[i].pgid > 0;
        char *why;

        for (size_t k = 0; k < l.ns && !ran; k++)
            ran = l.s[k].orphan == i;
        /* No process recorded or found: claimed ahead and never started (runner.h),
         * or its leader died of its parent-death signal before it was recorded and
         * left nothing; given back as if the attempt had not been made. */
        if (!ran) {
            rc = store_task_unclaim(st, o.a[i].task_id, o.a[i].attempt, err);
        } else {
            why = o.a[i].pgid > 0
                      ? xasprintf("interrupted: the sweep run that started it (%s) "
                                  "died; its process group %d was ended",
                                  o.a[i].owner, o.a[i].pgid)
                      : xasprintf("interrupted: the sweep run that started it (%s) "
                                  "died; what it left running was ended",
                                  o.a[i].owner);
            rc = store_attempt_interrupt(st, o.a[i].task_id, o.a[i].attempt, why, err);
            free(why);
        }
        if (rc == SWEEP_ENOTFOUND) { /* closed meanwhile by someone else */
            err_clear(err);
            rc = SWEEP_OK;
            continue;
        }
        if (rc)
            goto out;
        (*n)++;
        struct runner_event ev = {.kind = RUNNER_EVENT_ORPHAN_ENDED,
                                  .study = o.a[i].study,
                                  .task_id = o.a[i].task_id,
                                  .key = o.a[i].key,
                                  .attempt = o.a[i].attempt,
                                  .from = TASK_RUNNING,
                                  .to = TASK_INTERRUPTED,
                                  .pid = o.a[i].pgid,
                                  .text = o.a[i].owner};
        leases_emit(&out, &ev);
    }
out:
    for (size_t i = 0; i < o.n; i++) {
        free(o.a[i].owner);
        free(o.a[i].study);
    }
    free(o.a);
    free(l.live);
    free(l.s);
    return rc;
}

static int lease_expired(const struct store_open_attempt *a, void *arg)
{
    struct runner_event ev = {.kind = RUNNER_EVENT_LEASE_EXPIRED,
                              .study = a->study ? a->study : "",
                              .task_id = a->task_id,
                              .key = a->key,
                              .attempt = a->attempt,
                              .from = TASK_RUNNING,
                              .to = TASK_INTERRUPTED,
                              .text = a->owner};

    leases_emit(arg, &ev);
    return 0;
}

int runner_leases_tick(struct store *st,
                       runner_event_fn *on_event,
                       void *arg,
                       struct err *err)
{
    const struct leases_out out = {st, on_event, arg};
    const char *self = store_owner(st);
    long long n = 0;
    int rc = SWEEP_OK;

    if (self)
        rc = store_lease_renew(st, self, time_now() + store_lease(st), NULL, err);
    if (!rc)
        rc = runner_end_orphans(st, 0, on_event, arg, &n, err);
    if (!rc)
        rc = store_expire_leases(st, time_now(), lease_expired, (void *)&out, &n, err);
    return rc;
}
