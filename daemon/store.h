/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xenstore transport of the agent, over libxenstore: /dev/xen/xenbus
 * in a guest, or the Unix socket named by XENSTORED_PATH (tests, dom0).
 * Event driven: the caller polls store_event_fd() (libxenstore's watch
 * pipe) and store_hangup_fd(), and never wakes up otherwise.
 * Functions return 0 or -errno; -ENOENT is a value, not a failure, where
 * the protocol tolerates absent keys.
 */
#ifndef _XQ_STORE_H
#define _XQ_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

struct xs_handle;

/* Watched paths: the path of an event decides what it is about. */
#define STORE_FEATURE_PATH	"control/feature-quiesce"
#define STORE_ACTION_PATH	"control/snapshot/action"
#define STORE_CONTROL_PATH	"control"
#define STORE_SHUTDOWN_PATH	"control/shutdown"	/* through control/'s watch */

struct store {
	struct xs_handle *xs;
	int hangup_fd;		/* dup of the socket, -1 on a device */
	char vss_status[64];	/* "/vss/<uuid>/status" once known, watched */
};

/* Connects and sets the watches (each fires once at once). */
int store_open(struct store *s);
/*
 * Watches <vss>/status from now on, across reconnections. Only the guest's
 * own mailbox: it may not read /vss itself.
 */
int store_watch_vss(struct store *s, const char *vss);
void store_close(struct store *s);
int store_event_fd(struct store *s);
/* Becomes readable (POLLRDHUP) when a socket peer goes away; -1 if none. */
int store_hangup_fd(const struct store *s);

/*
 * The next queued watch event: 0 with *path set (free it), -EAGAIN when
 * none is left, other -errno when the connection is lost.
 */
int store_next_event(struct store *s, char **path);

/* *value is NUL-terminated and must be freed; -ENOENT when absent. */
int store_read(struct store *s, const char *path, char **value);

/*
 * Applies out->ops in order from *next, and stops at the first failure:
 * *next is then the index of the op that failed. Removing what does not
 * exist succeeds.
 */
int store_apply(struct store *s, const struct proto_out *out, size_t *next);

/* What proto_guest_read() needs, read now; strings owned by g. */
struct store_guest {
	struct proto_guest g;
	char err_path[PROTO_PATH_MAX + 64];	/* g.read_err_path */
	struct proto_vbd *vbds;
	char **strings;
	size_t nstrings;
};

/* 0, or -errno, also in g->g.read_err with the key that failed. */
int store_read_guest(struct store *s, struct store_guest *g);
void store_guest_free(struct store_guest *g);

/* Whether an -errno from this file means the connection is gone. */
bool store_lost(int err);

#endif /* _XQ_STORE_H */
