#!/usr/bin/env bash
# tests/fresh/suite.sh [AGENTD_BIN]: the README's two commands on a fresh
# machine (issue 19). A minimal Debian 12 root (debootstrap --variant=
# minbase, shared with tests/image: build/image/base.tar), with only make
# and git added (to have a clone and something to run it with), gets a
# clean clone of this repository's HEAD; in that root, as root, it runs
# exactly
#	make run		(until /v1/health answers on 127.0.0.1:2468)
#	make test SUITES=
# Each installs what it needs itself. The root shares the network with the
# host (apt-get reaches the archive), not its mounts or processes (unshare
# and chroot). Slow: a fresh toolchain, a musl build and the suite, about
# 8 minutes on this machine. Ends with "N passed, M failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=$top/build/fresh
root=$work/root
suite=${DEBIAN_SUITE:-bookworm}
pass=0
fail=0
. "$top/tests/image/base.sh"

say() { echo "fresh: $*"; }
result() {		# ok|not name
	if [ "$1" = ok ]; then
		pass=$((pass + 1))
		echo "ok - $2"
	else
		fail=$((fail + 1))
		echo "not ok - $2"
	fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
inroot() {		# run a shell command in the root, in new mount+pid namespaces
	unshare --fork --kill-child --pid --mount --mount-proc="$root/proc" \
	    sh -c 'mount --rbind /dev "$1/dev" && shift && exec chroot "$@"' \
	    sh "$root" "$root" /usr/bin/env -i HOME=/root \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    LANG=C.UTF-8 /bin/sh -c "$1"
}

[ "$(id -u)" -eq 0 ] || { result not "needs root (debootstrap, chroot)"; finish; }
if curl -fsS -m 1 http://127.0.0.1:2468/v1/health >/dev/null 2>&1; then
	result not "127.0.0.1:2468 is taken: make run serves there"
	finish
fi
t0=$(date +%s)
say "base root (debootstrap minbase $suite, once, into build/image/base.tar)"
image_base_tar "$top/build/image" "$suite" ||
    { result not "no base root"; finish; }
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$top/build/image/base.tar" ||
    { result not "unpacking the base root"; finish; }
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The archive the machine uses: the fresh root's own sources may differ.
cp /etc/apt/sources.list "$root/etc/apt/" 2>/dev/null
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null
say "setup: apt-get install make git (nothing else)"
inroot 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make git ca-certificates >/dev/null' \
    >"$work/setup.log" 2>&1 || { tail -20 "$work/setup.log"; result not "apt-get install make git"; finish; }
say "setup: git clone (HEAD of $top)"
git clone -q --no-hardlinks "$top" "$root/src/agentd" ||
    { result not "git clone"; finish; }

say "\$ make run"
inroot 'cd /src/agentd && exec make run' >"$work/run.log" 2>&1 &
runpid=$!
ok=
for _ in $(seq 1 1200); do	# the first run builds the toolchain
	if curl -fsS -m 1 http://127.0.0.1:2468/v1/health 2>/dev/null |
	    grep -q '"status":"ok"'; then
		ok=1
		break
	fi
	kill -0 "$runpid" 2>/dev/null || break
	sleep 0.5
done
# $runpid is the subshell that runs inroot; its child is unshare, which
# ignores SIGTERM while it waits, and whose death (--kill-child) ends the
# root's pid namespace, agentd with it. Killing the subshell alone left
# agentd serving on 2468 after the suite.
pkill -KILL -P "$runpid" 2>/dev/null
kill "$runpid" 2>/dev/null
wait "$runpid" 2>/dev/null
if [ -n "$ok" ]; then
	result ok "make run on a fresh root answers /v1/health ($(( $(date +%s) - t0 )) s since the start)"
else
	tail -30 "$work/run.log"
	result not "make run on a fresh root"
	finish
fi

say "\$ make test SUITES="
t1=$(date +%s)
if inroot 'cd /src/agentd && make test SUITES=' >"$work/test.log" 2>&1; then
	tail -1 "$work/test.log"
	result ok "make test SUITES= on a fresh root ($(( $(date +%s) - t1 )) s)"
else
	grep '^not ok' "$work/test.log" | head -20
	tail -5 "$work/test.log"
	result not "make test SUITES= on a fresh root"
fi
say "$(( $(date +%s) - t0 )) s in all"
rm -rf "$root"
finish
