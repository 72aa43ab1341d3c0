#!/usr/bin/env bash
# Runs a command in a Wine session for a Windows cross build (make test-windows, demo-windows).
# Usage: tools/windows/wine-session.sh <build-dir> [command [args...]]
#
#   1. The Wine prefix: SHMREC_WINEPREFIX of <build-dir>/CMakeCache.txt (the toolchain file's
#      default is <build-dir>/wine-prefix). Created once (wineboot --init, ~12 s, ~700 MB) and
#      kept; .shmrec-prefix-ready marks a complete one, so an interrupted creation is redone.
#      `rm -rf` it to start over.
#   2. One persistent wineserver (wineserver -p) for the whole command, killed on exit (trap):
#      without it every test process cold-starts Wine, and the services Wine then starts hold
#      the test's stderr pipe open (~4 s per test under ctest instead of ~0.1 s).
#   3. Wine's services are started once by a process whose output goes to /dev/null, for the
#      same reason.
#   4. The command runs with WINEPREFIX, WINEDEBUG (default -all), WINEDLLOVERRIDES exported
#      and DISPLAY unset; its exit status is this script's.
# Without a command, only step 1. Two sessions must not share a prefix at the same time: the
# first to end kills the other's wineserver.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 <build-dir> [command [args...]]" >&2
    exit 2
fi
build_dir=$1
shift

prefix=""
if [ -f "$build_dir/CMakeCache.txt" ]; then
    prefix=$(sed -n 's/^SHMREC_WINEPREFIX:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
fi
[ -n "$prefix" ] || prefix="$(cd "$build_dir" 2>/dev/null && pwd || echo "$PWD/$build_dir")/wine-prefix"

wine=${SHMREC_WINE:-/usr/lib/wine/wine64}   # Debian: no wine64 on PATH
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)
if [ ! -x "$wine" ] || [ ! -x "$wineserver" ]; then
    echo "wine-session: $wine or wineserver missing; install them with:" \
         "tools/install-deps.sh wine64 wine" >&2
    exit 2
fi

export WINEPREFIX=$prefix
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES="mscoree,mshtml=d"   # no Mono/Gecko prompts; prefix made in ~7 s, not ~9
unset DISPLAY WAYLAND_DISPLAY || true

if [ ! -f "$WINEPREFIX/.shmrec-prefix-ready" ]; then
    echo "wine-session: creating the Wine prefix $WINEPREFIX (once, ~12 s)"
    start=$(date +%s%N)
    rm -rf "$WINEPREFIX"
    mkdir -p "$(dirname "$WINEPREFIX")"
    # Harmless on a 64-bit-only Wine: "failed to open ... syswow64\rundll32.exe: c0000135".
    "$wine" wineboot --init </dev/null >/dev/null 2>&1
    # Boost.Interprocess's portable objects (shared_memory_object, named_mutex, ...) derive
    # their directory from this boot id, which Wine does not create (WINDOWS.md 3a).
    "$wine" reg add 'HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management\PrefetchParameters' \
        /v BootId /t REG_DWORD /d 1 /f </dev/null >/dev/null 2>&1
    "$wineserver" -w
    touch "$WINEPREFIX/.shmrec-prefix-ready"
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    printf 'wine-session: prefix ready in %d.%01d s\n' $((ms / 1000)) $((ms % 1000 / 100))
fi

[ $# -gt 0 ] || exit 0

stop_server() { "$wineserver" -k >/dev/null 2>&1 || true; }
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$wineserver" -p </dev/null >/dev/null 2>&1 || true
"$wine" cmd /c exit </dev/null >/dev/null 2>&1 || true

status=0
"$@" || status=$?
exit "$status"
