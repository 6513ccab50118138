/* The service's main thread and its preparing thread (see server.h): the engine
 * stepped in a poll() loop, the commands of requests executed between ticks, studies
 * stored on the side and adopted when ready, the inbox's parsed files handed over
 * (inbox_submit), accepted specs kept on disk until their study ends, and the stop on
 * SIGTERM/SIGINT.
 *
 * Locking: one mutex guards the command queue, the list of the service's studies
 * (their state and detail; what only the main thread touches, such as the runner, is
 * not read by others), the draining flag and the preparing thread's stop flag. The
 * main thread never waits for another thread while holding it. */
#include "server/service.h"

#include "common/config.h"
#include "common/fileio.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/engine.h"
#include "core/executor.h"
#include "core/runner.h"
#include "core/sigwatch.h"
#include "core/store.h"
#include "core/view.h"
#include "models/speccheck.h"
#include "models/studyreq.h"
#include "server/events.h"
#include "server/http.h"
#include "server/inbox.h"
#include "server/stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define SERVICE_EVENTS 4096       /* the live events kept for replay (Last-Event-ID) */
#define SERVICE_EVENT_CLIENTS 256 /* GET /events streams at once */

enum svc_state {
    ST_QUEUED,    /* accepted; waits for the preparing thread */
    ST_PREPARING, /* being stored by the preparing thread */
    ST_READY,     /* stored; the main thread makes its runner next */
    ST_RUNNING,   /* in the engine */
    ST_REJECTED,  /* could not be stored (detail) */
    ST_CANCELLED, /* cancelled before it was stored */
};
static const char *const state_names[] = {"QUEUED",  "PREPARING", "QUEUED",
                                          "RUNNING", "REJECTED",  "CANCELLED"};

enum svc_job {
    JOB_PREPARE, /* store the spec of text (a new study, or one to resume) */
    JOB_RETRY,   /* the stored study's failed tasks back to pending */
};

struct svc_study {
    char *name;
    enum svc_state state;
    char *detail; /* REJECTED: why */
    enum svc_job job;
    char *text; /* JOB_PREPARE: the spec */
    /* Set by the preparing thread (READY), then the main thread's. */
    struct spec *spec;
    struct speccheck *models;
    int lock;
    long long id, generation;
    enum store_rerun rerun;
    struct runner *runner;
    struct svc_study *next;
};

struct svc_cmd {
    enum svc_cmd_kind kind;
    const char *name, *text;
    struct svc_reply *reply;
    bool done;
    struct svc_cmd *next;
};

struct service {
    const struct server_opts *o;
    pthread_mutex_t mu;
    pthread_cond_t answered; /* a command was answered */
    pthread_cond_t jobs;     /* a study was queued, or the preparing thread stops */
    int wake;                /* eventfd: commands, ready studies, a signal */
    bool draining;
    bool stop_prepare;
    int prepare_signo; /* a signal that interrupted runner_prepare() */
    struct svc_cmd *cmds, **cmds_tail;
    struct svc_study *studies;
    double started_at;
    char *accepted_dir;
    char *results_dir;     /* o->results, or <home>/results */
    struct events *events; /* GET /events (its own mutex) */
    struct stats *stats;   /* GET /stats/performance (its own mutex) */
    /* The main thread's. */
    struct store *st;
    struct executor *ex;
    struct engine *e;
    struct inbox *inbox;
    long long tasks_run; /* attempts the ended runners started */
};

/* ---- shared state ---- */

static void wake(struct service *s)
{
    uint64_t one = 1;
    ssize_t n = write(s->wake, &one, sizeof(one));

    (void)n; /* a full counter still wakes the loop */
}

static struct svc_study *find_study(struct service *s, const char *name)
{
    for (struct svc_study *x = s->studies; x; x = x->next) {
        if (strcmp(x->name, name) == 0)
            return x;
    }
    return NULL;
}

static void study_free(struct svc_study *x)
{
    if (!x)
        return;
    runner_destroy(x->runner);
    speccheck_destroy(x->models);
    spec_destroy(x->spec);
    if (x->lock >= 0)
        close(x->lock);
    free(x->name);
    free(x->detail);
    free(x->text);
    free(x);
}

/* Unlinks x from the list (under the mutex) and frees it. */
static void study_drop(struct service *s, struct svc_study *x)
{
    pthread_mutex_lock(&s->mu);
    for (struct svc_study **p = &s->studies; *p; p = &(*p)->next) {
        if (*p == x) {
            *p = x->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    study_free(x);
}

/* Queues a job for the preparing thread (called with the mutex held). */
static void queue_job(struct service *s, const char *name, enum svc_job job, char *text)
{
    struct svc_study *x = find_study(s, name), **p;

    if (x) { /* a REJECTED one: replaced */
        free(x->detail);
        free(x->text);
        x->detail = NULL;
    } else {
        x = xcalloc(1, sizeof(*x));
        x->name = xstrdup(name);
        x->lock = -1;
        for (p = &s->studies; *p; p = &(*p)->next)
            ;
        *p = x;
    }
    x->state = ST_QUEUED;
    x->job = job;
    x->text = text;
    pthread_cond_signal(&s->jobs);
}

void service_call(struct service *s,
                  enum svc_cmd_kind kind,
                  const char *name,
                  const char *text,
                  struct svc_reply *out)
{
    struct svc_cmd c = {.kind = kind, .name = name, .text = text, .reply = out};

    out->status = 0;
    out->body = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->draining) {
        pthread_mutex_unlock(&s->mu);
        out->status = 503;
        out->body = json_pack("{s:s, s:s}", "error", "stopping", "detail",
                              "the service is stopping and takes no new work");
        return;
    }
    *s->cmds_tail = &c;
    s->cmds_tail = &c.next;
    wake(s);
    while (!c.done)
        pthread_cond_wait(&s->answered, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

bool service_draining(struct service *s)
{
    bool d;

    pthread_mutex_lock(&s->mu);
    d = s->draining;
    pthread_mutex_unlock(&s->mu);
    return d;
}

const struct server_opts *service_opts(struct service *s)
{
    return s->o;
}

struct events *service_events(struct service *s)
{
    return s->events;
}

struct stats *service_stats(struct service *s)
{
    return s->stats;
}

/* The runners' events (main thread): to the live stream and the figures. */
static void on_runner_event(void *arg, const struct runner_event *ev)
{
    struct service *s = arg;

    stats_on_runner(s->stats, ev);
    events_on_runner(s->events, ev);
}

const char *service_study_state(struct service *s, const char *name, char **detail)
{
    const char *state = NULL;
    struct svc_study *x;

    *detail = NULL;
    pthread_mutex_lock(&s->mu);
    x = find_study(s, name);
    if (x && x->state != ST_RUNNING) {
        state = state_names[x->state];
        if (x->detail)
            *detail = xstrdup(x->detail);
    }
    pthread_mutex_unlock(&s->mu);
    return state;
}

json_t *service_info(struct service *s)
{
    char ts[40];
    long long running = 0, queued = 0;
    bool draining;

    pthread_mutex_lock(&s->mu);
    for (struct svc_study *x = s->studies; x; x = x->next) {
        if (x->state == ST_RUNNING)
            running++;
        else if (x->state != ST_REJECTED && x->state != ST_CANCELLED)
            queued++;
    }
    draining = s->draining;
    pthread_mutex_unlock(&s->mu);
    time_iso8601(s->started_at, ts, sizeof(ts));
    return json_pack("{s:s, s:i, s:s, s:i, s:I, s:I}", "status",
                     draining ? "stopping" : "ok", "pid", (int)getpid(), "started_at",
                     ts, "slots", s->o->max_parallel, "studies_running",
                     (json_int_t)running, "studies_queued", (json_int_t)queued);
}

/* ---- the preparing thread ---- */

static char *accepted_path(struct service *s, const char *name)
{
    return xasprintf("%s/%s.json", s->accepted_dir, name);
}

/* The marker of a study that came from the inbox: accepted/<study>.inbox holds the
 * name of its file, so that its results are written when it ends, after a restart too.
 */
static char *marker_path(struct service *s, const char *name)
{
    return xasprintf("%s/%s.inbox", s->accepted_dir, name);
}

/* The study is forgotten: its accepted spec and inbox marker go. */
static void drop_accepted(struct service *s, const char *name)
{
    char *path = accepted_path(s, name);

    unlink(path);
    free(path);
    path = marker_path(s, name);
    unlink(path);
    free(path);
}

/* A study of the inbox that could not be stored: its file goes to rejected/, the
 * message naming it rather than its accepted spec. */
static void inbox_refuse(struct service *s, const char *name, const char *why)
{
    char *marker = marker_path(s, name), *processed = NULL;
    char *accepted = accepted_path(s, name);
    size_t len = strlen(accepted);

    if (strncmp(why, accepted, len) == 0 && strncmp(why + len, ": ", 2) == 0)
        why += len + 2;
    if (s->o->inbox &&
        fileio_read_user(marker, 4096, &processed, &len, &(struct err){0}) == 0)
        inbox_refused(s->o->inbox, processed, why, s->o->out);
    free(processed);
    free(accepted);
    free(marker);
}

/* Does one job of the preparing thread into x's spec, models, lock, id, generation
 * and rerun. SWEEP_EBUSY with *held: another process holds the study; without it:
 * the store stayed busy (the job is tried again). */
static int prepare_one(struct service *s,
                       struct store *st,
                       struct svc_study *x,
                       const char *text,
                       bool *held,
                       struct err *err)
{
    struct store_study stored = {0};
    char *path = accepted_path(s, x->name), *spec_text = NULL;
    uint64_t ntasks = 0;
    int rc;

    if (x->job == JOB_RETRY) {
        rc = store_study_get(st, x->name, &stored, err);
        if (rc)
            goto out;
        spec_text = xstrdup(stored.spec_json);
        text = spec_text;
    }
    rc = spec_parse(path, text, strlen(text), &x->spec, err);
    if (rc)
        goto out;
    if (strcmp(x->spec->name, x->name) != 0) {
        rc = err_set(err, SWEEP_EINVAL, "%s: names study '%s', not '%s'", path,
                     x->spec->name, x->name);
        goto out;
    }
    if (s->o->max_retries > 0) /* --max-retries: the service's default */
        spec_retries_default(x->spec, s->o->max_retries);
    if (!s->o->allow_commands && studyreq_runs_commands(x->spec)) {
        rc = err_set(err, SWEEP_EINVAL,
                     "study %s runs commands, and this service runs models only "
                     "(sweep serve --allow-commands)",
                     x->name);
        goto out;
    }
    if ((rc = speccheck_create(x->spec, SPECCHECK_LINES, &x->models, err)) != SWEEP_OK)
        goto out;
    if ((rc = runner_lock_as(s->o->home, x->name, "sweep serve", &x->lock, err))) {
        /* Held by another process: refused, its accepted spec kept. */
        *held = rc == SWEEP_EBUSY;
        goto out;
    }
    if (x->job == JOB_PREPARE) {
        rc = runner_prepare(st, x->spec, speccheck_task, x->models, &x->id,
                            &x->generation, &ntasks, err);
        /* Stored, waiting for the engine: QUEUED, as `sweep mcp`'s studies are. */
        if (rc == SWEEP_OK)
            rc = store_study_set_status(st, x->id, STUDY_QUEUED, err);
        x->rerun = STORE_RERUN_FAILED;
        goto out;
    }
    /* A retry: the failed tasks run again, every other task stays; its spec is kept
     * as accepted so that a restart resumes it. */
    rc = store_begin(st, err);
    if (!rc)
        rc = store_requeue_failed(st, stored.id, NULL, err);
    if (!rc)
        rc = store_commit(st, err);
    if (rc) {
        store_rollback(st);
        goto out;
    }
    x->id = stored.id;
    x->generation = stored.generation;
    x->rerun = STORE_RERUN_NONE;
    rc = fileio_write_atomic(path, spec_text, strlen(spec_text), "accepted spec", err);
out:
    store_study_fini(&stored);
    free(spec_text);
    free(path);
    return rc;
}

static void *prepare_main(void *arg)
{
    struct service *s = arg;
    struct store *st = NULL;
    struct err err = {0};

    if (store_open(s->o->home, &st, &err))
        fprintf(s->o->out,
                "sweep serve: cannot open the store to prepare studies: %s\n", err.msg);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct svc_study *x = NULL;
        char *text;
        bool held;
        int rc;

        while (!s->stop_prepare) {
            for (x = s->studies; x && x->state != ST_QUEUED; x = x->next)
                ;
            if (x)
                break;
            pthread_cond_wait(&s->jobs, &s->mu);
        }
        if (s->stop_prepare)
            break;
        x->state = ST_PREPARING;
        text = x->text;
        x->text = NULL;
        pthread_mutex_unlock(&s->mu);

        err_clear(&err);
        held = false;
        rc = st ? prepare_one(s, st, x, text ? text : "", &held, &err)
                : err_set(&err, SWEEP_ESTORE, "the store could not be opened");
        pthread_mutex_lock(&s->mu);
        if (rc == SWEEP_OK) {
            x->state = ST_READY;
            free(text);
        } else {
            int signo = runner_prepare_signal();
            /* The lock and what was parsed go; the accepted file stays for a signal
             * (resumed at the next start), and goes for a refusal. */
            speccheck_destroy(x->models);
            spec_destroy(x->spec);
            x->models = NULL;
            x->spec = NULL;
            if (x->lock >= 0)
                close(x->lock);
            x->lock = -1;
            if (x->job == JOB_PREPARE && signo) {
                x->state = ST_QUEUED;
                x->text = text;
                s->prepare_signo = signo;
                s->stop_prepare = true;
            } else if (rc == SWEEP_EBUSY && !held) {
                /* The store stayed busy (another writer's long transaction): the
                 * job waits a second, then is tried again. */
                struct timespec ts;
                fprintf(s->o->out, "sweep serve: study %s: %s; trying again\n", x->name,
                        err.msg);
                fflush(s->o->out);
                x->state = ST_QUEUED;
                x->text = text;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                if (!s->stop_prepare)
                    pthread_cond_timedwait(&s->jobs, &s->mu, &ts);
            } else {
                char *path = accepted_path(s, x->name);
                fprintf(s->o->out, "sweep serve: study %s refused: %s\n", x->name,
                        err.msg);
                fflush(s->o->out);
                x->state = ST_REJECTED;
                x->detail = xstrdup(err.msg);
                if (x->job == JOB_PREPARE && !held) {
                    inbox_refuse(s, x->name, err.msg);
                    drop_accepted(s, x->name);
                }
                free(path);
                free(text);
            }
        }
        wake(s);
    }
    pthread_mutex_unlock(&s->mu);
    store_close(st);
    return NULL;
}

/* ---- the main thread ---- */

static json_t *error_body(const char *error, const char *detail)
{
    json_t *d = json_string(detail);

    return json_pack("{s:s, s:o}", "error", error, "detail", d ? d : json_string(""));
}

static void reply(struct svc_reply *r, int status, json_t *body)
{
    r->status = status;
    r->body = body;
}

/* The status code of a store error. */
static int store_status(int code)
{
    return code == SWEEP_ENOTFOUND ? 404
           : code == SWEEP_EINVAL  ? 400
           : code == SWEEP_EBUSY   ? 503
                                   : 500;
}

static void cmd_submit(struct service *s, struct svc_cmd *c)
{
    struct svc_study *x;
    bool busy;
    char *path;
    struct err err = {0};

    pthread_mutex_lock(&s->mu);
    x = find_study(s, c->name);
    busy = x && x->state != ST_REJECTED && x->state != ST_CANCELLED;
    pthread_mutex_unlock(&s->mu);
    if (busy) {
        reply(c->reply, 409,
              error_body("conflict", "the service is already running this study"));
        return;
    }
    if (runner_is_active(s->o->home, c->name)) {
        reply(c->reply, 409,
              error_body("conflict", "another sweep process is running this study"));
        return;
    }
    path = accepted_path(s, c->name);
    if (fileio_write_atomic(path, c->text, strlen(c->text), "accepted spec", &err)) {
        reply(c->reply, 500, error_body("io", err.msg));
        free(path);
        return;
    }
    free(path);
    pthread_mutex_lock(&s->mu);
    queue_job(s, c->name, JOB_PREPARE, xstrdup(c->text));
    pthread_mutex_unlock(&s->mu);
    reply(c->reply, 202,
          json_pack("{s:s, s:s}", "study_id", c->name, "status", "QUEUED"));
}

static void cmd_cancel(struct service *s, struct svc_cmd *c)
{
    struct svc_study *x;
    struct store_study st = {0};
    struct err err = {0};
    enum svc_state state = ST_REJECTED;
    long long n = 0;
    int rc;

    pthread_mutex_lock(&s->mu);
    x = find_study(s, c->name);
    if (x) {
        state = x->state;
        if (state == ST_QUEUED) {
            /* Not stored yet: forgotten, with its accepted spec. */
            drop_accepted(s, c->name);
            x->state = ST_CANCELLED;
            free(x->detail);
            x->detail = xstrdup("cancelled before it was stored");
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (state == ST_QUEUED) {
        reply(c->reply, 200,
              json_pack("{s:s, s:s, s:I}", "study_id", c->name, "status", "CANCELLED",
                        "tasks_cancelled", (json_int_t)0));
        return;
    }
    if (state == ST_PREPARING || state == ST_READY) {
        reply(c->reply, 409,
              error_body("conflict",
                         "the study is being stored; cancel it once it runs"));
        return;
    }
    rc = store_study_get(s->st, c->name, &st, &err);
    if (!rc)
        rc = store_study_cancel(s->st, st.id, &n, &err);
    if (rc)
        reply(c->reply, store_status(rc),
              error_body(rc == SWEEP_ENOTFOUND ? "not_found" : "store", err.msg));
    else
        reply(c->reply, 200,
              json_pack("{s:s, s:s, s:I}", "study_id", c->name, "status", "CANCELLED",
                        "tasks_cancelled", (json_int_t)n));
    store_study_fini(&st);
}

static void cmd_retry(struct service *s, struct svc_cmd *c)
{
    struct svc_study *x;
    bool busy;
    struct store_study st = {0};
    long long counts[3][TASK_NSTATES], failed = 0;
    struct err err = {0};
    int rc;

    pthread_mutex_lock(&s->mu);
    x = find_study(s, c->name);
    busy = x && x->state != ST_REJECTED && x->state != ST_CANCELLED;
    pthread_mutex_unlock(&s->mu);
    if (busy) {
        reply(c->reply, 409,
              error_body("conflict", "the service is running this study; retry it "
                                     "once it has ended"));
        return;
    }
    rc = store_study_get(s->st, c->name, &st, &err);
    if (!rc)
        rc = store_study_counts(s->st, st.id, counts, &err);
    if (rc) {
        reply(c->reply, store_status(rc),
              error_body(rc == SWEEP_ENOTFOUND ? "not_found" : "store", err.msg));
        goto out;
    }
    if (runner_is_active(s->o->home, c->name)) {
        reply(c->reply, 409,
              error_body("conflict", "another sweep process is running this study"));
        goto out;
    }
    for (int b = 0; b < 3; b++)
        failed += counts[b][TASK_FAILED] + counts[b][TASK_TIMED_OUT];
    if (failed == 0) {
        reply(c->reply, 200,
              json_pack("{s:s, s:s, s:I}", "study_id", c->name, "status",
                        study_status_name(st.status), "tasks_to_retry", (json_int_t)0));
        goto out;
    }
    pthread_mutex_lock(&s->mu);
    queue_job(s, c->name, JOB_RETRY, NULL);
    pthread_mutex_unlock(&s->mu);
    reply(c->reply, 202,
          json_pack("{s:s, s:s, s:I}", "study_id", c->name, "status", "QUEUED",
                    "tasks_to_retry", (json_int_t)failed));
out:
    store_study_fini(&st);
}

static void cmd_task_cancel(struct service *s, struct svc_cmd *c)
{
    struct store_task t = {0};
    char *study = NULL;
    struct err err = {0};
    long long n = 0;
    int rc = store_task_resolve(s->st, 0, c->name, &t, &study, &err);

    if (!rc)
        rc = store_cancel(s->st, t.study_id, t.id, &n, &err);
    if (!rc) {
        json_t *task;
        store_task_fini(&t);
        free(study);
        study = NULL;
        rc = store_task_resolve(s->st, 0, c->name, &t, &study, &err);
        task = rc ? json_null() : view_task_json(&t, study);
        reply(c->reply, 200, json_pack("{s:b, s:o}", "cancelled", n > 0, "task", task));
        rc = SWEEP_OK;
    }
    if (rc)
        reply(c->reply, store_status(rc),
              error_body(rc == SWEEP_ENOTFOUND ? "not_found"
                         : rc == SWEEP_EINVAL  ? "ambiguous"
                                               : "store",
                         err.msg));
    store_task_fini(&t);
    free(study);
}

/* Answers every queued command (503 when draining). The commands run without the
 * mutex (a store write may wait for the preparing thread's transaction); each takes
 * it for the list of studies. */
static void run_commands(struct service *s)
{
    struct svc_cmd *list, *c;
    bool draining;

    pthread_mutex_lock(&s->mu);
    list = s->cmds;
    s->cmds = NULL;
    s->cmds_tail = &s->cmds;
    draining = s->draining;
    pthread_mutex_unlock(&s->mu);
    for (c = list; c; c = c->next) {
        if (draining)
            reply(c->reply, 503,
                  error_body("stopping",
                             "the service is stopping and takes no new work"));
        else if (c->kind == SVC_SUBMIT)
            cmd_submit(s, c);
        else if (c->kind == SVC_CANCEL)
            cmd_cancel(s, c);
        else if (c->kind == SVC_RETRY)
            cmd_retry(s, c);
        else
            cmd_task_cancel(s, c);
    }
    pthread_mutex_lock(&s->mu);
    while (list) {
        c = list;
        list = c->next; /* c lives on its caller's stack: read it before done */
        c->done = true;
    }
    pthread_cond_broadcast(&s->answered);
    pthread_mutex_unlock(&s->mu);
}

/* Makes the runners of the studies the preparing thread has stored. */
static void adopt_ready(struct service *s)
{
    struct svc_study *ready[64];
    size_t n = 0;

    pthread_mutex_lock(&s->mu);
    for (struct svc_study *x = s->studies; x && n < 64; x = x->next) {
        if (x->state == ST_READY)
            ready[n++] = x;
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        struct svc_study *x = ready[i];
        struct runner_opts ro = {
            .self_path = s->o->self_path,
            .max_parallel =
                x->spec->max_parallel > 0 ? x->spec->max_parallel : s->o->max_parallel,
            .rerun = x->rerun,
            .executor = s->ex,
            .on_event = on_runner_event,
            .on_event_arg = s,
        };
        struct err err = {0};

        if (runner_create(s->st, x->spec, x->id, x->generation, &ro, &x->runner,
                          &err)) {
            fprintf(s->o->out, "sweep serve: study %s cannot run: %s\n", x->name,
                    err.msg);
            pthread_mutex_lock(&s->mu);
            x->state = ST_REJECTED;
            free(x->detail);
            x->detail = xstrdup(err.msg);
            pthread_mutex_unlock(&s->mu);
            if (x->lock >= 0)
                close(x->lock);
            x->lock = -1;
            continue;
        }
        engine_add(s->e, x->runner);
        pthread_mutex_lock(&s->mu);
        x->state = ST_RUNNING;
        pthread_mutex_unlock(&s->mu);
        fprintf(s->o->out, "sweep serve: study %s started\n", x->name);
    }
    fflush(s->o->out);
}

/* Takes the runners that are done out of the engine; a study that ended (not
 * interrupted) leaves the accepted specs. */
static void reap_done(struct service *s)
{
    struct svc_study *x = s->studies, *next;

    for (; x; x = next) {
        const struct runner_summary *sum;
        struct err err = {0};
        bool running;

        next = x->next; /* only this thread adds and removes entries */
        pthread_mutex_lock(&s->mu);
        running = x->state == ST_RUNNING;
        pthread_mutex_unlock(&s->mu);
        if (!running || !runner_done(x->runner))
            continue;
        engine_remove(s->e, x->runner);
        sum = runner_summary_get(x->runner);
        if (runner_result(x->runner, &err))
            fprintf(s->o->out, "sweep serve: study %s ended: %s\n", x->name, err.msg);
        else
            fprintf(s->o->out, "sweep serve: study %s ended: %s\n", x->name,
                    study_status_name(sum->status));
        s->tasks_run += sum->attempts;
        if (sum->end != RUNNER_INTERRUPTED) {
            char *marker = marker_path(s, x->name), *processed = NULL;
            size_t len;
            if (fileio_read_user(marker, 4096, &processed, &len, &err) == SWEEP_OK)
                inbox_write_results(s->results_dir, s->st, x->name, processed,
                                    time_now() - s->started_at, s->tasks_run,
                                    s->o->out);
            free(processed);
            free(marker);
            drop_accepted(s, x->name);
        }
        study_drop(s, x);
    }
    fflush(s->o->out);
}

/* inbox_submit_fn: the study of an inbox file accepted as cmd_submit accepts one,
 * with its inbox marker. The same file again while its study runs is taken as
 * nothing new (its tasks are there); a different file for that study is refused. */
static int inbox_submit(void *arg,
                        const struct spec *spec,
                        const char *spec_text,
                        const char *processed,
                        struct err *err)
{
    struct service *s = arg;
    struct svc_study *x;
    bool busy;
    char *text = xstrdup(spec_text), *path = NULL, *old = NULL;
    size_t len;
    int rc = SWEEP_OK;

    pthread_mutex_lock(&s->mu);
    x = find_study(s, spec->name);
    busy = x && x->state != ST_REJECTED && x->state != ST_CANCELLED;
    pthread_mutex_unlock(&s->mu);
    path = accepted_path(s, spec->name);
    if (!s->o->allow_commands && studyreq_runs_commands(spec)) {
        rc = err_set(err, SWEEP_EINVAL,
                     "study %s runs commands, and this service runs models only "
                     "(sweep serve --allow-commands)",
                     spec->name);
    } else if (busy) {
        if (fileio_read_user(path, 64 << 20, &old, &len, err) == SWEEP_OK &&
            strcmp(old, text) == 0) {
            fprintf(s->o->out,
                    "sweep serve: inbox: %s: study %s is running; its tasks are not "
                    "added again\n",
                    processed, spec->name);
            err_clear(err);
        } else {
            rc = err_set(err, SWEEP_EBUSY,
                         "study %s is running with other tasks; drop this file again "
                         "once it has ended",
                         spec->name);
        }
    } else if (runner_is_active(s->o->home, spec->name)) {
        rc = err_set(err, SWEEP_EBUSY, "another sweep process is running study %s",
                     spec->name);
    } else {
        char *marker = marker_path(s, spec->name);
        rc = fileio_write_atomic(path, text, strlen(text), "accepted spec", err);
        if (!rc)
            rc = fileio_write_atomic(marker, processed, strlen(processed),
                                     "inbox marker", err);
        free(marker);
        if (!rc) {
            pthread_mutex_lock(&s->mu);
            queue_job(s, spec->name, JOB_PREPARE, text);
            text = NULL;
            pthread_mutex_unlock(&s->mu);
        }
    }
    free(old);
    free(path);
    free(text);
    return rc;
}

/* Every accepted spec of an earlier run, queued again (its study resumes). */
static int load_accepted(struct service *s, struct err *err)
{
    DIR *d = opendir(s->accepted_dir);
    struct dirent *de;

    if (!d)
        return err_set(err, SWEEP_EIO, "cannot open %s: %s", s->accepted_dir,
                       strerror(errno));
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char *path, *text = NULL, *name;
        size_t len;

        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 || de->d_name[0] == '.')
            continue;
        path = xasprintf("%s/%s", s->accepted_dir, de->d_name);
        if (fileio_read_user(path, 64 << 20, &text, &len, err)) {
            fprintf(s->o->out, "sweep serve: %s\n", err->msg);
            err_clear(err);
            free(path);
            continue;
        }
        name = xstrndup(de->d_name, n - 5);
        pthread_mutex_lock(&s->mu);
        queue_job(s, name, JOB_PREPARE, text);
        pthread_mutex_unlock(&s->mu);
        fprintf(s->o->out, "sweep serve: study %s resumes\n", name);
        free(name);
        free(path);
    }
    closedir(d);
    return SWEEP_OK;
}

/* The signal came: no new work; running tasks are terminated and recorded
 * interrupted by their runners; studies not yet running stay accepted. */
static void start_draining(struct service *s, int signo)
{
    struct svc_study *x, *next;

    fprintf(s->o->out, "sweep serve: signal %d: stopping\n", signo);
    fflush(s->o->out);
    pthread_mutex_lock(&s->mu);
    s->draining = true;
    s->stop_prepare = true;
    pthread_cond_broadcast(&s->jobs);
    pthread_mutex_unlock(&s->mu);
    engine_interrupt(s->e, signo);
    for (x = s->studies; x; x = next) {
        bool ready;

        next = x->next;
        pthread_mutex_lock(&s->mu);
        ready = x->state == ST_READY;
        pthread_mutex_unlock(&s->mu);
        if (ready)
            study_drop(s, x);
    }
}

/* Whether the preparing thread is inside a job. */
static bool preparing(struct service *s)
{
    bool busy = false;

    pthread_mutex_lock(&s->mu);
    for (struct svc_study *x = s->studies; x; x = x->next)
        busy = busy || x->state == ST_PREPARING;
    pthread_mutex_unlock(&s->mu);
    return busy;
}

static int loop(struct service *s, struct err *err)
{
    for (;;) {
        struct pollfd pfd[4];
        int npfd = 0, signo = 0, timeout, inbox_at = -1;
        double wait = 1.0;
        uint64_t v;
        bool draining;

        if (engine_count(s->e) > 0 && engine_tick(s->e, err)) {
            /* A store error ends the runners on it (engine_tick); the service goes
             * on. */
            fprintf(s->o->out, "sweep serve: %s\n", err->msg);
            err_clear(err);
        }
        reap_done(s);
        events_tick(s->events, time_mono()); /* heartbeats due */
        pthread_mutex_lock(&s->mu);
        draining = s->draining;
        signo = s->prepare_signo;
        s->prepare_signo = 0;
        pthread_mutex_unlock(&s->mu);
        if (signo && !draining) {
            start_draining(s, signo);
            continue;
        }
        if (!draining)
            adopt_ready(s);
        if (draining && engine_count(s->e) == 0 && !preparing(s))
            return SWEEP_OK;
        if (engine_count(s->e) > 0) {
            wait = engine_next_wakeup(s->e) - time_mono();
            wait = wait > 1.0 ? 1.0 : wait < 0 ? 0 : wait;
        }
        timeout = (int)ceil(wait * 1000.0);
        pfd[npfd++] = (struct pollfd){.fd = s->wake, .events = POLLIN};
        if (executor_fd(s->ex) >= 0)
            pfd[npfd++] = (struct pollfd){.fd = executor_fd(s->ex), .events = POLLIN};
        if (sigwatch_fd() >= 0)
            pfd[npfd++] = (struct pollfd){.fd = sigwatch_fd(), .events = POLLIN};
        if (s->inbox && !draining) { /* while stopping, files stay for the next start */
            inbox_at = npfd;
            pfd[npfd++] = (struct pollfd){.fd = inbox_fd(s->inbox), .events = POLLIN};
        }
        if (poll(pfd, (nfds_t)npfd, timeout) < 0 && errno != EINTR)
            return err_set(err, SWEEP_EIO, "poll: %s", strerror(errno));
        if (read(s->wake, &v, sizeof(v)) < 0 && errno != EAGAIN)
            return err_set(err, SWEEP_EIO, "eventfd: %s", strerror(errno));
        signo = 0;
        if (engine_dispatch(s->e, 0, &signo, err) < 0) {
            fprintf(s->o->out, "sweep serve: %s\n", err->msg);
            err_clear(err);
        }
        if (signo && !draining)
            start_draining(s, signo);
        run_commands(s);
        if (inbox_at >= 0 && pfd[inbox_at].revents && !service_draining(s))
            inbox_dispatch(s->inbox); /* files the inbox thread has parsed */
    }
}

int server_opts_check(const struct server_opts *o, struct err *err)
{
    char host[64];
    int port;
    int rc = config_parse_bind(o->bind, host, sizeof(host), &port, err);

    if (rc) {
        err_prefix(err, "bind");
        return rc;
    }
    if (strncmp(host, "127.", 4) != 0 && (!o->token || !*o->token))
        return err_set(err, SWEEP_EINVAL,
                       "bind %s is not a loopback address: give a token (--token-file "
                       "or SWEEP_TOKEN_FILE) so that only its holders change state",
                       o->bind);
    return SWEEP_OK;
}

/* One service per home: <home>/serve/serve.lock, held (flock) while it runs, holds
 * its pid. SWEEP_EBUSY names the other one. */
static int lock_home(const char *home, int *fd, struct err *err)
{
    char *path = xasprintf("%s/serve/serve.lock", home), pid[32] = "";
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), rc = SWEEP_OK;
    ssize_t n;

    if (f < 0) {
        rc = err_set(err, SWEEP_EIO, "cannot open %s: %s", path, strerror(errno));
    } else if (flock(f, LOCK_EX | LOCK_NB) < 0) {
        n = read(f, pid, sizeof(pid) - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        rc = err_set(err, SWEEP_EBUSY, "another sweep serve (pid %s) runs on home %s",
                     *pid ? pid : "?", home);
        close(f);
        f = -1;
    } else {
        snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
        if (ftruncate(f, 0) == 0 && pwrite(f, pid, strlen(pid), 0) < 0)
            rc = SWEEP_OK; /* the pid is only for the message */
    }
    free(path);
    *fd = f;
    return rc;
}

int server_run(const struct server_opts *o, struct err *err)
{
    struct service s = {.o = o, .wake = -1, .started_at = time_now()};
    struct http *http = NULL;
    pthread_t prep;
    bool prep_started = false, watching = false;
    int rc, home_lock = -1;

    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.answered, NULL);
    pthread_cond_init(&s.jobs, NULL);
    s.cmds_tail = &s.cmds;
    s.accepted_dir = xasprintf("%s/serve/accepted", o->home);
    s.results_dir = o->results ? xstrdup(o->results) : xasprintf("%s/results", o->home);
    s.events = events_create(o->history > 0 ? (size_t)o->history : SERVICE_EVENTS,
                             SERVICE_EVENT_CLIENTS, EVENTS_HEARTBEAT);
    s.stats = stats_create(o->max_parallel, s.started_at);
    if ((rc = server_opts_check(o, err)) || (rc = fileio_mkdirs(s.accepted_dir, err)) ||
        (rc = lock_home(o->home, &home_lock, err)) ||
        (rc = store_open(o->home, &s.st, err)) ||
        (rc = executor_local_create(&s.ex, err)))
        goto out;
    s.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s.wake < 0) {
        rc = err_set(err, SWEEP_EIO, "eventfd: %s", strerror(errno));
        goto out;
    }
    s.e = engine_create(s.st, s.ex, NULL, o->max_parallel);
    if ((rc = sigwatch_open(err)))
        goto out;
    watching = true;
    if ((rc = load_accepted(&s, err)))
        goto out;
    if (o->inbox) {
        if ((rc = inbox_open(o->inbox, inbox_submit, &s, o->out, &s.inbox, err)))
            goto out;
    }
    if (pthread_create(&prep, NULL, prepare_main, &s) != 0) {
        rc = err_set(err, SWEEP_EINTERNAL, "cannot start the preparing thread");
        goto out;
    }
    prep_started = true;
    if ((rc = http_start(&s, &http, err)))
        goto out;
    rc = loop(&s, err);
out:
    /* No command waits any more, then the HTTP threads stop, then the preparing one. */
    pthread_mutex_lock(&s.mu);
    s.draining = true;
    s.stop_prepare = true;
    pthread_cond_broadcast(&s.jobs);
    pthread_mutex_unlock(&s.mu);
    run_commands(&s);
    events_close(s.events); /* no stream stays suspended */
    http_stop(http);
    if (prep_started)
        pthread_join(prep, NULL);
    if (watching)
        sigwatch_close();
    while (s.studies)
        study_drop(&s, s.studies);
    inbox_destroy(s.inbox);
    engine_destroy(s.e);
    executor_destroy(s.ex);
    store_close(s.st);
    if (s.wake >= 0)
        close(s.wake);
    if (home_lock >= 0)
        close(home_lock);
    free(s.accepted_dir);
    free(s.results_dir);
    events_destroy(s.events);
    stats_destroy(s.stats);
    pthread_cond_destroy(&s.jobs);
    pthread_cond_destroy(&s.answered);
    pthread_mutex_destroy(&s.mu);
    if (!rc)
        fprintf(o->out, "sweep serve: stopped\n");
    fflush(o->out);
    return rc;
}
