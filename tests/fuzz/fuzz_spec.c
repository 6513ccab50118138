/* libFuzzer harness for the spec parser: the bytes are a spec, YAML or JSON (the
 * content decides, as for a file), checked by spec_parse and freed. Any crash, leak,
 * sanitizer report or hang is a bug. The corpus is tests/fuzz/corpus/spec. */
#include "core/spec.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err err = {0};
    struct spec *spec = NULL;

    if (spec_parse("fuzz.yaml", (const char *)data, size, &spec, &err) == SWEEP_OK)
        spec_destroy(spec);
    return 0;
}
