#!/bin/sh
# The navier-stokes model's cost (issue 3): time per RK4 step at 64^3 and 128^3 on one
# thread, the ratio of that time to the time spent inside FFTW in the same run (with the
# same plans), and the peak RSS against the storage of the velocity field. Writes
# bench/results/navier-stokes.md and collects bench/RESULTS.md.
#
# Environment: SWEEP_BIN (default <repo>/build/sweep), RUNS (3).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
SWEEP=${SWEEP_BIN:-$REPO/build/sweep}
RUNS=${RUNS:-3}
OUT=$REPO/bench/results/navier-stokes.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sweep-bench-ns.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

[ -x "$SWEEP" ] || { echo "navier-stokes.sh: no sweep binary at $SWEEP (run make)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "navier-stokes.sh: needs /usr/bin/time (Debian package time)" >&2; exit 2; }

# run N STEPS: prints "time_per_step fft_fraction peak_rss_kb" of the best of RUNS runs.
run() {
    n=$1 steps=$2 best=""
    for r in $(seq "$RUNS"); do
        /usr/bin/time -f '%M' -o "$TMP/rss" "$SWEEP" sim navier-stokes \
            --set Re=1600 --set dt=0.01 --set "T_final=$(awk "BEGIN { print $steps * 0.01 }")" \
            --set "grid_size=[$n,$n,$n]" --set output_every=0 --set threads=1 \
            --outdir "$TMP" --json >"$TMP/m.json"
        line=$(jq -r '"\(.time_per_step) \(.fft_fraction)"' "$TMP/m.json")
        line="$line $(cat "$TMP/rss")"
        printf '  %s^3 run %s: %s\n' "$n" "$r" "$line" >&2
        if [ -z "$best" ] || [ "$(echo "$line $best" | awk '{ print ($1 < $4) }')" = 1 ]; then
            best=$line
        fi
    done
    echo "$best"
}

echo "navier-stokes.sh: time per step, best of $RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
r64=$(run 64 20)
r128=$(run 128 5)

row() {
    n=$1 set=$2
    echo "$set" | awk -v n="$n" '{
        tps = $1; frac = $2; rss = $3 / 1024; field = 3 * 8 * n * n * n / 1048576
        ratio = 1 / frac
        printf "| %d^3 | %.1f ms | %.2f | %.2f | %s | %.0f MiB | %.1f MiB | %.1fx |\n",
            n, tps * 1000, frac, ratio, (ratio <= 1.5 ? "pass" : "**miss**"), rss, field, rss / field
    }'
}

{
    echo "## navier-stokes model (issue 3)"
    echo
    echo "Written by \`bench/navier-stokes.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs,"
    echo "$(uname -sr), sweep $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo "Taylor-Green vortex at Re = 1600, dt = 0.01, one FFTW thread, best of $RUNS runs"
    echo "(20 steps at 64^3, 5 at 128^3). The FFT time is measured inside the same run with the"
    echo "same plans (\`fft_time\`); the ratio is step time / FFT time (target <= 1.5). Field"
    echo "storage is the velocity field, 3 x 8 bytes per grid point."
    echo
    echo "| grid | time per RK4 step | FFT fraction | step / FFT | target | peak RSS | field storage | RSS / field |"
    echo "|---|---|---|---|---|---|---|---|"
    row 64 "$r64"
    row 128 "$r128"
} >"$OUT"
cat "$OUT"
"$REPO/bench/collect.sh"
