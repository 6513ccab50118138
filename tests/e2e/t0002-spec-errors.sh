# Bad specs are refused with file:line:col and the field, exit 2, and nothing is stored.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >bad.yaml <<'EOF'
study: bad
command: [echo, "{x}"]
parameters:
  x: [1, 2]
retries:
  max: three
EOF
expect_code 2 sweep run bad.yaml
expect_in "$T/err" 'bad.yaml:6:8: retries.max: expected a non-negative integer, got "three"'
ok "retries.max error names file:line:col and the field"

cat >unknown.yaml <<'EOF'
study: unknown
command: [echo, "{x}"]
parameters:
  x: [1, 2]
retry: {max: 1}
EOF
expect_code 2 sweep run unknown.yaml
expect_in "$T/err" 'unknown.yaml:5:1:'
expect_in "$T/err" 'retry'
ok "an unknown field is an error"

cat >placeholder.yaml <<'EOF'
study: placeholder
command: [echo, "{y}"]
parameters:
  x: [1, 2]
EOF
expect_code 2 sweep run placeholder.yaml
expect_in "$T/err" '{y}'
ok "an unknown placeholder is an error"

cat >model.yaml <<'EOF'
study: badmodel
model: chaos
parameters:
  fail_rate: [0.5, 1.5]
EOF
expect_code 2 sweep run model.yaml
expect_in "$T/err" 'fail_rate'
ok "a model parameter out of range is refused before running"

cat >syntax.json <<'EOF'
{"study": "syntax", "command": ["echo"],
 "parameters": {"x": [1, 2}
}
EOF
expect_code 2 sweep run syntax.json
expect_in "$T/err" 'syntax.json:2:'
ok "a JSON syntax error names file:line"

expect_code 2 sweep run missing.yaml
expect_in "$T/err" 'missing.yaml'
ok "a missing spec file is named"

# Nothing of the refused studies was stored.
expect_code 0 sweep list --json
jq_eq "$T/out" 'length' 0
ok "nothing stored for refused specs"

expect_code 2 sweep run
expect_code 2 sweep run a.yaml --max-parallel zero
expect_in "$T/err" '--max-parallel'
expect_code 2 sweep run a.yaml --mode fast
expect_code 2 sweep nosuchcommand
expect_code 0 sweep run --help
expect_in "$T/out" 'Example:'
ok "usage errors exit 2; --help has an example"
