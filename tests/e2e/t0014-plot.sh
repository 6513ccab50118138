# sweep plot on a real chaos study (value = x*x + y + noise): PNG and SVG output, one
# series per --by value with a legend, axis labels, --logy, and the errors that exit 2.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >study.yaml <<'EOF'
study: S
model: chaos
parameters:
  x: [1, 2, 3]
  y: [0, 10]
  sigma: [0.5]
repetitions: 3
EOF
expect_code 0 sweep run study.yaml
ok "a chaos study of 6 points with 3 repetitions each"

expect_code 0 sweep plot S --x x --y value --by y -o p.png
expect_in "$T/out" "wrote p.png"
[ "$(head -c 8 p.png | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
    fail "p.png does not start with the PNG signature"
[ "$(wc -c <p.png)" -gt 5000 ] || fail "p.png is suspiciously small: $(wc -c <p.png) bytes"
if [ -n "${SWEEP_ARTIFACTS:-}" ]; then
    mkdir -p "$SWEEP_ARTIFACTS" && cp p.png "$SWEEP_ARTIFACTS/plot.png" ||
        fail "could not keep p.png in $SWEEP_ARTIFACTS"
fi
ok "png: the PNG signature and a non-trivial size"

expect_code 0 sweep plot S --x x --y value --by y -o p.svg
expect_in p.svg "<svg"
expect_in p.svg ">y=0<"
expect_in p.svg ">y=10<"
expect_in p.svg ">value: x*x + y + noise<"
expect_in p.svg ">x: free input<"
expect_in p.svg ">S<"
ok "svg: a legend entry per --by value, the axis labels and the study name as title"

expect_code 0 sweep plot S --x x --y value --by y --logy --title "value vs x" -o log.svg
expect_in log.svg ">value vs x<"
[ "$(wc -c <log.svg)" -gt 1000 ] || fail "log.svg is suspiciously small"
expect_code 0 sweep plot S --x x --y value --logx --logy -o log.png
[ -s log.png ] || fail "no log.png"
ok "--logy, --logx and --title; without --by one series"

expect_code 0 sweep plot S --x x --y value --by y -o p.pdf
[ "$(head -c 5 p.pdf)" = "%PDF-" ] || fail "p.pdf is not a PDF"
ok "pdf by the extension"

(mkdir -p dflt && cd dflt && expect_code 0 sweep plot S --x x --y value) || exit 1
[ -s dflt/plot.png ] || fail "no default plot.png"
ok "default output plot.png"

# Units from the model's row: chaos gives duration in seconds; value has no unit.
cat >units.yaml <<'EOF'
study: units
model: chaos
parameters:
  duration: [0, 0.01]
  cpu: [false, true]
EOF
expect_code 0 sweep run units.yaml
expect_code 0 sweep plot units --x duration --y value -o u.svg
expect_in u.svg ">duration: how long the run takes (s)<"
expect_in u.svg ">value: x*x + y + noise<"
ok "axis labels carry the model's units where it has them"

expect_code 2 sweep plot S --x x --y nosuch -o e.png
expect_in "$T/err" 'unknown metric "nosuch"'
expect_code 2 sweep plot S --x z --y value -o e.png
expect_in "$T/err" 'unknown parameter "z"'
expect_code 2 sweep plot nostudy --x x --y value -o e.png
expect_in "$T/err" "nostudy"
expect_code 2 sweep plot S --x x --y value -o p.jpg
expect_in "$T/err" "p.jpg"
[ ! -e p.jpg ] || fail "p.jpg was written"
expect_code 2 sweep plot S --y value
expect_in "$T/err" "--x"
expect_code 2 sweep plot S --x x --y value --bogus
[ ! -e e.png ] || fail "an error case wrote e.png"
ok "unknown metric, parameter, study, extension or option: exit 2 naming it"

expect_code 2 sweep plot units --x cpu --y value -o s.png
expect_in "$T/err" '"cpu"'
expect_in "$T/err" "numeric"
ok "non-numeric x: exit 2 naming the parameter"

expect_code 0 sweep plot --help
expect_in "$T/out" "Example:"
expect_in "$T/out" "--by"
ok "--help shows the options and an example"
