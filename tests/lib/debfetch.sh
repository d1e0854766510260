#!/bin/bash
# debfetch.sh: download Debian packages from any suite into a cache, without
# touching the system's apt state, and reusing the mirror the machine already
# has configured (no registry host name lives in this repository).
#
#   debfetch.sh SUITE PKG...        downloads, prints the .deb paths
#   debfetch.sh --resolve SUITE RE  prints the newest package name matching RE
#   debfetch.sh --mirror            prints the machine's Debian mirror URI
#
# SUITE is bookworm, bookworm-backports, bullseye, sid or experimental.
# Cache: ${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}/apt/SUITE.
#
# Every Release file is checked against Debian's archive keys. Its
# Valid-Until is not: a mirror that is a snapshot of the archive (as some
# build farms offer) serves sid and the security suite with an expired
# date, and a kernel's bytes are as good as the signature that covers them.
set -euo pipefail

cache_root=${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

die() { echo "debfetch: $*" >&2; exit 1; }

# The first URI configured on this machine whose path ends in /$1
# (debian or debian-security).
system_mirror() {
	local uri
	uri=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -oE '(https?|file)://[^ ]+' | grep -E "/$1/?\$" | head -n1) || true
	echo "${uri%/}"
}

apt_private() {
	local suite=$1; shift
	local dir=$cache_root/apt/$suite
	mkdir -p "$dir/state/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
	# Written anew each time, so that no list from an older recipe lingers;
	# renamed into place, for concurrent callers.
	local main security opts="[signed-by=$keyring]"
	main=$(system_mirror debian)
	[ -n "$main" ] || die "no Debian mirror configured in /etc/apt"
	security=$(system_mirror debian-security)
	# debootstrap configures no security suite; Debian's mirrors keep it
	# beside the main archive.
	[ -n "$security" ] || security=${main%/debian}/debian-security
	{
		echo "deb $opts $main $suite main"
		# Stable kernels (6.12 on bookworm) move through the security suite.
		case $suite in
		bookworm | bullseye | trixie)
			echo "deb $opts $main $suite-updates main"
			echo "deb $opts $security $suite-security main"
			;;
		esac
	} >"$dir/sources.list.$$" && mv "$dir/sources.list.$$" "$dir/sources.list"
	apt-get -q -o Dir::Etc::SourceList="$dir/sources.list" \
		-o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State="$dir/state" -o Dir::State::status=/dev/null \
		-o Dir::Cache="$dir/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root \
		-o Acquire::Check-Valid-Until=false -o Acquire::Languages=none \
		-o APT::Architecture=amd64 -o APT::Architectures=amd64 "$@"
}

# Package lists are refreshed at most once a day (and once, whatever their
# age, in a cache from before signatures were checked).
refresh() {
	local suite=$1 dir=$cache_root/apt/$1
	local stamp=$dir/state/updated-signed
	if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
		mkdir -p "$dir/state"
		[ -r "$keyring" ] || die "$keyring missing (apt-get install debian-archive-keyring)"
		# apt-get update says 0 when a source is refused; its E: lines say more.
		if ! apt_private "$suite" update >"$dir/update.log" 2>&1 || grep -q '^E:' "$dir/update.log"; then
			grep -E '^(E|W|Err):' "$dir/update.log" >&2 || tail -n 5 "$dir/update.log" >&2
			die "apt-get update failed for $suite"
		fi
		touch "$stamp"
	fi
}

if [ "${1:-}" = "--mirror" ]; then
	main=$(system_mirror debian)
	[ -n "$main" ] || die "no Debian mirror configured in /etc/apt"
	echo "$main"
	exit 0
fi

if [ "${1:-}" = "--resolve" ]; then
	[ $# -eq 3 ] || die "usage: debfetch.sh --resolve SUITE REGEX"
	refresh "$2"
	apt_private "$2" -o APT::Cache::AllNames=true list 2>/dev/null >/dev/null || true
	apt-cache -o Dir::Etc::SourceList="$cache_root/apt/$2/sources.list" \
		-o Dir::Etc::SourceParts=/nonexistent -o Dir::State="$cache_root/apt/$2/state" \
		-o Dir::State::status=/dev/null -o Dir::Cache="$cache_root/apt/$2/cache" \
		pkgnames 2>/dev/null | grep -E "^$3\$" | sort -V | tail -n1
	exit 0
fi

[ $# -ge 2 ] || die "usage: debfetch.sh SUITE PKG..."
suite=$1; shift
refresh "$suite"
out=$cache_root/apt/$suite/debs
for pkg in "$@"; do
	found=$(ls "$out/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)
	if [ -z "$found" ]; then
		(cd "$out" && apt_private "$suite" download "$pkg" >/dev/null) ||
			die "cannot download $pkg from $suite"
		found=$(ls "$out/${pkg}_"*.deb | sort -V | tail -n1)
	fi
	echo "$found"
done
