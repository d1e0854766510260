/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one file that talks to systemd (sd_notify(3)). Outside systemd
 * sd_notify() does nothing and returns 0, so callers never need to know.
 */
#ifndef _XQ_NOTIFY_H
#define _XQ_NOTIFY_H

enum daemon_state {
	DAEMON_STARTING,
	DAEMON_READY,		/* connected, feature advertised */
	DAEMON_RELOADING,
	DAEMON_STOPPING,
};

/* Tells systemd about a state change, with a one-line STATUS=. */
void notify_state(enum daemon_state state, const char *status);
/* Only the STATUS= line. */
void notify_status(const char *status);
/* At exit with a failure: ERRNO=. */
void notify_errno(int err);

#endif /* _XQ_NOTIFY_H */
