// SPDX-License-Identifier: GPL-2.0
/* The freeze ends without its holder's THAW: deadline, death of the holder, close, rescue. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"
#include "util.h"

/*
 * Long enough for every test filesystem to freeze first: on the debug
 * kernel (KASAN, lockdep) under load the last one froze more than 500 ms
 * after the first, and the FREEZE itself timed out, which is the module
 * keeping its promise but leaves no deadline thaw to watch.
 */
#define DEADLINE_MS 2000
#define DEADLINE_SLACK_MS 250
/* "At once", as far as a loaded TCG guest can tell. */
#define RELEASE_MS 1000

void test_deadline(struct suite *s, struct test_ctx *t)
{
	struct xq_fs out[NFS];
	struct xq_freeze req;
	struct xq_status st;
	struct child probe;
	uint64_t late;
	int ret;

	ret = freeze_set(s->fd, s->all, NULL, NFS, 0, DEADLINE_MS, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE failed: %s", strerror(-ret)))
		return;
	CHECK(t, req.timeout_ms_used == DEADLINE_MS, "timeout used %u ms, asked for %u",
	      req.timeout_ms_used, DEADLINE_MS);
	CHECK(t, req.deadline_ns == first_frozen_ns(out, req.nfs) + DEADLINE_MS * NSEC_PER_MSEC,
	      "deadline %.1f ms after the first filesystem froze, expected %u",
	      ((int64_t)(req.deadline_ns - first_frozen_ns(out, req.nfs))) / 1e6, DEADLINE_MS);
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && st.state == XQ_STATE_FROZEN && st.remaining_ns > 0 &&
		 st.remaining_ns <= DEADLINE_MS * NSEC_PER_MSEC,
	      "STATUS while frozen: state %u, %.1f ms left", st.state, st.remaining_ns / 1e6);

	if (!expect_blocked(t, &s->fs[1], 100, &probe))
		return;
	ret = probe_wait(&probe, DEADLINE_MS + 5000);
	if (CHECK(t, ret == 0, "still frozen 5 s after the deadline")) {
		late = probe.st->done_ns - req.deadline_ns;
		tap_diag("deadline thaw: a blocked write completed %.1f ms after the deadline",
			 (int64_t)late / 1e6);
		CHECK(t, probe.st->done_ns >= req.deadline_ns,
		      "a blocked write completed %.1f ms before the deadline",
		      (req.deadline_ns - probe.st->done_ns) / 1e6);
		CHECK(t, probe.st->done_ns <= req.deadline_ns + DEADLINE_SLACK_MS * NSEC_PER_MSEC,
		      "thawed %.1f ms after the deadline, allowed %u", (int64_t)late / 1e6,
		      DEADLINE_SLACK_MS);
	}
	child_reap(&probe);
	expect_deadline_ended(t, s->fd);
}

/*
 * A child process that opened /dev/xquiesce and froze every test
 * filesystem. On a 'T' from the parent it THAWs and sends back the result;
 * otherwise it waits until killed.
 */
struct holder {
	pid_t pid;
	int cmd;	/* parent -> child */
	int res;	/* child -> parent */
};

static void holder_body(struct suite *s, int cmd, int res)
{
	struct xq_freeze req;
	struct xq_fs out[NFS];
	char ready, order;
	int fd, ret;

	fd = xq_open();
	ret = fd < 0 ? fd : freeze_set(fd, s->all, NULL, NFS, 0, 60000, &req, out);
	ready = ret ? 'E' : 'F';
	if (write(res, &ready, 1) != 1 || ret)
		_exit(1);
	if (read(cmd, &order, 1) != 1 || order != 'T')
		_exit(0);
	ret = xq_thaw(fd, NULL);
	_exit(write(res, &ret, sizeof(ret)) == sizeof(ret) ? 0 : 1);
}

static void holder_stop(struct holder *h)
{
	close(h->cmd);
	close(h->res);
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
}

static bool holder_start(struct suite *s, struct test_ctx *t, struct holder *h)
{
	int cmd[2], res[2];
	char ready = 0;

	if (!CHECK(t, pipe(cmd) == 0, "pipe: %s", strerror(errno)))
		return false;
	if (!CHECK(t, pipe(res) == 0, "pipe: %s", strerror(errno))) {
		close(cmd[0]);
		close(cmd[1]);
		return false;
	}
	h->pid = fork();
	if (h->pid == 0) {
		close(cmd[1]);
		close(res[0]);
		holder_body(s, cmd[0], res[1]);
	}
	close(cmd[0]);
	close(res[1]);
	h->cmd = cmd[1];
	h->res = res[0];
	if (CHECK(t, h->pid > 0 && read(h->res, &ready, 1) == 1 && ready == 'F',
		  "the child could not freeze (%c)", ready ? ready : '-'))
		return true;
	if (h->pid > 0)
		holder_stop(h);
	return false;
}

void test_holder_killed(struct suite *s, struct test_ctx *t)
{
	struct xq_status st;
	struct child probe;
	struct holder h;
	uint64_t killed;
	int ret;

	if (!holder_start(s, t, &h))
		return;
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && st.state == XQ_STATE_FROZEN && st.holder_pid == h.pid,
	      "STATUS: state %u holder %d, expected frozen by %d", st.state, st.holder_pid, h.pid);
	expect_blocked(t, &s->fs[2], 100, &probe);
	killed = now_ns();
	holder_stop(&h);
	if (expect_released(t, &s->fs[2], &probe, RELEASE_MS))
		tap_diag("SIGKILL of the holder: writes resumed after %.1f ms",
			 (now_ns() - killed) / 1e6);
	expect_idle(t, s->fd, XQ_END_RELEASED);
}

/* Another opener's XQ_THAW_ANY ends the freeze; the holder learns it was cancelled. */
void test_rescue(struct suite *s, struct test_ctx *t)
{
	struct xq_thaw th;
	struct child probe;
	struct holder h;
	uint64_t rescued;
	int ret, holder_ret = 0;

	if (!holder_start(s, t, &h))
		return;
	expect_blocked(t, &s->fs[1], 100, &probe);
	memset(&th, 0, sizeof(th));
	th.size = sizeof(th);
	th.flags = XQ_THAW_ANY;
	rescued = now_ns();
	ret = ioctl(s->fd, XQ_IOC_THAW, &th) < 0 ? -errno : 0;
	CHECK(t, ret == 0 && th.nfs == NFS, "rescue THAW: %s, %u thawed, expected %u",
	      strerror(-ret), th.nfs, NFS);
	CHECK(t, th.held_ns >= 100 * NSEC_PER_MSEC,
	      "rescue THAW reports the freeze held %.1f ms, expected 100 ms or more",
	      th.held_ns / 1e6);
	if (expect_released(t, &s->fs[1], &probe, RELEASE_MS))
		tap_diag("rescue thaw: writes resumed after %.1f ms", (now_ns() - rescued) / 1e6);
	expect_idle(t, s->fd, XQ_END_RESCUE);
	ret = write(h.cmd, "T", 1) == 1 && read(h.res, &holder_ret, sizeof(holder_ret)) ==
						   sizeof(holder_ret);
	CHECK(t, ret, "the holder did not report its THAW");
	CHECK(t, !ret || holder_ret == -ECANCELED,
	      "the holder's THAW after the rescue: %s, expected ECANCELED",
	      holder_ret ? strerror(-holder_ret) : "success");
	holder_stop(&h);
	expect_idle(t, s->fd, XQ_END_RESCUE);
	expect_writable(t, &s->fs[1], 1000);
}

void test_holder_closed(struct suite *s, struct test_ctx *t)
{
	struct xq_freeze req;
	struct xq_fs out[NFS];
	struct child probe;
	uint64_t closed;
	int fd, ret;

	fd = xq_open();
	if (!CHECK(t, fd >= 0, "open %s: %s", XQ_DEVICE_PATH, strerror(-fd)))
		return;
	ret = freeze_set(fd, s->all, NULL, NFS, 0, 60000, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE failed: %s", strerror(-ret))) {
		close(fd);
		return;
	}
	expect_blocked(t, &s->fs[3], 100, &probe);
	closed = now_ns();
	close(fd);
	if (expect_released(t, &s->fs[3], &probe, RELEASE_MS))
		tap_diag("close() of the holder: writes resumed after %.1f ms",
			 (now_ns() - closed) / 1e6);
	expect_idle(t, s->fd, XQ_END_RELEASED);
}
