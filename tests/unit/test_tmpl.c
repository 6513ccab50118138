/* Unit tests of src/core/tmpl.c: rendering of argv templates (no shell, and shell with
 * quoting), literal braces, built-ins, the pipeline names ({steps.NAME.dir|result},
 * {reduce.input}) and their scope, tmpl_each_name, and every kind of template error,
 * in tables of (template, parameters, expected output or expected error). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/tmpl.h"

#include <stdlib.h>
#include <string.h>

/* Parameters every rendering case sees. */
static const char params_text[] =
    "{\"a\": 1, \"b\": \"two words\", \"dt\": 0.1, \"tol\": 1e-06, \"big\": 3.0,"
    " \"grid\": [64, 64, 1], \"on\": true, \"off\": false, \"none\": null,"
    " \"evil\": \"x; touch /tmp/pwned\", \"sub\": \"$(rm -rf ~) `id`\","
    " \"quote\": \"it's\", \"obj\": {\"z\": 1, \"a\": [0.5]}, \"m.n\": \"dotted\","
    " \"study\": \"shadow\", \"_u9\": \"u\"}";

static json_t *load_params(void)
{
    json_error_t jerr;
    json_t *p = json_loads(params_text, 0, &jerr);
    assert_non_null(p);
    return p;
}

static void test_render_table(void **state)
{
    static const struct {
        const char *tmpl;
        bool shell;
        const char *want;     /* NULL: an error is expected */
        const char *want_err; /* substring of the error message */
    } cases[] = {
        /* plain text and values of every type */
        {"plain", false, "plain", NULL},
        {"", false, "", NULL},
        {"--a={a}", false, "--a=1", NULL},
        {"{b}", false, "two words", NULL},
        {"{dt}", false, "0.1", NULL},
        {"{tol}", false, "1e-06", NULL},
        {"{big}", false, "3.0", NULL},
        {"{grid}", false, "[64,64,1]", NULL},
        {"{on},{off},[{none}]", false, "true,false,[]", NULL},
        {"{obj}", false, "{\"a\":[0.5],\"z\":1}", NULL},
        {"{a}{a}{b}", false, "11two words", NULL},
        {"{m.n}", false, "dotted", NULL},
        {"{_u9}", false, "u", NULL},
        /* values are inert: one string, nothing split or expanded */
        {"{evil}", false, "x; touch /tmp/pwned", NULL},
        {"{sub}", false, "$(rm -rf ~) `id`", NULL},
        {"$(echo {a}) `{a}`", false, "$(echo 1) `1`", NULL},
        /* literal braces */
        {"{{a}}", false, "{a}", NULL},
        {"{{}}", false, "{}", NULL},
        {"x{{{a}}}y", false, "x{1}y", NULL},
        {"{{{{", false, "{{", NULL},
        /* built-ins; a parameter of the same name wins */
        {"{task_dir}/out", false, "/tmp/t/0001/out", NULL},
        {"{seed}:{repetition}:{key}", false, "12345:2:0123456789abcdef", NULL},
        {"{study}", false, "shadow", NULL},
        {"{spec_dir}/sim.py", false, "/home/u/my study/sim.py", NULL},
        {"python3 {spec_dir}/sim.py", true, "python3 '/home/u/my study'/sim.py", NULL},
        /* shell quoting */
        {"echo {b}", true, "echo 'two words'", NULL},
        {"echo {quote}", true, "echo 'it'\\''s'", NULL},
        {"echo {evil}", true, "echo 'x; touch /tmp/pwned'", NULL},
        {"echo {sub}", true, "echo '$(rm -rf ~) `id`'", NULL},
        {"run {a} {grid} {seed}", true, "run '1' '[64,64,1]' '12345'", NULL},
        {"echo {{literal}} {none}", true, "echo {literal} ''", NULL},
        {"echo {quote}", false, "echo it's", NULL},
        /* errors: unknown names, stray braces */
        {"--x={foo}", false, NULL,
         "unknown placeholder {foo} in template \"--x={foo}\"; parameters are: _u9, a, "
         "b, "
         "big, dt, evil, grid, m.n, none, obj, off, on, quote, study, sub, tol "
         "(built-ins: "
         "task_dir, seed, repetition, study, key, spec_dir)"},
        {"{A}", true, NULL, "unknown placeholder {A}"},
        {"a{b", false, NULL, "template \"a{b\", column 2: '{' does not start"},
        {"a}b", false, NULL, "template \"a}b\", column 2: lone '}'"},
        {"{}", false, NULL, "column 1: '{' does not start"},
        {"{ a}", false, NULL, "column 1: '{' does not start"},
        {"{1a}", false, NULL, "column 1: '{' does not start"},
        {"{a-b}", false, NULL, "column 1: '{' does not start"},
        {"{a}}", false, NULL, "column 4: lone '}'"},
        {"ok {a} {", false, NULL, "column 8: '{' does not start"},
        {"{{{", false, NULL, "column 3: '{' does not start"},
    };
    struct tmpl_ctx ctx = {
        .task_dir = "/tmp/t/0001",
        .spec_dir = "/home/u/my study",
        .study = "s1",
        .key = "0123456789abcdef",
        .seed = 12345,
        .repetition = 2,
    };
    json_t *params = load_params();
    (void)state;

    ctx.params = params;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err = {0};
        char *out = NULL;
        int rc = tmpl_render(cases[i].tmpl, &ctx, cases[i].shell, &out, &err);

        if (cases[i].want) {
            if (rc != SWEEP_OK)
                fail_msg("case %zu \"%s\": %s", i, cases[i].tmpl, err.msg);
            assert_string_equal(out, cases[i].want);
            free(out);
        } else {
            assert_int_equal(rc, SWEEP_EINVAL);
            assert_int_equal(err.code, SWEEP_EINVAL);
            assert_null(out);
            if (!strstr(err.msg, cases[i].want_err))
                fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].tmpl,
                         err.msg, cases[i].want_err);
        }
    }
    json_decref(params);
}

static void test_render_without_params(void **state)
{
    struct tmpl_ctx ctx = {.seed = 7}; /* no params, no task_dir/study/key */
    struct err err = {0};
    char *out = NULL;
    (void)state;

    assert_int_equal(tmpl_render("{seed}[{task_dir}{study}{key}{spec_dir}]", &ctx,
                                 false, &out, &err),
                     SWEEP_OK);
    assert_string_equal(out, "7[]");
    free(out);
    assert_int_equal(tmpl_render("{x}", &ctx, false, &out, &err), SWEEP_EINVAL);
    assert_non_null(strstr(err.msg, "parameters are: (none)"));
}

static void test_check_table(void **state)
{
    static char *names[] = {"a", "b", "m.n", "size"}; /* sorted */
    static const struct {
        const char *tmpl;
        size_t nnames;
        const char *want_err; /* NULL: valid */
    } cases[] = {
        {"plain", 4, NULL},
        {"{a}{b}{m.n}{size}", 4, NULL},
        {"{seed} {repetition} {task_dir} {study} {key} {spec_dir}", 0, NULL},
        {"{{c}}", 4, NULL},
        {"{c}", 4, /* no suggestion: nothing is near */
         "unknown placeholder {c} in template \"{c}\"; parameters are: a, b, m.n, size "
         "(built-ins: "},
        {"{siz}", 4,
         "unknown placeholder {siz} in template \"{siz}\" (did you mean {size}?)"},
        {"{SIZE}", 4, "(did you mean {size}?)"},
        {"{sede}", 4, "(did you mean {seed}?)"},
        {"{mn}", 4, "(did you mean {m.n}?)"},
        {"{sizeX}", 4, "(did you mean {size}?)"},
        {"{sizes}", 4, "unknown placeholder {sizes}"},
        {"{m}", 4, "unknown placeholder {m}"},
        {"{a}", 0,
         "unknown placeholder {a} in template \"{a}\"; parameters are: (none)"},
        {"{a", 4, "column 1: '{' does not start"},
        {"x}", 4, "column 2: lone '}'"},
        /* a stray brace is reported even after an unknown-free prefix */
        {"{a} {b} }", 4, "column 9: lone '}'"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err = {0};
        int rc = tmpl_check(cases[i].tmpl, names, cases[i].nnames, NULL, &err);

        if (!cases[i].want_err) {
            if (rc != SWEEP_OK)
                fail_msg("case %zu \"%s\": %s", i, cases[i].tmpl, err.msg);
        } else {
            assert_int_equal(rc, SWEEP_EINVAL);
            if (!strstr(err.msg, cases[i].want_err))
                fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].tmpl,
                         err.msg, cases[i].want_err);
        }
    }
}

static void test_render_steps(void **state)
{
    static char *steps[] = {"sim", "an"};
    static char *dirs[] = {"/w/t/0001", "/w/t/it's"};
    static const struct {
        const char *tmpl;
        bool shell, reduce;
        const char *want;     /* NULL: an error is expected */
        const char *want_err; /* substring of the error message */
    } cases[] = {
        {"{steps.sim.dir}", false, false, "/w/t/0001", NULL},
        {"--in={steps.sim.result}", false, false, "--in=/w/t/0001/result.json", NULL},
        {"{steps.an.dir}:{steps.an.result}", false, false,
         "/w/t/it's:/w/t/it's/result.json", NULL},
        {"cat {steps.an.result}", true, false, "cat '/w/t/it'\\''s/result.json'", NULL},
        {"{reduce.input}", false, true, "/w/in.json", NULL},
        {"sum {reduce.input}", true, true, "sum '/w/in.json'", NULL},
        /* a parameter of a dotted name wins, as for the other built-ins */
        {"{steps.x.dir}", false, false, "param", NULL},
        /* names the context does not have */
        {"{steps.ex.dir}", false, false, NULL,
         "unknown placeholder {steps.ex.dir} in template \"{steps.ex.dir}\" (did you "
         "mean {steps.x.dir}?); parameters are: steps.x.dir (built-ins: task_dir, "
         "seed, repetition, study, "
         "key, spec_dir, steps.sim.dir, steps.sim.result, steps.an.dir, "
         "steps.an.result)"},
        {"{steps.sim.out}", false, false, NULL, "unknown placeholder {steps.sim.out}"},
        {"{steps.sim}", false, false, NULL, "unknown placeholder {steps.sim}"},
        {"{steps..dir}", false, false, NULL, "unknown placeholder {steps..dir}"},
        {"{reduce.input}", false, false, NULL, "unknown placeholder {reduce.input}"},
        {"{reduce.inputs}", false, true, NULL,
         "(built-ins: task_dir, seed, repetition, study, key, spec_dir, steps.sim.dir, "
         "steps.sim.result, steps.an.dir, steps.an.result, reduce.input)"},
    };
    json_t *params = json_pack("{s:s}", "steps.x.dir", "param");
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tmpl_ctx ctx = {
            .params = params,
            .step_names = steps,
            .step_dirs = dirs,
            .nsteps = 2,
            .reduce_input = cases[i].reduce ? "/w/in.json" : NULL,
        };
        struct err err = {0};
        char *out = NULL;
        int rc = tmpl_render(cases[i].tmpl, &ctx, cases[i].shell, &out, &err);

        if (cases[i].want) {
            if (rc != SWEEP_OK)
                fail_msg("case %zu \"%s\": %s", i, cases[i].tmpl, err.msg);
            assert_string_equal(out, cases[i].want);
            free(out);
        } else {
            assert_int_equal(rc, SWEEP_EINVAL);
            assert_null(out);
            if (!strstr(err.msg, cases[i].want_err))
                fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].tmpl,
                         err.msg, cases[i].want_err);
        }
    }
    json_decref(params);
}

static void test_check_scope(void **state)
{
    static char *names[] = {"a"};
    static char *steps[] = {"sim", "an"};
    static const struct {
        const char *tmpl;
        size_t nsteps; /* how many of steps are in scope */
        bool reduce;
        bool no_scope;        /* NULL scope */
        const char *want_err; /* NULL: valid */
    } cases[] = {
        {"{steps.sim.dir} {steps.an.result} {a}", 2, false, false, NULL},
        {"{steps.sim.result}", 1, false, false, NULL},
        {"{reduce.input}", 0, true, false, NULL},
        {"{seed} {a}", 0, false, true, NULL},
        {"{steps.an.dir}", 1, false, false,
         "unknown placeholder {steps.an.dir} in template \"{steps.an.dir}\" (did you "
         "mean {steps.sim.dir}?); parameters are: a (built-ins: task_dir, seed, "
         "repetition, study, key, "
         "spec_dir, steps.sim.dir, steps.sim.result)"},
        {"{steps.sim.dir}", 0, false, false, "unknown placeholder {steps.sim.dir}"},
        {"{steps.sim.dir}", 0, false, true,
         "unknown placeholder {steps.sim.dir} in template \"{steps.sim.dir}\"; "
         "parameters are: a (built-ins: task_dir, seed, repetition, study, key, "
         "spec_dir)"},
        {"{steps.sim.path}", 2, false, false, "unknown placeholder {steps.sim.path}"},
        {"{steps.sim}", 2, false, false, "unknown placeholder {steps.sim}"},
        {"{reduce.input}", 2, false, false, "unknown placeholder {reduce.input}"},
        {"{reduce.input}", 0, false, true, "unknown placeholder {reduce.input}"},
        {"{reduce.inputs}", 0, true, false,
         "(built-ins: task_dir, seed, repetition, study, key, spec_dir, reduce.input)"},
        {"{steps.sim.dir} }", 2, false, false, "column 17: lone '}'"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tmpl_scope scope = {steps, cases[i].nsteps, cases[i].reduce};
        struct err err = {0};
        int rc = tmpl_check(cases[i].tmpl, names, 1, cases[i].no_scope ? NULL : &scope,
                            &err);

        if (!cases[i].want_err) {
            if (rc != SWEEP_OK)
                fail_msg("case %zu \"%s\": %s", i, cases[i].tmpl, err.msg);
        } else {
            assert_int_equal(rc, SWEEP_EINVAL);
            if (!strstr(err.msg, cases[i].want_err))
                fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].tmpl,
                         err.msg, cases[i].want_err);
        }
    }
}

/* Collects "name@column" lines; returns 42 at the name "stop". */
static int each_collect(const char *name, size_t column, void *arg)
{
    char line[128];

    snprintf(line, sizeof(line), "%s@%zu;", name, column);
    strcat(arg, line);
    return strcmp(name, "stop") == 0 ? 42 : 0;
}

static void test_each_name(void **state)
{
    static const struct {
        const char *tmpl;
        int rc;
        const char *want;     /* the names seen */
        const char *want_err; /* with rc SWEEP_EINVAL */
    } cases[] = {
        {"", 0, "", NULL},
        {"plain {{x}}", 0, "", NULL},
        {"{a}", 0, "a@1;", NULL},
        {"--x={a}/{steps.sim.dir}", 0, "a@5;steps.sim.dir@9;", NULL},
        {"{{}}{b}x{c}", 0, "b@5;c@9;", NULL},
        {"{a}{stop}{b}", 42, "a@1;stop@4;", NULL}, /* stops at the first non-zero */
        {"{stop}{", 42, "stop@1;", NULL},          /* before the malformed brace */
        {"{a} {", SWEEP_EINVAL, "a@1;", "column 5: '{' does not start"},
        {"}", SWEEP_EINVAL, "", "template \"}\", column 1: lone '}'"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char seen[512] = "";
        struct err err = {0};
        int rc = tmpl_each_name(cases[i].tmpl, each_collect, seen, &err);

        if (rc != cases[i].rc || strcmp(seen, cases[i].want) != 0)
            fail_msg("case %zu \"%s\": rc %d, seen \"%s\" (%s)", i, cases[i].tmpl, rc,
                     seen, err.msg);
        if (cases[i].want_err && !strstr(err.msg, cases[i].want_err))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err.msg,
                     cases[i].want_err);
    }
}

/* tmpl_check and tmpl_render accept and refuse the same templates. */
static void test_check_agrees_with_render(void **state)
{
    static const char *tmpls[] = {"{a}",
                                  "{b}{{",
                                  "}}{a}",
                                  "{zz}",
                                  "{",
                                  "}",
                                  "{a}}",
                                  "{seed}",
                                  "{{seed}}",
                                  "{a.}",
                                  "{.a}",
                                  "{steps.sim.dir}",
                                  "{steps.sim.result}",
                                  "{steps.an.dir}",
                                  "{steps.sim}",
                                  "{reduce.input}",
                                  "{reduce.output}"};
    static char *names[] = {"a", "a.", "b"};
    static char *steps[] = {"sim"}, *dirs[] = {"/t/0"};
    struct tmpl_ctx ctx = {.study = "s",
                           .step_names = steps,
                           .step_dirs = dirs,
                           .nsteps = 1,
                           .reduce_input = "/t/in.json"};
    struct tmpl_scope scope = {.step_names = steps, .nsteps = 1, .reduce = true};
    json_t *params = json_pack("{s:i, s:i, s:i}", "a", 1, "a.", 2, "b", 3);
    (void)state;

    ctx.params = params;
    for (size_t i = 0; i < sizeof(tmpls) / sizeof(tmpls[0]); i++) {
        struct err e1 = {0}, e2 = {0};
        char *out = NULL;
        int rc1 = tmpl_check(tmpls[i], names, 3, &scope, &e1);
        int rc2 = tmpl_render(tmpls[i], &ctx, false, &out, &e2);

        assert_int_equal(rc1, rc2);
        free(out);
    }
    json_decref(params);
}

/* tmpl_shell_word: what `sweep run --dry-run` prints can be pasted into a shell and
 * gives the same argv. */
static void test_shell_word(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"python3", "python3"},
        {"/a/b-c_d.py", "/a/b-c_d.py"},
        {"--x=1,2:3@%+", "--x=1,2:3@%+"},
        {"", "''"},
        {"two words", "'two words'"},
        {"it's", "'it'\\''s'"},
        {"$(id)", "'$(id)'"},
        {"a*b", "'a*b'"},
        {"~", "'~'"},
        {"{\"a\":1}", "'{\"a\":1}'"},
        {"x\ny", "'x\ny'"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = tmpl_shell_word(cases[i].in);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_table),
        cmocka_unit_test(test_render_without_params),
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_render_steps),
        cmocka_unit_test(test_check_scope),
        cmocka_unit_test(test_each_name),
        cmocka_unit_test(test_check_agrees_with_render),
        cmocka_unit_test(test_shell_word),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
