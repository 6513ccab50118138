/* File helpers: atomic whole-file writes (temporary file + rename), mkdir -p, and
 * copying a file into a stream. */
#include "common/fileio.h"

#include "common/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
