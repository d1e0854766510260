/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Xen Orchestra's VM sync hook, the decisions without I/O: which request
 * this is, whether its sender may make it, how long a hold may last, and
 * the status code and JSON body of every answer. xo-http.c does the HTTP,
 * the TLS and the session's steps.
 *
 * XO's side (@xen-orchestra/xapi, docs/vm-sync-hook.md and vm.mjs): with
 * the VM tag xo:notify-on-snapshot, GET /sync before VM.snapshot or
 * VM.checkpoint (waited for, up to syncHookTimeout, 60 s by default), GET
 * /post-sync after it (not waited for), over HTTPS on port 1727 with any
 * certificate accepted, and "Authorization: Bearer <base64 of the secret>"
 * when the secret is set and the release sends it.
 */
#ifndef _XQ_XO_H
#define _XQ_XO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "config.h"

#define XO_BODY_MAX		2048
#define XO_DIGEST_LEN		32
#define XO_SECRET_MAX		1024
/* The hold's end before the module's deadline, so that the agent thaws first. */
#define XO_MODULE_MARGIN_MS	5000

enum xo_route {
	XO_SYNC,
	XO_POST_SYNC,
	XO_NOT_FOUND,		/* 404 */
	XO_METHOD,		/* 405: a known path, not GET */
};

/* The path of url, query string ignored, as XO builds it. */
enum xo_route xo_route(const char *method, const char *url);

struct xo_auth {
	bool have_token;
	uint8_t digest[XO_DIGEST_LEN];	/* SHA-256 of the expected header */
	const struct xq_net *allow;
	size_t nallow;
};

enum xo_verdict {
	XO_ALLOW_TOKEN,		/* the right token */
	XO_ALLOW_SOURCE,	/* no token, from an allowed network */
	XO_DENY_NO_TOKEN,	/* 401 */
	XO_DENY_BAD_TOKEN,	/* 403: a token, not the right one */
	XO_DENY_SOURCE,		/* 403: no token, from elsewhere */
};

/* secret NULL: no token, the allow-list alone. 0 or -errno (the digest). */
int xo_auth_init(struct xo_auth *a, const char *secret, const struct xq_net *allow,
		 size_t nallow);
/* authorization: the header's value, NULL when absent. */
enum xo_verdict xo_authorize(const struct xo_auth *a, const char *authorization,
			     const struct in6_addr *src);
bool xo_verdict_ok(enum xo_verdict v);
const char *xo_verdict_text(enum xo_verdict v);
bool xo_source_allowed(const struct xq_net *nets, size_t n, const struct in6_addr *src);
/* Equal in time independent of where they differ. */
bool xo_equal(const uint8_t *a, const uint8_t *b, size_t n);

/*
 * How long the agent holds an XO freeze: hold_ms, but never past the
 * module's deadline (deadline_ns, CLOCK_MONOTONIC, 0: none) less a margin.
 */
unsigned int xo_hold_ms(unsigned int hold_ms, uint64_t deadline_ns, uint64_t now_ns);

/*
 * How a hold ends, and what the snapshot taken during it is worth.
 *
 * A suspend (VM.checkpoint, xl save) cannot happen frozen: the guest
 * kernel's process freezer gives up after 20 s on writers asleep on the
 * frozen filesystems (drivers/xen/manage.c, do_suspend). So a write to
 * control/shutdown during a hold thaws at once. The agent learns of that
 * write before the guest kernel acts where its watch on control/ fires
 * first (oxenstored: ancestors' watches first), and only once the kernel's
 * suspend is over elsewhere (C xenstored: the oldest watch first, and the
 * kernel's xenwatch thread runs the suspend before the next event).
 * Whether the guest slept in between tells the two apart: a completed
 * suspend, cancelled (a checkpoint) or not (a restore), adds the time it
 * was away to CLOCK_BOOTTIME and not to CLOCK_MONOTONIC (timekeeping's
 * resume, the Xen wallclock as the persistent clock, PV and HVM alike).
 */
enum xo_hold_end {
	XO_END_POST_SYNC,
	XO_END_DEADLINE,
	XO_END_SUSPEND,		/* control/shutdown written, the guest has not slept */
	XO_END_SLEPT,		/* control/shutdown written, the guest slept: resumed */
	XO_END_NEW_DOMAIN,	/* control/feature-quiesce gone: resumed in a new domain */
	XO_END_STOPPED,		/* SIGTERM */
};

/* Less than this is the noise of reading two clocks, not a suspend. */
#define XO_SLEPT_MIN_NS		1000000LL
/* control/shutdown written during a hold; slept: CLOCK_BOOTTIME less CLOCK_MONOTONIC. */
enum xo_hold_end xo_shutdown_written(int64_t slept_at_freeze_ns, int64_t slept_now_ns);
/* The hold ended in time: /post-sync, and the freeze was still whole (thaw_err 0). */
bool xo_end_in_time(enum xo_hold_end end, int thaw_err);
/* Why it ended, for the log, the record and /post-sync; hold_ms as armed. */
void xo_end_text(enum xo_hold_end end, int thaw_err, unsigned int hold_ms, char *buf,
		 size_t len);

struct xo_reply {
	unsigned int code;
	char body[XO_BODY_MAX];
};

/* Every body is one JSON object with "status" first. */
void xo_reply_refused(struct xo_reply *r, unsigned int code, const char *why);
void xo_reply_failed(struct xo_reply *r, const char *why);
void xo_reply_frozen(struct xo_reply *r, const char *consistency, const char *const *fs,
		     size_t nfs, unsigned long long freeze_ms, unsigned int hold_ms);
void xo_reply_thawed(struct xo_reply *r, unsigned long long held_ms, bool in_time,
		     const char *why);
void xo_reply_idle(struct xo_reply *r, const char *last);

/* s as a JSON string, quotes included, cut to fit len; its length. */
size_t xo_json_string(char *dst, size_t len, const char *s);

#endif /* _XQ_XO_H */
