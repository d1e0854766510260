// SPDX-License-Identifier: GPL-2.0
/* Freezing through the xquiesce kernel module: one ioctl for everything. */
#define _GNU_SOURCE	/* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <libkmod.h>

#include "clock.h"
#include "discovery.h"
#include "freezer-backends.h"
#include "log.h"

#define DEVICE_PATH	"/dev/" XQ_DEVICE_NAME

/* Static: filled before the freeze, read after it, never allocated inside. */
static struct xq_dev devs[XQ_MAX_DEVS];
static struct xq_fs frozen[XQ_MAX_DEVS];

/*
 * The module takes each filesystem from an O_PATH descriptor of one of its
 * mount points. Something mounted over the mount point since discovery
 * would name another filesystem: its device must still match (btrfs
 * excepted, whose st_dev is the subvolume's own).
 */
static int open_mountpoint(const struct disc_fs *fs)
{
	struct stat st;
	int fd;

	fd = open(fs->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (strcmp(fs->fstype, "btrfs") &&
	    (fstat(fd, &st) < 0 || st.st_dev != makedev(fs->major, fs->minor))) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static void close_devs(unsigned int n)
{
	while (n--)
		close(devs[n].fd);
}

static int load_module(void)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int r;

	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return -ENOMEM;
	log_setup_kmod(ctx);
	r = kmod_module_new_from_name(ctx, XQ_DEVICE_NAME, &mod);
	if (!r)
		r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	/* Without a modules.dep entry libkmod cannot find a file to insert. */
	if (r == -ENOENT || r == -ENOEXEC)
		r = -ENOENT;
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return r;
}

int module_open(void)
{
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int fd, r, tries;

	fd = open(DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	r = load_module();
	if (r < 0)
		return r;
	/* devtmpfs creates the node as the module registers; udev may follow. */
	for (tries = 0; tries < 200; tries++) {
		fd = open(DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			return fd >= 0 ? fd : -errno;
		nanosleep(&pause, NULL);
	}
	return -ENOENT;
}

int module_freeze(struct freezer *f, int fd, const struct discovery *d,
		  const struct freezer_options *opt)
{
	struct xq_freeze req = {
		.size = sizeof(req),
		.flags = (opt->presync ? XQ_FREEZE_PRESYNC : 0) |
			 (opt->all_blkfront ? XQ_FREEZE_BLKFRONT : 0),
		.timeout_ms = opt->timeout_ms,
		.devs = (uintptr_t)devs,
		.fs = (uintptr_t)frozen,
		.nfs_max = XQ_MAX_DEVS,
	};
	struct freeze_result *res = &f->result;
	unsigned int i;
	size_t j;
	int r;

	for (j = 0; j < d->nfs; j++) {
		if (d->fs[j].excluded)
			continue;
		if (req.ndevs == XQ_MAX_DEVS) {
			snprintf(res->message, sizeof(res->message),
				 "more than %d filesystems to freeze", XQ_MAX_DEVS);
			close_devs(req.ndevs);
			close(fd);
			return -E2BIG;
		}
		r = open_mountpoint(&d->fs[j]);
		if (r < 0) {
			snprintf(res->message, sizeof(res->message), "cannot open %.200s (%u:%u): %s",
				 d->fs[j].mountpoint, d->fs[j].major, d->fs[j].minor,
				 r == -ESTALE ? "another filesystem is mounted there now" :
				 strerror(-r));
			close_devs(req.ndevs);
			close(fd);
			return r;
		}
		devs[req.ndevs++] = (struct xq_dev){ .fd = r, .level = d->fs[j].level };
	}
	if (!req.ndevs && !opt->all_blkfront) {
		snprintf(res->message, sizeof(res->message),
			 "no filesystem to freeze on the Xen disks");
		close(fd);
		return -ENOENT;
	}

	log_hold();
	res->start_ns = monotonic_ns();
	r = ioctl(fd, XQ_IOC_FREEZE, &req) < 0 ? -errno : 0;
	close_devs(req.ndevs);
	if (r < 0) {
		int err = -r;

		close(fd);
		log_release();
		if (req.err_errno)
			freezer_fail_message(f, d, req.err_major, req.err_minor, req.err_errno,
					     "the xquiesce module could not freeze");
		else
			snprintf(res->message, sizeof(res->message),
				 "the xquiesce module refused the freeze: %s", strerror(err));
		return -err;
	}
	res->start_ns = req.start_ns;
	res->frozen_ns = req.frozen_ns;
	res->deadline_ns = req.deadline_ns;
	res->nfs = req.nfs < XQ_MAX_DEVS ? req.nfs : XQ_MAX_DEVS;
	for (i = 0; i < res->nfs; i++) {
		struct frozen_fs *out = &res->fs[i];

		*out = (struct frozen_fs){
			.major = frozen[i].major, .minor = frozen[i].minor,
			.level = frozen[i].level, .sync_ns = frozen[i].sync_ns,
			.freeze_ns = frozen[i].frozen_ns - req.start_ns,
		};
		freezer_copy_name(out->fstype, sizeof(out->fstype), frozen[i].fstype, XQ_FSTYPE_LEN);
		freezer_copy_name(out->id, sizeof(out->id), frozen[i].id, XQ_ID_LEN);
	}
	f->module_fd = fd;
	f->method = FREEZE_KERNEL;
	return 0;
}

int module_thaw(struct freezer *f)
{
	struct xq_thaw req = { .size = sizeof(req) };
	int r = 0;

	if (ioctl(f->module_fd, XQ_IOC_THAW, &req) < 0)
		r = -errno;
	close(f->module_fd);
	f->module_fd = -1;
	if (r == -ETIMEDOUT)
		snprintf(f->result.message, sizeof(f->result.message),
			 "the kernel watchdog thawed at the deadline, before the agent did");
	else if (r == -ECANCELED)
		snprintf(f->result.message, sizeof(f->result.message),
			 "the freeze was undone by someone else (a rescue thaw or FITHAW)");
	else if (r < 0)
		snprintf(f->result.message, sizeof(f->result.message),
			 "thaw through the xquiesce module failed: %s (the module retries it; "
			 "xquiescectl status shows what is still frozen)", strerror(-r));
	return r;
}

int freezer_module_status(struct xq_status *st, struct xq_fs *fs, unsigned int nfs_max,
			  bool load)
{
	int fd = load ? module_open() : open(DEVICE_PATH, O_RDWR | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return load ? fd : -errno;
	*st = (struct xq_status){ .size = sizeof(*st), .fs = (uintptr_t)fs, .nfs_max = nfs_max };
	if (ioctl(fd, XQ_IOC_STATUS, st) < 0)
		r = -errno;
	close(fd);
	return r;
}

int freezer_module_thaw_any(struct xq_thaw *out)
{
	int fd = module_open();
	int r = 0;

	if (fd < 0)
		return fd;
	*out = (struct xq_thaw){ .size = sizeof(*out), .flags = XQ_THAW_ANY };
	if (ioctl(fd, XQ_IOC_THAW, out) < 0)
		r = -errno;
	close(fd);
	return r;
}
