/* --server URL: `sweep status`, `sweep results` and `sweep run` against a running
 * `sweep serve` instead of the local home, with the output and exit codes of the local
 * commands where the service's answers carry the same information (cmd_client.c). */
#ifndef SWEEP_CLI_REMOTE_H
#define SWEEP_CLI_REMOTE_H

#include "common/err.h"

#include <stdbool.h>

/* The service URL of a command: the --server flag, else $SWEEP_SERVER unless the
 * command was given --home (home_flag not NULL: the user means the local home), else
 * NULL (run locally). */
const char *remote_server(const char *flag, const char *home_flag);
/* Prints "sweep: MESSAGE" and returns the exit code of a client_code (client.h):
 * EXIT_NO_SERVICE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_BAD_ANSWER, EXIT_USAGE for a
 * request the service refused, EXIT_UNEXPECTED otherwise. */
int remote_fail(int client_code, const struct err *err);

/* `sweep status [STUDY] --server URL`. */
int remote_status(const char *url,
                  const char *token_file,
                  const char *study,
                  bool json);
/* `sweep results STUDY --server URL`: format "table", "csv" or "json". */
int remote_results(const char *url,
                   const char *token_file,
                   const char *study,
                   const char *format);
/* `sweep run SPEC --server URL`: submits SPEC (POST /studies) and, unless detach,
 * follows it until it ends: exit 0 when every task succeeded, 1 when some failed or it
 * was cancelled, 130 when interrupted (or on Ctrl-C, which stops following only: the
 * study runs on). */
int remote_run(const char *url,
               const char *token_file,
               const char *spec_path,
               bool detach,
               bool json,
               bool quiet);

#endif
