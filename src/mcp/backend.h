/* Where the tools of `sweep mcp` act (tool.h): reads go to the store of a sweep home;
 * starting, retrying and cancelling go to whoever runs the studies. Two
 * implementations: the local one (local.c: `sweep mcp --home H`, which starts a
 * detached `sweep run` that outlives the MCP session) and the service's
 * (src/server: /mcp of `sweep serve`, which hands the study to its engine). */
#ifndef SWEEP_MCP_BACKEND_H
#define SWEEP_MCP_BACKEND_H

#include "common/err.h"

#include <stdbool.h>

struct store;

struct mcp_backend {
    void *ctx;
    /* A store connection for reads by the calling thread (owned by the backend). */
    struct store *(*store)(void *ctx, struct err *err);
    /* Starts study `name` from its spec (JSON text, checked as `sweep run` checks a
     * file) and returns at once; the study runs in the background. */
    int (*submit)(void *ctx, const char *name, const char *spec_text, struct err *err);
    /* Runs the failed tasks of a study again; *requeued is how many. */
    int (*retry)(void *ctx, const char *study, long long *requeued, struct err *err);
    /* Cancels a study: no new task starts, running ones are stopped. */
    int (*cancel)(void *ctx, const char *study, struct err *err);
    /* Optional (NULL: none): the status of a study that the backend holds but its
     * store does not show yet (the service's "QUEUED" while it is being stored,
     * "REJECTED" when it could not be), or NULL when it holds none of that name;
     * *detail may receive why (malloc'd, or left NULL). check_study_status answers it
     * with progress and estimated_remaining null, as GET /studies/{id} does. */
    const char *(*pending_state)(void *ctx, const char *study, char **detail);
    /* Optional (NULL: never): whether the backend is stopping; a tool that waits
     * (check_study_status with wait_seconds) then answers at once. */
    bool (*stopping)(void *ctx);
    /* The base URL of a REST API serving the same home (links to plots and CSVs point
     * there), or NULL: links are sweep:// resources read through resources/read. */
    const char *base_url;
    /* Whether a submitted spec may run commands rather than models. */
    bool allow_commands;
};

#endif
