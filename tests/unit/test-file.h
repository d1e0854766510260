/* SPDX-License-Identifier: GPL-2.0 */
/* For tests that check what the code under test wrote to a file. */
#ifndef _XQ_TEST_FILE_H
#define _XQ_TEST_FILE_H

#include <stdio.h>

/* The whole of path (empty if it does not exist), cut to fit buf. */
static inline const char *file_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

#endif /* _XQ_TEST_FILE_H */
