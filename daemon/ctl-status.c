// SPDX-License-Identifier: GPL-2.0
/* xquiescectl status: what the module holds, and how the last snapshot went. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const char usage[] =
	"Usage: xquiescectl status [--state FILE]\n"
	"Shows whether the xquiesce module is loaded, whether a freeze is held (by\n"
	"which process, on which filesystems, for how much longer), how the last\n"
	"freeze ended, and the last snapshot as the agent recorded it.\n\n"
	"      --state FILE  the agent's record (default /run/xquiesce/last-snapshot)\n"
	"  -h, --help        show this help\n";

static const char *end_text(unsigned int end)
{
	switch (end) {
	case XQ_END_NONE:
		return "no freeze since the module was loaded";
	case XQ_END_THAW:
		return "thawed by its holder";
	case XQ_END_DEADLINE:
		return "thawed by the watchdog at the deadline";
	case XQ_END_RELEASED:
		return "thawed when its holder closed the device or died";
	case XQ_END_RESCUE:
		return "thawed by a rescue thaw (xquiescectl thaw)";
	case XQ_END_FAILED:
		return "the freeze failed and was rolled back";
	default:
		return "unknown";
	}
}

static const char *state_text(unsigned int state)
{
	switch (state) {
	case XQ_STATE_IDLE:
		return "idle";
	case XQ_STATE_FREEZING:
		return "freezing";
	case XQ_STATE_FROZEN:
		return "frozen";
	case XQ_STATE_THAWING:
		return "thawing";
	default:
		return "unknown";
	}
}

static int print_module(void)
{
	static struct xq_fs fs[XQ_MAX_DEVS];
	struct xq_status st;
	unsigned int i;
	int r;

	r = freezer_module_status(&st, fs, XQ_MAX_DEVS, false);
	if (r == -ENOENT) {
		printf("module:        not loaded (the agent loads it at the first snapshot; "
		       "without it, it falls back to FIFREEZE)\n");
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "cannot read the state of /dev/%s: %s\n", XQ_DEVICE_NAME,
			strerror(-r));
		return r;
	}
	printf("module:        loaded, ABI %u, freeze cap %u ms%s%s%s\n", st.abi_version,
	       st.max_timeout_ms,
	       st.features & XQ_FEATURE_KERNEL_HOLDER ? ", kernel freeze holder" : "",
	       st.features & XQ_FEATURE_EXCLUSIVE ? ", exclusive freeze" : "",
	       st.features & XQ_FEATURE_FAULT_INJECTION ? ", FAULT INJECTION BUILD" : "");
	printf("state:         %s", state_text(st.state));
	if (st.state == XQ_STATE_FROZEN)
		printf(" by pid %d, %.1f s left before the watchdog thaws", st.holder_pid,
		       st.remaining_ns / 1e9);
	else if (st.state == XQ_STATE_THAWING && st.nfs)
		printf(": %u still frozen, the module retries their thaw", st.nfs);
	if (st.nstuck)
		printf("; %u workers of earlier freezes still stuck in I/O (see the kernel log)",
		       st.nstuck);
	printf("\n");
	for (i = 0; i < st.nfs && i < XQ_MAX_DEVS; i++)
		printf("  frozen:      %.*s (%.*s, %u:%u, level %u)%s\n", XQ_ID_LEN, fs[i].id,
		       XQ_FSTYPE_LEN, fs[i].fstype, fs[i].major, fs[i].minor, fs[i].level,
		       fs[i].flags & XQ_FS_THAW_FAILED ? ", thaw failed" : "");
	printf("last freeze:   %s", end_text(st.last_end));
	if (st.last_end != XQ_END_NONE && st.last_end != XQ_END_FAILED)
		printf(", held %.1f ms", st.held_ns / 1e6);
	printf("\n");
	return 0;
}

static int print_last_snapshot(const char *path)
{
	char line[4096];
	FILE *f = fopen(path, "re");

	if (!f) {
		if (errno != ENOENT) {
			fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
			return -errno;
		}
		printf("last snapshot: none since the agent started\n");
		return 0;
	}
	printf("last snapshot: (%s)\n", path);
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = '\0';
		printf("  %-13s %s", line, eq + 1);
	}
	fclose(f);
	return 0;
}

int status_main(int argc, char *argv[])
{
	struct ctl_opts o;
	bool done;
	int r;

	r = ctl_parse(argc, argv, CTL_OPT_STATE, usage, &o, &done);
	if (done)
		return r;
	r = print_module();
	if (print_last_snapshot(o.state_path) < 0)
		r = -1;
	ctl_opts_free(&o);
	return r < 0;
}
