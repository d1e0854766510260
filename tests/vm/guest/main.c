// SPDX-License-Identifier: GPL-2.0
/*
 * xq-vmtest: exercises xquiesce.ko in a VM whose init mounted the test
 * filesystems, and reports TAP on a channel the host reads.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kmsg.h"
#include "suite.h"
#include "util.h"

struct test {
	const char *name;
	void (*run)(struct suite *s, struct test_ctx *t);
};

static void test_module_load(struct suite *s, struct test_ctx *t);
static void test_module_unload(struct suite *s, struct test_ctx *t);
static void test_kernel_log(struct suite *s, struct test_ctx *t);

static const struct test tests[] = {
	{ "module loads, STATUS reports ABI 2 and idle", test_module_load },
	{ "FREEZE freezes ext4, xfs, btrfs and LVM in one call; writers block until THAW; data is on disk",
	  test_freeze_all },
	{ "a filesystem mounted twice and bind-mounted is frozen exactly once", test_mounted_twice },
	{ "the deadline thaws within 250 ms, STATUS says deadline, THAW gets ETIMEDOUT",
	  test_deadline },
	{ "SIGKILL of the holder thaws at once", test_holder_killed },
	{ "close() of the holder thaws at once", test_holder_closed },
	{ "a failure injected on the third filesystem leaves nothing frozen and names it",
	  test_partial_failure },
	{ "a second FREEZE gets EBUSY", test_second_freeze },
	{ "callers without CAP_SYS_ADMIN get EPERM", test_unprivileged },
	{ "malformed requests get EINVAL/EFAULT and freeze nothing", test_malformed },
	{ "rmmod while frozen is refused", test_rmmod_frozen },
	{ "FITHAW from userspace and the module's freeze (kernel freeze holders)", test_fithaw },
	{ "a loop filesystem freezes before the filesystem holding its image, no deadlock",
	  test_loop_stack },
	{ "STATUS while frozen reports the holder, the filesystems with their types, the time left",
	  test_status_frozen },
	{ "XQ_THAW_ANY from another opener thaws (rescue); the holder's THAW gets ECANCELED",
	  test_rescue },
	{ "XQ_FREEZE_BLKFRONT with no Xen disk selects nothing: ENOENT, nothing frozen",
	  test_blkfront_none },
	{ "larger structures with a zero tail work; a non-zero tail or a short size gets EINVAL",
	  test_struct_sizes },
	{ "a wrongly ordered loop stack: FREEZE times out naming the loop filesystem, nothing stays frozen",
	  test_freeze_deadline },
	{ "a caller timeout below 100 ms gets EINVAL and freezes nothing", test_timeout_floor },
	{ "STATUS, THAW and a failed FREEZE write every output field", test_out_fields },
	{ "nsfs's NS_GET_PARENT and other numbers than the whole commands get ENOTTY; ABI 2",
	  test_ioctl_magic },
	{ "the deadline counts from the first filesystem frozen, not from the end of the FREEZE",
	  test_deadline_first_freeze },
	{ "a failed thaw: THAW says EIO, STATUS keeps it, it is retried until it thaws",
	  test_thaw_failure },
	{ "a loop stack frozen upper-first in one level: rollback, THAW and deadline thaw, no deadlock",
	  test_loop_thaw_order },
	{ "callers in a chroot without /proc and in another mount namespace freeze by descriptor",
	  test_other_root },
	{ "stuck I/O (suspended dm, dm-delay): FREEZE returns in time naming it, SIGKILL works, the module stays usable",
	  test_stuck_io },
	{ "fuzzed ioctls: random commands, sizes, flags, descriptors, pointers; nothing left frozen",
	  test_fuzz_ioctl },
	{ "races: FREEZE/THAW/THAW_ANY/STATUS, dup/close, SIGKILL in FREEZE, FIFREEZE, umount; all thawed, fsck clean",
	  test_races },
	{ "module unloads when idle", test_module_unload },
	{ "kernel log has no WARN, BUG, lockdep, KASAN, KFENCE or hung-task report; kmemleak finds no leak",
	  test_kernel_log },
};

static void test_module_load(struct suite *s, struct test_ctx *t)
{
	struct xq_status st;
	int ret;

	ret = xq_module_load(s->module, "");
	if (!CHECK(t, ret == 0, "cannot load %s: %s", s->module, strerror(-ret)))
		return;
	s->fd = xq_open();
	if (!CHECK(t, s->fd >= 0, "cannot open %s: %s", XQ_DEVICE_PATH, strerror(-s->fd)))
		return;
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0, "STATUS: %s", strerror(-ret));
	CHECK(t, st.abi_version == XQ_ABI_VERSION, "abi_version %u, expected %u", st.abi_version,
	      XQ_ABI_VERSION);
	CHECK(t, st.state == XQ_STATE_IDLE && st.last_end == XQ_END_NONE && st.nfs == 0,
	      "fresh module: state %u, last end %s, %u filesystems", st.state,
	      xq_end_name(st.last_end), st.nfs);
	tap_diag("features %#x, max_timeout_ms %u", st.features, st.max_timeout_ms);
}

static void test_module_unload(struct suite *s, struct test_ctx *t)
{
	struct stat mod;
	int ret;

	close(s->fd);
	s->fd = -1;
	ret = xq_module_unload();
	CHECK(t, ret == 0, "delete_module when idle: %s", strerror(-ret));
	CHECK(t, stat("/sys/module/" XQ_MODULE_NAME, &mod) < 0, "the module is still loaded");
}

/*
 * Where the kernel has kmemleak (the debug kernel), it scans first, after
 * the module is gone: what the module allocated and never freed is then
 * unreferenced, and the scan's "new suspected memory leaks" line is in the
 * log read next. The host checks that the debug kernel said "scanned".
 */
static void test_kernel_log(struct suite *s, struct test_ctx *t)
{
	unsigned int module_lines;
	int bad, leaks;

	(void)s;
	leaks = kmemleak_scan();
	if (leaks == -ENOENT) {
		tap_diag("kmemleak: not in this kernel");
	} else if (CHECK(t, leaks >= 0, "kmemleak scan: %s", strerror(-leaks))) {
		tap_diag("kmemleak: scanned, %d unreferenced objects", leaks);
		CHECK(t, leaks == 0, "kmemleak: %d unreferenced objects", leaks);
	}
	bad = kmsg_scan(&module_lines);
	CHECK(t, bad == 0, bad < 0 ? "cannot read /dev/kmsg" : "%d suspicious kernel messages",
	      bad);
}

/*
 * A test that failed half-way may leave a freeze held; thaw it (rescue)
 * so that the next tests start from an idle module rather than hang.
 */
static void rescue_leftover(struct suite *s, struct test_ctx *t)
{
	struct xq_thaw th = { .size = sizeof(th), .flags = XQ_THAW_ANY };
	struct xq_status st;

	if (s->fd < 0 || xq_status(s->fd, &st, NULL, 0) || st.state == XQ_STATE_IDLE)
		return;
	CHECK(t, false, "left %u filesystems frozen (state %u, holder %d); rescue thaw", st.nfs,
	      st.state, st.holder_pid);
	ioctl(s->fd, XQ_IOC_THAW, &th);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: xq-vmtest --results FILE --module KO --again MNT --bind MNT\n"
		"                 --loop MNT --loop-image FILE --stuck MNT --delay MNT\n"
		"                 EXT4 XFS BTRFS LVM\n"
		"Runs the xquiesce VM tests on the mounted filesystems and writes TAP to FILE.\n"
		"EXT4..LVM are mount points; --again and --bind name a second mount and a bind\n"
		"mount of EXT4; --loop a filesystem on a loop device backed by --loop-image;\n"
		"--stuck an ext4 on the LV xqvg/stuck, which a test suspends; --delay an\n"
		"ext4 on the dm-delay device xqdelay, which a test slows down.\n");
}

static int parse_args(struct suite *s, int argc, char **argv, const char **results)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'r' },
		{ "module", required_argument, NULL, 'm' },
		{ "again", required_argument, NULL, 'a' },
		{ "bind", required_argument, NULL, 'b' },
		{ "loop", required_argument, NULL, 'l' },
		{ "loop-image", required_argument, NULL, 'i' },
		{ "stuck", required_argument, NULL, 's' },
		{ "delay", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *again = NULL, *bind = NULL, *loop = NULL, *stuck = NULL, *delay = NULL;
	struct fsent *named[] = { &s->again, &s->bind, &s->loop, &s->stuck, &s->delay };
	const char **paths[] = { &again, &bind, &loop, &stuck, &delay };
	int c, i, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': *results = optarg; break;
		case 'm': s->module = optarg; break;
		case 'a': again = optarg; break;
		case 'b': bind = optarg; break;
		case 'l': loop = optarg; break;
		case 'i': s->loop_image = optarg; break;
		case 's': stuck = optarg; break;
		case 'd': delay = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	if (!*results || !s->module || !again || !bind || !loop || !stuck || !delay || !s->loop_image ||
	    argc - optind != NFS)
		return -EINVAL;
	for (i = 0; i < NFS; i++) {
		s->all[i] = &s->fs[i];
		ret = fsent_init(&s->fs[i], argv[optind + i]);
		if (ret) {
			fprintf(stderr, "xq-vmtest: %s is not a mount point: %s\n", argv[optind + i],
				strerror(-ret));
			return ret;
		}
	}
	for (i = 0; i < 5; i++) {
		ret = fsent_init(named[i], *paths[i]);
		if (ret) {
			fprintf(stderr, "xq-vmtest: %s is not a mount point: %s\n", *paths[i],
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct suite s = { .fd = -1 };
	const char *results = NULL;
	struct utsname un;
	unsigned int i, failed = 0;

	if (parse_args(&s, argc, argv, &results)) {
		usage(stderr);
		return 2;
	}
	uname(&un);
	sscanf(un.release, "%u.%u", &s.kver[0], &s.kver[1]);
	s.nonce = now_ns() ^ ((uint64_t)getpid() << 48);
	tap_open(results);
	tap_plan(sizeof(tests) / sizeof(tests[0]));
	tap_diag("kernel %s", un.release);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		struct test_ctx t = { tests[i].name, 0 };
		uint64_t start = now_ns();

		tap_diag("running: %s", tests[i].name);
		/* Without the module, every later test would only repeat that. */
		if (i > 0 && s.fd < 0 && tests[i].run != test_kernel_log)
			CHECK(&t, false, "no /dev/xquiesce (the module did not load)");
		else
			tests[i].run(&s, &t);
		rescue_leftover(&s, &t);
		/* The suite must stay lean: say where its time goes. */
		tap_diag("took %.2f s", (now_ns() - start) / 1e9);
		tap_result(t.failures == 0, tests[i].name);
		failed += t.failures != 0;
	}
	return failed ? 1 : 0;
}
