#!/bin/sh
# The layers of src/ (STYLE.md): an #include of sweep's own headers may only point to the
# same layer or one below it, and each third-party header stays in the modules that own
# it. Prints every violation as file:line and exits 1 if there is any.
#   common <- core <- (report, models);  common, core <- client (the service's client,
#   for the front ends);  cli, server (front ends) -> all
set -u
cd "${SWEEP_SRC:?SWEEP_SRC must point at the source tree}/src" || exit 2
bad=0

allowed() { # layer -> the layers it may include
    case $1 in
    common) echo "common" ;;
    core) echo "common core" ;;
    models) echo "common core models" ;;
    report) echo "common core report" ;;
    client) echo "common core client" ;;
    *) echo "common core models report client broker server mcp cli" ;;
    esac
}

for f in */*.c */*.h; do
    layer=${f%%/*}
    ok=$(allowed "$layer")
    grep -n '^#include "[a-z]*/' "$f" | while IFS= read -r line; do
        inc=${line#*\"}
        to=${inc%%/*}
        case " $ok " in
        *" $to "*) ;;
        *) echo "$f:${line%%:*}: $layer includes $inc (a $to header)" ;;
        esac
    done
done >"${TMPDIR:-/tmp}/layers.$$"

# Third-party headers and the files allowed to include them.
check_owner() { # header, then the files (glob patterns) that may include it
    h=$1
    shift
    grep -ln "^#include <$h>" */*.c */*.h 2>/dev/null | while IFS= read -r f; do
        owned=no
        for p in "$@"; do
            case $f in $p) owned=yes ;; esac
        done
        [ $owned = yes ] || echo "$f: includes <$h>, which only $* may include"
    done
}
{
    check_owner sqlite3.h core/store.c
    check_owner yaml.h core/doc.c
    check_owner fftw3.h models/navier_stokes.c models/cavity.c
    check_owner cairo.h 'report/*' models/cluster.c
    check_owner hiredis/hiredis.h 'broker/*'
    check_owner microhttpd.h 'server/*'
    check_owner curl/curl.h 'client/*'
} >>"${TMPDIR:-/tmp}/layers.$$"

if [ -s "${TMPDIR:-/tmp}/layers.$$" ]; then
    cat "${TMPDIR:-/tmp}/layers.$$"
    bad=1
fi
rm -f "${TMPDIR:-/tmp}/layers.$$"
[ $bad -eq 0 ] && echo "ok: every include points down a layer; third-party headers stay in their modules"
exit $bad
