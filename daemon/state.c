// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
