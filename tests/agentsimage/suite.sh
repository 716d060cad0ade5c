#!/usr/bin/env bash
# tests/agentsimage/suite.sh: make test-agents-image as a suite of make test
# (`make test SUITES=agentsimage SUITE_TIMEOUT=3600`). Not in the default
# SUITES: a cold build takes 10-20 minutes and about 700 MB from npm.
set -u
cd "$(dirname "$0")/../.."
if ! out=$(make --no-print-directory dist 2>&1); then
	printf '%s\n' "$out" | tail -n 20
	echo "not ok - make dist"
	echo "0 passed, 1 failed"
	exit 1
fi
exec tests/agentsimage/run.sh build/dist/agentd
