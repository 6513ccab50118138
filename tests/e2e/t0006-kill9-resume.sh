# kill -9 of `sweep run` mid-study loses no completed result and records no task twice;
# the next run finishes the study.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# 40 tasks of 0.2 s, 4 at a time: 2 s in all, so that a loaded machine still kills
# the run well before its end (at 0.05 s each it once completed between two polls).
cat >study.yaml <<'EOF'
study: crashy
model: chaos
parameters:
  x: {range: [1, 40, 1]}
base:
  duration: 0.2
max_parallel: 4
EOF
"$SWEEP_BIN" run study.yaml --quiet >/dev/null 2>"$T/run.err" &
pid=$!
exec 3>&2 # wait_for silences the check; its diagnosis goes here
succeeded() {
    n=$(sweep status crashy --json 2>/dev/null | jq -r '.counts.succeeded')
    [ "${n:-0}" -ge "$1" ] && return 0
    kill -0 "$pid" 2>/dev/null && return 1
    cat "$T/run.err" >&3
    echo "FAIL: sweep run ended early, with $n tasks succeeded" >&3
    exit 1
}
wait_for 60 succeeded 8
kill -9 "$pid"
wait "$pid" 2>/dev/null
expect_code 0 sweep status crashy --json
before=$(jq -r '.counts.succeeded' "$T/out")
jq_eq "$T/out" '.status' INTERRUPTED
[ "$before" -ge 8 ] && [ "$before" -lt 40 ] || fail "killed too late or too early: $before"
ok "sweep run killed with -9 after $before tasks"

expect_code 0 sweep run study.yaml --json
jq_eq "$T/out" '.status' COMPLETED
jq_eq "$T/out" ".skipped >= $before" true
expect_code 0 sweep results crashy --format json
jq_eq "$T/out" 'length' 40
jq_eq "$T/out" '[.[].key] | unique | length' 40
jq_eq "$T/out" '[.[] | select(.state == "succeeded")] | length' 40
jq_eq "$T/out" '[.[] | select(.metrics.value == null)] | length' 0
# Only tasks that were running at the kill ran twice (at most max_parallel of them).
jq_eq "$T/out" '[.[] | select(.attempts > 1)] | length <= 4' true
ok "resume: 40 distinct tasks succeeded, each recorded once"

# What a task started outside its process group (setsid) outlives a kill -9 of the run
# (its leader dies of the parent-death signal, the group's kill does not reach it): the
# next run finds it by the environment it inherited and ends it before it starts
# anything.
cat >escape.sh <<EOF2
#!/bin/sh
[ -e "$T/fast" ] && exit 0
setsid sleep 1000 &
echo \$! >"\$SWEEP_TASK_DIR/stray.pid"
exec sleep 1000
EOF2
chmod +x escape.sh
cat >escape.yaml <<'EOF2'
study: escape
command: [./escape.sh, "{i}"]
parameters:
  i: [1, 2]
EOF2
"$SWEEP_BIN" run escape.yaml -j 2 --quiet >/dev/null 2>"$T/run.err" &
pid=$!
strays() {
    [ "$(cat "$SWEEP_HOME"/studies/escape/tasks/*/*/stray.pid 2>/dev/null | wc -l)" -eq 2 ]
}
wait_for 30 strays
kill -9 "$pid"
wait "$pid" 2>/dev/null
stray_pids=$(cat "$SWEEP_HOME"/studies/escape/tasks/*/*/stray.pid)
for p in $stray_pids; do
    kill -0 "$p" 2>/dev/null || fail "the setsid process $p did not outlive the kill"
done
touch fast
expect_code 0 sweep run escape.yaml --json
jq_eq "$T/out" '.status' COMPLETED
for p in $stray_pids; do
    wait_for 10 gone "$p"
done
expect_code 0 sweep logs escape
[ "$(grep -c task_orphan_ended "$T/out")" -eq 2 ] || fail "no task_orphan_ended lines"
ok "kill -9: what tasks left outside their process group is ended by the next run"
