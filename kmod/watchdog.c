// SPDX-License-Identifier: GPL-2.0
/*
 * The deadline of a held freeze.
 *
 * One delayed work, armed when a freeze is complete. It takes no lock of
 * its own and decides nothing: xq_hold_expire() checks, under the hold's
 * mutex, whether a freeze is still held and its deadline passed, so that a
 * stale run after a THAW, or after a newer FREEZE, does no harm. THAW and
 * release therefore never cancel it (cancelling outside the mutex could
 * cancel the next freeze's watchdog; cancelling under it could deadlock
 * with a run waiting for the mutex).
 *
 * Timer-wheel timeouts fire late by up to an eighth of their length (2 s
 * for a 16 s wait with HZ=250), so a long wait is taken in steps of seven
 * eighths of what is left, each ending before the deadline, and only the
 * last few jiffies are waited in one go.
 */
#include <linux/jiffies.h>
#include <linux/workqueue.h>

#include "hold.h"
#include "main.h"
#include "watchdog.h"

#define XQ_WATCHDOG_EXACT	64	/* jiffies: the timer wheel's first level is exact */

static void xq_watchdog_fire(struct work_struct *work);
static DECLARE_DELAYED_WORK(xq_watchdog, xq_watchdog_fire);

static unsigned long xq_watchdog_step(u64 left_ns)
{
	unsigned long left = nsecs_to_jiffies(left_ns) + 1;

	return left <= XQ_WATCHDOG_EXACT ? left : left - left / 8;
}

static void xq_watchdog_fire(struct work_struct *work)
{
	u64 left_ns = xq_hold_expire();

	if (left_ns)
		queue_delayed_work(xq_wq, &xq_watchdog, xq_watchdog_step(left_ns));
}

/* Called with the hold's mutex held, with the time left before the deadline. */
void xq_watchdog_arm(u64 left_ns)
{
	mod_delayed_work(xq_wq, &xq_watchdog, xq_watchdog_step(left_ns));
}

/* Module exit only: nothing is held by then. */
void xq_watchdog_stop(void)
{
	cancel_delayed_work_sync(&xq_watchdog);
}
