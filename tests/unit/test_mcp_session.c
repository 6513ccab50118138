/* Unit tests of the MCP session (src/mcp/session.c) over a tool table of its own:
 * tools/list shows each tool's name, title, description and schemas; tools/call
 * answers {content: [text, links...], structuredContent, isError}, refuses an
 * unknown tool, a missing name and arguments that are not an object with -32602, and
 * sends notifications/progress for the request's progressToken (only increasing
 * values, only when asked for) before the answer; resources/read answers the
 * contents, -32002 for an unknown URI. This file defines mcp_tools, mcp_tool_find and
 * mcp_resource_read itself, so the linker takes them instead of src/mcp/tools.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/xalloc.h"
#include "mcp/backend.h"
#include "mcp/jsonrpc.h"
#include "mcp/mcp.h"
#include "mcp/tool.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the test's tools ---- */

static json_t *echo_input(void)
{
    return json_pack("{s:s, s:{s:{s:s}}}", "type", "object", "properties", "x", "type",
                     "integer");
}

static json_t *echo_output(void)
{
    return json_pack("{s:s}", "type", "object");
}

/* Echoes its arguments as structured content, with one link; x < 0 is refused. */
static void
echo_call(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    json_int_t x = json_integer_value(json_object_get(args, "x"));

    assert_non_null(c->be);
    if (x == 99) { /* a summary that is not UTF-8 */
        out->text = xstrdup("\xff\xfe");
        return;
    }
    if (x < 0) {
        out->is_error = true;
        out->text = xasprintf("x: expected 0 or more, got %lld", (long long)x);
        return;
    }
    out->structured = json_deep_copy(args);
    out->text = xasprintf("x is %lld", (long long)x);
    out->links =
        json_pack("[{s:s, s:s, s:s, s:s}]", "type", "resource_link", "uri",
                  "sweep://test/x.csv", "name", "x.csv", "mimeType", "text/csv");
}

/* Reports progress NaN (not sent), 1, 1 (not sent again), 0.5 (a step back: not
 * sent), 3 of 3. */
static void
slow_call(const struct mcp_call *c, const json_t *args, struct mcp_result *out)
{
    (void)args;
    c->progress(c->progress_arg, NAN, 3, "not a number: not sent");
    c->progress(c->progress_arg, 1, 3, "one");
    c->progress(c->progress_arg, 1, 3, "one again");
    c->progress(c->progress_arg, 0.5, 3, "back");
    c->progress(c->progress_arg, 3, 0, NULL);
    out->text = xstrdup("done");
}

static json_t *no_input(void)
{
    return json_pack("{s:s}", "type", "object");
}

static const struct mcp_tool test_tools[] = {
    {"echo", "Echo", "Echoes x.", echo_input, echo_output, echo_call},
    {"slow", NULL, NULL, no_input, NULL, slow_call},
};

const struct mcp_tool *mcp_tools(size_t *n)
{
    *n = sizeof(test_tools) / sizeof(test_tools[0]);
    return test_tools;
}

const struct mcp_tool *mcp_tool_find(const char *name)
{
    for (size_t i = 0; i < sizeof(test_tools) / sizeof(test_tools[0]); i++)
        if (strcmp(test_tools[i].name, name) == 0)
            return &test_tools[i];
    return NULL;
}

json_t *
mcp_resource_read(const struct mcp_backend *be, const char *uri, struct err *err)
{
    assert_non_null(be);
    if (strcmp(uri, "sweep://test/x.csv") == 0)
        return json_pack("[{s:s, s:s, s:s}]", "uri", uri, "mimeType", "text/csv",
                         "text", "x\n1\n");
    if (strcmp(uri, "sweep://test/broken") == 0) {
        err_set(err, SWEEP_ESTORE, "database is locked");
        return NULL;
    }
    err_set(err, SWEEP_ENOTFOUND, "no resource %s", uri);
    return NULL;
}

/* ---- a session and what it sends ---- */

struct capture {
    json_t *msgs;
};

static void capture_send(void *arg, const char *msg, size_t len)
{
    struct capture *c = arg;
    json_t *v = json_loadb(msg, len, JSON_REJECT_DUPLICATES, NULL);

    assert_non_null(v);
    json_array_append_new(c->msgs, v);
}

static struct mcp_backend backend;
static struct capture cap;
static struct mcp_session *session;

static int setup(void **state)
{
    static const char init[] =
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
        "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{"
        "\"name\":\"t\",\"version\":\"1\"}}}";

    (void)state;
    cap.msgs = json_array();
    session = mcp_session_create(&backend, capture_send, &cap);
    mcp_session_handle(session, init, strlen(init));
    assert_true(mcp_session_initialized(session));
    json_array_clear(cap.msgs);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mcp_session_destroy(session);
    json_decref(cap.msgs);
    return 0;
}

/* Sends text; returns the number of messages that went out. */
static size_t send_text(const char *text)
{
    json_array_clear(cap.msgs);
    mcp_session_handle(session, text, strlen(text));
    return json_array_size(cap.msgs);
}

static json_t *last(void)
{
    return json_array_get(cap.msgs, json_array_size(cap.msgs) - 1);
}

static int error_code(const json_t *answer)
{
    return (int)json_integer_value(
        json_object_get(json_object_get(answer, "error"), "code"));
}

static void test_tools_list(void **state)
{
    json_t *tools, *t;

    (void)state;
    assert_int_equal(
        send_text("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
                  "\"params\":{\"cursor\":\"x\"}}"),
        1);
    tools = json_object_get(json_object_get(last(), "result"), "tools");
    assert_int_equal(json_array_size(tools), 2);
    t = json_array_get(tools, 0);
    assert_string_equal(json_string_value(json_object_get(t, "name")), "echo");
    assert_string_equal(json_string_value(json_object_get(t, "title")), "Echo");
    assert_string_equal(json_string_value(json_object_get(t, "description")),
                        "Echoes x.");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(
                json_object_get(json_object_get(t, "inputSchema"), "properties"), "x"),
            "type")),
        "integer");
    assert_true(json_is_object(json_object_get(t, "outputSchema")));
    t = json_array_get(tools, 1);
    assert_null(json_object_get(t, "title"));
    assert_null(json_object_get(t, "outputSchema"));
    assert_true(json_is_object(json_object_get(t, "inputSchema")));
}

static void test_tools_call(void **state)
{
    json_t *r, *content;

    (void)state;
    assert_int_equal(
        send_text("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\","
                  "\"params\":{\"name\":\"echo\",\"arguments\":{\"x\":4}}}"),
        1);
    r = json_object_get(last(), "result");
    assert_true(json_is_false(json_object_get(r, "isError")));
    content = json_object_get(r, "content");
    assert_int_equal(json_array_size(content), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(content, 0), "type")), "text");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(content, 0), "text")),
        "x is 4");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(content, 1), "type")),
        "resource_link");
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(r, "structuredContent"), "x")),
                     4);

    /* A refusal is a result with isError, not a JSON-RPC error. */
    send_text("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
              "\"params\":{\"name\":\"echo\",\"arguments\":{\"x\":-1}}}");
    r = json_object_get(last(), "result");
    assert_true(json_is_true(json_object_get(r, "isError")));
    assert_null(json_object_get(r, "structuredContent"));
    assert_non_null(
        strstr(json_string_value(json_object_get(
                   json_array_get(json_object_get(r, "content"), 0), "text")),
               "expected 0 or more"));

    /* A summary that cannot be sent as JSON: an empty text, still a result. */
    send_text("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
              "\"params\":{\"name\":\"echo\",\"arguments\":{\"x\":99}}}");
    r = json_object_get(last(), "result");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "content"), 0), "text")),
                        "");

    /* No arguments: the handler gets {}. */
    send_text("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\","
              "\"params\":{\"name\":\"echo\"}}");
    r = json_object_get(last(), "result");
    assert_int_equal(json_object_size(json_object_get(r, "structuredContent")), 0);
}

static void test_tools_call_refused(void **state)
{
    static const char *const bad[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"nope\"}}",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{}}",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
        "7}}",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
        "\"echo\",\"arguments\":[1]}}",
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/"
        "call\",\"params\":[\"echo\"]}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(send_text(bad[i]), 1);
        if (error_code(last()) != JSONRPC_INVALID_PARAMS)
            fail_msg("case %zu: %s: code %d", i, bad[i], error_code(last()));
        assert_int_equal(json_integer_value(json_object_get(last(), "id")), 5);
    }
    send_text(bad[0]);
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(last(), "error"), "message")),
        "nope"));
}

static void test_progress(void **state)
{
    json_t *n;

    (void)state;
    /* Without a token: the answer only. */
    assert_int_equal(
        send_text("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\","
                  "\"params\":{\"name\":\"slow\"}}"),
        1);
    /* With one: two notifications (1 of 3, then 3), then the answer. */
    assert_int_equal(
        send_text("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
                  "\"params\":{\"name\":\"slow\",\"_meta\":{"
                  "\"progressToken\":\"tok\"}}}"),
        3);
    n = json_array_get(cap.msgs, 0);
    assert_string_equal(json_string_value(json_object_get(n, "method")),
                        "notifications/progress");
    assert_null(json_object_get(n, "id"));
    n = json_object_get(n, "params");
    assert_string_equal(json_string_value(json_object_get(n, "progressToken")), "tok");
    assert_true(json_number_value(json_object_get(n, "progress")) == 1);
    assert_true(json_number_value(json_object_get(n, "total")) == 3);
    assert_string_equal(json_string_value(json_object_get(n, "message")), "one");
    n = json_object_get(json_array_get(cap.msgs, 1), "params");
    assert_true(json_number_value(json_object_get(n, "progress")) == 3);
    assert_null(json_object_get(n, "total"));
    assert_null(json_object_get(n, "message"));
    assert_int_equal(json_integer_value(json_object_get(last(), "id")), 7);
    /* An integer token is echoed as an integer. */
    assert_int_equal(
        send_text("{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\","
                  "\"params\":{\"name\":\"slow\",\"_meta\":{"
                  "\"progressToken\":42}}}"),
        3);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_array_get(cap.msgs, 0), "params"), "progressToken")),
        42);
}

static void test_resources(void **state)
{
    json_t *a;

    (void)state;
    send_text("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"resources/read\","
              "\"params\":{\"uri\":\"sweep://test/x.csv\"}}");
    a = json_object_get(json_object_get(last(), "result"), "contents");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(a, 0), "text")), "x\n1\n");
    send_text("{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"resources/read\","
              "\"params\":{\"uri\":\"sweep://test/none\"}}");
    assert_int_equal(error_code(last()), -32002);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(last(), "error"), "data"), "uri")),
        "sweep://test/none");
    send_text("{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"resources/read\","
              "\"params\":{}}");
    assert_int_equal(error_code(last()), JSONRPC_INVALID_PARAMS);
    send_text("{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"resources/read\","
              "\"params\":{\"uri\":\"sweep://test/broken\"}}");
    assert_int_equal(error_code(last()), JSONRPC_INTERNAL_ERROR);
    send_text("{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"resources/list\"}");
    assert_true(
        json_is_array(json_object_get(json_object_get(last(), "result"), "resources")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tools_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tools_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tools_call_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resources, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
