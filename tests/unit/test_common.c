/* Unit tests of src/common: durations, lines fitted to a terminal, SHA-256 test
 * vectors, canonical JSON. */

/* Unit tests of src/common: durations, SHA-256 test vectors, canonical JSON, "did you
 * mean" suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/fileio.h"
#include "common/jsonx.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/strlist.h"
#include "common/termline.h"

#include "common/suggest.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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
    /* One format everywhere: two decimals below 10 s, one below a minute, then
     * minutes and seconds, hours and minutes, days and hours. */
    static const struct {
        double in;
        const char *want;
    } cases[] = {
        {0, "0.00s"},
        {0.033, "0.03s"},
        {0.85, "0.85s"},
        {0.987, "0.99s"},
        {1, "1.00s"},
        {9.87, "9.87s"},
        {9.996, "10.0s"},
        {12.34, "12.3s"},
        {42, "42.0s"},
        {59.96, "1m00s"},
        {200, "3m20s"},
        {245, "4m05s"},
        {3599.6, "1h00m"},
        {3720, "1h02m"},
        {7500, "2h05m"},
        {86400, "1d00h"},
        {3 * 86400 + 4 * 3600, "3d04h"},
        {-1, "0.00s"},
    };
    char buf[32];
    double back;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        duration_format(cases[i].in, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].want);
        /* What is printed can be given back (--timeout 4m05s). */
        assert_int_equal(duration_parse(buf, &back), 0);
    }
}

/* The progress line of `sweep run` as runner.c builds it. */
static void progress_fields(struct termline_field f[6], const char *name)
{
    f[0] = (struct termline_field){NULL, name, 0, 16};
    f[1] = (struct termline_field){": ", "17/41 done", 0, 0};
    f[2] = (struct termline_field){", ", "0 failed", 0, 0};
    f[3] = (struct termline_field){", ", "ETA 2.31s", 1, 0};
    f[4] = (struct termline_field){", ", "2 running", 2, 0};
    f[5] = (struct termline_field){", ", "9.3 tasks/s", 3, 0};
}

static void test_termline_fit(void **state)
{
    static const char *const longname =
        "a-rather-long-study-name-for-the-terminal-width-check";
    static const struct {
        const char *name;
        int width;
        const char *want;
    } cases[] = {
        {"short", 0, "short: 17/41 done, 0 failed, ETA 2.31s, 2 running, 9.3 tasks/s"},
        {"short", 80, "short: 17/41 done, 0 failed, ETA 2.31s, 2 running, 9.3 tasks/s"},
        /* The name gives up columns first, down to its keep (16). */
        {longname, 80,
         "a-rather-long-study-na\u2026: 17/41 done, 0 failed, ETA 2.31s, 2 running, "
         "9.3 tasks/s"},
        /* Then the least important fields go. */
        {longname, 50, "a-rather-long-st\u2026: 17/41 done, 0 failed, ETA 2.31s"},
        {longname, 40, "a-rather-long-stu\u2026: 17/41 done, 0 failed"},
        /* Then the name is cut below its keep, then the line itself. */
        {longname, 30, "a-rathe\u2026: 17/41 done, 0 failed"},
        {longname, 10, "a\u2026: 17/41\u2026"},
        {"short", 38, "short: 17/41 done, 0 failed, ETA 2.31s"},
        {"short", 50, "short: 17/41 done, 0 failed, ETA 2.31s, 2 running"},
    };
    struct termline_field f[6];
    char buf[256], want[256];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *w = cases[i].want;
        size_t k = 0, cols;
        /* "\u2026" in the table stands for the ellipsis. */
        while (*w && k + 4 < sizeof(want)) {
            if (strncmp(w, "\\u2026", 6) == 0) {
                memcpy(want + k, TERMLINE_ELLIPSIS, 3);
                k += 3;
                w += 6;
            } else {
                want[k++] = *w++;
            }
        }
        want[k] = '\0';
        progress_fields(f, cases[i].name);
        cols = termline_fit(f, 6, cases[i].width, buf, sizeof(buf));
        assert_string_equal(buf, want);
        assert_int_equal(cols, termline_width(buf));
        if (cases[i].width > 0)
            assert_true(cols <= (size_t)cases[i].width);
    }
    assert_int_equal(termline_width("a" TERMLINE_ELLIPSIS "b"), 3);
    assert_int_equal(termline_cut("abcdef", 4, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "abc" TERMLINE_ELLIPSIS);
    assert_int_equal(termline_cut("abc", 4, buf, sizeof(buf)), 3);
    assert_string_equal(buf, "abc");
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
    /* Lengths at the padding's edges: the length fits the last block or not. */
    static const struct {
        size_t n;
        const char *hex;
    } xs[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
    };
    char x[128];
    memset(x, 'x', sizeof(x));
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        sha256_hex(x, xs[i].n, hex);
        assert_string_equal(hex, xs[i].hex);
    }
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
    /* Integers at their edges. */
    v = json_pack("[I,I,I,I]", (json_int_t)0, (json_int_t)-7, (json_int_t)LLONG_MAX,
                  (json_int_t)LLONG_MIN);
    s = jsonx_canon_str(v);
    assert_string_equal(s, "[0,-7,9223372036854775807,-9223372036854775808]");
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

/* fileio_read_user: a regular file is read whole; anything else is refused at once,
 * never waited on, with a code that makes the CLI exit 2 (usage) except a failed read.
 */
static void test_fileio_read_user(void **state)
{
    char dir[] = "/tmp/test_common.XXXXXX";
    static const struct {
        const char *name; /* in dir */
        size_t max;
        int rc;
        const char *msg; /* substring of the message (after "<path>: ") */
        const char *data;
    } cases[] = {
        {"file", 0, SWEEP_OK, NULL, "hello\n"},
        {"file", 6, SWEEP_OK, NULL, "hello\n"},
        {"file", 5, SWEEP_EINVAL, "larger than 5 bytes", NULL},
        {"empty", 0, SWEEP_OK, NULL, ""},
        {"link", 0, SWEEP_OK, NULL, "hello\n"},
        {"missing", 0, SWEEP_ENOTFOUND, "No such file or directory", NULL},
        {"fiel", 0, SWEEP_ENOTFOUND, "No such file or directory (did you mean '", NULL},
        {"file/below", 0, SWEEP_ENOTFOUND, "Not a directory", NULL},
        {"fifo", 0, SWEEP_EINVAL, "is a FIFO, not a regular file", NULL},
        {"sub", 0, SWEEP_EINVAL, "is a directory, not a regular file", NULL},
        {"sock", 0, SWEEP_EINVAL, "is a socket, not a regular file", NULL},
        {"loop", 0, SWEEP_EINVAL, "cannot open: a loop of symbolic links", NULL},
        {"/dev/null", 0, SWEEP_EINVAL, "is a character device, not a regular file",
         NULL},
    };
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char *p;
    FILE *f;
    int sock;
    (void)state;

    assert_non_null(mkdtemp(dir));
    p = xasprintf("%s/file", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("hello\n", f);
    fclose(f);
    free(p);
    p = xasprintf("%s/empty", dir);
    fclose(fopen(p, "w"));
    free(p);
    p = xasprintf("%s/link", dir);
    assert_int_equal(symlink("file", p), 0);
    free(p);
    p = xasprintf("%s/loop", dir);
    assert_int_equal(symlink("loop", p), 0);
    free(p);
    p = xasprintf("%s/fifo", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    free(p);
    p = xasprintf("%s/sub", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    free(p);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
    sock = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(sock >= 0);
    assert_int_equal(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err = {0};
        char *data = NULL;
        size_t len = 99;
        int rc;

        p = cases[i].name[0] == '/' ? xstrdup(cases[i].name)
                                    : xasprintf("%s/%s", dir, cases[i].name);
        rc = fileio_read_user(p, cases[i].max, &data, &len, &err);
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s): rc %d, want %d: %s", i, cases[i].name, rc,
                     cases[i].rc, err.msg);
        if (cases[i].data) {
            assert_string_equal(data, cases[i].data);
            assert_int_equal(len, strlen(cases[i].data));
        } else {
            assert_null(data);
            assert_int_equal(strncmp(err.msg, p, strlen(p)), 0);
            if (!strstr(err.msg, cases[i].msg))
                fail_msg("case %zu (%s): \"%s\" lacks \"%s\"", i, cases[i].name,
                         err.msg, cases[i].msg);
        }
        free(data);
        free(p);
    }
    /* The near name is the path as typed, its directory kept; none for "missing". */
    {
        struct err err = {0};
        char *data = NULL, *want;
        size_t len;

        p = xasprintf("%s/fiel", dir);
        want = xasprintf("%s: No such file or directory (did you mean '%s/file'?)", p,
                         dir);
        assert_int_equal(fileio_read_user(p, 0, &data, &len, &err), SWEEP_ENOTFOUND);
        assert_string_equal(err.msg, want);
        free(want);
        free(p);
        p = xasprintf("%s/missing", dir);
        assert_int_equal(fileio_read_user(p, 0, &data, &len, &err), SWEEP_ENOTFOUND);
        assert_null(strstr(err.msg, "did you mean"));
        free(p);
    }
    close(sock);
    for (const char *const *n = (const char *const[]){"file", "empty", "link", "loop",
                                                      "fifo", "sock", NULL};
         *n; n++) {
        p = xasprintf("%s/%s", dir, *n);
        unlink(p);
        free(p);
    }
    p = xasprintf("%s/sub", dir);
    rmdir(p);
    free(p);
    rmdir(dir);
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

/* "a,b,c" into a list; "" gives none; an empty item is refused with nothing kept. */
static void test_strlist_split(void **state)
{
    char **v;
    size_t n;

    (void)state;
    assert_int_equal(strlist_split("rg,df,n", &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "rg");
    assert_string_equal(v[1], "df");
    assert_string_equal(v[2], "n");
    strlist_free(v, n);
    assert_int_equal(strlist_split("", &v, &n), 0);
    assert_int_equal(n, 0);
    assert_null(v);
    assert_int_equal(strlist_split("a,,b", &v, &n), -1);
    assert_int_equal(n, 0);
    assert_null(v);
    assert_int_equal(strlist_split("a,", &v, &n), -1);
    assert_int_equal(strlist_split(",a", &v, &n), -1);
    strlist_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_termline_fit),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_jsonx_canon),
        cmocka_unit_test(test_jsonx_arg_str),
        cmocka_unit_test(test_jsonx_pretty),
        cmocka_unit_test(test_jsonx_walk_leaves),
        cmocka_unit_test(test_strbuf),
        cmocka_unit_test(test_fileio_read_user),
        cmocka_unit_test(test_suggest_distance),
        cmocka_unit_test(test_suggest_closest),
        cmocka_unit_test(test_strlist_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
