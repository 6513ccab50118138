# sweep plot and sweep aggregate on chaos studies that vary more than the x parameter
# (value = x*x + y + noise): one series per value of the other parameters instead of
# pooling them, too many series refused; --xlabel/--ylabel/--width/--height/--scale,
# labels from the model's descriptions, a margin inside the frame, series side by
# side; and the power-law fit (--fit power) of both commands, whose exponent must be 2.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >study.yaml <<'EOF2'
study: S
model: chaos
parameters:
  x: [1, 2, 4, 8]
  y: [0, 100]
  sigma: [0.1]
repetitions: 5
EOF2
expect_code 0 sweep run study.yaml
ok "a chaos study varying x and y, 5 repetitions each"

# Item 4: y varies too, so no --by still gives one series per y (n = 5 per point, not
# 10), said on stdout and in the legend.
expect_code 0 sweep plot S --x x --y value -o p.svg
expect_in "$T/out" "one series per value of y, which also varies"
expect_in p.svg ">y=0<"
expect_in p.svg ">y=100<"
ok "no --by: one series per value of the other varying parameter"

cat >two.yaml <<'EOF2'
study: two
model: chaos
parameters:
  x: [1, 2]
  y: [0, 1]
  sigma: [0.1, 0.2]
EOF2
expect_code 0 sweep run two.yaml
expect_code 0 sweep plot two --x x --y value -o two.svg
expect_in "$T/out" "one series per value of sigma, y, which also vary"
expect_in two.svg ">sigma=0.1, y=0<"
expect_in two.svg ">sigma=0.2, y=1<"
expect_code 0 sweep plot two --x x --y value --by y -o two.svg
expect_in two.svg ">y=1, sigma=0.2<"
ok "two other varying parameters: a series per combination, --by first"

cat >many.yaml <<'EOF2'
study: many
model: chaos
parameters:
  x: [1, 2]
  y: {range: [0, 21, 1]}
EOF2
expect_code 0 sweep run many.yaml
expect_code 2 sweep plot many --x x --y value -o many.png
expect_in "$T/err" "22 series"
expect_in "$T/err" "y (22 values)"
expect_in "$T/err" "sweep aggregate many --by y,x"
[ ! -e many.png ] || fail "too many series still wrote many.png"
ok "more than 20 series: exit 2 naming the parameter, the number of its values and its number of values"

# Item 15: labels, size, scale, margin and dodge.
expect_code 0 sweep plot S --x x --y value -o d.svg
expect_in d.svg ">value: x*x + y + noise<"
expect_in d.svg ">x: free input<"
expect_code 0 sweep plot S --x x --y value --xlabel "T (K)" --ylabel "m" \
    --width 640 --height 400 -o l.svg
expect_in l.svg ">T (K)<"
expect_in l.svg ">m<"
expect_in l.svg 'width="640" height="400"'
expect_code 0 sweep plot S --x x --y value --width 400 --height 300 --scale 2 -o s.png
[ "$(od -An -tu1 -j16 -N8 s.png | tr -s ' ' | sed 's/^ //')" = "0 0 3 32 0 0 2 88" ] ||
    fail "s.png is not 800x600: $(od -An -tu1 -j16 -N8 s.png)"
expect_code 2 sweep plot S --x x --y value --scale 0 -o e.png
expect_in "$T/err" "--scale"
expect_code 2 sweep plot S --x x --y value --width 10 -o e.png
expect_in "$T/err" "--width"
ok "--xlabel, --ylabel, --width, --height, --scale (PNG pixels) and their errors"

# The frame (the rect drawn with the frame colour) and the leftmost marker: the
# marker's centre lies inside, further than its radius from the frame.
frame_x=$(grep 'stroke="#444444"' d.svg | grep -o '<rect x="[0-9.]*"' | head -1 |
    grep -o '[0-9.]*')
min_cx=$(grep -o 'circle cx="[0-9.]*"' d.svg | grep -o '[0-9.]*' | sort -n | head -1)
awk -v f="$frame_x" -v c="$min_cx" 'BEGIN { exit !(c - f > 5) }' ||
    fail "the first point (cx $min_cx) sits on the frame (x $frame_x)"
# The error bars (vertical lines) of the two series at the smallest x are apart.
bar_x() {
    grep "stroke=\"#$1\"" d.svg | grep -o '<line x1="[0-9.]*" y1="[0-9.]*" x2="[0-9.]*"' |
        awk -F'"' '$2 == $6 { print $2 }' | sort -n | head -1
}
b0=$(bar_x 0072b2)
b1=$(bar_x d55e00)
[ -n "$b0" ] && [ -n "$b1" ] || fail "no error bars found in d.svg"
awk -v a="$b0" -v b="$b1" 'BEGIN { d = a - b; exit !(d > 3 || d < -3) }' ||
    fail "the error bars of the two series at x = 1 overlap ($b0, $b1)"
ok "a margin between the frame and the outer points; series at one x side by side"

# Item 26: the power-law fit.
expect_code 0 sweep aggregate S --by y,x --metrics value --fit power --format json
cp "$T/out" fit.json
jq_eq fit.json '.fits | length' 2
jq_eq fit.json '.fits[0].params.y' 0
jq_eq fit.json '.fits[0].x' x
jq_eq fit.json '.fits[0].metric' value
jq_eq fit.json '.fits[0].n_points' 4
jq_eq fit.json '.fits[0].weighted' true
jq_eq fit.json '.fits[0].exponent > 1.98 and .fits[0].exponent < 2.02' true
jq_eq fit.json '.fits[0].exponent_stderr > 0 and .fits[0].exponent_stderr < 0.02' true
jq_eq fit.json '.fits[0].prefactor > 0.95 and .fits[0].prefactor < 1.05' true
jq_eq fit.json '.groups | length' 8
ok "aggregate --fit power --format json: exponent 2 with its stderr, per value of y"

expect_code 0 sweep aggregate S --by y,x --metrics value --fit power
# The exponent printed is 2 within the noise: 1.98 to 2.02.
TWO='(1\.9[89][0-9]*|2|2\.0[01][0-9]*)'
grep -qE "y=0: power-law fit of mean value against x: exponent $TWO \+- 0\.0" "$T/out" ||
    fail "no exponent 2 +- 0.0... in: $(cat "$T/out")"
expect_in "$T/out" "4 points, weighted by stderr"
expect_code 2 sweep aggregate S --by x --fit power --format csv
expect_in "$T/err" "--fit"
expect_code 2 sweep aggregate S --by x --fit linear
expect_in "$T/err" "--fit"
ok "aggregate --fit power: a line per fit after the table; csv and unknown fits exit 2"

expect_code 0 sweep plot S --x x --y value --by y --fit power -o f.svg
grep -qE "y=0: power-law fit: exponent $TWO \+- 0\.0" "$T/out" ||
    fail "no exponent 2 in: $(cat "$T/out")"
grep -qE ">y=0 fit: value ∝ x\^$TWO ± 0\.0[0-9]*<" f.svg || fail "no fit in f.svg's legend"
expect_in f.svg "stroke-dasharray"
expect_code 0 sweep plot S --x x --y value --by y --fit power -o f.png
if [ -n "${SWEEP_ARTIFACTS:-}" ]; then
    mkdir -p "$SWEEP_ARTIFACTS" && cp f.png "$SWEEP_ARTIFACTS/plot-fit.png" &&
        cp p.svg "$SWEEP_ARTIFACTS/plot-series.svg" ||
        fail "could not keep the pictures in $SWEEP_ARTIFACTS"
fi
ok "plot --fit power: the dashed fitted line and the exponent in the legend"

# Item 16: sweep chart over the task files of a study names each series by the task's
# parameters that differ between the files, and --by colours by one parameter.
cat >ns.yaml <<'EOF2'
study: ns
model: navier-stokes
parameters:
  Re: {range: [100, 1400, 100]}
  initial: [taylor-green, random]
  grid_size: [[16, 16]]
  T_final: [0.1]
EOF2
expect_code 0 sweep run ns.yaml
ts() { # the timeseries of the tasks with initial = $1, in the order of Re
    sweep results ns --format json |
        jq -r --arg w "$1" '[.[] | select(.params.initial == $w)] | sort_by(.params.Re)
            | .[].key' |
        while read -r key; do
            echo .sweep/studies/ns/tasks/*/"$key"/timeseries.csv
        done
}
tg=$(ts taylor-green)
rnd=$(ts random)
[ "$(echo "$tg" | wc -l)" -eq 14 ] || fail "expected 14 taylor-green tasks: $tg"
# shellcheck disable=SC2086
expect_code 0 sweep chart $(echo "$tg" | head -3) --x t --y energy -o c3.svg
expect_in c3.svg ">Re=100<"
expect_in c3.svg ">Re=300<"
expect_not_in c3.svg "timeseries"
# shellcheck disable=SC2086
expect_code 0 sweep chart $(echo "$tg" | head -2) $(echo "$rnd" | head -1) --x t \
    --y energy,dissipation -o c4.svg
expect_in c4.svg ">Re=100, initial=random: energy<"
expect_in c4.svg ">Re=200, initial=taylor-green: dissipation<"
ok "chart: series named by the parameters that differ between the task files"

# shellcheck disable=SC2086
expect_code 0 sweep chart $tg --x t --y energy -o auto.svg
expect_in "$T/out" "14 series coloured by Re"
expect_in auto.svg ">Re<"
expect_not_in auto.svg ">Re=100<"
# shellcheck disable=SC2086
expect_code 0 sweep chart $tg $rnd --x t --y energy --by Re -o by.svg
expect_in by.svg ">Re<"
expect_in by.svg ">1000<"
expect_not_in by.svg ">Re=100"
# shellcheck disable=SC2086
expect_code 0 sweep chart $tg $rnd --x t --y energy --by initial -o by2.svg
[ "$(grep -c '>initial=' by2.svg)" -eq 2 ] ||
    fail "expected two legend entries for 28 series by initial: $(grep '>initial=' by2.svg)"
expect_in by2.svg ">initial=random<"
expect_in by2.svg ">initial=taylor-green<"
if [ -n "${SWEEP_ARTIFACTS:-}" ]; then
    # shellcheck disable=SC2086
    sweep chart $tg $rnd --x t --y energy --by Re -o "$SWEEP_ARTIFACTS/chart-by.png" \
        >/dev/null || fail "chart-by.png"
fi
ok "chart --by: a colour bar for a numeric parameter, one legend entry per value else"

# shellcheck disable=SC2086
expect_code 2 sweep chart $tg --x t --y energy --by nosuch -o e.svg
expect_in "$T/err" 'no parameter "nosuch"'
printf 't,energy\n0,1\n1,2\n' >plain.csv
expect_code 2 sweep chart plain.csv --x t --y energy --by Re -o e.svg
expect_in "$T/err" "plain.csv is not in a task directory"
[ ! -e e.svg ] || fail "an error case wrote e.svg"
ok "chart --by: an unknown parameter or a file outside a task directory exits 2"
