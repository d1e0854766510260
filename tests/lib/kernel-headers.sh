#!/bin/bash
# kernel-headers.sh: print the directory to build the module against (KDIR)
# for one kernel of the test matrix, fetching and preparing it on first use.
#
#   kernel-headers.sh LABEL            LABEL: 5.10, 6.1, 6.12, 7.x or 6.12-debug
#   kernel-headers.sh --release LABEL
#
# Prints exactly one line on stdout: an absolute KDIR, usable as
#   make -C kmod KDIR="$(tests/lib/kernel-headers.sh 6.1)"
# or, with --release, the kernel release those headers are for (what
# `uname -r` says in a guest booted from the matching Debian image, e.g.
# 6.1.0-56-amd64; Debian's include/config/kernel.release does not say it).
# The Debian package version is in KDIR/.xq-package-version. Progress and
# errors go to stderr. Idempotent and safe to run concurrently (one flock
# per tree); exits non-zero with a message when anything fails.
#
# 5.10, 6.1, 6.12: the newest Debian linux-headers-*-amd64 of bullseye or
# bookworm, with its -common and linux-kbuild packages, extracted with
# dpkg-deb -x under the cache and re-pointed at their new location.
# 7.x: a tree prepared from sid's linux-source (see kernel-tree-7.sh), since
# sid's headers package needs a newer toolchain than this machine has.
# 6.12-debug: the build tree of the debug kernel (see kernel-debug.sh).
#
# Cache: ${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}/kbuild/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}

die() { echo "kernel-headers: $*" >&2; exit 1; }
. "$here/once.sh"

usage() {
	echo "usage: kernel-headers.sh [--release] LABEL   (LABEL: 5.10, 6.1, 6.12, 7.x or 6.12-debug)"
	echo "Prints the KDIR to build the xquiesce module against, or its kernel release."
}

# The kernel release the prepared tree builds modules for.
print_result() {
	if [ "$want_release" = 1 ]; then
		sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h"
	else
		echo "$1"
	fi
}

want_release=0
if [ "${1:-}" = --release ]; then
	want_release=1
	shift
fi

case ${1:-} in
-h | --help) usage; exit 0 ;;
5.10) suite=bullseye; pattern='linux-headers-5\.10\.0-[0-9]+-amd64' ;;
6.1) suite=bookworm; pattern='linux-headers-6\.1\.0-[0-9]+-amd64' ;;
6.12) suite=bookworm; pattern='linux-headers-6\.12\.[0-9]+\+deb12-amd64' ;;
7.x) kdir=$("$here/kernel-tree-7.sh"); print_result "$kdir"; exit 0 ;;
6.12-debug) kdir=$("$here/kernel-debug.sh")/build; print_result "$kdir"; exit 0 ;;
*) usage >&2; die "unknown kernel label '${1:-}': expected 5.10, 6.1, 6.12, 7.x or 6.12-debug" ;;
esac

pkg=$("$here/debfetch.sh" --resolve "$suite" "$pattern")
[ -n "$pkg" ] || die "no package matching $pattern in $suite"
release=${pkg#linux-headers-}		# 6.1.0-56-amd64
flavourless=${pkg%-amd64}		# linux-headers-6.1.0-56

root=$cache_root/kbuild/$release
kdir=$root/usr/src/$pkg
prepared() { [ -e "$root/.xq-prepared" ]; }
ready_or_lock "$cache_root/kbuild/.$release.lock" prepared print_result "$kdir"

mapfile -t debs < <("$here/debfetch.sh" "$suite" "$pkg" "$flavourless-common")
# The linux-kbuild package (scripts/, tools/) is named in the Depends field.
kbuild=$(dpkg-deb -f "${debs[0]}" Depends | tr ',' '\n' | grep -oE 'linux-kbuild-[^ ]+' | head -n1)
[ -n "$kbuild" ] || die "${debs[0]} names no linux-kbuild package"
debs+=("$("$here/debfetch.sh" "$suite" "$kbuild")")

echo "kernel-headers: preparing $release in $root" >&2
tmp=$(mktemp -d "$cache_root/kbuild/.$release.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for deb in "${debs[@]}"; do
	dpkg-deb -x "$deb" "$tmp"
done

# The flavour Makefile includes the -common one by its absolute path.
sed -i "s|/usr/src/|$root/usr/src/|" "$tmp/usr/src/$pkg/Makefile"
# Debian builds each kernel with the gcc of its suite (gcc-10 for 5.10).
# When that compiler is not installed, build with the host's gcc: the module
# only needs to compile and link, it does not have to be ABI-identical to a
# tree compiled by another gcc for this check.
vars=$tmp/usr/src/$pkg/.kernelvariables
cc=$(sed -n 's/^CC = .*(CROSS_COMPILE)\(gcc-[0-9]*\).*/\1/p' "$vars")
if [ -n "$cc" ] && ! command -v "$cc" >/dev/null && ! command -v "x86_64-linux-gnu-$cc" >/dev/null; then
	echo "kernel-headers: $cc not installed, $release will build with gcc" >&2
	sed -i "s/(CROSS_COMPILE)$cc/(CROSS_COMPILE)gcc/" "$vars"
fi
dpkg-deb -f "${debs[0]}" Version >"$tmp/usr/src/$pkg/.xq-package-version"

rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
touch "$root/.xq-prepared"
print_result "$kdir"
