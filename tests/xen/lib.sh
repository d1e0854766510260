# Shared by tests/xen/run and tests/xen/demo (sourced, bash).
#
# Builds what a Xen host in QEMU needs: the hypervisor, a Debian 6.1 PV dom0
# with the C xenstored and xl in a busybox initramfs, and inside it a PV guest
# kernel with its own initramfs. Every Debian package comes through
# tests/lib/debfetch.sh and is unpacked with dpkg-deb -x into the cache; the
# host's own Debian 12 binaries (busybox-static, e2fsprogs, xfsprogs, lvm2,
# sqlite3) are copied in with the libraries ldd finds for them.

xq_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
xq_cache=${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xquiesce}
xq_build=$xq_top/build/xen
XQ_DOM0_KERNEL=${XQ_DOM0_KERNEL:-6.1}

xq_die() { echo "xen: $*" >&2; exit 1; }
xq_say() { echo "# $(date +%T) $*"; }

# Newest bookworm kernel image package of a series: 6.1 or 6.12.
xq_kernel_package() {
	case $1 in
	6.1) "$xq_top/tests/lib/debfetch.sh" --resolve bookworm 'linux-image-6\.1\.0-[0-9]+-amd64-unsigned' ;;
	6.12) "$xq_top/tests/lib/debfetch.sh" --resolve bookworm 'linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned' ;;
	*) xq_die "unknown kernel series '$1' (expected 6.1 or 6.12)" ;;
	esac
}

# Unpacks .deb files (paths from debfetch) into DIR once; a stamp per package.
xq_unpack() {
	local dir=$1 deb; shift
	mkdir -p "$dir/.stamps"
	for deb in "$@"; do
		[ -e "$dir/.stamps/$(basename "$deb")" ] && continue
		dpkg-deb -x "$deb" "$dir" || xq_die "cannot unpack $deb"
		touch "$dir/.stamps/$(basename "$deb")"
	done
}

# Prints the directory holding the unpacked kernel of a series; its
# boot/vmlinuz-* and lib/modules/VERSION are what the images use.
xq_kernel_tree() {
	local pkg debs dir
	pkg=$(xq_kernel_package "$1") && [ -n "$pkg" ] || xq_die "no bookworm kernel package for $1"
	dir=$xq_cache/xen/$pkg
	if [ ! -e "$dir/.stamps/done" ]; then
		debs=$("$xq_top/tests/lib/debfetch.sh" bookworm "$pkg") || xq_die "cannot fetch $pkg"
		xq_unpack "$dir" $debs
		depmod -b "$dir" "$(basename "$dir"/lib/modules/*)" || xq_die "depmod failed in $dir"
		touch "$dir/.stamps/done"
	fi
	echo "$dir"
}

xq_xen_packages=(
	xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
	libxenmisc4.17 libxenstore4 libxentoolcore1 libxentoollog1 libxencall1
	libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxendevicemodel1
	libxenhypfs1 libyajl2
)

# Prints the directory holding the unpacked Xen 4.17 hypervisor and tools.
xq_xen_tree() {
	local dir=$xq_cache/xen/xen-4.17 debs
	if [ ! -e "$dir/.stamps/done" ]; then
		debs=$("$xq_top/tests/lib/debfetch.sh" bookworm "${xq_xen_packages[@]}") ||
			xq_die "cannot fetch the Xen packages"
		xq_unpack "$dir" $debs
		gunzip -c "$dir/boot/xen-4.17-amd64.gz" >"$dir/boot/xen-4.17-amd64" ||
			xq_die "cannot unpack the hypervisor"
		touch "$dir/.stamps/done"
	fi
	echo "$dir"
}

# Copies a program and the shared libraries it needs into the initramfs root
# ROOT. LIBPATH lists extra library directories searched before the host's.
xq_add_program() {
	local root=$1 src=$2 dest=${3:-$2} lib libs
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$src" "$root$dest" || xq_die "cannot copy $src"
	# ldd fails on a static binary (make static): it has nothing to copy.
	libs=$(LD_LIBRARY_PATH=${LIBPATH:-} ldd "$src" 2>/dev/null |
		grep -oE '/[^ ]+\.so[^ ]*') || true
	for lib in $libs; do
		case $lib in
		*/ld-linux-x86-64.so.2) dest=/lib64/ld-linux-x86-64.so.2 ;;
		*) dest=/lib/x86_64-linux-gnu/${lib##*/} ;;
		esac
		[ -e "$root$dest" ] && continue
		mkdir -p "$root${dest%/*}"
		cp -L "$lib" "$root$dest" || xq_die "cannot copy $lib"
	done
}

# Copies modules (and what they depend on) from kernel tree KTREE into ROOT
# and appends the insmod order to ROOT/etc/modules.order. Built-in modules
# need nothing.
xq_add_modules() {
	local root=$1 ktree=$2 kver mod deps ko; shift 2
	kver=$(basename "$ktree"/lib/modules/*)
	mkdir -p "$root/modules"
	touch "$root/etc/modules.order"
	for mod in "$@"; do
		deps=$(modprobe -d "$ktree" -S "$kver" --show-depends "$mod" 2>&1) ||
			xq_die "module $mod not found for $kver: $deps"
		for ko in $(awk '$1 == "insmod" { print $2 }' <<<"$deps"); do
			grep -qxF "/modules/${ko##*/}" "$root/etc/modules.order" && continue
			cp "$ko" "$root/modules/"
			echo "/modules/${ko##*/}" >>"$root/etc/modules.order"
		done
	done
}

# A busybox root with the usual applet links.
xq_busybox_root() {
	local root=$1
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,var/log,mnt,usr/bin,usr/sbin}
	cp /bin/busybox "$root/bin/busybox"
	local applet
	for applet in $(/bin/busybox --list); do
		[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
	done
}

xq_cpio() {
	echo /lib/x86_64-linux-gnu >"$1/etc/ld.so.conf"
	ldconfig -r "$1"
	(cd "$1" && find . | cpio -o -H newc --quiet) | gzip -1 >"$2"
}

# The guest's initramfs for kernel tree KTREE, written to OUT. Carries the
# project's module and daemon when they have been built for that kernel
# (XQ_KMOD_KO, XQ_DAEMON_DIR), and the test harness pieces of image/.
xq_build_guest() {
	local ktree=$1 out=$2 xen root p
	xen=$(xq_xen_tree)
	root=$xq_build/guest-root
	xq_busybox_root "$root"
	LIBPATH=$xen/usr/lib/x86_64-linux-gnu
	export LIBPATH
	for p in xenstore-read xenstore-write xenstore-rm xenstore-list xenstore-ls xenstore-exists; do
		xq_add_program "$root" "$xen/usr/bin/$p" "/usr/bin/$p"
	done
	for p in /usr/sbin/lvm /usr/sbin/mke2fs /usr/sbin/mkfs.xfs /usr/bin/sqlite3; do
		xq_add_program "$root" "$p"
	done
	ln -s mke2fs "$root/usr/sbin/mkfs.ext4"
	mkdir -p "$root/etc/lvm"
	printf 'activation {\n\tudev_sync = 0\n\tudev_rules = 0\n}\n' >"$root/etc/lvm/lvm.conf"
	xq_add_modules "$root" "$ktree" xen-blkfront crc32c_generic ext4 xfs dm-mod loop
	if [ -n "${XQ_KMOD_KO:-}" ]; then
		cp "$XQ_KMOD_KO" "$root/modules/xquiesce.ko"
		echo /modules/xquiesce.ko >>"$root/etc/modules.order"
		gcc -static -O2 -Wall -Wextra -Werror -I"$xq_top/include/uapi" \
			-o "$root/usr/sbin/xq-blkfront-freeze" "$xq_top/tests/xen/image/xq-blkfront-freeze.c" ||
			xq_die "cannot build xq-blkfront-freeze"
	fi
	if [ -n "${XQ_DAEMON_DIR:-}" ]; then
		for p in xquiesced xquiescectl; do
			xq_add_program "$root" "$XQ_DAEMON_DIR/$p" "/usr/sbin/$p"
		done
		# Deadlines the scenarios wait for: dom0 gets 45 s to answer, the
		# module's watchdog thaws after 60 s whatever the daemon does.
		mkdir -p "$root/etc/xquiesce"
		printf 'dom0_timeout = 45s\nfreeze_timeout = 60s\nlog_level = debug\n' \
			>"$root/etc/xquiesce/xquiesced.conf"
	fi
	mkdir -p "$root/xq"
	cp "$xq_top"/tests/xen/image/{xqtest-shell,xq-test-responder,agent-start,workload} "$root/xq/"
	cp "$xq_top/tests/xen/image/guest-init" "$root/init"
	xq_cpio "$root" "$out"
}

# The dom0 initramfs: Xen tools, checkers, the dom0 tool, the scenario
# scripts, and the guest kernel and initramfs under /guest.
xq_build_dom0() {
	local ktree=$1 guest_kernel=$2 guest_initrd=$3 out=$4 xen root p
	xen=$(xq_xen_tree)
	root=$xq_build/dom0-root
	xq_busybox_root "$root"
	LIBPATH=$xen/usr/lib/x86_64-linux-gnu
	export LIBPATH
	for p in xl xenstored xenconsoled xen-init-dom0 libxl-save-helper; do
		xq_add_program "$root" "$xen/usr/lib/xen-4.17/bin/$p" "/usr/lib/xen-4.17/bin/$p"
	done
	for p in xenstore-read xenstore-write xenstore-rm xenstore-list xenstore-ls \
		xenstore-chmod xenstore-exists; do
		xq_add_program "$root" "$xen/usr/bin/$p" "/usr/bin/$p"
	done
	# xl needs libgcc_s for its thread cancellation.
	xq_add_program "$root" /lib/x86_64-linux-gnu/libgcc_s.so.1
	for p in /usr/sbin/e2fsck /usr/sbin/dumpe2fs /usr/sbin/xfs_repair /usr/sbin/xfs_db \
		/usr/bin/sqlite3 /usr/sbin/lvm; do
		xq_add_program "$root" "$p"
	done
	xq_add_program "$root" "${XQ_HOST_BIN:-$xq_top/host/xquiesce-host}" /usr/sbin/xquiesce-host
	mkdir -p "$root/etc/xen/scripts" "$root/etc/lvm"
	printf 'activation {\n\tudev_sync = 0\n\tudev_rules = 0\n}\n' >"$root/etc/lvm/lvm.conf"
	cp "$xq_top/tests/xen/image/block" "$root/etc/xen/scripts/block"
	printf 'autoballoon="off"\n' >"$root/etc/xen/xl.conf"
	xq_add_modules "$root" "$ktree" xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs \
		xen-blkback loop xfs
	mkdir -p "$root/guest" "$root/xq"
	cp "$guest_kernel" "$root/guest/vmlinuz"
	cp "$guest_initrd" "$root/guest/initrd.gz"
	cp "$xq_top"/tests/xen/image/{xqtest-lib.sh,scenarios,demo,smoke,snapshot-copy} "$root/xq/"
	cp "$xq_top/tests/xen/image/dom0-init" "$root/init"
	xq_cpio "$root" "$out"
}

# Boots the hypervisor with the dom0 image under QEMU (TCG) and copies the
# serial console to stdout. SCENARIO names the script in /xq that dom0 runs.
xq_boot() {
	local xen=$1 dom0_kernel=$2 dom0_initrd=$3 scenario=$4 guest=$5 extra=${6:-}
	timeout --foreground "${XQ_BOOT_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -cpu qemu64 \
		-m 3072 -smp 2 -nographic -no-reboot -nodefaults -serial stdio \
		-kernel "$xen" \
		-append "console=com1 com1=115200 dom0_mem=2048M,max:2048M noreboot" \
		-initrd "$dom0_kernel console=hvc0 panic=-1 quiet xq.run=$scenario xq.guest=$guest $extra,$dom0_initrd"
}

# Builds the project's module for the guest kernel series and the daemon,
# when their sources are there, and exports XQ_KMOD_KO and XQ_DAEMON_DIR for
# xq_build_guest. Without them the guest runs the test double
# xq-test-responder, and says so.
xq_guest_agent() {
	local series=$1 ko
	if [ -f "$xq_top/kmod/Makefile" ]; then
		if ko=$("$xq_top/tests/lib/module-build.sh" "$series" "$xq_build/kmod-$series" \
			2>"$xq_build/kmod-$series.log"); then
			export XQ_KMOD_KO=$ko
		else
			xq_say "module: not built for $series (see $xq_build/kmod-$series/)"
		fi
	fi
	if [ -f "$xq_top/daemon/Makefile" ]; then
		if make -s -C "$xq_top/daemon" O="$xq_build/daemon" >"$xq_build/daemon.log" 2>&1 &&
			[ -x "$xq_build/daemon/xquiesced" ]; then
			export XQ_DAEMON_DIR=$xq_build/daemon
		else
			xq_say "daemon: not built (see $xq_build/daemon.log)"
		fi
	fi
	[ -n "${XQ_DAEMON_DIR:-}" ] || xq_say "guest agent: the test double xq-test-responder"
}
