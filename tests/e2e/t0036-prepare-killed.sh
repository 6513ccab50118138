# A preparation of more than one chunk (250,000 tasks; each chunk is stored in key
# order) killed with SIGKILL after its first chunk is committed: the study stays as it
# was (its 10,000 tasks, the staged ones never visible); the next preparation discards
# what the dead one left and stores the whole new generation once: every key once,
# each task's place (seq) matching its parameters, the old keys kept with their state,
# the kept counts equal to the tasks.
. "$SWEEP_SRC/tests/e2e/lib.sh"

sql() { # sql QUERY: the first row of QUERY on the home's database, as a|b|c
    python3 -c 'import sqlite3, sys
print("|".join(str(v) for v in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()))' \
        .sweep/sweep.db "$1"
}

spec() { # spec X: x in 1..X, y in 1..1000
    cat <<EOF
study: grid
command: ["/bin/true", "{x}", "{y}"]
parameters:
  x: {range: [1, $1]}
  y: {range: [1, 1000]}
EOF
}
spec 10 >small.yaml
spec 400 >big.yaml

expect_code 0 sweep run small.yaml --prepare
expect_in "$T/out" "10000 tasks stored"
first=$(sql "SELECT id FROM tasks WHERE seq = 0")
python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE tasks SET state = 2 WHERE id = ?", (int(sys.argv[2]),))
db.commit()' .sweep/sweep.db "$first"
ok "the first generation: 10000 tasks, one succeeded"

"$SWEEP_BIN" run big.yaml --prepare >"$T/big.out" 2>&1 &
pid=$!
# The first chunk committed: tasks of the staged generation 2 are readable.
wait_for 120 sh -c "[ \"\$(python3 -c 'import sqlite3
print(sqlite3.connect(\".sweep/sweep.db\").execute(
    \"SELECT count(*) FROM tasks WHERE generation = 2\").fetchone()[0])')\" -gt 0 ]" ||
    fail "no chunk of the second generation was committed"
kill -9 $pid
wait $pid 2>/dev/null
# The second chunk (150,000 tasks) takes seconds: the kill lands before it ends.
[ ! -s "$T/big.out" ] || fail "the preparation ended before the kill: $(cat "$T/big.out")"
expect_code 0 sweep status grid --json
jq_eq "$T/out" '.counts.total' 10000
jq_eq "$T/out" '.counts.succeeded' 1
[ "$(sql 'SELECT generation FROM studies')" = 1 ] || fail "the study's generation moved"
ok "a preparation killed after a chunk: the study as it was"

expect_code 0 sweep run big.yaml --prepare
expect_in "$T/out" "400000 tasks stored"
expect_code 0 sweep status grid --json
jq_eq "$T/out" '.counts.total' 400000
jq_eq "$T/out" '.counts.succeeded' 1
[ "$(sql 'SELECT count(*), count(DISTINCT key), max(seq) FROM tasks')" = \
    "400000|400000|399999" ] || fail "tasks: $(sql 'SELECT count(*), max(seq) FROM tasks')"
[ "$(sql "SELECT count(*) FROM tasks WHERE seq <> (json_extract(params_json, '\$.x') - 1)
    * 1000 + json_extract(params_json, '\$.y') - 1 OR generation <> 2")" = 0 ] ||
    fail "a task's place does not match its parameters"
[ "$(sql "SELECT state, seq FROM tasks WHERE id = $first")" = "2|0" ] ||
    fail "the succeeded task lost its state"
[ "$(sql 'SELECT count(*) FROM task_stage')" = 0 ] || fail "task_stage not emptied"
full=$(sql "SELECT group_concat(s, ',') FROM (SELECT state || ':' || count(*) AS s
    FROM tasks GROUP BY state ORDER BY state)")
kept=$(sql "SELECT group_concat(s, ',') FROM (SELECT state || ':' || sum(n) AS s
    FROM task_counts WHERE generation = 2 GROUP BY state HAVING sum(n) > 0
    ORDER BY state)")
[ "$full" = "$kept" ] || fail "kept counts $kept, full counts $full"
ok "prepared again: the whole generation once, old keys kept, counts right"
