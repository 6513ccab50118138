/* Helpers shared by the subcommands (see cli.h). */
#include "cli.h"

#include "common/xalloc.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cli_home(const char *flag)
{
    static char *abs;
    const char *home = flag && *flag ? flag : getenv("SWEEP_HOME");
    char cwd[PATH_MAX];

    if (!home || !*home)
        home = ".sweep";
    /* Absolute, since tasks run in their own directories and get paths under it. */
    if (home[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return home;
    free(abs);
    abs = xasprintf("%s/%s", cwd, home);
    return abs;
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

void cli_csv_field(const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n") || (*s && (s[0] == ' ' || s[strlen(s) - 1] == ' '))) {
        putchar('"');
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                putchar('"');
            putchar(*p);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}
