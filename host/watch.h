/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_WATCH_H
#define XQUIESCE_HOST_WATCH_H

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

/* Consumes what fd signalled: 0, or -EPIPE once the watch is gone. */
int watch_drain(struct watch *watch);

/* Removes the watch. Safe on a watch that failed to start or is already stopped. */
void watch_stop(struct watch *watch);

#endif
