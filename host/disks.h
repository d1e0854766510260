/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_DISKS_H
#define XQUIESCE_HOST_DISKS_H

#include <stdbool.h>

#include "vm.h"

struct xs_handle;

/* One of the VM's disks, every field read from dom0's backend tree. */
struct vdi {
	char *uuid;		/* <backend>/sm-data/vdi-uuid */
	char *params;		/* <backend>/params: what the backend serves */
	char *dev;		/* <backend>/dev: xvda, ... */
	char *backend;		/* /local/domain/0/backend/<kind>/<domid>/<devid> */
};

struct disks {
	struct vdi *vdi;
	unsigned int n;
};

/*
 * The VM's disks that carry a VDI uuid, found from dom0's backend tree, never
 * from the guest's device/vbd/N/backend pointers (which the guest may
 * rewrite): each /local/domain/0/backend/{vbd,vbd3,qdisk}/<domid>/<devid>
 * that dom0 owns and whose frontend and frontend-id name this VM's
 * device/vbd/<devid>. Returns 0 or -errno.
 */
int disks_read(struct xs_handle *xs, const struct vm *vm, struct disks *disks);
/*
 * Gives each of those disks that has no sm-data/vdi-uuid (xl writes none,
 * XAPI always one) a stable name-based one, derived from the VM's uuid and
 * the backend's params. The agent lists only disks with a VDI uuid, and
 * fails a request for a VM with a disk it cannot list. Returns 0 or -errno.
 */
int disks_name_vdis(struct xs_handle *xs, const struct vm *vm);
/* Whether the guest's list of VDI uuids names this disk. */
bool vdi_listed(const struct vdi *vdi, char *const uuids[], unsigned int n);
const struct vdi *disks_find(const struct disks *disks, const char *uuid);
void disks_free(struct disks *disks);

#endif
