// SPDX-License-Identifier: GPL-2.0
/*
 * Freezing and thawing a selected set of superblocks.
 *
 * Levels are frozen in order and the superblocks of one level concurrently,
 * one worker each: a filesystem on a loop device must be frozen while the
 * filesystem holding its backing file can still take its flush, and freezing
 * one superblock after another leaves the first frozen while the last still
 * flushes. The optional pre-sync pass syncs every filesystem, level by level,
 * while all are still writable, so that the freeze itself has little to
 * write.
 *
 * The caller waits for each level until the freeze deadline, killably. If a
 * worker is stuck (a wrongly ordered loop stack blocks forever on a frozen
 * lower filesystem), the caller abandons the set: it thaws what is frozen,
 * which usually unblocks the stuck worker, and a worker that finishes after
 * that thaws its own superblock. Nothing stays frozen past the deadline
 * because of us.
 */
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "fault.h"
#include "main.h"
#include "set.h"

static bool xq_sb_still_frozen(const struct xq_sb *s)
{
	return READ_ONCE(s->sb->s_writers.frozen) != SB_UNFROZEN;
}

static void xq_sb_finish(struct xq_sb *s, int err)
{
	struct xq_set *set = s->set;

	mutex_lock(&set->lock);
	s->err = err;
	s->done = true;
	mutex_unlock(&set->lock);
	if (atomic_dec_and_test(&set->pending))
		complete(&set->level_done);
	xq_set_put(set);
}

/* sync_filesystem() must run with s_umount held, or the kernel WARNs. */
static void xq_sb_sync_work(struct work_struct *work)
{
	struct xq_sb *s = container_of(work, struct xq_sb, sync_work);
	u64 start = ktime_get_ns();
	int err;

	down_read(&s->sb->s_umount);
	err = sync_filesystem(s->sb);
	up_read(&s->sb->s_umount);
	s->sync_ns = ktime_get_ns() - start;
	xq_sb_finish(s, err);
}

static void xq_sb_freeze_work(struct work_struct *work)
{
	struct xq_sb *s = container_of(work, struct xq_sb, freeze_work);
	struct xq_set *set = s->set;
	bool undo = false;
	int err;

	if (xq_fault_fail_freeze(s - set->sbs + 1))
		err = -EIO;
	else
		err = xq_freeze_super(s->sb);

	mutex_lock(&set->lock);
	s->frozen_ns = ktime_get_ns();
	if (!err) {
		if (set->abandoned)
			undo = true;
		else
			s->frozen = true;
	}
	mutex_unlock(&set->lock);
	if (undo) {
		err = xq_thaw_super(s->sb);
		pr_warn("%s (%s): froze after its freeze was abandoned, thawed it again (%d)\n",
			s->id, s->fstype, err);
	}
	xq_sb_finish(s, err);
}

/* Runs one pass over [first, end) and waits for it until @deadline_ns. */
static int xq_set_run_level(struct xq_set *set, unsigned int first, unsigned int end,
			    bool freeze, u64 deadline_ns)
{
	u64 now = ktime_get_ns();
	unsigned int i;
	long left;

	atomic_set(&set->pending, end - first);
	reinit_completion(&set->level_done);
	for (i = first; i < end; i++) {
		struct xq_sb *s = &set->sbs[i];

		s->done = false;
		kref_get(&set->ref);
		queue_work(xq_wq, freeze ? &s->freeze_work : &s->sync_work);
	}

	left = deadline_ns > now ? nsecs_to_jiffies(deadline_ns - now) + 1 : 1;
	left = wait_for_completion_killable_timeout(&set->level_done, left);
	if (left > 0)
		return 0;

	mutex_lock(&set->lock);
	set->abandoned = true;
	mutex_unlock(&set->lock);
	return left == 0 ? -ETIMEDOUT : -EINTR;
}

static void xq_failure_set(struct xq_failure *fail, const struct xq_sb *s, int err)
{
	fail->err = err;
	fail->major = MAJOR(s->sb->s_dev);
	fail->minor = MINOR(s->sb->s_dev);
	strscpy(fail->fstype, s->fstype, sizeof(fail->fstype));
}

/*
 * After a level: the first failed superblock, or after abandonment the
 * first one that did not finish, names the failure.
 */
static int xq_set_check_level(struct xq_set *set, unsigned int first, unsigned int end,
			      int err, struct xq_failure *fail)
{
	unsigned int i;

	mutex_lock(&set->lock);
	for (i = first; i < end; i++) {
		struct xq_sb *s = &set->sbs[i];

		if (err && !s->done) {
			xq_failure_set(fail, s, err);
			break;
		}
		if (!err && s->err) {
			err = s->err;
			xq_failure_set(fail, s, err);
			break;
		}
	}
	mutex_unlock(&set->lock);
	if (err && !fail->err)
		fail->err = err;	/* every worker finished just as time ran out */
	return err;
}

static int xq_set_pass(struct xq_set *set, bool freeze, u64 deadline_ns,
		       struct xq_failure *fail)
{
	unsigned int first, end;
	int err = 0;

	for (first = 0; first < set->n && !err; first = end) {
		for (end = first + 1; end < set->n; end++)
			if (set->sbs[end].level != set->sbs[first].level)
				break;
		err = xq_set_run_level(set, first, end, freeze, deadline_ns);
		err = xq_set_check_level(set, first, end, err, fail);
	}
	return err;
}

/* Thaws, in reverse order, what we froze; safe against late workers once abandoned. */
void xq_set_thaw(struct xq_set *set, struct xq_thaw_result *res)
{
	unsigned int i = set->n;
	int err;

	memset(res, 0, sizeof(*res));
	mutex_lock(&set->lock);
	while (i--) {
		struct xq_sb *s = &set->sbs[i];

		if (!s->frozen)
			continue;
		s->frozen = false;
		res->nfs++;
		err = xq_thaw_super(s->sb);
		/*
		 * -EINVAL: we no longer held it. Without freeze holders (before
		 * 6.6) anyone's FITHAW or SysRq-j undoes our freeze; with counted
		 * holders (6.8+) 6.8/6.9 also say -EINVAL for a successful thaw
		 * that leaves another holder's freeze in place.
		 */
#ifdef COMPAT_HAVE_FREEZE_MAY_NEST
		if (err == -EINVAL && xq_sb_still_frozen(s))
			err = 0;
#endif
		if (err == -EINVAL) {
			res->cancelled = true;
			err = 0;
		}
		if (xq_sb_still_frozen(s)) {
			s->flags |= XQ_FS_STILL_FROZEN;
			res->nstill_frozen++;
		}
		if (err) {
			pr_err("%s (%s): thaw failed (%d), left frozen\n", s->id, s->fstype, err);
			if (!res->err)
				res->err = err;
		}
	}
	mutex_unlock(&set->lock);
}

/**
 * xq_set_freeze - freeze the set, all or nothing
 * @set: selected by xq_set_select()
 * @presync: sync every filesystem first, while still writable
 * @deadline_ns: CLOCK_MONOTONIC time by which the freeze must be complete
 * @fail: on error, the device that failed and why
 *
 * On failure everything frozen is thawed again, in reverse order, and the
 * error is returned: the filesystem's own, -ETIMEDOUT when the deadline
 * passed first, -EINTR when the caller was killed.
 */
int xq_set_freeze(struct xq_set *set, bool presync, u64 deadline_ns, struct xq_failure *fail)
{
	struct xq_thaw_result undo;
	unsigned int i;
	int err = 0;

	for (i = 0; i < set->n; i++) {
		INIT_WORK(&set->sbs[i].sync_work, xq_sb_sync_work);
		INIT_WORK(&set->sbs[i].freeze_work, xq_sb_freeze_work);
	}
	if (presync)
		err = xq_set_pass(set, false, deadline_ns, fail);
	if (!err)
		err = xq_set_pass(set, true, deadline_ns, fail);
	if (err) {
		xq_set_thaw(set, &undo);
		return err;
	}
	for (i = 0; i < set->n; i++)
		set->frozen_ns = max(set->frozen_ns, set->sbs[i].frozen_ns);
	return 0;
}

void xq_set_report(const struct xq_set *set, struct xq_fs *fs, u32 nfs_max)
{
	unsigned int i;

	for (i = 0; i < set->n && i < nfs_max; i++) {
		const struct xq_sb *s = &set->sbs[i];

		fs[i] = (struct xq_fs) {
			.major = MAJOR(s->sb->s_dev),
			.minor = MINOR(s->sb->s_dev),
			.level = s->level,
			.flags = s->flags,
			.frozen_ns = s->frozen_ns,
			.sync_ns = s->sync_ns,
		};
		memcpy(fs[i].fstype, s->fstype, sizeof(fs[i].fstype));
		memcpy(fs[i].id, s->id, sizeof(fs[i].id));
	}
}
