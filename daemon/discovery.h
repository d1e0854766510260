/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which filesystems live on the guest's Xen disks, from sysfs and
 * mountinfo: through partitions, dm/LVM, md, loop devices (via the
 * filesystem holding the backing file) and multi-device btrfs. Every
 * superblock appears once, named by its device number as mountinfo gives
 * it (sb->s_dev, also right for btrfs' anonymous device).
 */
#ifndef _XQ_DISCOVERY_H
#define _XQ_DISCOVERY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xq_config;

#define DISC_NAME_LEN	32
#define DISC_MAX_DISKS	256
#define DISC_FSTYPE_LEN	32

/* Where to look; NULL members mean the real system. */
struct discovery_roots {
	const char *sysfs;	/* default "/sys" */
	const char *mountinfo;	/* default "/proc/self/mountinfo" */
	const char *dev;	/* default "/dev": resolves mount sources */
	/*
	 * Extra block devices (e.g. "loop3") to treat as Xen disks, for
	 * tests on machines without Xen. NULL-terminated, or NULL.
	 */
	const char *const *test_as_xen_disks;
};

struct disc_disk {
	char name[DISC_NAME_LEN];	/* "xvda" */
	unsigned int major, minor;
	unsigned int devid;		/* xenstore device/vbd/<devid>; 0 if not Xen */
};

struct disc_fs {
	unsigned int major, minor;	/* superblock device (sb->s_dev) */
	unsigned int level;		/* freeze order: lower first */
	char fstype[DISC_FSTYPE_LEN];
	char source[PATH_MAX];		/* mount source, "/dev/mapper/vg-lv" */
	char mountpoint[PATH_MAX];	/* one of its mount points */
	uint64_t on_disks[DISC_MAX_DISKS / 64];	/* bit i: lies on disks[i] */
	const char *excluded;		/* NULL, or why it is not frozen */
	unsigned int nmounts;		/* mounts of this superblock */
};

struct discovery {
	struct disc_disk *disks;
	size_t ndisks;
	struct disc_fs *fs;
	size_t nfs;
};

/*
 * Scans every Xen disk and every filesystem on them. FUSE filesystems and
 * those cfg (may be NULL) excludes stay listed with excluded saying why,
 * so that callers can report them. 0 or -errno.
 */
int discovery_scan(struct discovery *d, const struct discovery_roots *roots,
		   const struct xq_config *cfg);
void discovery_free(struct discovery *d);

/* At most this many test disks (test_as_xen_disks). */
#define DISC_MAX_TEST_DISKS	8

/*
 * Checks a name for test_as_xen_disks: a whole block device of this
 * system, as /sys/block names it ("loop3", not "/dev/loop3"). 0, -EINVAL
 * for a name that cannot be one, or -ENODEV when there is no such device.
 */
int discovery_check_test_disk(const char *name);

/* The disk for a xenstore VBD: "51712" or "device/vbd/51712". NULL if none. */
const struct disc_disk *discovery_find_vbd(const struct discovery *d,
					   const char *vbd);
/* Whether fs lies (even partly) on disk. */
bool discovery_fs_on_disk(const struct discovery *d, const struct disc_fs *fs,
			  const struct disc_disk *disk);

#endif /* _XQ_DISCOVERY_H */
