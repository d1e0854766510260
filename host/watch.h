/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_WATCH_H
#define XQUIESCE_HOST_WATCH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A xenstore watch that poll() can wait for: fd becomes readable after every
 * change at or below the path (and once when the watch is set).
 */
struct watch {
	pid_t pid;
	int fd;
};

/*
 * Sets a watch on PATH over its own xenstore connection. Returns once
 * xenstored has fired it the first time, so no later change can be missed:
 * 0, or -errno (-ETIMEDOUT when xenstored does not answer).
 */
int watch_start(struct watch *watch, const char *path);

/*
 * Waits up to timeout_ms for any of the n watches (at most WATCH_WAIT_MAX)
 * to fire, and consumes what they signalled. 0 after an event, the timeout
 * or a signal (signals.h: one sent just before the call ends it at once);
 * -EPIPE with *lost the index of a watch that is gone; -errno.
 */
#define WATCH_WAIT_MAX 4
int watch_wait(struct watch *watches, size_t n, int timeout_ms, size_t *lost);

/* Removes the watch. Safe on a watch that failed to start or is already stopped. */
void watch_stop(struct watch *watch);

#endif
