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

# start_serve [ARGS...]: `sweep serve --bind 127.0.0.1:0 ARGS` in the background (its
# output in $T/serve.log, without the test's descriptors 3 and 4); waits (60 s at most)
# until it answers /health. Sets PID and URL.
start_serve() {
    : >"$T/serve.log"
    "$SWEEP_BIN" serve --bind 127.0.0.1:0 "$@" >"$T/serve.log" 2>&1 3>&- 4>&- &
    PID=$!
    wait_for 60 grep -q "listening on" "$T/serve.log"
    URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$T/serve.log")
    wait_for 60 curl -sf "$URL/health"
}

# stop_serve [SECONDS]: SIGTERM to the `sweep serve` of $PID, then waits (deadline
# SECONDS, 30 by default) for it to end; it must exit 0 (else its log, $T/serve.log,
# is shown). PID is emptied.
stop_serve() {
    kill -TERM "$PID"
    deadline=$(($(date +%s) + ${1:-30}))
    while kill -0 "$PID" 2>/dev/null; do
        [ "$(date +%s)" -ge "$deadline" ] && fail "sweep serve did not stop"
        sleep 0.05
    done
    wait "$PID"
    rc=$?
    PID=
    [ "$rc" -eq 0 ] || {
        cat "$T/serve.log" >&2
        fail "sweep serve exited $rc"
    }
}

# gone PID: the process is dead: gone, or a zombie waiting for an init that does not
# reap (some containers).
gone() {
    [ ! -e "/proc/$1" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"
}

# fits_80 FILE WHAT: no line of FILE is wider than 80 columns (characters, not bytes).
fits_80() {
    LC_ALL=C.UTF-8 awk -v what="$2" 'length($0) > 80 {
        printf "%s: a line of %d columns: %s\n", what, length($0), $0; bad = 1 }
        END { exit bad }' "$1" >&2 || fail "$2 does not fit 80 columns"
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

# ---- the answers of `sweep serve` against its OpenAPI document ----
# openapi_log: from here on, each answer of the service to the test's curl (the
# function below) is appended to $SWEEP_OPENAPI_LOG, one JSON line each: method, path,
# status, content type and, for JSON, the body. Streams (curl -N) are not logged.
# openapi_check, at the end of the test, checks them.
openapi_log() {
    export SWEEP_OPENAPI_LOG="$T/openapi.log"
    : >"$SWEEP_OPENAPI_LOG"
}

# curl ARGS...: the real curl; with SWEEP_OPENAPI_LOG set, the answer is also logged.
# The output (-o FILE or stdout) and header (-D FILE) files the caller gives are
# filled as curl would fill them, after the request.
curl() {
    case " $* " in
    *" -N "* | *" -sN "* | *" --no-buffer "*) _c_stream=1 ;;
    *) _c_stream= ;;
    esac
    if [ -z "${SWEEP_OPENAPI_LOG:-}" ]; then
        command curl "$@"
        return
    fi
    # A stream runs in the background (`curl -N ... &`): killing that shell kills it.
    if [ "$_c_stream" ]; then
        command curl "$@" &
        _c_pid=$!
        trap 'kill $_c_pid 2>/dev/null' TERM
        wait $_c_pid
        return
    fi
    _c_method= _c_url= _c_out=- _c_head= _c_next= _c_n=$#
    for _c_a; do
        case $_c_next in
        X) _c_method=$_c_a ;;
        o) _c_out=$_c_a ;;
        D) _c_head=$_c_a ;;
        esac
        case $_c_next in
        o | D) _c_next= && continue ;;
        ?*) _c_next= && set -- "$@" "$_c_a" && continue ;;
        esac
        case $_c_a in
        -o | --output) _c_next=o && continue ;;
        -D | --dump-header) _c_next=D && continue ;;
        -X | --request) _c_next=X ;;
        -H | -w | --max-time | -u) _c_next=arg ;;
        -d | --data | --data-binary | --data-raw) [ "$_c_method" ] || _c_method=POST ;;
        http://* | https://*) _c_url=$_c_a ;;
        esac
        set -- "$@" "$_c_a"
    done
    shift "$_c_n"
    rm -f "$T/.curl-body" "$T/.curl-head"
    command curl -o "$T/.curl-body" -D "$T/.curl-head" "$@"
    _c_rc=$?
    [ -f "$T/.curl-body" ] || : >"$T/.curl-body"
    [ -f "$T/.curl-head" ] || : >"$T/.curl-head"
    _c_status=$(sed -n 's/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$T/.curl-head" | tail -1)
    _c_type=$(tr -d '\r' <"$T/.curl-head" | sed -n 's/^[Cc]ontent-[Tt]ype: *//p' | tail -1)
    if [ -n "$_c_status" ] && [ -n "$_c_url" ]; then
        _c_path=/${_c_url#*://*/}
        [ "$_c_path" = "/$_c_url" ] && _c_path=/
        case $_c_type in
        application/json*) _c_body="$T/.curl-body" ;;
        *) _c_body=/dev/null ;;
        esac
        jq -nc --arg m "${_c_method:-GET}" --arg p "$_c_path" --arg t "$_c_type" \
            --argjson s "$_c_status" --rawfile b "$_c_body" \
            '{method: $m, path: $p, status: $s, type: $t, body: $b}' \
            >>"$SWEEP_OPENAPI_LOG"
    fi
    [ -z "$_c_head" ] || cat "$T/.curl-head" >"$_c_head"
    if [ "$_c_out" = - ]; then
        cat "$T/.curl-body"
    else
        cat "$T/.curl-body" >"$_c_out"
    fi
    return $_c_rc
}

# openapi_check: every answer logged since openapi_log checked against
# src/server/openapi.json (tests/node/openapi-log.mjs; skipped only without node),
# and no error answer names the home's absolute path.
openapi_check() {
    jq -r 'select(.status >= 400) | .body' "$SWEEP_OPENAPI_LOG" >"$T/openapi.errors"
    expect_not_in "$T/openapi.errors" "$SWEEP_HOME"
    expect_not_in "$T/openapi.errors" "$(realpath "$SWEEP_HOME")"
    if ! command -v node >/dev/null; then
        echo "# skip: node is missing, the answers are not checked against openapi.json"
        return 0
    fi
    sh "$SWEEP_SRC/tests/node/npm-ci.sh" >&2 || fail "tests/node: npm ci failed"
    node "$SWEEP_SRC/tests/node/openapi-log.mjs" "$SWEEP_OPENAPI_LOG" >"$T/openapi.out" \
        2>&1 || {
        cat "$T/openapi.out" >&2
        fail "an answer of the service does not match src/server/openapi.json"
    }
    ok "$(tail -1 "$T/openapi.out")"
}
