#!/usr/bin/env bash
# Benchmarks sweep against the spawn limit, xargs -P and GNU parallel in one run on one
# machine, and writes the figures with the targets of issue 2 to bench/results/throughput.md (collected into bench/RESULTS.md).
#
#   1. TASKS x /bin/true at 2 and at 8 in flight: sweep run, xargs -P, GNU parallel
#      --joblog, and bench/spawn.c (posix_spawn + waitpid, nothing else).
#   2. SLEEPS x `sleep 0.05` at 8 in flight through sweep, against the ideal.
#   3. A 1,000,000-task study: `sweep run --prepare` once (wall and peak RSS from
#      /usr/bin/time), then `sweep status` on it.
#
# Each timing is the best (minimum) of RUNS runs taken with `date +%s.%N`; the
# contenders are interleaved round by round so that a change of load hits all of them.
#
# Environment: SWEEP_BIN (default <repo>/build/sweep), RUNS (3), BENCH_TASKS (5000),
# BENCH_SLEEPS (2000), BENCH_AXIS (100: the 1M study is AXIS^3 tasks), BENCH_OUT
# (<repo>/bench/results/throughput.md), TMPDIR (where the sweep homes go).
set -eu
set -o pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SWEEP=${SWEEP_BIN:-$REPO/build/sweep}
RUNS=${RUNS:-3}
TASKS=${BENCH_TASKS:-5000}
SLEEPS=${BENCH_SLEEPS:-2000}
AXIS=${BENCH_AXIS:-100}
OUT=${BENCH_OUT:-$REPO/bench/results/throughput.md}
SLEEP_S=0.05
SLEEP_P=8

die() {
    echo "throughput.sh: $*" >&2
    exit 1
}

[ -x "$SWEEP" ] || die "no sweep binary at $SWEEP: run 'make build' or set SWEEP_BIN"
if ! command -v parallel >/dev/null 2>&1 || ! parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
    die "GNU parallel is missing (Debian package 'parallel'; scripts/install-deps.sh installs it)"
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package 'time')"
command -v cc >/dev/null 2>&1 || die "no C compiler 'cc' to build bench/spawn.c"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sweep-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$TMP/spawn" "$REPO/bench/spawn.c"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
# pass|miss for "VALUE OP TARGET"
mark() { awk -v v="$1" -v t="$3" "BEGIN { print (v $2 t) ? \"pass\" : \"**miss**\" }"; }
min_of() { printf '%s\n' "$@" | sort -g | head -n 1; }

# ---- the contenders: each runs TASKS x /bin/true <i> at $1 in flight, prints seconds

cat >"$TMP/true.yaml" <<EOF
study: bench-true
command: [/bin/true, "{i}"]
parameters:
  i: {range: [1, $TASKS, 1]}
EOF

run_spawn() {
    local t0
    t0=$(now)
    "$TMP/spawn" "$TASKS" "$1" /bin/true {} >/dev/null
    since "$t0"
}

run_xargs() {
    local t0
    t0=$(now)
    seq 1 "$TASKS" | xargs -P "$1" -n 1 /bin/true
    since "$t0"
}

run_parallel() {
    local t0 lines
    rm -f "$TMP/joblog"
    t0=$(now)
    seq 1 "$TASKS" | parallel --will-cite -j "$1" --joblog "$TMP/joblog" /bin/true
    since "$t0"
    lines=$(wc -l <"$TMP/joblog")
    [ "$lines" -eq $((TASKS + 1)) ] || die "GNU parallel joblog has $lines lines, expected $((TASKS + 1))"
}

# Each run gets a fresh home, and all of them are kept until the end: deleting
# thousands of files makes ext4 slow to allocate inodes for a while afterwards
# (recently_deleted() in its inode allocator), which would slow down the next run.
run_sweep() {
    local t0 home
    home=$(mktemp -d "$TMP/home-true.XXXXXX")
    t0=$(now)
    SWEEP_HOME=$home "$SWEEP" run "$TMP/true.yaml" --max-parallel "$1" --quiet \
        >"$TMP/sweep.out" 2>&1 || die "sweep run failed: $(cat "$TMP/sweep.out")"
    since "$t0"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "throughput.sh: $TASKS x /bin/true, best of $RUNS runs (load $LOAD_BEFORE)"

CONTENDERS="spawn xargs parallel sweep"
declare -A BEST ALL
for p in 2 8; do
    for c in $CONTENDERS; do ALL[$c$p]=""; done
    for r in $(seq 1 "$RUNS"); do
        for c in $CONTENDERS; do
            t=$("run_$c" "$p")
            ALL[$c$p]="${ALL[$c$p]} $t"
            printf '  P=%s run %s %-8s %7.3f s\n' "$p" "$r" "$c" "$t"
        done
    done
    for c in $CONTENDERS; do
        # shellcheck disable=SC2086
        BEST[$c$p]=$(min_of ${ALL[$c$p]})
    done
done

# ---- sleeps: SLEEPS x sleep 0.05 at 8 in flight through sweep

cat >"$TMP/sleep.yaml" <<EOF
study: bench-sleep
command: [/bin/sleep, "$SLEEP_S"]
parameters:
  i: {range: [1, $SLEEPS, 1]}
EOF
IDEAL=$(calc "%.3f" "$SLEEPS * $SLEEP_S / $SLEEP_P")
echo "throughput.sh: $SLEEPS x sleep $SLEEP_S at $SLEEP_P in flight (ideal $IDEAL s)"
SLEEP_ALL=""
SPAWN_SLEEP_ALL=""
for r in $(seq 1 "$RUNS"); do
    t0=$(now)
    "$TMP/spawn" "$SLEEPS" "$SLEEP_P" /bin/sleep "$SLEEP_S" >/dev/null
    t=$(since "$t0")
    SPAWN_SLEEP_ALL="$SPAWN_SLEEP_ALL $t"
    printf '  run %s spawn    %7.3f s\n' "$r" "$t"
    home=$(mktemp -d "$TMP/home-sleep.XXXXXX")
    t0=$(now)
    SWEEP_HOME=$home "$SWEEP" run "$TMP/sleep.yaml" --max-parallel "$SLEEP_P" --quiet \
        >"$TMP/sweep.out" 2>&1 || die "sweep run (sleeps) failed: $(cat "$TMP/sweep.out")"
    t=$(since "$t0")
    SLEEP_ALL="$SLEEP_ALL $t"
    printf '  run %s sweep    %7.3f s\n' "$r" "$t"
done
# shellcheck disable=SC2086
SLEEP_BEST=$(min_of $SLEEP_ALL)
# shellcheck disable=SC2086
SPAWN_SLEEP_BEST=$(min_of $SPAWN_SLEEP_ALL)

# ---- the big study: AXIS^3 tasks, stored but not run

BIG_N=$((AXIS * AXIS * AXIS))
cat >"$TMP/big.yaml" <<EOF
study: big
command: [/bin/true, "{a}", "{b}", "{c}"]
parameters:
  a: {range: [1, $AXIS, 1]}
  b: {range: [1, $AXIS, 1]}
  c: {range: [1, $AXIS, 1]}
EOF
BIG_HOME=$TMP/home-big
echo "throughput.sh: $BIG_N-task study: sweep run --prepare"
SWEEP_HOME=$BIG_HOME /usr/bin/time -f '%e %M' -o "$TMP/time.big" \
    "$SWEEP" run "$TMP/big.yaml" --prepare >"$TMP/sweep.out" 2>&1 ||
    die "sweep run --prepare failed: $(cat "$TMP/sweep.out")"
read -r PREP_S PREP_KB <"$TMP/time.big"
PREP_MB=$(calc "%.1f" "$PREP_KB / 1024")
DB_MB=$(du -sm "$BIG_HOME" | cut -f1)
printf '  %s s, peak RSS %s MB, home %s MB\n' "$PREP_S" "$PREP_MB" "$DB_MB"

echo "throughput.sh: sweep status big"
STATUS_ALL=""
STATUS_MB=0
for r in $(seq 1 "$RUNS"); do
    t0=$(now)
    SWEEP_HOME=$BIG_HOME /usr/bin/time -f '%e %M' -o "$TMP/time.status" \
        "$SWEEP" status big >"$TMP/sweep.out" 2>&1 ||
        die "sweep status failed: $(cat "$TMP/sweep.out")"
    s=$(since "$t0")
    read -r _ kb <"$TMP/time.status"
    grep -q "$BIG_N" "$TMP/sweep.out" || die "sweep status big does not show $BIG_N tasks"
    STATUS_ALL="$STATUS_ALL $s"
    STATUS_MB=$(calc "%.1f" "$kb / 1024")
    printf '  run %s %s s\n' "$r" "$s"
done
# shellcheck disable=SC2086
STATUS_BEST=$(min_of $STATUS_ALL)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the report

COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    COMMIT="$COMMIT (working tree modified)"
fi
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
FS=$(df -PT "$TMP" | awk 'NR == 2 { print $2 }')

rate() { calc "%.0f" "$TASKS / $1"; }
{
    echo "## Throughput (issue 2)"
    echo
    echo "Written by \`bench/throughput.sh\` (see bench/README.md)."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date | $(date -u +%Y-%m-%dT%H:%M:%SZ) |"
    echo "| sweep commit | $COMMIT |"
    echo "| nproc | $(nproc) |"
    echo "| CPU | ${CPU:-unknown} |"
    echo "| kernel | $(uname -sr) |"
    echo "| sweep homes on | $FS ($(dirname "$TMP")) |"
    echo "| load average before / after | $LOAD_BEFORE / $LOAD_AFTER |"
    echo "| timing | best (minimum) of $RUNS runs, \`date +%s.%N\`; /usr/bin/time for the wall time and peak RSS of \`run --prepare\` (one run) and the peak RSS of \`status\` |"
    echo
    echo "### Targets"
    echo
    echo "| figure | measured | ratio (same run) | target | |"
    echo "|---|---|---|---|---|"
    for p in 2 8; do
        s=${BEST[sweep$p]} sp=${BEST[spawn$p]} pa=${BEST[parallel$p]}
        r=$(calc "%.2f" "$sp / $s")
        echo "| sweep, $TASKS x /bin/true, $p in flight | $(rate "$s") tasks/s | ${r}x spawn limit ($(rate "$sp") tasks/s) | >= 0.9x | $(mark "$r" ">=" 0.9) |"
        r=$(calc "%.2f" "$pa / $s")
        echo "| sweep vs GNU parallel, $p in flight | $(rate "$s") vs $(rate "$pa") tasks/s | ${r}x GNU parallel | >= 3x | $(mark "$r" ">=" 3) |"
        o=$(calc "%.0f" "($s - $sp) / $TASKS * 1e6")
        per=$(calc "%.0f" "$sp / $TASKS * 1e6")
        r=$(calc "%.2f" "$o / 50")
        echo "| orchestration overhead per task, $p in flight | $o us | ${r}x target (spawn limit: $per us/task) | <= 50 us | $(mark "$o" "<=" 50) |"
    done
    r=$(calc "%.3f" "$SLEEP_BEST / $IDEAL")
    r2=$(calc "%.3f" "$SPAWN_SLEEP_BEST / $IDEAL")
    echo "| sweep, $SLEEPS x sleep $SLEEP_S, $SLEEP_P in flight | $SLEEP_BEST s | ${r}x ideal ($IDEAL s); spawn loop: $SPAWN_SLEEP_BEST s, ${r2}x | <= 1.05x | $(mark "$r" "<=" 1.05) |"
    r=$(calc "%.2f" "$PREP_S / 60")
    echo "| $BIG_N-task study, \`run --prepare\` wall | $PREP_S s | ${r}x target | <= 60 s | $(mark "$PREP_S" "<=" 60) |"
    r=$(calc "%.2f" "$PREP_MB / 100")
    echo "| $BIG_N-task study, \`run --prepare\` peak RSS | $PREP_MB MB | ${r}x target | <= 100 MB | $(mark "$PREP_MB" "<=" 100) |"
    r=$(calc "%.2f" "$STATUS_BEST / 0.2")
    echo "| \`sweep status\` on it | $STATUS_BEST s (peak RSS $STATUS_MB MB) | ${r}x target | <= 0.2 s | $(mark "$STATUS_BEST" "<=" 0.2) |"
    echo
    echo "### All runs ($TASKS x /bin/true <i>, seconds)"
    echo
    echo "| in flight | contender | runs | best | tasks/s |"
    echo "|---|---|---|---|---|"
    for p in 2 8; do
        for c in $CONTENDERS; do
            echo "| $p | $c | ${ALL[$c$p]# } | ${BEST[$c$p]} | $(rate "${BEST[$c$p]}") |"
        done
    done
    echo
    echo "Sleeps, seconds: sweep ${SLEEP_ALL# }; spawn loop ${SPAWN_SLEEP_ALL# }."
    echo "\`sweep status big\`, seconds: ${STATUS_ALL# }."
    echo "The $BIG_N-task sweep home took $DB_MB MB on disk."
    echo
    echo "spawn is bench/spawn.c: posix_spawn + waitpid, nothing recorded. xargs is"
    echo "\`xargs -P P -n 1\`; GNU parallel runs with \`--joblog\` (one line per task)."
    echo "sweep persists every task in SQLite (WAL), writes each task's stdout/stderr to"
    echo "files in its own task directory and appends to the study log, all of which the"
    echo "others do not (GNU parallel's joblog aside)."
} >"$OUT"

echo
cat "$OUT"
"$REPO/bench/collect.sh"
