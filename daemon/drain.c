// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "sysfs.h"

#define SAVED_FORMAT	"dirty_bytes=%s\ndirty_ratio=%s\ncap=%s\n"
#define SAVED_BDI_FORMAT	"bdi=%s max_ratio_fine=%s strict_limit=%s cap=%s\n"
#define SAVED_LEN	(DRAIN_MAX_BDIS * (DRAIN_BDI_LEN + 4 * DRAIN_VALUE_LEN) + 64)
#define RATIO_FINE_ALL	1000000ULL	/* max_ratio_fine of 100% */

static const char *sysctl_root(const struct drain_paths *paths)
{
	return paths && paths->sysctl ? paths->sysctl : "/proc/sys";
}

static const char *saved_path(const struct drain_paths *paths)
{
	return paths && paths->saved ? paths->saved : DRAIN_SAVED_PATH;
}

static const char *sysfs_root(const struct drain_paths *paths)
{
	return paths && paths->sysfs ? paths->sysfs : "/sys";
}

static const char *vmstat_path(const struct drain_paths *paths)
{
	return paths && paths->vmstat ? paths->vmstat : "/proc/vmstat";
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

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_limits(struct drain *dr)
{
	unsigned int i;

	close_fd(&dr->bytes_fd);
	close_fd(&dr->ratio_fd);
	for (i = 0; i < dr->nbdis; i++) {
		close_fd(&dr->bdi[i].ratio_fd);
		close_fd(&dr->bdi[i].strict_fd);
	}
}

/* Each disk's pair; of the system's, the one in force: the kernel zeroes the other. */
static int restore_limits(const struct drain *dr)
{
	unsigned int i;
	int err = 0, r;

	if (!dr->nbdis) {
		if (strcmp(dr->bytes, "0"))
			return write_limit(dr->bytes_fd, dr->bytes);
		return write_limit(dr->ratio_fd, dr->ratio);
	}
	for (i = 0; i < dr->nbdis; i++) {
		r = write_limit(dr->bdi[i].strict_fd, dr->bdi[i].strict);
		if (!r)
			r = write_limit(dr->bdi[i].ratio_fd, dr->bdi[i].ratio);
		if (r && !err)
			err = r;
	}
	return err;
}

void drain_describe(const struct drain *dr, char *text, size_t len)
{
	size_t used = 0;
	unsigned int i;

	if (!dr->nbdis) {
		snprintf(text, len, "vm.dirty_bytes=%s vm.dirty_ratio=%s", dr->bytes, dr->ratio);
		return;
	}
	text[0] = '\0';
	for (i = 0; i < dr->nbdis && used < len; i++)
		used += snprintf(text + used, len - used, "%smax_ratio_fine=%s strict_limit=%s of "
				 "/sys/class/bdi/%s", i ? ", " : "", dr->bdi[i].ratio,
				 dr->bdi[i].strict, dr->bdi[i].name);
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

/* The file's text for the limits of dr; its length. */
static int saved_text(const struct drain *dr, char *text, size_t size)
{
	unsigned int i;
	int len = 0;

	if (!dr->nbdis)
		return snprintf(text, size, SAVED_FORMAT, dr->bytes, dr->ratio, dr->cap);
	text[0] = '\0';
	for (i = 0; i < dr->nbdis; i++)
		len += snprintf(text + len, size - len, SAVED_BDI_FORMAT, dr->bdi[i].name,
				dr->bdi[i].ratio, dr->bdi[i].strict, dr->bdi[i].cap);
	return len;
}

static int write_saved(struct drain *dr)
{
	char text[SAVED_LEN];
	int len = saved_text(dr, text, sizeof(text));
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

static void add_bdi(struct drain *dr, const char *name)
{
	struct drain_bdi *b = &dr->bdi[dr->nbdis++];

	*b = (struct drain_bdi){ .ratio_fd = -1, .strict_fd = -1 };
	snprintf(b->name, sizeof(b->name), "%.*s", DRAIN_BDI_LEN - 1, name);
}

/* The disks' lines of a saved file into dr->bdi; -EINVAL on anything else. */
static int parse_saved_bdis(struct drain *dr, const char *text)
{
	char name[DRAIN_BDI_LEN];
	struct drain_bdi *b;
	int used;

	while (*text) {
		if (dr->nbdis == DRAIN_MAX_BDIS ||
		    sscanf(text, "bdi=%23[0-9:] %n", name, &used) != 1)
			return -EINVAL;
		add_bdi(dr, name);
		b = &dr->bdi[dr->nbdis - 1];
		text += used;
		used = 0;
		if (sscanf(text, "max_ratio_fine=%23[0-9] strict_limit=%23[0-9] cap=%23[0-9]%n",
			   b->ratio, b->strict, b->cap, &used) != 3 || text[used] != '\n')
			return -EINVAL;
		text += used + 1;
	}
	return dr->nbdis ? 0 : -EINVAL;
}

/* -ENODATA: an empty file, from a drain that died before it saved anything. */
static int read_saved(struct drain *dr)
{
	char text[SAVED_LEN], expect[sizeof(text)];
	ssize_t n = pread(dr->saved_fd, text, sizeof(text) - 1, 0);
	int r;

	if (n < 0)
		return fail(dr, dr->saved, -errno);
	if (n == 0)
		return -ENODATA;
	text[n] = '\0';
	if (!strncmp(text, "bdi=", 4))
		r = parse_saved_bdis(dr, text);
	else
		r = sscanf(text, "dirty_bytes=%23[0-9]\ndirty_ratio=%23[0-9]\ncap=%23[0-9]\n",
			   dr->bytes, dr->ratio, dr->cap) == 3 ? 0 : -EINVAL;
	if (r)
		return fail(dr, dr->saved, r);
	/* nothing but its lines, exactly as written */
	saved_text(dr, expect, sizeof(expect));
	return strcmp(text, expect) ? fail(dr, dr->saved, -EINVAL) : 0;
}

/* <sysfs>/class/bdi/NAME/KNOB ("": the disk's directory) into path; false if cut short. */
static bool bdi_path(char path[PATH_MAX], const struct drain_paths *paths, const char *name,
		     const char *knob)
{
	return snprintf(path, PATH_MAX, "%s/class/bdi/%s/%s", sysfs_root(paths), name, knob) <
	       PATH_MAX;
}

static int fail_bdi(struct drain *dr, const struct drain_paths *paths, const char *name,
		    const char *knob, int err)
{
	char path[PATH_MAX];

	bdi_path(path, paths, name, knob);
	return fail(dr, path, err);
}

static int open_bdi_knob(struct drain *dr, const struct drain_paths *paths, const char *name,
			 const char *knob, int *fd)
{
	char path[PATH_MAX];

	if (!bdi_path(path, paths, name, knob))
		return fail(dr, path, -ENAMETOOLONG);
	*fd = open(path, O_RDWR | O_CLOEXEC);
	return *fd < 0 ? fail(dr, path, -errno) : 0;
}

/* Opens both knobs of b and reads their values into ratio and strict. */
static int open_bdi(struct drain *dr, const struct drain_paths *paths, struct drain_bdi *b,
		    char *ratio, char *strict)
{
	int r = open_bdi_knob(dr, paths, b->name, "max_ratio_fine", &b->ratio_fd);

	if (!r)
		r = open_bdi_knob(dr, paths, b->name, "strict_limit", &b->strict_fd);
	if (!r && (r = read_limit(b->ratio_fd, ratio)) < 0)
		return fail_bdi(dr, paths, b->name, "max_ratio_fine", r);
	if (!r && (r = read_limit(b->strict_fd, strict)) < 0)
		return fail_bdi(dr, paths, b->name, "strict_limit", r);
	return r;
}

/*
 * A dead drain's disks: those whose cap is still in force get their limits
 * back, the others (limits changed since, or the disk gone) are left alone.
 * Keeps in dr->bdi those it put back. 1, 0 (none) or -errno.
 */
static int undo_dead_bdis(struct drain *dr, const struct drain_paths *paths)
{
	char now[DRAIN_VALUE_LEN], strict[DRAIN_VALUE_LEN], dir[PATH_MAX];
	unsigned int i, kept = 0;
	int r;

	for (i = 0; i < dr->nbdis; i++) {
		struct drain_bdi *b = &dr->bdi[i];

		bdi_path(dir, paths, b->name, "");
		if (access(dir, F_OK) && errno == ENOENT)
			continue;
		r = open_bdi(dr, paths, b, now, strict);
		if (r)
			return r;
		if (strcmp(now, b->cap)) {
			close_fd(&b->ratio_fd);
			close_fd(&b->strict_fd);
			continue;
		}
		dr->bdi[kept++] = *b;
	}
	dr->nbdis = kept;
	if (!kept)
		return 0;
	r = restore_limits(dr);
	if (r)
		return fail(dr, dr->saved, r);
	return 1;
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
	if (!r && dr->nbdis) {
		r = undo_dead_bdis(dr, paths);
		if (r < 0)
			return r;
		dr->pending = false;
		dr->recovered = r;
		drain_describe(dr, dr->restored, sizeof(dr->restored));
		close_limits(dr);
		dr->nbdis = 0;
		return r;
	}
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
	drain_describe(dr, dr->restored, sizeof(dr->restored));
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

/*
 * The backing device of a filesystem on a block device: the disk itself,
 * or the disk a partition is part of. -EOPNOTSUPP: not a block device, or
 * no per-disk strict limit in this kernel.
 */
static int bdi_of(struct drain *dr, const struct drain_paths *paths, dev_t dev,
		  char name[DRAIN_BDI_LEN])
{
	char path[PATH_MAX];
	int r;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u", sysfs_root(paths), major(dev),
		 minor(dev));
	if (access(path, F_OK))
		return errno == ENOENT ? -EOPNOTSUPP : fail(dr, path, -errno);
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/partition", sysfs_root(paths),
		 major(dev), minor(dev));
	if (access(path, F_OK)) {
		snprintf(name, DRAIN_BDI_LEN, "%u:%u", major(dev), minor(dev));
	} else {
		snprintf(path, sizeof(path), "%s/dev/block/%u:%u/../dev", sysfs_root(paths),
			 major(dev), minor(dev));
		r = sysfs_read_line(path, name, DRAIN_BDI_LEN);
		if (r)
			return fail(dr, path, r);
		if (!*name || strspn(name, "0123456789:") != strlen(name))
			return fail(dr, path, -EINVAL);
	}
	bdi_path(path, paths, name, "strict_limit");
	if (access(path, F_OK))
		return errno == ENOENT ? fail(dr, path, -EOPNOTSUPP) : fail(dr, path, -errno);
	return 0;
}

/* The system's dirty threshold in bytes, as the kernel computes it now. */
static int dirty_threshold(struct drain *dr, const struct drain_paths *paths, uint64_t *bytes)
{
	char line[128];
	unsigned long long pages;
	FILE *f = fopen(vmstat_path(paths), "re");
	int r = -ENOENT;

	if (!f)
		return fail(dr, vmstat_path(paths), -errno);
	while (r && fgets(line, sizeof(line), f))
		if (sscanf(line, "nr_dirty_threshold %llu", &pages) == 1)
			r = 0;
	fclose(f);
	if (!r && !pages)
		r = -ERANGE;
	if (r)
		return fail(dr, vmstat_path(paths), r);
	*bytes = pages * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

/* The distinct disks under devs into names; their number, or -errno. */
static int find_bdis(struct drain *dr, const struct drain_paths *paths, const dev_t *devs,
		     unsigned int ndevs, char names[DRAIN_MAX_BDIS][DRAIN_BDI_LEN])
{
	char name[DRAIN_BDI_LEN];
	unsigned int i, j, n = 0;
	int r;

	for (i = 0; i < ndevs; i++) {
		r = bdi_of(dr, paths, devs[i], name);
		if (r)
			return r;
		for (j = 0; j < n && strcmp(names[j], name); j++)
			;
		if (j < n)
			continue;
		/* more disks than the saved file takes: the system's cap instead */
		if (n == DRAIN_MAX_BDIS)
			return fail(dr, sysfs_root(paths), -EOPNOTSUPP);
		snprintf(names[n++], DRAIN_BDI_LEN, "%s", name);
	}
	return n ? (int)n : fail(dr, sysfs_root(paths), -EOPNOTSUPP);
}

/* Each disk's max_ratio_fine: its share of cap_bytes, or a lower one in force. */
static void set_bdi_caps(struct drain *dr, uint64_t cap_bytes, uint64_t threshold)
{
	uint64_t share = cap_bytes / dr->nbdis * RATIO_FINE_ALL / threshold, saved;
	unsigned int i;

	if (!share)
		share = 1;
	if (share > RATIO_FINE_ALL)
		share = RATIO_FINE_ALL;
	for (i = 0; i < dr->nbdis; i++) {
		saved = strtoull(dr->bdi[i].ratio, NULL, 10);
		snprintf(dr->bdi[i].cap, sizeof(dr->bdi[i].cap), "%llu",
			 (unsigned long long)(saved < share ? saved : share));
	}
}

int drain_begin_disks(struct drain *dr, const struct drain_paths *paths, unsigned int ms,
		      uint64_t cap_bytes, const dev_t *devs, unsigned int ndevs)
{
	char names[DRAIN_MAX_BDIS][DRAIN_BDI_LEN];
	uint64_t threshold = 0;
	unsigned int i;
	int n, r;

	drain_init(dr);
	n = find_bdis(dr, paths, devs, ndevs, names);
	if (n < 0)
		return n;
	r = lock_saved(dr, saved_path(paths), true);
	if (!r)
		r = undo_dead_drain(dr, paths);
	if (r >= 0) {
		/* the system's limits, opened if a dead drain had capped them */
		close_limits(dr);
		r = dirty_threshold(dr, paths, &threshold);
	}
	for (i = 0; !r && i < (unsigned int)n; i++) {
		add_bdi(dr, names[i]);
		r = open_bdi(dr, paths, &dr->bdi[i], dr->bdi[i].ratio, dr->bdi[i].strict);
	}
	if (r) {
		drain_finish(dr);
		return r;
	}
	set_bdi_caps(dr, cap_bytes, threshold);
	r = write_saved(dr);
	for (i = 0; !r && i < dr->nbdis; i++) {
		r = write_limit(dr->bdi[i].ratio_fd, dr->bdi[i].cap);
		if (r)
			fail_bdi(dr, paths, dr->bdi[i].name, "max_ratio_fine", r);
		else if ((r = write_limit(dr->bdi[i].strict_fd, "1")) < 0)
			fail_bdi(dr, paths, dr->bdi[i].name, "strict_limit", r);
	}
	if (r) {
		/* a failed write may still have changed it */
		if (dr->pending)
			drain_restore(dr);
		drain_finish(dr);
		return r;
	}
	sleep_ms(ms);
	return 0;
}

int drain_restore(struct drain *dr)
{
	int r;

	if (dr->bytes_fd < 0 && !dr->nbdis)
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
	dr->nbdis = 0;
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
