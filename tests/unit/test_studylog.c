/* Unit tests of the study log (core/studylog.c): values with quotes, backslashes and
 * line breaks stay inside one quoted value, the events of a store transaction are
 * written only when it commits (dropped on rollback), and each kind of runner event
 * makes its line (studylog_on_event), timed by the event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/timeutil.h"
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

/* The line of each kind of event (after the timestamp, which is the event's time). */
static void test_event_lines(void **state)
{
    char path[] = "/tmp/sweep-test-studylog-XXXXXX";
    const struct task_outcome end = {.state = TASK_FAILED,
                                     .exit_code = 3,
                                     .wall = 1.5,
                                     .user = 0.25,
                                     .sys = 0.125,
                                     .maxrss_kb = 1024,
                                     .error = "exit \"3\""};
    const struct task_outcome ok = {.state = TASK_SUCCEEDED, .exit_code = 0};
    const struct task_outcome retry = {
        .state = TASK_TIMED_OUT, .error = "timed out after 1.00s", .retry_at = 1000.5};
    const double t = 1000.0;
    static const char *const k = "0123456789abcdef";
    const struct {
        struct runner_event ev;
        const char *want;
    } cases[] = {
        {{.kind = RUNNER_EVENT_START,
          .study = "s",
          .pid = 42,
          .tasks = 5,
          .pending = 4,
          .skipped = 1,
          .slots = 2},
         "run_start study=s pid=42 tasks=5 pending=4 skipped=1 slots=2"},
        {{.kind = RUNNER_EVENT_TASK,
          .key = k,
          .attempt = 1,
          .from = TASK_PENDING,
          .to = TASK_RUNNING,
          .pid = 7,
          .params = "{\"x\":1}"},
         "task_start task=0123456789abcdef attempt=1 pid=7 params={\"x\":1}"},
        {{.kind = RUNNER_EVENT_TASK,
          .key = k,
          .attempt = 1,
          .from = TASK_RUNNING,
          .to = TASK_PENDING,
          .outcome = &retry},
         "task_retry task=0123456789abcdef attempt=1 state=timed_out error=\"timed out "
         "after 1.00s\" retry_in=0.500s"},
        {{.kind = RUNNER_EVENT_TASK,
          .key = k,
          .attempt = 2,
          .from = TASK_RUNNING,
          .to = TASK_FAILED,
          .outcome = &end},
         "task_end task=0123456789abcdef attempt=2 state=failed exit=3 signal=0 "
         "wall=1.500 user=0.250 sys=0.125 maxrss_kb=1024 error=\"exit \\\"3\\\"\""},
        {{.kind = RUNNER_EVENT_TASK,
          .key = k,
          .attempt = 1,
          .from = TASK_RUNNING,
          .to = TASK_SUCCEEDED,
          .outcome = &ok},
         "task_end task=0123456789abcdef attempt=1 state=succeeded exit=0 signal=0 "
         "wall=0.000 user=0.000 sys=0.000 maxrss_kb=0"},
        {{.kind = RUNNER_EVENT_TASK,
          .key = k,
          .from = TASK_WAITING,
          .to = TASK_PENDING},
         "reduce_ready task=0123456789abcdef"},
        {{.kind = RUNNER_EVENT_TASK,
          .key = k,
          .from = TASK_WAITING,
          .to = TASK_SKIPPED,
          .text = "skipped: 1 chain"},
         "reduce_skipped task=0123456789abcdef reason=\"skipped: 1 chain\""},
        {{.kind = RUNNER_EVENT_START_FAILED, .key = k, .attempt = 1, .text = "no"},
         "task_start_failed task=0123456789abcdef attempt=1 error=\"no\""},
        {{.kind = RUNNER_EVENT_STALE,
          .key = k,
          .attempt = 1,
          .outcome = &ok,
          .text = "not open"},
         "task_stale task=0123456789abcdef attempt=1 state=succeeded error=\"not "
         "open\""},
        {{.kind = RUNNER_EVENT_CHAIN_SKIPPED, .key = k, .count = 2, .text = "why"},
         "chain_skipped task=0123456789abcdef skipped=2 reason=\"why\""},
        {{.kind = RUNNER_EVENT_ORPHAN_ENDED,
          .key = k,
          .attempt = 1,
          .pid = 99,
          .text = "h:1:2"},
         "task_orphan_ended task=0123456789abcdef attempt=1 pgid=99 owner=\"h:1:2\""},
        {{.kind = RUNNER_EVENT_LEASE_EXPIRED, .key = k, .attempt = 3, .text = "w:1:1"},
         "task_lease_expired task=0123456789abcdef attempt=3 owner=\"w:1:1\""},
        {{.kind = RUNNER_EVENT_WAITING, .after = "b", .text = "waiting for b"},
         "waiting for=b"},
        {{.kind = RUNNER_EVENT_BLOCKED, .text = "after: x"},
         "blocked reason=\"after: x\""},
        {{.kind = RUNNER_EVENT_STOP, .text = "stop"}, "stop reason=\"stop\""},
        {{.kind = RUNNER_EVENT_CANCEL, .text = "c"}, "cancel reason=\"c\""},
        {{.kind = RUNNER_EVENT_INTERRUPT, .signo = 2, .count = 4},
         "interrupt signal=2 running=4"},
        {{.kind = RUNNER_EVENT_STORE_BUSY, .count = 6}, "store_busy done=6"},
        {{.kind = RUNNER_EVENT_END,
          .study = "s",
          .end = RUNNER_STOPPED,
          .status = STUDY_FAILED,
          .recorded = true,
          .elapsed = 2.5,
          .text = "stopped after"},
         "run_end study=s end=stopped status=FAILED elapsed=2.500 reason=\"stopped "
         "after\""},
        {{.kind = RUNNER_EVENT_END, .study = "s", .error = true, .text = "disk full"},
         "run_end study=s end=error status=unrecorded elapsed=0.000 reason=\"disk "
         "full\""},
        {{.kind = RUNNER_EVENT_END,
          .study = "s",
          .status = STUDY_COMPLETED,
          .recorded = true,
          .text = ""},
         "run_end study=s end=finished status=COMPLETED elapsed=0.000"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    struct studylog *log = NULL;
    struct err err = {0};
    char ts[40], *text, *line;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(studylog_open(path, &log, &err), SWEEP_OK);
    for (size_t i = 0; i < n; i++) {
        struct runner_event ev = cases[i].ev;
        ev.time = t;
        studylog_on_event(log, &ev);
    }
    studylog_close(log);
    text = slurp(path);
    time_iso8601(t, ts, sizeof(ts));
    line = text;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        if (strncmp(line, ts, strlen(ts)) != 0 || line[strlen(ts)] != ' ' ||
            strcmp(line + strlen(ts) + 1, cases[i].want) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s %s", i, line, ts, cases[i].want);
        line = nl + 1;
    }
    assert_string_equal(line, "");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_event_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
