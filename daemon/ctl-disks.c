// SPDX-License-Identifier: GPL-2.0
/* xquiescectl disks: each Xen disk, its VDI and the filesystems on it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "ctl.h"

static const char usage[] =
	"Usage: xquiescectl disks [--config FILE] [--test-as-xen-disk DEV]...\n"
	"Lists the guest's Xen disks (VBDs): the xenstore device id, the block device,\n"
	"the VDI uuid that dom0's storage layer recorded (\"unknown\" without xenstore\n"
	"or without sm-data/vdi-uuid), and the mounted filesystems on each, including\n"
	"those reached through partitions, LVM, md, loop devices and btrfs. Filesystems\n"
	"that the configuration excludes, and FUSE filesystems, are marked.\n\n"
	"  -c, --config FILE           configuration (default " XQ_CONFIG_PATH ")\n"
	"      --test-as-xen-disk DEV  FOR TESTS: treat block device DEV as a Xen disk\n"
	"  -h, --help                  show this help\n";

/* <backend>/sm-data/vdi-uuid of device/vbd/<devid>, or NULL. */
static char *vdi_uuid(struct xs_handle *xs, unsigned int devid)
{
	char path[128], *backend, *vdi, *full;
	unsigned int len;

	if (!xs)
		return NULL;
	snprintf(path, sizeof(path), "device/vbd/%u/backend", devid);
	backend = xs_read(xs, XBT_NULL, path, &len);
	if (!backend)
		return NULL;
	if (asprintf(&full, "%s/sm-data/vdi-uuid", backend) < 0) {
		free(backend);
		return NULL;
	}
	vdi = xs_read(xs, XBT_NULL, full, &len);
	free(full);
	free(backend);
	return vdi;
}

static void print_disk(const struct discovery *d, const char *devid, const char *device,
		       const char *vdi, const struct disc_disk *disk)
{
	bool any = false;
	size_t i;

	printf("%-7s %-8s %-37s ", devid, device, vdi ? vdi : "unknown");
	for (i = 0; disk && i < d->nfs; i++) {
		const struct disc_fs *fs = &d->fs[i];

		if (!discovery_fs_on_disk(d, fs, disk))
			continue;
		printf("%s%s (%s%s%s)", any ? ", " : "", fs->mountpoint, fs->fstype,
		       fs->excluded ? ", not frozen: " : "", fs->excluded ? fs->excluded : "");
		any = true;
	}
	printf("%s\n", any ? "" : "-");
}

/* The VBDs xenstore lists, whether or not the guest sees a block device. */
static void print_xenstore_vbds(struct xs_handle *xs, const struct discovery *d, bool *shown)
{
	unsigned int i, n = 0;
	char **ids = xs_directory(xs, XBT_NULL, "device/vbd", &n);

	for (i = 0; ids && i < n; i++) {
		const struct disc_disk *disk = discovery_find_vbd(d, ids[i]);
		char *vdi = vdi_uuid(xs, strtoul(ids[i], NULL, 10));

		print_disk(d, ids[i], disk ? disk->name : "(none)", vdi, disk);
		if (disk)
			shown[disk - d->disks] = true;
		free(vdi);
	}
	free(ids);
}

int disks_main(int argc, char *argv[])
{
	struct xs_handle *xs;
	struct ctl_opts o;
	struct discovery d;
	char devid[16], *vdi;
	bool done, *shown;
	size_t i;
	int r;

	r = ctl_parse(argc, argv, CTL_OPT_CONFIG | CTL_OPT_TEST_DISK, usage, &o, &done);
	if (done)
		return r;
	r = ctl_discover(&o, &d);
	if (r < 0)
		goto out;
	shown = calloc(d.ndisks + 1, sizeof(*shown));
	if (!shown) {
		r = -ENOMEM;
		goto out_disc;
	}
	xs = xs_open(0);
	if (!xs)
		fprintf(stderr, "xenstore is not reachable (%s): VDIs unknown\n", strerror(errno));
	printf("%-7s %-8s %-37s %s\n", "VBD", "DEVICE", "VDI", "FILESYSTEMS");
	if (xs)
		print_xenstore_vbds(xs, &d, shown);
	for (i = 0; i < d.ndisks; i++) {
		if (shown[i])
			continue;
		snprintf(devid, sizeof(devid), "%u", d.disks[i].devid);
		vdi = vdi_uuid(xs, d.disks[i].devid);
		print_disk(&d, d.disks[i].devid ? devid : "-", d.disks[i].name, vdi, &d.disks[i]);
		free(vdi);
	}
	if (xs)
		xs_close(xs);
	free(shown);
out_disc:
	discovery_free(&d);
out:
	ctl_opts_free(&o);
	return r < 0;
}
