# The terminal (issue 9, items 5-7): the progress line of `sweep run` and the box of
# `sweep monitor` fitted to the terminal's width (a pseudo-terminal of 50 and 80
# columns); the run summary's task time labelled as a sum and its durations in the one
# format; no ETA when nothing runs; `sweep results` with priority names, a table on a
# terminal (CSV when piped) and a package_id column for a package study.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# on_tty COLS OUT CMD...: runs CMD on a pseudo-terminal COLS columns wide (stdin,
# stdout and stderr), everything it printed in OUT; exits with CMD's status.
cat >on_pty.py <<'EOF'
import fcntl, os, pty, struct, sys, termios

cols, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, cols, 0, 0))
    os.environ.pop("COLUMNS", None)
    os.execvp(cmd[0], cmd)
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
open(out, "wb").write(data)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
EOF
on_tty() {
    python3 on_pty.py "$@"
}

# widest COLS FILE: every line (and every redraw between \r) of FILE, escape codes
# taken out, is at most COLS characters wide; prints the widest.
cat >widest.py <<'EOF'
import re, sys

cols, path = int(sys.argv[1]), sys.argv[2]
text = open(path, encoding="utf-8").read()
text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
worst = max((len(s) for s in re.split(r"[\r\n]", text)), default=0)
print(worst)
sys.exit(0 if worst <= cols else 1)
EOF

NAME=a-rather-long-study-name-that-does-not-fit-in-a-narrow-terminal
cat >long.yaml <<EOF
study: $NAME
model: chaos
parameters:
  x: {range: [1, 12, 1]}
base:
  duration: 0.15
max_parallel: 2
EOF

for cols in 50 80; do
    rm -rf "$SWEEP_HOME"
    on_tty "$cols" "$T/tty" "$SWEEP_BIN" run long.yaml ||
        fail "run on a $cols-column terminal failed: $(cat "$T/tty")"
    grep -q "12/12 ended" "$T/tty" || fail "no progress line: $(cat "$T/tty")"
    # The progress line (and only it: the summary is plain text that may wrap).
    tr '\r' '\n' <"$T/tty" | grep ' ended' >"$T/progress"
    w=$(python3 widest.py $((cols - 1)) "$T/progress") ||
        fail "a progress line is $w columns wide on a $cols-column terminal: $(cat "$T/progress")"
    expect_in "$T/progress" "…: "
    # Nothing left to run: no ETA.
    grep "12/12 ended" "$T/progress" | grep -q ETA && fail "ETA at the end: $(cat "$T/progress")"
done
ok "progress line: fitted to 50 and 80 columns, the name cut with an ellipsis"

rm -rf "$SWEEP_HOME"
expect_code 0 sweep run long.yaml
expect_in "$T/err" "$NAME: 12/12 ended"
expect_not_in "$T/err" "…"
ok "progress lines when piped: whole, never cut"

# The summary: the run's own time, the tasks' time as a labelled sum, one format.
grep -qE "^study $NAME: COMPLETED in [0-9]+\.[0-9]{1,2}s$" "$T/out" ||
    fail "summary: $(cat "$T/out")"
expect_in "$T/out" "task time (sum)"
grep -qE '^MEDIUM +12 +12 +0 +0 +0 +0 +[0-9]+\.[0-9]{1,2}s$' "$T/out" ||
    fail "summary row: $(cat "$T/out")"
expect_not_in "$T/out" "ms"
ok "run summary: task time labelled as a sum, durations as 1.23s"

on_tty 50 "$T/tty" "$SWEEP_BIN" monitor "$NAME" || fail "monitor: $(cat "$T/tty")"
expect_in "$T/tty" "COMPLETED"
expect_in "$T/tty" "100%"
expect_in "$T/tty" "study a-rather"
w=$(python3 widest.py 50 "$T/tty") ||
    fail "monitor is $w columns wide on a 50-column terminal: $(cat "$T/tty")"
expect_not_in "$T/tty" "ETA"
on_tty 120 "$T/tty" "$SWEEP_BIN" monitor "$NAME" || fail "monitor: $(cat "$T/tty")"
w=$(python3 widest.py 80 "$T/tty") || fail "monitor at 120 columns is $w wide"
grep -q "timed_out" "$T/tty" || fail "a wide monitor shows every column: $(cat "$T/tty")"
ok "monitor: fitted to 50 columns, at most 80; no ETA for a finished study"

# No ETA when nothing runs: a finished study, and one with tasks left that no run holds.
expect_code 0 sweep status "$NAME"
expect_not_in "$T/out" "ETA"
cat >bands.yaml <<'EOF'
study: bands
model: chaos
tasks:
  - {x: 1, priority: HIGH}
  - {x: 2, priority: HIGH}
  - {x: 3}
  - {x: 4, priority: LOW}
  - {x: 5, priority: 10}
EOF
expect_code 0 sweep run bands.yaml --priority HIGH -q
expect_code 0 sweep status bands
expect_in "$T/out" "pending"
expect_not_in "$T/out" "ETA"
expect_code 0 sweep status bands --json
jq_eq "$T/out" '.estimated_remaining' null
jq_eq "$T/out" '.counts.pending' 2
expect_code 0 sweep monitor bands --once
expect_not_in "$T/out" "ETA"
ok "status and monitor: no ETA when tasks are left but nothing runs them"

# Priorities by name (the integer where it is not a band), in CSV, JSON and the table.
expect_code 0 sweep results bands
head -1 "$T/out" | grep -q '^key,' || fail "piped results are not CSV: $(cat "$T/out")"
python3 - "$T/out" <<'EOF' || fail "CSV priorities: $(cat "$T/out")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
got = sorted((int(r["x"]), r["priority"]) for r in rows)
assert got == [(1, "HIGH"), (2, "HIGH"), (3, "MEDIUM"), (4, "LOW"), (5, "10")], got
EOF
expect_code 0 sweep results bands --format json
jq_eq "$T/out" '[.[] | .priority] | sort | join(",")' "10,HIGH,HIGH,LOW,MEDIUM"
jq_eq "$T/out" '[.[] | select(.params.x == 3) | .priority_value] | .[0]' 2
on_tty 200 "$T/tty" "$SWEEP_BIN" results bands || fail "results on a terminal failed"
tr -d '\r' <"$T/tty" >"$T/table"
head -1 "$T/table" | grep -qE '^key +id +state +attempts +repetition +seed +priority +x ' ||
    fail "results on a terminal is not a table: $(cat "$T/table")"
grep -qE '^[0-9a-f]{16} +[0-9]+ +(succeeded|pending) .* MEDIUM +3( |$)' "$T/table" ||
    fail "table row: $(cat "$T/table")"
expect_code 0 sweep results bands --format table
[ "$(count_lines "$T/out")" = 6 ] || fail "table: a header and 5 rows: $(cat "$T/out")"
expect_code 2 sweep results bands --format xml
expect_in "$T/err" "table, csv or json"
ok "results: HIGH/MEDIUM/LOW or the integer; a table on a terminal, CSV when piped"

# A package study: its results say which package each task is.
P=parametric_sweep_packages
mkdir -p "$P"
cat >"$P/priority_summary.json" <<'EOF'
{
  "HIGH": [{"package_id": 1, "priority": "HIGH", "description": "a"}],
  "MEDIUM": [{"package_id": 2, "priority": "MEDIUM", "description": "b"},
             {"package_id": 5, "priority": "MEDIUM", "description": "c"}]
}
EOF
for p in "1 HIGH 100" "2 MEDIUM 200" "5 MEDIUM 400"; do
    set -- $p
    printf '{"package_id": %d, "Re": %s, "dt": 0.01, "T_final": 0.05, "grid_size": [16, 16, 16], "priority": "%s"}\n' \
        "$1" "$3" "$2" >"$P/$(printf 'package_%04d.json' "$1")"
done
expect_code 0 sweep run "$P/" -q
expect_code 0 sweep results parametric_sweep_packages
python3 - "$T/out" <<'EOF' || fail "package_id column: $(cat "$T/out")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert list(rows[0].keys())[:2] == ["key", "package_id"], list(rows[0].keys())
got = sorted((int(r["package_id"]), int(r["Re"]), r["priority"]) for r in rows)
assert got == [(1, 100, "HIGH"), (2, 200, "MEDIUM"), (5, 400, "MEDIUM")], got
EOF
expect_code 0 sweep results parametric_sweep_packages --json
jq_eq "$T/out" '[.[] | "\(.package_id):\(.params.Re)"] | sort | join(",")' \
    "1:100,2:200,5:400"
ok "results of a package study: a package_id column (CSV, JSON)"

# A resumed run's rate and ETA are of this run: the tasks that had ended before it
# (here the 10 HIGH ones) do not make it look fast. At 2 in flight, tasks of 0.2 s
# end at 10/s at most, so 2 or more queued are never less than 0.1 s away.
{
    printf 'study: resumed\nmodel: chaos\nbase:\n  duration: 0.2\nmax_parallel: 2\n'
    printf 'parameters:\n  x: {range: [11, 20, 1]}\ntasks:\n'
    for x in 1 2 3 4 5 6 7 8 9 10; do printf '  - {x: %d, priority: HIGH}\n' "$x"; done
} >resume.yaml
expect_code 0 sweep run resume.yaml --priority HIGH -q
expect_code 0 sweep run resume.yaml
grep -q 'resumed: 10/20 ended' "$T/err" || fail "no progress line at the start: $(cat "$T/err")"
if grep -E '[0-9]+ queued.*ETA 0\.0[0-9]s' "$T/err" | grep -vE ' [01] queued' >&2; then
    fail "a resumed run counted the tasks ended before it in its rate"
fi
ok "progress of a resumed run: the rate and ETA of this run"
