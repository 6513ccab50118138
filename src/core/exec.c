/* The local executor (see exec.h). Tasks are started with posix_spawn, which on glibc
 * is a clone(CLONE_VM|CLONE_VFORK) that reports a failed exec back as its return value,
 * so no extra fork and no error pipe are needed; the spawn attributes (own process
 * group, empty signal mask, default dispositions) are built once per pool, the file
 * actions once per task. SIGCHLD arrives on a signalfd; reaping is race-free with
 * respect to process group reuse: waitid(WNOWAIT) finds an exited leader, its group is
 * SIGKILLed while the zombie still pins the pgid, and only then is it reaped with wait4
 * for its rusage. Running children sit in a plain array: lookups, deadline checks and
 * kills are O(running), which is small (the number of tasks in flight). Needs glibc
 * >= 2.34 (posix_spawn_file_actions_addchdir_np: 2.29, addclosefrom_np: 2.34). */
#include "exec.h"

#include "common/timeutil.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct exec_child {
    pid_t pid;
    void *ctx;
    double start;      /* monotonic seconds */
    double term_at;    /* when to send SIGTERM; INFINITY: never (or already sent) */
    double kill_at;    /* when to send SIGKILL; INFINITY: not scheduled */
    double kill_after; /* grace between SIGTERM and SIGKILL */
    bool timed_out;
};

struct exec_pool {
    int sfd;     /* signalfd for SIGCHLD, SIGINT, SIGTERM, SIGHUP */
    int devnull; /* O_RDONLY, the stdin of every task (and a NULL stdout/stderr) */
    sigset_t old_mask; /* restored by exec_pool_destroy */
    posix_spawnattr_t attr;
    struct exec_child *kids;
    size_t nkids, cap;
};

/* Moves fd to 3 or above (it is dup2'ed onto 0, 1 or 2 in the child, which would
 * clobber it if it were one of them: only when the caller runs with stdio closed). */
static int exec_fd_high(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    return high;
}

static int exec_open_out(const char *path)
{
    int fd;
    do {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    return exec_fd_high(fd);
}

int exec_pool_create(struct exec_pool **out, struct err *err)
{
    struct exec_pool *pool = xcalloc(1, sizeof(*pool));
    sigset_t set, none, deflt;
    int rc;

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, &pool->old_mask) < 0) {
        rc = err_set(err, SWEEP_EIO, "exec: sigprocmask: %s", strerror(errno));
        goto free_pool;
    }
    pool->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (pool->sfd < 0) {
        rc = err_set(err, SWEEP_EIO, "exec: signalfd: %s", strerror(errno));
        goto restore_mask;
    }
    pool->devnull = exec_fd_high(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (pool->devnull < 0) {
        rc = err_set(err, SWEEP_EIO, "exec: /dev/null: %s", strerror(errno));
        goto close_sfd;
    }

    /* Every task: its own process group, nothing blocked, every catchable signal at
     * its default action (an ignored SIGPIPE or SIGINT would otherwise be inherited).
     */
    sigemptyset(&none);
    sigfillset(&deflt);
    sigdelset(&deflt, SIGKILL);
    sigdelset(&deflt, SIGSTOP);
    posix_spawnattr_init(&pool->attr);
    posix_spawnattr_setflags(&pool->attr, POSIX_SPAWN_SETPGROUP |
                                              POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&pool->attr, 0);
    posix_spawnattr_setsigmask(&pool->attr, &none);
    posix_spawnattr_setsigdefault(&pool->attr, &deflt);
    *out = pool;
    return SWEEP_OK;

close_sfd:
    close(pool->sfd);
restore_mask:
    sigprocmask(SIG_SETMASK, &pool->old_mask, NULL);
free_pool:
    free(pool);
    return rc;
}

/* Reads every pending signalfd record. Returns -1 on error, else whether a SIGCHLD was
 * among them; the last SIGINT, SIGTERM or SIGHUP goes to *sig. Standard signals do not
 * queue, so one read of a buffer that is not filled gets them all. */
static int exec_drain(struct exec_pool *pool, int *sig)
{
    struct signalfd_siginfo si[8];
    int chld = 0;
    ssize_t n;

    do {
        n = read(pool->sfd, si, sizeof(si));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? chld : -1;
        for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
            if (si[i].ssi_signo == SIGCHLD)
                chld = 1;
            else
                *sig = (int)si[i].ssi_signo;
        }
    } while (n == (ssize_t)sizeof(si) || n < 0);
    return chld;
}

static pid_t exec_wait4(pid_t pid, int *status, struct rusage *ru)
{
    pid_t r;
    do {
        r = wait4(pid, status, 0, ru);
    } while (r < 0 && errno == EINTR);
    return r;
}

/* Signals the task's process group; if the leader has left it (setpgid), the leader
 * alone. Either way the target is pinned by the unreaped leader, so never reused. */
static void exec_signal(const struct exec_child *c, int sig)
{
    if (kill(-c->pid, sig) < 0 && errno == ESRCH)
        kill(c->pid, sig);
}

void exec_pool_destroy(struct exec_pool *pool)
{
    int sig = 0;

    if (!pool)
        return;
    for (size_t i = 0; i < pool->nkids; i++)
        exec_signal(&pool->kids[i], SIGKILL);
    for (size_t i = 0; i < pool->nkids; i++)
        exec_wait4(pool->kids[i].pid, NULL, NULL);
    /* Signals that arrived after the last exec_poll() are discarded rather than
     * delivered (a late SIGINT would otherwise kill the process on unblocking). */
    exec_drain(pool, &sig);
    close(pool->sfd);
    close(pool->devnull);
    posix_spawnattr_destroy(&pool->attr);
    sigprocmask(SIG_SETMASK, &pool->old_mask, NULL);
    free(pool->kids);
    free(pool);
}

/* Returns the value of NAME in envp, or NULL. */
static const char *exec_getenv(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++) {
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    }
    return NULL;
}

/* Finds `name` (no slash) in the PATH of the task's environment, else of ours, into
 * buf. Relative and empty PATH entries are skipped: they would resolve in the task's
 * directory, the classic way to run a planted program. Returns 0 or an errno. */
static int exec_lookup(const char *name, char *const *envp, char *buf, size_t size)
{
    const char *path = exec_getenv(envp, "PATH");
    int rc = ENOENT;

    if (!path)
        path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        struct stat st;
        if (path[0] == '/' &&
            (size_t)snprintf(buf, size, "%.*s/%s", (int)len, path, name) < size &&
            stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(buf, X_OK) == 0)
                return 0;
            rc = EACCES;
        }
        path += len + (path[len] == ':');
    }
    return rc;
}

/* Says why posix_spawn failed with `e`: the working directory or the program. */
static int
exec_spawn_error(const struct exec_cmd *cmd, int e, bool looked_up, struct err *err)
{
    struct stat st;

    if (cmd->cwd) {
        int ce = 0;
        if (stat(cmd->cwd, &st) < 0)
            ce = errno;
        else if (!S_ISDIR(st.st_mode))
            ce = ENOTDIR;
        else if (access(cmd->cwd, X_OK) < 0)
            ce = errno;
        if (ce)
            return err_set(err, SWEEP_ESPAWN,
                           "cannot run '%s': working directory '%s': %s", cmd->argv[0],
                           cmd->cwd, strerror(ce));
    }
    return err_set(err, SWEEP_ESPAWN, "cannot run '%s': %s%s", cmd->argv[0],
                   strerror(e), looked_up && e == ENOENT ? " (searched PATH)" : "");
}

int exec_spawn(struct exec_pool *pool,
               const struct exec_cmd *cmd,
               pid_t *pid,
               struct err *err)
{
    char found[PATH_MAX];
    const char *prog;
    bool looked_up = false;
    int out = pool->devnull, errfd = pool->devnull;
    posix_spawn_file_actions_t fa;
    pid_t child;
    int rc = SWEEP_OK, e;

    if (!cmd->argv || !cmd->argv[0] || !cmd->argv[0][0])
        return err_set(err, SWEEP_EINVAL, "exec: empty command");
    prog = cmd->argv[0];
    if (!strchr(prog, '/')) {
        looked_up = true;
        e = exec_lookup(prog, cmd->envp, found, sizeof(found));
        if (e)
            return exec_spawn_error(cmd, e, looked_up, err);
        prog = found;
    }

    /* The output files are opened here rather than in the child, so that a failure
     * names the file; the child only dup2()s them. */
    if (cmd->stdout_path && (out = exec_open_out(cmd->stdout_path)) < 0)
        return err_set(err, SWEEP_ESPAWN, "cannot run '%s': stdout '%s': %s",
                       cmd->argv[0], cmd->stdout_path, strerror(errno));
    if (cmd->stderr_path && cmd->stdout_path &&
        strcmp(cmd->stderr_path, cmd->stdout_path) == 0) {
        errfd = out;
    } else if (cmd->stderr_path && (errfd = exec_open_out(cmd->stderr_path)) < 0) {
        rc = err_set(err, SWEEP_ESPAWN, "cannot run '%s': stderr '%s': %s",
                     cmd->argv[0], cmd->stderr_path, strerror(errno));
        goto close_out;
    }

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pool->devnull, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
    if (cmd->cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cmd->cwd);
    /* Everything sweep opens is O_CLOEXEC; this also covers libraries that are not. */
    posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
    /* The clock starts before the spawn: glibc's posix_spawn returns only after the
     * child has exec'd, and a short task may already have ended by then. */
    double now = time_mono();
    e = posix_spawn(&child, prog, &fa, &pool->attr, cmd->argv, cmd->envp);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        rc = exec_spawn_error(cmd, e, looked_up, err);
        goto close_err;
    }

    double kill_after = cmd->kill_after > 0 ? cmd->kill_after : 0;
    pool->kids = xgrow(pool->kids, &pool->cap, pool->nkids + 1, sizeof(*pool->kids));
    pool->kids[pool->nkids++] = (struct exec_child){
        .pid = child,
        .ctx = cmd->ctx,
        .start = now,
        .term_at = cmd->timeout > 0 ? now + cmd->timeout : INFINITY,
        .kill_at = INFINITY,
        .kill_after = kill_after,
    };
    if (pid)
        *pid = child;

close_err:
    if (errfd != out && errfd != pool->devnull)
        close(errfd);
close_out:
    if (out != pool->devnull)
        close(out);
    return rc;
}

static struct exec_child *exec_find(struct exec_pool *pool, pid_t pid)
{
    for (size_t i = 0; i < pool->nkids; i++) {
        if (pool->kids[i].pid == pid)
            return &pool->kids[i];
    }
    return NULL;
}

/* Kills what is left of the exited leader's group, reaps the leader, forgets it and
 * reports it. done() may spawn or kill other tasks. */
static int exec_finish(struct exec_pool *pool,
                       struct exec_child *c,
                       exec_done_fn *done,
                       void *arg,
                       struct err *err)
{
    struct exec_result res = {.ctx = c->ctx, .pid = c->pid, .timed_out = c->timed_out};
    struct rusage ru;
    int status;

    /* The zombie leader still holds the pgid, so it cannot name another group yet. */
    exec_signal(c, SIGKILL);
    if (exec_wait4(c->pid, &status, &ru) < 0)
        return err_set(err, SWEEP_EINTERNAL, "exec: wait4(%ld): %s", (long)c->pid,
                       strerror(errno));
    res.wall = time_mono() - c->start;
    res.exited = WIFEXITED(status);
    res.exit_code = res.exited ? WEXITSTATUS(status) : 0;
    res.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    res.user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    res.sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    res.maxrss_kb = ru.ru_maxrss;
    *c = pool->kids[--pool->nkids];
    done(&res, arg);
    return SWEEP_OK;
}

/* Asks whether pid (or, with P_ALL, any child) has exited, without reaping it. Returns
 * the pid, 0 for none, -1 on error. */
static pid_t exec_peek(idtype_t type, pid_t pid)
{
    siginfo_t si;
    int r;

    do {
        si.si_pid = 0;
        r = waitid(type, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno == ECHILD ? 0 : -1;
    return si.si_pid;
}

/* Reaps every exited task; returns how many, or -1. The common case is one
 * waitid(P_ALL) per task. A child that is not ours (none expected) is left for its
 * owner: then each of ours is asked in turn, from the end so that removals do not skip
 * any. */
static int
exec_reap(struct exec_pool *pool, exec_done_fn *done, void *arg, struct err *err)
{
    int n = 0;

    for (;;) {
        pid_t pid = exec_peek(P_ALL, 0);
        if (pid < 0)
            goto fail;
        if (pid == 0)
            return n;
        struct exec_child *c = exec_find(pool, pid);
        if (!c)
            break;
        if (exec_finish(pool, c, done, arg, err))
            return -1;
        n++;
    }
    for (size_t i = pool->nkids; i-- > 0;) {
        pid_t pid = exec_peek(P_PID, pool->kids[i].pid);
        if (pid < 0)
            goto fail;
        if (pid == 0)
            continue;
        if (exec_finish(pool, &pool->kids[i], done, arg, err))
            return -1;
        n++;
    }
    return n;
fail:
    err_set(err, SWEEP_EINTERNAL, "exec: waitid: %s", strerror(errno));
    return -1;
}

/* Sends the signals that are due; returns the next deadline (INFINITY: none). */
static double exec_deadlines(struct exec_pool *pool, double now)
{
    double next = INFINITY;

    for (size_t i = 0; i < pool->nkids; i++) {
        struct exec_child *c = &pool->kids[i];
        if (c->term_at <= now) {
            exec_signal(c, SIGTERM);
            c->timed_out = true;
            c->term_at = INFINITY;
            c->kill_at = fmin(c->kill_at, now + c->kill_after);
        }
        if (c->kill_at <= now) {
            exec_signal(c, SIGKILL);
            c->kill_at = INFINITY;
        }
        next = fmin(next, fmin(c->term_at, c->kill_at));
    }
    return next;
}

static int exec_ms_until(double t, double now)
{
    if (t == INFINITY)
        return -1;
    if (t <= now)
        return 0;
    double ms = ceil((t - now) * 1000.0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int exec_poll(struct exec_pool *pool,
              int timeout_ms,
              exec_done_fn *done,
              void *arg,
              int *signo,
              struct err *err)
{
    double until = timeout_ms >= 0 ? time_mono() + timeout_ms / 1000.0 : INFINITY;

    for (;;) {
        double now = time_mono();
        double next = fmin(until, exec_deadlines(pool, now));
        struct pollfd p = {.fd = pool->sfd, .events = POLLIN};
        int sig = 0, chld = 0, reaped = 0;

        int r = poll(&p, 1, exec_ms_until(next, now));
        if (r < 0 && errno != EINTR) {
            err_set(err, SWEEP_EINTERNAL, "exec: poll: %s", strerror(errno));
            return -1;
        }
        if (r > 0 && (chld = exec_drain(pool, &sig)) < 0) {
            err_set(err, SWEEP_EINTERNAL, "exec: signalfd: %s", strerror(errno));
            return -1;
        }
        if (chld && (reaped = exec_reap(pool, done, arg, err)) < 0)
            return -1;
        if (sig && signo)
            *signo = sig;
        if (reaped > 0 || sig || time_mono() >= until)
            return reaped;
    }
}

void exec_kill(struct exec_pool *pool, pid_t pid, int sig, bool escalate)
{
    struct exec_child *c = exec_find(pool, pid);

    if (!c)
        return;
    exec_signal(c, sig);
    if (escalate) {
        c->term_at = INFINITY; /* being ended on request, not for its timeout */
        c->kill_at = fmin(c->kill_at, time_mono() + c->kill_after);
    }
}

void exec_kill_all(struct exec_pool *pool, int sig, bool escalate)
{
    for (size_t i = 0; i < pool->nkids; i++)
        exec_kill(pool, pool->kids[i].pid, sig, escalate);
}

int exec_running(const struct exec_pool *pool)
{
    return (int)pool->nkids;
}
