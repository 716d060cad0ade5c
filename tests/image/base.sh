# tests/image/base.sh: sourced by tests/image/run.sh and tests/fresh/suite.sh.
#
# image_base_tar WORK SUITE: make WORK/base.tar once, a debootstrap
# --variant=minbase root of Debian SUITE from the Debian archive that the
# machine's apt sources name (or DEBIAN_MIRROR): the tree names no archive
# host. Prints nothing on success; on failure says why on stderr, returns 1.

# The machine's own Debian archive, from its apt sources (deb822 or
# one-line).
apt_mirror() {
	{
		sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources \
		    2>/dev/null
		sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' \
		    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | tr ' ' '\n' | grep -v -e '-security' -e '^$' | head -n 1
}

image_base_tar() {
	local work=$1 suite=$2 mirror
	[ -s "$work/base.tar" ] && return 0
	mirror=${DEBIAN_MIRROR:-$(apt_mirror)}
	if [ -z "$mirror" ]; then
		echo "no Debian archive in the apt sources: set DEBIAN_MIRROR" >&2
		return 1
	fi
	command -v debootstrap >/dev/null 2>&1 ||
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap \
	    >/dev/null 2>&1 || { echo "cannot install debootstrap" >&2; return 1; }
	mkdir -p "$work"
	rm -rf "$work/rootfs"
	if ! debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" \
	    >"$work/debootstrap.log" 2>&1; then
		echo "debootstrap failed (see $work/debootstrap.log)" >&2
		return 1
	fi
	tar -C "$work/rootfs" --exclude='./var/cache/apt/archives/*.deb' \
	    --exclude='./var/lib/apt/lists/*' -cf "$work/base.tar.tmp" . &&
	    mv "$work/base.tar.tmp" "$work/base.tar" || return 1
	rm -rf "$work/rootfs"
}
