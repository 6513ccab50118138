/* The local executor (see exec.h). Tasks are started with vfork() and execve(): the
 * child runs on the parent's memory until it execs (no page tables copied), sets itself
 * up (own process group, parent-death signal, stdio, working directory, default signal
 * dispositions, empty mask) and reports a failed exec through memory it shares with the
 * parent, so no error pipe is needed. Each task is then watched through a pidfd in the
 * pool's epoll set: a pool sees only its own children, changes no signal mask, and any
 * number of pools can live and die in one process. Reaping is race-free with respect to
 * process group reuse: a readable pidfd means an exited leader, whose group is
 * SIGKILLed while the zombie still pins the pgid, and only then is it reaped with wait4
 * for its rusage. Running children sit in a plain array: lookups, deadline checks and
 * kills are O(running), which is small (the number of tasks in flight). A task's
 * stdout and stderr are pipes in the same epoll set, drained into their files (made at
 * the first byte: a task that writes nothing costs no inode) whenever they are
 * readable and once more when the task is reaped. Needs Linux >= 5.3 (pidfd_open) and
 * glibc >= 2.34 (close_range). */
#include "exec.h"

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "core/sigwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* One output stream of a task: a pipe that the pool drains into the stream's file,
 * created (truncated) at the first byte read, so that a task that writes nothing
 * costs no file. Owned by its task's exec_child while the task runs; after the task
 * has been reaped, by the pool's `lingering` list while a writer (a descendant that
 * left the task's process group, or one still dying of its SIGKILL) keeps the pipe
 * open. */
struct exec_out {
    struct exec_out *next; /* in pool->lingering */
    bool lingering;
    bool made;     /* the file was created (the task wrote to it) */
    int rfd;       /* the read end, in the epoll set; -1 once at its end */
    bool nonblock; /* rfd is O_NONBLOCK (a kernel without RWF_NOWAIT for pipes) */
    int fd;        /* the file; -1 before the first byte (or after a failure) */
    int err;       /* errno of the first failure to create or write the file, or 0 */
    char path[];
};

/* epoll data of an output's pipe: the pointer with this bit; a pidfd's is the pid. */
#define EXEC_EV_OUT (UINT64_C(1) << 63)

struct exec_child {
    pid_t pid;
    int pidfd; /* in the pool's epoll set; readable once the task has exited */
    void *ctx;
    double start;      /* monotonic seconds */
    double term_at;    /* when to send SIGTERM; INFINITY: never (or already sent) */
    double kill_at;    /* when to send SIGKILL; INFINITY: not scheduled */
    double kill_after; /* grace between SIGTERM and SIGKILL */
    bool timed_out;
    struct exec_out *out[2]; /* stdout, stderr (NULL: /dev/null, or shared with [0]) */
};

struct exec_pool {
    int epfd;       /* epoll set of the children's pidfds (data: the pid) */
    int devnull;    /* O_RDONLY, the stdin of every task (and a NULL stdout/stderr) */
    sigset_t reset; /* the dispositions a child sets back to SIG_DFL (exec_resets) */
    pid_t self;     /* getpid() when the pool was made: a pool lives in one process */
    struct exec_child *kids;
    size_t nkids, cap;
    struct exec_out *lingering; /* outputs of reaped tasks still open for writing */
};

/* What the vforked child needs; err is written by the child (shared memory) when it
 * fails before or at execve. */
struct exec_child_args {
    const char *prog;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const sigset_t *reset;
    int in, out, errfd;
    pid_t parent;
    volatile int err;
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

/* Makes the pipe of an output to `path`, its read end in the epoll set; the write end,
 * for the child's stdout or stderr, in *wfd. NULL with errno on failure. Two system
 * calls (pipe2, epoll_ctl), neither of which allocates an inode: the read end is read
 * without blocking by exec_out_read(), not made O_NONBLOCK (the write end, the task's
 * stdout, must block). */
static struct exec_out *
exec_out_open(struct exec_pool *pool, const char *path, int *wfd)
{
    size_t len = strlen(path) + 1;
    struct exec_out *o = xcalloc(1, sizeof(*o) + len);
    int p[2], e;

    memcpy(o->path, path, len);
    o->fd = -1;
    if (pipe2(p, O_CLOEXEC) < 0)
        goto fail;
    o->rfd = exec_fd_high(p[0]);
    *wfd = exec_fd_high(p[1]);
    if (o->rfd < 0 || *wfd < 0)
        goto close_fail;
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = EXEC_EV_OUT | (uint64_t)(uintptr_t)o};
    if (epoll_ctl(pool->epfd, EPOLL_CTL_ADD, o->rfd, &ev) < 0)
        goto close_fail;
    return o;

close_fail:
    e = errno;
    if (o->rfd >= 0)
        close(o->rfd);
    if (*wfd >= 0)
        close(*wfd);
    errno = e;
fail:
    free(o);
    return NULL;
}

/* Reads what the pipe holds without blocking: -1 with EAGAIN when it is empty.
 * preadv2(RWF_NOWAIT) (Linux >= 5.x for pipes) saves an fcntl per pipe; where the
 * kernel refuses it, the read end is made O_NONBLOCK once and read(). */
static ssize_t exec_out_read(struct exec_out *o, char *buf, size_t size)
{
    if (!o->nonblock) {
        struct iovec v = {.iov_base = buf, .iov_len = size};
        ssize_t n = preadv2(o->rfd, &v, 1, -1, RWF_NOWAIT);
        if (n >= 0 || (errno != EOPNOTSUPP && errno != EINVAL))
            return n;
        if (fcntl(o->rfd, F_SETFL, O_NONBLOCK) < 0)
            return -1;
        o->nonblock = true;
    }
    return read(o->rfd, buf, size);
}

static int exec_write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Moves what the pipe holds into the file (created at the first byte), without
 * blocking. A failure to create or write the file is kept in o->err and the rest is
 * read and dropped, so that the task never blocks on a full pipe. At the end of the
 * pipe (no writer left) both descriptors are closed (the pipe leaves the epoll set)
 * and it returns true. */
static bool exec_out_drain(struct exec_out *o)
{
    char buf[65536];

    while (o->rfd >= 0) {
        ssize_t n = exec_out_read(o, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return false;
        if (n <= 0) {
            close(o->rfd);
            o->rfd = -1;
            break;
        }
        if (o->fd < 0 && !o->err) {
            do {
                o->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            } while (o->fd < 0 && errno == EINTR);
            if (o->fd < 0)
                o->err = errno ? errno : EIO;
            o->made = o->fd >= 0;
        }
        if (o->fd >= 0 && exec_write_all(o->fd, buf, (size_t)n) < 0) {
            o->err = errno ? errno : EIO;
            close(o->fd);
            o->fd = -1;
        }
    }
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    return true;
}

/* Drains and frees an output, or hands it to the lingering list while a writer still
 * holds its pipe. */
static void exec_out_release(struct exec_pool *pool, struct exec_out *o)
{
    if (!o)
        return;
    if (exec_out_drain(o)) {
        free(o);
        return;
    }
    o->lingering = true;
    o->next = pool->lingering;
    pool->lingering = o;
}

/* An output's pipe is readable (epoll's `events`): drained; a lingering one at its
 * end is freed. A hang-up without data (every writer gone, nothing left to read) is
 * its end without a read. */
static void exec_out_ready(struct exec_pool *pool, struct exec_out *o, uint32_t events)
{
    if ((events & (EPOLLHUP | EPOLLIN)) == EPOLLHUP && o->rfd >= 0) {
        close(o->rfd);
        o->rfd = -1;
        if (o->fd >= 0)
            close(o->fd);
        o->fd = -1;
    } else if (!exec_out_drain(o)) {
        return;
    }
    if (!o->lingering)
        return;
    for (struct exec_out **p = &pool->lingering; *p; p = &(*p)->next) {
        if (*p == o) {
            *p = o->next;
            free(o);
            return;
        }
    }
}

/* The signals whose disposition a child must set back to SIG_DFL before its execve:
 * those that are not SIG_DFL now (inherited SIG_IGN, as under nohup, and handlers
 * already installed), plus those the program may catch or ignore later (sigwatch,
 * the preparation and monitor handlers: SIGINT, SIGTERM, SIGHUP; SIGPIPE). A handler
 * would otherwise run in the child, on the parent's memory, between the unblocking of
 * signals and the execve, and SIG_IGN would be inherited by the task. Resetting only
 * these (a handful) instead of every signal saves about 60 system calls per spawn,
 * made while the parent is suspended. Limit: a disposition that other code changes
 * after the pool was created, on another signal, is not reset. */
static void exec_resets(sigset_t *set)
{
    static const int later[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    struct sigaction sa;

    sigemptyset(set);
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &sa) == 0 &&
            sa.sa_handler != SIG_DFL)
            sigaddset(set, s);
    }
    for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
        sigaddset(set, later[i]);
}

int exec_pool_create(struct exec_pool **out, struct err *err)
{
    struct exec_pool *pool = xcalloc(1, sizeof(*pool));
    int rc;

    exec_resets(&pool->reset);
    pool->self = getpid();

    pool->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (pool->epfd < 0) {
        rc = err_set(err, SWEEP_EIO, "exec: epoll_create1: %s", strerror(errno));
        goto free_pool;
    }
    pool->devnull = exec_fd_high(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (pool->devnull < 0) {
        rc = err_set(err, SWEEP_EIO, "exec: /dev/null: %s", strerror(errno));
        goto close_epfd;
    }
    *out = pool;
    return SWEEP_OK;

close_epfd:
    close(pool->epfd);
free_pool:
    free(pool);
    return rc;
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
    if (!pool)
        return;
    for (size_t i = 0; i < pool->nkids; i++)
        exec_signal(&pool->kids[i], SIGKILL);
    for (size_t i = 0; i < pool->nkids; i++) {
        exec_wait4(pool->kids[i].pid, NULL, NULL);
        close(pool->kids[i].pidfd);
        for (int k = 0; k < 2; k++)
            exec_out_release(pool, pool->kids[i].out[k]);
    }
    /* What is in the pipes now is kept; a writer that outlives the pool loses the
     * rest. */
    while (pool->lingering) {
        struct exec_out *o = pool->lingering;
        pool->lingering = o->next;
        exec_out_drain(o);
        if (o->rfd >= 0)
            close(o->rfd);
        free(o);
    }
    close(pool->epfd);
    close(pool->devnull);
    free(pool->kids);
    free(pool);
}

int exec_pool_fd(const struct exec_pool *pool)
{
    return pool->epfd;
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

/* The child between vfork() and execve(). It shares the parent's memory and runs with
 * every signal blocked (the parent blocked them around vfork), so it touches nothing
 * but its arguments and makes only system calls. The signals that are not at their
 * default action (exec_resets) go back to it first: a handler of the parent must never
 * run here, and an ignored SIGPIPE or SIGINT would otherwise be inherited by the task
 * (execve itself resets handlers, not SIG_IGN). The parent-death signal is set before
 * the check that the parent is still there, so a parent killed meanwhile is not
 * missed. About a dozen system calls in all. */
__attribute__((noreturn)) static void exec_child_main(struct exec_child_args *a)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigset_t none;

    for (int s = 1; s < NSIG; s++) {
        if (sigismember(a->reset, s) == 1)
            sigaction(s, &dfl, NULL); /* EINVAL for libc's internal ones: kept */
    }
    errno = 0;
    if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        goto fail;
    if (getppid() != a->parent) {
        errno = ESRCH;
        goto fail;
    }
    if (dup2(a->in, STDIN_FILENO) < 0 || dup2(a->out, STDOUT_FILENO) < 0 ||
        dup2(a->errfd, STDERR_FILENO) < 0)
        goto fail;
    if (a->cwd && chdir(a->cwd) < 0)
        goto fail;
    /* Everything sweep opens is O_CLOEXEC; this also covers libraries that are not. */
    close_range(STDERR_FILENO + 1, ~0U, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(a->prog, a->argv, a->envp);
fail:
    a->err = errno ? errno : EIO;
    _exit(127);
}

/* The only frame that vfork() returns to twice: it keeps nothing in locals. */
static pid_t exec_vfork(struct exec_child_args *a)
{
    pid_t pid = vfork();
    if (pid == 0)
        exec_child_main(a);
    return pid;
}

/* Starts the child and opens its pidfd. Returns 0, an errno of the spawn, or minus
 * the errno of pidfd_open (the child, if one was started, has then been reaped). All
 * signals are blocked in this thread while the child shares its memory, as glibc's
 * posix_spawn does; the mask is restored right after. */
static int exec_start(struct exec_child_args *a, pid_t *child, int *pidfd)
{
    sigset_t all, old;
    int e;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    a->err = 0;
    pid_t pid = exec_vfork(a);
    e = pid < 0 ? errno : a->err;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return e;
    if (!e) {
        *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (*pidfd >= 0) {
            *child = pid;
            return 0;
        }
        e = -errno;
        kill(-pid, SIGKILL);
    }
    exec_wait4(pid, NULL, NULL);
    return e;
}

/* Says why the spawn failed with `e`: the working directory or the program. */
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
    struct exec_out *outs[2] = {NULL, NULL};
    pid_t child = 0;
    int pidfd = -1, rc = SWEEP_OK, e;

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

    /* Pipes, made here; the files behind them are made at their first byte. */
    if (cmd->stdout_path && !(outs[0] = exec_out_open(pool, cmd->stdout_path, &out)))
        return err_set(err, SWEEP_ESPAWN, "cannot run '%s': stdout pipe: %s",
                       cmd->argv[0], strerror(errno));
    if (cmd->stderr_path && cmd->stdout_path &&
        strcmp(cmd->stderr_path, cmd->stdout_path) == 0) {
        errfd = out;
    } else if (cmd->stderr_path &&
               !(outs[1] = exec_out_open(pool, cmd->stderr_path, &errfd))) {
        rc = err_set(err, SWEEP_ESPAWN, "cannot run '%s': stderr pipe: %s",
                     cmd->argv[0], strerror(errno));
        goto close_out;
    }

    struct exec_child_args a = {
        .prog = prog,
        .argv = cmd->argv,
        .envp = cmd->envp,
        .cwd = cmd->cwd,
        .reset = &pool->reset,
        .parent = pool->self,
        .in = pool->devnull,
        .out = out,
        .errfd = errfd,
    };
    /* The clock starts before the spawn: vfork returns only after the child has
     * exec'd, and a short task may already have ended by then. */
    double now = time_mono();
    e = exec_start(&a, &child, &pidfd);
    if (e < 0) {
        rc = err_set(err, SWEEP_ESPAWN, "exec: pidfd_open: %s (Linux >= 5.3 needed)",
                     strerror(-e));
        goto close_err;
    }
    if (e) {
        rc = exec_spawn_error(cmd, e, looked_up, err);
        goto close_err;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)child};
    if (epoll_ctl(pool->epfd, EPOLL_CTL_ADD, pidfd, &ev) < 0) {
        rc = err_set(err, SWEEP_EIO, "exec: epoll_ctl: %s", strerror(errno));
        kill(-child, SIGKILL);
        exec_wait4(child, NULL, NULL);
        close(pidfd);
        goto close_err;
    }

    double kill_after = cmd->kill_after > 0 ? cmd->kill_after : 0;
    pool->kids = xgrow(pool->kids, &pool->cap, pool->nkids + 1, sizeof(*pool->kids));
    pool->kids[pool->nkids++] = (struct exec_child){
        .pid = child,
        .pidfd = pidfd,
        .ctx = cmd->ctx,
        .start = now,
        .term_at = cmd->timeout > 0 ? now + cmd->timeout : INFINITY,
        .kill_at = INFINITY,
        .kill_after = kill_after,
        .out = {outs[0], outs[1]},
    };
    outs[0] = outs[1] = NULL;
    if (pid)
        *pid = child;

close_err:
    if (errfd != out && errfd != pool->devnull)
        close(errfd);
close_out:
    if (out != pool->devnull)
        close(out);
    /* Not started: its pipes have no writer left, and are freed. */
    for (int k = 0; k < 2; k++)
        exec_out_release(pool, outs[k]);
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
    close(c->pidfd); /* also leaves the epoll set */
    /* What the group wrote before it was killed is in the files before done(). */
    struct exec_out *outs[2] = {c->out[0], c->out[1]};
    for (int k = 0; k < 2; k++) {
        if (outs[k] && outs[k]->rfd >= 0)
            exec_out_drain(outs[k]);
        /* Made, or a writer that left the group may still write. */
        if (outs[k] && (outs[k]->made || outs[k]->err || outs[k]->rfd >= 0))
            res.output = true;
        if (outs[k] && outs[k]->err && !res.out_err) {
            res.out_err = outs[k]->err;
            res.out_path = outs[k]->path;
        }
    }
    *c = pool->kids[--pool->nkids];
    done(&res, arg);
    for (int k = 0; k < 2; k++)
        exec_out_release(pool, outs[k]);
    return SWEEP_OK;
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

/* Reaps the tasks whose pidfds epoll reports; returns how many, or -1. */
static int
exec_reap(struct exec_pool *pool, exec_done_fn *done, void *arg, struct err *err)
{
    struct epoll_event ev[32];
    int n, reaped = 0;

    do {
        n = epoll_wait(pool->epfd, ev, (int)(sizeof(ev) / sizeof(ev[0])), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        err_set(err, SWEEP_EINTERNAL, "exec: epoll_wait: %s", strerror(errno));
        return -1;
    }
    /* Outputs first: an exit below frees its task's outputs, whose events may be in
     * this batch too. */
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 & EXEC_EV_OUT)
            exec_out_ready(
                pool, (struct exec_out *)(uintptr_t)(ev[i].data.u64 & ~EXEC_EV_OUT),
                ev[i].events);
    }
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 & EXEC_EV_OUT)
            continue;
        /* Looked up each time: done() may have spawned or reaped meanwhile. */
        struct exec_child *c = exec_find(pool, (pid_t)ev[i].data.u64);
        if (!c)
            continue;
        if (exec_finish(pool, c, done, arg, err))
            return -1;
        reaped++;
    }
    return reaped;
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
        /* The program's signal watch, when the caller asks for signals and the
         * program opened one (fd -1 is ignored by poll). */
        struct pollfd p[2] = {
            {.fd = pool->epfd, .events = POLLIN},
            {.fd = signo ? sigwatch_fd() : -1, .events = POLLIN},
        };
        int sig = 0, reaped = 0;

        int r = poll(p, 2, exec_ms_until(next, now));
        if (r < 0 && errno != EINTR) {
            err_set(err, SWEEP_EINTERNAL, "exec: poll: %s", strerror(errno));
            return -1;
        }
        if (r > 0 && (p[0].revents & POLLIN) &&
            (reaped = exec_reap(pool, done, arg, err)) < 0)
            return -1;
        if (r > 0 && p[1].revents)
            sig = sigwatch_take();
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
