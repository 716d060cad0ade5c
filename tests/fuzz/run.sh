#!/bin/sh
# tests/fuzz/run.sh FUZZ_DIR TARGET...: run each libFuzzer target for
# $FUZZ_SECONDS (default 60) over its corpora; stop at the first crash.
# Prints, per target, libFuzzer's final stats (runs, coverage, corpus)
# and at the end one line per target for docs/reliability.md.
set -u
dir=$1
shift
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
summary=""
par=""
[ "$jobs" -gt 1 ] && par="-jobs=$jobs -workers=$jobs"
status=0
for t in "$@"; do
	work=$dir/work/$t
	mkdir -p "$work" "$dir/artifacts" "$dir/logs"
	corp="$work"
	for d in tests/fuzz/corpus/$t "$dir/seeds/$t" tests/fuzz/regress/$t; do
		[ -d "$d" ] && corp="$corp $d"
	done
	echo "== fuzz $t: ${secs}s over $corp"
	# shellcheck disable=SC2086
	"$dir/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
	    -malloc_limit_mb=2048 -max_len=262144 -len_control=200 \
	    -print_final_stats=1 $par \
	    -artifact_prefix="$dir/artifacts/$t-" $corp \
	    >"$dir/logs/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/logs/$t.log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$dir/logs/$t.log" | tail -n 1 | sed 's/cov: //')
	ncorp=$(ls "$work" | wc -l)
	line="$t: ${runs:-?} runs, cov ${cov:-?}, corpus $ncorp, exit $rc"
	echo "   $line"
	summary="$summary
$line"
	if [ "$rc" -ne 0 ]; then
		grep -a -A40 'ERROR\|check failed\|SUMMARY' "$dir/logs/$t.log" | head -n 60
		echo "fuzz $t FAILED: input in $dir/artifacts/$t-*; log $dir/logs/$t.log"
		echo "reproduce: $dir/$t $dir/artifacts/$t-crash-…; keep it in tests/fuzz/regress/$t/"
		status=1
		break
	fi
done
echo "== fuzz summary ($secs s per target)$summary"
exit $status
