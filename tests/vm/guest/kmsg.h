/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQ_VMTEST_KMSG_H
#define XQ_VMTEST_KMSG_H

int kmsg_scan(unsigned int *module_lines);
int kmemleak_scan(void);

#endif
