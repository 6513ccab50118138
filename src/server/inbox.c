/* The task inbox (see inbox.h): the inbox thread turns inotify events (and the scans)
 * into complete files, each read under a read lease, parsed and checked; the main
 * thread hands each one to the service and moves it to processed/ or rejected/. */
#include "server/inbox.h"

#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/store.h"
#include "core/view.h"
#include "models/speccheck.h"
#include "server/service.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INBOX_MAX_FILE (64 << 20) /* a larger file is refused */
#define INBOX_RETRY 0.5 /* seconds between two tries of a file being written */

/* A file read, parsed and checked by the inbox thread, waiting for the main thread. */
struct inbox_file {
    char *name;
    struct spec *spec;
    char *text;     /* the spec as compact JSON */
    struct stat sb; /* the file as read: handed over only while it is still this one */
    struct inbox_file *next;
};

struct inbox {
    char *dir;
    inbox_submit_fn *submit;
    void *arg;
    FILE *log;
    int ready; /* eventfd: files wait in `files` (the main thread polls it) */
    int stop;  /* eventfd: the inbox thread ends */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards files */
    struct inbox_file *files, **tail;
    /* The inbox thread's. */
    int fd; /* inotify */
    char *
        *deferred; /* names of files open for writing, tried again every INBOX_RETRY */
    size_t ndeferred, cap;
};

bool inbox_ignored(const char *name)
{
    size_t n = strlen(name);

    return n == 0 || name[0] == '.' || (n >= 4 && strcmp(name + n - 4, ".tmp") == 0) ||
           strcmp(name, "processed") == 0 || strcmp(name, "rejected") == 0;
}

void inbox_processed_name(const char *name, double when, char *buf, size_t n)
{
    time_t t = (time_t)when;
    struct tm tm;
    char stamp[32];

    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm);
    snprintf(buf, n, "%s_%s", stamp, name);
}

/* Moves the file at path to dir/rejected/<name> and writes rejected/<name>.error. */
static void
reject(const char *dir, const char *path, const char *name, const char *why, FILE *log)
{
    char *to = xasprintf("%s/rejected/%s", dir, name);
    char *errpath = xasprintf("%s.error", to), *text = xasprintf("%s\n", why);
    struct err err = {0};

    fprintf(log, "sweep serve: inbox: %s rejected: %s\n", name, why);
    if (rename(path, to) < 0)
        fprintf(log, "sweep serve: inbox: cannot move %s to %s: %s\n", path, to,
                strerror(errno));
    if (fileio_write_atomic(errpath, text, strlen(text), "inbox error", &err))
        fprintf(log, "sweep serve: inbox: %s\n", err.msg);
    fflush(log);
    free(text);
    free(errpath);
    free(to);
}

/* The name a processed file had in the inbox: without "YYYYMMDD_HHMMSS_". */
static const char *original_name(const char *processed)
{
    return strlen(processed) > 16 ? processed + 16 : processed;
}

void inbox_refused(const char *dir, const char *processed, const char *why, FILE *log)
{
    char *path = xasprintf("%s/processed/%s", dir, processed);
    char *msg = xasprintf("%s/%s: %s", dir, original_name(processed), why);

    reject(dir, path, original_name(processed), msg, log);
    free(msg);
    free(path);
}

/* ---- the inbox thread ---- */

/* Reads the regular file at path whole (at most INBOX_MAX_FILE bytes) into *text (NUL
 * terminated) and its status into *sb, under a read lease: F_SETLEASE F_RDLCK fails
 * with EAGAIN while any process has the file open for writing, which is then
 * SWEEP_EBUSY; held while reading, the lease also keeps a new writer's open() waiting
 * until the file has been read (the kernel tells this process with SIGURG, whose
 * default action is to ignore it, rather than SIGIO, which would end it). Where no
 * lease can be taken (EACCES: a file of another user without CAP_LEASE; EINVAL: a file
 * system without leases) the file is read as it is: close-after-write and rename (see
 * inbox.h) are then the only signs that it is complete. SWEEP_ENOTFOUND: gone. */
static int read_leased(
    const char *path, char **text, size_t *len, struct stat *sb, struct err *err)
{
    struct strbuf sb_text = STRBUF_INIT;
    char buf[65536];
    int fd, rc = SWEEP_OK;
    ssize_t n;

    *text = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? SWEEP_ENOTFOUND
                               : err_set(err, SWEEP_EIO, "%s: cannot open: %s", path,
                                         strerror(errno));
    if (fcntl(fd, F_SETSIG, SIGURG) == 0 && fcntl(fd, F_SETLEASE, F_RDLCK) < 0 &&
        errno == EAGAIN) {
        rc = SWEEP_EBUSY;
        goto out;
    }
    if (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode)) {
        rc = err_set(err, SWEEP_EINVAL, "%s: not a regular file", path);
        goto out;
    }
    while ((n = read(fd, buf, sizeof(buf))) != 0 && sb_text.len <= INBOX_MAX_FILE) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        sb_add(&sb_text, buf, (size_t)n);
    }
    if (n < 0)
        rc = err_set(err, SWEEP_EIO, "%s: cannot read: %s", path, strerror(errno));
    else if (sb_text.len > INBOX_MAX_FILE)
        rc = err_set(err, SWEEP_EINVAL, "%s: larger than %d MiB", path,
                     INBOX_MAX_FILE >> 20);
out:
    close(fd); /* and the lease with it */
    *len = sb_text.len;
    if (!rc)
        *text = sb_take(&sb_text);
    sb_fini(&sb_text);
    return rc;
}

/* Whether two statuses are of the same file with the same content, as far as its
 * size and modification time tell. */
static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Adds name to the files tried again (true when it was not there yet) or takes it
 * out (add false). */
static bool deferred_set(struct inbox *ib, const char *name, bool add)
{
    for (size_t i = 0; i < ib->ndeferred; i++) {
        if (strcmp(ib->deferred[i], name) == 0) {
            if (!add) {
                free(ib->deferred[i]);
                ib->deferred[i] = ib->deferred[--ib->ndeferred];
            }
            return false;
        }
    }
    if (!add)
        return false;
    if (ib->ndeferred == ib->cap) {
        ib->cap = ib->cap ? 2 * ib->cap : 8;
        ib->deferred = xrealloc(ib->deferred, ib->cap * sizeof(*ib->deferred));
    }
    ib->deferred[ib->ndeferred++] = xstrdup(name);
    return true;
}

/* Whether a file read earlier, the same as sb, still waits for the main thread (a
 * scan and an event may both name a file). */
static bool waiting(struct inbox *ib, const char *name, const struct stat *sb)
{
    bool found = false;

    pthread_mutex_lock(&ib->mu);
    for (struct inbox_file *f = ib->files; f && !found; f = f->next)
        found = strcmp(f->name, name) == 0 && same_file(&f->sb, sb);
    pthread_mutex_unlock(&ib->mu);
    return found;
}

/* Takes one file of the inbox: read, parsed and checked, then queued for the main
 * thread (inbox_dispatch()), or rejected; one open for writing is tried again. */
static void take(struct inbox *ib, const char *name)
{
    char *path, *text = NULL;
    struct inbox_file *f;
    struct spec *spec = NULL;
    struct speccheck *models = NULL;
    struct err err = {0};
    struct stat sb;
    size_t len = 0;
    int rc;

    if (inbox_ignored(name) || strlen(name) > 255)
        return;
    path = xasprintf("%s/%s", ib->dir, name);
    /* Gone (taken already: the scan at start and an event may both name it), not a
     * regular file, or read already: left alone. */
    if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || waiting(ib, name, &sb)) {
        deferred_set(ib, name, false);
        goto out;
    }
    rc = read_leased(path, &text, &len, &sb, &err);
    if (rc == SWEEP_EBUSY) {
        if (deferred_set(ib, name, true))
            fprintf(ib->log,
                    "sweep serve: inbox: %s is open for writing; taken once closed\n",
                    name);
        goto out;
    }
    deferred_set(ib, name, false);
    if (rc == SWEEP_ENOTFOUND)
        goto out;
    if (!rc)
        rc = spec_parse(path, text, len, &spec, &err);
    if (!rc)
        rc = speccheck_create(spec, SPECCHECK_LINES, &models, &err);
    if (rc) {
        reject(ib->dir, path, name, err.msg, ib->log);
        goto out;
    }
    f = xcalloc(1, sizeof(*f));
    f->name = xstrdup(name);
    f->spec = spec;
    f->text = json_dumps(spec->json, JSON_COMPACT);
    f->sb = sb;
    spec = NULL;
    pthread_mutex_lock(&ib->mu);
    *ib->tail = f;
    ib->tail = &f->next;
    pthread_mutex_unlock(&ib->mu);
    if (write(ib->ready, &(uint64_t){1}, sizeof(uint64_t)) < 0)
        fprintf(ib->log, "sweep serve: inbox: eventfd: %s\n", strerror(errno));
out:
    fflush(ib->log);
    speccheck_destroy(models);
    spec_destroy(spec);
    free(text);
    free(path);
}

/* Takes every file in the directory. */
static void scan(struct inbox *ib)
{
    DIR *d = opendir(ib->dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (!d) {
        fprintf(ib->log, "sweep serve: inbox: cannot open %s: %s\n", ib->dir,
                strerror(errno));
        return;
    }
    /* Names first: taking a file changes the directory being read. */
    while ((de = readdir(d)) != NULL) {
        if (inbox_ignored(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        take(ib, names[i]);
        free(names[i]);
    }
    free(names);
}

/* Takes the files the pending inotify events name. */
static void read_events(struct inbox *ib)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

    for (;;) {
        ssize_t len = read(ib->fd, buf, sizeof(buf));
        bool overflow = false;

        if (len <= 0)
            return; /* EAGAIN: no more events */
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                overflow = true;
            else if (ev->len > 0 && !(ev->mask & IN_ISDIR))
                take(ib, ev->name);
            p += sizeof(*ev) + ev->len;
        }
        if (overflow) /* events were lost: every file there is taken */
            scan(ib);
    }
}

/* Tries the files open for writing again: a writer's close may come before its
 * write access ends, and a file open at the scan has no event to wait for. */
static void retry_deferred(struct inbox *ib)
{
    size_t n = ib->ndeferred;
    char **names = xcalloc(n ? n : 1, sizeof(*names));

    for (size_t i = 0; i < n; i++)
        names[i] = xstrdup(ib->deferred[i]);
    for (size_t i = 0; i < n; i++) {
        take(ib, names[i]);
        free(names[i]);
    }
    free(names);
}

static void *inbox_main(void *arg)
{
    struct inbox *ib = arg;
    double next_retry = time_mono() + INBOX_RETRY;

    scan(ib);
    for (;;) {
        struct pollfd pfd[2] = {{.fd = ib->stop, .events = POLLIN},
                                {.fd = ib->fd, .events = POLLIN}};
        double wait = next_retry - time_mono();
        int timeout = ib->ndeferred == 0 ? -1 : wait <= 0 ? 0 : (int)(wait * 1000) + 1;

        if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
            fprintf(ib->log, "sweep serve: inbox: poll: %s\n", strerror(errno));
            break;
        }
        if (pfd[0].revents)
            break;
        if (pfd[1].revents)
            read_events(ib);
        if (ib->ndeferred > 0 && time_mono() >= next_retry)
            retry_deferred(ib);
        if (time_mono() >= next_retry)
            next_retry = time_mono() + INBOX_RETRY;
    }
    return NULL;
}

/* ---- the main thread ---- */

int inbox_open(const char *dir,
               inbox_submit_fn *submit,
               void *arg,
               FILE *log,
               struct inbox **out,
               struct err *err)
{
    struct inbox *ib = xcalloc(1, sizeof(*ib));
    char *sub;
    int rc;

    *out = NULL;
    ib->dir = xstrdup(dir);
    ib->fd = ib->ready = ib->stop = -1;
    ib->submit = submit;
    ib->arg = arg;
    ib->log = log;
    ib->tail = &ib->files;
    pthread_mutex_init(&ib->mu, NULL);
    sub = xasprintf("%s/processed", dir);
    rc = fileio_mkdirs(sub, err);
    free(sub);
    sub = xasprintf("%s/rejected", dir);
    if (!rc)
        rc = fileio_mkdirs(sub, err);
    free(sub);
    if (rc) {
        err_prefix(err, "inbox");
        goto fail;
    }
    ib->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ib->fd < 0 ||
        inotify_add_watch(ib->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        rc = err_set(err, SWEEP_EIO, "inbox %s: inotify: %s", dir, strerror(errno));
        goto fail;
    }
    ib->ready = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ib->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ib->ready < 0 || ib->stop < 0) {
        rc = err_set(err, SWEEP_EIO, "inbox: eventfd: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&ib->thread, NULL, inbox_main, ib) != 0) {
        rc = err_set(err, SWEEP_EINTERNAL, "inbox: cannot start its thread");
        goto fail;
    }
    ib->started = true;
    *out = ib;
    return SWEEP_OK;
fail:
    inbox_destroy(ib);
    return rc;
}

static void file_free(struct inbox_file *f)
{
    spec_destroy(f->spec);
    free(f->text);
    free(f->name);
    free(f);
}

void inbox_destroy(struct inbox *ib)
{
    if (!ib)
        return;
    if (ib->started) {
        if (write(ib->stop, &(uint64_t){1}, sizeof(uint64_t)) < 0)
            abort(); /* an eventfd write fails only on overflow */
        pthread_join(ib->thread, NULL);
    }
    while (ib->files) { /* never handed over: still in the inbox, for the next start */
        struct inbox_file *f = ib->files;
        ib->files = f->next;
        file_free(f);
    }
    for (size_t i = 0; i < ib->ndeferred; i++)
        free(ib->deferred[i]);
    free(ib->deferred);
    if (ib->fd >= 0)
        close(ib->fd);
    if (ib->ready >= 0)
        close(ib->ready);
    if (ib->stop >= 0)
        close(ib->stop);
    pthread_mutex_destroy(&ib->mu);
    free(ib->dir);
    free(ib);
}

int inbox_fd(const struct inbox *ib)
{
    return ib->ready;
}

/* Hands one file read by the inbox thread to the service: moved to processed/, then
 * submitted, or rejected. */
static void hand_over(struct inbox *ib, struct inbox_file *f)
{
    char *path = xasprintf("%s/%s", ib->dir, f->name), *to = NULL, dest[512];
    struct err err = {0};
    struct stat sb;

    /* Gone, or written again since it was read (its close brings it back): left. */
    if (lstat(path, &sb) < 0 || !same_file(&sb, &f->sb))
        goto out;
    if (!f->text) {
        reject(ib->dir, path, f->name, "cannot format the spec", ib->log);
        goto out;
    }
    /* Moved before it is submitted: the study may be refused (inbox_refused()) as
     * soon as it is. */
    inbox_processed_name(f->name, (double)time(NULL), dest, sizeof(dest));
    to = xasprintf("%s/processed/%s", ib->dir, dest);
    for (int i = 2; access(to, F_OK) == 0; i++) {
        /* The same name in the same second: NAME_2.EXT, NAME_3.EXT ... */
        const char *dot = strrchr(dest + 16, '.');
        int stem = dot && dot > dest + 16 ? (int)(dot - dest) : (int)strlen(dest);
        free(to);
        to = xasprintf("%s/processed/%.*s_%d%s", ib->dir, stem, dest, i, dest + stem);
    }
    snprintf(dest, sizeof(dest), "%s", strrchr(to, '/') + 1);
    if (rename(path, to) < 0) {
        fprintf(ib->log, "sweep serve: inbox: cannot move %s to %s: %s\n", path, to,
                strerror(errno));
        goto out; /* left where it is, untaken */
    }
    if (ib->submit(ib->arg, f->spec, f->text, dest, &err))
        reject(ib->dir, to, f->name, err.msg, ib->log);
    else
        fprintf(ib->log, "sweep serve: inbox: %s: study %s accepted (%s)\n", f->name,
                f->spec->name, f->spec->format ? f->spec->format : "study spec");
out:
    fflush(ib->log);
    free(to);
    free(path);
}

void inbox_dispatch(struct inbox *ib)
{
    struct inbox_file *list, *f;
    uint64_t v;

    if (read(ib->ready, &v, sizeof(v)) < 0 && errno != EAGAIN)
        fprintf(ib->log, "sweep serve: inbox: eventfd: %s\n", strerror(errno));
    pthread_mutex_lock(&ib->mu);
    list = ib->files;
    ib->files = NULL;
    ib->tail = &ib->files;
    pthread_mutex_unlock(&ib->mu);
    while (list) {
        f = list;
        list = f->next;
        hand_over(ib, f);
        file_free(f);
    }
}

/* Writes j (indented) to path atomically; a failure is told on log. */
static void write_json(const char *path, json_t *j, FILE *log)
{
    char *text = json_dumps(j, JSON_INDENT(2));
    struct err err = {0};

    if (!text || fileio_write_atomic(path, text, strlen(text), "inbox results", &err))
        fprintf(log, "sweep serve: inbox: %s\n",
                text ? err.msg : "cannot format the results");
    free(text);
}

void inbox_write_results(const char *results_dir,
                         struct store *st,
                         const char *study,
                         const char *processed,
                         double uptime,
                         long long tasks_run,
                         FILE *log)
{
    char *dir = xstrdup(results_dir), *path = NULL, stamp[64], host[256];
    char worker[300];
    struct store_study s = {0};
    json_t *j = NULL;
    struct err err = {0};

    if (gethostname(host, sizeof(host)) < 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(worker, sizeof(worker), "local@%s", host);
    if (fileio_mkdirs(dir, &err) || store_study_get(st, study, &s, &err) ||
        view_inbox_results(st, &s, original_name(processed), worker, &j, &err)) {
        fprintf(log, "sweep serve: inbox: results of %s: %s\n", study, err.msg);
        goto out;
    }
    inbox_processed_name("", (double)time(NULL), stamp, sizeof(stamp));
    stamp[strlen(stamp) - 1] = '\0'; /* the '_' before the empty name */
    path = xasprintf("%s/task_results_%s.json", dir, stamp);
    for (int i = 2; access(path, F_OK) == 0; i++) {
        free(path);
        path = xasprintf("%s/task_results_%s_%d.json", dir, stamp, i);
    }
    json_object_set_new(j, "processed", json_string(processed));
    write_json(path, j, log);
    fprintf(log, "sweep serve: inbox: %s: results in %s\n", processed, path);
    json_decref(j);
    j = NULL;
    free(path);
    path = xasprintf("%s/orchestrator_stats.json", dir);
    if (view_orchestrator_stats(st, uptime, tasks_run, &j, &err))
        fprintf(log, "sweep serve: inbox: orchestrator stats: %s\n", err.msg);
    else
        write_json(path, j, log);
out:
    fflush(log);
    json_decref(j);
    store_study_fini(&s);
    free(path);
    free(dir);
}
