/* Command templates: each argv element may hold {name} placeholders, replaced by the
 * task's parameter value (jsonx_arg_str) or one of the task's own fields: {task_dir},
 * {seed}, {repetition}, {study}, {key}, and {spec_dir} (the absolute directory of the
 * spec file: a task runs in its own directory, so a file beside the spec is
 * {spec_dir}/sim.py). "{{" and "}}" are literal braces. The result is
 * one argv element: no shell ever sees it, so a value like "x; touch /tmp/pwned" stays
 * one inert argument. With `shell: true` the single command string is for /bin/sh -c
 * and every substituted value is single-quoted ('...', an embedded ' written as '\''),
 * so a placeholder must not itself sit inside quotes in that string.
 *
 * A name is [A-Za-z_][A-Za-z0-9_.]*, looked up as one key among the parameters first,
 * then among the built-ins (a parameter named "study" wins over the built-in). A brace
 * that is neither doubled nor part of a placeholder is an error naming the template and
 * the 1-based column; an unknown name is an error that lists the known ones. Callers
 * add which element it was with err_prefix(), e.g. "command[2]".
 *
 * Pipelines add built-ins: {steps.NAME.dir} (the task directory of step NAME for the
 * same chain) and {steps.NAME.result} (its result.json) for the steps before the
 * current one, and {reduce.input} in the reduce's command. */
#ifndef SWEEP_CORE_TMPL_H
#define SWEEP_CORE_TMPL_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct tmpl_ctx {
    const json_t *params;
    const char *task_dir;
    const char *spec_dir;
    const char *study;
    const char *key;
    long long seed;
    int repetition;
    /* The steps before this one in its chain: names and task directories (n of each).
     */
    char *const *step_names;
    char *const *step_dirs;
    size_t nsteps;
    const char *reduce_input; /* the reduce's {reduce.input}; NULL elsewhere */
};

/* Which step names a template may refer to, for tmpl_check(). */
struct tmpl_scope {
    char *const *step_names; /* the steps before this one */
    size_t nsteps;
    bool reduce; /* the reduce's command: {reduce.input} is known */
};

/* Renders one element into a new string (*out; free it). Unknown names are errors
 * (SWEEP_EINVAL, *out untouched). A NULL task_dir, spec_dir, study or key renders as
 * "". */
int tmpl_render(const char *tmpl,
                const struct tmpl_ctx *ctx,
                bool shell_quote,
                char **out,
                struct err *err);
/* Checks a template against the parameter names a task will have (sorted array), the
 * built-in fields and the scope (NULL: no steps, no reduce); the error names the
 * placeholder. */
int tmpl_check(const char *tmpl,
               char *const *names,
               size_t n,
               const struct tmpl_scope *scope,
               struct err *err);

/* Calls fn with every placeholder name of the template, in order, and the 1-based
 * column of its "{"; stops at fn's first non-zero return and returns it. A malformed
 * brace is SWEEP_EINVAL as for tmpl_render. */
/* s as one word for a POSIX shell, to show an argv that can be copied: as it is when
 * it holds only [A-Za-z0-9_@%+=:,./-] (and is not empty), else in single quotes as
 * shell: true quotes values. A new string (free it). */
char *tmpl_shell_word(const char *s);

typedef int tmpl_name_fn(const char *name, size_t column, void *arg);
int tmpl_each_name(const char *tmpl, tmpl_name_fn *fn, void *arg, struct err *err);

#endif
