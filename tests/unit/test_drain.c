// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty-memory drain on a fake /proc/sys tree (plain files in a
 * temporary directory): what is saved, what is capped, which limit of the
 * pair is put back, the restore after a freeze that failed, and the
 * recovery at start after an agent died mid-drain; the same for the
 * per-disk drain on a fake sysfs. The host's own vm.dirty_* and disks'
 * limits are never touched. A plain file does not zero the other
 * limit of the pair as the kernel does; where that matters the test does
 * it, and it reads only the first line, as the kernel parses it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cmocka-compat.h"
#include "discovery.h"
#include "drain.h"
#include "freezer.h"
#include "test-file.h"

#define CAP	8388608ULL

struct tree {
	char dir[64];
	char sysctl[96], run[96], saved[128], sysfs[96], vmstat[96];
	struct drain_paths paths;
	struct drain dr;
};

static void put(const struct tree *t, const char *name, const char *text)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/vm/%s", t->sysctl, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The first line of vm/name, as the kernel would read the value. */
static const char *limit(const struct tree *t, const char *name, char *buf, size_t len)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/vm/%s", t->sysctl, name);
	file_text(path, buf, len);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static const char *bytes(const struct tree *t)
{
	static char buf[64];

	return limit(t, "dirty_bytes", buf, sizeof(buf));
}

static const char *ratio(const struct tree *t)
{
	static char buf[64];

	return limit(t, "dirty_ratio", buf, sizeof(buf));
}

static bool saved_exists(const struct tree *t)
{
	return access(t->saved, F_OK) == 0;
}

/* What the kernel does for a process that dies: closes its files, drops its lock. */
static void die(struct drain *dr)
{
	unsigned int i;

	close(dr->bytes_fd);
	close(dr->ratio_fd);
	close(dr->saved_fd);
	for (i = 0; i < dr->nbdis; i++) {
		close(dr->bdi[i].ratio_fd);
		close(dr->bdi[i].strict_fd);
	}
	drain_init(dr);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char vm[128];

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/xq-drain.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(t->sysctl, sizeof(t->sysctl), "%s/sys", t->dir);
	snprintf(vm, sizeof(vm), "%s/vm", t->sysctl);
	/* the saved file's directory is made by the drain, as /run/xquiesce */
	snprintf(t->run, sizeof(t->run), "%s/run", t->dir);
	snprintf(t->saved, sizeof(t->saved), "%s/dirty.saved", t->run);
	if (mkdir(t->sysctl, 0755) || mkdir(vm, 0755))
		return -1;
	snprintf(t->sysfs, sizeof(t->sysfs), "%s/sysfs", t->dir);
	snprintf(t->vmstat, sizeof(t->vmstat), "%s/vmstat", t->dir);
	t->paths = (struct drain_paths){ .sysctl = t->sysctl, .saved = t->saved,
					 .sysfs = t->sysfs, .vmstat = t->vmstat };
	drain_init(&t->dr);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	drain_finish(&t->dr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd))
		return -1;
	free(t);
	return 0;
}

static void test_ratio_in_force_is_capped_then_restored(void **state)
{
	struct tree *t = *state;
	struct timespec start, end;
	char text[128];

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "20\n");
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &start), 0);
	assert_int_equal(drain_begin(&t->dr, &t->paths, 30, CAP), 0);
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &end), 0);
	assert_true((end.tv_sec - start.tv_sec) * 1000000000L + end.tv_nsec - start.tv_nsec >=
		    30000000);
	assert_string_equal(bytes(t), "8388608");
	assert_string_equal(file_text(t->saved, text, sizeof(text)),
			    "dirty_bytes=0\ndirty_ratio=20\ncap=8388608\n");
	/* what the kernel did on the write to dirty_bytes */
	put(t, "dirty_ratio", "0\n");

	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(ratio(t), "20");
	/* dirty_bytes cannot be written with 0: the kernel zeroes it on the ratio write */
	assert_string_equal(bytes(t), "8388608");
	assert_true(saved_exists(t));
	drain_finish(&t->dr);
	assert_false(saved_exists(t));
}

static void test_bytes_in_force_is_restored(void **state)
{
	struct tree *t = *state;

	put(t, "dirty_bytes", "268435456\n");
	put(t, "dirty_ratio", "0\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	assert_string_equal(bytes(t), "8388608");
	put(t, "dirty_ratio", "7\n");	/* must not be written back */
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(bytes(t), "268435456");
	assert_string_equal(ratio(t), "7");
	drain_finish(&t->dr);
	assert_false(saved_exists(t));
}

static void test_lower_dirty_bytes_is_not_raised(void **state)
{
	struct tree *t = *state;

	put(t, "dirty_bytes", "4194304\n");
	put(t, "dirty_ratio", "0\n");
	/* a cap of 8 MiB would let writers dirty more than now */
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	assert_string_equal(bytes(t), "4194304");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(bytes(t), "4194304");
}

static void test_both_zero_is_refused_untouched(void **state)
{
	struct tree *t = *state;

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "0\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), -ERANGE);
	assert_non_null(strstr(t->dr.failed, "/vm/dirty_ratio"));
	assert_string_equal(bytes(t), "0");
	assert_false(saved_exists(t));
}

static void test_a_running_drain_stops_a_second(void **state)
{
	struct tree *t = *state;
	struct drain second;

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "20\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	put(t, "dirty_ratio", "0\n");
	/* a second drain now would save the first one's cap as the original */
	assert_int_equal(drain_begin(&second, &t->paths, 1, 1048576), -EBUSY);
	assert_string_equal(second.failed, t->saved);
	assert_string_equal(bytes(t), "8388608");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(ratio(t), "20");
	drain_finish(&t->dr);
	/* once it is over, the next one runs */
	assert_int_equal(drain_begin(&second, &t->paths, 1, 1048576), 0);
	assert_string_equal(bytes(t), "1048576");
	drain_finish(&second);
}

/* A drain killed while capped: the next drain puts the limits back first. */
static void test_next_drain_undoes_a_dead_one(void **state)
{
	struct tree *t = *state;

	/* dirty_bytes in force: no write to the pair's other half to mimic */
	put(t, "dirty_bytes", "268435456\n");
	put(t, "dirty_ratio", "0\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	die(&t->dr);
	assert_string_equal(bytes(t), "8388608");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	assert_true(t->dr.recovered);
	/* it saved the limits from before the dead drain, not its cap */
	assert_string_equal(t->dr.bytes, "268435456");
	assert_string_equal(bytes(t), "8388608");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(bytes(t), "268435456");
	drain_finish(&t->dr);
	assert_false(saved_exists(t));
}

/*
 * "xquiescectl freeze" killed while frozen: its limits were back already,
 * and what the administrator set since stays.
 */
static void test_next_drain_keeps_limits_set_since_a_dead_one(void **state)
{
	struct tree *t = *state;

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "20\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	put(t, "dirty_ratio", "0\n");
	assert_int_equal(drain_restore(&t->dr), 0);
	put(t, "dirty_bytes", "0\n");	/* the kernel, on the ratio write */
	die(&t->dr);
	assert_true(saved_exists(t));
	put(t, "dirty_ratio", "30\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	assert_false(t->dr.recovered);
	assert_string_equal(t->dr.ratio, "30");
	put(t, "dirty_ratio", "0\n");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(ratio(t), "30");
}

static void test_missing_sysctl_is_named(void **state)
{
	struct tree *t = *state;
	char expect[192];

	put(t, "dirty_bytes", "0\n");
	snprintf(expect, sizeof(expect), "%s/vm/dirty_ratio", t->sysctl);
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), -ENOENT);
	assert_string_equal(t->dr.failed, expect);
	assert_false(saved_exists(t));
	assert_int_equal(t->dr.bytes_fd, -1);
}

static void test_garbage_limit_is_refused(void **state)
{
	struct tree *t = *state;

	put(t, "dirty_bytes", "lots\n");
	put(t, "dirty_ratio", "20\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), -EINVAL);
	assert_non_null(strstr(t->dr.failed, "/vm/dirty_bytes"));
	assert_string_equal(bytes(t), "lots");
	assert_false(saved_exists(t));
}

/* Through the dispatcher: the FIFREEZE backend finds nothing to freeze. */
static void test_freeze_failure_restores_and_removes(void **state)
{
	struct tree *t = *state;
	const struct freezer_options opt = {
		.backend = FREEZER_FIFREEZE, .drain_ms = 20, .drain_dirty_bytes = CAP,
		.drain_paths = &t->paths,
	};
	struct discovery d = { 0 };
	struct freezer f;

	put(t, "dirty_bytes", "134217728\n");
	put(t, "dirty_ratio", "0\n");
	freezer_init(&f);
	assert_true(freezer_freeze(&f, &d, &opt) < 0);
	assert_int_equal(f.method, FREEZE_NONE);
	assert_true(freezer_drain_ms(&f.result) >= 20);
	assert_string_equal(bytes(t), "134217728");
	assert_false(saved_exists(t));
	assert_int_equal(f.drain.bytes_fd, -1);
}

static void test_no_drain_when_off(void **state)
{
	struct tree *t = *state;
	const struct freezer_options opt = {
		.backend = FREEZER_FIFREEZE, .drain_ms = 0, .drain_dirty_bytes = CAP,
		.drain_paths = &t->paths,
	};
	struct discovery d = { 0 };
	struct freezer f;

	put(t, "dirty_bytes", "lots\n");	/* would fail a drain, and be logged */
	freezer_init(&f);
	assert_true(freezer_freeze(&f, &d, &opt) < 0);
	assert_int_equal(f.result.drain_ns, 0);
	assert_int_equal(freezer_drain_ms(&f.result), 0);
	assert_false(saved_exists(t));
}

static void save(const struct tree *t, const char *text)
{
	FILE *f;

	mkdir(t->run, 0755);
	f = fopen(t->saved, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_recovery_restores_the_ratio(void **state)
{
	struct tree *t = *state;
	struct drain dr;

	/* the agent died with the cap in force: the kernel had zeroed the ratio */
	put(t, "dirty_bytes", "8388608\n");
	put(t, "dirty_ratio", "0\n");
	save(t, "dirty_bytes=0\ndirty_ratio=20\ncap=8388608\n");
	assert_int_equal(drain_recover(&dr, &t->paths), 1);
	assert_string_equal(dr.bytes, "0");
	assert_string_equal(dr.ratio, "20");
	assert_string_equal(dr.saved, t->saved);
	assert_string_equal(ratio(t), "20");
	assert_false(saved_exists(t));
	/* once done, nothing more to do */
	put(t, "dirty_ratio", "30\n");
	assert_int_equal(drain_recover(&dr, &t->paths), 0);
	assert_string_equal(ratio(t), "30");
}

static void test_recovery_restores_dirty_bytes(void **state)
{
	struct tree *t = *state;
	struct drain dr;

	put(t, "dirty_bytes", "8388608\n");
	put(t, "dirty_ratio", "0\n");
	save(t, "dirty_bytes=536870912\ndirty_ratio=0\ncap=8388608\n");
	assert_int_equal(drain_recover(&dr, &t->paths), 1);
	assert_string_equal(bytes(t), "536870912");
	assert_string_equal(ratio(t), "0");
	assert_false(saved_exists(t));
}

/* What drain_begin() saves is what drain_recover() reads. */
static void test_recovery_after_a_drain_that_never_ended(void **state)
{
	struct tree *t = *state;
	struct drain dr;

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "15\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	put(t, "dirty_ratio", "0\n");
	die(&t->dr);
	assert_true(saved_exists(t));
	assert_int_equal(drain_recover(&dr, &t->paths), 1);
	assert_string_equal(ratio(t), "15");
	assert_false(saved_exists(t));
}

static void test_recovery_keeps_limits_set_since(void **state)
{
	struct tree *t = *state;
	struct drain dr;

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "30\n");
	save(t, "dirty_bytes=0\ndirty_ratio=20\ncap=8388608\n");
	assert_int_equal(drain_recover(&dr, &t->paths), 0);
	assert_string_equal(ratio(t), "30");
	assert_false(saved_exists(t));
}

static void test_recovery_leaves_a_running_drain_alone(void **state)
{
	struct tree *t = *state;
	struct drain dr;

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "20\n");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	put(t, "dirty_ratio", "0\n");
	assert_int_equal(drain_recover(&dr, &t->paths), 0);
	assert_string_equal(bytes(t), "8388608");
	assert_true(saved_exists(t));
}

/* A drain that died between creating the file and filling it. */
static void test_recovery_removes_an_empty_file(void **state)
{
	struct tree *t = *state;
	struct drain dr;

	save(t, "");
	assert_int_equal(drain_recover(&dr, &t->paths), 0);
	assert_false(saved_exists(t));
}

static void test_recovery_refuses_a_damaged_file(void **state)
{
	static const char *const damaged[] = {
		"dirty_bytes=0\n",
		"dirty_bytes=0\ndirty_ratio=20\n",
		"dirty_bytes=0\ndirty_ratio=20\ncap=8388608; echo\n",
		"dirty_bytes=-1\ndirty_ratio=20\ncap=8388608\n",
		"dirty_ratio=20\ndirty_bytes=0\ncap=8388608\n",
		"dirty_bytes=0\ndirty_ratio=20\ncap=8388608\nmore\n",
	};
	struct tree *t = *state;
	struct drain dr;
	size_t i;

	for (i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
		put(t, "dirty_bytes", "8388608\n");
		put(t, "dirty_ratio", "0\n");
		save(t, damaged[i]);
		assert_int_equal(drain_recover(&dr, &t->paths), -EINVAL);
		assert_string_equal(dr.failed, t->saved);
		/* nothing written, and the file stays for someone to look at */
		assert_string_equal(bytes(t), "8388608");
		assert_string_equal(ratio(t), "0");
		assert_true(saved_exists(t));
	}
}

static void test_recovery_failure_keeps_the_file(void **state)
{
	struct tree *t = *state;
	char expect[192];
	struct drain dr;

	/* no vm/ files: nothing to restore them to */
	save(t, "dirty_bytes=0\ndirty_ratio=20\ncap=8388608\n");
	snprintf(expect, sizeof(expect), "%s/vm/dirty_bytes", t->sysctl);
	assert_int_equal(drain_recover(&dr, &t->paths), -ENOENT);
	assert_string_equal(dr.failed, expect);
	assert_true(saved_exists(t));
}


/*
 * The per-disk drain on a fake sysfs: /sys/dev/block/M:m links to the
 * device's directory (a partition's inside its disk's, with a "partition"
 * file), /sys/class/bdi/M:m holds the disk's limits, and /proc/vmstat the
 * system's dirty threshold: 40960 pages of 4 KiB, 160 MiB, so a cap of
 * 8 MiB is 50000 millionths of it.
 */
#define THRESHOLD_PAGES	"40960"

/* A shell command that sets the scene, and must succeed. */
#define sh(...) assert_int_equal(run_shell(__VA_ARGS__), 0)

static void put_vmstat(const struct tree *t, const char *pages)
{
	sh("printf 'nr_dirty 7\\nnr_dirty_threshold %s\\nnr_dirty_background_threshold 1\\n' >'%s'",
	   pages, t->vmstat);
}

/* A disk with its limits; strict: its strict_limit, NULL for a kernel before 6.2. */
static void make_disk(const struct tree *t, const char *dev, const char *ratio,
		      const char *strict)
{
	sh("mkdir -p '%s/devices/%s' '%s/dev/block' '%s/class/bdi/%s' && echo %s >'%s/devices/%s/dev'"
	   " && ln -s ../../devices/%s '%s/dev/block/%s' && echo %s >'%s/class/bdi/%s/max_ratio_fine'",
	   t->sysfs, dev, t->sysfs, t->sysfs, dev, dev, t->sysfs, dev, dev, t->sysfs, dev, ratio,
	   t->sysfs, dev);
	if (strict)
		sh("echo %s >'%s/class/bdi/%s/strict_limit'", strict, t->sysfs, dev);
	put_vmstat(t, THRESHOLD_PAGES);
}

static void make_partition(const struct tree *t, const char *dev, const char *disk)
{
	sh("mkdir -p '%s/devices/%s/%s' && echo 1 >'%s/devices/%s/%s/partition' && "
	   "echo %s >'%s/devices/%s/%s/dev' && ln -s ../../devices/%s/%s '%s/dev/block/%s'",
	   t->sysfs, disk, dev, t->sysfs, disk, dev, dev, t->sysfs, disk, dev, disk, dev, t->sysfs,
	   dev);
}

static const char *knob(const struct tree *t, const char *dev, const char *name)
{
	static char buf[2][64];
	static int which;
	char path[256];

	which = !which;
	snprintf(path, sizeof(path), "%s/class/bdi/%s/%s", t->sysfs, dev, name);
	file_text(path, buf[which], sizeof(buf[which]));
	buf[which][strcspn(buf[which], "\n")] = '\0';
	return buf[which];
}

static void test_disk_is_capped_then_restored(void **state)
{
	struct tree *t = *state;
	const dev_t devs[] = { makedev(202, 0) };
	char text[256];

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "20\n");
	make_disk(t, "202:0", "1000000", "0");
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 1), 0);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "50000");
	assert_string_equal(knob(t, "202:0", "strict_limit"), "1");
	assert_string_equal(file_text(t->saved, text, sizeof(text)),
			    "bdi=202:0 max_ratio_fine=1000000 strict_limit=0 cap=50000\n");
	/* the system's limits are not the drain's here */
	assert_string_equal(bytes(t), "0");
	assert_string_equal(ratio(t), "20");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_string_equal(knob(t, "202:0", "strict_limit"), "0");
	assert_true(saved_exists(t));
	drain_finish(&t->dr);
	assert_false(saved_exists(t));
	/* a restore after the end writes nothing, and says so */
	assert_int_equal(drain_restore(&t->dr), 0);
}

/* Two partitions of one disk and another disk: two disks share the cap. */
static void test_partitions_cap_their_disk_once(void **state)
{
	struct tree *t = *state;
	const dev_t devs[] = { makedev(202, 1), makedev(202, 2), makedev(202, 16) };
	char text[256];

	make_disk(t, "202:0", "1000000", "0");
	make_partition(t, "202:1", "202:0");
	make_partition(t, "202:2", "202:0");
	make_disk(t, "202:16", "1000000", "0");
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 3), 0);
	assert_int_equal(t->dr.nbdis, 2);
	assert_string_equal(file_text(t->saved, text, sizeof(text)),
			    "bdi=202:0 max_ratio_fine=1000000 strict_limit=0 cap=25000\n"
			    "bdi=202:16 max_ratio_fine=1000000 strict_limit=0 cap=25000\n");
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "25000");
	assert_string_equal(knob(t, "202:16", "max_ratio_fine"), "25000");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_string_equal(knob(t, "202:16", "max_ratio_fine"), "1000000");
}

static void test_lower_disk_limit_is_not_raised(void **state)
{
	struct tree *t = *state;
	const dev_t devs[] = { makedev(202, 0) };

	make_disk(t, "202:0", "1000", "1");
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 1), 0);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000");
	assert_string_equal(knob(t, "202:0", "strict_limit"), "1");
}

/* Linux 5.10 and 6.1 have max_ratio, in whole percent, and no strict_limit. */
static void test_no_strict_limit_changes_nothing(void **state)
{
	struct tree *t = *state;
	const dev_t devs[] = { makedev(202, 0), makedev(202, 16) };

	make_disk(t, "202:0", "1000000", "0");
	make_disk(t, "202:16", "1000000", NULL);
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 2), -EOPNOTSUPP);
	assert_non_null(strstr(t->dr.failed, "/class/bdi/202:16/strict_limit"));
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_string_equal(knob(t, "202:0", "strict_limit"), "0");
	assert_false(saved_exists(t));
}

static void test_not_a_block_device_changes_nothing(void **state)
{
	struct tree *t = *state;
	const dev_t devs[] = { makedev(202, 0), makedev(0, 45) };

	make_disk(t, "202:0", "1000000", "0");
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 2), -EOPNOTSUPP);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_false(saved_exists(t));
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 0), -EOPNOTSUPP);
	assert_false(saved_exists(t));
}

/* More disks than the saved file takes: the system's drain, nothing changed. */
static void test_too_many_disks_change_nothing(void **state)
{
	struct tree *t = *state;
	dev_t devs[DRAIN_MAX_BDIS + 1];
	char name[16];
	unsigned int i;

	for (i = 0; i <= DRAIN_MAX_BDIS; i++) {
		snprintf(name, sizeof(name), "202:%u", i * 16);
		make_disk(t, name, "1000000", "0");
		devs[i] = makedev(202, i * 16);
	}
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, DRAIN_MAX_BDIS + 1),
			 -EOPNOTSUPP);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_false(saved_exists(t));
	/* as many as it takes are capped */
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, DRAIN_MAX_BDIS), 0);
	assert_int_equal(t->dr.nbdis, DRAIN_MAX_BDIS);
	assert_string_equal(knob(t, "202:240", "max_ratio_fine"), "3125");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(knob(t, "202:240", "max_ratio_fine"), "1000000");
}

static void test_disk_limit_errors_change_nothing(void **state)
{
	struct tree *t = *state;
	const dev_t devs[] = { makedev(202, 0), makedev(202, 16) };

	make_disk(t, "202:0", "1000000", "0");
	make_disk(t, "202:16", "lots", "0");
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 2), -EINVAL);
	assert_non_null(strstr(t->dr.failed, "/class/bdi/202:16/max_ratio_fine"));
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_false(saved_exists(t));
	sh("echo 0 >'%s/class/bdi/202:16/max_ratio_fine'", t->sysfs);
	put_vmstat(t, "0");
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 2), -ERANGE);
	assert_string_equal(t->dr.failed, t->vmstat);
	assert_false(saved_exists(t));
}

/* Through the dispatcher: a FIFREEZE freeze of a missing xvda with drain_scope = disks. */
static void fail_freeze_with_disk_drain(const struct tree *t)
{
	const struct freezer_options opt = {
		.backend = FREEZER_FIFREEZE, .drain_ms = 20, .drain_dirty_bytes = CAP,
		.drain_disks = true, .drain_paths = &t->paths,
	};
	struct disc_fs fs = { .major = 202, .minor = 0, .fstype = "ext4",
			      .source = "/dev/xvda", .mountpoint = "/nonexistent/xq-drain" };
	struct discovery d = { .fs = &fs, .nfs = 1 };
	struct freezer f;

	freezer_init(&f);
	assert_true(freezer_freeze(&f, &d, &opt) < 0);
	assert_true(freezer_drain_ms(&f.result) >= 20);
	assert_false(saved_exists(t));
	assert_int_equal(f.drain.bytes_fd, -1);
}

/* On a kernel without strict_limit, the system's drain. */
static void test_freezer_falls_back_to_the_system_drain(void **state)
{
	struct tree *t = *state;

	put(t, "dirty_bytes", "134217728\n");
	put(t, "dirty_ratio", "0\n");
	make_disk(t, "202:0", "1000000", NULL);
	fail_freeze_with_disk_drain(t);
	assert_string_equal(bytes(t), "134217728");
}

/* With strict_limit: the disk's own limit, back after the failed freeze. */
static void test_freezer_caps_the_disk(void **state)
{
	struct tree *t = *state;

	put(t, "dirty_bytes", "lots\n");	/* would fail the system's drain */
	make_disk(t, "202:0", "300000", "0");
	fail_freeze_with_disk_drain(t);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "300000");
	assert_string_equal(knob(t, "202:0", "strict_limit"), "0");
}

/* A per-disk drain killed while capped: the next drain, of either kind, undoes it. */
static void test_next_drain_undoes_a_dead_disk_drain(void **state)
{
	struct tree *t = *state;
	const dev_t devs[] = { makedev(202, 0) };

	put(t, "dirty_bytes", "0\n");
	put(t, "dirty_ratio", "20\n");
	make_disk(t, "202:0", "1000000", "0");
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 1), 0);
	die(&t->dr);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "50000");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	assert_true(t->dr.recovered);
	assert_string_equal(t->dr.restored,
			    "max_ratio_fine=1000000 strict_limit=0 of /sys/class/bdi/202:0");
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_string_equal(knob(t, "202:0", "strict_limit"), "0");
	assert_string_equal(bytes(t), "8388608");
	put(t, "dirty_ratio", "0\n");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(ratio(t), "20");
	drain_finish(&t->dr);
	assert_false(saved_exists(t));
}

static void test_next_disk_drain_undoes_a_dead_system_drain(void **state)
{
	struct tree *t = *state;
	const dev_t devs[] = { makedev(202, 0) };

	put(t, "dirty_bytes", "268435456\n");
	put(t, "dirty_ratio", "0\n");
	make_disk(t, "202:0", "1000000", "0");
	assert_int_equal(drain_begin(&t->dr, &t->paths, 1, CAP), 0);
	die(&t->dr);
	assert_int_equal(drain_begin_disks(&t->dr, &t->paths, 1, CAP, devs, 1), 0);
	assert_true(t->dr.recovered);
	assert_string_equal(t->dr.restored, "vm.dirty_bytes=268435456 vm.dirty_ratio=0");
	assert_string_equal(bytes(t), "268435456");
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "50000");
	assert_int_equal(drain_restore(&t->dr), 0);
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_string_equal(bytes(t), "268435456");
}

/*
 * At start: of a dead per-disk drain's disks, only those still capped get
 * their limits back; one changed since and one gone are left alone.
 */
static void test_recovery_of_disks(void **state)
{
	struct tree *t = *state;
	struct drain dr;

	make_disk(t, "202:0", "50000", "1");
	make_disk(t, "202:16", "700000", "1");
	save(t, "bdi=202:0 max_ratio_fine=1000000 strict_limit=0 cap=50000\n"
		"bdi=202:16 max_ratio_fine=1000000 strict_limit=0 cap=50000\n"
		"bdi=202:32 max_ratio_fine=1000000 strict_limit=0 cap=50000\n");
	assert_int_equal(drain_recover(&dr, &t->paths), 1);
	assert_string_equal(dr.restored,
			    "max_ratio_fine=1000000 strict_limit=0 of /sys/class/bdi/202:0");
	assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "1000000");
	assert_string_equal(knob(t, "202:0", "strict_limit"), "0");
	assert_string_equal(knob(t, "202:16", "max_ratio_fine"), "700000");
	assert_string_equal(knob(t, "202:16", "strict_limit"), "1");
	assert_false(saved_exists(t));
	/* none still capped: nothing to do, and the file goes */
	save(t, "bdi=202:0 max_ratio_fine=1000000 strict_limit=0 cap=50000\n");
	assert_int_equal(drain_recover(&dr, &t->paths), 0);
	assert_false(saved_exists(t));
}

static void test_recovery_refuses_a_damaged_disk_file(void **state)
{
	static const char *const damaged[] = {
		"bdi=202:0\n",
		"bdi=202:0 max_ratio_fine=1000000 strict_limit=0\n",
		"bdi=202:0 max_ratio_fine=1000000 strict_limit=0 cap=50000",
		"bdi=202:0 max_ratio_fine=1000000 strict_limit=0 cap=50000 more\n",
		"bdi=../x max_ratio_fine=1000000 strict_limit=0 cap=50000\n",
		"bdi=202:0 max_ratio_fine=1000000 strict_limit=0 cap=50000\ndirty_bytes=0\n",
		"bdi=202:0  max_ratio_fine=1000000 strict_limit=0 cap=50000\n",
	};
	struct tree *t = *state;
	struct drain dr;
	size_t i;

	make_disk(t, "202:0", "50000", "1");
	for (i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
		save(t, damaged[i]);
		assert_int_equal(drain_recover(&dr, &t->paths), -EINVAL);
		assert_string_equal(dr.failed, t->saved);
		assert_string_equal(knob(t, "202:0", "max_ratio_fine"), "50000");
		assert_true(saved_exists(t));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ratio_in_force_is_capped_then_restored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bytes_in_force_is_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lower_dirty_bytes_is_not_raised, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_both_zero_is_refused_untouched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_running_drain_stops_a_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_drain_undoes_a_dead_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_drain_keeps_limits_set_since_a_dead_one,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_sysctl_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_limit_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_failure_restores_and_removes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_drain_when_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_restores_the_ratio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_restores_dirty_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_after_a_drain_that_never_ended, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recovery_keeps_limits_set_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_leaves_a_running_drain_alone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recovery_removes_an_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_refuses_a_damaged_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disk_is_capped_then_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partitions_cap_their_disk_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lower_disk_limit_is_not_raised, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_strict_limit_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_a_block_device_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_too_many_disks_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_limit_errors_change_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_freezer_falls_back_to_the_system_drain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_freezer_caps_the_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_drain_undoes_a_dead_disk_drain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_next_disk_drain_undoes_a_dead_system_drain,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_of_disks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery_refuses_a_damaged_disk_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recovery_failure_keeps_the_file, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("drain", tests, NULL, NULL);
}
