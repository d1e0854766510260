/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_MAIN_H
#define _XQ_MAIN_H

#include <linux/workqueue.h>

/*
 * Runs the per-superblock freeze and pre-sync workers and the watchdog.
 * WQ_UNBOUND so that workers run concurrently on any CPU, WQ_MEM_RECLAIM so
 * that a thaw can still run under memory pressure, and not WQ_FREEZABLE:
 * a suspend must not stop the watchdog.
 */
extern struct workqueue_struct *xq_wq;

#endif /* _XQ_MAIN_H */
