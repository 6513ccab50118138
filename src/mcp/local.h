/* The local backend of the MCP tools (backend.h): `sweep mcp --home H` over the
 * store of a sweep home, running each study in a detached `sweep run` that outlives
 * the MCP session and the client's disconnect.
 *
 * submit: the spec is written to <home>/mcp/<study>.json and stored at once as
 * `sweep run --prepare` stores it (checked, expanded, status QUEUED), so that
 * check_study_status sees it before anything runs; then `sweep run` of that file
 * starts detached (double fork and setsid, no shell, stdin from /dev/null, stdout and
 * stderr appended to <home>/mcp/<study>.log). A study that a sweep process runs is
 * refused (SWEEP_EBUSY, naming that process).
 * retry: the failed and timed-out tasks back to pending (store_requeue_failed), the
 * study QUEUED, and a detached `sweep run` of its stored spec; nothing runs when none
 * failed. A retry right after a run ended waits for that run to let the study go (up
 * to 10 s); a study that runs is refused.
 * cancel: what `sweep cancel STUDY` does (store_study_cancel): a running `sweep run`
 * stops the study's running tasks within a second. A study still QUEUED for its
 * detached run is cancelled once that run has started (up to 10 s), since the run's
 * start would take cancelled tasks back as a resume does.
 * Not for several threads at once (one store connection). */
#ifndef SWEEP_MCP_LOCAL_H
#define SWEEP_MCP_LOCAL_H

#include "common/err.h"

struct mcp_backend;

/* A backend over home (made when missing), starting `self_path run` (the sweep
 * binary: /proc/self/exe). A study queued here earlier whose run never started (more
 * than 10 s ago, its spec file still in <home>/mcp, no run holding it) is started
 * again. NULL with err when the store cannot be opened. */
struct mcp_backend *
mcp_local_create(const char *home, const char *self_path, struct err *err);
/* Accepts NULL. The detached runs go on. */
void mcp_local_destroy(struct mcp_backend *be);

#endif
