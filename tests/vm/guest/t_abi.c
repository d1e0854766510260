// SPDX-License-Identifier: GPL-2.0
/* What STATUS reports, and the size rules that let the structures grow. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "suite.h"
#include "util.h"

#define STATUS_TIMEOUT_MS 30000
#define STATUS_WAIT_MS 200

/* The types the guest's init made: ext4, xfs, btrfs, ext4 on LVM. */
static const char *const fstypes[NFS] = { "ext4", "xfs", "btrfs", "ext4" };

static void check_status_entries(struct test_ctx *t, struct suite *s, const struct xq_fs *got,
				 const struct xq_fs *frozen)
{
	const struct xq_fs *x, *f;
	unsigned int i;

	for (i = 0; i < NFS; i++) {
		x = find_frozen(got, NFS, &s->fs[i]);
		if (!CHECK(t, x, "STATUS lacks %s (dev %u:%u)", s->fs[i].mnt,
			   major(s->fs[i].dev), minor(s->fs[i].dev)))
			continue;
		CHECK(t, !strncmp(x->fstype, fstypes[i], XQ_FSTYPE_LEN),
		      "%s: fstype '%.16s', expected '%s'", s->fs[i].mnt, x->fstype, fstypes[i]);
		f = find_frozen(frozen, NFS, &s->fs[i]);
		CHECK(t, f && f->frozen_ns == x->frozen_ns && !strncmp(f->id, x->id, XQ_ID_LEN),
		      "%s: STATUS says frozen at %llu as '%.32s', FREEZE said %llu as '%.32s'",
		      s->fs[i].mnt, (unsigned long long)x->frozen_ns, x->id,
		      f ? (unsigned long long)f->frozen_ns : 0ULL, f ? f->id : "(missing)");
	}
}

/* STATUS from a file other than the holder's, as xquiescectl status does. */
void test_status_frozen(struct suite *s, struct test_ctx *t)
{
	struct xq_fs out[NFS], got[NFS + 1], small[NFS];
	struct xq_freeze req;
	struct xq_status st;
	uint64_t timeout_ns = STATUS_TIMEOUT_MS * NSEC_PER_MSEC;
	int fd2, ret;

	fd2 = xq_open();
	if (!CHECK(t, fd2 >= 0, "a second open failed: %s", strerror(-fd2)))
		return;
	ret = freeze_set(s->fd, s->all, NULL, NFS, 0, STATUS_TIMEOUT_MS, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE failed: %s", strerror(-ret))) {
		close(fd2);
		return;
	}
	sleep_ms(STATUS_WAIT_MS);
	memset(got, 0xa5, sizeof(got));
	ret = xq_status(fd2, &st, got, NFS + 1);
	CHECK(t, ret == 0, "STATUS: %s", strerror(-ret));
	CHECK(t, st.state == XQ_STATE_FROZEN && st.holder_pid == getpid() && st.nfs == NFS,
	      "STATUS: state %u, holder %d, %u filesystems; expected frozen, %d, %u", st.state,
	      st.holder_pid, st.nfs, getpid(), NFS);
	CHECK(t, st.remaining_ns > 0 &&
		 st.remaining_ns <= timeout_ns - STATUS_WAIT_MS * NSEC_PER_MSEC,
	      "STATUS: %.1f ms left of a %u ms timeout, %u ms after the freeze",
	      st.remaining_ns / 1e6, STATUS_TIMEOUT_MS, STATUS_WAIT_MS);
	CHECK(t, st.frozen_ns == req.frozen_ns, "STATUS frozen_ns %llu, FREEZE said %llu",
	      (unsigned long long)st.frozen_ns, (unsigned long long)req.frozen_ns);
	CHECK(t, st.held_ns >= STATUS_WAIT_MS * NSEC_PER_MSEC && st.held_ns < timeout_ns,
	      "STATUS: held %.1f ms, expected at least %u", st.held_ns / 1e6, STATUS_WAIT_MS);
	check_status_entries(t, s, got, out);
	CHECK(t, got[NFS].major == 0xa5a5a5a5U,
	      "STATUS wrote a fifth entry for 4 filesystems");

	/* Room for fewer: nfs is still the true count, nothing written past nfs_max. */
	memset(small, 0xa5, sizeof(small));
	ret = xq_status(fd2, &st, small, 2);
	CHECK(t, ret == 0 && st.nfs == NFS, "STATUS with room for 2: %s, nfs %u, expected %u",
	      strerror(-ret), st.nfs, NFS);
	CHECK(t, small[2].major == 0xa5a5a5a5U && small[0].fstype[0] != (char)0xa5,
	      "STATUS with room for 2 entries wrote %s", small[0].fstype[0] == (char)0xa5 ?
	      "none" : "a third");

	ret = xq_thaw(s->fd, NULL);
	CHECK(t, ret == 0, "THAW: %s", strerror(-ret));
	ret = xq_status(fd2, &st, got, NFS);
	CHECK(t, ret == 0 && st.state == XQ_STATE_IDLE && st.nfs == 0 && st.holder_pid == 0 &&
		 st.remaining_ns == 0,
	      "STATUS after THAW: state %u, %u filesystems, holder %d, %.1f ms left", st.state,
	      st.nfs, st.holder_pid, st.remaining_ns / 1e6);
	close(fd2);
}

/*
 * A structure of version 1 followed by TAIL more bytes: what a newer
 * daemon passes to this module. buf is 8-byte aligned, zeroed.
 */
#define TAIL 24
union grown {
	struct xq_freeze freeze;
	struct xq_thaw thaw;
	struct xq_status status;
	unsigned char bytes[sizeof(struct xq_freeze) + TAIL];
	uint64_t align;
};

enum size_case { GROWN_ZERO, GROWN_NONZERO, SHORT };

static const char *const size_case_names[] = {
	[GROWN_ZERO] = "a larger structure, zero tail",
	[GROWN_NONZERO] = "a larger structure, non-zero unknown tail",
	[SHORT] = "a size below version 1's",
};

/* Sets the size and tail of u, whose version 1 part is v1 bytes. */
static void size_as(union grown *u, size_t v1, enum size_case c)
{
	memset(u->bytes + v1, 0, TAIL);
	switch (c) {
	case GROWN_ZERO:
		*(uint32_t *)u->bytes = v1 + TAIL;
		break;
	case GROWN_NONZERO:
		*(uint32_t *)u->bytes = v1 + TAIL;
		u->bytes[v1 + TAIL - 1] = 1;
		break;
	case SHORT:
		*(uint32_t *)u->bytes = v1 - sizeof(uint64_t);
		break;
	}
}

/* Runs cmd on a copy of v1 bytes of arg grown as c says; copies the result back. */
static int grown_ioctl(int fd, unsigned long cmd, void *arg, size_t v1, enum size_case c)
{
	union grown u;
	int ret;

	memset(&u, 0, sizeof(u));
	memcpy(u.bytes, arg, v1);
	size_as(&u, v1, c);
	ret = ioctl(fd, cmd, &u) < 0 ? -errno : 0;
	memcpy(arg, u.bytes, v1);
	return ret;
}

static int grown_freeze(struct suite *s, enum size_case c, struct xq_freeze *req)
{
	struct xq_dev devs[NFS];
	struct xq_fs out[NFS];

	xq_freeze_init(req, devs, s->all, NULL, NFS, out, NFS);
	req->timeout_ms = 30000;
	return grown_ioctl(s->fd, XQ_IOC_FREEZE, req, sizeof(*req), c);
}

static int grown_thaw(struct suite *s, enum size_case c, struct xq_thaw *th)
{
	memset(th, 0, sizeof(*th));
	return grown_ioctl(s->fd, XQ_IOC_THAW, th, sizeof(*th), c);
}

static int grown_status(struct suite *s, enum size_case c, struct xq_status *st)
{
	memset(st, 0, sizeof(*st));
	return grown_ioctl(s->fd, XQ_IOC_STATUS, st, sizeof(*st), c);
}

static void expect_size_errno(struct test_ctx *t, int ret, const char *cmd, enum size_case c)
{
	int want = c == GROWN_ZERO ? 0 : -EINVAL;

	CHECK(t, ret == want, "%s with %s: %s, expected %s", cmd, size_case_names[c],
	      ret ? strerror(-ret) : "success", want ? strerror(-want) : "success");
}

/*
 * Each command with each size case, while frozen for THAW (so that a THAW
 * that wrongly passed the size check would thaw) and while idle for FREEZE.
 */
void test_struct_sizes(struct suite *s, struct test_ctx *t)
{
	static const enum size_case refused[] = { GROWN_NONZERO, SHORT };
	struct xq_freeze req;
	struct xq_status st;
	struct xq_thaw th;
	unsigned int i;
	int ret;

	for (i = 0; i < 2; i++) {
		ret = grown_freeze(s, refused[i], &req);
		expect_size_errno(t, ret, "FREEZE", refused[i]);
		if (ret == 0)
			xq_thaw(s->fd, NULL);
		ret = grown_status(s, refused[i], &st);
		expect_size_errno(t, ret, "STATUS", refused[i]);
	}
	if (!expect_idle(t, s->fd, XQ_END_ANY))
		return;

	ret = grown_freeze(s, GROWN_ZERO, &req);
	expect_size_errno(t, ret, "FREEZE", GROWN_ZERO);
	if (ret)
		return;
	CHECK(t, req.nfs == NFS && req.frozen_ns >= req.start_ns,
	      "FREEZE with a larger structure: %u frozen, times %llu..%llu", req.nfs,
	      (unsigned long long)req.start_ns, (unsigned long long)req.frozen_ns);
	ret = grown_status(s, GROWN_ZERO, &st);
	expect_size_errno(t, ret, "STATUS", GROWN_ZERO);
	CHECK(t, st.state == XQ_STATE_FROZEN && st.nfs == NFS && st.abi_version == XQ_ABI_VERSION,
	      "STATUS with a larger structure: state %u, %u filesystems, ABI %u", st.state,
	      st.nfs, st.abi_version);
	for (i = 0; i < 2; i++) {
		ret = grown_thaw(s, refused[i], &th);
		expect_size_errno(t, ret, "THAW", refused[i]);
	}
	ret = grown_thaw(s, GROWN_ZERO, &th);
	expect_size_errno(t, ret, "THAW", GROWN_ZERO);
	CHECK(t, th.nfs == NFS, "THAW with a larger structure thawed %u, expected %u", th.nfs,
	      NFS);
	if (ret)
		xq_thaw(s->fd, NULL);
	expect_idle(t, s->fd, XQ_END_THAW);
}
