/* The tools of `sweep mcp` (tool.h). PLACEHOLDER of the protocol piece: only
 * list_models (the model registry's own descriptions, models/schema.c), so that the
 * session and the stdio transport link and can be tried; the "mcp-tools" piece
 * replaces this whole file with every tool of issue 12 and resources/read. */
#include "mcp/tool.h"

#include "common/xalloc.h"
#include "models/schema.h"

#include <string.h>

static json_t *list_models_input(void)
{
    return json_pack("{s:s, s:{}, s:b}", "type", "object", "properties",
                     "additionalProperties", 0);
}

static json_t *list_models_output(void)
{
    return json_pack("{s:s, s:{s:{s:s}}, s:[s]}", "type", "object", "properties",
                     "models", "type", "array", "required", "models");
}

static void
list_models_call(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    json_t *models = model_list_json();

    (void)c;
    (void)args;
    out->text = xasprintf("%zu models: see structuredContent.models for each one's "
                          "parameters (types, ranges, defaults) and metrics",
                          json_array_size(models));
    out->structured = json_pack("{s:o}", "models", models);
}

static const struct mcp_tool mcp_tool_table[] = {
    {
        .name = "list_models",
        .title = "List the simulation models",
        .description = "Every built-in model with its parameters (type, range, "
                       "default, unit) and the metrics a run reports.",
        .input_schema = list_models_input,
        .output_schema = list_models_output,
        .call = list_models_call,
    },
};

const struct mcp_tool *mcp_tools(size_t *n)
{
    *n = sizeof(mcp_tool_table) / sizeof(mcp_tool_table[0]);
    return mcp_tool_table;
}

const struct mcp_tool *mcp_tool_find(const char *name)
{
    size_t n;
    const struct mcp_tool *t = mcp_tools(&n);

    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

json_t *
mcp_resource_read(const struct mcp_backend *be, const char *uri, struct err *err)
{
    (void)be;
    err_set(err, SWEEP_ENOTFOUND, "Resource not found: %s", uri);
    return NULL;
}
