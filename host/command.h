/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_COMMAND_H
#define XQUIESCE_HOST_COMMAND_H

#include <signal.h>

/* Set by a signal handler: stop waiting, kill the command, return -EINTR. */
extern volatile sig_atomic_t command_interrupted;

/*
 * Runs "/bin/sh -c CMD" in its own process group with ENV (NAME=VALUE
 * strings) added to the environment, and collects its standard output
 * (up to 64 KiB). stderr is passed through. Returns 0 on exit status 0,
 * -ETIMEDOUT when it ran past timeout_ms and -EINTR when interrupted (the
 * group is killed in both cases), -ECHILD when it failed (*status holds the
 * wait status), or -errno.
 */
int command_run(const char *cmd, char *const env[], int timeout_ms, char **output,
		int *status);

#endif
