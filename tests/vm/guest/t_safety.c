// SPDX-License-Identifier: GPL-2.0
/*
 * The safety net itself (issue 11): thaws that must not wait on each other,
 * the deadline counted from the first freeze, failed thaws retried, the
 * timeout's floor, output fields, the ioctl numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ondisk.h"
#include "suite.h"
#include "util.h"

#define TEST_TIMEOUT_MS 30000
/* How late a watchdog thaw may let a blocked write through, on a loaded TCG guest. */
#define DEADLINE_SLACK_MS 250
/* A thaw that deadlocks never returns; one that works takes milliseconds. */
#define THAW_BOUND_MS 10000

static bool fault_param(struct test_ctx *t, const char *name, unsigned int value)
{
	int ret = xq_set_param(name, value);

	return CHECK(t, ret == 0, "cannot set %s=%u (a fault injection build?): %s", name, value,
		     strerror(-ret));
}

static void faults_off(void)
{
	xq_set_param("fault_fail_freeze_at", 0);
	xq_set_param("fault_delay_freeze_at", 0);
	xq_set_param("fault_delay_ms", 0);
	xq_set_param("fault_fail_thaw_at", 0);
}

/* Finding 1: a timeout below the floor is refused, nothing is frozen. */
void test_timeout_floor(struct suite *s, struct test_ctx *t)
{
	static const uint32_t small[] = { 1, 50, 99 };
	struct xq_fs out[1];
	struct xq_freeze req;
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		ret = freeze_set(s->fd, s->all, NULL, 1, 0, small[i], &req, out);
		CHECK(t, ret == -EINVAL, "FREEZE with timeout_ms %u: %s, expected EINVAL", small[i],
		      ret ? strerror(-ret) : "success");
		if (ret == 0)
			xq_thaw(s->fd, NULL);
		expect_idle(t, s->fd, XQ_END_ANY);
	}
	ret = freeze_set(s->fd, s->all, NULL, 1, 0, 100, &req, out);
	CHECK(t, ret == 0 || ret == -ETIMEDOUT, "FREEZE with timeout_ms 100: %s",
	      ret ? strerror(-ret) : "success");
	if (ret == 0)
		xq_thaw(s->fd, NULL);
	expect_idle(t, s->fd, XQ_END_ANY);
	expect_writable(t, s->all[0], 1000);
}

/* Finding 7: STATUS and a failed FREEZE write every output field. */
void test_out_fields(struct suite *s, struct test_ctx *t)
{
	struct xq_dev dev = { .fd = -1 };	/* replaced by a descriptor on /proc */
	struct xq_freeze req;
	struct xq_status st;
	struct xq_thaw th;
	int ret;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.holder_pid = 4242;
	st.remaining_ns = 4242;
	st.nfs = 42;
	st.nstuck = 42;
	ret = ioctl(s->fd, XQ_IOC_STATUS, &st) < 0 ? -errno : 0;
	CHECK(t, ret == 0 && st.state == XQ_STATE_IDLE, "STATUS: %s, state %u", strerror(-ret),
	      st.state);
	CHECK(t, st.holder_pid == 0 && st.remaining_ns == 0 && st.nfs == 0 && st.nstuck == 0,
	      "idle STATUS echoes pre-filled fields: holder %d, remaining %llu, nfs %u, nstuck %u",
	      st.holder_pid, (unsigned long long)st.remaining_ns, st.nfs, st.nstuck);

	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.ndevs = 1;
	req.devs = (uintptr_t)&dev;
	req.timeout_ms = TEST_TIMEOUT_MS;
	req.nfs = 42;
	req.frozen_ns = 4242;
	req.deadline_ns = 4242;
	req.err_major = 42;
	req.err_index = 42;
	req.err_fstype[0] = 'x';
	dev.fd = 1000;		/* not open */
	ret = xq_freeze(s->fd, &req);
	CHECK(t, ret == -EBADF, "FREEZE of a descriptor that is not open: %s, expected EBADF",
	      ret ? strerror(-ret) : "success");
	CHECK(t, req.nfs == 0 && req.frozen_ns == 0 && req.deadline_ns == 0,
	      "failed FREEZE echoes pre-filled fields: nfs %u, frozen_ns %llu, deadline_ns %llu",
	      req.nfs, (unsigned long long)req.frozen_ns, (unsigned long long)req.deadline_ns);
	CHECK(t, req.err_errno == EBADF && req.err_index == 0 && req.err_major == 0 &&
		 req.err_minor == 0 && req.err_fstype[0] == '\0',
	      "failed FREEZE: err %d on entry %d, %u:%u '%.16s', expected EBADF on entry 0, no device",
	      req.err_errno, req.err_index, req.err_major, req.err_minor, req.err_fstype);

	/* Finding 6: a descriptor on a filesystem that is not a block filesystem. */
	dev.fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ret = xq_freeze(s->fd, &req);
	CHECK(t, ret == -ENOTBLK, "FREEZE of /proc: %s, expected ENOTBLK",
	      ret ? strerror(-ret) : "success");
	CHECK(t, req.err_errno == ENOTBLK && req.err_index == 0 &&
		 !strncmp(req.err_fstype, "proc", XQ_FSTYPE_LEN),
	      "failed FREEZE: err %d on entry %d '%.16s', expected ENOTBLK on entry 0, proc",
	      req.err_errno, req.err_index, req.err_fstype);
	if (dev.fd >= 0)
		close(dev.fd);

	memset(&th, 0, sizeof(th));
	th.size = sizeof(th);
	th.nfs = 42;
	th.held_ns = 4242;
	ret = ioctl(s->fd, XQ_IOC_THAW, &th) < 0 ? -errno : 0;
	CHECK(t, ret == -EALREADY, "THAW with nothing held: %s, expected EALREADY",
	      ret ? strerror(-ret) : "success");
	expect_idle(t, s->fd, XQ_END_ANY);
}

/* Finding 8: nsfs's NS_GET_PARENT (0xB7, 2) is not THAW; only whole numbers match. */
void test_ioctl_magic(struct suite *s, struct test_ctx *t)
{
	struct xq_status st;
	int ret;

	ret = ioctl(s->fd, _IO(0xB7, 0x2), 0) < 0 ? -errno : 0;
	CHECK(t, ret == -ENOTTY, "NS_GET_PARENT on %s: %s, expected ENOTTY", XQ_DEVICE_PATH,
	      ret ? strerror(-ret) : "success");
	ret = ioctl(s->fd, _IOWR(0xB7, 3, struct xq_status), 0) < 0 ? -errno : 0;
	CHECK(t, ret == -ENOTTY, "ABI 1's STATUS number: %s, expected ENOTTY",
	      ret ? strerror(-ret) : "success");
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	ret = ioctl(s->fd, _IOC(_IOC_READ | _IOC_WRITE, XQ_IOC_MAGIC, 3, 64), &st) < 0 ? -errno : 0;
	CHECK(t, ret == -ENOTTY, "STATUS with other size bits: %s, expected ENOTTY",
	      ret ? strerror(-ret) : "success");
	ret = ioctl(s->fd, _IO(XQ_IOC_MAGIC, 3), &st) < 0 ? -errno : 0;
	CHECK(t, ret == -ENOTTY, "STATUS with other direction bits: %s, expected ENOTTY",
	      ret ? strerror(-ret) : "success");
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && st.abi_version == 2, "STATUS: %s, ABI %u, expected 2",
	      strerror(-ret), st.abi_version);
}

/*
 * Finding 2: the first level freezes, the second is delayed 600 ms; with a
 * 1 s timeout the first filesystem must be thawed 1 s after it froze, not
 * 1 s after the whole set did.
 */
#define FIRST_TIMEOUT_MS 1000
#define SECOND_DELAY_MS 600

void test_deadline_first_freeze(struct suite *s, struct test_ctx *t)
{
	static const uint32_t levels[2] = { 0, 1 };
	const struct xq_fs *first;
	struct xq_fs out[2];
	struct xq_freeze req;
	struct child probe;
	uint64_t bound;
	int ret;

	if (!fault_param(t, "fault_delay_ms", SECOND_DELAY_MS) ||
	    !fault_param(t, "fault_delay_freeze_at", 2))
		goto out;
	ret = freeze_set(s->fd, s->all, levels, 2, 0, FIRST_TIMEOUT_MS, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE: %s", strerror(-ret)))
		goto out;
	first = find_frozen(out, req.nfs, s->all[0]);
	if (!CHECK(t, first, "%s missing from the frozen list", s->all[0]->mnt))
		goto out;
	tap_diag("first froze %.0f ms before the last; deadline %.0f ms after the first",
		 (req.frozen_ns - first->frozen_ns) / 1e6,
		 ((int64_t)(req.deadline_ns - first->frozen_ns)) / 1e6);
	CHECK(t, req.frozen_ns - first->frozen_ns >= (SECOND_DELAY_MS - 50) * NSEC_PER_MSEC,
	      "the second level froze only %.0f ms after the first (delay injected: %u ms)",
	      (req.frozen_ns - first->frozen_ns) / 1e6, SECOND_DELAY_MS);
	CHECK(t, req.deadline_ns == first->frozen_ns + FIRST_TIMEOUT_MS * NSEC_PER_MSEC,
	      "deadline %.0f ms after the first freeze, expected %u",
	      ((int64_t)(req.deadline_ns - first->frozen_ns)) / 1e6, FIRST_TIMEOUT_MS);
	if (!expect_blocked(t, s->all[0], 50, &probe))
		goto out;
	ret = probe_wait(&probe, FIRST_TIMEOUT_MS + 5000);
	if (CHECK(t, ret == 0, "still frozen 5 s after the deadline")) {
		bound = first->frozen_ns + (FIRST_TIMEOUT_MS + DEADLINE_SLACK_MS) * NSEC_PER_MSEC;
		tap_diag("%s held %.0f ms from its freeze (timeout %u ms)", s->all[0]->mnt,
			 (probe.st->done_ns - first->frozen_ns) / 1e6, FIRST_TIMEOUT_MS);
		CHECK(t, probe.st->done_ns <= bound,
		      "%s held %.0f ms from its freeze, allowed %u + %u", s->all[0]->mnt,
		      (probe.st->done_ns - first->frozen_ns) / 1e6, FIRST_TIMEOUT_MS,
		      DEADLINE_SLACK_MS);
		child_reap(&probe);
	}
	expect_deadline_ended(t, s->fd);
out:
	faults_off();
}

/*
 * Finding 4: the thaw of the second filesystem fails (injected): THAW says
 * EIO, STATUS keeps it listed, flagged, in THAWING, writes to it stay
 * blocked; once the fault is off the module's retry thaws it.
 */
void test_thaw_failure(struct suite *s, struct test_ctx *t)
{
	static const uint32_t levels[2] = { 0, 1 };
	struct xq_fs out[2], held[2];
	struct xq_freeze req;
	struct xq_status st;
	struct xq_thaw th;
	struct child probe;
	uint64_t off, until;
	int ret;

	ret = freeze_set(s->fd, s->all, levels, 2, 0, TEST_TIMEOUT_MS, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE: %s", strerror(-ret)))
		return;
	if (!fault_param(t, "fault_fail_thaw_at", 2)) {
		xq_thaw(s->fd, NULL);
		return;
	}
	ret = xq_thaw(s->fd, &th);
	CHECK(t, ret == -EIO, "THAW with the second thaw failing: %s, expected EIO",
	      ret ? strerror(-ret) : "success");
	CHECK(t, th.nfs == 1, "THAW reports %u filesystems thawed, expected 1", th.nfs);
	ret = xq_status(s->fd, &st, held, 2);
	CHECK(t, ret == 0 && st.state == XQ_STATE_THAWING && st.nfs == 1,
	      "STATUS after the failed thaw: state %u, %u filesystems; expected thawing, 1",
	      st.state, st.nfs);
	if (st.nfs == 1)
		CHECK(t, fs_matches(&held[0], s->all[1]) && (held[0].flags & XQ_FS_THAW_FAILED),
		      "STATUS lists %u:%u flags %#x, expected %s with XQ_FS_THAW_FAILED",
		      held[0].major, held[0].minor, held[0].flags, s->all[1]->mnt);
	expect_writable(t, s->all[0], 1000);
	expect_blocked(t, s->all[1], 300, &probe);
	ret = freeze_set(s->fd, s->all, NULL, 1, 0, TEST_TIMEOUT_MS, &req, out);
	CHECK(t, ret == -EBUSY, "FREEZE while a thaw is retried: %s, expected EBUSY",
	      ret ? strerror(-ret) : "success");
	if (ret == 0)
		xq_thaw(s->fd, NULL);

	off = now_ns();
	faults_off();
	until = off + 3000 * NSEC_PER_MSEC;
	while (xq_status(s->fd, &st, NULL, 0) == 0 && st.state != XQ_STATE_IDLE && now_ns() < until)
		sleep_ms(10);
	tap_diag("retried thaw succeeded %.0f ms after the fault was lifted", (now_ns() - off) / 1e6);
	CHECK(t, st.state == XQ_STATE_IDLE && st.last_end == XQ_END_THAW,
	      "3 s after the fault was lifted: state %u, last end %s", st.state,
	      xq_end_name(st.last_end));
	expect_released(t, s->all[1], &probe, 2000);
	expect_idle(t, s->fd, XQ_END_THAW);
}

/* Runs a THAW in a child: its result, or -ETIMEDOUT if it did not return. */
static int thaw_bounded(int fd, unsigned int ms, pid_t *stuck)
{
	int status, pipefd[2], ret = -ETIMEDOUT;
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid == 0) {
		ret = xq_thaw(fd, NULL);
		_exit(write(pipefd[1], &ret, sizeof(ret)) == sizeof(ret) ? 0 : 1);
	}
	close(pipefd[1]);
	if (wait_exit(pid, ms, &status) == 0) {
		if (read(pipefd[0], &ret, sizeof(ret)) != sizeof(ret))
			ret = -EPIPE;
	} else {
		*stuck = pid;
	}
	close(pipefd[0]);
	return ret;
}

/*
 * The loop stack frozen upper (loop filesystem) first by chance, in one
 * level with the filesystem holding its image: the image filesystem's
 * freeze is delayed 500 ms so that the loop filesystem freezes first. A
 * thaw in reverse devs[] order would thaw the loop filesystem first, whose
 * superblock write waits, through the loop device, for the still frozen
 * image filesystem: a deadlock. Checked on the rollback of a failed FREEZE
 * (a failure injected on a third filesystem, one level up), on THAW and at
 * the deadline.
 */
#define HOST_DELAY_MS 500

static bool loop_stack_writable(struct test_ctx *t, struct fsent *const *set, unsigned int n)
{
	unsigned int i;
	bool ok = true;

	for (i = 0; i < n; i++)
		ok &= expect_writable(t, set[i], THAW_BOUND_MS);
	return ok;
}

void test_loop_thaw_order(struct suite *s, struct test_ctx *t)
{
	static const uint32_t levels[3] = { 0, 0, 1 };
	struct fsent *set[3] = { NULL, &s->loop, NULL };
	const struct xq_fs *lx, *hx;
	struct xq_freeze req;
	struct xq_fs out[3];
	struct child probe;
	pid_t stuck = 0;
	unsigned int i;
	int ret;

	set[0] = loop_host(s, t);
	if (!set[0])
		return;
	for (i = 0; i < NFS; i++)
		if (s->all[i] != set[0])
			set[2] = s->all[i];
	/* Without the delay (an older module), dirty data slows the image filesystem's freeze. */
	fault_param(t, "fault_delay_ms", HOST_DELAY_MS);
	fault_param(t, "fault_delay_freeze_at", 1);

	/* Rollback: the third filesystem's freeze fails. */
	if (!fault_param(t, "fault_fail_freeze_at", 3))
		goto out;
	pattern_write(s->loop.mnt, s->nonce + 300);
	pattern_write(set[0]->mnt, s->nonce + 310);
	ret = freeze_set(s->fd, set, levels, 3, 0, TEST_TIMEOUT_MS, &req, out);
	CHECK(t, ret == -EIO, "FREEZE with the third freeze failing: %s, expected EIO",
	      ret ? strerror(-ret) : "success");
	CHECK(t, req.err_major == major(set[2]->dev) && req.err_minor == minor(set[2]->dev),
	      "the error names %u:%u, expected %s", req.err_major, req.err_minor, set[2]->mnt);
	if (!loop_stack_writable(t, set, 3))
		goto out;
	expect_idle(t, s->fd, XQ_END_FAILED);
	xq_set_param("fault_fail_freeze_at", 0);

	/* THAW. */
	pattern_write(s->loop.mnt, s->nonce + 301);
	pattern_write(set[0]->mnt, s->nonce + 311);
	ret = freeze_set(s->fd, set, levels, 2, 0, TEST_TIMEOUT_MS, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE of the stack in one level: %s", strerror(-ret)))
		goto out;
	lx = find_frozen(out, req.nfs, &s->loop);
	hx = find_frozen(out, req.nfs, set[0]);
	if (lx && hx)
		CHECK(t, lx->frozen_ns < hx->frozen_ns,
		      "setup: the image filesystem froze %.0f ms before the loop filesystem",
		      (lx->frozen_ns - hx->frozen_ns) / 1e6);
	expect_blocked(t, &s->loop, 50, &probe);
	ret = thaw_bounded(s->fd, THAW_BOUND_MS, &stuck);
	if (!CHECK(t, ret == 0, "THAW of the stack: %s", ret == -ETIMEDOUT ?
		   "did not return within 10 s (deadlock)" : strerror(-ret)))
		goto out;
	expect_released(t, &s->loop, &probe, 2000);
	loop_stack_writable(t, set, 2);
	expect_idle(t, s->fd, XQ_END_THAW);

	/* The deadline. */
	pattern_write(s->loop.mnt, s->nonce + 302);
	ret = freeze_set(s->fd, set, levels, 2, 0, 1500, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE of the stack with a 1.5 s timeout: %s", strerror(-ret)))
		goto out;
	sleep_ms(1500);
	loop_stack_writable(t, set, 2);
	expect_idle(t, s->fd, XQ_END_DEADLINE);
out:
	faults_off();
	if (stuck)
		kill(stuck, SIGKILL);
}
