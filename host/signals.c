// SPDX-License-Identifier: GPL-2.0
/*
 * Signals without a lost wake-up. A flag set by a handler and tested before
 * a blocking poll() has a window: the signal may land after the test and
 * before the poll, which then sleeps out its whole timeout (up to the 600 s
 * result wait) with the guest frozen. So the signals stay blocked, and each
 * wait unblocks them atomically with ppoll().
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "signals.h"

volatile sig_atomic_t interrupted;

static sigset_t start_mask;	/* what the program started with */
static sigset_t wait_mask;	/* the same, with ours unblocked: inside ppoll() */
static bool caught;

static void on_signal(int sig)
{
	if (sig != SIGCHLD)
		interrupted = 1;
}

void signals_catch(void)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	/* No SA_RESTART: nothing but ppoll() ever sees them unblocked. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;
	size_t i;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		sigaction(signals[i], &sa, NULL);
		sigaddset(&block, signals[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &start_mask);
	wait_mask = start_mask;
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigdelset(&wait_mask, signals[i]);
	caught = true;
}

int signals_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, timeout_ms % 1000 * 1000000L };
	nfds_t i;
	int r;

	for (i = 0; i < n; i++)
		fds[i].revents = 0;	/* EINTR leaves them as they were */
	r = ppoll(fds, n, timeout_ms < 0 ? NULL : &ts, caught ? &wait_mask : NULL);
	if (r < 0 && errno == EINTR)
		return 0;
	return r;
}

void signals_reset_child(void)
{
	if (caught)
		sigprocmask(SIG_SETMASK, &start_mask, NULL);
}
