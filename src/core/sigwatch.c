/* The program's SIGINT/SIGTERM/SIGHUP watch (see sigwatch.h): a self-pipe written by a
 * minimal handler. */
#include "sigwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const int sigwatch_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define SIGWATCH_N (sizeof(sigwatch_signals) / sizeof(sigwatch_signals[0]))

static int sigwatch_pipe[2] = {-1, -1};
static struct sigaction sigwatch_old[SIGWATCH_N];

static void sigwatch_on_signal(int signo)
{
    int saved = errno;
    unsigned char c = (unsigned char)signo;
    ssize_t n = write(sigwatch_pipe[1], &c, 1);
    (void)n; /* a full pipe already says that signals arrived */
    errno = saved;
}

int sigwatch_open(struct err *err)
{
    struct sigaction sa = {.sa_handler = sigwatch_on_signal, .sa_flags = SA_RESTART};

    if (sigwatch_pipe[0] >= 0)
        return err_set(err, SWEEP_EINVAL, "sigwatch: already open");
    if (pipe2(sigwatch_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        sigwatch_pipe[0] = sigwatch_pipe[1] = -1;
        return err_set(err, SWEEP_EIO, "sigwatch: pipe: %s", strerror(errno));
    }
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < SIGWATCH_N; i++)
        sigaddset(&sa.sa_mask, sigwatch_signals[i]);
    for (size_t i = 0; i < SIGWATCH_N; i++)
        sigaction(sigwatch_signals[i], &sa, &sigwatch_old[i]);
    return SWEEP_OK;
}

void sigwatch_close(void)
{
    if (sigwatch_pipe[0] < 0)
        return;
    for (size_t i = 0; i < SIGWATCH_N; i++)
        sigaction(sigwatch_signals[i], &sigwatch_old[i], NULL);
    close(sigwatch_pipe[0]);
    close(sigwatch_pipe[1]);
    sigwatch_pipe[0] = sigwatch_pipe[1] = -1;
}

int sigwatch_fd(void)
{
    return sigwatch_pipe[0];
}

int sigwatch_take(void)
{
    unsigned char buf[64];
    int last = 0;
    ssize_t n;

    if (sigwatch_pipe[0] < 0)
        return 0;
    for (;;) {
        n = read(sigwatch_pipe[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return last;
        last = buf[n - 1];
    }
}
