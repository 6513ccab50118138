# A study's life after its first run: a second `sweep run` while one runs (exit 4, who
# holds it), `sweep run --skip-failed` (failures stay, new and cancelled tasks run, a
# pipeline's chain after a failure stays skipped), `sweep retry TASK` (one task runs
# again, the others stay) and `sweep rm STUDY` (refused while it runs and off a
# terminal without --yes; takes its rows and files and nothing of another study).
. "$SWEEP_SRC/tests/e2e/lib.sh"

# x fails until the file ok_<x> exists in the test directory.
flaky() { # flaky NAME X...
    cat <<EOF
study: $1
command: ["sh", "-c", "if [ ! -e '$T/ok_{x}' ]; then echo 'no ok_{x}' >&2; exit 1; fi; echo '{{\"v\": {x}}}' >\"\$SWEEP_RESULT\""]
parameters:
  x: [$2]
EOF
}
# task_field STUDY X FIELD: the field of the task with x = X (sweep results JSON).
task_field() {
    sweep results "$1" --format json | jq -r ".[] | select(.params.x == $2) | .$3"
}

# ---- a second run of a running study ----
cat >long.yaml <<'EOF'
study: long
command: ["sleep", "60"]
parameters:
  x: [1, 2, 3]
max_parallel: 2
EOF
"$SWEEP_BIN" run long.yaml --quiet >/dev/null 2>&1 &
pid=$!
running() {
    n=$(sweep status long --json 2>/dev/null | jq -r '.counts.running') || return 1
    [ "${n:-0}" -eq 2 ]
}
wait_for 30 running
expect_code 4 sweep run long.yaml
expect_in "$T/err" "study 'long' is being run by pid $pid since "
expect_in "$T/err" "(sweep run); wait for it or \`sweep cancel long\`"
grep -qE "since [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \(" "$T/err" ||
    fail "no start time in: $(cat "$T/err")"
[ "$(count_lines "$T/err")" -eq 1 ] || fail "the refusal is not one line"
ok "a second sweep run of a running study exits 4 and names the pid holding it"
expect_code 4 sweep rm long --yes
expect_in "$T/err" "being run by pid $pid"
key=$(sweep results long --format json | jq -r '.[0].key')
expect_code 4 sweep retry "$key"
expect_in "$T/err" "being run by pid $pid"
ok "rm and retry of a running study exit 4"
expect_code 0 sweep cancel long
wait "$pid"
expect_code 0 sweep status long --json
jq_eq "$T/out" '.status' CANCELLED

# ---- --skip-failed ----
flaky skip "1, 2, 3" >skip.yaml
touch ok_1 ok_3
expect_code 1 sweep run skip.yaml -q
touch ok_2 ok_4
# A new point (never tried) and a cancelled one run; the failure is left as it is.
flaky skip "1, 2, 3, 4, 5" >skip.yaml
expect_code 0 sweep run skip.yaml --prepare
expect_code 0 sweep cancel "$(task_field skip 5 key)"
touch ok_5
expect_code 1 sweep run skip.yaml -q --skip-failed --json
jq_eq "$T/out" '.status' PARTIALLY_FAILED
jq_eq "$T/out" '.left_failed' 1
jq_eq "$T/out" '.skipped' 2
jq_eq "$T/out" '.attempts' 2
jq_eq "$T/out" '.by_priority.MEDIUM.failed' 1
jq_eq "$T/out" '.by_priority.MEDIUM.succeeded' 4
[ "$(task_field skip 2 state)" = failed ] || fail "x=2 was rerun"
[ "$(task_field skip 2 attempts)" = 1 ] || fail "x=2 has a second attempt"
[ "$(task_field skip 4 state)" = succeeded ] || fail "x=4 (new) did not run"
[ "$(task_field skip 5 state)" = succeeded ] || fail "x=5 (cancelled) did not run"
expect_code 1 sweep run skip.yaml --skip-failed
expect_in "$T/out" "1 failed before, not rerun"
ok "--skip-failed runs new and cancelled tasks, leaves the failed one, exits 1"
expect_code 0 sweep run skip.yaml -q
[ "$(task_field skip 2 attempts)" = 2 ] || fail "a plain run did not rerun x=2"
ok "a run without --skip-failed reruns the failure"
expect_code 2 sweep run skip.yaml --skip-failed --force
ok "--skip-failed with --force is a usage error"

# A pipeline: the chain after a failure stays skipped, the run ends.
cat >pipe.yaml <<EOF
study: pipe
parameters:
  x: [1, 2]
steps:
  - name: a
    command: ["sh", "-c", "[ {x} -ne 2 ] || [ -e '$T/pipe_ok' ]"]
  - name: b
    command: ["true"]
reduce:
  command: ["true"]
EOF
expect_code 1 sweep run pipe.yaml -q
touch pipe_ok
expect_code 1 timeout 60 "$SWEEP_BIN" run pipe.yaml -q --skip-failed --json
jq_eq "$T/out" '.steps[0].failed' 1
jq_eq "$T/out" '.steps[1].skipped' 1
jq_eq "$T/out" '.steps[2].skipped' 1
ok "--skip-failed in a pipeline: the steps after a failure stay skipped"

# ---- retry ----
# (Points of their own: a key is shared by studies with the same command and point.)
flaky retry "8, 6, 7" >retry.yaml
touch ok_8
expect_code 1 sweep run retry.yaml -q
k6=$(task_field retry 6 key)
expect_code 1 sweep retry "$k6" -q
expect_in "$T/out" "task $k6: failed (attempt 2)"
touch ok_6
expect_code 0 sweep retry "$(echo "$k6" | cut -c1-8)" -q
expect_in "$T/out" "task $k6: succeeded (attempt 3)"
[ "$(task_field retry 7 state)" = failed ] || fail "retry touched x=7"
[ "$(task_field retry 7 attempts)" = 1 ] || fail "retry ran x=7"
[ "$(task_field retry 8 attempts)" = 1 ] || fail "retry ran x=8"
expect_code 0 sweep logs "$k6" --attempt 2
ok "retry runs one task again; the other tasks stay as they are"
expect_code 0 sweep retry "$(task_field retry 8 key)" -q
[ "$(task_field retry 8 attempts)" = 2 ] || fail "retry of a succeeded task"
ok "retry of a succeeded task runs it again"
expect_code 2 sweep retry 0123456789abcdef
expect_code 2 sweep retry
ok "retry of an unknown task, or of none, exits 2"

# ---- rm ----
flaky ab "1" >ab.yaml
flaky abc "1" >abc.yaml
expect_code 0 sweep run ab.yaml -q
expect_code 0 sweep run abc.yaml -q
expect_code 2 sweep rm ab </dev/null
expect_in "$T/err" "pass --yes"
expect_code 0 sweep status ab
[ -d "$SWEEP_HOME/studies/ab" ] || fail "rm without --yes removed files"
ok "rm off a terminal without --yes refuses and says to pass --yes"
expect_code 0 sweep rm ab --yes
expect_in "$T/out" "study ab removed (1 tasks"
expect_code 2 sweep status ab
[ ! -e "$SWEEP_HOME/studies/ab" ] || fail "studies/ab is still there"
expect_code 0 sweep status abc --json
jq_eq "$T/out" '.counts.succeeded' 1
[ -s "$SWEEP_HOME/studies/abc/study.log" ] || fail "rm ab touched abc's files"
expect_code 0 sweep results abc --format json
jq_eq "$T/out" '.[0].metrics.v' 1
ok "rm deletes the study and its files; a study whose name it starts stays"
expect_code 2 sweep rm ab --yes
expect_code 0 sweep run ab.yaml -q
ok "rm of an unknown study exits 2; the name can be run again afresh"
if command -v script >/dev/null 2>&1; then
    echo n | script -qec "$SWEEP_BIN rm abc" /dev/null >"$T/out" 2>&1
    expect_in "$T/out" "[y/N]"
    expect_code 0 sweep status abc
    echo y | script -qec "$SWEEP_BIN rm abc" /dev/null >"$T/out" 2>&1
    expect_in "$T/out" "study abc removed"
    expect_code 2 sweep status abc
    ok "rm asks on a terminal: no keeps the study, yes deletes it"
fi
