# Timeouts kill the whole process group (grandchildren too); retries follow the policy
# and every attempt is recorded; exit codes.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >hang.sh <<'EOF'
#!/bin/sh
# A task that leaves a grandchild and then hangs, ignoring SIGTERM.
sleep 1000 &
echo $! >"$SWEEP_TASK_DIR/grandchild.pid"
trap '' TERM
while :; do sleep 1; done
EOF
chmod +x hang.sh
cat >timeout.yaml <<'EOF'
study: timeouts
command: [./hang.sh]
timeout: 300ms
kill_after: 200ms
retries: {max: 1, backoff: 10ms, on: [timeout]}
EOF
expect_code 1 sweep run timeout.yaml
expect_in "$T/out" "1 failed or timed out; why:"
grep -Eq '^    timed out after 0.30s$' "$T/out" || fail "the summary does not say why"
expect_in "$T/out" "All of them: sweep results timeouts --state timed_out"
expect_code 0 sweep results timeouts --format json
jq_eq "$T/out" '.[0].state' timed_out
jq_eq "$T/out" '.[0].attempts' 2
gpid=$(cat "$SWEEP_HOME"/studies/timeouts/tasks/*/*/grandchild.pid)
wait_for 10 gone "$gpid"
ok "a timed-out task is killed with its grandchildren, retried once, then timed_out"

expect_code 0 sweep logs timeouts
expect_in "$T/out" "task_retry"
[ "$(grep -c ' task_start ' "$T/out")" -eq 2 ] || fail "expected 2 task_start lines"
ok "the study log records each attempt and the retry"

# Retries: fail_attempts=2 fails twice then succeeds with max 2; with max 1 it fails.
cat >retry.yaml <<'EOF'
study: retries
model: chaos
parameters:
  fail_attempts: [2]
  exit_code: [7]
retries: {max: 2, backoff: 10ms, backoff_max: 20ms}
EOF
expect_code 0 sweep run retry.yaml
expect_code 0 sweep results retries --format json
jq_eq "$T/out" '.[0].state' succeeded
jq_eq "$T/out" '.[0].attempts' 3
ok "retries until success; attempts counted"

sed -i 's/max: 2,/max: 1,/; s/study: retries/study: retries1/' retry.yaml
expect_code 1 sweep run retry.yaml
expect_code 0 sweep results retries1 --format json
jq_eq "$T/out" '.[0].state' failed
jq_eq "$T/out" '.[0].exit_code' 7
jq_eq "$T/out" '.[0].attempts' 2
ok "a task out of retries is failed with its exit code; sweep run exits 1"

# retries.on: exit:N only retries that code.
cat >on.yaml <<'EOF'
study: on-exit
model: chaos
parameters:
  fail_attempts: [1]
  exit_code: [3, 75]
retries: {max: 3, backoff: 10ms, on: ["exit:75"]}
EOF
expect_code 1 sweep run on.yaml
expect_code 0 sweep results on-exit --format json
jq_eq "$T/out" '[.[] | select(.params.exit_code == 75) | .state] | .[0]' succeeded
jq_eq "$T/out" '[.[] | select(.params.exit_code == 3) | .attempts] | .[0]' 1
ok "retries.on exit:75 retries only exit code 75"

# A crash (SIGSEGV) is a failure with its signal recorded.
cat >crash.yaml <<'EOF'
study: crash
model: chaos
parameters:
  crash: [true]
EOF
expect_code 1 sweep run crash.yaml
expect_code 0 sweep results crash --format json
jq_eq "$T/out" '.[0].signal' 11
expect_in "$T/out" "SIGSEGV"
ok "a crashing task records its signal"

# A failed run says why, without a second command: the first failed tasks, each with
# its error, or its exit code and the last line of its stderr.
cat >why.yaml <<'EOF2'
study: why
command: [sh, -c, 'echo "first line" >&2; echo "no input file: $0" >&2; exit 3', '{x}']
parameters:
  x: [1, 2, 3, 4]
EOF2
expect_code 1 sweep run why.yaml -q
expect_in "$T/out" "4 failed; the first:"
[ "$(grep -c '^    exit code 3; stderr: no input file: [1-4]$' "$T/out")" -eq 3 ] ||
    fail "the summary does not show 3 failed tasks with why: $(cat "$T/out")"
grep -Eq '^  [0-9a-f]{16} \{"x":1\}$' "$T/out" || fail "the first failed task is not x=1"
expect_code 0 sweep status why --json
jq_eq "$T/out" '.failures | length' 3
jq_eq "$T/out" '.failures[0].why' "exit code 3; stderr: no input file: 1"
jq_eq "$T/out" '[.failures[].params.x] | join(",")' "1,2,3"
expect_code 0 sweep status why
expect_in "$T/out" "  4 failed; the first:"
cat >nosuch.yaml <<'EOF2'
study: nosuch
command: [no-such-program-here, '{x}']
parameters:
  x: [1]
EOF2
expect_code 1 sweep run nosuch.yaml -q
expect_in "$T/out" "    cannot run 'no-such-program-here': No such file or directory"
ok "a failed run's summary shows the first failed tasks and why"
