# Preparing stores what it always stored, however it inserts the rows (a chunk in key
# order, 32 tasks a statement, the keys of an earlier generation settled one by one):
# `sweep results --format csv` of a study with repetitions, a pipeline with its own
# priority, a reduce, explicit tasks with their own parameter names and a key given
# twice is, but for the ids, byte for byte what sweep printed before (checksums taken
# with the sweep of schema 8), for its first generation and for a second one that keeps
# 249 keys and adds 120 (keys, seeds, parameters, order, priorities, columns). The ids
# follow the expansion: ascending in the first generation; in the second a kept key
# keeps its id and a new one gets an id above the first generation's, ascending. The
# tasks then run, and the schema of the home is version 9.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >a.yaml <<'YAML'
study: same
repetitions: 2
parameters:
  x: {range: [1, 30, 1]}
  y: [0.5, "b"]
tasks:
  - {x: 3, y: 0.5}
  - {x: 100, y: 1, z: "only here", priority: high}
  - {x: 101, y: 2}
steps:
  - name: sim
    command: ["/bin/true", "{x}", "{y}"]
  - name: post
    command: ["/bin/true", "{x}"]
    priority: low
reduce:
  command: ["/bin/true"]
YAML
sed -e 's/range: \[1, 30, 1\]/range: [1, 45, 1]/' -e 's/{x: 101, y: 2}/{x: 101, y: 2, w: 1}/' \
    a.yaml >b.yaml

# The checksum of a CSV without its id column (the third).
sum() { cut -d, -f1,2,4- "$1" | md5sum | cut -d' ' -f1; }

expect_code 0 sweep run a.yaml --prepare
expect_in "$T/out" "253 tasks stored"
expect_code 0 sweep results same --format csv
[ "$(count_lines "$T/out")" = 250 ] || fail "$(count_lines "$T/out") lines"
[ "$(sum "$T/out")" = de34d253ae143d3efe2077f4220ea553 ] ||
    fail "the first generation differs from before: $(head -3 "$T/out")"
cp "$T/out" gen1.csv
awk -F, 'NR > 1 && $3 <= prev { bad = 1 } NR > 1 { prev = $3 } END { exit bad }' gen1.csv ||
    fail "the first generation's ids do not follow its expansion: $(cut -d, -f3 gen1.csv | head)"
ok "a new study: the rows of before"

expect_code 0 sweep run b.yaml --prepare
expect_in "$T/out" "373 tasks stored"
expect_code 0 sweep results same --format csv
[ "$(count_lines "$T/out")" = 370 ] || fail "$(count_lines "$T/out") lines"
[ "$(sum "$T/out")" = 3abdfdc974d7a1e7de25eae580fd86a1 ] ||
    fail "the second generation differs from before: $(head -3 "$T/out")"
awk -F, 'NR == FNR { if (FNR > 1) { id[$1 "," $2] = $3; if ($3 > max) max = $3 }; next }
    FNR == 1 { next }
    ($1 "," $2) in id { if ($3 != id[$1 "," $2]) { print "kept", $0; bad = 1 }; next }
    $3 <= max || $3 <= prev { print "new", $0; bad = 1 } { prev = $3 }
    END { exit bad }' gen1.csv "$T/out" >ids.txt ||
    fail "the second generation's ids: $(head -3 ids.txt)"
ok "a second generation over the first: the rows of before"

expect_code 0 sweep run b.yaml
expect_code 0 sweep status same --json
jq_eq "$T/out" '.counts.total' 369
jq_eq "$T/out" '.counts.succeeded' 369
[ "$(python3 -c 'import sqlite3
print(sqlite3.connect(".sweep/sweep.db").execute("PRAGMA user_version").fetchone()[0])')" = 9 ] ||
    fail "schema version"
ok "its tasks run; schema version 9"

echo "1..$NTESTS"
