/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_PREPARE_H
#define XQUIESCE_HOST_PREPARE_H

#include "vm.h"

/*
 * What xenopsd gives every guest and libxl does not: guest-owned control/
 * and data/, the guest-owned mailbox /vss/<uuid> and the vss key naming it.
 * Idempotent: 1 when it had to change something, 0 when all was there,
 * -errno with *failed_path naming the node (static storage).
 */
int vm_prepare(struct xs_handle *xs, const struct vm *vm, const char **failed_path);
/* Removes /vss/<uuid> and the vss key (for when the domain goes away). */
int vm_release(struct xs_handle *xs, const struct vm *vm);

#endif
