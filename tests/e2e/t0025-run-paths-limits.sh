# What `sweep run` reads and what it runs (issue 9, items 11, 12, 19, 20): a FIFO, a
# device or a symlink loop as a spec or a package file is refused at once (exit 2),
# never waited on; a study over --max-tasks is refused before anything is stored;
# --dry-run prints the count first, then each task's argv (shell-quoted, as the runner
# runs it, --priority honoured, 20 unless --all); {spec_dir}; and a task that fails at
# once has the first lines of its stderr shown, with a hint about {spec_dir}.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# ---- item 20: files that are not regular files ----
mkfifo fifo.yaml
expect_code 2 timeout 20 "$SWEEP_BIN" run fifo.yaml
expect_in "$T/err" "fifo.yaml: is a FIFO, not a regular file"
ln -s loop.yaml loop.yaml
expect_code 2 sweep run loop.yaml
expect_in "$T/err" "loop.yaml: cannot open: a loop of symbolic links"
expect_code 2 sweep run /dev/null
expect_in "$T/err" "/dev/null: is a character device, not a regular file"
[ ! -e "$SWEEP_HOME" ] || fail "a refused spec created the sweep home"
ok "a FIFO, a device or a symlink loop as the spec: exit 2 at once"

P=pk
mkdir -p "$P"
mkfifo "$P/priority_summary.json"
expect_code 2 timeout 20 "$SWEEP_BIN" run "$P/"
expect_in "$T/err" "priority_summary.json: is a FIFO, not a regular file"
rm "$P/priority_summary.json"
cat >"$P/priority_summary.json" <<'EOF'
{"HIGH": [{"package_id": 1, "priority": "HIGH", "description": "a"}]}
EOF
mkfifo "$P/package_0001.json"
expect_code 2 timeout 20 "$SWEEP_BIN" run "$P/" --command "true"
expect_in "$T/err" "package_0001.json: is a FIFO, not a regular file"
ok "a FIFO as priority_summary.json or as a package file: exit 2 at once"

# ---- item 19: a limit on a study's size ----
mkdir -p sub
cat >sub/big.yaml <<'EOF'
study: big
command: [echo, "{a}", "{b}", "{c}"]
parameters:
  a: {range: [1, 1000, 1]}
  b: {range: [1, 1000, 1]}
  c: {range: [1, 1000, 1]}
EOF
expect_code 2 sweep run sub/big.yaml
expect_in "$T/err" "study big has 1000000000 tasks, more than --max-tasks 100000000"
[ ! -e "$SWEEP_HOME" ] || fail "a refused study wrote to the sweep home"
expect_code 2 sweep run sub/big.yaml --max-tasks 999999999
expect_in "$T/err" "--max-tasks 999999999"
expect_code 2 sweep run sub/big.yaml --max-tasks 0
expect_code 2 sweep run sub/big.yaml --max-tasks 12x
expect_code 2 sweep run sub/big.yaml --dry-run
[ "$(head -n 1 "$T/out")" = "study big: 1000000000 tasks" ] || fail "no count first"
expect_in "$T/err" "study big has 1000000000 tasks"
[ ! -e "$SWEEP_HOME" ] || fail "a refused study wrote to the sweep home"
ok "a study over --max-tasks is refused with its count, nothing stored"

expect_code 0 sweep run sub/big.yaml --dry-run --max-tasks 1000000000
[ "$(head -n 1 "$T/out")" = "study big: 1000000000 tasks" ] || fail "no count first"
[ "$(grep -c '^    echo ' "$T/out")" -eq 20 ] || fail "--dry-run did not list 20 tasks"
expect_in "$T/out" "    echo 1 1 20"
expect_in "$T/out" "... 999999980 more (--all lists every one)"
[ ! -e "$SWEEP_HOME" ] || fail "--dry-run wrote to the sweep home"
ok "--dry-run of a billion tasks: the count, 20 tasks, the rest counted"

# ---- item 11: --dry-run shows the argv, honours --priority ----
cat >sub/sim.sh <<'EOF'
echo "sim $*"
EOF
cat >sub/q.yaml <<'EOF'
study: q
command: [sh, "{spec_dir}/sim.sh", "--label", "{label}", "{n}"]
parameters:
  n: [1, 2, 3]
base: {label: "it's a b"}
tasks:
  - {n: 9, priority: HIGH, label: "$(touch pwned)"}
EOF
S=$(cd sub && pwd -P)
expect_code 0 sweep run sub/q.yaml --dry-run
[ "$(head -n 1 "$T/out")" = "study q: 4 tasks" ] || fail "no count first"
expect_in "$T/out" "    sh $S/sim.sh --label 'it'\''s a b' 1"
expect_in "$T/out" "    sh $S/sim.sh --label '\$(touch pwned)' 9"
expect_code 0 sweep run sub/q.yaml --dry-run --priority HIGH
[ "$(head -n 1 "$T/out")" = "study q: 4 tasks, 1 of them HIGH" ] || fail "no band count"
[ "$(grep -c '^    sh ' "$T/out")" -eq 1 ] || fail "--priority HIGH listed another band"
expect_in "$T/out" "HIGH   rep=0"
expect_not_in "$T/out" "MEDIUM"
[ ! -e pwned ] && [ ! -e "$SWEEP_HOME" ] || fail "--dry-run ran or stored something"
# the argv line, given to a shell, runs what the runner runs
grep '^    sh ' "$T/out" | sh >"$T/by-hand" || fail "the dry-run line does not run"
expect_code 0 sweep run sub/q.yaml --priority HIGH
k=$(sweep results q --format json | jq -r '.[] | select(.state == "succeeded") | .key')
sweep logs "$k" --stdout >"$T/by-sweep"
cmp "$T/by-hand" "$T/by-sweep" || fail "the dry-run argv is not what the task ran"
[ ! -e pwned ] || fail "a value reached a shell"
expect_code 2 sweep run sub/q.yaml --all
ok "--dry-run: the argv of each task, shell-quoted, as the runner runs it; --priority"

cat >sub/pipe.yaml <<'EOF'
study: pipe
parameters: {x: [1, 2]}
steps:
  - name: sim
    model: chaos
  - name: an
    command: [./an.sh, "{steps.sim.result}"]
reduce:
  command: [sum, "{reduce.input}"]
EOF
expect_code 0 sweep run sub/pipe.yaml --dry-run --all
[ "$(head -n 1 "$T/out")" = "study pipe: 5 tasks" ] || fail "no count first"
expect_in "$T/out" " sim chaos --params '{\"x\":1}'"
expect_in "$T/out" "    $S/./an.sh $SWEEP_HOME/studies/pipe/tasks/"
expect_in "$T/out" "/result.json"
expect_in "$T/out" "    sum $SWEEP_HOME/studies/pipe/tasks/"
expect_in "$T/out" "/input.json"
[ "$(grep -c '^    ' "$T/out")" -eq 5 ] || fail "not every step listed"
ok "--dry-run of a pipeline: the model's argv, each step's, the reduce's"

# ---- item 12: {spec_dir}, and the stderr of a task that fails at once ----
cat >sub/bad.yaml <<'EOF'
study: bad
command: [sh, sim.sh, "{n}"]
parameters:
  n: [1, 2, 3]
EOF
expect_code 1 sweep run sub/bad.yaml -q
expect_in "$T/err" "failed at once (exit code 2); its stderr:"
expect_in "$T/err" "sim.sh"
expect_in "$T/err" "hint: \"sim.sh\" is beside the spec, but a task runs in its own directory; write \"{spec_dir}/sim.sh\""
[ "$(grep -c 'failed at once' "$T/err")" -eq 1 ] ||
    fail "the same failure was shown more than once"
ok "a task that fails at once: its stderr once, and a hint about {spec_dir}"

cat >sub/good.yaml <<'EOF'
study: good
command: [sh, "{spec_dir}/sim.sh", "{n}"]
parameters:
  n: [1, 2]
EOF
(cd / && "$SWEEP_BIN" run "$T/sub/good.yaml" -q >"$T/out" 2>"$T/err") ||
    fail "{spec_dir}/sim.sh did not run: $(cat "$T/err")"
expect_not_in "$T/err" "failed at once"
expect_code 0 sweep results good --format json
jq_eq "$T/out" '[.[] | .state] | unique | join(",")' succeeded
ok "{spec_dir} is the spec's directory, wherever sweep runs"

cat >sub/many.yaml <<'EOF'
study: many
command: [sh, -c, "echo failure {n} >&2; exit 1"]
parameters:
  n: [1, 2, 3, 4, 5, 6]
max_parallel: 1
EOF
expect_code 1 sweep run sub/many.yaml -q
[ "$(grep -c 'failed at once (exit code 1)' "$T/err")" -eq 3 ] || {
    cat "$T/err" >&2
    fail "not the first 3 distinct early failures"
}
expect_in "$T/err" "    failure 1"
expect_in "$T/err" "more tasks fail at once; see 'sweep results many --state failed'"
expect_not_in "$T/err" "hint:"
ok "distinct early failures: the first three shown, then one line"
