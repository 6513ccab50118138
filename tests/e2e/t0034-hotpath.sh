# The dispatch hot path (issue 10): what sweep does per task, and that it loses no
# byte a task writes. The system calls are counted with strace -f when it is there
# and allowed (skipped otherwise): the vforked child resets only the signals that are
# not at their default action before its execve (a handful, not all 64), and sweep
# makes about one mkdir per task.
. "$SWEEP_SRC/tests/e2e/lib.sh"

N=40
cat >true.yaml <<EOF2
study: t
command: [/bin/true, "{i}"]
parameters: {i: {range: [1, $N]}}
EOF2

if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
    # (LeakSanitizer does not work under ptrace.)
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        strace -f -o "$T/st" "$SWEEP_BIN" run true.yaml -j 2 -q >"$T/out" 2>&1 ||
        fail "sweep run under strace: $(cat "$T/out")"
    main=$(head -n 1 "$T/st" | cut -d' ' -f1)
    # Per child: the rt_sigaction calls before its execve of /bin/true.
    max=$(awk -v m="$main" '
        $1 == m { next }
        /execve\(/ { done[$1] = 1 }
        /rt_sigaction\(/ && !done[$1] { n[$1]++ }
        END { x = 0; for (p in n) if (n[p] > x) x = n[p]; print x }' "$T/st")
    [ "$max" -le 8 ] || fail "a child made $max rt_sigaction calls before its execve"
    ok "the child resets a few signal dispositions, not all ($max)"
else
    echo "# strace missing or not allowed: system calls not counted"
fi

# sweep makes at most one directory per task (its shard's once per run; fewer when the
# directories of ended tasks go to later ones: t0047), and no log file for a task that
# writes nothing.
if [ -s "$T/st" ]; then
    mk=$(awk -v m="$main" '$1 == m && /mkdir\(/ && /\/tasks\//' "$T/st" | wc -l)
    shards=$(ls "$SWEEP_HOME/studies/t/tasks" | wc -l)
    [ "$mk" -le $((N + shards + 2)) ] || fail "$mk mkdir calls, $N tasks in $shards shards"
    logs=$(grep -c 'std\(out\|err\)\.log' "$T/st") || true
    [ "$logs" -eq 0 ] || fail "$logs calls on log files of tasks that wrote nothing"
    ok "at most one mkdir per task ($mk for $N), no log file made"
fi
n=$(find "$SWEEP_HOME/studies/t/tasks" -name '*.log' | wc -l)
[ "$n" -eq 0 ] || fail "$n log files for tasks that wrote nothing"
key=$(sweep results t --format json | jq -r '.[0].key')
expect_code 0 sweep logs "t/$key"
[ "$(grep -vc '^==>\|^$' "$T/out")" -eq 0 ] || fail "logs of a silent task: $(cat "$T/out")"
ok "a task that writes nothing has no log file, and sweep logs shows it empty"

# Every byte: a large stdout, children that write to stderr while the task waits,
# a task killed at its timeout after it wrote (and wrote again on SIGTERM), and a
# retried task whose second attempt writes nothing.
cat >w.sh <<'EOF2'
#!/bin/sh
case "$1" in
big) head -c 2000000 /dev/zero | tr '\0' x; (seq 1 30000 >&2) & (seq 1 20 >&2) & wait ;;
slow) trap 'echo got-term; exit 3' TERM; echo before; sleep 100 & wait ;;
flaky) [ "$SWEEP_ATTEMPT" -gt 1 ] && exit 0; echo first-attempt; exit 1 ;;
esac
EOF2
chmod +x w.sh
cat >w.yaml <<EOF2
study: w
command: ["$T/w.sh", "{m}"]
parameters: {m: [big, slow, flaky]}
timeout: 1s
retries: {max: 1, backoff: 0s}
EOF2
expect_code 1 sweep run w.yaml -q
key_of() {
    sweep results w --format json | jq -r ".[] | select(.params.m == \"$1\") | .key"
}
sweep logs "w/$(key_of big)" --stdout >big.out || fail "sweep logs big"
[ "$(wc -c <big.out)" -eq 2000000 ] || fail "big stdout: $(wc -c <big.out) bytes"
sweep logs "w/$(key_of big)" --stderr >big.err || fail "sweep logs big --stderr"
[ "$(wc -l <big.err)" -eq 30020 ] || fail "big stderr: $(wc -l <big.err) lines"
ok "every byte of a large stdout and of the children's stderr"
sweep logs "w/$(key_of slow)" --stdout >slow.out || fail "sweep logs slow"
[ "$(cat slow.out)" = "$(printf 'before\ngot-term')" ] || fail "slow: $(cat slow.out)"
ok "a task killed at its timeout: what it wrote before and on SIGTERM"
fk=$(key_of flaky)
expect_code 0 sweep logs "w/$fk" --attempt 1 --stdout
expect_in "$T/out" first-attempt
expect_code 0 sweep logs "w/$fk" --stdout
expect_not_in "$T/out" first-attempt
ok "a retried task: the first attempt's log kept, the silent second one empty"

# kill -9 in the middle of short tasks, while the next ones are claimed ahead (their
# attempts committed as running, not started): the next run gives the claims back,
# runs every task to success, and runs again only the tasks whose end was not yet
# committed at the kill: those running (2) and those that had ended, whose slots were
# refilled from the claimed ones (at most 8 more, ends recorded at most 10 ms late).
cat >note.sh <<'EOF2'
#!/bin/sh
echo "$SWEEP_TASK_ID" >>"$1"
EOF2
chmod +x note.sh
cat >short.yaml <<EOF2
study: short
command: ["$T/note.sh", "$T/runs"]
parameters: {i: {range: [1, 600]}}
max_parallel: 2
EOF2
"$SWEEP_BIN" run short.yaml -q >/dev/null 2>&1 &
pid=$!
ran() { [ "$(lines runs)" -ge 100 ]; }
lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }
wait_for 60 ran
kill -9 "$pid"
wait "$pid" 2>/dev/null
# A child killed with its parent between vfork and execve may hold the run lock a
# moment longer.
wait_for 10 flock -n "$SWEEP_HOME/studies/short/run.lock" true
expect_code 0 sweep run short.yaml -q --json
jq_eq "$T/out" '.status' COMPLETED
twice=$(sort runs | uniq -d | wc -l)
[ "$twice" -le 10 ] || fail "$twice tasks ran twice (at most 10 were not recorded)"
[ "$(sort -u runs | wc -l)" -eq 600 ] || fail "not every task ran"
expect_code 0 sweep results short --format json
jq_eq "$T/out" '[.[] | select(.state == "succeeded")] | length' 600
jq_eq "$T/out" '[.[] | select(.attempts > 1)] | length <= 10' true
ok "kill -9 with tasks claimed ahead: only tasks not recorded at the kill ran twice"
