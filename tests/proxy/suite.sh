#!/usr/bin/env bash
# tests/proxy/suite.sh AGENTD_BIN: agentd behind a TLS-terminating reverse
# proxy, as a sandbox provider's preview URL puts it (issue 19): Debian's
# nginx with a self-signed certificate made here, in front of a real
# agentd. Installs nginx-light with apt-get where missing (as root).
# test_proxy.py checks REST, SSE arriving during a turn (with the delay per
# event through nginx against direct), a WebSocket session with commands,
# ?access_token, a reconnect with Last-Event-ID after nginx drops the
# connection; inspector.test.mjs drives the inspector through nginx in
# headless Chromium. Ends with "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	echo "# installing nginx-light with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq nginx-light; } \
	    >/dev/null 2>&1 || { echo "not ok - could not install nginx"
		echo "0 passed, 1 failed"; exit 1; }
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
python3 "$here/test_proxy.py" --agentd "$bin" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$out" | tail -n 1)
f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$out" | tail -n 1)
p=${p:-0}
f=${f:-1}
# The inspector through the proxy, in Chromium (tests/ui installs it);
# inspector.test.mjs starts agentd and nginx with proxy.py --hold.
if [ -x /usr/bin/chromium ] && [ -f "$top/tests/ui/node_modules/playwright-core/package.json" ]; then
	if AGENTD_BIN=$bin NODE_PATH=$top/tests/ui/node_modules \
	    node --test --test-reporter=tap "$here/inspector.test.mjs" \
	    >"$out" 2>&1; then
		p=$((p + 1))
		echo "ok - the inspector through nginx in Chromium"
	else
		cat "$out"
		f=$((f + 1))
		echo "not ok - the inspector through nginx in Chromium"
	fi
else
	echo "not ok - chromium or playwright-core missing (run tests/ui/suite.sh first)"
	f=$((f + 1))
fi
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
