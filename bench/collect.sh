#!/bin/sh
# Writes bench/RESULTS.md from the sections each benchmark script leaves in
# bench/results/*.md, so that one script's run does not erase another's figures.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
{
    echo "# Benchmark results"
    echo
    echo "Each section is written by the script it names, from figures measured in one"
    echo "run on the machine it describes. Regenerate with \`make bench\`."
    for f in "$BENCH"/results/*.md; do
        echo
        cat "$f"
    done
} >"$BENCH/RESULTS.md"
