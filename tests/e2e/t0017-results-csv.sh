# `sweep results --format csv` round-trips through a real CSV parser (Python's csv
# module, what pandas' reader follows): every cell of every row equals the same field of
# `sweep results --format json`, with parameters and metrics that hold commas, quotes,
# newlines, leading spaces and unicode, a nested metric, a boolean, a failed task with
# its error, and a metric named like a parameter.
. "$SWEEP_SRC/tests/e2e/lib.sh"

cat >emit.sh <<'EOF2'
#!/bin/sh
# $1: label, $2: x. Writes metrics with awkward strings; x = 3 fails.
[ "$2" = 3 ] && { echo 'bad, "quoted"' >&2; exit 4; }
jq -n --arg lab "$1" --argjson x "$2" \
    '{"label": $lab, x: $x, ok: true, note: "a, \"b\"\nc", deep: {v: ($x + 0.5)}}' \
    >"$SWEEP_RESULT"
EOF2
chmod +x emit.sh
cat >study.yaml <<'EOF2'
study: awkward
command: ["./emit.sh", "{label}", "{x}"]
parameters:
  x: [1, 2, 3]
  label: ["plain", "comma, inside", "quote \" inside", " leading space", "line\nbreak", "ünïcødé"]
EOF2
expect_code 1 sweep run study.yaml -q
expect_code 0 sweep results awkward --format csv
cp "$T/out" results.csv
expect_code 0 sweep results awkward --format json
cp "$T/out" results.json

python3 - results.csv results.json <<'EOF2' || fail "the CSV does not match the JSON"
import csv, json, sys

rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
tasks = {t["key"]: t for t in json.load(open(sys.argv[2], encoding="utf-8"))}
assert len(rows) == 18 == len(tasks), (len(rows), len(tasks))
header = list(rows[0].keys())
assert header[0] == "key", header
assert len(set(header)) == len(header), header
# A metric named like a parameter gets its own column.
assert "x" in header and "result.x" in header, header

def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)

def same(c, v):
    if isinstance(v, float):
        return abs(float(c) - v) <= 1e-6 * max(1.0, abs(v))
    return c == cell(v)

for r in rows:
    t = tasks[r["key"]]
    for k in ("state", "attempts", "repetition", "seed", "priority", "exit_code",
              "signal", "maxrss_kb", "error", "wall", "user", "sys"):
        assert same(r[k], t[k]), (k, r[k], t[k])
    for k, v in t["params"].items():
        assert same(r[k], v), (k, r[k], v)
    flat = {}
    def walk(o, p=""):
        for k, v in o.items():
            if isinstance(v, dict):
                walk(v, p + k + ".")
            else:
                flat[p + k] = v
    walk(t["metrics"])
    for k, v in flat.items():
        col = "result." + k if k in t["params"] else k
        assert same(r[col], v), (col, r[col], v)
    if t["state"] == "succeeded":
        assert r["label"] == r["result.label"] == t["params"]["label"], r
        assert r["note"] == 'a, "b"\nc', r["note"]
        assert r["ok"] == "true" and float(r["deep.v"]) == t["params"]["x"] + 0.5, r
    else:
        assert r["state"] == "failed" and r["exit_code"] == "4", r
        assert r["error"] == "exit code 4", r
labels = sorted({r["label"] for r in rows})
assert labels == sorted([" leading space", "comma, inside", "line\nbreak", "plain",
                         'quote " inside', "ünïcødé"]), labels
EOF2
ok "18 rows, every cell equal to the JSON field, awkward strings intact"

# --state filters the same way in both forms.
expect_code 0 sweep results awkward --format csv --state failed
python3 - "$T/out" <<'EOF2' || fail "--state failed rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
assert len(rows) == 6 and all(r["state"] == "failed" and r["x"] == "3" for r in rows), rows
EOF2
ok "--state failed: the 6 failed rows"

expect_code 2 sweep results awkward --state faild
expect_in "$T/err" "got \"faild\" (did you mean 'failed'?)"
expect_code 2 sweep results awkard
expect_in "$T/err" "no study named 'awkard' in $SWEEP_HOME/sweep.db (did you mean 'awkward'?)"
expect_code 2 sweep logs awkard
expect_in "$T/err" "no study or task named 'awkard' (did you mean the study 'awkward'?)"
expect_code 2 sweep retry awkward
expect_in "$T/err" "'awkward' is a study, not a task: name one of its tasks (STUDY/KEY;"
ok "a mistyped state or study gets the nearest name; a study where a task is wanted says so"

# The metrics are queryable in the database, numbers as numbers (what a user does with
# the sqlite3 shell or pandas.read_sql).
python3 - "$SWEEP_HOME/sweep.db" <<'EOF2' || fail "v_metrics"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT value, typeof(value) FROM v_metrics"
                  " WHERE study = 'awkward' AND name = 'deep.v' ORDER BY value").fetchall()
assert len(rows) == 12 and {t for _, t in rows} == {"real"}, rows
assert sorted({v for v, _ in rows}) == [1.5, 2.5], rows
(n,) = db.execute("SELECT count(*) FROM v_metrics WHERE study = 'awkward'"
                  " AND name = 'note' AND text = 'a, \"b\"' || char(10) || 'c'").fetchone()
assert n == 12, n
(avg,) = db.execute("SELECT avg(value) FROM v_metrics WHERE study = 'awkward'"
                    " AND name = 'ok' AND state = 'succeeded'").fetchone()
assert avg == 1.0, avg
EOF2
ok "v_metrics: nested names, reals as reals, strings as text, booleans as 1"
