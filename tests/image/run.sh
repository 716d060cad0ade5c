#!/usr/bin/env bash
# tests/image/run.sh [AGENTD_BIN]: the image test behind `make test-image`.
#
#  1. apt-get installs podman and debootstrap if missing (needs root).
#  2. The base: IMAGE_BASE if set (a registry image podman can pull),
#     else a minbase Debian bookworm made by debootstrap from the Debian
#     mirror and `podman import`ed (no container registry is reachable
#     from this machine; the tarball is kept in build/image/base.tar).
#  3. podman build -f toolchain/Dockerfile --build-arg BASE=<base>, with
#     AGENTD_BIN as build/dist/agentd in a small context; storage driver
#     overlay where the kernel mounts one in build/image/, else vfs.
#  4. podman create + podman mount, then the image's own ENTRYPOINT, CMD
#     and ENV run in that root with unshare --fork --kill-child --pid --mount
#     --mount-proc chroot (podman run fails on this machine's cgroups;
#     tests/image/root.sh).
#     The network namespace is the host's, so the checks run from here:
#     /v1/health, 401 without the token, a mock session's turn.
#  5. Cleans up (the process tree, the mount, podman's storage under
#     build/image/) and prints PASS or FAIL.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${1:-$top/build/dist/agentd}
work=$top/build/image
suite=${DEBIAN_SUITE:-bookworm}
tag=localhost/agentd:test
pid= ctr= mnt=

log() { echo "image: $*"; }

. "$here/base.sh"
. "$here/root.sh"

mkdir -p "$work"
driver=$(root_driver "$work")
P=(podman --root "$work/storage" --runroot "$work/runroot"
    --storage-driver "$driver" --cgroup-manager cgroupfs --events-backend file)

fail() {
	echo "image: $*" >&2
	[ -f "$work/agentd.log" ] && tail -n 20 "$work/agentd.log" >&2
	echo "FAIL"
	exit 1
}
cleanup() {
	root_stop "$mnt"
	if [ -n "$ctr" ]; then
		"${P[@]}" unmount "$ctr" >/dev/null 2>&1
		"${P[@]}" rm -f "$ctr" >/dev/null 2>&1
	fi
	"${P[@]}" rmi -af >/dev/null 2>&1
	rm -rf "$work/storage" "$work/runroot" "$work/ctx"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "needs root (podman storage, debootstrap, chroot)"
[ -x "$bin" ] || fail "no $bin: run make dist"
need=
command -v podman >/dev/null 2>&1 || need="$need podman"
[ -z "${IMAGE_BASE:-}" ] && ! command -v debootstrap >/dev/null 2>&1 &&
    need="$need debootstrap"
if [ -n "$need" ]; then
	log "apt-get install$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need \
	    >"$work.apt.log" 2>&1 || { apt-get update -q >/dev/null 2>&1 &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need \
	    >"$work.apt.log" 2>&1; } || fail "apt-get install$need failed"
fi
cleanup

# 2. The base image.
if [ -n "${IMAGE_BASE:-}" ]; then
	base=$IMAGE_BASE
else
	base=localhost/agentd-base:$suite
	if [ ! -s "$work/base.tar" ]; then
		log "debootstrap --variant=minbase $suite (once, into build/image/base.tar)"
		image_base_tar "$work" "$suite" || fail "no base root"
	fi
	"${P[@]}" import -q "$work/base.tar" "$base" >"$work/import.log" 2>&1 ||
	    fail "podman import failed"
fi

# 3. Build.
mkdir -p "$work/ctx/build/dist"
cp "$bin" "$work/ctx/build/dist/agentd"
log "podman build -f toolchain/Dockerfile --build-arg BASE=$base"
"${P[@]}" build -q --pull=never --build-arg "BASE=$base" \
    -f "$top/toolchain/Dockerfile" -t "$tag" "$work/ctx" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; fail "podman build failed"; }

# 4. Mount the image's root and run its entrypoint there.
ctr=$("${P[@]}" create "$tag") || fail "podman create failed"
mnt=$("${P[@]}" mount "$ctr") || fail "podman mount failed"
root_config "$tag" || fail "the image has no ENTRYPOINT/CMD"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
log "chroot $mnt: ${cmd[*]} --port $port (AGENTD_TOKEN set, $driver storage)"
root_start "$mnt" "$work/agentd.log" HOME=/root AGENTD_TOKEN="$token" -- \
    --port "$port"

url=http://127.0.0.1:$port
health=$(root_health "$url")
case $health in
*'"status":"ok"'*) log "health: $health" ;;
*) fail "no health answer from the image's agentd on $url" ;;
esac
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/sessions")
[ "$code" = 401 ] || fail "GET /v1/sessions without the token: $code, not 401"
auth=(-H "Authorization: Bearer $token")
curl -fsS "${auth[@]}" --json '{"agent":"mock"}' "$url/v1/sessions/img" \
    >/dev/null || fail "creating a mock session failed"
curl -fsS "${auth[@]}" "$url/v1/sessions/img/messages" \
    --json '{"message":"hello from the image"}' || fail "posting a message failed"
ok=
for _ in $(seq 1 100); do
	ev=$(curl -fsS "${auth[@]}" "$url/v1/sessions/img/events")
	case $ev in *'"turn.ended"'*) ok=1; break ;; esac
	sleep 0.05
done
[ -n "$ok" ] || fail "the mock session's turn did not end: $ev"
case $ev in
*'echo: hello from the image'*) log "mock session: turn ended with its echo" ;;
*) fail "no echo in the mock session's events" ;;
esac
[ -d "$mnt/var/lib/agentd/sessions/img" ] ||
    fail "no session dir under /var/lib/agentd in the image"
echo "PASS"
