#!/bin/sh
# The reduce of dla-pipeline.yaml: $1 is {reduce.input}. Prints the mean df per size of
# the clusters that passed the check, and writes the overall figures to $SWEEP_RESULT.
set -eu
jq '[.points[] | select(.steps.check.state == "succeeded")
     | {n: .params.n_particles, df: .steps.simulate.metrics.df}]
    | group_by(.n)
    | map({n_particles: .[0].n, runs: length, mean_df: (map(.df) | add / length)})' \
    "$1" >sizes.json
cat sizes.json
jq '{sizes: length, runs: (map(.runs) | add), mean_df: (map(.mean_df) | add / length)}' \
    sizes.json >"$SWEEP_RESULT"
