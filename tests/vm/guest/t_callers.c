// SPDX-License-Identifier: GPL-2.0
/*
 * Callers that see another file tree (issue 11, finding 6): FREEZE takes
 * descriptors, so a caller in a chroot without /proc, or in a mount
 * namespace where the filesystems are not even mounted, freezes them all
 * the same. The module used to read the caller's /proc/filesystems and
 * /proc/self/mountinfo and look its mount points up.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"
#include "util.h"

#define TEST_TIMEOUT_MS 30000

struct caller_result {
	int setup;	/* 0, or the -errno of the chroot/unshare step */
	int freeze;
	unsigned int nfs;
	int thaw;
};

/* In the child: FREEZE fs[0..n-1] from where it stands, check writes block, THAW. */
static void caller_child(struct suite *s, struct fsent *const *fs, unsigned int n, int setup,
			 int out_fd)
{
	struct caller_result r = { .setup = setup };
	struct xq_fs out[NFS];
	struct xq_freeze req;

	if (!setup) {
		r.freeze = freeze_set(s->fd, fs, NULL, n, 0, TEST_TIMEOUT_MS, &req, out);
		r.nfs = req.nfs;
		/* The parent probes the writes now; it answers with one byte. */
		if (write(out_fd, &r, sizeof(r)) != sizeof(r))
			_exit(1);
		sleep_ms(400);
		r.thaw = r.freeze ? 0 : xq_thaw(s->fd, NULL);
	}
	_exit(write(out_fd, &r, sizeof(r)) == sizeof(r) ? 0 : 1);
}

static int enter_chroot(void)
{
	if (mkdir("/tmp/xq-chroot", 0700) < 0 && errno != EEXIST)
		return -errno;
	if (chroot("/tmp/xq-chroot") < 0 || chdir("/") < 0)
		return -errno;
	return access("/proc/self/mountinfo", F_OK) == 0 ? -EEXIST : 0;
}

/* A private mount namespace where the filesystems and /proc are gone. */
static int enter_mntns(struct fsent *const *fs, unsigned int n)
{
	unsigned int i;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	for (i = 0; i < n; i++)
		if (umount2(fs[i]->mnt, MNT_DETACH) < 0)
			return -errno;
	return umount2("/proc", MNT_DETACH) < 0 ? -errno : 0;
}

static void run_caller(struct suite *s, struct test_ctx *t, bool chrooted, const char *what)
{
	struct fsent *set[2] = { s->all[1], s->all[2] };
	struct caller_result r;
	struct child probe = { 0 };
	int pipefd[2], status;
	pid_t pid;

	if (!CHECK(t, pipe(pipefd) == 0, "pipe: %s", strerror(errno)))
		return;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		caller_child(s, set, 2, chrooted ? enter_chroot() : enter_mntns(set, 2), pipefd[1]);
	}
	close(pipefd[1]);
	memset(&r, 0, sizeof(r));
	if (read(pipefd[0], &r, sizeof(r)) != sizeof(r)) {
		CHECK(t, false, "%s: the caller died", what);
		goto out;
	}
	if (!CHECK(t, r.setup == 0, "%s: setup: %s", what, strerror(-r.setup)))
		goto out;
	if (CHECK(t, r.freeze == 0 && r.nfs == 2, "%s: FREEZE: %s, %u frozen, expected 2", what,
		  r.freeze ? strerror(-r.freeze) : "success", r.nfs))
		expect_blocked(t, s->all[2], 100, &probe);
	if (read(pipefd[0], &r, sizeof(r)) == sizeof(r))
		CHECK(t, r.thaw == 0, "%s: THAW: %s", what, strerror(-r.thaw));
	if (probe.pid > 0)
		expect_released(t, s->all[2], &probe, 2000);
out:
	close(pipefd[0]);
	wait_exit(pid, 5000, &status);
	expect_idle(t, s->fd, XQ_END_ANY);
}

void test_other_root(struct suite *s, struct test_ctx *t)
{
	run_caller(s, t, true, "in a chroot without /proc");
	run_caller(s, t, false, "in a mount namespace without them or /proc");
}
