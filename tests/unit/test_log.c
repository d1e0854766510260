// SPDX-License-Identifier: GPL-2.0
/*
 * The log on a real file in place of stderr: plain lines, sd-daemon
 * priority prefixes when stderr is the journal's stream, and the
 * freeze-window buffer that writes nothing until it is released, then
 * says how many lines it had to drop.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmocka-compat.h"
#include "log.h"
#include "test-file.h"

struct t {
	char path[64];
	int saved_stderr;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	int fd;

	if (!t)
		return -1;
	strcpy(t->path, "/tmp/xq-test-log-XXXXXX");
	fd = mkstemp(t->path);
	t->saved_stderr = dup(STDERR_FILENO);
	if (fd < 0 || t->saved_stderr < 0 || dup2(fd, STDERR_FILENO) < 0)
		return -1;
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_setup(LOG_INFO);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	dup2(t->saved_stderr, STDERR_FILENO);
	close(t->saved_stderr);
	unlink(t->path);
	free(t);
	return 0;
}

/* Everything written so far. */
static const char *written(struct t *t)
{
	static char buf[1 << 17];

	return file_text(t->path, buf, sizeof(buf));
}

static void test_plain_lines_and_level(void **state)
{
	struct t *t = *state;

	ERR("disk %s failed", "xvdb");
	WRN("slow");
	INF("ready");
	DBG("not shown at info level");
	assert_string_equal(written(t), "error: disk xvdb failed\nwarning: slow\nready\n");
}

static void test_journal_prefixes(void **state)
{
	struct t *t = *state;
	char env[64];
	struct stat st;

	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_setup(LOG_DEBUG);
	ERR("e");
	INF("i");
	DBG("d");
	assert_string_equal(written(t), "<3>e\n<6>i\n<7>d\n");

	/* Another stream (say, a terminal the daemon was moved to): no prefixes. */
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_setup(LOG_INFO);
	INF("plain");
	assert_string_equal(written(t), "<3>e\n<6>i\n<7>d\nplain\n");
}

static void test_held_lines_wait_for_release(void **state)
{
	struct t *t = *state;
	const char *out;

	INF("before");
	log_hold();
	assert_true(log_held());
	ERR("frozen line 1");
	INF("frozen line 2");
	assert_string_equal(written(t), "before\n");
	log_release();
	assert_false(log_held());
	out = written(t);
	assert_non_null(strstr(out, "before\nerror: [held +"));
	assert_non_null(strstr(out, " ms] frozen line 1\n[held +"));
	assert_non_null(strstr(out, " ms] frozen line 2\n"));
	assert_null(strstr(out, "dropped"));
	/* Released: lines go straight out again. */
	INF("after");
	assert_non_null(strstr(written(t), "frozen line 2\nafter\n"));
}

static void test_full_buffer_counts_dropped_lines(void **state)
{
	struct t *t = *state;
	const char *out;
	int i;

	log_hold();
	for (i = 0; i < 600; i++)
		INF("line %d", i);
	assert_string_equal(written(t), "");
	log_release();
	out = written(t);
	/* The first lines of the window are kept, the last ones counted. */
	assert_non_null(strstr(out, " ms] line 0\n"));
	assert_non_null(strstr(out, " ms] line 511\n"));
	assert_null(strstr(out, " ms] line 512\n"));
	assert_non_null(strstr(out, "warning: 88 log lines dropped while frozen (buffer holds 512)\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_lines_and_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_prefixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_lines_wait_for_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_buffer_counts_dropped_lines, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
