/* The owners of a run's attempts (see runner.h): who this process is (host, pid and
 * start time), whether the owner of an attempt is alive, ending what a run that died
 * left running (runner_end_orphans: its tasks' process groups, and the processes found
 * by the environment they inherited), and the leases of attempts whose owner is on
 * another host (runner_leases_tick). */
#include "runner.h"

#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/studylog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
