# Independent repetitions (a seed the spec sets is the seed of repetition 0, each other
# repetition gets its own, and the task really gets the seed its `seed` column shows),
# tasks named by id, STUDY/KEY and --study across studies that share keys, and
# `sweep logs` (headers, --follow, --attempt, unknown names).
. "$SWEEP_SRC/tests/e2e/lib.sh"

# ---- item 1: seeds ----

# Writes what it saw of its seed, and a random number drawn from it.
cat >seeded.sh <<'EOF'
#!/bin/sh
r=$(awk -v s="$1" 'BEGIN { srand(s); printf "%.9f", rand() }')
ps=$(printf '%s' "$SWEEP_PARAMS" | jq .seed)
printf '{"arg": %s, "env": %s, "p": %s, "params": %s, "r": %s}\n' \
    "$1" "$SWEEP_SEED" "$SWEEP_P_SEED" "$ps" "$r" >"$SWEEP_RESULT"
EOF
chmod +x seeded.sh
for reps in 3 1; do
    cat >cmd$reps.yaml <<EOF
study: cmd$reps
command: [./seeded.sh, "{seed}"]
base: {seed: 42, x: 1}
repetitions: $reps
EOF
    expect_code 0 sweep run cmd$reps.yaml -q
done
expect_code 0 sweep results cmd3 --format json
jq_eq "$T/out" '[.[].metrics.r] | unique | length' 3
jq_eq "$T/out" '[.[] | select(.seed == .metrics.arg and .seed == .metrics.env
    and .seed == .metrics.p and .seed == .metrics.params)] | length' 3
jq_eq "$T/out" '[.[] | select(.repetition == 0)][0].seed' 42
jq_eq "$T/out" '[.[].seed] | unique | length' 3
jq_eq "$T/out" '[.[].params.seed] | unique' '[
  42
]'
expect_code 0 sweep aggregate cmd3 --metrics r --format json
jq_eq "$T/out" 'length' 1
jq -ne 'input | .[0].n_samples == 3 and .[0].std_r > 0' "$T/out" >/dev/null || fail "std of r is not > 0"
# In CSV the seed the task got is `seed`, the spec's seed parameter `param.seed`.
expect_code 0 sweep results cmd3 --format csv
python3 - "$T/out" <<'PY' || fail "CSV seed columns: $(cat "$T/out")"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head = rows[0]
assert head.count("seed") == 1 and head.count("param.seed") == 1, head
seeds = sorted(int(r[head.index("seed")]) for r in rows[1:])
assert len(set(seeds)) == 3 and 42 in seeds, seeds
assert all(r[head.index("param.seed")] == "42" for r in rows[1:])
PY
expect_code 0 sweep results cmd1 --format json
jq_eq "$T/out" '.[0].seed' 42
jq_eq "$T/out" '.[0].metrics.arg' 42
ok "command: seed 42 with 3 repetitions gives 3 seeds (42 first), each what the task saw"

# A model's seed under its alias (particles: semilla) and under its name (chaos).
cat >part.yaml <<'EOF'
study: part
model: particles
base: {semilla: 42, num_particles: 32, num_steps: 5}
repetitions: 3
EOF
cat >chaos.yaml <<'EOF'
study: chaos
model: chaos
base: {seed: 42, x: 1, y: 0, sigma: 1}
repetitions: 3
EOF
cat >chaos1.yaml <<'EOF'
study: chaos1
model: chaos
base: {seed: 42, x: 1, y: 0, sigma: 1}
EOF
for s in part chaos chaos1; do
    expect_code 0 sweep run $s.yaml -q
done
expect_code 0 sweep results part --format json
cp "$T/out" part.json
jq_eq part.json '[.[].metrics.potential_energy] | unique | length' 3
jq_eq part.json '[.[] | select(.repetition == 0)][0].seed' 42
for i in 0 1 2; do
    seed=$(jq -r ".[$i].seed" part.json)
    expect_code 0 sweep sim particles --set semilla="$seed" --set num_particles=32 \
        --set num_steps=5 --json
    jq_eq "$T/out" '.potential_energy' "$(jq -r ".[$i].metrics.potential_energy" part.json)"
done
expect_code 0 sweep aggregate part --metrics potential_energy --format json
jq -ne 'input | .[0].n_samples == 3 and .[0].std_potential_energy > 0' "$T/out" >/dev/null ||
    fail "particles: std is not > 0"
ok "particles with semilla 42: three different runs, each with its seed column's seed"

expect_code 0 sweep results chaos --format json
cp "$T/out" chaos.json
jq_eq chaos.json '[.[].metrics.value] | unique | length' 3
for i in 0 1 2; do
    seed=$(jq -r ".[$i].seed" chaos.json)
    expect_code 0 sweep sim chaos --params "{\"seed\": $seed, \"x\": 1, \"y\": 0, \"sigma\": 1}" --json
    jq_eq "$T/out" '.value' "$(jq -r ".[$i].metrics.value" chaos.json)"
done
expect_code 0 sweep aggregate chaos --metrics value --format json
jq -ne 'input | .[0].std_value > 0' "$T/out" >/dev/null || fail "chaos: std is not > 0"
# One repetition: seed 42 exactly, and the key of before (it never held the seed).
expect_code 0 sweep results chaos1 --format json
jq_eq "$T/out" '.[0].seed' 42
key=$(printf '%s' '{"params":{"seed":42,"sigma":1,"x":1,"y":0},"rep":0,"run":"chaos"}' |
    sha256sum | cut -c1-16)
jq_eq "$T/out" '.[0].key' "$key"
expect_code 0 sweep sim chaos --params '{"seed": 42, "x": 1, "y": 0, "sigma": 1}' --json
jq_eq "$T/out" '.value' "$(jq -r '.[0].metrics.value' chaos.json)"
ok "chaos with seed 42: three different runs; one repetition keeps seed 42 and its key"

# ---- item 2: task ids, STUDY/KEY, --study ----

# The same spec under another name: every key is shared by the two studies.
sed 's/^study: cmd3$/study: cmd3copy/' cmd3.yaml >cmd3copy.yaml
expect_code 0 sweep run cmd3copy.yaml -q
expect_code 0 sweep results cmd3 --format json
cp "$T/out" a.json
expect_code 0 sweep results cmd3copy --format json
cp "$T/out" b.json
key=$(jq -r '.[0].key' a.json)
ida=$(jq -r '.[0].id' a.json)
idb=$(jq -r --arg k "$key" '.[] | select(.key == $k) | .id' b.json)
[ -n "$idb" ] && [ "$ida" != "$idb" ] || fail "ids '$ida' '$idb' of one key in two studies"
jq -s -e '[.[][].id] | length == 6 and (unique | length) == 6' a.json b.json >/dev/null ||
    fail "task ids are not unique in the home"
expect_code 0 sweep results cmd3 --format csv
head -1 "$T/out" | grep -q '^key,id,state,' || fail "no id column: $(head -1 "$T/out")"
grep -q "^$key,$ida,succeeded," "$T/out" || fail "CSV id of $key is not $ida"
ok "results: an id column, unique in the home, also for keys shared by two studies"

expect_code 2 sweep logs "$key"
expect_in "$T/err" "cmd3/$key (id $ida)"
expect_in "$T/err" "cmd3copy/$key (id $idb)"
expect_in "$T/err" "STUDY/KEY"
expect_code 2 sweep cancel "$(echo "$key" | cut -c1-6)"
expect_in "$T/err" "cmd3copy/$key (id $idb)"
expect_code 0 sweep logs "cmd3copy/$key" --stdout
expect_code 0 sweep logs "$idb"
expect_in "$T/out" "task $idb cmd3copy/$key, attempt 1"
expect_code 0 sweep logs --study cmd3copy "$(echo "$key" | cut -c1-6)"
expect_in "$T/out" "task $idb cmd3copy/$key"
expect_code 2 sweep logs --study cmd3copy 999999
expect_code 2 sweep logs nosuchstudy/"$key"
expect_in "$T/err" "no study named 'nosuchstudy'"
ok "a key in two studies: ambiguous (both listed as STUDY/KEY with ids), then by id, STUDY/KEY, --study"

# Cancel by id and by STUDY/KEY (tasks stored, not yet run); a run resumes them.
sed 's/^study: cmd3$/study: later/' cmd3.yaml >later.yaml
expect_code 0 sweep run later.yaml --prepare
expect_code 0 sweep results later --format json
cp "$T/out" l.json
id0=$(jq -r '.[0].id' l.json)
key1=$(jq -r '.[1].key' l.json)
expect_code 0 sweep cancel "$id0"
expect_in "$T/out" "task $id0 later/"
expect_in "$T/out" "cancelled"
expect_code 0 sweep cancel "later/$key1"
expect_in "$T/out" "later/$key1 cancelled"
expect_code 0 sweep cancel --study later "$key1"
expect_in "$T/out" "nothing to cancel"
expect_code 0 sweep results later --format json
jq_eq "$T/out" '[.[] | select(.state == "cancelled")] | length' 2
expect_code 0 sweep run later.yaml -q
expect_code 0 sweep results later --format json
jq_eq "$T/out" '[.[] | select(.state == "succeeded")] | length' 3
jq_eq "$T/out" "[.[] | select(.id == $id0)] | length" 1
ok "cancel by id, STUDY/KEY and --study; the next run resumes them with the same ids"

# ---- item 10: sweep logs ----

expect_code 2 sweep logs nosuch
expect_in "$T/err" "no study or task named 'nosuch'"
expect_code 2 sweep cancel nosuch
expect_in "$T/err" "no study or task named 'nosuch'"
ok "logs/cancel of an unknown name: 'no study or task named', exit 2"

# Both streams on stdout, each under a header; an attempt that does not exist.
cat >twice.sh <<'EOF'
#!/bin/sh
echo "out of attempt $SWEEP_ATTEMPT"
echo "err of attempt $SWEEP_ATTEMPT" >&2
[ "$SWEEP_ATTEMPT" -ge 2 ]
EOF
chmod +x twice.sh
cat >twice.yaml <<'EOF'
study: twice
command: [./twice.sh]
retries: {max: 1, backoff: 0}
EOF
expect_code 0 sweep run twice.yaml -q
expect_code 0 sweep results twice --format json
id=$(jq -r '.[0].id' "$T/out")
key=$(jq -r '.[0].key' "$T/out")
jq_eq "$T/out" '.[0].attempts' 2
expect_code 0 sweep logs "$id"
[ ! -s "$T/err" ] || fail "sweep logs wrote to stderr: $(cat "$T/err")"
printf '%s\n' "==> stdout: task $id twice/$key, attempt 2 <==" "out of attempt 2" "" \
    "==> stderr: task $id twice/$key, attempt 2 <==" "err of attempt 2" >want
cmp -s want "$T/out" || { diff want "$T/out" >&2; fail "logs: unexpected output"; }
expect_code 0 sweep logs "$id" --attempt 1
expect_in "$T/out" "out of attempt 1"
expect_in "$T/out" "err of attempt 1"
expect_in "$T/out" "attempt 1 <=="
expect_code 0 sweep logs "$id" --attempt 1 --stderr
[ "$(cat "$T/out")" = "err of attempt 1" ] || fail "--stderr alone: $(cat "$T/out")"
expect_code 2 sweep logs "$id" --attempt 3
expect_in "$T/err" "has no attempt 3; its attempts: 1 to 2"
ok "logs: both streams on stdout under headers; --attempt N; a missing attempt is an error"

# --follow: prints while the task runs, and ends when it ends.
cat >slow.sh <<'EOF'
#!/bin/sh
echo "first line"
echo "first err" >&2
i=0
while [ ! -e "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
echo "last line"
EOF
chmod +x slow.sh
printf 'study: slow\ncommand: [./slow.sh, "%s/go"]\n' "$T" >slow.yaml
sweep run slow.yaml -q >run.out 2>&1 &
run_pid=$!
running() {
    sweep results slow --format json 2>/dev/null | jq -ne 'input | .[0].state == "running"'
}
wait_for 20 running
id=$(sweep results slow --format json | jq -r '.[0].id')
sweep logs "$id" --follow >follow.out 2>follow.err &
logs_pid=$!
wait_for 20 grep -q "first err" follow.out
grep -q "last line" follow.out && fail "--follow printed what the task had not written yet"
kill -0 "$logs_pid" 2>/dev/null || fail "--follow ended while the task runs"
touch "$T/go"
ended() { ! kill -0 "$logs_pid" 2>/dev/null; }
wait_for 20 ended
wait "$logs_pid" || fail "sweep logs --follow exited $?: $(cat follow.err)"
wait "$run_pid" || fail "sweep run exited $?: $(cat run.out)"
expect_in follow.out "first line"
expect_in follow.out "last line"
expect_in follow.out "==> stdout: task $id slow/"
expect_in follow.out "==> stderr: task $id slow/"
[ "$(grep -c '==> stdout' follow.out)" -eq 2 ] || fail "--follow: a header each time the stream changes"
ok "logs --follow: prints as the task writes, headers when the stream changes, ends with the task"
