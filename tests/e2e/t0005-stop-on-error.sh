# --stop-on-error starts nothing after the first final failure; --halt now kills the rest.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >study.yaml <<'EOF'
study: soe
model: chaos
tasks:
  - {fail_attempts: 1, priority: HIGH}
  - {x: 1}
  - {x: 2}
  - {x: 3}
  - {x: 4}
EOF
expect_code 1 sweep run study.yaml --mode sequential --stop-on-error
expect_in "$T/out" "stopped after task"
expect_code 0 sweep status soe --json
jq_eq "$T/out" '.counts.failed' 1
jq_eq "$T/out" '.counts.pending' 4
jq_eq "$T/out" '.counts.succeeded' 0
ok "stop-on-error: the failure stops the study, the rest stays pending"

# The rerun retries the failed task (its second attempt succeeds) and runs the rest.
expect_code 0 sweep run study.yaml --mode sequential
expect_code 0 sweep status soe --json
jq_eq "$T/out" '.counts.succeeded' 5
ok "a rerun runs the failed task again and the rest"

cat >halt.yaml <<'EOF'
study: halt
model: chaos
tasks:
  - {duration: 0.3, fail_attempts: 1}
  - {duration: 60, x: 1}
  - {duration: 60, x: 2}
EOF
expect_code 1 sweep run halt.yaml --max-parallel 3 --halt now
expect_code 0 sweep status halt --json
jq_eq "$T/out" '.counts.failed' 1
jq_eq "$T/out" '.counts.cancelled' 2
ok "--halt now kills the running tasks"
