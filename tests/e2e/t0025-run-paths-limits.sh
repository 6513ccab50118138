# What `sweep run` reads and what it runs: a FIFO, a device or a symlink loop given as
# a spec or a package file is refused at once (exit 2), never waited on.
. "$SWEEP_SRC/tests/e2e/lib.sh"

# ---- item 20: files that are not regular files ----
mkfifo fifo.yaml
expect_code 2 timeout 20 "$SWEEP_BIN" run fifo.yaml
expect_in "$T/err" "fifo.yaml: is a FIFO, not a regular file"
ln -s loop.yaml loop.yaml
expect_code 2 sweep run loop.yaml
expect_in "$T/err" "loop.yaml: cannot open: a loop of symbolic links"
expect_code 2 sweep run /dev/null
expect_in "$T/err" "/dev/null: is a character device, not a regular file"
[ ! -e "$SWEEP_HOME" ] || fail "a refused spec created the sweep home"
ok "a FIFO, a device or a symlink loop as the spec: exit 2 at once"

P=pk
mkdir -p "$P"
mkfifo "$P/priority_summary.json"
expect_code 2 timeout 20 "$SWEEP_BIN" run "$P/"
expect_in "$T/err" "priority_summary.json: is a FIFO, not a regular file"
rm "$P/priority_summary.json"
cat >"$P/priority_summary.json" <<'EOF'
{"HIGH": [{"package_id": 1, "priority": "HIGH", "description": "a"}]}
EOF
mkfifo "$P/package_0001.json"
expect_code 2 timeout 20 "$SWEEP_BIN" run "$P/" --command "true"
expect_in "$T/err" "package_0001.json: is a FIFO, not a regular file"
ok "a FIFO as priority_summary.json or as a package file: exit 2 at once"
