#!/bin/sh
# sweep serve: a study's statistics and pictures over HTTP and POST /execute_tasks. A
# small study runs through the service, then: GET /studies/{id}/aggregate equals `sweep
# aggregate --format json` on the same home (with by, metrics, fit); plot.svg is
# well-formed XML with the plot's series; report.png decodes as a PNG; bad query
# parameters (unknown metric, x not a parameter) are 400s naming them, unknown studies
# 404; /execute_tasks runs the configured tasks file, a task file sent as the body,
# and says 404 with the path (relative to the home) when the file is missing. The pictures are kept in
# $SWEEP_ARTIFACTS for a person to look at.
. "$SWEEP_SRC/tests/e2e/lib.sh"
openapi_log

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"
command -v python3 >/dev/null || fail "python3 is needed"

PID=
URL=
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT
mkdir -p "$SWEEP_HOME"
start_serve -j 2 --tasks-file my/tasks.yaml

# api WANT METHOD PATH [curl args]: the answer in $T/body; fails unless status WANT
# and, for JSON, a valid JSON body.
api() {
    want=$1 method=$2 path=$3
    shift 3
    code=$(curl -s --path-as-is -o "$T/body" -D "$T/head" -w '%{http_code}' \
        -X "$method" "$@" "$URL$path") || fail "curl $method $path failed"
    [ "$code" = "$want" ] || {
        cat "$T/body" >&2
        fail "$method $path: $code, expected $want"
    }
    case $(head -c 1 "$T/body") in
    '{' | '[') jq -ne 'input | true' "$T/body" >/dev/null || fail "$method $path: not JSON" ;;
    esac
}
study_status() {
    curl -s "$URL/studies/$1" | jq -ne --arg s "$2" 'input | .status == $s' >/dev/null
}

SPEC='{"study": "p1", "model": "chaos", "parameters": {"x": [1, 2, 4], "y": [0, 10]}, "base": {"sigma": 0.1}, "repetitions": 3}'
api 202 POST /studies -H 'Content-Type: application/json' -d "$SPEC"
wait_for 60 study_status p1 COMPLETED
ok "a 18-task study runs through the service"

# ---- aggregate: the JSON of sweep aggregate --format json ----
for q in "" "?by=x&metrics=value" "?by=y,x&metrics=value,noise&fit=power" "?by="; do
    api 200 GET "/studies/p1/aggregate$q"
    args=$(printf '%s' "$q" | sed -e 's/^?//' -e 's/&/ /g' -e 's/\([a-z]*\)=/--\1 /g')
    # shellcheck disable=SC2086 # the options split on purpose
    if [ "$q" = "?by=" ]; then
        expect_code 0 sweep aggregate p1 --by '' --format json
    else
        expect_code 0 sweep aggregate p1 $args --format json
    fi
    cmp -s "$T/body" "$T/out" || {
        diff "$T/body" "$T/out" >&2
        fail "aggregate$q differs from sweep aggregate $args"
    }
done
jq_eq "$T/body" '"\(length) \(.[0].n_samples)"' "1 18" # by=: one group
api 200 GET "/studies/p1/aggregate?by=x&metrics=value&fit=power"
jq_eq "$T/body" '.fits|length' 1
ok "GET /studies/{id}/aggregate is sweep aggregate --format json (by, metrics, fit)"

api 400 GET "/studies/p1/aggregate?metrics=nope"
jq_eq "$T/body" .error invalid
expect_in "$T/body" nope
api 400 GET "/studies/p1/aggregate?by=zz"
expect_in "$T/body" zz
api 400 GET "/studies/p1/aggregate?fit=linear"
expect_in "$T/body" "fit: expected power"
api 400 GET "/studies/p1/aggregate?by=x,,y"
api 404 GET "/studies/nope/aggregate"
jq_eq "$T/body" .error not_found
ok "aggregate: an unknown metric or parameter 400 naming it, an unknown study 404"

# ---- plot.svg ----
api 200 GET "/studies/p1/plot.svg?x=x&y=value&by=y"
expect_in "$T/head" "image/svg+xml"
cp "$T/body" "$T/plot.svg"
python3 - "$T/plot.svg" <<'EOF_PY' || fail "plot.svg"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag.endswith("svg"), root.tag
text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
for want in ("y=0", "y=10", "p1", "value"):
    assert want in text, (want, text)
EOF_PY
# The same bytes as sweep plot writes to a file: one drawing code.
expect_code 0 sweep plot p1 --x x --y value --by y -o "$T/cli-plot.svg"
cmp -s "$T/plot.svg" "$T/cli-plot.svg" || fail "plot.svg differs from sweep plot's"
expect_code 0 sweep plot p1 --x x --y value --by y -o "$T/cli-plot.png"
api 200 GET "/studies/p1/plot.svg?x=x&y=value&fit=power&width=600&height=400"
cp "$T/body" "$T/plot-fit.svg"
python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.get("width", "").startswith("600")' \
    "$T/plot-fit.svg" || fail "plot.svg width"
expect_in "$T/body" "fit: value"
ok "GET /studies/{id}/plot.svg: well-formed SVG with the plot's series and fit"

api 400 GET "/studies/p1/plot.svg?x=x&y=nope"
expect_in "$T/body" nope
api 400 GET "/studies/p1/plot.svg?x=zz&y=value"
expect_in "$T/body" zz
api 400 GET "/studies/p1/plot.svg?y=value"
expect_in "$T/body" "x (a numeric parameter)"
api 400 GET "/studies/p1/plot.svg?x=x&y=value&width=100000"
expect_in "$T/body" "width"
api 400 GET "/studies/p1/plot.svg?x=x&y=value&logx=maybe"
expect_in "$T/body" "logx"
api 404 GET "/studies/nope/plot.svg?x=x&y=value"
api 404 GET "/studies/p1/plot.png?x=x&y=value"
ok "plot.svg: a bad or missing query parameter 400 naming it, an unknown study 404"

# ---- report.png ----
api 200 GET /studies/p1/report.png
expect_in "$T/head" "image/png"
cp "$T/body" "$T/report.png"
python3 - "$T/report.png" <<'EOF_PY' || fail "report.png"
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n", d[:8]
w, h = struct.unpack(">II", d[16:24])
assert (w, h) == (1000, 760), (w, h)
# Every chunk's CRC holds and the image data inflates.
i, idat = 8, b""
while i < len(d):
    n, = struct.unpack(">I", d[i:i + 4])
    kind, body = d[i + 4:i + 8], d[i + 8:i + 8 + n]
    assert zlib.crc32(kind + body) == struct.unpack(">I", d[i + 8 + n:i + 12 + n])[0]
    idat += body if kind == b"IDAT" else b""
    i += 12 + n
assert len(zlib.decompress(idat)) > 0
EOF_PY
expect_code 0 sweep report p1 -o "$T/cli-report.png"
python3 - "$T/report.png" "$T/cli-report.png" <<'EOF_PY' || fail "report.png size"
import struct, sys
a, b = (open(p, "rb").read() for p in sys.argv[1:])
assert a[16:24] == b[16:24]
EOF_PY
api 404 GET /studies/nope/report.png
jq_eq "$T/body" .error not_found
ok "GET /studies/{id}/report.png: a PNG of sweep report's page; unknown study 404"

if [ -n "${SWEEP_ARTIFACTS:-}" ]; then
    mkdir -p "$SWEEP_ARTIFACTS"
    cp "$T/plot.svg" "$SWEEP_ARTIFACTS/t0045-plot.svg"
    cp "$T/plot-fit.svg" "$SWEEP_ARTIFACTS/t0045-plot-fit.svg"
    cp "$T/report.png" "$SWEEP_ARTIFACTS/t0045-report.png"
    cp "$T/cli-plot.png" "$SWEEP_ARTIFACTS/t0045-plot-as-png.png"
fi

# ---- POST /execute_tasks ----
api 404 POST /execute_tasks
jq_eq "$T/body" .error not_found
expect_in "$T/body" '"my/tasks.yaml: No such file'
expect_not_in "$T/body" "$SWEEP_HOME"
mkdir -p "$SWEEP_HOME/my"
cat >"$SWEEP_HOME/my/tasks.yaml" <<'EOF'
metadata:
  name: fromfile
tasks:
  - id: a
    type: chaos
    parameters: {x: 1}
    priority: 1
  - id: b
    type: chaos
    parameters: {x: 2}
EOF
api 202 POST /execute_tasks
jq_eq "$T/body" '.study_id + " " + .status + " " + (.study_ids|join(","))' \
    "fromfile QUEUED fromfile"
jq_eq "$T/body" .tasks_file "$SWEEP_HOME/my/tasks.yaml"
wait_for 60 study_status fromfile COMPLETED
api 200 GET /studies/fromfile
jq_eq "$T/body" '.progress.completed' 2
ok "POST /execute_tasks runs the configured tasks file (404 with its path while missing)"

BODY='{"metadata": {"name": "frombody"}, "tasks": [{"task_id": "t1", "algorithm": "CHAOS", "parameters": {"y": 3}, "priority": "high"}]}'
api 202 POST /execute_tasks -d "$BODY"
jq_eq "$T/body" '.study_ids|join(",")' frombody
wait_for 60 study_status frombody COMPLETED
api 400 POST /execute_tasks -d '{"study": "x", "model": "chaos"}'
expect_in "$T/body" "not a task file"
api 400 POST /execute_tasks -d 'tasks: [{id: 1, type: nope}]'
expect_in "$T/body" nope
api 400 POST /execute_tasks -d 'tasks: [ {'
ok "POST /execute_tasks with a task file as the body; a spec or a bad file is 400"

# ---- nothing to draw yet: 409; the report still draws ----
api 202 POST /studies -d '{"study": "bad", "model": "chaos", "base": {"fail_rate": 1}, "retries": {"max": 0}}'
wait_for 60 study_status bad FAILED
api 409 GET "/studies/bad/plot.svg?x=x&y=value"
jq_eq "$T/body" .error no_data
api 200 GET /studies/bad/report.png
ok "plot.svg of a study with no succeeded task: 409; its report.png draws"

stop_serve
openapi_check
