#!/bin/bash
# kernel-tree-7.sh: prepare a module build tree for sid's newest 7.x kernel
# and print its path (the KDIR). Called by kernel-headers.sh 7.x.
#
# sid's linux-headers package is built with a newer gcc and its kbuild tools
# need a newer glibc than this machine has, so the tree is made from sid's
# linux-source instead: sid's .config (from the headers package) with
# CONFIG_LOCALVERSION set so that the release string matches sid's binary
# kernel, no signing keys, `make olddefconfig modules_prepare` with the host
# gcc, and sid's Module.symvers, so that modpost checks our imports against
# the exports of the kernel the module will be loaded into. Options that
# shape struct module must survive olddefconfig (DEBUG_INFO_BTF_MODULES adds
# fields: without pahole, or with BTF turned off, the kernel refuses the
# module with ENOEXEC), so pahole is required.
#
# Cache: ${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}/kbuild/SRCVER+deb14-amd64/.
# Idempotent; concurrent callers wait on one flock.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}

die() { echo "kernel-tree-7: $*" >&2; exit 1; }
. "$here/once.sh"

srcpkg=$("$here/debfetch.sh" --resolve sid 'linux-source-7\.[0-9]+')
[ -n "$srcpkg" ] || die "no linux-source-7.x in sid"
major=${srcpkg#linux-source-}			# 7.2
hdrpkg=$("$here/debfetch.sh" --resolve sid "linux-headers-${major//./\\.}\\.[0-9]+\\+deb[0-9]+-amd64")
[ -n "$hdrpkg" ] || die "no linux-headers-$major.*-amd64 in sid"
release=${hdrpkg#linux-headers-}		# 7.2.13+deb14-amd64
localversion=+${release#*+}			# +deb14-amd64

kdir=$cache_root/kbuild/$release
# Bumped whenever the preparation changes, so that older trees are redone.
recipe=2
prepared() { [ "$(cat "$kdir/.xq-prepared" 2>/dev/null)" = "$recipe" ]; }
ready_or_lock "$cache_root/kbuild/.$release.lock" prepared echo "$kdir"

for tool in flex bison bc pahole; do
	command -v $tool >/dev/null || die "$tool missing (tests/lib/install-deps.sh installs it)"
done

mapfile -t debs < <("$here/debfetch.sh" sid "$srcpkg" "$hdrpkg")
echo "kernel-tree-7: preparing $release in $kdir" >&2
tmp=$(mktemp -d "$cache_root/kbuild/.$release.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "${debs[0]}" "$tmp/src"
dpkg-deb -x "${debs[1]}" "$tmp/hdr"
tarball=$(ls "$tmp"/src/usr/src/linux-source-"$major".tar.* | head -n1)
mkdir "$tmp/tree"
tar -xf "$tarball" -C "$tmp/tree" --strip-components=1

tree=$tmp/tree
srcversion=$(make -s -C "$tree" kernelversion)
[ "$srcversion$localversion" = "$release" ] ||
	die "linux-source is $srcversion but sid's headers are $release: sid is mid-update, retry later"
cp "$tmp/hdr/usr/src/$hdrpkg/.config" "$tree/.config"
cp "$tmp/hdr/usr/src/$hdrpkg/Module.symvers" "$tree/Module.symvers"
"$tree/scripts/config" --file "$tree/.config" \
	--set-str LOCALVERSION "$localversion" --disable LOCALVERSION_AUTO \
	--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
	--set-str MODULE_SIG_KEY ""
make -s -C "$tree" -j2 olddefconfig >&2
make -s -C "$tree" -j2 modules_prepare >&2
got=$(make -s -C "$tree" kernelrelease)
[ "$got" = "$release" ] || die "prepared tree reports release $got, expected $release"
echo "$(dpkg-deb -f "${debs[1]}" Version)" >"$tree/.xq-package-version"

rm -rf "$kdir"
mv "$tree" "$kdir"
rm -rf "$tmp"
trap - EXIT
echo "$recipe" >"$kdir/.xq-prepared"
echo "$kdir"
