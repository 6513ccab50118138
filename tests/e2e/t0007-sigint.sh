# SIGINT to `sweep run`: running tasks are terminated and recorded interrupted, exit
# 130, and the next run reruns them.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >task.sh <<EOF
#!/bin/sh
while [ -e "$T/slow" ]; do sleep 0.05; done
echo '{"ok": 1}' >"\$SWEEP_RESULT"
EOF
chmod +x task.sh
cat >study.yaml <<'EOF'
study: intr
command: [./task.sh, "{i}"]
parameters:
  i: {range: [1, 6, 1]}
max_parallel: 2
EOF
touch slow
"$SWEEP_BIN" run study.yaml --quiet >"$T/run.out" 2>&1 &
pid=$!
running() {
    n=$(sweep status intr --json 2>/dev/null | jq -r '.counts.running') || return 1
    [ "${n:-0}" -eq 2 ]
}
wait_for 30 running
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] || fail "sweep run exited $rc after SIGINT, expected 130"
grep -q "^2 of the pending were stopped while running, and will run again$" "$T/run.out" ||
    fail "the summary does not say which pending tasks were interrupted: $(cat "$T/run.out")"
expect_code 0 sweep status intr --json
jq_eq "$T/out" '.counts.interrupted' 2
jq_eq "$T/out" '.counts.pending' 4
jq_eq "$T/out" '.counts.running' 0
jq_eq "$T/out" '.status' INTERRUPTED
ok "SIGINT: exit 130, running tasks recorded interrupted"

rm slow
expect_code 0 sweep run study.yaml --json
jq_eq "$T/out" '.status' COMPLETED
expect_code 0 sweep results intr --format json
jq_eq "$T/out" '[.[] | select(.attempts == 2)] | length' 2
ok "the next run reruns the interrupted tasks"
