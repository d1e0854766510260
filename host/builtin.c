// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in snapshot backends. They run while the guest is frozen, so
 * only what takes milliseconds whatever the disk's size: an LVM snapshot,
 * a reflink copy. Anything else (a plain file on ext4, a ZFS volume, a
 * network disk) is refused with the disk named and --command as the way
 * out, instead of a full copy that would keep the guest frozen. A disk that
 * fails undoes the snapshots already made, so that a failed request leaves
 * nothing behind.
 *
 * They are shell scripts run like a user's --command: the same time limit,
 * the same kill of the whole process group, the same environment, and the
 * LVM tools' own argument handling instead of a reimplementation.
 */
#include "builtin.h"

const char builtin_snapshot[] =
	"set -u\n"
	"made=\n"
	"undo() {\n"
	"\tfor m in $made; do\n"
	"\t\tcase $m in /*) rm -f -- \"$m\" ;; *) lvremove -qq -f -- \"$m\" ;; esac\n"
	"\tdone >/dev/null 2>&1\n"
	"}\n"
	"fail() { echo \"$1\" >&2; undo; exit 1; }\n"
	"size=${XQ_LVM_SNAPSHOT_SIZE:-20%ORIGIN}\n"
	"case $size in *%*) size=\"-l $size\" ;; *) size=\"-L $size\" ;; esac\n"
	"i=0\n"
	"while [ \"$i\" -lt \"$XQ_VDI_COUNT\" ]; do\n"
	"\teval \"vdi=\\$XQ_VDI_$i src=\\$XQ_VDI_${i}_PARAMS dev=\\$XQ_VDI_${i}_DEV\"\n"
	/* qdisk writes FORMAT:PATH */
	"\tcase $src in [a-z]*:/*) src=/${src#*:/} ;; esac\n"
	"\tname=xq-$XQ_SNAPSHOT_UUID\n"
	"\tif [ -b \"$src\" ] && lv=$(lvs --noheadings --separator ' ' -o vg_name,lv_name,segtype -- \"$src\" 2>/dev/null) &&\n"
	"\t\t[ -n \"$lv\" ]; then\n"
	"\t\tset -- $lv\n"
	"\t\tsnap=$1/$2-$name\n"
	"\t\tif [ \"$3\" = thin ]; then\n"
	"\t\t\tlvcreate -qq -s -n \"$2-$name\" -- \"$1/$2\" >&2\n"
	"\t\telse\n"
	"\t\t\tlvcreate -qq -s $size -n \"$2-$name\" -- \"$1/$2\" >&2\n"
	"\t\tfi || fail \"disk $dev: lvcreate of a snapshot of $1/$2 failed\"\n"
	"\telif [ -f \"$src\" ]; then\n"
	"\t\tsnap=$src.$name\n"
	"\t\terr=$(cp --reflink=always -- \"$src\" \"$snap\" 2>&1) ||\n"
	"\t\t\t{ rm -f -- \"$snap\"; fail \"disk $dev: no reflink copy of $src ($err): on a filesystem without reflinks (xfs and btrfs have them), give --command\"; }\n"
	"\telse\n"
	"\t\tfail \"disk $dev: $src is neither an LVM logical volume nor a file: give --command\"\n"
	"\tfi\n"
	"\tmade=\"$made $snap\"\n"
	"\techo \"$vdi $snap\"\n"
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
