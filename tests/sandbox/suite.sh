#!/usr/bin/env bash
# tests/sandbox/suite.sh AGENTD_BIN
#
# The unmodified sandbox-agent 0.4.2 TypeScript SDK against agentd's
# files, processes and terminals (/v1/fs, /v1/processes): installs it from
# npm into tests/sandbox/sdk/ (git-ignored) once, with ws for node
# versions without a global WebSocket, then runs sdk.test.mjs with node's
# test runner. Ends with one line "N passed, M failed"; when npm cannot
# be reached it says why and reports "0 passed, 0 failed".
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 AGENTD_BIN" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
sdk=$here/sdk
pins="sandbox-agent@0.4.2 ws@8.18.0"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "skip - node or npm is not installed"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -f "$sdk/node_modules/sandbox-agent/package.json" ] ||
    ! grep -q '"version": "0.4.2"' \
    "$sdk/node_modules/sandbox-agent/package.json" ||
    [ ! -f "$sdk/node_modules/ws/package.json" ]; then
	mkdir -p "$sdk"
	[ -f "$sdk/package.json" ] ||
	    echo '{"name":"agentd-sandbox-sdk","private":true}' >"$sdk/package.json"
	# zod: the peer dependency of @agentclientprotocol/sdk; the other
	# peers are sandbox providers the test does not use.
	# shellcheck disable=SC2086
	if ! out=$(cd "$sdk" && timeout 300 npm install --no-audit --no-fund \
	    --legacy-peer-deps --loglevel=error $pins zod 2>&1); then
		if ! timeout 20 npm view sandbox-agent@0.4.2 version \
		    >/dev/null 2>&1; then
			echo "skip - npm registry unreachable: $pins not installed"
			echo "0 passed, 0 failed"
			exit 0
		fi
		printf '%s\n' "$out"
		echo "not ok - npm install $pins failed"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

out=$(AGENTD_BIN=$bin node --test --test-reporter=tap \
    "$here/sdk.test.mjs" 2>&1)
rc=$?
printf '%s\n' "$out"
pass=$(printf '%s\n' "$out" | sed -n 's/^# pass \([0-9]*\)$/\1/p' | tail -n 1)
fail=$(printf '%s\n' "$out" | sed -n 's/^# fail \([0-9]*\)$/\1/p' | tail -n 1)
pass=${pass:-0}
fail=${fail:-0}
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
