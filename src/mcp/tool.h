/* The tools of `sweep mcp` (tools.c) as the session (session.c) lists and calls them.
 * Each tool has a JSON Schema for its arguments and one for its structured result;
 * its handler checks the arguments itself (the schema is for the client) and answers
 * a result: structured content, a short text summary, and resource links (the CSV,
 * the aggregate JSON, the plot) that resources/read serves. */
#ifndef SWEEP_MCP_TOOL_H
#define SWEEP_MCP_TOOL_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>

struct mcp_backend;

/* What a handler gets besides its arguments. */
struct mcp_call {
    const struct mcp_backend *be;
    /* Reports progress of a request whose _meta asked for it (a no-op otherwise):
     * notifications/progress with progress, total (<= 0: unknown) and message. */
    void (*progress)(void *arg, double progress, double total, const char *message);
    void *progress_arg;
};

/* A tool's answer. is_error: the arguments or the state do not allow the call; text
 * says what is allowed. */
struct mcp_result {
    json_t *structured; /* structuredContent (an object; new reference) or NULL */
    char *text;    /* the summary for a person (malloc'd); never NULL after a call */
    json_t *links; /* an array of resource_link content items, or NULL */
    bool is_error;
};

struct mcp_tool {
    const char *name;
    const char *title;
    const char *description;
    json_t *(*input_schema)(void);  /* new reference */
    json_t *(*output_schema)(void); /* new reference, or NULL when none */
    void (*call)(const struct mcp_call *c, const json_t *args, struct mcp_result *out);
};

/* Every tool, in the order tools/list shows them. */
const struct mcp_tool *mcp_tools(size_t *n);
const struct mcp_tool *mcp_tool_find(const char *name);
void mcp_result_fini(struct mcp_result *r);

/* resources/read of a URI a tool linked to: the "contents" array (new reference), or
 * NULL with err (SWEEP_ENOTFOUND for a URI that names nothing). */
json_t *
mcp_resource_read(const struct mcp_backend *be, const char *uri, struct err *err);

#endif
