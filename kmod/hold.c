// SPDX-License-Identifier: GPL-2.0
/*
 * The one freeze that may exist at a time: who holds it, until when, and
 * how the last one ended.
 *
 * A freeze is held by the open file that made it and ends by its THAW, at
 * its deadline (watchdog.c), on the release of that file, or by a rescue
 * THAW from anyone (XQ_THAW_ANY). All of these run under xq_hold.lock and
 * the first one to come ends it; the others then find nothing to do.
 * Nothing under the lock touches user memory: a page fault on a frozen
 * filesystem would block there until the deadline.
 */
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>

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

static struct {
	struct mutex lock;
	enum xq_state state;
	struct xq_set *set;		/* while FROZEN */
	struct xq_client *holder;	/* while FREEZING or FROZEN */
	struct pid *holder_pid;		/* while FROZEN */
	u64 frozen_ns;			/* of the current or last freeze */
	u64 deadline_ns;		/* while FROZEN */
	u64 held_ns;			/* of the last ended freeze */
	enum xq_end last_end;
} xq_hold = {
	.lock = __MUTEX_INITIALIZER(xq_hold.lock),
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

/*
 * Ends the held freeze: thaws, records how it ended, and returns the set for
 * the caller to put once the lock is dropped.
 */
static struct xq_set *xq_hold_end(enum xq_end end, struct xq_thaw_result *res)
{
	struct xq_set *set = xq_hold.set;
	struct xq_client *holder = xq_hold.holder;

	lockdep_assert_held(&xq_hold.lock);
	xq_set_thaw(set, res);
	xq_hold.held_ns = ktime_get_ns() - xq_hold.frozen_ns;
	xq_hold.last_end = end;
	if (end == XQ_END_DEADLINE || end == XQ_END_RESCUE) {
		holder->ended = end;
		holder->ended_held_ns = xq_hold.held_ns;
		holder->ended_nfs = res->nfs;
		holder->ended_nstill_frozen = res->nstill_frozen;
	}
	xq_hold.state = XQ_STATE_IDLE;
	xq_hold.set = NULL;
	xq_hold.holder = NULL;
	put_pid(xq_hold.holder_pid);
	xq_hold.holder_pid = NULL;
	return set;
}

static void xq_hold_fail(struct xq_freeze *arg, const struct xq_failure *fail)
{
	arg->err_errno = -fail->err;
	arg->err_major = fail->major;
	arg->err_minor = fail->minor;
	memcpy(arg->err_fstype, fail->fstype, sizeof(arg->err_fstype));

	mutex_lock(&xq_hold.lock);
	xq_hold.state = XQ_STATE_IDLE;
	xq_hold.holder = NULL;
	xq_hold.last_end = XQ_END_FAILED;
	mutex_unlock(&xq_hold.lock);
}

static void xq_hold_log_failure(const struct xq_failure *fail)
{
	if (fail->major || fail->minor)
		pr_warn("freeze failed on %u:%u (%s): error %d, nothing left frozen\n",
			fail->major, fail->minor, fail->fstype[0] ? fail->fstype : "?", fail->err);
	else
		pr_warn("freeze failed: error %d, nothing left frozen\n", fail->err);
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
	struct xq_failure fail = {};
	struct xq_set *set;
	u32 timeout_ms;
	int err;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.state != XQ_STATE_IDLE) {
		mutex_unlock(&xq_hold.lock);
		return -EBUSY;
	}
	xq_hold.state = XQ_STATE_FREEZING;
	xq_hold.holder = c;
	c->ended = XQ_END_NONE;
	timeout_ms = min(arg->timeout_ms ?: READ_ONCE(default_timeout_ms),
			 READ_ONCE(max_timeout_ms));
	mutex_unlock(&xq_hold.lock);

	arg->timeout_ms_used = timeout_ms;
	arg->start_ns = ktime_get_ns();
	set = xq_set_select(devs, arg->ndevs, arg->flags & XQ_FREEZE_BLKFRONT, &fail);
	if (IS_ERR(set)) {
		xq_hold_fail(arg, &fail);
		xq_hold_log_failure(&fail);
		return PTR_ERR(set);
	}
	/* The deadline also bounds the freezing itself: see freeze.c. */
	err = xq_set_freeze(set, arg->flags & XQ_FREEZE_PRESYNC,
			    arg->start_ns + (u64)timeout_ms * NSEC_PER_MSEC, &fail);
	if (err) {
		xq_set_put(set);
		xq_hold_fail(arg, &fail);
		xq_hold_log_failure(&fail);
		return err;
	}

	mutex_lock(&xq_hold.lock);
	xq_hold.state = XQ_STATE_FROZEN;
	xq_hold.set = set;
	xq_hold.holder_pid = get_pid(task_tgid(current));
	xq_hold.frozen_ns = set->frozen_ns;
	xq_hold.deadline_ns = ktime_get_ns() + (u64)timeout_ms * NSEC_PER_MSEC;
	xq_watchdog_arm(xq_hold.deadline_ns - ktime_get_ns());
	arg->frozen_ns = set->frozen_ns;
	arg->deadline_ns = xq_hold.deadline_ns;
	arg->nfs = set->n;
	xq_set_report(set, fs, arg->nfs_max);
	mutex_unlock(&xq_hold.lock);
	return 0;
}

/* The FREEZE succeeded but its result could not be handed back: undo it. */
void xq_hold_abort(struct xq_client *c)
{
	struct xq_thaw_result res;
	struct xq_set *set = NULL;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.state == XQ_STATE_FROZEN && xq_hold.holder == c)
		set = xq_hold_end(XQ_END_FAILED, &res);
	mutex_unlock(&xq_hold.lock);
	if (set)
		xq_set_put(set);
}

/* THAW, by the holder, or by anyone with XQ_THAW_ANY. */
int xq_hold_thaw(struct xq_client *c, struct xq_thaw *arg)
{
	struct xq_thaw_result res;
	struct xq_set *set = NULL;
	bool rescue = false;
	int err;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.state == XQ_STATE_FREEZING && (xq_hold.holder == c || arg->flags & XQ_THAW_ANY)) {
		err = -EBUSY;
	} else if (xq_hold.state == XQ_STATE_FROZEN &&
		   (xq_hold.holder == c || arg->flags & XQ_THAW_ANY)) {
		rescue = xq_hold.holder != c;
		set = xq_hold_end(rescue ? XQ_END_RESCUE : XQ_END_THAW, &res);
		arg->held_ns = xq_hold.held_ns;
		arg->nfs = res.nfs;
		arg->nstill_frozen = res.nstill_frozen;
		err = res.err ?: res.cancelled ? -ECANCELED : 0;
	} else if (c->ended == XQ_END_DEADLINE || c->ended == XQ_END_RESCUE) {
		arg->held_ns = c->ended_held_ns;
		arg->nfs = c->ended_nfs;
		arg->nstill_frozen = c->ended_nstill_frozen;
		err = c->ended == XQ_END_DEADLINE ? -ETIMEDOUT : -ECANCELED;
	} else {
		err = -EALREADY;
	}
	mutex_unlock(&xq_hold.lock);

	if (set) {
		if (rescue)
			pr_warn("rescue thaw by pid %d: thawed %u filesystems after %llu ms\n",
				task_tgid_nr(current), arg->nfs, div_u64(arg->held_ns, NSEC_PER_MSEC));
		xq_set_put(set);
	}
	return err;
}

void xq_hold_status(struct xq_status *arg, struct xq_fs *fs)
{
	u64 now = ktime_get_ns();

	mutex_lock(&xq_hold.lock);
	arg->abi_version = XQ_ABI_VERSION;
	arg->features = xq_hold_features();
	arg->state = xq_hold.state;
	arg->last_end = xq_hold.last_end;
	arg->max_timeout_ms = READ_ONCE(max_timeout_ms);
	arg->frozen_ns = xq_hold.frozen_ns;
	if (xq_hold.state == XQ_STATE_FROZEN) {
		arg->holder_pid = pid_vnr(xq_hold.holder_pid);
		arg->remaining_ns = xq_hold.deadline_ns > now ? xq_hold.deadline_ns - now : 0;
		arg->held_ns = now - xq_hold.frozen_ns;
		arg->nfs = xq_hold.set->n;
		xq_set_report(xq_hold.set, fs, arg->nfs_max);
	} else {
		arg->held_ns = xq_hold.held_ns;
	}
	mutex_unlock(&xq_hold.lock);
}

/* The holder's file is gone (close, exit, SIGKILL): thaw at once. */
void xq_hold_release(struct xq_client *c)
{
	struct xq_thaw_result res;
	struct xq_set *set = NULL;
	u64 held_ns = 0;

	mutex_lock(&xq_hold.lock);
	if (xq_hold.state == XQ_STATE_FROZEN && xq_hold.holder == c) {
		set = xq_hold_end(XQ_END_RELEASED, &res);
		held_ns = xq_hold.held_ns;
	}
	mutex_unlock(&xq_hold.lock);
	if (set) {
		pr_warn("holder closed /dev/" XQ_DEVICE_NAME " while frozen: thawed %u filesystems after %llu ms\n",
			res.nfs, div_u64(held_ns, NSEC_PER_MSEC));
		xq_set_put(set);
	}
}

/* Watchdog: thaw if the deadline passed; else the time left (0: nothing held). */
u64 xq_hold_expire(void)
{
	struct xq_thaw_result res;
	struct xq_set *set;
	u64 now = ktime_get_ns(), held_ns, late_ns;
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
	set = xq_hold_end(XQ_END_DEADLINE, &res);
	held_ns = xq_hold.held_ns;
	mutex_unlock(&xq_hold.lock);

	pr_warn("deadline passed (%llu ms late): thawed %u filesystems frozen by pid %d for %llu ms\n",
		div_u64(late_ns, NSEC_PER_MSEC), res.nfs, pid, div_u64(held_ns, NSEC_PER_MSEC));
	xq_set_put(set);
	return 0;
}
