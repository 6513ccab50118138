#!/bin/sh
# sweep serve's task inbox: a file there before the start, a task-queue JSON, a
# tasks.yaml renamed in (as `sweep new` writes), malformed files (rejected/ with a
# .error naming the file, line, column and field), a half-written file (not parsed
# until it is closed), the same file dropped twice (its tasks do not run twice),
# ignored names, and the results files written when a file's tasks have ended.
. "$SWEEP_SRC/tests/e2e/lib.sh"
openapi_log

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"

IN="$T/inbox"
PID=
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT

# processed NAME: the one processed/ file of NAME (fails unless exactly one).
processed() {
    n=$(ls "$IN/processed" | grep -c "^[0-9]\{8\}_[0-9]\{6\}_$1\$")
    [ "$n" -eq 1 ] || fail "processed/ holds $n files named *_$1"
}
# results_of STUDY: the newest results file of STUDY, into $T/res.
results_of() {
    f=$(grep -l "\"study\": \"$1\"" "$SWEEP_HOME"/results/task_results_*.json | sort | tail -n 1)
    [ -n "$f" ] || fail "no results file of $1"
    cp "$f" "$T/res"
}
has_results() {
    grep -qs "\"study\": \"$1\"" "$SWEEP_HOME"/results/task_results_*.json
}


# ---- the default inbox, shown by --print-config ----
expect_code 0 sweep serve --print-config --json
jq_eq "$T/out" '.inbox.value + " " + .inbox.source' "task_queues default"
expect_code 0 sweep serve --help
expect_in "$T/out" "--inbox DIR"
ok "--inbox: default task_queues in the home"

# ---- files there before the start, and names that are ignored ----
mkdir -p "$IN"
cat >"$IN/pre.json" <<'EOF'
{"metadata": {"name": "pre", "description": "there before the start"},
 "tasks": [
  {"task_id": "p1", "algorithm": "DLA", "parameters": {"n_particles": 40, "seed": 1},
   "priority": "high"},
  {"task_id": "p2", "algorithm": "DLA", "parameters": {"n_particles": 50, "seed": 2},
   "priority": "low", "description": "second"}]}
EOF
cp "$IN/pre.json" "$IN/.hidden.json"
cp "$IN/pre.json" "$IN/draft.json.tmp"

start_serve -j 2 --inbox "$IN"
wait_for 30 has_results pre
processed pre.json
[ -f "$IN/.hidden.json" ] && [ -f "$IN/draft.json.tmp" ] || fail "an ignored file was taken"
[ ! -e "$IN/pre.json" ] || fail "pre.json is still in the inbox"
ok "a file there before the start runs; dotfiles and *.tmp are left alone"

# ---- the results file of an inbox file ----
results_of pre
jq_eq "$T/res" '.tasks | length' 2
jq_eq "$T/res" '.file' pre.json
jq_eq "$T/res" '[.tasks[].task_id] | sort | join(",")' "p1,p2"
jq_eq "$T/res" '.tasks[] | select(.task_id == "p1") | .priority' HIGH
jq_eq "$T/res" '.tasks[] | select(.task_id == "p2") | .priority' LOW
jq_eq "$T/res" '.tasks[0] | keys_unsorted | join(",")' \
    "task_id,algorithm,parameters,execution_time,result,worker_id,completed_at,priority"
jq_eq "$T/res" '[.tasks[].algorithm] | unique | join(",")' dla
jq_eq "$T/res" '.tasks[] | select(.task_id == "p1") | .parameters | keys | join(",")' \
    "n_particles,seed"
jq_eq "$T/res" '[.tasks[].result.status] | unique | join(",")' succeeded
jq_eq "$T/res" '[.tasks[].result.metrics.df | type] | unique | join(",")' number
jq_eq "$T/res" '[.tasks[].execution_time | type] | unique | join(",")' number
jq_eq "$T/res" '[.tasks[].completed_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")] | all' true
jq_eq "$T/res" '[.tasks[].worker_id | startswith("local@")] | all' true
ls "$SWEEP_HOME"/results | grep -q '^task_results_[0-9]\{8\}_[0-9]\{6\}\(_[0-9]*\)\?\.json$' ||
    fail "no results/task_results_YYYYMMDD_HHMMSS.json"
S="$SWEEP_HOME/results/orchestrator_stats.json"
jq_eq "$S" '.totals.succeeded >= 2' true
jq_eq "$S" '.by_priority.HIGH.succeeded >= 1' true
jq_eq "$S" '.by_priority.LOW.succeeded >= 1' true
jq_eq "$S" '.throughput.tasks_run >= 2' true
jq_eq "$S" '.uptime_seconds | type' number
jq_eq "$S" '.throughput.tasks_per_minute | type' number
ls "$SWEEP_HOME"/results | grep -v '\.json$' && fail "a temporary file is left in results/"
ok "results/task_results_*.json and orchestrator_stats.json"

# ---- a tasks.yaml renamed in, as sweep new writes it ----
cat >"$T/.q.yaml" <<'EOF'
tasks:
  - id: y1
    type: EDEN
    parameters: {n_particles: 30, seed: 3}
    priority: 1
EOF
mv "$T/.q.yaml" "$IN/.q.yaml.tmp"
mv "$IN/.q.yaml.tmp" "$IN/queue.yaml"
expect_code 0 sweep new --model dla --param n_particles=20,30 --name made -o "$IN/made.json"
wait_for 30 has_results queue
wait_for 30 has_results made
processed queue.yaml
processed made.json
results_of queue
jq_eq "$T/res" '.tasks[0].task_id' y1
jq_eq "$T/res" '.tasks[0].algorithm' eden
jq_eq "$T/res" '.tasks[0].priority' HIGH
results_of made
jq_eq "$T/res" '.tasks | length' 2
ok "a tasks.yaml renamed in and a file of sweep new run"

# ---- malformed files: rejected/ with NAME.error; the others are not affected ----
cat >"$IN/bad.json" <<'EOF'
{"tasks": [
  {"task_id": "b1", "algorithm": "DLA", "parameters": {"n_particles": 40}},
  {"task_id": "b2", "algorithm": "DLA", "parameters": {"n_particlez": 40}}]}
EOF
printf 'tasks:\n  - id: s1\n    type: DLA\n    parameters: {n_particles: [1, 2\n' \
    >"$IN/syntax.yaml"
printf '{"tasks": [{"task_id": "u1", "algorithm": "NOPE"}]}\n' >"$IN/nomodel.json"
cat >"$IN/good.json" <<'EOF'
{"tasks": [{"task_id": "g1", "algorithm": "DLA", "parameters": {"n_particles": 30}}]}
EOF
wait_for 20 test -f "$IN/rejected/bad.json.error"
wait_for 20 test -f "$IN/rejected/syntax.yaml.error"
wait_for 20 test -f "$IN/rejected/nomodel.json.error"
[ -f "$IN/rejected/bad.json" ] || fail "bad.json is not in rejected/"
expect_in "$IN/rejected/bad.json.error" "$IN/bad.json:3:56: "
expect_in "$IN/rejected/bad.json.error" "tasks[1].parameters.n_particlez"
expect_in "$IN/rejected/bad.json.error" 'did you mean "n_particles"'
expect_in "$IN/rejected/syntax.yaml.error" "$IN/syntax.yaml:"
expect_in "$IN/rejected/nomodel.json.error" "$IN/nomodel.json:1:"
expect_in "$IN/rejected/nomodel.json.error" "tasks[0].algorithm"
wait_for 30 has_results good
processed good.json
[ ! -e "$IN/bad.json" ] && [ ! -e "$IN/syntax.yaml" ] || fail "a rejected file stayed"
expect_code 2 sweep status bad
expect_in "$T/err" "no study named 'bad'"
ok "malformed files: rejected/ with what is wrong and where; the others run"

# ---- a file whose task only storing refuses: back from processed/ to rejected/ ----
printf '{"tasks": [{"task_id": "x1", "algorithm": "DLA",\n  "parameters": {"n_particles": 2000000000, "dim": 3}}]}\n' \
    >"$IN/huge.json"
wait_for 20 test -f "$IN/rejected/huge.json.error"
expect_in "$IN/rejected/huge.json.error" "$IN/huge.json: task 0 ("
expect_in "$IN/rejected/huge.json.error" "above the"
[ -f "$IN/rejected/huge.json" ] || fail "huge.json is not in rejected/"
ls "$IN/processed" | grep -q _huge.json && fail "huge.json stayed in processed/"
ok "a file refused while its study is stored moves to rejected/ too"

# ---- a half-written file is not parsed until it is closed ----
exec 3>"$IN/half.json"
printf '{"tasks": [{"task_id": "h1", "algorithm": "DLA",' >&3
# A file dropped after the half is taken after the half's events: once it is
# processed, the half has been seen (and must still be there, untouched).
printf '{"tasks": [{"task_id": "m1", "algorithm": "DLA"}]}\n' >"$IN/marker.json"
wait_for 20 sh -c "ls '$IN/processed' | grep -q _marker.json"
[ -f "$IN/half.json" ] || fail "the half-written file was moved"
[ ! -e "$IN/rejected/half.json.error" ] || fail "the half-written file was parsed"
printf ' "parameters": {"n_particles": 30}}]}\n' >&3
exec 3>&-
wait_for 30 has_results half
processed half.json
ok "a half-written file is taken once closed, not before"

# ---- the same file twice: its tasks do not run twice ----
cp "$IN/processed/"*_pre.json "$T/pre-again.json"
n_before=$(ls "$SWEEP_HOME"/results/task_results_*.json | wc -l)
cp "$T/pre-again.json" "$IN/pre.json"
wait_for 30 sh -c "[ \$(ls '$SWEEP_HOME'/results/task_results_*.json | wc -l) -gt $n_before ]"
wait_for 20 sh -c "[ \$(ls '$IN/processed' | grep -c '_pre\(_2\)\?\.json\$') -eq 2 ]"
expect_code 0 sweep results pre --format json
jq_eq "$T/out" 'length' 2
jq_eq "$T/out" '[.[].attempts] | unique | join(",")' 1
results_of pre
jq_eq "$T/res" '[.tasks[].result.status] | unique | join(",")' succeeded
ok "the same file dropped twice: processed again, its tasks not run twice"

# ---- the same file while its study runs; another file for that study ----
printf '{"tasks": [{"task_id": "c1", "algorithm": "chaos", "parameters": {"duration": 60}}]}\n' \
    >"$T/slow.json"
cp "$T/slow.json" "$IN/slow.json"
wait_for 20 grep -q "study slow started" "$T/serve.log"
cp "$T/slow.json" "$IN/slow.json"
wait_for 20 sh -c "[ \$(ls '$IN/processed' | grep -c '_slow\(_2\)\?\.json\$') -eq 2 ]"
expect_in "$T/serve.log" "study slow is running; its tasks are not added again"
printf '{"metadata": {"name": "slow"}, "tasks": [{"task_id": "c2", "algorithm": "chaos"}]}\n' \
    >"$IN/other.json"
wait_for 20 test -f "$IN/rejected/other.json.error"
expect_in "$IN/rejected/other.json.error" "study slow is running with other tasks"
curl -sf -X POST "$URL/studies/slow/cancel" >/dev/null || fail "cannot cancel slow"
wait_for 30 has_results slow
results_of slow
jq_eq "$T/res" '.tasks | length' 1
jq_eq "$T/res" '.tasks[0].result.status' cancelled
ok "the same file while its study runs adds nothing; another file for it is refused"

# ---- stopped in the middle of a file's study: resumed, then its results ----
printf '{"tasks": [{"task_id": "r1", "algorithm": "chaos", "parameters": {"duration": 1}},
 {"task_id": "r2", "algorithm": "chaos", "parameters": {"duration": 1, "x": 1}}]}\n' \
    >"$IN/resume.json"
wait_for 20 grep -q "study resume started" "$T/serve.log"
stop_serve
has_results resume && fail "results of a study that was interrupted"
start_serve -j 2 --inbox "$IN"
expect_in "$T/serve.log" "study resume resumes"
wait_for 30 has_results resume
results_of resume
jq_eq "$T/res" '[.tasks[].result.status] | join(",")' "succeeded,succeeded"
jq_eq "$T/res" '.processed | test("^[0-9]{8}_[0-9]{6}_resume.json$")' true
ok "a file's study stopped by SIGTERM resumes at the next start, then its results"

# ---- the service stops cleanly ----
stop_serve
ls "$SWEEP_HOME/serve/accepted" | grep . && fail "accepted/ is not empty after every study ended"
ok "stopped; nothing left in accepted/"
openapi_check
