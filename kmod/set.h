/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_SET_H
#define _XQ_SET_H

#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/xquiesce.h>

struct xq_set;

/* One superblock of the set. The set holds an active reference on it. */
struct xq_sb {
	struct super_block *sb;
	struct xq_set *set;
	struct work_struct sync_work;
	struct work_struct freeze_work;
	u32 level;
	u32 order;		/* tie-break within a level: devs[] index, then walk order */
	u32 flags;		/* XQ_FS_* */
	int err;		/* of the last pre-sync or freeze worker */
	bool done;		/* set->lock: the worker has finished */
	bool frozen;		/* set->lock while workers run: we hold its freeze */
	u64 sync_ns;
	u64 frozen_ns;
	char fstype[XQ_FSTYPE_LEN];
	char id[XQ_ID_LEN];
};

/* Why a FREEZE failed, for the err_* fields of struct xq_freeze. */
struct xq_failure {
	int err;		/* negative errno */
	u32 major;
	u32 minor;
	char fstype[XQ_FSTYPE_LEN];
};

/*
 * The filesystems of one FREEZE, in freeze order (by level, then order).
 * Referenced by the freeze call, by each queued worker and, once frozen, by
 * the hold; a worker may outlive an abandoned freeze call.
 */
struct xq_set {
	struct kref ref;
	struct mutex lock;	/* entries' done/frozen and abandoned while workers run */
	bool abandoned;		/* the caller stopped waiting: late freezes undo themselves */
	atomic_t pending;	/* workers of the current level not finished */
	struct completion level_done;
	u64 frozen_ns;		/* when the last filesystem froze */
	unsigned int n;
	struct xq_sb sbs[];
};

/* select.c: makes sets, and frees them with their references */
struct xq_set *xq_set_select(const struct xq_dev *devs, u32 ndevs, bool blkfront,
			     struct xq_failure *fail);
void xq_set_put(struct xq_set *set);

/* freeze.c */
struct xq_thaw_result {
	u32 nfs;		/* filesystems we held and released */
	u32 nstill_frozen;	/* of those, still frozen by another holder */
	bool cancelled;		/* someone else thawed one under us */
	int err;		/* first thaw error other than that */
};

int xq_set_freeze(struct xq_set *set, bool presync, u64 deadline_ns, struct xq_failure *fail);
void xq_set_thaw(struct xq_set *set, struct xq_thaw_result *res);
void xq_set_report(const struct xq_set *set, struct xq_fs *fs, u32 nfs_max);

#endif /* _XQ_SET_H */
