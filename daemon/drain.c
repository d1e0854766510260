// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"

#define SAVED_FORMAT	"dirty_bytes=%s\ndirty_ratio=%s\ncap=%s\n"

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
	*dr = (struct drain){ .bytes_fd = -1, .ratio_fd = -1, .saved_fd = -1 };
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

/*
 * Opens and locks the saved file. A drain that ends removes its file while
 * it holds the lock, so a file that is gone or replaced once we hold the
 * lock is not the one to use: open the one there now. -EBUSY: a drain runs.
 */
static int lock_saved(struct drain *dr, const char *path, bool create)
{
	char dir[PATH_MAX], *slash;
	struct stat held, named;
	int fd, tries, r;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (create && slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return fail(dr, dir, -errno);
	}
	for (tries = 0; tries < 3; tries++) {
		fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
		if (fd < 0)
			return fail(dr, path, -errno);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			close(fd);
			return fail(dr, path, r);
		}
		if (!fstat(fd, &held) && !stat(path, &named) && held.st_dev == named.st_dev &&
		    held.st_ino == named.st_ino) {
			dr->saved_fd = fd;
			snprintf(dr->saved, sizeof(dr->saved), "%s", path);
			return 0;
		}
		close(fd);
	}
	return fail(dr, path, -EAGAIN);
}

/* Removes the file unless it holds limits that are not back yet; unlocks. */
static void unlock_saved(struct drain *dr)
{
	if (dr->saved_fd < 0)
		return;
	if (!dr->pending)
		unlink(dr->saved);
	close(dr->saved_fd);
	dr->saved_fd = -1;
}

static int write_saved(struct drain *dr)
{
	char text[3 * DRAIN_VALUE_LEN + 32];
	int len = snprintf(text, sizeof(text), SAVED_FORMAT, dr->bytes, dr->ratio, dr->cap);
	ssize_t n;

	/* Until it is whole, nothing is capped: on failure the file goes. */
	if (ftruncate(dr->saved_fd, 0) < 0)
		return fail(dr, dr->saved, -errno);
	n = pwrite(dr->saved_fd, text, len, 0);
	if (n != len)
		return fail(dr, dr->saved, n < 0 ? -errno : -EIO);
	dr->pending = true;
	return 0;
}

/* -ENODATA: an empty file, from a drain that died before it saved anything. */
static int read_saved(struct drain *dr)
{
	char text[3 * DRAIN_VALUE_LEN + 32], expect[sizeof(text)];
	ssize_t n = pread(dr->saved_fd, text, sizeof(text) - 1, 0);

	if (n < 0)
		return fail(dr, dr->saved, -errno);
	if (n == 0)
		return -ENODATA;
	text[n] = '\0';
	if (sscanf(text, "dirty_bytes=%23[0-9]\ndirty_ratio=%23[0-9]\ncap=%23[0-9]\n", dr->bytes,
		   dr->ratio, dr->cap) != 3)
		return fail(dr, dr->saved, -EINVAL);
	/* nothing but the three lines, exactly as written */
	snprintf(expect, sizeof(expect), SAVED_FORMAT, dr->bytes, dr->ratio, dr->cap);
	return strcmp(text, expect) ? fail(dr, dr->saved, -EINVAL) : 0;
}

/*
 * The locked file is a dead drain's: its limits go back if its cap is still
 * in force; other values there now were put by someone since. 1 when they
 * went back, 0 when nothing had to be done, -errno (the file stays).
 */
static int undo_dead_drain(struct drain *dr, const struct drain_paths *paths)
{
	char now[DRAIN_VALUE_LEN];
	int r = read_saved(dr);

	if (r == -ENODATA)
		return 0;
	dr->pending = true;
	if (!r && dr->bytes_fd < 0)
		r = open_limits(dr, paths);
	if (!r && (r = read_limit(dr->bytes_fd, now)) < 0)
		return fail_limit(dr, paths, "dirty_bytes", r);
	if (r)
		return r;
	if (strcmp(now, dr->cap)) {
		dr->pending = false;
		return 0;
	}
	r = restore_limits(dr);
	if (r)
		return fail_limit(dr, paths, strcmp(dr->bytes, "0") ? "dirty_bytes" : "dirty_ratio",
				  r);
	dr->pending = false;
	dr->recovered = true;
	return 1;
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
	int r;

	drain_init(dr);
	r = lock_saved(dr, saved_path(paths), true);
	if (!r)
		r = undo_dead_drain(dr, paths);
	if (r >= 0)
		r = dr->bytes_fd < 0 ? open_limits(dr, paths) : 0;
	if (!r && (r = read_limit(dr->bytes_fd, dr->bytes)) < 0)
		fail_limit(dr, paths, "dirty_bytes", r);
	if (!r && (r = read_limit(dr->ratio_fd, dr->ratio)) < 0)
		fail_limit(dr, paths, "dirty_ratio", r);
	/* dirty_bytes cannot be set to 0: both at 0 could not be put back */
	if (!r && !strcmp(dr->bytes, "0") && !strcmp(dr->ratio, "0"))
		r = fail_limit(dr, paths, "dirty_ratio", -ERANGE);
	if (r) {
		drain_finish(dr);
		return r;
	}
	/* a lower dirty_bytes in force is cap enough */
	if (!strcmp(dr->bytes, "0") || strtoull(dr->bytes, NULL, 10) > cap_bytes)
		snprintf(dr->cap, sizeof(dr->cap), "%llu", (unsigned long long)cap_bytes);
	else
		snprintf(dr->cap, sizeof(dr->cap), "%s", dr->bytes);
	r = write_saved(dr);
	if (!r && strcmp(dr->cap, dr->bytes) && (r = write_limit(dr->bytes_fd, dr->cap)) < 0) {
		/* a failed write may still have changed it */
		drain_restore(dr);
		fail_limit(dr, paths, "dirty_bytes", r);
	}
	if (r) {
		drain_finish(dr);
		return r;
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
	if (!r)
		dr->pending = false;
	return r;
}

void drain_finish(struct drain *dr)
{
	unlock_saved(dr);
	close_limits(dr);
}

int drain_recover(struct drain *dr, const struct drain_paths *paths)
{
	int r;

	drain_init(dr);
	r = lock_saved(dr, saved_path(paths), false);
	if (r == -ENOENT || r == -EBUSY)
		return 0;
	if (!r)
		r = undo_dead_drain(dr, paths);
	drain_finish(dr);
	return r;
}
