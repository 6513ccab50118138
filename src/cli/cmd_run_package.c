/* sweep run-package: run one package of a parametric-sweep package directory by hand
 * (again if it completed), as the batch would run it (batch.h). */
#include "cli.h"

#include "batch.h"

#include "common/timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

extern const struct cli_cmd cmd_run_package;

static int run_package_main(int argc, char **argv)
{
    enum {
        OPT_ID = 256,
        OPT_DIR,
        OPT_OUT,
        OPT_COMMAND,
        OPT_TIMEOUT,
        OPT_HOME,
        OPT_JSON
    };
    static const struct option opts[] = {
        {"package-id", required_argument, NULL, OPT_ID},
        {"packages-dir", required_argument, NULL, OPT_DIR},
        {"output-dir", required_argument, NULL, OPT_OUT},
        {"command", required_argument, NULL, OPT_COMMAND},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"home", required_argument, NULL, OPT_HOME},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct batch_opts bo = {
        .dir = "parametric_sweep_packages",
        .report = "artifacts/parametric_sweep_progress.png",
        .max_parallel = 1,
        .only_id = -1,
    };
    char *end;
    long v;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":q", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ID:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (!*optarg || *end || errno || v < 0 || v > INT_MAX)
                return cli_usage_error(&cmd_run_package,
                                       "--package-id: expected a non-negative integer, "
                                       "got \"%s\"",
                                       optarg);
            bo.only_id = (int)v;
            break;
        case OPT_DIR:
            bo.dir = optarg;
            break;
        case OPT_OUT:
            bo.out_dir = optarg;
            break;
        case OPT_COMMAND:
            bo.command = optarg;
            break;
        case OPT_TIMEOUT:
            if (duration_parse(optarg, &bo.timeout) < 0 || bo.timeout <= 0)
                return cli_usage_error(
                    &cmd_run_package,
                    "--timeout: expected a duration such as 90s, 30m "
                    "or 24h, got \"%s\"",
                    optarg);
            break;
        case OPT_HOME:
            bo.home = optarg;
            break;
        case OPT_JSON:
            bo.json = true;
            break;
        case 'q':
            bo.quiet = true;
            break;
        case ':':
            return cli_option_error(&cmd_run_package, opts, c, argv);
        default:
            return cli_option_error(&cmd_run_package, opts, c, argv);
        }
    }
    if (optind != argc)
        return cli_usage_error(&cmd_run_package, "unexpected argument '%s'",
                               argv[optind]);
    if (bo.only_id < 0)
        return cli_usage_error(&cmd_run_package, "--package-id is required");
    return batch_run(&bo);
}

const struct cli_cmd cmd_run_package = {
    .name = "run-package",
    .summary = "run one package of a parametric-sweep package directory",
    .usage =
        "Usage: sweep run-package --package-id N [OPTIONS]\n"
        "\n"
        "Runs package N of a package directory as `sweep run DIR` would (again if it\n"
        "completed before), writes its results_package_XXXX.json and its log, and\n"
        "updates the progress report. See 'sweep run --help' for the layout.\n"
        "\n"
        "Options:\n"
        "  --package-id N        the package to run (required)\n"
        "  --packages-dir DIR    default parametric_sweep_packages\n"
        "  --output-dir DIR      results files (default parametric_sweep_results)\n"
        "  --command LINE        run this program instead of the navier-stokes model\n"
        "  --timeout DURATION    default 24h\n"
        "  --json                print the summary as JSON\n"
        "  -q, --quiet           no progress line\n"
        "  --home DIR            sweep home (default $SWEEP_HOME or ./.sweep)\n"
        "  -h, --help            show this help\n"
        "\n"
        "Exit status: 0 completed, 1 failed, 2 a configuration file missing or "
        "invalid\n"
        "(or no such package), 3 unexpected error, 124 timed out.\n"
        "\n"
        "Example:\n"
        "  sweep run-package --package-id 5 --output-dir custom_results/\n",
    .fn = run_package_main,
};
