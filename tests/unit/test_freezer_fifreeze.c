// SPDX-License-Identifier: GPL-2.0
/*
 * The FIFREEZE fallback on real filesystems: an ext4 image on a loop
 * device (standing in for a Xen disk) and a second ext4 image stored in
 * it on another loop device, so that the stacking order is exercised.
 * Needs root and loop devices; without them every test is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmocka-compat.h"
#include "config.h"
#include "discovery.h"
#include "freezer.h"
#include "log.h"
#include "test-file.h"

struct scratch {
	bool ready;
	char dir[64];
	char outer[96], inner[96];	/* mount points */
	char outer_loop[32], inner_loop[32];
	const char *disks[2];
	struct discovery_roots roots;
};

static struct scratch sc;

/* losetup --show prints /dev/loopN; keep "loopN". */
static int attach_loop(const char *image, char *name, size_t len)
{
	char cmd[256], out[64];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "losetup -f --show '%s' 2>/dev/null", image);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(out, sizeof(out), p) || strncmp(out, "/dev/", 5)) {
		pclose(p);
		return -1;
	}
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
	snprintf(name, len, "%s", out + 5);
	return 0;
}

static int make_fs(const char *image, const char *size, char *loop, size_t len,
		   const char *mountpoint)
{
	if (run_shell("truncate -s %s '%s' && mkfs.ext4 -q -F '%s' >/dev/null 2>&1", size, image, image))
		return -1;
	if (attach_loop(image, loop, len) < 0)
		return -1;
	return run_shell("mkdir -p '%s' && mount /dev/%s '%s'", mountpoint, loop, mountpoint);
}

static int group_setup(void **state)
{
	char image[128];

	(void)state;
	if (geteuid() != 0)
		return 0;
	strcpy(sc.dir, "/tmp/xq-test-fifreeze-XXXXXX");
	if (!mkdtemp(sc.dir))
		return -1;
	snprintf(sc.outer, sizeof(sc.outer), "%s/outer", sc.dir);
	snprintf(sc.inner, sizeof(sc.inner), "%s/outer/mnt", sc.dir);
	snprintf(image, sizeof(image), "%s/outer.img", sc.dir);
	if (make_fs(image, "64M", sc.outer_loop, sizeof(sc.outer_loop), sc.outer))
		return 0;
	snprintf(image, sizeof(image), "%s/inner.img", sc.outer);
	if (make_fs(image, "16M", sc.inner_loop, sizeof(sc.inner_loop), sc.inner))
		return 0;
	/* Only the outer loop device plays a Xen disk; the inner one is found
	 * through its backing file. */
	sc.disks[0] = sc.outer_loop;
	sc.roots.test_as_xen_disks = sc.disks;
	sc.ready = true;
	return 0;
}

/*
 * Thaws the lower filesystem first: the upper one's thaw writes through
 * it. The loop device lets go of its file a little after losetup -d, and
 * the workers of an abandoned freeze of their descriptors a little after
 * it was undone, so unmounting may take a few tries (up to 10 s after a
 * failed test, so that nothing is left mounted on the shared machine).
 */
#define UMOUNT_RETRY "for i in $(seq 50); do umount '%s' 2>/dev/null && break; sleep 0.2; done"

static int group_teardown(void **state)
{
	(void)state;
	if (sc.outer_loop[0])
		run_shell("fsfreeze -u '%s' 2>/dev/null", sc.outer);
	if (sc.inner_loop[0])
		run_shell("fsfreeze -u '%s' 2>/dev/null; " UMOUNT_RETRY "; losetup -d /dev/%s",
		    sc.inner, sc.inner, sc.inner_loop);
	if (sc.outer_loop[0])
		run_shell(UMOUNT_RETRY "; losetup -d /dev/%s", sc.outer, sc.outer_loop);
	if (sc.dir[0])
		run_shell("mountpoint -q '%s' || rm -rf '%s'", sc.outer, sc.dir);
	return 0;
}

static int setup(void **state)
{
	struct discovery *d;

	if (!sc.ready) {
		*state = NULL;
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d || discovery_scan(d, &sc.roots, NULL) < 0)
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	if (*state) {
		discovery_free(*state);
		free(*state);
	}
	return 0;
}

/* A child that creates a file in dir and, with sync, fsyncs it. */
static pid_t start_writer_sync(const char *dir, bool sync)
{
	char path[160], block[4096] = { 'x' };
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	snprintf(path, sizeof(path), "%s/written-%d", dir, getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	_exit(fd < 0 || write(fd, block, sizeof(block)) != sizeof(block) || (sync && fsync(fd) < 0));
}

static pid_t start_writer(const char *dir)
{
	return start_writer_sync(dir, true);
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };

	nanosleep(&ts, NULL);
}

static bool still_running(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* Whether pid exits with 0 within ms. */
static bool finishes(pid_t pid, long ms)
{
	int status;

	for (; ms > 0; ms -= 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		pause_ms(10);
	}
	kill(pid, SIGKILL);
	return false;
}

static const struct frozen_fs *frozen_named(const struct freeze_result *r, const char *id)
{
	unsigned int i;

	for (i = 0; i < r->nfs; i++)
		if (!strcmp(r->fs[i].id, id))
			return &r->fs[i];
	return NULL;
}

static void test_discovery_sees_the_stack(void **state)
{
	const struct discovery *d = *state;

	if (!d)
		skip();
	assert_int_equal(d->ndisks, 1);
	assert_int_equal(d->nfs, 2);
}

static void test_freeze_blocks_writes_until_thaw(void **state)
{
	const struct freezer_options opt = {
		.backend = FREEZER_FIFREEZE, .timeout_ms = 5000, .presync = true,
	};
	const struct frozen_fs *outer, *inner;
	const struct discovery *d = *state;
	struct freezer f;
	pid_t w1, w2;

	if (!d)
		skip();
	freezer_init(&f);
	assert_int_equal(freezer_freeze(&f, d, &opt), 0);
	assert_int_equal(f.result.method, FREEZE_PER_MOUNT);
	assert_string_equal(freezer_method_name(f.result.method), "per-mount");
	assert_int_equal(f.result.nfs, 2);
	assert_true(log_held());
	outer = frozen_named(&f.result, sc.outer_loop);
	inner = frozen_named(&f.result, sc.inner_loop);
	assert_non_null(outer);
	assert_non_null(inner);
	assert_string_equal(outer->fstype, "ext4");
	/* The filesystem on the loop device froze first, at the lower level. */
	assert_int_equal(inner->level, 0);
	assert_int_equal(outer->level, 1);
	assert_true(inner->freeze_ns < outer->freeze_ns);

	w1 = start_writer(sc.outer);
	w2 = start_writer(sc.inner);
	pause_ms(300);
	assert_true(still_running(w1));
	assert_true(still_running(w2));

	assert_int_equal(freezer_thaw(&f), 0);
	assert_false(log_held());
	assert_true(finishes(w1, 5000));
	assert_true(finishes(w2, 5000));
	assert_true(freezer_window_ms(&f.result) >= 300);
	assert_int_equal(f.result.thaw_error, 0);
	/* Thawing twice is refused, not repeated. */
	assert_int_equal(freezer_thaw(&f), -EALREADY);
}

static void test_watchdog_thaws_at_the_deadline(void **state)
{
	const struct freezer_options opt = { .backend = FREEZER_FIFREEZE, .timeout_ms = 1000 };
	const struct discovery *d = *state;
	struct freezer f;
	pid_t w;

	if (!d)
		skip();
	freezer_init(&f);
	assert_int_equal(freezer_freeze(&f, d, &opt), 0);
	w = start_writer(sc.inner);
	/* Released by the watchdog, without any call from the agent. */
	assert_true(finishes(w, 5000));
	assert_false(log_held());
	assert_int_equal(freezer_thaw(&f), -ETIMEDOUT);
	assert_string_equal(f.result.message, "the agent's FIFREEZE watchdog thawed at the deadline");
	assert_int_equal(f.result.thaw_error, -ETIMEDOUT);
}

/*
 * A freeze someone else holds is refused, not adopted (it could be thawed
 * under the snapshot) and not thawed. Here it is on the filesystem that
 * freezes first; under the loop device, see the next test.
 */
static void test_foreign_freeze_is_refused(void **state)
{
	const struct freezer_options opt = { .backend = FREEZER_FIFREEZE, .timeout_ms = 5000 };
	const struct discovery *d = *state;
	struct freezer f;
	char want[256];
	int fd, unused = 0;
	pid_t w;

	if (!d)
		skip();
	fd = open(sc.inner, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, FIFREEZE, &unused), 0);

	freezer_init(&f);
	assert_int_equal(freezer_freeze(&f, d, &opt), -EBUSY);
	assert_int_equal(f.result.method, FREEZE_NONE);
	snprintf(want, sizeof(want), "already frozen by someone else: %s (ext4 on /dev/%s",
		 sc.inner, sc.inner_loop);
	assert_non_null(strstr(f.result.message, want));
	assert_false(log_held());
	/* The outer filesystem was never frozen... */
	w = start_writer(sc.outer);
	assert_true(finishes(w, 5000));
	/* ...and the foreign freeze was left alone: FITHAW still has work. */
	assert_int_equal(ioctl(fd, FITHAW, &unused), 0);
	close(fd);
}

/*
 * The other way round, the hazard: the filesystem holding the loop
 * device's file is frozen by someone else, so the FIFREEZE of the one on
 * the loop device cannot finish. The freezer must give up in time, name
 * it, and undo that freeze whenever it completes.
 */
static void test_hung_freeze_is_abandoned_and_undone(void **state)
{
	const struct freezer_options opt = { .backend = FREEZER_FIFREEZE, .timeout_ms = 500 };
	const struct discovery *d = *state;
	struct timespec a, b;
	struct freezer f;
	char want[256];
	int fd, unused = 0;
	long ms;
	pid_t w;

	if (!d)
		skip();
	fd = open(sc.outer, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, FIFREEZE, &unused), 0);

	freezer_init(&f);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(freezer_freeze(&f, d, &opt), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 500);
	assert_true(ms < 3000);
	assert_int_equal(f.result.method, FREEZE_NONE);
	snprintf(want, sizeof(want), "FIFREEZE did not return (is a filesystem under it frozen "
		 "by someone else?) for %s (ext4 on /dev/%s", sc.inner, sc.inner_loop);
	assert_non_null(strstr(f.result.message, want));
	assert_false(log_held());

	/* The foreign thaw lets the hung FIFREEZE finish; it is undone at once. */
	assert_int_equal(ioctl(fd, FITHAW, &unused), 0);
	close(fd);
	w = start_writer(sc.inner);
	assert_true(finishes(w, 5000));
}

static void test_thaw_by_someone_else_is_reported(void **state)
{
	const struct freezer_options opt = { .backend = FREEZER_FIFREEZE, .timeout_ms = 5000 };
	const struct discovery *d = *state;
	struct freezer f;
	int fd, unused = 0;

	if (!d)
		skip();
	freezer_init(&f);
	assert_int_equal(freezer_freeze(&f, d, &opt), 0);
	/* The lower one: thawing the upper one would write through it. */
	fd = open(sc.outer, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, FITHAW, &unused), 0);
	close(fd);
	assert_int_equal(freezer_thaw(&f), -ECANCELED);
	assert_string_equal(f.result.message,
			    "a filesystem was thawed by someone else during the freeze");
}

static void test_exclusion_is_respected(void **state)
{
	const struct freezer_options opt = { .backend = FREEZER_FIFREEZE, .timeout_ms = 5000 };
	struct config_parser p;
	struct xq_config cfg;
	struct discovery d;
	struct freezer f;
	char line[160];
	pid_t w;

	if (!*state)
		skip();
	assert_int_equal(config_init(&cfg), 0);
	config_parser_init(&p, &cfg);
	snprintf(line, sizeof(line), "exclude_mount = %s", sc.inner);
	assert_int_equal(config_parse_line(&p, line), 0);
	assert_int_equal(discovery_scan(&d, &sc.roots, &cfg), 0);

	freezer_init(&f);
	assert_int_equal(freezer_freeze(&f, &d, &opt), 0);
	assert_int_equal(f.result.nfs, 1);
	assert_non_null(frozen_named(&f.result, sc.outer_loop));
	/* The excluded filesystem stays writable as long as its data need not
	 * reach the frozen one: a write without fsync. */
	w = start_writer_sync(sc.inner, false);
	assert_true(finishes(w, 5000));
	assert_int_equal(freezer_thaw(&f), 0);
	discovery_free(&d);
	config_free(&cfg);
}

static void test_auto_backend_uses_what_is_there(void **state)
{
	const struct freezer_options opt = { .backend = FREEZER_AUTO, .timeout_ms = 5000 };
	const struct discovery *d = *state;
	struct freezer f;

	if (!d)
		skip();
	freezer_init(&f);
	assert_int_equal(freezer_freeze(&f, d, &opt), 0);
	/* The module, if it could be loaded, otherwise the fallback. */
	assert_int_equal(f.result.method, access("/dev/xquiesce", F_OK) == 0 ? FREEZE_KERNEL
									    : FREEZE_PER_MOUNT);
	assert_int_equal(f.result.nfs, 2);
	assert_int_equal(freezer_thaw(&f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_discovery_sees_the_stack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_blocks_writes_until_thaw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_thaws_at_the_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_freeze_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hung_freeze_is_abandoned_and_undone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_thaw_by_someone_else_is_reported, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exclusion_is_respected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_backend_uses_what_is_there, setup, teardown),
	};

	return cmocka_run_group_tests_name("freezer_fifreeze", tests, group_setup, group_teardown);
}
