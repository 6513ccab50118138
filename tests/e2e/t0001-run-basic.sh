# A command study end to end: expansion, results, status, logs, resume, --force.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >task.sh <<'EOF'
#!/bin/sh
x=$1
printf '{"sq": %s, "nested": {"x": %s}}\n' "$((x * x))" "$x" >"$SWEEP_RESULT"
echo "stdout x=$x rep=$SWEEP_REPETITION dir=$PWD"
echo "stderr x=$x" >&2
EOF
chmod +x task.sh
cat >study.yaml <<'EOF'
study: basic
description: squares
command: [./task.sh, "{x}"]
parameters:
  x: {range: [1, 5, 1]}
repetitions: 2
EOF

expect_code 0 sweep run study.yaml --max-parallel 3
expect_in "$T/out" "study basic: COMPLETED"
ok "run exits 0 when every task succeeds"

expect_code 0 sweep status basic --json
jq_eq "$T/out" '.counts.succeeded' 10
jq_eq "$T/out" '.counts.total' 10
jq_eq "$T/out" '.status' COMPLETED
ok "status --json counts 10 succeeded"

expect_code 0 sweep results basic --format csv
[ "$(count_lines "$T/out")" -eq 11 ] || fail "expected a header and 10 rows"
head -1 "$T/out" | grep -q '^key,id,state,attempts,repetition,seed,priority,x,nested.x,sq,' ||
    fail "unexpected CSV header: $(head -1 "$T/out")"
# sq = x*x for every row (x is column 8, sq column 10; metrics in name order).
awk -F, 'NR > 1 && $10 != $8 * $8 { exit 1 }' "$T/out" || fail "sq != x*x in CSV"
ok "results CSV: key first, parameters and flattened metrics as columns"

expect_code 0 sweep results basic --format json
jq_eq "$T/out" 'length' 10
jq_eq "$T/out" '[.[] | select(.metrics.sq == .params.x * .params.x)] | length' 10
# Repetitions get different seeds.
jq_eq "$T/out" '[.[] | select(.params.x == 3) | .seed] | unique | length' 2
ok "results JSON: metrics and distinct seeds per repetition"

key=$(jq -r '.[0].key' "$T/out")
expect_code 0 sweep logs "$key"
expect_in "$T/out" "stdout x="
expect_in "$T/out" "stderr x=" # both streams on stdout, each under a header
expect_in "$T/out" "==> stderr: task "
expect_in "$T/out" "/tasks/"
expect_code 0 sweep logs "$(echo "$key" | cut -c1-6)" --stdout
expect_in "$T/out" "stdout x="
expect_code 0 sweep logs basic
expect_in "$T/out" "task_start"
expect_in "$T/out" "run_end"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ' "$T/out" || fail "no ISO-8601 timestamps"
ok "logs by key, by prefix, and the study log with ISO-8601 timestamps"

expect_code 0 sweep run study.yaml --json
jq_eq "$T/out" '.skipped' 10
jq_eq "$T/out" '.attempts' 0
ok "re-run skips succeeded tasks"

# Extending the spec runs only the new points.
sed -i 's/range: \[1, 5, 1\]/range: [1, 6, 1]/' study.yaml
expect_code 0 sweep run study.yaml --json
jq_eq "$T/out" '.skipped' 10
jq_eq "$T/out" '.attempts' 2
ok "an extended spec runs only its new tasks"

expect_code 0 sweep run study.yaml --force --json
jq_eq "$T/out" '.attempts' 12
expect_code 0 sweep results basic --format json
jq_eq "$T/out" '[.[] | select(.attempts == 2)] | length' 12
ok "--force reruns everything and counts attempts"

expect_code 0 sweep list
expect_in "$T/out" "basic"
expect_code 0 sweep list --json
jq_eq "$T/out" '.[0].study' basic
ok "list"

# The default home is ./.sweep, relative to where sweep runs; tasks still find their
# result paths (they run in their own directories).
unset SWEEP_HOME
mkdir "$T/cwd" && cp task.sh study.yaml "$T/cwd/" && cd "$T/cwd" || fail "cd"
expect_code 0 sweep run study.yaml
[ -f .sweep/sweep.db ] || fail "no ./.sweep/sweep.db"
expect_code 0 sweep status basic --json
jq_eq "$T/out" '.counts.succeeded' 12
expect_code 0 sweep results basic --format json
jq_eq "$T/out" '[.[] | select(.metrics.sq == .params.x * .params.x)] | length' 12
ok "default home ./.sweep works from any directory"
