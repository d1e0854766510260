/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_WATCHDOG_H
#define _XQ_WATCHDOG_H

#include <linux/types.h>

void xq_watchdog_arm(u64 left_ns);
void xq_watchdog_stop(void);

#endif /* _XQ_WATCHDOG_H */
