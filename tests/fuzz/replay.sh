#!/bin/sh
# tests/fuzz/replay.sh [REPLAY_BIN...]: run each fuzz target's replay
# program over its saved inputs (tests/fuzz/regress/<t>, corpus/<t>) and
# print one "N passed, M failed" line for all of them. Without arguments
# the programs come from $FUZZ_REPLAY (set by tests/fuzz/fuzz.mk).
# Run from the repository root.
set -u
[ $# -gt 0 ] || set -- ${FUZZ_REPLAY:-}
pass=0
fail=0
for bin in "$@"; do
	if [ ! -x "$bin" ]; then
		echo "not ok - $bin: not built (see the fuzz-replay-build errors)"
		fail=$((fail + 1))
		continue
	fi
	out=$("$bin" 2>&1)
	rc=$?
	last=$(printf '%s\n' "$out" | tail -n 1)
	p=$(printf '%s\n' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(printf '%s\n' "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ] || [ "$rc" -ne 0 ]; then
		printf '%s\n' "$out" | tail -n 40
		echo "not ok - $bin: exit status $rc"
		p=${p:-0}
		f=$(( ${f:-0} + 1 ))
	else
		echo "ok - $bin: $p saved inputs"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
