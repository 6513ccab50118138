#!/bin/sh
# sweep serve: pages of GET /tasks and GET /studies/{id}/results read from the store.
# A study of 2400 tasks (one runs, the others wait) and a small finished one: walking
# GET /tasks page by page (next_offset) gives exactly the tasks of `sweep results`,
# in the same order, with each filter (study, status, priority band or integer) and
# across studies (newest first); offsets at and past the end; a page of the results
# (offset, limit) is that slice of the whole table, as JSON and as CSV. Then malformed
# requests: JSON errors, or the statuses libmicrohttpd answers itself (README).
. "$SWEEP_SRC/tests/e2e/lib.sh"
openapi_log

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"

PID=
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT
start_serve -j 2

submit() { # submit JSON-FILE
    code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST --data-binary "@$1" \
        "$URL/studies")
    [ "$code" = 202 ] || fail "POST /studies: $code $(cat "$T/body")"
}
# Explicit tasks with priorities 1, 2, 3 and 7 in turn (LOW, MEDIUM, HIGH, HIGH).
jq -n '{study: "small", model: "chaos", base: {duration: 0, fail_rate: 0.5},
    tasks: [range(40) | {x: ., priority: ([1, 2, 3, 7][. % 4])}]}' >small.json
jq -n '{study: "big", model: "chaos", base: {duration: 300}, max_parallel: 1,
    tasks: [range(2400) | {x: ., priority: ([1, 2, 3, 7][. % 4])}]}' >big.json
submit small.json
small_ended() {
    curl -s "$URL/studies/small" | jq -ne 'input | .status | test("COMPLETED|FAILED")' >/dev/null
}
wait_for 120 small_ended
submit big.json
big_runs() {
    curl -s "$URL/tasks?study=big&status=running" | jq -ne 'input | .tasks | length == 1' \
        >/dev/null
}
wait_for 120 big_runs
# The reference: every task of each study in order, as `sweep results` lists them.
for s in small big; do
    sweep results "$s" --json |
        jq -c '.[] | {id, state, p: .priority_value}' >"ref.$s" ||
        fail "sweep results $s"
done
[ "$(count_lines ref.big)" -eq 2400 ] || fail "big: $(count_lines ref.big) tasks"
jq -e -s 'map(.state) | unique | length > 1' ref.small >/dev/null ||
    fail "small: one state only"
ok "a study of 2400 tasks waits, a small one has ended"

# walk QUERY LIMIT: the ids of every page of GET /tasks?QUERY, one per line.
walk() {
    o=0 n=0
    : >walk.ids
    while [ "$o" != null ]; do
        curl -s "$URL/tasks?$1&limit=$2&offset=$o" >page.json
        jq -r --argjson l "$2" 'if (.tasks | length) > $l then error("too long")
            else (.tasks[].id), "next \(.next_offset)" end' page.json >page.out ||
            fail "GET /tasks?$1&limit=$2&offset=$o: $(head -c 300 page.json)"
        grep -v '^next ' page.out >>walk.ids
        o=$(sed -n 's/^next //p' page.out)
        n=$((n + 1))
        [ "$n" -le 3000 ] || fail "GET /tasks?$1: no end"
    done
}
# expect_walk QUERY LIMIT JQ-FILTER: the pages give the reference's tasks that the
# filter selects (jq over the lines of ref.small then ref.big, newest study first).
expect_walk() {
    walk "$1" "$2"
    jq -r "select($3) | .id" $4 >want.ids
    cmp -s want.ids walk.ids || {
        diff want.ids walk.ids | head -20 >&2
        fail "GET /tasks?$1 (limit $2): not the tasks of sweep results"
    }
}
expect_walk "study=big" 241 true ref.big
expect_walk "study=big&priority=HIGH" 150 '.p >= 3' ref.big
expect_walk "study=big&priority=7&status=PENDING" 100 '.p == 7 and .state == "pending"' \
    ref.big
expect_walk "study=big&priority=low" 1000 '.p <= 1' ref.big
expect_walk "study=small&status=failed" 3 '.state == "failed"' ref.small
ok "the pages of one study, with and without filters, are its tasks in order"

# Across studies, newest first.
jq -ne 'input | map(.study) == ["big", "small"]' "$(curl -s "$URL/studies" >st.json &&
    echo st.json)" >/dev/null || fail "GET /studies: not newest first"
expect_walk "" 700 true "ref.big ref.small"
expect_walk "priority=MEDIUM" 200 '.p == 2' "ref.big ref.small"
expect_walk "status=succeeded" 8 '.state == "succeeded"' "ref.big ref.small"
ok "the pages of every study, newest first, are their tasks in order"

curl -s "$URL/tasks?study=big&offset=2400" >page.json
jq_eq page.json '"\(.tasks | length) \(.next_offset)"' "0 null"
curl -s "$URL/tasks?study=big&offset=2399&limit=5" >page.json
jq_eq page.json '"\(.tasks | map(.id)) \(.next_offset)"' \
    "[$(tail -n 1 ref.big | jq .id)] null"
curl -s "$URL/tasks?offset=2420&limit=100" >page.json
jq_eq page.json '"\(.tasks | length) \(.next_offset)"' "20 null"
ok "offsets at and past the end"

# ---- a page of the results ----
curl -s "$URL/studies/big/results" >all.json
jq_eq all.json length 2400
curl -s "$URL/studies/big/results?offset=1000&limit=50" >page.json
[ "$(jq -c 'map(.id)' page.json)" = "$(jq -c '.[1000:1050] | map(.id)' all.json)" ] ||
    fail "results?offset=1000&limit=50: not the slice 1000..1049"
jq -ne --slurpfile a all.json 'input | . == $a[0][1000:1050]' page.json >/dev/null ||
    fail "results?offset=1000&limit=50: rows differ from the whole table's"
curl -s "$URL/studies/big/results?offset=2390" >page.json
jq_eq page.json 'map(.id) | map(tostring) | join(",")' \
    "$(jq -r '.[2390:] | map(.id) | map(tostring) | join(",")' all.json)"
curl -s "$URL/studies/big/results?format=csv" >all.csv
curl -s "$URL/studies/big/results?format=csv&offset=7&limit=3" >page.csv
[ "$(count_lines page.csv)" -eq 4 ] || fail "csv page: not a header and 3 rows"
[ "$(head -n 1 page.csv)" = "$(head -n 1 all.csv)" ] || fail "csv page: header"
[ "$(tail -n 3 page.csv)" = "$(sed -n 9,11p all.csv)" ] || fail "csv page: rows 7..9"
code=$(curl -s -o page.json -w '%{http_code}' "$URL/studies/big/results?limit=0")
[ "$code" = 400 ] || fail "results?limit=0: $code"
ok "GET /studies/{id}/results?offset=&limit=: a slice of the whole table"

# ---- malformed requests: JSON from sweep, or libmicrohttpd's own answer ----
# What reaches a handler is answered {"error", "detail"}; what libmicrohttpd refuses
# itself gets the status the README lists (its body is its own HTML).
python3 - "${URL##*:}" <<'EOF_PY' || fail "raw requests"
import json, socket, sys
port = int(sys.argv[1])
def ask(raw):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    s.sendall(raw)
    data = b""
    try:
        while True:
            got = s.recv(65536)
            if not got:
                break
            data += got
    except OSError:
        pass
    s.close()
    return data
H = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
for raw, want in [(b"GET /tasks?limit=%ff%fe" + H + b"\r\n", 400),
                  (b"GET /studies/%00" + H + b"\r\n", 400),
                  (b"GET /studies/a%2Fb/results" + H + b"\r\n", 404),
                  (b"DELETE /studies" + H + b"\r\n", 405)]:
    head, _, body = ask(raw).partition(b"\r\n\r\n")
    status = int(head.split()[1])
    err = json.loads(body)
    if status != want or sorted(err) != ["detail", "error"]:
        sys.exit("%r: %d %r" % (raw[:40], status, body[:200]))
for raw, want in [(b"GET /health" + H + b"Bad Header\r\n\r\n", 400),
                  (b"GET /health" + H + b"Content-Length: -5\r\n\r\n", 400),
                  (b"POST /studies" + H + b"Content-Length: 99999999999999999999\r\n\r\n",
                   413),
                  (b"GET /" + b"a" * 40000 + H + b"\r\n", 414),
                  (b"GET /health" + H + b"X: " + b"a" * 40000 + b"\r\n\r\n", 431),
                  (b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", 505)]:
    line = ask(raw).split(b"\r\n")[0]
    if not line.startswith(b"HTTP/1.1 %d " % want):
        sys.exit("%r: %r, not %d" % (raw[:40], line, want))
EOF_PY
curl -sf "$URL/health" >/dev/null || fail "no answer after the malformed requests"
ok "malformed requests: JSON errors from sweep, libmicrohttpd's statuses as documented"

stop_serve
openapi_check
