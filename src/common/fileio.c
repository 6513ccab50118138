/* File helpers: reading a user's file without blocking on a FIFO, atomic whole-file
 * writes (temporary file + rename), mkdir -p, and copying a file into a stream. */
#include "common/fileio.h"

#include "common/xalloc.h"

#include "common/strbuf.h"
#include "common/suggest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a file that is not regular is, for messages. */
static const char *fileio_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* The entries of a directory read for a suggestion, at most. */
#define FILEIO_NEAR_MAX 4096

/* The path of a file in path's directory whose name is near path's last component
 * (suggest.h, with at most a third of its characters edited: a.yml for a.yaml), in
 * buf; false when there is none. */
static bool fileio_near(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int dlen = slash ? (int)(slash - path) : 0;
    char *dir = slash ? xasprintf("%.*s", dlen > 0 ? dlen : 1, path) : xstrdup(".");
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    const char *best;
    bool found = false;
    struct dirent *de;

    free(dir);
    if (!d)
        return false;
    while (n < FILEIO_NEAR_MAX && (de = readdir(d))) {
        if (de->d_name[0] == '.' && base[0] != '.')
            continue;
        names = xgrow(names, &cap, n + 1, sizeof(*names));
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    /* Names share their extensions: nearer than suggest.h's half of the name. */
    best = suggest_closest(base, (const char *const *)names, n);
    if (best && suggest_distance(base, best) > (strlen(best) + 2) / 3)
        best = NULL;
    if (best)
        found = (size_t)snprintf(buf, size, "%.*s%s", (int)(base - path), path, best) <
                size;
    while (n > 0)
        free(names[--n]);
    free(names);
    return found;
}

static int fileio_open_error(const char *path, int e, struct err *err)
{
    struct stat st;
    char near[4096];

    /* A socket, or a device without a driver, fails open() itself. */
    if (e == ENXIO && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return err_set(err, SWEEP_EINVAL,
                       "%s: is %s, not a regular file; sweep reads only regular files",
                       path, fileio_kind(st.st_mode));
    switch (e) {
    case ENOENT:
        if (fileio_near(path, near, sizeof(near)))
            return err_set(err, SWEEP_ENOTFOUND, "%s: %s (did you mean '%s'?)", path,
                           strerror(e), near);
        /* fall through */
    case ENOTDIR:
        return err_set(err, SWEEP_ENOTFOUND, "%s: %s", path, strerror(e));
    case ELOOP:
        return err_set(err, SWEEP_EINVAL, "%s: cannot open: a loop of symbolic links",
                       path);
    case EACCES:
    case EPERM:
    case ENAMETOOLONG:
    case EISDIR:
    case ENXIO:
        return err_set(err, SWEEP_EINVAL, "%s: cannot open: %s", path, strerror(e));
    default:
        return err_set(err, SWEEP_EIO, "%s: cannot open: %s", path, strerror(e));
    }
}

int fileio_read_user(
    const char *path, size_t max, char **data, size_t *len, struct err *err)
{
    struct strbuf sb = STRBUF_INIT;
    char buf[65536];
    struct stat st;
    ssize_t n = 0;
    int fd, rc = SWEEP_OK;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return fileio_open_error(path, errno, err);
    if (fstat(fd, &st) != 0) {
        rc = err_set(err, SWEEP_EIO, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = err_set(err, SWEEP_EINVAL,
                     "%s: is %s, not a regular file; sweep reads "
                     "only regular files",
                     path, fileio_kind(st.st_mode));
        goto out;
    }
    while ((max == 0 || sb.len <= max) && (n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        sb_add(&sb, buf, (size_t)n);
    }
    if (n < 0) {
        rc = err_set(err, SWEEP_EIO, "%s: cannot read: %s", path, strerror(errno));
    } else if (max > 0 && sb.len > max) {
        if (max % (1u << 20) == 0)
            rc = err_set(err, SWEEP_EINVAL, "%s: larger than %zu MiB", path, max >> 20);
        else
            rc = err_set(err, SWEEP_EINVAL, "%s: larger than %zu bytes", path, max);
    } else {
        *len = sb.len;
        *data = sb_take(&sb);
    }
out:
    close(fd);
    sb_fini(&sb);
    return rc;
}

const char *fileio_strerror(int e)
{
    if (e == ENOSPC)
        return "disk full (No space left on device)";
    if (e == EDQUOT)
        return "disk full (Disk quota exceeded)";
    return strerror(e);
}

int fileio_write_atomic(
    const char *path, const void *data, size_t len, const char *what, struct err *err)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "we");
    int rc = SWEEP_OK;

    if (!f) {
        rc = err_set(err, SWEEP_EIO, "cannot write %s %s: %s", what, tmp,
                     fileio_strerror(errno));
        goto out;
    }
    if (fwrite(data, 1, len, f) != len) {
        rc = err_set(err, SWEEP_EIO, "cannot write %s %s: %s", what, tmp,
                     fileio_strerror(errno));
        fclose(f);
        goto out_unlink;
    }
    if (fclose(f) != 0) {
        rc = err_set(err, SWEEP_EIO, "cannot write %s %s: %s", what, tmp,
                     fileio_strerror(errno));
        goto out_unlink;
    }
    if (rename(tmp, path) != 0) {
        rc = err_set(err, SWEEP_EIO, "cannot write %s %s: %s", what, path,
                     fileio_strerror(errno));
        goto out_unlink;
    }
    goto out;
out_unlink:
    unlink(tmp);
out:
    free(tmp);
    return rc;
}

int fileio_copy_to(const char *path, FILE *out)
{
    char buf[65536];
    size_t n;
    FILE *in = fopen(path, "re");

    if (!in)
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    return 0;
}

int fileio_mkdirs(const char *dir, struct err *err)
{
    char *p;
    int rc = SWEEP_OK;

    if (!*dir)
        return err_set(err, SWEEP_EINVAL, "an empty directory name");
    p = xstrdup(dir);
    for (char *q = p + 1;; q++) {
        if (*q != '/' && *q != '\0')
            continue;
        char c = *q;
        *q = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            rc = err_set(err, SWEEP_EIO, "cannot create the directory %s: %s", p,
                         strerror(errno));
            break;
        }
        *q = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}
