# sweep aggregate on a real chaos study: value = x*x exactly (sigma 0), three
# repetitions per point, failed tasks left out and counted; JSON, CSV, table and errors.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >study.yaml <<'EOF'
study: agg
model: chaos
parameters:
  x: [2, 1]
  sigma: [0]
repetitions: 3
tasks:
  - {x: 1, sigma: 0, fail_attempts: 1}
EOF
expect_code 1 sweep run study.yaml
expect_code 0 sweep status agg --json
jq_eq "$T/out" '.counts.succeeded' 6
jq_eq "$T/out" '.counts.failed' 3
ok "a chaos study with 6 successes and 3 failures (the explicit task, repeated)"

expect_code 0 sweep aggregate agg --by x --format json
jq_eq "$T/out" 'keys_unsorted | join(" ")' "1 2"
jq_eq "$T/out" '.["1"].mean_value' 1
jq_eq "$T/out" '.["2"].mean_value' 4
jq_eq "$T/out" '[.[] | .n_samples] | join(" ")' "3 3"
jq_eq "$T/out" '[.[] | .std_value, .stderr_value] | join(" ")' "0 0 0 0"
jq_eq "$T/out" '[.[] | .min_value == .max_value and .max_value == .mean_value] | all' true
jq_eq "$T/out" '.["1"].n_failed' 3
jq_eq "$T/out" '.["2"].n_failed' 0
jq_eq "$T/out" '.["2"] | has("mean_attempt") and has("mean_noise")' true
ok "json --by x: mean_value = x*x, n_samples 3, std 0, failures counted per value"

expect_code 0 sweep aggregate agg --by x,sigma --metrics value --format json
jq_eq "$T/out" 'length' 2
jq_eq "$T/out" '.[1].params | tojson' '{"x":2,"sigma":0}'
jq_eq "$T/out" '.[1].mean_value' 4
jq_eq "$T/out" '.[1] | has("mean_attempt")' false
ok "json with two --by parameters: an array of {params, n_samples, mean_<m>}"

# Default: every parameter but seed, so the failing task is its own point.
expect_code 0 sweep aggregate agg --format json
jq_eq "$T/out" 'length' 3
jq_eq "$T/out" '[.[] | select(.params.fail_attempts == 1)] | .[0].n_failed' 3
jq_eq "$T/out" '[.[] | select(.params.fail_attempts == 1)] | .[0].mean_value' null
ok "default grouping by the parameter point; a point with no success has null stats"

expect_code 0 sweep aggregate agg --by x --metrics value --format csv
head -1 "$T/out" | grep -qx 'x,value_n,value_mean,value_std,value_stderr,value_min,value_max,n_samples,n_failed' ||
    fail "unexpected CSV header: $(head -1 "$T/out")"
[ "$(count_lines "$T/out")" -eq 3 ] || fail "expected a header and 2 rows"
python3 - "$T/out" <<'EOF' || fail "CSV did not parse as expected"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["x"] for r in rows] == ["1", "2"], rows
for r in rows:
    x = float(r["x"])
    assert float(r["value_mean"]) == x * x, r
    assert int(r["value_n"]) == 3 and float(r["value_std"]) == 0.0, r
assert [r["n_failed"] for r in rows] == ["3", "0"], rows
EOF
ok "csv: one row per group, <metric>_n/_mean/_std/_stderr/_min/_max, n_failed"

expect_code 0 sweep aggregate agg --by x
cat "$T/out"
head -1 "$T/out" | grep -q '^x  *metric  *n  *mean  *std  *stderr  *min  *max  *failed$' ||
    fail "unexpected table header"
grep -qE '^2 +value +3 +4 +0 +0 +4 +4 +0$' "$T/out" || fail "no row for x=2 value"
grep -qE '^1 +value +3 +1 +0 +0 +1 +1 +3$' "$T/out" || fail "no row for x=1 value"
ok "table: aligned, one row per group and metric"

expect_code 2 sweep aggregate agg --by z
expect_in "$T/err" 'unknown parameter "z"'
expect_in "$T/err" "fail_attempts, sigma, x"
expect_code 2 sweep aggregate agg --metrics value,df
expect_in "$T/err" 'unknown metric "df"'
expect_in "$T/err" "attempt, noise, value"
expect_code 2 sweep aggregate agg --format xml
expect_in "$T/err" "table, csv or json"
expect_code 2 sweep aggregate agg --by x,,sigma
expect_code 2 sweep aggregate nosuch
expect_in "$T/err" "nosuch"
expect_code 2 sweep aggregate
ok "unknown parameter, metric, format or study: exit 2 with the known names"

expect_code 0 sweep aggregate --help
expect_in "$T/out" "Example:"
expect_in "$T/out" "--by"
ok "--help shows the options and an example"
