// SPDX-License-Identifier: GPL-2.0
/*
 * The xenstore front door (see xs-door.h). Event driven: the agent's loop
 * polls the fds of xs_door_pollfds() and hands back what fired.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "xs-door.h"

#define RECONNECT_MIN_MS	100
#define RECONNECT_MAX_MS	5000

void timer_arm(int fd, unsigned int ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
	};

	/* 0 disarms; an arm cannot fail on a valid timerfd */
	timerfd_settime(fd, 0, &its, NULL);
}

static void disconnect(struct xs_door *x, int err)
{
	if (!x->connected)
		return;
	WRN("lost the xenstore connection (%s); reconnecting", strerror(-err));
	notify_status("xenstore connection lost, reconnecting");
	store_close(&x->store);
	x->connected = false;
	x->reconnect_ms = RECONNECT_MIN_MS;
	timer_arm(x->reconnect_fd, x->reconnect_ms);
}

static void run(struct xs_door *x, struct proto_out *out);

/* An event with nothing to read: the engine's answer, carried out. */
static void drive(struct xs_door *x, void (*event)(struct proto *, struct proto_out *))
{
	struct proto_out out;

	proto_out_init(&out);
	event(&x->proto, &out);
	run(x, &out);
	proto_out_free(&out);
}

int xs_door_connect(struct xs_door *x)
{
	int r = store_open(&x->store);

	if (r)
		return r;
	x->connected = true;
	drive(x, proto_start);
	return x->connected ? 0 : -ENOTCONN;
}

static void step_freeze_hooks(struct xs_door *x, struct proto_out *out)
{
	struct session_items items;
	int r = session_freeze_hooks(x->session, &items);

	proto_freeze_hooks_done(&x->proto, r == 0, items.v, items.n, out);
}

static void step_freeze(struct xs_door *x, struct proto_out *out)
{
	struct proto_freeze_result res;
	const struct proto_disk *disks;
	size_t ndisks;

	session_freeze(x->session, x->session->cfg->freeze_timeout_ms, &res);
	disks = proto_disks(&x->proto, &ndisks);
	for (size_t i = 0; i < ndisks; i++)
		if (!discovery_find_vbd(&x->session->disc, disks[i].devid))
			DBG("VBD %s (%s, VDI %s) has no block device here", disks[i].devid,
			    disks[i].dev, disks[i].vdi);
	proto_frozen(&x->proto, &res, out);
}

static void step_thaw(struct xs_door *x, struct proto_out *out)
{
	struct proto_thaw_result res;

	session_thaw(x->session, &res);
	proto_thawed(&x->proto, &res, out);
}

static void step_finish_hooks(struct xs_door *x, bool thaw, struct proto_out *out)
{
	struct session_items items;
	int r = session_finish_hooks(x->session, thaw, &items);

	proto_finish_hooks_done(&x->proto, r == 0, items.v, items.n, out);
}

static void read_and_feed(struct xs_door *x, const char *path, struct proto_out *out,
			  void (*feed)(struct proto *, const char *, struct proto_out *))
{
	char *value = NULL;
	int r = x->connected ? store_read(&x->store, path, &value) : -ENOTCONN;

	if (r && r != -ENOENT) {
		if (store_lost(r))
			disconnect(x, r);
		else
			WRN("cannot read %s: %s", path, strerror(-r));
		return;
	}
	if (feed == proto_feature_changed && (!value || strcmp(value, "1")) && x->feature_lost)
		x->feature_lost(x->data);
	feed(&x->proto, value, out);
	free(value);
}

static void step_read_guest(struct xs_door *x, struct proto_out *out)
{
	struct store_guest g = { .g.read_err = -ENOTCONN, .g.read_err_path = "xenstore" };
	char why[200];
	int r;

	if (session_open(x->session, SESSION_XENSTORE, "a xenstore snapshot request")) {
		session_busy_text(x->session, why, sizeof(why));
		ERR("snapshot request refused: %s", why);
		proto_refuse(&x->proto, -EBUSY, why, out);
		return;
	}
	x->holding = true;
	r = x->connected ? store_read_guest(&x->store, &g) : -ENOTCONN;
	if (store_lost(r))
		disconnect(x, r);
	INF("snapshot requested: %zu VBDs, vm %s", g.g.nvbds, g.g.vss ? g.g.vss :
	    g.g.vm ? g.g.vm : "unknown");
	proto_guest_read(&x->proto, &g.g, out);
	store_guest_free(&g);
	/* dom0's answer comes there; the watch fires at once, which is harmless */
	if (x->connected && proto_busy(&x->proto) && *proto_vss_path(&x->proto)) {
		r = store_watch_vss(&x->store, proto_vss_path(&x->proto));
		if (store_lost(r))
			disconnect(x, r);
		else if (r)
			proto_write_failed(&x->proto, proto_vss_path(&x->proto), r, out);
	}
}

/* One engine step: performs it and feeds the result back into out. */
static void perform(struct xs_door *x, enum proto_step step, struct proto_out *out)
{
	DBG("step %s", proto_step_name(step));
	switch (step) {
	case PROTO_STEP_NONE:
		break;
	case PROTO_STEP_READ_GUEST:
		step_read_guest(x, out);
		break;
	case PROTO_STEP_FREEZE_HOOKS:
		step_freeze_hooks(x, out);
		break;
	case PROTO_STEP_FREEZE:
		step_freeze(x, out);
		break;
	case PROTO_STEP_THAW:
		step_thaw(x, out);
		break;
	case PROTO_STEP_THAW_HOOKS:
		step_finish_hooks(x, true, out);
		break;
	case PROTO_STEP_FAIL_HOOKS:
		step_finish_hooks(x, false, out);
		break;
	case PROTO_STEP_RECHECK_ACTION:
		read_and_feed(x, STORE_ACTION_PATH, out, proto_action_changed);
		break;
	}
}

/* For xquiescectl status: XAPI removes control/snapshot once it has read it. */
static void save_outcome(struct xs_door *x)
{
	struct proto_summary sum;
	char *filesystems, *hooks;

	proto_summary(&x->proto, &sum);
	filesystems = session_join(sum.filesystems, NULL, sum.nfilesystems, " ");
	hooks = session_join(sum.hook_names, sum.hook_results, sum.nhooks, "; ");
	session_record(x->session, &(struct session_outcome){
		.status = sum.ok ? "snapshot-created" : "snapshot-error",
		.error = sum.error,
		.consistency = sum.consistency,
		.window_ms = sum.window_ms,
		.drain_ms = sum.drain_ms,
		.freeze_ms = sum.freeze_ms,
		.filesystems = filesystems,
		.hooks = hooks,
		.snapuuid = sum.snapuuid,
	});
	free(filesystems);
	free(hooks);
}

static void request_ended(struct xs_door *x)
{
	bool ok;
	const char *text = proto_last_result(&x->proto, &ok);

	if (ok)
		INF("%s", text);
	else
		ERR("%s", text);
	notify_status(text);
	if (!x->holding)
		return;		/* refused: the record is the holder's */
	save_outcome(x);
	session_close(x->session);
	x->holding = false;
}

static const char *const op_verbs[] = {
	[XS_OP_WRITE] = "write", [XS_OP_RM] = "remove", [XS_OP_MKDIR] = "create",
};

/*
 * Writes out's ops in order. A refusal during a request ends the request:
 * out is replaced by what the engine does about it, and true returned.
 * Once the request is reported the rest is written anyway, so that status
 * gets there, and the engine may add what to do about a refused key.
 * Without a connection the ops are dropped.
 */
static bool apply(struct xs_door *x, struct proto_out *out)
{
	char path[PROTO_PATH_MAX];
	size_t next = 0;
	int r;

	while (x->connected && (r = store_apply(&x->store, out, &next))) {
		const struct xs_op *op = &out->ops[next++];

		if (store_lost(r)) {
			disconnect(x, r);
			return false;
		}
		ERR("cannot %s %s: %s", op_verbs[op->kind], op->path,
		    strerror(-r));
		snprintf(path, sizeof(path), "%s", op->path);
		if (proto_busy(&x->proto)) {
			proto_out_reset(out);
			proto_write_failed(&x->proto, path, r, out);
			return true;
		}
		proto_write_failed(&x->proto, path, r, out);
	}
	return false;
}

/*
 * Carries out what the engine asked for, then performs its step, until it
 * asks for nothing. The thaw and the hooks happen whatever xenstore does.
 */
static void run(struct xs_door *x, struct proto_out *out)
{
	bool was_busy = proto_busy(&x->proto);

	for (;;) {
		enum proto_step step;

		if (out->err)
			ERR("out of memory: some xenstore writes were lost");
		if (out->timer == PROTO_TIMER_ARM)
			timer_arm(x->deadline_fd, out->timer_ms);
		else if (out->timer == PROTO_TIMER_DISARM)
			timer_arm(x->deadline_fd, 0);
		if (apply(x, out))
			continue;
		step = out->step;
		proto_out_reset(out);
		if (was_busy && !proto_busy(&x->proto)) {
			request_ended(x);
			was_busy = false;
		}
		if (step == PROTO_STEP_NONE)
			break;
		perform(x, step, out);
		was_busy = was_busy || proto_busy(&x->proto);
	}
}

static void feed_vss(struct xs_door *x, struct proto_out *out)
{
	char path[sizeof(x->proto.vss) + 16], *status = NULL, *snapuuid = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/status", proto_vss_path(&x->proto));
	r = store_read(&x->store, path, &status);
	snprintf(path, sizeof(path), "%s/snapuuid", proto_vss_path(&x->proto));
	if (!r || r == -ENOENT)
		r = store_read(&x->store, path, &snapuuid);
	if (r && r != -ENOENT) {
		if (store_lost(r))
			disconnect(x, r);
		else
			WRN("cannot read %s: %s", path, strerror(-r));
	} else {
		DBG("%s/status: %s", proto_vss_path(&x->proto), status ? status : "(none)");
		proto_vss_changed(&x->proto, status, snapuuid, out);
	}
	free(status);
	free(snapuuid);
}

/* Watch events name a path; the value is read now, whatever it was then. */
static void dispatch(struct xs_door *x, const char *path)
{
	const char *vss = proto_vss_path(&x->proto);
	size_t vlen = strlen(vss);
	struct proto_out out;

	proto_out_init(&out);
	if (!strcmp(path, STORE_SHUTDOWN_PATH)) {
		/* at once, before any round trip: the kernel may be about to suspend */
		if (x->shutdown_written)
			x->shutdown_written(x->data);
	} else if (!strcmp(path, STORE_FEATURE_PATH) || !strcmp(path, STORE_CONTROL_PATH)) {
		read_and_feed(x, STORE_FEATURE_PATH, &out, proto_feature_changed);
	} else if (!strcmp(path, STORE_ACTION_PATH)) {
		read_and_feed(x, path, &out, proto_action_changed);
	} else if (vlen && !strncmp(path, vss, vlen) && !strcmp(path + vlen, "/status")) {
		feed_vss(x, &out);
	}
	run(x, &out);
	proto_out_free(&out);
}

static void drain_events(struct xs_door *x)
{
	char *path;
	int r;

	while (x->connected && (r = store_next_event(&x->store, &path)) != -EAGAIN) {
		if (r) {
			disconnect(x, r);
			return;
		}
		DBG("watch event %s", path);
		dispatch(x, path);
		free(path);
	}
}

static void on_deadline(struct xs_door *x)
{
	uint64_t ticks;

	if (read(x->deadline_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	drive(x, proto_deadline);
}

static void on_reconnect(struct xs_door *x)
{
	uint64_t ticks;
	int r;

	if (read(x->reconnect_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	r = xs_door_connect(x);
	if (!r) {
		INF("xenstore connection restored");
		notify_status("connected to xenstore");
		return;
	}
	DBG("xenstore: %s; next try in %u ms", strerror(-r), x->reconnect_ms);
	timer_arm(x->reconnect_fd, x->reconnect_ms);
	if (x->reconnect_ms < RECONNECT_MAX_MS)
		x->reconnect_ms *= 2;
}

int xs_door_init(struct xs_door *x, struct session *s, unsigned int dom0_timeout_ms)
{
	x->session = s;
	proto_init(&x->proto, dom0_timeout_ms);
	x->deadline_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	x->reconnect_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (x->deadline_fd < 0 || x->reconnect_fd < 0)
		return -errno;
	return 0;
}

void xs_door_pollfds(struct xs_door *x, struct pollfd *fds)
{
	fds[0] = (struct pollfd){ .fd = x->deadline_fd, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = x->reconnect_fd, .events = POLLIN };
	fds[2] = (struct pollfd){ .fd = x->connected ? store_event_fd(&x->store) : -1,
				  .events = POLLIN };
	fds[3] = (struct pollfd){ .fd = x->connected ? store_hangup_fd(&x->store) : -1,
				  .events = POLLRDHUP };
}

void xs_door_handle(struct xs_door *x, const struct pollfd *fds)
{
	if (fds[0].revents)
		on_deadline(x);
	if (fds[2].revents && x->connected)
		drain_events(x);
	if (fds[3].revents && x->connected) {
		drain_events(x);
		disconnect(x, -ECONNRESET);
	}
	if (fds[1].revents)
		on_reconnect(x);
}

void xs_door_shutdown(struct xs_door *x)
{
	drive(x, proto_shutdown);
}

bool xs_door_busy(const struct xs_door *x)
{
	return proto_busy(&x->proto);
}

void xs_door_close(struct xs_door *x)
{
	if (x->connected)
		store_close(&x->store);
	x->connected = false;
	proto_free(&x->proto);
	if (x->deadline_fd >= 0)
		close(x->deadline_fd);
	if (x->reconnect_fd >= 0)
		close(x->reconnect_fd);
	x->deadline_fd = x->reconnect_fd = -1;
}
