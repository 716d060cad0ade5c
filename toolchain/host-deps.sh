#!/usr/bin/env bash
# toolchain/host-deps.sh STAMP [PACKAGE...]: what `make test` and `make
# dev` build with on the host, besides the static musl build
# (build-deps.sh): by default Debian's -dev packages of the same three
# libraries for the unit tests, fuzz replays and ASan builds, and python3
# for the integration tests; `make fuzz` names clang and its libFuzzer
# runtime. Installed with apt-get when they are missing and we are root (as
# build-deps.sh does for musl); otherwise says exactly what to install.
# Touches STAMP.
set -eu
stamp=$1
shift
PKGS=${*:-build-essential libev-dev libcjson-dev libwebsockets-dev python3}

missing=()
for p in $PKGS; do
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null |
	    grep -q '^ii' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "host-deps: missing packages: ${missing[*]}" >&2
		echo "host-deps: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "host-deps: apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$(dirname "$stamp")"
touch "$stamp"
