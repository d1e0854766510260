/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_DM_H
#define XQUIESCE_HOST_DM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The few device-mapper ioctls the built-in snapshots make while the guest
 * is frozen: each is a system call, where the LVM tools would cost a
 * process start, a device scan and two metadata commits per disk. A device
 * is named by its device-mapper name, or by its number when name is NULL.
 * Every call returns 0 or -errno.
 */

struct dm_device {
	char name[128];
	char uuid[129];
	dev_t dev;
	unsigned int open_count;
	bool suspended;
};

/* A table of one target, as LVM builds for a snapshot, its origin or a thin volume. */
struct dm_table {
	uint64_t length;	/* sectors */
	char type[16];
	char params[512];
};

int dm_open(void);
int dm_status(int control, const char *name, dev_t dev, struct dm_device *out);
/* The live table; -EMSGSIZE for more than one target. */
int dm_table_read(int control, const char *name, struct dm_table *out);
/* Into the inactive slot: live at the next dm_resume. */
int dm_table_load(int control, const char *name, const struct dm_table *table);
/* Suspends with a flush: I/O in flight completes, new I/O waits. */
int dm_suspend(int control, const char *name);
/* Resumes, swapping in a loaded table if there is one. */
int dm_resume(int control, const char *name);
int dm_message(int control, dev_t dev, const char *message);
/* "vg-lv" as device-mapper names LVM's volume: each '-' in either doubled. */
int dm_lvm_name(char *out, size_t size, const char *vg, const char *lv);

#endif
