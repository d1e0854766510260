/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_SIGNALS_H
#define XQUIESCE_HOST_SIGNALS_H

#include <poll.h>
#include <signal.h>

/* Set by SIGINT, SIGTERM or SIGHUP: stop waiting, clean up, exit 1. */
extern volatile sig_atomic_t interrupted;

/*
 * Catches SIGINT, SIGTERM and SIGHUP (and SIGCHLD, to wake waits) and keeps
 * them blocked except inside signals_poll(): a signal that arrives between
 * a check of `interrupted` and the wait that follows stays pending and
 * ends that wait at once, instead of being lost until its timeout.
 */
void signals_catch(void);

/* poll() that only signals can interrupt, and only here; EINTR is 0. */
int signals_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

/* In a child before exec: the signal mask the program started with. */
void signals_reset_child(void);

#endif
