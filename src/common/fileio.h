/* Small file helpers shared by the commands: reading a user's file safely, writing a
 * whole file so that a reader never sees half of it, creating a directory with its
 * parents, and copying one file's content to a stream. */
#ifndef SWEEP_COMMON_FILEIO_H
#define SWEEP_COMMON_FILEIO_H

#include "common/err.h"

#include <stddef.h>
#include <stdio.h>

/* Reads a file a user gave us (a spec, a package file, a CSV, a task's result) whole
 * into *data (NUL-terminated; free it) and its size into *len. Never blocks on what is
 * not a regular file: the file is opened with O_NONBLOCK and a FIFO, a directory, a
 * device or a socket is refused. max > 0 refuses a larger file. Errors name the path:
 * SWEEP_ENOTFOUND when it does not exist; SWEEP_EINVAL when it is not a regular file,
 * is too large, or cannot be opened for a reason the user fixes (a symlink loop, no
 * permission, a path too long); SWEEP_EIO when reading fails. */
int fileio_read_user(
    const char *path, size_t max, char **data, size_t *len, struct err *err);

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
