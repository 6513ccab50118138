/* Unit tests of the study log (core/studylog.c): values with quotes, backslashes and
 * line breaks stay inside one quoted value, and the events of a store transaction are
 * written only when it commits (dropped on rollback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/studylog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_quote(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"exit code 3", "\"exit code 3\""},
        {"a \"quoted\" word", "\"a \\\"quoted\\\" word\""},
        {"two\nlines\r\tend", "\"two\\nlines\\r\\tend\""},
        {"back\\slash", "\"back\\\\slash\""},
        {"bell\a", "\"bell\\x07\""},
        {"", "\"\""},
        {NULL, "\"\""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *q = studylog_quote(cases[i].in);
        assert_string_equal(q, cases[i].want);
        free(q);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    static char buf[4096];
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_transactions(void **state)
{
    char path[] = "/tmp/sweep-test-studylog-XXXXXX";
    struct studylog *log = NULL;
    struct err err = {0};
    int fd = mkstemp(path);
    const char *text;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(studylog_open(path, &log, &err), SWEEP_OK);
    studylog_event(log, "run_start", "study=s");
    studylog_begin(log);
    studylog_event(log, "task_retry", "task=rolled-back");
    studylog_rollback(log);
    studylog_begin(log);
    studylog_event(log, "task_end", "task=committed");
    studylog_flush(log);
    text = slurp(path);
    assert_null(strstr(text, "task=committed")); /* held until the commit */
    studylog_commit(log);
    studylog_event(log, "run_end", "study=s");
    studylog_close(log);
    text = slurp(path);
    assert_non_null(strstr(text, " run_start study=s\n"));
    assert_null(strstr(text, "rolled-back"));
    assert_non_null(strstr(text, " task_end task=committed\n"));
    assert_true(strstr(text, "task_end") < strstr(text, "run_end"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_transactions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
