// SPDX-License-Identifier: GPL-2.0
/*
 * The blkfront walk: every superblock on a Xen blkfront disk, of the given
 * filesystem types, including those mounted in other mount namespaces,
 * which only the kernel sees.
 *
 * iterate_supers_type(), the only superblock walk exported on every
 * supported kernel, takes each superblock's s_umount before calling back,
 * and waits for it uninterruptibly. A superblock whose s_umount is held by
 * a freeze stuck in I/O that never completes (ours, from an earlier
 * FREEZE, or anyone's) would keep the caller in D state for good. So the
 * walk runs in a worker, which the FREEZE call waits for killably and no
 * longer than its deadline; a walk the caller gave up on finishes on its
 * own and lets go of what it found. Superblocks a worker of ours still has
 * in hand are known (xq_sb_busy()): the walk is not even started over
 * their type. A rescue thaw stops the wait too.
 */
#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "main.h"
#include "select.h"

/* Walk done, or a rescue thaw: the FREEZE caller waits here. */
static DECLARE_WAIT_QUEUE_HEAD(xq_walk_wq);

void xq_walk_wake(void)
{
	wake_up_all(&xq_walk_wq);
}

struct xq_walk {
	struct kref ref;
	struct work_struct work;
	struct completion done;
	unsigned int ntypes;
	unsigned int cur;	/* the type being walked, for the error */
	unsigned int nfound;
	int err;
	struct file_system_type *types[XQ_MAX_DEVS];
	struct super_block *found[XQ_MAX_DEVS];
};

static void xq_walk_release(struct kref *ref)
{
	struct xq_walk *w = container_of(ref, struct xq_walk, ref);
	unsigned int i;

	for (i = 0; i < w->nfound; i++)
		deactivate_super(w->found[i]);
	for (i = 0; i < w->ntypes; i++)
		module_put(w->types[i]->owner);
	kfree(w);
	module_put(THIS_MODULE);
}

/* Called with s_umount held shared: only pinned here, frozen later. */
static void xq_walk_sb(struct super_block *sb, void *arg)
{
	struct xq_walk *w = arg;
	unsigned int i;

	if (w->err || !xq_sb_is_blkfront(sb))
		return;
	for (i = 0; i < w->nfound; i++)
		if (w->found[i] == sb)
			return;
	if (w->nfound == XQ_MAX_DEVS) {
		w->err = -E2BIG;
		return;
	}
	if (atomic_inc_not_zero(&sb->s_active))
		w->found[w->nfound++] = sb;
}

static void xq_walk_work(struct work_struct *work)
{
	struct xq_walk *w = container_of(work, struct xq_walk, work);
	unsigned int i;

	for (i = 0; i < w->ntypes && !w->err; i++) {
		WRITE_ONCE(w->cur, i);
		iterate_supers_type(w->types[i], xq_walk_sb, w);
	}
	complete(&w->done);
	wake_up_all(&xq_walk_wq);
	kref_put(&w->ref, xq_walk_release);
}

/**
 * xq_walk_blkfront - pin the superblocks on blkfront disks of @types
 * @types: filesystem types; the walk takes its own references
 * @ntypes: entries in @types
 * @deadline_ns: CLOCK_MONOTONIC time by which the walk must be done
 * @cancel: when it becomes true (with xq_walk_wake()), stop waiting
 * @found: out, at most XQ_MAX_DEVS, each with an active reference
 * @nfound: out
 * @fail: on error, which superblock or type and why
 *
 * Returns 0, -EBUSY when a worker of ours holds a superblock of one of
 * the types, -ETIMEDOUT or -EINTR when the walk did not finish in time,
 * -ECANCELED after a rescue thaw.
 */
int xq_walk_blkfront(struct file_system_type *const *types, unsigned int ntypes,
		     u64 deadline_ns, const bool *cancel, struct super_block **found,
		     unsigned int *nfound, struct xq_failure *fail)
{
	u64 now = ktime_get_ns();
	struct xq_walk *w;
	unsigned int i;
	long left;
	int err;

	*nfound = 0;
	for (i = 0; i < ntypes; i++) {
		if (xq_sb_busy(NULL, types[i], fail))
			return -EBUSY;
	}
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	kref_init(&w->ref);
	INIT_WORK(&w->work, xq_walk_work);
	init_completion(&w->done);
	__module_get(THIS_MODULE);
	for (i = 0; i < ntypes; i++) {
		if (!try_module_get(types[i]->owner))
			continue;	/* being unloaded: no superblock left */
		w->types[w->ntypes++] = types[i];
	}

	kref_get(&w->ref);
	queue_work(xq_wq, &w->work);
	left = deadline_ns > now ? nsecs_to_jiffies(deadline_ns - now) + 1 : 1;
	left = wait_event_killable_timeout(xq_walk_wq, completion_done(&w->done) ||
					   READ_ONCE(*cancel), left);
	if (left > 0 && !completion_done(&w->done))
		left = -ECANCELED;
	if (left > 0) {
		err = w->err;
		if (!err) {
			memcpy(found, w->found, w->nfound * sizeof(*found));
			*nfound = w->nfound;
			w->nfound = 0;
		}
	} else {
		err = left == -ECANCELED ? left : left ? -EINTR : -ETIMEDOUT;
		i = READ_ONCE(w->cur);
		if (i < w->ntypes)
			strscpy(fail->fstype, w->types[i]->name, sizeof(fail->fstype));
		pr_warn("stopped waiting for the superblock walk over %s (%d): a superblock's s_umount held?\n",
			fail->fstype[0] ? fail->fstype : "?", err);
	}
	kref_put(&w->ref, xq_walk_release);
	return err;
}
