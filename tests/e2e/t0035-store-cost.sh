# What the store costs a run (SWEEP_DEBUG_STATS=1): the figures are printed at the end
# of `sweep run`, a run's changes of state are counted by the store and not by the
# task_counts trigger, and the kept counts stay those of the tasks through failures,
# retries and a forced rerun.
. "$SWEEP_SRC/tests/e2e/lib.sh"

N=200
cat >cost.yaml <<EOF
study: cost
command: [/bin/sh, -c, "test {i} -ne 7"]
parameters:
  i: {range: [1, $N, 1]}
retries: {max: 1, backoff: 10ms}
EOF

# stat NAME: the figure NAME of the "store:" line in $T/err.
stat() {
    sed -n "s/^store: .* $1=\([0-9]*\).*/\1/p" "$T/err"
}

expect_code 1 env SWEEP_DEBUG_STATS=1 "$SWEEP_BIN" run cost.yaml -j 2 --quiet
expect_in "$T/err" "store: statements="
s=$(sed -n 's/^store: statements=\([0-9]*\).*/\1/p' "$T/err")
tr=$(stat trigger_statements)
c=$(stat commits)
[ -n "$s" ] && [ -n "$tr" ] && [ -n "$c" ] || fail "no figures in: $(cat "$T/err")"
# Preparation included: about 13 statements per task at 2 in flight.
[ "$s" -le $((16 * N)) ] || fail "$s statements for $N tasks"
# The trigger is entered for each of a task's changes of state (2 per attempt), and
# leaves them to the store: it ran 6 statements per change when it counted them.
[ "$tr" -le $((2 * N + 20)) ] || fail "$tr trigger statements for $N tasks"
[ "$c" -le $((2 * N)) ] || fail "$c commits for $N tasks"
ok "SWEEP_DEBUG_STATS=1 prints what the store cost; the trigger leaves a run's changes"

expect_code 0 env SWEEP_DEBUG_STATS=0 "$SWEEP_BIN" status cost --json
expect_not_in "$T/err" "store:"
jq_eq "$T/out" '.counts.succeeded' $((N - 1))
jq_eq "$T/out" '.counts.failed' 1
jq_eq "$T/out" '.counts.total' $N
expect_code 0 sweep results cost --format json
jq_eq "$T/out" '[.[] | .attempts] | add' $((N + 1))
jq_eq "$T/out" '[.[] | select(.state == "failed")] | length' 1
ok "every attempt is recorded and the kept counts are the tasks' (a failure retried)"

expect_code 1 sweep run cost.yaml -j 8 --force --quiet
expect_code 0 sweep status cost --json
jq_eq "$T/out" '.counts.succeeded' $((N - 1))
jq_eq "$T/out" '.counts.failed' 1
jq_eq "$T/out" '.counts.pending' 0
jq_eq "$T/out" '.counts.running' 0
ok "a forced rerun at 8 in flight keeps the counts exact"
