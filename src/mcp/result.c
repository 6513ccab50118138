/* A tool's answer (tool.h). */
#include "mcp/tool.h"

#include <stdlib.h>

void mcp_result_fini(struct mcp_result *r)
{
    json_decref(r->structured);
    json_decref(r->links);
    free(r->text);
    *r = (struct mcp_result){0};
}
