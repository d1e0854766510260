/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_HOLD_H
#define _XQ_HOLD_H

#include <linux/types.h>
#include <linux/xquiesce.h>

/* One open file of /dev/xquiesce. */
struct xq_client {
	/* How this file's last freeze ended when not by its own THAW. */
	enum xq_end ended;
	u64 ended_held_ns;
	u32 ended_nfs;
	u32 ended_nstill_frozen;
};

int xq_hold_freeze(struct xq_client *c, struct xq_freeze *arg, const struct xq_dev *devs,
		   struct xq_fs *fs);
void xq_hold_abort(struct xq_client *c);
int xq_hold_thaw(struct xq_client *c, struct xq_thaw *arg);
void xq_hold_status(struct xq_status *arg, struct xq_fs *fs);
void xq_hold_release(struct xq_client *c);
u64 xq_hold_expire(void);
u32 xq_hold_features(void);

#endif /* _XQ_HOLD_H */
