/* The spawn limit: runs N copies of a command with at most P in flight, using
 * posix_spawn and waitpid and nothing else (no logging, no persistence, no shell), and
 * prints the elapsed wall seconds. An argument `{}` becomes the copy's number (1..N),
 * as `{i}` does in a sweep spec and one input line does with `xargs -n 1`, so all the
 * contenders of bench/throughput.sh run the same argv.
 *
 * Usage: spawn N P CMD [ARG...] */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

/* Parses a positive decimal integer; returns 0 when s is not one. */
static long spawn_parse_count(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v <= 0)
        return 0;
    return v;
}

static double spawn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reaps one child; returns -1 on error or when it did not exit 0. */
static int spawn_reap(void)
{
    int status = 0;
    pid_t pid;
    do {
        pid = waitpid(-1, &status, 0);
    } while (pid < 0 && errno == EINTR);
    if (pid < 0) {
        perror("spawn: waitpid");
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn: child %ld did not exit 0 (status %d)\n", (long)pid,
                status);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: spawn N P CMD [ARG...]\n");
        return 2;
    }
    long n = spawn_parse_count(argv[1]);
    long p = spawn_parse_count(argv[2]);
    if (n == 0 || p == 0) {
        fprintf(stderr, "spawn: N and P must be positive integers\n");
        return 2;
    }

    /* child argv: CMD ARG... NULL, each `{}` pointing at the copy's number */
    int nargs = argc - 3;
    char index[24];
    char **cargv = calloc((size_t)nargs + 1, sizeof *cargv);
    if (cargv == NULL) {
        perror("spawn: calloc");
        return 1;
    }
    for (int i = 0; i < nargs; i++)
        cargv[i] = strcmp(argv[3 + i], "{}") == 0 ? index : argv[3 + i];

    int rc = 0;
    long in_flight = 0;
    double start = spawn_now();
    for (long i = 1; i <= n; i++) {
        if (in_flight == p) {
            in_flight--;
            if (spawn_reap() != 0) {
                rc = 1;
                break;
            }
        }
        snprintf(index, sizeof index, "%ld", i);
        pid_t pid;
        int e = posix_spawn(&pid, cargv[0], NULL, NULL, cargv, environ);
        if (e != 0) {
            fprintf(stderr, "spawn: %s: %s\n", cargv[0], strerror(e));
            rc = 1;
            break;
        }
        in_flight++;
    }
    for (; in_flight > 0; in_flight--)
        if (spawn_reap() != 0)
            rc = 1;
    double elapsed = spawn_now() - start;

    free(cargv);
    if (rc == 0)
        printf("%.6f\n", elapsed);
    return rc;
}
