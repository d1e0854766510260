// SPDX-License-Identifier: GPL-2.0
/*
 * Hooks run for real: little shell scripts in a temporary directory that
 * append to a trace file, one that fails, one that hangs with a child in
 * its process group, one killed by a signal, one that vanished before it ran.
 * The log is wrapped so that the lines a person reads are checked too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmocka-compat.h"
#include "hooks.h"
#include "test-file.h"

/* The log, captured: every line the code under test logged. */
static char logged[16384];

void __wrap_log_printf(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void __wrap_log_printf(int priority, const char *fmt, ...)
{
	size_t n = strlen(logged);
	va_list ap;

	(void)priority;
	va_start(ap, fmt);
	vsnprintf(logged + n, sizeof(logged) - n - 1, fmt, ap);
	va_end(ap);
	strcat(logged, "\n");
}

struct t {
	char dir[64];
	char trace[96];
	struct hooks h;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->dir, "/tmp/xq-test-hooks-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->trace, sizeof(t->trace), "%s.trace", t->dir);
	logged[0] = '\0';
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	char cmd[256];

	hooks_free(&t->h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s.child'", t->dir, t->trace, t->dir);
	if (system(cmd))
		return -1;
	free(t);
	return 0;
}

/* A hook that logs "NAME PHASE" to the trace, then runs body. */
static void add_hook(struct t *t, const char *name, mode_t mode, const char *body)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"${0##*/} $1\" >>'%s'\n%s\n", t->trace, body);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static const char *trace(struct t *t)
{
	static char buf[1024];

	return file_text(t->trace, buf, sizeof(buf));
}

static void test_load_skips_and_sorts(void **state)
{
	struct t *t = *state;
	char path[160];

	add_hook(t, "20-b", 0755, "");
	add_hook(t, "10-a", 0755, "");
	add_hook(t, "30-not-executable", 0644, "");
	add_hook(t, "40-editor~", 0755, "");
	add_hook(t, "50-x.dpkg-old", 0755, "");
	add_hook(t, "60-pg.example", 0755, "");
	add_hook(t, "#70-emacs#", 0755, "");
	add_hook(t, ".80-hidden", 0755, "");
	snprintf(path, sizeof(path), "%s/90-directory", t->dir);
	assert_int_equal(mkdir(path, 0755), 0);

	assert_int_equal(hooks_load(&t->h, t->dir, 1000), 0);
	assert_int_equal(t->h.n, 2);
	assert_string_equal(t->h.v[0].name, "10-a");
	assert_string_equal(t->h.v[1].name, "20-b");
	assert_non_null(strstr(logged, "/30-not-executable skipped: not executable\n"));
	assert_non_null(strstr(logged, "/40-editor~ skipped: backup or disabled file"));
	assert_non_null(strstr(logged, "/50-x.dpkg-old skipped: backup or disabled file"));
	assert_non_null(strstr(logged, "/60-pg.example skipped: backup or disabled file"));
	assert_non_null(strstr(logged, "/#70-emacs# skipped: backup or disabled file"));
	assert_non_null(strstr(logged, "/90-directory skipped: not a regular file\n"));
	assert_null(strstr(logged, "80-hidden"));
}

static void test_missing_directory_means_no_hooks(void **state)
{
	struct t *t = *state;

	assert_int_equal(hooks_load(&t->h, "/nonexistent/hooks.d", 1000), 0);
	assert_int_equal(t->h.n, 0);
	assert_int_equal(hooks_freeze(&t->h), 0);
	assert_int_equal(hooks_thaw(&t->h), 0);
}

static void test_freeze_in_order_thaw_in_reverse(void **state)
{
	struct t *t = *state;

	add_hook(t, "10-a", 0755, "echo \"a says $1\"; echo 'a on stderr' >&2");
	add_hook(t, "20-b", 0755, "printf 'no newline at the end'");
	add_hook(t, "30-c", 0755, "");
	assert_int_equal(hooks_load(&t->h, t->dir, 5000), 0);

	assert_int_equal(hooks_freeze(&t->h), 0);
	assert_string_equal(trace(t), "10-a freeze\n20-b freeze\n30-c freeze\n");
	assert_int_equal(t->h.v[1].freeze.result, HOOK_OK);
	assert_true(t->h.v[2].froze);
	assert_int_equal(hooks_thaw(&t->h), 0);
	assert_string_equal(trace(t), "10-a freeze\n20-b freeze\n30-c freeze\n"
				      "30-c thaw\n20-b thaw\n10-a thaw\n");
	assert_int_equal(t->h.v[0].after.result, HOOK_OK);
	assert_false(t->h.v[0].froze);

	/* Output goes to the log, a line per line, stdout and stderr alike. */
	assert_non_null(strstr(logged, "hook 10-a freeze: a says freeze\n"));
	assert_non_null(strstr(logged, "hook 10-a freeze: a on stderr\n"));
	assert_non_null(strstr(logged, "hook 20-b thaw: no newline at the end\n"));
	assert_non_null(strstr(logged, "hook 10-a thaw: a says thaw\n"));

	/* Nothing is owed any more: a second thaw runs nothing. */
	assert_int_equal(hooks_thaw(&t->h), 0);
	assert_string_equal(trace(t), "10-a freeze\n20-b freeze\n30-c freeze\n"
				      "30-c thaw\n20-b thaw\n10-a thaw\n");
}

static void test_failing_hook_stops_and_gets_freeze_fail(void **state)
{
	struct t *t = *state;
	char text[64];

	add_hook(t, "10-a", 0755, "");
	add_hook(t, "20-fails", 0755, "[ \"$1\" = freeze ] && { echo 'cannot lock'; exit 3; }; exit 0");
	add_hook(t, "30-never", 0755, "");
	assert_int_equal(hooks_load(&t->h, t->dir, 5000), 0);

	assert_int_equal(hooks_freeze(&t->h), -ECANCELED);
	assert_int_equal(t->h.v[1].freeze.result, HOOK_FAILED);
	assert_int_equal(t->h.v[1].freeze.code, 3);
	assert_string_equal(hook_run_text(&t->h.v[1].freeze, text, sizeof(text)), "exit 3");
	assert_int_equal(t->h.v[2].freeze.result, HOOK_NOT_RUN);
	assert_false(t->h.v[2].froze);
	assert_non_null(strstr(logged, "/20-fails freeze failed: exit 3 ("));

	assert_int_equal(hooks_freeze_fail(&t->h), 0);
	assert_string_equal(trace(t), "10-a freeze\n20-fails freeze\n"
				      "20-fails freeze-fail\n10-a freeze-fail\n");
	assert_int_equal(t->h.v[1].after.result, HOOK_OK);
	assert_int_equal(t->h.v[2].after.result, HOOK_NOT_RUN);
}

/* Whether pid is gone or a zombie within 5 s: killed, whoever reaps it. */
static bool dies(pid_t pid)
{
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	char path[64], stat[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		char *state;

		if (!f)
			return true;
		state = fgets(stat, sizeof(stat), f) ? strrchr(stat, ')') : NULL;
		fclose(f);
		if (state && state[1] == ' ' && state[2] == 'Z')
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

static void test_hanging_hook_is_killed_with_its_group(void **state)
{
	struct t *t = *state;
	char body[320], pidfile[128], text[64];
	struct timespec a, b;
	long ms, child;
	FILE *f;

	snprintf(pidfile, sizeof(pidfile), "%s.child", t->dir);
	snprintf(body, sizeof(body), "sleep 60 & echo $! >'%s'; sleep 60", pidfile);
	add_hook(t, "10-a", 0755, "");
	add_hook(t, "20-hangs", 0755, body);
	assert_int_equal(hooks_load(&t->h, t->dir, 1000), 0);

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(hooks_freeze(&t->h), -ECANCELED);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 1000);
	assert_true(ms < 4000);
	assert_int_equal(t->h.v[1].freeze.result, HOOK_TIMED_OUT);
	assert_string_equal(hook_run_text(&t->h.v[1].freeze, text, sizeof(text)),
			    "timeout after 1000 ms");
	assert_non_null(strstr(logged, "/20-hangs freeze failed: timeout after 1000 ms"));

	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &child), 1);
	fclose(f);
	unlink(pidfile);
	assert_true(dies(child));

	/* The hung hook still owes its freeze-fail, as does the one before. */
	assert_true(t->h.v[1].froze);
	assert_int_equal(hooks_freeze_fail(&t->h), -ECANCELED);
	assert_int_equal(t->h.v[1].after.result, HOOK_TIMED_OUT);
	assert_int_equal(t->h.v[0].after.result, HOOK_OK);
	assert_non_null(strstr(trace(t), "20-hangs freeze-fail\n10-a freeze-fail\n"));
}

static void test_background_child_does_not_hold_the_agent(void **state)
{
	struct t *t = *state;
	struct timespec a, b;
	long ms;

	/* Like a database hook that keeps a locking session until "thaw". */
	add_hook(t, "10-holds", 0755, "[ \"$1\" = freeze ] && sleep 2 & exit 0");
	assert_int_equal(hooks_load(&t->h, t->dir, 5000), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(hooks_freeze(&t->h), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms < 1500);
	assert_int_equal(hooks_thaw(&t->h), 0);
}

static void test_killed_and_vanished_hooks(void **state)
{
	struct t *t = *state;
	char path[160], text[64];

	add_hook(t, "10-killed", 0755, "kill -9 $$");
	add_hook(t, "20-vanishes", 0755, "");
	assert_int_equal(hooks_load(&t->h, t->dir, 5000), 0);
	assert_int_equal(t->h.n, 2);

	assert_int_equal(hooks_freeze(&t->h), -ECANCELED);
	assert_int_equal(t->h.v[0].freeze.result, HOOK_KILLED);
	assert_string_equal(hook_run_text(&t->h.v[0].freeze, text, sizeof(text)), "signal 9");
	assert_int_equal(t->h.v[1].freeze.result, HOOK_NOT_RUN);

	/* Removed between the listing and the run: it cannot be started. */
	hooks_free(&t->h);
	snprintf(path, sizeof(path), "%s/10-killed", t->dir);
	unlink(path);
	assert_int_equal(hooks_load(&t->h, t->dir, 5000), 0);
	snprintf(path, sizeof(path), "%s/20-vanishes", t->dir);
	unlink(path);
	assert_int_equal(hooks_freeze(&t->h), -ECANCELED);
	assert_int_equal(t->h.v[0].freeze.result, HOOK_EXEC_FAILED);
	assert_string_equal(hook_run_text(&t->h.v[0].freeze, text, sizeof(text)),
			    "exec: No such file or directory");
	assert_non_null(strstr(logged, "/20-vanishes freeze failed: exec: No such file or "
				       "directory ("));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_skips_and_sorts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory_means_no_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_in_order_thaw_in_reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_hook_stops_and_gets_freeze_fail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hanging_hook_is_killed_with_its_group, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_background_child_does_not_hold_the_agent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_killed_and_vanished_hooks, setup, teardown),
	};

	return cmocka_run_group_tests_name("hooks", tests, NULL, NULL);
}
