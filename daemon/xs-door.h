/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xenstore front door: dom0's snapshot requests (daemon/PROTOCOL.md).
 * protocol.c decides; this file reads xenstore, has the session perform
 * each step, and writes what the engine says, in its order. A request that
 * arrives while another door holds the session ends in snapshot-error.
 */
#ifndef _XQ_XS_DOOR_H
#define _XQ_XS_DOOR_H

#include <poll.h>
#include <stdbool.h>

#include "protocol.h"
#include "session.h"
#include "store.h"

#define XS_DOOR_NFDS	4

struct xs_door {
	struct proto proto;
	struct store store;
	struct session *session;
	bool connected;
	bool holding;			/* this door opened the session */
	unsigned int reconnect_ms;
	int deadline_fd, reconnect_fd;
	/* control/feature-quiesce found gone: a resume into a new domain */
	void (*feature_lost)(void *data);
	/* control/shutdown written: a suspend, a shutdown, or the kernel's ack */
	void (*shutdown_written)(void *data);
	void *data;
};

/* Timers; 0 or -errno. */
int xs_door_init(struct xs_door *x, struct session *s, unsigned int dom0_timeout_ms);
/* Connects, advertises; 0 or -errno (the caller says why and exits). */
int xs_door_connect(struct xs_door *x);
void xs_door_pollfds(struct xs_door *x, struct pollfd *fds);
void xs_door_handle(struct xs_door *x, const struct pollfd *fds);
/* SIGTERM: thaws and reports a request in progress. */
void xs_door_shutdown(struct xs_door *x);
void xs_door_close(struct xs_door *x);
bool xs_door_busy(const struct xs_door *x);

/* Arms a timerfd for ms from now (0 disarms). */
void timer_arm(int fd, unsigned int ms);

#endif /* _XQ_XS_DOOR_H */
