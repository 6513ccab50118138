/* The program's watch on SIGINT, SIGTERM and SIGHUP: while it is open, these signals
 * are caught and turn into bytes on a self-pipe that the owner's event loop polls,
 * instead of ending the process. It belongs to the program (`sweep run` opens it
 * around a run), not to a pool or a runner: signal dispositions are process-wide, so
 * there is one watch per process, and nothing else changes the signal mask. A library
 * user that opens none keeps the default actions.
 *
 * The handler only writes one byte (the signal number) to a non-blocking pipe and
 * keeps errno; it is installed with SA_RESTART, so system calls elsewhere are not
 * interrupted. Standard signals do not queue, and a full pipe (hundreds of signals not
 * read) drops the newest bytes: sigwatch_take() reports the last signal it reads. */
#ifndef SWEEP_CORE_SIGWATCH_H
#define SWEEP_CORE_SIGWATCH_H

#include "common/err.h"

/* Installs the handlers. SWEEP_EINVAL if a watch is already open. */
int sigwatch_open(struct err *err);
/* Restores the dispositions found by sigwatch_open() and drops unread signals. Safe to
 * call when none is open. */
void sigwatch_close(void);
/* The read end of the pipe (readable when a signal arrived; O_CLOEXEC, O_NONBLOCK),
 * or -1 when no watch is open. Valid until sigwatch_close(). */
int sigwatch_fd(void);
/* Reads what arrived since the last call: the last signal number, or 0 for none (or no
 * watch open). Never blocks. */
int sigwatch_take(void);

#endif
