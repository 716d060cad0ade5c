#!/usr/bin/env bash
# tests/openapi/run.sh AGENTD_BIN
#
# Checks docs/openapi.json with node's test runner (openapi.test.mjs):
# a real OpenAPI 3.1 validator and ajv from npm, installed once into the
# git-ignored build/npm/openapi, then the document against the routes of
# supervisor/http/api.c and a live AGENTD_BIN. Ends with "N passed, M failed"
# for tests/run.sh. Without node or a reachable npm registry it says why
# and counts nothing (0 passed, 0 failed).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${1:-$top/build/agentd}
dir=$top/build/npm/openapi

skip() {
	echo "# SKIP openapi: $*"
	echo "0 passed, 0 failed"
	exit 0
}

command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
mkdir -p "$dir"
if ! cmp -s "$here/package.json" "$dir/package.json" ||
    [ ! -d "$dir/node_modules/ajv" ]; then
	cp "$here/package.json" "$dir/package.json"
	if ! (cd "$dir" && timeout 300 npm install --no-audit --no-fund \
	    --no-update-notifier --loglevel=error >npm.log 2>&1); then
		rm -f "$dir/package.json"
		skip "npm install failed (registry unreachable?): $(tail -n 3 \
		    "$dir/npm.log" | tr '\n' ' ')"
	fi
fi
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
out=$(cd "$top" && AGENTD_BIN=$bin OPENAPI_NODE_MODULES=$dir/node_modules \
    node --test --test-reporter=tap "$here/openapi.test.mjs" 2>&1)
rc=$?
# TAP without its bookkeeping: ok / not ok lines and failure details.
printf '%s\n' "$out" | grep -v -e '^# \(Subtest:\|tests\|suites\|pass\|fail\|cancelled\|skipped\|todo\|duration_ms\) ' \
    -e '^ *\(---\|\.\.\.\|duration_ms: .*\)$' -e '^TAP version'
pass=$(printf '%s\n' "$out" | sed -n 's/^# pass \([0-9]*\)$/\1/p' | tail -n 1)
fail=$(printf '%s\n' "$out" | sed -n 's/^# fail \([0-9]*\)$/\1/p' | tail -n 1)
cancelled=$(printf '%s\n' "$out" | sed -n 's/^# cancelled \([0-9]*\)$/\1/p' | tail -n 1)
pass=${pass:-0}
fail=$(( ${fail:-0} + ${cancelled:-0} ))
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
