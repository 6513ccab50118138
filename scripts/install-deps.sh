#!/bin/sh
# Installs the Debian packages sweep needs to build, test and benchmark, only when one
# is missing. Runs apt-get through sudo when not root. Safe to run again.
set -eu

PACKAGES="gcc make cmake pkg-config clang libclang-rt-14-dev libc6-dev
libsqlite3-dev libyaml-dev libjansson-dev libcmocka-dev libfftw3-dev libcairo2-dev
parallel wrk jq time python3 python3-jsonschema libmicrohttpd-dev libcurl4-openssl-dev
curl nodejs chromium"
# npm (the node tests' packages, tests/node) is its own Debian package, but comes with
# nodejs when that is NodeSource's: asked for only when no npm is on the PATH.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: need root or sudo to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
