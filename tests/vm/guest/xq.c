// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util.h"
#include "xq.h"

#define FAULT_PARAM "/sys/module/" XQ_MODULE_NAME "/parameters/fault_fail_freeze_at"

/*
 * Opens the mount point (O_PATH), which is what FREEZE takes, and fills
 * dev, fstype and source from /proc/self/mountinfo, to check what froze. Its major:minor
 * field is sb->s_dev, what FREEZE matches; stat() would not do for btrfs,
 * whose st_dev is the subvolume's own anonymous device, not the
 * superblock's.
 */
int fsent_init(struct fsent *f, const char *mnt)
{
	char line[1024], dir[256], type[XQ_FSTYPE_LEN], src[128], *tail;
	unsigned int maj, min;
	FILE *info;
	int ret = -ENOENT;

	f->mnt = mnt;
	info = fopen("/proc/self/mountinfo", "re");
	if (!info)
		return -errno;
	while (fgets(line, sizeof(line), info)) {
		tail = strstr(line, " - ");
		if (sscanf(line, "%*u %*u %u:%u %*s %255s", &maj, &min, dir) != 3 || !tail ||
		    strcmp(dir, mnt) || sscanf(tail, " - %15s %127s", type, src) != 2)
			continue;
		f->dev = makedev(maj, min);
		memcpy(f->fstype, type, sizeof(f->fstype));
		memcpy(f->source, src, sizeof(f->source));
		ret = 0;
	}
	fclose(info);
	if (ret)
		return ret;
	f->fd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return f->fd < 0 ? -errno : 0;
}

bool fs_matches(const struct xq_fs *got, const struct fsent *want)
{
	return got->major == major(want->dev) && got->minor == minor(want->dev) &&
	       !strncmp(got->fstype, want->fstype, XQ_FSTYPE_LEN);
}

int xq_open(void)
{
	int fd = open(XQ_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* A request naming n filesystems, each at levels[i] (all 0 when NULL). */
void xq_freeze_init(struct xq_freeze *req, struct xq_dev *devs,
		    struct fsent *const *fs, const uint32_t *levels, unsigned int n,
		    struct xq_fs *out, unsigned int nout)
{
	unsigned int i;

	memset(req, 0, sizeof(*req));
	memset(devs, 0, n * sizeof(*devs));
	for (i = 0; i < n; i++) {
		devs[i].fd = fs[i]->fd;
		devs[i].level = levels ? levels[i] : 0;
	}
	req->size = sizeof(*req);
	req->ndevs = n;
	req->devs = (uintptr_t)devs;
	req->fs = (uintptr_t)out;
	req->nfs_max = nout;
}

int xq_freeze(int fd, struct xq_freeze *req)
{
	return ioctl(fd, XQ_IOC_FREEZE, req) < 0 ? -errno : 0;
}

int xq_thaw(int fd, struct xq_thaw *out)
{
	struct xq_thaw local;

	if (!out)
		out = &local;
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	return ioctl(fd, XQ_IOC_THAW, out) < 0 ? -errno : 0;
}

int xq_status(int fd, struct xq_status *st, struct xq_fs *fs, unsigned int nfs_max)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->fs = (uintptr_t)fs;
	st->nfs_max = nfs_max;
	return ioctl(fd, XQ_IOC_STATUS, st) < 0 ? -errno : 0;
}

int xq_module_load(const char *ko, const char *params)
{
	int fd, ret = 0;

	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params, 0) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* What rmmod does: refuse rather than wait while the module is in use. */
int xq_module_unload(void)
{
	return syscall(SYS_delete_module, XQ_MODULE_NAME, O_NONBLOCK) < 0 ? -errno : 0;
}

/*
 * Sets the test build's fault injection point. The parameter is written in
 * place when the module allows it, otherwise the module is reloaded with it.
 */
int xq_set_fault(const char *ko, unsigned int index)
{
	char value[16], params[64];
	struct stat st;
	int ret;

	if (stat(FAULT_PARAM, &st) < 0)
		return -errno;
	snprintf(value, sizeof(value), "%u", index);
	if (st.st_mode & S_IWUSR)
		return write_string(FAULT_PARAM, value);
	ret = xq_module_unload();
	if (ret)
		return ret;
	snprintf(params, sizeof(params), "fault_fail_freeze_at=%u", index);
	return xq_module_load(ko, params);
}

/* Writes a parameter of the loaded module (the test build's are writable). */
int xq_set_param(const char *name, unsigned int value)
{
	char path[128], buf[16];

	snprintf(path, sizeof(path), "/sys/module/" XQ_MODULE_NAME "/parameters/%s", name);
	snprintf(buf, sizeof(buf), "%u", value);
	return write_string(path, buf);
}

/* How many references the module has: one per open file, one per running freeze. */
int xq_module_refcnt(unsigned int *refs)
{
	char buf[32];
	int ret;

	ret = read_string("/sys/module/" XQ_MODULE_NAME "/refcnt", buf, sizeof(buf));
	if (ret)
		return ret;
	return sscanf(buf, "%u", refs) == 1 ? 0 : -EINVAL;
}

const char *xq_end_name(uint32_t end)
{
	static const char *const names[] = {
		[XQ_END_NONE] = "none",		[XQ_END_THAW] = "thaw",
		[XQ_END_DEADLINE] = "deadline",	[XQ_END_RELEASED] = "released",
		[XQ_END_RESCUE] = "rescue",	[XQ_END_FAILED] = "failed",
	};

	return end < sizeof(names) / sizeof(names[0]) ? names[end] : "unknown";
}
