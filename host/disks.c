// SPDX-License-Identifier: GPL-2.0
/*
 * The VM's disks, from what dom0 wrote. The guest owns its device/ tree and
 * can point device/vbd/N/backend anywhere it can read, such as a fake
 * backend under its own data/ whose params name /etc/shadow or another VM's
 * logical volume. The backend directories under /local/domain/0/backend are
 * dom0's: the toolstack wrote them and the guest may only read them. So the
 * disks are listed from there, and each entry must point back at this VM
 * (frontend and frontend-id), as a toolstack writes them; anything else is
 * not a disk of this VM. Disks served by driver domains are not listed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disks.h"
#include "xsutil.h"

/* blkback (xl, XAPI up to 7.x), tapdisk3 (XCP-ng, XenServer), qemu. */
static const char *const kinds[] = { "vbd", "vbd3", "qdisk" };

static bool value_equals(struct xs_handle *xs, const char *want, const char *base,
			 const char *key)
{
	char *value = xsu_read(xs, "%s/%s", base, key);
	bool equal = value && !strcmp(value, want);

	free(value);
	return equal;
}

/* Whether backend is dom0's and names this VM's device/vbd/<devid> as its frontend. */
static bool points_back(struct xs_handle *xs, const struct vm *vm, const char *backend,
			const char *devid)
{
	char frontend[128], domid[16];
	unsigned int owner;

	if (xsu_owner(xs, backend, &owner) || owner != 0)
		return false;
	snprintf(frontend, sizeof(frontend), "%s/device/vbd/%s", vm->dom_path, devid);
	snprintf(domid, sizeof(domid), "%u", vm->domid);
	return value_equals(xs, frontend, backend, "frontend") &&
	       value_equals(xs, domid, backend, "frontend-id");
}

/* One backend entry; 1 when it is a disk of this VM with a VDI, else 0. */
static int disk_add(struct xs_handle *xs, const struct vm *vm, const char *backend,
		    const char *devid, struct vdi *v)
{
	char *type;

	if (!points_back(xs, vm, backend, devid))
		return 0;
	/* CDs and floppies are not snapshotted; libxl and xenopsd write device-type. */
	type = xsu_read(xs, "%s/device-type", backend);
	if (type && strcmp(type, "disk")) {
		free(type);
		return 0;
	}
	free(type);
	v->uuid = xsu_read(xs, "%s/sm-data/vdi-uuid", backend);
	if (!v->uuid || !xsu_is_uuid(v->uuid)) {
		free(v->uuid);
		v->uuid = NULL;
		return 0;
	}
	v->backend = strdup(backend);
	v->params = xsu_read(xs, "%s/params", backend);
	v->dev = xsu_read(xs, "%s/dev", backend);
	return v->backend ? 1 : -ENOMEM;
}

static int disks_of_kind(struct xs_handle *xs, const struct vm *vm, const char *kind,
			 struct disks *disks)
{
	unsigned int n, i;
	char **devids, *backend;
	struct vdi *more, v;
	int r = 0;

	devids = xsu_list(xs, &n, "/local/domain/0/backend/%s/%u", kind, vm->domid);
	if (!devids)
		return errno == ENOENT || errno == EACCES ? 0 : -errno;
	for (i = 0; i < n && r >= 0; i++) {
		memset(&v, 0, sizeof(v));
		if (asprintf(&backend, "/local/domain/0/backend/%s/%u/%s", kind, vm->domid,
			     devids[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		r = disk_add(xs, vm, backend, devids[i], &v);
		free(backend);
		/* The same VDI on two VBDs is one disk, as for the guest. */
		if (r == 1 && !disks_find(disks, v.uuid)) {
			more = realloc(disks->vdi, (disks->n + 1) * sizeof(*more));
			if (more) {
				disks->vdi = more;
				disks->vdi[disks->n++] = v;
				continue;
			}
			r = -ENOMEM;
		}
		free(v.uuid);
		free(v.params);
		free(v.dev);
		free(v.backend);
	}
	free(devids);
	return r < 0 ? r : 0;
}

int disks_read(struct xs_handle *xs, const struct vm *vm, struct disks *disks)
{
	size_t k;
	int r = 0;

	disks->vdi = NULL;
	disks->n = 0;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !r; k++)
		r = disks_of_kind(xs, vm, kinds[k], disks);
	if (r)
		disks_free(disks);
	return r;
}

const struct vdi *disks_find(const struct disks *disks, const char *uuid)
{
	unsigned int i;

	for (i = 0; i < disks->n; i++)
		if (!strcmp(disks->vdi[i].uuid, uuid))
			return &disks->vdi[i];
	return NULL;
}

void disks_free(struct disks *disks)
{
	unsigned int i;

	for (i = 0; i < disks->n; i++) {
		free(disks->vdi[i].uuid);
		free(disks->vdi[i].params);
		free(disks->vdi[i].dev);
		free(disks->vdi[i].backend);
	}
	free(disks->vdi);
	disks->vdi = NULL;
	disks->n = 0;
}
