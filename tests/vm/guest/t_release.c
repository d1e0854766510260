// SPDX-License-Identifier: GPL-2.0
/* The freeze ends by itself: deadline, death of the holder, close. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"
#include "util.h"

#define DEADLINE_MS 500
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
	CHECK(t, req.deadline_ns >= req.frozen_ns + DEADLINE_MS * NSEC_PER_MSEC - NSEC_PER_MSEC &&
		 req.deadline_ns <= now_ns() + DEADLINE_MS * NSEC_PER_MSEC,
	      "deadline %.1f ms after the freeze completed, expected %u",
	      ((int64_t)(req.deadline_ns - req.frozen_ns)) / 1e6, DEADLINE_MS);
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
	expect_idle(t, s->fd, XQ_END_DEADLINE);
	ret = xq_thaw(s->fd, NULL);
	CHECK(t, ret == -ETIMEDOUT, "THAW after the deadline: %s, expected ETIMEDOUT",
	      ret ? strerror(-ret) : "success");
}

/* A child freezes and waits; the parent kills it. */
void test_holder_killed(struct suite *s, struct test_ctx *t)
{
	struct xq_freeze req;
	struct xq_status st;
	struct xq_fs out[NFS];
	struct child probe;
	uint64_t killed;
	int pipefd[2], status, ret;
	char ready = 0;
	pid_t pid;

	if (!CHECK(t, pipe(pipefd) == 0, "pipe: %s", strerror(errno)))
		return;
	pid = fork();
	if (pid == 0) {
		int fd = xq_open();

		close(pipefd[0]);
		ret = fd < 0 ? fd : freeze_set(fd, s->all, NULL, NFS, 0, 60000, &req, out);
		ready = ret ? 'E' : 'F';
		if (write(pipefd[1], &ready, 1) != 1 || ret)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (!CHECK(t, pid > 0 && read(pipefd[0], &ready, 1) == 1 && ready == 'F',
		   "the child could not freeze (%c)", ready ? ready : '-')) {
		close(pipefd[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return;
	}
	close(pipefd[0]);
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && st.state == XQ_STATE_FROZEN && st.holder_pid == pid,
	      "STATUS: state %u holder %d, expected frozen by %d", st.state, st.holder_pid, pid);
	expect_blocked(t, &s->fs[2], 100, &probe);
	killed = now_ns();
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (expect_released(t, &s->fs[2], &probe, RELEASE_MS))
		tap_diag("SIGKILL of the holder: writes resumed after %.1f ms",
			 (now_ns() - killed) / 1e6);
	expect_idle(t, s->fd, XQ_END_RELEASED);
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
