/* Unit tests of src/common: durations, SHA-256 test vectors, canonical JSON, "did you
 * mean" suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/jsonx.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/suggest.h"
#include "common/timeutil.h"

#include <stdlib.h>
#include <string.h>

static void test_duration_parse(void **state)
{
    static const struct {
        const char *in;
        int rc;
        double want;
    } cases[] = {
        {"500ms", 0, 0.5}, {"90s", 0, 90},     {"30m", 0, 1800}, {"24h", 0, 86400},
        {"2d", 0, 172800}, {"1h30m", 0, 5400}, {"12", 0, 12},    {"0.25", 0, 0.25},
        {"1.5s", 0, 1.5},  {"", -1, 0},        {"abc", -1, 0},   {"10x", -1, 0},
        {"-5s", -1, 0},    {"5 s", -1, 0},     {"s", -1, 0},     {"1h30", -1, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = -1;
        int rc = duration_parse(cases[i].in, &got);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0)
            assert_true(got == cases[i].want);
    }
}

static void test_duration_format(void **state)
{
    char buf[32];
    (void)state;
    duration_format(0.85, buf, sizeof(buf));
    assert_string_equal(buf, "850ms");
    duration_format(42, buf, sizeof(buf));
    assert_string_equal(buf, "42s");
    duration_format(200, buf, sizeof(buf));
    assert_string_equal(buf, "3m 20s");
    duration_format(7500, buf, sizeof(buf));
    assert_string_equal(buf, "2h 05m");
}

static void test_sha256_vectors(void **state)
{
    char hex[65];
    (void)state;
    /* FIPS 180-4 examples. */
    sha256_hex("abc", 3, hex);
    assert_string_equal(
        hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hex("", 0, hex);
    assert_string_equal(
        hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(two, strlen(two), hex);
    assert_string_equal(
        hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_jsonx_canon(void **state)
{
    json_error_t je;
    json_t *v = json_loads("{\"b\": [1, 0.1, 3.0, 1e-06], \"a\": \"x\\\"y\", "
                           "\"c\": {\"z\": true, \"y\": null}}",
                           0, &je);
    char *s;
    (void)state;
    assert_non_null(v);
    s = jsonx_canon_str(v);
    assert_string_equal(s, "{\"a\":\"x\\\"y\",\"b\":[1,0.1,3.0,1e-06],"
                           "\"c\":{\"y\":null,\"z\":true}}");
    free(s);
    json_decref(v);
}

static void test_jsonx_pretty(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"b\": 0.05, \"a\": [16, 16], \"n\": {\"x\": [{}, []],"
                           " \"s\": \"q\\\"\"}, \"e\": {}}",
                           0, NULL);
    char *s = jsonx_pretty_str(v);

    /* Object order kept, shortest reals, flat scalar arrays, nested ones one per line.
     */
    assert_string_equal(s, "{\n"
                           "  \"b\": 0.05,\n"
                           "  \"a\": [16, 16],\n"
                           "  \"n\": {\n"
                           "    \"x\": [\n"
                           "      {},\n"
                           "      []\n"
                           "    ],\n"
                           "    \"s\": \"q\\\"\"\n"
                           "  },\n"
                           "  \"e\": {}\n"
                           "}\n");
    free(s);
    s = jsonx_line_str(v);
    assert_string_equal(s, "{\"b\": 0.05, \"a\": [16, 16], \"n\": {\"x\": [{}, []], "
                           "\"s\": \"q\\\"\"}, \"e\": {}}");
    free(s);
    json_decref(v);
}

struct leaf_seen {
    char names[8][16];
    int n;
};

static int note_leaf(const char *path, const json_t *v, void *arg)
{
    struct leaf_seen *seen = arg;
    (void)v;
    snprintf(seen->names[seen->n++], sizeof(seen->names[0]), "%s", path);
    return strcmp(path, "stop") == 0 ? 7 : 0;
}

static void test_jsonx_walk_leaves(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"a\": 1, \"b\": {\"c\": {\"d\": null}, \"e\": [1]},"
                           " \"f\": {}, \"stop\": 0, \"g\": 2}",
                           0, NULL);
    struct leaf_seen seen = {0};

    assert_int_equal(jsonx_walk_leaves(v, note_leaf, &seen), 7);
    assert_int_equal(seen.n, 4);
    assert_string_equal(seen.names[0], "a");
    assert_string_equal(seen.names[1], "b.c.d");
    assert_string_equal(seen.names[2], "b.e");
    assert_string_equal(seen.names[3], "stop");
    json_decref(v);
}

static void test_jsonx_arg_str(void **state)
{
    json_t *v;
    char *s;
    (void)state;
    v = json_real(0.30000000000000004);
    s = jsonx_arg_str(v);
    assert_string_equal(s, "0.30000000000000004");
    free(s);
    json_decref(v);
    v = json_pack("[i,i,i]", 64, 64, 1);
    s = jsonx_arg_str(v);
    assert_string_equal(s, "[64,64,1]");
    free(s);
    json_decref(v);
    v = json_string("x; touch /tmp/pwned");
    s = jsonx_arg_str(v);
    assert_string_equal(s, "x; touch /tmp/pwned");
    free(s);
    json_decref(v);
}

static void test_strbuf(void **state)
{
    struct strbuf sb = STRBUF_INIT;
    char *s;
    (void)state;
    assert_string_equal(sb_str(&sb), "");
    sb_adds(&sb, "a");
    sb_addf(&sb, "%d-%s", 42, "b");
    sb_addc(&sb, '!');
    assert_string_equal(sb_str(&sb), "a42-b!");
    s = sb_take(&sb);
    assert_string_equal(s, "a42-b!");
    assert_null(sb.buf);
    free(s);
}

static void test_suggest_distance(void **state)
{
    static const struct {
        const char *a, *b;
        size_t want;
    } cases[] = {
        {"", "", 0},
        {"abc", "abc", 0},
        {"re", "Re", 0},
        {"stauts", "status", 1},
        {"max-paralel", "max-parallel", 1},
        {"navier_stokes", "navier-stokes", 1},
        {"n_particle", "n_particles", 1},
        {"kitten", "sitting", 3},
        {"ab", "", 2},
        {"ca", "abc", 3},
    };
    char longer[SUGGEST_MAX_LEN + 2];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(suggest_distance(cases[i].a, cases[i].b), cases[i].want);
        assert_int_equal(suggest_distance(cases[i].b, cases[i].a), cases[i].want);
    }
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_true(suggest_distance(longer, "a") == SIZE_MAX);
}

static void test_suggest_closest(void **state)
{
    static const char *const commands[] = {"run", "status", "list", "results", "logs"};
    static const char *const options[] = {"mode", "max-parallel", "priority", "home"};
    static const char *const params[] = {"T", "L", "seed"};
    static const char *const ns[] = {"Re", "dt", "T_final", "grid_size"};
    static const char *const models[] = {"chaos", "navier-stokes", "cavity", "dla"};
    static const struct {
        const char *word;
        const char *const *cands;
        size_t n;
        const char *want; /* NULL: no suggestion */
    } cases[] = {
        {"stauts", commands, 5, "status"},
        {"result", commands, 5, "results"},
        {"lgos", commands, 5, "logs"},
        {"frobnicate", commands, 5, NULL},
        {"status", commands, 5, NULL}, /* not mistyped */
        {"max-paralel", options, 4, "max-parallel"},
        {"hom", options, 4, "home"},
        {"Temp", params, 3, "T"},   /* a prefix when nothing is near */
        {"sed", params, 3, "seed"}, /* near beats prefix */
        {"x", params, 3, NULL},
        {"re", ns, 4, "Re"}, /* case only */
        {"RE", ns, 4, "Re"},
        {"grid-size", ns, 4, "grid_size"},
        {"navier_stokes", models, 4, "navier-stokes"},
        {"cavty", models, 4, "cavity"},
        {"", models, 4, NULL},
        {"zzzzzzzzzz", models, 4, NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = suggest_closest(cases[i].word, cases[i].cands, cases[i].n);
        if (!cases[i].want) {
            assert_null(got);
            continue;
        }
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_jsonx_canon),
        cmocka_unit_test(test_jsonx_arg_str),
        cmocka_unit_test(test_jsonx_pretty),
        cmocka_unit_test(test_jsonx_walk_leaves),
        cmocka_unit_test(test_strbuf),
        cmocka_unit_test(test_suggest_distance),
        cmocka_unit_test(test_suggest_closest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
