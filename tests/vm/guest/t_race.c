// SPDX-License-Identifier: GPL-2.0
/*
 * Races (issue 11): for a fixed time, under writers on every filesystem,
 * threads issue FREEZE (random sets, levels in any order for the loop
 * stack, timeouts from 1 ms to seconds), THAW, THAW_ANY and STATUS on
 * shared, duplicated and private descriptors, while others close and dup
 * those descriptors, SIGKILL holders inside FREEZE, FIFREEZE/FITHAW the
 * same mounts, and mount and unmount (lazily) a spare filesystem that the
 * freezes name. Every thread must keep returning; at the end nothing is
 * frozen, no worker is left, every filesystem takes writes, and the spare
 * one is clean (e2fsck -fn).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"
#include "util.h"

#define RACE_MS 20000
#define JOIN_MS 30000
#define KILL_BOUND_MS 3000
#define SPARE_DEV "/dev/loop1"	/* guest-init: an ext4 image on /tmp */
#define SPARE_MNT "/mnt/spare"
#define NSLOTS 4
#define NPOOL (NFS + 2)

enum { C_FREEZE, C_FROZEN, C_THAW, C_RESCUE, C_STATUS, C_DUP, C_FIFREEZE, C_KILL, C_MOUNT, C_N };
static const char *const counter_names[C_N] = {
	"FREEZE", "frozen", "THAW", "THAW_ANY", "STATUS", "dup/close", "FIFREEZE", "SIGKILL in FREEZE",
	"mount/umount",
};

/* How the racing FREEZE calls ended. */
static const int outcome_errno[] = { 0, EBUSY, ETIMEDOUT, EINVAL, ENOTBLK, ECANCELED, EINTR, EBADF };
#define NOUTCOMES (sizeof(outcome_errno) / sizeof(outcome_errno[0]))

struct race {
	struct suite *s;
	volatile int stop;
	int slots[NSLOTS];		/* dups of the suite's descriptor */
	const char *pool[NPOOL];	/* mount points */
	unsigned long count[C_N];
	unsigned long outcome[NOUTCOMES + 1];	/* the last: any other error */
	unsigned long slow_kills;	/* holders that outlived SIGKILL by KILL_BOUND_MS */
};

static __thread uint64_t rng;

static uint32_t pick(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void count(struct race *r, int c)
{
	__atomic_add_fetch(&r->count[c], 1, __ATOMIC_RELAXED);
}

static int any_fd(struct race *r)
{
	int i = pick(NSLOTS + 1);

	return i == NSLOTS ? r->s->fd : __atomic_load_n(&r->slots[i], __ATOMIC_RELAXED);
}

/* A random subset of the pool at random levels, by freshly opened descriptors. */
static int race_freeze(struct race *r, int fd, uint32_t flags, uint32_t timeout_ms)
{
	struct xq_dev devs[NPOOL];
	struct xq_fs out[NPOOL];
	struct xq_freeze req;
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < NPOOL; i++) {
		/* The spare filesystem is mounted half of the time: ENOTBLK otherwise. */
		if (pick(i == NPOOL - 1 ? 4 : 2))
			continue;
		devs[n] = (struct xq_dev){ .level = pick(3) };
		devs[n].fd = open(r->pool[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (devs[n].fd >= 0)
			n++;
	}
	if (!n)
		return -ENOENT;
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.flags = flags;
	req.timeout_ms = timeout_ms;
	req.ndevs = n;
	req.devs = (uintptr_t)devs;
	req.fs = (uintptr_t)out;
	req.nfs_max = NPOOL;
	count(r, C_FREEZE);
	ret = xq_freeze(fd, &req);
	for (i = 0; i < NOUTCOMES && outcome_errno[i] != -ret; i++)
		;
	__atomic_add_fetch(&r->outcome[i], 1, __ATOMIC_RELAXED);
	while (n--)
		close(devs[n].fd);
	return ret;
}

static void *freezer(void *arg)
{
	static const uint32_t timeouts[] = { 1, 99, 100, 101, 150, 300, 700, 1500, 3000 };
	struct race *r = arg;

	rng = now_ns() | 1;
	while (!r->stop) {
		bool private = pick(2);
		int fd = private ? xq_open() : any_fd(r);

		if (race_freeze(r, fd, pick(2) ? XQ_FREEZE_PRESYNC : 0, timeouts[pick(9)]) == 0) {
			count(r, C_FROZEN);
			sleep_ms(pick(30));
			if (pick(3))
				xq_thaw(fd, NULL);
		}
		if (private && fd >= 0)
			close(fd);	/* the release thaws what it still holds */
		sleep_ms(pick(5));
	}
	return NULL;
}

static void *thawer(void *arg)
{
	struct xq_thaw any = { .size = sizeof(any), .flags = XQ_THAW_ANY };
	struct race *r = arg;
	struct xq_fs fs[NPOOL];
	struct xq_status st;
	int fd;

	rng = now_ns() | 3;
	while (!r->stop) {
		switch (pick(4)) {
		case 0:
			fd = xq_open();
			ioctl(fd, XQ_IOC_THAW, &any);
			close(fd);
			count(r, C_RESCUE);
			break;
		case 1:
			xq_thaw(any_fd(r), NULL);
			count(r, C_THAW);
			break;
		default:
			xq_status(any_fd(r), &st, fs, pick(NPOOL + 1));
			count(r, C_STATUS);
			break;
		}
		sleep_ms(1 + pick(20));
	}
	return NULL;
}

static void *duper(void *arg)
{
	struct race *r = arg;
	int i, old;

	rng = now_ns() | 5;
	while (!r->stop) {
		i = pick(NSLOTS);
		old = __atomic_exchange_n(&r->slots[i], dup(r->s->fd), __ATOMIC_RELAXED);
		close(old);
		count(r, C_DUP);
		sleep_ms(1 + pick(10));
	}
	return NULL;
}

static void *fifreezer(void *arg)
{
	struct race *r = arg;
	int fd, arg0 = 0;

	rng = now_ns() | 7;
	while (!r->stop) {
		fd = open(r->pool[pick(NPOOL)], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && ioctl(fd, FIFREEZE, &arg0) == 0) {
			sleep_ms(pick(15));
			ioctl(fd, FITHAW, &arg0);
		}
		if (fd >= 0)
			close(fd);
		count(r, C_FIFREEZE);
		sleep_ms(2 + pick(10));
	}
	return NULL;
}

/* A holder SIGKILLed at a random moment of its FREEZE (pre-sync makes it long). */
static void *killer(void *arg)
{
	struct race *r = arg;
	int status;
	pid_t pid;

	rng = now_ns() | 9;
	while (!r->stop) {
		pid = fork();
		if (pid == 0) {
			int fd = xq_open();

			race_freeze(r, fd, XQ_FREEZE_PRESYNC, 2000);
			pause();
			_exit(0);
		}
		if (pid < 0)
			break;
		sleep_ms(pick(40));
		kill(pid, SIGKILL);
		if (wait_exit(pid, KILL_BOUND_MS, &status)) {
			__atomic_add_fetch(&r->slow_kills, 1, __ATOMIC_RELAXED);
			waitpid(pid, &status, 0);
		}
		count(r, C_KILL);
		sleep_ms(pick(20));
	}
	return NULL;
}

static void *mounter(void *arg)
{
	struct race *r = arg;

	rng = now_ns() | 11;
	while (!r->stop) {
		if (mount(SPARE_DEV, SPARE_MNT, "ext4", 0, NULL) == 0) {
			sleep_ms(pick(40));
			umount2(SPARE_MNT, MNT_DETACH);
		}
		count(r, C_MOUNT);
		sleep_ms(pick(20));
	}
	return NULL;
}

static int join_by(pthread_t th, uint64_t deadline)
{
	struct timespec ts;
	uint64_t now = now_ns();

	clock_gettime(CLOCK_REALTIME, &ts);
	if (deadline > now) {
		uint64_t ns = ts.tv_nsec + deadline - now;

		ts.tv_sec += ns / 1000000000ULL;
		ts.tv_nsec = ns % 1000000000ULL;
	}
	return pthread_timedjoin_np(th, NULL, &ts);
}

static int run_e2fsck(const char *dev)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		close_inherited_fds();
		execl("/sbin/e2fsck", "e2fsck", "-fn", dev, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || wait_exit(pid, 20000, &status))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Undoes whatever the threads left: a rescue thaw, userspace freezes. */
static void race_cleanup(struct race *r)
{
	struct xq_thaw any = { .size = sizeof(any), .flags = XQ_THAW_ANY };
	int i, fd, arg0 = 0, tries;

	ioctl(r->s->fd, XQ_IOC_THAW, &any);
	for (i = 0; i < NPOOL; i++) {
		fd = open(r->pool[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		for (tries = 0; fd >= 0 && tries < 4 && ioctl(fd, FITHAW, &arg0) == 0; tries++)
			;
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < NSLOTS; i++)
		close(r->slots[i]);
	while (umount2(SPARE_MNT, MNT_DETACH) == 0)
		;
}

void test_races(struct suite *s, struct test_ctx *t)
{
	void *(*const bodies[])(void *) = { freezer, freezer, thawer, duper, fifreezer, killer,
					     mounter };
	enum { NTHREADS = sizeof(bodies) / sizeof(bodies[0]) };
	static struct race r;
	struct child writers[NFS];
	pthread_t th[NTHREADS];
	unsigned int i, refs, after, stuck = 0;
	uint64_t end;
	char line[256];
	int ret, len;

	memset(&r, 0, sizeof(r));
	r.s = s;
	for (i = 0; i < NFS; i++)
		r.pool[i] = s->all[i]->mnt;
	r.pool[NFS] = s->loop.mnt;
	r.pool[NFS + 1] = SPARE_MNT;
	for (i = 0; i < NSLOTS; i++)
		r.slots[i] = dup(s->fd);
	/* dup() shares the open file: no module reference of its own. */
	if (!CHECK(t, xq_module_refcnt(&refs) == 0, "module refcnt unreadable"))
		return;
	for (i = 0; i < NFS; i++)
		writer_start(&writers[i], s->all[i]->mnt);

	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, bodies[i], &r);
	sleep_ms(RACE_MS);
	r.stop = 1;
	end = now_ns() + JOIN_MS * NSEC_PER_MSEC;
	for (i = 0; i < NTHREADS; i++) {
		ret = join_by(th[i], end);
		stuck += ret != 0;
	}
	CHECK(t, !stuck, "%u threads did not return within %u s of the end (deadlock?)", stuck,
	      JOIN_MS / 1000);
	CHECK(t, !r.slow_kills, "%lu holders lived on more than %u ms after SIGKILL inside FREEZE",
	      r.slow_kills, KILL_BOUND_MS);
	len = 0;
	for (i = 0; i < C_N; i++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu", i ? ", " : "",
				counter_names[i], r.count[i]);
	tap_diag("race iterations: %s", line);
	len = 0;
	for (i = 0; i <= NOUTCOMES; i++)
		len += snprintf(line + len, sizeof(line) - len, "%s%s %lu", i ? ", " : "",
				i == NOUTCOMES ? "other" : outcome_errno[i] ?
				strerrorname_np(outcome_errno[i]) : "ok", r.outcome[i]);
	tap_diag("race FREEZE outcomes: %s", line);

	race_cleanup(&r);
	expect_idle(t, s->fd, XQ_END_ANY);
	end = now_ns() + 10000 * NSEC_PER_MSEC;
	while (xq_module_refcnt(&after) == 0 && after != refs && now_ns() < end)
		sleep_ms(20);
	CHECK(t, after == refs, "module references %u after the races, expected %u", after, refs);
	for (i = 0; i < NFS; i++)
		expect_writable(t, s->all[i], 3000);
	expect_writable(t, &s->loop, 3000);
	for (i = 0; i < NFS; i++)
		child_reap(&writers[i]);
	ret = run_e2fsck(SPARE_DEV);
	CHECK(t, ret == 0, "e2fsck -fn %s (mounted and unmounted while frozen): exit %d", SPARE_DEV,
	      ret);
}
