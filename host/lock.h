/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_LOCK_H
#define XQUIESCE_HOST_LOCK_H

/* A descriptor holding the VM's lock, or -EBUSY / -errno. */
int vm_lock(const char *uuid, char **lock_path);

#endif
