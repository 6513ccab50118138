/* Unit tests of the local executor: exit statuses, output files, working directory,
 * environment, PATH lookup, spawn errors, timeouts and their escalation, grandchildren,
 * rusage, many tasks, kills, signals to sweep itself and children that are not ours.
 * Every wait has a generous deadline to avoid hanging; nothing asserts speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/timeutil.h"
#include "core/exec.h"
#include "core/sigwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE 20.0 /* seconds; only to turn a hang into a failure */
#define MAXRES 600

extern char **environ;

struct fixture {
    char dir[PATH_MAX];
    char out[PATH_MAX + 8], errp[PATH_MAX + 8];
    struct exec_pool *pool;
    sigset_t mask_before;
    struct exec_result res[MAXRES];
    int nres;
};

static char *env_default[] = {"PATH=/usr/bin:/bin", NULL};

static void on_done(const struct exec_result *res, void *arg)
{
    struct fixture *fx = arg;
    assert_true(fx->nres < MAXRES);
    fx->res[fx->nres++] = *res;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    struct err err;

    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "%s/sweep-test-exec-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->out, sizeof(fx->out), "%s/out", fx->dir);
    snprintf(fx->errp, sizeof(fx->errp), "%s/err", fx->dir);
    sigprocmask(SIG_BLOCK, NULL, &fx->mask_before);
    if (exec_pool_create(&fx->pool, &err) != SWEEP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = fx;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    exec_pool_destroy(fx->pool);
    nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Spawns argv in the fixture's directory with stdout/stderr to its out/err files. */
static pid_t
spawn(struct fixture *fx, char **argv, double timeout, double kill_after, void *ctx)
{
    struct exec_cmd cmd = {
        .argv = argv,
        .envp = env_default,
        .cwd = fx->dir,
        .stdout_path = fx->out,
        .stderr_path = fx->errp,
        .timeout = timeout,
        .kill_after = kill_after,
        .ctx = ctx,
    };
    struct err err;
    pid_t pid = 0;
    int rc = exec_spawn(fx->pool, &cmd, &pid, &err);
    if (rc != SWEEP_OK)
        fail_msg("exec_spawn: %s", err.msg);
    assert_true(pid > 0);
    return pid;
}

static pid_t
spawn_sh(struct fixture *fx, const char *script, double timeout, double kill_after)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    return spawn(fx, argv, timeout, kill_after, NULL);
}

/* Polls until the fixture holds `n` results. */
static void collect(struct fixture *fx, int n)
{
    double end = time_mono() + DEADLINE;
    struct err err;

    while (fx->nres < n) {
        int signo = 0;
        assert_true(time_mono() < end);
        assert_true(exec_poll(fx->pool, 100, on_done, fx, &signo, &err) >= 0);
        assert_int_equal(signo, 0);
    }
    assert_int_equal(fx->nres, n);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void wait_nonempty(const char *path)
{
    double end = time_mono() + DEADLINE;
    struct stat st;

    while (stat(path, &st) < 0 || st.st_size == 0) {
        assert_true(time_mono() < end);
        sleep_ms(10);
    }
}

/* Gone: no such process, or a zombie waiting for its reaper (pid 1 here may never
 * reap orphans), which is dead all the same. */
static int is_gone(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;
    size_t n;
    char *paren;

    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if (!(f = fopen(path, "r")))
        return 1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

static void assert_gone_soon(pid_t pid)
{
    double end = time_mono() + DEADLINE;
    while (!is_gone(pid)) {
        assert_true(time_mono() < end);
        sleep_ms(10);
    }
}

/* Waits for a task's output file to hold something: the pool drains the pipe into it
 * while it is polled. */
static void wait_output(struct fixture *fx, const char *path)
{
    double end = time_mono() + DEADLINE;
    struct stat st;
    struct err err;

    while (stat(path, &st) < 0 || st.st_size == 0) {
        assert_true(time_mono() < end);
        assert_true(exec_poll(fx->pool, 10, on_done, fx, NULL, &err) >= 0);
    }
}

static pid_t read_pid(const char *path)
{
    char *s, *endp;
    long v;

    wait_nonempty(path);
    s = slurp(path);
    errno = 0;
    v = strtol(s, &endp, 10);
    assert_int_equal(errno, 0);
    assert_true(v > 0 && endp != s);
    return (pid_t)v;
}

static void test_exit_status(void **state)
{
    static const struct {
        const char *script;
        bool exited;
        int code, signal;
    } cases[] = {
        {"exit 0", true, 0, 0},
        {"exit 1", true, 1, 0},
        {"exit 42", true, 42, 0},
        {"exit 255", true, 255, 0},
        {"kill -SEGV $$", false, 0, SIGSEGV},
        {"kill -TERM $$", false, 0, SIGTERM},
        {"kill -KILL $$", false, 0, SIGKILL},
    };
    struct fixture *fx = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx->nres = 0;
        pid_t pid = spawn_sh(fx, cases[i].script, 0, 0);
        collect(fx, 1);
        assert_int_equal(fx->res[0].pid, pid);
        assert_int_equal(fx->res[0].exited, cases[i].exited);
        assert_int_equal(fx->res[0].exit_code, cases[i].code);
        assert_int_equal(fx->res[0].signal, cases[i].signal);
        assert_false(fx->res[0].timed_out);
        assert_true(fx->res[0].wall >= 0);
    }
    assert_int_equal(exec_running(fx->pool), 0);
}

/* Signals ignored or blocked in sweep are at their defaults in a task: otherwise the
 * shell, which keeps a signal ignored on entry, would survive these. */
/* A task starts with default dispositions: SIGUSR1 ignored when the pool is made (as
 * an inherited SIG_IGN), SIGPIPE and SIGINT ignored after it (the signals the program
 * may catch or ignore later). */
static void test_signals_reset(void **state)
{
    static const int sigs[] = {SIGUSR1, SIGPIPE, SIGINT};
    struct fixture *fx = *state;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old[3];
    struct err err;
    char script[64];

    assert_int_equal(sigaction(SIGUSR1, &ign, &old[0]), 0);
    exec_pool_destroy(fx->pool);
    assert_int_equal(exec_pool_create(&fx->pool, &err), SWEEP_OK);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (i > 0)
            assert_int_equal(sigaction(sigs[i], &ign, &old[i]), 0);
        snprintf(script, sizeof(script), "kill -%d $$; exit 9", sigs[i]);
        fx->nres = 0;
        spawn_sh(fx, script, 0, 0);
        collect(fx, 1);
        assert_int_equal(fx->res[0].signal, sigs[i]);
    }
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &old[i], NULL);
}

static void test_output_files(void **state)
{
    struct fixture *fx = *state;
    struct exec_cmd cmd = {.envp = env_default, .cwd = fx->dir};
    char *shared[] = {"/bin/sh", "-c", "echo a; echo b >&2; echo c", NULL};
    char *quiet[] = {"/bin/sh", "-c", "echo lost; echo lost >&2; exit 3", NULL};
    struct err err;
    FILE *f;

    /* Separate files, truncated. */
    assert_non_null(f = fopen(fx->out, "w"));
    fputs("old content that is longer than the new one\n", f);
    fclose(f);
    spawn_sh(fx, "echo out; echo err >&2", 0, 0);
    collect(fx, 1);
    assert_string_equal(slurp(fx->out), "out\n");
    assert_string_equal(slurp(fx->errp), "err\n");

    /* One path for both shares the file offset, like >f 2>&1. */
    cmd.argv = shared;
    cmd.stdout_path = cmd.stderr_path = fx->out;
    assert_int_equal(exec_spawn(fx->pool, &cmd, NULL, &err), SWEEP_OK);
    collect(fx, 2);
    assert_string_equal(slurp(fx->out), "a\nb\nc\n");

    /* No paths: /dev/null for both. */
    cmd.argv = quiet;
    cmd.stdout_path = cmd.stderr_path = NULL;
    assert_int_equal(exec_spawn(fx->pool, &cmd, NULL, &err), SWEEP_OK);
    collect(fx, 3);
    assert_int_equal(fx->res[2].exit_code, 3);
}

/* Output goes through pipes into files made at the first byte: nothing written, no
 * file; every byte of a large output and of the task's children is in the file when
 * the task is reported; a writer that left the task's group is still drained after. */
static void test_output_pipes(void **state)
{
    struct fixture *fx = *state;
    struct stat st;
    double end;

    unlink(fx->out);
    unlink(fx->errp);
    spawn_sh(fx, "exit 0", 0, 0);
    collect(fx, 1);
    assert_int_equal(access(fx->out, F_OK), -1);
    assert_int_equal(access(fx->errp, F_OK), -1);

    fx->nres = 0;
    spawn_sh(fx, "head -c 3000000 /dev/zero; (seq 1 20000 >&2) & wait", 0, 0);
    collect(fx, 1);
    assert_int_equal(stat(fx->out, &st), 0);
    assert_int_equal(st.st_size, 3000000);
    assert_int_equal(stat(fx->errp, &st), 0);
    assert_int_equal(st.st_size, 108894); /* seq 1 20000 | wc -c */

    fx->nres = 0;
    spawn_sh(fx,
             "setsid sh -c 'echo $$ >sid; sleep 0.3; echo late' & "
             "while [ ! -s sid ]; do sleep 0.01; done; echo early",
             0, 0);
    collect(fx, 1);
    assert_string_equal(slurp(fx->out), "early\n");
    end = time_mono() + DEADLINE;
    while (strcmp(slurp(fx->out), "early\nlate\n") != 0) {
        struct err err;
        assert_true(time_mono() < end);
        assert_true(exec_poll(fx->pool, 50, on_done, fx, NULL, &err) >= 0);
    }
}

/* A task sees /dev/null as stdin and no descriptor but 0, 1 and 2, even one that sweep
 * left open without O_CLOEXEC. */
static void test_fds(void **state)
{
    struct fixture *fx = *state;
    int leak = open("/dev/null", O_RDONLY);

    assert_true(leak > 2);
    spawn_sh(fx, "readlink /proc/$$/fd/0; ls /proc/$$/fd", 0, 0);
    collect(fx, 1);
    close(leak);
    assert_int_equal(fx->res[0].exit_code, 0);
    assert_string_equal(slurp(fx->out), "/dev/null\n0\n1\n2\n");
}

static void test_cwd(void **state)
{
    struct fixture *fx = *state;
    char *argv[] = {"/bin/pwd", NULL};
    char real[PATH_MAX], want[PATH_MAX + 2];

    assert_non_null(realpath(fx->dir, real));
    snprintf(want, sizeof(want), "%s\n", real);
    spawn(fx, argv, 0, 0, NULL);
    collect(fx, 1);
    assert_int_equal(fx->res[0].exit_code, 0);
    assert_string_equal(slurp(fx->out), want);
}

static void test_env_exact(void **state)
{
    static char *envs[][4] = {
        {"FOO=bar", "X=1 2", "EMPTY=", NULL},
        {NULL},
    };
    static const char *want[] = {"FOO=bar\nX=1 2\nEMPTY=\n", ""};
    struct fixture *fx = *state;
    char *argv[] = {"/usr/bin/env", NULL};
    struct err err;

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct exec_cmd cmd = {
            .argv = argv, .envp = envs[i], .cwd = fx->dir, .stdout_path = fx->out};
        fx->nres = 0;
        unlink(fx->out);
        assert_int_equal(exec_spawn(fx->pool, &cmd, NULL, &err), SWEEP_OK);
        collect(fx, 1);
        assert_int_equal(fx->res[0].exit_code, 0);
        if (want[i][0])
            assert_string_equal(slurp(fx->out), want[i]);
        else /* nothing written: no file made */
            assert_int_equal(access(fx->out, F_OK), -1);
    }
}

/* A name without a slash is looked up in the task's PATH, not sweep's; relative
 * entries are ignored. */
static void test_path_lookup(void **state)
{
    struct fixture *fx = *state;
    char bin[PATH_MAX + 8], prog[PATH_MAX + 16], path_env[PATH_MAX + 32];
    char *argv_mine[] = {"myprog", NULL}, *argv_true[] = {"true", NULL};
    char *env_mine[] = {path_env, NULL}, *env_rel[] = {"PATH=bin:", NULL};
    char *env_none[] = {"A=b", NULL};
    struct err err;
    FILE *f;

    snprintf(bin, sizeof(bin), "%s/bin", fx->dir);
    snprintf(prog, sizeof(prog), "%s/myprog", bin);
    snprintf(path_env, sizeof(path_env), "PATH=/nonexistent:%s", bin);
    assert_int_equal(mkdir(bin, 0755), 0);
    assert_non_null(f = fopen(prog, "w"));
    fputs("#!/bin/sh\nexit 42\n", f);
    fclose(f);
    assert_int_equal(chmod(prog, 0755), 0);

    struct {
        char **argv, **envp;
        int rc;   /* of exec_spawn */
        int code; /* exit code when it ran */
    } cases[] = {
        {argv_mine, env_mine, SWEEP_OK, 42},
        {argv_true, env_mine, SWEEP_ESPAWN, 0}, /* not in the task's PATH */
        {argv_mine, env_rel, SWEEP_ESPAWN, 0},  /* bin/myprog, relative: ignored */
        {argv_true, env_none, SWEEP_OK, 0},     /* no PATH: sweep's own */
        {argv_mine, env_default, SWEEP_ESPAWN, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct exec_cmd cmd = {
            .argv = cases[i].argv, .envp = cases[i].envp, .cwd = fx->dir};
        fx->nres = 0;
        err.msg[0] = '\0';
        assert_int_equal(exec_spawn(fx->pool, &cmd, NULL, &err), cases[i].rc);
        if (cases[i].rc == SWEEP_OK) {
            collect(fx, 1);
            assert_true(fx->res[0].exited);
            assert_int_equal(fx->res[0].exit_code, cases[i].code);
        } else {
            assert_non_null(strstr(err.msg, cases[i].argv[0]));
            assert_non_null(strstr(err.msg, "PATH"));
        }
    }
    assert_int_equal(exec_running(fx->pool), 0);
}

static void test_spawn_errors(void **state)
{
    struct fixture *fx = *state;
    char noexec[PATH_MAX + 16], missing_dir[PATH_MAX + 16], bad_out[PATH_MAX + 16];
    char *argv_missing[] = {"/nonexistent/sweep-no-such-prog", NULL};
    char *argv_noexec[] = {noexec, NULL}, *argv_true[] = {"/bin/true", NULL};
    char *argv_empty[] = {NULL};
    struct err err;
    FILE *f;

    snprintf(noexec, sizeof(noexec), "%s/noexec", fx->dir);
    snprintf(missing_dir, sizeof(missing_dir), "%s/no/such/dir", fx->dir);
    snprintf(bad_out, sizeof(bad_out), "%s/no/out", fx->dir);
    assert_non_null(f = fopen(noexec, "w"));
    fputs("#!/bin/sh\n", f);
    fclose(f);

    struct {
        char **argv;
        const char *cwd, *out;
        int rc;
        const char *want1, *want2;
    } cases[] = {
        {argv_missing, fx->dir, NULL, SWEEP_ESPAWN, "sweep-no-such-prog",
         "No such file or directory"},
        {argv_noexec, fx->dir, NULL, SWEEP_ESPAWN, "noexec", "Permission denied"},
        {argv_true, missing_dir, NULL, SWEEP_ESPAWN, "working directory",
         "no/such/dir"},
        {argv_true, noexec, NULL, SWEEP_ESPAWN, "working directory", "Not a directory"},
        {argv_empty, fx->dir, NULL, SWEEP_EINVAL, "empty", "command"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct exec_cmd cmd = {.argv = cases[i].argv,
                               .envp = env_default,
                               .cwd = cases[i].cwd,
                               .stdout_path = cases[i].out};
        pid_t pid = -7;
        err.msg[0] = '\0';
        assert_int_equal(exec_spawn(fx->pool, &cmd, &pid, &err), cases[i].rc);
        assert_int_equal(pid, -7);
        assert_non_null(strstr(err.msg, cases[i].want1));
        assert_non_null(strstr(err.msg, cases[i].want2));
    }
    /* Nothing is left running and nothing is reported. */
    assert_int_equal(exec_running(fx->pool), 0);
    assert_int_equal(exec_poll(fx->pool, 0, on_done, fx, NULL, &err), 0);
    assert_int_equal(fx->nres, 0);

    /* An output file that cannot be made: the task runs, its output is dropped and
     * the result says why; a task that writes nothing needs no file. */
    char *argv_echo[] = {"/bin/echo", "x", NULL};
    char **out_argv[] = {argv_echo, argv_true};
    for (int i = 0; i < 2; i++) {
        struct exec_cmd cmd = {
            .argv = out_argv[i], .envp = env_default, .stdout_path = bad_out};
        fx->nres = 0;
        assert_int_equal(exec_spawn(fx->pool, &cmd, NULL, &err), SWEEP_OK);
        collect(fx, 1);
        assert_int_equal(fx->res[0].exit_code, 0);
        assert_int_equal(fx->res[0].out_err, i == 0 ? ENOENT : 0);
    }
}

static void test_timeout(void **state)
{
    struct fixture *fx = *state;
    char *argv[] = {"/bin/sleep", "100", NULL};
    pid_t pid = spawn(fx, argv, 0.2, 5, NULL);

    collect(fx, 1);
    assert_int_equal(fx->res[0].pid, pid);
    assert_true(fx->res[0].timed_out);
    assert_false(fx->res[0].exited);
    assert_int_equal(fx->res[0].signal, SIGTERM);
}

/* A task that ignores SIGTERM gets SIGKILL kill_after seconds later. */
static void test_timeout_escalates(void **state)
{
    struct fixture *fx = *state;

    spawn_sh(fx, "trap '' TERM; sleep 100", 0.5, 0.2);
    collect(fx, 1);
    assert_true(fx->res[0].timed_out);
    assert_int_equal(fx->res[0].signal, SIGKILL);
}

/* Whatever is left of a task's process group dies with it: when the task exits, times
 * out, or times out while a grandchild ignores SIGTERM. */
static void test_grandchildren(void **state)
{
    static const struct {
        const char *script;
        double timeout;
        bool timed_out;
    } cases[] = {
        {"sleep 1000 & echo $! > gpid; exit 0", 0, false},
        {"sleep 1000 & echo $! > gpid; wait", 0.5, true},
        {"(trap '' TERM; exec sleep 1000) & echo $! > gpid; wait", 0.5, true},
    };
    struct fixture *fx = *state;
    char gpid[PATH_MAX + 8];

    snprintf(gpid, sizeof(gpid), "%s/gpid", fx->dir);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx->nres = 0;
        unlink(gpid);
        spawn_sh(fx, cases[i].script, cases[i].timeout, 5);
        collect(fx, 1);
        assert_int_equal(fx->res[0].timed_out, cases[i].timed_out);
        assert_gone_soon(read_pid(gpid));
    }
}

static void test_rusage(void **state)
{
    struct fixture *fx = *state;

    spawn_sh(fx, "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done", 0, 0);
    collect(fx, 1);
    assert_true(fx->res[0].exited);
    assert_int_equal(fx->res[0].exit_code, 0);
    assert_true(fx->res[0].user > 0);
    assert_true(fx->res[0].sys >= 0);
    assert_true(fx->res[0].maxrss_kb > 0);
    assert_true(fx->res[0].wall > 0);
}

/* 500 tasks, 8 in flight: each is reported exactly once, with its own ctx. */
static void test_many(void **state)
{
    enum { N = 500, INFLIGHT = 8 };
    struct fixture *fx = *state;
    static int seen[N];
    char *argv[] = {"/bin/true", NULL};
    double end = time_mono() + DEADLINE;
    struct err err;
    int started = 0;

    memset(seen, 0, sizeof(seen));
    while (fx->nres < N) {
        while (started < N && exec_running(fx->pool) < INFLIGHT) {
            struct exec_cmd cmd = {
                .argv = argv, .envp = env_default, .ctx = &seen[started]};
            assert_int_equal(exec_spawn(fx->pool, &cmd, NULL, &err), SWEEP_OK);
            started++;
        }
        assert_true(time_mono() < end);
        assert_true(exec_poll(fx->pool, 100, on_done, fx, NULL, &err) >= 0);
    }
    assert_int_equal(fx->nres, N);
    for (int i = 0; i < N; i++) {
        int *ctx = fx->res[i].ctx;
        assert_true(ctx >= seen && ctx < seen + N);
        assert_int_equal(fx->res[i].exit_code, 0);
        (*ctx)++;
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(exec_running(fx->pool), 0);
}

/* exec_kill without escalation sends one signal; a pid that is not a task is left
 * alone (here: the test process itself). */
static void test_kill_one(void **state)
{
    struct fixture *fx = *state;
    char *argv[] = {"/bin/sleep", "100", NULL};
    pid_t pid = spawn(fx, argv, 0, 0, NULL);

    exec_kill(fx->pool, getpid(), SIGKILL, false);
    exec_kill(fx->pool, pid, SIGTERM, false);
    collect(fx, 1);
    assert_int_equal(fx->res[0].signal, SIGTERM);
    assert_false(fx->res[0].timed_out);
}

/* Tasks that ignore SIGTERM are SIGKILLed kill_after seconds after exec_kill_all. */
static void test_kill_all_escalates(void **state)
{
    enum { N = 3 };
    struct fixture *fx = *state;
    char *argv[] = {"/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 100", NULL};
    char out[N][PATH_MAX + 8];
    struct err err;

    for (int i = 0; i < N; i++) {
        snprintf(out[i], sizeof(out[i]), "%s/ready%d", fx->dir, i);
        struct exec_cmd cmd = {.argv = argv,
                               .envp = env_default,
                               .stdout_path = out[i],
                               .kill_after = 0.2};
        assert_int_equal(exec_spawn(fx->pool, &cmd, NULL, &err), SWEEP_OK);
    }
    for (int i = 0; i < N; i++)
        wait_output(fx, out[i]);
    exec_kill_all(fx->pool, SIGTERM, true);
    collect(fx, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(fx->res[i].signal, SIGKILL);
        assert_false(fx->res[i].timed_out);
    }
}

/* SIGINT, SIGTERM and SIGHUP sent to sweep, caught by the program's watch, are reported
 * by exec_poll when asked, not fatal; without `signo` they are left for their owner. */
static void test_signals_reported(void **state)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct fixture *fx = *state;
    char *argv[] = {"/bin/sleep", "100", NULL};
    struct err err;

    assert_int_equal(sigwatch_open(&err), SWEEP_OK);
    assert_int_equal(sigwatch_open(&err), SWEEP_EINVAL);
    spawn(fx, argv, 0, 0, NULL);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        int signo = 0;
        raise(sigs[i]);
        assert_int_equal(
            exec_poll(fx->pool, (int)(DEADLINE * 1000), on_done, fx, &signo, &err), 0);
        assert_int_equal(signo, sigs[i]);
    }
    raise(SIGINT);
    assert_int_equal(exec_poll(fx->pool, 50, on_done, fx, NULL, &err), 0);
    assert_int_equal(sigwatch_take(), SIGINT);
    assert_int_equal(sigwatch_take(), 0);
    assert_int_equal(exec_running(fx->pool), 1);
    exec_kill_all(fx->pool, SIGKILL, false);
    collect(fx, 1);
    /* One that is never read is discarded when the watch closes. */
    raise(SIGINT);
    sigwatch_close();
    sigwatch_close();
    assert_int_equal(sigwatch_fd(), -1);
}

/* A child of ours that the pool did not spawn is neither reported nor reaped, and does
 * not hide the pool's own tasks. */
static void test_foreign_child(void **state)
{
    struct fixture *fx = *state;
    char *argv[] = {"/bin/sh", "-c", "exit 7", NULL};
    char *argv_true[] = {"/bin/true", NULL};
    pid_t foreign;
    siginfo_t si;
    int status;

    assert_int_equal(posix_spawn(&foreign, argv[0], NULL, NULL, argv, environ), 0);
    assert_int_equal(waitid(P_PID, (id_t)foreign, &si, WEXITED | WNOWAIT), 0);
    for (int i = 0; i < 5; i++)
        spawn(fx, argv_true, 0, 0, NULL);
    collect(fx, 5);
    for (int i = 0; i < 5; i++)
        assert_int_not_equal(fx->res[i].pid, foreign);
    assert_int_equal(waitpid(foreign, &status, 0), foreign);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

/* Destroying the pool kills and reaps running tasks with their groups; the pool never
 * changed the signal mask. */
static void test_destroy(void **state)
{
    struct fixture *fx = *state;
    char gpid[PATH_MAX + 8];
    sigset_t now;
    pid_t pid;

    snprintf(gpid, sizeof(gpid), "%s/gpid", fx->dir);
    pid = spawn_sh(fx, "sleep 1000 & echo $! > gpid; wait", 0, 0);
    pid_t grandchild = read_pid(gpid);
    exec_pool_destroy(fx->pool);
    fx->pool = NULL;
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_gone_soon(grandchild);
    sigprocmask(SIG_BLOCK, NULL, &now);
    static const int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        assert_int_equal(sigismember(&now, sigs[i]),
                         sigismember(&fx->mask_before, sigs[i]));
}

/* Collects `n` results of another pool into fx (the test_two_pools case). */
static void collect_pool(struct fixture *fx, struct exec_pool *pool, int n)
{
    double end = time_mono() + DEADLINE;
    struct err err;

    while (fx->nres < n) {
        assert_true(time_mono() < end);
        assert_true(exec_poll(pool, 100, on_done, fx, NULL, &err) >= 0);
    }
    assert_int_equal(fx->nres, n);
}

/* Two pools in one process, each seeing only its own children; destroying one, in
 * either order, while the other's children still run leaves the other working (the
 * pool that owned the signal mask used to take SIGCHLD away from the other). Neither
 * pool changes the signal mask. */
static void test_two_pools(void **state)
{
    struct fixture *fx = *state;
    char *long_argv[] = {"/bin/sleep", "100", NULL};
    char *short_argv[] = {"/bin/sleep", "0.3", NULL};
    char *true_argv[] = {"/bin/true", NULL};
    struct err err;
    sigset_t now;

    /* Only the two pools of the case in this process. */
    exec_pool_destroy(fx->pool);
    fx->pool = NULL;
    for (int order = 0; order < 2; order++) {
        struct exec_pool *a, *b;
        assert_int_equal(exec_pool_create(&a, &err), SWEEP_OK);
        assert_int_equal(exec_pool_create(&b, &err), SWEEP_OK);
        struct exec_pool *gone = order ? b : a, *kept = order ? a : b;
        struct exec_cmd lc = {.argv = long_argv, .envp = env_default};
        struct exec_cmd sc = {.argv = short_argv, .envp = env_default};
        struct exec_cmd tc = {.argv = true_argv, .envp = env_default};
        pid_t victim, mine[2];

        assert_int_equal(exec_spawn(gone, &lc, &victim, &err), SWEEP_OK);
        assert_int_equal(exec_spawn(kept, &sc, &mine[0], &err), SWEEP_OK);
        assert_int_equal(exec_spawn(kept, &tc, &mine[1], &err), SWEEP_OK);
        /* The other pool's poll does not report (or reap) kept's tasks. */
        assert_int_equal(exec_poll(gone, 50, on_done, fx, NULL, &err), 0);
        exec_pool_destroy(gone);
        assert_gone_soon(victim);
        fx->nres = 0;
        collect_pool(fx, kept, 2);
        for (int i = 0; i < 2; i++) {
            assert_true(fx->res[i].pid == mine[0] || fx->res[i].pid == mine[1]);
            assert_true(fx->res[i].exited);
            assert_int_equal(fx->res[i].exit_code, 0);
        }
        assert_int_equal(exec_running(kept), 0);
        exec_pool_destroy(kept);
    }
    sigprocmask(SIG_BLOCK, NULL, &now);
    assert_false(sigismember(&now, SIGCHLD) && !sigismember(&fx->mask_before, SIGCHLD));
    assert_false(sigismember(&now, SIGINT) && !sigismember(&fx->mask_before, SIGINT));
    fx->nres = 0;
}

/* A task dies with the process that spawned it, even when that one is killed with
 * SIGKILL and cannot clean up (parent-death signal). A helper process runs the pool;
 * this process is the subreaper that inherits the orphaned task and reaps it. */
static void test_parent_death(void **state)
{
    struct fixture *fx = *state;
    int fds[2], status;
    pid_t helper, task = 0;

    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    assert_int_equal(pipe(fds), 0);
    helper = fork();
    assert_true(helper >= 0);
    if (helper == 0) {
        struct exec_pool *pool;
        struct err err;
        char *argv[] = {"/bin/sleep", "100", NULL};
        struct exec_cmd cmd = {.argv = argv, .envp = env_default};
        pid_t pid = 0;
        if (exec_pool_create(&pool, &err) || exec_spawn(pool, &cmd, &pid, &err))
            _exit(1);
        if (write(fds[1], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &task, sizeof(task)), (ssize_t)sizeof(task));
    close(fds[0]);
    assert_true(task > 0);
    assert_int_equal(kill(helper, SIGKILL), 0);
    assert_int_equal(waitpid(helper, &status, 0), helper);

    /* The task is ours now (subreaper): it must end by itself, by SIGKILL. */
    double end = time_mono() + DEADLINE;
    pid_t r;
    while ((r = waitpid(task, &status, WNOHANG)) == 0 && time_mono() < end)
        sleep_ms(10);
    if (r == 0) {
        kill(-task, SIGKILL);
        waitpid(task, &status, 0);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    (void)fx;
    assert_int_equal(r, task);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* `test_exec --alloc MB`: a task that touches MB megabytes and exits. */
static int alloc_task(const char *mb_arg)
{
    size_t n = (size_t)strtoul(mb_arg, NULL, 10) << 20;
    volatile char *p = malloc(n);
    if (!p)
        return 1;
    for (size_t i = 0; i < n; i += 4096)
        p[i] = 1;
    free((void *)p);
    return 0;
}

/* Peak RSS is the task's own when the task is larger than sweep (exec.h: for a small
 * task it is sweep's size at the spawn, carried through the exec). The figures of a
 * small task are printed, not asserted. */
static void test_peak_rss(void **state)
{
    struct fixture *fx = *state;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *alloc_argv[] = {self, "--alloc", "64", NULL};
    char *true_argv[] = {"/bin/true", NULL};
    struct rusage me;

    assert_true(n > 0);
    self[n] = '\0';
    spawn(fx, alloc_argv, 0, 0, NULL);
    collect(fx, 1);
    assert_int_equal(fx->res[0].exit_code, 0);
    assert_true(fx->res[0].maxrss_kb >= 64 * 1024);
    spawn(fx, true_argv, 0, 0, NULL);
    collect(fx, 2);
    getrusage(RUSAGE_SELF, &me);
    printf("peak RSS: /bin/true %ld kB, this process %ld kB\n", fx->res[1].maxrss_kb,
           me.ru_maxrss);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--alloc") == 0)
        return alloc_task(argv[2]);
    /* No core files from the SIGSEGV case. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signals_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_pipes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cwd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spawn_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_escalates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grandchildren, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rusage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_all_escalates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signals_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_pools, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_death, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peak_rss, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
