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

/* Whether a backend of this VM is a disk: CDs and floppies are not snapshotted. */
static bool is_disk(struct xs_handle *xs, const char *backend)
{
	/* libxl and xenopsd write device-type; its absence means a disk. */
	char *type = xsu_read(xs, "%s/device-type", backend);
	bool disk = !type || !strcmp(type, "disk");

	free(type);
	return disk;
}

/*
 * Calls fn for each backend directory of this VM's disks in dom0's tree that
 * points back at the VM, until fn returns non-zero (returned) or all are done.
 */
static int each_disk(struct xs_handle *xs, const struct vm *vm,
		     int (*fn)(struct xs_handle *xs, const char *backend, void *ctx), void *ctx)
{
	unsigned int n, i;
	char **devids, *backend;
	size_t k;
	int r = 0;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && !r; k++) {
		devids = xsu_list(xs, &n, "/local/domain/0/backend/%s/%u", kinds[k], vm->domid);
		if (!devids) {
			if (errno != ENOENT && errno != EACCES)
				r = -errno;
			continue;
		}
		for (i = 0; i < n && !r; i++) {
			if (asprintf(&backend, "/local/domain/0/backend/%s/%u/%s", kinds[k],
				     vm->domid, devids[i]) < 0) {
				r = -ENOMEM;
				break;
			}
			if (points_back(xs, vm, backend, devids[i]) && is_disk(xs, backend))
				r = fn(xs, backend, ctx);
			free(backend);
		}
		free(devids);
	}
	return r;
}

/* A disk with a VDI uuid, once per VDI (the same VDI on two VBDs is one disk). */
static int disk_add(struct xs_handle *xs, const char *backend, void *ctx)
{
	struct disks *disks = ctx;
	struct vdi v = { NULL }, *more;

	v.uuid = xsu_read(xs, "%s/sm-data/vdi-uuid", backend);
	if (!v.uuid || !xsu_is_uuid(v.uuid) || disks_find(disks, v.uuid)) {
		free(v.uuid);
		return 0;
	}
	v.backend = strdup(backend);
	v.params = xsu_read(xs, "%s/params", backend);
	v.dev = xsu_read(xs, "%s/dev", backend);
	more = realloc(disks->vdi, (disks->n + 1) * sizeof(*more));
	if (!v.backend || !more) {
		free(v.uuid);
		free(v.params);
		free(v.dev);
		free(v.backend);
		free(more);
		return -ENOMEM;
	}
	disks->vdi = more;
	disks->vdi[disks->n++] = v;
	return 0;
}

int disks_read(struct xs_handle *xs, const struct vm *vm, struct disks *disks)
{
	int r;

	disks->vdi = NULL;
	disks->n = 0;
	r = each_disk(xs, vm, disk_add, disks);
	if (r)
		disks_free(disks);
	return r;
}

/* 64-bit FNV-1a of s, from a given basis: two bases make 128 bits. */
static unsigned long long fnv1a(const char *s, unsigned long long hash)
{
	for (; *s; s++) {
		hash ^= (unsigned char)*s;
		hash *= 0x100000001b3ULL;
	}
	return hash;
}

/*
 * A name-based uuid (RFC 9562 version 8) of the VM and what the disk's
 * backend serves: the same for the same disk of the same VM, at every boot,
 * on every host that sees it under the same name.
 */
static void name_uuid(const char *vm_uuid, const char *params, char out[37])
{
	char name[512];
	unsigned long long hi, lo;

	snprintf(name, sizeof(name), "xquiesce-vdi:%s:%s", vm_uuid, params);
	hi = fnv1a(name, 0xcbf29ce484222325ULL);
	lo = fnv1a(name, 0x84222325cbf29ce4ULL);
	hi = (hi & ~0xf000ULL) | 0x8000ULL;			/* version 8 */
	lo = (lo & ~(3ULL << 62)) | (2ULL << 62);		/* variant 10 */
	snprintf(out, 37, "%08llx-%04llx-%04llx-%04llx-%012llx", hi >> 32,
		 (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

/* A disk without sm-data/vdi-uuid (xl writes none) gets one. */
static int disk_name(struct xs_handle *xs, const char *backend, void *ctx)
{
	const struct vm *vm = ctx;
	char *uuid, *params, named[37];

	uuid = xsu_read(xs, "%s/sm-data/vdi-uuid", backend);
	free(uuid);
	if (uuid)
		return 0;	/* XAPI's, or ours from before: never replaced */
	params = xsu_read(xs, "%s/params", backend);
	if (!params || !*params) {
		free(params);
		return 0;	/* nothing that names the disk */
	}
	name_uuid(vm->uuid, params, named);
	free(params);
	return xsu_write(xs, named, "%s/sm-data/vdi-uuid", backend);
}

int disks_name_vdis(struct xs_handle *xs, const struct vm *vm)
{
	return each_disk(xs, vm, disk_name, (void *)vm);
}

const struct vdi *disks_find(const struct disks *disks, const char *uuid)
{
	unsigned int i;

	for (i = 0; i < disks->n; i++)
		if (!strcmp(disks->vdi[i].uuid, uuid))
			return &disks->vdi[i];
	return NULL;
}

bool vdi_listed(const struct vdi *vdi, char *const uuids[], unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(uuids[i], vdi->uuid))
			return true;
	return false;
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
