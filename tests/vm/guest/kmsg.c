// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"
#include "tap.h"
#include "util.h"

#define KMEMLEAK_PATH "/sys/kernel/debug/kmemleak"
/* A report is a few lines per object: enough to see whose they are. */
#define KMEMLEAK_LINES_SHOWN 60

/*
 * What the kernel prints when something went wrong in it, one string per
 * line of tests/vm/kernel-bad-signs, which the host's console scan uses too.
 * Lockdep's reports start with WARNING: or BUG:, and it turns itself off
 * after the first one (not the word "lockdep": a debug kernel's boot says
 * "RCU lockdep checking is enabled"). KASAN and KFENCE report with BUG:
 * KASAN:/KFENCE:, debug objects with ODEBUG:, kmemleak with "N new
 * suspected memory leaks".
 */
static const char *const bad_signs[] = {
#include "kernel-bad-signs.h"
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

/*
 * Has kmemleak scan the kernel now and returns how many unreferenced
 * objects it reports, showing the report as diagnostics; -ENOENT on a
 * kernel without kmemleak, or another -errno. Twice: kmemleak reports an
 * object only once its contents are the same as at the scan before (the
 * first scan only records them), so a single scan reports no leak at all.
 */
int kmemleak_scan(void)
{
	unsigned int shown = 0, scans;
	char line[512];
	FILE *report;
	int ret, leaks = 0;

	for (scans = 0; scans < 2; scans++) {
		ret = write_string(KMEMLEAK_PATH, "scan");
		if (ret)
			return ret;
	}
	report = fopen(KMEMLEAK_PATH, "re");
	if (!report)
		return -errno;
	while (fgets(line, sizeof(line), report)) {
		line[strcspn(line, "\n")] = '\0';
		if (strstr(line, "unreferenced object"))
			leaks++;
		if (shown++ < KMEMLEAK_LINES_SHOWN)
			tap_diag("kmemleak: %s", line);
	}
	fclose(report);
	return leaks;
}
