/* libFuzzer harness for the placeholder templates (core/tmpl.c): the bytes, up to the
 * first NUL, are one command template, checked with tmpl_check against a fixed set of
 * parameter and step names (with and without the reduce's scope), walked with
 * tmpl_each_name, and rendered with tmpl_render both as an argv element and quoted for
 * the shell, against parameters of every JSON type. Any crash, leak, sanitizer report
 * or hang is a bug. The corpus is tests/fuzz/corpus/tmpl. */
#include "core/tmpl.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_name(const char *name, size_t column, void *arg)
{
    (void)column;
    *(size_t *)arg += strlen(name);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *const names[] = {"T", "L", "s", "obj", "seed", "study", "a.b"};
    static char *const steps[] = {"sim", "post"};
    static char *const dirs[] = {"/tmp/t/sim", "/tmp/t/post"};
    struct tmpl_scope scope = {.step_names = steps, .nsteps = 2};
    char *text = malloc(size + 1), *out = NULL;
    struct err err = {0};
    json_t *params;
    size_t seen = 0;

    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    params = json_pack("{s:f, s:i, s:s, s:{s:i}, s:[i,s], s:b, s:n, s:s}", "T", 2.5,
                       "L", 16, "s", "x; 'q' \"r\"", "obj", "k", 1, "list", 1, "two",
                       "flag", 1, "none", "a.b", "dotted");
    struct tmpl_ctx ctx = {.params = params,
                           .task_dir = "/tmp/t",
                           .study = "st",
                           .key = "0123456789abcdef",
                           .seed = -42,
                           .repetition = 3,
                           .step_names = steps,
                           .step_dirs = dirs,
                           .nsteps = 2,
                           .reduce_input = "/tmp/t/reduce.jsonl"};

    tmpl_check(text, names, sizeof(names) / sizeof(names[0]), &scope, &err);
    scope.reduce = true;
    tmpl_check(text, names, sizeof(names) / sizeof(names[0]), &scope, &err);
    tmpl_each_name(text, count_name, &seen, &err);
    for (int quote = 0; quote < 2; quote++) {
        if (tmpl_render(text, &ctx, quote, &out, &err) == 0)
            free(out);
        out = NULL;
    }
    json_decref(params);
    free(text);
    return 0;
}
