#!/usr/bin/env bash
# Every libFuzzer target for FUZZ_SECONDS (default 10) with ASan and UBSan
# (make fuzz). A target that finds a crash fails the suite.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-10}
out=$(make --no-print-directory fuzz FUZZ_SECONDS="$secs" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(==|   )' | tail -n 30
n=$(printf '%s\n' "$out" | grep -cE '^   [a-z_]+: .* exit 0$')
f=$(printf '%s\n' "$out" | grep -cE '^   [a-z_]+: .* exit [1-9]')
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
echo "$n passed, $f failed"
[ "$f" -eq 0 ]
