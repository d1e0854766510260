/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_DEVICE_H
#define _XQ_DEVICE_H

int xq_device_register(void);
void xq_device_unregister(void);

#endif /* _XQ_DEVICE_H */
