#!/usr/bin/env bash
# The tree in the one format of .clang-format, cppcheck and clang-tidy
# clean (make tidy: .clang-tidy, every warning an error).
set -u
cd "$(dirname "$0")/../.."
pass=0
fail=0

# check OK NOTOK LINES CMD...: run CMD; on failure show its first LINES.
check() {
	local ok=$1 notok=$2 lines=$3 out
	shift 3
	if out=$("$@" 2>&1); then
		echo "ok - $ok"
		pass=$((pass + 1))
	else
		printf '%s\n' "$out" | head -"$lines"
		echo "not ok - $notok"
		fail=$((fail + 1))
	fi
}

files=$(git ls-files '*.c' '*.h' | grep -v '^clients/')
srcs=$(ls compat/*.c protocol/*.c adapters/*.c supervisor/*/*.c)
# shellcheck disable=SC2086 # the file lists are split on purpose
check "every C file is in the .clang-format format" \
    "clang-format: run clang-format -i on the files above" 20 \
    clang-format --dry-run --Werror $files
# shellcheck disable=SC2086
check "cppcheck finds nothing" "cppcheck" 30 \
    cppcheck --quiet --error-exitcode=1 \
    --enable=warning,portability,performance --inline-suppr -D__GNUC__ \
    --std=c11 -I compat -I protocol -I adapters $srcs
check "clang-tidy finds nothing" "clang-tidy" 30 make -s tidy
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
