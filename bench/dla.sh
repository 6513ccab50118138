#!/bin/sh
# The dla model's cost (issue 4): time and peak RSS to grow a 2D DLA cluster of 10^4,
# 10^5 and (unless BENCH_DLA_MAX is lower) 10^6 particles on one core, with the fractal
# dimension each run measured. Writes bench/results/dla.md and collects
# bench/RESULTS.md. Target: 10^5 particles in under 30 s.
#
# Environment: SWEEP_BIN (default <repo>/build/sweep), BENCH_DLA_MAX (1000000).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
SWEEP=${SWEEP_BIN:-$REPO/build/sweep}
MAX=${BENCH_DLA_MAX:-1000000}
OUT=$REPO/bench/results/dla.md
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sweep-bench-dla.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

[ -x "$SWEEP" ] || { echo "dla.sh: no sweep binary at $SWEEP (run make)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "dla.sh: needs /usr/bin/time (Debian package time)" >&2; exit 2; }

rows=""
for n in 10000 100000 1000000; do
    [ "$n" -le "$MAX" ] || continue
    /usr/bin/time -f '%e %M' -o "$TMP/time" "$SWEEP" sim dla --set "n_particles=$n" \
        --set seed=1 --outdir "$TMP" --json >"$TMP/m.json"
    set -- $(cat "$TMP/time")
    df=$(jq -r '.df * 1000 | round / 1000' "$TMP/m.json")
    echo "dla.sh: n=$n: $1 s, $(($2 / 1024)) MiB, df $df" >&2
    mark=""
    [ "$n" -eq 100000 ] && mark=$(awk -v t="$1" 'BEGIN { print (t < 30 ? "pass" : "**miss**") }')
    rows="$rows| $n | $1 s | $(($2 / 1024)) MiB | $df | $mark |
"
done

{
    echo "## dla model (issue 4)"
    echo
    echo "Written by \`bench/dla.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs,"
    echo "$(uname -sr), sweep $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo "One 2D cluster per size (seed 1), \`sweep sim dla\` on one core, wall time and peak"
    echo "RSS from /usr/bin/time. Target: 100,000 particles in under 30 s."
    echo
    echo "| particles | wall | peak RSS | df | target |"
    echo "|---|---|---|---|---|"
    printf '%s' "$rows"
} >"$OUT"
cat "$OUT"
"$REPO/bench/collect.sh"
