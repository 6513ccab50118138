#!/bin/sh
# Installs the packages of tests/node (package-lock.json, pinned) with `npm ci`, only
# when node_modules is missing or the lock changed since the last install (a copy of
# the lock is kept in node_modules/.sweep-lock). ctest runs it first (node/npm-ci, the
# fixture of every node/ test); two builds at once wait for each other (flock).
set -eu
cd "$(dirname "$0")"
stamp=node_modules/.sweep-lock

fresh() { [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; }

fresh && exit 0
exec 9>.npm-ci.lock
command -v flock >/dev/null && flock 9
fresh && exit 0
echo "npm-ci: installing tests/node's packages (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
