#!/bin/sh
# sweep client and --server: against a running sweep serve (started as in t0040),
# each command with and without the token, the same output as the local commands,
# a run followed to its end with the local exit codes, and the errors a user meets:
# a closed port (5), no token (6), an unknown study (7), an answer that is not JSON (8).
. "$SWEEP_SRC/tests/e2e/lib.sh"
openapi_log

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"
unset SWEEP_SERVER SWEEP_TOKEN_FILE

# ---- help and usage ----
for cmd in client status results run; do
    expect_code 0 sweep $cmd --help
    expect_in "$T/out" "Example"
    expect_in "$T/out" "--server"
done
expect_code 0 sweep client --help
expect_in "$T/out" "sweep client monitor --interval 2"
expect_code 2 sweep client
expect_in "$T/err" "expected a command: status, ping, execute or monitor"
expect_code 2 sweep client bogus
expect_code 2 sweep client monitor --interval 0
expect_in "$T/err" "--interval: expected seconds"
expect_code 2 sweep client ping --server ftp://127.0.0.1:1
expect_in "$T/err" "--server: expected a URL"
expect_code 2 sweep run x.yaml --detach
expect_in "$T/err" "--detach goes with --server"
ok "--help with examples; usage errors"

# ---- nothing listening: exit 5, the URL named ----
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
for cmd in "client ping" "client status" "client monitor" "status" "results s1"; do
    expect_code 5 sweep $cmd --server "http://127.0.0.1:$CLOSED"
    expect_in "$T/err" "cannot reach the sweep service at http://127.0.0.1:$CLOSED"
    [ "$(count_lines "$T/err")" -eq 1 ] || fail "$cmd: not one line"
done
printf 'study: s0\nmodel: chaos\n' >s0.yaml
SWEEP_SERVER="http://127.0.0.1:$CLOSED" expect_code 5 sweep run s0.yaml
ok "a closed port: exit 5 and one line naming the URL (also from \$SWEEP_SERVER)"

# ---- something that is not a sweep service: exit 8 ----
mkdir www && printf '<html>hello</html>\n' >www/index.html
PID=
HTTP=
trap 'rc=$?; for p in $PID $HTTP; do kill -KILL "$p" 2>/dev/null; done; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT
python3 -u -m http.server 0 --bind 127.0.0.1 --directory www >http.log 2>&1 &
HTTP=$!
wait_for 20 grep -q "Serving HTTP" http.log
HPORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' http.log | head -1)
expect_code 8 sweep client status --server "http://127.0.0.1:$HPORT/"
expect_in "$T/err" "http://127.0.0.1:$HPORT/status: HTTP 404, an answer that is not JSON"
expect_code 8 sweep status --server "http://127.0.0.1:$HPORT"
kill "$HTTP"
wait "$HTTP" 2>/dev/null
HTTP=
ok "an answer that is not JSON: exit 8 naming the URL"

# ---- the service ----
printf 's3cret-token\n' >token
"$SWEEP_BIN" serve --bind 127.0.0.1:0 -j 2 --token-file token >serve.log 2>&1 &
PID=$!
wait_for 20 grep -q "listening on" serve.log
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' serve.log)
wait_for 20 curl -sf "$URL/health"

expect_code 0 sweep client ping --server "$URL"
expect_in "$T/out" "$URL: ok"
expect_code 0 sweep client ping --server "$URL" --json
jq_eq "$T/out" .health.status ok
expect_code 0 sweep client status --server "$URL"
expect_in "$T/out" "service $URL: ok, pid $PID"
expect_in "$T/out" "no studies yet"
expect_code 0 sweep client status --server "$URL" --json
jq_eq "$T/out" '"\(.status) \(.slots) \(.studies|length)"' "ok 2 0"
expect_code 0 sweep status --server "$URL"
expect_in "$T/out" "no studies yet on $URL"
ok "ping and status of a running service"

cat >s1.yaml <<'EOF_SPEC'
study: s1
model: chaos
parameters:
  x: [1, 2, 3]
base:
  duration: 0.05
EOF_SPEC
expect_code 6 sweep run s1.yaml --server "$URL"
expect_in "$T/err" "$URL/studies: 401 unauthorized: the service needs a token"
printf 'wrong\n' >wrong
expect_code 6 sweep run s1.yaml --server "$URL" --token-file wrong
expect_in "$T/err" "the service refused the token"
expect_code 6 sweep client execute s1.yaml --server "$URL"
expect_code 2 sweep run s1.yaml --server "$URL" --token-file nope
expect_in "$T/err" "--token-file"
ok "no token or a wrong one: exit 6 naming the URL"

expect_code 0 sweep run s1.yaml --server "$URL" --token-file token
expect_in "$T/err" "study s1 submitted to $URL"
expect_in "$T/out" "study s1: COMPLETED"
expect_in "$T/out" "3/3 ended (100.0%)"
SWEEP_SERVER=$URL SWEEP_TOKEN_FILE=token expect_code 0 sweep run s1.yaml --json
jq_eq "$T/out" '"\(.status) \(.progress.completed)"' "COMPLETED 3"
SWEEP_SERVER=$URL expect_code 0 sweep status --json
jq_eq "$T/out" 'length' 1
# --home: the local home, whatever $SWEEP_SERVER says.
SWEEP_SERVER=http://127.0.0.1:$CLOSED expect_code 0 sweep status s1 --home "$SWEEP_HOME"
expect_in "$T/out" "study s1: COMPLETED"
ok "sweep run --server submits and follows the study to its end (exit 0)"

# The same output as the local commands on the service's home.
for args in "status" "status --json" "status s1" "results s1" "results s1 --json" \
    "results s1 --format csv"; do
    sweep $args --server "$URL" >remote.out || fail "$args --server"
    sweep $args >local.out || fail "$args"
    cmp -s remote.out local.out || {
        diff local.out remote.out >&2
        fail "sweep $args: --server differs from the local output"
    }
done
expect_code 0 sweep results s1 --server "$URL" --format table
expect_in "$T/out" "succeeded"
[ "$(count_lines "$T/out")" -eq 4 ] || fail "results table: not 4 lines"
expect_code 0 sweep status s1 --server "$URL"
expect_in "$T/out" "study s1: COMPLETED"
expect_code 0 sweep status s1 --server "$URL" --json
jq_eq "$T/out" .progress.total 3
jq_eq "$T/out" .by_priority.MEDIUM.succeeded 3
ok "status and results --server print what the local commands print"

expect_code 7 sweep status nope --server "$URL"
expect_in "$T/err" "$URL/studies/nope: 404 not_found"
expect_code 7 sweep results nope --server "$URL"
expect_in "$T/err" "$URL/studies/nope/results?format=csv: 404 not_found"
expect_code 2 sweep results s1 --server "$URL" --state failed
ok "an unknown study: exit 7 naming the URL"

cat >bad.yaml <<'EOF_SPEC'
study: bad
model: chaos
parameters:
  fail_rate: [0, 1]
EOF_SPEC
expect_code 1 sweep run bad.yaml --server "$URL" --token-file token
expect_in "$T/out" "study bad: PARTIALLY_FAILED"
grep -Eq '^  MEDIUM +2 +0 +0 +1 +1 ' "$T/out" || fail "run --server: no MEDIUM 1 succeeded, 1 failed"
printf 'study: wrong\nmodel: nope\n' >wrong.yaml
expect_code 2 sweep run wrong.yaml --server "$URL" --token-file token
expect_in "$T/err" "$URL/studies: 400 invalid"
expect_code 2 sweep run missing.yaml --server "$URL" --token-file token
expect_code 2 sweep run s1.yaml --server "$URL" -j 3
expect_in "$T/err" "-j is for a local run"
expect_code 2 sweep run s1.yaml --server "$URL" --force
expect_in "$T/err" "--force is for a local run"
ok "a failed task: exit 1 as locally; a refused spec or a local-only option: exit 2"

expect_code 0 sweep run s1.yaml --server "$URL" --token-file token --detach --json
jq_eq "$T/out" .study_id s1
done_s() {
    sweep status "$1" --server "$URL" --json | jq -e '.status == "COMPLETED"'
}
cat >tasks.yaml <<'EOF_SPEC'
tasks:
  - id: a1
    type: chaos
    parameters: {x: 2, duration: 0.05}
    priority: 1
  - id: a2
    type: chaos
    parameters: {x: 3}
EOF_SPEC
# A task file goes to /execute_tasks as it is written (the service names such a study
# execute_tasks); a study spec to /studies.
expect_code 0 sweep client execute tasks.yaml --server "$URL" --token-file token
expect_in "$T/out" "submitted to $URL: study execute_tasks, QUEUED"
wait_for 60 done_s execute_tasks
expect_code 0 sweep results execute_tasks --server "$URL" --json
jq_eq "$T/out" '[.[].params.task_id]|sort|join(",")' "a1,a2"
printf 'study: e2\nmodel: chaos\nparameters:\n  x: [2, 3]\n' >e2.yaml
expect_code 0 sweep client execute e2.yaml --server "$URL" --token-file token --json
jq_eq "$T/out" .study_id e2
wait_for 60 done_s e2
# No FILE: the service's own tasks file (configs/tasks.yaml in its home).
expect_code 7 sweep client execute --server "$URL" --token-file token
expect_in "$T/err" "$URL/execute_tasks: 404"
expect_in "$T/err" "configs/tasks.yaml"
mkdir -p "$SWEEP_HOME/configs"
sed 's/a1/b1/; s/a2/b2/' tasks.yaml >"$SWEEP_HOME/configs/tasks.yaml"
expect_code 0 sweep client execute --server "$URL" --token-file token
expect_in "$T/out" "study tasks"
wait_for 60 done_s tasks
wait_for 60 done_s s1
ok "--detach returns at once; client execute: a task file, a spec, the service's own file"

# Ctrl-C while following a run stops following only: the study runs on.
cat >slow.yaml <<'EOF_SPEC'
study: slow
model: chaos
parameters:
  x: [1, 2, 3, 4]
base:
  duration: 1
EOF_SPEC
"$SWEEP_BIN" run slow.yaml --server "$URL" --token-file token >follow.out 2>follow.err &
F=$!
wait_for 30 grep -q "submitted" follow.err
kill -INT "$F"
wait "$F"
rc=$?
[ "$rc" -eq 130 ] || fail "Ctrl-C while following: exit $rc, expected 130"
expect_in follow.err "stopped following; study slow runs on at $URL"
COLUMNS=60 "$SWEEP_BIN" client monitor --server "$URL" --interval 0.2 >mon.out 2>&1 &
M=$!
wait_for 30 grep -q "^slow" mon.out
kill -INT "$M"
wait "$M"
rc=$?
[ "$rc" -eq 0 ] || fail "monitor after Ctrl-C: exit $rc"
expect_in mon.out "STUDY"
awk 'length > 60 { exit 1 }' mon.out || fail "monitor: a line wider than 60 columns"
wait_for 60 done_s slow
ok "Ctrl-C ends a followed run (130, the study runs on) and the monitor (0)"

kill -TERM "$PID"
wait "$PID"
PID=
openapi_check
