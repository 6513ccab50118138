#!/bin/sh
# sweep serve's inbox and the programs that write into it: a file being written when
# the service starts, a slow writer, a second writer that closes while the first still
# writes (each taken only once no one has it open for writing), and a large task file
# (100,000 tasks), parsed while a study runs without holding that study up.
. "$SWEEP_SRC/tests/e2e/lib.sh"

command -v curl >/dev/null || fail "curl is needed (scripts/install-deps.sh)"

IN="$T/inbox"
PID=
WRITER=
trap 'rc=$?; [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT

has_results() {
    grep -qs "\"study\": \"$1\"" "$SWEEP_HOME"/results/task_results_*.json
}
processed() {
    ls "$IN/processed" | grep -q "^[0-9]\{8\}_[0-9]\{6\}_$1\$"
}
# line_of TEXT: the number of the first line of the service's log holding TEXT.
line_of() {
    grep -nF -- "$1" "$T/serve.log" | head -n 1 | cut -d: -f1
}

# ---- a file being written when the service starts; a slow writer ----
mkdir -p "$IN"
exec 3>"$IN/early.json"
printf '{"tasks": [{"task_id": "e1", "algorithm": "DLA",' >&3
# Without the test's writers' descriptors (start_serve closes 3 and 4): the service
# would be a writer too.
start_serve -j 2 --inbox "$IN"
wait_for 20 grep -q "inbox: early.json is open for writing; taken once closed" \
    "$T/serve.log"
# The writer goes on slowly (the service tries the file again every half second).
for part in ' "parameters":' ' {"n_particles": 30,' ' "seed": 1}}' ']}'; do
    printf '%s' "$part" >&3
    sleep 0.6
    [ -f "$IN/early.json" ] || fail "early.json was taken while being written"
done
[ ! -e "$IN/rejected/early.json.error" ] || fail "early.json was parsed half-written"
printf '\n' >&3
exec 3>&-
wait_for 30 has_results early
processed early.json || fail "early.json is not in processed/"
[ "$(grep -c "early.json is open for writing" "$T/serve.log")" -eq 1 ] ||
    fail "the wait for early.json is told more than once"
ok "a file being written at the start is taken once its writer closes it"

# ---- a second writer closes while the first still writes ----
exec 4>>"$IN/two.json" # appends, as the second writer does
printf '{"tasks": [{"task_id": "w1",' >&4
printf ' "algorithm": "DLA",' >>"$IN/two.json" # opened, written, closed: IN_CLOSE_WRITE
wait_for 20 grep -q "inbox: two.json is open for writing" "$T/serve.log"
printf '{"tasks": [{"task_id": "m1", "algorithm": "DLA"}]}\n' >"$IN/marker.json"
wait_for 20 processed marker.json
[ -f "$IN/two.json" ] || fail "two.json was taken while its first writer writes"
[ ! -e "$IN/rejected/two.json.error" ] || fail "two.json was parsed half-written"
printf ' "parameters": {"n_particles": 30}}]}\n' >&4
exec 4>&-
wait_for 30 has_results two
processed two.json || fail "two.json is not in processed/"
ok "a file closed by one writer while another still writes it waits for the other"

# ---- a writer in another process; the file moved in while still open ----
(
    exec 5>"$T/moved.json"
    printf '{"tasks": [{"task_id": "v1", "algorithm": "DLA",' >&5
    mv "$T/moved.json" "$IN/moved.json"
    # Until the file is there (a fifo would do, this stays portable): then finish.
    while [ ! -e "$T/go" ]; do sleep 0.05; done
    printf ' "parameters": {"n_particles": 30}}]}\n' >&5
) &
WRITER=$!
wait_for 20 grep -q "inbox: moved.json is open for writing" "$T/serve.log"
touch "$T/go"
wait "$WRITER" || fail "the writer failed"
WRITER=
wait_for 30 has_results moved
ok "a file renamed in while another process writes it is taken once closed"

# ---- a large task file does not hold up the service's studies ----
# The file is dropped first, then a small study submitted: its tasks start, run and
# end while the file is parsed. Were the file parsed on the main thread, the submit
# would wait for it, and the study could not even start before the file's study was
# accepted: the order of the two lines of the log tells, whatever the machine's speed.
awk 'BEGIN {
  printf "{\"metadata\": {\"name\": \"big\"}, \"tasks\": [\n";
  for (i = 0; i < 100000; i++)
    printf "{\"task_id\": \"b%d\", \"algorithm\": \"chaos\", \"parameters\": " \
        "{\"x\": %d}, \"priority\": \"low\"}%s\n", i, i, i + 1 < 100000 ? "," : "";
  printf "]}\n" }' >"$T/.big.json"
printf '{"study": "steady", "model": "chaos", "parameters": {"x": [1, 2]},
 "max_parallel": 1}\n' >"$T/steady.json"
mv "$T/.big.json" "$IN/big.json"
curl -sf -X POST --data-binary @"$T/steady.json" -H 'Content-Type: application/json' \
    "$URL/studies" >/dev/null || fail "cannot submit steady"
wait_for 120 grep -q "inbox: big.json: study big accepted" "$T/serve.log"
wait_for 30 grep -q "study steady ended" "$T/serve.log"
[ "$(line_of "study steady ended")" -lt "$(line_of "big.json: study big accepted")" ] ||
    fail "steady waited for the large file: $(cat "$T/serve.log")"
expect_code 0 sweep status steady --json
jq_eq "$T/out" '.counts.succeeded' 2
ok "a 100,000-task file is parsed while another study's tasks start and end"

stop_serve 120
ok "stopped"
