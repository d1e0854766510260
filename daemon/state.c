// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

/* Values are single lines: a newline would start a forged key. */
static void put(FILE *f, const char *key, const char *value)
{
	if (!value)
		return;
	fprintf(f, "%s=", key);
	for (; *value; value++)
		fputc(*value == '\n' ? ' ' : *value, f);
	fputc('\n', f);
}

int state_write_last(const char *path, const struct snapshot_summary *s)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	FILE *f;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	fprintf(f, "finished=%lld\n", (long long)s->finished);
	put(f, "requester", s->requester);
	put(f, "status", s->status);
	put(f, "error", s->error);
	put(f, "consistency", s->consistency);
	fprintf(f, "window_ms=%llu\n", s->window_ms);
	fprintf(f, "drain_ms=%llu\n", s->drain_ms);
	fprintf(f, "freeze_ms=%llu\n", s->freeze_ms);
	put(f, "filesystems", s->filesystems);
	put(f, "hooks", s->hooks);
	put(f, "snapuuid", s->snapuuid);
	/* mkostemp() makes it 0600; status is for any local user to read. */
	if (fflush(f) || fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		r = -errno;
	if (fclose(f) && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int state_lock_open(const char *state_path)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int fd;

	if (snprintf(dir, sizeof(dir), "%s", state_path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/session.lock", dirname(dir));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	return fd < 0 ? -errno : fd;
}

int state_lock_take(int fd, const char *holder, char *busy, size_t len)
{
	ssize_t n;

	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return -errno;
		n = pread(fd, busy, len - 1, 0);
		busy[n > 0 ? n : 0] = '\0';
		busy[strcspn(busy, "\n")] = '\0';
		if (!*busy)
			snprintf(busy, len, "a process that has not said who it is");
		return -EBUSY;
	}
	/* who holds it, for those refused: a courtesy, the lock is what counts */
	if (ftruncate(fd, 0) == 0)
		n = pwrite(fd, holder, strlen(holder), 0);
	return 0;
}

void state_lock_release(int fd)
{
	flock(fd, LOCK_UN);
}
