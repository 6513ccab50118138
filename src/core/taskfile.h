/* Task files: the lists of tasks that the file workflow of sweep's users writes by hand
 * or with `sweep new`, read as one study whose tasks are explicit (spec.h `tasks`).
 * Two formats, told apart by content (the file's name plays no part):
 *
 *   task-queue JSON  {"metadata": {...}, "tasks": [{"task_id", "algorithm",
 *                    "parameters": {...}, "priority": "high|medium|low",
 *                    "description"}]}
 *   tasks.yaml       tasks: [{id, type, parameters, priority, description}]
 *
 * A document is a task file when its root is a mapping that has "tasks" or "metadata"
 * and no field of a study spec other than tasks (study, model, parameters, ...: a
 * spec that forgot its `study` is told so as a spec); either syntax (YAML or JSON) and
 * either spelling of a task's fields is accepted. Rules, checked with "file:line:col:
 * field: ..." messages:
 * - top level: tasks (required, a non-empty list) and metadata (optional, a mapping
 *   of anything; "name" and "description" are used, the rest is ignored);
 * - a task: task_id or id (required, a string or integer of 1 to 100 printable
 *   characters, unique in the file), algorithm or type (required: a model name, any
 *   case, stored in lower case; every task of a file names the same model, since a
 *   study runs one model), parameters (a mapping of parameter names, identifiers
 *   other than priority and task_id, to values), priority, description (ignored);
 *   any other field is an error that suggests the nearest known one;
 * - priority: "high", "medium", "low" (any case) for the bands HIGH, MEDIUM, LOW, or
 *   an integer n from -1000000 to 1000000 where, as in those files, 1 is the most
 *   urgent: it becomes sweep's priority 4 - n, so 1 is HIGH, 2 is MEDIUM, 3 and more
 *   are LOW and the order between any two integers is kept (0 runs before 1); no
 *   priority is MEDIUM.
 *
 * The study: its name is metadata.name, else the file's name without its directory and
 * last extension, with every character other than letters, digits, '.', '_' and '-'
 * made '_', leading characters other than letters and digits dropped, cut to 100
 * characters ("tasks" when nothing is left); its description is metadata.description.
 * Each task keeps its id as the parameter task_id (spec.h): stored with the task,
 * shown by `sweep results`, part of the task's key, so running or dropping the same
 * file again finds the same tasks instead of adding new ones; a model never sees it.
 *
 * Checking a model's name and parameters needs the models, which sit above core:
 * models/speccheck.h does it for every front end through spec_where_label() and
 * spec_task_param_where(), which point into the task file. */
#ifndef SWEEP_CORE_TASKFILE_H
#define SWEEP_CORE_TASKFILE_H

#include "common/err.h"
#include "core/doc.h"
#include "core/spec.h"

#include <stdbool.h>

#define TASKFILE_QUEUE_JSON "task-queue JSON"
#define TASKFILE_TASKS_YAML "tasks.yaml"

/* Whether a parsed document is a task file (see above) rather than a study spec. */
bool taskfile_detect(const struct doc_node *root);
/* Checks the task file `root` (parsed from `path`, which messages name and relative
 * paths resolve from) and makes its study spec: *out (spec_destroy) whose json is the
 * equivalent study spec, so that what is stored reads back with spec_parse, and whose
 * format is TASKFILE_QUEUE_JSON or TASKFILE_TASKS_YAML (the spelling of the first
 * task). Takes root: it is destroyed, as soon as it is converted, so that the file's
 * tree and the spec's are never in memory together. Returns SWEEP_OK, or SWEEP_EINVAL
 * with err and *out NULL. Time and memory are linear in the size of the file. */
int taskfile_to_spec(const char *path,
                     struct doc_node *root,
                     struct spec **out,
                     struct err *err);
/* The same from text, which must be a task file. */
int taskfile_parse(
    const char *path, const char *text, size_t len, struct spec **out, struct err *err);

/* A study name made of `s` as described above (a name or a path: the directory and
 * last extension are dropped only when is_path). Free it. */
char *taskfile_study_name(const char *s, bool is_path);
/* Sweep's priority for a task file's integer priority n: 4 - n. */
int taskfile_priority(int n);

#endif
