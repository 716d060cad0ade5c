#!/usr/bin/env bash
# tests/metrics/suite.sh AGENTD_BIN: GET /v1/metrics through Debian's
# `promtool check metrics` (issue 20). Installs the prometheus package,
# which ships promtool, with apt-get where it is missing (as root; no
# service is started: policy-rc.d refuses it), then runs
# tests/integration/test_ops.py::test_metrics with promtool required.
# Ends with "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

if ! command -v promtool >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok - promtool missing and not root to install it"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "# installing prometheus (for promtool) with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	added=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		added=1
	fi
	{ apt-get update -qq &&
	    apt-get install -y -qq --no-install-recommends prometheus; } \
	    >/dev/null 2>&1
	rc=$?
	[ -n "$added" ] && rm -f /usr/sbin/policy-rc.d
	if [ $rc -ne 0 ] || ! command -v promtool >/dev/null; then
		echo "not ok - could not install prometheus (promtool)"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi
AGENTD_REQUIRE_PROMTOOL=1 exec python3 "$top/tests/integration/run.py" \
    --agentd "$bin" -k test_ops.py::test_metrics
