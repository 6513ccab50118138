# Priority order, the task contract (environment, working directory), and seeds.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >task.sh <<'EOF'
#!/bin/sh
echo "$SWEEP_P_NAME" >>"$ORDER"
cat >"$SWEEP_RESULT" <<JSON
{"study": "$SWEEP_STUDY", "task": "$SWEEP_TASK_ID", "dir": "$SWEEP_TASK_DIR",
 "pwd": "$PWD", "seed": "$SWEEP_SEED", "attempt": "$SWEEP_ATTEMPT",
 "p_name": "$SWEEP_P_NAME", "params": $SWEEP_PARAMS, "custom": "$CUSTOM",
 "arg": "$1"}
JSON
EOF
chmod +x task.sh
cat >study.yaml <<EOF
study: contract
command: [./task.sh, "{name}-{rank}"]
env: {CUSTOM: hello, ORDER: $T/order}
tasks:
  - {name: low, rank: 1, priority: LOW}
  - {name: high, rank: 2, priority: HIGH}
  - {name: mid, rank: 3}
  - {name: top, rank: 4, priority: 10}
EOF
expect_code 0 sweep run study.yaml --mode sequential
expect_code 0 sweep results contract --format json
[ "$(tr '\n' , <"$T/order")" = "top,high,mid,low," ] || fail "order: $(cat "$T/order")"
ok "higher priority runs first (10 > HIGH > MEDIUM > LOW)"

jq_eq "$T/out" '[.[] | select(.metrics.task == .key)] | length' 4
jq_eq "$T/out" '[.[] | select(.metrics.dir == .metrics.pwd)] | length' 4
jq_eq "$T/out" '[.[] | select(.metrics.seed == (.seed | tostring))] | length' 4
jq_eq "$T/out" '[.[] | select(.metrics.p_name == .params.name)] | length' 4
jq_eq "$T/out" '[.[] | select(.metrics.params.rank == .params.rank)] | length' 4
jq_eq "$T/out" '[.[] | select(.metrics.arg == "\(.params.name)-\(.params.rank)")] | length' 4
jq_eq "$T/out" '.[0].metrics.study' contract
jq_eq "$T/out" '.[0].metrics.custom' hello
jq_eq "$T/out" '.[0].metrics.attempt' 1
ok "task contract: SWEEP_* variables, task directory as cwd, spec env, argv"

expect_code 0 sweep run study.yaml --priority HIGH --force --json
jq_eq "$T/out" '.attempts' 2
ok "--priority HIGH runs only the HIGH band"

# A result file that is not a JSON object fails the task with file:line:col.
cat >bad.sh <<'EOF'
#!/bin/sh
printf '{"a": 1,\n "b": }' >"$SWEEP_RESULT"
EOF
chmod +x bad.sh
cat >bad.yaml <<'EOF'
study: badresult
command: [./bad.sh]
EOF
expect_code 1 sweep run bad.yaml
expect_code 0 sweep results badresult --format json
jq_eq "$T/out" '.[0].state' failed
expect_in "$T/out" "result.json:2:"
ok "a malformed result file fails the task with file:line:col"

# A program that does not exist fails its task with a clear reason.
cat >missing.yaml <<'EOF'
study: missing
command: [./no-such-program]
EOF
expect_code 1 sweep run missing.yaml
expect_code 0 sweep results missing --format json
expect_in "$T/out" "no-such-program"
ok "a missing program fails the task and names it"
