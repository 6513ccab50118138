/* The chaos model: a stand-in simulation for tests and benchmarks that takes a set
 * time, fails, crashes or hangs on demand, and otherwise returns metrics that are a
 * known function of its inputs and seed: value = x*x + y + noise, noise = sigma * N(0,
 * 1) drawn from the seed. Whether a run fails is drawn from (seed, attempt), so with
 * fail_rate a retry of the same task can succeed; fail_attempts makes the first N
 * attempts fail deterministically. The duration is spent sleeping unless cpu is true,
 * so many runs fit in parallel on a small machine. */
#include "model.h"

#include "common/timeutil.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const struct model_param chaos_params[] = {
    {.name = "duration",
     .type = MODEL_REAL,
     .def = "0",
     .min = MODEL_INCL(0),
     .unit = "s",
     .desc = "how long the run takes"},
    {.name = "cpu",
     .type = MODEL_BOOL,
     .def = "false",
     .desc = "spend the duration burning CPU instead of sleeping"},
    {.name = "fail_rate",
     .type = MODEL_REAL,
     .def = "0",
     .min = MODEL_INCL(0),
     .max = MODEL_INCL(1),
     .desc = "probability that an attempt fails (drawn from seed and attempt)"},
    {.name = "fail_attempts",
     .type = MODEL_INT,
     .def = "0",
     .min = MODEL_INCL(0),
     .desc = "the first N attempts fail, to test retries"},
    {.name = "exit_code",
     .type = MODEL_INT,
     .def = "1",
     .min = MODEL_INCL(1),
     .max = MODEL_INCL(255),
     .desc = "exit status of a failed attempt"},
    {.name = "crash",
     .type = MODEL_BOOL,
     .def = "false",
     .desc = "die by SIGSEGV after the duration"},
    {.name = "hang",
     .type = MODEL_BOOL,
     .def = "false",
     .desc = "never finish after the duration (to test timeouts)"},
    {.name = "x",
     .type = MODEL_REAL,
     .def = "0",
     .min = MODEL_INCL(-1e150),
     .max = MODEL_INCL(1e150),
     .desc = "free input"},
    {.name = "y",
     .type = MODEL_REAL,
     .def = "0",
     .min = MODEL_INCL(-1e150),
     .max = MODEL_INCL(1e150),
     .desc = "free input"},
    {.name = "sigma",
     .type = MODEL_REAL,
     .def = "1",
     .min = MODEL_INCL(0),
     .max = MODEL_INCL(1e150),
     .desc = "standard deviation of the noise added to value"},
    {.name = "seed",
     .type = MODEL_INT,
     .def = "0",
     .desc = "random seed (sweep sets it per repetition)"},
};

static const struct model_metric chaos_metrics[] = {
    {.name = "value", .desc = "x*x + y + noise"},
    {.name = "noise", .desc = "sigma * N(0, 1), drawn from the seed"},
    {.name = "attempt", .desc = "attempt number of this run (1 for the first)"},
};

/* Sleeps for `seconds`, resuming after signals; a day at a time so that any duration
 * fits a struct timespec. */
static void chaos_sleep(double seconds)
{
    while (seconds > 0) {
        double chunk = seconds < 86400 ? seconds : 86400;
        struct timespec ts = {.tv_sec = (time_t)chunk,
                              .tv_nsec = (long)((chunk - floor(chunk)) * 1e9)};

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        seconds -= chunk;
    }
}

/* Keeps one CPU busy for `seconds`. The work is discarded so the metrics do not depend
 * on the speed of the machine. */
static void chaos_burn(double seconds)
{
    double end = time_mono() + seconds;
    volatile double sink = 0;

    while (time_mono() < end)
        for (int i = 1; i <= 10000; i++)
            sink = sink + 1.0 / i;
}

/* Dies by a real SIGSEGV: the default action even under sanitizers, which catch it
 * otherwise, and no core file left in the task directory. */
static int chaos_crash(struct err *err)
{
    struct rlimit nocore = {0, 0};
    sigset_t set;

    setrlimit(RLIMIT_CORE, &nocore);
    signal(SIGSEGV, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGSEGV);
    err_set(err, SWEEP_EINTERNAL, "chaos: raising SIGSEGV did not end the process");
    return 1;
}

static int chaos_run(const struct model_args *args, json_t *metrics, struct err *err)
{
    double duration = model_arg_real(args, "duration");
    uint64_t seed = (uint64_t)model_arg_int(args, "seed");
    double fail_rate = model_arg_real(args, "fail_rate");
    int exit_code = (int)model_arg_int(args, "exit_code");
    double x = model_arg_real(args, "x"), y = model_arg_real(args, "y");
    double noise;
    struct rng rng;

    if (model_arg_bool(args, "cpu"))
        chaos_burn(duration);
    else
        chaos_sleep(duration);
    if (model_arg_bool(args, "crash"))
        return chaos_crash(err);
    while (model_arg_bool(args, "hang"))
        pause();

    if (args->attempt <= model_arg_int(args, "fail_attempts")) {
        err_set(err, SWEEP_EINVAL,
                "chaos: attempt %d failed on purpose (fail_attempts=%lld)",
                args->attempt, (long long)model_arg_int(args, "fail_attempts"));
        return exit_code;
    }
    /* Stream 1 + attempt: independent of the noise, and new on every retry. */
    rng_init(&rng, seed, 1 + (uint64_t)args->attempt);
    if (rng_uniform(&rng) < fail_rate) {
        err_set(err, SWEEP_EINVAL, "chaos: attempt %d failed on purpose (fail_rate=%g)",
                args->attempt, fail_rate);
        return exit_code;
    }

    rng_init(&rng, seed, 0);
    noise = model_arg_real(args, "sigma") * rng_normal(&rng);
    if (noise == 0)
        noise = 0; /* sigma = 0 reports 0.0, not -0.0 */
    json_object_set_new(metrics, "value", json_real(x * x + y + noise));
    json_object_set_new(metrics, "noise", json_real(noise));
    json_object_set_new(metrics, "attempt", json_integer(args->attempt));
    return 0;
}

const struct model model_chaos = {
    .name = "chaos",
    .summary = "test model: takes a set time, fails, crashes or hangs on demand",
    .description =
        "A stand-in simulation for testing studies, retries, timeouts and throughput. "
        "It spends `duration` seconds (sleeping, or burning CPU with cpu=true), then "
        "crashes (crash=true: SIGSEGV), hangs (hang=true), fails with exit_code "
        "(the first fail_attempts attempts, then with probability fail_rate drawn from "
        "the seed and the attempt), or reports value = x*x + y + noise where noise is "
        "normal with standard deviation sigma, drawn from the seed. The same "
        "parameters "
        "and seed always give the same metrics.",
    .example = "--set x=2 --set y=1 --set sigma=0",
    .params = chaos_params,
    .nparams = MODEL_COUNT(chaos_params),
    .metrics = chaos_metrics,
    .nmetrics = MODEL_COUNT(chaos_metrics),
    .run = chaos_run,
};
