#!/bin/bash
# initramfs.sh: build a busybox initramfs (newc cpio) for a test VM:
# busybox-static, kernel modules with their dependencies, host binaries with
# their shared libraries, extra files and an /init.
#
#   initramfs.sh -k KERNELDIR -o OUT -i INIT [options]
#
#   -k KERNELDIR   a directory with one lib/modules/RELEASE holding modules.dep
#                  and modules.builtin: a kernel-image.sh directory, or an
#                  unpacked linux-image package after depmod -b
#   -o OUT         the cpio archive to write; gzip-compressed if OUT ends in .gz
#   -i INIT        the script that becomes /init
#   -m MODULE      a kernel module to load at boot, by name (ext4, dm-mod, ...),
#                  with its dependencies; repeatable. "?NAME" means: load it if
#                  the kernel has it as a module, it may be built in.
#   -b SRC[:DST]   a host executable copied to DST (default: SRC) with the
#                  libraries ldd lists for it (none for a static one); it
#                  replaces a busybox applet of the same name; repeatable
#   -L LIBDIR      a directory of shared libraries that ldd searches before
#                  the host's for the -b executables (an unpacked package's
#                  usr/lib/x86_64-linux-gnu); what they take from it goes to
#                  /usr/local/lib, which the image's ld.so.cache lists;
#                  repeatable
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
modules=() binaries=() libdirs=() files=() dirs=()
while getopts "k:o:i:m:b:L:f:d:h" opt; do
	case $opt in
	k) kdir=$OPTARG ;;
	o) out=$OPTARG ;;
	i) init=$OPTARG ;;
	m) modules+=("$OPTARG") ;;
	b) binaries+=("$OPTARG") ;;
	L) libdirs+=("$OPTARG") ;;
	f) files+=("$OPTARG") ;;
	d) dirs+=("$OPTARG") ;;
	h) sed -n '2,30s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown option (see -h)" ;;
	esac
done
[ -n "$kdir" ] && [ -n "$out" ] && [ -n "$init" ] || die "-k, -o and -i are required (see -h)"
releases=("$kdir"/lib/modules/*)
[ ${#releases[@]} = 1 ] && [ -f "${releases[0]}/modules.dep" ] ||
	die "$kdir: expected one lib/modules/RELEASE with a modules.dep, found: ${releases[*]}"
[ -f "$init" ] || die "init script $init not found"
busybox=$(command -v busybox) || die "busybox not found (install busybox-static)"
! ldd "$busybox" >/dev/null 2>&1 ||
	die "$busybox is not statically linked (install busybox-static)"
for dir in "${libdirs[@]}"; do
	[ -d "$dir" ] || die "library directory $dir not found"
done

moddir=${releases[0]}
release=${moddir##*/}
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
	cp -L "$src" "$root$dst" || die "cannot copy $src"
}
# A library from a -L directory has no home of its own in the image.
library_destination() {
	local lib=$1 dir
	for dir in "${libdirs[@]}"; do
		case $lib in "$dir"/*) echo "/usr/local/lib/${lib##*/}"; return ;; esac
	done
	echo "$lib"
}
ld_library_path=$(IFS=:; echo "${libdirs[*]}")
for pair in "${binaries[@]}"; do
	src=${pair%%:*} dst=${pair#*:}
	[ -x "$src" ] || die "binary $src not found"
	copy_host_file "$src" "$dst"
	applet=$root/bin/${dst##*/}
	[ ! -L "$applet" ] || [ "$applet" = "$root$dst" ] || rm -f "$applet"
	# ldd: "libx.so => /lib/.../libx.so (0x...)" and "/lib64/ld-linux... (0x...)";
	# it fails on a static executable, which needs nothing.
	for lib in $(LD_LIBRARY_PATH=$ld_library_path ldd "$src" 2>/dev/null |
		grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
		lib_dst=$(library_destination "$lib")
		[ -e "$root$lib_dst" ] || copy_host_file "$lib" "$lib_dst"
	done
done
if [ ${#libdirs[@]} -gt 0 ]; then
	echo /usr/local/lib >"$root/etc/ld.so.conf"
	ldconfig -r "$root" || die "ldconfig failed for the image"
fi
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

compress=cat
case $out in *.gz) compress="gzip -1" ;; esac
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet | $compress) >"$out.tmp" || die "cpio failed"
mv "$out.tmp" "$out"
