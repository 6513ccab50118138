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
jq -e '.[0].n_samples == 3 and .[0].std_r > 0' "$T/out" >/dev/null || fail "std of r is not > 0"
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
jq -e '.[0].n_samples == 3 and .[0].std_potential_energy > 0' "$T/out" >/dev/null ||
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
jq -e '.[0].std_value > 0' "$T/out" >/dev/null || fail "chaos: std is not > 0"
# One repetition: seed 42 exactly, and the key of before (it never held the seed).
expect_code 0 sweep results chaos1 --format json
jq_eq "$T/out" '.[0].seed' 42
key=$(printf '%s' '{"params":{"seed":42,"sigma":1,"x":1,"y":0},"rep":0,"run":"chaos"}' |
    sha256sum | cut -c1-16)
jq_eq "$T/out" '.[0].key' "$key"
expect_code 0 sweep sim chaos --params '{"seed": 42, "x": 1, "y": 0, "sigma": 1}' --json
jq_eq "$T/out" '.value' "$(jq -r '.[0].metrics.value' chaos.json)"
ok "chaos with seed 42: three different runs; one repetition keeps seed 42 and its key"
