// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "suite.h"
#include "util.h"

bool kernel_at_least(const struct suite *s, unsigned int major, unsigned int minor)
{
	return s->kver[0] > major || (s->kver[0] == major && s->kver[1] >= minor);
}

int freeze_set(int fd, struct fsent *const *fs, const uint32_t *levels, unsigned int n,
	       uint32_t flags, uint32_t timeout_ms, struct xq_freeze *req, struct xq_fs *out)
{
	struct xq_dev devs[8];

	if (n > sizeof(devs) / sizeof(devs[0]))
		return -E2BIG;
	xq_freeze_init(req, devs, fs, levels, n, out, n);
	req->flags = flags;
	req->timeout_ms = timeout_ms;
	return xq_freeze(fd, req);
}

const struct xq_fs *find_frozen(const struct xq_fs *out, unsigned int n, const struct fsent *f)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (fs_matches(&out[i], f))
			return &out[i];
	return NULL;
}

uint64_t first_frozen_ns(const struct xq_fs *out, unsigned int n)
{
	uint64_t first = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (out[i].frozen_ns < first)
			first = out[i].frozen_ns;
	return first;
}

bool expect_writable(struct test_ctx *t, const struct fsent *f, unsigned int ms)
{
	struct child c;
	int ret;

	ret = probe_start(&c, f->mnt);
	if (!CHECK(t, ret == 0, "cannot start a probe on %s: %s", f->mnt, strerror(-ret)))
		return false;
	ret = probe_wait(&c, ms);
	CHECK(t, ret == 0, "a write to %s (%s) is still blocked after %u ms: frozen", f->mnt,
	      f->fstype, ms);
	if (ret == 0)
		child_reap(&c);
	/* else the probe stays blocked until something thaws; never reaped. */
	return ret == 0;
}

bool expect_blocked(struct test_ctx *t, const struct fsent *f, unsigned int ms, struct child *c)
{
	int ret;

	c->pid = 0;
	ret = probe_start(c, f->mnt);
	if (!CHECK(t, ret == 0, "cannot start a probe on %s: %s", f->mnt, strerror(-ret)))
		return false;
	ret = probe_wait(c, ms);
	return CHECK(t, ret == -ETIMEDOUT, "a write to %s (%s) completed while it should be frozen",
		     f->mnt, f->fstype);
}

bool expect_released(struct test_ctx *t, const struct fsent *f, struct child *c, unsigned int ms)
{
	int ret;

	if (c->pid <= 0)
		return false;
	ret = probe_wait(c, ms);
	if (!CHECK(t, ret == 0, "a write blocked on %s (%s) still blocked %u ms after the thaw",
		   f->mnt, f->fstype, ms))
		return false;
	child_reap(c);
	return true;
}

/* A thaw that needs no waiting (release, deadline) ends a moment after the writes resume. */
#define THAWING_MS 2000

bool expect_idle(struct test_ctx *t, int fd, uint32_t end)
{
	uint64_t until = now_ns() + THAWING_MS * NSEC_PER_MSEC;
	struct xq_status st;
	int ret;

	while ((ret = xq_status(fd, &st, NULL, 0)) == 0 && st.state == XQ_STATE_THAWING &&
	       now_ns() < until)
		sleep_ms(5);
	if (!CHECK(t, ret == 0, "STATUS failed: %s", strerror(-ret)))
		return false;
	return CHECK(t, st.state == XQ_STATE_IDLE && st.nfs == 0 && st.holder_pid == 0,
		     "STATUS: state %u, %u filesystems, holder %d; expected idle, 0, 0", st.state,
		     st.nfs, st.holder_pid) &&
	       CHECK(t, end == XQ_END_ANY || st.last_end == end, "STATUS: last freeze ended by %s, expected %s",
		     xq_end_name(st.last_end), xq_end_name(end));
}

void expect_deadline_ended(struct test_ctx *t, int fd)
{
	int ret;

	expect_idle(t, fd, XQ_END_DEADLINE);
	ret = xq_thaw(fd, NULL);
	CHECK(t, ret == -ETIMEDOUT, "THAW after the deadline: %s, expected ETIMEDOUT",
	      ret ? strerror(-ret) : "success");
}
