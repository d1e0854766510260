/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_XSUTIL_H
#define XQUIESCE_HOST_XSUTIL_H

#include <stdbool.h>
#include <xenstore.h>

/* Wrappers returning 0 or -errno, with printf-style paths. */
char *xsu_read(struct xs_handle *xs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int xsu_write(struct xs_handle *xs, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int xsu_rm(struct xs_handle *xs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char **xsu_list(struct xs_handle *xs, unsigned int *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int xsu_own(struct xs_handle *xs, unsigned int domid, const char *path);
int xsu_owner(struct xs_handle *xs, const char *path, unsigned int *domid);
bool xsu_is_uuid(const char *s);

#endif
