#!/bin/sh
# sweep serve: the live events (GET /events, server-sent events) of a small study, in
# order with increasing ids, as many clients see them; a reconnect with Last-Event-ID
# gets what it missed; a closed client frees its slot; SIGTERM ends the streams. Then
# the figures: /metrics in the Prometheus text format, /stats against `sweep status
# --json`, /stats/performance, /workers and /ping_all.
. "$SWEEP_SRC/tests/e2e/lib.sh"
openapi_log

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"

PID=
URL=
CURLS=
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; for p in $CURLS; do kill "$p" 2>/dev/null; done; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT

start_serve -j 1

# listen FILE [curl args]: a client of /events in the background, its stream in FILE.
listen() {
    f=$1
    shift
    curl -sN --max-time 120 "$@" "$URL/events" >"$f" 2>/dev/null &
    CURLS="$CURLS $!"
    LAST_CURL=$!
}
# to_json FILE: the events of an SSE stream as JSON lines {event, id, data}.
to_json() {
    awk '/^event: /{e=substr($0,8)} /^id: /{i=substr($0,5)}
         /^data: /{printf "{\"event\":\"%s\",\"id\":%s,\"data\":%s}\n", e,
                   (i==""?"null":i), substr($0,7); e=""; i=""}' "$1" >"$1.jsonl"
}
metric() { # metric NAME: its value in /metrics
    curl -s "$URL/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
streams_are() { [ "$(metric sweep_event_streams)" = "$1" ]; }
has_id() { grep -qx "id: $2" "$1"; }
study_status() {
    curl -s "$URL/studies/$1" | jq -ne --arg s "$2" 'input | .status == $s' >/dev/null
}

# ---- the events of a study, seen by many clients ----
i=1
while [ $i -le 12 ]; do
    listen "$T/ev$i"
    i=$((i + 1))
done
wait_for 20 streams_are 12
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -d \
    '{"algorithm": "chaos", "variable_parameter": "duration", "values": [0.1, 0.2, 0.15], "study": "s1"}' \
    "$URL/studies")
[ "$code" = 202 ] || fail "POST /studies: $code"
wait_for 60 study_status s1 COMPLETED
wait_for 20 grep -q '"to":"COMPLETED"' "$T/ev1"
to_json "$T/ev1"
J="$T/ev1.jsonl"
jq -ne 'input | true' "$J" >/dev/null || fail "an event's data is not JSON"
jq -se '[.[].id] as $a | ($a|length) > 0 and
        all(range(1; $a|length); $a[.] > $a[. - 1])' "$J" >/dev/null ||
    fail "ids do not increase"
# Each task (in the order the engine picks them; one slot): started, then succeeded.
jq_eq "$J" 'select(.event == "task") | .data | "\(.attempt) \(.from)>\(.to)"' \
    "$(printf '%s\n' '1 pending>running' '1 running>succeeded' \
        '1 pending>running' '1 running>succeeded' \
        '1 pending>running' '1 running>succeeded')"
jq -se 'map(select(.event == "task") | .data.task_id) | . as $t
        | ($t | unique | length) == 3 and
          all(range(0; 6; 2); $t[.] == $t[. + 1])' "$J" >/dev/null ||
    fail "each task's two events are not together"
jq -se 'map(select(.event == "study")) | map(.data.to) == ["RUNNING", "COMPLETED"]' \
    "$J" >/dev/null || fail "study events"
jq -se 'all(.[]; .data | (.study == "s1") and (.time | test("^20..-..-..T")) and
        (keys == ["attempt","from","key","study","task_id","time","to"]))' \
    "$J" >/dev/null || fail "the shape of an event's data"
LAST=$(jq -s '.[-1].id' "$J")
i=2
while [ $i -le 12 ]; do
    wait_for 20 has_id "$T/ev$i" "$LAST"
    cmp -s "$T/ev1" "$T/ev$i" || fail "client $i saw another stream"
    i=$((i + 1))
done
ok "/events: the study's task transitions in order with increasing ids, to 12 clients"

# A client that reconnects with the id it saw last gets the rest, and only that.
K=$(jq -s '.[2].id' "$J")
listen "$T/again" -H "Last-Event-ID: $K"
wait_for 20 has_id "$T/again" "$LAST"
to_json "$T/again"
jq_eq "$T/again.jsonl" '.id' "$(jq -s --argjson k "$K" '.[] | select(.id > $k) | .id' "$J")"
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "Last-Event-ID: x1" "$URL/events")
[ "$code" = 400 ] || fail "a bad Last-Event-ID: $code"
jq_eq "$T/body" .error invalid
ok "/events: Last-Event-ID replays the missed events; a bad one is 400"

# A client that goes away frees its slot at its next event.
kill "$LAST_CURL"
wait_for 20 streams_are 13
curl -s -o /dev/null -X POST -d \
    '{"algorithm": "chaos", "variable_parameter": "duration", "values": [0.1], "study": "s2"}' \
    "$URL/studies"
wait_for 60 study_status s2 COMPLETED
wait_for 20 streams_are 12
ok "a closed client frees its slot"

# ---- the figures ----
code=$(curl -s -o "$T/metrics" -w '%{http_code} %{content_type}' "$URL/metrics")
[ "$code" = "200 text/plain; version=0.0.4; charset=utf-8" ] || fail "/metrics: $code"
# The exposition grammar: HELP and TYPE once per metric before its samples; samples
# name{label="value",...} number.
awk '
    function fail(m) { print "metrics line " NR ": " m ": " $0 > "/dev/stderr"; bad = 1 }
    /^# HELP / { if (!($3 ~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) || help[$3]++) fail("HELP"); next }
    /^# TYPE / { if (!($3 ~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) || type[$3]++ ||
                     !($4 ~ /^(counter|gauge|histogram|summary|untyped)$/) || NF != 4)
                     fail("TYPE"); next }
    /^#/ { next }
    {
        if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/))
            fail("sample")
        name = $0; sub(/[{ ].*/, "", name)
        if (!type[name] || !help[name]) fail("no HELP or TYPE before it")
        n++
    }
    END { if (n < 20) fail("too few samples"); exit bad }' "$T/metrics" ||
    fail "/metrics does not parse"
for m in 'sweep_tasks{study="s1",state="succeeded"} 3' \
    'sweep_tasks_total{state="succeeded"} 4' 'sweep_queue_depth{state="pending"} 0' \
    'sweep_running 0' 'sweep_slots 1' 'sweep_workers 1' 'sweep_tasks_ended 4'; do
    grep -qxF "$m" "$T/metrics" || fail "/metrics lacks: $m"
done
grep -q '^sweep_throughput{window="1m"} ' "$T/metrics" || fail "throughput"
grep -q '^sweep_uptime_seconds [0-9]' "$T/metrics" || fail "uptime"
ok "/metrics: the Prometheus text format, with the tasks, queue, slots and workers"

curl -s "$URL/stats" >"$T/stats"
expect_code 0 sweep status --json
cp "$T/out" "$T/status"
jq -ne --slurpfile a "$T/stats" --slurpfile b "$T/status" '
    ($a[0].tasks | del(.total)) as $t
    | ($t | keys) as $states
    | all($states[]; . as $s | $t[$s] == ([$b[0][].counts[$s]] | add))
    and $a[0].tasks.total == ([$b[0][].counts.total] | add)
    and $a[0].studies_total == ($b[0] | length)
    and $a[0].studies_by_status == ($b[0] | group_by(.status)
                                     | map({(.[0].status): length}) | add)
    and $a[0].tasks_by_priority.MEDIUM.succeeded == 4' >/dev/null ||
    fail "/stats does not agree with sweep status --json"
ok "/stats: totals by state, priority and study status agree with sweep status --json"

curl -s "$URL/stats/performance" >"$T/perf"
jq -ne 'input | .tasks_ended == 4 and .running == 0 and .slots == 1 and
       .latency.samples == 4 and .duration.samples == 4 and
       .duration.mean > 0 and .duration.median > 0 and .latency.mean >= 0 and
       .utilisation > 0 and .utilisation <= 1 and .uptime > 0 and
       .throughput.since_start > 0 and .throughput.last_minute > 0' "$T/perf" \
    >/dev/null || fail "/stats/performance: $(cat "$T/perf")"
ok "/stats/performance: throughput, latency, duration and utilisation"

curl -s "$URL/workers" >"$T/w"
jq -ne 'input | .workers | length == 1 and .[0].id == "local" and .[0].slots == 1 and
       .[0].running == 0 and (.[0].last_heartbeat | test("^20"))' "$T/w" \
    >/dev/null || fail "/workers: $(cat "$T/w")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/workers/local")" = 200 ] ||
    fail "/workers/local"
[ "$(curl -s -o "$T/body" -w '%{http_code}' "$URL/workers/nope")" = 404 ] ||
    fail "/workers/nope"
jq_eq "$T/body" .error not_found
curl -s "$URL/ping_all" | jq -ne 'input | .total == 1 and .answered == 1 and
    .workers[0].ok == true' >/dev/null || fail "/ping_all"
ok "/workers, /workers/{id} and /ping_all: the local executor"

# ---- SIGTERM with clients connected: the service stops, their streams end ----
stop_serve
for p in $CURLS; do
    deadline=$(($(date +%s) + 10))
    while kill -0 "$p" 2>/dev/null; do
        [ "$(date +%s)" -ge "$deadline" ] && fail "a stream did not end"
        sleep 0.05
    done
done
ok "SIGTERM: the service stops with streams open, and they end"
openapi_check
