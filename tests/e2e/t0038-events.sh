# The run's typed events (issue 10): several studies in one `sweep run` each write
# their own study.log (run_start ... run_end of that study only); on an 80-column
# terminal the notes of tasks that fail at once are printed above the block of
# progress lines, which is drawn again below them: no stale block line is left above
# a note, and the screen ends with one line per study.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# on_tty COLS OUT CMD...: runs CMD on a pseudo-terminal COLS columns wide, what it
# printed in OUT; exits with CMD's status.
cat >on_pty.py <<'EOF'
import fcntl, os, pty, struct, sys, termios

cols, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
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

# screen.py COLS FILE: the screen (with what scrolled off) after a terminal COLS wide
# has shown FILE: text wraps at COLS; \r, \n, ESC[K, ESC[nA and ESC[J as a terminal.
cat >screen.py <<'EOF'
import re, sys

cols = int(sys.argv[1])
text = open(sys.argv[2], encoding="utf-8", newline="").read()
rows, r, c = [[]], 0, 0
def line(i):
    while len(rows) <= i:
        rows.append([])
    return rows[i]
for tok in re.findall(r"\x1b\[[0-9]*[A-Za-z]|.", text, re.S):
    if tok == "\r":
        c = 0
    elif tok == "\n":
        r, c = r + 1, 0
    elif tok.startswith("\x1b["):
        n, op = int(tok[2:-1] or 1), tok[-1]
        if op == "A":
            r = max(0, r - n)
        elif op == "K":
            del line(r)[c:]
        elif op == "J":
            del line(r)[c:]
            del rows[r + 1:]
    else:
        if c >= cols:
            r, c = r + 1, 0
        l = line(r)
        l.extend(" " * (c - len(l)))
        l[c:c + 1] = [tok]
        c += 1
for l in rows:
    print("".join(l).rstrip())
EOF

cat >a.yaml <<'EOF'
study: a
command: [sh, -c, 'sleep 0.3; echo "error: cannot open file data$0.csv" >&2; exit 2', '{x}']
parameters: {x: {range: [1, 6]}}
EOF
cat >b.yaml <<'EOF'
study: b
command: [sh, -c, 'sleep 0.4', '{x}']
parameters: {x: {range: [1, 10]}}
EOF
cat >c.yaml <<'EOF'
study: c
command: [sh, -c, 'sleep 0.2', '{x}']
parameters: {x: {range: [1, 6]}}
EOF

python3 on_pty.py 80 "$T/tty" "$SWEEP_BIN" run a.yaml b.yaml c.yaml -j 3
rc=$?
[ "$rc" -eq 1 ] || fail "sweep run exited $rc: $(cat "$T/tty")"
python3 screen.py 80 "$T/tty" >"$T/screen"
grep -q "failed at once" "$T/screen" || fail "no early-failure note: $(cat "$T/screen")"
# The block's lines (NAME: ...) come after the last note, and are the three final
# ones: a, b, c in this order, each once.
last_note=$(grep -n "failed at once\|^    error: " "$T/screen" | tail -1 | cut -d: -f1)
first_block=$(grep -n "^[abc]: " "$T/screen" | head -1 | cut -d: -f1)
[ "$first_block" -gt "$last_note" ] ||
    fail "a progress line is left above a note (line $first_block, note at $last_note):
$(cat "$T/screen")"
grep "^[abc]: " "$T/screen" | cut -c1-2 | tr -d '\n' >"$T/block"
[ "$(cat "$T/block")" = "a:b:c:" ] || fail "the block is not a, b, c once each:
$(cat "$T/screen")"
grep -q "^a: 6/6 ended, 6 failed" "$T/screen" || fail "a's last line: $(cat "$T/screen")"
grep -q "^b: 10/10 ended" "$T/screen" || fail "b's last line: $(cat "$T/screen")"
# Each note is whole: its header followed by the task's stderr.
grep -A1 "failed at once" "$T/screen" | grep -q "^    error: cannot open file data" ||
    fail "a note was cut: $(cat "$T/screen")"
ok "80 columns: early-failure notes above the block of 3 studies, the block below"

# Each study's log has its own run only, from run_start to run_end.
for s in a b c; do
    log=$SWEEP_HOME/studies/$s/study.log
    [ "$(grep -c " run_start study=$s " "$log")" -eq 1 ] || fail "$s: run_start: $(cat "$log")"
    [ "$(grep -c " run_end study=$s " "$log")" -eq 1 ] || fail "$s: run_end: $(cat "$log")"
    grep " run_\(start\|end\) " "$log" | grep -v " study=$s " && fail "$s's log has another study's run"
    head -1 "$log" | grep -q " run_start " || fail "$s: the first line is not run_start"
    tail -1 "$log" | grep -q " run_end " || fail "$s: the last line is not run_end"
done
[ "$(grep -c ' task_end ' "$SWEEP_HOME/studies/b/study.log")" -eq 10 ] || fail "b: task_end lines"
[ "$(grep -c ' task_end .*state=failed' "$SWEEP_HOME/studies/a/study.log")" -eq 6 ] ||
    fail "a: failed task_end lines"
ok "several studies in one run: each study.log has its own run, from run_start to run_end"
