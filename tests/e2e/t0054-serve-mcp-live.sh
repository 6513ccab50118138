#!/bin/sh
# /mcp of sweep serve: a tools/call runs off the HTTP threads. A waiting
# check_study_status with a progress token streams its progress as it goes (the
# first event arrives while the study still runs); 6 waiting calls at once, more
# than the service's 2 HTTP threads, leave GET /health and GET /status answering
# (before the waits end); SIGTERM ends a waiting call at once (its answer says the
# study did not end: RUNNING, or INTERRUPTED by the stop) and the service stops.
. "$SWEEP_SRC/tests/e2e/lib.sh"

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"

PID=
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT
start_serve -j 1 --threads 2

V="MCP-Protocol-Version: 2025-06-18"
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t0054","version":"1"}}}'
# session: a new session's id on stdout.
session() {
    curl -s -o /dev/null -D "$T/hdr" -X POST "$URL/mcp" -H "$V" \
        -H 'Accept: application/json, text/event-stream' --data-binary "$INIT" ||
        fail "initialize"
    tr -d '\r' <"$T/hdr" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p'
}
# post SID BODY OUT [CURL ARGS...]: POST /mcp, unbuffered, the body into OUT.
post() {
    sid=$1 body=$2 out=$3
    shift 3
    curl -sN -o "$out" -X POST "$URL/mcp" -H "Mcp-Session-Id: $sid" -H "$V" \
        -H 'Accept: application/json, text/event-stream' "$@" --data-binary "$body"
}
# start STUDY DURATION N: a chaos study of N tasks through the tool.
start() {
    vals=$(seq -s, 1 "$3")
    post "$SID" "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"run_parametric_study\",\"arguments\":{\"algorithm\":\"chaos\",\"variable_parameter\":\"x\",\"values\":[$vals],\"base_parameters\":{\"duration\":$2},\"study\":\"$1\"}}}" \
        "$T/started" || fail "curl"
    jq_eq "$T/started" '.result.isError // false' false
}
# wait_call N STUDY TOKEN: check_study_status waiting for STUDY, id N.
wait_call() {
    meta=
    [ -z "${3:-}" ] || meta=",\"_meta\":{\"progressToken\":\"$3\"}"
    printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"check_study_status","arguments":{"study_id":"%s","wait_seconds":50}%s}}' \
        "$1" "$2" "$meta"
}
status_is() {
    curl -sf "$URL/studies/$1" >"$T/st" && jq -ne "input | .status == \"$2\"" "$T/st" >/dev/null
}
has_progress() {
    grep -q '"notifications/progress"' "$1"
}
SID=$(session)
[ ${#SID} -eq 32 ] || fail "no session: '$SID'"

# ---- progress as it goes ----
start live 1 5
wait_for 60 status_is live RUNNING
post "$SID" "$(wait_call 10 live tok)" "$T/live" &
CURL=$!
wait_for 60 has_progress "$T/live"
# The first progress event is in while the study runs and before the answer.
curl -sf "$URL/studies/live" >"$T/st" || fail "GET /studies/live"
jq_eq "$T/st" .status RUNNING
grep -q '"result"' "$T/live" && fail "the answer came with the first progress: $(cat "$T/live")"
wait "$CURL" || fail "the waiting call failed"
sed -n 's/^data: //p' "$T/live" >"$T/events"
head -n 1 "$T/events" >"$T/first"
jq_eq "$T/first" .method notifications/progress
jq -ne 'input | .params.progress < .params.total' "$T/first" >/dev/null ||
    fail "first progress is not below total: $(cat "$T/first")"
tail -n 1 "$T/events" >"$T/last"
jq_eq "$T/last" .id 10
jq_eq "$T/last" .result.structuredContent.status COMPLETED
ok "a waiting check streams its progress while the study runs, then its answer"

# ---- 6 waiting calls on 2 HTTP threads ----
start long 60 2
wait_for 60 status_is long RUNNING
i=1
PIDS=
while [ $i -le 6 ]; do
    s=$(session)
    if [ $i -le 3 ]; then # a stream with progress
        post "$s" "$(wait_call $i long "t$i")" "$T/w$i" &
    else # JSON alone: the answer at the end
        post "$s" "$(wait_call $i long)" "$T/w$i" -H 'Accept: application/json' &
    fi
    PIDS="$PIDS $!"
    i=$((i + 1))
done
for i in 1 2 3; do
    wait_for 30 has_progress "$T/w$i"
done
curl -sf -m 20 "$URL/health" >"$T/health" || fail "GET /health did not answer"
curl -sf -m 20 "$URL/status" >"$T/status" || fail "GET /status did not answer"
for i in 1 2 3 4 5 6; do
    grep -q '"result"' "$T/w$i" && fail "wait $i ended before /health answered"
done
status_is long RUNNING || fail "long is not running"
curl -sf -X POST "$URL/studies/long/cancel" >/dev/null || fail "cancel"
for p in $PIDS; do
    wait "$p" || fail "a waiting call failed"
done
for i in 1 2 3 4 5 6; do
    sed -n 's/^data: //p' "$T/w$i" >"$T/d$i"
    [ -s "$T/d$i" ] || cp "$T/w$i" "$T/d$i" # JSON
    tail -n 1 "$T/d$i" >"$T/last"
    jq_eq "$T/last" .id "$i"
    jq_eq "$T/last" .result.structuredContent.status CANCELLED
done
ok "6 waiting calls on 2 HTTP threads: /health and /status answer meanwhile; all end at the cancel"

# ---- SIGTERM ends a waiting call ----
start last 60 2
wait_for 60 status_is last RUNNING
post "$SID" "$(wait_call 20 last tok2)" "$T/term" &
CURL=$!
wait_for 30 has_progress "$T/term"
kill -TERM "$PID"
wait "$CURL" || fail "the waiting call failed at the stop"
sed -n 's/^data: //p' "$T/term" | tail -n 1 >"$T/last"
jq_eq "$T/last" .id 20
# Answered at the stop, long before its 60 s tasks could end.
jq -ne 'input | .result.structuredContent.status | . == "RUNNING" or . == "INTERRUPTED"' \
    "$T/last" >/dev/null || fail "not answered at the stop: $(cat "$T/last")"
wait "$PID"
rc=$?
PID=
[ $rc -eq 0 ] || fail "sweep serve exited $rc"
ok "SIGTERM: a waiting call answers at once, then the service stops"
