/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_VM_H
#define XQUIESCE_HOST_VM_H

#include <xenstore.h>

struct vm {
	unsigned int domid;
	char uuid[37];
	char *name;
	char *dom_path;		/* /local/domain/<domid> */
};

/* VM by domid, uuid or name. -ENOENT: no such VM; -EEXIST: name ambiguous. */
int vm_find(struct xs_handle *xs, const char *spec, struct vm *vm);
void vm_free(struct vm *vm);

#endif
