/* Helpers shared by the subcommands (see cli.h). */
#include "cli.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

const char *cli_home(const char *flag)
{
    const char *env;

    if (flag && *flag)
        return flag;
    env = getenv("SWEEP_HOME");
    if (env && *env)
        return env;
    return ".sweep";
}

int cli_fail(const struct err *err)
{
    fprintf(stderr, "sweep: %s\n", err->msg[0] ? err->msg : "unknown error");
    switch (err->code) {
    case SWEEP_EINVAL:
    case SWEEP_ENOTFOUND:
        return EXIT_USAGE;
    default:
        return EXIT_UNEXPECTED;
    }
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "sweep %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sweep %s --help'.\n", cmd->name);
    return EXIT_USAGE;
}

int cli_help(const struct cli_cmd *cmd)
{
    fputs(cmd->usage, stdout);
    return EXIT_OK;
}

const char *cli_self_path(void)
{
    static char path[PATH_MAX];
    ssize_t n;

    if (path[0])
        return path;
    n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0)
        return "sweep";
    path[n] = '\0';
    return path;
}
