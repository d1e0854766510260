/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dirty-memory drain before a freeze: for a short while vm.dirty_bytes
 * is capped, so that writers are throttled and the pre-sync catches up;
 * the freeze then has less to flush and blocks them for less time. The
 * limits in force are saved to a file on tmpfs before the cap, so that an
 * agent that dies mid-drain puts them back at its next start, and are
 * restored as soon as the freeze call returns, through descriptors opened
 * before it: nothing is opened while frozen.
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
	char bytes[DRAIN_VALUE_LEN];	/* the saved values, as the kernel gave them */
	char ratio[DRAIN_VALUE_LEN];
	char saved[PATH_MAX];		/* the file to remove once thawed; "" if none */
	bool restored;			/* the limits are back: the file may go */
	const char *failed;		/* the path of the last failure */
	char failed_path[PATH_MAX];
};

void drain_init(struct drain *dr);
/*
 * Reads and saves both limits, caps dirty_bytes at cap_bytes (unless a
 * lower dirty_bytes is in force) and sleeps ms. 0, or -errno with
 * dr->failed naming the path: then the limits are as they were (or put
 * back). -EEXIST: the saved file exists, another drain runs or one died.
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
 * file (else it stays for drain_recover()). Only when nothing is frozen.
 */
void drain_finish(struct drain *dr);

/*
 * At start: when the saved file exists, restores the limits from it and
 * removes it. 1 when it did (dr->bytes, dr->ratio, dr->saved say what),
 * 0 when there was no file, -errno with dr->failed naming the path.
 */
int drain_recover(struct drain *dr, const struct drain_paths *paths);

#endif /* _XQ_DRAIN_H */
