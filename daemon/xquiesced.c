// SPDX-License-Identifier: GPL-2.0
/*
 * xquiesced: the guest agent. One snapshot session (session.c) and two
 * front doors that ask for it: dom0 over xenstore (xs-door.c) and Xen
 * Orchestra's sync hook over HTTPS (xo-http.c), when configured. One poll
 * set for both and for signals, with no timeout while idle, so an idle
 * agent never wakes up.
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
#include <unistd.h>

#include "config.h"
#include "discovery.h"
#include "drain.h"
#include "freezer.h"
#include "log.h"
#include "notify.h"
#include "session.h"
#include "state.h"
#include "xo-http.h"
#include "xs-door.h"

#define EXIT_USAGE	2
#define EXIT_CONFIG	78	/* EX_CONFIG, as systemd.exec(5) names it */

struct daemon {
	const char *config_path;
	const char *state_path;
	bool debug;
	struct xq_config cfg;
	enum freezer_backend backend;
	const char *test_disks[DISC_MAX_TEST_DISKS + 1];
	size_t ntest_disks;

	int signal_fd;
	bool stopping;

	struct session session;
	struct xs_door xs;
	struct xo_door xo;
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
		"Xen Orchestra's sync hook (HTTPS, port 1727) answers once xo_sync_hook = yes.\n"
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

/*
 * Between snapshots only: the token and certificate files are read again
 * with the rest, and nothing may touch a disk while frozen.
 */
static void reload(struct daemon *d)
{
	struct xq_config cfg;
	char err[512];
	int r;

	if (session_busy(&d->session)) {
		WRN("SIGHUP while a snapshot holds the agent (%s): configuration not re-read "
		    "(nothing is read from disk while frozen); send SIGHUP again once it is over",
		    d->session.who);
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
		d->xs.proto.dom0_timeout_ms = cfg.dom0_timeout_ms;
		INF("configuration re-read from %s", d->config_path);
		if (d->cfg.xo_sync_hook || xo_door_running(&d->xo))
			xo_door_restart(&d->xo, &d->cfg);
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
	xs_door_shutdown(&d->xs);
	xo_door_shutdown(&d->xo);
	notify_state(DAEMON_STOPPING, "stopping");
}

static int setup_signals(struct daemon *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	/* writes to a vanished peer (xenstore, an HTTPS client) must fail, not kill us */
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (d->signal_fd < 0)
		return -errno;
	return 0;
}

/*
 * The agent must run while writers are stalled: no reclaim of its pages.
 * What is mapped now (the TLS library's code included) is locked now; what
 * is mapped later (thread stacks reserve 8 MiB each) is locked as it is
 * touched, not populated whole.
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
		WRN("an agent died during a dirty-memory drain: %s restored from %s", dr.restored,
		    dr.saved);
	else if (r < 0)
		ERR("cannot restore the dirty-memory limits saved by an agent that died during a "
		    "drain: %s: %s; check vm.dirty_bytes and vm.dirty_ratio, or the disks' "
		    "max_ratio_fine and strict_limit in /sys/class/bdi, then remove %s",
		    dr.failed, strerror(-r), DRAIN_SAVED_PATH);
}

/* A resume into a new domain: whatever XO's freeze was for is gone. */
static void feature_lost(void *data)
{
	struct daemon *d = data;

	xo_door_resumed(&d->xo);
}

/* A suspend cannot happen frozen: XO's freeze ends now (see xo.h). */
static void shutdown_written(void *data)
{
	struct daemon *d = data;

	xo_door_shutdown_written(&d->xo);
}

enum { FD_SIGNAL, FD_XO, FD_XS = FD_XO + XO_DOOR_NFDS, NFDS = FD_XS + XS_DOOR_NFDS };

static void loop(struct daemon *d)
{
	while (!d->stopping) {
		struct pollfd fds[NFDS] = {
			[FD_SIGNAL] = { .fd = d->signal_fd, .events = POLLIN },
		};

		xo_door_pollfds(&d->xo, &fds[FD_XO]);
		xs_door_pollfds(&d->xs, &fds[FD_XS]);
		if (poll(fds, NFDS, xo_door_timeout_ms(&d->xo)) < 0) {
			if (errno != EINTR)
				ERR("poll: %s", strerror(errno));
			continue;
		}
		if (fds[FD_SIGNAL].revents)
			on_signal(d);
		if (d->stopping)
			break;
		xs_door_handle(&d->xs, &fds[FD_XS]);
		xo_door_handle(&d->xo, &fds[FD_XO]);
	}
}

int main(int argc, char **argv)
{
	static struct daemon d = { .signal_fd = -1 };
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
	d.session = (struct session){
		.cfg = &d.cfg, .backend = d.backend, .test_disks = d.test_disks,
		.state_path = d.state_path, .lock_fd = state_lock_open(d.state_path),
	};
	if (d.session.lock_fd < 0)
		WRN("cannot open the session lock beside %s (%s): xquiescectl freeze could freeze "
		    "while a snapshot holds the agent", d.state_path, strerror(-d.session.lock_fd));
	xo_door_init(&d.xo, &d.session);
	r = setup_signals(&d);
	if (!r)
		r = xs_door_init(&d.xs, &d.session, d.cfg.dom0_timeout_ms);
	if (r) {
		ERR("cannot set up signals and timers: %s", strerror(-r));
		notify_errno(r);
		return EXIT_FAILURE;
	}
	d.xs.feature_lost = feature_lost;
	d.xs.shutdown_written = shutdown_written;
	d.xs.data = &d;
	/* before the memory is locked: the TLS library, certificate and token too */
	xo_door_start(&d.xo, &d.cfg);
	lock_memory();

	r = xs_door_connect(&d.xs);
	if (r) {
		ERR("cannot connect to xenstore (%s): is this a Xen guest with xenfs or "
		    "/dev/xen/xenbus, or is XENSTORED_PATH right?", strerror(-r));
		notify_errno(r);
		xo_door_stop(&d.xo);
		xs_door_close(&d.xs);
		config_free(&d.cfg);
		return EXIT_FAILURE;
	}
	INF("xquiesced %s ready: freeze deadline %u ms, dom0 deadline %u ms, hooks in %s",
	    XQ_VERSION, d.cfg.freeze_timeout_ms, d.cfg.dom0_timeout_ms, d.cfg.hooks_dir);
	notify_state(DAEMON_READY, "ready, waiting for snapshot requests");

	loop(&d);

	xo_door_stop(&d.xo);
	xs_door_close(&d.xs);
	session_close(&d.session);
	if (d.session.lock_fd >= 0)
		close(d.session.lock_fd);
	config_free(&d.cfg);
	close(d.signal_fd);
	INF("stopped");
	return EXIT_SUCCESS;
}
