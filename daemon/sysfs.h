/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XQ_SYSFS_H
#define _XQ_SYSFS_H

#include <stddef.h>

/* First line of a small sysfs file, without its newline: 0, -ENODATA when empty, -errno. */
int sysfs_read_line(const char *path, char *buf, size_t len);

#endif /* _XQ_SYSFS_H */
