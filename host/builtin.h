/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_BUILTIN_H
#define XQUIESCE_HOST_BUILTIN_H

#include <stdbool.h>
#include <stddef.h>

#include "disks.h"

/*
 * The built-in snapshot, for hosts without XAPI: per disk, an LVM snapshot
 * of a logical volume (thick or thin), or a reflink copy of a file on a
 * filesystem that has them (xfs, btrfs); all or nothing.
 *
 * In three steps, so that the guest stays frozen for system calls only:
 * builtin_stage, before the request, makes each snapshot with the LVM tools
 * (or cp's equivalent) under a name that says it is not one yet,
 * vg/lv-xq-staged-<uuid> or FILE.xq-staged-<uuid>; builtin_capture, while
 * the guest is frozen, moves each one's point in time to now with
 * device-mapper ioctls (or a reflink); builtin_commit, once the guest
 * confirmed, gives them their names, vg/lv-xq-<uuid> and FILE.xq-<uuid>.
 * builtin_discard removes them at any step.
 */

struct staged_disk;

struct builtin {
	struct staged_disk *disk;
	unsigned int n;
	int control;		/* /dev/mapper/control, -1 until an LVM disk needs it */
	char uuid[37];		/* the snapshot's */
};

/*
 * Every disk of the VM, in its order. Returns 0, or -errno with why (the
 * disk named, and the way out) in why; what was made is then removed.
 */
int builtin_stage(struct builtin *b, const struct disks *disks, const char *uuid, char *why,
		  size_t why_size);
/*
 * The disks the guest listed (their VDI uuids), in the VM's order; the
 * others are left to builtin_commit or builtin_discard, which run once the
 * guest has thawed. Appends "VDI-UUID ID" lines, ID the name the
 * snapshot will have, to *ids (malloc'ed). Returns 0 or -errno with why.
 */
int builtin_capture(struct builtin *b, char *const requested[], unsigned int nreq, char **ids,
		    char *why, size_t why_size);
/* Renames the captured snapshots, durably, and removes the others. */
int builtin_commit(struct builtin *b, char *why, size_t why_size);
/* Removes whatever is left. Returns how many could not be removed (named on stderr). */
unsigned int builtin_discard(struct builtin *b);
void builtin_free(struct builtin *b);

#endif
