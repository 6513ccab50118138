#!/bin/sh
# Pitfalls of the end-to-end tests' shell that make a check pass when it should not.
# jq 1.6 (Debian bookworm) exits 0 under -e when it reads no input at all, so
# `cmd | jq -e FILTER` is true when cmd fails and prints nothing: write
# `cmd | jq -ne 'input | FILTER'` instead (false, exit 5, on empty input); -n and
# -s (slurp: [] on empty input) are safe.
# Prints every offending line as file:line and exits 1 if there is any.
cd "${SWEEP_SRC:?SWEEP_SRC must point at the source tree}/tests/e2e" || exit 2
if grep -n 'jq -e\b' ./*.sh | grep -v -e ' -n\b' -e ' -s\b'; then
    echo "check-e2e: jq -e is true on empty input; use jq -ne 'input | FILTER'" >&2
    exit 1
fi
exit 0
