/* In-memory performance figures of the service (see stats.h). */
#include "server/stats.h"

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/runner.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A bounded window of samples (the last STATS_SAMPLES). */
struct samples {
    double *v;
    size_t n, next;
    double sum; /* of the ones held */
};

struct running {
    long long task_id;
    double started;
};

struct study_start {
    char *name;
    double at;
};

struct stats {
    pthread_mutex_t mu;
    int slots;
    double started;
    long long ended;
    double busy;          /* slot-seconds of the attempts that ended */
    long long minute[60]; /* tasks ended in second t, at [t % 60] */
    long long minute_sec[60];
    struct running *run;
    size_t nrun, run_cap;
    struct study_start *studies;
    size_t nstudies, studies_cap;
    struct samples wait, dur;
};

struct stats *stats_create(int slots, double now)
{
    struct stats *s = xcalloc(1, sizeof(*s));

    pthread_mutex_init(&s->mu, NULL);
    s->slots = slots;
    s->started = now;
    s->wait.v = xcalloc(STATS_SAMPLES, sizeof(double));
    s->dur.v = xcalloc(STATS_SAMPLES, sizeof(double));
    return s;
}

void stats_destroy(struct stats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nstudies; i++)
        free(s->studies[i].name);
    free(s->studies);
    free(s->run);
    free(s->wait.v);
    free(s->dur.v);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void sample_add(struct samples *m, double v)
{
    if (v < 0)
        v = 0;
    if (m->n == STATS_SAMPLES)
        m->sum -= m->v[m->next];
    else
        m->n++;
    m->v[m->next] = v;
    m->next = (m->next + 1) % STATS_SAMPLES;
    m->sum += v;
}

static double *study_start(struct stats *s, const char *name)
{
    for (size_t i = 0; i < s->nstudies; i++) {
        if (strcmp(s->studies[i].name, name) == 0)
            return &s->studies[i].at;
    }
    return NULL;
}

static void on_task(struct stats *s, const struct runner_event *ev)
{
    if (ev->from == TASK_PENDING && ev->to == TASK_RUNNING) {
        double *at = ev->study ? study_start(s, ev->study) : NULL;
        s->run = xgrow(s->run, &s->run_cap, s->nrun + 1, sizeof(*s->run));
        s->run[s->nrun++] = (struct running){ev->task_id, ev->time};
        if (ev->attempt == 1 && at)
            sample_add(&s->wait, ev->time - *at);
        return;
    }
    if (ev->from != TASK_RUNNING)
        return;
    for (size_t i = 0; i < s->nrun; i++) {
        double d;
        if (s->run[i].task_id != ev->task_id)
            continue;
        d = ev->outcome && ev->outcome->wall > 0 ? ev->outcome->wall
                                                 : ev->time - s->run[i].started;
        s->busy += d > 0 ? d : 0;
        sample_add(&s->dur, d);
        s->run[i] = s->run[--s->nrun];
        break;
    }
    if (task_state_is_final(ev->to)) {
        long long sec = (long long)ev->time;
        int b = (int)(sec % 60);
        if (s->minute_sec[b] != sec) {
            s->minute_sec[b] = sec;
            s->minute[b] = 0;
        }
        s->minute[b]++;
        s->ended++;
    }
}

void stats_on_runner(void *arg, const struct runner_event *ev)
{
    struct stats *s = arg;

    pthread_mutex_lock(&s->mu);
    if (ev->kind == RUNNER_EVENT_TASK) {
        on_task(s, ev);
    } else if (ev->kind == RUNNER_EVENT_START && ev->study) {
        double *at = study_start(s, ev->study);
        if (at) {
            *at = ev->time;
        } else {
            s->studies = xgrow(s->studies, &s->studies_cap, s->nstudies + 1,
                               sizeof(*s->studies));
            s->studies[s->nstudies++] =
                (struct study_start){xstrdup(ev->study), ev->time};
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static json_t *samples_json(const struct samples *m)
{
    double *c, median;

    if (m->n == 0)
        return json_pack("{s:n, s:n, s:i}", "mean", "median", "samples", 0);
    c = xmalloc(m->n * sizeof(double));
    memcpy(c, m->v, m->n * sizeof(double));
    qsort(c, m->n, sizeof(double), cmp_double);
    median = m->n % 2 ? c[m->n / 2] : (c[m->n / 2 - 1] + c[m->n / 2]) / 2;
    free(c);
    return json_pack("{s:f, s:f, s:I}", "mean", m->sum / (double)m->n, "median", median,
                     "samples", (json_int_t)m->n);
}

json_t *stats_performance_json(struct stats *s, double now)
{
    double up, busy, last_minute, window;
    long long recent = 0, sec = (long long)now;
    json_t *j;

    pthread_mutex_lock(&s->mu);
    up = now - s->started > 0 ? now - s->started : 0;
    busy = s->busy;
    for (size_t i = 0; i < s->nrun; i++)
        busy += now > s->run[i].started ? now - s->run[i].started : 0;
    for (int b = 0; b < 60; b++) {
        if (s->minute_sec[b] > sec - 60 && s->minute_sec[b] <= sec)
            recent += s->minute[b];
    }
    window = up < 60 ? up : 60;
    last_minute = window > 0 ? (double)recent / window : 0;
    j = json_pack("{s:f, s:i, s:I, s:I, s:{s:f, s:f}, s:o, s:o, s:f}", "uptime", up,
                  "slots", s->slots, "running", (json_int_t)s->nrun, "tasks_ended",
                  (json_int_t)s->ended, "throughput", "last_minute", last_minute,
                  "since_start", up > 0 ? (double)s->ended / up : 0.0, "latency",
                  samples_json(&s->wait), "duration", samples_json(&s->dur),
                  "utilisation", up > 0 && s->slots > 0 ? busy / (up * s->slots) : 0.0);
    pthread_mutex_unlock(&s->mu);
    return j;
}

json_t *stats_worker_json(struct stats *s, double now)
{
    char host[256] = "localhost", ts[40];
    long long running;

    if (gethostname(host, sizeof(host)) != 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = '\0';
    time_iso8601(now, ts, sizeof(ts));
    pthread_mutex_lock(&s->mu);
    running = (long long)s->nrun;
    pthread_mutex_unlock(&s->mu);
    return json_pack("{s:s, s:s, s:i, s:I, s:s, s:s}", "id", "local", "host", host,
                     "slots", s->slots, "running", (json_int_t)running, "status", "ok",
                     "last_heartbeat", ts);
}
