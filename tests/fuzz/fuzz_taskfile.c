/* libFuzzer harness for the task-file reader (taskfile.c): the bytes are a task-queue
 * JSON or a tasks.yaml (YAML or JSON, the content decides), read by taskfile_parse
 * and, when they make a spec, the stored form of that spec read back by spec_parse.
 * Any crash, leak, sanitizer report or hang is a bug; so is a spec whose stored JSON
 * does not read back. The corpus is tests/fuzz/corpus/taskfile. */
#include "common/jsonx.h"
#include "core/spec.h"
#include "core/taskfile.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err err = {0};
    struct spec *spec = NULL, *back = NULL;
    char *text;

    if (taskfile_parse("fuzz.json", (const char *)data, size, &spec, &err) != SWEEP_OK)
        return 0;
    text = jsonx_canon_str(spec->json);
    if (spec_parse("fuzz.json", text, strlen(text), &back, &err) != SWEEP_OK) {
        fprintf(stderr, "stored spec does not read back: %s\n%s\n", err.msg, text);
        abort();
    }
    spec_destroy(back);
    free(text);
    spec_destroy(spec);
    return 0;
}
