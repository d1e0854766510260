// SPDX-License-Identifier: GPL-2.0
/* Test-only fault injection; built only with XQ_FAULT_INJECTION=1. */
#include <linux/moduleparam.h>

#include "fault.h"

static unsigned int fault_fail_freeze_at;
module_param(fault_fail_freeze_at, uint, 0644);
MODULE_PARM_DESC(fault_fail_freeze_at,
		 "TEST ONLY: fail the freeze of the Nth superblock (1-based, freeze order) with -EIO; 0: off");

bool xq_fault_fail_freeze(unsigned int index)
{
	return READ_ONCE(fault_fail_freeze_at) == index;
}
