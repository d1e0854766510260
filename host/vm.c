// SPDX-License-Identifier: GPL-2.0
/*
 * Finding a VM among the running domains, by what xenstore says about each:
 * /local/domain/<domid>/vm is /vm/<uuid> (written by xenopsd and by libxl)
 * and /local/domain/<domid>/name is its name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"
#include "xsutil.h"

static int parse_domid(const char *s, unsigned int *domid)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v >= 0x7ff0)	/* DOMID_FIRST_RESERVED */
		return -ERANGE;
	*domid = v;
	return 0;
}

static int vm_fill(struct xs_handle *xs, unsigned int domid, struct vm *vm)
{
	char *vm_path;

	vm_path = xsu_read(xs, "/local/domain/%u/vm", domid);
	if (!vm_path)
		return -errno;
	if (strncmp(vm_path, "/vm/", 4) || !xsu_is_uuid(vm_path + 4)) {
		free(vm_path);
		return -EBADMSG;
	}
	vm->domid = domid;
	memcpy(vm->uuid, vm_path + 4, sizeof(vm->uuid));
	free(vm_path);
	vm->name = xsu_read(xs, "/local/domain/%u/name", domid);
	if (asprintf(&vm->dom_path, "/local/domain/%u", domid) < 0) {
		free(vm->name);
		return -ENOMEM;
	}
	return 0;
}

int vm_find(struct xs_handle *xs, const char *spec, struct vm *vm)
{
	unsigned int domid, n, i, found = 0, found_domid = 0;
	char **domains, *value;
	const char *key;
	int r;

	memset(vm, 0, sizeof(*vm));
	if (parse_domid(spec, &domid) == 0)
		return domid == 0 ? -EPERM : vm_fill(xs, domid, vm);

	key = xsu_is_uuid(spec) ? "vm" : "name";
	domains = xsu_list(xs, &n, "/local/domain");
	if (!domains)
		return -errno;
	for (i = 0; i < n; i++) {
		if (parse_domid(domains[i], &domid) || domid == 0)
			continue;
		value = xsu_read(xs, "/local/domain/%u/%s", domid, key);
		if (!value)
			continue;
		if (!strcmp(key, "vm") ? !strncmp(value, "/vm/", 4) && !strcmp(value + 4, spec) :
		    !strcmp(value, spec)) {
			found++;
			found_domid = domid;
		}
		free(value);
	}
	free(domains);
	if (!found)
		return -ENOENT;
	if (found > 1)
		return -EEXIST;
	r = vm_fill(xs, found_domid, vm);
	return r;
}

void vm_free(struct vm *vm)
{
	free(vm->name);
	free(vm->dom_path);
	memset(vm, 0, sizeof(*vm));
}
