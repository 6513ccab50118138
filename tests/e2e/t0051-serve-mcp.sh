#!/bin/sh
# /mcp of sweep serve (the Model Context Protocol over streamable HTTP) driven with
# curl: initialize gives a session id, tools/list and a tools/call of list_models
# answer in it, a notification gets 202, an unknown session 404, a message without a
# session 400, DELETE ends a session, GET 405; the token (401), the body limit (413),
# malformed JSON (the JSON-RPC error -32700 with 400), a foreign Origin or Host (403),
# an unknown MCP-Protocol-Version (400); sessions are bounded (the one idle longest
# goes); studies started, retried and cancelled through the tools are studies of the
# service (GET /studies, GET /studies/ID), their links point at its REST API; a check
# that waits with a progress token answers a stream of progress, then its result.
. "$SWEEP_SRC/tests/e2e/lib.sh"

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"

printf 'mcp-token\n' >"$T/token"
PID=
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT
start_serve -j 2 --token-file "$T/token" --max-body 4K

# mcp BODY [CURL ARGS...]: POST /mcp with the token; the status in $T/code, the
# headers in $T/hdr, the body in $T/body.
mcp() {
    body=$1
    shift
    curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X POST "$URL/mcp" \
        -H 'Authorization: Bearer mcp-token' -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' "$@" --data-binary "$body" \
        >"$T/code" || fail "curl POST /mcp failed"
}
expect_status() {
    [ "$(cat "$T/code")" = "$1" ] || {
        cat "$T/hdr" "$T/body" >&2
        fail "status $(cat "$T/code"), expected $1"
    }
}
session_of() {
    tr -d '\r' <"$T/hdr" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p'
}
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t0051","version":"1"}}}'

# ---- a session ----
mcp "$INIT"
expect_status 200
jq_eq "$T/body" .result.protocolVersion 2025-06-18
jq_eq "$T/body" '.result.capabilities.tools != null' true
SID=$(session_of)
[ ${#SID} -eq 32 ] || fail "session id '$SID' is not 32 hex digits"
mcp "$INIT"
[ "$(session_of)" != "$SID" ] || fail "two sessions got the same id"
S="Mcp-Session-Id: $SID"
V="MCP-Protocol-Version: 2025-06-18"
mcp '{"jsonrpc":"2.0","method":"notifications/initialized"}' -H "$S" -H "$V"
expect_status 202
[ ! -s "$T/body" ] || fail "202 has a body: $(cat "$T/body")"
ok "initialize gives a session id; a notification gets 202 and no body"

mcp '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' -H "$S" -H "$V"
expect_status 200
expect_in "$T/hdr" "application/json"
for tool in run_parametric_study check_study_status list_models; do
    jq_eq "$T/body" "[.result.tools[].name] | index(\"$tool\") != null" true
done
mcp '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_models","arguments":{}}}' \
    -H "$S" -H "$V"
expect_status 200
jq_eq "$T/body" .id 3
jq_eq "$T/body" '.result.isError // false' false
expect_in "$T/body" dla
ok "tools/list and a call of list_models answer in the session"

# A client that takes only a stream gets the answer as an event.
curl -s -o "$T/body" -D "$T/hdr" -X POST "$URL/mcp" -H 'Authorization: Bearer mcp-token' \
    -H "$S" -H 'Accept: text/event-stream' \
    --data-binary '{"jsonrpc":"2.0","id":"p1","method":"ping"}' || fail "curl"
expect_in "$T/hdr" "text/event-stream"
[ "$(sed -n 1p "$T/body")" = "event: message" ] || fail "not an event: $(cat "$T/body")"
sed -n 's/^data: //p' "$T/body" >"$T/data"
jq_eq "$T/data" .id p1
ok "Accept: text/event-stream alone: the answer as an event of a stream"

# ---- refusals ----
mcp '{"jsonrpc":"2.0","id":4,"method":"ping"}' -H "Mcp-Session-Id: 0123456789abcdef0123456789abcdef"
expect_status 404
mcp '{"jsonrpc":"2.0","id":4,"method":"ping"}'
expect_status 400
mcp '{"jsonrpc":"2.0","id":5,' -H "$S"
expect_status 400
jq_eq "$T/body" .error.code -32700
jq_eq "$T/body" .jsonrpc 2.0
mcp '{"jsonrpc":"2.0","id":4,"method":"ping"}' -H "$S" -H "MCP-Protocol-Version: 1999-01-01"
expect_status 400
mcp '{"jsonrpc":"2.0","id":4,"method":"ping"}' -H "$S" -H "Origin: http://evil.example.com"
expect_status 403
mcp '{"jsonrpc":"2.0","id":4,"method":"ping"}' -H "$S" -H "Host: evil.example.com"
expect_status 403
mcp '{"jsonrpc":"2.0","id":4,"method":"ping"}' -H "$S" -H "Origin: $URL"
expect_status 200
jq_eq "$T/body" .result '{}'
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$URL/mcp" -H "$S" --data-binary "$INIT")
[ "$code" = 401 ] || fail "no token: $code"
jq_eq "$T/body" .error unauthorized
head -c 5000 /dev/zero | tr '\0' x >"$T/big"
mcp "@$T/big" -H "$S"
expect_status 413
code=$(curl -s -o "$T/body" -w '%{http_code}' "$URL/mcp")
[ "$code" = 405 ] || fail "GET /mcp: $code"
ok "unknown session 404, no session 400, bad JSON -32700, bad revision 400, foreign Origin/Host 403, no token 401, large 413, GET 405"

code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/mcp" -H "$S" \
    -H 'Authorization: Bearer mcp-token')
[ "$code" = 204 ] || fail "DELETE /mcp: $code"
mcp '{"jsonrpc":"2.0","id":6,"method":"ping"}' -H "$S"
expect_status 404
ok "DELETE ends the session (404 after)"

# ---- at most 64 sessions: the one idle longest goes ----
mcp "$INIT"
FIRST=$(session_of)
i=0
while [ $i -lt 64 ]; do
    mcp "$INIT"
    expect_status 200
    i=$((i + 1))
done
LAST=$(session_of)
mcp '{"jsonrpc":"2.0","id":7,"method":"ping"}' -H "Mcp-Session-Id: $FIRST"
expect_status 404
mcp '{"jsonrpc":"2.0","id":7,"method":"ping"}' -H "Mcp-Session-Id: $LAST"
expect_status 200
ok "sessions are bounded: the 65th pushes out the one idle longest"

# ---- studies through /mcp are studies of the service ----
mcp "$INIT"
S="Mcp-Session-Id: $(session_of)"
# call TOOL ARGS: tools/call in the session; the result in $T/body.
call() {
    mcp "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"$1\",\"arguments\":$2}}" \
        -H "$S" -H "$V"
    expect_status 200
}
# status_is STUDY STATUS: GET /studies/STUDY (the REST API) says STATUS.
status_is() {
    curl -sf "$URL/studies/$1" >"$T/st" && jq -ne "input | .status == \"$2\"" "$T/st"
}
call run_parametric_study '{"algorithm":"chaos","variable_parameter":"x","values":[1,2],"base_parameters":{"duration":0.01,"sigma":0},"repetitions":1}'
jq_eq "$T/body" '.result.isError // false' false
STUDY=$(jq -r .result.structuredContent.study_id "$T/body")
[ -n "$STUDY" ] && [ "$STUDY" != null ] || fail "no study_id: $(cat "$T/body")"
jq_eq "$T/body" .result.structuredContent.total_simulations 2
in_list() {
    curl -sf "$URL/studies" >"$T/studies" &&
        jq -ne "input | .[] | select(.study == \"$STUDY\" and .status == \"COMPLETED\")" "$T/studies"
}
wait_for 60 in_list
call check_study_status "{\"study_id\":\"$STUDY\"}"
jq_eq "$T/body" .result.structuredContent.status COMPLETED
jq_eq "$T/body" .result.structuredContent.progress.completed 2
call get_study_results "{\"study_id\":\"$STUDY\"}"
jq_eq "$T/body" '.result.isError // false' false
jq -r '.result.content[] | select(.type == "resource_link") | .uri' "$T/body" >"$T/links"
expect_in "$T/links" "$URL/studies/$STUDY/results?format=csv"
curl -sf "$(grep -m1 'format=csv' "$T/links")" >"$T/csv" || fail "the CSV link does not answer"
[ "$(count_lines "$T/csv")" -eq 3 ] || fail "CSV: $(cat "$T/csv")"
ok "run_parametric_study through /mcp: an ordinary study of the service (GET /studies), links to its REST API"

# Its first attempts fail: FAILED; retry_failed_simulations requeues both (SVC_RETRY).
call run_parametric_study '{"algorithm":"chaos","variable_parameter":"x","values":[1,2],"base_parameters":{"duration":0.01,"fail_attempts":1},"study":"flaky"}'
jq_eq "$T/body" '.result.isError // false' false
wait_for 60 status_is flaky FAILED
call retry_failed_simulations '{"study_id":"flaky"}'
jq_eq "$T/body" '.result.isError // false' false
jq_eq "$T/body" .result.structuredContent.requeued 2
wait_for 60 status_is flaky COMPLETED
call retry_failed_simulations '{"study_id":"nope"}'
jq_eq "$T/body" .result.isError true
ok "retry_failed_simulations through the service: 2 requeued, then COMPLETED; an unknown study is a tool error"

call run_parametric_study '{"algorithm":"chaos","variable_parameter":"x","values":[1,2],"base_parameters":{"duration":60},"study":"slow"}'
wait_for 60 status_is slow RUNNING
call cancel_study '{"study_id":"slow"}'
jq_eq "$T/body" '.result.isError // false' false
wait_for 60 status_is slow CANCELLED
ok "cancel_study through the service: CANCELLED"

# A check that waits for the end, asking for progress: the notifications, then the
# answer, as events of one stream.
call run_parametric_study '{"algorithm":"chaos","variable_parameter":"x","values":[1,2,3,4],"base_parameters":{"duration":1},"study":"waited"}'
wait_for 60 status_is waited RUNNING
mcp '{"jsonrpc":"2.0","id":"w1","method":"tools/call","params":{"name":"check_study_status","arguments":{"study_id":"waited","wait_seconds":50},"_meta":{"progressToken":"tok-1"}}}' \
    -H "$S" -H "$V"
expect_status 200
expect_in "$T/hdr" "text/event-stream"
sed -n 's/^data: //p' "$T/body" >"$T/events"
[ "$(grep -c '"notifications/progress"' "$T/events")" -ge 1 ] || fail "no progress: $(cat "$T/body")"
grep '"notifications/progress"' "$T/events" | jq -ne 'input | .params.progressToken == "tok-1"' >/dev/null ||
    fail "progress without its token: $(cat "$T/events")"
tail -n 1 "$T/events" >"$T/last"
jq_eq "$T/last" .id w1
jq_eq "$T/last" .result.structuredContent.status COMPLETED
ok "a waiting check with a progress token: progress notifications, then the answer, in one stream"

stop_serve
ok "sweep serve stops cleanly with sessions open"
