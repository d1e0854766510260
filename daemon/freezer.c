// SPDX-License-Identifier: GPL-2.0
/* The only file that knows there are two freezer backends. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "clock.h"
#include "discovery.h"
#include "freezer-backends.h"
#include "log.h"

void freezer_fail_message(struct freezer *f, const struct discovery *d, unsigned int major,
			  unsigned int minor, int err, const char *what)
{
	const struct disc_fs *fs = NULL;
	size_t i;

	for (i = 0; d && i < d->nfs; i++)
		if (d->fs[i].major == major && d->fs[i].minor == minor)
			fs = &d->fs[i];
	if (fs)
		snprintf(f->result.message, sizeof(f->result.message),
			 "%s %.200s (%s on %.150s, device %u:%u): %s", what, fs->mountpoint, fs->fstype,
			 fs->source, major, minor, strerror(err));
	else
		snprintf(f->result.message, sizeof(f->result.message), "%s device %u:%u: %s",
			 what, major, minor, strerror(err));
}

void freezer_copy_name(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void freezer_init(struct freezer *f)
{
	*f = (struct freezer){ .method = FREEZE_NONE, .module_fd = -1 };
	drain_init(&f->drain);
}

/* The disks' own limits; -EOPNOTSUPP when one of them has none. */
static int start_disks_drain(struct freezer *f, const struct discovery *d,
			     const struct freezer_options *opt)
{
	dev_t devs[XQ_MAX_DEVS];
	unsigned int n = 0;
	size_t i;
	int r;

	for (i = 0; i < d->nfs && n < XQ_MAX_DEVS; i++)
		if (!d->fs[i].excluded)
			devs[n++] = makedev(d->fs[i].major, d->fs[i].minor);
	r = drain_begin_disks(&f->drain, opt->drain_paths, opt->drain_ms, opt->drain_dirty_bytes,
			      devs, n);
	if (r == -EOPNOTSUPP)
		INF("no per-disk dirty limit (%s: %s): the drain caps vm.dirty_bytes instead",
		    f->drain.failed, strerror(-r));
	return r;
}

static void start_drain(struct freezer *f, const struct discovery *d,
			const struct freezer_options *opt)
{
	uint64_t start = monotonic_ns();
	int r = -EOPNOTSUPP;

	if (!opt->drain_ms)
		return;
	if (opt->drain_disks)
		r = start_disks_drain(f, d, opt);
	if (r == -EOPNOTSUPP)
		r = drain_begin(&f->drain, opt->drain_paths, opt->drain_ms, opt->drain_dirty_bytes);
	if (r == -EBUSY)
		WRN("no dirty-memory drain before this freeze: another one is running (%s "
		    "is locked)", f->drain.failed);
	else if (r == -ERANGE)
		WRN("no dirty-memory drain before this freeze: vm.dirty_bytes and "
		    "vm.dirty_ratio are both 0, which could not be put back");
	else if (r)
		WRN("no dirty-memory drain before this freeze: %s: %s", f->drain.failed,
		    strerror(-r));
	else
		f->result.drain_ns = monotonic_ns() - start;
	if (f->drain.recovered)
		WRN("a drain that died had left dirty memory capped: %s put back from %s",
		    f->drain.restored, f->drain.saved);
}

/* At once after the freeze call: held (frozen) or not, the log takes it. */
static void end_drain(struct freezer *f, int freeze_err)
{
	char limits[512];
	int r = drain_restore(&f->drain);

	if (r) {
		drain_describe(&f->drain, limits, sizeof(limits));
		ERR("cannot restore %s after the drain: %s; %s keeps them for xquiesced's next "
		    "start", limits, strerror(-r), f->drain.saved);
	}
	if (freeze_err)
		drain_finish(&f->drain);
}

int freezer_freeze(struct freezer *f, const struct discovery *d,
		   const struct freezer_options *opt)
{
	int fd = -1, r;

	if (f->method != FREEZE_NONE)
		return -EBUSY;
	f->result = (struct freeze_result){ .method = FREEZE_NONE };
	if (opt->backend != FREEZER_FIFREEZE) {
		fd = module_open();
		if (fd < 0 && opt->backend == FREEZER_MODULE) {
			snprintf(f->result.message, sizeof(f->result.message),
				 "cannot use the xquiesce module (/dev/%s): %s", XQ_DEVICE_NAME,
				 strerror(-fd));
			f->result.error = fd;
			return fd;
		}
		if (fd < 0)
			WRN("the xquiesce module is not available (/dev/%s: %s); freezing with "
			    "FIFREEZE per filesystem instead, a weaker freeze: no watchdog in the "
			    "kernel, and no thaw if the agent dies while frozen", XQ_DEVICE_NAME,
			    strerror(-fd));
	}
	start_drain(f, d, opt);
	r = fd >= 0 ? module_freeze(f, fd, d, opt) : fifreeze_freeze(f, d, opt);
	end_drain(f, r);
	f->result.error = r;
	if (r == 0)
		f->result.method = f->method;
	return r;
}

int freezer_thaw(struct freezer *f)
{
	int r;

	switch (f->method) {
	case FREEZE_KERNEL:
		r = module_thaw(f);
		break;
	case FREEZE_PER_MOUNT:
		r = fifreeze_thaw(f);
		break;
	default:
		return -EALREADY;
	}
	f->method = FREEZE_NONE;
	f->result.thawed_ns = monotonic_ns();
	f->result.thaw_error = r;
	log_release();
	drain_finish(&f->drain);
	return r;
}

unsigned int freezer_window_ms(const struct freeze_result *r)
{
	if (!r->start_ns || r->thawed_ns < r->start_ns)
		return 0;
	return (r->thawed_ns - r->start_ns + 999999) / 1000000;
}

unsigned int freezer_freeze_ms(const struct freeze_result *r)
{
	if (!r->start_ns || r->frozen_ns < r->start_ns)
		return 0;
	return (r->frozen_ns - r->start_ns + 999999) / 1000000;
}

unsigned int freezer_drain_ms(const struct freeze_result *r)
{
	return (r->drain_ns + 999999) / 1000000;
}

const char *freezer_method_name(enum freeze_method method)
{
	switch (method) {
	case FREEZE_KERNEL:
		return "kernel";
	case FREEZE_PER_MOUNT:
		return "per-mount";
	default:
		return "none";
	}
}

int freezer_backend_parse(const char *name, enum freezer_backend *backend)
{
	if (!strcmp(name, "auto"))
		*backend = FREEZER_AUTO;
	else if (!strcmp(name, "module"))
		*backend = FREEZER_MODULE;
	else if (!strcmp(name, "fifreeze"))
		*backend = FREEZER_FIFREEZE;
	else
		return -EINVAL;
	return 0;
}
