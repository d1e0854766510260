// SPDX-License-Identifier: GPL-2.0
/*
 * The per-domain xenstore set-up that quiesced snapshots depend on. On
 * XenServer and XCP-ng up to 8.0 xenopsd did this at domain build; on later
 * versions and under xl nobody does, and the guest agent then gets EACCES
 * when it advertises control/feature-quiesce.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disks.h"
#include "prepare.h"
#include "xsutil.h"
#include "xquiesce-host.h"

static char failed[256];

static int ensure_owned(struct xs_handle *xs, unsigned int domid, const char *path)
{
	unsigned int owner;
	int r;

	snprintf(failed, sizeof(failed), "%s", path);
	if (!xs_mkdir(xs, XBT_NULL, path))
		return -errno;
	r = xsu_owner(xs, path, &owner);
	if (r || owner == domid)
		return r;
	r = xsu_own(xs, domid, path);
	return r ? r : 1;
}

int vm_prepare(struct xs_handle *xs, const struct vm *vm, const char **failed_path)
{
	static const char *const guest_dirs[] = { "control", "data" };
	char path[128], *vss;
	int r, changed = 0;
	size_t i;

	*failed_path = failed;
	for (i = 0; i < sizeof(guest_dirs) / sizeof(guest_dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", vm->dom_path, guest_dirs[i]);
		r = ensure_owned(xs, vm->domid, path);
		if (r < 0)
			return r;
		changed |= r;
	}
	snprintf(path, sizeof(path), "/vss/%s", vm->uuid);
	r = ensure_owned(xs, vm->domid, path);
	if (r < 0)
		return r;
	changed |= r;
	vss = xsu_read(xs, "%s/vss", vm->dom_path);
	if (!vss || strcmp(vss, path)) {
		r = xsu_write(xs, path, "%s/vss", vm->dom_path);
		changed = 1;
	}
	free(vss);
	snprintf(failed, sizeof(failed), "%s/vss", vm->dom_path);
	if (r < 0)
		return r;
	snprintf(failed, sizeof(failed), "/local/domain/0/backend/*/%u/*/sm-data/vdi-uuid",
		 vm->domid);
	r = disks_name_vdis(xs, vm);
	return r < 0 ? r : changed;
}

int vm_release(struct xs_handle *xs, const struct vm *vm)
{
	int r;

	r = xsu_rm(xs, "/vss/%s", vm->uuid);
	if (!r)
		r = xsu_rm(xs, "%s/vss", vm->dom_path);
	return r;
}

static int one_vm_command(int argc, char *argv[], const char *usage_text, bool release)
{
	struct xs_handle *xs;
	const char *failed_path;
	struct vm vm;
	int r, code;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return XQ_EXIT_OK;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fputs(usage_text, stderr);
		return XQ_EXIT_USAGE;
	}
	code = open_vm(argv[1], &xs, &vm);
	if (code)
		return code;
	if (release) {
		r = vm_release(xs, &vm);
		if (r)
			fprintf(stderr, "%s: cannot remove /vss/%s: %s\n", program_name, vm.uuid,
				strerror(-r));
	} else {
		r = vm_prepare(xs, &vm, &failed_path);
		if (r < 0)
			fprintf(stderr, "%s: cannot prepare %s for VM %s: %s\n", program_name,
				failed_path, vm.uuid, strerror(-r));
	}
	vm_free(&vm);
	xs_close(xs);
	return r < 0 ? XQ_EXIT_ERROR : XQ_EXIT_OK;
}

int prepare_main(int argc, char *argv[])
{
	return one_vm_command(argc, argv,
		"Usage: xquiesce-host prepare VM\n\n"
		"Gives a running VM what xenopsd gives every guest on XAPI hosts and xl does\n"
		"not: its control/ and data/ directories owned by the guest (so that the agent\n"
		"can advertise control/feature-quiesce), the guest-owned mailbox /vss/<uuid>,\n"
		"the key /local/domain/<domid>/vss naming it, and each disk without one a\n"
		"stable sm-data/vdi-uuid (named from the VM and the disk's params), which\n"
		"the agent needs to list it. Run it after 'xl create'\n"
		"(for instance 'xl create -p', prepare, 'xl unpause'). Idempotent; 'snapshot'\n"
		"also does it.\n", false);
}

int release_main(int argc, char *argv[])
{
	return one_vm_command(argc, argv,
		"Usage: xquiesce-host release VM\n\n"
		"Removes /vss/<uuid> and the vss key that 'prepare' created. /vss lives\n"
		"outside the domain's directory, so destroying the domain leaves it behind.\n",
		true);
}
