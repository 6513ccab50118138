# Robustness of what a user sees after a failure: a package directory with several
# problems reports all of them at once, each once, and names a file that looks like a
# package file but does not follow the pattern; batch.log ends with what the batch did;
# SIGTERM exits 143 and SIGINT 130, also while the study is being stored; the study log
# escapes its values, and after a store error (here the file size limit, as a full disk)
# ends with end=error and the reason and holds only what the store committed; a full
# disk where sweep writes is named.
. "$SWEEP_SRC/tests/e2e/lib.sh"

P=pk
L=parametric_sweep_logs
package() {
    printf '{"package_id": %d, "Re": %s, "dt": 0.01, "T_final": 0.05, "grid_size": [16, 16, 16], "priority": "%s"}\n' \
        "$1" "$3" "$2" >"$P/$(printf 'package_%04d.json' "$1")"
}
mkdir -p "$P"
cat >"$P/priority_summary.json" <<'EOF'
{"HIGH": [{"package_id": 1}], "MEDIUM": [{"package_id": 2}, {"package_id": 3}],
 "LOW": [{"package_id": 4}]}
EOF
package 1 HIGH 100
package 2 MEDIUM 200
package 3 MEDIUM 400
package 4 LOW 800

# --priority HIGH: its package completed; batch.log says so, not the study's QUEUED.
expect_code 0 sweep run "$P/" --priority HIGH --quiet
tail -n 1 "$L/batch.log" >"$T/last"
expect_in "$T/last" "batch end: COMPLETED; 1 selected (HIGH), 1 completed"
expect_in "$T/last" "3 other packages not selected; study QUEUED"
expect_code 0 sweep run "$P/" --priority HIGH --quiet --json
jq_eq "$T/out" '.outcome + " " + .status' "COMPLETED QUEUED"
ok "batch.log and --json end with what the batch did (COMPLETED), then the study's status"

# Every problem at once and each once: two packages the model refuses, an invalid
# package file (not also "does not exist"), a name with ten digits.
cp -r "$P" bad
printf '{"package_id": 1, "Re": -5, "priority": "HIGH"}\n' >bad/package_0001.json
printf '{"package_id": 4, "Re": -8, "priority": "LOW"}\n' >bad/package_0004.json
printf '{"package_id": 3,\n "Re": }\n' >bad/package_0003.json
mv bad/package_0002.json bad/package_0000000002.json
expect_code 2 sweep run bad
expect_in "$T/err" "4 problems"
expect_in "$T/err" "bad/package_0001.json: navier-stokes: Re"
expect_in "$T/err" "bad/package_0004.json: navier-stokes: Re"
expect_in "$T/err" "bad/package_0003.json:2:"
expect_in "$T/err" "bad/package_0000000002.json: not a package file name: expected package_N.json with N of 1 to 9 digits (rename it package_0002.json)"
expect_not_in "$T/err" "does not exist"
ok "a package directory's problems: all four in one message, each once"

# Signals: 128 + the signal. While the study is stored (300,000 tasks take seconds,
# from the moment the run lock exists): nothing is stored. While it runs: the tasks
# are interrupted.
cat >big.yaml <<'EOF'
study: big
command: ["true", "{a}", "{b}"]
parameters:
  a: {range: [1, 300, 1]}
  b: {range: [1, 1000, 1]}
EOF
"$SWEEP_BIN" run big.yaml --quiet >"$T/out" 2>"$T/err" &
pid=$!
wait_for 60 test -f "$SWEEP_HOME/studies/big/run.lock"
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 143 ] || { cat "$T/err" >&2; fail "SIGTERM while storing: exit $rc, expected 143"; }
expect_code 2 sweep status big
cat >slow.yaml <<'EOF'
study: slow
command: ["sh", "-c", "touch started.{i}; sleep 60"]
parameters: {i: [1, 2]}
EOF
for sig in TERM INT; do
    want=$([ $sig = TERM ] && echo 143 || echo 130)
    rm -f "$SWEEP_HOME"/studies/slow/tasks/*/*/started.*
    "$SWEEP_BIN" run slow.yaml --quiet >"$T/out" 2>"$T/err" &
    pid=$!
    wait_for 30 sh -c "ls $SWEEP_HOME/studies/slow/tasks/*/*/started.* | grep -q ."
    kill -$sig $pid
    wait $pid
    rc=$?
    [ $rc -eq "$want" ] || { cat "$T/err" >&2; fail "SIG$sig while running: exit $rc, expected $want"; }
done
expect_in "$SWEEP_HOME/studies/slow/study.log" "end=interrupted status=INTERRUPTED"
ok "SIGTERM exits 143 while the study is stored and while it runs, SIGINT 130"

# Values in the study log are quoted and escaped: a program name with a quote.
cat >quote.json <<'EOF'
{"study": "quote", "command": ["no\"such prog", "{i}"], "parameters": {"i": [1]}}
EOF
expect_code 1 sweep run quote.json --quiet
grep ' task_start_failed ' "$SWEEP_HOME/studies/quote/study.log" >"$T/line"
expect_in "$T/line" 'no\"such prog'
[ "$(count_lines "$T/line")" -eq 1 ] || fail "one line expected"
ok "study.log values are quoted with \\\" escapes"

# A store error in the middle of a run (the file size limit: EFBIG, as a full disk):
# run_end says end=error and why, and the log has only committed events: no attempt
# logged as ended that the store still has running.
cat >fsize.yaml <<'EOF'
study: fsize
command: ["sh", "-c", "exit 1"]
parameters:
  i: {range: [1, 400, 1]}
retries: {max: 2, backoff: 0}
max_parallel: 2
EOF
(
    trap '' XFSZ
    ulimit -f 400
    sweep run fsize.yaml --quiet
) >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || { cat "$T/err" >&2; fail "a store error: exit $rc, expected 3"; }
log=$SWEEP_HOME/studies/fsize/study.log
tail -n 1 "$log" >"$T/last"
expect_in "$T/last" " run_end study=fsize end=error status="
expect_in "$T/last" ' reason="committing a transaction: '
sweep results fsize --format json >"$T/tasks.json" || fail "results after the error"
jq -r '.[] | select(.state == "running") | "task=\(.key) attempt=\(.attempts) "' \
    "$T/tasks.json" >"$T/running"
grep -E ' task_(end|retry) ' "$log" >"$T/ended" || true
while read -r t a; do
    expect_not_in "$T/ended" "$t $a"
done <"$T/running"
ok "after a store error: run_end end=error with the reason; no rolled-back event logged"

# A full disk where sweep writes (/dev/full: ENOSPC) is named, not a bare exit code 3.
"$SWEEP_BIN" sim chaos --set x=1 >/dev/full 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "sweep sim to a full disk: exit $rc, expected 3"
expect_in "$T/err" "cannot write the metrics to stdout: disk full (No space left on device)"
ok "sweep sim on a full disk says disk full"
