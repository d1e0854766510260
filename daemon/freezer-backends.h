/* SPDX-License-Identifier: GPL-2.0 */
/* The two freezer backends; only freezer.c calls them. */
#ifndef _XQ_FREEZER_BACKENDS_H
#define _XQ_FREEZER_BACKENDS_H

#include "freezer.h"

/* Opens /dev/xquiesce, loading the module first if needed: fd or -errno. */
int module_open(void);
int module_freeze(struct freezer *f, int fd, const struct discovery *d,
		  const struct freezer_options *opt);
int module_thaw(struct freezer *f);

int fifreeze_freeze(struct freezer *f, const struct discovery *d,
		    const struct freezer_options *opt);
int fifreeze_thaw(struct freezer *f);

/* Copies a possibly unterminated name of at most srclen bytes, cutting it to fit. */
void freezer_copy_name(char *dst, size_t len, const char *src, size_t srclen);
/* f->result.message about d's filesystem major:minor, with the reason. */
void freezer_fail_message(struct freezer *f, const struct discovery *d, unsigned int major,
			  unsigned int minor, int err, const char *what);

#endif /* _XQ_FREEZER_BACKENDS_H */
