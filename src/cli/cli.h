/* What every subcommand shares: its table row, exit codes, the sweep home, and how
 * errors reach the user. One file per subcommand (cmd_<name>.c) exports one struct
 * cli_cmd. */
#ifndef SWEEP_CLI_CLI_H
#define SWEEP_CLI_CLI_H

#include "common/err.h"

#include "core/task.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdio.h>

/* Exit codes, the same for every command. */
enum {
    EXIT_OK = 0,
    EXIT_TASK_FAILED = 1, /* some task failed */
    EXIT_USAGE = 2,       /* spec or usage error */
    EXIT_UNEXPECTED = 3,  /* anything else */
    EXIT_BUSY = 4,        /* the study is held by another sweep process (a running
                             `sweep run`, `sweep rm`); nothing was done */
    /* Talking to a service (`sweep client`, --server; see cli/remote.h): */
    EXIT_NO_SERVICE = 5, /* it cannot be reached (connection refused, no host) */
    EXIT_AUTH = 6,       /* 401: a token is needed, or the token is wrong */
    EXIT_NOT_FOUND = 7,  /* 404: no such study, task or endpoint on it */
    EXIT_BAD_ANSWER = 8, /* its answer is not JSON: not a sweep service? */
    EXIT_INTERRUPTED = 130,
};

struct cli_cmd {
    const char *name;
    const char *summary; /* one line for `sweep --help` */
    const char *usage;   /* full `--help` text, with an example */
    int (*fn)(int argc, char **argv);
};

/* The sweep home as an absolute path: --home, else $SWEEP_HOME, else ./.sweep. */
const char *cli_home(const char *flag);
/* Prints "sweep: <message>" to stderr and returns the exit code for the error. */
int cli_fail(const struct err *err);
/* Prints a usage error and the hint to run --help; returns EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The usage error for what getopt_long(argc, argv, ..., opts, NULL) just returned, c
 * ('?' or ':'): an option that needs a value or takes none, an ambiguous abbreviation,
 * or an unknown option with the nearest known one ("unknown option '--max-paralel'
 * (did you mean '--max-parallel'?)"). Reads optind and optopt; returns EXIT_USAGE.
 * Every command's option loop ends with it. */
struct option;
int cli_option_error(const struct cli_cmd *cmd,
                     const struct option *opts,
                     int c,
                     char **argv);
/* --width / --height of a chart (option names opt): an integer from CHART_MIN_SIZE to
 * CHART_MAX_SIZE into *out, else a usage error of cmd (EXIT_USAGE). */
int cli_parse_size(const struct cli_cmd *cmd, const char *opt, const char *s, int *out);
/* Prints the command's help to stdout; returns EXIT_OK. */
int cli_help(const struct cli_cmd *cmd);

/* One CSV field on stdout (view_csv_field(): RFC 4180, quoted when it holds a comma,
 * quote, newline or outer space), then ',' or, for the last field of a row, '\n'. */
void cli_csv_field(const char *s, bool last);

/* rows x cols cells (row-major, the header row first) as an aligned table on stdout
 * (`sweep aggregate`, `sweep results`): columns two spaces apart, each as wide as its
 * widest cell in characters, left-aligned where left[c], else right-aligned. */
void cli_table_print(char *const *cells, size_t rows, size_t cols, const bool *left);
/* The widths of cli_table_print() for those cells into width[cols]; then one row of
 * cols cells with them (a cell wider than its column pushes the rest to the right):
 * for a table printed as it is read, sized by its first rows. */
void cli_table_widths(char *const *cells, size_t rows, size_t cols, size_t *width);
void cli_table_row(char *const *cells,
                   size_t cols,
                   const size_t *width,
                   const bool *left);

/* The task a command's argument names (store_task_resolve: an id, a key or prefix,
 * STUDY/KEY), within study_flag's study when not NULL (`--study STUDY`). *study gets
 * the task's study name (free it). A name that names nothing is SWEEP_ENOTFOUND "no
 * study or task named 'NAME'" (commands that take a study too have tried that first).
 */
struct store;
struct store_task;
int cli_task_resolve(struct store *st,
                     const char *study_flag,
                     const char *name,
                     struct store_task *out,
                     char **study,
                     struct err *err);

/* Every study, one line each, or the JSON array of view_study_list() (`sweep status`,
 * `sweep list`). */
struct store;
int status_list_all(struct store *st, bool json, struct err *err);
/* The text of `sweep status STUDY` from its JSON: view_status_json() (eta_unknown:
 * its ETA is ETA_UNKNOWN), or the service's GET /studies/{id} (study_id, progress,
 * detail; by_priority, description, reason and steps once it is stored). */
void status_print_study(const json_t *o, bool eta_unknown);
/* The table of status_list_all() for the JSON array of view_study_list(). */
void status_print_list(const json_t *arr);

/* --step NAME of a pipeline study: view_step_index() (core/view.h). */
struct store_study;
int cli_step_index(const struct store_study *s,
                   const char *name,
                   int *step,
                   struct err *err);

/* view_steps_counts() (core/view.h) as a return value: a pipeline's counts per step,
 * the reduce last; NULL for a single-step study, or on error (err set). */
json_t *
cli_steps_counts(struct store *st, const struct store_study *s, struct err *err);

/* view_count_of(): the count of one state in a row of cli_steps_counts(). */
long long cli_count_of(const json_t *row, const char *state);
/* The width of a table's name column: the longest string `member` of the objects of
 * arr, at least min, at most CLI_NAME_WIDTH_MAX (a longer one pushes its line). */
#define CLI_NAME_WIDTH_MAX 64
int cli_name_width(const json_t *arr, const char *member, int min);
/* The failures of a status (view_failures_json()) under a line that says how many
 * failed (and timed out), each task's key and parameters, then why, on lines cut to
 * 79 columns, then how to list them all; nothing when none failed. `indent` prefixes
 * every line. */
void cli_print_failures(const json_t *failures,
                        const char *study,
                        long long failed,
                        long long timed_out,
                        const char *indent);
/* The rows of cli_steps_counts() as a table on stdout, one line per step. */
void cli_print_steps(const json_t *steps);

/* Draws the progress report of a study (`sweep report`) to path. */
int cli_report_write(struct store *st,
                     const char *study,
                     const char *path,
                     struct err *err);

/* Prints v on stdout as indented JSON (jsonx_pretty_str: reals in their shortest form),
 * for every --json output. */
void cli_print_json(const json_t *v);

/* The width of the terminal on fd (TIOCGWINSZ), else $COLUMNS, else 80. */
int cli_term_columns(int fd);
/* cli_term_columns(STDERR_FILENO): runner_opts.columns of the progress line. */
int cli_stderr_columns(void);

/* Tells the spec the other names of model m's seed parameter (its aliases, e.g.
 * "semilla"), so that expansion and the runner treat them as "seed" (see expand.h).
 * Does nothing for a NULL model or one without a seed. */
struct spec;
struct model;
void cli_spec_seed_names(struct spec *spec, const struct model *m);

/* runner_run() under the program's signal watch (sigwatch.h): SIGINT, SIGTERM and
 * SIGHUP stop the run cleanly while it lasts. Returns runner_run()'s code. */
struct spec;
struct runner_opts;
struct runner_summary;
int cli_runner_run(struct store *st,
                   const struct spec *spec,
                   long long study_id,
                   long long generation,
                   const struct runner_opts *o,
                   struct runner_summary *sum,
                   struct err *err);

/* Absolute path of the running sweep binary (for `sweep sim` tasks). */
const char *cli_self_path(void);

/* The inbox `sweep serve` on this home watches unless given --inbox (cmd_serve.c): its
 * setting resolved as serve resolves it, $SWEEP_INBOX, else SWEEP_INBOX in
 * <home>/.env, else task_queues; relative in the home (new string). NULL with err
 * when the .env file cannot be read or has a malformed line. */
char *serve_inbox_path(const char *home, struct err *err);

#endif
