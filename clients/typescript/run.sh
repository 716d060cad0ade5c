#!/usr/bin/env bash
# clients/typescript/run.sh [AGENTD_BIN]
#
# Tests the client with node's test runner against a real agentd
# (test/*.test.mjs import the checked-in dist/; package.test.mjs packs it
# and installs it into an empty project; examples.test.mjs opens
# examples/web/follow.html in headless Chromium with playwright-core). With npm reachable it
# first compiles src/index.ts with the pinned typescript (installed once
# into the git-ignored build/npm/ts-client) and fails if dist/ differs:
# after editing src/, run `run.sh --build` to regenerate dist/. Ends with
# "N passed, M failed" for tests/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
dir=$top/build/npm/ts-client
build=0
if [ "${1:-}" = "--build" ]; then
	build=1
	shift
fi
bin=${1:-$top/build/agentd}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
pass=0
fail=0

if ! command -v node >/dev/null 2>&1; then
	echo "# SKIP typescript client: node is not installed"
	echo "0 passed, 0 failed"
	exit 0
fi

# tsc, from npm; empty if npm cannot get it.
tsc=
if command -v npm >/dev/null 2>&1; then
	mkdir -p "$dir"
	if ! cmp -s "$here/package.json" "$dir/package.json" ||
	    [ ! -x "$dir/node_modules/.bin/tsc" ]; then
		cp "$here/package.json" "$dir/package.json"
		(cd "$dir" && timeout 300 npm install --no-audit --no-fund \
		    --no-update-notifier --ignore-scripts --loglevel=error \
		    >npm.log 2>&1) || rm -f "$dir/package.json"
	fi
	[ -x "$dir/node_modules/.bin/tsc" ] && tsc=$dir/node_modules/.bin/tsc
fi
if [ -z "$tsc" ]; then
	echo "# SKIP tsc: typescript could not be installed from npm;" \
	    "testing the checked-in dist/ as it is"
elif [ "$build" -eq 1 ]; then
	(cd "$here" && "$tsc" -p .) || exit 1
	echo "dist/ rebuilt"
	exit 0
else
	rm -rf "$dir/out"
	if (cd "$here" && "$tsc" -p . --outDir "$dir/out"); then
		if diff -r "$dir/out" "$here/dist" >/dev/null; then
			echo "ok - src/index.ts compiles (tsc --strict) to dist/"
			pass=$((pass + 1))
		else
			echo "not ok - dist/ is not the output of src/index.ts:" \
			    "run clients/typescript/run.sh --build"
			fail=$((fail + 1))
		fi
	else
		echo "not ok - src/index.ts does not compile"
		fail=$((fail + 1))
	fi
fi

# WebSocket is global from node 22, behind a flag in node 20.10+; without
# it the ws tests are left out and events() uses SSE.
flags=
if node --experimental-websocket -e '' 2>/dev/null &&
    ! node -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)'; then
	flags=--experimental-websocket
fi
out=$(cd "$here" && AGENTD_BIN=$bin TS_CLIENT_NPM_DIR=$dir node $flags \
    --test --test-reporter=tap test/*.test.mjs 2>&1)
rc=$?
printf '%s\n' "$out" | grep -v -e '^# \(Subtest:\|tests\|suites\|pass\|fail\|cancelled\|skipped\|todo\|duration_ms\) ' \
    -e '^ *\(---\|\.\.\.\|duration_ms: .*\)$' -e '^TAP version' \
    -e 'ExperimentalWarning' -e 'node --trace-warnings'
p=$(printf '%s\n' "$out" | sed -n 's/^# pass \([0-9]*\)$/\1/p' | tail -n 1)
f=$(printf '%s\n' "$out" | sed -n 's/^# fail \([0-9]*\)$/\1/p' | tail -n 1)
c=$(printf '%s\n' "$out" | sed -n 's/^# cancelled \([0-9]*\)$/\1/p' | tail -n 1)
pass=$((pass + ${p:-0}))
f=$(( ${f:-0} + ${c:-0} ))
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
fail=$((fail + f))
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
