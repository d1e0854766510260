/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One snapshot session, whichever front door asked for it: the xenstore
 * protocol (xs-door.c) or Xen Orchestra's sync hook (xo-http.c). The
 * session runs the hooks, finds the filesystems, freezes, thaws and keeps
 * the outcome for `xquiescectl status`. Only one door holds it at a time,
 * and no door while `xquiescectl freeze` holds its freeze (state.h's lock):
 * session_open() refuses the others with -EBUSY, and they refuse their
 * requester in their own words, never queue behind someone else's freeze.
 */
#ifndef _XQ_SESSION_H
#define _XQ_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "discovery.h"
#include "freezer.h"
#include "hooks.h"
#include "protocol.h"
#include "state.h"

enum session_door {
	SESSION_FREE,
	SESSION_XENSTORE,
	SESSION_XO,
};

/* The hooks that ran in the step just done, as the doors report them. */
struct session_items {
	struct proto_item v[PROTO_MAX_ITEMS];
	char text[PROTO_MAX_ITEMS][64];
	size_t n;
};

struct session {
	/* Set by the caller, read at each step. */
	const struct xq_config *cfg;
	enum freezer_backend backend;
	const char *const *test_disks;
	const char *state_path;
	int lock_fd;			/* state_lock_open(), or < 0: this process alone */

	enum session_door door;		/* who holds it */
	char who[96];			/* "a xenstore snapshot request", ... */
	uint64_t since_ns;		/* CLOCK_MONOTONIC, when it was opened */
	struct hooks hooks;
	struct discovery disc;
	struct freezer freezer;
	struct proto_item names[XQ_MAX_DEVS];	/* mount points of the frozen ones */
	char other[STATE_HOLDER_MAX];	/* another process's freeze, when refused for it */
};

/* 0, or -EBUSY when another door, or another process (xquiescectl freeze), holds it. */
int session_open(struct session *s, enum session_door door, const char *who);
/* The door is done: hooks and discovery are forgotten. */
void session_close(struct session *s);
bool session_busy(const struct session *s);
/* "held by WHO for N.N s", for a refusal. */
const char *session_busy_text(const struct session *s, char *buf, size_t len);

/* Loads the hooks and runs their "freeze": 0 or -errno (-ECANCELED: one failed). */
int session_freeze_hooks(struct session *s, struct session_items *items);
/* Finds the filesystems and freezes them, the module's deadline timeout_ms. */
void session_freeze(struct session *s, unsigned int timeout_ms, struct proto_freeze_result *res);
void session_thaw(struct session *s, struct proto_thaw_result *res);
/* "thaw" (thaw true) or "freeze-fail" to every hook that owes one: 0 or -ECANCELED. */
int session_finish_hooks(struct session *s, bool thaw, struct session_items *items);

/* What the door reports once it is over, for xquiescectl status. */
struct session_outcome {
	const char *status;		/* "snapshot-created", "xo-thawed", ... */
	const char *error;		/* NULL on success */
	const char *consistency;	/* NULL when nothing was frozen or decided */
	unsigned long long window_ms, drain_ms, freeze_ms;
	const char *filesystems;	/* "/ /srv", or NULL */
	const char *hooks;		/* "10-pg=freeze ok, thaw ok; ...", or NULL */
	const char *snapuuid;
};

/* Writes the outcome file (after the thaw, never inside the window). */
void session_record(const struct session *s, const struct session_outcome *o);
/* Words joined by sep ("a=x; b=y" when b is given), or NULL; free it. */
char *session_join(char *const *a, char *const *b, size_t n, const char *sep);
/* This session's hooks, "name=freeze ok, thaw ok; ..." (thawed false:
 * "freeze-fail"), or NULL; free it. */
char *session_hooks_text(const struct session *s, bool thawed);

#endif /* _XQ_SESSION_H */
