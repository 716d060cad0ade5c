#!/usr/bin/env bash
# tests/e2e/install.sh [AGENT...]
#
# Installs the pinned agent CLIs of tests/e2e/agents.lock from npm into
# tests/.agents/ (git-ignored). Default agents: claude codex. "all" means
# every agent in the lock file. Idempotent: an agent whose installed
# package already has the pinned version is skipped. Prints one line per
# agent: "NAME VERSION PATH-TO-BINARY".
#
# Exit status: 0 ok, 1 install or version check failed, 2 usage,
# 3 npm registry unreachable (CI should skip the e2e tests).
#
# Environment: AGENTS_DIR (default tests/.agents), NPM (default npm).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lock=$here/agents.lock
dir=${AGENTS_DIR:-$root/tests/.agents}
npm=${NPM:-npm}

die() { echo "install.sh: $*" >&2; exit 1; }

# lock_line NAME: the line of agents.lock for NAME (name package version bin).
lock_line() {
	awk -v n="$1" '$0 !~ /^[ \t]*#/ && $1 == n { print; exit }' "$lock"
}

if [ $# -eq 0 ]; then
	set -- claude codex
elif [ "$1" = all ]; then
	set -- $(awk '$0 !~ /^[ \t]*#/ && NF >= 3 { print $1 }' "$lock")
fi

command -v "$npm" >/dev/null 2>&1 || { echo "install.sh: npm not found: skipping" >&2; exit 3; }

# installed_version PKG: the version in tests/.agents/node_modules/PKG, or "".
installed_version() {
	local pj=$dir/node_modules/$1/package.json
	[ -f "$pj" ] || return 0
	node -e 'process.stdout.write(require(process.argv[1]).version || "")' "$pj" 2>/dev/null
}

# Work out what needs installing.
specs=()
names=()
for name in "$@"; do
	line=$(lock_line "$name")
	[ -n "$line" ] || { echo "install.sh: unknown agent '$name' (see $lock)" >&2; exit 2; }
	read -r _ pkg ver bin <<<"$line"
	names+=("$name")
	if [ "$(installed_version "$pkg")" != "$ver" ]; then
		specs+=("$pkg@$ver")
	fi
done

mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name":"agentd-e2e-agents","private":true}' >"$dir/package.json"

if [ ${#specs[@]} -gt 0 ]; then
	# Reachability first, so an offline CI run says so instead of failing.
	first=${specs[0]}
	if ! timeout 60 "$npm" view --fetch-retries=1 --fetch-timeout=20000 \
	    "$first" version >/dev/null 2>&1; then
		echo "npm registry unreachable: skipping (could not npm view $first)" >&2
		exit 3
	fi
	echo "installing: ${specs[*]}" >&2
	# Install every agent of the lock that is already present too, so npm
	# does not prune them (npm install keeps package.json deps; --save
	# records each pin there).
	timeout 900 "$npm" install --no-audit --no-fund --save --save-exact \
	    --prefix "$dir" "${specs[@]}" >&2 ||
	    die "npm install failed: ${specs[*]}"
fi

rc=0
for name in "${names[@]}"; do
	read -r _ pkg ver bin <<<"$(lock_line "$name")"
	bin=${bin:-$name}
	path=$dir/node_modules/.bin/$bin
	got=$(installed_version "$pkg")
	if [ "$got" != "$ver" ]; then
		echo "install.sh: $name: installed version '$got', want $ver" >&2
		rc=1
		continue
	fi
	if [ ! -x "$path" ]; then
		echo "install.sh: $name: no binary at $path" >&2
		rc=1
		continue
	fi
	# The binary must actually run: codex and claude ship their native
	# executables as optional platform packages.
	case $name in
	claude | codex | opencode | gemini | pi)
		if ! out=$(IS_SANDBOX=1 HOME=${TMPDIR:-/tmp} timeout 60 "$path" --version 2>&1); then
			echo "install.sh: $name: '$path --version' failed: $out" >&2
			rc=1
			continue
		fi
		;;
	esac
	echo "$name $ver $path"
done
exit $rc
