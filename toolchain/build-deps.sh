#!/usr/bin/env bash
#
# toolchain/build-deps.sh DEPS_DIR [TARGET]
#
# Builds libev, cJSON and libwebsockets as static musl libraries from the
# Debian source packages pinned in toolchain/versions, with the patches in
# toolchain/patches/ (named <lws|libev|cjson>-*.patch), into
#
#	DEPS_DIR/prefix/{include,lib}	libev.a libcjson.a libwebsockets.a + headers
#	DEPS_DIR/logs/			one log per step
#	DEPS_DIR/build-info		what went in
#	DEPS_DIR/.done			written last
#
# TARGET is native (the default: musl-gcc, this machine's architecture) or
# aarch64: a cross build with Debian's gcc-aarch64-linux-gnu and the arm64
# build of Debian's musl-dev, which is fetched with apt-get download (of the
# same version as the native musl-dev) and unpacked into
#
#	DEPS_DIR/cross/sysroot/		musl's arm64 headers, crt*.o, libc.a
#	DEPS_DIR/cross/bin/aarch64-linux-musl-gcc
#					musl-gcc's wrapper, for aarch64
#
# without adding arm64 to dpkg's architectures; the check step runs its
# probe under qemu-aarch64-static (qemu-user-static). Every step is the
# native one but for the compiler, ar, the kernel headers (Debian's
# linux-libc-dev-arm64-cross) and autoconf's and CMake's cross settings.
#
# The Makefile calls it as `toolchain/build-deps.sh .deps/musl-<recipe hash>`
# and `toolchain/build-deps.sh .deps/musl-aarch64-<recipe hash> aarch64`.
# Everything is built in DEPS_DIR.tmp and renamed into place at the end, so an
# interrupted or failed run never leaves a DEPS_DIR marked done (its work
# dir and logs stay in DEPS_DIR.tmp for inspection; the next run wipes it).
#
# Sources are fetched once with `apt-get source` into a cache shared by all
# recipe hashes (AGENTD_SRC_CACHE, default: the parent of DEPS_DIR + /src).
# deb-src entries are enabled through a private apt config dir for this run
# only; /etc/apt is never modified.
#
# Facts behind the flags: ../../shared/reference/static-build.md.

set -euo pipefail

LIBS_OF_NOTE="libev.a libcjson.a libwebsockets.a"
TOOL_PKGS="musl-tools musl-dev cmake build-essential dpkg-dev linux-libc-dev patch"
OPT_CFLAGS="-Os -ffunction-sections -fdata-sections -fno-strict-aliasing"

say()	{ printf 'build-deps: %s\n' "$*"; }
die()	{ printf 'build-deps: error: %s\n' "$*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
	echo "usage: $0 DEPS_DIR [native|aarch64]" >&2
	exit 2
fi
TARGET=${2:-native}
[ "$TARGET" != "$(uname -m)" ] || TARGET=native
case $TARGET in
native)
	MUSL_CC=musl-gcc
	MUSL_AR="ar"
	;;
aarch64)
	TOOL_PKGS="$TOOL_PKGS gcc-aarch64-linux-gnu linux-libc-dev-arm64-cross
	    qemu-user-static"
	MUSL_AR=aarch64-linux-gnu-ar
	;;
*)
	echo "$0: unknown target '$TARGET' (native or aarch64)" >&2
	exit 2
	;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions
. "$HERE/versions"

mkdir -p "$(dirname "$1")"
DEPS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
WORK=$DEPS.tmp
SRC=${AGENTD_SRC_CACHE:-$(dirname "$DEPS")/src}
P=$WORK/prefix
B=$WORK/build
K=$WORK/kheaders
X=$WORK/cross
[ "$TARGET" = native ] || MUSL_CC=$X/bin/aarch64-linux-musl-gcc
LOGS=$WORK/logs
JOBS=$(nproc 2>/dev/null || echo 2)

# A clean environment for the musl build: LIBRARY_PATH/CPATH would leak
# glibc-side directories into musl-gcc (this machine sets LIBRARY_PATH to a
# CUDA stubs dir); CFLAGS & co. are read by configure and cmake; MAKEFLAGS
# from the calling make would fight our -j.
unset LIBRARY_PATH CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH OBJC_INCLUDE_PATH \
    GCC_EXEC_PREFIX COMPILER_PATH PKG_CONFIG_PATH PKG_CONFIG_LIBDIR \
    CFLAGS CXXFLAGS CPPFLAGS LDFLAGS LIBS CC CXX MAKEFLAGS MFLAGS MAKELEVEL \
    CMAKE_PREFIX_PATH CMAKE_GENERATOR CMAKE_BUILD_TYPE
export LC_ALL=C
umask 022

# ---------------------------------------------------------------- helpers

T_ALL=$EPOCHREALTIME

elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'
}

# step "label" logname command...: runs command (a function or program) with
# all its output in $LOGS/logname.log; prints one line with the time, or the
# log's last 40 lines and exits on failure.
step() {
	local label=$1 log=$LOGS/$2.log t0=$EPOCHREALTIME rc
	shift 2
	printf 'build-deps: %-44s ' "$label"
	set +e
	( set -euo pipefail; "$@" ) >>"$log" 2>&1 </dev/null
	rc=$?
	set -e
	if [ $rc -ne 0 ]; then
		printf 'FAILED (exit %d, %s)\n' "$rc" "$(elapsed "$t0")"
		if grep -q '^ERROR: ' "$log"; then
			# a diagnosis of our own: that is the message
			sed -n 's/^ERROR: /build-deps: error: /p' "$log" >&2
		else
			printf -- '---- last 40 lines of %s ----\n' "$log" >&2
			tail -n 40 "$log" >&2
			printf -- '---- end of %s ----\n' "$log" >&2
		fi
		exit 1
	fi
	printf '%s\n' "$(elapsed "$t0")"
}

APTTMP=
cleanup() {
	local rc=$?
	[ -n "$APTTMP" ] && rm -rf "$APTTMP"
	[ -n "${DLTMP:-}" ] && rm -rf "$DLTMP"
	if [ $rc -ne 0 ] && [ -d "$WORK" ]; then
		say "failed; work dir and logs kept in $WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

upstream_of() {			# 1:4.33-1 -> 4.33
	local v=${1#*:}
	echo "${v%-*}"
}

dsc_of() {			# libev 1:4.33-1 -> libev_4.33-1.dsc
	echo "${1}_${2#*:}.dsc"
}

# cached_ok srcpkg version sha256: the cache holds that exact .dsc
cached_ok() {
	local f
	f=$SRC/$(dsc_of "$1" "$2")
	[ -f "$f" ] || return 1
	[ "$(sed -n 's/^Version: *//p' "$f" | head -n1)" = "$2" ] || return 1
	[ -z "$3" ] || [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$3" ]
}

# ----------------------------------------------------------------- start

missing=()
for p in $TOOL_PKGS; do
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null |
	    grep -q '^ii' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" -ne 0 ]; then
	die "missing packages: ${missing[*]}; run as root or install them: sudo apt-get install -y ${missing[*]}"
fi

# One build at a time per .deps (also guards the shared source cache).
mkdir -p "$SRC"
exec 9>"$(dirname "$DEPS")/.build-deps.lock"
if ! flock -n 9; then
	say "waiting for another build-deps run to finish"
	flock 9
	if [ -f "$DEPS/.done" ]; then
		say "$DEPS was built by the other run"
		exit 0
	fi
fi

rm -rf "$WORK"
mkdir -p "$LOGS" "$B" "$P/include" "$P/lib"
if [ "$TARGET" = native ]; then
	say "building static musl deps into $DEPS (work dir: $WORK)"
else
	say "building static musl deps for $TARGET into $DEPS (work dir: $WORK)"
fi

# ---------------------------------------------------------- build tools

if [ ${#missing[@]} -gt 0 ]; then
	install_tools() {
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends "${missing[@]}"
	}
	step "apt-get install ${missing[*]}" tools install_tools
fi
command -v musl-gcc >/dev/null || die "musl-gcc not found (package musl-tools)"
if [ "$TARGET" = aarch64 ]; then
	command -v aarch64-linux-gnu-gcc >/dev/null ||
	    die "aarch64-linux-gnu-gcc not found (package gcc-aarch64-linux-gnu)"
	command -v qemu-aarch64-static >/dev/null ||
	    die "qemu-aarch64-static not found (package qemu-user-static)"
fi

# --------------------------------------------------------------- sources

# srcpkg|version|dsc sha256|variable prefix (from toolchain/versions)
PKGS=(
	"$LIBEV_SRCPKG|$LIBEV_VERSION|${LIBEV_DSC_SHA256:-}|LIBEV"
	"$CJSON_SRCPKG|$CJSON_VERSION|${CJSON_DSC_SHA256:-}|CJSON"
	"$LWS_SRCPKG|$LWS_VERSION|${LWS_DSC_SHA256:-}|LWS"
)

need_fetch=0
for e in "${PKGS[@]}"; do
	IFS='|' read -r pkg ver sha var <<<"$e"
	cached_ok "$pkg" "$ver" "$sha" || need_fetch=1
done

# deb-src twins of the system's deb entries (deb822 and one-line formats),
# in a private apt dir: nothing under /etc/apt changes.
write_src_lists() {
	local sl sp f
	eval "$(apt-config shell sl Dir::Etc::SourceList/f sp Dir::Etc::SourceParts/d)"
	mkdir -p "$APTTMP/sources.list.d" "$APTTMP/lists/partial"
	: >"$APTTMP/sources.list"
	for f in "$sl" "$sp"*.list; do
		[ -f "$f" ] || continue
		sed -n -E 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$f" \
		    >>"$APTTMP/sources.list"
	done
	for f in "$sp"*.sources; do
		[ -f "$f" ] || continue
		awk '
		function flush() {
			if (n > 0 && isdeb) {
				for (i = 1; i <= n; i++) print buf[i]
				print ""
			}
			n = 0; isdeb = 0
		}
		/^[ \t]*$/ { flush(); next }
		/^[Tt]ypes:/ {
			t = $0; sub(/^[Tt]ypes:/, "", t)
			if ((" " t " ") ~ /[ \t]deb(-src)?[ \t]/) isdeb = 1
			buf[++n] = "Types: deb-src"; next
		}
		{ buf[++n] = $0 }
		END { flush() }' "$f" >"$APTTMP/sources.list.d/$(basename "$f")"
	done
	echo "== deb-src entries for this run"
	cat "$APTTMP/sources.list" "$APTTMP"/sources.list.d/*.sources 2>/dev/null
}

fetch_sources() {
	local apt=(-o Dir::Etc::SourceList="$APTTMP/sources.list"
	    -o Dir::Etc::SourceParts="$APTTMP/sources.list.d"
	    -o Dir::State::Lists="$APTTMP/lists"
	    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	    -o Acquire::Languages=none)
	local e pkg ver sha var best v dsc want=() bad=""
	[ "$(id -u)" -ne 0 ] || apt+=(-o APT::Sandbox::User=root)

	write_src_lists
	# A third-party repo without deb-src may make update fail; what matters
	# is whether our three packages are found, checked below.
	apt-get "${apt[@]}" update || echo "apt-get update failed; continuing"

	for e in "${PKGS[@]}"; do
		IFS='|' read -r pkg ver sha var <<<"$e"
		best=
		for v in $(apt-cache "${apt[@]}" showsrc "$pkg" 2>/dev/null |
		    awk -v p="$pkg" '/^Package: /{ q = $2 }
		    /^Version: / && q == p { print $2 }' | sort -u); do
			if [ -z "$best" ] ||
			    dpkg --compare-versions "$v" gt "$best"; then
				best=$v
			fi
		done
		echo "== $pkg: archive serves ${best:-nothing}, pinned $ver"
		if [ -z "$best" ]; then
			echo "ERROR: the archive serves no source package $pkg (offline? see $LOGS/sources.log)"
			bad=1
		elif [ "$best" != "$ver" ]; then
			echo "ERROR: archive serves $pkg $best, toolchain/versions pins $ver; update the pin and re-test"
			bad=1
		fi
		want+=("$pkg=$ver")
	done
	[ -z "$bad" ] || return 3

	cd "$DLTMP"
	apt-get "${apt[@]}" source --download-only "${want[@]}"

	# verify, then move into the cache, each .dsc last
	for e in "${PKGS[@]}"; do
		IFS='|' read -r pkg ver sha var <<<"$e"
		dsc=$DLTMP/$(dsc_of "$pkg" "$ver")
		if [ ! -f "$dsc" ]; then
			echo "ERROR: apt-get source did not produce $(basename "$dsc")"
			return 3
		fi
		v=$(sed -n 's/^Version: *//p' "$dsc" | head -n1)
		if [ "$v" != "$ver" ]; then
			echo "ERROR: archive serves $pkg $v, toolchain/versions pins $ver; update the pin and re-test"
			return 3
		fi
		v=$(sha256sum <"$dsc" | cut -d' ' -f1)
		if [ -z "$sha" ]; then
			echo "NOTE: pin ${var}_DSC_SHA256=$v in toolchain/versions"
		elif [ "$v" != "$sha" ]; then
			echo "ERROR: $(basename "$dsc") has sha256 $v, toolchain/versions pins ${var}_DSC_SHA256=$sha"
			return 3
		fi
	done
	find "$DLTMP" -maxdepth 1 -type f ! -name '*.dsc' -exec mv -f {} "$SRC/" \;
	find "$DLTMP" -maxdepth 1 -type f -name '*.dsc' -exec mv -f {} "$SRC/" \;
}

if [ $need_fetch -eq 1 ]; then
	APTTMP=$(mktemp -d "${TMPDIR:-/tmp}/agentd-apt.XXXXXX")
	DLTMP=$(mktemp -d "$SRC/.dl.XXXXXX")
	step "fetch Debian sources (apt-get source)" sources fetch_sources
	sed -n 's/^NOTE: /build-deps: note: /p' "$LOGS/sources.log"
	rm -rf "$DLTMP" "$APTTMP"
	DLTMP=''
	APTTMP=''
else
	say "$(printf '%-44s %s' "Debian sources" "cached")"
fi

# ------------------------------------------------- musl for a cross target

# Debian's musl-dev for arm64, of the native musl-dev's version, from the
# archives of the system's apt sources read with arm64 as the architecture,
# in a private lists dir: neither dpkg's architectures nor /etc/apt change.
# apt-get download checks it against the signed indices; the cache keeps it
# beside the sources.
MUSL_VERSION=$(dpkg-query -W -f='${Version}' musl-dev)
MUSL_DEB=$SRC/musl-dev_${MUSL_VERSION#*:}_arm64.deb

fetch_musl_arm64() {
	local apt=(-o APT::Architecture=arm64 -o APT::Architectures=arm64
	    -o Dir::State::Lists="$APTTMP/lists"
	    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	    -o Acquire::Languages=none)
	[ "$(id -u)" -ne 0 ] || apt+=(-o APT::Sandbox::User=root)
	mkdir -p "$APTTMP/lists/partial"
	apt-get "${apt[@]}" update || echo "apt-get update failed; continuing"
	cd "$DLTMP"
	if ! apt-get "${apt[@]}" download "musl-dev:arm64=$MUSL_VERSION"; then
		echo "ERROR: the archive serves no musl-dev:arm64 $MUSL_VERSION (the native musl-dev's version; see $LOGS/musl-arm64.log)"
		return 3
	fi
	mv -f "$DLTMP"/musl-dev_*_arm64.deb "$MUSL_DEB"
}

# The sysroot, musl-gcc.specs pointed at it, and the wrapper: Debian's
# own aarch64-linux-musl-gcc with the sysroot's paths.
cross_musl() {
	local v a
	v=$(dpkg-deb -f "$MUSL_DEB" Version)
	a=$(dpkg-deb -f "$MUSL_DEB" Architecture)
	if [ "$v" != "$MUSL_VERSION" ] || [ "$a" != arm64 ]; then
		echo "ERROR: $MUSL_DEB is musl-dev $v for $a, not $MUSL_VERSION for arm64"
		return 3
	fi
	mkdir -p "$X/sysroot" "$X/bin"
	dpkg-deb -x "$MUSL_DEB" "$X/sysroot"
	rm -rf "$X/sysroot/usr/share" "$X/sysroot/usr/bin"
	sed -e "s|/usr/include/aarch64-linux-musl|$X/sysroot&|g" \
	    -e "s|/usr/lib/aarch64-linux-musl|$X/sysroot&|g" \
	    "$X/sysroot/usr/lib/aarch64-linux-musl/musl-gcc.specs" \
	    >"$X/musl-gcc.specs"
	printf '#!/bin/sh\nexec aarch64-linux-gnu-gcc "$@" -specs "%s"\n' \
	    "$X/musl-gcc.specs" >"$MUSL_CC"
	chmod 755 "$MUSL_CC"
	"$MUSL_CC" -dumpmachine
}

if [ "$TARGET" = aarch64 ]; then
	if [ -s "$MUSL_DEB" ]; then
		say "$(printf '%-44s %s' "musl-dev:arm64 $MUSL_VERSION" "cached")"
	else
		APTTMP=$(mktemp -d "${TMPDIR:-/tmp}/agentd-apt.XXXXXX")
		DLTMP=$(mktemp -d "$SRC/.dl.XXXXXX")
		step "fetch musl-dev:arm64 (apt-get download)" \
		    musl-arm64 fetch_musl_arm64
		rm -rf "$DLTMP" "$APTTMP"
		DLTMP=''
		APTTMP=''
	fi
	step "musl arm64 sysroot and gcc wrapper" cross cross_musl
fi

# ---------------------------------------------------------------- unpack

unpack() {
	local e pkg ver sha var
	for e in "${PKGS[@]}"; do
		IFS='|' read -r pkg ver sha var <<<"$e"
		dpkg-source -x "$SRC/$(dsc_of "$pkg" "$ver")" "$B/$pkg"
	done
}
step "unpack (dpkg-source -x)" unpack unpack

kheaders() {
	local ma
	if [ "$TARGET" = aarch64 ]; then
		# linux-libc-dev-arm64-cross, a dependency of the cross gcc
		mkdir -p "$K"
		cp -r /usr/aarch64-linux-gnu/include/linux \
		    /usr/aarch64-linux-gnu/include/asm-generic \
		    /usr/aarch64-linux-gnu/include/asm "$K/"
		return
	fi
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
	    gcc -print-multiarch)
	mkdir -p "$K"
	cp -r /usr/include/linux /usr/include/asm-generic "$K/"
	cp -r "/usr/include/$ma/asm" "$K/asm"
}
step "kernel UAPI headers (for lws only)" kheaders kheaders

apply_patches() {		# prefix dir
	local p
	for p in "$HERE"/patches/"$1"-*.patch; do
		[ -f "$p" ] || continue
		echo "== applying $(basename "$p")"
		patch -d "$2" -p1 --forward --batch --no-backup-if-mismatch -i "$p"
	done
}
for p in "$HERE"/patches/*.patch; do
	[ -f "$p" ] || continue
	case $(basename "$p") in
	lws-*|libev-*|cjson-*) ;;
	*) die "patch $(basename "$p"): name must start with lws-, libev- or cjson-" ;;
	esac
done

# ----------------------------------------------------------------- libev

build_libev() {
	local host=()
	# autoconf's cross mode; its tools (ar, ranlib, strip) get the
	# binutils prefix aarch64-linux-gnu-, which are the ones musl needs
	[ "$TARGET" = native ] || host=(--host=aarch64-linux-gnu)
	apply_patches libev "$B/libev"
	cd "$B/libev"
	./configure CC="$MUSL_CC" CFLAGS="$OPT_CFLAGS" --prefix="$P" \
	    --disable-shared --enable-static "${host[@]}"
	make -j"$JOBS"
	make install
}
step "libev $(upstream_of "$LIBEV_VERSION")" libev build_libev

# ----------------------------------------------------------------- cJSON

# Plain compile of the one file (what cJSON's CMake does, minus the shared
# lib, tests, utils and ENABLE_LOCALES, which musl does not need).
build_cjson() {
	apply_patches cjson "$B/cjson"
	cd "$B/cjson"
	# shellcheck disable=SC2086
	"$MUSL_CC" -std=c89 $OPT_CFLAGS -Wall -c cJSON.c -o cJSON.o
	"$MUSL_AR" rcs libcjson.a cJSON.o
	install -D -m 644 cJSON.h "$P/include/cjson/cJSON.h"
	install -D -m 644 libcjson.a "$P/lib/libcjson.a"
}
step "cJSON $(upstream_of "$CJSON_VERSION")" cjson build_cjson

# --------------------------------------------------------- libwebsockets

configure_lws() {
	local cross=()
	if [ "$TARGET" = aarch64 ]; then
		cross=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64
		    -DCMAKE_AR="$(command -v aarch64-linux-gnu-ar)"
		    -DCMAKE_RANLIB="$(command -v aarch64-linux-gnu-ranlib)")
	fi
	apply_patches lws "$B/libwebsockets"
	# Both LIBEV_* and LWS_LIBEV_* so find_path() never picks a glibc
	# /usr/include/ev.h (libev-dev); EVLIB_PLUGINS off so the libev glue
	# is inside libwebsockets.a, not a dlopen()ed plugin.
	# CLIENT_HTTP_PROXYING off: it makes every vhost honour $http_proxy,
	# which would send `agentd attach` to 127.0.0.1 through a proxy.
	# No git: lws would stamp the agentd repo's HEAD (found above the
	# source dir) into its version string, making the .a differ per commit.
	# LWS_WITH_DIR and LWS_WITH_LEJP_CONF are forced on for unix by
	# CMakeLists-implied-options.txt whatever we pass; --gc-sections drops
	# them from agentd.
	cmake -S "$B/libwebsockets" -B "$B/libwebsockets/build-musl" \
	    -DCMAKE_C_COMPILER="$MUSL_CC" "${cross[@]}" \
	    -DCMAKE_BUILD_TYPE=MinSizeRel \
	    -DCMAKE_INSTALL_PREFIX="$P" \
	    -DCMAKE_C_FLAGS="-isystem $K $OPT_CFLAGS" \
	    -DCMAKE_DISABLE_FIND_PACKAGE_Git=TRUE \
	    -DLWS_WITH_SSL=OFF \
	    -DLWS_WITH_SHARED=OFF -DLWS_WITH_STATIC=ON \
	    -DLWS_WITH_LIBEV=ON -DLWS_WITH_EVLIB_PLUGINS=OFF \
	    -DLIBEV_INCLUDE_DIRS="$P/include" \
	    -DLIBEV_LIBRARIES="$P/lib/libev.a" \
	    -DLWS_LIBEV_INCLUDE_DIRS="$P/include" \
	    -DLWS_LIBEV_LIBRARIES="$P/lib/libev.a" \
	    -DLWS_WITHOUT_TESTAPPS=ON -DLWS_WITH_MINIMAL_EXAMPLES=OFF \
	    -DLWS_WITHOUT_SERVER=OFF -DLWS_WITHOUT_CLIENT=OFF \
	    -DLWS_WITH_HTTP2=OFF \
	    -DLWS_WITH_FILE_OPS=ON \
	    -DLWS_WITH_CUSTOM_HEADERS=ON \
	    -DLWS_WITH_HTTP_UNCOMMON_HEADERS=ON \
	    -DLWS_WITH_HTTP_BASIC_AUTH=OFF \
	    -DLWS_CLIENT_HTTP_PROXYING=OFF \
	    -DLWS_UNIX_SOCK=OFF -DLWS_WITH_UDP=OFF \
	    -DLWS_WITH_SYS_SMD=OFF -DLWS_WITH_SYS_STATE=OFF \
	    -DLWS_WITH_LEJP=OFF -DLWS_WITH_LWSAC=OFF -DLWS_ROLE_RAW_FILE=OFF \
	    -DLWS_IPV6=ON
}
step "libwebsockets $(upstream_of "$LWS_VERSION") (patch, cmake)" lws-configure \
    configure_lws

build_lws() {
	cmake --build "$B/libwebsockets/build-musl" -j "$JOBS"
	cmake --install "$B/libwebsockets/build-musl"
}
step "libwebsockets $(upstream_of "$LWS_VERSION") (build, install)" lws-build build_lws

# ----------------------------------------------------------------- check

# The defines agentd relies on, the ones it must not get, and a static link
# + run of a client-capable lws context on a libev foreign loop.
check() {
	local h=$P/include/lws_config.h d lib
	for lib in $LIBS_OF_NOTE; do
		[ -s "$P/lib/$lib" ] || { echo "missing $P/lib/$lib"; return 1; }
	done
	for d in ev.h cjson/cJSON.h libwebsockets.h lws_config.h; do
		[ -f "$P/include/$d" ] || { echo "missing $P/include/$d"; return 1; }
	done
	for d in LWS_WITH_LIBEV LWS_WITH_CLIENT LWS_WITH_SERVER LWS_ROLE_H1 \
	    LWS_ROLE_WS LWS_WITH_FILE_OPS LWS_WITH_CUSTOM_HEADERS \
	    LWS_WITH_HTTP_UNCOMMON_HEADERS LWS_WITH_IPV6; do
		grep -q "^#define $d\b" "$h" || { echo "$h lacks $d"; return 1; }
	done
	for d in LWS_WITH_EVLIB_PLUGINS LWS_WITH_TLS LWS_WITH_HTTP2 \
	    LWS_WITH_UNIX_SOCK LWS_CLIENT_HTTP_PROXYING; do
		if grep -q "^#define $d\b" "$h"; then
			echo "$h defines $d"; return 1
		fi
	done
	cat >"$B/probe.c" <<'EOF'
#include <stdio.h>
#include <ev.h>
#include <cjson/cJSON.h>
#include <libwebsockets.h>

static const struct lws_protocols protocols[] = {
	{ "http", lws_callback_http_dummy, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

int
main(void)
{
	struct ev_loop			*loop = ev_default_loop(0);
	void				*loops[] = { loop };
	struct lws_context_creation_info info;
	struct lws_context		*ctx;
	cJSON				*j = cJSON_Parse("{\"ok\":true}");

	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_LIBEV;
	info.foreign_loops = loops;
	if (loop == NULL || j == NULL ||
	    (ctx = lws_create_context(&info)) == NULL)
		return (1);
	lws_context_destroy(ctx);
	cJSON_Delete(j);
	printf("probe ok: lws %s, libev %d.%d backend %u\n",
	    lws_get_library_version(), ev_version_major(),
	    ev_version_minor(), ev_backend(loop));
	return (0);
}
EOF
	"$MUSL_CC" -static -Os -fno-strict-aliasing -Wall -Wl,--gc-sections \
	    -I"$P/include" "$B/probe.c" -o "$B/probe" \
	    -L"$P/lib" -lwebsockets -lev -lcjson
	if [ "$TARGET" = aarch64 ]; then
		file "$B/probe"
		qemu-aarch64-static "$B/probe"
	else
		"$B/probe"
	fi
}
step "check (lws_config.h, static link, run)" check check

# -------------------------------------------------------------- finalize

finalize() {
	local f
	rm -rf "${B:?}" "${K:?}" "${P:?}/share" "${P:?}/bin"
	# libtool archive, and a .pc that names a non-existent
	# -lwebsockets_static (Debian deletes it too)
	rm -f "$P"/lib/*.la "$P/lib/pkgconfig/libwebsockets_static.pc"
	# installed .pc/.cmake files name the build-time prefix: point them
	# at the final one
	grep -rlIF "$WORK/" "$P" | while read -r f; do
		sed -i "s|$WORK/|$DEPS/|g" "$f"
	done
	# the cross wrapper and specs name the sysroot
	if [ "$TARGET" != native ]; then
		grep -rlIF "$WORK/" "$X" | while read -r f; do
			sed -i "s|$WORK/|$DEPS/|g" "$f"
		done
	fi
	{
		echo "libev $LIBEV_VERSION"
		echo "cjson $CJSON_VERSION"
		echo "libwebsockets $LWS_VERSION"
		for f in "$HERE"/patches/*.patch; do
			[ -f "$f" ] || continue
			echo "patch $(basename "$f") $(sha256sum <"$f" | cut -d' ' -f1)"
		done
		echo "musl $(dpkg-query -W -f='${Version}' musl-dev)"
		echo "gcc $(gcc -dumpfullversion)"
		if [ "$TARGET" != native ]; then
			echo "target $TARGET"
			echo "musl-dev:arm64 $(dpkg-deb -f "$MUSL_DEB" Version) $(sha256sum <"$MUSL_DEB" | cut -d' ' -f1)"
			echo "aarch64-linux-gnu-gcc $(aarch64-linux-gnu-gcc -dumpfullversion)"
		fi
		echo "cmake $(cmake --version | head -n1 | awk '{ print $3 }')"
		echo "cflags $OPT_CFLAGS"
		# shellcheck disable=SC2086
		(cd "$P/lib" && ls -l $LIBS_OF_NOTE)
	} >"$WORK/build-info"
}
step "finalize" finalize finalize

old=
if [ -e "$DEPS" ]; then
	old=$DEPS.old.$$
	mv "$DEPS" "$old"
fi
mv "$WORK" "$DEPS"
[ -z "$old" ] || rm -rf "$old"
touch "$DEPS/.done"
sizes=$(cd "$DEPS/prefix/lib" && for f in $LIBS_OF_NOTE; do
	printf '%s %s, ' "$f" "$(stat -c %s "$f")"; done)
say "done in $(elapsed "$T_ALL"): ${sizes%, }"
