/* `sweep sim MODEL`: runs one built-in model once, in this process. This is the task a
 * study with `model: MODEL` runs: the runner passes the parameters with --params (a
 * JSON object), a person usually with --set NAME=VALUE. The values are checked against
 * the model's row before anything runs; the metrics object goes to $SWEEP_RESULT (and
 * --result PATH) and to stdout. */
#include "cli.h"

#include "common/fileio.h"

#include "common/jsonx.h"
#include "common/xalloc.h"
#include "models/model.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cli_cmd cmd_sim;

/* A --set value: strings and enums take the text as it is (so label=123 stays a string)
 * unless it is a quoted JSON string; other types read it as JSON when it parses, else
 * as a string, which the check then reports as the wrong type. */
static json_t *sim_value(const struct model_param *p, const char *text)
{
    json_t *v;

    if (p && (p->type == MODEL_STRING || p->type == MODEL_ENUM) && text[0] != '"')
        return json_string(text);
    v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

/* Applies one --set NAME=VALUE to params, replacing whatever names the same parameter
 * (its canonical name or an alias). Unknown names are kept for the check to report. */
static int sim_set(const struct model *m, json_t *params, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const struct model_param *p;
    const char *key;
    json_t *val;
    void *tmp;
    char *name;

    if (!eq || eq == arg)
        return cli_usage_error(&cmd_sim, "--set expects NAME=VALUE, got '%s'", arg);
    name = xstrndup(arg, (size_t)(eq - arg));
    p = model_param_find(m, name);
    if (p) {
        json_object_foreach_safe(params, tmp, key, val)
        {
            if (model_param_find(m, key) == p)
                json_object_del(params, key);
        }
    }
    json_object_set_new(params, p ? p->name : name, sim_value(p, eq + 1));
    free(name);
    return EXIT_OK;
}

/* The attempt number from $SWEEP_ATTEMPT; 1 when it is not set. */
static int sim_attempt(int *attempt)
{
    const char *s = getenv("SWEEP_ATTEMPT");
    char *end;
    long v;

    *attempt = 1;
    if (!s || !*s)
        return EXIT_OK;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > INT_MAX)
        return cli_usage_error(&cmd_sim,
                               "SWEEP_ATTEMPT: expected a positive integer, "
                               "got '%s'",
                               s);
    *attempt = (int)v;
    return EXIT_OK;
}

/* A task's seed: $SWEEP_SEED becomes the `seed` parameter of a model that has one,
 * unless the parameters set it (under its name or an alias). */
static int sim_env_seed(const struct model *m, json_t *params)
{
    const char *s = getenv("SWEEP_SEED");
    const struct model_param *p = model_param_find(m, "seed");
    const char *key;
    json_t *val;
    char *end;
    long long v;

    if (!s || !*s || !p || !json_is_object(params))
        return EXIT_OK;
    json_object_foreach(params, key, val)
    {
        if (model_param_find(m, key) == p)
            return EXIT_OK;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return cli_usage_error(&cmd_sim, "SWEEP_SEED: expected an integer, got '%s'",
                               s);
    json_object_set_new(params, p->name, json_integer(v));
    return EXIT_OK;
}

/* "name = value unit" lines, the names aligned, in the order the model reported them.
 */
static void sim_print(const struct model *m, const json_t *metrics)
{
    const char *key;
    json_t *val;
    int width = 0;

    json_object_foreach((json_t *)metrics, key, val)
    {
        int n = (int)strlen(key);
        width = n > width ? n : width;
    }
    json_object_foreach((json_t *)metrics, key, val)
    {
        const char *unit = NULL;
        char *text = jsonx_arg_str(val);

        for (size_t i = 0; i < m->nmetrics; i++)
            if (strcmp(m->metrics[i].name, key) == 0)
                unit = m->metrics[i].unit;
        printf("%-*s = %s%s%s\n", width, key, text, unit ? " " : "", unit ? unit : "");
        free(text);
    }
}

static int sim_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"set", required_argument, NULL, 's'},
        {"params", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"result", required_argument, NULL, 'r'},
        {"outdir", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *params_text = NULL, *result_path = NULL, *env_result, *outdir = NULL;
    const char **sets = xcalloc((size_t)argc, sizeof(*sets));
    json_t *params = NULL, *typed = NULL, *metrics = NULL, *preset = NULL;
    const struct model *m;
    struct model_args args = {0};
    struct err err = {0};
    json_error_t jerr;
    size_t nsets = 0;
    bool json = false;
    char *text = NULL;
    int c, rc, model_rc;

    optind = 0; /* GNU getopt: start over, also when called twice in one process */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (c) {
        case 's':
            sets[nsets++] = optarg;
            break;
        case 'p':
            if (params_text) {
                rc = cli_usage_error(&cmd_sim, "--params given twice");
                goto out;
            }
            params_text = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'r':
            result_path = optarg;
            break;
        case 'o':
            outdir = optarg;
            break;
        case ':':
            rc = cli_option_error(&cmd_sim, options, c, argv);
            goto out;
        default:
            rc = cli_option_error(&cmd_sim, options, c, argv);
            goto out;
        }
    }
    if (optind != argc - 1) {
        rc = cli_usage_error(&cmd_sim, optind == argc ? "expected a MODEL"
                                                      : "expected one MODEL, got more "
                                                        "arguments");
        goto out;
    }
    m = model_resolve(argv[optind], &preset);
    if (!m) {
        char msg[512];
        model_unknown_msg(argv[optind], msg, sizeof(msg));
        rc = cli_usage_error(&cmd_sim, "%s; run 'sweep models' to list them", msg);
        goto out;
    }

    if (params_text) {
        params = json_loads(params_text, JSON_DECODE_ANY, &jerr);
        if (!params) {
            rc = cli_usage_error(&cmd_sim, "--params: %d:%d: %s", jerr.line,
                                 jerr.column, jerr.text);
            goto out;
        }
    } else {
        params = json_object();
    }
    for (size_t i = 0; i < nsets; i++) {
        /* --set adds to the object; a non-object from --params is reported below. */
        if (json_is_object(params) && (rc = sim_set(m, params, sets[i])) != EXIT_OK)
            goto out;
    }
    if ((rc = sim_attempt(&args.attempt)) != EXIT_OK)
        goto out;
    if ((rc = sim_env_seed(m, params)) != EXIT_OK)
        goto out;
    /* An alias (benchmark = particles with algorithm naive): its preset fills in what
     * the parameters do not set. */
    model_preset_merge(m, params, preset);
    if (model_params_check(m, params, &typed, &err)) {
        rc = cli_fail(&err);
        goto out;
    }

    args.model = m;
    args.params = typed;
    /* Files a model writes go to the task directory when run by sweep. */
    if (outdir && mkdir(outdir, 0755) < 0 && errno != EEXIST) {
        rc = cli_usage_error(&cmd_sim, "--outdir: cannot create '%s': %s", outdir,
                             strerror(errno));
        goto out;
    }
    if (!outdir)
        outdir = getenv("SWEEP_TASK_DIR");
    args.outdir = outdir && *outdir ? outdir : ".";
    metrics = json_object();
    rc = m->run(&args, metrics, &err);
    if (rc != 0) {
        fprintf(stderr, "sweep: %s\n", err.msg[0] ? err.msg : "the model failed");
        /* A failed run still reports what it measured (success: false, ...). */
        if (json_object_size(metrics) == 0)
            goto out;
    }
    model_rc = rc;

    text = jsonx_canon_str(metrics);
    text = xrealloc(text, strlen(text) + 2);
    strcat(text, "\n");
    env_result = getenv("SWEEP_RESULT");
    if ((env_result && *env_result &&
         fileio_write_atomic(env_result, text, strlen(text), "result", &err)) ||
        (result_path &&
         fileio_write_atomic(result_path, text, strlen(text), "result", &err))) {
        rc = cli_fail(&err);
        goto out;
    }
    if (json)
        fputs(text, stdout);
    else
        sim_print(m, metrics);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "sweep: cannot write the metrics to stdout: %s\n",
                fileio_strerror(errno));
        rc = EXIT_UNEXPECTED;
    } else {
        rc = model_rc;
    }
out:
    free(text);
    json_decref(metrics);
    json_decref(typed);
    json_decref(params);
    json_decref(preset);
    free(sets);
    return rc;
}

const struct cli_cmd cmd_sim = {
    .name = "sim",
    .summary = "run one built-in model once and print its metrics",
    .usage =
        "Usage: sweep sim MODEL [--set NAME=VALUE]... [--params JSON] [--json]\n"
        "                       [--result PATH] [--outdir DIR]\n"
        "\n"
        "Runs one built-in model once, in this process, and prints the metrics it\n"
        "reports. A study with `model: MODEL` runs this for each task. Parameters\n"
        "not given take their defaults; 'sweep models MODEL' lists them with their\n"
        "types, ranges and units. MODEL may be an alias with preset parameters\n"
        "(benchmark: particles with algorithm naive); the parameters given win.\n"
        "\n"
        "Options:\n"
        "  --set NAME=VALUE  set one parameter (repeatable). VALUE is read as JSON\n"
        "                    when it parses as JSON (2, 0.5, true, [64,64,64]),\n"
        "                    else as a string; string parameters take the text\n"
        "                    as it is\n"
        "  --params JSON     all parameters as one JSON object; --set overrides\n"
        "  --json            print the metrics as one JSON object on one line\n"
        "  --result PATH     also write the metrics JSON object to PATH\n"
        "  --outdir DIR      where the model writes its own files (time series,\n"
        "                    profiles); default $SWEEP_TASK_DIR, else .\n"
        "  -h, --help        show this help\n"
        "\n"
        "Environment:\n"
        "  SWEEP_RESULT      when set, the metrics JSON object is written there\n"
        "  SWEEP_ATTEMPT     attempt number passed to the model (default 1)\n"
        "  SWEEP_SEED        the seed, when the parameters do not set one\n"
        "\n"
        "Exit status: 0 success; 2 bad parameters or usage; 3 the result could\n"
        "not be written; otherwise the model's own status for a failed run\n"
        "(chaos: its exit_code parameter).\n"
        "\n"
        "Examples:\n"
        "  sweep sim chaos --set x=2 --set y=1 --set sigma=0\n"
        "  sweep sim chaos --params '{\"x\": 1, \"seed\": 5}' --json\n",
    .fn = sim_main,
};
