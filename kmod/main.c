// SPDX-License-Identifier: GPL-2.0
/*
 * xquiesce: freeze every filesystem on a Xen guest's disks in one call, with
 * a deadline. See README.md and include/uapi/linux/xquiesce.h.
 */
#include <linux/module.h>
#include <linux/workqueue.h>

#include "device.h"
#include "hold.h"
#include "main.h"
#include "watchdog.h"

struct workqueue_struct *xq_wq;

static int __init xq_init(void)
{
	int err;

	xq_wq = alloc_workqueue("xquiesce", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!xq_wq)
		return -ENOMEM;
	/* Last: userspace can open the device as soon as it exists. */
	err = xq_device_register();
	if (err)
		goto destroy_wq;
	pr_info("version " XQ_VERSION " loaded, features 0x%x\n", xq_hold_features());
	return 0;

destroy_wq:
	destroy_workqueue(xq_wq);
	return err;
}

/*
 * Every freeze pins the module and every open file holds a reference to
 * it, so nothing is frozen here; a worker of an abandoned freeze also pins
 * it until it is done.
 */
static void __exit xq_exit(void)
{
	xq_device_unregister();
	xq_watchdog_stop();
	destroy_workqueue(xq_wq);
}

module_init(xq_init);
module_exit(xq_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Freeze the filesystems of a Xen guest's disks in one call, with a watchdog");
MODULE_AUTHOR("The xquiesce authors");
MODULE_VERSION(XQ_VERSION);
