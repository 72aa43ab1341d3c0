#!/usr/bin/env bash
# The student exchange of the seed programs, as two processes: memread waits for the region,
# memwrite publishes a few records and closes it cleanly, memread prints what it received.
# Usage: samples/demo.sh [<dir with memwrite and memread>]
# SHMREC_EMULATOR (a command, split on spaces) runs the programs, SHMREC_EXE_SUFFIX ends their
# names: `make demo-windows` runs the Windows build's memwrite.exe and memread.exe under Wine.
set -euo pipefail
bin="${1:-build/samples}"
read -r -a run <<< "${SHMREC_EMULATOR:-}"
exe="${SHMREC_EXE_SUFFIX:-}"
name="TestMemShare"
records=5

echo "== memread (reader) starts and waits for region '$name'"
"${run[@]}" "$bin/memread$exe" --name "$name" --wait 5000 > "${TMPDIR:-/tmp}/shmrec-demo-reader.$$" 2>&1 &
reader=$!

echo "== memwrite (writer) publishes $records student records, one every 200 ms"
"${run[@]}" "$bin/memwrite$exe" --name "$name" --count "$records" --interval 200

status=0
wait "$reader" || status=$?
echo "== memread received (exit status $status):"
cat "${TMPDIR:-/tmp}/shmrec-demo-reader.$$"
rm -f "${TMPDIR:-/tmp}/shmrec-demo-reader.$$"
exit "$status"
