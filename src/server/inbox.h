/* The task inbox of `sweep serve`: a directory watched with inotify where users and
 * other programs drop task files (the task-queue JSON, tasks.yaml) and study specs.
 * Module-private to src/server.
 *
 * Two threads: the inbox thread (started by inbox_open()) reads and parses, so that
 * a large file never holds up the main thread's ticks; the main thread (service.c
 * polls inbox_fd()) hands each parsed file to the service (inbox_dispatch()).
 *
 * A file is taken only when complete: after it was closed after writing
 * (IN_CLOSE_WRITE) or renamed in (IN_MOVED_TO), and the files found when the thread
 * starts (and after an event overflow); it is then read under a read lease
 * (F_SETLEASE), which the kernel refuses while any process has the file open for
 * writing: such a file (a slow writer's, one written by two programs, one being
 * written when the service starts) is left alone, told once on the log, and tried
 * again every half second until no one writes it. Where no lease can be had (a file
 * of another user when the service lacks CAP_LEASE, a file system without leases) the
 * close or the rename is the only sign of a complete file. Dotfiles (`sweep new`
 * writes .NAME.tmp.PID, then renames), names ending in .tmp, directories and the
 * processed/ and rejected/ folders are ignored. Each file is parsed and checked as
 * `sweep run FILE` checks it (same messages: path:line:col: field: ...), handed to
 * the service (inbox_submit_fn: a study accepted as POST /studies accepts one) after
 * it was moved to processed/YYYYMMDD_HHMMSS_<name> (UTC; a second file of that name
 * in the same second is <stem>_2<.ext>, _3 ...); a file that is refused goes to
 * rejected/<name> with rejected/<name>.error saying what is wrong and where. One
 * file's refusal never affects another file. A file written again between its
 * reading and its hand-over is left for its next event; files read but not handed
 * over when the service stops stay in the inbox for the next start. */
#ifndef SWEEP_SERVER_INBOX_H
#define SWEEP_SERVER_INBOX_H

#include "common/err.h"
#include "core/spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct inbox;

/* Hands a checked spec (and text: the spec as compact JSON) to the service, its file
 * already moved to processed/<processed> (the name without directory): SWEEP_OK once
 * accepted, else an error whose message goes to the .error file (the file then moves
 * to rejected/). Called on the main thread. */
typedef int inbox_submit_fn(void *arg,
                            const struct spec *spec,
                            const char *text,
                            const char *processed,
                            struct err *err);

/* Creates dir (and processed/, rejected/ in it) when missing and starts the inbox
 * thread, which takes the files already there, then watches the directory. Each file
 * taken is told on `log` ("sweep serve: inbox: ...", from either thread). Free with
 * inbox_destroy() (accepts NULL), which stops the thread (after the file it is
 * reading, if any). */
int inbox_open(const char *dir,
               inbox_submit_fn *submit,
               void *arg,
               FILE *log,
               struct inbox **out,
               struct err *err);
void inbox_destroy(struct inbox *ib);
/* The descriptor the main thread polls for POLLIN: parsed files wait. */
int inbox_fd(const struct inbox *ib);
/* Hands the parsed files waiting to the service (main thread; never blocks, costs a
 * rename and the submit of each). */
void inbox_dispatch(struct inbox *ib);

struct store;
/* The study of processed/<processed> could not be stored (a task the checks of
 * storing refuse, after the file was accepted): the file moves from dir/processed/ to
 * dir/rejected/<name> with <name>.error: "dir/<name>: why". Any thread. */
void inbox_refused(const char *dir, const char *processed, const char *why, FILE *log);

/* Once every task of the study of processed/<processed> has ended: writes
 * <results_dir>/task_results_YYYYMMDD_HHMMSS.json (the directory made if missing)
 * (view_inbox_results() of the file's name, with "processed": its name in processed/;
 * _2, _3 ... after the stamp when that name is taken) and refreshes
 * <results_dir>/orchestrator_stats.json (view_orchestrator_stats() with uptime and
 * tasks_run), each through a temporary file and a rename. What fails is told on log.
 */
void inbox_write_results(const char *results_dir,
                         struct store *st,
                         const char *study,
                         const char *processed,
                         double uptime,
                         long long tasks_run,
                         FILE *log);

/* Whether a directory entry of the inbox is left alone (see above; not whether it is
 * a regular file). */
bool inbox_ignored(const char *name);
/* "YYYYMMDD_HHMMSS_<name>" for a file processed at epoch seconds `when` (UTC). */
void inbox_processed_name(const char *name, double when, char *buf, size_t n);

#endif
