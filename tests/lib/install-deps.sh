#!/bin/bash
# Installs, with apt-get, what building and testing xquiesce needs on a
# Debian 12 machine. Quiet and quick when everything is already there.
set -euo pipefail

packages=(
	build-essential pkg-config git
	libxen-dev libkmod-dev libcmocka-dev libsystemd-dev libmicrohttpd-dev libgnutls28-dev
	qemu-system-x86 busybox-static cpio xz-utils zstd kmod
	e2fsprogs xfsprogs btrfs-progs lvm2 sqlite3
	flex bison bc libelf-dev libssl-dev sparse pahole
	valgrind util-linux python3 curl
)
# Extra packages a suite asks for: XQ_EXTRA_PACKAGES="a b".
read -r -a extra <<<"${XQ_EXTRA_PACKAGES:-}"

missing=()
for p in "${packages[@]}" "${extra[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# apt's own words when it fails (a refused repository, an unknown package).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt_get() {
	apt-get -q "$@" >"$log" 2>&1 && return 0
	grep -E '^(E|W|Err):' "$log" >&2 || tail -n 20 "$log" >&2
	echo "install-deps: apt-get $1 failed" >&2
	exit 1
}
apt_get update
apt_get install -y --no-install-recommends "${missing[@]}"
