#!/bin/sh
# toolchain/install.sh: put the static agentd binary on PATH.
#
#   toolchain/install.sh [--prefix DIR] [--sha256 HEX] [SOURCE]
#
# SOURCE is a local file or an http(s) URL (fetched with curl or wget);
# default: build/dist/agentd, else build/agentd, beside this script's
# tree. The binary goes to DIR/bin/agentd (default DIR: /usr/local when
# writable, else ~/.local), is checked with --sha256 when given, must run
# (`agentd version`), and is replaced atomically. POSIX sh: works in
# Debian, Alpine and busybox images, as root or not.
set -eu

prefix=
sha=
src=
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--sha256) sha=${2:?--sha256 needs a hash}; shift 2 ;;
	--sha256=*) sha=${1#*=}; shift ;;
	-h|--help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "install.sh: unknown option $1" >&2; exit 2 ;;
	*) src=$1; shift ;;
	esac
done

die() { echo "install.sh: $*" >&2; exit 1; }

if [ -z "$src" ]; then
	top=$(cd "$(dirname "$0")/.." && pwd)
	for f in "$top/build/dist/agentd" "$top/build/agentd"; do
		if [ -f "$f" ]; then src=$f; break; fi
	done
	[ -n "$src" ] || die "no build/dist/agentd: run 'make dist' or give a SOURCE"
fi
if [ -z "$prefix" ]; then
	if [ -w /usr/local/bin ] || { [ ! -e /usr/local/bin ] && [ -w /usr/local ]; }; then
		prefix=/usr/local
	else
		prefix=${HOME:?HOME is not set}/.local
	fi
fi
bindir=$prefix/bin
mkdir -p "$bindir" || die "cannot create $bindir"
tmp=$bindir/.agentd.$$
trap 'rm -f "$tmp"' EXIT INT TERM

case $src in
http://*|https://*)
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 3 -o "$tmp" "$src" || die "cannot fetch $src"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$tmp" "$src" || die "cannot fetch $src"
	else
		die "neither curl nor wget to fetch $src"
	fi ;;
*)
	[ -f "$src" ] || die "no such file: $src"
	cp "$src" "$tmp" ;;
esac

if [ -n "$sha" ]; then
	got=$(sha256sum "$tmp" 2>/dev/null | cut -d' ' -f1) ||
	    die "sha256sum is needed for --sha256"
	[ "$got" = "$sha" ] || die "sha256 mismatch: got $got, want $sha"
fi
chmod 0755 "$tmp"
version=$("$tmp" version 2>&1) || die "the binary does not run here: $version"
mv -f "$tmp" "$bindir/agentd"
trap - EXIT INT TERM
echo "installed $bindir/agentd ($version)"

case ":${PATH:-}:" in
*":$bindir:"*) ;;
*) echo "note: $bindir is not on PATH; add it: export PATH=\"$bindir:\$PATH\"" ;;
esac
