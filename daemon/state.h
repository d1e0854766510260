/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The last snapshot's outcome, kept in a small file under /run for
 * `xquiescectl status`: XAPI removes control/snapshot/ from xenstore once
 * it has read the result. Written by the daemon after the thaw, never
 * inside the freeze window. One "key=value" per line.
 */
#ifndef _XQ_STATE_H
#define _XQ_STATE_H

#include <stddef.h>
#include <time.h>

#define XQ_STATE_DIR		"/run/xquiesce"
#define XQ_STATE_LAST		XQ_STATE_DIR "/last-snapshot"

struct snapshot_summary {
	time_t finished;		/* wall clock, at the report */
	const char *requester;		/* "xenstore", "xo 192.0.2.7", ... */
	const char *status;		/* "snapshot-created", "snapshot-error", "xo-thawed", "xo-error" */
	const char *error;		/* NULL, or what went wrong */
	const char *consistency;	/* as published to control/snapshot/ */
	unsigned long long window_ms;	/* how long the disks were frozen */
	unsigned long long drain_ms;	/* dirty-memory drain before the freeze */
	unsigned long long freeze_ms;	/* the freeze call, to the last one frozen */
	const char *filesystems;	/* "/ /srv/data ...", or NULL */
	const char *hooks;		/* "10-pg=ok 20-app=exit 3", or NULL */
	const char *snapuuid;		/* NULL when none */
};

/* Replaces path atomically (write, fsync, rename). 0 or -errno. */
int state_write_last(const char *path, const struct snapshot_summary *s);

/*
 * One freeze at a time across processes: the agent's doors and
 * `xquiescectl freeze` take this lock, "session.lock" in the directory of
 * the record (a tmpfs: nothing waits on a frozen disk), and write who they
 * are into it. The lock dies with its holder.
 */
#define STATE_HOLDER_MAX	160
/* Opens (creates) the lock beside state_path: an fd, or -errno. */
int state_lock_open(const char *state_path);
/* 0: taken, holder written; -EBUSY: another holds it, its words in busy; -errno. */
int state_lock_take(int fd, const char *holder, char *busy, size_t len);
void state_lock_release(int fd);

#endif /* _XQ_STATE_H */
