// SPDX-License-Identifier: GPL-2.0
/*
 * Xen Orchestra's front door over libmicrohttpd (see xo-http.h). The
 * daemon runs without threads of its own, in the agent's poll loop (its
 * epoll fd and its timeout): the request handler performs the session's
 * steps itself, as the xenstore door does, so /sync is answered only once
 * everything is frozen.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "clock.h"
#include "log.h"
#include "xo-http.h"
#include "xs-door.h"

/* TLS 1.2 or later, GnuTLS' usual choice of ciphers within them. */
#define XO_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* What the current connection did, for the log: one at a time. */
static struct {
	char src[INET6_ADDRSTRLEN];
	bool open, answered;
} conn;

void xo_door_init(struct xo_door *x, struct session *s)
{
	*x = (struct xo_door){ .session = s, .hold_fd = -1 };
}

bool xo_door_running(const struct xo_door *x)
{
	return x->mhd;
}

static void client_of(struct MHD_Connection *c, struct in6_addr *addr, char *text, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	memset(addr, 0, sizeof(*addr));
	snprintf(text, len, "unknown");
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		addr->s6_addr[10] = addr->s6_addr[11] = 0xff;
		memcpy(&addr->s6_addr[12], &in->sin_addr, 4);
		inet_ntop(AF_INET, &in->sin_addr, text, len);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		*addr = in6->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(addr))
			inet_ntop(AF_INET, &addr->s6_addr[12], text, len);
		else
			inet_ntop(AF_INET6, addr, text, len);
	}
}

/* A request line for the log: printable, short. */
static const char *loggable(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* "a freeze hook failed: 10-db exit 3" */
static void hooks_failed_text(const struct session_items *items, char *buf, size_t len)
{
	size_t used = snprintf(buf, len, "a freeze hook failed:");

	for (size_t i = 0; i < items->n && used < len; i++)
		if (strcmp(items->v[i].text, "ok"))
			used += snprintf(buf + used, len - used, " %s %s", items->v[i].name,
					 items->v[i].text);
}

/* The session ends: its outcome recorded, the session handed back. */
static void close_session(struct xo_door *x, const struct proto_freeze_result *fr,
			  const struct proto_thaw_result *tr, bool ok, const char *error,
			  bool thawed_hooks)
{
	char *fs = NULL, *hooks = session_hooks_text(x->session, thawed_hooks);

	if (fr && !fr->err) {
		char *names[XQ_MAX_DEVS];

		for (size_t i = 0; i < fr->nfilesystems && i < XQ_MAX_DEVS; i++)
			names[i] = (char *)fr->filesystems[i].name;
		fs = session_join(names, NULL, fr->nfilesystems, " ");
	}
	session_record(x->session, &(struct session_outcome){
		.status = ok ? "xo-thawed" : "xo-error",
		.error = error,
		.consistency = fr && !fr->err ? proto_consistency_name(fr->consistency) : NULL,
		.window_ms = tr ? tr->window_ms : 0,
		.drain_ms = fr ? fr->drain_ms : 0,
		.freeze_ms = fr ? fr->freeze_ms : 0,
		.filesystems = fs,
		.hooks = hooks,
	});
	free(fs);
	free(hooks);
	session_close(x->session);
}

static struct proto_freeze_result held_freeze;

/*
 * How long the guest has been suspended since it booted (see xo.h): the
 * boot clock read between two monotonic reads close enough together. A
 * guest that never slept reads a few ns either side of 0.
 */
static int64_t slept_ns(void)
{
	uint64_t m1, boot, m2;

	for (int tries = 0;; tries++) {
		m1 = clock_ns(CLOCK_MONOTONIC);
		boot = clock_ns(CLOCK_BOOTTIME);
		m2 = clock_ns(CLOCK_MONOTONIC);
		if (m2 - m1 < XO_SLEPT_MIN_NS / 4 || tries == 10)
			break;
	}
	return (int64_t)(boot - (m1 + (m2 - m1) / 2));
}

static void do_sync(struct xo_door *x, const char *src, struct xo_reply *reply)
{
	struct session *s = x->session;
	struct session_items items;
	const char *names[XQ_MAX_DEVS];
	char who[96], why[600];

	if (x->held) {
		snprintf(why, sizeof(why), "a freeze is already held for Xen Orchestra (asked by %s "
			 "%.1f s ago); /post-sync ends it", x->client,
			 (monotonic_ns() - s->since_ns) / 1e9);
		xo_reply_refused(reply, 409, why);
		return;
	}
	snprintf(who, sizeof(who), "xo %s", src);
	if (session_open(s, SESSION_XO, who)) {
		xo_reply_refused(reply, 409, session_busy_text(s, why, sizeof(why)));
		return;
	}
	INF("Xen Orchestra's /sync from %s: freezing", src);
	if (session_freeze_hooks(s, &items)) {
		hooks_failed_text(&items, why, sizeof(why));
		session_finish_hooks(s, false, &items);
		close_session(x, NULL, NULL, false, why, false);
		xo_reply_failed(reply, why);
		return;
	}
	session_freeze(s, x->hold_timeout_ms + XO_MODULE_MARGIN_MS, &held_freeze);
	if (held_freeze.err) {
		snprintf(why, sizeof(why), "freeze failed: %s", held_freeze.err_text ?
			 held_freeze.err_text : strerror(-held_freeze.err));
		session_finish_hooks(s, false, &items);
		close_session(x, &held_freeze, NULL, false, why, false);
		xo_reply_failed(reply, why);
		return;
	}
	x->held = true;
	x->slept_ns = slept_ns();
	snprintf(x->client, sizeof(x->client), "%s", src);
	x->hold_ms = xo_hold_ms(x->hold_timeout_ms, s->freezer.result.deadline_ns,
				monotonic_ns());
	timer_arm(x->hold_fd, x->hold_ms ? x->hold_ms : 1);
	for (size_t i = 0; i < held_freeze.nfilesystems && i < XQ_MAX_DEVS; i++)
		names[i] = held_freeze.filesystems[i].name;
	xo_reply_frozen(reply, proto_consistency_name(held_freeze.consistency), names,
			held_freeze.nfilesystems, held_freeze.freeze_ms, x->hold_ms);
}

static void end_hold(struct xo_door *x, enum xo_hold_end end, struct xo_reply *reply)
{
	struct proto_thaw_result tr;
	struct session_items items;
	char why[400];
	bool in_time;

	session_thaw(x->session, &tr);
	timer_arm(x->hold_fd, 0);
	in_time = xo_end_in_time(end, tr.err);
	xo_end_text(end, tr.err, x->hold_ms, why, sizeof(why));
	session_finish_hooks(x->session, in_time, &items);
	x->held = false;
	if (in_time)
		INF("Xen Orchestra's freeze (%s) thawed on /post-sync after %llu ms", x->client,
		    tr.window_ms);
	else
		ERR("Xen Orchestra's freeze (%s), %llu ms: %s", x->client, tr.window_ms, why);
	snprintf(x->last, sizeof(x->last), "the last freeze, asked by %s, lasted %llu ms: %s",
		 x->client, tr.window_ms, why);
	close_session(x, &held_freeze, &tr, in_time, in_time ? NULL : why, in_time);
	if (reply)
		xo_reply_thawed(reply, tr.window_ms, in_time, why);
}

static void do_post_sync(struct xo_door *x, struct xo_reply *reply)
{
	char why[300];

	if (x->held)
		end_hold(x, XO_END_POST_SYNC, reply);
	else if (session_busy(x->session))
		xo_reply_refused(reply, 409, session_busy_text(x->session, why, sizeof(why)));
	else
		xo_reply_idle(reply, x->last);
}

static enum MHD_Result respond(struct MHD_Connection *c, const struct xo_reply *reply)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(reply->body), (void *)reply->body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (reply->code == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET");
	if (reply->code == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ret = MHD_queue_response(c, reply->code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Answered on the first call, headers in hand; a body is never read. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct xo_door *x = cls;
	static struct xo_reply reply;
	enum xo_verdict verdict = XO_ALLOW_TOKEN;
	char src[INET6_ADDRSTRLEN], m[16], u[64], why[80];
	struct in6_addr addr;
	uint64_t start = monotonic_ns();

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	client_of(c, &addr, src, sizeof(src));
	conn.answered = true;
	switch (xo_route(method, url)) {
	case XO_NOT_FOUND:
		xo_reply_refused(&reply, 404, "not found: only GET /sync and GET /post-sync");
		break;
	case XO_METHOD:
		snprintf(why, sizeof(why), "method %s not allowed: GET only",
			 loggable(method, m, sizeof(m)));
		xo_reply_refused(&reply, 405, why);
		break;
	case XO_SYNC:
	case XO_POST_SYNC:
		verdict = xo_authorize(&x->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_AUTHORIZATION), &addr);
		if (!xo_verdict_ok(verdict))
			xo_reply_refused(&reply, verdict == XO_DENY_NO_TOKEN ? 401 : 403,
					 xo_verdict_text(verdict));
		else if (xo_route(method, url) == XO_SYNC)
			do_sync(x, src, &reply);
		else
			do_post_sync(x, &reply);
		break;
	}
	log_printf(reply.code < 400 ? LOG_INFO : LOG_WARNING,
		"Xen Orchestra's door: %s %s from %s (%s): %u in %.1f ms, %.*s",
		loggable(method, m, sizeof(m)), loggable(url, u, sizeof(u)), src,
		xo_verdict_text(verdict), reply.code, (monotonic_ns() - start) / 1e6,
		(int)strcspn(reply.body, "\n"), reply.body);
	return respond(c, &reply);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct in6_addr addr;

	(void)cls;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		client_of(c, &addr, conn.src, sizeof(conn.src));
		conn.open = true;
		conn.answered = false;
		DBG("Xen Orchestra's door: connection from %s", conn.src);
		return;
	}
	conn.open = false;
	if (!conn.answered) {
		WRN("Xen Orchestra's door: connection from %s closed without a request (TLS "
		    "failed, or nothing came within %d s)", conn.src, XO_CONNECTION_TIMEOUT_S);
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char text[400];

	(void)cls;
	vsnprintf(text, sizeof(text), fmt, ap);
	text[strcspn(text, "\n")] = '\0';
	DBG("libmicrohttpd: %s", text);
}

static int read_files(struct xo_door *x, const struct xq_config *cfg, char *err, size_t errlen)
{
	char *secret = NULL;
	bool generated;
	int r;

	if (cfg->xo_token_file) {
		r = xo_read_token(cfg->xo_token_file, &secret, err, errlen);
		if (r)
			return r;
	}
	if (cfg->nxo_allow) {
		x->allow = calloc(cfg->nxo_allow, sizeof(*x->allow));
		if (!x->allow) {
			free(secret);
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		memcpy(x->allow, cfg->xo_allow, cfg->nxo_allow * sizeof(*x->allow));
	}
	r = xo_auth_init(&x->auth, secret, x->allow, cfg->nxo_allow);
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	if (r) {
		snprintf(err, errlen, "cannot hash the token: %s", strerror(-r));
		return r;
	}
	r = xo_read_cert(cfg->xo_cert, cfg->xo_key, &x->cert_pem, &x->key_pem, &generated, err,
			 errlen);
	if (!r && generated)
		INF("Xen Orchestra's sync hook: generated a self-signed certificate, %s (key %s)",
		    cfg->xo_cert, cfg->xo_key);
	return r;
}

static struct MHD_Daemon *listen_on(struct xo_door *x, const struct xq_config *cfg)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(cfg->xo_port) };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(cfg->xo_port),
				    .sin6_addr = cfg->xo_address };
	unsigned int flags = MHD_USE_TLS | MHD_USE_ERROR_LOG;
	const struct sockaddr *sa = (const struct sockaddr *)&in6;

	if (cfg->xo_address_v4) {
		memcpy(&in.sin_addr, &cfg->xo_address.s6_addr[12], 4);
		sa = (const struct sockaddr *)&in;
	} else {
		flags |= IN6_IS_ADDR_UNSPECIFIED(&cfg->xo_address) ? MHD_USE_DUAL_STACK
								   : MHD_USE_IPv6;
	}
	return MHD_start_daemon(flags, cfg->xo_port, NULL, NULL, on_request, x,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, x,
				MHD_OPTION_SOCK_ADDR, sa,
				MHD_OPTION_HTTPS_MEM_KEY, x->key_pem,
				MHD_OPTION_HTTPS_MEM_CERT, x->cert_pem,
				MHD_OPTION_HTTPS_PRIORITIES, XO_TLS_PRIORITIES,
				/* one at a time is kept by xo_door_pollfds(): at its
				 * limit, the library would refuse the next */
				MHD_OPTION_CONNECTION_LIMIT, 2U,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)XO_CONNECTION_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)XO_MEMORY_LIMIT,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, 1U,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, x,
				MHD_OPTION_END);
}

void xo_door_start(struct xo_door *x, const struct xq_config *cfg)
{
	char err[600], addr[INET6_ADDRSTRLEN];
	int r;

	if (!cfg->xo_sync_hook) {
		DBG("Xen Orchestra's sync hook is off (xo_sync_hook = no)");
		return;
	}
	if (!cfg->xo_token_file && !cfg->nxo_allow) {
		ERR("Xen Orchestra's sync hook not started: neither xo_token_file nor "
		    "xo_allow_from is set, and anyone could freeze this VM (see xquiesced.conf(5))");
		return;
	}
	x->hold_timeout_ms = cfg->xo_hold_timeout_ms;
	r = read_files(x, cfg, err, sizeof(err));
	if (!r) {
		x->hold_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (x->hold_fd < 0) {
			r = -errno;
			snprintf(err, sizeof(err), "timerfd: %s", strerror(-r));
		}
	}
	if (!r) {
		x->mhd = listen_on(x, cfg);
		if (!x->mhd) {
			r = -EADDRNOTAVAIL;
			snprintf(err, sizeof(err), "cannot listen on port %u with TLS (in use? a bad "
				 "certificate or key in %s, %s? xquiesced --debug says more)",
				 cfg->xo_port, cfg->xo_cert, cfg->xo_key);
		}
	}
	if (r) {
		ERR("Xen Orchestra's sync hook not started: %s", err);
		xo_door_stop(x);
		return;
	}
	if (cfg->xo_address_v4)
		inet_ntop(AF_INET, &cfg->xo_address.s6_addr[12], addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, &cfg->xo_address, addr, sizeof(addr));
	INF("Xen Orchestra's sync hook listening on %s%s%s port %u (HTTPS, TLS 1.2 or later): %s%s, "
	    "hold at most %u ms", cfg->xo_address_v4 ? "" : "[", addr, cfg->xo_address_v4 ? "" : "]",
	    cfg->xo_port, x->auth.have_token ? "token required" : "no token",
	    cfg->nxo_allow ? ", or none from xo_allow_from" : "", x->hold_timeout_ms);
}

/*
 * The hold timer, then what libmicrohttpd waits for: the listening socket
 * while no connection is open, else the one connection. One at a time:
 * the next waits in the kernel's backlog, not refused, until this one ends
 * (answered, or dropped at XO_CONNECTION_TIMEOUT_S).
 */
void xo_door_pollfds(struct xo_door *x, struct pollfd *fds)
{
	const union MHD_DaemonInfo *di;
	MHD_socket max = 0;
	fd_set rs, ws, es;
	int n = 1;

	fds[0] = (struct pollfd){ .fd = x->hold_fd, .events = POLLIN };
	for (int i = 1; i < XO_DOOR_NFDS; i++)
		fds[i] = (struct pollfd){ .fd = -1 };
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&es);
	if (!x->mhd || MHD_get_fdset(x->mhd, &rs, &ws, &es, &max) != MHD_YES)
		return;
	di = MHD_get_daemon_info(x->mhd, MHD_DAEMON_INFO_LISTEN_FD);
	if (di && conn.open)
		FD_CLR(di->listen_fd, &rs);
	for (int fd = 0; fd <= max && n < XO_DOOR_NFDS; fd++) {
		short events = (FD_ISSET(fd, &rs) ? POLLIN : 0) | (FD_ISSET(fd, &ws) ? POLLOUT : 0);

		if (events)
			fds[n++] = (struct pollfd){ .fd = fd, .events = events };
	}
}

int xo_door_timeout_ms(struct xo_door *x)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (!x->mhd || MHD_get_timeout(x->mhd, &ms) != MHD_YES)
		return -1;
	return ms > 60000 ? 60000 : (int)ms;
}

void xo_door_handle(struct xo_door *x, const struct pollfd *fds)
{
	fd_set rs, ws, es;
	uint64_t ticks;

	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&es);
	for (int i = 1; i < XO_DOOR_NFDS; i++) {
		if (fds[i].fd < 0 || !fds[i].revents)
			continue;
		if (fds[i].events & POLLIN)
			FD_SET(fds[i].fd, &rs);
		if (fds[i].events & POLLOUT && fds[i].revents & (POLLOUT | POLLERR | POLLHUP))
			FD_SET(fds[i].fd, &ws);
	}
	if (fds[0].revents && read(x->hold_fd, &ticks, sizeof(ticks)) == sizeof(ticks) &&
	    x->held)
		end_hold(x, XO_END_DEADLINE, NULL);
	if (x->mhd)
		MHD_run_from_select(x->mhd, &rs, &ws, &es);
}

void xo_door_resumed(struct xo_door *x)
{
	if (x->held)
		end_hold(x, XO_END_NEW_DOMAIN, NULL);
}

void xo_door_shutdown_written(struct xo_door *x)
{
	int64_t now;

	if (!x->held)
		return;
	now = slept_ns();
	INF("control/shutdown written while Xen Orchestra's freeze is held; the guest slept "
	    "%lld ms since the freeze", (long long)((now - x->slept_ns) / 1000000));
	end_hold(x, xo_shutdown_written(x->slept_ns, now), NULL);
}

void xo_door_shutdown(struct xo_door *x)
{
	if (x->held)
		end_hold(x, XO_END_STOPPED, NULL);
}

void xo_door_stop(struct xo_door *x)
{
	if (x->held)
		end_hold(x, XO_END_STOPPED, NULL);
	if (x->mhd)
		MHD_stop_daemon(x->mhd);
	x->mhd = NULL;
	conn.open = false;
	if (x->hold_fd >= 0)
		close(x->hold_fd);
	x->hold_fd = -1;
	if (x->key_pem) {
		explicit_bzero(x->key_pem, strlen(x->key_pem));
		free(x->key_pem);
	}
	free(x->cert_pem);
	free(x->allow);
	x->key_pem = x->cert_pem = NULL;
	x->allow = NULL;
}

void xo_door_restart(struct xo_door *x, const struct xq_config *cfg)
{
	char last[sizeof(x->last)];

	memcpy(last, x->last, sizeof(last));
	xo_door_stop(x);
	xo_door_init(x, x->session);
	memcpy(x->last, last, sizeof(last));
	xo_door_start(x, cfg);
}
