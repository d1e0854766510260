// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tap.h"

static FILE *results;

void tap_open(const char *path)
{
	struct termios tio;
	int fd;

	fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xq-vmtest: cannot open results channel %s: %s\n", path,
			strerror(errno));
		exit(2);
	}
	/* A serial line would otherwise turn "\n" into "\r\n". */
	if (tcgetattr(fd, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(fd, TCSANOW, &tio);
	}
	results = fdopen(fd, "w");
	setvbuf(results, NULL, _IOLBF, 0);
}

static void emit(const char *line)
{
	fprintf(results, "%s\n", line);
	fflush(results);
	printf("%s\n", line);
	fflush(stdout);
}

void tap_plan(int count)
{
	char line[32];

	snprintf(line, sizeof(line), "1..%d", count);
	emit(line);
}

void tap_diag(const char *fmt, ...)
{
	char line[1024] = "# ";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + 2, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	emit(line);
}

void tap_result(bool ok, const char *name)
{
	char line[256];

	snprintf(line, sizeof(line), "%s - %s", ok ? "ok" : "not ok", name);
	emit(line);
}

bool check_at(struct test_ctx *t, bool cond, const char *file, int line,
	      const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (cond)
		return true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tap_diag("  %s: %s (%s:%d)", t->name, msg, file, line);
	t->failures++;
	return false;
}
