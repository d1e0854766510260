// SPDX-License-Identifier: GPL-2.0
/*
 * Freezing and thawing a selected set of superblocks.
 *
 * Levels are frozen in order and the superblocks of one level concurrently,
 * one worker each. The order matters for a filesystem on a loop device (the
 * "upper" one) whose image file lives on another filesystem of the set (the
 * "lower" one): freezing the upper one flushes its data and writes its
 * superblock through the loop device into the image, which needs the lower
 * one writable, so the upper one must freeze first. Thawing the upper one
 * writes its superblock again through the loop device, so it can only finish
 * once the lower one is thawed: thawed in sequence, the lower one would have
 * to go first. The module cannot see which file backs a loop device (struct
 * loop_device is private to drivers/block/loop.c and nothing exported
 * names the backing file), so the freeze order is the caller's levels, and
 * nothing here depends on the thaw order: every superblock of the set is
 * thawed by a worker of its own, all at once, so that a thaw waiting for
 * another superblock never waits for a thaw that has not started. A wrongly
 * ordered freeze blocks in the upper filesystem's flush; the caller's
 * deadline then abandons the set, the concurrent thaw of the lower
 * filesystem unblocks the stuck worker, and that worker's late freeze is
 * thawed in turn.
 *
 * The optional pre-sync pass syncs every filesystem, level by level, while
 * all are still writable, so that the freeze itself has little to write.
 *
 * No lock is held across sync_filesystem(), freeze_super() or thaw_super():
 * set->lock only guards bookkeeping, so that STATUS, the watchdog and a
 * rescue thaw never wait for a filesystem. A thaw that fails leaves the
 * superblock ours (still frozen, flagged) and is retried with a backoff until
 * it succeeds; the hold (hold.c) stays in THAWING meanwhile.
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "fault.h"
#include "main.h"
#include "set.h"

#define XQ_THAW_RETRY_MIN_MS	100U
#define XQ_THAW_RETRY_MAX_MS	1000U

static unsigned int xq_sb_index(const struct xq_sb *s)
{
	return s - s->set->sbs + 1;
}

static bool xq_sb_still_frozen(const struct xq_sb *s)
{
	return READ_ONCE(s->sb->s_writers.frozen) != SB_UNFROZEN;
}

/* set->lock held: the thaw has begun and no attempt is in flight. */
static bool xq_set_settled_locked(const struct xq_set *set)
{
	lockdep_assert_held(&set->lock);
	return set->ending && !set->nthawing;
}

/* set->lock held; the caller puts the reference the attempt holds. */
static void xq_sb_thaw_queue_locked(struct xq_sb *s, unsigned long delay)
{
	lockdep_assert_held(&s->set->lock);
	s->thawing = true;
	s->set->nthawing++;
	kref_get(&s->set->ref);
	queue_delayed_work(xq_wq, &s->thaw_work, delay);
}

static void xq_sb_finish(struct xq_sb *s, int err)
{
	struct xq_set *set = s->set;
	bool settled;

	mutex_lock(&set->lock);
	s->err = err;
	s->done = true;
	s->running = false;
	set->workers--;
	settled = xq_set_settled_locked(set);
	mutex_unlock(&set->lock);
	if (atomic_dec_and_test(&set->pending))
		wake_up_all(&set->wq);
	if (settled)
		set->settled(set);
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
	unsigned int delay_ms = xq_fault_delay_freeze(xq_sb_index(s));
	int err;

	if (delay_ms)
		msleep(delay_ms);
	if (xq_fault_fail_freeze(xq_sb_index(s)))
		err = -EIO;
	else
		err = xq_freeze_super(s->sb);

	mutex_lock(&set->lock);
	s->frozen_ns = ktime_get_ns();
	if (!err) {
		s->frozen = true;
		/* Too late: the thaw of the set has begun without it. */
		if (set->ending) {
			pr_warn_ratelimited("%s (%s): froze after its freeze was abandoned, thawing it again\n",
					    s->id, s->fstype);
			xq_sb_thaw_queue_locked(s, 0);
		}
	}
	mutex_unlock(&set->lock);
	xq_sb_finish(s, err);
}

/*
 * One thaw attempt. -EINVAL means that we no longer held the freeze: without
 * freeze holders (before 6.6) anyone's FITHAW or SysRq-j undoes it; with
 * counted holders (6.8+) 6.8/6.9 also say -EINVAL for a successful thaw
 * that leaves another holder's freeze in place. Any other error leaves the
 * filesystem frozen and ours: the attempt is retried.
 */
static void xq_sb_thaw_work(struct work_struct *work)
{
	struct xq_sb *s = container_of(to_delayed_work(work), struct xq_sb, thaw_work);
	struct xq_set *set = s->set;
	bool foreign = false, settled;
	int err;

	if (xq_fault_fail_thaw(xq_sb_index(s)))
		err = -EIO;
	else
		err = xq_thaw_super(s->sb);
#ifdef COMPAT_HAVE_FREEZE_MAY_NEST
	if (err == -EINVAL && xq_sb_still_frozen(s))
		err = 0;
#endif
	if (err == -EINVAL) {
		foreign = true;
		err = 0;
	}

	mutex_lock(&set->lock);
	s->thawing = false;
	if (err) {
		if (!s->thaw_tries++)
			pr_err("%s (%s): thaw failed (%d), still frozen: retrying\n", s->id,
			       s->fstype, err);
		s->thaw_err = err;
	} else {
		if (s->thaw_tries)
			pr_info("%s (%s): thawed after %u failed attempts\n", s->id, s->fstype,
				s->thaw_tries);
		s->frozen = false;
		s->thaw_err = 0;
		s->foreign_thaw = foreign;
		if (xq_sb_still_frozen(s))
			s->flags |= XQ_FS_STILL_FROZEN;
	}
	s->flags = err ? s->flags | XQ_FS_THAW_FAILED : s->flags & ~XQ_FS_THAW_FAILED;
	set->nthawing--;
	settled = xq_set_settled_locked(set);
	mutex_unlock(&set->lock);
	if (settled)
		set->settled(set);
	xq_set_put(set);
}

/*
 * Runs one pass over [first, end) and waits for it until @deadline_ns,
 * killably; a rescue thaw (xq_set_cancel()) stops the wait too.
 */
static int xq_set_run_level(struct xq_set *set, unsigned int first, unsigned int end,
			    bool freeze, u64 deadline_ns)
{
	u64 now = ktime_get_ns();
	unsigned int i;
	long left;
	int err;

	atomic_set(&set->pending, end - first);
	for (i = first; i < end; i++) {
		struct xq_sb *s = &set->sbs[i];

		mutex_lock(&set->lock);
		s->done = false;
		s->running = true;
		set->workers++;
		mutex_unlock(&set->lock);
		kref_get(&set->ref);
		queue_work(xq_wq, freeze ? &s->freeze_work : &s->sync_work);
	}

	left = deadline_ns > now ? nsecs_to_jiffies(deadline_ns - now) + 1 : 1;
	left = wait_event_killable_timeout(set->wq, !atomic_read(&set->pending) ||
					   READ_ONCE(set->cancelled), left);
	if (left > 0 && !atomic_read(&set->pending))
		return 0;
	err = left > 0 ? -ECANCELED : left == 0 ? -ETIMEDOUT : -EINTR;

	mutex_lock(&set->lock);
	set->abandoned = true;
	mutex_unlock(&set->lock);
	return err;
}

static void xq_failure_set(struct xq_failure *fail, const struct xq_sb *s, int err)
{
	fail->err = err;
	fail->index = s->index;
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
		if (READ_ONCE(set->cancelled)) {
			fail->err = -ECANCELED;
			return -ECANCELED;
		}
		for (end = first + 1; end < set->n; end++)
			if (set->sbs[end].level != set->sbs[first].level)
				break;
		err = xq_set_run_level(set, first, end, freeze, deadline_ns);
		err = xq_set_check_level(set, first, end, err, fail);
	}
	return err;
}

/* A rescue thaw during FREEZE: the freezing caller stops waiting at once. */
void xq_set_cancel(struct xq_set *set)
{
	WRITE_ONCE(set->cancelled, true);
	wake_up_all(&set->wq);
}

/**
 * xq_set_thaw_start - thaw every superblock we hold, concurrently
 * @set: the set
 * @settled: called, without locks, whenever no thaw attempt is left in
 *	flight: after the first attempt of each superblock, after each retry,
 *	and when a late freeze worker finishes. Called from here if there is
 *	nothing to thaw.
 *
 * Returns at once; a freeze worker that freezes after this thaws its
 * superblock itself, through the same path.
 */
void xq_set_thaw_start(struct xq_set *set, xq_settled_fn settled)
{
	unsigned int i;
	bool now;

	mutex_lock(&set->lock);
	set->settled = settled;
	set->ending = true;
	for (i = 0; i < set->n; i++) {
		struct xq_sb *s = &set->sbs[i];

		if (s->frozen && !s->thawing)
			xq_sb_thaw_queue_locked(s, 0);
	}
	now = xq_set_settled_locked(set);
	mutex_unlock(&set->lock);
	if (now)
		settled(set);
}

/* Queues another attempt for every superblock whose thaw failed; returns how many. */
unsigned int xq_set_thaw_retry(struct xq_set *set)
{
	unsigned int i, n = 0, ms;

	mutex_lock(&set->lock);
	for (i = 0; i < set->n; i++) {
		struct xq_sb *s = &set->sbs[i];

		if (!s->frozen || s->thawing || !s->thaw_err)
			continue;
		ms = XQ_THAW_RETRY_MIN_MS << min(s->thaw_tries - 1, 4U);
		xq_sb_thaw_queue_locked(s, msecs_to_jiffies(min(ms, XQ_THAW_RETRY_MAX_MS)));
		n++;
	}
	mutex_unlock(&set->lock);
	return n;
}

/* Where the thaw of the set stands. */
void xq_set_result(struct xq_set *set, struct xq_thaw_result *res)
{
	unsigned int i;

	memset(res, 0, sizeof(*res));
	mutex_lock(&set->lock);
	for (i = 0; i < set->n; i++) {
		const struct xq_sb *s = &set->sbs[i];

		if (s->frozen) {
			res->nheld++;
			if (!res->err)
				res->err = s->thaw_err;
			continue;
		}
		if (s->err || !s->frozen_ns)
			continue;	/* never frozen */
		res->nfs++;
		res->cancelled |= s->foreign_thaw;
		if (s->flags & XQ_FS_STILL_FROZEN)
			res->nstill_frozen++;
	}
	res->busy = set->workers;
	mutex_unlock(&set->lock);
}

/**
 * xq_set_freeze - freeze the set, all or nothing
 * @set: selected by xq_set_select()
 * @presync: sync every filesystem first, while still writable
 * @deadline_ns: CLOCK_MONOTONIC time by which the freeze must be complete
 * @fail: on error, the device that failed and why
 *
 * On failure the set is abandoned and the error returned: the filesystem's
 * own, -ETIMEDOUT when the deadline passed first, -EINTR when the caller was
 * killed, -ECANCELED after a rescue thaw. The caller then thaws it with
 * xq_set_thaw_start().
 */
int xq_set_freeze(struct xq_set *set, bool presync, u64 deadline_ns, struct xq_failure *fail)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < set->n; i++) {
		INIT_WORK(&set->sbs[i].sync_work, xq_sb_sync_work);
		INIT_WORK(&set->sbs[i].freeze_work, xq_sb_freeze_work);
		INIT_DELAYED_WORK(&set->sbs[i].thaw_work, xq_sb_thaw_work);
	}
	if (presync)
		err = xq_set_pass(set, false, deadline_ns, fail);
	if (!err)
		err = xq_set_pass(set, true, deadline_ns, fail);
	if (err)
		return err;
	set->first_frozen_ns = U64_MAX;
	for (i = 0; i < set->n; i++) {
		set->frozen_ns = max(set->frozen_ns, set->sbs[i].frozen_ns);
		set->first_frozen_ns = min(set->first_frozen_ns, set->sbs[i].frozen_ns);
	}
	return 0;
}

/*
 * Fills fs[] with the set (or, with @held_only, the superblocks we still
 * hold) and returns how many there are.
 */
u32 xq_set_report(struct xq_set *set, struct xq_fs *fs, u32 nfs_max, bool held_only)
{
	unsigned int i;
	u32 n = 0;

	mutex_lock(&set->lock);
	for (i = 0; i < set->n; i++) {
		const struct xq_sb *s = &set->sbs[i];

		if (held_only && !s->frozen)
			continue;
		if (n < nfs_max) {
			fs[n] = (struct xq_fs) {
				.major = MAJOR(s->sb->s_dev),
				.minor = MINOR(s->sb->s_dev),
				.level = s->level,
				.flags = s->flags,
				.frozen_ns = s->frozen_ns,
				.sync_ns = s->sync_ns,
			};
			memcpy(fs[n].fstype, s->fstype, sizeof(fs[n].fstype));
			memcpy(fs[n].id, s->id, sizeof(fs[n].id));
		}
		n++;
	}
	mutex_unlock(&set->lock);
	return n;
}
