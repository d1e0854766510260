// SPDX-License-Identifier: GPL-2.0
/* xquiescectl selftest: one freeze and thaw of everything, with timings. */
#include <stdio.h>

#include "ctl.h"

static const char usage[] =
	"Usage: xquiescectl selftest [--freezer auto|module|fifreeze] [--config FILE]\n"
	"                            [--test-as-xen-disk DEV]...\n"
	"Freezes every filesystem of the Xen disks once, as the agent does for a\n"
	"snapshot (without running the hooks), thaws at once, and prints for each\n"
	"filesystem the pre-sync time and when it froze, then the whole freeze window.\n"
	"Exits 0 when the freeze and the thaw both succeeded.\n\n"
	"  -c, --config FILE           configuration: exclusions, presync, drain (default\n"
	"                              " XQ_CONFIG_PATH ")\n"
	"      --freezer METHOD        auto (default: the module, else FIFREEZE), module\n"
	"                              or fifreeze\n"
	"      --test-as-xen-disk DEV  FOR TESTS: treat block device DEV as a Xen disk\n"
	"  -h, --help                  show this help\n";

int selftest_main(int argc, char *argv[])
{
	struct ctl_opts o;
	struct discovery d;
	struct freezer f;
	bool done;
	int r;

	r = ctl_parse(argc, argv, CTL_OPT_CONFIG | CTL_OPT_FREEZER | CTL_OPT_TEST_DISK, usage,
		      &o, &done);
	if (done)
		return r;
	r = ctl_discover(&o, &d);
	if (r < 0)
		goto out;
	ctl_print_excluded(stdout, &d);
	r = ctl_freeze(&o, &d, &f, o.cfg.freeze_timeout_ms);
	if (r == 0) {
		r = ctl_thaw(&f);
		ctl_print_frozen(stdout, &d, &f.result);
	}
	discovery_free(&d);
out:
	ctl_opts_free(&o);
	return r < 0;
}
