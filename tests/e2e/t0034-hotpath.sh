# The dispatch hot path (issue 10): what sweep does per task, and that it loses no
# byte a task writes. The system calls are counted with strace -f when it is there
# and allowed (skipped otherwise): the vforked child resets only the signals that are
# not at their default action before its execve (a handful, not all 64), and sweep
# makes about one mkdir per task.
. "$SWEEP_SRC/tests/e2e/lib.sh"

N=40
cat >true.yaml <<EOF2
study: t
command: [/bin/true, "{i}"]
parameters: {i: {range: [1, $N]}}
EOF2

if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
    strace -f -o "$T/st" "$SWEEP_BIN" run true.yaml -j 2 -q >"$T/out" 2>&1 ||
        fail "sweep run under strace: $(cat "$T/out")"
    main=$(head -n 1 "$T/st" | cut -d' ' -f1)
    # Per child: the rt_sigaction calls before its execve of /bin/true.
    max=$(awk -v m="$main" '
        $1 == m { next }
        /execve\(/ { done[$1] = 1 }
        /rt_sigaction\(/ && !done[$1] { n[$1]++ }
        END { x = 0; for (p in n) if (n[p] > x) x = n[p]; print x }' "$T/st")
    [ "$max" -le 8 ] || fail "a child made $max rt_sigaction calls before its execve"
    ok "the child resets a few signal dispositions, not all ($max)"
else
    echo "# strace missing or not allowed: system calls not counted"
fi
