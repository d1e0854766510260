/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Xen Orchestra front door: GET /sync and GET /post-sync over HTTPS
 * (GNU libmicrohttpd with GnuTLS), in the agent's own poll loop. /sync
 * freezes through the shared session and answers once every filesystem is
 * frozen; /post-sync, the hold's deadline (xo_hold_timeout), a suspend
 * request or a resume (xo.h says how they are seen) or SIGTERM thaws. Off unless xo_sync_hook = yes, and then
 * only with a token file or an allow-list. Certificate, key and token are
 * read into memory at start: nothing here touches a disk while frozen.
 */
#ifndef _XQ_XO_HTTP_H
#define _XQ_XO_HTTP_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "session.h"
#include "xo.h"

#define XO_DOOR_NFDS		6	/* the hold timer, the listening socket or the connection */
#define XO_CONNECTION_TIMEOUT_S	5	/* a client that sends nothing is dropped */
#define XO_MEMORY_LIMIT		(32 * 1024)	/* per connection: headers, buffers */

struct MHD_Daemon;

struct xo_door {
	struct session *session;
	struct MHD_Daemon *mhd;
	int hold_fd;			/* timerfd: the hold's deadline */
	unsigned int hold_timeout_ms;
	struct xo_auth auth;
	struct xq_net *allow;		/* copy of xo_allow_from */
	char *cert_pem, *key_pem;
	/* the hold */
	bool held;
	char client[64];		/* who asked for it */
	unsigned int hold_ms;		/* as armed */
	int64_t slept_ns;		/* CLOCK_BOOTTIME less CLOCK_MONOTONIC at the freeze */
	char last[600];			/* how the last hold ended, for /post-sync */
};

/* Before xo_door_start(), so that every other call is safe when it is off. */
void xo_door_init(struct xo_door *x, struct session *s);
/*
 * Reads the token, the certificate and key (generated once if both are
 * missing) and listens. When off or when it cannot start, says why in the
 * log and leaves the door closed: the xenstore door works on.
 */
void xo_door_start(struct xo_door *x, const struct xq_config *cfg);
bool xo_door_running(const struct xo_door *x);
/*
 * SIGHUP, nothing held: closes the door and opens it again with cfg's xo_*
 * keys, the token and the certificate read anew (how the last hold ended
 * is kept). A connection in progress is dropped.
 */
void xo_door_restart(struct xo_door *x, const struct xq_config *cfg);
void xo_door_pollfds(struct xo_door *x, struct pollfd *fds);
/* poll()'s timeout: -1 while no connection waits on a timeout. */
int xo_door_timeout_ms(struct xo_door *x);
void xo_door_handle(struct xo_door *x, const struct pollfd *fds);
/* The guest resumed in a new domain (restore, revert): thaw at once. */
void xo_door_resumed(struct xo_door *x);
/* control/shutdown was written (a suspend, a shutdown, or their ack): thaw at once. */
void xo_door_shutdown_written(struct xo_door *x);
/* SIGTERM: thaw at once. */
void xo_door_shutdown(struct xo_door *x);
void xo_door_stop(struct xo_door *x);

/* xo-tls.c: the files, read at start. 0 or -errno, err says why. */
int xo_read_token(const char *path, char **secret, char *err, size_t errlen);
int xo_read_cert(const char *cert_path, const char *key_path, char **cert_pem, char **key_pem,
		 bool *generated, char *err, size_t errlen);

#endif /* _XQ_XO_HTTP_H */
