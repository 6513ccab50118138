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
