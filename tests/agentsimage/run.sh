#!/usr/bin/env bash
# tests/agentsimage/run.sh [AGENTD_BIN]: make test-agents-image.
#
# Builds toolchain/Dockerfile.agents with podman and runs real Claude Code
# and Codex turns through agentd inside the image's root filesystem,
# against tests/mockmodel/server.py on the host:
#
#  1. apt-get installs podman and debootstrap if missing (needs root).
#  2. The base: IMAGE_BASE if set (a registry image podman can pull), else
#     build/image/base.tar (tests/image/base.sh, shared with make
#     test-image), imported once.
#  3. podman build --isolation=chroot: buildah runs the RUN steps chrooted,
#     which needs no cgroups (podman run does, and fails here). podman's
#     storage stays in build/agents-image/ between runs (overlay where the
#     kernel mounts one there, else vfs) and npm's cache mount in
#     build/agents-image/tmp/, so a second build reuses the apt layer and
#     reinstalls the CLIs from the cache only when agentd changed.
#     AGENTS_IMAGE_COLD=1 wipes both first. The build's npm trusts the
#     host's CA bundle (NODE_EXTRA_CA_CERTS on a read-only volume, for the
#     build only): where the registry is reached through a TLS-intercepting
#     proxy, the image's own Debian certificates do not know its CA.
#  4. Reports the build time, the image's size and its layers.
#  5. podman create + mount; the image's ENTRYPOINT, CMD and ENV in that
#     root (tests/image/root.sh) with a token, --no-install (a CLI missing
#     from the image fails the session's create instead of being installed
#     now) and 127.0.0.1 on a free port.
#  6. tests/agentsimage/turns.py: the CLIs found under /opt/agentd/agents,
#     then a turn of each that writes a file (the e2e "write" scenario);
#     AGENTS_IMAGE_AGENTS=claude,codex (the default) names the agents.
#
# Prints "ok - …" per check and ends with "N passed, M failed". Takes
# 10-20 minutes cold on this 2-core machine (apt, about 700 MB from npm),
# a few minutes warm: not in make test's SUITES (docs/deploy.md).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${1:-$top/build/dist/agentd}
work=$top/build/agents-image
suite=${DEBIAN_SUITE:-bookworm}
tag=localhost/agentd-agents:test
pid= ctr= mnt= pass=0 failed=0

. "$top/tests/image/base.sh"
. "$top/tests/image/root.sh"

log() { echo "agents-image: $*"; }
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; failed=$((failed + 1)); }
finish() {
	echo "$pass passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
fail() {			# a step that the rest needs failed
	bad "$*"
	[ -f "$work/agentd.log" ] && tail -n 20 "$work/agentd.log"
	finish
}
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

mkdir -p "$work"
[ "$(id -u)" -eq 0 ] || fail "needs root (podman storage, debootstrap, chroot)"
if [ "${AGENTS_IMAGE_COLD:-0}" = 1 ]; then
	log "AGENTS_IMAGE_COLD=1: no layer or npm cache"
	for d in "$work"/storage-*; do
		[ -d "$d" ] || continue
		podman --root "$d" --runroot "$work/runroot" \
		    --storage-driver "${d##*-}" rmi -af >/dev/null 2>&1
	done
	rm -rf "$work"/storage-* "$work/runroot" "$work/tmp"
fi
driver=$(root_driver "$work")
# The driver is in the storage's name: podman refuses a storage made by
# another driver.
P=(podman --root "$work/storage-$driver" --runroot "$work/runroot"
    --storage-driver "$driver" --cgroup-manager cgroupfs --events-backend file)

cleanup() {
	root_stop "$mnt"
	if [ -n "$ctr" ]; then
		"${P[@]}" unmount "$ctr" >/dev/null 2>&1
		"${P[@]}" rm -f "$ctr" >/dev/null 2>&1
	fi
}
trap cleanup EXIT

[ -x "$bin" ] || fail "no $bin: run make dist"
need=
command -v podman >/dev/null 2>&1 || need="$need podman"
[ -z "${IMAGE_BASE:-}" ] && ! command -v debootstrap >/dev/null 2>&1 &&
    need="$need debootstrap"
if [ -n "$need" ]; then
	log "apt-get install$need"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need \
	    >"$work/apt.log" 2>&1 || { apt-get update -q >/dev/null 2>&1 &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need \
	    >"$work/apt.log" 2>&1; } || fail "apt-get install$need failed"
fi

# 2. The base image, imported once into the kept storage.
if [ -n "${IMAGE_BASE:-}" ]; then
	base=$IMAGE_BASE
else
	base=localhost/agentd-base:$suite
	if [ ! -s "$top/build/image/base.tar" ]; then
		log "debootstrap --variant=minbase $suite (once, into build/image/base.tar)"
		image_base_tar "$top/build/image" "$suite" || fail "no base root"
	fi
	if ! "${P[@]}" image exists "$base"; then
		"${P[@]}" import -q "$top/build/image/base.tar" "$base" \
		    >"$work/import.log" 2>&1 || fail "podman import failed"
	fi
fi

# 3. Build. A leftover container from an interrupted run holds the image.
"${P[@]}" rm -af >/dev/null 2>&1
rm -rf "$work/ctx"
mkdir -p "$work/ctx/build/dist" "$work/tmp"
cp "$bin" "$work/ctx/build/dist/agentd"
ca=()
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
	ca=(--build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.pem
	    -v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.pem:ro)
fi
log "podman build --isolation=chroot -f toolchain/Dockerfile.agents ($driver storage)"
t0=$EPOCHREALTIME
TMPDIR=$work/tmp "${P[@]}" build --isolation=chroot --pull=never --layers \
    --build-arg "BASE=$base" "${ca[@]}" -f "$top/toolchain/Dockerfile.agents" \
    -t "$tag" "$work/ctx" >"$work/build.log" 2>&1 ||
    { tail -n 30 "$work/build.log"; fail "podman build failed (build/agents-image/build.log)"; }
build_s=$(elapsed "$t0")
steps=$(($(grep -c '^STEP ' "$work/build.log") - 1))
cached=$(grep -c '^--> Using cache' "$work/build.log")
ok "podman build: $build_s s ($cached of the $steps steps after FROM from the layer cache)"
grep '^installed: ' "$work/build.log" | sed 's/^/agents-image: /'
"${P[@]}" image prune -f >/dev/null 2>&1	# the previous build's layers

# 4. Size.
size=$("${P[@]}" image inspect --format '{{.Size}}' "$tag")
log "image size: $size bytes ($((size / 1000000)) MB, uncompressed), layers:"
"${P[@]}" history --format '{{.Size}}	{{.CreatedBy}}' "$tag" |
    awk -F'\t' '$1 != "0B" && $1 != "0 B" { printf "agents-image:   %8s  %.70s\n", $1, $2 }'

# 5. Mount the image's root and run its entrypoint there.
ctr=$("${P[@]}" create "$tag") || fail "podman create failed"
mnt=$("${P[@]}" mount "$ctr") || fail "podman mount failed"
root_config "$tag" || fail "the image has no ENTRYPOINT/CMD"
log "agents in the image: $(du -sh "$mnt/opt/agentd/agents" | cut -f1)"
image_path=
for e in "${envs[@]}"; do
	case $e in PATH=*) image_path=${e#PATH=} ;; esac
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
root_start "$mnt" "$work/agentd.log" HOME=/root AGENTD_TOKEN="$token" -- \
    --host 127.0.0.1 --port "$port" --no-install
health=$(root_health "http://127.0.0.1:$port") ||
    fail "no health answer from the image's agentd"
ok "the image's agentd answers: $health"

# 6. The turns.
python3 "$here/turns.py" --port "$port" --token "$token" --root "$mnt" \
    --path "$image_path" --log "$work/mockmodel.log" \
    ${AGENTS_IMAGE_AGENTS:+--agents "$AGENTS_IMAGE_AGENTS"} >"$work/turns.out" 2>&1
cat "$work/turns.out"
pass=$((pass + $(grep -c '^ok - ' "$work/turns.out")))
failed=$((failed + $(grep -c '^not ok - ' "$work/turns.out")))
if ! grep -q '^ok - ' "$work/turns.out" && ! grep -q '^not ok - ' "$work/turns.out"; then
	bad "turns.py reported nothing"
fi
[ "$failed" -eq 0 ] || tail -n 20 "$work/agentd.log"
finish
