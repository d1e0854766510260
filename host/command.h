/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_COMMAND_H
#define XQUIESCE_HOST_COMMAND_H

#include <stdbool.h>

/*
 * Runs "/bin/sh -c CMD" in its own process group with ENV (NAME=VALUE
 * strings) added to the environment, and collects its standard output
 * (up to 64 KiB). stderr is passed through. Nothing of the group outlives
 * the call: at the shell's exit, at timeout_ms and on a signal
 * (signals.h), the group is killed. Returns 0 on exit status 0, -ETIMEDOUT
 * when it ran past timeout_ms (whether or not its output was closed),
 * -EINTR when interrupted (and interruptible), -ECHILD when it failed (*status holds the wait
 * status), or -errno.
 */
int command_run(const char *cmd, char *const env[], int timeout_ms, bool interruptible,
		char **output, int *status);

#endif
