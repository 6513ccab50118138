# Shared helpers of the end-to-end tests: each test sources this, gets a fresh temporary
# directory as its working directory with its own sweep home, and calls `sweep`.
# SWEEP_BIN (the built binary) and SWEEP_SRC (the source tree) come from ctest.
set -u

: "${SWEEP_BIN:?SWEEP_BIN must point at the sweep binary}"
: "${SWEEP_SRC:?SWEEP_SRC must point at the source tree}"

T=$(mktemp -d "${TMPDIR:-/tmp}/sweep-e2e.XXXXXX")
export SWEEP_HOME="$T/.sweep"
cd "$T" || exit 1
trap 'rc=$?; [ $rc -eq 0 ] && rm -rf "$T"; exit $rc' EXIT

NTESTS=0

sweep() {
    "$SWEEP_BIN" "$@"
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

ok() {
    NTESTS=$((NTESTS + 1))
    echo "ok $NTESTS - $*"
}

# expect_code WANT CMD...: runs CMD, output in $T/out and $T/err; fails unless it exits WANT.
expect_code() {
    want=$1
    shift
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "--- stdout" >&2
        cat "$T/out" >&2
        echo "--- stderr" >&2
        cat "$T/err" >&2
        fail "'$*' exited $got, expected $want"
    fi
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
    grep -qF -- "$2" "$1" || {
        echo "--- $1" >&2
        cat "$1" >&2
        fail "$1 does not contain: $2"
    }
}

expect_not_in() {
    if grep -qF -- "$2" "$1"; then
        cat "$1" >&2
        fail "$1 contains: $2"
    fi
}

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds or the deadline passes.
wait_for() {
    deadline=$(($(date +%s) + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$deadline" ] && fail "timed out waiting for: $*"
        sleep 0.05
    done
}

# jq_eq FILE FILTER WANT: jq -r FILTER on FILE prints exactly WANT.
jq_eq() {
    got=$(jq -r "$2" "$1") || fail "jq '$2' failed on $1"
    [ "$got" = "$3" ] || {
        cat "$1" >&2
        fail "jq '$2' on $1: got '$got', expected '$3'"
    }
}

count_lines() {
    wc -l <"$1" | tr -d ' '
}
