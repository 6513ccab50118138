# The local pool under `sweep run`: SIGTERM and SIGHUP stop a run cleanly (143, 129)
# through the program's signal watch, and `kill -9` of `sweep run` takes its running
# tasks with it (parent-death signal), so none keeps running unsupervised.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# A task writes its pid, then waits (as the same process) until killed.
cat >task.sh <<'EOF'
#!/bin/sh
echo $$ >"$SWEEP_TASK_DIR/../pid.$SWEEP_P_I"
exec sleep 1000
EOF
chmod +x task.sh

running() {
    nrun=$(sweep status "$1" --json 2>/dev/null | jq -r '.counts.running') || return 1
    [ "${nrun:-0}" -eq 2 ]
}

n=0
for sig in TERM HUP; do
    n=$((n + 1))
    cat >s$n.yaml <<EOF
study: sig$n
command: [./task.sh]
parameters:
  i: [1, 2]
max_parallel: 2
EOF
    "$SWEEP_BIN" run s$n.yaml --quiet >"$T/run.out" 2>&1 &
    pid=$!
    wait_for 30 running sig$n
    kill -$sig "$pid"
    wait "$pid"
    rc=$?
    want=143
    [ $sig = HUP ] && want=129
    [ "$rc" -eq $want ] || fail "sweep run exited $rc after SIG$sig, expected $want"
    expect_code 0 sweep status sig$n --json
    jq_eq "$T/out" '.counts.interrupted' 2
    ok "SIG$sig: exit $want, running tasks recorded interrupted"
done

cat >k.yaml <<'EOF'
study: k9
command: [./task.sh]
parameters:
  i: [1, 2]
max_parallel: 2
EOF
"$SWEEP_BIN" run k.yaml --quiet >"$T/run.out" 2>&1 &
pid=$!
wait_for 30 running k9
# task_pid I: the pid that task I wrote (fails until it has written it).
task_pid() {
    f=$(find "$SWEEP_HOME/studies/k9" -name "pid.$1" | head -1)
    [ -s "$f" ] && cat "$f"
}
wait_for 30 task_pid 1
wait_for 30 task_pid 2
t1=$(task_pid 1)
t2=$(task_pid 2)
gone "$t1" && fail "task $t1 not running before the kill"
kill -9 "$pid"
wait "$pid" 2>/dev/null
if ! (wait_for 30 gone "$t1" && wait_for 30 gone "$t2"); then
    kill -9 "$t1" "$t2" 2>/dev/null
    fail "tasks of a sweep run killed with -9 still run"
fi
ok "kill -9 of sweep run: its running tasks are gone"
