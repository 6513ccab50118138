# Parameter values never reach a shell: "x; touch pwned" stays one inert argument.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >study.yaml <<EOF
study: inject
command: [printf, "%s|", "{v}"]
parameters:
  v: ["x; touch $T/pwned1", "\$(touch $T/pwned2)", "\`touch $T/pwned3\`", "a b  c"]
EOF
expect_code 0 sweep run study.yaml
[ ! -e "$T/pwned1" ] && [ ! -e "$T/pwned2" ] && [ ! -e "$T/pwned3" ] ||
    fail "a parameter value was run by a shell"
expect_code 0 sweep results inject --format json
for k in $(jq -r '.[].key' "$T/out"); do
    sweep logs "$k" --stdout >>"$T/all"
done
expect_in "$T/all" "x; touch $T/pwned1|"
expect_in "$T/all" "a b  c|"
ok "values are single argv elements, never interpreted"

cat >shell.yaml <<EOF
study: shellq
shell: true
command: "printf '%s' {v} > out.txt"
parameters:
  v: ["x; touch $T/pwned4", "it's"]
EOF
expect_code 0 sweep run shell.yaml
[ ! -e "$T/pwned4" ] || fail "shell: true did not quote a value"
ok "shell: true quotes every value"
