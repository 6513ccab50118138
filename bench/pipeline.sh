#!/usr/bin/env bash
# Does a pipeline keep the per-task overhead of a single-step study? One run on one
# machine, written to bench/results/pipeline.md (collected into bench/RESULTS.md):
#
#   1. POINTS points x 3 steps of /bin/true (a chain per point, each step released by
#      the one before it), at 2 in flight;
#   2. a single-step study of the same 3 x POINTS tasks of /bin/true, at 2 in flight;
#   3. the spawn limit: bench/spawn.c running 3 x POINTS /bin/true at 2 in flight.
#
# Both studies are stored first (`sweep run --prepare`, timed apart), so that the
# figures compare running alone. Per-task overhead = (sweep - spawn limit) / tasks.
#
# Environment: SWEEP_BIN (default <repo>/build/sweep), BENCH_POINTS (100000), BENCH_OUT
# (<repo>/bench/results/pipeline.md), TMPDIR (where the sweep homes go).
set -eu
set -o pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SWEEP=${SWEEP_BIN:-$REPO/build/sweep}
POINTS=${BENCH_POINTS:-100000}
OUT=${BENCH_OUT:-$REPO/bench/results/pipeline.md}
TASKS=$((3 * POINTS))
P=2

die() {
    echo "pipeline.sh: $*" >&2
    exit 1
}

[ -x "$SWEEP" ] || die "no sweep binary at $SWEEP: run 'make build' or set SWEEP_BIN"
command -v cc >/dev/null 2>&1 || die "no C compiler 'cc' to build bench/spawn.c"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sweep-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
cc -O2 -o "$TMP/spawn" "$REPO/bench/spawn.c"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

cat >"$TMP/pipe.yaml" <<EOF
study: bench-pipe
parameters:
  i: {range: [1, $POINTS, 1]}
steps:
  - {name: simulate, command: [/bin/true, "{i}"]}
  - {name: analyze, command: [/bin/true, "{steps.simulate.dir}"]}
  - {name: export, command: [/bin/true, "{steps.analyze.result}"]}
EOF
cat >"$TMP/single.yaml" <<EOF
study: bench-single
command: [/bin/true, "{i}"]
parameters:
  i: {range: [1, $TASKS, 1]}
EOF

# run NAME SPEC: prepares, then runs; prints "prepare-seconds run-seconds".
run() {
    local home=$TMP/home-$1 t0 prep
    t0=$(now)
    SWEEP_HOME=$home "$SWEEP" run "$2" --prepare >"$TMP/out" 2>&1 ||
        die "sweep run --prepare $1 failed: $(cat "$TMP/out")"
    prep=$(since "$t0")
    t0=$(now)
    SWEEP_HOME=$home "$SWEEP" run "$2" --max-parallel $P --quiet >"$TMP/out" 2>&1 ||
        die "sweep run $1 failed: $(cat "$TMP/out")"
    echo "$prep $(since "$t0")"
    SWEEP_HOME=$home "$SWEEP" status "$(awk '/^study:/ { print $2 }' "$2")" --json \
        >"$TMP/status.json"
    grep -q "\"succeeded\": $TASKS" "$TMP/status.json" ||
        die "$1: not every one of the $TASKS tasks succeeded"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "pipeline.sh: $POINTS points x 3 steps = $TASKS tasks at $P in flight (load $LOAD_BEFORE)"
t0=$(now)
"$TMP/spawn" "$TASKS" $P /bin/true {} >/dev/null
SPAWN=$(since "$t0")
echo "  spawn limit  $SPAWN s"
read -r PIPE_PREP PIPE <<<"$(run pipe "$TMP/pipe.yaml")"
echo "  pipeline     $PIPE s (prepare $PIPE_PREP s)"
read -r SINGLE_PREP SINGLE <<<"$(run single "$TMP/single.yaml")"
echo "  single step  $SINGLE s (prepare $SINGLE_PREP s)"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    COMMIT="$COMMIT (working tree modified)"
fi
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
per_task() { calc "%.0f" "($1 - $SPAWN) / $TASKS * 1e6"; }
PIPE_US=$(per_task "$PIPE")
SINGLE_US=$(per_task "$SINGLE")

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
## Pipelines (bench/pipeline.sh)

$POINTS points x 3 steps ($TASKS tasks of /bin/true, each step released by the one
before it) against a single-step study of the same $TASKS tasks, both at $P in flight,
and the spawn limit (bench/spawn.c, posix_spawn + waitpid) in the same run. Commit
$COMMIT, $(nproc) x $CPU, load $LOAD_BEFORE before and $LOAD_AFTER after.

| | wall | tasks/s | per-task overhead over the spawn limit | store (prepare) |
|---|---|---|---|---|
| spawn limit | $SPAWN s | $(calc "%.0f" "$TASKS / $SPAWN") | | |
| single step | $SINGLE s | $(calc "%.0f" "$TASKS / $SINGLE") | $SINGLE_US us | $SINGLE_PREP s |
| 3-step pipeline | $PIPE s | $(calc "%.0f" "$TASKS / $PIPE") | $PIPE_US us | $PIPE_PREP s |

The pipeline takes $(calc "%.3f" "$PIPE / $SINGLE") x the wall time of the single-step
study: releasing the next step is one indexed UPDATE in the transaction that records the
end, and a step reads the steps before it in its chain by one indexed range. The order
is spawn limit, pipeline, single step: the single-step study runs with the pipeline's
$TASKS task directories already on the file system, which slows its own, so read the
ratio as "no slower", not as a speed-up.
EOF
"$REPO/bench/collect.sh"
echo "pipeline.sh: wrote $OUT"
