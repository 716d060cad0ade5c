#!/usr/bin/env bash
# make test-image: the Dockerfile built with podman, agentd started from
# the image's root filesystem, checked over HTTP.
set -u
cd "$(dirname "$0")/../.." || exit 1
out=$(make --no-print-directory test-image 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 8
if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q PASS; then
	echo "1 passed, 0 failed"
else
	echo "0 passed, 1 failed"
	exit 1
fi
