/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_SELECT_H
#define _XQ_SELECT_H

#include <linux/fs.h>

#include "set.h"

/* select.c, for walk.c */
bool xq_sb_busy(const struct super_block *sb, const struct file_system_type *type,
		struct xq_failure *fail);
bool xq_sb_is_blkfront(struct super_block *sb);

/* walk.c: the superblocks on blkfront disks, of the given types */
int xq_walk_blkfront(struct file_system_type *const *types, unsigned int ntypes,
		     u64 deadline_ns, const bool *cancel, struct super_block **found,
		     unsigned int *nfound, struct xq_failure *fail);

#endif /* _XQ_SELECT_H */
