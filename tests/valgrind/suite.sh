#!/usr/bin/env bash
# The session, fault and security integration tests with agentd under
# valgrind memcheck (a plain -g -O1 host build, build/agentd-vg): every
# agentd process must end with no memory error and no leak. The slow-reader
# test is left out: its RSS bound measures valgrind, not agentd.
set -u
cd "$(dirname "$0")/../.."
make --no-print-directory build/agentd-vg >/dev/null || {
	echo "not ok - valgrind: cannot build build/agentd-vg"
	echo "0 passed, 1 failed"
	exit 1
}
logs=$(mktemp -d /tmp/agentd-vg.XXXXXX)
export AGENTD_VG_BIN=$PWD/build/agentd-vg AGENTD_VG_LOGS=$logs AGENTD_VALGRIND=1
pass=0
fail=0
for k in test_turn_on test_permission_round test_question_round \
    test_cancel_slow test_crash_ends test_client_disconnect \
    test_reconnect_at test_kill9 test_bad_input test_terminate_and \
    test_faults.py test_security.py; do
	out=$(python3 tests/integration/run.py --agentd tests/chaos/valgrind.sh \
	    -k "$k" 2>&1)
	last=$(printf '%s\n' "$out" | tail -n 1)
	printf '%s\n' "$out" | grep -E '^(ok|not ok)'
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		pass=$((pass + BASH_REMATCH[1]))
		fail=$((fail + BASH_REMATCH[2]))
	else
		echo "not ok - valgrind $k: no summary"
		fail=$((fail + 1))
	fi
done
# A process killed with -9 leaves no summary; the others must be clean.
bad=$(grep -L "ERROR SUMMARY: 0 errors" "$logs"/vg.*.log 2>/dev/null |
    xargs -r grep -l "ERROR SUMMARY" 2>/dev/null)
if [ -n "$bad" ]; then
	echo "not ok - valgrind: memory errors or leaks:"
	for f in $bad; do grep -A12 "definitely lost\|Invalid\|uninitialised" "$f" | head -40; done
	fail=$((fail + 1))
else
	n=$(grep -l "ERROR SUMMARY: 0 errors" "$logs"/vg.*.log 2>/dev/null | wc -l)
	echo "ok - valgrind: $n agentd processes ended with 0 errors, 0 leaks"
	pass=$((pass + 1))
fi
rm -rf "$logs"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
