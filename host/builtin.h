/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_BUILTIN_H
#define XQUIESCE_HOST_BUILTIN_H

/*
 * The built-in snapshot, for hosts without XAPI: per disk, an LVM snapshot
 * of a logical volume (thick or thin), or a reflink copy of a file on a
 * filesystem that has them (xfs, btrfs); all or nothing. It prints
 * "VDI-UUID ID" lines, ID being vg/lv-xq-<snapshot uuid> or
 * FILE.xq-<snapshot uuid>. The discard removes those, and nothing else.
 * Both are /bin/sh scripts run as a --command is, with its environment.
 */
extern const char builtin_snapshot[];
extern const char builtin_discard[];

#endif
