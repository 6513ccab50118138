/* Unit tests of src/common/config.c: the precedence flag > environment > .env >
 * default, where each value came from, and malformed values refused with their name
 * and source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct config_def defs[] = {
    {"bind", "SWEEP_BIND", CONFIG_BIND, "127.0.0.1:5000", "address"},
    {"max_parallel", "SWEEP_MAX_PARALLEL", CONFIG_POSITIVE_INT, "4", "slots"},
    {"max_body", "SWEEP_MAX_BODY", CONFIG_SIZE, "1M", "body limit"},
    {"token_file", "SWEEP_TOKEN_FILE", CONFIG_STRING, NULL, "token"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static char dir[64];
static char dotenv[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/sweep-config.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(dotenv, sizeof(dotenv), "%s/.env", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(dotenv);
    rmdir(dir);
    return 0;
}

static void write_dotenv(const char *text)
{
    FILE *f = fopen(dotenv, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Each source wins over the ones after it, and says so. */
static void test_config_precedence(void **state)
{
    char *envv[] = {"SWEEP_MAX_PARALLEL=8", "SWEEP_MAX_BODY=2K", "OTHER=1", NULL};
    struct err err = {0};
    struct config *c = config_create(defs, NDEFS);
    char where[160];

    (void)state;
    write_dotenv("# a comment\n\nexport SWEEP_MAX_PARALLEL=3\n"
                 "SWEEP_TOKEN_FILE = \"/tmp/tok en\"\nUNKNOWN_THING=x\n"
                 "SWEEP_BIND=0.0.0.0:7000\n");
    assert_int_equal(config_set_flag(c, "bind", "127.0.0.1:0", &err), SWEEP_OK);
    assert_int_equal(config_load(c, dotenv, envv, &err), SWEEP_OK);
    /* flag over environment, .env and default */
    assert_string_equal(config_get(c, "bind"), "127.0.0.1:0");
    assert_int_equal(config_source_of(c, "bind"), CONFIG_FLAG);
    assert_string_equal(config_where(c, "bind"), "flag --bind");
    /* environment over .env */
    assert_int_equal(config_num(c, "max_parallel"), 8);
    assert_int_equal(config_source_of(c, "max_parallel"), CONFIG_ENV);
    assert_string_equal(config_where(c, "max_parallel"),
                        "environment SWEEP_MAX_PARALLEL");
    assert_int_equal(config_num(c, "max_body"), 2048);
    /* .env over the default (none here), quotes taken off, line counted */
    assert_string_equal(config_get(c, "token_file"), "/tmp/tok en");
    snprintf(where, sizeof(where), "%s line 4", dotenv);
    assert_string_equal(config_where(c, "token_file"), where);
    config_destroy(c);

    /* Nothing given: the defaults; an unset one stays unset. */
    c = config_create(defs, NDEFS);
    assert_int_equal(config_load(c, NULL, NULL, &err), SWEEP_OK);
    assert_int_equal(config_source_of(c, "max_body"), CONFIG_DEFAULT);
    assert_int_equal(config_num(c, "max_body"), 1048576);
    assert_null(config_get(c, "token_file"));
    assert_int_equal(config_source_of(c, "token_file"), CONFIG_UNSET);
    {
        json_t *j = config_json(c);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(j, "bind"), "source")),
            "default");
        assert_true(
            json_is_null(json_object_get(json_object_get(j, "token_file"), "value")));
        json_decref(j);
    }
    config_destroy(c);
}

/* A malformed value is refused with the setting, its source and what was expected. */
static void test_config_malformed(void **state)
{
    static const struct {
        const char *dotenv; /* NULL: none */
        const char *env;    /* NULL: none */
        const char *flag;   /* "name=value", NULL: none */
        const char *want;   /* a substring of the message; %s: the .env path */
    } cases[] = {
        {"\n\nSWEEP_MAX_PARALLEL=x\n", NULL, NULL,
         "SWEEP_MAX_PARALLEL from %s line 3: expected a positive integer, got 'x'"},
        {NULL, "SWEEP_MAX_PARALLEL=0", NULL,
         "SWEEP_MAX_PARALLEL from the environment: expected a positive integer, got "
         "'0'"},
        {NULL, NULL, "max_parallel=99999999999",
         "--max-parallel: expected a positive integer"},
        {NULL, "SWEEP_MAX_BODY=1X", NULL, "expected a size in bytes"},
        {NULL, "SWEEP_MAX_BODY=", NULL, "expected a size in bytes"},
        {NULL, NULL, "bind=1.2.3:80", "--bind: expected HOST:PORT"},
        {NULL, NULL, "bind=127.0.0.1:65536", "expected HOST:PORT"},
        {NULL, NULL, "bind=127.0.0.1:", "expected HOST:PORT"},
        {"SWEEP_BIND=localhost:x\n", NULL, NULL, "SWEEP_BIND from %s line 1"},
        {"just words\n", NULL, NULL, "%s line 1: expected NAME=VALUE"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config *c = config_create(defs, NDEFS);
        struct err err = {0};
        char *envv[] = {(char *)cases[i].env, NULL};
        char want[256];

        unlink(dotenv);
        if (cases[i].dotenv)
            write_dotenv(cases[i].dotenv);
        if (cases[i].flag) {
            char name[32];
            const char *eq = strchr(cases[i].flag, '=');
            snprintf(name, sizeof(name), "%.*s", (int)(eq - cases[i].flag),
                     cases[i].flag);
            assert_int_equal(config_set_flag(c, name, eq + 1, &err), SWEEP_OK);
        }
        {
            const char *at = strstr(cases[i].want, "%s");
            if (at)
                snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - cases[i].want),
                         cases[i].want, dotenv, at + 2);
            else
                snprintf(want, sizeof(want), "%s", cases[i].want);
        }
        assert_int_equal(config_load(c, dotenv, envv, &err), SWEEP_EINVAL);
        if (!strstr(err.msg, want))
            fail_msg("case %zu: '%s' does not hold '%s'", i, err.msg, want);
        config_destroy(c);
    }
}

static void test_config_bind(void **state)
{
    char host[64];
    int port;
    struct err err = {0};

    (void)state;
    assert_int_equal(config_parse_bind("localhost:0", host, sizeof(host), &port, &err),
                     SWEEP_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 0);
    assert_int_equal(
        config_parse_bind("10.1.2.3:8080", host, sizeof(host), &port, &err), SWEEP_OK);
    assert_string_equal(host, "10.1.2.3");
    assert_int_equal(port, 8080);
    assert_int_equal(config_parse_bind(":80", host, sizeof(host), &port, &err),
                     SWEEP_EINVAL);
    assert_int_equal(
        config_parse_bind("example.com:80", host, sizeof(host), &port, &err),
        SWEEP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_malformed, setup, teardown),
        cmocka_unit_test(test_config_bind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
