/* libFuzzer harness for reading a task's $SWEEP_RESULT file (runner_read_result in
 * core/runner.c): the bytes are written to a scratch file and read back as the runner
 * reads a finished task's result; an object is then walked into flattened metric
 * names ("a.b") as the store does when it keeps the metrics rows. Any crash, leak,
 * sanitizer report or hang is a bug. The corpus is tests/fuzz/corpus/result. */
#include "common/jsonx.h"
#include "core/runner.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static int leaf(const char *name, const json_t *v, void *arg)
{
    size_t *n = arg;

    *n += strlen(name) + (json_is_string(v) ? json_string_length(v) : 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *metrics = NULL, *error = NULL;
    size_t n = 0;
    FILE *f;

    if (!path[0]) {
        int fd;
        snprintf(path, sizeof(path), "/tmp/sweep-fuzz-result-XXXXXX");
        fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
    }
    f = fopen(path, "w");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    runner_read_result(path, &metrics, &error);
    if (metrics) {
        /* What the runner keeps must read back as an object. */
        json_t *m = json_loads(metrics, 0, NULL);
        if (!json_is_object(m))
            abort();
        jsonx_walk_leaves(m, leaf, &n);
        json_decref(m);
    }
    free(metrics);
    free(error);
    return 0;
}
