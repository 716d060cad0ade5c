#!/usr/bin/env bash
# The tree in the one format of .clang-format, cppcheck and clang-tidy
# clean (make tidy: .clang-tidy, every warning an error).
set -u
cd "$(dirname "$0")/../.."
pass=0
fail=0
files=$(git ls-files '*.c' '*.h' | grep -v '^clients/')
if out=$(clang-format --dry-run --Werror $files 2>&1); then
	echo "ok - every C file is in the .clang-format format"
	pass=$((pass + 1))
else
	printf '%s\n' "$out" | head -20
	echo "not ok - clang-format: run clang-format -i on the files above"
	fail=$((fail + 1))
fi
srcs=$(ls compat/*.c protocol/*.c adapters/*.c supervisor/*/*.c)
if out=$(cppcheck --quiet --error-exitcode=1 \
    --enable=warning,portability,performance --inline-suppr -D__GNUC__ \
    --std=c11 -I compat -I protocol -I adapters $srcs 2>&1); then
	echo "ok - cppcheck finds nothing"
	pass=$((pass + 1))
else
	printf '%s\n' "$out" | head -30
	echo "not ok - cppcheck"
	fail=$((fail + 1))
fi
if out=$(make -s tidy 2>&1); then
	echo "ok - clang-tidy finds nothing"
	pass=$((pass + 1))
else
	printf '%s\n' "$out" | head -30
	echo "not ok - clang-tidy"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
