# Test harness, dom0 side (sourced by the scenario scripts): TAP output,
# disk images, starting the guest, and running commands inside it through
# xqtest-shell.

export ASAN_OPTIONS=log_path=/tmp/sanitizer UBSAN_OPTIONS=log_path=/tmp/sanitizer:print_stacktrace=1
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
# check NAME COMMAND...: one TAP line from a command's status.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
note() { echo "# $*"; }
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# The guest's disks, in dom0's storage as on an xl host: a volume group
# (its physical volume a loop device over a file in /images) with xvda on a
# thin volume (ext4 in the guest), xvdc on a thick one (xvdc_plugged, before
# the quota checks: the scenarios before them keep two disks), and an xfs
# at /srv/xfs holding xvdb as a file (LVM with xfs in the guest), which the
# block script puts on a loop device. /images/xvda.img and /images/xvdb.img
# name the two for the copies that the scenarios take with the guest
# running.
make_disks() {
	truncate -s 640M /images/dom0-pv.img && losetup /dev/loop0 /images/dom0-pv.img &&
		lvm pvcreate -q /dev/loop0 && lvm vgcreate -q xqdom0 /dev/loop0 &&
		lvm lvcreate -q -y -L 192M -T xqdom0/pool && lvm lvcreate -q -y -V 128M -T xqdom0/pool -n xvda &&
		lvm lvcreate -q -y -L 16M -n xvdc xqdom0 &&
		lvm lvcreate -q -y -L 200M -n files xqdom0 || return 1
	# xfsprogs 6.1 refuses filesystems under 300 MB outside its own test suite.
	TEST_DIR=/tmp TEST_DEV=/dev/null QA_CHECK_FS=1 mkfs.xfs -q /dev/xqdom0/files &&
		mkdir -p /srv/xfs && mount -t xfs /dev/xqdom0/files /srv/xfs &&
		truncate -s 128M /srv/xfs/xvdb.img || return 1
	ln -sf /dev/xqdom0/xvda /images/xvda.img
	ln -sf /srv/xfs/xvdb.img /images/xvdb.img
}

# xvdc_plugged: xvdc plugged into the running guest with xl block-attach,
# prepare run again to name its VDI (as on an xl host), the guest seeing it.
xvdc_plugged() {
	xl block-attach xqguest 'phy:/dev/xqdom0/xvdc,xvdc,w' && xquiesce-host prepare "$domid" &&
		gexec 'i=0; until [ -b /dev/xvdc ]; do [ $i -lt 40 ] || exit 1; sleep 0.5; i=$((i + 1)); done' \
			>/dev/null
}

# disk_copy DISK COPY: a guest disk as it is now. blkback writes a volume
# beneath dom0's page cache, so what dom0 read of it before is dropped
# first; a file disk goes through the cache (its loop device) and needs
# nothing.
disk_copy() {
	[ ! -b "$1" ] || blockdev --flushbufs "$1" || return 1
	cp "$1" "$2"
}

# The guest's type, from tests/xen/run: pv; pvh (direct kernel boot in an
# HVM container, no device model); or hvm, PV drivers in an HVM domain:
# QEMU in dom0 emulates its IDE disks, and its direct kernel boot (SeaBIOS
# under hvmloader) starts the same kernel and initramfs, which unplugs the
# emulated disks and takes both over with blkfront. No emulated network
# card or display: the vif is PV only.
guest_type=$(sed -n 's/.*xq\.guesttype=\([a-z]*\).*/\1/p' /proc/cmdline)
guest_type=${guest_type:-pv}
case $guest_type in
hvm) type_config='vga = "none"
nographic = 1
vnc = 0
serial = "none"
vif = [ "bridge=xenbr0,mac=00:16:3e:51:0a:02,type=vif" ]' ;;
*) type_config='vif = [ "bridge=xenbr0,mac=00:16:3e:51:0a:02" ]' ;;
esac
# PVH and HVM guests get one vCPU: with two, they triple-faulted now and
# then under QEMU 7.2's emulation of AMD-V, once on the second vCPU, and
# with one they have not (docs/xen-guest-types.md). PV guests keep two.
guest_vcpus=2
[ "$guest_type" = pv ] || guest_vcpus=1

# start_guest [KERNEL ARGS]: creates the domain paused, lets the dom0 tool
# give it what xenopsd would, and waits for the guest's test shell.
start_guest() {
	cat >/tmp/guest.cfg <<CFG
name = "xqguest"
type = "$guest_type"
kernel = "/guest/vmlinuz"
ramdisk = "/guest/initrd.gz"
extra = "console=hvc0 panic=-1 quiet $*"
memory = 640
vcpus = $guest_vcpus
disk = [ 'phy:/dev/xqdom0/xvda,xvda,w', 'phy:/srv/xfs/xvdb.img,xvdb,w' ]
$type_config
on_poweroff = "destroy"
on_crash = "destroy"
on_reboot = "destroy"
CFG
	xl create -p /tmp/guest.cfg >/tmp/xl-create.log 2>&1 || { cat /tmp/xl-create.log; return 1; }
	adopt_guest || return 1
	xl unpause xqguest
	# An HVM guest goes through SeaBIOS and QEMU's emulated devices first:
	# about 80 s on an idle host, where PV and PVH guests take 20-30 s.
	local end=$(($(now_ms) + $([ "$guest_type" = hvm ] && echo 600 || echo 400) * 1000))
	until xenstore-exists "$D/data/xqtest/ready" 2>/dev/null; do
		# A crashed guest is destroyed (on_crash, and on_reboot: Xen reboots
		# a PVH or HVM guest that triple-faults): no use waiting for it.
		if ! xl domid xqguest >/dev/null 2>&1; then
			echo "# domain $domid is gone; what Xen said of it:"
			xl dmesg | grep -A 3 "d${domid}v\|Dom${domid}\|d${domid} " | sed 's/^/#   /'
			return 1
		fi
		[ "$(now_ms)" -lt "$end" ] || { boot_stuck; return 1; }
		sleep 0.5
	done
}

# boot_stuck: what dom0 sees of a guest that did not come up in time: its
# disks' backends, Xen's list, dom0's last kernel messages.
boot_stuck() {
	echo "# the guest's test shell did not come up in time; in dom0:"
	{
		xenstore-ls -f "/local/domain/0/backend/vbd/$domid" | grep '/state = \|hotplug-status'
		xl list
		dmesg | tail -n 15
	} 2>&1 | sed 's/^/#   /'
}

# adopt_guest: for the paused domain xqguest, fresh from xl create or xl
# restore, sets domid, D and vm_uuid and runs prepare, the one step an xl
# host needs (it also names the disks' VDIs, which xl does not).
adopt_guest() {
	domid=$(xl domid xqguest)
	D=/local/domain/$domid
	vm_uuid=$(xenstore-read "$D/vm" | sed 's,^/vm/,,')
	xquiesce-host prepare "$domid"
}

# workload_stops: the guest's writers stop (their leftovers shown if not).
workload_stops() {
	local out
	out=$(gexec '/xq/workload stop') && return 0
	echo "$out" | sed 's/^/#   /'
	return 1
}

stop_guest() {
	xl destroy xqguest 2>/dev/null
	local i=0
	while xl domid xqguest >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
}

# wait_key PATH SECONDS: waits until a xenstore key exists.
wait_key() {
	local end=$(($(now_ms) + $2 * 1000))
	while ! xenstore-exists "$1" 2>/dev/null; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# wait_value PATH VALUE SECONDS: waits until a xenstore key holds VALUE.
wait_value() {
	local end=$(($(now_ms) + $3 * 1000))
	while [ "$(xenstore-read "$1" 2>/dev/null)" != "$2" ]; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# gexec COMMAND: runs a shell command in the guest; prints its output and
# returns its status (255 if the guest did not answer in 300 s, or at once
# when its domain is gone). The test shell runs one command at a time: one
# that never ends leaves every later one unanswered, so a silent guest gets
# dom0's view of it printed (guest_silent).
gexec() {
	# The sequence lives in a file: gexec often runs in a $(...) subshell.
	local gseq=$(($(cat /tmp/gseq 2>/dev/null || echo 0) + 1))
	echo "$gseq" >/tmp/gseq
	xenstore-write "$D/data/xqtest/cmd" "$gseq $*"
	local end=$(($(now_ms) + 300000)) done_=
	while :; do
		done_=$(xenstore-read "$D/data/xqtest/done" 2>/dev/null)
		[ "${done_%% *}" = "$gseq" ] && break
		[ "$(now_ms)" -lt "$end" ] || { echo "guest did not answer: $*"; guest_silent "$gseq" >&2; return 255; }
		xenstore-exists "$D/vm" 2>/dev/null || { echo "guest domain $domid is gone: $*"; return 255; }
		sleep 0.1
	done
	xenstore-read -R "$D/data/xqtest/out"
	echo
	return "${done_#* }"
}

guest_console() { cat /var/log/xen/console/guest-xqguest.log 2>/dev/null; }

# guest_silent SEQ: what dom0 sees of a guest that did not answer command
# SEQ: the last command it answered, its xenstore entries (as its daemon
# counts them), Xen's view of the domain, and its console's end.
guest_silent() {
	{
		echo "the guest did not answer command $1 in 300 s; its last answer: $(xenstore-read "$D/data/xqtest/done" 2>&1)"
		echo "its xenstore entries: $(xenstore-control quota "$domid" 2>&1 | tr '\n' ' ')"
		xl list xqguest 2>&1
		guest_console | tail -n 15
	} | sed 's/^/# /'
}

# guest_writes_within SECONDS NAME: the guest writes NAME on both
# filesystems and syncs within SECONDS. The writes run in the background:
# a write to a frozen filesystem, or a sync that waits on I/O, cannot be
# killed, and in the foreground it would hold the test shell (timeout only
# signals it). On failure, prints the guest's tasks blocked in the kernel.
guest_writes_within() {
	local out
	out=$(gexec "done_=/run/xq-writes.\$\$
		(echo x >/mnt/ext4/$2 && echo x >/mnt/xfs/$2 && sync && : >\$done_) </dev/null >/dev/null 2>&1 &
		i=0
		while [ ! -e \$done_ ] && [ \$i -lt $(($1 * 10)) ]; do sleep 0.1; i=\$((i + 1)); done
		[ -e \$done_ ] && rm \$done_ && exit 0
		echo \"writes and sync of $2 not done in $1 s; tasks blocked in the kernel:\"
		for p in /proc/[0-9]*; do
			set -- \$(cat \$p/stat 2>/dev/null)
			[ \"\$3\" = D ] && echo \"\$1 \$2\" && head -n 8 \$p/stack
		done
		exit 1") && return 0
	echo "$out" | sed 's/^/#   /'
	return 1
}

# agent_restart: the agent stopped and agent-start's loop starting it again
# (to read a changed configuration); waits up to 10 s for its new pid.
agent_restart() {
	gexec "old=\$(cat /var/run/xq-agent.pid); touch /run/xq-agent.hold; kill \$old; sleep 1
		rm /run/xq-agent.hold; i=0
		while [ \$i -lt 100 ] && [ \"\$(cat /var/run/xq-agent.pid)\" = \$old ]; do sleep 0.1; i=\$((i + 1)); done" >/dev/null
}

# guest_network_up ADDRESS: the guest's netfront (eth0) up at ADDRESS/24 on
# dom0's xenbr0; prints what the guest said.
guest_network_up() {
	gexec "ip link set lo up; i=0; while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
		ip addr flush dev eth0 && ip addr add $1/24 dev eth0 && ip link set eth0 up"
}

# snap ARGS...: runs xquiesce-host snapshot; output in /tmp/snap.out and
# /tmp/snap.err, exit status in $snap_rc, wall time in $snap_ms.
snap() {
	local t0=$(now_ms)
	xquiesce-host snapshot "$@" >/tmp/snap.out 2>/tmp/snap.err
	snap_rc=$?
	snap_ms=$(($(now_ms) - t0))
}
field() { sed -n "s/^$1: //p" /tmp/snap.out; }
# dom0's hold: from the guest's create-snapshots to dom0's answer.
dom0_hold() {
	local asked answered
	asked=$(field create-snapshots-ms) answered=$(field answered-ms)
	if [ -n "$asked" ] && [ -n "$answered" ]; then echo $((answered - asked)); else echo "?"; fi
}
show() { sed 's/^/#   /' /tmp/snap.out /tmp/snap.err; }

# Nothing left behind: control/snapshot gone, /vss/<uuid> empty.
no_leftovers() {
	! xenstore-exists "$D/control/snapshot" && [ -z "$(xenstore-list "/vss/$vm_uuid")" ]
}

# ext4_clean IMAGE: e2fsck -fn passes and the journal needs no recovery.
ext4_clean() {
	e2fsck -fn "$1" >/tmp/e2fsck.out 2>&1 &&
		! dumpe2fs -h "$1" 2>/dev/null | grep -q needs_recovery
}
ext4_needs_recovery() { dumpe2fs -h "$1" 2>/dev/null | grep -q needs_recovery; }

# The xfs volume inside a copy of the LVM disk, on a read-only loop device.
# xfs_attach IMAGE [rw]: a loop device on the LVM volume inside a disk copy
# (read-only unless rw).
xfs_attach() {
	local dev ro=-r
	[ "${2:-}" = rw ] && ro=
	dev=$(losetup -f) && losetup $ro -o "$lv_offset" "$dev" "$1" && echo "$dev"
}
# xfs_clean_after_replay IMAGE: a freeze leaves xfs's log covered, not
# clean (xfs_repair -n reports any log it cannot replay), so replay it on a
# scratch copy by mounting it, then check with xfs_repair -n.
xfs_clean_after_replay() {
	local dev rc
	cp "$1" /images/replay.img
	dev=$(xfs_attach /images/replay.img rw) || return 1
	mkdir -p /mnt/copy
	mount -t xfs "$dev" /mnt/copy && umount /mnt/copy
	xfs_repair -n "$dev" >/tmp/xfs_repair.out 2>&1
	rc=$?
	losetup -d "$dev"
	rm -f /images/replay.img
	return $rc
}
xfs_needs_recovery() {
	local dev
	dev=$(xfs_attach "$1")
	xfs_repair -n "$dev" >/tmp/xfs_repair.out 2>&1
	losetup -d "$dev"
	grep -q 'metadata changes in a log' /tmp/xfs_repair.out
}
# The database in a copy opens (rolling back a hot journal, as after a
# crash) and passes its integrity check.
db_intact() {
	local dev rc
	dev=$(xfs_attach "$1")
	mkdir -p /mnt/copy /tmp/db && rm -f /tmp/db/*
	mount -t xfs -o ro,norecovery "$dev" /mnt/copy || { losetup -d "$dev"; return 1; }
	cp /mnt/copy/app.db* /tmp/db/ || { umount /mnt/copy; losetup -d "$dev"; echo "no app.db" >/tmp/db.out; return 1; }
	umount /mnt/copy
	losetup -d "$dev"
	rows=$(sqlite3 /tmp/db/app.db 'PRAGMA integrity_check;' 'SELECT count(*) FROM t;' 2>&1)
	echo "$rows" >/tmp/db.out
	[ "$(echo "$rows" | head -n1)" = ok ]
}
