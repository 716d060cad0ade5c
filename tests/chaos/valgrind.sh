#!/bin/sh
# tests/chaos/valgrind.sh ARGS...: agentd under valgrind memcheck, usable
# as the --agentd binary of tests/integration/run.py. It runs
# $AGENTD_VG_BIN (default build/agentd-vg: a plain -g -O1 host build,
# without ASan, see docs/reliability.md) and writes one log per process to
# $AGENTD_VG_LOGS (default /tmp/agentd-vg). Agents the daemon spawns are
# not traced. Each log ends with valgrind's ERROR SUMMARY (no --quiet:
# tests/valgrind counts those lines). Summarise with:
#   grep -h "ERROR SUMMARY\|definitely lost\|indirectly lost" /tmp/agentd-vg/*
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${AGENTD_VG_BIN:-$here/build/agentd-vg}
logs=${AGENTD_VG_LOGS:-/tmp/agentd-vg}
mkdir -p "$logs"
exec valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
    --track-fds=no --log-file="$logs/vg.%p.log" "$bin" "$@"
