#!/bin/bash
# kernel-image.sh: fetch a bootable Debian kernel and its modules, unpacked
# into a cache, and print the directory that holds them.
#
#   kernel-image.sh LABEL        LABEL is 5.10, 6.1, 6.12, 7.x or 6.12-debug
#
# The printed directory contains
#   vmlinuz              the kernel to pass to qemu -kernel
#   release              one line: the kernel release (uname -r)
#   lib/modules/RELEASE  the modules, modules.dep, modules.builtin
# 5.10 comes from bullseye's linux-image-*-unsigned, 6.1 and 6.12 from
# bookworm's, 7.x from sid's linux-binary + linux-modules (modules stay
# .ko.xz there; initramfs.sh decompresses what it takes). The newest version of each line is used, the
# same one tests/lib/kernel-headers.sh builds against. 6.12-debug is built
# here from Debian's source by kernel-debug.sh, which prints its directory.
# Cache: ${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}/kernels/RELEASE.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}

die() { echo "kernel-image: $*" >&2; exit 1; }

case ${1:-} in
-h | --help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
[ $# -eq 1 ] || die "usage: kernel-image.sh LABEL (5.10, 6.1, 6.12, 7.x or 6.12-debug)"
label=$1

case $label in
5.10)
	suite=bullseye
	pattern='linux-image-5\.10\.0-[0-9]+-amd64-unsigned'
	;;
6.1)
	suite=bookworm
	pattern='linux-image-6\.1\.0-[0-9]+-amd64-unsigned'
	;;
6.12)
	suite=bookworm
	pattern='linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned'
	;;
7.x)
	suite=sid
	pattern='linux-binary-7\.[0-9]+\.[0-9]+\+deb14-amd64'
	;;
6.12-debug)
	exec "$here/kernel-debug.sh"
	;;
*)
	die "unknown kernel label '$label' (expected 5.10, 6.1, 6.12, 7.x or 6.12-debug)"
	;;
esac

pkg=$("$here/debfetch.sh" --resolve "$suite" "$pattern")
[ -n "$pkg" ] || die "no package matching $pattern in $suite"

case $pkg in
linux-image-*) release=${pkg#linux-image-}; release=${release%-unsigned}; pkgs=("$pkg") ;;
linux-binary-*) release=${pkg#linux-binary-}; pkgs=("$pkg" "linux-modules-$release") ;;
esac

dir=$cache_root/kernels/$release
if [ ! -s "$dir/release" ]; then
	mapfile -t debs < <("$here/debfetch.sh" "$suite" "${pkgs[@]}")
	[ ${#debs[@]} -eq ${#pkgs[@]} ] || die "download of ${pkgs[*]} from $suite failed"
	tmp=$dir.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	for deb in "${debs[@]}"; do
		dpkg-deb -x "$deb" "$tmp" || die "cannot unpack $deb"
	done
	# bookworm ships /lib/modules and /boot/vmlinuz-R; sid /usr/lib/modules/R/vmlinuz.
	mkdir -p "$tmp/lib/modules"
	if [ -d "$tmp/usr/lib/modules/$release" ]; then
		mv "$tmp/usr/lib/modules/$release" "$tmp/lib/modules/"
	fi
	if [ -f "$tmp/boot/vmlinuz-$release" ]; then
		mv "$tmp/boot/vmlinuz-$release" "$tmp/vmlinuz"
	elif [ -f "$tmp/lib/modules/$release/vmlinuz" ]; then
		mv "$tmp/lib/modules/$release/vmlinuz" "$tmp/vmlinuz"
	fi
	[ -f "$tmp/vmlinuz" ] || die "no kernel image for $release in ${debs[*]}"
	[ -d "$tmp/lib/modules/$release/kernel" ] || die "no modules for $release in ${debs[*]}"
	# The packages leave modules.dep to postinst; compute it here. (sid's
	# modules package has no modules.order/modules.builtin: depmod says so.)
	depmod -b "$tmp" "$release" 2>/dev/null || die "depmod failed for $release"
	rm -rf "$tmp/usr" "$tmp/boot" "$tmp/etc"
	echo "$release" >"$tmp/release"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	trap - EXIT
fi
echo "$dir"
