/* Small file helpers shared by the commands: writing a whole file so that a reader
 * never sees half of it, creating a directory with its parents, and copying one
 * file's content to a stream. */
#ifndef SWEEP_COMMON_FILEIO_H
#define SWEEP_COMMON_FILEIO_H

#include "common/err.h"

#include <stddef.h>
#include <stdio.h>

/* strerror(e), as "disk full (No space left on device)" for ENOSPC and EDQUOT. */
const char *fileio_strerror(int e);

/* Writes len bytes of data to path through a temporary file in the same directory and
 * a rename: path holds either its old content or all of data. `what` names the file in
 * messages ("result", "report"). SWEEP_EIO on failure (no temporary is left). */
int fileio_write_atomic(
    const char *path, const void *data, size_t len, const char *what, struct err *err);

/* Copies the content of path to out; returns -1 (errno set) when path cannot be read.
 */

/* Creates dir and its missing parents (mode 0777 before the umask). SWEEP_EIO names
 * the directory that could not be made. */
int fileio_mkdirs(const char *dir, struct err *err);

int fileio_copy_to(const char *path, FILE *out);

#endif
