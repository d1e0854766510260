// SPDX-License-Identifier: GPL-2.0
/*
 * Small conveniences over libxenstore: formatted paths and 0/-errno
 * results. Each call is its own implicit transaction, as in XAPI's code.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsutil.h"

static char *vformat(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

/* Declares PATH formatted from the variable arguments after FMT. */
#define FORMAT_PATH(path, fmt)			\
	char *path;				\
	do {					\
		va_list ap_;			\
		va_start(ap_, fmt);		\
		path = vformat(fmt, ap_);	\
		va_end(ap_);			\
	} while (0)

/* The value, NUL-terminated and malloc'ed, or NULL with errno set. */
char *xsu_read(struct xs_handle *xs, const char *fmt, ...)
{
	unsigned int len;
	char *value = NULL;
	int saved = ENOMEM;

	FORMAT_PATH(path, fmt);
	if (path) {
		value = xs_read(xs, XBT_NULL, path, &len);
		saved = errno;
		free(path);
	}
	errno = saved;
	return value;
}

int xsu_write(struct xs_handle *xs, const char *value, const char *fmt, ...)
{
	int r = 0;

	FORMAT_PATH(path, fmt);
	if (!path)
		return -ENOMEM;
	if (!xs_write(xs, XBT_NULL, path, value, strlen(value)))
		r = -errno;
	free(path);
	return r;
}

/* Removes a subtree; a node that is already gone is not an error. */
int xsu_rm(struct xs_handle *xs, const char *fmt, ...)
{
	int r = 0;

	FORMAT_PATH(path, fmt);
	if (!path)
		return -ENOMEM;
	if (!xs_rm(xs, XBT_NULL, path) && errno != ENOENT)
		r = -errno;
	free(path);
	return r;
}

/* The children of a node (one malloc'ed block), or NULL with errno set. */
char **xsu_list(struct xs_handle *xs, unsigned int *n, const char *fmt, ...)
{
	char **list = NULL;
	int saved = ENOMEM;

	FORMAT_PATH(path, fmt);
	if (path) {
		list = xs_directory(xs, XBT_NULL, path, n);
		saved = errno;
		free(path);
	}
	errno = saved;
	return list;
}

/*
 * Makes a node owned by a guest with no access for others, which is how
 * xenopsd creates the nodes a guest writes to. dom0 keeps full access, being
 * privileged.
 */
int xsu_own(struct xs_handle *xs, unsigned int domid, const char *path)
{
	struct xs_permissions perm = { .id = domid, .perms = XS_PERM_NONE };

	if (!xs_set_permissions(xs, XBT_NULL, path, &perm, 1))
		return -errno;
	return 0;
}

int xsu_owner(struct xs_handle *xs, const char *path, unsigned int *domid)
{
	struct xs_permissions *perms;
	unsigned int n;

	perms = xs_get_permissions(xs, XBT_NULL, path, &n);
	if (!perms)
		return -errno;
	*domid = n ? perms[0].id : 0;
	free(perms);
	return 0;
}

/* Lowercase 8-4-4-4-12, the form snapwatchd accepts. */
bool xsu_is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i]; i++) {
		if (shape[i] == '-' ? s[i] != '-' :
		    !(isdigit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}
