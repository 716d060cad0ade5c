#!/usr/bin/env bash
# tests/ui/suite.sh AGENTD_BIN: the /ui/ inspector in headless Chromium
# (make test-ui). Installs what is missing: Debian's chromium with apt-get,
# playwright-core (pinned in package.json) with npm into node_modules/.
# Then ui.test.mjs starts AGENTD_BIN itself and drives the page; it leaves
# build/ui-screenshot.png. Prints node's test-runner summary, then the
# totals as "N passed, M failed"; exits non-zero on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
chromium=${CHROMIUM:-/usr/bin/chromium}

fail() {
	echo "not ok - $*"
	echo "0 passed, 1 failed"
	exit 1
}

if [ ! -x "$chromium" ]; then
	echo "# installing chromium with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq chromium; } >/dev/null ||
	    fail "could not install chromium"
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
	echo "# installing playwright-core with npm"
	(cd "$here" && npm install --no-audit --no-fund --loglevel=error) ||
	    fail "could not install playwright-core"
fi

mkdir -p "$top/build"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
AGENTD_BIN=$bin CHROMIUM=$chromium UI_SCREENSHOT=$top/build/ui-screenshot.png \
    node --test --test-reporter=tap "$here/ui.test.mjs" \
    "$here/crosssite.test.mjs" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$out" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$out" | tail -n 1)
pass=${pass:-0}
failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
echo "$pass passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
