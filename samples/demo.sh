#!/usr/bin/env bash
# The student exchange of the seed programs, as two processes: memread waits for the region,
# memwrite publishes a few records and closes it cleanly, memread prints what it received.
set -euo pipefail
bin="${1:-build/samples}"
name="TestMemShare"
records=5

echo "== memread (reader) starts and waits for region '$name'"
"$bin/memread" --name "$name" --wait 5000 > "${TMPDIR:-/tmp}/shmrec-demo-reader.$$" 2>&1 &
reader=$!

echo "== memwrite (writer) publishes $records student records, one every 200 ms"
"$bin/memwrite" --name "$name" --count "$records" --interval 200

status=0
wait "$reader" || status=$?
echo "== memread received (exit status $status):"
cat "${TMPDIR:-/tmp}/shmrec-demo-reader.$$"
rm -f "${TMPDIR:-/tmp}/shmrec-demo-reader.$$"
exit "$status"
