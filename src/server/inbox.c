/* The task inbox (see inbox.h): inotify events to complete files, each parsed and
 * checked, handed to the service, then moved to processed/ or rejected/. */
#include "server/inbox.h"

#include "common/fileio.h"
#include "common/xalloc.h"
#include "core/store.h"
#include "core/view.h"
#include "models/speccheck.h"
#include "server/service.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INBOX_MAX_FILE (64 << 20) /* a larger file is refused */

struct inbox {
    char *dir;
    int fd;
    inbox_submit_fn *submit;
    void *arg;
    FILE *log;
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
    ib->fd = -1;
    ib->submit = submit;
    ib->arg = arg;
    ib->log = log;
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
    *out = ib;
    return SWEEP_OK;
fail:
    inbox_destroy(ib);
    return rc;
}

void inbox_destroy(struct inbox *ib)
{
    if (!ib)
        return;
    if (ib->fd >= 0)
        close(ib->fd);
    free(ib->dir);
    free(ib);
}

int inbox_fd(const struct inbox *ib)
{
    return ib->fd;
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

/* Takes one file of the inbox: checked, submitted, moved. */
static void take(struct inbox *ib, const char *name)
{
    char *path, *to = NULL, *text = NULL, dest[512];
    struct spec *spec = NULL;
    struct speccheck *models = NULL;
    struct err err = {0};
    struct stat sb;
    size_t len;
    int rc;

    if (inbox_ignored(name) || strlen(name) > 255)
        return;
    path = xasprintf("%s/%s", ib->dir, name);
    /* Gone (taken already: the scan at start and an event may both name it), or not
     * a regular file: left alone. */
    if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
        goto out;
    rc = fileio_read_user(path, INBOX_MAX_FILE, &text, &len, &err);
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
    /* Moved before it is submitted: the study may be refused (inbox_refused()) as
     * soon as it is. */
    inbox_processed_name(name, (double)time(NULL), dest, sizeof(dest));
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
    if (ib->submit(ib->arg, spec, dest, &err))
        reject(ib->dir, to, name, err.msg, ib->log);
    else
        fprintf(ib->log, "sweep serve: inbox: %s: study %s accepted (%s)\n", name,
                spec->name, spec->format ? spec->format : "study spec");
out:
    fflush(ib->log);
    speccheck_destroy(models);
    spec_destroy(spec);
    free(text);
    free(to);
    free(path);
}

void inbox_scan(struct inbox *ib)
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

void inbox_dispatch(struct inbox *ib)
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
            inbox_scan(ib);
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
