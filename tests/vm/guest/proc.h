/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQ_VMTEST_PROC_H
#define XQ_VMTEST_PROC_H

#include <stdint.h>
#include <sys/types.h>

/* Written by a child, read by the parent: shared memory. */
struct stamps {
	volatile uint64_t started_ns;	/* the write now in flight began */
	volatile uint64_t done_ns;	/* the last write completed */
	volatile uint64_t done_started_ns;	/* when that last completed write began */
	volatile uint64_t count;	/* writes completed */
};

/*
 * A writer appends 4 KiB to DIR/xq-writer every 2 ms, forever, stamping
 * each write; a probe writes 4 KiB to a new file once and exits. Both show
 * whether the filesystem takes writes: on a frozen one they block.
 */
struct child {
	pid_t pid;
	struct stamps *st;
};

int writer_start(struct child *c, const char *dir);
int probe_start(struct child *c, const char *dir);
/* 0 once the probe's write completed, -ETIMEDOUT while it is blocked. */
int probe_wait(struct child *c, unsigned int timeout_ms);
/* Kills (a writer) or waits for (a probe) the child; frees it. */
void child_reap(struct child *c);

#endif
