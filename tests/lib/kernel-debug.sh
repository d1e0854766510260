#!/bin/bash
# kernel-debug.sh: build the VM suite's debug kernel (label 6.12-debug) once,
# from bookworm's linux-source-6.12, and print the directory that holds it.
#
#   kernel-debug.sh
#
# The printed directory contains, like a kernel-image.sh directory,
#   vmlinuz              the kernel to pass to qemu -kernel
#   release              one line: the kernel release (uname -r)
#   lib/modules/RELEASE  the modules, modules.dep, modules.builtin
# and build/, the configured tree to build xquiesce.ko against (the KDIR
# that kernel-headers.sh 6.12-debug prints; its object files are removed).
#
# The configuration is allnoconfig with kernel-debug.config merged over it:
# what the VM suite's guest uses, and the detectors (lockdep, KASAN, KFENCE,
# kmemleak, atomic-sleep and debug-objects checks). An option of that file
# that Kconfig does not keep as written is an error, so that no detector is
# dropped without a word. The build uses every core (make -j$(nproc));
# docs/benchmarks.md says how long it takes here.
#
# Cache: ${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}/kernels/debug-SRCVERSION-HASH,
# HASH over kernel-debug.config and this script's recipe number, so that a
# new source version or configuration builds anew. Idempotent; concurrent
# callers wait on one flock. The build log ends up in it (build.log); a failed
# build leaves it at kernels/.debug-SRCVERSION-HASH.log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache_root=${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}
fragment=$here/kernel-debug.config
# Bumped whenever the build steps change, so that older builds are redone.
recipe=1
localversion=+deb12-debug

die() { echo "kernel-debug: $*" >&2; exit 1; }
. "$here/once.sh"

deb=$("$here/debfetch.sh" bookworm linux-source-6.12) || die "cannot fetch linux-source-6.12"
srcversion=$(dpkg-deb -f "$deb" Version)
key=$( (cat "$fragment"; echo "recipe $recipe") | sha256sum | cut -c1-12)
dir=$cache_root/kernels/debug-$srcversion-$key

built() { [ -s "$dir/release" ] && [ -e "$dir/build/.xq-prepared" ]; }
ready_or_lock "$cache_root/kernels/.debug-$srcversion-$key.lock" built echo "$dir"
for tool in flex bison bc depmod; do
	command -v $tool >/dev/null || die "$tool missing (tests/lib/install-deps.sh installs it)"
done

start=$(date +%s)
tmp=$(mktemp -d "$cache_root/kernels/.debug-$srcversion-$key.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "kernel-debug: building linux-source-6.12 $srcversion with $fragment in $tmp" >&2
dpkg-deb --fsys-tarfile "$deb" | tar -xf - -C "$tmp" --wildcards './usr/src/linux-source-6.12.tar.*'
mkdir "$tmp/build"
tar -xf "$tmp"/usr/src/linux-source-6.12.tar.* -C "$tmp/build" --strip-components=1
rm -rf "$tmp/usr"

tree=$tmp/build
log=$cache_root/kernels/.debug-$srcversion-$key.log
make -s -C "$tree" allnoconfig >"$log" 2>&1 || die "allnoconfig failed (log: $log)"
"$tree/scripts/kconfig/merge_config.sh" -m -O "$tree" "$tree/.config" "$fragment" >>"$log" 2>&1 ||
	die "merging $fragment failed (log: $log)"
"$tree/scripts/config" --file "$tree/.config" --set-str LOCALVERSION "$localversion" \
	--disable LOCALVERSION_AUTO
make -s -C "$tree" olddefconfig >>"$log" 2>&1 || die "olddefconfig failed (log: $log)"
# Every line of the fragment, "CONFIG_X=v" or "# CONFIG_X is not set", as written.
dropped=$(grep -E '^(CONFIG_|# CONFIG_.* is not set)' "$fragment" | grep -vxFf "$tree/.config" || true)
[ -z "$dropped" ] || die "Kconfig did not keep these lines of $fragment: $dropped"

if ! make -C "$tree" -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "the build failed (log: $log)"
fi
release=$(make -s -C "$tree" kernelrelease)
make -C "$tree" modules_install INSTALL_MOD_PATH="$tmp" >>"$log" 2>&1 ||
	die "modules_install failed (log: $log)"
# The links point into the build directory as it was before it moved.
rm -f "$tmp/lib/modules/$release/build" "$tmp/lib/modules/$release/source"
cp "$tree/arch/x86/boot/bzImage" "$tmp/vmlinuz"
# A tree to build external modules: objects and the uncompressed kernel
# are not needed for that, and are most of its size.
find "$tree" \( -name '*.o' -o -name '*.ko' \) -delete
rm -f "$tree/vmlinux" "$tree/vmlinux.a" "$tree/arch/x86/boot/compressed/vmlinux.bin"*
dpkg-deb -f "$deb" Version >"$tree/.xq-package-version"
touch "$tree/.xq-prepared"
echo "$release" >"$tmp/release"
echo "kernel-debug: $release built in $(($(date +%s) - start)) s" | tee -a "$log" >&2
mv "$log" "$tmp/build.log"

rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
