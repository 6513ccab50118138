# Task files (core/taskfile.c) and `sweep new`: `sweep run` runs a task-queue JSON and a
# tasks.yaml as one study of explicit tasks (model in any case, ids kept as task_id,
# priorities in bands, integer priorities 1 = HIGH), running the same file again (or a
# copy of it elsewhere) runs nothing twice, and every error names the file, line,
# column and field; a file that is no format gets the formats tried. `sweep new`
# writes such files from flags and by asking on stdin (bad answers asked again), and
# `sweep run` accepts what it writes.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# ---- a task-queue JSON, run, then run again ----
cat >queue.json <<'EOF'
{
  "metadata": {"creation_date": "2024-01-15", "description": "DLA by hand",
               "total_tasks": 3, "created_by": "hand"},
  "tasks": [
    {"task_id": "task_001", "algorithm": "DLA",
     "parameters": {"n_particles": 60, "seed": 123},
     "priority": "high", "description": "small"},
    {"task_id": "task_002", "algorithm": "dla",
     "parameters": {"n_particles": 80}, "priority": "low"},
    {"task_id": "task_003", "algorithm": "Dla",
     "parameters": {"n_particles": 60, "seed": 123}}
  ]
}
EOF
expect_code 0 sweep run queue.json --dry-run
expect_in "$T/out" "study queue: 3 tasks"
expect_in "$T/out" 'HIGH   rep=0 seed=123  {"n_particles":60,"seed":123,"task_id":"task_001"}'
expect_in "$T/out" 'LOW    rep=0'
expect_in "$T/out" 'MEDIUM rep=0 seed=123  {"n_particles":60,"seed":123,"task_id":"task_003"}'
# The model never sees task_id.
expect_in "$T/out" "sim dla --params '{\"n_particles\":60,\"seed\":123}'"
ok "a task-queue JSON: one study, ids in the parameters, bands in --dry-run"

expect_code 0 sweep run queue.json
expect_code 0 sweep results queue --json
cp "$T/out" results.json
jq_eq results.json 'length' 3
jq_eq results.json '[.[].state] | unique | join(",")' succeeded
jq_eq results.json '[.[].params.task_id] | sort | join(",")' "task_001,task_002,task_003"
jq_eq results.json '[.[] | "\(.params.task_id)=\(.priority)"] | sort | join(",")' \
    "task_001=HIGH,task_002=LOW,task_003=MEDIUM"
expect_code 0 sweep results queue --format csv
expect_in "$T/out" ",task_id,"
expect_in "$T/out" ",task_002,"
expect_code 0 sweep status queue
expect_in "$T/out" "DLA by hand"
ok "it runs; sweep results shows each task's id and band"

# The same file again, and a copy of it dropped elsewhere: the same tasks, none rerun.
mkdir -p inbox
cp queue.json inbox/queue.json
expect_code 0 sweep run queue.json
expect_in "$T/out" "3 already succeeded, skipped"
expect_code 0 sweep run inbox/queue.json
expect_in "$T/out" "3 already succeeded, skipped"
expect_code 0 sweep results queue --json
jq_eq "$T/out" 'length' 3
jq_eq "$T/out" '[.[].attempts] | add' 3
ok "the same file twice runs its tasks once (task keys)"

# A study spec may name its tasks too: task_id reaches a command, never a model.
cat >named.yaml <<'EOF'
study: named
model: dla
base: {n_particles: 20, task_id: all}
tasks: [{seed: 1, task_id: one}, {seed: 2}]
EOF
expect_code 0 sweep run named.yaml
expect_code 0 sweep results named --json
jq_eq "$T/out" '[.[].params.task_id] | sort | join(",")' "all,one"
cat >cmd.yaml <<'EOF'
study: cmd
command: [sh, -c, "echo id=$SWEEP_P_TASK_ID/{task_id}"]
tasks: [{task_id: t1}]
EOF
expect_code 0 sweep run cmd.yaml
key=$(sweep results cmd --json | jq -r '.[0].key')
expect_code 0 sweep logs "cmd/$key" --stdout
expect_in "$T/out" "id=t1/t1"
ok "task_id in a study spec: a command sees it, a model does not"

# ---- a tasks.yaml: type, id, integer priorities (1 is the most urgent) ----
cat >tasks.yaml <<'EOF'
tasks:
  - id: "simulation_small"
    type: "EDEN"
    parameters:
      n_particles: 50
      seed: 42
    priority: 1
    description: "small"
  - id: second
    type: eden
    parameters: {n_particles: 60}
    priority: 2
  - id: 3
    type: eden
    parameters: {n_particles: 70}
    priority: 5
EOF
expect_code 0 sweep run tasks.yaml --dry-run
expect_in "$T/out" "study tasks: 3 tasks"
expect_in "$T/out" "tasks.yaml: priority high or 1 (or less) is HIGH, medium or 2 MEDIUM, low or 3 (or more) LOW; an integer n runs as sweep's priority 4 - n"
expect_in "$T/out" 'HIGH   rep=0 seed=42  {"n_particles":50,"seed":42,"task_id":"simulation_small"}'
expect_in "$T/out" 'MEDIUM rep=0'
expect_in "$T/out" '"task_id":"second"'
expect_in "$T/out" 'LOW    rep=0'
expect_in "$T/out" '"task_id":"3"'
expect_code 0 sweep run tasks.yaml --dry-run --priority HIGH
expect_in "$T/out" "study tasks: 3 tasks, 1 of them HIGH"
expect_code 0 sweep run tasks.yaml
ok "a tasks.yaml: integer priorities 1, 2, 5 are HIGH, MEDIUM, LOW; it runs"

# ---- errors: file, line, column, field ----
cat >bad-model.json <<'EOF'
{"tasks": [
  {"task_id": "a", "algorithm": "DLX", "parameters": {"n_particles": 10}}
]}
EOF
expect_code 2 sweep run bad-model.json
expect_in "$T/err" 'bad-model.json:2:33: tasks[0].algorithm: unknown model "dlx" (did you mean "dla"?)'

cat >bad-param.json <<'EOF'
{"tasks": [
  {"task_id": "a", "algorithm": "dla", "parameters": {"n_particles": 10}},
  {"task_id": "b", "algorithm": "dla", "parameters": {"n_particles": -4}},
  {"task_id": "c", "algorithm": "dla", "parameters": {"n_particle": 10}}
]}
EOF
expect_code 2 sweep run bad-param.json
expect_in "$T/err" 'bad-param.json:3:55: tasks[1].parameters.n_particles: dla: n_particles: expected an integer >= 1, got -4'
sed -i 's/-4/4/' bad-param.json
expect_code 2 sweep run bad-param.json
expect_in "$T/err" 'bad-param.json:4:55: tasks[2].parameters.n_particle: dla: unknown parameter "n_particle" (did you mean "n_particles"?)'

printf 'tasks:\n- id: a\n  type: dla\n- id: b\n  type: cca\n' >mixed.yaml
expect_code 2 sweep run mixed.yaml
expect_in "$T/err" 'mixed.yaml:5:9: tasks[1].type: expected "dla", the model of tasks[0]'

printf 'tasks:\n- id: a\n  type: dla\n  priority: soon\n' >prio.yaml
expect_code 2 sweep run prio.yaml
expect_in "$T/err" 'prio.yaml:4:13: tasks[0].priority: expected high, medium, low or an integer'

printf '{"tasks": [{"task_id": 1, "algorithm": "dla"}, {"task_id": "1", "algorithm": "dla"}]}' >dup.json
expect_code 2 sweep run dup.json
expect_in "$T/err" 'tasks[1].task_id: expected an id of its own, got "1", the id of tasks[0]'

printf '{"jobs": [{"task_id": 1}]}' >neither.json
expect_code 2 sweep run neither.json
expect_in "$T/err" 'neither.json:1:2: unknown field "jobs"'
expect_in "$T/err" 'tried: a study spec, study: NAME ...; a task-queue JSON, {"metadata": {...}, "tasks": [...]}; a tasks.yaml, tasks: [...]'
printf -- '- id: a\n  type: dla\n' >list.yaml
expect_code 2 sweep run list.yaml
expect_in "$T/err" 'got a list (tried: a study spec'
expect_code 0 sweep status
expect_not_in "$T/out" "bad-model"
ok "errors name file, line, column and field; a file of no format says what was tried"

# ---- sweep new from flags ----
expect_code 0 sweep new --model DLA --param n_particles=40,60 --param seed=7 \
    --repetitions 3 --priority high -o inbox/dla.json
expect_in "$T/out" "wrote 6 tasks of dla to inbox/dla.json (task-queue JSON)"
jq_eq inbox/dla.json '.tasks | length' 6
jq_eq inbox/dla.json '.metadata.name' dla
jq_eq inbox/dla.json '[.tasks[].task_id] | join(",")' \
    "dla_001,dla_002,dla_003,dla_004,dla_005,dla_006"
jq_eq inbox/dla.json '[.tasks[].priority] | unique | join(",")' high
jq_eq inbox/dla.json '[.tasks[].parameters.n_particles] | join(",")' "40,40,40,60,60,60"
# Repetition 0 keeps the seed given, the others get distinct seeds.
jq_eq inbox/dla.json '[.tasks[].parameters.seed] | unique | length' 3
jq_eq inbox/dla.json '.tasks[0].parameters.seed' 7
ls -a inbox | grep -q tmp && fail "a temporary was left in the inbox"
expect_code 0 sweep run inbox/dla.json --dry-run
expect_in "$T/out" "study dla: 6 tasks"
expect_in "$T/out" '"task_id":"dla_006"'
expect_not_in "$T/out" "MEDIUM rep="
expect_code 0 sweep run inbox/dla.json
expect_code 0 sweep results dla --json
jq_eq "$T/out" '[.[].state] | unique | join(",")' succeeded
ok "sweep new from flags writes a task-queue JSON that sweep run runs"

expect_code 0 sweep new --model eden --param n_particles=30 --priority low -o eden.yaml
expect_in "$T/out" "(tasks.yaml)"
expect_in eden.yaml 'priority: 3'
expect_in eden.yaml 'type: "eden"'
expect_code 0 sweep run eden.yaml --dry-run
expect_in "$T/out" "LOW    rep=0"
ok "sweep new -o FILE.yaml writes a tasks.yaml with integer priorities"

# Without -o: into the inbox sweep serve watches by default ($SWEEP_INBOX, else
# task_queues in the home).
expect_code 0 sweep new --model eden --param n_particles=30
ls "$SWEEP_HOME"/task_queues/eden_*.json >/dev/null 2>&1 || fail "not in the home's inbox"
SWEEP_INBOX="$T/box" expect_code 0 sweep new --model eden --param n_particles=30
ls "$T"/box/eden_*.json >/dev/null 2>&1 || fail "not in \$SWEEP_INBOX"
# SWEEP_INBOX in the home's .env, as sweep serve reads it; the environment wins.
printf '# the service\nSWEEP_INBOX="dropbox"\n' >"$SWEEP_HOME/.env"
expect_code 0 sweep new --model eden --param n_particles=30 --force
ls "$SWEEP_HOME"/dropbox/eden_*.json >/dev/null 2>&1 || fail "not in .env's SWEEP_INBOX"
expect_code 0 sweep serve --print-config --json
jq_eq "$T/out" '.inbox.value' dropbox
SWEEP_INBOX="$T/box2" expect_code 0 sweep new --model eden --param n_particles=30
ls "$T"/box2/eden_*.json >/dev/null 2>&1 || fail "the environment did not win over .env"
printf 'SWEEP_INBOX\n' >"$SWEEP_HOME/.env"
expect_code 2 sweep new --model eden --param n_particles=30
expect_in "$T/err" "$SWEEP_HOME/.env"
expect_code 0 sweep new --model eden --param n_particles=30 -o eden2.json
rm "$SWEEP_HOME/.env"
ok "sweep new without -o writes into the service's inbox (flag, env, .env, default)"

cp inbox/dla.json before.json
expect_code 2 sweep new --model dla -o inbox/dla.json
expect_in "$T/err" "inbox/dla.json exists; give --force to replace it"
cmp -s before.json inbox/dla.json || fail "an existing file was replaced"
expect_code 2 sweep new --model dlx
expect_in "$T/err" 'unknown model "dlx" (did you mean "dla"?)'
expect_code 2 sweep new --model dla --param n_particles=10,0
expect_in "$T/err" "n_particles: expected an integer >= 1, got 0"
expect_code 2 sweep new --model dla --param n_particle=10
expect_in "$T/err" '(did you mean "n_particles"?)'
expect_code 2 sweep new --param n_particles=10
expect_in "$T/err" "--param needs --model"
expect_code 2 sweep new --model dla --repetitions 0
expect_code 2 sweep new --model dla --priority urgent
expect_code 2 sweep new --model dla --param n_particles=1,2,3,4,5,6,7,8,9,10 \
    --param seed=1,2,3,4,5,6,7,8,9,10 --repetitions 1001
expect_in "$T/err" "more than 100000 tasks"
expect_code 0 sweep new --help
expect_in "$T/out" "sweep new --model dla --param n_particles=100,200 --repetitions 3"
ok "sweep new refuses bad flags and never replaces a file without --force"

# ---- sweep new, asking: bad answers are asked again ----
# model (bad, then good); n_particles (0 bad, then two values); seed (Enter);
# sticking_probability (bad, then 0.5); the rest Enter; repetitions (bad, then 2);
# priority (bad, then low); description; output (exists: no; then a new file).
printf '%s\n' dlx dla 0 '40, 50' '' foo 0.5 '' '' '' '' x 2 urgent low 'asked runs' \
    inbox/dla.json n inbox/asked.json >answers
sweep new <answers >"$T/out" 2>"$T/err" || fail "sweep new asking: $(cat "$T/err")"
expect_in "$T/out" 'unknown model "dlx" (did you mean "dla"?); see '"'"'sweep models'"'"'; try again'
expect_in "$T/out" "n_particles: int, >= 1, default 1000"
expect_in "$T/out" "expected an integer >= 1, got 0; try again"
expect_in "$T/out" 'sticking_probability: expected a number in (0, 1], got "foo"; try again'
expect_in "$T/out" 'expected a whole number from 1 to 100000, got "x"; try again'
expect_in "$T/out" 'expected high, medium or low, got "urgent"; try again'
expect_in "$T/out" "it exists; overwrite it?"
expect_in "$T/out" "wrote 4 tasks of dla to inbox/asked.json"
cmp -s before.json inbox/dla.json || fail "the answer n replaced the file"
jq_eq inbox/asked.json '.metadata.description' "asked runs"
jq_eq inbox/asked.json '[.tasks[].parameters.n_particles] | join(",")' "40,40,50,50"
jq_eq inbox/asked.json '[.tasks[].parameters.sticking_probability] | unique | join(",")' 0.5
jq_eq inbox/asked.json '[.tasks[].priority] | unique | join(",")' low
jq_eq inbox/asked.json '[.tasks[].parameters | has("dim")] | unique | join(",")' false
expect_code 0 sweep run inbox/asked.json --dry-run
expect_in "$T/out" "study asked: 4 tasks"
ok "sweep new asks, explains a bad answer and asks again, and writes a valid file"

printf 'dla\n100\n' >short
expect_code 2 sh -c "\"$SWEEP_BIN\" new <short"
expect_in "$T/err" "the input ended before every question was answered; nothing was written"
ok "sweep new with its input cut short writes nothing"
