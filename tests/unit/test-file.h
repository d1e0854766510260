/* SPDX-License-Identifier: GPL-2.0 */
/* For tests that set up files with the shell and check what the code under test wrote. */
#ifndef _XQ_TEST_FILE_H
#define _XQ_TEST_FILE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A shell command line, printf-formatted: system()'s status. */
static inline int run_shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int run_shell(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

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
