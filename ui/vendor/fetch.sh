#!/bin/sh
# ui/vendor/fetch.sh: fetch again the xterm.js files the inspector's
# Terminal view embeds, from npm, and check them.
#
# Each package is fetched with `npm pack` as the tarball npm publishes;
# its sha512 must be the integrity recorded below (what `npm view
# <pkg>@<version> dist.integrity` says), or nothing is written. Only the
# built ES modules, the stylesheet and the licences are kept: the
# sources, typings and source maps stay out of the binary. To move to
# another version, change the version and its integrity together.
set -eu

XTERM=@xterm/xterm@6.0.0
XTERM_SHA512=TQwDdQGtwwDt+2cgKDLn0IRaSxYu1tSUjgKarSDkUM0ZNiSRXFpjxEsvc/Zgc5kq5omJ+V0a8/kIM2WD3sMOYg==
FIT=@xterm/addon-fit@0.11.0
FIT_SHA512=jYcgT6xtVYhnhgxh3QgYDnnNMYTcf8ElbxxFzX0IZo+vabQqSPAjC3c1wJrKB5E19VwQei89QCiZZP86DCPF7g==

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fetch PKG SHA512 DIR: the checked tarball of PKG unpacked in DIR.
fetch() {
	mkdir -p "$tmp/$3"
	tgz=$(cd "$tmp" && npm pack --silent "$1" | tail -n 1)
	got=$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w 0)
	if [ "$got" != "$2" ]; then
		echo "fetch.sh: $1: sha512 $got, expected $2" >&2
		exit 1
	fi
	tar -xzf "$tmp/$tgz" -C "$tmp/$3"
	echo "fetch.sh: $1: sha512-$got"
}

fetch "$XTERM" "$XTERM_SHA512" xterm
fetch "$FIT" "$FIT_SHA512" fit
cp "$tmp/xterm/package/lib/xterm.mjs" "$here/xterm.mjs"
cp "$tmp/xterm/package/css/xterm.css" "$here/xterm.css"
cp "$tmp/xterm/package/LICENSE" "$here/LICENSE.xterm"
cp "$tmp/fit/package/lib/addon-fit.mjs" "$here/addon-fit.mjs"
cp "$tmp/fit/package/LICENSE" "$here/LICENSE.addon-fit"
