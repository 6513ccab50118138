/* libFuzzer harness for the package-directory reader (core/packages.c): the bytes are
 * split at each "\n---\n" into priority_summary.json and up to three package files
 * (package_0001.json, package_0002.json, package_7.json), written to a scratch
 * directory and read with packages_load. Any crash, leak, sanitizer report or hang is
 * a bug. The corpus is tests/fuzz/corpus/packages. */
#include "core/packages.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"priority_summary.json", "package_0001.json",
                                    "package_0002.json", "package_7.json"};
#define NFILES (sizeof(names) / sizeof(names[0]))

static char dir[64];

static void put(size_t i, const uint8_t *p, size_t n)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    if (!p) {
        unlink(path);
        return;
    }
    f = fopen(path, "w");
    if (!f)
        abort();
    fwrite(p, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n---\n";
    const uint8_t *p = data, *end = data + size;
    struct packages pk;
    struct err err = {0};

    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/sweep-fuzz-packages-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    for (size_t i = 0; i < NFILES; i++) {
        const uint8_t *q = p ? memmem(p, (size_t)(end - p), sep, strlen(sep)) : NULL;
        if (!p) {
            put(i, NULL, 0);
            continue;
        }
        put(i, p, (size_t)((q ? q : end) - p));
        p = q ? q + strlen(sep) : NULL;
    }
    if (packages_load(dir, &pk, &err) == SWEEP_OK) {
        for (size_t i = 0; i < pk.n; i++)
            json_decref(packages_params(&pk.v[i], i % 2));
        packages_fini(&pk);
    }
    return 0;
}
