/* Unit tests of the JSON-RPC framing of `sweep mcp` (src/mcp/jsonrpc.c) and of what a
 * session (src/mcp/session.c) answers to each kind of message: malformed JSON, a
 * wrong "jsonrpc", a missing method, ids of every type, a batch, an oversized
 * message, a notification (no answer), an unknown method, ping before and after
 * initialize, requests before initialize, and protocol version negotiation. The tools
 * themselves are tested in test_mcp_session.c (a fake table) and test_mcp_tools.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "mcp/jsonrpc.h"
#include "mcp/mcp.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- jsonrpc_parse: one message classified ---- */

static void test_parse_table(void **state)
{
    static const struct {
        const char *in;
        enum jsonrpc_kind kind;
        int code;       /* JSONRPC_INVALID: the error */
        const char *id; /* the id to answer, as compact JSON */
        const char *method;
    } cases[] = {
        /* requests and notifications */
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", JSONRPC_REQUEST, 0, "1",
         "ping"},
        {"{\"jsonrpc\":\"2.0\",\"id\":\"x-1\",\"method\":\"ping\"}", JSONRPC_REQUEST, 0,
         "\"x-1\"", "ping"},
        {"{\"jsonrpc\":\"2.0\",\"id\":-9007199254740993,\"method\":\"a\"}",
         JSONRPC_REQUEST, 0, "-9007199254740993", "a"},
        {"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"a\",\"params\":{}}",
         JSONRPC_REQUEST, 0, "0", "a"},
        {"  {\"method\":\"a\",\"jsonrpc\":\"2.0\",\"params\":[1]}  \r",
         JSONRPC_NOTIFICATION, 0, "null", "a"},
        {"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
         JSONRPC_NOTIFICATION, 0, "null", "notifications/initialized"},
        /* responses of the client */
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}", JSONRPC_RESPONSE, 0, "7",
         NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":1,\"message\":\"m\"}}",
         JSONRPC_RESPONSE, 0, "7", NULL},
        /* malformed JSON */
        {"", JSONRPC_INVALID, JSONRPC_PARSE_ERROR, "null", NULL},
        {"{", JSONRPC_INVALID, JSONRPC_PARSE_ERROR, "null", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} x", JSONRPC_INVALID,
         JSONRPC_PARSE_ERROR, "null", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}", JSONRPC_INVALID,
         JSONRPC_PARSE_ERROR, "null", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}", JSONRPC_INVALID,
         JSONRPC_PARSE_ERROR, "null", NULL},
        /* not a request */
        {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "null", NULL},
        {"[]", JSONRPC_INVALID, JSONRPC_INVALID_REQUEST, "null", NULL},
        {"42", JSONRPC_INVALID, JSONRPC_INVALID_REQUEST, "null", NULL},
        {"\"ping\"", JSONRPC_INVALID, JSONRPC_INVALID_REQUEST, "null", NULL},
        {"{\"id\":1,\"method\":\"ping\"}", JSONRPC_INVALID, JSONRPC_INVALID_REQUEST,
         "1", NULL},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "1", NULL},
        {"{\"jsonrpc\":2.0,\"id\":\"s\",\"method\":\"ping\"}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "\"s\"", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", JSONRPC_INVALID, JSONRPC_INVALID_REQUEST,
         "1", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "1", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":3}",
         JSONRPC_INVALID, JSONRPC_INVALID_REQUEST, "1", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "1", NULL},
        /* ids of a wrong type: answered with id null */
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "null", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "null", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "null", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "null", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", JSONRPC_INVALID,
         JSONRPC_INVALID_REQUEST, "null", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jsonrpc_msg m;
        char *id;

        jsonrpc_parse(cases[i].in, strlen(cases[i].in), MCP_MAX_MESSAGE, &m);
        if (m.kind != cases[i].kind || m.error_code != cases[i].code)
            fail_msg("case %zu (%s): kind %d code %d, expected kind %d code %d (%s)", i,
                     cases[i].in, m.kind, m.error_code, cases[i].kind, cases[i].code,
                     m.error_msg);
        id = json_dumps(m.id, JSON_ENCODE_ANY | JSON_COMPACT);
        if (strcmp(id, cases[i].id) != 0)
            fail_msg("case %zu (%s): id %s, expected %s", i, cases[i].in, id,
                     cases[i].id);
        if (cases[i].method)
            assert_string_equal(m.method, cases[i].method);
        else
            assert_null(m.method);
        free(id);
        jsonrpc_msg_fini(&m);
    }
}

/* A batch is refused with a message that says so. */
static void test_parse_batch(void **state)
{
    static const char batch[] = "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]";
    struct jsonrpc_msg m;

    (void)state;
    jsonrpc_parse(batch, strlen(batch), MCP_MAX_MESSAGE, &m);
    assert_int_equal(m.error_code, JSONRPC_INVALID_REQUEST);
    assert_non_null(strstr(m.error_msg, "batch"));
    jsonrpc_msg_fini(&m);
}

/* Over the bound: refused without being parsed (the bytes need not be JSON). */
static void test_parse_oversized(void **state)
{
    static const char ok[] = "{\"jsonrpc\":\"2.0\",\"method\":\"a\"}";
    size_t n = MCP_MAX_MESSAGE + 1;
    char *big = malloc(n);
    struct jsonrpc_msg m;

    (void)state;
    memset(big, '{', n);
    jsonrpc_parse(big, n, MCP_MAX_MESSAGE, &m);
    assert_int_equal(m.kind, JSONRPC_INVALID);
    assert_int_equal(m.error_code, JSONRPC_INVALID_REQUEST);
    assert_true(json_is_null(m.id));
    assert_non_null(strstr(m.error_msg, "more than"));
    jsonrpc_msg_fini(&m);
    /* At the bound, parsed. */
    jsonrpc_parse(ok, strlen(ok), strlen(ok), &m);
    assert_int_equal(m.kind, JSONRPC_NOTIFICATION);
    jsonrpc_msg_fini(&m);
    free(big);
}

static void test_builders(void **state)
{
    json_t *id = json_integer(12345678901234LL), *sid = json_string("a\"b");
    size_t len;
    char *t;

    (void)state;
    t = jsonrpc_result(id, json_pack("{s:i}", "x", 1), &len);
    assert_string_equal(
        t, "{\"jsonrpc\":\"2.0\",\"id\":12345678901234,\"result\":{\"x\":1}}");
    assert_int_equal(len, strlen(t));
    free(t);
    t = jsonrpc_error(sid, -32601, "Method not found: x", NULL, NULL);
    assert_string_equal(t, "{\"jsonrpc\":\"2.0\",\"id\":\"a\\\"b\",\"error\":{\"code\":"
                           "-32601,\"message\":\"Method not found: x\"}}");
    free(t);
    t = jsonrpc_error(NULL, -32700, "bad \xff", json_pack("{s:i}", "at", 3), NULL);
    assert_non_null(strstr(t, "\"id\":null"));
    assert_non_null(strstr(t, "\"data\":{\"at\":3}"));
    free(t);
    t = jsonrpc_notification("notifications/progress", NULL, NULL);
    assert_string_equal(t,
                        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}");
    free(t);
    json_decref(id);
    json_decref(sid);
}

/* ---- a session: what goes out for what comes in ---- */

struct capture {
    json_t *msgs; /* every message sent, parsed */
};

static void capture_send(void *arg, const char *msg, size_t len)
{
    struct capture *c = arg;
    json_t *v;

    assert_null(memchr(msg, '\n', len)); /* one line per message */
    v = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(v);
    json_array_append_new(c->msgs, v);
}

/* Sends text; returns the one answer (borrowed from c), or NULL when none came. */
static json_t *exchange(struct mcp_session *s, struct capture *c, const char *text)
{
    size_t before = json_array_size(c->msgs);

    mcp_session_handle(s, text, strlen(text));
    assert_true(json_array_size(c->msgs) <= before + 1);
    return json_array_size(c->msgs) > before ? json_array_get(c->msgs, before) : NULL;
}

static int error_code(const json_t *answer)
{
    return (int)json_integer_value(
        json_object_get(json_object_get(answer, "error"), "code"));
}

static const char init_fmt[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
    "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
    "\"version\":\"1\"}}}";

static void test_session_lifecycle(void **state)
{
    struct capture c = {json_array()};
    struct mcp_session *s = mcp_session_create(NULL, capture_send, &c);
    char init[512];
    json_t *a;

    (void)state;
    /* Before initialize: ping is served, other requests refused, notifications and
     * responses get nothing. */
    a = exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "id")), "p");
    assert_true(json_is_object(json_object_get(a, "result")));
    assert_int_equal(json_object_size(json_object_get(a, "result")), 0);
    a = exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    assert_int_equal(error_code(a), JSONRPC_INVALID_REQUEST);
    assert_int_equal(json_integer_value(json_object_get(a, "id")), 2);
    assert_null(
        exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}"));
    assert_null(exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}"));
    assert_false(mcp_session_initialized(s));
    /* initialize without a protocolVersion: bad params, still not initialized */
    a = exchange(
        s, &c,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"initialize\",\"params\":{}}");
    assert_int_equal(error_code(a), JSONRPC_INVALID_PARAMS);
    assert_false(mcp_session_initialized(s));

    snprintf(init, sizeof(init), init_fmt, "2025-06-18");
    a = exchange(s, &c, init);
    assert_true(mcp_session_initialized(s));
    a = json_object_get(a, "result");
    assert_string_equal(json_string_value(json_object_get(a, "protocolVersion")),
                        "2025-06-18");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a, "serverInfo"), "name")),
        "sweep");
    assert_true(
        json_is_string(json_object_get(json_object_get(a, "serverInfo"), "version")));
    assert_true(json_is_false(json_object_get(
        json_object_get(json_object_get(a, "capabilities"), "tools"), "listChanged")));
    assert_true(json_is_object(
        json_object_get(json_object_get(a, "capabilities"), "resources")));
    assert_true(strlen(json_string_value(json_object_get(a, "instructions"))) > 100);
    /* A second initialize is refused; the session stays as it is. */
    a = exchange(s, &c, init);
    assert_int_equal(error_code(a), JSONRPC_INVALID_REQUEST);
    assert_true(mcp_session_initialized(s));

    assert_null(exchange(
        s, &c, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
    assert_null(exchange(s, &c,
                         "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
                         "\"params\":{\"requestId\":5}}"));
    a = exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}");
    assert_int_equal(json_object_size(json_object_get(a, "result")), 0);
    a = exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/list\"}");
    assert_true(json_is_array(json_object_get(json_object_get(a, "result"), "tools")));
    a = exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"sampling/x\"}");
    assert_int_equal(error_code(a), JSONRPC_METHOD_NOT_FOUND);
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(a, "error"), "message")),
        "sampling/x"));
    a = exchange(
        s, &c,
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":[]}");
    assert_int_equal(error_code(a), JSONRPC_INVALID_PARAMS);
    /* The stream survives garbage: a parse error, then a normal answer. */
    a = exchange(s, &c, "{\"jsonrpc\":");
    assert_int_equal(error_code(a), JSONRPC_PARSE_ERROR);
    assert_true(json_is_null(json_object_get(a, "id")));
    a = exchange(s, &c, "[]");
    assert_int_equal(error_code(a), JSONRPC_INVALID_REQUEST);
    a = exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"}");
    assert_int_equal(json_integer_value(json_object_get(a, "id")), 8);
    assert_non_null(json_object_get(a, "result"));

    mcp_session_destroy(s);
    json_decref(c.msgs);
}

/* The client's revision when it is one of MCP_PROTOCOL_VERSIONS, else the newest. */
static void test_session_versions(void **state)
{
    static const char *const known[] = MCP_PROTOCOL_VERSIONS;
    static const struct {
        const char *ask, *want;
    } cases[] = {
        {"2025-06-18", "2025-06-18"}, {"2025-03-26", "2025-03-26"},
        {"2024-11-05", "2024-11-05"}, {"2099-01-01", NULL},
        {"1999-01-01", NULL},         {"", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct capture c = {json_array()};
        struct mcp_session *s = mcp_session_create(NULL, capture_send, &c);
        char init[512];
        json_t *a;

        snprintf(init, sizeof(init), init_fmt, cases[i].ask);
        a = exchange(s, &c, init);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(a, "result"), "protocolVersion")),
                            cases[i].want ? cases[i].want : known[0]);
        mcp_session_destroy(s);
        json_decref(c.msgs);
    }
}

/* A message over MCP_MAX_MESSAGE: -32600 with id null, and the session goes on. */
static void test_session_oversized(void **state)
{
    struct capture c = {json_array()};
    struct mcp_session *s = mcp_session_create(NULL, capture_send, &c);
    size_t n = MCP_MAX_MESSAGE + 10;
    char *big = malloc(n);
    json_t *a;

    (void)state;
    memset(big, ' ', n);
    memcpy(big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", 40);
    mcp_session_handle(s, big, n);
    assert_int_equal(json_array_size(c.msgs), 1);
    a = json_array_get(c.msgs, 0);
    assert_int_equal(error_code(a), JSONRPC_INVALID_REQUEST);
    assert_true(json_is_null(json_object_get(a, "id")));
    a = exchange(s, &c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
    assert_non_null(json_object_get(a, "result"));
    free(big);
    mcp_session_destroy(s);
    json_decref(c.msgs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_batch),
        cmocka_unit_test(test_parse_oversized),
        cmocka_unit_test(test_builders),
        cmocka_unit_test(test_session_lifecycle),
        cmocka_unit_test(test_session_versions),
        cmocka_unit_test(test_session_oversized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
