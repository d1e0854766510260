// SPDX-License-Identifier: GPL-2.0
/* Test-only fault injection; built only with XQ_FAULT_INJECTION=1. */
#include <linux/moduleparam.h>

#include "fault.h"

static unsigned int fault_fail_freeze_at;
module_param(fault_fail_freeze_at, uint, 0644);
MODULE_PARM_DESC(fault_fail_freeze_at,
		 "TEST ONLY: fail the freeze of the Nth superblock (1-based, freeze order) with -EIO; 0: off");

static unsigned int fault_delay_freeze_at;
module_param(fault_delay_freeze_at, uint, 0644);
MODULE_PARM_DESC(fault_delay_freeze_at,
		 "TEST ONLY: delay the freeze of the Nth superblock by fault_delay_ms; 0: off");

static unsigned int fault_delay_ms;
module_param(fault_delay_ms, uint, 0644);
MODULE_PARM_DESC(fault_delay_ms, "TEST ONLY: the delay of fault_delay_freeze_at, in ms (at most 10000)");

static unsigned int fault_fail_thaw_at;
module_param(fault_fail_thaw_at, uint, 0644);
MODULE_PARM_DESC(fault_fail_thaw_at,
		 "TEST ONLY: every thaw attempt of the Nth superblock fails with -EIO; 0: off");

bool xq_fault_fail_freeze(unsigned int index)
{
	return READ_ONCE(fault_fail_freeze_at) == index;
}

unsigned int xq_fault_delay_freeze(unsigned int index)
{
	if (READ_ONCE(fault_delay_freeze_at) != index)
		return 0;
	return min(READ_ONCE(fault_delay_ms), 10000U);
}

bool xq_fault_fail_thaw(unsigned int index)
{
	return READ_ONCE(fault_fail_thaw_at) == index;
}
