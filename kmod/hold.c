// SPDX-License-Identifier: GPL-2.0
/*
 * The one freeze that may exist at a time: who holds it, until when, and
 * how the last one ended.
 *
 * A freeze is held by the open file that made it and ends by its THAW, at
 * its deadline (watchdog.c), on the release of that file, or by a rescue
 * THAW from anyone (XQ_THAW_ANY). Each of these decides under xq_hold.lock
 * and the first one to come moves the hold to THAWING; the thaw itself runs
 * in freeze.c's workers, with no lock of ours held, and xq_hold_settled()
 * moves the hold back to IDLE once every filesystem is released (a pre-sync
 * or freeze worker still running, perhaps stuck in I/O for good, is left
 * to finish on its own: the set outlives the hold). THAW and the FREEZE rollback wait for the first
 * thaw attempt killably; the watchdog and release do not wait at all. A
 * failed thaw keeps the hold in THAWING (STATUS lists what is still frozen)
 * while it is retried.
 *
 * Nothing under the lock touches user memory (a page fault on a frozen
 * filesystem would block there) or waits for a filesystem.
 */
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/wait.h>

#include "compat.h"
#include "fault.h"
#include "hold.h"
#include "set.h"
#include "watchdog.h"

/* Blocked writers sleep uninterruptibly: stay well clear of the 120 s hung-task report. */
#define XQ_TIMEOUT_MIN_MS	100
#define XQ_TIMEOUT_MAX_MS	90000

static int xq_timeout_param_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int err = kstrtouint(val, 0, &ms);

	if (err)
		return err;
	if (ms < XQ_TIMEOUT_MIN_MS || ms > XQ_TIMEOUT_MAX_MS)
		return -ERANGE;
	*(unsigned int *)kp->arg = ms;
	return 0;
}

static const struct kernel_param_ops xq_timeout_param_ops = {
	.set = xq_timeout_param_set,
	.get = param_get_uint,
};

static unsigned int max_timeout_ms = 60000;
module_param_cb(max_timeout_ms, &xq_timeout_param_ops, &max_timeout_ms, 0644);
MODULE_PARM_DESC(max_timeout_ms, "Longest freeze any caller may ask for, in ms (100-90000, default 60000)");

static unsigned int default_timeout_ms = 10000;
module_param_cb(default_timeout_ms, &xq_timeout_param_ops, &default_timeout_ms, 0644);
MODULE_PARM_DESC(default_timeout_ms, "Freeze deadline when the caller gives none, in ms (100-90000, default 10000)");

/*
 * After the caller's timeout has passed the FREEZE call waits this long for
 * its rollback, and a rescue thaw this long for a thaw under way, before
 * returning (the thaw goes on).
 */
#define XQ_THAW_WAIT_MS		1000

static struct {
	struct mutex lock;
	wait_queue_head_t wq;		/* seq changes */
	enum xq_state state;
	struct xq_set *set;		/* FREEZING (once selected), FROZEN, THAWING */
	struct xq_client *holder;	/* FREEZING, FROZEN, THAWING; NULL once released */
	struct pid *holder_pid;		/* FROZEN, THAWING */
	enum xq_end ending;		/* THAWING: how the freeze ends */
	bool reported;			/* THAWING: the first thaw attempt is over */
	bool cancel;			/* FREEZING: a rescue thaw asked it to stop */
	unsigned int seq;		/* bumped when a thaw attempt of the set is over */
	struct xq_thaw_result res;	/* of the last thaw attempt */
	u64 frozen_ns;			/* of the current or last freeze */
	u64 deadline_ns;		/* FROZEN */
	u64 held_ns;			/* of the last ended freeze */
	enum xq_end last_end;
} xq_hold = {
	.lock = __MUTEX_INITIALIZER(xq_hold.lock),
	.wq = __WAIT_QUEUE_HEAD_INITIALIZER(xq_hold.wq),
};

u32 xq_hold_features(void)
{
	u32 features = XQ_FEATURE_FAULT;

#ifdef COMPAT_HAVE_FREEZE_HOLDER_KERNEL
	features |= XQ_FEATURE_KERNEL_HOLDER;
#endif
#if defined(COMPAT_FREEZE_SUPER_HAS_OWNER_ARG) && defined(COMPAT_HAVE_FREEZE_EXCL)
	features |= XQ_FEATURE_EXCLUSIVE;
#endif
	return features;
}


/* Killably waits for the thaw attempt after @seq; @ms 0: no time limit. */
static int xq_hold_wait(unsigned int seq, unsigned int ms)
{
	long ret;

	if (!ms)
		return wait_event_killable(xq_hold.wq, READ_ONCE(xq_hold.seq) != seq) ? -EINTR : 0;
	ret = wait_event_killable_timeout(xq_hold.wq, READ_ONCE(xq_hold.seq) != seq,
					  msecs_to_jiffies(ms));
	return ret > 0 ? 0 : ret == 0 ? -ETIMEDOUT : -EINTR;
}

/*
 * Called by freeze.c whenever no thaw attempt of the set is in flight:
 * reports the attempt, retries what failed, and ends the hold once every
 * filesystem is released and no worker runs.
 */
static void xq_hold_settled(struct xq_set *set)
{
	struct xq_client *holder;
	struct xq_thaw_result res;
	bool done = false;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.set != set || xq_hold.state != XQ_STATE_THAWING) {
		mutex_unlock(&xq_hold.lock);
		/* An orphan (below): a late freeze whose thaw failed is retried all the same. */
		xq_set_thaw_retry(set);
		return;
	}
	xq_set_result(set, &res);
	xq_hold.res = res;
	holder = xq_hold.holder;
	if (!xq_hold.reported && xq_hold.ending != XQ_END_FAILED) {
		xq_hold.held_ns = ktime_get_ns() - xq_hold.frozen_ns;
		if (holder && (xq_hold.ending == XQ_END_DEADLINE || xq_hold.ending == XQ_END_RESCUE)) {
			holder->ended = xq_hold.ending;
			holder->ended_held_ns = xq_hold.held_ns;
			holder->ended_nfs = res.nfs;
			holder->ended_nstill_frozen = res.nstill_frozen;
		}
	}
	xq_hold.reported = true;
	/*
	 * A worker still running holds nothing of ours yet: it may be stuck
	 * for good in I/O that never completes. The set becomes an orphan,
	 * alive as long as its workers, and the module is idle again; a
	 * worker that freezes later thaws its superblock itself.
	 */
	if (res.nheld) {
		xq_set_thaw_retry(set);
	} else {
		if (res.busy)
			pr_warn_ratelimited("%u workers of the ended freeze still run (stuck in I/O?): idle without them\n",
					    res.busy);
		done = true;
		xq_hold.state = XQ_STATE_IDLE;
		xq_hold.last_end = xq_hold.ending;
		xq_hold.set = NULL;
		xq_hold.holder = NULL;
		put_pid(xq_hold.holder_pid);
		xq_hold.holder_pid = NULL;
	}
	xq_hold.seq++;
	wake_up_all(&xq_hold.wq);
	mutex_unlock(&xq_hold.lock);
	if (done)
		xq_set_put(set);
}

/*
 * Begins the end of the held freeze (or the rollback of a failed one): the
 * caller starts the thaw with xq_hold_thaw_start() once the lock is dropped.
 */
static struct xq_set *xq_hold_end_locked(enum xq_end end)
{
	lockdep_assert_held(&xq_hold.lock);
	xq_hold.state = XQ_STATE_THAWING;
	xq_hold.ending = end;
	xq_hold.reported = false;
	return xq_hold.set;
}

static void xq_hold_thaw_start(struct xq_set *set)
{
	xq_set_thaw_start(set, xq_hold_settled);
}

static void xq_hold_log_failure(const struct xq_failure *fail)
{
	/* Rate-limited: a caller looping on a bad request must not flood the log. */
	if (fail->major || fail->minor)
		pr_warn_ratelimited("freeze failed on %u:%u (%s): error %d, thawing what froze\n",
				    fail->major, fail->minor,
				    fail->fstype[0] ? fail->fstype : "?", fail->err);
	else
		pr_warn_ratelimited("freeze failed: error %d\n", fail->err);
}

/* The caller's timeout, or -EINVAL: below the floor, a deadline means nothing. */
static int xq_hold_timeout(u32 asked)
{
	u32 cap = READ_ONCE(max_timeout_ms);

	if (asked && asked < XQ_TIMEOUT_MIN_MS)
		return -EINVAL;
	return min(asked ?: READ_ONCE(default_timeout_ms), cap);
}

/**
 * xq_hold_freeze - FREEZE for @c
 * @c: the calling file
 * @arg: the validated request; its output fields are filled in
 * @devs: the validated devs[] of @arg, in kernel memory
 * @fs: room for arg->nfs_max entries
 */
int xq_hold_freeze(struct xq_client *c, struct xq_freeze *arg, const struct xq_dev *devs,
		   struct xq_fs *fs)
{
	struct xq_failure fail = { .index = -1 };
	struct xq_set *set;
	unsigned int seq;
	u64 now, left;
	int timeout_ms, err;

	arg->nfs = 0;
	arg->start_ns = 0;
	arg->frozen_ns = 0;
	arg->deadline_ns = 0;
	arg->timeout_ms_used = 0;
	arg->err_errno = 0;
	arg->err_major = 0;
	arg->err_minor = 0;
	arg->err_index = -1;
	memset(arg->err_fstype, 0, sizeof(arg->err_fstype));
	timeout_ms = xq_hold_timeout(arg->timeout_ms);
	if (timeout_ms < 0)
		return timeout_ms;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.state != XQ_STATE_IDLE) {
		mutex_unlock(&xq_hold.lock);
		return -EBUSY;
	}
	xq_hold.state = XQ_STATE_FREEZING;
	xq_hold.cancel = false;
	xq_hold.holder = c;
	c->ended = XQ_END_NONE;
	mutex_unlock(&xq_hold.lock);

	arg->timeout_ms_used = timeout_ms;
	arg->start_ns = ktime_get_ns();
	set = xq_set_select(devs, arg->ndevs, arg->flags & XQ_FREEZE_BLKFRONT,
			    arg->start_ns + (u64)timeout_ms * NSEC_PER_MSEC, &xq_hold.cancel, &fail);
	if (IS_ERR(set)) {
		err = PTR_ERR(set);
		mutex_lock(&xq_hold.lock);
		xq_hold.state = XQ_STATE_IDLE;
		xq_hold.holder = NULL;
		xq_hold.last_end = XQ_END_FAILED;
		wake_up_all(&xq_hold.wq);	/* a rescue thaw waits for the end of FREEZING */
		mutex_unlock(&xq_hold.lock);
		goto failed;
	}
	mutex_lock(&xq_hold.lock);
	xq_hold.set = set;
	if (xq_hold.cancel)
		xq_set_cancel(set);	/* a rescue thaw came during the selection */
	mutex_unlock(&xq_hold.lock);

	/*
	 * The timeout bounds the freezing itself (see freeze.c), from the
	 * call's start, hence from before the first filesystem froze.
	 */
	err = xq_set_freeze(set, arg->flags & XQ_FREEZE_PRESYNC,
			    arg->start_ns + (u64)timeout_ms * NSEC_PER_MSEC, &fail);
	mutex_lock(&xq_hold.lock);
	if (err) {
		set = xq_hold_end_locked(XQ_END_FAILED);
		seq = xq_hold.seq;
		mutex_unlock(&xq_hold.lock);
		xq_hold_thaw_start(set);
		xq_hold_wait(seq, XQ_THAW_WAIT_MS);
		goto failed;
	}
	/* Held at most timeout_ms from the moment the first filesystem froze. */
	now = ktime_get_ns();
	xq_hold.state = XQ_STATE_FROZEN;
	xq_hold.holder_pid = get_pid(task_tgid(current));
	xq_hold.frozen_ns = set->frozen_ns;
	xq_hold.deadline_ns = set->first_frozen_ns + (u64)timeout_ms * NSEC_PER_MSEC;
	left = xq_hold.deadline_ns > now ? xq_hold.deadline_ns - now : 0;
	xq_watchdog_arm(left);
	arg->frozen_ns = set->frozen_ns;
	arg->deadline_ns = xq_hold.deadline_ns;
	arg->nfs = xq_set_report(set, fs, arg->nfs_max, false);
	mutex_unlock(&xq_hold.lock);
	return 0;

failed:
	arg->err_errno = -fail.err;
	arg->err_major = fail.major;
	arg->err_minor = fail.minor;
	arg->err_index = fail.index;
	memcpy(arg->err_fstype, fail.fstype, sizeof(arg->err_fstype));
	xq_hold_log_failure(&fail);
	return err;
}

/* The FREEZE succeeded but its result could not be handed back: undo it. */
void xq_hold_abort(struct xq_client *c)
{
	struct xq_set *set = NULL;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.state == XQ_STATE_FROZEN && xq_hold.holder == c)
		set = xq_hold_end_locked(XQ_END_FAILED);
	mutex_unlock(&xq_hold.lock);
	if (set)
		xq_hold_thaw_start(set);
}

/* After waiting for a thaw: what THAW says. */
static int xq_hold_thaw_report(struct xq_thaw *arg, bool mine, enum xq_end ending)
{
	const struct xq_thaw_result *res = &xq_hold.res;

	lockdep_assert_held(&xq_hold.lock);
	arg->held_ns = xq_hold.held_ns;
	arg->nfs = res->nfs;
	arg->nstill_frozen = res->nstill_frozen;
	if (res->nheld)
		return res->err ?: -EBUSY;
	if (xq_hold.state == XQ_STATE_THAWING && xq_hold.set)
		return -EBUSY;		/* a worker of the set still runs */
	if (mine && ending == XQ_END_DEADLINE)
		return -ETIMEDOUT;
	if ((mine && ending == XQ_END_RESCUE) || res->cancelled)
		return -ECANCELED;
	return 0;
}

/*
 * THAW, by the holder, or by anyone with XQ_THAW_ANY. Waits killably for
 * the thaw: the holder without a time limit, a rescue for XQ_THAW_WAIT_MS
 * after a thaw that was already under way.
 */
int xq_hold_thaw(struct xq_client *c, struct xq_thaw *arg)
{
	bool any = arg->flags & XQ_THAW_ANY, mine, retried = false;
	struct xq_set *set = NULL;
	enum xq_end ending;
	unsigned int seq;
	int err;

again:
	mutex_lock(&xq_hold.lock);
	mine = xq_hold.holder == c;
	seq = xq_hold.seq;
	if (xq_hold.state == XQ_STATE_FREEZING && any && !retried) {
		/*
		 * Rescue during FREEZE: stop it, in its selection (the walk)
		 * or its freezing, and wait for its rollback to begin.
		 */
		WRITE_ONCE(xq_hold.cancel, true);
		set = xq_hold.set;
		if (set)
			kref_get(&set->ref);
		mutex_unlock(&xq_hold.lock);
		xq_walk_wake();
		if (set)
			xq_set_cancel(set);
		wait_event_killable_timeout(xq_hold.wq, READ_ONCE(xq_hold.state) != XQ_STATE_FREEZING,
					    msecs_to_jiffies(XQ_THAW_WAIT_MS));
		if (set)
			xq_set_put(set);
		retried = true;
		goto again;
	}
	if (xq_hold.state == XQ_STATE_FREEZING && (mine || any)) {
		err = -EBUSY;
	} else if (xq_hold.state == XQ_STATE_FROZEN && (mine || any)) {
		ending = mine ? XQ_END_THAW : XQ_END_RESCUE;
		set = xq_hold_end_locked(ending);
		mutex_unlock(&xq_hold.lock);
		xq_hold_thaw_start(set);
		err = xq_hold_wait(seq, mine ? 0 : XQ_THAW_WAIT_MS);
		mutex_lock(&xq_hold.lock);
		err = err == -EINTR ? err : xq_hold_thaw_report(arg, mine, ending);
		if (!mine)
			pr_warn("rescue thaw by pid %d: thawed %u filesystems after %llu ms (%d)\n",
				task_tgid_nr(current), arg->nfs,
				div_u64(arg->held_ns, NSEC_PER_MSEC), err);
	} else if (xq_hold.state == XQ_STATE_THAWING && (mine || any || retried)) {
		bool reported = xq_hold.reported;

		ending = xq_hold.ending;
		mutex_unlock(&xq_hold.lock);
		err = xq_hold_wait(seq, reported || !mine ? XQ_THAW_WAIT_MS : 0);
		mutex_lock(&xq_hold.lock);
		if (err != -EINTR)
			err = xq_hold_thaw_report(arg, mine, ending);
	} else if (retried) {
		/* The cancelled FREEZE rolled back: nothing is left. */
		arg->nfs = xq_hold.res.nfs;
		err = 0;
	} else if (c->ended == XQ_END_DEADLINE || c->ended == XQ_END_RESCUE) {
		arg->held_ns = c->ended_held_ns;
		arg->nfs = c->ended_nfs;
		arg->nstill_frozen = c->ended_nstill_frozen;
		err = c->ended == XQ_END_DEADLINE ? -ETIMEDOUT : -ECANCELED;
	} else {
		err = -EALREADY;
	}
	mutex_unlock(&xq_hold.lock);
	return err;
}

/* Every output field is written: zero unless something is held. */
void xq_hold_status(struct xq_status *arg, struct xq_fs *fs)
{
	u64 now = ktime_get_ns();

	arg->abi_version = XQ_ABI_VERSION;
	arg->features = xq_hold_features();
	arg->max_timeout_ms = READ_ONCE(max_timeout_ms);
	arg->holder_pid = 0;
	arg->remaining_ns = 0;
	arg->nfs = 0;
	mutex_lock(&xq_hold.lock);
	arg->nstuck = xq_sets_stuck(xq_hold.state == XQ_STATE_FREEZING ? xq_hold.set : NULL);
	arg->state = xq_hold.state;
	arg->last_end = xq_hold.last_end;
	arg->frozen_ns = xq_hold.frozen_ns;
	arg->held_ns = xq_hold.held_ns;
	if (xq_hold.state == XQ_STATE_FROZEN || xq_hold.state == XQ_STATE_THAWING) {
		if (xq_hold.holder_pid)
			arg->holder_pid = pid_vnr(xq_hold.holder_pid);
		if (xq_hold.state == XQ_STATE_FROZEN) {
			arg->remaining_ns = xq_hold.deadline_ns > now ? xq_hold.deadline_ns - now : 0;
			arg->held_ns = now - xq_hold.frozen_ns;
		}
		arg->nfs = xq_set_report(xq_hold.set, fs, arg->nfs_max,
					 xq_hold.state == XQ_STATE_THAWING);
	}
	mutex_unlock(&xq_hold.lock);
}

/* The holder's file is gone (close, exit, SIGKILL): thaw at once, without waiting. */
void xq_hold_release(struct xq_client *c)
{
	struct xq_set *set = NULL;
	u64 held_ns = 0;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.state == XQ_STATE_FROZEN && xq_hold.holder == c) {
		set = xq_hold_end_locked(XQ_END_RELEASED);
		held_ns = ktime_get_ns() - xq_hold.frozen_ns;
	}
	if (xq_hold.holder == c)
		xq_hold.holder = NULL;
	mutex_unlock(&xq_hold.lock);
	if (set) {
		pr_warn("holder closed /dev/" XQ_DEVICE_NAME " while frozen: thawing %u filesystems after %llu ms\n",
			set->n, div_u64(held_ns, NSEC_PER_MSEC));
		xq_hold_thaw_start(set);
	}
}

/* Watchdog: thaw if the deadline passed; else the time left (0: nothing held). */
u64 xq_hold_expire(void)
{
	struct xq_set *set;
	u64 now = ktime_get_ns(), late_ns;
	pid_t pid;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.state != XQ_STATE_FROZEN) {
		mutex_unlock(&xq_hold.lock);
		return 0;
	}
	if (now < xq_hold.deadline_ns) {
		mutex_unlock(&xq_hold.lock);
		return xq_hold.deadline_ns - now;
	}
	late_ns = now - xq_hold.deadline_ns;
	pid = pid_nr(xq_hold.holder_pid);
	set = xq_hold_end_locked(XQ_END_DEADLINE);
	mutex_unlock(&xq_hold.lock);

	pr_warn("deadline passed (%llu ms late): thawing %u filesystems frozen by pid %d for %llu ms\n",
		div_u64(late_ns, NSEC_PER_MSEC), set->n, pid,
		div_u64(now - set->first_frozen_ns, NSEC_PER_MSEC));
	xq_hold_thaw_start(set);
	return 0;
}
