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
	 * Sets vg, lv and segtype when $1 is an LVM logical volume. Under load
	 * a run of lvs costs about as much as the snapshot itself, so a volume
	 * named /dev/VG/LV is read from sysfs: device-mapper's uuid says LVM,
	 * its name must be VG-LV, and a thin pool under it makes it thin. Other
	 * names (and names with a '-', which device-mapper doubles), and what
	 * sysfs does not confirm, are asked of lvs.
	 */
	"lvm_sysfs() {\n"
	"\tmm=$(stat -L -c '%t %T' -- \"$1\") || return 1\n"
	"\tset -- \"$1\" $mm\n"
	"\tsys=/sys/dev/block/$((0x$2)):$((0x$3))\n"
	"\tvg=${1#/dev/} lv=${1##*/}\n"
	"\tvg=${vg%/*}\n"
	"\t[ -r \"$sys/dm/uuid\" ] && read -r uuid <\"$sys/dm/uuid\" && read -r dm <\"$sys/dm/name\" &&\n"
	"\t\t[ \"$dm\" = \"$vg-$lv\" ] || return 1\n"
	"\tcase $uuid in LVM-*) ;; *) return 1 ;; esac\n"
	"\tsegtype=linear\n"
	"\tfor under in \"$sys\"/slaves/*/dm/uuid; do\n"
	"\t\t[ -r \"$under\" ] && read -r uuid <\"$under\" || continue\n"
	"\t\tcase $uuid in *-tpool) segtype=thin ;; esac\n"
	"\tdone\n"
	"}\n"
	"lvm_volume() {\n"
	"\tcase $1 in\n"
	"\t/dev/mapper/* | /dev/*/*/* | /dev/*-*) ;;\n"
	"\t/dev/*/*) lvm_sysfs \"$1\" && return 0 ;;\n"
	"\tesac\n"
	"\tset -- $(lvs --noheadings --separator ' ' -o vg_name,lv_name,segtype -- \"$1\" 2>/dev/null)\n"
	"\t[ $# -ge 3 ] && vg=$1 lv=$2 segtype=$3\n"
	"}\n"
	/* disk N's snapshot: its id on stdout, or why not on stderr */
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
	"\t\techo \"$vg/$lv-$name\"\n"
	"\telif [ -f \"$src\" ]; then\n"
	"\t\terr=$(cp --reflink=always -- \"$src\" \"$src.$name\" 2>&1) || {\n"
	"\t\t\trm -f -- \"$src.$name\"\n"
	"\t\t\techo \"disk $dev: no reflink copy of $src ($err): on a filesystem without reflinks (xfs and btrfs have them), give --command\" >&2\n"
	"\t\t\treturn 1\n"
	"\t\t}\n"
	"\t\techo \"$src.$name\"\n"
	"\telse\n"
	"\t\techo \"disk $dev: $src is neither an LVM logical volume nor a file: give --command\" >&2\n"
	"\t\treturn 1\n"
	"\tfi\n"
	"}\n"
	/*
	 * All disks at once: each snapshot is mostly the LVM tools starting
	 * and reading metadata, which overlaps (LVM serializes the metadata
	 * updates of one volume group itself).
	 */
	"out=$(mktemp -d) || exit 1\n"
	"trap 'rm -rf -- \"$out\"' EXIT\n"
	"i=0 jobs=\n"
	"while [ \"$i\" -lt \"$XQ_VDI_COUNT\" ]; do\n"
	"\tsnap_one \"$i\" >\"$out/$i\" &\n"
	"\tjobs=\"$jobs $!\"\n"
	"\ti=$((i + 1))\n"
	"done\n"
	"i=0 made= failed=\n"
	"for job in $jobs; do\n"
	"\tif wait \"$job\"; then made=\"$made $(cat \"$out/$i\")\"; else failed=1; fi\n"
	"\ti=$((i + 1))\n"
	"done\n"
	/* all or nothing */
	"if [ -n \"$failed\" ]; then\n"
	"\tfor m in $made; do\n"
	"\t\tcase $m in /*) rm -f -- \"$m\" ;; *) lvremove -qq -f -- \"$m\" ;; esac\n"
	"\tdone >/dev/null 2>&1\n"
	"\texit 1\n"
	"fi\n"
	"i=0\n"
	"for m in $made; do\n"
	"\teval \"vdi=\\$XQ_VDI_$i\"\n"
	"\techo \"$vdi $m\"\n"
	"\ti=$((i + 1))\n"
	"done\n";

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
