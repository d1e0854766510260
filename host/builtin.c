// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in snapshot backends. They run while the guest is frozen, so
 * only what takes milliseconds whatever the disk's size: an LVM snapshot,
 * a reflink copy. Anything else (a plain file on ext4, a ZFS volume, a
 * network disk) is refused with the disk named and --command as the way
 * out, instead of a full copy that would keep the guest frozen. A disk that
 * fails undoes the snapshots already made, so that a failed request leaves
 * nothing behind. The disks are taken in parallel.
 *
 * They are shell scripts run like a user's --command: the same time limit,
 * the same kill of the whole process group, the same environment, and the
 * LVM tools' own argument handling instead of a reimplementation.
 */
#include "builtin.h"

const char builtin_snapshot[] =
	"set -u\n"
	"name=xq-$XQ_SNAPSHOT_UUID\n"
	"size=${XQ_LVM_SNAPSHOT_SIZE:-20%ORIGIN}\n"
	"case $size in *%*) size=\"-l $size\" ;; *) size=\"-L $size\" ;; esac\n"
	/*
	 * Sets vg, lv and segtype when $1 is an LVM logical volume. Every process
	 * started here costs tens of milliseconds under emulation, with the
	 * guest frozen, so a volume named /dev/VG/LV is read from sysfs with the
	 * shell's own reads: the device-mapper device named VG-LV, its uuid
	 * saying LVM, a thin pool under it making it thin. Other names (and
	 * names with a '-', which device-mapper doubles), and what sysfs does
	 * not confirm, are asked of lvs.
	 */
	"lvm_sysfs() {\n"
	"\tvg=${1#/dev/} lv=${1##*/}\n"
	"\tvg=${vg%/*}\n"
	"\tfor sys in /sys/block/dm-*; do\n"
	"\t\tread -r dm 2>/dev/null <\"$sys/dm/name\" && [ \"$dm\" = \"$vg-$lv\" ] || continue\n"
	"\t\tread -r uuid 2>/dev/null <\"$sys/dm/uuid\" || return 1\n"
	"\t\tcase $uuid in LVM-*) ;; *) return 1 ;; esac\n"
	"\t\tsegtype=linear\n"
	"\t\tfor under in \"$sys\"/slaves/*/dm/uuid; do\n"
	"\t\t\tread -r uuid 2>/dev/null <\"$under\" || continue\n"
	"\t\t\tcase $uuid in *-tpool) segtype=thin ;; esac\n"
	"\t\tdone\n"
	"\t\treturn 0\n"
	"\tdone\n"
	"\treturn 1\n"
	"}\n"
	"lvm_volume() {\n"
	"\tcase $1 in\n"
	"\t/dev/mapper/* | /dev/*/*/* | /dev/*-*) ;;\n"
	"\t/dev/*/*) lvm_sysfs \"$1\" && return 0 ;;\n"
	"\tesac\n"
	"\tset -- $(lvs --noheadings --separator ' ' -o vg_name,lv_name,segtype -- \"$1\" 2>/dev/null)\n"
	"\t[ $# -ge 3 ] && vg=$1 lv=$2 segtype=$3\n"
	"}\n"
	/* disk N's snapshot: "N ID" on stdout, or why not on stderr */
	"snap_one() {\n"
	"\teval \"src=\\$XQ_VDI_$1_PARAMS dev=\\$XQ_VDI_$1_DEV\"\n"
	/* qdisk writes FORMAT:PATH */
	"\tcase $src in [a-z]*:/*) src=/${src#*:/} ;; esac\n"
	"\tif [ -b \"$src\" ] && lvm_volume \"$src\"; then\n"
	"\t\tif [ \"$segtype\" = thin ]; then\n"
	"\t\t\tlvcreate -qq -s -n \"$lv-$name\" -- \"$vg/$lv\" >&2\n"
	"\t\telse\n"
	"\t\t\tlvcreate -qq -s $size -n \"$lv-$name\" -- \"$vg/$lv\" >&2\n"
	"\t\tfi || { echo \"disk $dev: lvcreate of a snapshot of $vg/$lv failed\" >&2; return 1; }\n"
	"\t\techo \"$1 $vg/$lv-$name\"\n"
	"\telif [ -f \"$src\" ]; then\n"
	"\t\terr=$(cp --reflink=always -- \"$src\" \"$src.$name\" 2>&1) || {\n"
	"\t\t\trm -f -- \"$src.$name\"\n"
	"\t\t\techo \"disk $dev: no reflink copy of $src ($err): on a filesystem without reflinks (xfs and btrfs have them), give --command\" >&2\n"
	"\t\t\treturn 1\n"
	"\t\t}\n"
	"\t\techo \"$1 $src.$name\"\n"
	"\telse\n"
	"\t\techo \"disk $dev: $src is neither an LVM logical volume nor a file: give --command\" >&2\n"
	"\t\treturn 1\n"
	"\tfi\n"
	"}\n"
	/*
	 * All disks at once: each snapshot is mostly the LVM tools starting
	 * and reading metadata, which overlaps (LVM serializes the metadata
	 * updates of one volume group itself). Each line is one write, whole
	 * in the pipe whatever the order the disks finish in.
	 */
	"made=$(\n"
	"\ti=0\n"
	"\twhile [ \"$i\" -lt \"$XQ_VDI_COUNT\" ]; do\n"
	"\t\tsnap_one \"$i\" &\n"
	"\t\ti=$((i + 1))\n"
	"\tdone\n"
	"\twait\n"
	")\n"
	"nl='\n'\n"
	"all=\"$nl$made$nl\" i=0 out=\n"
	"while [ \"$i\" -lt \"$XQ_VDI_COUNT\" ]; do\n"
	"\tcase $all in *\"$nl$i \"*) ;; *) break ;; esac\n"
	"\tid=${all#*\"$nl$i \"}\n"
	"\teval \"vdi=\\$XQ_VDI_$i\"\n"
	"\tout=\"$out$vdi ${id%%\"$nl\"*}$nl\"\n"
	"\ti=$((i + 1))\n"
	"done\n"
	/* all or nothing */
	"if [ \"$i\" -lt \"$XQ_VDI_COUNT\" ]; then\n"
	"\tprintf '%s\\n' \"$made\" | while read -r i id; do\n"
	"\t\tcase $id in /*) rm -f -- \"$id\" ;; ?*) lvremove -qq -f -- \"$id\" ;; esac\n"
	"\tdone >/dev/null 2>&1\n"
	"\texit 1\n"
	"fi\n"
	"printf %s \"$out\"\n";

const char builtin_discard[] =
	"rc=0\n"
	"for id in ${XQ_SNAPSHOT_IDS:-}; do\n"
	"\tcase $id in\n"
	"\t*-xq-\"$XQ_SNAPSHOT_UUID\" | *.xq-\"$XQ_SNAPSHOT_UUID\") ;;\n"
	"\t*) echo \"$id: not a built-in snapshot of $XQ_SNAPSHOT_UUID; left\" >&2; rc=1; continue ;;\n"
	"\tesac\n"
	"\tcase $id in /*) rm -f -- \"$id\" ;; *) lvremove -qq -f -- \"$id\" >&2 ;; esac || rc=1\n"
	"done\n"
	"exit $rc\n";
