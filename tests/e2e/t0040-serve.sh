#!/bin/sh
# sweep serve: settings and their sources, refusals at start, then the REST API on a
# free loopback port driven with curl: status codes and JSON shapes, the token (401),
# the body limit (413), bad JSON (400), unknown ids (404), traversal attempts in ids, a
# study run to completion through the API, SIGTERM in the middle of a study and a
# restart that completes it with every task recorded once.
. "$SWEEP_SRC/tests/e2e/lib.sh"
openapi_log

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"

# ---- settings: flag > environment > .env > default, and where each came from ----
mkdir -p "$SWEEP_HOME"
printf '# settings\nSWEEP_MAX_PARALLEL=3\nSWEEP_MAX_BODY=2K\n' >"$SWEEP_HOME/.env"
SWEEP_MAX_PARALLEL=5 expect_code 0 sweep serve --print-config --json --threads 2
jq_eq "$T/out" .max_parallel.value 5
jq_eq "$T/out" .max_parallel.source environment
jq_eq "$T/out" .max_body.value 2K
jq_eq "$T/out" .max_body.where "$SWEEP_HOME/.env line 3"
jq_eq "$T/out" .threads.source flag
jq_eq "$T/out" .bind.value 127.0.0.1:5000
jq_eq "$T/out" .bind.source default
expect_code 0 sweep serve --print-config
expect_in "$T/out" "max_body        2K"
ok "--print-config: each value and its source"

printf 'SWEEP_MAX_PARALLEL=3\n\nSWEEP_MAX_PARALLEL=x\n' >"$SWEEP_HOME/.env"
expect_code 2 sweep serve
expect_in "$T/err" "SWEEP_MAX_PARALLEL from $SWEEP_HOME/.env line 3: expected a positive integer, got 'x'"
rm "$SWEEP_HOME/.env"
SWEEP_BIND=127.0.0.1:99999 expect_code 2 sweep serve
expect_in "$T/err" "SWEEP_BIND from the environment: expected HOST:PORT"
expect_code 2 sweep serve --bind 0.0.0.0:0
expect_in "$T/err" "not a loopback address: give a token"
expect_code 0 sweep serve --help
expect_in "$T/out" "Example"
ok "malformed settings and a public bind without a token are refused at start"

# ---- the service ----
printf 's3cret-token\n' >"$T/token"
PID=
URL=
# A failed check must not leave the service running.
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT
# api WANT METHOD PATH [curl args]: the answer in $T/body; fails unless status WANT
# and, for JSON, a valid JSON body.
api() {
    want=$1 method=$2 path=$3
    shift 3
    code=$(curl -s --path-as-is -o "$T/body" -w '%{http_code}' -X "$method" "$@" \
        "$URL$path") || fail "curl $method $path failed"
    [ "$code" = "$want" ] || {
        cat "$T/body" >&2
        fail "$method $path: $code, expected $want"
    }
    case $(head -c 1 "$T/body") in
    '{' | '[') jq -ne 'input | true' "$T/body" >/dev/null || fail "$method $path: not JSON" ;;
    esac
}
AUTH="Authorization: Bearer s3cret-token"
post() { # post WANT PATH BODY
    api "$1" POST "$2" -H "$AUTH" -H 'Content-Type: application/json' -d "$3"
}
# study_status NAME WANT: GET /studies/NAME says WANT.
study_status() {
    curl -s "$URL/studies/$1" | jq -ne --arg s "$2" 'input | .status == $s' >/dev/null
}

start_serve -j 2 --token-file "$T/token" --max-body 4K
expect_code 4 sweep serve --bind 127.0.0.1:0
expect_in "$T/err" "another sweep serve (pid $PID) runs on home"
api 200 GET /health
jq_eq "$T/body" .status ok
api 200 GET /status
jq_eq "$T/body" '.status + " " + (.slots|tostring) + " " + (.studies|type)' "ok 2 array"
api 200 GET /studies
jq_eq "$T/body" length 0
ok "GET /health, /status and /studies"

api 404 GET /nope
jq_eq "$T/body" 'keys|join(",")' "detail,error"
jq_eq "$T/body" .error not_found
api 405 PUT /studies
jq_eq "$T/body" .error method_not_allowed
api 404 GET /studies/nope
api 404 GET /studies/nope/results
api 404 GET /tasks/999999
post 404 /studies/nope/cancel ''
post 404 /studies/nope/retry ''
api 404 DELETE /tasks/999999 -H "$AUTH"
ok "unknown paths and ids: 404, a wrong method 405, errors as {error, detail}"

api 400 GET /studies/..
api 400 GET /tasks/%2e%2e
api 400 DELETE /tasks/.. -H "$AUTH"
post 400 /studies/../cancel ''
code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL/studies/..%2F..%2Fetc")
[ "$code" = 400 ] || [ "$code" = 404 ] || fail "traversal: $code"
post 400 /studies '{"study": "../../x", "model": "chaos"}'
[ ! -e "$T/x" ] && [ ! -e "$SWEEP_HOME/../x" ] || fail "a file outside the home"
ok "ids that would name paths outside the home are refused"

# Malformed HTTP, a lying length, a huge path, NUL bytes, a body cut short: each gets an
# error or a closed connection, and the service answers afterwards.
python3 - "${URL##*:}" <<'EOF_PY' || fail "raw requests"
import socket, sys
port = int(sys.argv[1])
reqs = [b"GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST /studies HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /studies/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /studies HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        b"GET /tasks?limit=%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00\x01\x02\xff\r\n\r\n"]
for r in reqs:
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(1)
    try:
        # The service may answer and close before the request is all sent.
        s.sendall(r)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        line = s.recv(100).split(b"\r\n")[0]
    except OSError:
        line = b"(no answer)"
    s.close()
    if line.startswith(b"HTTP/1.1 2"):
        sys.exit("%r answered %r" % (r[:30], line))
EOF_PY
api 200 GET /health
ok "malformed requests are refused and the service still answers"

SPEC='{"algorithm": "chaos", "variable_parameter": "duration", "values": [0.1, 0.2, 0.15], "repetitions": 2, "study": "s1"}'
api 401 POST /studies -d "$SPEC"
jq_eq "$T/body" .error unauthorized
api 401 POST /studies -H "Authorization: Bearer wrong" -d "$SPEC"
api 401 DELETE /tasks/1
api 401 POST /studies/s1/cancel
head -c 5000 /dev/zero | tr '\0' x >"$T/big"
post 413 /studies "@$T/big"
jq_eq "$T/body" .error too_large
post 400 /studies '{"study": "s1", '
expect_in "$T/body" "bad JSON at line 1"
post 400 /studies '[1]'
post 400 /studies '{"algorithm": "nope", "variable_parameter": "x", "values": [1]}'
expect_in "$T/body" nope
post 403 /studies '{"study": "c1", "command": ["/bin/true"]}'
api 200 GET /studies
jq_eq "$T/body" length 0
ok "token (401), body limit (413), bad JSON and bad specs (400), commands (403)"

post 202 /studies "$SPEC"
jq_eq "$T/body" '.study_id + " " + .status' "s1 QUEUED"
wait_for 60 study_status s1 COMPLETED
api 200 GET /studies/s1
jq_eq "$T/body" 'keys|join(",")' \
    "by_priority,description,estimated_remaining,failures,progress,reason,status,study_id"
jq_eq "$T/body" '.by_priority|"\(.HIGH.total) \(.MEDIUM.succeeded) \(.LOW.total)"' "0 6 0"
jq_eq "$T/body" '.progress|"\(.total) \(.completed) \(.failed) \(.percentage)"' "6 6 0 100"
jq_eq "$T/body" .estimated_remaining 0
api 200 GET /studies/s1/results
jq_eq "$T/body" 'map(select(.state == "succeeded"))|length' 6
api 200 GET "/studies/s1/results?format=csv"
[ "$(count_lines "$T/body")" -eq 7 ] || fail "csv: not 7 lines"
head -1 "$T/body" | grep -q '^key,id,state' || fail "csv header"
api 400 GET "/studies/s1/results?format=xml"
ok "a parametric study runs to completion through the API; its results as JSON and CSV"

api 200 GET "/tasks?study=s1&limit=4"
jq_eq "$T/body" '"\(.tasks|length) \(.next_offset)"' "4 4"
jq_eq "$T/body" '.tasks[0]|keys|join(",")' \
    "attempts,error,exit_code,finished_at,id,key,metrics,params,priority,signal,started_at,state,study,wall"
ID=$(jq -r '.tasks[0].id' "$T/body")
api 200 GET "/tasks?study=s1&limit=4&offset=4"
jq_eq "$T/body" '"\(.tasks|length) \(.next_offset)"' "2 null"
api 200 GET "/tasks?status=SUCCEEDED&priority=MEDIUM"
jq_eq "$T/body" '.tasks|length' 6
api 200 GET "/tasks?status=failed"
jq_eq "$T/body" '.tasks|length' 0
api 400 GET "/tasks?status=bogus"
api 400 GET "/tasks?limit=0"
api 200 GET "/tasks/$ID"
jq_eq "$T/body" '"\(.study) \(.state)"' "s1 succeeded"
api 200 DELETE "/tasks/$ID" -H "$AUTH"
jq_eq "$T/body" .cancelled false
post 200 /studies/s1/retry ''
jq_eq "$T/body" .tasks_to_retry 0
ok "GET /tasks with filters and paging, GET and DELETE /tasks/{id}"

post 202 /tasks '{"algorithm": "chaos", "parameters": {"duration": 0.05, "x": 2, "sigma": 0}, "task_id": "one"}'
wait_for 60 study_status task-one COMPLETED
api 200 GET "/tasks?study=task-one"
jq_eq "$T/body" '.tasks[0].metrics.value' 4
ok "POST /tasks runs one task as a study of its own"

# A spec as YAML (Content-Type application/yaml), as it is written in a file.
printf 'study: y1\nmodel: chaos\nparameters:\n  x: [1, 2]\nbase:\n  sigma: 0\n' >y1.yaml
api 202 POST /studies -H "$AUTH" -H 'Content-Type: application/yaml' --data-binary @y1.yaml
wait_for 60 study_status y1 COMPLETED
api 200 GET "/studies/y1/results"
jq_eq "$T/body" '[.[].metrics.value] | sort | join(",")' "1,4"
printf 'study: y2\nmodel: [chaos\n' >y2.yaml
api 400 POST /studies -H "$AUTH" -H 'Content-Type: text/yaml; charset=utf-8' \
    --data-binary @y2.yaml
jq_eq "$T/body" '.detail | startswith("body:")' true
api 400 POST /studies -H "$AUTH" -H 'Content-Type: application/json' --data-binary @y1.yaml
expect_in "$T/body" "bad JSON"
ok "POST /studies takes a YAML spec with Content-Type application/yaml"

# ---- SIGTERM in the middle of a study, then a restart: nothing lost ----
post 202 /studies '{"algorithm": "chaos", "variable_parameter": "x", "values": [1, 2, 3, 4, 5, 6], "base_parameters": {"duration": 1}, "study": "s2"}'
post 409 /studies '{"study": "s2", "model": "chaos"}'
jq_eq "$T/body" .error conflict
running() {
    curl -s "$URL/tasks?study=s2&status=running" | jq -ne 'input | .tasks|length > 0' >/dev/null
}
wait_for 60 running
stop_serve
expect_in "$T/serve.log" "stopping"
expect_code 0 sweep status s2 --json
jq_eq "$T/out" .status INTERRUPTED
[ -f "$SWEEP_HOME/serve/accepted/s2.json" ] || fail "the accepted spec of s2 is gone"
ok "SIGTERM: running tasks stopped and recorded interrupted, exit 0"

# Another writer holds the store for longer than its busy timeout (5 s) as the
# service starts: the study is stored once the store is free, not dropped.
python3 -c "
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN IMMEDIATE')
open(sys.argv[2], 'w').close()
time.sleep(6.5)
c.execute('COMMIT')" "$SWEEP_HOME/sweep.db" "$T/locked" &
HOLDER=$!
wait_for 20 test -e "$T/locked"
start_serve -j 2 --token-file "$T/token" --max-body 4K
expect_in "$T/serve.log" "study s2 resumes"
wait_for 90 study_status s2 COMPLETED
wait "$HOLDER"
expect_in "$T/serve.log" "study s2: beginning a transaction"
expect_in "$T/serve.log" "trying again"
api 200 GET /studies/s2/results
jq_eq "$T/body" 'length' 6
jq_eq "$T/body" 'map(select(.state == "succeeded"))|length' 6
jq_eq "$T/body" 'map(.key)|unique|length' 6
jq_eq "$T/body" 'map(.params.x)|sort|map(tostring)|join(",")' "1,2,3,4,5,6"
[ ! -e "$SWEEP_HOME/serve/accepted/s2.json" ] || fail "s2 still accepted after it completed"
ok "a restart resumes the interrupted study (after a busy store); every task recorded once"

stop_serve
expect_in "$T/serve.log" "stopped"
ok "stopped by its pid"

# ---- while it stops: no new work (503); commands only with --allow-commands ----
start_serve -j 1 --allow-commands
# A task that ignores SIGTERM keeps the service stopping for its kill_after (8 s).
api 202 POST /studies -d '{"study": "stubborn", "command": ["sh", "-c", "trap \"\" TERM; touch started; sleep 60"], "kill_after": 8, "workdir": "'"$T"'"}'
wait_for 30 test -e "$T/started"
kill -TERM "$PID"
stopping() {
    curl -s "$URL/health" | jq -ne 'input | .status == "stopping"' >/dev/null
}
wait_for 10 stopping
api 503 POST /studies -d '{"study": "late", "model": "chaos"}'
jq_eq "$T/body" .error stopping
api 503 POST /studies/stubborn/cancel
stop_serve
expect_code 0 sweep status stubborn --json
jq_eq "$T/out" .status INTERRUPTED
ok "while it stops: /health says stopping, POSTs get 503; then exit 0"
openapi_check
