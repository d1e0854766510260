// SPDX-License-Identifier: GPL-2.0
/*
 * Someone else's thaw. With freeze holders (6.6+) the module freezes as the
 * kernel holder, so a userspace FITHAW cannot undo it; before 6.6 it can,
 * and the module's THAW then reports ECANCELED (include/uapi/linux/xquiesce.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "suite.h"
#include "util.h"

static int fs_ioctl(const struct fsent *f, unsigned long cmd)
{
	int fd, ret;

	fd = open(f->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, cmd, 0) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * 6.6+: FITHAW leaves the freeze in place, and a userspace freeze nests.
 * FITHAW itself says EINVAL, except on 6.8-6.15 with the nested-thaw fix
 * (6.12.111+), which return 0 for a thaw that had nothing to drop.
 */
static void fithaw_with_holders(struct suite *s, struct test_ctx *t, const struct fsent *f)
{
	struct xq_status st;
	struct xq_thaw th;
	struct child probe;
	int ret;

	ret = fs_ioctl(f, FITHAW);
	CHECK(t, ret == -EINVAL || (ret == 0 && kernel_at_least(s, 6, 8) && !kernel_at_least(s, 6, 16)),
	      "FITHAW of %s while the module holds it: %s, expected EINVAL", f->mnt,
	      ret ? strerror(-ret) : "success");
	expect_blocked(t, f, 200, &probe);
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && st.state == XQ_STATE_FROZEN && st.nfs == 2,
	      "STATUS after FITHAW: state %u, %u filesystems; expected frozen, 2", st.state, st.nfs);
	ret = fs_ioctl(f, FIFREEZE);
	CHECK(t, ret == 0, "FIFREEZE of %s on top of the module's freeze: %s", f->mnt,
	      strerror(-ret));
	ret = xq_thaw(s->fd, &th);
	CHECK(t, ret == 0 && th.nfs == 2 && th.nstill_frozen == 1,
	      "THAW: %s, %u thawed, %u still frozen by others; expected 2 and 1",
	      strerror(-ret), th.nfs, th.nstill_frozen);
	ret = probe_wait(&probe, 300);
	CHECK(t, ret == -ETIMEDOUT, "%s took writes while userspace still froze it", f->mnt);
	ret = fs_ioctl(f, FITHAW);
	CHECK(t, ret == 0, "FITHAW of the userspace freeze: %s", strerror(-ret));
	expect_released(t, f, &probe, 2000);
	expect_idle(t, s->fd, XQ_END_THAW);
}

/* Before 6.6: FITHAW thaws; the module notices at THAW and says so. */
static void fithaw_without_holders(struct suite *s, struct test_ctx *t, const struct fsent *f)
{
	int ret;

	ret = fs_ioctl(f, FITHAW);
	CHECK(t, ret == 0, "FITHAW of %s on a kernel without freeze holders: %s", f->mnt,
	      strerror(-ret));
	expect_writable(t, f, 1000);
	ret = xq_thaw(s->fd, NULL);
	CHECK(t, ret == -ECANCELED, "THAW after a foreign FITHAW: %s, expected ECANCELED",
	      ret ? strerror(-ret) : "success");
	expect_writable(t, &s->fs[1], 1000);
	expect_idle(t, s->fd, XQ_END_ANY);
}

void test_fithaw(struct suite *s, struct test_ctx *t)
{
	bool holders = kernel_at_least(s, 6, 6), exclusive = kernel_at_least(s, 6, 16);
	struct xq_fs out[2];
	struct xq_freeze req;
	struct xq_status st;
	int ret;

	ret = xq_status(s->fd, &st, NULL, 0);
	if (!CHECK(t, ret == 0, "STATUS: %s", strerror(-ret)))
		return;
	CHECK(t, !!(st.features & XQ_FEATURE_KERNEL_HOLDER) == holders,
	      "kernel %u.%u: XQ_FEATURE_KERNEL_HOLDER is %s", s->kver[0], s->kver[1],
	      holders ? "missing" : "set");
	CHECK(t, !!(st.features & XQ_FEATURE_EXCLUSIVE) == exclusive,
	      "kernel %u.%u: XQ_FEATURE_EXCLUSIVE is %s", s->kver[0], s->kver[1],
	      exclusive ? "missing" : "set");
	ret = freeze_set(s->fd, s->all, NULL, 2, 0, 30000, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE failed: %s", strerror(-ret)))
		return;
	if (holders)
		fithaw_with_holders(s, t, &s->fs[0]);
	else
		fithaw_without_holders(s, t, &s->fs[0]);
}
