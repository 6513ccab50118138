/* Unit tests of the service's client (src/client/client.c) without a service: the URL
 * and token settings and their refusals, path escaping, a closed port as
 * CLIENT_ECONNECT naming the URL, and a spec or task file turned into the body of
 * POST /studies. The answers of a real service are checked end to end (t0044). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "client/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_escape(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"s1", "s1"},           {"a-b_c.d~e", "a-b_c.d~e"},
        {"a b/c", "a%20b%2Fc"}, {"x?y=1&z", "x%3Fy%3D1%26z"},
        {"\xc3\xa9", "%C3%A9"}, {"", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = client_escape(cases[i].in);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void test_create(void **state)
{
    static const struct {
        const char *url, *env, *want_url;
        int want;
    } cases[] = {
        {"http://127.0.0.1:5000", NULL, "http://127.0.0.1:5000", CLIENT_OK},
        {"http://h:1///", NULL, "http://h:1", CLIENT_OK},
        {"https://h/api/", NULL, "https://h/api", CLIENT_OK},
        {NULL, "http://env:7", "http://env:7", CLIENT_OK},
        {"", "http://env:7", "http://env:7", CLIENT_OK},
        {NULL, NULL, CLIENT_DEFAULT_URL, CLIENT_OK},
        {"http://flag:1", "http://env:7", "http://flag:1", CLIENT_OK},
        {"ftp://h", NULL, NULL, CLIENT_EREFUSED},
        {"127.0.0.1:5000", NULL, NULL, CLIENT_EREFUSED},
    };

    (void)state;
    unsetenv("SWEEP_TOKEN_FILE");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct client *c = NULL;
        struct err err = {0};
        int rc;

        if (cases[i].env)
            setenv("SWEEP_SERVER", cases[i].env, 1);
        else
            unsetenv("SWEEP_SERVER");
        rc = client_create(cases[i].url, NULL, &c, &err);
        assert_int_equal(rc, cases[i].want);
        if (rc == CLIENT_OK)
            assert_string_equal(client_url(c), cases[i].want_url);
        else
            assert_non_null(strstr(err.msg, "--server: expected a URL"));
        client_destroy(c);
    }
    unsetenv("SWEEP_SERVER");
}

static void test_token_file(void **state)
{
    char dir[] = "/tmp/test_client.XXXXXX", path[64];
    struct client *c = NULL;
    struct err err = {0};

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_int_equal(client_create("http://h:1", path, &c, &err), CLIENT_EREFUSED);
    assert_null(c);
    assert_non_null(strstr(err.msg, "--token-file"));
    assert_int_equal(client_create("http://h:1", dir, &c, &err), CLIENT_EREFUSED);
    snprintf(path, sizeof(path), "%s/token", dir);
    write_file(path, "  tok en \r\nsecond line\n");
    assert_int_equal(client_create("http://h:1", path, &c, &err), CLIENT_OK);
    client_destroy(c);
    unlink(path);
    rmdir(dir);
}

/* A port on which nothing listens: bound, never listened on, then closed. */
static int closed_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t n = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_closed_port(void **state)
{
    char url[64];
    struct client *c = NULL;
    struct err err = {0};
    json_t *v = (json_t *)1;
    long status = -1;

    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
    assert_int_equal(client_create(url, NULL, &c, &err), CLIENT_OK);
    assert_int_equal(client_json(c, "GET", "/health", NULL, &status, &v, &err),
                     CLIENT_ECONNECT);
    assert_null(v);
    assert_int_equal(status, 0);
    assert_non_null(strstr(err.msg, "cannot reach the sweep service at"));
    assert_non_null(strstr(err.msg, url));
    client_destroy(c);
}

static void test_spec_body(void **state)
{
    char dir[] = "/tmp/test_client.XXXXXX", path[64];
    struct err err = {0};
    char *body = NULL;
    json_t *v;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s.yaml", dir);
    write_file(path, "study: s\nmodel: chaos\nparameters:\n  x: [1, 2]\n");
    assert_int_equal(client_spec_body(path, &body, NULL, &err), CLIENT_OK);
    v = json_loads(body, 0, NULL);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "study")), "s");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(v, "parameters"), "x")), 2);
    json_decref(v);
    free(body);

    /* A tasks.yaml: the study spec it stands for, as `sweep run` reads it. */
    snprintf(path, sizeof(path), "%s/tasks.yaml", dir);
    write_file(path, "tasks:\n  - id: a1\n    type: chaos\n    parameters: {x: 2}\n"
                     "    priority: 1\n");
    assert_int_equal(client_spec_body(path, &body, NULL, &err), CLIENT_OK);
    v = json_loads(body, 0, NULL);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "study")), "tasks");
    assert_string_equal(json_string_value(json_object_get(v, "model")), "chaos");
    assert_int_equal(json_array_size(json_object_get(v, "tasks")), 1);
    json_decref(v);
    free(body);
    unlink(path);

    write_file(path, "- 1\n- 2\n");
    assert_int_equal(client_spec_body(path, &body, NULL, &err), CLIENT_EREFUSED);
    assert_null(body);
    assert_non_null(strstr(err.msg, "expected a study spec"));
    write_file(path, "study: [\n");
    assert_int_equal(client_spec_body(path, &body, NULL, &err), CLIENT_EREFUSED);
    unlink(path);
    assert_int_equal(client_spec_body(path, &body, NULL, &err), CLIENT_EREFUSED);
    assert_non_null(strstr(err.msg, path));
    snprintf(path, sizeof(path), "%s/s.yaml", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),     cmocka_unit_test(test_create),
        cmocka_unit_test(test_token_file), cmocka_unit_test(test_closed_port),
        cmocka_unit_test(test_spec_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
