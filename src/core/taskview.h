/* What a task sees: its argv, its environment and the reduce's input, built from the
 * spec, the task's row and the home alone (no store handle, no process state), so
 * that `sweep run --dry-run`, the runner and later a worker on another machine build
 * them the same way. Directories are runner_study_dir/runner_task_dir (runner.h).
 *
 * The argv builder keeps its runner_ names (runner_task_argv, runner_step_uses_steps,
 * declared in runner.h) for its callers. */
#ifndef SWEEP_CORE_TASKVIEW_H
#define SWEEP_CORE_TASKVIEW_H

#include "core/spec.h"
#include "core/store.h"

#include <jansson.h>
#include <stddef.h>

/* The part of every task's environment that is the same for a whole study: envv
 * (sweep's `environ`) without SWEEP_* variables and without the names the spec's `env`
 * sets, followed by the spec's `env`. Build once per run: O(environ x spec env). */
struct taskview_env {
    char **base;
    size_t nbase, cap;
};

void taskview_env_init(struct taskview_env *e, const struct spec *spec, char **envv);
void taskview_env_fini(struct taskview_env *e);

/* One attempt of a task as it sees itself. */
struct taskview_task {
    const char *key;
    const char *dir;         /* its task directory (SWEEP_TASK_DIR) */
    const char *result_path; /* SWEEP_RESULT */
    const json_t *params;    /* with its seed applied (SWEEP_P_<NAME> each) */
    const char *params_json; /* canonical JSON of params (SWEEP_PARAMS) */
    long long seed;
    int attempt; /* 1 for the first */
    int repetition;
    int step; /* in spec->steps; spec->nsteps for the reduce */
};

/* The working directory of one attempt: the spec's workdir, else its task directory.
 * Borrowed. */
const char *taskview_cwd(const struct spec *spec, const char *task_dir);

/* The full environment of one attempt: the base's strings (borrowed) followed by the
 * task's own variables (owned): SWEEP_STUDY, SWEEP_TASK_ID, SWEEP_TASK_DIR,
 * SWEEP_RESULT, SWEEP_PARAMS, SWEEP_SEED, SWEEP_ATTEMPT, SWEEP_REPETITION, SWEEP_STEP
 * (in a pipeline), SWEEP_P_<NAME> per parameter (upper case, anything but letters
 * and digits as '_') and PWD, its working directory (taskview_cwd(); the inherited
 * PWD, sweep's own, is left out unless the spec's env sets one). NULL-terminated;
 * free with taskview_envp_free(). */
char **taskview_envp(const struct taskview_env *e,
                     const struct spec *spec,
                     const struct taskview_task *t);
void taskview_envp_free(const struct taskview_env *e, char **envp);

/* Frees a NULL-terminated array of strings and the array; accepts NULL. */
void taskview_strv_free(char **v);

/* The reduce's {reduce.input}: {"study", "steps": [names], "points": [{"chain",
 * "repetition", "seed", "params", "steps": {name: {"key", "state", "dir", "error",
 * "metrics"}}}]}. Feed it the study's task rows in expansion order (the steps of a
 * chain are consecutive; the reduce's own row is ignored), then take the text. */
struct taskview_reduce {
    const struct spec *spec;
    const char *home;
    json_t *points, *point;
};

void taskview_reduce_init(struct taskview_reduce *in,
                          const struct spec *spec,
                          const char *home);
void taskview_reduce_add(struct taskview_reduce *in, const struct store_task *t);
/* The input as compact JSON (the caller frees it); ends the builder. */
char *taskview_reduce_take(struct taskview_reduce *in);

#endif
