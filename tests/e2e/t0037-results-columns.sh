# `sweep results` takes its columns from the names the store keeps (schema 7) instead
# of a pass over every task, and gives the same header and rows as that pass (forced
# here by emptying the list) in table, CSV and JSON: tasks that write different
# metric sets and end out of order, a parameter named like a fixed column
# (param.seed), a metric named like a parameter (result.x), nested metrics, null and
# array metrics, a failed task without metrics, a second generation (the spec
# extended), a pipeline (pipeline_step, metrics under their step, --step), and
# --state (the study's columns, whatever the state: rows of a failed task and of
# succeeded ones line up). The pass puts its names back into the store. A table longer than its first 1000 rows keeps one width.
. "$SWEEP_SRC/tests/e2e/lib.sh"

db() { # db SQL: runs SQL (one query, or statements) on the home's database
    python3 - "$SWEEP_HOME/sweep.db" "$1" <<'EOF2' || fail "db: $1"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
if sys.argv[2].lstrip().startswith("SELECT"):
    for row in db.execute(sys.argv[2]):
        print("|".join(str(c) for c in row))
else:
    db.executescript(sys.argv[2])
db.commit()
EOF2
}

# snapshot NAME STUDY [ARGS...]: sweep results in the three formats into NAME.*
snapshot() {
    name=$1
    shift
    for fmt in csv json table; do
        expect_code 0 sweep results "$@" --format $fmt
        cp "$T/out" "$name.$fmt"
    done
}

# same A B: the three formats of snapshots A and B are identical.
same() {
    for fmt in csv json table; do
        cmp -s "$1.$fmt" "$2.$fmt" || {
            diff "$1.$fmt" "$2.$fmt" >&2
            fail "$1.$fmt and $2.$fmt differ"
        }
    done
}

# check STUDY [ARGS...]: the stored names give what a pass over the tasks gives, and
# the pass stores its names again.
check() {
    db "SELECT count(*) FROM studies WHERE name = '$1'
        AND names_generation = generation" >complete
    [ "$(cat complete)" = 1 ] || fail "$1: the list of names is not complete"
    snapshot stored "$@"
    db "DELETE FROM result_names; UPDATE studies SET names_generation = 0"
    snapshot pass "$@"
    same stored pass
    # With --step the pass sees some tasks only, and stores nothing.
    [ $# -gt 1 ] && expect_code 0 sweep results "$1" --format csv
    db "SELECT count(*) FROM studies WHERE name = '$1'
        AND names_generation = generation" >complete
    [ "$(cat complete)" = 1 ] || fail "$1: the pass did not store its names"
    snapshot again "$@"
    same stored again
}

cat >emit.sh <<'EOF2'
#!/bin/sh
# emit.sh X: a metric set per x (sweep stores them with sorted keys); the first ones
# end last; x = 5 fails.
[ "$1" = 5 ] && exit 3
case $1 in
1) sleep 0.4; echo '{"a": 1, "shared": 1}' ;;
2) sleep 0.2; echo '{"deep": {"b": 2, "c": [1, 2]}, "shared": 2}' ;;
3) echo '{"z": 3, "x": 30, "a": 0, "none": null}' ;;
4) echo '{"shared": 4, "late": "yes"}' ;;
*) echo '{"shared": 0}' ;;
esac >"$SWEEP_RESULT"
EOF2
chmod +x emit.sh
cat >sets.yaml <<'EOF2'
study: sets
command: ["./emit.sh", "{x}"]
parameters:
  x: [1, 2, 3, 4, 5]
  seed: [7]
EOF2
expect_code 1 sweep run sets.yaml -q -j 5
expect_code 0 sweep results sets --format csv
head -1 "$T/out" >header
want="key,id,state,attempts,repetition,seed,priority,param.seed,x,a,shared,deep.b,\
deep.c,none,result.x,z,late,exit_code,signal,wall,user,sys,maxrss_kb,error,finished_at"
[ "$(cat header)" = "$want" ] || fail "header: $(cat header)"
cp header header.all
check sets
ok "metric sets ending out of order: the header of expansion order, all formats alike"

check sets --state failed
head -1 pass.csv | cmp -s - header.all || fail "--state failed: $(head -1 pass.csv)"
[ "$(count_lines pass.csv)" = 2 ] || fail "--state failed: $(cat pass.csv)"
check sets --state succeeded
head -1 pass.csv | cmp -s - header.all || fail "--state succeeded: $(head -1 pass.csv)"
ok "--state: the study's columns, whatever the state"

# A second generation: two new points, x = 0 first.
sed 's/x: \[1, 2, 3, 4, 5\]/x: [0, 1, 2, 3, 4, 5, 6]/' sets.yaml >sets2.yaml
expect_code 1 sweep run sets2.yaml -q -j 5
check sets
head -1 stored.csv | grep -q ',x,shared,a,deep.b,deep.c,none,result.x,z,late,' ||
    fail "second generation: $(head -1 stored.csv)"
ok "a second generation: carried over, the new first task's names first"

echo 'echo "{\"v\": 1}" >"$SWEEP_RESULT"' >a.sh
echo 'echo "{\"w\": {\"q\": 2}, \"x\": 3}" >"$SWEEP_RESULT"' >b.sh
cat >pipe.yaml <<'EOF2'
study: pipe
parameters: {step: [1, 2], x: [1]}
steps:
  - {name: a, command: ["sh", "{spec_dir}/a.sh"]}
  - {name: b, command: ["sh", "{spec_dir}/b.sh"]}
EOF2
expect_code 0 sweep run pipe.yaml -q
check pipe
head -1 stored.csv | grep -q '^key,pipeline_step,id,.*,step,x,a.v,b.w.q,b.x,' ||
    fail "pipeline: $(head -1 stored.csv)"
check pipe --step b
head -1 stored.csv | grep -q ',step,x,b.w.q,b.x,exit_code' ||
    fail "--step b: $(head -1 stored.csv)"
ok "a pipeline: step columns, metrics under their step, --step"

# 1500 rows: the table is sized by its header and first 1000 rows, and a later wider
# cell pushes its row on, the rest keeps the columns.
cat >wide.yaml <<'EOF2'
study: wide
command: ["true"]
parameters: {n: {range: [1, 1500]}}
EOF2
expect_code 0 sweep run wide.yaml --prepare -q
db "UPDATE tasks SET error = 'a much longer error than any before it'
    WHERE seq = 1400"
expect_code 0 sweep results wide --format table
[ "$(count_lines "$T/out")" = 1501 ] || fail "table rows: $(count_lines "$T/out")"
w1=$(sed -n 2p "$T/out" | awk '{print index($0, "pending")}')
w2=$(sed -n 1500p "$T/out" | awk '{print index($0, "pending")}')
[ "$w1" = "$w2" ] || fail "the table's columns moved: $w1 vs $w2"
expect_in "$T/out" "a much longer error"
ok "a table of 1500 rows: one width from its first rows"
