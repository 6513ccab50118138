# kill -9 of `sweep run` while tasks run: the next `sweep run` ends the old tasks'
# process groups before it starts anything, so no process of the old run is alive
# beside the new one, no task runs twice at once, and every task's result is written
# once; a pipeline's reduce killed in the middle runs to completion exactly once;
# `sweep retry` of a task a killed run left running ends the old one first. A result
# that arrives after its attempt's lease ran out (the run stopped with SIGSTOP) is
# recorded as stale and the run carries on. A database held by another writer past
# the busy timeout is waited for, and the study completes.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# task.sh GATE PIDS RESULTS: a task whose work is done by a process it starts, in the
# task's process group, as a shell script's commands are. The parent-death signal of a
# task ends task.sh itself when its run is killed, but not that worker: only the next
# run, which ends the task's whole group, does.
cat >task.sh <<'EOF'
#!/bin/sh
"$0.work" "$@" &
wait $!
EOF
# task.sh.work: notes its start in its directory and its pid in PIDS, holds a lock
# there while it runs (a second holder at once notes "concurrent"), waits for GATE,
# then notes its end, its id in RESULTS, and writes its result.
cat >task.sh.work <<'EOF'
#!/bin/sh
exec 9>>"$SWEEP_TASK_DIR/busy"
flock -n 9 || echo "concurrent $$" >>"$SWEEP_TASK_DIR/events"
echo "start $$" >>"$SWEEP_TASK_DIR/events"
echo $$ >>"$2"
while [ ! -e "$1" ]; do sleep 0.05; done
echo "end $$" >>"$SWEEP_TASK_DIR/events"
echo "$SWEEP_TASK_ID" >>"$3"
echo "{\"pid\": $$}" >"$SWEEP_RESULT"
EOF
chmod +x task.sh task.sh.work

# alive PID: a process that exists and is not a zombie (orphans' zombies may stay
# when nobody reaps them).
alive() {
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ]
}
sql() { # sql QUERY: the first row of QUERY on the home's database, as a|b|c
    python3 -c 'import sqlite3, sys
print("|".join(str(v) for v in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()))' \
        .sweep/sweep.db "$1"
}
lines() { # lines FILE: its number of lines, 0 when it does not exist
    if [ -e "$1" ]; then count_lines "$1"; else echo 0; fi
}

cat >gated.yaml <<EOF
study: gated
command: ["$T/task.sh", "$T/gate", "$T/pids", "$T/results"]
parameters: {i: {range: [1, 6]}}
max_parallel: 3
EOF
D=.sweep/studies/gated
"$SWEEP_BIN" run gated.yaml -q >/dev/null 2>"$T/run1.err" &
pid=$!
started() { [ "$(lines pids)" -ge "$1" ]; }
wait_for 30 started 3
kill -9 "$pid"
wait "$pid" 2>/dev/null
old=$(cat pids)
for p in $old; do
    alive "$p" || fail "task worker $p of the killed run ended by itself"
done
ok "kill -9 of sweep run: the processes its 3 tasks started keep running"

"$SWEEP_BIN" run gated.yaml -q --json >"$T/run2.out" 2>"$T/run2.err" &
pid2=$!
wait_for 30 started 6
for p in $old; do
    alive "$p" && fail "task process $p of the killed run is alive beside the new run"
done
expect_in "$D/study.log" " task_orphan_ended task="
touch gate
wait "$pid2" || {
    cat "$T/run2.err" >&2
    fail "the second sweep run failed"
}
jq_eq "$T/run2.out" '.status' COMPLETED
ok "the next sweep run ends the old tasks' process groups before it starts any"

expect_code 0 sweep results gated --format json
jq_eq "$T/out" '[.[] | select(.state == "succeeded")] | length' 6
[ "$(lines results)" -eq 6 ] || fail "$(lines results) results written for 6 tasks"
[ "$(sort results | uniq | wc -l)" -eq 6 ] || fail "a task's result was written twice"
for f in "$D"/tasks/*/*/events; do
    expect_not_in "$f" concurrent
    [ "$(grep -c '^end ' "$f")" -eq 1 ] || fail "$f: not one end"
done
# The interrupted attempts are in the history, with the old run named.
id=$(jq -r '[.[] | select(.attempts > 1)][0].id' "$T/out")
[ "$id" != null ] || fail "no task has two attempts"
ok "every task's result is written once, and no task ran twice at once"

# ---- a pipeline's reduce killed in the middle ----
cat >reduce.sh <<'EOF'
#!/bin/sh
"$0.work" "$@" &
wait $!
EOF
cat >reduce.sh.work <<'EOF'
#!/bin/sh
# reduce.sh.work GATE EVENTS: notes its start, waits for GATE, notes its end.
echo "start $$" >>"$2"
while [ ! -e "$1" ]; do sleep 0.05; done
echo "end $$" >>"$2"
echo '{"reduced": 1}' >"$SWEEP_RESULT"
EOF
chmod +x reduce.sh reduce.sh.work
cat >pipe.yaml <<EOF
study: pipe
command: ["true"]
parameters: {i: [1, 2]}
reduce:
  command: ["$T/reduce.sh", "$T/rgate", "$T/reduce-events"]
EOF
"$SWEEP_BIN" run pipe.yaml -q >/dev/null 2>&1 &
pid=$!
reduce_started() { [ "$(grep -c '^start ' reduce-events 2>/dev/null)" -ge "$1" ]; }
wait_for 30 reduce_started 1
kill -9 "$pid"
wait "$pid" 2>/dev/null
rpid=$(sed -n 's/^start //p' reduce-events)
alive "$rpid" || fail "the reduce ended with its run"
"$SWEEP_BIN" run pipe.yaml -q --json >"$T/pipe.out" 2>"$T/pipe.err" &
pid2=$!
wait_for 30 reduce_started 2
alive "$rpid" && fail "the killed run's reduce is alive beside the new one"
touch rgate
wait "$pid2" || {
    cat "$T/pipe.err" >&2
    fail "the second sweep run of the pipeline failed"
}
jq_eq "$T/pipe.out" '.status' COMPLETED
[ "$(grep -c '^end ' reduce-events)" -eq 1 ] || fail "the reduce completed $(grep -c '^end ' reduce-events) times"
expect_code 0 sweep results pipe --step reduce --format json
jq_eq "$T/out" '.[0].state' succeeded
jq_eq "$T/out" '.[0].attempts' 2
ok "a reduce killed in the middle runs to completion exactly once"

# ---- sweep retry of a task that a killed run left running ----
cat >solo.yaml <<EOF
study: solo
command: ["$T/task.sh", "$T/sgate", "$T/spids", "$T/sresults"]
parameters: {i: [1]}
EOF
"$SWEEP_BIN" run solo.yaml -q >/dev/null 2>&1 &
pid=$!
solo_started() { [ "$(lines spids)" -ge "$1" ]; }
wait_for 30 solo_started 1
kill -9 "$pid"
wait "$pid" 2>/dev/null
spid=$(cat spids)
expect_code 0 sweep results solo --format json
key=$(jq -r '.[0].key' "$T/out")
jq_eq "$T/out" '.[0].state' running
"$SWEEP_BIN" retry "solo/$key" -q >"$T/retry.out" 2>"$T/retry.err" &
pid2=$!
wait_for 30 solo_started 2
alive "$spid" && fail "the killed run's task is alive beside sweep retry's"
touch sgate
wait "$pid2" || {
    cat "$T/retry.err" >&2
    fail "sweep retry failed"
}
[ "$(lines sresults)" -eq 1 ] || fail "$(lines sresults) results written by one task"
ok "sweep retry of a task a killed run left running ends the old one first"

# ---- a result that arrives after its lease ran out is stale, and not fatal ----
cat >late.yaml <<EOF
study: late
command: ["$T/task.sh", "$T/lgate", "$T/lpids", "$T/lresults"]
parameters: {i: [1]}
EOF
cat >other.yaml <<EOF
study: other
command: ["true"]
parameters: {i: [1]}
EOF
SWEEP_LEASE=2 "$SWEEP_BIN" run late.yaml -q --json >"$T/late.out" 2>"$T/late.err" &
pid=$!
late_started() { [ "$(lines lpids)" -ge 1 ]; }
wait_for 30 late_started
# The run stops renewing (SIGSTOP); another run takes its expired lease back.
kill -STOP "$pid"
expired() {
    "$SWEEP_BIN" run other.yaml -q --force >/dev/null 2>&1
    "$SWEEP_BIN" results late --format json | jq -ne 'input | .[0].state == "pending"'
}
wait_for 30 expired
touch lgate
kill -CONT "$pid"
wait "$pid" && [ -s "$T/late.out" ] || {
    cat "$T/late.err" >&2
    fail "the run whose result came late did not end with its summary"
}
expect_in .sweep/studies/late/study.log " task_stale task="
[ "$(sql "SELECT a.state, a.stale, a.exit_code, a.metrics_json IS NOT NULL
      FROM attempts a JOIN tasks t ON t.id = a.task_id JOIN studies s
      ON s.id = t.study_id WHERE s.name = 'late'")" = "6|1|0|1" ] ||
    fail "the late result is not kept as stale"
expect_code 0 sweep results late --format json
jq_eq "$T/out" '.[0].state' pending
expect_code 0 sweep run late.yaml -q --json
jq_eq "$T/out" '.status' COMPLETED
ok "a result after the lease ran out is recorded as stale; the run carries on"

# ---- a database held by another writer past the busy timeout (5 s) ----
cat >busy.yaml <<EOF
study: busy
command: ["$T/task.sh", "$T/bgate", "$T/bpids", "$T/bresults"]
parameters: {i: {range: [1, 4]}}
max_parallel: 2
EOF
"$SWEEP_BIN" run busy.yaml -q --json >"$T/busy.out" 2>"$T/busy.err" &
pid=$!
busy_started() { [ "$(lines bpids)" -ge 2 ]; }
wait_for 30 busy_started
# The holder takes the write lock (it prints 1 once it has it) until `release` exists.
python3 - .sweep/sweep.db >holder.out 2>&1 <<'EOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print(1, flush=True)
while not os.path.exists("release"):
    time.sleep(0.05)
db.execute("COMMIT")
EOF
holder=$!
holding() { grep -q '^1$' holder.out; }
wait_for 30 holding
touch bgate # the two tasks end while the database is held
exec 3>&2 # wait_for silences the check; its diagnosis goes here
busy_seen() {
    grep -q " store_busy " .sweep/studies/busy/study.log && return 0
    kill -0 "$pid" 2>/dev/null && return 1
    touch release
    cat "$T/busy.err" >&3
    echo "FAIL: sweep run ended while another process held the database" >&3
    exit 1
}
wait_for 30 busy_seen
touch release
wait "$holder"
wait "$pid" || {
    cat "$T/busy.err" >&2
    fail "sweep run ended while another process held the database"
}
jq_eq "$T/busy.out" '.status' COMPLETED
expect_code 0 sweep results busy --format json
jq_eq "$T/out" '[.[] | select(.state == "succeeded")] | length' 4
[ "$(lines bresults)" -eq 4 ] || fail "$(lines bresults) results written for 4 tasks"
ok "a database held past the busy timeout is waited for; the study completes"
