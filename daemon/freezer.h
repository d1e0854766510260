/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place that knows there are two ways to freeze: the xquiesce
 * kernel module (one ioctl, held by an open file, thawed by a watchdog or
 * when the agent dies) and, when the module cannot be loaded, FIFREEZE per
 * filesystem (weaker: no watchdog, no thaw if the agent dies).
 * Between freezer_freeze() and freezer_thaw() nothing here allocates,
 * opens files or logs to anything but the held log buffer.
 */
#ifndef _XQ_FREEZER_H
#define _XQ_FREEZER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/xquiesce.h>

#include "drain.h"

struct discovery;
struct fifreeze_state;

enum freeze_method {
	FREEZE_NONE,		/* nothing frozen: crash-consistent */
	FREEZE_KERNEL,		/* xquiesce module */
	FREEZE_PER_MOUNT,	/* FIFREEZE fallback */
};

enum freezer_backend {
	FREEZER_AUTO,		/* module, else FIFREEZE */
	FREEZER_MODULE,		/* module only */
	FREEZER_FIFREEZE,	/* FIFREEZE only */
};

struct freezer_options {
	enum freezer_backend backend;
	unsigned int timeout_ms;	/* module watchdog deadline */
	bool presync;
	/* Also let the module freeze blkfront filesystems discovery missed
	 * (other mount namespaces); only without configured exclusions. */
	bool all_blkfront;
	unsigned int drain_ms;		/* cap dirty memory this long first; 0: no drain */
	uint64_t drain_dirty_bytes;	/* the cap (vm.dirty_bytes) */
	bool drain_disks;		/* cap only the frozen disks' own dirty memory */
	const struct drain_paths *drain_paths;	/* NULL: the real system */
};

struct frozen_fs {
	unsigned int major, minor, level;
	char fstype[XQ_FSTYPE_LEN];
	char id[XQ_ID_LEN];		/* "xvda1", or the mount point's tail */
	uint64_t sync_ns;		/* pre-sync time spent on it */
	uint64_t freeze_ns;		/* from the start of the call to frozen */
};

struct freeze_result {
	enum freeze_method method;
	unsigned int nfs;
	struct frozen_fs fs[XQ_MAX_DEVS];
	uint64_t drain_ns;		/* the drain before the freeze call, 0 if none */
	uint64_t start_ns;		/* CLOCK_MONOTONIC: freeze call began */
	uint64_t frozen_ns;		/* last filesystem frozen */
	uint64_t deadline_ns;		/* when the watchdog thaws */
	uint64_t thawed_ns;		/* thaw done, 0 before */
	int thaw_error;			/* -ETIMEDOUT: the watchdog thawed first;
					 * -ECANCELED: someone else thawed */
	unsigned int nskipped;		/* FIFREEZE said EOPNOTSUPP: not frozen */
	int error;			/* -errno of a failed freeze */
	char message[512];		/* why it failed, naming the device */
};

struct freezer {
	enum freeze_method method;	/* what holds the freeze now */
	int module_fd;			/* /dev/xquiesce while frozen by it */
	struct fifreeze_state *fifreeze;	/* while frozen by FIFREEZE */
	struct drain drain;		/* its saved file stays until the thaw */
	struct freeze_result result;
};

void freezer_init(struct freezer *f);
/*
 * Freezes every filesystem of d that is not excluded, after the drain of
 * opt (a drain that cannot run is logged, and the freeze goes on without
 * it; the limits are restored as soon as the freeze call returns, and its
 * saved file is removed at the thaw). The log is held
 * (log_hold()) from just before the freeze until the thaw. 0, or -errno with
 * f->result.message saying which device failed and why (nothing is left
 * frozen then). f->result.method says what was used.
 */
int freezer_freeze(struct freezer *f, const struct discovery *d,
		   const struct freezer_options *opt);
/* Thaws in reverse; 0, or -errno (-ETIMEDOUT: the watchdog was first). */
int freezer_thaw(struct freezer *f);
/* From the start of the freeze call to the end of the thaw, in ms: the
 * longest any writer can have been held. */
unsigned int freezer_window_ms(const struct freeze_result *r);
/* The freeze call itself, pre-sync included, to the last one frozen, in ms. */
unsigned int freezer_freeze_ms(const struct freeze_result *r);
/* The drain before the freeze call, in ms (0: none). */
unsigned int freezer_drain_ms(const struct freeze_result *r);
const char *freezer_method_name(enum freeze_method method);
/* "auto", "module" or "fifreeze" (the --freezer option): 0, or -EINVAL. */
int freezer_backend_parse(const char *name, enum freezer_backend *backend);

/* The module's view: 0, -ENOENT when it is not loaded (and load is false
 * or loading failed), other -errno. */
int freezer_module_status(struct xq_status *st, struct xq_fs *fs, unsigned int nfs_max,
			  bool load);
/* Rescue thaw of whatever the module holds (XQ_THAW_ANY). */
int freezer_module_thaw_any(struct xq_thaw *out);

#endif /* _XQ_FREEZER_H */
