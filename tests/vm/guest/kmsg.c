// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"
#include "tap.h"

/* What the kernel prints when something went wrong in it. */
static const char *const bad_signs[] = {
	"WARNING:", "BUG:", "Oops", "general protection fault", "Call Trace:",
	"possible circular locking", "possible recursive locking", "lockdep",
	"blocked for more than", "hung_task", "INFO: task", "Kernel panic", "RCU stall",
	"rcu_sched self-detected stall", "refcount_t:", "UBSAN:", "KASAN:",
};

static const char *bad_sign(const char *msg)
{
	unsigned int i;

	for (i = 0; i < sizeof(bad_signs) / sizeof(bad_signs[0]); i++)
		if (strstr(msg, bad_signs[i]))
			return bad_signs[i];
	return NULL;
}

/*
 * Reads the whole kernel log from /dev/kmsg, one record per read, reports
 * each suspicious record as a diagnostic and returns how many there were
 * (or -errno). Lines of the module are echoed as diagnostics too.
 */
int kmsg_scan(unsigned int *module_lines)
{
	char rec[2048], *msg;
	int fd, bad = 0;
	ssize_t n;

	*module_lines = 0;
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (bad_sign(msg)) {
			tap_diag("kernel: %s", msg);
			bad++;
		} else if (strstr(msg, "xquiesce")) {
			tap_diag("kernel: %s", msg);
			(*module_lines)++;
		}
	}
	close(fd);
	return bad;
}
