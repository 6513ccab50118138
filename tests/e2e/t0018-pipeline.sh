# Study pipelines: a chain of three steps over 10 points with one analysis failing (its
# export skipped, the rest go on), the reduce seeing every point, `when: always` against
# the default, `after:` (waiting, ordering, failure), kill -9 between the last chain's
# end and the reduce (the reduce runs exactly once), a reduce whose input is unchanged
# not run again (and run when it changed), resume by key through the chain,
# per-step status, results and aggregate, and the spec errors with file:line.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >analyze.sh <<'EOF'
#!/bin/sh
# analyze.sh SIM_RESULT X: doubles the simulation's value; x = 7 fails.
[ "$2" = 7 ] && { echo "analysis of x=7 fails on purpose" >&2; exit 5; }
jq '{double: (.value * 2), x: .x, step: env.SWEEP_STEP}' "$1" >"$SWEEP_RESULT"
EOF
cat >reduce.sh <<'EOF'
#!/bin/sh
# reduce.sh INPUT COPY COUNTER: keeps the input and counts its runs.
cp "$1" "$2"
echo run >>"$3"
jq '{points: (.points | length)}' "$1" >"$SWEEP_RESULT"
EOF
chmod +x analyze.sh reduce.sh

pipeline() { # pipeline NAME [WHEN]
    cat <<EOF
study: $1
parameters: {x: {range: [1, 10]}}
base: {sigma: 0}
steps:
  - name: simulate
    model: chaos
  - name: analyze
    command: ["./analyze.sh", "{steps.simulate.result}", "{x}"]
  - name: export
    command: ["sh", "-c", "cp \"\$0\" \"\$1\"/exported.json", "{steps.analyze.result}", "{task_dir}"]
reduce:
  command: ["./reduce.sh", "{reduce.input}", "$T/$1-input.json", "$T/$1-count"]
${2:+  when: $2}
EOF
}

pipeline chains always >chains.yaml
expect_code 1 sweep run chains.yaml -q
expect_code 0 sweep status chains --json
jq_eq "$T/out" '.status' PARTIALLY_FAILED
jq_eq "$T/out" '[.steps[] | .name] | join(",")' simulate,analyze,export,reduce
jq_eq "$T/out" '.steps[0].succeeded' 10
jq_eq "$T/out" '.steps[1].succeeded' 9
jq_eq "$T/out" '.steps[1].failed' 1
jq_eq "$T/out" '.steps[2].succeeded' 9
jq_eq "$T/out" '.steps[2].skipped' 1
jq_eq "$T/out" '.steps[3].succeeded' 1
expect_code 0 sweep results chains --step export --state skipped --format json
jq_eq "$T/out" 'length' 1
jq_eq "$T/out" '.[0].params.x' 7
jq_eq "$T/out" '.[0].error' "skipped: step analyze failed"
jq_eq "$T/out" '.[0].attempts' 0
expect_code 0 sweep status chains
expect_in "$T/out" "analyze"
expect_in "$T/out" "skipped"
fits_80 "$T/out" "sweep status of a pipeline"
expect_code 0 sweep list
fits_80 "$T/out" "sweep list"
expect_code 0 sweep monitor chains --once
grep -qE '│ export +10 +0 +0 +9 +0 +1 +│' "$T/out" || fail "no export row in the monitor: $(cat "$T/out")"
ok "3 steps x 10 points: analysis of x=7 fails, its export is skipped, the rest ran"

# The analysis read the simulation of its own point; the export copied its analysis.
expect_code 0 sweep results chains --format json
cp "$T/out" all.json
jq -ne 'input | [.[] | select(.step == "simulate")] as $s | [.[] | select(.step == "analyze"
        and .state == "succeeded")] | length == 9 and all(.[]; . as $a |
        ($s[] | select(.params.x == $a.params.x) | .metrics.value * 2) == $a.metrics.double)' \
    all.json >/dev/null || fail "an analysis did not read its own simulation"
for d in $(jq -r '.[] | select(.step == "export" and .state == "succeeded") | .key' all.json); do
    f=$(find .sweep/studies/chains/tasks -path "*/$d/exported.json")
    [ -n "$f" ] || fail "export $d wrote nothing"
done
jq_eq all.json '[.[] | select(.step == "analyze" and .state == "succeeded") | .metrics.step] | unique | join(",")' analyze
ok "{steps.simulate.result} and {steps.analyze.result} are the same point's files; SWEEP_STEP"

# The reduce ran once, after every chain, and saw every point with each step's state.
[ "$(count_lines chains-count)" -eq 1 ] || fail "reduce ran $(count_lines chains-count) times"
f=chains-input.json
jq_eq "$f" '.steps | join(",")' simulate,analyze,export
jq_eq "$f" '.points | length' 10
jq_eq "$f" '[.points[].params.x] | sort | join(",")' 1,2,3,4,5,6,7,8,9,10
jq_eq "$f" '[.points[] | select(.params.x == 7) | .steps.analyze.state, .steps.export.state] | join(",")' \
    failed,skipped
jq_eq "$f" '[.points[] | .steps.simulate.state] | unique | join(",")' succeeded
jq_eq "$f" '[.points[] | select(.steps.analyze.state == "succeeded") |
        .steps.analyze.metrics.double == .steps.simulate.metrics.value * 2] | all' true
reduce_started=$(jq -r '.[] | select(.step == "reduce") | .started_at' all.json)
last_end=$(jq -r '[.[] | select(.step != "reduce") | .finished_at] | max' all.json)
[ "$reduce_started" \< "$last_end" ] && fail "reduce started $reduce_started before $last_end"
ok "when: always: the reduce ran once after every chain and saw all 10 points"

pipeline strict >strict.yaml
expect_code 1 sweep run strict.yaml -q
expect_code 0 sweep results strict --step reduce --format json
jq_eq "$T/out" '.[0].state' skipped
expect_in "$T/out" "1 chain did not succeed"
[ ! -e strict-count ] || fail "the reduce ran although a chain failed"
expect_code 0 sweep status strict --json
jq_eq "$T/out" '.status' PARTIALLY_FAILED
ok "default when (all_succeeded): a failed chain skips the reduce"

# Aggregate and CSV per step.
expect_code 0 sweep aggregate chains --step analyze --by x --metrics double --format json
jq_eq "$T/out" '."3".mean_double' "$(jq -r '.[] | select(.step == "simulate" and .params.x == 3) | .metrics.value * 2' all.json)"
jq_eq "$T/out" '."7".n_failed' 1
expect_code 0 sweep plot chains --step analyze --x x --y double -o analyze.svg
expect_in analyze.svg "<svg"
expect_code 2 sweep aggregate chains --step nope
expect_in "$T/err" 'no step "nope"'
expect_code 0 sweep results chains --format csv
head -1 "$T/out" | grep -q '^key,step,id,state,' || fail "no step column: $(head -1 "$T/out")"
head -1 "$T/out" | grep -q 'analyze.double' || fail "no analyze.double column"
head -1 "$T/out" | grep -q 'simulate.value' || fail "no simulate.value column"
# A parameter named "step" keeps its column; the pipeline's becomes pipeline_step.
cat >stepparam.yaml <<'EOF'
study: stepparam
parameters: {step: [1, 2]}
steps:
  - {name: a, command: ["true"]}
  - {name: b, command: ["true"]}
EOF
expect_code 0 sweep run stepparam.yaml -q
expect_code 0 sweep results stepparam --format csv
head -1 "$T/out" | grep -q '^key,pipeline_step,id,state,.*,step,' ||
    fail "step column clash: $(head -1 "$T/out")"
ok "aggregate --step, plot --step, and CSV columns prefixed by the step"

# Resume: nothing reruns but the failed analysis; a changed first step reruns the step
# after it (its key includes the first step's), an unchanged one does not.
expect_code 1 sweep run chains.yaml -q --json
# The failing analysis tries again and fails the same way: the reduce (when: always)
# sees the same input, byte for byte, and does not run again.
jq_eq "$T/out" '.attempts' 1
jq_eq "$T/out" '[.steps[] | "\(.name)=\(.succeeded)"] | join(",")' \
    simulate=10,analyze=9,export=9,reduce=1
[ "$(count_lines chains-count)" -eq 1 ] || fail "the reduce ran again on the same input"
expect_in .sweep/studies/chains/study.log " reduce_unchanged task="
cp chains-input.json chains-input.1.json
expect_code 1 sweep run chains.yaml -q --json
jq_eq "$T/out" '.attempts' 1
[ "$(count_lines chains-count)" -eq 1 ] || fail "the reduce ran again on the same input"
# The analysis of x=7 now succeeds: its chain ends otherwise, the reduce's input
# changes and it runs again on the new state of its chains.
sed -i 's/^\[ "\$2" = 7 \].*$/true/' analyze.sh
expect_code 0 sweep run chains.yaml -q --json
jq_eq "$T/out" '.attempts' 3
jq_eq "$T/out" '[.steps[] | "\(.name)=\(.succeeded)"] | join(",")' \
    simulate=10,analyze=10,export=10,reduce=1
[ "$(count_lines chains-count)" -eq 2 ] || fail "the reduce did not run again"
cmp -s chains-input.json chains-input.1.json && fail "the reduce's input did not change"
cat >two.yaml <<'EOF'
study: two
parameters: {i: [1, 2]}
steps:
  - name: a
    command: ["echo", "v1", "{i}"]
  - name: b
    command: ["cat", "{steps.a.dir}/stdout.log"]
EOF
expect_code 0 sweep run two.yaml -q
expect_code 0 sweep results two --step b --format json
b_before=$(jq -r '[.[].key] | sort | join(",")' "$T/out")
expect_code 0 sweep run two.yaml -q --json
jq_eq "$T/out" '.attempts' 0
sed 's/"v1"/"v2"/' two.yaml >two2.yaml
expect_code 0 sweep run two2.yaml -q --json
jq_eq "$T/out" '.attempts' 4
expect_code 0 sweep results two --step b --format json
[ "$(jq -r '[.[].key] | sort | join(",")' "$T/out")" != "$b_before" ] ||
    fail "step b kept its keys although step a changed"
k=$(jq -r '.[0].key' "$T/out")
expect_code 0 sweep logs "$k" --stdout
expect_in "$T/out" "v2"
ok "resume by key: unchanged steps skipped; a changed step reruns the steps after it"

# ---- after ----
cat >first.yaml <<'EOF'
study: first
command: ["sleep", "0.3"]
parameters: {i: [1, 2]}
EOF
cat >second.yaml <<'EOF'
study: second
command: ["true"]
after: [first]
EOF
expect_code 0 sweep run first.yaml --prepare
"$SWEEP_BIN" run second.yaml -q >second.out 2>second.err &
pid=$!
waiting() {
    sweep status second --json >"$T/w" 2>/dev/null && jq -ne 'input | .status == "WAITING"' "$T/w"
}
wait_for 30 waiting
jq_eq "$T/w" '.reason' "waiting for first"
expect_code 0 sweep status second
expect_in "$T/out" "waiting for first"
expect_code 0 sweep run first.yaml -q
wait "$pid" || fail "second exited $?"
expect_code 0 sweep results first --format json
first_end=$(jq -r '[.[].finished_at] | max' "$T/out")
expect_code 0 sweep results second --format json
second_start=$(jq -r '.[0].started_at' "$T/out")
[ "$second_start" \< "$first_end" ] && fail "second started $second_start before $first_end"
expect_code 0 sweep status second --json
jq_eq "$T/out" '.status' COMPLETED
jq_eq "$T/out" '.reason' null
ok "after: waits visibly (WAITING, waiting for first), starts once first completed"

sed 's/after: \[first\]/after: [strict]/; s/study: second/study: third/' second.yaml >third.yaml
expect_code 1 sweep run third.yaml
expect_in "$T/out" "after: study strict ended PARTIALLY_FAILED"
expect_code 0 sweep status third --json
jq_eq "$T/out" '.status' FAILED
jq_eq "$T/out" '.reason' "after: study strict ended PARTIALLY_FAILED"
sed 's/after: \[first\]/after: nowhere/; s/study: second/study: fourth/' second.yaml >fourth.yaml
expect_code 1 sweep run fourth.yaml
expect_in "$T/out" "after: there is no study named nowhere"
ok "after: a failed or missing study fails the waiting one with the reason"

# ---- kill -9 between the last chain's end and the reduce ----
cat >crash.yaml <<EOF
study: crash
command: ["true"]
parameters: {i: [1, 2]}
rate_limit: 30/m # starts 2 s apart: the window between the end and the reduce
reduce:
  command: ["./reduce.sh", "{reduce.input}", "$T/crash-input.json", "$T/crash-count"]
EOF
"$SWEEP_BIN" run crash.yaml -q >/dev/null 2>&1 &
pid=$!
wait_for 30 grep -q reduce_ready .sweep/studies/crash/study.log
kill -9 "$pid"
wait "$pid" 2>/dev/null
expect_code 0 sweep results crash --step reduce --format json
jq_eq "$T/out" '.[0].state' pending
[ ! -e crash-count ] || fail "the reduce ran before the kill"
expect_code 0 sweep run crash.yaml -q --json
jq_eq "$T/out" '.status' COMPLETED
jq_eq "$T/out" '.attempts' 1
[ "$(count_lines crash-count)" -eq 1 ] || fail "reduce ran $(count_lines crash-count) times"
jq_eq crash-input.json '.points | length' 2
expect_code 0 sweep run crash.yaml -q --json
jq_eq "$T/out" '.attempts' 0
[ "$(count_lines crash-count)" -eq 1 ] || fail "the reduce ran again on a re-run"
ok "kill -9 after the last chain's end: the pending reduce runs once on resume"

# ---- sweep cancel of a step that has not started ----
cat >cancel.yaml <<EOF
study: cancelme
parameters: {i: [1, 2, 3]}
max_parallel: 1
steps:
  - {name: a, command: ["sleep", "0.4"]}
  - {name: b, command: ["true"]}
reduce:
  when: always
  command: ["./reduce.sh", "{reduce.input}", "$T/cancel-input.json", "$T/cancel-count"]
EOF
"$SWEEP_BIN" run cancel.yaml -q >/dev/null 2>&1 &
pid=$!
running() {
    sweep status cancelme --json >"$T/c" 2>/dev/null && jq -ne 'input | .counts.running == 1' "$T/c"
}
wait_for 30 running
expect_code 0 sweep results cancelme --step a --format json
k=$(jq -r '.[] | select(.params.i == 3) | .key' "$T/out")
expect_code 0 sweep cancel "$k"
wait "$pid"
expect_code 0 sweep results cancelme --format json
jq_eq "$T/out" '[.[] | select(.params.i == 3) | .state] | join(",")' cancelled,skipped
# Cancelled while pending, or while claimed ahead of its start (runner.h): the
# store's words or the runner's.
jq_eq "$T/out" '.[] | select(.step == "b" and .params.i == 3) | .error |
    test("^skipped: (a step before it|step a) was cancelled$")' true
jq_eq "$T/out" '.[] | select(.step == "reduce") | .state' succeeded
[ "$(count_lines cancel-count)" -eq 1 ] || fail "the reduce ran $(count_lines cancel-count) times"
jq_eq cancel-input.json '[.points[].steps.a.state] | join(",")' succeeded,succeeded,cancelled
ok "sweep cancel of a step not yet started: its chain is skipped, the reduce still runs"

# ---- spec errors ----
cat >cycle.yaml <<'EOF'
study: cycle
steps:
  - name: a
    command: ["echo", "{steps.b.dir}"]
  - name: b
    command: ["true"]
EOF
expect_code 2 sweep run cycle.yaml
grep -qE 'cycle.yaml:[0-9]+:[0-9]+: .*steps.b' "$T/err" || fail "no file:line for the cycle: $(cat "$T/err")"
cat >unknown.yaml <<'EOF'
study: unknown
steps:
  - name: a
    command: ["true"]
  - name: b
    command: ["echo", "{steps.nope.result}"]
EOF
expect_code 2 sweep run unknown.yaml
grep -qE 'unknown.yaml:[0-9]+:[0-9]+: .*nope' "$T/err" || fail "no file:line for the unknown step: $(cat "$T/err")"
[ ! -e .sweep/studies/cycle ] && [ ! -e .sweep/studies/unknown ] || fail "a refused spec was stored"
ok "a cycle and an unknown step name: exit 2 with file:line, nothing stored"

# ---- the example of the README: examples/dla-pipeline.yaml ----
mkdir ex && cp "$SWEEP_SRC/examples/dla-pipeline.yaml" "$SWEEP_SRC/examples/dla-summary.sh" ex/
expect_code 0 sweep run ex/dla-pipeline.yaml -q
expect_code 0 sweep results dla-pipeline --format json
cp "$T/out" ex.json
jq_eq ex.json '[.[] | select(.step == "check") | .state] | unique | join(",")' succeeded
jq_eq ex.json '.[] | select(.step == "reduce") | .metrics.runs' 9
jq_eq ex.json '.[] | select(.step == "reduce") | .metrics.sizes' 3
# The summary's mean df, computed again here from the simulations' own metrics.
jq -ne 'input | ([.[] | select(.step == "simulate")] | group_by(.params.n_particles)
        | map(map(.metrics.df) | add / length) | add / length) as $want
       | (.[] | select(.step == "reduce") | .metrics.mean_df) - $want | fabs < 1e-12' \
    ex.json >/dev/null || fail "the reduce's mean_df does not match the simulations"
ok "examples/dla-pipeline.yaml: 9 clusters checked, the reduce's summary matches"
