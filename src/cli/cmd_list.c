/* sweep list: every study in the sweep home, one line each. */
#include "cli.h"

#include "core/store.h"

#include <getopt.h>
#include <stdbool.h>

extern const struct cli_cmd cmd_list;

static int list_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'},
        {"home", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    bool json = false;
    struct store *st = NULL;
    struct err err = {0};
    int c, rc = EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'J')
            json = true;
        else if (c == 'H')
            home = optarg;
        else
            return cli_option_error(&cmd_list, opts, c, argv);
    }
    if (optind != argc)
        return cli_usage_error(&cmd_list, "unexpected argument '%s'", argv[optind]);
    if (store_open(cli_home(home), &st, &err))
        return cli_fail(&err);
    if (status_list_all(st, json, &err))
        rc = cli_fail(&err);
    store_close(st);
    return rc;
}

const struct cli_cmd cmd_list = {
    .name = "list",
    .summary = "list the studies in the sweep home",
    .usage = "Usage: sweep list [--json] [--home DIR]\n"
             "\n"
             "One line per study: status and task counts, newest first.\n"
             "\n"
             "Options:\n"
             "  --json      a JSON array of study objects\n"
             "  --home DIR  sweep home (default $SWEEP_HOME or ./.sweep)\n"
             "  -h, --help  show this help\n"
             "\n"
             "Example:\n"
             "  sweep list --json\n",
    .fn = list_main,
};
