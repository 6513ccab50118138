#!/bin/sh
# sweep mcp's local backend: a study started through run_parametric_study is stored at
# once (QUEUED before anything runs) and run by a detached `sweep run` of
# <home>/mcp/STUDY.json (its output in <home>/mcp/STUDY.log, never on the session's
# stdout), which outlives the session: the whole process group of `sweep mcp` is
# killed (as a client that goes away, or a closed terminal, would) and the study
# still completes. The same study asked for again while it runs is a tool error that
# names the process holding it; a retry and a cancel of an unknown study are tool
# errors; a home that cannot be made fails at start.
. "$SWEEP_SRC/tests/e2e/lib.sh"

command -v jq >/dev/null || fail "jq is needed (scripts/install-deps.sh)"
command -v setsid >/dev/null || fail "setsid is needed (util-linux)"
unset SWEEP_SERVER SWEEP_TOKEN_FILE
PIDS=
trap 'rc=$?; for p in $PIDS; do kill -KILL "-$p" 2>/dev/null; done; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT

init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t0050","version":"1"}}}'
run='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_parametric_study","arguments":{"algorithm":"chaos","variable_parameter":"x","values":[1,2,3],"base_parameters":{"duration":1},"study":"s1"}}}'

# ---- a session in a process group of its own, killed whole ----
mkfifo "$T/in"
# Not a group leader (no job control here), so setsid makes sweep mcp the leader of
# a new group without forking: $! is sweep mcp, and its group's id.
setsid "$SWEEP_BIN" mcp --home "$SWEEP_HOME" <"$T/in" >"$T/mcp.out" 2>"$T/mcp.err" &
MCP=$!
PIDS="$MCP"
exec 3>"$T/in"
echo "$init" >&3
echo '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&3
echo "$run" >&3
wait_for 30 grep -q '"id":2' "$T/mcp.out"
grep '"id":2' "$T/mcp.out" >"$T/answer"
jq_eq "$T/answer" '.result.isError' false
jq_eq "$T/answer" '.result.structuredContent.study_id' s1
jq_eq "$T/answer" '.result.structuredContent.total_simulations' 3
jq_eq "$T/answer" '.result.structuredContent.status' QUEUED
[ -f "$SWEEP_HOME/mcp/s1.json" ] || fail "no spec file $SWEEP_HOME/mcp/s1.json"
ok "run_parametric_study answers at once: stored, QUEUED, its spec in the home"

# The same study again while its run holds it: a tool error naming the holder.
wait_for 30 sh -c "\"$SWEEP_BIN\" status s1 --json | jq -ne 'input | .status == \"RUNNING\"'"
echo "$run" | sed 's/"id":2/"id":3/' >&3
wait_for 30 grep -q '"id":3' "$T/mcp.out"
grep '"id":3' "$T/mcp.out" >"$T/answer"
jq_eq "$T/answer" '.result.isError' true
expect_in "$T/answer" "study s1 was not started: study 's1' is being run by pid"
ok "the study asked for again while it runs: a tool error naming its run"

kill -KILL "-$MCP"
wait "$MCP" 2>/dev/null
exec 3>&-
PIDS=
wait_for 60 sh -c "\"$SWEEP_BIN\" status s1 --json | jq -ne 'input | .status == \"COMPLETED\"'"
sweep status s1 --json >"$T/status"
jq_eq "$T/status" '.counts.succeeded' 3
# The session's stdout held its answers only; the run wrote to its log.
[ "$(count_lines "$T/mcp.out")" -eq 3 ] || { cat "$T/mcp.out" >&2; fail "expected 3 answers"; }
expect_in "$SWEEP_HOME/mcp/s1.log" "study s1: COMPLETED"
ok "the session's process group killed: the detached run completes the study"

# ---- tool errors for unknown studies; a home that cannot be made ----
{
    echo "$init"
    echo '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"retry_failed_simulations","arguments":{"study_id":"nope"}}}'
    echo '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"cancel_study","arguments":{"study_id":"nope"}}}'
} | sweep mcp --home "$SWEEP_HOME" >"$T/out" 2>"$T/err" || fail "sweep mcp exited $?"
[ "$(jq -s 'map(select(.result.isError == true)) | length' "$T/out")" = 2 ] ||
    { cat "$T/out" >&2; fail "expected two tool errors"; }
expect_in "$T/out" 'no study \"nope\"; the studies: s1'
ok "retry and cancel of an unknown study: tool errors listing the studies"

: >"$T/file"
expect_code 3 sweep mcp --home "$T/file/home" </dev/null
expect_in "$T/err" "$T/file/home"
ok "a home that cannot be made: sweep mcp fails at start, saying where"

# ---- a study left QUEUED by a run that never started: the next session starts it ----
jq '.study = "q"' "$SWEEP_HOME/mcp/s1.json" >"$SWEEP_HOME/mcp/q.json" || fail "jq"
expect_code 0 sweep run "$SWEEP_HOME/mcp/q.json" --prepare
python3 - "$SWEEP_HOME/sweep.db" <<'EOF2' || fail "cannot mark q QUEUED"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE studies SET status = 1, updated_at = ? WHERE name = 'q'",
           (time.time() - 60,))
db.commit()
EOF2
expect_code 0 sweep status q --json
jq_eq "$T/out" .status QUEUED
echo "$init" | sweep mcp --home "$SWEEP_HOME" >"$T/out" 2>"$T/err" || fail "sweep mcp exited $?"
wait_for 60 sh -c "\"$SWEEP_BIN\" status q --json | jq -ne 'input | .status == \"COMPLETED\"'"
expect_in "$SWEEP_HOME/mcp/q.log" "study q: COMPLETED"
ok "a study left QUEUED by a run that never started: the next session starts it"
