# Built-in models through `sweep run`: metrics in the store, files in the task directory.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >cavity.yaml <<'EOF'
study: cav
model: cavity
parameters:
  Re: [10, 100]
base:
  grid_size: [16, 16]
  tolerance: 1.0e-5
EOF
expect_code 0 sweep run cavity.yaml
expect_code 0 sweep results cav --format json
jq_eq "$T/out" '[.[] | select(.metrics.converged == true)] | length' 2
# The primary vortex turns the right way and is of the right size at Re = 100.
jq_eq "$T/out" '[.[] | select(.params.Re == 100) | .metrics.psi_min] | .[0] < -0.08 and .[0] > -0.12' true
for d in "$SWEEP_HOME"/studies/cav/tasks/*/*; do
    [ -s "$d/u_centerline.csv" ] && [ -s "$d/v_centerline.csv" ] || fail "no profiles in $d"
done
ok "cavity: converged metrics stored, centreline profiles in each task directory"

cat >bad.yaml <<'EOF'
study: badcav
model: cavity
parameters:
  Re: [-1]
EOF
expect_code 2 sweep run bad.yaml
expect_in "$T/err" "Re"
ok "a bad model parameter is refused before anything runs"

# A run that does not converge fails its task but keeps its metrics.
cat >short.yaml <<'EOF'
study: short
model: cavity
parameters:
  max_steps: [5]
base:
  grid_size: [16, 16]
EOF
expect_code 1 sweep run short.yaml
expect_code 0 sweep results short --format json
jq_eq "$T/out" '.[0].state' failed
jq_eq "$T/out" '.[0].metrics.converged' false
ok "a model failure keeps its metrics (converged: false)"

# navier-stokes through a study: the 2D Taylor-Green vortex decays as E0 exp(-4 nu t).
cat >ns.yaml <<'EOF'
study: ns
model: navier-stokes
parameters:
  Re: [50, 100]
base:
  grid_size: [16, 16, 1]
  dt: 0.01
  T_final: 0.5
EOF
expect_code 0 sweep run ns.yaml
expect_code 0 sweep results ns --format json
jq_eq "$T/out" '[.[] | (.metrics.energy / (0.25 * ((-4 * 0.5 / .params.Re) | exp)) - 1) | fabs < 1e-8] | all' true
jq_eq "$T/out" '[.[] | .metrics.convergence] | all' true
for d in "$SWEEP_HOME"/studies/ns/tasks/*/*; do
    head -1 "$d/timeseries.csv" | grep -q '^t,energy,enstrophy,dissipation,max_velocity$' ||
        fail "no timeseries.csv in $d"
done
ok "navier-stokes: Taylor-Green decay to 1e-8 through sweep run, timeseries.csv per task"

# sweep sim prints exactly the object it writes to $SWEEP_RESULT.
SWEEP_RESULT="$T/r.json" sweep sim navier-stokes --set grid_size=[8,8,8] --set T_final=0.05 \
    --set dt=0.01 --json --outdir "$T/simout" >"$T/stdout.json" || fail "sweep sim failed"
cmp -s "$T/r.json" "$T/stdout.json" || fail "--json output differs from \$SWEEP_RESULT"
jq_eq "$T/stdout.json" '.n_steps' 5
[ -s "$T/simout/timeseries.csv" ] || fail "no timeseries.csv in --outdir"
ok "sweep sim --json prints the object written to \$SWEEP_RESULT"

expect_code 2 sweep sim navier-stokes --set grid_size=[15,16,16]
expect_in "$T/err" "grid_size"
expect_code 2 sweep sim navier-stokes --set Re=-5
expect_in "$T/err" "Re"
ok "bad navier-stokes parameters exit 2 naming the parameter"

# The task types of existing task files run through `sweep run`.
cat >bench.yaml <<'YAML'
study: bench
model: benchmark
parameters:
  num_particulas: [32, 108]
base:
  num_pasos: 20
repetitions: 2
YAML
expect_code 0 sweep run bench.yaml
expect_code 0 sweep results bench --format json
jq_eq "$T/out" '[.[] | select(.state == "succeeded")] | length' 4
jq_eq "$T/out" '[.[] | .metrics.steps_completed == 20] | all' true
jq_eq "$T/out" '[.[] | .metrics.energy_drift < 1e-3] | all' true
ok "model: benchmark runs particles with the old parameter names"

cat >benchbad.yaml <<'YAML'
study: benchbad
model: benchmark_cython
parameters:
  num_particulas: [0, 32]
YAML
expect_code 2 sweep run benchbad.yaml
expect_in "$T/err" "num_particulas: expected an integer >= 1, got 0"
ok "a bad parameter of an aliased model is refused before anything runs"

expect_code 0 sweep models
expect_in "$T/out" "benchmark_cython"
expect_code 0 sweep sim benchmark --set num_particulas=32 --set num_pasos=5 --json
jq_eq "$T/out" '.particles_processed' 160
expect_code 2 sweep sim particles --set algorithm=fast
expect_in "$T/err" 'algorithm: expected one of "naive", "cells", got "fast"'
ok "sweep sim and sweep models know the aliases"

# The growth models through a study: each task a cluster, df in the results.
cat >growth.yaml <<'YAML'
study: growth
model: dla
parameters:
  n_particles: [300]
base:
  image: cluster.png
repetitions: 2
YAML
expect_code 0 sweep run growth.yaml
expect_code 0 sweep results growth --format json
jq_eq "$T/out" '[.[] | .metrics.n_particles == 300 and .metrics.df > 1.2 and .metrics.df < 2.1] | all' true
jq_eq "$T/out" '[.[].metrics.df] | unique | length' 2
for d in "$SWEEP_HOME"/studies/growth/tasks/*/*; do
    [ "$(head -c 4 "$d/cluster.png" | od -An -c | tr -d ' ')" = '211PNG' ] || fail "no PNG in $d"
done
ok "dla through sweep run: df per repetition (different seeds), a PNG per task"

# What a person reads on an 80-column terminal fits it: the list, each model's page
# (descriptions wrapped under their column or below their row, the example continued
# with a backslash and still one command for a shell).
expect_code 0 sweep models
fits_80 "$T/out" "sweep models"
for m in $(sweep models --json | jq -r '.[].name'); do
    expect_code 0 sweep models "$m"
    fits_80 "$T/out" "sweep models $m"
done
expect_code 0 sweep models navier-stokes
got=$(sed -n '/^Example:/,$p' "$T/out" | tail -n +2 | sed 's/^ *sweep sim/echo/' | sh)
[ "$got" = "navier-stokes --set Re=1600 --set grid_size=[64,64,64] --set T_final=1" ] ||
    fail "the example is not one command: $got"
ok "sweep models: every page fits 80 columns; a long example stays one command"
