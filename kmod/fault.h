/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_FAULT_H
#define _XQ_FAULT_H

#include <linux/types.h>

/*
 * Test-only fault injection, compiled in only by XQ_FAULT_INJECTION=1, for
 * the index-th superblock (1-based, freeze order): its freeze fails, its
 * freeze is delayed, or each attempt to thaw it fails.
 */
#ifdef XQ_FAULT_INJECTION
bool xq_fault_fail_freeze(unsigned int index);
unsigned int xq_fault_delay_freeze(unsigned int index);
bool xq_fault_fail_thaw(unsigned int index);
#define XQ_FEATURE_FAULT	XQ_FEATURE_FAULT_INJECTION
#else
static inline bool xq_fault_fail_freeze(unsigned int index)
{
	return false;
}

static inline unsigned int xq_fault_delay_freeze(unsigned int index)
{
	return 0;
}

static inline bool xq_fault_fail_thaw(unsigned int index)
{
	return false;
}
#define XQ_FEATURE_FAULT	0
#endif

#endif /* _XQ_FAULT_H */
