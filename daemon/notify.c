// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <stdbool.h>
#include <systemd/sd-daemon.h>

#include "notify.h"

void notify_state(enum daemon_state state, const char *status)
{
	static bool ready_sent;

	switch (state) {
	case DAEMON_STARTING:
		sd_notifyf(0, "STATUS=%s", status);
		break;
	case DAEMON_READY:
		/* READY=1 once; later it closes a RELOADING=1. */
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
		ready_sent = true;
		break;
	case DAEMON_RELOADING:
		if (ready_sent)
			sd_notifyf(0, "RELOADING=1\nSTATUS=%s", status);
		break;
	case DAEMON_STOPPING:
		sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status);
		break;
	}
}

void notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void notify_errno(int err)
{
	sd_notifyf(0, "ERRNO=%d", err < 0 ? -err : err);
}
