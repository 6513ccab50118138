# cpus per task takes slots; rate_limit spaces starts; workdir sets the working directory.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# Each task records how many tasks were active when it started (a directory per task).
mkdir active
cat >task.sh <<EOF
#!/bin/sh
mkdir "$T/active/\$SWEEP_TASK_ID"
n=\$(ls "$T/active" | wc -l)
sleep 0.2
rmdir "$T/active/\$SWEEP_TASK_ID"
echo "{\"active\": \$n, \"pwd\": \"\$PWD\"}" >"\$SWEEP_RESULT"
EOF
chmod +x task.sh
cat >cpus.yaml <<'EOF'
study: cpus
command: [./task.sh, "{i}"]
parameters:
  i: {range: [1, 8, 1]}
cpus: 2
max_parallel: 4
EOF
expect_code 0 sweep run cpus.yaml
expect_code 0 sweep results cpus --format json
jq_eq "$T/out" '[.[].metrics.active] | max <= 2' true
ok "a 2-cpu task takes 2 of 4 slots: at most 2 run at once"

sed 's/study: cpus/study: wide/; s/cpus: 2/cpus: 8/' cpus.yaml >wide.yaml
expect_code 0 sweep run wide.yaml
expect_code 0 sweep results wide --format json
jq_eq "$T/out" '[.[].metrics.active] | max' 1
ok "a task wider than every slot runs alone"

mkdir wd
cat >rate.yaml <<'EOF'
study: rate
command: [./task.sh, "{i}"]
parameters:
  i: {range: [1, 4, 1]}
max_parallel: 4
rate_limit: 10/s
workdir: wd
EOF
expect_code 0 sweep run rate.yaml
expect_code 0 sweep logs rate
# Starts are 100 ms apart: the span of 4 starts is about 300 ms (>= 200 ms allows for
# the first spawn's delay on a loaded machine; without the limit the span is a few ms).
grep ' task_start ' "$T/out" | cut -d' ' -f1 | sed 's/.*T//; s/Z$//' |
    awk -F: '{ s = $1 * 3600 + $2 * 60 + $3; if (NR == 1) a = s; b = s } END { exit !(b - a >= 0.2) }' ||
    fail "starts were not spaced by the rate limit"
ok "rate_limit 10/s spaces the starts"
expect_code 0 sweep results rate --format json
jq_eq "$T/out" "[.[] | select(.metrics.pwd == \"$T/wd\")] | length" 4
ok "workdir (relative to the spec) is the tasks' working directory"
