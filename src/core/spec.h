/* The study spec: what a user writes in study.yaml (or the same fields in JSON),
 * checked and turned into a struct spec before anything is stored. Every error names
 * the file, line, column and field and says what was expected, e.g. study.yaml:12:5:
 * retries.max: expected a non-negative integer, got "three" Unknown fields are errors.
 * Parameter values are kept as jansson values so that numbers, strings, booleans and
 * lists (grid_size: [64, 64, 64]) reach the task unchanged.
 *
 * Fields: study (required; [A-Za-z0-9][A-Za-z0-9._-]{0,99}), description, model XOR
 * command (an argv list; one string only with shell: true), shell, parameters (name ->
 * list of values | one value | {range: [start, stop, step]} (stop inclusive, step 1
 * when left out; integers stay integers, reals are rounded to 15 significant digits) |
 * {linspace: [a, b, n]} | {logspace: [a, b, n]} (10^a .. 10^b, as numpy)), zip (lists
 * of parameter names that vary together), base (fixed parameters), tasks (explicit
 * parameter sets, each may carry priority), repetitions, priority, max_parallel, cpus,
 * timeout, kill_after (durations, or numbers of seconds), retries ({max, backoff,
 * backoff_max, on: [timeout, signal, nonzero, exit:N]}, or just the number of retries),
 * rate_limit
 * ("5/s", "10/m", "100/h", or a number per second), workdir, env.
 * Parameter names are identifiers ([A-Za-z_][A-Za-z0-9_]*, not "priority"). The
 * parameter task_id names a task (a task file's id, taskfile.h): it is stored, shown
 * and keyed as any parameter and a command may use {task_id}, but a model never sees
 * it (runner_task_argv and the model checks leave it out). A spec with
 * neither parameters nor tasks is one task made of the base parameters. At most 1000000
 * parameter values in all (ranges included); durations at most 366 days.
 *
 * Pipelines: `steps` (instead of model/command) is a list of at least one step, each
 * {name (identifier, unique), model XOR command, shell, timeout, kill_after, retries,
 * cpus, priority}; a step inherits the study's timeout, kill_after, retries, cpus and
 * priority where it sets none. Every point and repetition runs the steps as a chain,
 * one after the other. A command may use {steps.NAME.dir} and {steps.NAME.result} of a
 * step before it; naming an unknown step, or itself or a later one (a cycle), is an
 * error at the line of that element. `reduce` {model XOR command, shell, when:
 * all_succeeded (default) | always, timeout, kill_after, retries, cpus, priority} runs
 * once after every chain has ended; its command may use {reduce.input} (and no
 * {steps...}). `after` is a list of study names (or one name) that must have completed
 * first. */
#ifndef SWEEP_CORE_SPEC_H
#define SWEEP_CORE_SPEC_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Named priorities; any integer is allowed, higher runs first. */
enum {
    PRIORITY_LOW = 1,
    PRIORITY_MEDIUM = 2,
    PRIORITY_HIGH = 3,
};

enum spec_kind {
    SPEC_MODEL = 1, /* a built-in model, run as `sweep sim MODEL` */
    SPEC_COMMAND,   /* a user program: argv template */
};

/* Which failures a retry applies to (retries.on). */
enum {
    RETRY_ON_TIMEOUT = 1u << 0,
    RETRY_ON_SIGNAL = 1u << 1,
    RETRY_ON_NONZERO = 1u << 2, /* any non-zero exit (exit:N lists single codes) */
};

struct spec_retry {
    bool set;           /* the spec gives retries (0 included) for this step, here or
                           by inheritance from the study's */
    int max;            /* retries after the first attempt; default 0 */
    double backoff;     /* seconds before the first retry; default 1 */
    double backoff_max; /* cap of the exponential backoff; default 300 (or backoff) */
    unsigned on;        /* RETRY_ON_* bits; default all three; exit:N sets NONZERO */
    size_t nexit;       /* exit:N entries: these exit codes retry (without nonzero) */
    int *exit_codes;
};

/* One axis of the cartesian product. A plain parameter is an axis with one name; a zip
 * group is one axis with several names whose values vary together; it stands where its
 * first member stands in `parameters`, its names in the order of the zip list. */
struct spec_dim {
    size_t nnames;
    char **names;
    size_t nrows;
    json_t **values; /* nrows * nnames, row-major: values[row * nnames + k] (owned) */
};

/* One step of the chain (or the reduce), its fields resolved: what the step sets, else
 * the study's. */
struct spec_step {
    char *name; /* "reduce" for the reduce; the study's name for a single-step study */
    int line;   /* of the step in the spec file (0 when built from the top level) */
    enum spec_kind kind;
    char *model; /* SPEC_MODEL */
    char **argv; /* SPEC_COMMAND */
    size_t argc;
    bool shell;
    int priority;      /* the step's own, else the study's */
    bool has_priority; /* set on the step: it wins over an explicit task's priority */
    int cpus;
    double timeout;
    double kill_after;
    struct spec_retry retry;
};

/* reduce.when */
enum {
    REDUCE_ALL_SUCCEEDED = 0, /* run only when every chain succeeded, else skip it */
    REDUCE_ALWAYS,            /* run once every chain has ended, however */
};

struct spec {
    char *path; /* as given; "" for text parsed without a file */
    char *dir;  /* directory of the spec file: relative paths resolve from here */
    char *name; /* `study` */
    char *description; /* may be NULL */

    enum spec_kind kind; /* 0 when `steps` is given */
    char *model;         /* SPEC_MODEL */
    char **argv;         /* SPEC_COMMAND: template elements with {name} placeholders */
    size_t argc; /* with shell: true, argc == 1 and argv[0] is the shell command */
    bool shell;

    json_t *base; /* object: fixed parameters, merged under every task */
    size_t ndims; /* parameters: cartesian product of these axes, in spec order */
    struct spec_dim *dims;
    json_t *tasks; /* array of objects: explicit parameter sets, or NULL. An object may
                      carry "priority" (already checked: string name or integer) */
    bool has_grid; /* `parameters` given (a grid of one point when it is empty) */

    int repetitions;   /* >= 1 */
    int priority;      /* default PRIORITY_MEDIUM */
    int max_parallel;  /* 0 = not set (the CLI decides: number of cpus) */
    int cpus;          /* slots per task, >= 1 */
    double timeout;    /* seconds; default 24h */
    double kill_after; /* grace between SIGTERM and SIGKILL; default 10s */
    struct spec_retry retry;
    double rate_limit; /* task starts per second; 0 = unlimited */
    char *workdir;     /* absolute, or NULL: the task's own directory */
    json_t *env;       /* object of string values, or NULL */

    /* The chain that every point runs: `steps`, or for a single-step study one step
     * built from the top-level model/command and fields above (kind, model, argv,
     * argc, shell, timeout, ...; they stay set as well). nsteps >= 1. */
    size_t nsteps;
    struct spec_step *steps;
    bool has_steps;           /* `steps` given: status and results show steps */
    struct spec_step *reduce; /* NULL when none */
    int reduce_when;          /* REDUCE_* */
    char **after;             /* studies that must have completed first */
    size_t nafter;

    /* Other names of the seed parameter besides "seed" (a model's aliases, e.g.
     * "semilla"), set by the front end that knows the models (spec_add_seed_name);
     * expand.h says what a seed parameter does. Not part of the spec file. */
    char **seed_names;
    size_t nseed_names;

    json_t *json;  /* the whole spec as plain JSON (stored with the study) */
    json_t *where; /* field -> [line, col] for spec_where (see there) */
    /* NULL for a study spec; TASKFILE_QUEUE_JSON or TASKFILE_TASKS_YAML (static
     * strings) when the file was a task file (taskfile.h): json is then the study spec
     * made of it, and where points into the task file. */
    const char *format;
};

/* Reads and checks a spec file (.yaml, .yml or .json; the content decides), or a task
 * file (taskfile.h: a mapping of "tasks" and "metadata", without a spec's fields). */
int spec_load(const char *path, struct spec **out, struct err *err);
/* Same from memory; `path` is only used in messages and for resolving relative paths.
 */
int spec_parse(
    const char *path, const char *text, size_t len, struct spec **out, struct err *err);
void spec_destroy(struct spec *spec);

/* Whether name is a top-level field of a spec (study, model, tasks, ...). */
bool spec_is_field(const char *name);

/* "HIGH"/"MEDIUM"/"LOW" (any case) or an integer. Returns 0 or -1. */
int priority_parse(const char *s, int *out);
/* The index of the step called name, or -1. */
int spec_step_index(const struct spec *spec, const char *name);
/* Step `step` of the chain, or the reduce (may be NULL) for step == nsteps. */
const struct spec_step *spec_step_at(const struct spec *spec, int step);
/* A default for the retries the spec leaves open: each step, and the reduce, whose
 * retries are not set (by itself or by the study: retry.set) gets max retries, with
 * the default backoff and causes; an explicit 0 stays 0. (`sweep serve --max-retries`.)
 */
void spec_retries_default(struct spec *spec, int max);
/* The step names in order, a NULL-terminated array of pointers into spec->steps (free
 * the array only). */
char **spec_step_names(const struct spec *spec);

/* Adds name to spec->seed_names unless it is there or is "seed". */
void spec_add_seed_name(struct spec *spec, const char *name);

/* Where a field was written in the spec file, for the checks made after parsing (the
 * placeholders of a command, a model's name and parameters): its 1-based line and
 * column, or 0 and 0 when not known. Known fields: the model and every command element
 * of the study, of each step and of the reduce ("model", "command[2]",
 * "steps[1].model", "steps[1].command[0]", "reduce.command[1]"), each key of
 * parameters and base ("parameters.T", "base.seed") and, for a task file only (a spec
 * of many explicit tasks would pay memory for it all its life), each parameter of
 * each task ("tasks[3].T"). */
int spec_where(const struct spec *spec, const char *field, int *line, int *col);
/* The field as the file writes it, for messages: the label that where records beside
 * the position (a task file's "model" is "tasks[0].algorithm"), else field itself.
 * Borrowed from the spec. */
const char *spec_where_label(const struct spec *spec, const char *field);
/* The step part of a field path: "" for a single-step study, "steps[1]." for step 1 of
 * a pipeline, "reduce." for step == nsteps. */
void spec_step_prefix(const struct spec *spec, int step, char *buf, size_t n);
/* Where parameter `name` is first written: "parameters.NAME", else "base.NAME", else
 * "tasks[i].NAME" of the first task that sets it, into field; its line and column as
 * spec_where. Returns -1 (field "", line and column 0) when it is nowhere. */
int spec_param_where(const struct spec *spec,
                     const char *name,
                     char *field,
                     size_t n,
                     int *line,
                     int *col);

/* Where explicit task `index` of a task file writes parameter `name`: field
 * "tasks[3].parameters.NAME"; else (a study spec) what spec_param_where finds. */
int spec_task_param_where(const struct spec *spec,
                          size_t index,
                          const char *name,
                          char *field,
                          size_t n,
                          int *line,
                          int *col);

/* The band a priority falls in: "HIGH" (>= 3), "MEDIUM" (2) or "LOW" (<= 1). */
const char *priority_name(int priority);

#endif
