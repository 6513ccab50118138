# The models' own checks (issue 9, items 3, 14 and 24): a navier-stokes run past the
# RK4 stability limit is a failure (success false, an error, exit 1) through `sweep sim`
# and through a study; a parameter the model cannot allocate (grid_size, n_particles,
# num_particles) is refused by the parameter check before anything runs, in a spec and
# in a package directory, naming the parameter, the value and the limit; `sweep models`
# gives lengths a unit and says which metric only reports a parameter back.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# ---- item 3: CFL 2.55 with RK4 was success true, exit 0 ----
SWEEP_RESULT="$T/r.json" expect_code 1 sweep sim navier-stokes --set dt=1 --set T_final=5 \
    --set 'grid_size=[16,16,16]' --json --outdir "$T/simout"
expect_in "$T/err" "navier-stokes: unstable at t=0 (step 0): CFL 2.546 is above 1.35, the RK4 stability limit"
jq_eq "$T/out" '.success' false
jq_eq "$T/out" '.convergence' false
jq_eq "$T/out" '.cfl_max > 1.35' true
jq_eq "$T/out" '.error | test("CFL 2.546 is above 1.35")' true
cmp -s "$T/r.json" "$T/out" || fail "\$SWEEP_RESULT differs from --json output"
# Half the step is within the limit: a success, exit 0.
expect_code 0 sweep sim navier-stokes --set dt=0.5 --set T_final=5 \
    --set 'grid_size=[16,16,16]' --json --outdir "$T/simout"
jq_eq "$T/out" '.success' true
jq_eq "$T/out" 'has("error")' false
# An adaptive step cannot be asked above the limit.
expect_code 2 sweep sim navier-stokes --set cfl_max=2 --outdir "$T/simout"
expect_in "$T/err" "navier-stokes: cfl_max: expected a number in [0, 1.35], got 2"
ok "sweep sim navier-stokes: a step above the CFL limit 1.35 is success false, an error, exit 1"

cat >cfl.yaml <<'EOF2'
study: cfl
model: navier-stokes
parameters:
  dt: [0.5, 1]
base:
  grid_size: [16, 16, 16]
  T_final: 5
EOF2
expect_code 1 sweep run cfl.yaml
expect_code 0 sweep results cfl --format json
jq_eq "$T/out" '[.[] | select(.params.dt == 1) | .state] | .[0]' failed
jq_eq "$T/out" '[.[] | select(.params.dt == 1) | .metrics.success] | .[0]' false
jq_eq "$T/out" '[.[] | select(.params.dt == 1) | .metrics.error | test("RK4 stability limit")] | .[0]' true
jq_eq "$T/out" '[.[] | select(.params.dt == 0.5) | .state] | .[0]' succeeded
ok "through a study: the unstable task failed with the reason in its metrics, the other succeeded"

# ---- item 24: limits in the parameter check, before anything runs ----
cat >big.yaml <<'EOF2'
study: big
model: navier-stokes
parameters:
  Re: [100, 200]
base:
  grid_size: [65536, 65536, 65536]
EOF2
expect_code 2 sweep run big.yaml
expect_in "$T/err" "navier-stokes: grid_size: [65536, 65536, 65536] needs 31458240.0 GiB of memory, more than the limit of 2 GiB"
expect_code 2 sweep status big
expect_in "$T/err" "no study named 'big'"
ok "a grid the model cannot allocate: sweep run exits 2 before any task runs"

for m in "dla n_particles 1000000000000" "eden n_particles 1000000000000" \
    "ballistic n_particles 1000000000000" "cca n_particles 1000000000000" \
    "particles num_particles 100000000"; do
    set -- $m
    printf 'study: huge-%s\nmodel: %s\nparameters:\n  seed: [1, 2]\nbase:\n  %s: %s\n' \
        "$1" "$1" "$2" "$3" >huge.yaml
    expect_code 2 sweep run huge.yaml
    expect_in "$T/err" "$1: $2"
    expect_in "$T/err" "$3"
    expect_in "$T/err" "2 GiB"
    [ ! -d "$SWEEP_HOME/studies/huge-$1/tasks" ] || fail "$1: a task directory was made"
done
ok "dla, eden, ballistic, cca, particles: a size over the memory limit is refused before the run"

P=parametric_sweep_packages
mkdir -p "$P"
cat >"$P/priority_summary.json" <<'EOF2'
{"HIGH": [{"package_id": 1, "priority": "HIGH"}], "MEDIUM": [], "LOW": []}
EOF2
printf '{"package_id": 1, "Re": 100, "grid_size": [65536, 65536, 65536], "priority": "HIGH"}\n' \
    >"$P/package_0001.json"
expect_code 2 sweep run "$P/"
expect_in "$T/err" "package_0001.json"
expect_in "$T/err" "grid_size: [65536, 65536, 65536] needs 31458240.0 GiB of memory, more than the limit of 2 GiB"
[ ! -e parametric_sweep_results/results_package_0001.json ] || fail "the package ran"
ok "a package whose grid the model cannot allocate is refused before the run"

# ---- item 14: units of lengths; a metric that only echoes a parameter says so ----
for m in eden ballistic cca; do
    expect_code 0 sweep models "$m"
    grep -Eq '^  rg +lattice units ' "$T/out" || fail "$m: rg without lattice units"
    grep -Eq '^  max_radius +lattice units ' "$T/out" || fail "$m: max_radius without a unit"
    grep -Eq '^  n_particles +the n_particles parameter, reported' "$T/out" ||
        fail "$m: the n_particles metric is not labelled as the parameter reported back"
done
expect_code 0 sweep models dla
grep -Eq '^  rg +as particle_radius ' "$T/out" || fail "dla: rg without a unit"
expect_code 0 sweep models navier-stokes
grep -Eq '^  cfl_max +measured: ' "$T/out" || fail "navier-stokes: cfl_max metric not labelled"
expect_code 0 sweep models eden --json
jq_eq "$T/out" '[.metrics[] | select(.name == "rg") | .unit] | .[0]' "lattice units"
ok "sweep models: lengths have units; a metric named like a parameter says what it is"
