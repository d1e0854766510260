#!/bin/bash
# initramfs.sh: build a busybox initramfs (uncompressed newc cpio) for a test
# VM: busybox-static, kernel modules with their dependencies, host binaries
# with their shared libraries, extra files and an /init.
#
#   initramfs.sh -k KERNELDIR -o OUT.cpio -i INIT [options]
#
#   -k KERNELDIR   a directory printed by kernel-image.sh (release, lib/modules)
#   -o OUT         the cpio archive to write
#   -i INIT        the script that becomes /init
#   -m MODULE      a kernel module to load at boot, by name (ext4, dm-mod, ...),
#                  with its dependencies; repeatable. "?NAME" means: load it if
#                  the kernel has it as a module, it may be built in.
#   -b BINARY      a host executable (path), copied to the same path with the
#                  libraries ldd lists for it; it replaces a busybox applet of
#                  the same name; repeatable
#   -f SRC:DST     a host file copied to DST in the image; repeatable
#   -d SRC:DST     a host directory copied to DST in the image; repeatable
#
# The modules go under /lib/modules/RELEASE, decompressed (busybox cannot
# load .ko.xz), and /etc/modules-boot lists their paths in load order,
# dependencies first, for the given /init to insmod in that order. A
# required module that is neither modular nor in modules.builtin is an error.
set -euo pipefail

die() { echo "initramfs: $*" >&2; exit 1; }

kdir="" out="" init=""
modules=() binaries=() files=() dirs=()
while getopts "k:o:i:m:b:f:d:h" opt; do
	case $opt in
	k) kdir=$OPTARG ;;
	o) out=$OPTARG ;;
	i) init=$OPTARG ;;
	m) modules+=("$OPTARG") ;;
	b) binaries+=("$OPTARG") ;;
	f) files+=("$OPTARG") ;;
	d) dirs+=("$OPTARG") ;;
	h) sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown option (see -h)" ;;
	esac
done
[ -n "$kdir" ] && [ -n "$out" ] && [ -n "$init" ] || die "-k, -o and -i are required (see -h)"
[ -s "$kdir/release" ] || die "$kdir: no release file (expected a kernel-image.sh directory)"
[ -f "$init" ] || die "init script $init not found"
busybox=$(command -v busybox) || die "busybox not found (install busybox-static)"
! ldd "$busybox" >/dev/null 2>&1 ||
	die "$busybox is not statically linked (install busybox-static)"

release=$(cat "$kdir/release")
moddir=$kdir/lib/modules/$release
root=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,mnt,usr/bin,usr/sbin} "$root/lib/modules/$release"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$init" "$root/init"

# modules.dep lines: "kernel/x/a.ko.xz: kernel/y/b.ko.xz ...", dependencies
# in the order modprobe loads them last-first.
declare -A loaded=()
order=()
add_module_path() {
	local path=$1 dep deps
	[ -z "${loaded[$path]:-}" ] || return 0
	loaded[$path]=1
	deps=$(awk -v p="$path:" '$1 == p { $1 = ""; print; exit }' "$moddir/modules.dep")
	# modules.dep lists the deepest dependency last.
	for dep in $(echo "$deps" | tr ' ' '\n' | tac); do
		add_module_path "$dep"
	done
	order+=("$path")
}

for name in "${modules[@]}"; do
	optional=0
	if [ "${name#\?}" != "$name" ]; then optional=1; name=${name#\?}; fi
	alt=${name//-/_} alt2=${name//_/-}
	path=$(grep -oE "^[^:]*/($name|$alt|$alt2)\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep" |
		head -n1 | tr -d :) || true
	if [ -z "$path" ]; then
		grep -qE "/($name|$alt|$alt2)\.ko$" "$moddir/modules.builtin" 2>/dev/null && continue
		[ "$optional" = 1 ] && continue
		die "module $name: not in $release's modules.dep nor modules.builtin"
	fi
	add_module_path "$path"
done

: >"$root/etc/modules-boot"
for path in "${order[@]}"; do
	dest=$root/lib/modules/$release/${path%.*}
	case $path in
	*.ko) dest=$root/lib/modules/$release/$path; install -D -m 0644 "$moddir/$path" "$dest" ;;
	*.ko.xz) mkdir -p "$(dirname "$dest")"; xz -dc "$moddir/$path" >"$dest" ;;
	*.ko.zst) mkdir -p "$(dirname "$dest")"; zstd -qdc "$moddir/$path" >"$dest" ;;
	*.ko.gz) mkdir -p "$(dirname "$dest")"; gzip -dc "$moddir/$path" >"$dest" ;;
	*) die "module $path: unknown compression" ;;
	esac
	echo "/lib/modules/$release/${dest#"$root/lib/modules/$release/"}" >>"$root/etc/modules-boot"
done
# For modprobe/modinfo in the guest: the same graph, decompressed names.
sed -E 's/\.ko\.(xz|zst|gz)/.ko/g' "$moddir/modules.dep" >"$root/lib/modules/$release/modules.dep"

copy_host_file() {
	local src=$1 dst=$2
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
}
for bin in "${binaries[@]}"; do
	[ -x "$bin" ] || die "binary $bin not found"
	copy_host_file "$bin" "$bin"
	applet=$root/bin/${bin##*/}
	[ ! -L "$applet" ] || [ "$applet" = "$root$bin" ] || rm -f "$applet"
	# ldd: "libx.so => /lib/.../libx.so (0x...)" and "/lib64/ld-linux... (0x...)".
	for lib in $(ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
		[ -e "$root$lib" ] || copy_host_file "$lib" "$lib"
	done
done
for pair in "${files[@]}"; do
	src=${pair%%:*} dst=${pair#*:}
	[ -e "$src" ] || die "file $src not found"
	copy_host_file "$src" "$dst"
done

for pair in "${dirs[@]}"; do
	src=${pair%%:*} dst=${pair#*:}
	[ -d "$src" ] || die "directory $src not found"
	mkdir -p "$root$dst"
	cp -a "$src/." "$root$dst/"
done

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) >"$out.tmp" || die "cpio failed"
mv "$out.tmp" "$out"
