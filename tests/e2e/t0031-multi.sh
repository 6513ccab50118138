# sweep run a.yaml b.yaml c.yaml: three studies at once in one process sharing one
# slot budget (-j 2): tasks start in priority order across the studies (b's HIGH
# before a's MEDIUM before c's LOW), never more than 2 run at once, each study
# completes with its own summary block; `after:` between two of them; SIGINT in the
# middle stops all three (exit 130, nothing left running) and a re-run resumes them.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# task.sh LOG NAME [SECONDS]: notes "start" and "end" lines with a timestamp (order
# only) and its pid, waiting while $T/hold exists, then sleeping SECONDS (0.1).
cat >task.sh <<'EOF2'
#!/bin/sh
echo "$(date +%s%N) start $2 $$" >>"$1"
while [ -e "$(dirname "$1")/hold" ]; do sleep 0.05; done
sleep "${3:-0.1}"
echo "$(date +%s%N) end $2 $$" >>"$1"
EOF2
chmod +x task.sh

cat >a.yaml <<EOF2
study: a
command: ["$T/task.sh", "$T/events", "a{x}", "0.{x}"]
parameters: {x: {range: [1, 3]}}
EOF2
cat >b.yaml <<EOF2
study: b
command: ["$T/task.sh", "$T/events", "{name}"]
tasks:
  - {name: b1, priority: HIGH}
  - {name: b2, priority: HIGH}
EOF2
cat >c.yaml <<EOF2
study: c
command: ["$T/task.sh", "$T/events", "c{x}"]
parameters: {x: {range: [1, 2]}}
priority: LOW
EOF2

expect_code 0 sweep run a.yaml b.yaml c.yaml -j 2
for s in a b c; do expect_in "$T/out" "study $s: COMPLETED"; done
[ "$(grep -c '^study ' "$T/out")" -eq 3 ] || fail "not one summary block per study"
# The starts in time order: b's, then a's, then c's. a1 and a2 start together and
# a1 ends 0.1 s before a2, so a3 (MEDIUM) takes its slot before c1 (LOW) takes a2's:
# two starts of one tick would race in the tasks' own timestamps.
order=$(sort -n events | awk '$2 == "start" { printf "%s", substr($3, 1, 1) }')
[ "$order" = "bbaaacc" ] || fail "start order across studies: $order"
ok "tasks start in priority order across the studies"
# Never more than -j at once: +1 at a start, -1 at an end, in time order.
most=$(sort -n events | awk '$2 == "start" { n++ } $2 == "end" { n-- }
    n > m { m = n } END { print m }')
[ "$most" -le 2 ] || fail "$most tasks ran at once with -j 2"
[ "$most" -eq 2 ] || fail "the 2 slots were never used together ($most)"
ok "never more than -j tasks at once in all"
# Piped, each study's progress lines start with its name; each ends all ended.
expect_in "$T/err" "a: 3/3 ended"
expect_in "$T/err" "b: 2/2 ended"
expect_in "$T/err" "c: 2/2 ended"
ok "the progress shows each study on its own lines"
for s in a b c; do
    expect_code 0 sweep status $s --json
    jq_eq "$T/out" '.status' COMPLETED
done
ok "each study is COMPLETED in sweep status"

# after: between two studies of one run: d waits for e, then runs.
cat >d.yaml <<EOF2
study: d
command: ["$T/task.sh", "$T/events2", "d{x}"]
parameters: {x: {range: [1, 2]}}
priority: HIGH
after: e
EOF2
cat >e.yaml <<EOF2
study: e
command: ["$T/task.sh", "$T/events2", "e{x}"]
parameters: {x: {range: [1, 2]}}
EOF2
expect_code 0 sweep run d.yaml e.yaml -j 4
expect_in "$T/err" "d: waiting for e"
order=$(sort -n events2 | awk '{ printf "%s", substr($3, 1, 1) }')
case "$order" in
eeeedddd) ;;
*) fail "d ran before e ended: $order" ;;
esac
ok "after: between two studies of one run: the second waits, then runs"

# SIGINT in the middle: every study stops cleanly, exit 130, nothing keeps running.
rm -f events
mkdir hold
"$SWEEP_BIN" run a.yaml b.yaml c.yaml -j 2 --force >"$T/int.out" 2>"$T/int.err" &
pid=$!
two_started() { [ "$(grep -c ' start ' events 2>/dev/null)" -ge 2 ]; }
wait_for 30 two_started
kill -INT $pid
wait $pid
code=$?
[ "$code" -eq 130 ] || { cat "$T/int.err" >&2; fail "SIGINT: exit $code, expected 130"; }
for p in $(awk '$2 == "start" { print $4 }' events); do
    ! kill -0 "$p" 2>/dev/null || fail "task process $p still runs after the run ended"
done
for s in a b c; do expect_in "$T/int.out" "study $s: INTERRUPTED"; done
ok "SIGINT stops all three studies: exit 130, nothing left running"

rmdir hold
expect_code 0 sweep run a.yaml b.yaml c.yaml -j 2
for s in a b c; do
    expect_code 0 sweep status $s --json
    jq_eq "$T/out" '.status' COMPLETED
done
ok "a re-run resumes all three"
