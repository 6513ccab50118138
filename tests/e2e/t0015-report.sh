# sweep report on a real chaos study with tasks in every priority band and some
# failures: PNG, SVG and PDF by extension (format, size, the study name in the SVG), the
# PNG kept as a test artifact, and the errors that exit 2.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >study.yaml <<'EOF'
study: progress-demo
model: chaos
parameters:
  x: [1, 2, 3]
  sigma: [0]
repetitions: 2
tasks:
  - {x: 4, sigma: 0, fail_attempts: 1, priority: HIGH}
  - {x: 5, sigma: 0, priority: HIGH}
  - {x: 6, sigma: 0, priority: LOW}
EOF
expect_code 1 sweep run study.yaml
expect_code 0 sweep status progress-demo --json
jq_eq "$T/out" '.counts.succeeded' 10
jq_eq "$T/out" '.counts.failed' 2
ok "a chaos study with 10 successes and 2 failures over HIGH, MEDIUM and LOW"

magic() {
    head -c "$2" "$1" | od -An -tx1 | tr -d ' \n'
}

expect_code 0 sweep report progress-demo -o r.png
expect_in "$T/out" "wrote r.png"
[ "$(magic r.png 8)" = "89504e470d0a1a0a" ] || fail "r.png does not start with the PNG signature"
[ "$(wc -c <r.png)" -gt 20000 ] || fail "r.png is suspiciously small: $(wc -c <r.png) bytes"
if [ -n "${SWEEP_ARTIFACTS:-}" ]; then
    mkdir -p "$SWEEP_ARTIFACTS" && cp r.png "$SWEEP_ARTIFACTS/report.png" ||
        fail "could not keep r.png in $SWEEP_ARTIFACTS"
fi
ok "png: the PNG signature and a non-trivial size (kept as an artifact when asked)"

expect_code 0 sweep report progress-demo -o r.svg
expect_in r.svg "<svg"
expect_in r.svg "</svg>"
expect_in r.svg "<title>Progress report: progress-demo</title>"
[ "$(wc -c <r.svg)" -gt 20000 ] || fail "r.svg is suspiciously small"
expect_code 0 sweep report progress-demo --output r.PDF
[ "$(magic r.PDF 5)" = "255044462d" ] || fail "r.PDF does not start with %PDF-"
ok "svg with the study name as title, and pdf chosen by the extension in any case"

expect_code 0 sweep report progress-demo
[ -s report.png ] || fail "no report.png by default"
ok "the default output is report.png"

expect_code 2 sweep report nosuch -o x.png
expect_in "$T/err" "nosuch"
expect_code 2 sweep report progress-demo -o r.gif
expect_in "$T/err" ".png, .svg or .pdf"
expect_code 2 sweep report progress-demo -o noext
expect_code 2 sweep report
expect_code 2 sweep report a b
expect_code 2 sweep report progress-demo --bogus
[ ! -e x.png ] && [ ! -e r.gif ] && [ ! -e noext ] || fail "a failed report left a file"
ok "unknown study, bad extension or usage: exit 2 and no file"

expect_code 3 sweep report progress-demo -o missing/r.png
expect_in "$T/err" "missing/r.png"
ok "an output in a missing directory exits 3 and names the path"

expect_code 0 sweep report --help
expect_in "$T/out" "Example:"
expect_in "$T/out" "--output"
ok "--help shows the options and an example"
