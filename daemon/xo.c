// SPDX-License-Identifier: GPL-2.0
/* Xen Orchestra's sync hook: routes, authorization and answers (see xo.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gnutls/crypto.h>

#include "xo.h"

enum xo_route xo_route(const char *method, const char *url)
{
	size_t len = strcspn(url, "?#");
	enum xo_route route;

	if (len == 5 && !strncmp(url, "/sync", len))
		route = XO_SYNC;
	else if (len == 10 && !strncmp(url, "/post-sync", len))
		route = XO_POST_SYNC;
	else
		return XO_NOT_FOUND;
	return strcmp(method, "GET") ? XO_METHOD : route;
}

/* Buffer.from(secret).toString('base64'): standard alphabet, padded. */
static char *base64(const char *s)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = malloc((n + 2) / 3 * 4 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned int v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static int digest(const char *s, size_t len, uint8_t *out)
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, s, len, out) ? -EIO : 0;
}

int xo_auth_init(struct xo_auth *a, const char *secret, const struct xq_net *allow,
		 size_t nallow)
{
	char *b64;
	int r = 0;

	*a = (struct xo_auth){ .allow = allow, .nallow = nallow };
	if (!secret)
		return 0;
	b64 = base64(secret);
	if (!b64)
		return -ENOMEM;
	r = digest(b64, strlen(b64), a->digest);
	explicit_bzero(b64, strlen(b64));
	free(b64);
	a->have_token = !r;
	return r;
}

bool xo_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

bool xo_source_allowed(const struct xq_net *nets, size_t n, const struct in6_addr *src)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int bits = nets[i].prefix, full = bits / 8;
		uint8_t mask = (uint8_t)(0xff00 >> (bits % 8));

		if (memcmp(src->s6_addr, nets[i].addr.s6_addr, full))
			continue;
		if (full < 16 && (src->s6_addr[full] & mask) != nets[i].addr.s6_addr[full])
			continue;
		return true;
	}
	return false;
}

/*
 * Only the digests are compared, in constant time: neither the token's
 * length nor where it differs shows in the time taken.
 */
enum xo_verdict xo_authorize(const struct xo_auth *a, const char *authorization,
			     const struct in6_addr *src)
{
	uint8_t got[XO_DIGEST_LEN];
	const char *token;
	size_t len;

	if (!authorization)
		return xo_source_allowed(a->allow, a->nallow, src) ? XO_ALLOW_SOURCE :
		       a->have_token ? XO_DENY_NO_TOKEN : XO_DENY_SOURCE;
	if (!a->have_token || strncasecmp(authorization, "Bearer ", 7))
		return XO_DENY_BAD_TOKEN;
	token = authorization + 7;
	token += strspn(token, " ");
	len = strlen(token);
	while (len && token[len - 1] == ' ')
		len--;
	if (digest(token, len, got))
		return XO_DENY_BAD_TOKEN;
	return xo_equal(got, a->digest, sizeof(got)) ? XO_ALLOW_TOKEN : XO_DENY_BAD_TOKEN;
}

bool xo_verdict_ok(enum xo_verdict v)
{
	return v == XO_ALLOW_TOKEN || v == XO_ALLOW_SOURCE;
}

const char *xo_verdict_text(enum xo_verdict v)
{
	switch (v) {
	case XO_ALLOW_TOKEN:
		return "token accepted";
	case XO_ALLOW_SOURCE:
		return "no token, source allowed by xo_allow_from";
	case XO_DENY_NO_TOKEN:
		return "no token, and the source is not in xo_allow_from";
	case XO_DENY_BAD_TOKEN:
		return "wrong token";
	case XO_DENY_SOURCE:
		return "the source is not in xo_allow_from";
	}
	return "unknown";
}

unsigned int xo_hold_ms(unsigned int hold_ms, uint64_t deadline_ns, uint64_t now_ns)
{
	uint64_t left_ms;

	if (!deadline_ns)
		return hold_ms;
	left_ms = deadline_ns > now_ns ? (deadline_ns - now_ns) / 1000000 : 0;
	left_ms = left_ms > XO_MODULE_MARGIN_MS ? left_ms - XO_MODULE_MARGIN_MS : left_ms / 2;
	return left_ms < hold_ms ? (unsigned int)left_ms : hold_ms;
}

enum xo_hold_end xo_shutdown_written(int64_t slept_at_freeze_ns, int64_t slept_now_ns)
{
	return slept_now_ns - slept_at_freeze_ns >= XO_SLEPT_MIN_NS ? XO_END_SLEPT : XO_END_SUSPEND;
}

bool xo_end_in_time(enum xo_hold_end end, int thaw_err)
{
	return end == XO_END_POST_SYNC && !thaw_err;
}

void xo_end_text(enum xo_hold_end end, int thaw_err, unsigned int hold_ms, char *buf,
		 size_t len)
{
	switch (end) {
	case XO_END_POST_SYNC:
		if (thaw_err == -ETIMEDOUT)
			snprintf(buf, len, "the module's deadline thawed before /post-sync; the "
				 "snapshot may not be consistent");
		else if (thaw_err)
			snprintf(buf, len, "the freeze was undone before /post-sync: %s; the "
				 "snapshot may not be consistent", strerror(-thaw_err));
		else
			snprintf(buf, len, "thawed on /post-sync");
		return;
	case XO_END_DEADLINE:
		snprintf(buf, len, "no /post-sync within %u ms (xo_hold_timeout): thawed at the "
			 "deadline; the snapshot may not be consistent", hold_ms);
		return;
	case XO_END_SUSPEND:
		snprintf(buf, len, "the guest was asked to suspend or shut down (control/shutdown) "
			 "while it held Xen Orchestra's freeze: thawed at once, a suspend cannot "
			 "happen frozen; a checkpoint taken now is not quiesced by the freeze, its "
			 "memory and disks are consistent with each other");
		return;
	case XO_END_SLEPT:
		snprintf(buf, len, "the guest was suspended while it held Xen Orchestra's freeze "
			 "and has resumed (a checkpoint, or a restore): thawed at once");
		return;
	case XO_END_NEW_DOMAIN:
		snprintf(buf, len, "the guest resumed in a new domain (a restore or a revert) "
			 "while it held Xen Orchestra's freeze: thawed at once");
		return;
	case XO_END_STOPPED:
		snprintf(buf, len, "the agent was stopped while it held Xen Orchestra's freeze; "
			 "the snapshot may not be consistent");
		return;
	}
	snprintf(buf, len, "unknown");
}

size_t xo_json_string(char *dst, size_t len, const char *s)
{
	size_t o = 0;

	if (len < 3) {
		if (len)
			dst[0] = '\0';
		return 0;
	}
	dst[o++] = '"';
	for (; *s; s++) {
		unsigned char c = *s;
		char esc[8];
		int n;

		if (c == '"' || c == '\\')
			n = snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			n = snprintf(esc, sizeof(esc), "\\u%04x", c);
		else
			n = snprintf(esc, sizeof(esc), "%c", c);
		if (o + n + 2 > len)
			break;
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o++] = '"';
	dst[o] = '\0';
	return o;
}

static __attribute__((format(printf, 2, 3)))
void body_add(struct xo_reply *r, const char *fmt, ...)
{
	size_t used = strlen(r->body);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->body + used, sizeof(r->body) - used, fmt, ap);
	va_end(ap);
}

static void body_string(struct xo_reply *r, const char *key, const char *value)
{
	char q[XO_BODY_MAX / 2];

	xo_json_string(q, sizeof(q), value);
	body_add(r, ",\"%s\":%s", key, q);
}

static void reply_start(struct xo_reply *r, unsigned int code, const char *status)
{
	r->code = code;
	snprintf(r->body, sizeof(r->body), "{\"status\":\"%s\"", status);
}

/* Closes the object; a body cut short still ends as JSON. */
static void reply_end(struct xo_reply *r)
{
	size_t used = strlen(r->body);

	if (used + 3 > sizeof(r->body))
		snprintf(r->body, sizeof(r->body), "{\"status\":\"error\"}");
	body_add(r, "}\n");
}

void xo_reply_refused(struct xo_reply *r, unsigned int code, const char *why)
{
	reply_start(r, code, "refused");
	body_string(r, "reason", why);
	reply_end(r);
}

void xo_reply_failed(struct xo_reply *r, const char *why)
{
	reply_start(r, 500, "failed");
	body_string(r, "reason", why);
	reply_end(r);
}

void xo_reply_frozen(struct xo_reply *r, const char *consistency, const char *const *fs,
		     size_t nfs, unsigned long long freeze_ms, unsigned int hold_ms)
{
	char q[512];

	reply_start(r, 200, "frozen");
	body_string(r, "consistency", consistency);
	body_add(r, ",\"freeze_ms\":%llu,\"thaw_deadline_ms\":%u,\"filesystems\":[", freeze_ms,
		 hold_ms);
	for (size_t i = 0; i < nfs; i++) {
		xo_json_string(q, sizeof(q), fs[i]);
		if (strlen(r->body) + strlen(q) + 8 >= sizeof(r->body))
			break;	/* the list is a courtesy; the rest stays valid */
		body_add(r, "%s%s", i ? "," : "", q);
	}
	body_add(r, "]");
	reply_end(r);
}

void xo_reply_thawed(struct xo_reply *r, unsigned long long held_ms, bool in_time,
		     const char *why)
{
	reply_start(r, 200, "thawed");
	body_add(r, ",\"held_ms\":%llu,\"in_time\":%s", held_ms, in_time ? "true" : "false");
	if (why)
		body_string(r, "reason", why);
	reply_end(r);
}

void xo_reply_idle(struct xo_reply *r, const char *last)
{
	reply_start(r, 200, "not-frozen");
	body_string(r, "reason", "no freeze is held for Xen Orchestra");
	if (last && *last)
		body_string(r, "last", last);
	reply_end(r);
}
