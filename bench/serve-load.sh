#!/usr/bin/env bash
# Load on `sweep serve` while it runs a study (issue 11): wrk on GET /status with
# CONNS connections for SECONDS seconds while a TASKS-task study runs at -j 2, then
# checks that the study completed with every task recorded once. Writes
# bench/results/serve-load.md (collected into bench/RESULTS.md).
#
# Environment: SWEEP_BIN (default <repo>/build/sweep), BENCH_TASKS (10000),
# BENCH_CONNS (100), BENCH_SECONDS (10), TMPDIR (where the sweep home goes).
set -eu
set -o pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SWEEP=${SWEEP_BIN:-$REPO/build/sweep}
TASKS=${BENCH_TASKS:-10000}
CONNS=${BENCH_CONNS:-100}
SECONDS_=${BENCH_SECONDS:-10}
OUT=$REPO/bench/results/serve-load.md

die() {
    echo "serve-load.sh: $*" >&2
    exit 1
}
[ -x "$SWEEP" ] || die "no sweep binary at $SWEEP: run 'make build' or set SWEEP_BIN"
command -v wrk >/dev/null 2>&1 || die "wrk is missing (Debian package 'wrk')"
command -v jq >/dev/null 2>&1 || die "jq is missing"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sweep-serve-load.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export SWEEP_HOME=$TMP/home

"$SWEEP" serve --bind 127.0.0.1:0 -j 2 --allow-commands >"$TMP/serve.log" 2>&1 &
PID=$!
for _ in $(seq 200); do
    grep -q "listening on" "$TMP/serve.log" && break
    kill -0 "$PID" 2>/dev/null || die "sweep serve ended: $(cat "$TMP/serve.log")"
    sleep 0.05
done
URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$TMP/serve.log")
[ -n "$URL" ] || die "sweep serve did not start: $(cat "$TMP/serve.log")"

# Tasks of about 10 ms each, so that the study is still running during the load.
SPEC=$(jq -nc --argjson n "$TASKS" '{study: "load", command: ["sleep", "0.01"],
    parameters: {i: {range: [1, $n]}}}')
curl -sf "$URL/studies" -d "$SPEC" >/dev/null || die "the study was refused"
for _ in $(seq 600); do
    curl -sf "$URL/studies/load" | jq -e '.status == "RUNNING"' >/dev/null && break
    sleep 0.1
done

wrk -t 2 -c "$CONNS" -d "${SECONDS_}s" --latency "$URL/status" >"$TMP/wrk.txt"
during=$(curl -sf "$URL/studies/load" | jq -r '.status')

# The study runs to its end; then every task is recorded once.
for _ in $(seq 6000); do
    st=$(curl -sf "$URL/studies/load" | jq -r '.status')
    case "$st" in COMPLETED | FAILED | PARTIALLY_FAILED | CANCELLED) break ;; esac
    sleep 0.1
done
kill -TERM "$PID"
wait "$PID" || die "sweep serve exited $?"
PID=
"$SWEEP" results load --format json >"$TMP/res.json"
tasks=$(jq 'length' "$TMP/res.json")
keys=$(jq '[.[].key] | unique | length' "$TMP/res.json")
succeeded=$(jq '[.[] | select(.state == "succeeded")] | length' "$TMP/res.json")
once=$(jq '[.[] | select(.attempts == 1)] | length' "$TMP/res.json")

rps=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk.txt")
p99=$(awk '$1 == "99%" { print $2 }' "$TMP/wrk.txt")
p50=$(awk '$1 == "50%" { print $2 }' "$TMP/wrk.txt")
total=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
errors=$(awk '/Socket errors|Non-2xx/ { print }' "$TMP/wrk.txt" | tr '\n' ' ')

mkdir -p "$(dirname "$OUT")"
{
    echo "## sweep serve under load (issue 11)"
    echo
    echo "Written by \`bench/serve-load.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs,"
    echo "$(uname -sr), sweep $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo "wrk -t 2 -c $CONNS -d ${SECONDS_}s on GET /status while a $TASKS-task study"
    echo "(\`sleep 0.01\` each, -j 2) runs in the same service on the same 2 CPUs."
    echo
    echo "| figure | value |"
    echo "|---|---|"
    echo "| requests/s | $rps |"
    echo "| requests in ${SECONDS_} s | $total |"
    echo "| latency p50 / p99 | $p50 / $p99 |"
    echo "| errors (socket, non-2xx) | ${errors:-none} |"
    echo "| study during the load | $during |"
    echo "| study at the end | $st |"
    echo "| tasks recorded / distinct keys / succeeded / with one attempt | $tasks / $keys / $succeeded / $once (of $TASKS) |"
} >"$OUT"
"$REPO/bench/collect.sh"
cat "$OUT"
