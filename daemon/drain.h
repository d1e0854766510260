/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dirty-memory drain before a freeze: for a short while vm.dirty_bytes
 * is capped, so that writers are throttled and the pre-sync catches up;
 * the freeze then has less to flush and blocks them for less time. The
 * limits in force are restored as soon as the freeze call returns, through
 * descriptors opened before it: nothing is opened while frozen.
 *
 * Before the cap, the limits and the cap are saved to a file on tmpfs that
 * the drain keeps locked (flock) until it is over. A locked file is a drain
 * that runs; an unlocked one was left by a process that died (the agent, or
 * "xquiescectl freeze"), and the next drain or the agent's start undoes it:
 * the saved limits go back if the cap is still in force, else whoever put
 * other values there since is left alone.
 */
#ifndef _XQ_DRAIN_H
#define _XQ_DRAIN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "state.h"

#define DRAIN_SAVED_PATH	XQ_STATE_DIR "/dirty.saved"
#define DRAIN_VALUE_LEN		24	/* an unsigned long in decimal, and more */
#define DRAIN_MAX_BDIS		16
#define DRAIN_BDI_LEN		24	/* "major:minor" */

/* Where to act; NULL members mean the real system. */
struct drain_paths {
	const char *sysctl;	/* default "/proc/sys" */
	const char *saved;	/* default DRAIN_SAVED_PATH */
	const char *sysfs;	/* default "/sys" */
	const char *vmstat;	/* default "/proc/vmstat" */
};

/*
 * A disk whose own dirty limit the drain caps instead of the system's
 * (drain_begin_disks): /sys/class/bdi/NAME/max_ratio_fine, its share of
 * the system's dirty threshold in millionths, enforced even below that
 * threshold by strict_limit. Both knobs exist from Linux 6.2 on.
 */
struct drain_bdi {
	char name[DRAIN_BDI_LEN];	/* its /sys/class/bdi entry, "254:0" */
	int ratio_fd, strict_fd;	/* max_ratio_fine, strict_limit; -1: closed */
	char ratio[DRAIN_VALUE_LEN];	/* the saved values */
	char strict[DRAIN_VALUE_LEN];
	char cap[DRAIN_VALUE_LEN];	/* the max_ratio_fine the drain puts in force */
};

struct drain {
	int bytes_fd, ratio_fd;		/* vm/dirty_bytes, vm/dirty_ratio; -1: closed */
	int saved_fd;			/* the saved file, locked while the drain runs */
	char bytes[DRAIN_VALUE_LEN];	/* the saved values, as the kernel gave them */
	char ratio[DRAIN_VALUE_LEN];
	char cap[DRAIN_VALUE_LEN];	/* the dirty_bytes the drain puts in force */
	char saved[PATH_MAX];		/* the saved file, once locked */
	unsigned int nbdis;		/* > 0: the disks' own limits, not the system's */
	struct drain_bdi bdi[DRAIN_MAX_BDIS];
	bool pending;			/* it holds limits that are not back yet */
	bool recovered;			/* a dead drain's limits were put back: */
	char restored[512];		/* which, and their values */
	const char *failed;		/* the path of the last failure */
	char failed_path[PATH_MAX];
};

void drain_init(struct drain *dr);
/*
 * Undoes what a dead drain left (dr->recovered), then reads and saves both limits, caps
 * dirty_bytes at cap_bytes (unless a lower dirty_bytes is in force) and
 * sleeps ms. 0, or -errno with dr->failed naming the path: then the limits
 * are as they were (or put back). -EBUSY: another drain runs.
 */
int drain_begin(struct drain *dr, const struct drain_paths *paths, unsigned int ms,
		uint64_t cap_bytes);
/*
 * The same, capping only the disks under the filesystems devs (their
 * sb->s_dev): each one's max_ratio_fine at its share of cap_bytes (unless
 * a lower one is in force) with strict_limit on, the system's limits left
 * alone. -EOPNOTSUPP when one of them has no such limit (not a block
 * device, or a kernel before 6.2), or there are more than DRAIN_MAX_BDIS:
 * nothing was changed, and the caller may fall back to drain_begin().
 */
int drain_begin_disks(struct drain *dr, const struct drain_paths *paths, unsigned int ms,
		      uint64_t cap_bytes, const dev_t *devs, unsigned int ndevs);
/* The saved limits of dr, "vm.dirty_bytes=... vm.dirty_ratio=..." or each disk's. */
void drain_describe(const struct drain *dr, char *text, size_t len);
/*
 * Puts the saved limits back through the descriptors: each disk's
 * strict_limit and max_ratio_fine, or the system's dirty_bytes when it
 * was in force, else dirty_ratio (writing one zeroes the other). Opens
 * nothing, so it may run while frozen. No-op without a drain. 0 or -errno.
 */
int drain_restore(struct drain *dr);
/*
 * Closes the descriptors and, once the limits are back, removes the saved
 * file (else it stays for the next drain or drain_recover()). Only when
 * nothing is frozen.
 */
void drain_finish(struct drain *dr);

/*
 * At start: undoes what a dead drain left and removes its file. 1 when it
 * put limits back (dr->restored, dr->saved say which), 0 when there
 * was nothing to do (no file, a drain that runs, or limits changed since
 * the cap), -errno with dr->failed naming the path: then the file stays.
 */
int drain_recover(struct drain *dr, const struct drain_paths *paths);

#endif /* _XQ_DRAIN_H */
