// SPDX-License-Identifier: GPL-2.0
/*
 * libxenstore behind the agent's poll loop (see store.h).
 *
 * libxenstore reads the connection in its own thread once a watch is set,
 * and when the peer closes a socket it closes its fd without telling the
 * watch pipe: an idle agent would never learn that xenstored went away.
 * So we keep a duplicate of the socket and poll it for POLLRDHUP only,
 * which costs no wakeup while the connection lives. A /dev/xen/xenbus
 * connection ends at the guest kernel, which outlives xenstored restarts
 * and re-registers our watches itself after a resume.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenstore.h>

#include "store.h"

/*
 * control/ itself: dom0 giving the guest control/ (xquiesce-host prepare,
 * xenopsd) changes its permissions, which fires this, and is when a refused
 * advertisement can succeed. Its children's events come through their own
 * watches and are dropped from this one, but for control/shutdown's, which
 * the guest kernel watches: where xenstored fires an ancestor's watch first
 * (oxenstored) the agent learns of a suspend request before the kernel.
 */
#define CONTROL_TOKEN "control"

static const struct {
	const char *path, *token;
} watches[] = {
	{ STORE_FEATURE_PATH, "feature" },
	{ STORE_ACTION_PATH, "action" },
	{ STORE_CONTROL_PATH, CONTROL_TOKEN },
};

bool store_lost(int err)
{
	return err == -EBADF || err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN ||
	       err == -ESHUTDOWN;
}

/* The lowest free descriptor: where libxenstore's socket will land. */
static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int dup_if_stream_socket(int fd)
{
	struct stat st;
	int type;
	socklen_t len = sizeof(type);

	if (fd < 0 || fstat(fd, &st) || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM)
		return -1;
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int store_open(struct store *s)
{
	int fd = lowest_free_fd();
	int r;

	s->hangup_fd = -1;
	s->xs = xs_open(0);
	if (!s->xs)
		return -errno;
	s->hangup_fd = dup_if_stream_socket(fd);
	for (size_t i = 0; i < sizeof(watches) / sizeof(watches[0]); i++) {
		if (!xs_watch(s->xs, watches[i].path, watches[i].token)) {
			r = -errno;
			store_close(s);
			return r;
		}
	}
	if (s->vss_status[0] && !xs_watch(s->xs, s->vss_status, "vss")) {
		r = -errno;
		store_close(s);
		return r;
	}
	/* Create the pipe now: libxenstore kicks it only when events queue. */
	if (xs_fileno(s->xs) < 0) {
		r = -errno;
		store_close(s);
		return r;
	}
	return 0;
}

int store_watch_vss(struct store *s, const char *vss)
{
	char path[sizeof(s->vss_status)];

	if (snprintf(path, sizeof(path), "%s/status", vss) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (!strcmp(path, s->vss_status))
		return 0;
	if (s->vss_status[0])
		xs_unwatch(s->xs, s->vss_status, "vss");
	s->vss_status[0] = '\0';
	if (!xs_watch(s->xs, path, "vss"))
		return -errno;
	memcpy(s->vss_status, path, sizeof(path));
	return 0;
}

void store_close(struct store *s)
{
	if (s->hangup_fd >= 0)
		close(s->hangup_fd);
	s->hangup_fd = -1;
	xs_close(s->xs);
	s->xs = NULL;
}

int store_event_fd(struct store *s)
{
	return xs_fileno(s->xs);
}

int store_hangup_fd(const struct store *s)
{
	return s->hangup_fd;
}

int store_next_event(struct store *s, char **path)
{
	char **ev;

	while ((ev = xs_check_watch(s->xs)) && !strcmp(ev[XS_WATCH_TOKEN], CONTROL_TOKEN) &&
	       strcmp(ev[XS_WATCH_PATH], STORE_CONTROL_PATH) &&
	       strcmp(ev[XS_WATCH_PATH], STORE_SHUTDOWN_PATH))
		free(ev);
	if (!ev)
		return errno ? -errno : -EAGAIN;
	*path = strdup(ev[XS_WATCH_PATH]);
	free(ev);
	return *path ? 0 : -ENOMEM;
}

int store_read(struct store *s, const char *path, char **value)
{
	unsigned int len;

	*value = xs_read(s->xs, XBT_NULL, path, &len);
	return *value ? 0 : -errno;
}

int store_apply(struct store *s, const struct proto_out *out, size_t *next)
{
	for (; *next < out->nops; ++*next) {
		const struct xs_op *op = &out->ops[*next];
		bool ok;

		switch (op->kind) {
		case XS_OP_WRITE:
			ok = xs_write(s->xs, XBT_NULL, op->path, op->value, strlen(op->value));
			break;
		case XS_OP_MKDIR:
			ok = xs_mkdir(s->xs, XBT_NULL, op->path);
			break;
		default:
			ok = xs_rm(s->xs, XBT_NULL, op->path) || errno == ENOENT;
		}
		if (!ok)
			return -errno;
	}
	return 0;
}

/* g takes owned (NULL: allocation failed) and frees it with itself. */
static int keep(struct store_guest *g, char *owned, const char **value)
{
	char **v = owned ? realloc(g->strings, (g->nstrings + 1) * sizeof(*v)) : NULL;

	if (!v) {
		free(owned);
		return -ENOMEM;
	}
	g->strings = v;
	v[g->nstrings++] = owned;
	*value = owned;
	return 0;
}

/* Reads path into a string g owns; NULL when absent. */
static int keep_read(struct store *s, struct store_guest *g, const char *path,
		     const char **value)
{
	char *v;
	int r = store_read(s, path, &v);

	*value = NULL;
	if (r == -ENOENT)
		return 0;
	if (r) {
		snprintf(g->err_path, sizeof(g->err_path), "%s", path);
		return r;
	}
	return keep(g, v, value);
}

static int read_vbd(struct store *s, struct store_guest *g, struct proto_vbd *v)
{
	char path[PROTO_PATH_MAX + 64];
	int r;

	snprintf(path, sizeof(path), "device/vbd/%s/device-type", v->devid);
	r = keep_read(s, g, path, &v->device_type);
	snprintf(path, sizeof(path), "device/vbd/%s/backend", v->devid);
	if (!r)
		r = keep_read(s, g, path, &v->backend);
	/* The engine judges a malformed backend; only read a plausible one. */
	if (r || !v->backend || v->backend[0] != '/' || strlen(v->backend) > PROTO_PATH_MAX)
		return r;
	snprintf(path, sizeof(path), "%s/sm-data/vdi-uuid", v->backend);
	r = keep_read(s, g, path, &v->vdi_uuid);
	snprintf(path, sizeof(path), "%s/dev", v->backend);
	if (!r)
		r = keep_read(s, g, path, &v->dev);
	return r;
}

int store_read_guest(struct store *s, struct store_guest *g)
{
	unsigned int n = 0;
	char **ids;
	int r;

	memset(g, 0, sizeof(*g));
	r = keep_read(s, g, "vm", &g->g.vm);
	if (!r)
		r = keep_read(s, g, "vss", &g->g.vss);
	if (r)
		goto out;
	ids = xs_directory(s->xs, XBT_NULL, "device/vbd", &n);
	if (!ids) {
		/* No device/vbd: no disk, which the engine reports. */
		r = errno == ENOENT ? 0 : -errno;
		snprintf(g->err_path, sizeof(g->err_path), "device/vbd");
		goto out;
	}
	g->vbds = calloc(n ? n : 1, sizeof(*g->vbds));
	if (!g->vbds) {
		free(ids);
		r = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < n && !r; i++) {
		struct proto_vbd *v = &g->vbds[g->g.nvbds];

		r = keep(g, strdup(ids[i]), &v->devid);
		if (!r)
			r = read_vbd(s, g, v);
		if (!r)
			g->g.nvbds++;
	}
	free(ids);
	g->g.vbds = g->vbds;
out:
	g->g.read_err = r;
	g->g.read_err_path = r ? g->err_path : NULL;
	return r;
}

void store_guest_free(struct store_guest *g)
{
	for (size_t i = 0; i < g->nstrings; i++)
		free(g->strings[i]);
	free(g->strings);
	free(g->vbds);
	memset(g, 0, sizeof(*g));
}
