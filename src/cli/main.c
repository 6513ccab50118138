/* sweep: the command table. Each row is one subcommand in its own cmd_<name>.c. */
#include "cli.h"

#include "common/suggest.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define SWEEP_VERSION "0.1.0"

extern const struct cli_cmd cmd_run, cmd_run_package, cmd_status, cmd_list, cmd_results,
    cmd_logs, cmd_cancel, cmd_retry, cmd_rm, cmd_sim, cmd_models, cmd_chart,
    cmd_monitor, cmd_aggregate, cmd_plot, cmd_report, cmd_new, cmd_serve, cmd_client,
    cmd_mcp, cmd_version;

static const struct cli_cmd *const commands[] = {
    &cmd_run,     &cmd_run_package, &cmd_status,  &cmd_list,   &cmd_results, &cmd_logs,
    &cmd_cancel,  &cmd_retry,       &cmd_rm,      &cmd_sim,    &cmd_models,  &cmd_chart,
    &cmd_monitor, &cmd_aggregate,   &cmd_plot,    &cmd_report, &cmd_new,     &cmd_serve,
    &cmd_client,  &cmd_mcp,         &cmd_version,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int version_main(int argc, char **argv)
{
    static const struct option opts[] = {{NULL, 0, NULL, 0}};
    int c;

    optind = 1;
    opterr = 0;
    if (argc > 1 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1)
        return cli_option_error(&cmd_version, opts, c, argv);
    printf("sweep %s\n", SWEEP_VERSION);
    return EXIT_OK;
}

const struct cli_cmd cmd_version = {
    .name = "version",
    .summary = "print the version",
    .usage = "Usage: sweep version\n\nPrints the version of sweep.\n\nOptions:\n"
             "  -h, --help  show this help\n",
    .fn = version_main,
};

static void usage(FILE *f)
{
    int width = 0;

    for (size_t i = 0; i < NCOMMANDS; i++)
        if ((int)strlen(commands[i]->name) > width)
            width = (int)strlen(commands[i]->name);
    fprintf(f, "Usage: sweep COMMAND [OPTIONS]\n\n"
               "Runs parametric sweeps, Monte Carlo studies and grid searches as one "
               "study.\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-*s  %s\n", width, commands[i]->name, commands[i]->summary);
    fprintf(f, "\nExample:\n  sweep run study.yaml\n\n"
               "Run 'sweep COMMAND --help' for the options of a command.\n");
}

/* A mistyped command gets the nearest one ("did you mean 'status'?"), not the whole
 * list, which `sweep --help` prints. */
static int unknown_command(const char *name)
{
    struct suggest sg;

    suggest_init(&sg, name);
    for (size_t i = 0; i < NCOMMANDS; i++)
        suggest_add(&sg, commands[i]->name);
    suggest_add(&sg, "help");
    if (suggest_best(&sg))
        fprintf(stderr, "sweep: unknown command '%s' (did you mean '%s'?)\n", name,
                suggest_best(&sg));
    else
        fprintf(stderr, "sweep: unknown command '%s'\n", name);
    fprintf(stderr, "Run 'sweep --help' for the list of commands.\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return version_main(1, argv);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i]->name) == 0) {
            for (int j = 2; j < argc; j++) {
                if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0)
                    return cli_help(commands[i]);
                if (strcmp(argv[j], "--") == 0)
                    break;
            }
            return commands[i]->fn(argc - 1, argv + 1);
        }
    }
    return unknown_command(argv[1]);
}
