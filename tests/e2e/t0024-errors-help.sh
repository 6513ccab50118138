# Mistyped names get "did you mean" (commands, options of every command, placeholders,
# models, model parameters), spec errors found after parsing name file:line:col, and
# every command's --help lists -h and fits in 80 columns.
. "$SWEEP_SRC/tests/e2e/lib.sh"

expect_code 2 sweep stauts
expect_in "$T/err" "unknown command 'stauts' (did you mean 'status'?)"
expect_code 2 sweep frobnicate
expect_not_in "$T/err" "did you mean"
ok "a mistyped command gets the nearest one"

# The commands as `sweep --help` lists them (other commands may be added: no fixed list).
expect_code 0 sweep --help
cp "$T/out" help.txt
awk '/^Commands:/ { f = 1; next } f && /^$/ { exit } f { print $1 }' help.txt >commands.txt
[ "$(count_lines commands.txt)" -ge 10 ] || fail "too few commands in sweep --help"
grep -qx status commands.txt || fail "status is not in the command list"
# Aligned: every summary starts in the same column.
cols=$(awk '/^Commands:/ { f = 1; next } f && /^$/ { exit }
            f { match($0, /^  [^ ]+ +/); print RLENGTH }' help.txt | sort -u | wc -l)
[ "$cols" -eq 1 ] || { cat help.txt >&2; fail "the command list is not aligned"; }
awk 'length($0) > 80 { print; bad = 1 } END { exit bad }' help.txt ||
    fail "sweep --help has lines over 80 columns"
ok "sweep --help: the command list is aligned and fits in 80 columns"

while read -r cmd; do
    expect_code 0 sweep "$cmd" --help
    cp "$T/out" "help-$cmd.txt"
    awk 'length($0) > 80 { print; bad = 1 } END { exit bad }' "help-$cmd.txt" >&2 ||
        fail "sweep $cmd --help has lines over 80 columns"
    expect_in "help-$cmd.txt" "-h, --help"
    expect_code 0 sweep "$cmd" -h
    cmp -s "$T/out" "help-$cmd.txt" || fail "sweep $cmd -h differs from --help"
    # A long option of the command with its second letter left out: exit 2 and the
    # option suggested (the help itself when the command has no other).
    opt=$(sed -n 's/^  \(-[a-z], \)\{0,1\}--\([a-z][a-z-]\{3,\}\).*/\2/p' "help-$cmd.txt" |
        grep -vx help | head -n 1)
    [ -n "$opt" ] || opt=help
    typo=$(printf '%s' "$opt" | sed 's/^\(.\)./\1/')
    expect_code 2 sweep "$cmd" "--$typo"
    expect_in "$T/err" "unknown option '--$typo' (did you mean '--$opt'?)"
done <commands.txt
ok "every command: -h, lines <= 80 columns, a mistyped option gets the nearest one"

expect_code 0 sweep aggregate --help
sed '/^$/q' "$T/out" | grep -q -- "--step NAME" || fail "aggregate usage lacks --step"
expect_code 0 sweep plot --help
sed '/^$/q' "$T/out" | grep -q -- "--step NAME" || fail "plot usage lacks --step"
expect_code 0 sweep sim --help
sed -n 1,3p "$T/out" | grep -q -- "--outdir DIR" || fail "sim usage lacks --outdir"
ok "usage lines show --step (aggregate, plot) and --outdir (sim)"

expect_code 2 sweep run --max-paralel 4 x.yaml
expect_in "$T/err" "unknown option '--max-paralel' (did you mean '--max-parallel'?)"
expect_code 2 sweep run x.yaml --max-parallel
expect_in "$T/err" "option '--max-parallel' needs a value"
expect_code 2 sweep status --json=yes
expect_in "$T/err" "option '--json' takes no value"
ok "sweep run --max-paralel: did you mean --max-parallel; a missing value is named"

cat >temp.yaml <<'EOF2'
study: temp
command: [echo, "{Temp}"]
parameters:
  T: [1, 2]
EOF2
expect_code 2 sweep run temp.yaml
expect_in "$T/err" 'temp.yaml:2:17: command[1]: unknown placeholder {Temp}'
expect_in "$T/err" '(did you mean {T}?)'
ok "an unknown placeholder: file:line:col of the element and the nearest parameter"

cat >ns.yaml <<'EOF2'
study: ns
model: navier_stokes
EOF2
expect_code 2 sweep run ns.yaml
expect_in "$T/err" \
    'ns.yaml:2:8: model: unknown model "navier_stokes" (did you mean "navier-stokes"?)'
expect_code 2 sweep sim navier_stokes
expect_in "$T/err" 'unknown model "navier_stokes" (did you mean "navier-stokes"?)'
expect_code 2 sweep models navier_stokes
expect_in "$T/err" '(did you mean "navier-stokes"?)'
ok "an unknown model: file:line:col and the nearest model"

cat >dla.yaml <<'EOF2'
study: dla
model: dla
parameters:
  n_particle: [100, 200]
EOF2
expect_code 2 sweep run dla.yaml
expect_in "$T/err" 'dla.yaml:4:3: parameters.n_particle: dla: unknown parameter "n_particle" (did you mean "n_particles"?)'
cat >re.yaml <<'EOF2'
study: re
model: cavity
base: {grid_size: [16, 16]}
tasks:
  - {Re: 100}
  - {re: 200}
EOF2
expect_code 2 sweep run re.yaml
expect_in "$T/err" 're.yaml:6:6: tasks[1].re: cavity: unknown parameter "re" (did you mean "Re"?)'
cat >range.yaml <<'EOF2'
study: range
model: chaos
parameters:
  fail_rate: [0.5, 1.5]
EOF2
expect_code 2 sweep run range.yaml
expect_in "$T/err" 'range.yaml:4:3: parameters.fail_rate: chaos: fail_rate: expected'
expect_code 2 sweep sim navier-stokes --set re=100
expect_in "$T/err" 'unknown parameter "re" (did you mean "Re"?)'
expect_code 0 sweep list
expect_not_in "$T/out" "dla"
ok "an unknown or bad model parameter: file:line:col of its name, the nearest name"
