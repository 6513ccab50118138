# The shapes every front end shows come from one place (core/view.c), so the commands
# that print them agree: `sweep list --json` is `sweep status --json`; each study of
# the list is its `sweep status STUDY --json` without what only one study's status has
# (steps, estimated_remaining, aggregate); the aggregate in the status is what `sweep
# aggregate --format json` prints; the JSON, CSV and table rows of `sweep results` are
# the same tasks; a pipeline's step counts add up to its counts; the progress a study
# shows in text is the one of its counts. On a plain study, a pipeline with a failed
# step, and a study stored but never run.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >emit.sh <<'EOF'
#!/bin/sh
# emit.sh NAME VALUE: writes the metric NAME = VALUE; fails (exit 4) for VALUE 0.
[ "$2" = 0 ] && exit 4
printf '{"%s": %s}\n' "$1" "$2" >"$SWEEP_RESULT"
EOF
chmod +x emit.sh
cat >plain.yaml <<'EOF'
study: plain
command: ["./emit.sh", "y", "{x}"]
parameters: {x: [1, 2, 3], seed: [7]}
repetitions: 2
EOF
cat >pipe.yaml <<'EOF'
study: pipe
parameters: {x: [1, 0, 3]}
steps:
  - name: make
    command: ["./emit.sh", "v", "{x}"]
  - name: check
    command: ["./emit.sh", "ok", "{x}"]
reduce:
  when: always
  command: ["true"]
EOF
cat >idle.yaml <<'EOF'
study: idle
command: ["true", "{a}"]
parameters: {a: [1, 2]}
EOF
expect_code 0 sweep run plain.yaml -q
expect_code 1 sweep run pipe.yaml -q
expect_code 0 sweep run idle.yaml --prepare

expect_code 0 sweep list --json
cp "$T/out" list.json
expect_code 0 sweep status --json
cmp -s list.json "$T/out" || fail "sweep list --json and sweep status --json differ"
jq_eq list.json '[.[].study] | join(",")' "idle,pipe,plain"
ok "sweep list --json is sweep status --json, newest first"

for s in plain pipe idle; do
    expect_code 0 sweep status "$s" --json
    cp "$T/out" "status-$s.json"
    a=$(jq -S --arg s "$s" '.[] | select(.study == $s)' list.json)
    b=$(jq -S 'del(.steps, .estimated_remaining, .failures, .aggregate, .aggregate_computed_at)' \
        "status-$s.json")
    [ "$a" = "$b" ] || fail "$s: the list's summary is not its status: $a / $b"
done
jq_eq status-idle.json '.estimated_remaining' null
jq_eq status-plain.json '.estimated_remaining' 0
jq_eq status-pipe.json '[.steps[].name] | join(",")' "make,check,reduce"
jq_eq status-pipe.json '([.steps[].total] | add) == .counts.total' true
jq_eq status-pipe.json '.steps[0].failed' 1
jq_eq status-pipe.json '.steps[1].skipped' 1
ok "each study of the list is its status; steps add up; no estimate without a run"

for s in plain pipe; do
    expect_code 0 sweep aggregate "$s" --format json
    [ "$(jq -S . "$T/out")" = "$(jq -S .aggregate "status-$s.json")" ] ||
        fail "$s: the stored aggregate is not what sweep aggregate prints"
done
ok "the aggregate in the status is sweep aggregate --format json"

for s in plain pipe idle; do
    expect_code 0 sweep results "$s" --format json
    jq -r '.[] | "\(.key) \(.id) \(.state)"' "$T/out" >rows-json
    jq_eq "$T/out" 'length' "$(jq '.counts.total' "status-$s.json")"
    expect_code 0 sweep results "$s" --format csv
    tail -n +2 "$T/out" | cut -d, -f1-4 |
        awk -F, -v p="$([ "$s" = pipe ] && echo 1 || echo 0)" \
            '{ print $1, $(2 + p), $(3 + p) }' >rows-csv
    cmp -s rows-json rows-csv || fail "$s: JSON and CSV rows differ"
    expect_code 0 sweep results "$s" --format table
    [ "$(($(wc -l <"$T/out") - 1))" = "$(wc -l <rows-json | tr -d ' ')" ] ||
        fail "$s: the table has not one line per task"
done
expect_code 0 sweep results plain --format csv
head -1 "$T/out" | grep -q '^key,id,state,attempts,repetition,seed,priority,param.seed,x,y,' ||
    fail "plain: unexpected CSV header: $(head -1 "$T/out")"
ok "JSON, CSV and table rows of sweep results are the same tasks"

expect_code 0 sweep status pipe
expect_in "$T/out" "] 7/7 ended (100.0%)"
expect_code 0 sweep status idle
expect_in "$T/out" "] 0/2 ended (0.0%)"
expect_not_in "$T/out" "ETA"
ok "the text of sweep status agrees with its counts"
