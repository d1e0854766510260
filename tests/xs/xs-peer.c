// SPDX-License-Identifier: GPL-2.0
/*
 * xs-peer: a small xenstore for tests. It listens on a Unix socket and
 * speaks the xenstore wire protocol (xs_wire.h; quiesce-protocol.md §8) to
 * clients such as libxenstore, treating every client as guest domain
 * --domid: relative paths resolve under /local/domain/<domid>, node
 * permissions are enforced (owner, then the others' n/r/w/b), watches fire
 * once at registration and on every change below them (a removed parent
 * fires the watched path itself), and only for nodes the guest may read.
 * Clients of the --dom0-socket, if given, are dom0 (xquiesce-host).
 *
 * The test plays dom0 through stdin, one command a line, each answered by
 * one line on stdout (see usage()); "guest CMD" plays the guest instead,
 * under its permissions, so that a test can be a hostile guest. Every change
 * a guest makes, and every one it was refused, is logged in order for the
 * test to compare.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#define MAX_CONNS	16
#define MAX_PERMS	4
#define DOM0		0U

struct node {
	char *path;		/* absolute */
	char *value;
	size_t len;
	/* as xenstore has them: [0] is the owner and what others may do,
	 * then what particular domains may do */
	struct perm {
		unsigned int dom;
		char access;	/* 'n', 'r', 'w' or 'b' */
	} perms[MAX_PERMS];
	size_t nperms;
};

struct watch {
	int conn;
	char *wpath;		/* absolute */
	char *token;
	bool relative;		/* report event paths relative to the domain */
};

struct conn {
	int fd;
	unsigned int dom;	/* the domain it speaks for */
	unsigned char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	size_t have;
};

/* A "wait" command in progress: stdin is not read until it ends. */
struct pending_wait {
	bool active;
	enum { WAIT_VALUE, WAIT_GONE, WAIT_SET } kind;
	char *path, *value;
	struct timespec deadline;
};

static struct node *nodes;
static size_t nnodes;
static struct watch *watches;
static size_t nwatches;
static struct conn conns[MAX_CONNS];
static unsigned int domid = 7;
static char domain_path[64];
static char **journal;
static size_t njournal;
static struct pending_wait waiting;
/* The guest's entry quota, as the C xenstored counts it: the nodes it owns,
 * dom0's below its own included; -1: none. */
static long quota = -1;

static void usage(FILE *to, const char *prog)
{
	fprintf(to,
		"Usage: %s --socket PATH [--domid N]\n"
		"A xenstore peer for tests: clients of the socket are guest domain N (default 7).\n"
		"Commands on stdin (dom0's side), each answered by one line on stdout:\n"
		"  write PATH [VALUE...]      -> ok        (creates parents, owned by dom0)\n"
		"  writeesc PATH VALUE        -> ok        (VALUE with \\n, \\t, \\\\ and \\xHH)\n"
		"  rm PATH                    -> ok\n"
		"  perms PATH PERM...         -> ok        (as xenstore: n0 r7 = owner dom0,\n"
		"                                          others none, domain 7 reads)\n"
		"  read PATH                  -> value VALUE | enoent\n"
		"  wait PATH VALUE MS         -> ok | timeout [VALUE]\n"
		"  waitset PATH MS            -> ok VALUE | timeout  (any value, as XAPI waits)\n"
		"  waitgone PATH MS           -> ok | timeout VALUE\n"
		"  log                        -> the guest's changes so far, one a line, then end\n"
		"  clearlog                   -> ok\n"
		"  conns                      -> N (guest connections open)\n"
		"  guest write|writeesc|rm PATH ... -> ok | eacces  (as the guest domain)\n"
		"  quota ROOM|off             -> ok        (the guest may own ROOM more nodes;\n"
		"                                          its writes beyond get ENOSPC)\n"
		"  quit\n"
		"--dom0-socket PATH: a second socket whose clients are dom0.\n", prog);
}

static void die(const char *what)
{
	fprintf(stderr, "xs-peer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		die("strdup");
	return p;
}

static __attribute__((format(printf, 1, 2))) void journal_add(const char *fmt, ...)
{
	va_list ap;
	char *line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		die("vasprintf");
	va_end(ap);
	journal = realloc(journal, (njournal + 1) * sizeof(*journal));
	if (!journal)
		die("realloc");
	journal[njournal++] = line;
}

static struct node *find(const char *path)
{
	for (size_t i = 0; i < nnodes; i++)
		if (!strcmp(nodes[i].path, path))
			return &nodes[i];
	return NULL;
}

/* parent is an ancestor of child, or child itself */
static bool is_below(const char *parent, const char *child)
{
	size_t n = strlen(parent);

	if (!strcmp(parent, "/"))
		return child[0] == '/';
	return !strncmp(parent, child, n) && (child[n] == '\0' || child[n] == '/');
}

/* "/a" for "/a/b", "/" for "/a"; the caller frees it. */
static char *parent_of(const char *path)
{
	size_t n = (size_t)(strrchr(path, '/') - path);

	return xstrndup(n ? path : "/", n ? n : 1);
}

/* The node itself, or the closest ancestor that exists. */
static struct node *nearest(const char *path)
{
	struct node *n = find(path);
	char *up;

	if (n || !strcmp(path, "/"))
		return n;
	up = parent_of(path);
	n = nearest(up);
	free(up);
	return n;
}

static bool may(unsigned int dom, const struct node *n, char want)
{
	char access = n->perms[0].access;

	if (dom == DOM0 || n->perms[0].dom == dom)
		return true;
	for (size_t i = 1; i < n->nperms; i++)
		if (n->perms[i].dom == dom)
			access = n->perms[i].access;
	return access == 'b' || access == want;
}

/* "n0 r7": false if one of them is not of that form. */
static bool parse_perms(char *words, struct node *n)
{
	struct node parsed = { .nperms = 0 };

	for (char *w = strtok(words, " "); w; w = strtok(NULL, " ")) {
		char *end;

		if (parsed.nperms == MAX_PERMS || !strchr("nrwb", w[0]) || !w[0] || !w[1])
			return false;
		parsed.perms[parsed.nperms].access = w[0];
		parsed.perms[parsed.nperms].dom = (unsigned int)strtoul(w + 1, &end, 10);
		if (*end)
			return false;
		parsed.nperms++;
	}
	if (!parsed.nperms)
		return false;
	memcpy(n->perms, parsed.perms, sizeof(n->perms));
	n->nperms = parsed.nperms;
	return true;
}

/* Absolute form of a path of domain dom, NULL if it is not a valid path. */
static char *absolute(const char *path, unsigned int dom)
{
	char *abs;

	if (!*path || strstr(path, "//") || (strlen(path) > 1 && path[strlen(path) - 1] == '/'))
		return NULL;
	if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/_@") !=
	    strlen(path))
		return NULL;
	if (path[0] == '/')
		return xstrndup(path, strlen(path));
	if (asprintf(&abs, "/local/domain/%u/%s", dom, path) < 0)
		die("asprintf");
	return abs;
}

/* The path as the guest names it: relative when under its domain. */
static const char *shown(const char *abs)
{
	size_t n = strlen(domain_path);

	if (!strncmp(abs, domain_path, n) && abs[n] == '/')
		return abs + n + 1;
	return abs;
}

static void send_msg(int c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		     const void *body, size_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	if (conns[c].fd < 0)
		return;
	/* Clients read what they asked for; a short write means they left. */
	if (sendmsg(conns[c].fd, &m, MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + len)) {
		close(conns[c].fd);
		conns[c].fd = -1;
	}
}

static void fire(const char *path, bool removed)
{
	for (size_t i = 0; i < nwatches; i++) {
		struct watch *w = &watches[i];
		const char *epath;
		char body[XENSTORE_ABS_PATH_MAX * 2 + 2];
		int len;

		if (is_below(w->wpath, path))
			epath = path;
		else if (removed && is_below(path, w->wpath))
			epath = w->wpath;
		else
			continue;
		if (!removed) {
			const struct node *n = find(epath);

			if (n && !may(conns[w->conn].dom, n, 'r'))
				continue;
		}
		len = snprintf(body, sizeof(body), "%s%c%s", w->relative ? shown(epath) : epath,
			       '\0', w->token);
		send_msg(w->conn, XS_WATCH_EVENT, 0, 0, body, (size_t)len + 1);
	}
}

/* New nodes take their parent's permissions; a guest owns what it makes. */
static struct node *create(const char *path, unsigned int dom)
{
	struct node made = { .perms = { { DOM0, 'n' } }, .nperms = 1 };
	struct node *n;

	if (strcmp(path, "/")) {
		char *up = parent_of(path);
		const struct node *parent = find(up);

		if (!parent)
			parent = create(up, dom);
		memcpy(made.perms, parent->perms, sizeof(made.perms));
		made.nperms = parent->nperms;
		if (dom != DOM0)
			made.perms[0].dom = dom;
		free(up);
	}
	nodes = realloc(nodes, (nnodes + 1) * sizeof(*nodes));
	if (!nodes)
		die("realloc");
	n = &nodes[nnodes++];
	n->path = xstrndup(path, strlen(path));
	n->value = xstrndup("", 0);
	n->len = 0;
	memcpy(n->perms, made.perms, sizeof(n->perms));
	n->nperms = made.nperms;
	return n;
}

static long owned_by_guest(void)
{
	long k = 0;

	for (size_t i = 0; i < nnodes; i++)
		k += nodes[i].perms[0].dom == domid;
	return k;
}

/* Nodes a write of path creates: itself and its missing ancestors. */
static long new_nodes(const char *path)
{
	const struct node *up = nearest(path);
	long k = 0;

	for (const char *c = up && strcmp(up->path, "/") ? path + strlen(up->path) : path; *c; c++)
		k += *c == '/';
	return k;
}

static int do_write(const char *path, const char *value, size_t len, unsigned int dom)
{
	struct node *n = find(path);

	if (!may(dom, n ? n : nearest(path), 'w'))
		return -EACCES;
	/* dom0 is not held to the guest's quota, even below the guest's nodes */
	if (!n && dom != DOM0 && quota >= 0 && owned_by_guest() + new_nodes(path) > quota)
		return -ENOSPC;
	if (!n)
		n = create(path, dom);
	free(n->value);
	n->value = xstrndup(value, len);
	n->len = len;
	fire(path, false);
	return 0;
}

static int do_rm(const char *path, unsigned int dom)
{
	struct node *n = find(path);
	char *up;

	if (!n) {
		/* absent is fine, an absent parent is not */
		up = parent_of(path);
		n = find(up);
		free(up);
		return n ? 0 : -ENOENT;
	}
	if (!may(dom, n, 'w'))
		return -EACCES;
	if (!strcmp(path, "/"))
		return -EINVAL;
	for (size_t i = nnodes; i-- > 0;) {
		if (!is_below(path, nodes[i].path))
			continue;
		free(nodes[i].path);
		free(nodes[i].value);
		nodes[i] = nodes[--nnodes];
	}
	fire(path, true);
	return 0;
}

static int do_directory(const char *path, unsigned int dom, char *out, size_t *len)
{
	const struct node *n = find(path);
	size_t plen = strcmp(path, "/") ? strlen(path) : 0;

	if (!n)
		return -ENOENT;
	if (!may(dom, n, 'r'))
		return -EACCES;
	*len = 0;
	for (size_t i = 0; i < nnodes; i++) {
		const char *p = nodes[i].path;
		size_t k;

		if (strncmp(p, path, plen) || p[plen] != '/' || strchr(p + plen + 1, '/') ||
		    !p[plen + 1])
			continue;
		k = strlen(p + plen + 1) + 1;
		if (*len + k > XENSTORE_PAYLOAD_MAX)
			return -E2BIG;
		memcpy(out + *len, p + plen + 1, k);
		*len += k;
	}
	return 0;
}

/* XS_SET_PERMS: NUL-separated "n0", "r7"..., by dom0 or the owner. */
static int set_perms(const char *path, const char *body, size_t len, unsigned int dom)
{
	struct node *n = find(path);
	char words[XENSTORE_PAYLOAD_MAX + 1];

	if (!n)
		return -ENOENT;
	if (dom != DOM0 && n->perms[0].dom != dom)
		return -EACCES;
	memcpy(words, body, len);
	words[len] = '\0';
	for (size_t i = 0; i + 1 < len; i++)
		if (!words[i])
			words[i] = ' ';
	if (!parse_perms(words, n))
		return -EINVAL;
	fire(path, false);
	return 0;
}

static const char *errname(int err)
{
	switch (-err) {
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case E2BIG: return "E2BIG";
	case ENOSPC: return "ENOSPC";
	case ENOSYS: return "ENOSYS";
	case EEXIST: return "EEXIST";
	default: return "EINVAL";
	}
}

static void check_wait(void);

/* The watches of connection c; with wpath, only that one (wpath, token). */
static void drop_watches(int c, const char *wpath, const char *token)
{
	for (size_t i = nwatches; i-- > 0;) {
		if (watches[i].conn != c ||
		    (wpath && (strcmp(watches[i].wpath, wpath) || strcmp(watches[i].token, token))))
			continue;
		free(watches[i].wpath);
		free(watches[i].token);
		watches[i] = watches[--nwatches];
	}
}

/* One request of a client: the guest's, or dom0's on the dom0 socket. */
static void handle(int c, const struct xsd_sockmsg *h, const char *body)
{
	char out[XENSTORE_PAYLOAD_MAX], *path = NULL;
	size_t olen = 0, plen = strnlen(body, h->len);
	unsigned int dom = conns[c].dom;
	const struct node *n;
	int r = 0;

	if (h->type != XS_GET_DOMAIN_PATH && h->type != XS_RESET_WATCHES &&
	    h->type != XS_TRANSACTION_START && h->type != XS_TRANSACTION_END) {
		if (plen == h->len || !(path = absolute(body, dom))) {
			r = -EINVAL;
			goto reply;
		}
	}
	switch (h->type) {
	case XS_READ:
		n = find(path);
		r = !n ? -ENOENT : !may(dom, n, 'r') ? -EACCES : 0;
		if (!r) {
			memcpy(out, n->value, n->len);
			olen = n->len;
		}
		break;
	case XS_WRITE:
		r = do_write(path, body + plen + 1, h->len - plen - 1, dom);
		if (dom == DOM0)
			break;	/* dom0's own writes are not the guest's transcript */
		if (r)
			journal_add("%s write %s", errname(r), shown(path));
		else
			journal_add("write %s=%.*s", shown(path), (int)(h->len - plen - 1),
				    body + plen + 1);
		break;
	case XS_MKDIR:
		r = find(path) ? 0 : do_write(path, "", 0, dom);
		if (dom != DOM0)
			journal_add("%s%smkdir %s", r ? errname(r) : "", r ? " " : "",
				    shown(path));
		break;
	case XS_RM:
		r = do_rm(path, dom);
		if (dom != DOM0)
			journal_add("%s%srm %s", r ? errname(r) : "", r ? " " : "", shown(path));
		break;
	case XS_DIRECTORY:
		r = do_directory(path, dom, out, &olen);
		break;
	case XS_GET_PERMS:
		n = find(path);
		r = !n ? -ENOENT : !may(dom, n, 'r') ? -EACCES : 0;
		for (size_t i = 0; !r && i < n->nperms; i++)
			olen += (size_t)snprintf(out + olen, sizeof(out) - olen, "%c%u",
						 n->perms[i].access, n->perms[i].dom) + 1;
		break;
	case XS_SET_PERMS:
		r = set_perms(path, body + plen + 1, h->len - plen - 1, dom);
		break;
	case XS_WATCH:
		if (plen + 1 >= h->len) {
			r = -EINVAL;
			break;
		}
		watches = realloc(watches, (nwatches + 1) * sizeof(*watches));
		if (!watches)
			die("realloc");
		watches[nwatches] = (struct watch){
			.conn = c, .wpath = path, .relative = body[0] != '/',
			.token = xstrndup(body + plen + 1, strnlen(body + plen + 1, h->len - plen - 1)),
		};
		nwatches++;
		send_msg(c, XS_WATCH, h->req_id, h->tx_id, "OK", 3);
		{
			char ev[XENSTORE_ABS_PATH_MAX * 2 + 2];
			int len = snprintf(ev, sizeof(ev), "%s%c%s", body, '\0',
					   watches[nwatches - 1].token);

			send_msg(c, XS_WATCH_EVENT, 0, 0, ev, (size_t)len + 1);
		}
		return;		/* path now belongs to the watch */
	case XS_UNWATCH:
		drop_watches(c, path, body + plen + 1);
		break;
	case XS_GET_DOMAIN_PATH:
		olen = (size_t)snprintf(out, sizeof(out), "/local/domain/%.*s", (int)plen, body) + 1;
		break;
	case XS_RESET_WATCHES:
		drop_watches(c, NULL, NULL);
		break;
	default:
		r = -ENOSYS;
		break;
	}
reply:
	free(path);
	if (r) {
		const char *e = errname(r);

		send_msg(c, XS_ERROR, h->req_id, h->tx_id, e, strlen(e) + 1);
	} else if (olen || h->type == XS_READ || h->type == XS_DIRECTORY) {
		send_msg(c, h->type, h->req_id, h->tx_id, out, olen);
	} else {
		send_msg(c, h->type, h->req_id, h->tx_id, "OK", 3);
	}
	check_wait();
}

static void drop_conn(int c)
{
	close(conns[c].fd);
	conns[c].fd = -1;
	drop_watches(c, NULL, NULL);
}

static void on_readable(int c)
{
	struct conn *k = &conns[c];
	ssize_t r = read(k->fd, k->buf + k->have, sizeof(k->buf) - k->have);

	if (r <= 0) {
		drop_conn(c);
		return;
	}
	k->have += (size_t)r;
	/* requests may arrive in pieces, or several at once */
	while (k->fd >= 0 && k->have >= sizeof(struct xsd_sockmsg)) {
		struct xsd_sockmsg h;
		char body[XENSTORE_PAYLOAD_MAX + 1];
		size_t total;

		memcpy(&h, k->buf, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX) {
			drop_conn(c);
			return;
		}
		total = sizeof(h) + h.len;
		if (k->have < total)
			return;
		memcpy(body, k->buf + sizeof(h), h.len);
		body[h.len] = '\0';
		memmove(k->buf, k->buf + total, k->have - total);
		k->have -= total;
		handle(c, &h, body);
	}
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

static void end_wait(const char *result)
{
	printf("%s\n", result);
	fflush(stdout);
	free(waiting.path);
	free(waiting.value);
	memset(&waiting, 0, sizeof(waiting));
}

static void check_wait(void)
{
	const struct node *n;

	if (!waiting.active)
		return;
	n = find(waiting.path);
	if (waiting.kind == WAIT_GONE ? !n :
	    waiting.kind == WAIT_SET ? n != NULL :
	    n && n->len == strlen(waiting.value) && !memcmp(n->value, waiting.value, n->len)) {
		char *line;

		if (asprintf(&line, "ok%s%.*s", waiting.kind == WAIT_SET ? " " : "",
			     waiting.kind == WAIT_SET ? (int)n->len : 0,
			     waiting.kind == WAIT_SET ? n->value : "") < 0)
			die("asprintf");
		end_wait(line);
		free(line);
	}
}

static void timeout_wait(void)
{
	const struct node *n = find(waiting.path);
	char *line;

	if (asprintf(&line, "timeout%s%.*s", n ? " " : "", n ? (int)n->len : 0,
		     n ? n->value : "") < 0)
		die("asprintf");
	end_wait(line);
	free(line);
}

static void start_wait(const char *path, const char *value, int kind, long ms)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	waiting = (struct pending_wait){
		.active = true, .kind = kind,
		.path = xstrndup(path, strlen(path)), .value = xstrndup(value, strlen(value)),
		.deadline = { now.tv_sec + ms / 1000 + (now.tv_nsec + ms % 1000 * 1000000) / 1000000000,
			      (now.tv_nsec + ms % 1000 * 1000000) % 1000000000 },
	};
	check_wait();
}

static void reply(const char *s)
{
	printf("%s\n", s);
	fflush(stdout);
}

/* \n, \t, \\ and \xHH decoded in place; returns the length. */
static size_t unescape(char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] != '\\' || !s[i + 1]) {
			s[o++] = s[i];
		} else if (s[++i] == 'n') {
			s[o++] = '\n';
		} else if (s[i] == 't') {
			s[o++] = '\t';
		} else if (s[i] == 'x' && s[i + 1] && s[i + 2]) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };

			s[o++] = (char)strtoul(hex, NULL, 16);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

static const char *result_name(int r)
{
	return !r ? "ok" : r == -EACCES ? "eacces" : r == -ENOSPC ? "enospc" : "enoent";
}

/* One line of the test's script; false on quit. */
static bool command(char *line)
{
	char *cmd = strtok(line, " \n"), *path, *rest, *abs;
	unsigned int actor = DOM0;	/* "guest CMD": as the guest, under its permissions */
	const struct node *n;
	bool go_on = true;

	if (cmd && !strcmp(cmd, "guest")) {
		actor = domid;
		cmd = strtok(NULL, " \n");
	}
	path = strtok(NULL, " \n");
	rest = strtok(NULL, "\n");
	abs = path ? absolute(path, domid) : NULL;

	if (!cmd) {
		reply("error empty command");
	} else if (!strcmp(cmd, "quit")) {
		go_on = false;
	} else if (!strcmp(cmd, "log")) {
		for (size_t i = 0; i < njournal; i++)
			printf("%s\n", journal[i]);
		reply("end");
	} else if (!strcmp(cmd, "clearlog")) {
		while (njournal)
			free(journal[--njournal]);
		reply("ok");
	} else if (!strcmp(cmd, "conns")) {
		int k = 0;

		for (int c = 0; c < MAX_CONNS; c++)
			k += conns[c].fd >= 0 && conns[c].dom != DOM0;
		printf("%d\n", k);
		fflush(stdout);
	} else if (!strcmp(cmd, "quota") && path) {
		quota = strcmp(path, "off") ? owned_by_guest() + strtol(path, NULL, 10) : -1;
		reply("ok");
	} else if (!abs) {
		reply("error expected a valid path");
	} else if (!strcmp(cmd, "write") || !strcmp(cmd, "writeesc")) {
		size_t len = !rest ? 0 : strcmp(cmd, "write") ? unescape(rest) : strlen(rest);

		reply(result_name(do_write(abs, rest ? rest : "", len, actor)));
	} else if (!strcmp(cmd, "rm")) {
		reply(result_name(do_rm(abs, actor)));
	} else if (!strcmp(cmd, "read")) {
		n = find(abs);
		if (n)
			printf("value %.*s\n", (int)n->len, n->value);
		else
			printf("enoent\n");
		fflush(stdout);
	} else if (!strcmp(cmd, "perms")) {
		struct node *m = find(abs);

		if (!m || !rest || !parse_perms(rest, m)) {
			reply("error usage: perms PATH PERM... as in xenstore: n0 r7 (PATH must exist)");
		} else {
			fire(abs, false);	/* as xenstored does on SET_PERMS */
			reply("ok");
		}
	} else if (!strcmp(cmd, "wait")) {
		char *value = rest ? strtok(rest, " ") : NULL, *ms = value ? strtok(NULL, " ") : NULL;

		if (!ms)
			reply("error usage: wait PATH VALUE MS");
		else
			start_wait(abs, value, WAIT_VALUE, strtol(ms, NULL, 10));
	} else if (!strcmp(cmd, "waitgone") || !strcmp(cmd, "waitset")) {
		if (!rest)
			reply("error usage: waitgone|waitset PATH MS");
		else
			start_wait(abs, "", strcmp(cmd, "waitgone") ? WAIT_SET : WAIT_GONE,
				   strtol(rest, NULL, 10));
	} else {
		reply("error unknown command");
	}
	free(abs);
	return go_on;
}

/* Everything, so that a leak checker sees only real leaks. */
static void free_all(void)
{
	for (int c = 0; c < MAX_CONNS; c++)
		if (conns[c].fd >= 0)
			drop_conn(c);
	for (size_t i = 0; i < nnodes; i++) {
		free(nodes[i].path);
		free(nodes[i].value);
	}
	free(nodes);
	free(watches);
	while (njournal)
		free(journal[--njournal]);
	free(journal);
	free(waiting.path);
	free(waiting.value);
}

static int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "xs-peer: socket path too long: %s\n", path);
		exit(1);
	}
	strcpy(a.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, MAX_CONNS))
		die(path);
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "domid", required_argument, NULL, 'd' },
		{ "dom0-socket", required_argument, NULL, '0' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *sock = NULL, *dom0_sock = NULL;
	static char line[XENSTORE_PAYLOAD_MAX + 256];
	size_t have = 0;
	int c, lfd[2] = { -1, -1 };
	bool go_on = true;

	while ((c = getopt_long(argc, argv, "s:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'd':
			domid = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case '0':
			dom0_sock = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (!sock || domid == DOM0) {
		usage(stderr, argv[0]);
		return 2;
	}
	snprintf(domain_path, sizeof(domain_path), "/local/domain/%u", domid);
	create("/", DOM0);
	for (int i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	lfd[0] = listen_on(sock);
	if (dom0_sock)
		lfd[1] = listen_on(dom0_sock);
	reply("ready");

	while (go_on) {
		struct pollfd p[MAX_CONNS + 3];
		int n = 0, r;

		p[n++] = (struct pollfd){ .fd = waiting.active ? -1 : 0, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = lfd[0], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = lfd[1], .events = POLLIN };
		for (int i = 0; i < MAX_CONNS; i++)
			p[n++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		r = poll(p, (nfds_t)n, waiting.active ? (int)ms_left(&waiting.deadline) : -1);
		if (r < 0 && errno != EINTR)
			die("poll");
		if (r == 0 && waiting.active)
			timeout_wait();
		for (int l = 0; l < 2; l++) {
			int fd;

			if (!(p[1 + l].revents & POLLIN))
				continue;
			fd = accept4(lfd[l], NULL, NULL, SOCK_CLOEXEC);
			for (int i = 0; fd >= 0 && i < MAX_CONNS; i++) {
				if (conns[i].fd < 0) {
					conns[i].fd = fd;
					conns[i].dom = l ? DOM0 : domid;
					conns[i].have = 0;
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);	/* full */
		}
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i].fd >= 0 && p[i + 3].revents)
				on_readable(i);
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t k = read(0, line + have, sizeof(line) - 1 - have);

			if (k <= 0)
				break;
			have += (size_t)k;
		}
		/* one command at a time: a wait holds back the ones after it */
		while (go_on && !waiting.active) {
			char *nl = memchr(line, '\n', have);
			size_t used;

			if (!nl)
				break;
			*nl = '\0';
			used = (size_t)(nl - line) + 1;
			go_on = command(line);
			memmove(line, line + used, have - used);
			have -= used;
		}
		if (have == sizeof(line) - 1) {
			fprintf(stderr, "xs-peer: command line too long\n");
			return 1;
		}
	}
	unlink(sock);
	if (dom0_sock)
		unlink(dom0_sock);
	free_all();
	return 0;
}
