/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQ_VMTEST_TAP_H
#define XQ_VMTEST_TAP_H

#include <stdbool.h>

/*
 * TAP output. Result lines go to the results channel (a serial port the
 * host reads, never the console); diagnostics go there too, as "# ..."
 * lines, and are echoed on stdout for the console log.
 */
void tap_open(const char *path);
void tap_plan(int count);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_result(bool ok, const char *name);

/* Checks inside one test: a failure is noted, the test goes on. */
struct test_ctx {
	const char *name;
	int failures;
};

bool check_at(struct test_ctx *t, bool cond, const char *file, int line,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define CHECK(t, cond, ...) check_at((t), (cond), __FILE__, __LINE__, __VA_ARGS__)

#endif
