# The parametric-sweep package layout: `sweep run parametric_sweep_packages/` with the
# navier-stokes model and with --command, by priority, sequential and parallel; the
# results files, logs and progress report; resume; `sweep run-package`; the layout's exit
# codes (0, 1, 2, 124); and every kind of bad configuration refused before anything runs,
# leaving the results already written as they were.
. "$SWEEP_SRC/tests/e2e/lib.sh"

P=parametric_sweep_packages
R=parametric_sweep_results
L=parametric_sweep_logs

# package ID PRIORITY RE: a small, fast navier-stokes package (Taylor-Green, 16^3).
package() {
    printf '{"package_id": %d, "Re": %s, "dt": 0.01, "T_final": 0.05, "grid_size": [16, 16, 16], "priority": "%s"}\n' \
        "$1" "$3" "$2" >"$P/$(printf 'package_%04d.json' "$1")"
}

mkdir -p "$P"
cat >"$P/priority_summary.json" <<'EOF'
{
  "HIGH": [{"package_id": 1, "priority": "HIGH", "description": "critical Re",
            "parameters": {"Re": [100], "grid_size": [[16, 16, 16]]}}],
  "MEDIUM": [{"package_id": 2, "priority": "MEDIUM", "description": "mid Re"},
             {"package_id": 3, "priority": "MEDIUM", "description": "mid Re"}],
  "LOW": [{"package_id": 4, "priority": "LOW", "description": "high Re"}]
}
EOF
package 1 HIGH 100
package 2 MEDIUM 200
package 3 MEDIUM 400
package 4 LOW 800

expect_code 0 sweep run "$P/" --priority HIGH
[ -f "$R/results_package_0001.json" ] || fail "no results file for package 1"
for i in 2 3 4; do
    [ ! -e "$R/results_package_000$i.json" ] || fail "package $i ran under --priority HIGH"
done
f=$R/results_package_0001.json
jq_eq "$f" '.package_id' 1
jq_eq "$f" '.status' completed
jq_eq "$f" '.results.success' true
jq_eq "$f" '.results.n_steps' 5
jq_eq "$f" '(.execution_time | type) == "number" and .execution_time > 0' true
jq_eq "$f" '.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")' true
[ "$(jq -S .config "$f")" = "$(jq -S . "$P/package_0001.json")" ] ||
    fail "config is not the package file"
# The model's own metrics, as `sweep sim` gives them for the same parameters.
expect_code 0 sweep sim navier-stokes --set Re=100 --set dt=0.01 --set T_final=0.05 \
    --set 'grid_size=[16,16,16]' --json
jq_eq "$T/out" '.energy' "$(jq -r .results.energy "$f")"
expect_in "$L/batch.log" "package 0001 started (HIGH)"
expect_in "$L/batch.log" "package 0001 completed"
expect_in "$L/package_0001.log" "package 1 (HIGH): succeeded"
[ "$(head -c 8 artifacts/parametric_sweep_progress.png | od -An -tx1 | tr -d ' \n')" = \
    "89504e470d0a1a0a" ] || fail "no PNG progress report"
if [ -n "${SWEEP_ARTIFACTS:-}" ]; then
    mkdir -p "$SWEEP_ARTIFACTS" &&
        cp artifacts/parametric_sweep_progress.png "$SWEEP_ARTIFACTS/parametric_sweep_progress.png"
fi
ok "--priority HIGH: package 1 only, its results file, logs and the progress PNG"

stamp1=$(jq -r .timestamp "$f")
expect_code 0 sweep run "$P" --mode parallel --json
jq_eq "$T/out" '.selected' 4
jq_eq "$T/out" '.completed' 4
jq_eq "$T/out" '.skipped' 1
jq_eq "$T/out" '[.packages[].state] | unique | join(",")' succeeded
for i in 2 3 4; do
    jq_eq "$R/results_package_000$i.json" '.status' completed
    jq_eq "$R/results_package_000$i.json" '.package_id' "$i"
done
jq_eq "$f" '.timestamp' "$stamp1"
expect_in "$L/batch.log" "package 0001 already completed, skipped"
# Reynolds number matters: the energy decays faster at Re 200 than at Re 800.
jq -e -n --slurpfile a "$R/results_package_0002.json" --slurpfile b "$R/results_package_0004.json" \
    '$a[0].results.energy < $b[0].results.energy' >/dev/null || fail "energy does not depend on Re"
expect_code 0 sweep status parametric_sweep_packages --json
jq_eq "$T/out" '.counts.succeeded' 4
ok "parallel: the other three ran, package 1 was skipped and left as it was"

# A lost results file (a crash between the store and the file) is written again.
rm "$R/results_package_0003.json"
expect_code 0 sweep run "$P" --json
jq_eq "$T/out" '.skipped' 4
jq_eq "$R/results_package_0003.json" '.status' completed
ok "re-run: everything skipped; a missing results file is rewritten from the store"

expect_code 0 sweep run-package --package-id 2
jq_eq "$R/results_package_0002.json" '.attempts' 2
expect_in "$L/batch.log" "package 0002 completed before; running it again"
expect_code 2 sweep run-package --package-id 9
expect_in "$T/err" "no package 9"
expect_code 2 sweep run-package
expect_in "$T/err" "--package-id is required"
ok "run-package runs one package again; an unknown one exits 2"

# ---- bad configurations: exit 2, nothing runs, nothing already written changes ----
sum_before=$(cat "$R"/*.json | cksum)
bad() {
    rm -rf bad && cp -r "$P" bad
}
bad
printf '{"package_id": 2, "Re": 200,\n "dt": }\n' >bad/package_0002.json
expect_code 2 sweep run bad --command "true"
expect_in "$T/err" "bad/package_0002.json:2:"
expect_in "$T/err" "invalid JSON"
ok "a malformed package file: exit 2, file:line named"

bad
rm bad/priority_summary.json
expect_code 2 sweep run bad
expect_in "$T/err" "bad/priority_summary.json: not found"
bad
echo '{"HIGH": [' >bad/priority_summary.json
expect_code 2 sweep run bad
expect_in "$T/err" "bad/priority_summary.json:"
ok "a missing or malformed priority_summary.json: exit 2"

bad
rm bad/package_0003.json
package 5 LOW 100 && mv "$P/package_0005.json" bad/
expect_code 2 sweep run bad
expect_in "$T/err" "2 problems"
expect_in "$T/err" "lists package 3, but bad/package_0003.json does not exist"
expect_in "$T/err" "bad/package_0005.json: package 5 is not listed in priority_summary.json"
ok "a listed package without its file and a file not listed are both reported"

bad
jq '.priority = "LOW"' "$P/package_0001.json" >bad/package_0001.json
jq '.package_id = 7' "$P/package_0002.json" >bad/package_0002.json
jq '.Re = -5' "$P/package_0004.json" >bad/package_0004.json
expect_code 2 sweep run bad
expect_in "$T/err" 'bad/package_0001.json: priority: expected "HIGH"'
expect_in "$T/err" "bad/package_0002.json: package_id: expected 2"
bad
jq '.Re = -5' "$P/package_0004.json" >bad/package_0004.json
expect_code 2 sweep run bad
expect_in "$T/err" "bad/package_0004.json"
expect_in "$T/err" "Re"
[ "$(cat "$R"/*.json | cksum)" = "$sum_before" ] || fail "a refused batch changed results files"
[ ! -e .sweep/studies/bad ] || fail "a refused batch stored a study"
ok "priority or package_id disagreeing, a bad parameter: exit 2; results untouched"

# ---- --command, failures and timeouts ----
mkdir cmd
cat >cmd/priority_summary.json <<'EOF'
{"HIGH": [{"package_id": 1}, {"package_id": 2}], "LOW": [{"package_id": 3}]}
EOF
echo '{"package_id": 1, "x": 2, "mode": "ok", "priority": "HIGH"}' >cmd/package_0001.json
echo '{"package_id": 2, "x": 3, "mode": "fail", "priority": "HIGH"}' >cmd/package_0002.json
echo '{"package_id": 3, "x": 4, "mode": "hang", "priority": "LOW"}' >cmd/package_0003.json
cat >pkg.sh <<'EOF'
#!/bin/sh
echo "package $1 with x=$2"
case $3 in
fail) echo "broken on purpose" >&2; exit 3 ;;
hang) exec sleep 60 ;;
esac
printf '{"square": %d, "nested": {"id": %d}}\n' $(($2 * $2)) "$1" >"$SWEEP_RESULT"
EOF
chmod +x pkg.sh
expect_code 1 sweep run cmd --priority HIGH --command "./pkg.sh {package_id} {x} {mode}" \
    --output-dir cmd-results
jq_eq cmd-results/results_package_0001.json '.results.square' 4
jq_eq cmd-results/results_package_0001.json '.results.nested.id' 1
jq_eq cmd-results/results_package_0002.json '.status' failed
jq_eq cmd-results/results_package_0002.json '.error' "exit code 3"
expect_in "$L/package_0001.log" "package 1 with x=2"
expect_in "$L/package_0002.log" "broken on purpose"
ok "--command: placeholders, results, a failed package exits 1 with status failed"

expect_code 124 sweep run cmd --priority LOW --command "./pkg.sh {package_id} {x} {mode}" \
    --output-dir cmd-results --timeout 1s
jq_eq cmd-results/results_package_0003.json '.status' failed
jq_eq cmd-results/results_package_0003.json '.state' timed_out
expect_in "$L/batch.log" "package 0003 timed_out"
ok "a package that times out: exit 124, status failed, state timed_out"

expect_code 2 sweep run cmd --command "./pkg.sh {nope}"
expect_in "$T/err" "nope"
expect_code 2 sweep run study.yaml --command "true"
expect_code 2 sweep run nowhere
expect_in "$T/err" "nowhere"
ok "usage errors: an unknown placeholder, --command with a spec file, a missing path"
