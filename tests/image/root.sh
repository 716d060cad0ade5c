# tests/image/root.sh: sourced by tests/image/run.sh and
# tests/agentsimage/run.sh. Runs a podman image's entrypoint from its root
# filesystem, since `podman run` fails on this machine's cgroups.
#
# The caller sets P=(podman --root … --runroot … --storage-driver …) and
# calls:
#
#   root_driver WORK        prints overlay when the kernel mounts an overlay
#                           in WORK (root on ext4, xfs…), else vfs (which
#                           works anywhere but copies every layer in full)
#   root_config TAG         sets cmd=(ENTRYPOINT CMD) and envs=(ENV) of TAG
#   root_start MNT LOG ARG… starts cmd ARG… in MNT with the image's ENV,
#                           sets pid; ENV overrides go first in ARG as
#                           NAME=VALUE words before a lone --
#   root_health URL         waits up to 10 s for URL/v1/health; prints it
#   root_stop MNT           kills pid's namespace, unmounts MNT/proc
#
# root_start: unshare --fork --kill-child --pid --mount --mount-proc=MNT/proc
# chroot MNT env -i …: a fresh pid namespace whose init is the entrypoint
# (killing pid kills every agent it started), /proc mounted for it, the
# host's network namespace (the caller reaches it on 127.0.0.1).

root_driver() {
	local d=$1/.overlay-probe rc
	rm -rf "$d"
	mkdir -p "$d/lower" "$d/upper" "$d/work" "$d/merged"
	if mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" \
	    "$d/merged" 2>/dev/null; then
		umount "$d/merged"
		rc=overlay
	else
		rc=vfs
	fi
	rm -rf "$d"
	echo "$rc"
}

root_config() {
	local json
	json=$("${P[@]}" image inspect "$1") || return 1
	mapfile -t cmd < <(printf '%s' "$json" | python3 -c '
import json, sys
c = json.load(sys.stdin)[0]["Config"]
for a in (c.get("Entrypoint") or []) + (c.get("Cmd") or []): print(a)')
	mapfile -t envs < <(printf '%s' "$json" | python3 -c '
import json, sys
for e in json.load(sys.stdin)[0]["Config"].get("Env") or []: print(e)')
	[ "${#cmd[@]}" -gt 0 ]
}

root_start() {
	local mnt=$1 log=$2 over=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		over+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	mkdir -p "$mnt/proc" "$mnt/tmp"
	unshare --fork --kill-child --pid --mount --mount-proc="$mnt/proc" \
	    chroot "$mnt" /usr/bin/env -i "${envs[@]}" "${over[@]}" \
	    "${cmd[@]}" "$@" >"$log" 2>&1 &
	pid=$!
}

root_health() {
	local h
	for _ in $(seq 1 200); do
		h=$(curl -fsS "$1/v1/health" 2>/dev/null) && {
			echo "$h"
			return 0
		}
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

root_stop() {
	if [ -n "${pid:-}" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
	[ -n "${1:-}" ] && umount "$1/proc" 2>/dev/null
	return 0
}
