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
#include <stdint.h>

#include "state.h"

#define DRAIN_SAVED_PATH	XQ_STATE_DIR "/dirty.saved"
#define DRAIN_VALUE_LEN		24	/* an unsigned long in decimal, and more */

/* Where to act; NULL members mean the real system. */
struct drain_paths {
	const char *sysctl;	/* default "/proc/sys" */
	const char *saved;	/* default DRAIN_SAVED_PATH */
};

struct drain {
	int bytes_fd, ratio_fd;		/* vm/dirty_bytes, vm/dirty_ratio; -1: closed */
	int saved_fd;			/* the saved file, locked while the drain runs */
	char bytes[DRAIN_VALUE_LEN];	/* the saved values, as the kernel gave them */
	char ratio[DRAIN_VALUE_LEN];
	char cap[DRAIN_VALUE_LEN];	/* the dirty_bytes the drain puts in force */
	char saved[PATH_MAX];		/* the saved file, once locked */
	bool pending;			/* it holds limits that are not back yet */
	bool recovered;			/* a dead drain's limits were put back */
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
 * Puts the saved limits back through the descriptors: dirty_bytes when it
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
 * put limits back (dr->bytes, dr->ratio, dr->saved say which), 0 when there
 * was nothing to do (no file, a drain that runs, or limits changed since
 * the cap), -errno with dr->failed naming the path: then the file stays.
 */
int drain_recover(struct drain *dr, const struct drain_paths *paths);

#endif /* _XQ_DRAIN_H */
