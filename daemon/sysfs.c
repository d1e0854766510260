// SPDX-License-Identifier: GPL-2.0
/* Small sysfs attributes, read by discovery and by the drain. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sysfs.h"

int sysfs_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int r = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		r = -ENODATA;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return r;
}
