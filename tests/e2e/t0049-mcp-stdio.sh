#!/bin/sh
# sweep mcp over stdio: newline-delimited JSON-RPC on a pipe. initialize, tools/list,
# a malformed line, an oversized line (5 MiB, over MCP_MAX_MESSAGE), a batch, a
# notification (no answer), a last line without its newline, and EOF: stdout holds
# only JSON-RPC messages, one per line, in order; stderr holds the logs; exit 0. Then
# SIGTERM ends a session that waits on its input, with exit 0, and the usage errors.
. "$SWEEP_SRC/tests/e2e/lib.sh"

command -v jq >/dev/null || fail "jq is needed (scripts/install-deps.sh)"
command -v python3 >/dev/null || fail "python3 is needed"
unset SWEEP_SERVER SWEEP_TOKEN_FILE
PIDS=
trap 'rc=$?; for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT

# ---- help and usage ----
expect_code 0 sweep mcp --help
expect_in "$T/out" "Example"
expect_in "$T/out" "\"mcpServers\""
expect_code 0 sweep --help
expect_in "$T/out" "mcp"
expect_code 2 sweep mcp extra
expect_code 2 sweep mcp --home h --server http://127.0.0.1:1
expect_in "$T/err" "exclude each other"
expect_code 2 sweep mcp --token-file t
expect_code 2 sweep mcp --serv
ok "--help with an example and the client registration; usage errors"

# ---- one session on a pipe ----
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t0049","version":"1"}}}'
{
    echo "$init"
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    echo '{"jsonrpc":"2.0","id":"two","method":"tools/list"}'
    echo '{"jsonrpc":"2.0","id":3,"method":'
    # 5 MiB on one line, then a request that must still be answered
    python3 -c 'import sys; sys.stdout.write("{\"jsonrpc\":\"2.0\",\"id\":99,\"x\":\"" + "a" * (5 << 20) + "\"}\n")'
    echo '[{"jsonrpc":"2.0","id":4,"method":"ping"}]'
    echo ''
    printf '{"jsonrpc":"2.0","id":5,"method":"ping"}\r\n'
    printf '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"list_models"}}\n'
    printf '{"jsonrpc":"2.0","id":7,"method":"ping"}'
} >"$T/in"
sweep mcp <"$T/in" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || { cat "$T/err" >&2; fail "sweep mcp exited $rc at EOF, expected 0"; }
# 8 requests answered (the notification and the blank line are not), in order.
[ "$(count_lines "$T/out")" -eq 8 ] || { cat "$T/out" >&2; fail "expected 8 answers"; }
# Every line of stdout is one JSON-RPC 2.0 answer.
python3 - "$T/out" <<'EOF' || fail "stdout holds something other than JSON-RPC lines"
import json, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n"), "the last message has no newline"
for line in data.decode("utf-8").split("\n")[:-1]:
    m = json.loads(line)
    assert m["jsonrpc"] == "2.0" and "id" in m, line
    assert ("result" in m) != ("error" in m), line
EOF
jq -s -c '[.[] | [.id, (.error.code // "ok")]]' "$T/out" >"$T/ids"
jq_eq "$T/ids" tojson '[[1,"ok"],["two","ok"],[null,-32700],[null,-32600],[null,-32600],[5,"ok"],[6,"ok"],[7,"ok"]]'
head -n 1 "$T/out" >"$T/init"
jq_eq "$T/init" .result.protocolVersion 2025-06-18
jq_eq "$T/init" .result.serverInfo.name sweep
jq_eq "$T/init" '.result.capabilities.tools.listChanged' false
sed -n 2p "$T/out" >"$T/list"
jq_eq "$T/list" '[.result.tools[] | select(.name == "list_models")] | length' 1
jq_eq "$T/list" '[.result.tools[] | select(.inputSchema.type != "object")] | length' 0
sed -n 4p "$T/out" >"$T/big"
expect_in "$T/big" "more than the"
sed -n 7p "$T/out" >"$T/call"
jq_eq "$T/call" '.result.isError' false
jq_eq "$T/call" '.result.content[0].type' text
# (the shape of list_models' result is the tools' business: test_mcp_tools, node/mcp)
jq_eq "$T/call" '.result.structuredContent | type' object
expect_in "$T/call" '"dla"'
# Logs on stderr, key=value.
expect_in "$T/err" "sweep mcp: event=start transport=stdio"
expect_in "$T/err" "event=refused reason=oversized"
expect_in "$T/err" "event=stop reason=eof"
ok "a session on a pipe: one JSON-RPC line per request, in order; logs on stderr"

# ---- SIGTERM while it waits for input: exit 0, nothing half-written ----
mkfifo "$T/fifo"
"$SWEEP_BIN" mcp <"$T/fifo" >"$T/out2" 2>"$T/err2" &
pid=$!
PIDS="$pid"
exec 3>"$T/fifo"
echo "$init" >&3
wait_for 30 grep -q '"id":1' "$T/out2"
kill -TERM $pid
wait $pid
rc=$?
exec 3>&-
[ $rc -eq 0 ] || { cat "$T/err2" >&2; fail "sweep mcp exited $rc on SIGTERM, expected 0"; }
expect_in "$T/err2" "event=stop signal="
[ "$(count_lines "$T/out2")" -eq 1 ] || fail "expected only the initialize answer"
ok "SIGTERM ends a waiting session with exit 0"

# ---- --server URL: a bridge to a streamable HTTP endpoint ----
# A stand-in for the service's /mcp (the real one is t0050/node's): it checks the
# headers the bridge sends, answers initialize as JSON with a session id, tools/list as
# an event stream (a progress notification, then the answer), a notification with 202,
# anything without the token with 401 (not JSON-RPC), and logs each request.
cat >fake_mcp.py <<'EOF'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, ctype, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for k, v in extra: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_DELETE(self):
        print("DELETE", self.headers.get("Mcp-Session-Id"), flush=True)
        self.reply(200, "application/json", b"{}")
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        print("POST", self.path, self.headers.get("Accept"),
              self.headers.get("Mcp-Session-Id"), self.headers.get("MCP-Protocol-Version"),
              body.decode(), flush=True)
        if self.headers.get("Authorization") != "Bearer s3cret":
            return self.reply(401, "application/json", b'{"error":"unauthorized"}')
        m = json.loads(body)
        if "id" not in m:
            return self.reply(202, "application/json", b"")
        if m["method"] == "initialize":
            r = {"jsonrpc": "2.0", "id": m["id"], "result": {"protocolVersion": "2025-06-18",
                 "capabilities": {}, "serverInfo": {"name": "fake", "version": "1"}}}
            return self.reply(200, "application/json", json.dumps(r, indent=1).encode(),
                              [("Mcp-Session-Id", "sess-42")])
        if m["method"] == "tools/list":
            n = {"jsonrpc": "2.0", "method": "notifications/progress",
                 "params": {"progressToken": 1, "progress": 1}}
            r = {"jsonrpc": "2.0", "id": m["id"], "result": {"tools": []}}
            sse = ": hello\n\nevent: message\ndata: " + json.dumps(n) + "\r\n\r\n" \
                  "data: " + json.dumps(r, indent=1).replace("\n", "\ndata: ") + "\n\n"
            return self.reply(200, "text/event-stream", sse.encode())
        if m["method"] == "silent":  # a stream that ends without the answer
            return self.reply(200, "text/event-stream", b": nothing\n\n")
        self.reply(500, "text/plain", b"boom")
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print("port", s.server_address[1], flush=True)
s.serve_forever()
EOF
python3 -u fake_mcp.py >fake.log 2>&1 &
fake=$!
PIDS="$PIDS $fake"
wait_for 30 grep -q '^port ' fake.log
FPORT=$(sed -n 's/^port //p' fake.log)
echo s3cret >token
{
    echo "$init"
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    echo '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
    echo '{"jsonrpc":"2.0","id":3,"method":"boom"}'
    echo '{"jsonrpc":"2.0","id":4,"method":"silent"}'
} >bridge.in
expect_code 0 sweep mcp --server "http://127.0.0.1:$FPORT/" --token-file token <bridge.in
jq -s -c '[.[] | [.id, .method, (.error.code // "ok")]]' "$T/out" >"$T/ids"
jq_eq "$T/ids" tojson '[[1,null,"ok"],[null,"notifications/progress","ok"],[2,null,"ok"],[3,null,-32603],[4,null,-32603]]'
[ "$(count_lines "$T/out")" -eq 5 ] || { cat "$T/out" >&2; fail "expected 5 lines"; }
expect_in fake.log "POST /mcp application/json, text/event-stream None None {\"jsonrpc\":\"2.0\",\"id\":1"
expect_in fake.log "POST /mcp application/json, text/event-stream sess-42 2025-06-18 {\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"
expect_in fake.log "DELETE sess-42"
expect_in "$T/err" "HTTP 500 without a JSON-RPC answer"
# Without the token: the service's 401 becomes an error answer naming --token-file.
printf '%s\n' "$init" | sweep mcp --server "http://127.0.0.1:$FPORT" >"$T/out" 2>"$T/err"
[ $? -eq 0 ] || fail "the bridge exited non-zero on a 401"
jq_eq "$T/out" .error.code -32603
expect_in "$T/out" "--token-file"
# Nothing listening: an error answer for the request, and exit 0 at EOF.
kill $fake
wait $fake 2>/dev/null
printf '%s\n' "$init" | sweep mcp --server "http://127.0.0.1:$FPORT" >"$T/out" 2>"$T/err"
jq_eq "$T/out" .error.code -32603
expect_in "$T/out" "cannot reach"
printf '%s\n' "$init" | SWEEP_SERVER="http://127.0.0.1:$FPORT" sweep mcp >"$T/out" 2>"$T/err"
expect_in "$T/out" "cannot reach the sweep service at http://127.0.0.1:$FPORT"
printf '%s\n' "$init" | SWEEP_SERVER="http://127.0.0.1:$FPORT" sweep mcp --home h >"$T/out" 2>"$T/err"
jq_eq "$T/out" .result.serverInfo.name sweep
ok "--server (or \$SWEEP_SERVER): messages bridged to URL/mcp (JSON and event-stream answers, session id, token)"
