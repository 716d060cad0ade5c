#!/usr/bin/env bash
# The arm64 suite of make test: make dist's linux arm64 binary (built
# here: the cross deps once into .deps/musl-aarch64-<recipe hash>, about
# 5 minutes cold on a 2-core machine, then the objects) checked under
# qemu-user-static by tests/arm64/run.sh. A suite of its own, so that its
# cold build has its own time budget.
set -u
cd "$(dirname "$0")/../.." || exit 1
if ! out=$(make --no-print-directory build/dist/agentd-linux-arm64 2>&1); then
	printf '%s\n' "$out" | tail -n 20
	echo "not ok - make build/dist/agentd-linux-arm64"
	echo "0 passed, 1 failed"
	exit 1
fi
printf '%s\n' "$out" | grep -e '^build-deps: done' || true
exec tests/arm64/run.sh build/dist/agentd-linux-arm64
