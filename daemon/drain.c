// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"

#define SAVED_FORMAT	"dirty_bytes=%s\ndirty_ratio=%s\n"

static const char *sysctl_root(const struct drain_paths *paths)
{
	return paths && paths->sysctl ? paths->sysctl : "/proc/sys";
}

static const char *saved_path(const struct drain_paths *paths)
{
	return paths && paths->saved ? paths->saved : DRAIN_SAVED_PATH;
}

static int fail(struct drain *dr, const char *path, int err)
{
	snprintf(dr->failed_path, sizeof(dr->failed_path), "%s", path);
	dr->failed = dr->failed_path;
	return err;
}

void drain_init(struct drain *dr)
{
	*dr = (struct drain){ .bytes_fd = -1, .ratio_fd = -1 };
}

static int fail_limit(struct drain *dr, const struct drain_paths *paths, const char *name,
		      int err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/vm/%s", sysctl_root(paths), name);
	return fail(dr, path, err);
}

static int open_limit(struct drain *dr, const struct drain_paths *paths, const char *name,
		      int *fd)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/vm/%s", sysctl_root(paths), name) >=
	    (int)sizeof(path))
		return fail(dr, path, -ENAMETOOLONG);
	*fd = open(path, O_RDWR | O_CLOEXEC);
	return *fd < 0 ? fail(dr, path, -errno) : 0;
}

static bool is_number(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The value at the start of fd, without its newline. */
static int read_limit(int fd, char *value)
{
	ssize_t n = pread(fd, value, DRAIN_VALUE_LEN - 1, 0);

	if (n < 0)
		return -errno;
	value[n] = '\0';
	value[strcspn(value, "\n")] = '\0';
	return is_number(value) ? 0 : -EINVAL;
}

/* Sysctls take a write at offset 0 only; the newline keeps a test's plain file readable. */
static int write_limit(int fd, const char *value)
{
	char buf[DRAIN_VALUE_LEN + 1];
	int len = snprintf(buf, sizeof(buf), "%s\n", value);
	ssize_t n = pwrite(fd, buf, len, 0);

	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

static int open_limits(struct drain *dr, const struct drain_paths *paths)
{
	int r = open_limit(dr, paths, "dirty_bytes", &dr->bytes_fd);

	if (!r)
		r = open_limit(dr, paths, "dirty_ratio", &dr->ratio_fd);
	return r;
}

static void close_limits(struct drain *dr)
{
	if (dr->bytes_fd >= 0)
		close(dr->bytes_fd);
	if (dr->ratio_fd >= 0)
		close(dr->ratio_fd);
	dr->bytes_fd = dr->ratio_fd = -1;
}

/* The one of the pair in force: the kernel zeroes the other. */
static int restore_limits(const struct drain *dr)
{
	if (strcmp(dr->bytes, "0"))
		return write_limit(dr->bytes_fd, dr->bytes);
	return write_limit(dr->ratio_fd, dr->ratio);
}

/* O_EXCL: a second drain must not save the first one's cap as the original. */
static int save_limits(struct drain *dr, const char *path)
{
	char dir[PATH_MAX], text[2 * DRAIN_VALUE_LEN + 32], *slash;
	ssize_t n;
	int fd, len, r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return fail(dr, dir, -errno);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(dr, path, -errno);
	len = snprintf(text, sizeof(text), SAVED_FORMAT, dr->bytes, dr->ratio);
	n = write(fd, text, len);
	if (n != len)
		r = n < 0 ? -errno : -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r) {
		unlink(path);
		return fail(dr, path, r);
	}
	snprintf(dr->saved, sizeof(dr->saved), "%s", path);
	return 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;
}

int drain_begin(struct drain *dr, const struct drain_paths *paths, unsigned int ms,
		uint64_t cap_bytes)
{
	char cap[DRAIN_VALUE_LEN];
	int r;

	drain_init(dr);
	r = open_limits(dr, paths);
	if (!r && (r = read_limit(dr->bytes_fd, dr->bytes)) < 0)
		fail_limit(dr, paths, "dirty_bytes", r);
	if (!r && (r = read_limit(dr->ratio_fd, dr->ratio)) < 0)
		fail_limit(dr, paths, "dirty_ratio", r);
	/* dirty_bytes cannot be set to 0: both at 0 could not be put back */
	if (!r && !strcmp(dr->bytes, "0") && !strcmp(dr->ratio, "0"))
		r = fail_limit(dr, paths, "dirty_ratio", -ERANGE);
	if (!r)
		r = save_limits(dr, saved_path(paths));
	if (r) {
		close_limits(dr);
		return r;
	}
	/* a lower dirty_bytes in force is cap enough */
	if (!strcmp(dr->bytes, "0") || strtoull(dr->bytes, NULL, 10) > cap_bytes) {
		snprintf(cap, sizeof(cap), "%llu", (unsigned long long)cap_bytes);
		r = write_limit(dr->bytes_fd, cap);
		if (r < 0) {
			/* a failed write may still have changed it */
			drain_restore(dr);
			drain_finish(dr);
			return fail_limit(dr, paths, "dirty_bytes", r);
		}
	}
	sleep_ms(ms);
	return 0;
}

int drain_restore(struct drain *dr)
{
	int r;

	if (dr->bytes_fd < 0)
		return 0;
	r = restore_limits(dr);
	dr->restored = !r;
	return r;
}

void drain_finish(struct drain *dr)
{
	if (dr->saved[0] && dr->restored)
		unlink(dr->saved);
	dr->saved[0] = '\0';
	close_limits(dr);
}

static int read_saved(struct drain *dr, const char *path)
{
	char text[2 * DRAIN_VALUE_LEN + 32], expect[sizeof(text)];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : fail(dr, path, -errno);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return fail(dr, path, -errno);
	text[n] = '\0';
	if (sscanf(text, "dirty_bytes=%23[0-9]\ndirty_ratio=%23[0-9]\n", dr->bytes,
		   dr->ratio) != 2)
		return fail(dr, path, -EINVAL);
	/* nothing but the two lines, exactly as written */
	snprintf(expect, sizeof(expect), SAVED_FORMAT, dr->bytes, dr->ratio);
	return strcmp(text, expect) ? fail(dr, path, -EINVAL) : 0;
}

int drain_recover(struct drain *dr, const struct drain_paths *paths)
{
	const char *path = saved_path(paths);
	int r;

	drain_init(dr);
	r = read_saved(dr, path);
	if (r == -ENOENT)
		return 0;
	if (!r)
		r = open_limits(dr, paths);
	if (!r && (r = restore_limits(dr)) < 0)
		fail_limit(dr, paths, strcmp(dr->bytes, "0") ? "dirty_bytes" : "dirty_ratio", r);
	close_limits(dr);
	if (r)
		return r;
	if (unlink(path) < 0)
		return fail(dr, path, -errno);
	snprintf(dr->saved, sizeof(dr->saved), "%s", path);
	return 1;
}
