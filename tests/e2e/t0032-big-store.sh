# A million-task study prepared (`--prepare`) beside a running study in the same home:
# the preparation commits in chunks, so the running study's writes wait for one chunk
# at most and it completes, with nothing left `running`; a loop of `sweep status`,
# `sweep list` and a small write (`sweep run tiny.yaml --prepare`) runs without errors
# all along and never sees the big study half-stored (it appears with all its tasks
# at once); the counts the store keeps match the tasks.
. "$SWEEP_SRC/tests/e2e/lib.sh"

sql() { # sql QUERY: the first row of QUERY on the home's database, as a|b|c
    python3 -c 'import sqlite3, sys
print("|".join(str(v) for v in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()))' \
        .sweep/sweep.db "$1"
}

# Each task of `small` takes up to 1 s until the gate exists, then none: the study
# writes (starts, ends) all through the preparation, and completes soon after it.
cat >task.sh <<'EOF'
#!/bin/sh
i=0
while [ ! -e "$1" ] && [ $i -lt 10 ]; do sleep 0.1; i=$((i + 1)); done
EOF
chmod +x task.sh
cat >small.yaml <<EOF
study: small
command: ["$T/task.sh", "$T/gate"]
parameters: {i: {range: [1, 200]}}
EOF
cat >huge.yaml <<EOF
study: huge
command: ["/bin/true", "{i}"]
parameters: {i: {range: [1, 1000000]}}
EOF

"$SWEEP_BIN" run small.yaml -q -j 2 >"$T/small.out" 2>"$T/small.err" &
small=$!
wait_for 20 sh -c "'$SWEEP_BIN' status small --json | jq -ne 'input | .counts.running > 0'"

cat >tiny.yaml <<EOF
study: tiny
command: ["/bin/true", "{i}"]
parameters: {i: {range: [1, 3]}}
EOF

# status, list and a small write (another study prepared again) in a loop until told
# to stop; any failure, or the big study seen with fewer than all its tasks, is noted
# in loop.err. A writer waits for one chunk of the preparation at most, far below the
# busy timeout (5 s).
(
    while [ ! -e "$T/stop" ]; do
        "$SWEEP_BIN" run tiny.yaml --prepare >/dev/null 2>>"$T/loop.err" ||
            echo "run tiny.yaml --prepare failed" >>"$T/loop.err"
        "$SWEEP_BIN" status small >/dev/null 2>>"$T/loop.err" ||
            echo "status small failed" >>"$T/loop.err"
        "$SWEEP_BIN" list >"$T/list.out" 2>>"$T/loop.err" ||
            echo "list failed" >>"$T/loop.err"
        if grep -q '^huge ' "$T/list.out" &&
            ! grep -q '^huge .* 1000000 ' "$T/list.out"; then
            cat "$T/list.out" >>"$T/loop.err"
        fi
        echo x >>"$T/loops"
    done
) &
loop=$!

expect_code 0 sweep run huge.yaml --prepare
expect_in "$T/out" "1000000 tasks stored"
ok "a million tasks prepared beside a running study"

touch gate
wait $small
rc=$?
[ $rc -eq 0 ] || {
    cat "$T/small.err" >&2
    fail "the running study exited $rc"
}
touch stop
wait $loop
[ ! -s "$T/loop.err" ] || {
    cat "$T/loop.err" >&2
    fail "status/list failed during the preparation"
}
[ "$(count_lines "$T/loops")" -gt 0 ] || fail "the status loop never ran"
ok "the running study completed; status and list worked all along"

expect_code 0 sweep status small --json
jq_eq "$T/out" '.counts.succeeded' 200
[ "$(sql 'SELECT count(*) FROM tasks WHERE state = 1')" = 0 ] ||
    fail "tasks left running"
[ "$(sql 'SELECT count(*) FROM attempts WHERE state = 1')" = 0 ] ||
    fail "attempts left open"
expect_code 0 sweep status huge --json
jq_eq "$T/out" '.counts.pending' 1000000
jq_eq "$T/out" '.counts.total' 1000000
ok "nothing stays running; the big study is whole"

# The kept counts equal a full count of the tasks.
full=$(sql "SELECT group_concat(s, ',') FROM (SELECT study_id || ':' || state || ':'
    || count(*) AS s FROM tasks t WHERE generation = (SELECT generation FROM studies
    WHERE id = t.study_id) GROUP BY study_id, state ORDER BY study_id, state)")
kept=$(sql "SELECT group_concat(s, ',') FROM (SELECT study_id || ':' || state || ':'
    || sum(n) AS s FROM task_counts c WHERE generation = (SELECT generation FROM
    studies WHERE id = c.study_id) GROUP BY study_id, state HAVING sum(n) > 0
    ORDER BY study_id, state)")
[ "$full" = "$kept" ] || fail "kept counts $kept, full counts $full"
ok "the kept counts match the tasks"
