/* `sweep serve`: the orchestrator service. One process runs every study it accepts
 * through one engine (core/engine.h) over the local executor, sharing max_parallel
 * slots across studies in priority order, and answers a REST API (JSON) while they
 * run. The front end (src/cli/cmd_serve.c) parses flags and settings and calls
 * server_run(); this layer is the only one that links libmicrohttpd.
 *
 * Threads: the calling (main) thread owns the engine, the executor and a read-write
 * store connection; it waits in poll() over the executor's fd, a wake-up eventfd and
 * the signal watch. HTTP requests run in libmicrohttpd's threads: reads go through a
 * read connection of their own (one per thread; WAL lets them read beside the
 * writer) and never touch the engine; requests that change state hand a command to
 * the main thread (a mutex-protected queue and the eventfd) and answer from what it
 * did. A study is stored (runner_prepare, which may take seconds for a large one) by a
 * preparing thread with its own connection, then handed to the main thread, which
 * makes its runner and adds it to the engine: neither the ticks nor the requests wait
 * for it. The files of the task inbox are read and parsed by the inbox thread
 * (inbox.h), which hands each parsed one to the main thread (an eventfd it polls).
 *
 * Nothing accepted is lost: a study is accepted (202) once its spec is written to
 * <home>/serve/accepted/<study>.json, which stays until the study ends (completed,
 * failed, cancelled); SIGTERM or SIGINT stop the intake (503), terminate running
 * tasks, record them interrupted, and return; the next server_run() on the home
 * prepares every accepted file again, which resumes its study. */
#ifndef SWEEP_SERVER_SERVER_H
#define SWEEP_SERVER_SERVER_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct server_opts {
    const char *home;      /* the sweep home (absolute) */
    const char *bind;      /* HOST:PORT (config_parse_bind); port 0: any free one */
    int max_parallel;      /* slots shared by every study (> 0) */
    const char *token;     /* POST and DELETE need "Authorization: Bearer TOKEN";
                              NULL: no token */
    size_t max_body;       /* larger request bodies get 413 */
    int threads;           /* HTTP threads (>= 1) */
    bool allow_commands;   /* accept specs whose steps run commands, not models */
    const char *self_path; /* the sweep binary: model tasks run `sweep sim` */
    const char *taskfile;  /* POST /execute_tasks runs it (relative: to the home) */
    FILE *out;             /* the line "listening on http://HOST:PORT" and events */
    const char *inbox;     /* the task inbox directory (inbox.h), or NULL: none */
    const char *results;   /* where the inbox's results go; NULL: <home>/results */
    int history;           /* events GET /events keeps for replay; 0: 4096 */
    int max_retries;       /* retries of a step whose spec sets none (retries.max
                              0); 0: the spec's own */
};

/* Refuses options the service must not start with: a bind address that is not
 * loopback (127.0.0.0/8) without a token (SWEEP_EINVAL, saying so). */
int server_opts_check(const struct server_opts *o, struct err *err);

/* Runs the service until SIGTERM or SIGINT (the signal watch is opened here), then
 * stops as described above. Returns SWEEP_OK after a clean stop, else the error that
 * kept it from starting or ended it (the port taken, the store unusable). */
int server_run(const struct server_opts *o, struct err *err);

#endif
