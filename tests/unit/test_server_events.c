/* Unit tests of the service's live events and figures without a socket: the ring of
 * events (wrap, replay from Last-Event-ID, a slow reader that falls behind, sleeping
 * and waking, heartbeats, the end of the streams, the subscriber limit), the data of
 * an event (view_event_json) and the performance figures (stats.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/strbuf.h"
#include "core/runner.h"
#include "core/view.h"
#include "server/events.h"
#include "server/route.h"
#include "server/stats.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts the hooks' calls. */
struct hooks_count {
    int suspended, resumed;
};
static void h_suspend(void *arg)
{
    ((struct hooks_count *)arg)->suspended++;
}
static void h_resume(void *arg)
{
    ((struct hooks_count *)arg)->resumed++;
}

/* Reads sub's stream until it sleeps (or ends), max bytes a read, into sb. */
static ssize_t drain(struct events_sub *sub, size_t max, double now, struct strbuf *sb)
{
    char buf[4096];
    ssize_t n;

    assert_true(max <= sizeof(buf));
    while ((n = events_read(sub, buf, max, now)) > 0)
        sb_add(sb, buf, (size_t)n);
    return n;
}

static void push_n(struct events *ev, int from, int to)
{
    for (int i = from; i <= to; i++) {
        char data[32];
        snprintf(data, sizeof(data), "{\"n\":%d}", i);
        events_push(ev, "task", data);
    }
}

static void test_events_wrap_and_replay(void **state)
{
    struct hooks_count hc = {0};
    struct events_hooks h = {h_suspend, h_resume, &hc};
    struct events *ev = events_create(4, 8, EVENTS_HEARTBEAT);
    struct events_sub *all, *from2, *from8, *future;
    struct strbuf sb = {0};

    (void)state;
    push_n(ev, 1, 10); /* the ring holds 7..10 */
    assert_int_equal(events_last(ev), 10);
    /* No Last-Event-ID: what the ring holds, from the oldest. */
    all = events_subscribe(ev, 0, &h, 0);
    assert_int_equal(drain(all, 4096, 0, &sb), 0);
    assert_string_equal(sb_str(&sb), "event: task\nid: 7\ndata: {\"n\":7}\n\n"
                                     "event: task\nid: 8\ndata: {\"n\":8}\n\n"
                                     "event: task\nid: 9\ndata: {\"n\":9}\n\n"
                                     "event: task\nid: 10\ndata: {\"n\":10}\n\n");
    assert_int_equal(hc.suspended, 1);
    /* Last-Event-ID 2: 3..6 are gone, said once, then the rest. */
    sb_reset(&sb);
    from2 = events_subscribe(ev, 2, &h, 0);
    drain(from2, 4096, 0, &sb);
    assert_non_null(strstr(sb_str(&sb), "event: dropped\ndata: {\"missed\":4}\n\n"
                                        "event: task\nid: 7\n"));
    /* Last-Event-ID 8: only 9 and 10. */
    sb_reset(&sb);
    from8 = events_subscribe(ev, 8, &h, 0);
    drain(from8, 4096, 0, &sb);
    assert_null(strstr(sb_str(&sb), "id: 8\n"));
    assert_non_null(strstr(sb_str(&sb), "id: 9\n"));
    assert_non_null(strstr(sb_str(&sb), "id: 10\n"));
    /* An id from the future (an earlier service): only new events. */
    sb_reset(&sb);
    future = events_subscribe(ev, 99, &h, 0);
    assert_int_equal(drain(future, 4096, 0, &sb), 0);
    assert_int_equal(sb.len, 0);
    /* A push wakes each sleeper once; each reads the one new event. */
    hc.resumed = 0;
    push_n(ev, 11, 11);
    assert_int_equal(hc.resumed, 4);
    push_n(ev, 12, 12); /* nobody sleeps now */
    assert_int_equal(hc.resumed, 4);
    sb_reset(&sb);
    drain(future, 4096, 0, &sb);
    assert_string_equal(sb_str(&sb), "event: task\nid: 11\ndata: {\"n\":11}\n\n"
                                     "event: task\nid: 12\ndata: {\"n\":12}\n\n");
    assert_int_equal(events_subscribers(ev), 4);
    events_unsubscribe(all);
    events_unsubscribe(from2);
    events_unsubscribe(from8);
    events_unsubscribe(future);
    assert_int_equal(events_subscribers(ev), 0);
    sb_fini(&sb);
    events_destroy(ev);
}

/* A reader that takes 64 bytes at a time while the main thread pushes far more than
 * the ring holds: the pushes never wait; the reader gets whole frames, a dropped
 * event, and every later event in order. */
static void test_events_slow_reader(void **state)
{
    struct hooks_count hc = {0};
    struct events_hooks h = {h_suspend, h_resume, &hc};
    struct events *ev = events_create(8, 8, EVENTS_HEARTBEAT);
    struct events_sub *sub = events_subscribe(ev, 0, &h, 0);
    struct strbuf sb = {0};
    char buf[64];
    ssize_t n;
    const char *p;
    long long prev = 0, missed = 0;

    (void)state;
    push_n(ev, 1, 3);
    n = events_read(sub, buf, sizeof(buf), 0); /* part of the first frames */
    assert_int_equal(n, 64);
    sb_add(&sb, buf, 64);
    push_n(ev, 4, 1000);
    drain(sub, 64, 0, &sb);
    /* Frames 1..3 were formatted at the first read and come whole; then one dropped
     * event; then the 8 kept, in order. */
    for (p = sb_str(&sb); (p = strstr(p, "\nid: ")) != NULL; p++) {
        long long id = atoll(p + 5);
        assert_true(id > prev);
        prev = id;
    }
    assert_int_equal(prev, 1000);
    p = strstr(sb_str(&sb), "event: dropped\ndata: {\"missed\":");
    assert_non_null(p);
    missed = atoll(p + strlen("event: dropped\ndata: {\"missed\":"));
    assert_int_equal(missed, 992 - 4 + 1); /* 4..992 */
    assert_non_null(strstr(sb_str(&sb), "id: 3\ndata: {\"n\":3}\n\n"));
    assert_non_null(strstr(sb_str(&sb), "id: 993\n"));
    assert_null(strstr(sb_str(&sb), "id: 992\n"));
    events_unsubscribe(sub);
    sb_fini(&sb);
    events_destroy(ev);
}

static void test_events_heartbeat_close_limit(void **state)
{
    struct hooks_count hc = {0};
    struct events_hooks h = {h_suspend, h_resume, &hc};
    struct events *ev = events_create(4, 2, 15.0);
    struct events_sub *a = events_subscribe(ev, 0, &h, 100.0);
    struct events_sub *b = events_subscribe(ev, 0, &h, 100.0);
    char buf[64];

    (void)state;
    assert_null(events_subscribe(ev, 0, &h, 100.0)); /* two at most */
    assert_int_equal(events_read(a, buf, sizeof(buf), 101.0), 0);
    assert_int_equal(hc.suspended, 1);
    events_tick(ev, 110.0); /* not due */
    assert_int_equal(hc.resumed, 0);
    events_tick(ev, 115.0);
    assert_int_equal(hc.resumed, 1); /* a only: b does not sleep */
    assert_int_equal(events_read(a, buf, sizeof(buf), 115.0), 13);
    assert_memory_equal(buf, ": heartbeat\n\n", 13);
    assert_int_equal(events_read(a, buf, sizeof(buf), 116.0), 0);
    /* A closed client frees its slot. */
    events_unsubscribe(b);
    b = events_subscribe(ev, 0, &h, 116.0);
    assert_non_null(b);
    /* The end: sleepers woken, every read ends the stream. */
    hc.resumed = 0;
    events_close(ev);
    assert_int_equal(hc.resumed, 1);
    assert_int_equal(events_read(a, buf, sizeof(buf), 117.0), -1);
    assert_int_equal(events_read(b, buf, sizeof(buf), 117.0), -1);
    events_unsubscribe(a);
    events_unsubscribe(b);
    events_destroy(ev);
}

static void test_event_json(void **state)
{
    struct runner_event t = {.kind = RUNNER_EVENT_TASK,
                             .study = "s",
                             .time = 0.5,
                             .task_id = 7,
                             .key = "k",
                             .attempt = 2,
                             .from = TASK_RUNNING,
                             .to = TASK_FAILED};
    struct runner_event end = {
        .kind = RUNNER_EVENT_END, .study = "s", .status = STUDY_COMPLETED};
    json_t *j = view_event_json(&t);
    char *s = json_dumps(j, JSON_COMPACT);

    (void)state;
    assert_string_equal(s, "{\"study\":\"s\",\"task_id\":7,\"key\":\"k\",\"attempt\":2,"
                           "\"from\":\"running\",\"to\":\"failed\","
                           "\"time\":\"1970-01-01T00:00:00.500Z\"}");
    free(s);
    json_decref(j);
    j = view_event_json(&end);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "{\"study\":\"s\",\"task_id\":null,\"key\":null,"
                           "\"attempt\":null,\"from\":\"RUNNING\",\"to\":\"COMPLETED\","
                           "\"time\":\"1970-01-01T00:00:00.000Z\"}");
    free(s);
    json_decref(j);
}

static void task_ev(struct stats *s,
                    long long id,
                    int attempt,
                    enum task_state from,
                    enum task_state to,
                    double time)
{
    struct runner_event e = {.kind = RUNNER_EVENT_TASK,
                             .study = "s",
                             .time = time,
                             .task_id = id,
                             .attempt = attempt,
                             .from = from,
                             .to = to};
    stats_on_runner(s, &e);
}

static double num(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);
    return json_number_value(b ? json_object_get(v, b) : v);
}

static void test_stats(void **state)
{
    struct stats *s = stats_create(2, 1000.0);
    struct runner_event start = {
        .kind = RUNNER_EVENT_START, .study = "s", .time = 1000};
    json_t *p;

    (void)state;
    p = stats_performance_json(s, 1000.0);
    assert_true(json_is_null(json_object_get(json_object_get(p, "latency"), "mean")));
    json_decref(p);
    stats_on_runner(s, &start);
    task_ev(s, 1, 1, TASK_PENDING, TASK_RUNNING, 1001);   /* waited 1 */
    task_ev(s, 2, 1, TASK_PENDING, TASK_RUNNING, 1003);   /* waited 3 */
    task_ev(s, 1, 1, TASK_RUNNING, TASK_PENDING, 1002);   /* a retry: 1 s busy */
    task_ev(s, 1, 2, TASK_PENDING, TASK_RUNNING, 1004);   /* no latency sample */
    task_ev(s, 1, 2, TASK_RUNNING, TASK_SUCCEEDED, 1006); /* 2 s */
    task_ev(s, 3, 1, TASK_PENDING, TASK_RUNNING, 1008);   /* waited 8 */
    p = stats_performance_json(s, 1010.0);
    assert_int_equal(num(p, "running", NULL), 2); /* 2 since 1003, 3 since 1008 */
    assert_int_equal(num(p, "tasks_ended", NULL), 1);
    assert_true(num(p, "latency", "mean") == 4.0);
    assert_true(num(p, "latency", "median") == 3.0);
    assert_int_equal(num(p, "latency", "samples"), 3);
    assert_true(num(p, "duration", "mean") == 1.5); /* 1 and 2 */
    assert_true(num(p, "duration", "median") == 1.5);
    /* Busy: 1 + 2 ended, 7 + 2 running = 12 of 2 slots x 10 s. */
    assert_true(num(p, "utilisation", NULL) > 0.5999 &&
                num(p, "utilisation", NULL) < 0.6001);
    assert_true(num(p, "throughput", "since_start") == 0.1);
    assert_true(num(p, "throughput", "last_minute") == 0.1);
    json_decref(p);
    /* Two minutes later the last minute saw nothing. */
    p = stats_performance_json(s, 1130.0);
    assert_true(num(p, "throughput", "last_minute") == 0.0);
    json_decref(p);
    p = stats_worker_json(s, 1130.0);
    assert_string_equal(json_string_value(json_object_get(p, "id")), "local");
    assert_int_equal(num(p, "running", NULL), 2);
    json_decref(p);
    stats_destroy(s);
}

static void test_routes(void **state)
{
    static const struct {
        const char *path;
        enum route_id id;
    } cases[] = {
        {"/events", ROUTE_EVENTS},       {"/metrics", ROUTE_METRICS},
        {"/stats", ROUTE_STATS},         {"/stats/performance", ROUTE_STATS_PERF},
        {"/workers", ROUTE_WORKER_LIST}, {"/workers/local", ROUTE_WORKER_GET},
        {"/ping_all", ROUTE_PING_ALL},
    };
    struct route_match m;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(route_find("GET", cases[i].path, &m), 0);
        assert_int_equal(m.id, cases[i].id);
        assert_false(m.changes_state);
    }
    assert_int_equal(route_find("POST", "/events", &m), 405);
    assert_int_equal(route_find("GET", "/workers/..", &m), 400);
    assert_int_equal(route_find("GET", "/stats/nope", &m), 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_wrap_and_replay),
        cmocka_unit_test(test_events_slow_reader),
        cmocka_unit_test(test_events_heartbeat_close_limit),
        cmocka_unit_test(test_event_json),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
