#!/usr/bin/env bash
# tests/run.sh AGENTD_BIN UNIT_BIN...
#
# Runs each unit test binary, then the integration suite against AGENTD_BIN,
# printing every suite's output, and ends with one line "N passed, M failed"
# (the totals). A suite that crashes, or whose last line is not such a
# summary, counts as one more failure. Exit 0 only if nothing failed.
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 AGENTD_BIN [UNIT_BIN...]" >&2
	exit 2
fi
agentd_bin=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
suite_timeout=${SUITE_TIMEOUT:-600}
total_pass=0
total_fail=0

# run_suite NAME CMD...: run, print output, add its counts to the totals.
# A suite.sh may raise its own limit with a line "# suite-timeout: SECONDS"
# (e2e installs seven CLIs from npm before it runs them).
run_suite() {
	local name=$1 out rc last p f limit=$suite_timeout own
	shift
	own=$(sed -n 's/^# suite-timeout: *\([0-9][0-9]*\)$/\1/p' "$1" 2>/dev/null |
	    head -n 1)
	[ -n "$own" ] && [ -z "${SUITE_TIMEOUT:-}" ] && limit=$own
	echo "# $name"
	out=$(timeout --kill-after=10 "$limit" "$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		p=${BASH_REMATCH[1]}
		f=${BASH_REMATCH[2]}
		if [ "$rc" -ge 124 ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
			echo "not ok - $name: exit status $rc after its summary"
			f=$((f + 1))
		fi
	else
		p=0
		f=1
		if [ "$rc" -ge 124 ]; then
			echo "not ok - $name: timed out after $limit s"
		else
			echo "not ok - $name: no summary line (exit status $rc)"
		fi
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

for bin in "$@"; do
	run_suite "unit: $bin" "$bin"
done
run_suite "integration: $agentd_bin" python3 "$here/integration/run.py" \
    --agentd "$agentd_bin"

# Further suites, named in $SUITES (make test sets it): tests/<name>/suite.sh
# AGENTD_BIN runs one and ends with its own "N passed, M failed" line.
for s in ${SUITES:-}; do
	if [ -x "$here/$s/suite.sh" ]; then
		run_suite "$s" "$here/$s/suite.sh" "$agentd_bin"
	else
		echo "not ok - $s: no $here/$s/suite.sh"
		total_fail=$((total_fail + 1))
	fi
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
