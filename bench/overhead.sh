#!/usr/bin/env bash
# sweep's own cost per task, which a busy machine does not skew: the CPU time of the
# `sweep run` process alone (its children excluded: `perf stat --no-inherit`, the
# task-clock of sweep's threads) and the system calls it makes itself (`strace -c`
# without -f: the tasks' calls, including the vforked child's before its execve, are
# not counted), for N tasks of /bin/true at each of the given numbers in flight. The
# spawn loop (bench/spawn.c) is measured the same way beside it.
#
# Usage: bench/overhead.sh [N [P...]]      (default: 3000 tasks, at 2 and 8 in flight)
# Environment: SWEEP_BIN (build/sweep), RUNS (3; the best of them is printed), TMPDIR;
# BASE_BIN: another sweep binary (e.g. a build of main) measured the same way,
# interleaved run by run, as "base".
# Prints one line per contender and P: us of own CPU per task, syscalls per task, and
# the five most frequent system calls per task.
set -eu
set -o pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SWEEP=${SWEEP_BIN:-$REPO/build/sweep}
RUNS=${RUNS:-3}
N=${1:-3000}
shift || true
PS=${*:-2 8}

die() {
    echo "overhead.sh: $*" >&2
    exit 1
}
[ -x "$SWEEP" ] || die "no sweep binary at $SWEEP: run 'make build' or set SWEEP_BIN"
command -v perf >/dev/null 2>&1 || die "perf is missing (Debian package linux-perf)"
command -v strace >/dev/null 2>&1 || die "strace is missing"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sweep-overhead.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
cc -O2 -o "$TMP/spawn" "$REPO/bench/spawn.c"
cat >"$TMP/true.yaml" <<EOF
study: overhead
command: [/bin/true, "{i}"]
parameters:
  i: {range: [1, $N, 1]}
EOF

# Prints the task-clock (ms) of the command's own process.
own_ms() {
    perf stat --no-inherit -e task-clock -x, -o "$TMP/perf" -- "$@" >/dev/null 2>&1 ||
        die "failed: $*"
    awk -F, '$3 == "task-clock" { print $1 }' "$TMP/perf"
}
# Prints "calls/task top5" from strace -c of the command's own process.
own_calls() {
    strace -c -o "$TMP/strace" -- "$@" >/dev/null 2>&1 || die "failed: $*"
    awk -v n="$N" '
        /^-/ || /syscall/ { next }
        $NF == "total" { total = $(NF - 2) }
        NF >= 5 && $NF != "total" { print $NF, $4 }
        END { print "total", total }' "$TMP/strace" | sort -k2,2nr | awk -v n="$N" '
        $1 == "total" { t = $2; next }
        k++ < 6 { top = top sprintf("%s=%.2f ", $1, $2 / n) }
        END { printf "%.1f %s", t / n, top }'
}
# The sweep command in a fresh home each time (a count in a file: $(...) is a subshell).
sweep_cmd() {
    k=$(($(cat "$TMP/k" 2>/dev/null || echo 0) + 1))
    echo "$k" >"$TMP/k"
    echo env SWEEP_HOME="$TMP/home$k" "$2" run "$TMP/true.yaml" --max-parallel "$1" --quiet
}
WHO="spawn sweep"
[ -n "${BASE_BIN:-}" ] && WHO="spawn base sweep"
bin_of() { if [ "$1" = base ]; then echo "$BASE_BIN"; else echo "$SWEEP"; fi; }

printf '%-6s %3s %12s %14s  %s\n' "" P "us CPU/task" "syscalls/task" "most frequent (per task)"
for p in $PS; do
    # Interleaved run by run, so that a change of load hits every contender.
    for who in $WHO; do echo 1e18 >"$TMP/best.$who"; done
    for _ in $(seq "$RUNS"); do
        for who in $WHO; do
            if [ $who = spawn ]; then
                ms=$(own_ms "$TMP/spawn" "$N" "$p" /bin/true {})
            else
                # shellcheck disable=SC2046
                ms=$(own_ms $(sweep_cmd "$p" "$(bin_of $who)"))
            fi
            awk -v a="$ms" -v b="$(cat "$TMP/best.$who")" \
                'BEGIN { print (a < b) ? a : b }' >"$TMP/best.tmp"
            mv "$TMP/best.tmp" "$TMP/best.$who"
        done
    done
    for who in $WHO; do
        if [ $who = spawn ]; then
            calls=$(own_calls "$TMP/spawn" "$N" "$p" /bin/true {})
        else
            # shellcheck disable=SC2046
            calls=$(own_calls $(sweep_cmd "$p" "$(bin_of $who)"))
        fi
        printf '%-6s %3s %12.1f %14s  %s\n' $who "$p" \
            "$(awk -v ms="$(cat "$TMP/best.$who")" -v n="$N" 'BEGIN { print ms * 1000 / n }')" \
            "${calls%% *}" "${calls#* }"
    done
done
