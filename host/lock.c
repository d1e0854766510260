// SPDX-License-Identifier: GPL-2.0
/*
 * One snapshot per VM at a time, across processes: an flock on a file per
 * VM uuid. The kernel drops it when the process dies, so unlike snapwatchd's
 * lock files it never goes stale.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock.h"

int vm_lock(const char *uuid, char **lock_path)
{
	const char *dir = getenv("XQ_LOCK_DIR");
	int fd;

	if (!dir || !*dir)
		dir = "/run/lock/xquiesce-host";
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (asprintf(lock_path, "%s/%s.lock", dir, uuid) < 0)
		return -ENOMEM;
	fd = open(*lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return r;
	}
	return fd;
}
