#!/bin/bash
# A minbase bookworm root tree, debootstrapped once from the machine's
# mirror with PACKAGES (comma-separated) and cached as TARBALL, unpacked
# into ROOT. debootstrap's output goes to LOG; its tail is shown when it
# fails.
#
#   tests/lib/chroot-tarball.sh TARBALL PACKAGES ROOT LOG
set -uo pipefail

[ $# = 4 ] || { echo "usage: chroot-tarball.sh TARBALL PACKAGES ROOT LOG" >&2; exit 2; }
tarball=$1 packages=$2 root=$3 log=$4
top=$(cd "$(dirname "$0")/../.." && pwd)

bootstrap() {
	local tmp mirror rc
	tmp=$(dirname "$tarball")/bootstrap.$$
	mirror=$("$top/tests/lib/debfetch.sh" --mirror) || return 1
	rm -rf "$tmp"
	if ! debootstrap --variant=minbase --include="$packages" bookworm "$tmp/root" "$mirror" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*_Packages
	tar -C "$tmp/root" --zstd -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
	rc=$?
	rm -rf "$tmp"
	return $rc
}

mkdir -p "$(dirname "$tarball")" "$root" || exit 1
if [ ! -s "$tarball" ]; then
	echo "# bootstrapping a minbase bookworm chroot into $tarball (once)" >&2
	bootstrap || { echo "chroot-tarball: debootstrap of bookworm with $packages failed" >&2; exit 1; }
fi
tar -C "$root" --zstd -xf "$tarball" || { echo "chroot-tarball: cannot unpack $tarball" >&2; exit 1; }
