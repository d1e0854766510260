// SPDX-License-Identifier: GPL-2.0
/*
 * Stuck I/O (issue 11, finding 3): an ext4 on a dm device suspended with
 * --noflush --nolockfs, so that its freeze never completes, and one on a
 * dm-delay device whose every I/O takes 0.7 s. The FREEZE
 * that meets it must return within its timeout naming it, or at once on
 * SIGKILL; the module must then be idle (STATUS, THAW_ANY, a FREEZE of
 * other filesystems work) and refuse the stuck filesystem, and a walk over
 * its type, with EBUSY naming it instead of blocking on its s_umount. Once
 * the device resumes, the late freeze is thawed by its own worker.
 *
 * Writers blocked here must stay well under the guest's 20 s hung-task
 * report: each phase lasts a few seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ondisk.h"
#include "suite.h"
#include "util.h"

#define STUCK_DM "xqvg-stuck"	/* guest-init's LV under s->stuck */
#define DELAY_DM "xqdelay"	/* guest-init's dm-delay device under s->delay */
#define DELAY_TIMEOUT_MS 300
/* Each I/O takes 0.7 s: the late freeze and its thaw need a dozen in a row. */
#define LATE_BOUND_MS 30000
#define STUCK_TIMEOUT_MS 1500
/* FREEZE gives up at its timeout, then waits up to 1 s for its rollback. */
#define RETURN_BOUND_MS (STUCK_TIMEOUT_MS + 1000 + 500)
#define KILL_BOUND_MS 1000

static int run_dmsetup(const char *const *argv)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		close_inherited_fds();
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	if (pid < 0 || wait_exit(pid, 10000, &status))
		return -ECHILD;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

static int dmsetup(const char *verb)
{
	const char *suspend[] = { "/sbin/dmsetup", "--noudevsync", "suspend", "--noflush",
				  "--nolockfs", STUCK_DM, NULL };
	const char *resume[] = { "/sbin/dmsetup", "--noudevsync", "resume", STUCK_DM, NULL };

	return run_dmsetup(strcmp(verb, "suspend") ? resume : suspend);
}

/* Loads a dm-delay table (guest-init's files) into xqdelay. */
static int delay_table(const char *file)
{
	const char *reload[] = { "/sbin/dmsetup", "--noudevsync", "reload", DELAY_DM, file, NULL };
	const char *suspend[] = { "/sbin/dmsetup", "--noudevsync", "suspend", "--nolockfs",
				  DELAY_DM, NULL };
	const char *resume[] = { "/sbin/dmsetup", "--noudevsync", "resume", DELAY_DM, NULL };

	return run_dmsetup(reload) ?: run_dmsetup(suspend) ?: run_dmsetup(resume);
}

/* What a FREEZE in a child returned. */
struct child_freeze {
	int ret;
	struct xq_freeze req;
};

/*
 * FREEZE of fs[0..n-1]; with XQ_FREEZE_BLKFRONT, fs only name the types to
 * walk (XQ_DEV_TYPE_ONLY).
 */
static int walk_or_freeze(int fd, struct fsent *const *fs, unsigned int n, uint32_t flags,
			  uint32_t timeout_ms, struct xq_freeze *req, struct xq_fs *out)
{
	struct xq_dev devs[4];
	unsigned int i;

	xq_freeze_init(req, devs, fs, NULL, n, out, n);
	for (i = 0; i < n && flags & XQ_FREEZE_BLKFRONT; i++)
		devs[i].flags = XQ_DEV_TYPE_ONLY;
	req->flags = flags;
	req->timeout_ms = timeout_ms;
	return xq_freeze(fd, req);
}

/*
 * Starts a FREEZE of fs[0..n-1] in a child, on a descriptor of its own;
 * the result comes through *rfd.
 */
static pid_t freeze_child(struct fsent *const *fs, unsigned int n, uint32_t flags,
			  uint32_t timeout_ms, int *rfd)
{
	struct child_freeze r = { 0 };
	struct xq_fs out[4];
	int pipefd[2];
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid == 0) {
		int fd = xq_open();

		close(pipefd[0]);
		r.ret = fd < 0 ? fd : walk_or_freeze(fd, fs, n, flags, timeout_ms, &r.req, out);
		if (write(pipefd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		/* Hold a successful freeze until killed: the parent decides. */
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	*rfd = pipefd[0];
	return pid;
}

/* Waits up to ms for the child's result; -ETIMEDOUT when it did not answer. */
static int child_result(int rfd, unsigned int ms, struct child_freeze *r)
{
	uint64_t end = now_ns() + ms * NSEC_PER_MSEC;
	ssize_t n;

	fcntl(rfd, F_SETFL, O_NONBLOCK);
	while ((n = read(rfd, r, sizeof(*r))) < 0 && errno == EAGAIN && now_ns() < end)
		sleep_ms(5);
	return n == sizeof(*r) ? 0 : -ETIMEDOUT;
}

static bool names_stuck(struct test_ctx *t, const struct xq_freeze *req, const struct fsent *f,
			int index, const char *what)
{
	return CHECK(t, req->err_major == major(f->dev) && req->err_minor == minor(f->dev) &&
			 req->err_index == index,
		     "%s names %u:%u entry %d, expected %s (%u:%u) entry %d", what, req->err_major,
		     req->err_minor, req->err_index, f->mnt, major(f->dev), minor(f->dev), index);
}

/* How many workers of ended freezes STATUS says are still running. */
static unsigned int stuck_workers(struct suite *s)
{
	struct xq_status st;

	return xq_status(s->fd, &st, NULL, 0) ? ~0U : st.nstuck;
}

/* The module is idle again: STATUS, then a rescue THAW_ANY that returns at once. */
static void expect_usable(struct suite *s, struct test_ctx *t)
{
	struct xq_thaw th = { .size = sizeof(th), .flags = XQ_THAW_ANY };
	uint64_t start;
	int fd, ret;

	expect_idle(t, s->fd, XQ_END_ANY);
	fd = xq_open();
	if (!CHECK(t, fd >= 0, "open: %s", strerror(-fd)))
		return;
	start = now_ns();
	ret = ioctl(fd, XQ_IOC_THAW, &th) < 0 ? -errno : 0;
	CHECK(t, (ret == 0 || ret == -EALREADY) && now_ns() - start < 500 * NSEC_PER_MSEC,
	      "THAW_ANY with a stuck worker: %s after %.0f ms, expected nothing to thaw at once",
	      ret ? strerror(-ret) : "success", (now_ns() - start) / 1e6);
	close(fd);
}

/* After resume: the stuck worker's late freeze is thawed, no worker is left. */
static void expect_recovered(struct suite *s, struct test_ctx *t, unsigned int refs)
{
	uint64_t end = now_ns() + 5000 * NSEC_PER_MSEC;
	unsigned int now = 0;

	while (xq_module_refcnt(&now) == 0 && now != refs && now_ns() < end)
		sleep_ms(20);
	CHECK(t, now == refs, "module references %u, expected %u: a worker is left", now, refs);
	CHECK(t, stuck_workers(s) == 0, "STATUS: %u stuck workers after recovery, expected 0",
	      stuck_workers(s));
	expect_writable(t, &s->stuck, 3000);
	expect_idle(t, s->fd, XQ_END_ANY);
}

/* Phase 1: the caller of a FREEZE stuck on the device is SIGKILLed. */
static void stuck_killed(struct suite *s, struct test_ctx *t, unsigned int refs)
{
	struct fsent *set[1] = { &s->stuck };
	struct child_freeze r = { 0 };
	uint64_t killed;
	int rfd = -1, status;
	pid_t pid;

	pattern_write(s->stuck.mnt, s->nonce + 500);
	if (!CHECK(t, dmsetup("suspend") == 0, "dmsetup suspend %s failed", STUCK_DM))
		return;
	pid = freeze_child(set, 1, 0, 10000, &rfd);
	if (!CHECK(t, pid > 0, "fork: %s", strerror(-pid)))
		goto resume;
	if (CHECK(t, child_result(rfd, 500, &r) == -ETIMEDOUT,
		  "FREEZE on the suspended device returned: %s", strerror(-r.ret))) {
		killed = now_ns();
		kill(pid, SIGKILL);
		CHECK(t, wait_exit(pid, KILL_BOUND_MS, &status) == 0,
		      "the FREEZE caller did not die within %u ms of SIGKILL", KILL_BOUND_MS);
		tap_diag("SIGKILLed FREEZE caller gone after %.0f ms", (now_ns() - killed) / 1e6);
	} else {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(rfd);
	expect_usable(s, t);
resume:
	CHECK(t, dmsetup("resume") == 0, "dmsetup resume %s failed", STUCK_DM);
	expect_recovered(s, t, refs);
}

/* Phase 2: the timeout, then everything the module must still do. */
static void stuck_timeout(struct suite *s, struct test_ctx *t, unsigned int refs)
{
	struct fsent *set[2] = { s->all[1], &s->stuck };
	struct fsent *others[2] = { s->all[1], s->all[2] };
	struct fsent *walk[1] = { s->all[0] };
	struct xq_fs out[2];
	struct xq_freeze req;
	uint64_t start, took;
	int ret;

	pattern_write(s->stuck.mnt, s->nonce + 501);
	if (!CHECK(t, dmsetup("suspend") == 0, "dmsetup suspend %s failed", STUCK_DM))
		return;
	start = now_ns();
	ret = freeze_set(s->fd, set, NULL, 2, 0, STUCK_TIMEOUT_MS, &req, out);
	took = (now_ns() - start) / NSEC_PER_MSEC;
	tap_diag("FREEZE with a stuck filesystem returned %s after %llu ms", strerror(-ret),
		 (unsigned long long)took);
	CHECK(t, ret == -ETIMEDOUT && took <= RETURN_BOUND_MS,
	      "FREEZE with a stuck filesystem: %s after %llu ms, expected ETIMEDOUT within %u",
	      ret ? strerror(-ret) : "success", (unsigned long long)took, RETURN_BOUND_MS);
	names_stuck(t, &req, &s->stuck, 1, "the timeout");
	CHECK(t, stuck_workers(s) == 1, "STATUS: %u stuck workers, expected 1", stuck_workers(s));
	expect_writable(t, s->all[1], 2000);
	expect_usable(s, t);

	start = now_ns();
	ret = freeze_set(s->fd, &set[1], NULL, 1, 0, STUCK_TIMEOUT_MS, &req, out);
	took = (now_ns() - start) / NSEC_PER_MSEC;
	CHECK(t, ret == -EBUSY && took < 500,
	      "FREEZE of the stuck filesystem again: %s after %llu ms, expected EBUSY at once",
	      ret ? strerror(-ret) : "success", (unsigned long long)took);
	names_stuck(t, &req, &s->stuck, 0, "EBUSY");

	/* The blkfront walk over ext4 would wait for its s_umount. */
	memset(out, 0, sizeof(out));
	start = now_ns();
	ret = freeze_set(s->fd, walk, NULL, 1, XQ_FREEZE_BLKFRONT, STUCK_TIMEOUT_MS, &req, out);
	took = (now_ns() - start) / NSEC_PER_MSEC;
	CHECK(t, ret == -EBUSY && took < 500,
	      "FREEZE with a walk over the stuck type: %s after %llu ms, expected EBUSY at once",
	      ret ? strerror(-ret) : "success", (unsigned long long)took);
	names_stuck(t, &req, &s->stuck, -1, "the walk's EBUSY");
	if (ret == 0)
		xq_thaw(s->fd, NULL);

	ret = freeze_set(s->fd, others, NULL, 2, 0, STUCK_TIMEOUT_MS * 4, &req, out);
	CHECK(t, ret == 0 && req.nfs == 2, "FREEZE of other filesystems: %s, %u frozen",
	      ret ? strerror(-ret) : "success", req.nfs);
	if (ret == 0) {
		ret = xq_thaw(s->fd, NULL);
		CHECK(t, ret == 0, "THAW of the other filesystems: %s", strerror(-ret));
	}
	expect_idle(t, s->fd, XQ_END_ANY);

	CHECK(t, dmsetup("resume") == 0, "dmsetup resume %s failed", STUCK_DM);
	expect_recovered(s, t, refs);
}

/*
 * Phase 3: every I/O of the filesystem takes 0.7 s (dm-delay). The FREEZE
 * gives up at its timeout naming it; the late freeze completes on its
 * own, and its worker thaws it without anyone's help.
 */
static void slow_io(struct suite *s, struct test_ctx *t, unsigned int refs)
{
	struct fsent *set[2] = { &s->delay, s->all[2] };
	struct fsent *others[1] = { s->all[1] };
	uint64_t start, took;
	struct xq_fs out[2];
	struct xq_freeze req;
	unsigned int now = 0;
	int ret;

	pattern_write(s->delay.mnt, s->nonce + 502);
	if (!CHECK(t, delay_table("/etc/xq-delay-slow") == 0, "cannot slow %s down", DELAY_DM))
		return;
	start = now_ns();
	ret = freeze_set(s->fd, set, NULL, 2, 0, DELAY_TIMEOUT_MS, &req, out);
	took = (now_ns() - start) / NSEC_PER_MSEC;
	tap_diag("FREEZE with a slow filesystem returned %s after %llu ms", strerror(-ret),
		 (unsigned long long)took);
	CHECK(t, ret == -ETIMEDOUT && took <= DELAY_TIMEOUT_MS + 1500,
	      "FREEZE with a slow filesystem: %s after %llu ms, expected ETIMEDOUT within %u",
	      ret ? strerror(-ret) : "success", (unsigned long long)took, DELAY_TIMEOUT_MS + 1500);
	names_stuck(t, &req, &s->delay, 0, "the timeout");
	expect_usable(s, t);
	ret = freeze_set(s->fd, others, NULL, 1, 0, STUCK_TIMEOUT_MS * 4, &req, out);
	CHECK(t, ret == 0, "FREEZE of another filesystem meanwhile: %s", strerror(-ret));
	if (ret == 0)
		xq_thaw(s->fd, NULL);

	start = now_ns();
	while (xq_module_refcnt(&now) == 0 && now != refs &&
	       now_ns() - start < LATE_BOUND_MS * NSEC_PER_MSEC)
		sleep_ms(50);
	tap_diag("the slow worker finished %.1f s after FREEZE returned", (now_ns() - start) / 1e9);
	CHECK(t, now == refs, "module references %u, expected %u: the slow worker is still running",
	      now, refs);
	expect_writable(t, &s->delay, 5000);
	CHECK(t, delay_table("/etc/xq-delay-fast") == 0, "cannot speed %s up again", DELAY_DM);
	expect_idle(t, s->fd, XQ_END_ANY);
}

/* A userspace FIFREEZE stuck on the suspended device, holding its s_umount. */
static pid_t fifreeze_child(const char *mnt)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd, arg = 0;

		close_inherited_fds();
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && ioctl(fd, FIFREEZE, &arg) == 0)
			ioctl(fd, FITHAW, &arg);
		_exit(0);
	}
	return pid;
}

/* A rescue THAW_ANY stops a FREEZE waiting for its walk, at once. */
static void walk_rescued(struct suite *s, struct test_ctx *t, struct fsent *const *walk)
{
	struct xq_thaw any = { .size = sizeof(any), .flags = XQ_THAW_ANY };
	struct child_freeze r = { 0 };
	int ret, rfd = -1, status;
	uint64_t start;
	pid_t pid;

	pid = freeze_child(walk, 1, XQ_FREEZE_BLKFRONT, 10000, &rfd);
	if (!CHECK(t, pid > 0, "fork: %s", strerror(-pid)))
		return;
	if (CHECK(t, child_result(rfd, 500, &r) == -ETIMEDOUT,
		  "FREEZE whose walk meets a stuck FIFREEZE returned at once: %s", strerror(-r.ret))) {
		start = now_ns();
		ret = ioctl(s->fd, XQ_IOC_THAW, &any) < 0 ? -errno : 0;
		CHECK(t, ret == 0 && now_ns() - start < 1000 * NSEC_PER_MSEC,
		      "THAW_ANY during the walk: %s after %.0f ms, expected success at once",
		      ret ? strerror(-ret) : "success", (now_ns() - start) / 1e6);
		ret = child_result(rfd, 1000, &r);
		CHECK(t, ret == 0 && r.ret == -ECANCELED,
		      "the FREEZE in its walk: %s, expected ECANCELED within 1 s of THAW_ANY",
		      ret ? "still waiting" : r.ret ? strerror(-r.ret) : "success");
		tap_diag("THAW_ANY stopped the FREEZE in its walk after %.0f ms",
			 (now_ns() - start) / 1e6);
	}
	kill(pid, SIGKILL);
	wait_exit(pid, KILL_BOUND_MS, &status);
	close(rfd);
	expect_idle(t, s->fd, XQ_END_ANY);
}

/*
 * Phase 4: someone else's freeze (a FIFREEZE) is stuck on the suspended
 * device with its s_umount held. The blkfront walk over ext4 cannot pass
 * it: FREEZE must still return at its timeout, or at once on SIGKILL,
 * naming the type it walked. The module used to walk in the caller's
 * context, in D state, until the device resumed.
 */
static void walk_blocked(struct suite *s, struct test_ctx *t, unsigned int refs)
{
	struct fsent *walk[1] = { s->all[0] };
	struct child_freeze r = { 0 };
	uint64_t start, took;
	struct xq_freeze req;
	struct xq_fs out[1];
	pid_t frozen, pid;
	int ret, rfd = -1, status;

	pattern_write(s->stuck.mnt, s->nonce + 503);
	if (!CHECK(t, dmsetup("suspend") == 0, "dmsetup suspend %s failed", STUCK_DM))
		return;
	frozen = fifreeze_child(s->stuck.mnt);
	sleep_ms(300);
	start = now_ns();
	ret = walk_or_freeze(s->fd, walk, 1, XQ_FREEZE_BLKFRONT, STUCK_TIMEOUT_MS, &req, out);
	took = (now_ns() - start) / NSEC_PER_MSEC;
	tap_diag("FREEZE whose walk meets a stuck FIFREEZE returned %s after %llu ms",
		 strerror(-ret), (unsigned long long)took);
	CHECK(t, ret == -ETIMEDOUT && took <= STUCK_TIMEOUT_MS + 500,
	      "FREEZE whose walk meets a stuck FIFREEZE: %s after %llu ms, expected ETIMEDOUT within %u",
	      ret ? strerror(-ret) : "success", (unsigned long long)took, STUCK_TIMEOUT_MS + 500);
	CHECK(t, !strncmp(req.err_fstype, "ext4", XQ_FSTYPE_LEN),
	      "the walk's timeout names type '%.16s', expected ext4", req.err_fstype);
	expect_usable(s, t);

	pid = freeze_child(walk, 1, XQ_FREEZE_BLKFRONT, 10000, &rfd);
	if (CHECK(t, pid > 0, "fork: %s", strerror(-pid)) &&
	    CHECK(t, child_result(rfd, 500, &r) == -ETIMEDOUT,
		  "FREEZE whose walk meets a stuck FIFREEZE returned at once: %s", strerror(-r.ret))) {
		start = now_ns();
		kill(pid, SIGKILL);
		CHECK(t, wait_exit(pid, KILL_BOUND_MS, &status) == 0,
		      "the FREEZE caller in the walk did not die within %u ms of SIGKILL",
		      KILL_BOUND_MS);
		tap_diag("SIGKILLed caller in the walk gone after %.0f ms", (now_ns() - start) / 1e6);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (rfd >= 0)
		close(rfd);
	walk_rescued(s, t, walk);
	CHECK(t, dmsetup("resume") == 0, "dmsetup resume %s failed", STUCK_DM);
	if (frozen > 0)
		CHECK(t, wait_exit(frozen, 10000, &status) == 0, "the FIFREEZE child is still stuck");
	expect_recovered(s, t, refs);
}

void test_stuck_io(struct suite *s, struct test_ctx *t)
{
	unsigned int refs;
	int ret;

	ret = xq_module_refcnt(&refs);
	if (!CHECK(t, ret == 0, "module refcnt: %s", strerror(-ret)))
		return;
	stuck_killed(s, t, refs);
	stuck_timeout(s, t, refs);
	walk_blocked(s, t, refs);
	slow_io(s, t, refs);
}
