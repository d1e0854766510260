/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_SET_H
#define _XQ_SET_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xquiesce.h>

struct xq_set;

/* One superblock of the set. The set holds an active reference on it. */
struct xq_sb {
	struct super_block *sb;
	struct xq_set *set;
	struct work_struct sync_work;
	struct work_struct freeze_work;
	struct delayed_work thaw_work;	/* one attempt; requeued with a delay on failure */
	u32 level;
	u32 order;		/* tie-break within a level: devs[] index, then walk order */
	int index;		/* the first devs[] entry naming it, -1 if none */
	u32 flags;		/* XQ_FS_*, under set->lock */
	int err;		/* of the last pre-sync or freeze worker */
	int thaw_err;		/* set->lock: the last thaw attempt's error, 0 if none */
	unsigned int thaw_tries;	/* set->lock: failed thaw attempts */
	bool done;		/* set->lock: the worker has finished */
	bool running;		/* set->lock: a pre-sync or freeze worker is queued or running */
	bool frozen;		/* set->lock: we hold its freeze */
	bool thawing;		/* set->lock: a thaw attempt is queued or running */
	bool foreign_thaw;	/* set->lock: someone else thawed it under us */
	u64 sync_ns;
	u64 frozen_ns;
	char fstype[XQ_FSTYPE_LEN];
	char id[XQ_ID_LEN];
};

/* Why a FREEZE failed, for the err_* fields of struct xq_freeze. */
struct xq_failure {
	int err;		/* negative errno */
	int index;		/* devs[] entry, -1 if none */
	u32 major;
	u32 minor;
	char fstype[XQ_FSTYPE_LEN];
};

struct xq_set;
typedef void (*xq_settled_fn)(struct xq_set *set);

/*
 * The filesystems of one FREEZE, in freeze order (by level, then order).
 * Referenced by the hold and by each queued worker; a worker may outlive an
 * abandoned freeze call. set->lock is only ever held for bookkeeping, never
 * across freeze_super(), thaw_super() or sync_filesystem().
 */
struct xq_set {
	struct kref ref;
	struct list_head node;	/* in the list of live sets (select.c) */
	struct mutex lock;	/* every field below but n, sbs[].sb and the times */
	bool abandoned;		/* the caller stopped waiting: late freezes get thawed */
	bool cancelled;		/* a rescue thaw asked the freezing to stop */
	bool ending;		/* the thaw of the set has begun */
	unsigned int workers;	/* pre-sync and freeze workers queued or running */
	unsigned int nthawing;	/* thaw attempts queued or running */
	xq_settled_fn settled;	/* once ending: called when no thaw attempt is in flight */
	atomic_t pending;	/* workers of the current level not finished */
	wait_queue_head_t wq;	/* the freezing caller waits here for its level */
	u64 first_frozen_ns;	/* when the first filesystem froze */
	u64 frozen_ns;		/* when the last filesystem froze */
	unsigned int n;
	struct xq_sb sbs[];
};

/* select.c: makes sets, and frees them with their references */
struct xq_set *xq_set_select(const struct xq_dev *devs, u32 ndevs, bool blkfront,
			     u64 deadline_ns, const bool *cancel, struct xq_failure *fail);
/* walk.c: a rescue thaw set *cancel of the FREEZE selecting: wake its walk */
void xq_walk_wake(void);
void xq_set_put(struct xq_set *set);
u32 xq_sets_stuck(const struct xq_set *except);

/* freeze.c */
struct xq_thaw_result {
	u32 nfs;		/* filesystems we held and released */
	u32 nstill_frozen;	/* of those, still frozen by another holder */
	u32 nheld;		/* still held by us: their thaw failed, it is retried */
	bool cancelled;		/* someone else thawed one under us */
	u32 busy;		/* pre-sync or freeze workers still running */
	int err;		/* first thaw error other than that */
};

int xq_set_freeze(struct xq_set *set, bool presync, u64 deadline_ns, struct xq_failure *fail);
void xq_set_cancel(struct xq_set *set);
void xq_set_thaw_start(struct xq_set *set, xq_settled_fn settled);
unsigned int xq_set_thaw_retry(struct xq_set *set);
void xq_set_result(struct xq_set *set, struct xq_thaw_result *res);
u32 xq_set_report(struct xq_set *set, struct xq_fs *fs, u32 nfs_max, bool held_only);

#endif /* _XQ_SET_H */
