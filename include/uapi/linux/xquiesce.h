/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xquiesce: freeze every filesystem of a Xen guest's disks in one call.
 *
 * The misc device /dev/xquiesce (mode 0600; every ioctl also requires
 * CAP_SYS_ADMIN) takes three commands.
 *
 * XQ_IOC_FREEZE freezes a set of filesystems, all or nothing. The set is
 *   the union of
 *   - the filesystems named in devs[], each by a file descriptor of any
 *     file or directory on it (an O_PATH descriptor of its mount point is
 *     the usual choice): the kernel takes the superblock of the
 *     descriptor's mount, so bind mounts, btrfs subvolumes, mount
 *     namespaces and chroots need nothing more, and the kernel reads no
 *     file and resolves no path. It must be a block filesystem
 *     (FS_REQUIRES_DEV, not FUSE), else ENOTBLK; a descriptor that is not
 *     open gets EBADF;
 *   - every block filesystem whose device is a Xen blkfront disk (major 202,
 *     driver "vbd", partitions included), when XQ_FREEZE_BLKFRONT is set.
 *     Only the kernel sees those in other mount namespaces, so it walks
 *     the superblocks itself, of the filesystem types of the descriptors
 *     in devs[] (it cannot list the registered types without reading
 *     /proc/filesystems or loading modules): an entry with XQ_DEV_TYPE_ONLY
 *     names a type to walk without asking for its own filesystem.
 *   A superblock that a worker of an earlier FREEZE still has in hand (its
 *   I/O never completes: a suspended dm device, a dead backend) is never
 *   waited for: naming it gets EBUSY at once, and a walk over its type
 *   too, both naming it in err_*.
 *   Each superblock is frozen once, whatever the number of its mounts.
 *   Filesystems are frozen by level: every devs[] entry of level 0 first
 *   (concurrently), then level 1, and so on; blkfront filesystems found by
 *   XQ_FREEZE_BLKFRONT and not named in devs[] share the highest level used.
 *   Userspace gives a filesystem that sits on a loop device a lower level
 *   than the filesystem holding the loop's backing file, since the upper one
 *   must be frozen while the lower one can still take its flush; the module
 *   cannot see loop backing files. A wrong order makes the upper one's
 *   freeze block until the timeout: the call then fails with ETIMEDOUT,
 *   never a deadlock (thaws do not depend on any order, see below).
 *   timeout_ms is 0 (the module's default) or at least 100; it is capped by
 *   the module parameter max_timeout_ms.
 *   On failure everything already frozen is thawed, the call returns -1
 *   with errno set, and err_major/err_minor/err_errno/err_fstype say which
 *   device failed and why, err_index which devs[] entry (-1: none, or a
 *   filesystem the walk found) (the other output fields are zero, except
 *   start_ns and timeout_ms_used once the call got that far).
 *   On success fs[] lists what was frozen (up to nfs_max entries; nfs is the
 *   true count) and the freeze is held by the open file description that
 *   made the call, until one of:
 *   - XQ_IOC_THAW on that file;
 *   - the deadline: timeout_ms after the FIRST filesystem of the set froze
 *     (deadline_ns; min of fs[].frozen_ns plus the timeout);
 *   - the release of that file (close of the last descriptor, exit, crash,
 *     SIGKILL of the holder);
 *   - XQ_IOC_THAW with XQ_THAW_ANY from any other opener (rescue).
 *   Only one freeze exists at a time: a second FREEZE fails with EBUSY, as
 *   does a FREEZE while the previous one is still being thawed (STATUS says
 *   XQ_STATE_THAWING).
 *
 * The guarantees, as far as the VM tests show them (tests/vm):
 * - no filesystem stays frozen by the module longer than the timeout plus
 *   the time its thaw takes, counted from the moment the first one froze:
 *   the FREEZE call gives up at its start plus the timeout, and the
 *   watchdog thaws at the first freeze plus the timeout (it runs late by
 *   a few ms; the tests allow 250 ms);
 * - the FREEZE call returns within the timeout plus 1 s (the wait for its
 *   rollback), and at once on SIGKILL, whatever the disks do: the
 *   superblock walk runs in a worker the call waits for killably, within
 *   the timeout. A worker stuck in I/O that never completes does not keep
 *   the module busy: once nothing is frozen the module is idle again
 *   (STATUS, THAW_ANY and a FREEZE of other filesystems work), and the
 *   worker thaws its filesystem itself if its freeze ever completes;
 * - every thaw (THAW, deadline, release, rescue, rollback) thaws all
 *   filesystems of the set concurrently, one worker each, holding no lock
 *   that STATUS, the watchdog or a rescue thaw need; a filesystem on a loop
 *   device whose image lives on another of the set thaws once that one has;
 * - a thaw that fails is reported (THAW returns its error, STATUS lists the
 *   filesystem with XQ_FS_THAW_FAILED in state XQ_STATE_THAWING) and
 *   retried by the module, 100 ms to 1 s apart, until it succeeds.
 *
 * XQ_IOC_THAW thaws and reports how long the freeze was held. It waits for
 *   the thaw, killably (EINTR; the thaw goes on). It fails with ETIMEDOUT
 *   when the watchdog already thawed because the deadline passed, with
 *   ECANCELED when the freeze was undone by a rescue thaw or by someone
 *   else's thaw (FITHAW on kernels without freeze holders), with EALREADY
 *   when this file holds no freeze, with the filesystem's error when a thaw
 *   failed (the module keeps retrying it), and with EBUSY while a worker of
 *   the set is still running. In the ETIMEDOUT and ECANCELED cases the
 *   snapshot taken meanwhile may not be consistent. A rescue thaw during a
 *   FREEZE stops that FREEZE (which fails with ECANCELED), also while it
 *   still waits for its superblock walk, and returns once it has rolled
 *   back; a rescue waits at most 1 s for a thaw already under way, then
 *   returns EBUSY or the thaw's error.
 *
 * XQ_IOC_STATUS reports whether a freeze is held, what it holds (while
 *   THAWING: what is still frozen), the time left before its deadline, how
 *   the last freeze ended, and how many workers of ended freezes are still
 *   in a sync or freeze (nstuck: I/O that does not complete; the kernel log
 *   names a filesystem whenever a FREEZE meets one). Every output field is
 *   written.
 *
 * Every argument structure starts with its own size. The kernel accepts
 * any size from the first published version of the structure up to
 * XQ_MAX_STRUCT_SIZE, provided that bytes it does not know about are zero;
 * output is written only up to the size the caller passed. Unknown flags,
 * non-zero reserved fields, counts above XQ_MAX_DEVS and sizes out of range
 * are refused with EINVAL, unreadable or unwritable memory with EFAULT.
 *
 * The kernel matches whole command numbers. The size encoded in them stays
 * that of each structure's first version (128, 56 and 104 bytes) as the
 * structures grow. The magic 0xBE is unassigned in the kernel's
 * Documentation/userspace-api/ioctl/ioctl-number.rst; ABI 1 used 0xB7,
 * nsfs's NSIO, and matched type and number only, so that NS_GET_PARENT sent
 * here decoded as THAW, and named filesystems by device number, which the
 * kernel resolved by reading /proc files and looking up mount points. ABI 1
 * was never released: ABI 2 replaces it.
 *
 * Times are CLOCK_MONOTONIC nanoseconds, comparable with clock_gettime().
 */
#ifndef _UAPI_LINUX_XQUIESCE_H
#define _UAPI_LINUX_XQUIESCE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define XQ_DEVICE_NAME		"xquiesce"
#define XQ_ABI_VERSION		2

#define XQ_MAX_DEVS		256
#define XQ_MAX_STRUCT_SIZE	4096
#define XQ_FSTYPE_LEN		16
#define XQ_ID_LEN		32

/* A filesystem to freeze, named by a file descriptor of a file on it. */
struct xq_dev {
	__s32 fd;		/* O_PATH or any other descriptor */
	__u32 level;		/* freeze order: lower levels freeze first */
	__u32 flags;		/* XQ_DEV_* */
	__u32 reserved;		/* must be zero */
};

/* Only: walk this filesystem's type for XQ_FREEZE_BLKFRONT; level is ignored. */
#define XQ_DEV_TYPE_ONLY	(1U << 0)
#define XQ_DEV_FLAGS		(XQ_DEV_TYPE_ONLY)

/* A filesystem the module froze. */
struct xq_fs {
	__u32 major;		/* sb->s_dev */
	__u32 minor;
	__u32 level;
	__u32 flags;		/* XQ_FS_* */
	__u64 frozen_ns;	/* when it became frozen */
	__u64 sync_ns;		/* pre-sync time spent on it, 0 without pre-sync */
	char fstype[XQ_FSTYPE_LEN];	/* "ext4", "xfs", "btrfs", ... */
	char id[XQ_ID_LEN];		/* sb->s_id: "xvda1", "dm-0", ... */
};

/* The filesystem lies on a Xen blkfront disk, seen by the module itself. */
#define XQ_FS_BLKFRONT		(1U << 0)
/* Another holder (a userspace FIFREEZE) still held it after our thaw. */
#define XQ_FS_STILL_FROZEN	(1U << 1)
/* Our thaw of it failed: it is still frozen, the module retries. */
#define XQ_FS_THAW_FAILED	(1U << 2)

/* Also freeze every filesystem on a blkfront disk. */
#define XQ_FREEZE_BLKFRONT	(1U << 0)
/* Sync every filesystem concurrently while it is still writable, first. */
#define XQ_FREEZE_PRESYNC	(1U << 1)
#define XQ_FREEZE_FLAGS		(XQ_FREEZE_BLKFRONT | XQ_FREEZE_PRESYNC)

struct xq_freeze {
	__u32 size;		/* sizeof(struct xq_freeze) */
	__u32 flags;		/* XQ_FREEZE_* */
	__u32 timeout_ms;	/* 0: default; else at least 100 */
	__u32 ndevs;		/* entries in devs, at most XQ_MAX_DEVS */
	__u64 devs;		/* in: struct xq_dev * */
	__u64 fs;		/* out: struct xq_fs *, room for nfs_max */
	__u32 nfs_max;		/* at most XQ_MAX_DEVS */
	__u32 nfs;		/* out: filesystems frozen */
	__u64 start_ns;		/* out: when the call started */
	__u64 frozen_ns;	/* out: when the last filesystem froze */
	__u64 deadline_ns;	/* out: first freeze + timeout: the watchdog thaws */
	__u32 timeout_ms_used;	/* out: timeout after capping */
	__s32 err_errno;	/* out, on failure: positive errno */
	__u32 err_major;	/* out, on failure: the device that failed */
	__u32 err_minor;
	char err_fstype[XQ_FSTYPE_LEN];	/* out, on failure, when known */
	__s32 err_index;	/* out, on failure: the devs[] entry, or -1 */
	__u32 reserved0;	/* must be zero */
	__u64 reserved[3];	/* must be zero */
};

/* Thaw the freeze whoever holds it (rescue; needs CAP_SYS_ADMIN only). */
#define XQ_THAW_ANY		(1U << 0)
#define XQ_THAW_FLAGS		(XQ_THAW_ANY)

struct xq_thaw {
	__u32 size;		/* sizeof(struct xq_thaw) */
	__u32 flags;		/* XQ_THAW_* */
	__u64 held_ns;		/* out: from the last freeze to the thaw */
	__u32 nfs;		/* out: filesystems thawed */
	__u32 nstill_frozen;	/* out: of those, still held by someone else */
	__u64 reserved[4];	/* must be zero */
};

enum xq_state {
	XQ_STATE_IDLE = 0,
	XQ_STATE_FREEZING = 1,
	XQ_STATE_FROZEN = 2,
	XQ_STATE_THAWING = 3,
};

/* How the last freeze ended. */
enum xq_end {
	XQ_END_NONE = 0,	/* no freeze yet since the module loaded */
	XQ_END_THAW = 1,	/* XQ_IOC_THAW by its holder */
	XQ_END_DEADLINE = 2,	/* the watchdog thawed at the deadline */
	XQ_END_RELEASED = 3,	/* the holder's file was released */
	XQ_END_RESCUE = 4,	/* XQ_IOC_THAW with XQ_THAW_ANY */
	XQ_END_FAILED = 5,	/* the freeze failed and was rolled back */
};

/* The kernel keeps the freeze against FITHAW and emergency thaw (6.6+). */
#define XQ_FEATURE_KERNEL_HOLDER	(1U << 0)
/* The freeze is exclusive to the module (freeze owner, 6.16+). */
#define XQ_FEATURE_EXCLUSIVE		(1U << 1)
/* Built with test-only fault injection. */
#define XQ_FEATURE_FAULT_INJECTION	(1U << 31)

struct xq_status {
	__u32 size;		/* sizeof(struct xq_status) */
	__u32 flags;		/* none defined yet: zero */
	__u32 abi_version;	/* out: XQ_ABI_VERSION */
	__u32 features;		/* out: XQ_FEATURE_* */
	__u32 state;		/* out: enum xq_state */
	__u32 last_end;		/* out: enum xq_end */
	__s32 holder_pid;	/* out: tgid that froze, 0 when idle */
	__u32 max_timeout_ms;	/* out: the module's cap */
	__u64 frozen_ns;	/* out: when the current/last freeze completed */
	__u64 remaining_ns;	/* out: time left before the deadline */
	__u64 held_ns;		/* out: how long the last freeze was held */
	__u64 fs;		/* out: struct xq_fs *, room for nfs_max */
	__u32 nfs_max;		/* at most XQ_MAX_DEVS */
	__u32 nfs;		/* out: filesystems currently frozen */
	__u32 nstuck;		/* out: workers of ended freezes still running */
	__u32 reserved0;	/* must be zero */
	__u64 reserved[3];	/* must be zero */
};

#define XQ_IOC_MAGIC		0xBE
#define XQ_IOC_FREEZE		_IOWR(XQ_IOC_MAGIC, 1, struct xq_freeze)
#define XQ_IOC_THAW		_IOWR(XQ_IOC_MAGIC, 2, struct xq_thaw)
#define XQ_IOC_STATUS		_IOWR(XQ_IOC_MAGIC, 3, struct xq_status)

#endif /* _UAPI_LINUX_XQUIESCE_H */
