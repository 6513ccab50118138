# sweep cancel: a whole study from another process, or one task.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >study.yaml <<'EOF'
study: long
model: chaos
parameters:
  x: {range: [1, 10, 1]}
base:
  duration: 60
max_parallel: 2
EOF
"$SWEEP_BIN" run study.yaml --quiet >/dev/null 2>&1 &
pid=$!
running() {
    n=$(sweep status long --json 2>/dev/null | jq -r '.counts.running') || return 1
    [ "${n:-0}" -eq 2 ]
}
wait_for 30 running
# A second run of the same study while the first runs is refused, not interleaved.
expect_code 4 sweep run study.yaml
expect_in "$T/err" "is being run by pid $pid since"
ok "a second sweep run of a running study is refused"
expect_code 0 sweep cancel long
expect_in "$T/out" "cancelled"
wait "$pid"
rc=$?
[ "$rc" -eq 1 ] || fail "cancelled run exited $rc, expected 1"
expect_code 0 sweep status long --json
jq_eq "$T/out" '.status' CANCELLED
jq_eq "$T/out" '.counts.cancelled' 10
ok "cancel a running study: running tasks killed, pending ones cancelled"

cat >one.yaml <<'EOF'
study: one
model: chaos
parameters:
  x: [1, 2]
EOF
sweep run one.yaml --dry-run >"$T/dry"
expect_in "$T/dry" "2 tasks"
ok "--dry-run lists the tasks and stores nothing"
expect_code 2 sweep cancel nosuchthing
expect_code 2 sweep logs nosuchthing
ok "cancel and logs of an unknown name exit 2"
