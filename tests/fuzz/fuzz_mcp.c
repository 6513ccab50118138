/* libFuzzer harness for the MCP session (src/mcp: jsonrpc.c's framing, session.c's
 * methods, the tools' argument checks): the bytes are split at each '\n' into
 * messages, handed in turn to one session (so that an initialize may come before the
 * calls) over a backend that has no store and refuses every action. What the session
 * sends must be one JSON object per message without a newline. Any crash, leak,
 * sanitizer report or hang is a bug. The corpus is tests/fuzz/corpus/mcp. */
#include "mcp/backend.h"
#include "mcp/mcp.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *fuzz_store(void *ctx, struct err *err)
{
    (void)ctx;
    err_set(err, SWEEP_EIO, "fuzz: no store");
    return NULL;
}

static int fuzz_submit(void *ctx, const char *name, const char *spec, struct err *err)
{
    (void)ctx, (void)name, (void)spec;
    return err_set(err, SWEEP_EINVAL, "fuzz: refused");
}

static int fuzz_retry(void *ctx, const char *study, long long *n, struct err *err)
{
    (void)ctx, (void)study;
    *n = 0;
    return err_set(err, SWEEP_EINVAL, "fuzz: refused");
}

static int fuzz_cancel(void *ctx, const char *study, struct err *err)
{
    (void)ctx, (void)study;
    return err_set(err, SWEEP_EINVAL, "fuzz: refused");
}

static void fuzz_send(void *arg, const char *msg, size_t len)
{
    json_t *v;

    (void)arg;
    if (memchr(msg, '\n', len))
        abort(); /* a message must fit on its line */
    v = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(v))
        abort();
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct mcp_backend be = {
        .store = fuzz_store,
        .submit = fuzz_submit,
        .retry = fuzz_retry,
        .cancel = fuzz_cancel,
    };
    struct mcp_session *s = mcp_session_create(&be, fuzz_send, NULL);
    const char *p = (const char *)data, *end = p + size, *nl;

    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        mcp_session_handle(s, p, (size_t)((nl ? nl : end) - p));
        p = nl ? nl + 1 : end;
    }
    mcp_session_destroy(s);
    return 0;
}
