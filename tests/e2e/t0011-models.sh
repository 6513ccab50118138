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
