# Task directories given on (issue 10): the directory of an ended task that left
# nothing in it becomes the next task's (a rename, not a new mkdir). Each task still
# starts in an empty directory of its own, $SWEEP_TASK_DIR; a task that left a file,
# its output or a result keeps its directory; the steps of a pipeline keep theirs.
. "$SWEEP_SRC/tests/e2e/lib.sh"

N=60
cat >check.sh <<'EOF2'
#!/bin/sh
# An empty directory of its own; every third task leaves a file in it, every fifth
# writes to stdout, every seventh a result.
[ -z "$(ls -A)" ] || exit 3
[ "$(pwd -P)" = "$(cd "$SWEEP_TASK_DIR" && pwd -P)" ] || exit 4
[ $(($1 % 3)) -eq 0 ] && echo "$1" >kept
[ $(($1 % 5)) -eq 0 ] && echo "out $1"
[ $(($1 % 7)) -eq 0 ] && echo "{\"i\": $1}" >"$SWEEP_RESULT"
exit 0
EOF2
chmod +x check.sh
cat >d.yaml <<EOF2
study: d
command: ["$T/check.sh", "{i}"]
parameters: {i: {range: [1, $N]}}
max_parallel: 2
EOF2
expect_code 0 sweep run d.yaml -q
expect_code 0 sweep results d --format json
jq_eq "$T/out" '[.[] | select(.state == "succeeded")] | length' $N
ok "every task started in an empty directory of its own"

cp "$T/out" d.json
dirs=$(find "$SWEEP_HOME/studies/d/tasks" -mindepth 2 -maxdepth 2 -type d | wc -l)
[ "$dirs" -lt $((N * 2 / 3)) ] || fail "$dirs task directories for $N tasks"
ok "the directories of tasks that left nothing went to later tasks ($dirs for $N)"

for i in $(seq 1 $N); do
    key=$(jq -r ".[] | select(.params.i == $i) | .key" d.json)
    dir="$SWEEP_HOME/studies/d/tasks/$(printf %.2s "$key")/$key"
    if [ $((i % 3)) -eq 0 ]; then
        [ "$(cat "$dir/kept")" = "$i" ] || fail "task $i: its file is not in $dir"
    fi
    if [ $((i % 5)) -eq 0 ]; then
        [ "$(cat "$dir/stdout.log")" = "out $i" ] || fail "task $i: no stdout.log"
    fi
    if [ $((i % 7)) -eq 0 ]; then
        jq_eq "$dir/result.json" '.i' "$i"
    fi
    if [ $((i % 3)) -ne 0 ] && [ $((i % 5)) -ne 0 ] && [ $((i % 7)) -ne 0 ] &&
        [ -d "$dir" ]; then
        [ -z "$(ls -A "$dir")" ] || fail "task $i left nothing, its $dir holds $(ls -A "$dir")"
    fi
done
ok "a task that left a file, output or a result keeps its directory and what it wrote"

key=$(jq -r '.[] | select(.params.i == 1) | .key' d.json)
expect_code 0 sweep logs "d/$key"
[ "$(grep -vc '^==>\|^$' "$T/out")" -eq 0 ] || fail "logs of a silent task: $(cat "$T/out")"
ok "sweep logs of a task whose directory went to another"

# A rerun: the directories left from the first run are taken again as they are.
cat >t.yaml <<EOF2
study: t
command: [/bin/true, "{i}"]
parameters: {i: {range: [1, 30]}}
max_parallel: 2
EOF2
expect_code 0 sweep run t.yaml -q
expect_code 0 sweep run t.yaml -q --force --json
jq_eq "$T/out" '.status' COMPLETED
ok "a rerun over the directories left by the first run"

# Pipelines keep every step's directory: a later step names the one before it.
cat >p.yaml <<EOF2
study: p
parameters: {i: {range: [1, 20]}}
max_parallel: 2
steps:
  - name: a
    command: [/bin/true, "{i}"]
  - name: b
    command: [test, -d, "{steps.a.dir}"]
EOF2
expect_code 0 sweep run p.yaml -q --json
jq_eq "$T/out" '.status' COMPLETED
ok "a step finds the directory of the step before it"

# What the store costs a short task (SWEEP_DEBUG_STATS=1, preparation included): its
# start and end are 2 statements each (the runner gives the task's group, which is
# not read back), and the process group of an attempt whose end the same tick records
# is not recorded (nothing would be left to kill should the run die): about 6 in all,
# against about 9 before.
N=300
cat >s.yaml <<EOF2
study: s
command: [/bin/true, "{i}"]
parameters: {i: {range: [1, $N]}}
EOF2
expect_code 0 env SWEEP_DEBUG_STATS=1 "$SWEEP_BIN" run s.yaml -j 2 --quiet
s=$(sed -n 's/^store: statements=\([0-9]*\).*/\1/p' "$T/err")
[ -n "$s" ] || fail "no figures in: $(cat "$T/err")"
[ "$s" -le $((N * 15 / 2)) ] || fail "$s statements for $N tasks"
ok "a short task costs the store about 6 statements ($s for $N)"
if command -v python3 >/dev/null 2>&1; then
    unrec=$(python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM attempts WHERE pid = 0 AND state = 2").fetchone()[0])' \
        "$SWEEP_HOME/sweep.db")
    [ "$unrec" -gt 0 ] || fail "every attempt had its process group recorded"
    ok "attempts ended by their first tick have no process group recorded ($unrec)"
fi

# sweep's own system calls for short tasks that write nothing (strace without -f):
# about one mkdir per shard directory, not per task (the task directories go from
# task to task), no read of an output pipe that hung up empty, no fcntl to make a
# pipe non-blocking (it is read with RWF_NOWAIT), and no open of a result file that
# is not there (an error message made and dropped).
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
    N=300
    cat >c.yaml <<EOF2
study: c
command: [/bin/true, "{i}"]
parameters: {i: {range: [1, $N]}}
EOF2
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        strace -o "$T/sc" -e trace=mkdir,read,fcntl,openat "$SWEEP_BIN" run c.yaml -j 2 -q \
        >"$T/out" 2>&1 || fail "sweep run under strace: $(cat "$T/out")"
    mk=$(grep -c '^mkdir(' "$T/sc") || true
    # The reads that find an end (a pipe's, when it hangs up), not the loader's.
    rd=$(grep -c '^read(.*= 0$' "$T/sc") || true
    nb=$(grep -c '^fcntl(.*O_NONBLOCK' "$T/sc") || true
    op=$(grep -c '^openat(.*result\.json' "$T/sc") || true
    shards=$(ls "$SWEEP_HOME/studies/c/tasks" | wc -l)
    [ "$mk" -lt $((shards + N / 2)) ] || fail "$mk mkdir calls for $N tasks in $shards shards"
    [ "$rd" -lt $((N / 2)) ] || fail "$rd reads of an end for $N tasks"
    [ "$nb" -lt $((N / 2)) ] || fail "$nb fcntl calls setting O_NONBLOCK for $N tasks"
    [ "$op" -lt $((N / 2)) ] || fail "$op opens of result files for $N tasks"
    ok "system calls for $N silent tasks: $mk mkdir ($shards shards), $rd read of an end," \
        "$nb fcntl, $op open of result.json"

    # The WAL is checkpointed every 10,000 pages, not every 1,000: a checkpoint waits
    # for two fdatasync calls, on the run's path (about 20 for 1,000 short tasks at
    # the default, against 8 of the run's start and end).
    N=1000
    cat >f.yaml <<EOF2
study: f
command: [/bin/true, "{i}"]
parameters: {i: {range: [1, $N]}}
EOF2
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        strace -o "$T/sf" -e trace=fdatasync,fsync "$SWEEP_BIN" run f.yaml -j 2 -q \
        >"$T/out" 2>&1 || fail "sweep run under strace: $(cat "$T/out")"
    syncs=$(grep -c 'sync(' "$T/sf") || true
    [ "$syncs" -le 12 ] || fail "$syncs fdatasync calls for $N tasks"
    ok "few checkpoints in a run of $N short tasks ($syncs fdatasync calls)"
else
    echo "# strace missing or not allowed: system calls not counted"
fi
