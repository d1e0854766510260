# Shared by tests/xen/run and tests/xen/demo (sourced, bash).
#
# Builds what a Xen host in QEMU needs: the hypervisor, a Debian 6.1 PV dom0
# with the C xenstored and xl in a busybox initramfs, and inside it a PV guest
# kernel with its own initramfs. Every Debian package comes through
# tests/lib/debfetch.sh and is unpacked with dpkg-deb -x into the cache. The
# images are tests/lib/initramfs.sh ones: busybox, the Xen tools and the
# host's own Debian 12 binaries (e2fsprogs, xfsprogs, lvm2, sqlite3) with the
# libraries ldd finds for them.

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

# Prints the directory holding Debian's device model for HVM guests, the
# Xen-enabled QEMU of qemu-system-xen (/usr/libexec/xen-qemu-system-i386,
# where libxl looks for it): Debian's qemu-system-x86 has no Xen support.
xq_device_model_tree() {
	local dir=$xq_cache/xen/qemu-system-xen debs
	if [ ! -e "$dir/.stamps/done" ]; then
		debs=$("$xq_top/tests/lib/debfetch.sh" bookworm qemu-system-xen) ||
			xq_die "cannot fetch qemu-system-xen"
		xq_unpack "$dir" $debs
		touch "$dir/.stamps/done"
	fi
	echo "$dir"
}

# What both images use of xenstore-utils; dom0 also sets permissions.
xq_xenstore_tools=(xenstore-read xenstore-write xenstore-rm xenstore-list xenstore-ls
	xenstore-exists)

# Runs tests/lib/initramfs.sh for an image of kernel tree KTREE: Xen's own
# libraries come from the unpacked Xen tree, and LVM gets the no-udev
# configuration of the test suites' busybox guests.
xq_initramfs() {
	local ktree=$1 out=$2 init=$3; shift 3
	"$xq_top/tests/lib/initramfs.sh" -k "$ktree" -o "$out" -i "$init" \
		-L "$(xq_xen_tree)/usr/lib/x86_64-linux-gnu" \
		-b /usr/sbin/lvm -f "$xq_top/tests/lib/lvm.conf:/etc/lvm/lvm.conf" \
		-b /usr/bin/sqlite3 "$@" || xq_die "cannot build $out"
}

# The guest's initramfs for kernel tree KTREE, written to OUT. Carries the
# project's module and daemon when they have been built for that kernel
# (XQ_KMOD_KO, XQ_DAEMON_DIR), the test harness pieces of image/, and
# whatever more initramfs.sh arguments follow (bench/xen's programs).
#   xq_build_guest KTREE OUT [INITRAMFS ARGS...]
xq_build_guest() {
	local ktree=$1 out=$2 xen image=$xq_top/tests/xen/image p args=()
	shift 2
	xen=$(xq_xen_tree)
	for p in "${xq_xenstore_tools[@]}"; do
		args+=(-b "$xen/usr/bin/$p:/usr/bin/$p")
	done
	# mke2fs picks the filesystem type by the name it runs under.
	args+=(-b /usr/sbin/mkfs.ext4 -b /usr/sbin/mkfs.xfs)
	# ext4 and xfs ask the crypto API for crc32c, which modules.dep does not
	# show: crc32c_generic goes before them.
	args+=(-m xen-blkfront -m crc32c_generic -m ext4 -m xfs -m dm-mod -m loop)
	# A network to dom0 only (xo-hook), and a probe of the writers' stall.
	args+=(-m xen-netfront)
	gcc -static -O2 -Wall -Wextra -Werror -o "$xq_build/xq-writeprobe" \
		"$image/xq-writeprobe.c" || xq_die "cannot build xq-writeprobe"
	args+=(-b "$xq_build/xq-writeprobe:/usr/sbin/xq-writeprobe")
	if [ -n "${XQ_KMOD_KO:-}" ]; then
		gcc -static -O2 -Wall -Wextra -Werror -I"$xq_top/include/uapi" \
			-o "$xq_build/xq-blkfront-freeze" "$image/xq-blkfront-freeze.c" ||
			xq_die "cannot build xq-blkfront-freeze"
		args+=(-f "$XQ_KMOD_KO:/xquiesce.ko"
			-b "$xq_build/xq-blkfront-freeze:/usr/sbin/xq-blkfront-freeze")
	fi
	if [ -n "${XQ_DAEMON_DIR:-}" ]; then
		args+=(-b "$XQ_DAEMON_DIR/xquiesced:/usr/sbin/xquiesced"
			-b "$XQ_DAEMON_DIR/xquiescectl:/usr/sbin/xquiescectl"
			-f "$image/xquiesced.conf:/etc/xquiesce/xquiesced.conf")
	fi
	for p in xqtest-shell xq-test-responder agent-start workload xq-guest-tools-double \
		guest-tools-keys; do
		args+=(-f "$image/$p:/xq/$p")
	done
	xq_initramfs "$ktree" "$out" "$image/guest-init" "${args[@]}" "$@"
}

# The dom0 initramfs: Xen tools, checkers, the dom0 tool, the scenario
# scripts, and the guest kernel and initramfs under /guest. GUEST_TYPE hvm
# adds what an HVM guest needs in dom0: the device model, hvmloader, and the
# firmware and data libxl and QEMU load (SeaBIOS, the option ROM of QEMU's
# direct kernel boot, a keymap), from the Debian packages qemu-system-x86
# pulls in. More initramfs.sh arguments may follow GUEST_TYPE.
#   xq_build_dom0 KTREE GUEST_KERNEL GUEST_INITRD OUT [GUEST_TYPE [INITRAMFS ARGS...]]
xq_build_dom0() {
	local ktree=$1 guest_kernel=$2 guest_initrd=$3 out=$4 guest_type=${5:-pv}
	local xen image=$xq_top/tests/xen/image p args=()
	shift $(($# < 5 ? $# : 5))
	xen=$(xq_xen_tree)
	for p in xl xenstored oxenstored xenconsoled xen-init-dom0 libxl-save-helper xenstore-control; do
		args+=(-b "$xen/usr/lib/xen-4.17/bin/$p:/usr/lib/xen-4.17/bin/$p")
	done
	for p in "${xq_xenstore_tools[@]}" xenstore-chmod xenstore-watch; do
		args+=(-b "$xen/usr/bin/$p:/usr/bin/$p")
	done
	# xl needs libgcc_s for its thread cancellation; glibc loads it by name.
	args+=(-f /lib/x86_64-linux-gnu/libgcc_s.so.1:/lib/x86_64-linux-gnu/libgcc_s.so.1)
	for p in /usr/sbin/e2fsck /usr/sbin/dumpe2fs /usr/sbin/xfs_repair /usr/sbin/xfs_db; do
		args+=(-b "$p")
	done
	# dom0's storage as on an xl host (make_disks): a volume group with thick
	# and thin volumes, and an xfs whose files are disks; GNU cp for the
	# built-in snapshot's reflinks (busybox's has no --reflink). This
	# lvm.conf comes after xq_initramfs's and replaces it.
	args+=(-b /usr/sbin/mkfs.xfs -b /usr/bin/cp -f "$image/lvm-dom0.conf:/etc/lvm/lvm.conf")
	args+=(-b "${XQ_HOST_BIN:-$xq_top/host/xquiesce-host}:/usr/sbin/xquiesce-host"
		-f "$image/block:/etc/xen/scripts/block" -f "$image/xl.conf:/etc/xen/xl.conf"
		-f "$image/oxenstored.conf:/etc/xen/oxenstored.conf"
		-f "$guest_kernel:/guest/vmlinuz" -f "$guest_initrd:/guest/initrd.gz")
	# crc32c_generic for xfs and dm-thin-pool (libcrc32c), as in xq_build_guest.
	args+=(-m xen-evtchn -m xen-gntdev -m xen-gntalloc -m xen-privcmd -m xenfs -m xen-blkback
		-m loop -m crc32c_generic -m xfs -m dm-snapshot -m dm-thin-pool)
	for p in xqtest-lib.sh scenarios main guest-up guest-tools guest-tools-keys happy-path \
		save-restore dom0-silent host-build limits demo smoke snapshot-copy backends; do
		args+=(-f "$image/$p:/xq/$p")
	done
	# xo-hook: a bridge with no uplink for the guest's vif, and curl to play
	# Xen Orchestra over it.
	args+=(-m xen-netback -m bridge -f "$image/vif-bridge:/etc/xen/scripts/vif-bridge"
		-b /usr/bin/curl -f "$image/xo-hook:/xq/xo-hook")
	if [ "$guest_type" = hvm ]; then
		p=/usr/libexec/xen-qemu-system-i386
		args+=(-b "$(xq_device_model_tree)$p:$p"
			-f "$xen/usr/lib/xen-4.17/boot/hvmloader:/usr/lib/xen-4.17/boot/hvmloader")
		# QEMU reads its keymap even with no display at all.
		for p in /usr/share/seabios/bios-256k.bin /usr/share/qemu/linuxboot.bin \
			/usr/share/qemu/keymaps/en-us; do
			args+=(-f "$p:$p")
		done
	fi
	xq_initramfs "$ktree" "$out" "$image/dom0-init" "${args[@]}" "$@"
}

# Boots the hypervisor with the dom0 image under QEMU (TCG) and copies the
# serial console to stdout. SCENARIO names the script in /xq that dom0 runs.
# XQ_QEMU_CPU: qemu64 by default; PVH and HVM guests need qemu64,+svm,+npt
# (AMD-V with nested paging, which TCG emulates).
xq_boot() {
	local xen=$1 dom0_kernel=$2 dom0_initrd=$3 scenario=$4 guest=$5 extra=${6:-}
	timeout --foreground "${XQ_BOOT_TIMEOUT:-1500}" qemu-system-x86_64 -accel tcg -cpu "${XQ_QEMU_CPU:-qemu64}" \
		-m 3072 -smp 2 -nographic -no-reboot -nodefaults -serial stdio \
		-kernel "$xen" \
		-append "console=com1 com1=115200 dom0_mem=2048M,max:2048M noreboot" \
		-initrd "$dom0_kernel console=hvc0 panic=-1 quiet xq.run=$scenario xq.guest=$guest $extra,$dom0_initrd"
}

# Xen's console line for a PVH or HVM guest that triple-faulted.
xq_triple_fault='^[(]XEN[)] d[0-9]+v[0-9]+ Triple fault'

# xq_triple_fault_first LOG: true when Xen's console in LOG reports a guest
# triple fault and no check failed before it.
xq_triple_fault_first() {
	awk -v re="$xq_triple_fault" '$0 ~ re { found = 1; exit } /^not ok/ { exit }
		END { exit !found }' "$1"
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
