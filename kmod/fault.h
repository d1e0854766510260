/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_FAULT_H
#define _XQ_FAULT_H

#include <linux/types.h>

/*
 * Test-only fault injection, compiled in only by XQ_FAULT_INJECTION=1:
 * makes the freeze of the index-th superblock (1-based, freeze order) fail.
 */
#ifdef XQ_FAULT_INJECTION
bool xq_fault_fail_freeze(unsigned int index);
#define XQ_FEATURE_FAULT	XQ_FEATURE_FAULT_INJECTION
#else
static inline bool xq_fault_fail_freeze(unsigned int index)
{
	return false;
}
#define XQ_FEATURE_FAULT	0
#endif

#endif /* _XQ_FAULT_H */
