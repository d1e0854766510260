// SPDX-License-Identifier: GPL-2.0
/*
 * xquiesced: the guest agent. One poll set (xenstore events, a hangup
 * watch on a socket connection, signals, two timers) with no timeout, so
 * an idle agent never wakes up. The protocol engine decides; this file
 * reads xenstore, runs hooks, freezes and thaws, and writes what the engine
 * says, in its order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "discovery.h"
#include "freezer.h"
#include "hooks.h"
#include "log.h"
#include "notify.h"
#include "protocol.h"
#include "state.h"
#include "xenstore.h"


#define EXIT_USAGE	2
#define EXIT_CONFIG	78	/* EX_CONFIG, as systemd.exec(5) names it */
#define RECONNECT_MIN_MS	100
#define RECONNECT_MAX_MS	5000

struct daemon {
	const char *config_path;
	const char *state_path;
	bool debug;
	struct xq_config cfg;
	enum freezer_backend backend;
	const char *test_disks[DISC_MAX_TEST_DISKS + 1];
	size_t ntest_disks;

	struct proto proto;
	struct store store;
	bool connected;
	unsigned int reconnect_ms;
	int signal_fd, deadline_fd, reconnect_fd;
	bool stopping;

	struct hooks hooks;
	struct discovery disc;
	struct freezer freezer;
};

static void usage(FILE *to, const char *prog)
{
	fprintf(to,
		"Usage: %s [OPTION]...\n"
		"Guest agent for quiesced snapshots of Xen virtual machines: answers dom0's\n"
		"snapshot requests over xenstore, runs the hooks in the hooks directory and\n"
		"freezes the filesystems of the Xen disks while dom0 snapshots them.\n"
		"\n"
		"  -c, --config FILE        configuration file (default %s)\n"
		"      --freezer METHOD     auto (default: module, else FIFREEZE), module or fifreeze\n"
		"  -d, --debug              log debug messages too\n"
		"      --state-file FILE    where the last snapshot's outcome is kept for\n"
		"                           xquiescectl status (default %s)\n"
		"      --test-as-xen-disk DEV\n"
		"                           FOR TESTS ONLY: treat block device DEV (e.g. loop3)\n"
		"                           as one of the Xen disks, so that its filesystems\n"
		"                           are frozen; may be given up to %d times\n"
		"  -h, --help               show this help and exit\n"
		"  -V, --version            show the version and exit\n"
		"\n"
		"xenstore is reached through $XENSTORED_PATH when set, else /dev/xen/xenbus.\n"
		"SIGTERM thaws first, reports the snapshot in progress as failed, then exits.\n"
		"SIGHUP re-reads the configuration between snapshots.\n"
		"See xquiesced(8) and daemon/PROTOCOL.md.\n",
		prog, XQ_CONFIG_PATH, XQ_STATE_LAST, DISC_MAX_TEST_DISKS);
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	enum { OPT_FREEZER = 256, OPT_TEST_DISK, OPT_STATE_FILE };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "freezer", required_argument, NULL, OPT_FREEZER },
		{ "debug", no_argument, NULL, 'd' },
		{ "state-file", required_argument, NULL, OPT_STATE_FILE },
		{ "test-as-xen-disk", required_argument, NULL, OPT_TEST_DISK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int c;

	d->config_path = XQ_CONFIG_PATH;
	d->state_path = XQ_STATE_LAST;
	while ((c = getopt_long(argc, argv, "c:dhV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'd':
			d->debug = true;
			break;
		case OPT_STATE_FILE:
			d->state_path = optarg;
			break;
		case OPT_FREEZER:
			if (freezer_backend_parse(optarg, &d->backend)) {
				fprintf(stderr, "%s: --freezer %s: expected auto, module or fifreeze\n",
					argv[0], optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TEST_DISK:
			if (d->ntest_disks == DISC_MAX_TEST_DISKS ||
			    discovery_check_test_disk(optarg)) {
				fprintf(stderr, "%s: --test-as-xen-disk %s: expected the name of a "
					"block device in /sys/block such as loop3, at most %d "
					"times\n", argv[0], optarg, DISC_MAX_TEST_DISKS);
				return EXIT_USAGE;
			}
			d->test_disks[d->ntest_disks++] = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(EXIT_SUCCESS);
		case 'V':
			printf("xquiesced %s\n", XQ_VERSION);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr, argv[0]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
		usage(stderr, argv[0]);
		return EXIT_USAGE;
	}
	return 0;
}

static void set_timer(int fd, unsigned int ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
	};

	/* 0 disarms; an arm cannot fail on a valid timerfd */
	timerfd_settime(fd, 0, &its, NULL);
}

static void disconnect(struct daemon *d, int err)
{
	if (!d->connected)
		return;
	WRN("lost the xenstore connection (%s); reconnecting", strerror(-err));
	notify_status("xenstore connection lost, reconnecting");
	store_close(&d->store);
	d->connected = false;
	d->reconnect_ms = RECONNECT_MIN_MS;
	set_timer(d->reconnect_fd, d->reconnect_ms);
}

static void run(struct daemon *d, struct proto_out *out);

/* An event with nothing to read: the engine's answer, carried out. */
static void drive(struct daemon *d, void (*event)(struct proto *, struct proto_out *))
{
	struct proto_out out;

	proto_out_init(&out);
	event(&d->proto, &out);
	run(d, &out);
	proto_out_free(&out);
}

static int connect_store(struct daemon *d)
{
	int r = store_open(&d->store);

	if (r)
		return r;
	d->connected = true;
	drive(d, proto_start);
	return d->connected ? 0 : -ENOTCONN;
}

/* The hooks that ran in the step just done, as the engine reports them. */
struct hook_items {
	struct proto_item v[PROTO_MAX_ITEMS];
	char text[PROTO_MAX_ITEMS][64];
	size_t n;
};

static void collect_hooks(const struct hooks *h, bool freeze_runs, struct hook_items *items)
{
	items->n = 0;
	for (size_t i = 0; i < h->n && items->n < PROTO_MAX_ITEMS; i++) {
		const struct hook_run *run = freeze_runs ? &h->v[i].freeze : &h->v[i].after;

		if (run->result == HOOK_NOT_RUN)
			continue;
		items->v[items->n].name = h->v[i].name;
		items->v[items->n].text = hook_run_text(run, items->text[items->n],
							sizeof(items->text[0]));
		items->n++;
	}
}

static void step_freeze_hooks(struct daemon *d, struct proto_out *out)
{
	struct hook_items items;
	int r;

	r = hooks_load(&d->hooks, d->cfg.hooks_dir, d->cfg.hook_timeout_ms);
	if (r) {
		ERR("cannot list the hooks in %s: %s", d->cfg.hooks_dir, strerror(-r));
		proto_freeze_hooks_done(&d->proto, false, NULL, 0, out);
		return;
	}
	r = hooks_freeze(&d->hooks);
	collect_hooks(&d->hooks, true, &items);
	proto_freeze_hooks_done(&d->proto, r == 0, items.v, items.n, out);
}

static const char *mountpoint_of(const struct discovery *disc, const struct frozen_fs *fs)
{
	for (size_t i = 0; i < disc->nfs; i++)
		if (disc->fs[i].major == fs->major && disc->fs[i].minor == fs->minor)
			return disc->fs[i].mountpoint;
	return fs->id;
}

/* SIGTERM or SIGINT waits for the loop to read it: do not freeze now. */
static bool stop_pending(void)
{
	sigset_t set;

	return !sigpending(&set) && (sigismember(&set, SIGTERM) || sigismember(&set, SIGINT));
}

static void step_freeze(struct daemon *d, struct proto_out *out)
{
	static struct proto_item names[XQ_MAX_DEVS];
	const struct discovery_roots roots = { .test_as_xen_disks = d->test_disks };
	const struct freezer_options opt = {
		.backend = d->backend,
		.timeout_ms = d->cfg.freeze_timeout_ms,
		.presync = d->cfg.presync,
		/* the module also takes blkfront filesystems discovery cannot
		 * see (other mount namespaces), unless some are excluded */
		.all_blkfront = !d->cfg.nexclude_mounts && !d->cfg.nexclude_fstypes,
		.drain_ms = d->cfg.drain_ms,
		.drain_dirty_bytes = d->cfg.drain_dirty_bytes,
	};
	struct proto_freeze_result res = { 0 };
	const struct proto_disk *disks;
	size_t ndisks;
	int r;

	discovery_free(&d->disc);
	r = discovery_scan(&d->disc, &roots, &d->cfg);
	if (r) {
		res.err = r;
		res.err_text = "cannot find the filesystems of the Xen disks";
		goto done;
	}
	disks = proto_disks(&d->proto, &ndisks);
	for (size_t i = 0; i < ndisks; i++)
		if (!discovery_find_vbd(&d->disc, disks[i].devid))
			DBG("VBD %s (%s, VDI %s) has no block device here", disks[i].devid,
			    disks[i].dev, disks[i].vdi);

	if (stop_pending()) {
		res.err = -ECANCELED;
		res.err_text = "the agent is stopping";
		goto done;
	}
	/* The freezer holds the log in memory from here to its thaw. */
	freezer_init(&d->freezer);
	r = freezer_freeze(&d->freezer, &d->disc, &opt);
	if (r) {
		res.err = r;
		res.err_text = d->freezer.result.message;
		if (d->cfg.on_freeze_failure == ON_FREEZE_FAILURE_CRASH_CONSISTENT) {
			WRN("freeze failed (%s); going on crash-consistent, as configured",
			    d->freezer.result.message);
			res.err = 0;
			res.consistency = PROTO_CRASH_CONSISTENT;
		}
		goto done;
	}
	res.drain_ms = freezer_drain_ms(&d->freezer.result);
	res.freeze_ms = freezer_freeze_ms(&d->freezer.result);
	switch (d->freezer.result.method) {
	case FREEZE_KERNEL:
		res.consistency = PROTO_KERNEL_FREEZE;
		break;
	case FREEZE_PER_MOUNT:
		res.consistency = PROTO_PER_MOUNT;	/* the freezer said why */
		break;
	case FREEZE_NONE:
		res.consistency = PROTO_CRASH_CONSISTENT;
		break;
	}
	for (unsigned int i = 0; i < d->freezer.result.nfs && i < XQ_MAX_DEVS; i++)
		names[i].name = mountpoint_of(&d->disc, &d->freezer.result.fs[i]);
	res.filesystems = names;
	res.nfilesystems = d->freezer.result.nfs;
done:
	proto_frozen(&d->proto, &res, out);
}

static void step_thaw(struct daemon *d, struct proto_out *out)
{
	struct proto_thaw_result res;

	res.err = freezer_thaw(&d->freezer);
	res.window_ms = freezer_window_ms(&d->freezer.result);
	if (res.err == -ETIMEDOUT)
		ERR("the freeze deadline (freeze_timeout, %u ms) passed before dom0 answered: "
		    "the watchdog thawed first, and the snapshot may not be consistent",
		    d->cfg.freeze_timeout_ms);
	else if (res.err)
		ERR("thaw: %s; the snapshot may not be consistent", strerror(-res.err));
	INF("thawed; the disks were frozen for %llu ms", res.window_ms);
	proto_thawed(&d->proto, &res, out);
}

static void step_finish_hooks(struct daemon *d, bool thaw, struct proto_out *out)
{
	struct hook_items items;
	int r = thaw ? hooks_thaw(&d->hooks) : hooks_freeze_fail(&d->hooks);

	collect_hooks(&d->hooks, false, &items);
	proto_finish_hooks_done(&d->proto, r == 0, items.v, items.n, out);
}

static void read_and_feed(struct daemon *d, const char *path, struct proto_out *out,
			  void (*feed)(struct proto *, const char *, struct proto_out *))
{
	char *value = NULL;
	int r = d->connected ? store_read(&d->store, path, &value) : -ENOTCONN;

	if (r && r != -ENOENT) {
		if (store_lost(r))
			disconnect(d, r);
		else
			WRN("cannot read %s: %s", path, strerror(-r));
		return;
	}
	feed(&d->proto, value, out);
	free(value);
}

static void step_read_guest(struct daemon *d, struct proto_out *out)
{
	struct store_guest g = { .g.read_err = -ENOTCONN, .g.read_err_path = "xenstore" };
	int r = d->connected ? store_read_guest(&d->store, &g) : -ENOTCONN;

	if (store_lost(r))
		disconnect(d, r);
	INF("snapshot requested: %zu VBDs, vm %s", g.g.nvbds, g.g.vss ? g.g.vss :
	    g.g.vm ? g.g.vm : "unknown");
	proto_guest_read(&d->proto, &g.g, out);
	store_guest_free(&g);
	/* dom0's answer comes there; the watch fires at once, which is harmless */
	if (d->connected && proto_busy(&d->proto) && *proto_vss_path(&d->proto)) {
		r = store_watch_vss(&d->store, proto_vss_path(&d->proto));
		if (store_lost(r))
			disconnect(d, r);
		else if (r)
			proto_write_failed(&d->proto, proto_vss_path(&d->proto), r, out);
	}
}

/* One engine step: performs it and feeds the result back into out. */
static void perform(struct daemon *d, enum proto_step step, struct proto_out *out)
{
	DBG("step %s", proto_step_name(step));
	switch (step) {
	case PROTO_STEP_NONE:
		break;
	case PROTO_STEP_READ_GUEST:
		step_read_guest(d, out);
		break;
	case PROTO_STEP_FREEZE_HOOKS:
		step_freeze_hooks(d, out);
		break;
	case PROTO_STEP_FREEZE:
		step_freeze(d, out);
		break;
	case PROTO_STEP_THAW:
		step_thaw(d, out);
		break;
	case PROTO_STEP_THAW_HOOKS:
		step_finish_hooks(d, true, out);
		break;
	case PROTO_STEP_FAIL_HOOKS:
		step_finish_hooks(d, false, out);
		break;
	case PROTO_STEP_RECHECK_ACTION:
		read_and_feed(d, STORE_ACTION_PATH, out, proto_action_changed);
		break;
	}
}

/* words joined by sep, or NULL for none; the caller frees it */
static char *join(char *const *a, char *const *b, size_t n, const char *sep)
{
	char *s = NULL, *next;

	for (size_t i = 0; i < n; i++) {
		if (asprintf(&next, "%s%s%s%s%s", s ? s : "", s ? sep : "", a[i],
			     b ? "=" : "", b ? b[i] : "") < 0) {
			free(s);
			return NULL;
		}
		free(s);
		s = next;
	}
	return s;
}

/* For xquiescectl status: XAPI removes control/snapshot once it has read it. */
static void save_outcome(struct daemon *d)
{
	struct proto_summary sum;
	char *filesystems, *hooks;
	int r;

	proto_summary(&d->proto, &sum);
	filesystems = join(sum.filesystems, NULL, sum.nfilesystems, " ");
	hooks = join(sum.hook_names, sum.hook_results, sum.nhooks, "; ");
	r = state_write_last(d->state_path, &(struct snapshot_summary){
		.finished = time(NULL),
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
	if (r)
		WRN("cannot write %s: %s", d->state_path, strerror(-r));
	free(filesystems);
	free(hooks);
}

static void request_ended(struct daemon *d)
{
	bool ok;
	const char *text = proto_last_result(&d->proto, &ok);

	if (ok)
		INF("%s", text);
	else
		ERR("%s", text);
	notify_status(text);
	save_outcome(d);
	hooks_free(&d->hooks);
	discovery_free(&d->disc);
}

/*
 * Writes out's ops in order. A refusal during a request ends the request:
 * out is replaced by what the engine does about it, and true returned.
 * Once the request is reported the rest is written anyway, so that status
 * gets there. Without a connection the ops are dropped.
 */
static bool apply(struct daemon *d, struct proto_out *out)
{
	char path[PROTO_PATH_MAX];
	size_t next = 0;
	int r;

	while (d->connected && (r = store_apply(&d->store, out, &next))) {
		const struct xs_op *op = &out->ops[next++];

		if (store_lost(r)) {
			disconnect(d, r);
			return false;
		}
		ERR("cannot %s %s: %s", op->kind == XS_OP_WRITE ? "write" : "remove", op->path,
		    strerror(-r));
		if (proto_busy(&d->proto)) {
			snprintf(path, sizeof(path), "%s", op->path);
			proto_out_reset(out);
			proto_write_failed(&d->proto, path, r, out);
			return true;
		}
	}
	return false;
}

/*
 * Carries out what the engine asked for, then performs its step, until it
 * asks for nothing. The thaw and the hooks happen whatever xenstore does.
 */
static void run(struct daemon *d, struct proto_out *out)
{
	bool was_busy = proto_busy(&d->proto);

	for (;;) {
		enum proto_step step;

		if (out->err)
			ERR("out of memory: some xenstore writes were lost");
		if (out->timer == PROTO_TIMER_ARM)
			set_timer(d->deadline_fd, out->timer_ms);
		else if (out->timer == PROTO_TIMER_DISARM)
			set_timer(d->deadline_fd, 0);
		if (apply(d, out))
			continue;
		step = out->step;
		proto_out_reset(out);
		if (was_busy && !proto_busy(&d->proto)) {
			request_ended(d);
			was_busy = false;
		}
		if (step == PROTO_STEP_NONE)
			break;
		perform(d, step, out);
		was_busy = was_busy || proto_busy(&d->proto);
	}
}

static void feed_vss(struct daemon *d, struct proto_out *out)
{
	char path[sizeof(d->proto.vss) + 16], *status = NULL, *snapuuid = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/status", proto_vss_path(&d->proto));
	r = store_read(&d->store, path, &status);
	snprintf(path, sizeof(path), "%s/snapuuid", proto_vss_path(&d->proto));
	if (!r || r == -ENOENT)
		r = store_read(&d->store, path, &snapuuid);
	if (r && r != -ENOENT) {
		if (store_lost(r))
			disconnect(d, r);
		else
			WRN("cannot read %s: %s", path, strerror(-r));
	} else {
		DBG("%s/status: %s", proto_vss_path(&d->proto), status ? status : "(none)");
		proto_vss_changed(&d->proto, status, snapuuid, out);
	}
	free(status);
	free(snapuuid);
}

/* Watch events name a path; the value is read now, whatever it was then. */
static void dispatch(struct daemon *d, const char *path)
{
	const char *vss = proto_vss_path(&d->proto);
	size_t vlen = strlen(vss);
	struct proto_out out;

	proto_out_init(&out);
	if (!strcmp(path, STORE_FEATURE_PATH) || !strcmp(path, STORE_CONTROL_PATH)) {
		read_and_feed(d, STORE_FEATURE_PATH, &out, proto_feature_changed);
	} else if (!strcmp(path, STORE_ACTION_PATH)) {
		read_and_feed(d, path, &out, proto_action_changed);
	} else if (vlen && !strncmp(path, vss, vlen) && !strcmp(path + vlen, "/status")) {
		feed_vss(d, &out);
	}
	run(d, &out);
	proto_out_free(&out);
}

static void drain_events(struct daemon *d)
{
	char *path;
	int r;

	while (d->connected && (r = store_next_event(&d->store, &path)) != -EAGAIN) {
		if (r) {
			disconnect(d, r);
			return;
		}
		DBG("watch event %s", path);
		dispatch(d, path);
		free(path);
	}
}

static void on_deadline(struct daemon *d)
{
	uint64_t ticks;

	if (read(d->deadline_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	drive(d, proto_deadline);
}

static void on_reconnect(struct daemon *d)
{
	uint64_t ticks;
	int r;

	if (read(d->reconnect_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	r = connect_store(d);
	if (!r) {
		INF("xenstore connection restored");
		notify_status("connected to xenstore");
		return;
	}
	DBG("xenstore: %s; next try in %u ms", strerror(-r), d->reconnect_ms);
	set_timer(d->reconnect_fd, d->reconnect_ms);
	if (d->reconnect_ms < RECONNECT_MAX_MS)
		d->reconnect_ms *= 2;
}

static void reload(struct daemon *d)
{
	struct xq_config cfg;
	char err[512];
	int r;

	if (proto_busy(&d->proto)) {
		WRN("SIGHUP during a snapshot: configuration not re-read");
		return;
	}
	notify_state(DAEMON_RELOADING, "re-reading the configuration");
	r = config_load(&cfg, d->config_path, err, sizeof(err));
	if (r) {
		ERR("%s; keeping the previous configuration", err);
	} else {
		config_free(&d->cfg);
		d->cfg = cfg;
		log_setup(d->debug ? LOG_DEBUG : cfg.log_level);
		d->proto.dom0_timeout_ms = cfg.dom0_timeout_ms;
		INF("configuration re-read from %s", d->config_path);
	}
	notify_state(DAEMON_READY, "ready");
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		reload(d);
		return;
	}
	INF("SIG%s received, stopping", sigabbrev_np((int)si.ssi_signo));
	d->stopping = true;
	/* thaw and report first: the freeze must not wait on systemd */
	drive(d, proto_shutdown);
	notify_state(DAEMON_STOPPING, "stopping");
}

static int setup_fds(struct daemon *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	/* xenstore writes to a vanished peer must fail, not kill us */
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	d->deadline_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	d->reconnect_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (d->signal_fd < 0 || d->deadline_fd < 0 || d->reconnect_fd < 0)
		return -errno;
	return 0;
}

/*
 * The agent must run while writers are stalled: no reclaim of its pages.
 * What is mapped now is locked now; what is mapped later (thread stacks
 * reserve 8 MiB each) is locked as it is touched, not populated whole.
 */
static void lock_memory(void)
{
#ifndef __SANITIZE_ADDRESS__	/* its shadow memory cannot be locked */
	if (mlockall(MCL_CURRENT) || mlockall(MCL_FUTURE | MCL_ONFAULT))
		WRN("cannot lock memory (%s): reclaim during a freeze could stall the agent",
		    strerror(errno));
#endif
}

/* An agent that died mid-drain left the dirty-memory limits capped. */
static void recover_drain(void)
{
	struct drain dr;
	int r = drain_recover(&dr, NULL);

	if (r > 0)
		WRN("an agent died during a dirty-memory drain: vm.dirty_bytes=%s "
		    "vm.dirty_ratio=%s restored from %s", dr.bytes, dr.ratio, dr.saved);
	else if (r < 0)
		ERR("cannot restore the dirty-memory limits saved by an agent that died during a "
		    "drain: %s: %s; check vm.dirty_bytes and vm.dirty_ratio, then remove %s",
		    dr.failed, strerror(-r), DRAIN_SAVED_PATH);
}

static void loop(struct daemon *d)
{
	while (!d->stopping) {
		struct pollfd fds[5] = {
			{ .fd = d->signal_fd, .events = POLLIN },
			{ .fd = d->deadline_fd, .events = POLLIN },
			{ .fd = d->reconnect_fd, .events = POLLIN },
			{ .fd = d->connected ? store_event_fd(&d->store) : -1, .events = POLLIN },
			{ .fd = d->connected ? store_hangup_fd(&d->store) : -1, .events = POLLRDHUP },
		};

		if (poll(fds, 5, -1) < 0) {
			if (errno != EINTR)
				ERR("poll: %s", strerror(errno));
			continue;
		}
		if (fds[0].revents)
			on_signal(d);
		if (fds[1].revents)
			on_deadline(d);
		if (fds[3].revents && d->connected)
			drain_events(d);
		if (fds[4].revents && d->connected) {
			drain_events(d);
			disconnect(d, -ECONNRESET);
		}
		if (fds[2].revents)
			on_reconnect(d);
	}
}

int main(int argc, char **argv)
{
	static struct daemon d = { .signal_fd = -1, .deadline_fd = -1, .reconnect_fd = -1 };
	char err[512];
	int r;

	r = parse_args(&d, argc, argv);
	if (r)
		return r;
	log_setup(d.debug ? LOG_DEBUG : LOG_INFO);
	recover_drain();
	notify_state(DAEMON_STARTING, "reading the configuration");
	r = config_load(&d.cfg, d.config_path, err, sizeof(err));
	if (r) {
		ERR("%s", err);
		notify_errno(r);
		return EXIT_CONFIG;
	}
	log_setup(d.debug ? LOG_DEBUG : d.cfg.log_level);
	for (size_t i = 0; i < d.ntest_disks; i++)
		WRN("test option: treating %s as a Xen disk", d.test_disks[i]);
	r = setup_fds(&d);
	if (r) {
		ERR("cannot set up signals and timers: %s", strerror(-r));
		notify_errno(r);
		return EXIT_FAILURE;
	}
	lock_memory();
	proto_init(&d.proto, d.cfg.dom0_timeout_ms);

	r = connect_store(&d);
	if (r) {
		ERR("cannot connect to xenstore (%s): is this a Xen guest with xenfs or "
		    "/dev/xen/xenbus, or is XENSTORED_PATH right?", strerror(-r));
		notify_errno(r);
		proto_free(&d.proto);
		config_free(&d.cfg);
		return EXIT_FAILURE;
	}
	INF("xquiesced %s ready: freeze deadline %u ms, dom0 deadline %u ms, hooks in %s",
	    XQ_VERSION, d.cfg.freeze_timeout_ms, d.cfg.dom0_timeout_ms, d.cfg.hooks_dir);
	notify_state(DAEMON_READY, "ready, waiting for snapshot requests");

	loop(&d);

	if (d.connected)
		store_close(&d.store);
	proto_free(&d.proto);
	hooks_free(&d.hooks);
	discovery_free(&d.disc);
	config_free(&d.cfg);
	close(d.signal_fd);
	close(d.deadline_fd);
	close(d.reconnect_fd);
	INF("stopped");
	return EXIT_SUCCESS;
}
