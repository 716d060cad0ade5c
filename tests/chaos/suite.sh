#!/usr/bin/env bash
# suite-timeout: 1200
# make chaos: kill -9 consistency (CHAOS_KILLS, default 50) and the load
# test (LOAD_SECONDS, default 60), with their figures.
set -u
cd "$(dirname "$0")/../.."
bin=$1
pass=0
fail=0
run() {
	local out last
	out=$("$@" 2>&1)
	printf '%s\n' "$out" | grep -vE '^\s*$' | tail -n 12
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		pass=$((pass + BASH_REMATCH[1]))
		fail=$((fail + BASH_REMATCH[2]))
	else
		fail=$((fail + 1))
	fi
}
CHAOS_KILLS=${CHAOS_KILLS:-50} run python3 tests/chaos/chaos.py --agentd "$bin"
LOAD_SECONDS=${LOAD_SECONDS:-60} run python3 tests/integration/run.py \
    --agentd "$bin" -k test_load
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
