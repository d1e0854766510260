// SPDX-License-Identifier: GPL-2.0
/* xquiescectl thaw: rescue thaw. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"

static const char usage[] =
	"Usage: xquiescectl thaw [--config FILE] [--test-as-xen-disk DEV]...\n"
	"Rescue thaw. With the xquiesce module loaded, asks it to thaw the freeze it\n"
	"holds, whoever holds it: the holder's snapshot may then be inconsistent, and\n"
	"the holder is told so when it thaws. Then, module or not, thaws every\n"
	"filesystem of the Xen disks with FITHAW, highest stacking level first: for a\n"
	"FIFREEZE freeze left behind by an agent that died (one that fell back to it,\n"
	"or ran with --freezer fifreeze), which the module knows nothing of. That also\n"
	"undoes freezes made by other tools (fsfreeze -f) on those filesystems.\n\n"
	"  -c, --config FILE           configuration (default " XQ_CONFIG_PATH ")\n"
	"      --test-as-xen-disk DEV  FOR TESTS: treat block device DEV as a Xen disk\n"
	"  -h, --help                  show this help\n";

static int thaw_module(void)
{
	struct xq_thaw t;
	int r = freezer_module_thaw_any(&t);

	if (r == -EALREADY) {
		printf("the xquiesce module holds no freeze\n");
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "rescue thaw through /dev/%s failed: %s\n", XQ_DEVICE_NAME,
			strerror(-r));
		return r;
	}
	printf("thawed %u filesystem%s, frozen for %.1f ms", t.nfs, t.nfs == 1 ? "" : "s",
	       t.held_ns / 1e6);
	if (t.nstill_frozen)
		printf("; %u still frozen by someone else", t.nstill_frozen);
	printf("\n");
	return 0;
}

static int fithaw_all(const struct ctl_opts *o)
{
	unsigned int level, max_level = 0;
	struct discovery d;
	int r, fd, unused = 0;
	size_t i;

	r = ctl_discover(o, &d);
	if (r < 0)
		return r;
	for (i = 0; i < d.nfs; i++)
		if (d.fs[i].level > max_level)
			max_level = d.fs[i].level;
	for (level = max_level + 1; level-- > 0;) {
		for (i = 0; i < d.nfs; i++) {
			const struct disc_fs *fs = &d.fs[i];

			if (fs->level != level || fs->excluded)
				continue;
			fd = open(fs->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0 || ioctl(fd, FITHAW, &unused) < 0) {
				if (errno == EINVAL) {
					printf("%s: not frozen with FIFREEZE\n", fs->mountpoint);
				} else {
					fprintf(stderr, "%s: FITHAW failed: %s\n", fs->mountpoint,
						strerror(errno));
					r = -errno;
				}
			} else {
				printf("%s: thawed\n", fs->mountpoint);
			}
			if (fd >= 0)
				close(fd);
		}
	}
	discovery_free(&d);
	return r;
}

int thaw_main(int argc, char *argv[])
{
	struct ctl_opts o;
	bool done;
	int r, fithaw_r;

	r = ctl_parse(argc, argv, CTL_OPT_CONFIG | CTL_OPT_TEST_DISK, usage, &o, &done);
	if (done)
		return r;
	if (access("/dev/" XQ_DEVICE_NAME, F_OK) == 0) {
		r = thaw_module();
		printf("and with FITHAW, for freezes made without the module:\n");
	} else {
		r = 0;
		printf("the xquiesce module is not loaded: thawing with FITHAW\n");
	}
	fithaw_r = fithaw_all(&o);
	ctl_opts_free(&o);
	return r < 0 || fithaw_r < 0;
}
