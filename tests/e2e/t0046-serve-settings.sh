#!/bin/sh
# sweep serve: the settings --results-path, --history-size, --worker-timeout and
# --max-retries (and their SWEEP_* variables and .env lines): shown by --print-config
# with their source, refused when out of range naming the source, and honoured: the
# inbox's results go to the results path, GET /events replays at most history-size
# events, a spec without retries gets --max-retries, a running attempt's lease is the
# worker timeout.
. "$SWEEP_SRC/tests/e2e/lib.sh"
openapi_log

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"

# ---- --print-config: defaults, environment, .env, flag ----
mkdir -p "$SWEEP_HOME"
expect_code 0 sweep serve --print-config --json
jq_eq "$T/out" '.results_path.value + " " + .results_path.source' "results default"
jq_eq "$T/out" '.history_size.value + " " + .history_size.source' "4096 default"
jq_eq "$T/out" '.worker_timeout.value + " " + .worker_timeout.source' "60 default"
jq_eq "$T/out" '.max_retries.source' unset
printf 'SWEEP_HISTORY_SIZE=32\nSWEEP_WORKER_TIMEOUT=30\n' >"$SWEEP_HOME/.env"
SWEEP_RESULTS_PATH=out/res SWEEP_MAX_RETRIES=3 expect_code 0 sweep serve --print-config --json \
    --worker-timeout 9
jq_eq "$T/out" '.results_path.value + " " + .results_path.source' "out/res environment"
jq_eq "$T/out" .history_size.value 32
jq_eq "$T/out" .history_size.where "$SWEEP_HOME/.env line 1"
jq_eq "$T/out" '.worker_timeout.value + " " + .worker_timeout.source' "9 flag"
jq_eq "$T/out" '.max_retries.value + " " + .max_retries.source' "3 environment"
expect_code 0 sweep serve --print-config
expect_in "$T/out" "history_size"
expect_code 0 sweep serve --help
expect_in "$T/out" "--results-path DIR"
expect_in "$T/out" "--history-size N"
expect_in "$T/out" "--worker-timeout SEC"
ok "--print-config: results_path, history_size, worker_timeout and their sources"

# ---- malformed values are refused, naming the setting and its source ----
printf 'SWEEP_HISTORY_SIZE=8\n' >"$SWEEP_HOME/.env"
expect_code 2 sweep serve
expect_in "$T/err" "SWEEP_HISTORY_SIZE from $SWEEP_HOME/.env line 1: expected 16 to 1000000, got '8'"
rm "$SWEEP_HOME/.env"
SWEEP_WORKER_TIMEOUT=x expect_code 2 sweep serve
expect_in "$T/err" "SWEEP_WORKER_TIMEOUT from the environment: expected a positive integer"
expect_code 2 sweep serve --worker-timeout 100000
expect_in "$T/err" "--worker-timeout: expected 1 to 86400"
expect_code 2 sweep serve --history-size many
expect_in "$T/err" "expected a positive integer, got 'many'"
SWEEP_MAX_RETRIES=5000 expect_code 2 sweep serve
expect_in "$T/err" "SWEEP_MAX_RETRIES from the environment: expected 1 to 1000"
ok "malformed or out-of-range values are refused at start with their source"

# ---- the service with a results path and a short history ----
PID=
URL=
CURL=
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ -n "$CURL" ] && kill "$CURL" 2>/dev/null; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT
IN="$T/inbox"
mkdir -p "$IN"
SWEEP_RESULTS_PATH=myres "$SWEEP_BIN" serve --bind 127.0.0.1:0 -j 2 --inbox "$IN" \
    --history-size 16 --worker-timeout 1000 --max-retries 2 --allow-commands \
    >"$T/serve.log" 2>&1 &
PID=$!
wait_for 20 grep -q "listening on" "$T/serve.log"
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$T/serve.log")
wait_for 20 curl -sf "$URL/health"

has_results() { ls "$SWEEP_HOME"/myres/task_results_*.json >/dev/null 2>&1; }
printf '{"tasks": [{"task_id": "r1", "algorithm": "DLA", "parameters": {"n_particles": 30}}]}\n' \
    >"$IN/one.json"
wait_for 30 has_results
[ -f "$SWEEP_HOME/myres/orchestrator_stats.json" ] || fail "no myres/orchestrator_stats.json"
[ ! -e "$SWEEP_HOME/results" ] || fail "results/ was written despite the results path"
ok "the inbox's results go to the results path (relative: in the home)"

# 12 tasks: 24 task events and 2 study events, more than the 16 kept.
study_status() {
    curl -s "$URL/studies/$1" | jq -ne --arg s "$2" 'input | .status == $s' >/dev/null
}
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -d \
    '{"algorithm": "chaos", "variable_parameter": "duration", "values": [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12], "study": "h1"}' \
    "$URL/studies")
[ "$code" = 202 ] || fail "POST /studies: $code"
wait_for 60 study_status h1 COMPLETED
curl -sN --max-time 120 -H "Last-Event-ID: 0" "$URL/events" >"$T/replay" 2>/dev/null &
CURL=$!
ids() { grep -c '^id: ' "$T/replay"; }
wait_for 20 sh -c "[ \$(grep -c '^id: ' '$T/replay') -ge 16 ]"
kill "$CURL"
CURL=
[ "$(ids)" -eq 16 ] || fail "replayed $(ids) events, not the 16 kept"
first=$(sed -n 's/^id: //p' "$T/replay" | head -n 1)
[ "$first" -gt 1 ] || fail "the oldest events were kept: first id $first"
ok "--history-size 16: GET /events replays the last 16 events only"

# --max-retries 2: a task whose spec sets no retries and whose first attempt fails
# is retried and succeeds (without the setting, the study fails).
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -d \
    '{"algorithm": "chaos", "variable_parameter": "seed", "values": [1], "base_parameters": {"duration": 0.01, "fail_attempts": 1}, "study": "m1"}' \
    "$URL/studies")
[ "$code" = 202 ] || fail "POST /studies: $code"
study_ended() {
    curl -s "$URL/studies/m1" | jq -ne 'input | .status == "COMPLETED" or .status == "FAILED"' >/dev/null
}
wait_for 60 study_ended
curl -s "$URL/studies/m1" >"$T/m1"
jq_eq "$T/m1" .status COMPLETED
ok "--max-retries: a spec without retries gets the service's"

# ... and so does a reduce without retries (its command fails once); a spec that sets
# retries to 0 (a number or max) keeps 0: its task fails once and for all.
submit() { # submit JSON: POST /studies, 202
    code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -d "$1" "$URL/studies")
    [ "$code" = 202 ] || fail "POST /studies: $code $(cat "$T/body")"
}
ended() {
    curl -s "$URL/studies/$1" | jq -ne 'input | .status | test("COMPLETED|FAILED")' >/dev/null
}
submit "$(jq -nc --arg f "$T/reduced" '{study: "m2", model: "chaos",
    base: {duration: 0.01, fail_attempts: 1}, reduce: {command: ["sh", "-c",
    "test -e \"$1\" || (touch \"$1\"; exit 1)", "sh", $f]}}')"
submit '{"study": "m3", "model": "chaos", "base": {"fail_attempts": 1}, "retries": 0}'
submit '{"study": "m4", "model": "chaos", "base": {"fail_attempts": 1}, "retries": {"max": 0}}'
for m in m2 m3 m4; do
    wait_for 60 ended $m
done
[ -e "$T/reduced" ] || fail "the reduce of m2 did not run"
curl -s "$URL/tasks?study=m2" >"$T/m2"
jq_eq "$T/m2" '.tasks|map("\(.state):\(.attempts)")|join(" ")' "succeeded:2 succeeded:2"
curl -s "$URL/studies/m2" >"$T/m2"
jq_eq "$T/m2" .status COMPLETED
for m in m3 m4; do
    curl -s "$URL/tasks?study=$m" >"$T/$m"
    jq_eq "$T/$m" '.tasks|map("\(.state):\(.attempts)")|join(" ")' "failed:1"
done
ok "--max-retries: a reduce without retries gets them; an explicit 0 is kept"

# --worker-timeout 1000: a running attempt's lease ends about 1000 s from now (the
# default is 60).
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -d \
    '{"algorithm": "chaos", "variable_parameter": "duration", "values": [60], "study": "w1"}' \
    "$URL/studies")
[ "$code" = 202 ] || fail "POST /studies: $code"
lease_left() {
    python3 -c 'import sqlite3, sys, time
r = sqlite3.connect(sys.argv[1]).execute(
    "SELECT max(lease_until) FROM attempts WHERE state = 1").fetchone()[0]
print(int(r - time.time()) if r else -1)' "$SWEEP_HOME/sweep.db"
}
lease_set() { [ "$(lease_left)" -gt 0 ]; }
wait_for 30 lease_set
left=$(lease_left)
[ "$left" -gt 900 ] && [ "$left" -le 1000 ] || fail "lease ends in $left s, not about 1000"
ok "--worker-timeout: the lease of a running attempt"

stop_serve
openapi_check
