# sweep monitor and the time left (estimated_remaining) in sweep status.
. "$SWEEP_SRC/tests/e2e/lib.sh"

expect_code 2 sweep monitor --once
expect_in "$T/err" "no studies yet"
expect_code 2 sweep monitor nosuch --once
expect_code 2 sweep monitor --interval 0
expect_in "$T/err" "--interval"
expect_code 2 sweep monitor --interval soon
expect_code 2 sweep monitor a b
ok "monitor: no study, unknown study, bad interval and extra arguments exit 2"

expect_code 0 sweep monitor --help
expect_in "$T/out" "Example:"
ok "monitor --help has an example"

cat >small.yaml <<'YAML'
study: small
model: chaos
parameters:
  x: {range: [1, 6, 1]}
max_parallel: 2
YAML
expect_code 0 sweep run small.yaml --quiet
expect_code 0 sweep monitor small --once
for s in "┌" "─" "┐" "│" "└" "┘" "█" "study small" COMPLETED HIGH MEDIUM LOW "100%" "6/6"; do
    expect_in "$T/out" "$s"
done
expect_not_in "$T/out" "ETA"
grep -qE '^│ MEDIUM +6 +0 +0 +6 +0 +0 +0 │$' "$T/out" || fail "MEDIUM counts: $(cat "$T/out")"
printf '\033' >"$T/esc"
expect_not_in "$T/out" "$(cat "$T/esc")"
ok "monitor --once: a box with the counts, 100% and no escape codes when not a tty"

expect_code 0 sweep monitor --once
expect_in "$T/out" "study small"
ok "monitor without a name shows the most recently updated study"

expect_code 0 sweep status small --json
jq_eq "$T/out" '.estimated_remaining == 0 or .estimated_remaining == null' true
jq_eq "$T/out" '.counts.succeeded' 6
expect_code 0 sweep status small
expect_not_in "$T/out" "ETA"
ok "status of a finished study: estimated_remaining 0, no ETA on the console"

# One quick task, then long ones one at a time: while the second runs, the time left
# is known.
cat >long.yaml <<'YAML'
study: long
model: chaos
tasks:
  - {x: 1, duration: 0}
  - {x: 2, duration: 60}
  - {x: 3, duration: 60}
  - {x: 4, duration: 60}
max_parallel: 1
YAML
"$SWEEP_BIN" run long.yaml --quiet >/dev/null 2>&1 &
pid=$!
second_running() {
    sweep status long --json >"$T/st" 2>/dev/null || return 1
    [ "$(jq -r '.counts.running' "$T/st")" = 1 ] &&
        [ "$(jq -r '.counts.succeeded' "$T/st")" = 1 ]
}
wait_for 30 second_running
expect_code 0 sweep status long --json
jq_eq "$T/out" '.estimated_remaining | type' number
jq_eq "$T/out" '.estimated_remaining >= 0' true
expect_code 0 sweep monitor long --once
expect_in "$T/out" "RUNNING"
expect_in "$T/out" " 25%"
expect_code 0 sweep cancel long
wait "$pid"
expect_code 0 sweep status long --json
jq_eq "$T/out" '.status' CANCELLED
jq_eq "$T/out" '.estimated_remaining' 0
ok "status --json: estimated_remaining is a number while a study runs"

# A running study: monitor exits by itself when it finishes (bounded by timeout).
cat >live.yaml <<'YAML'
study: live
model: chaos
parameters:
  x: {range: [1, 6, 1]}
base:
  duration: 0.3
max_parallel: 2
YAML
"$SWEEP_BIN" run live.yaml --quiet >/dev/null 2>&1 &
pid=$!
started() {
    sweep status live --json >/dev/null 2>&1
}
wait_for 30 started
expect_code 0 timeout 60 "$SWEEP_BIN" monitor live --interval 200ms
expect_in "$T/out" "100%"
expect_in "$T/out" COMPLETED
wait "$pid" || fail "the live run failed"
ok "monitor --interval 200ms exits when the study finishes"
