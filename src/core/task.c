/* Task state names (see task.h). */
#include "task.h"

#include <string.h>

static const char *const names[TASK_NSTATES] = {
    "pending",   "running",     "succeeded", "failed",  "timed_out",
    "cancelled", "interrupted", "skipped",   "waiting",
};

const char *task_state_name(enum task_state s)
{
    return (s >= 0 && s < TASK_NSTATES) ? names[s] : "unknown";
}

int task_state_parse(const char *name, enum task_state *s)
{
    for (int i = 0; i < TASK_NSTATES; i++) {
        if (strcmp(name, names[i]) == 0) {
            *s = (enum task_state)i;
            return 0;
        }
    }
    return -1;
}

int task_state_is_final(enum task_state s)
{
    return s == TASK_SUCCEEDED || s == TASK_FAILED || s == TASK_TIMED_OUT ||
           s == TASK_CANCELLED || s == TASK_INTERRUPTED || s == TASK_SKIPPED;
}
