// SPDX-License-Identifier: GPL-2.0
/* Requests the module must refuse, and failures it must undo. */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"
#include "util.h"

#define NOBODY 65534
#define BAD_POINTER 16UL	/* never mapped */

/* Every freeze lasts until the test thaws it: 30 s is plenty. */
#define TEST_TIMEOUT_MS 30000

static bool reopen(struct suite *s, struct test_ctx *t)
{
	s->fd = xq_open();
	return CHECK(t, s->fd >= 0, "cannot reopen %s: %s", XQ_DEVICE_PATH, strerror(-s->fd));
}

/* The module may have to be reloaded to change the parameter: close first. */
static bool set_fault(struct suite *s, struct test_ctx *t, unsigned int index)
{
	int ret;

	close(s->fd);
	ret = xq_set_fault(s->module, index);
	CHECK(t, ret == 0, "cannot set fault_fail_freeze_at=%u: %s", index, strerror(-ret));
	return reopen(s, t) && ret == 0;
}

void test_partial_failure(struct suite *s, struct test_ctx *t)
{
	/* One filesystem per level makes the freeze order, hence "third", exact. */
	static const uint32_t levels[NFS] = { 0, 1, 2, 3 };
	const struct fsent *third = s->all[2];
	struct xq_fs out[NFS];
	struct xq_freeze req;
	struct xq_status st;
	unsigned int i;
	int ret;

	ret = xq_status(s->fd, &st, NULL, 0);
	if (!CHECK(t, ret == 0 && (st.features & XQ_FEATURE_FAULT_INJECTION),
		   "the module was not built with XQ_FAULT_INJECTION=1 (features %#x)",
		   st.features))
		return;
	if (!set_fault(s, t, 3))
		return;
	ret = freeze_set(s->fd, s->all, levels, NFS, 0, TEST_TIMEOUT_MS, &req, out);
	CHECK(t, ret == -EIO, "FREEZE with a failure injected on the 3rd: %s, expected EIO",
	      ret ? strerror(-ret) : "success");
	CHECK(t, req.err_errno == EIO, "err_errno %d, expected EIO (%d)", req.err_errno, EIO);
	CHECK(t, req.err_major == major(third->dev) && req.err_minor == minor(third->dev),
	      "the error names %u:%u, expected the third device %u:%u (%s)", req.err_major,
	      req.err_minor, major(third->dev), minor(third->dev), third->mnt);
	CHECK(t, !strncmp(req.err_fstype, third->fstype, XQ_FSTYPE_LEN),
	      "err_fstype '%.16s', expected '%s'", req.err_fstype, third->fstype);
	if (ret == 0)
		xq_thaw(s->fd, NULL);
	else
		expect_idle(t, s->fd, XQ_END_FAILED);
	for (i = 0; i < NFS; i++)
		expect_writable(t, s->all[i], 1000);
	set_fault(s, t, 0);
}

void test_second_freeze(struct suite *s, struct test_ctx *t)
{
	struct xq_fs out[NFS], out2[NFS];
	struct xq_freeze req, req2;
	struct xq_status st;
	struct child probe;
	int fd2, ret;

	ret = freeze_set(s->fd, s->all, NULL, NFS, 0, TEST_TIMEOUT_MS, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE failed: %s", strerror(-ret)))
		return;
	fd2 = xq_open();
	CHECK(t, fd2 >= 0, "a second open failed: %s", strerror(-fd2));
	ret = freeze_set(fd2, s->all, NULL, NFS, 0, TEST_TIMEOUT_MS, &req2, out2);
	CHECK(t, ret == -EBUSY, "FREEZE from another file: %s, expected EBUSY",
	      ret ? strerror(-ret) : "success");
	ret = freeze_set(fd2, &s->all[1], NULL, 1, 0, TEST_TIMEOUT_MS, &req2, out2);
	CHECK(t, ret == -EBUSY, "FREEZE of another set from another file: %s, expected EBUSY",
	      ret ? strerror(-ret) : "success");
	ret = freeze_set(s->fd, s->all, NULL, NFS, 0, TEST_TIMEOUT_MS, &req2, out2);
	CHECK(t, ret == -EBUSY, "FREEZE again from the holder: %s, expected EBUSY",
	      ret ? strerror(-ret) : "success");
	ret = xq_thaw(fd2, NULL);
	CHECK(t, ret == -EALREADY, "THAW from a file that holds nothing: %s, expected EALREADY",
	      ret ? strerror(-ret) : "success");
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && st.state == XQ_STATE_FROZEN && st.nfs == NFS,
	      "after the refused calls: state %u, %u filesystems; expected frozen, %u", st.state,
	      st.nfs, NFS);
	expect_blocked(t, &s->fs[0], 100, &probe);
	ret = xq_thaw(s->fd, NULL);
	CHECK(t, ret == 0, "THAW by the holder: %s", strerror(-ret));
	expect_released(t, &s->fs[0], &probe, 2000);
	if (fd2 >= 0)
		close(fd2);
	expect_idle(t, s->fd, XQ_END_THAW);
}

/* The errnos an unprivileged child saw, sent back through a pipe. */
struct unpriv_result {
	int nocap_status, nocap_freeze, nocap_rescue;
	int nobody_status, nobody_freeze, nobody_open;
};

static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static void unprivileged_child(struct suite *s, int out_fd)
{
	struct unpriv_result r;
	struct xq_fs out[NFS];
	struct xq_freeze req;
	struct xq_status st;
	struct xq_thaw th = { .size = sizeof(th), .flags = XQ_THAW_ANY };
	int fd;

	memset(&r, 0, sizeof(r));
	fd = xq_open();
	if (fd < 0 || drop_sys_admin())
		_exit(2);
	r.nocap_status = xq_status(fd, &st, NULL, 0);
	r.nocap_freeze = freeze_set(fd, s->all, NULL, NFS, 0, TEST_TIMEOUT_MS, &req, out);
	r.nocap_rescue = ioctl(fd, XQ_IOC_THAW, &th) < 0 ? -errno : 0;
	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		_exit(3);
	r.nobody_status = xq_status(fd, &st, NULL, 0);
	r.nobody_freeze = freeze_set(fd, s->all, NULL, NFS, 0, TEST_TIMEOUT_MS, &req, out);
	r.nobody_open = xq_open();
	_exit(write(out_fd, &r, sizeof(r)) == sizeof(r) ? 0 : 4);
}

static void expect_errno(struct test_ctx *t, int got, int want, const char *what)
{
	CHECK(t, got == -want, "%s: %s, expected %s", what, got ? strerror(-got) : "success",
	      strerror(want));
}

void test_unprivileged(struct suite *s, struct test_ctx *t)
{
	struct unpriv_result r;
	struct stat node = { 0 };
	int pipefd[2], status;
	pid_t pid;

	CHECK(t, stat(XQ_DEVICE_PATH, &node) == 0 && (node.st_mode & 07777) == 0600 &&
		 node.st_uid == 0,
	      "%s: mode %o owner %u, expected 0600 root", XQ_DEVICE_PATH, node.st_mode & 07777,
	      node.st_uid);
	if (!CHECK(t, pipe(pipefd) == 0, "pipe: %s", strerror(errno)))
		return;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		unprivileged_child(s, pipefd[1]);
	}
	close(pipefd[1]);
	memset(&r, 0, sizeof(r));
	status = read(pipefd[0], &r, sizeof(r)) == sizeof(r);
	close(pipefd[0]);
	waitpid(pid, NULL, 0);
	if (!CHECK(t, status, "the unprivileged child failed to set itself up"))
		return;
	expect_errno(t, r.nocap_status, EPERM, "STATUS without CAP_SYS_ADMIN");
	expect_errno(t, r.nocap_freeze, EPERM, "FREEZE without CAP_SYS_ADMIN");
	expect_errno(t, r.nocap_rescue, EPERM, "THAW ANY without CAP_SYS_ADMIN");
	expect_errno(t, r.nobody_status, EPERM, "STATUS as nobody on an inherited descriptor");
	expect_errno(t, r.nobody_freeze, EPERM, "FREEZE as nobody on an inherited descriptor");
	expect_errno(t, r.nobody_open < 0 ? r.nobody_open : 0, EACCES, "open as nobody");
	expect_idle(t, s->fd, XQ_END_ANY);
}

/* Ways to spoil a valid FREEZE request. */
enum spoil {
	SIZE_ZERO, SIZE_SHORT, SIZE_HUGE, FLAG_UNKNOWN, RESERVED_SET, DEV_RESERVED_SET,
	RESERVED0_SET, DEV_FLAG_UNKNOWN, NDEVS_OVER_MAX, NDEVS_HUGE, NFS_MAX_OVER_MAX, DEVS_UNREADABLE, FS_UNWRITABLE,
};

static const struct bad_freeze {
	const char *what;
	int want;
	enum spoil spoil;
} bad_freezes[] = {
	{ "size 0", EINVAL, SIZE_ZERO },
	{ "size 8", EINVAL, SIZE_SHORT },
	{ "size above XQ_MAX_STRUCT_SIZE", EINVAL, SIZE_HUGE },
	{ "unknown flag", EINVAL, FLAG_UNKNOWN },
	{ "non-zero reserved", EINVAL, RESERVED_SET },
	{ "non-zero xq_dev.reserved", EINVAL, DEV_RESERVED_SET },
	{ "non-zero reserved0", EINVAL, RESERVED0_SET },
	{ "unknown xq_dev flag", EINVAL, DEV_FLAG_UNKNOWN },
	{ "ndevs XQ_MAX_DEVS+1", EINVAL, NDEVS_OVER_MAX },
	{ "ndevs 0xffffffff", EINVAL, NDEVS_HUGE },
	{ "nfs_max XQ_MAX_DEVS+1", EINVAL, NFS_MAX_OVER_MAX },
	{ "unreadable devs", EFAULT, DEVS_UNREADABLE },
	/* Fails after freezing, at copy-out: must roll back. */
	{ "unwritable fs", EFAULT, FS_UNWRITABLE },
};

static void spoil_freeze(enum spoil how, struct xq_freeze *req, struct xq_dev *devs)
{
	switch (how) {
	case SIZE_ZERO: req->size = 0; break;
	case SIZE_SHORT: req->size = 8; break;
	case SIZE_HUGE: req->size = XQ_MAX_STRUCT_SIZE + 8; break;
	case FLAG_UNKNOWN: req->flags = 1U << 7; break;
	case RESERVED_SET: req->reserved[2] = 1; break;
	case RESERVED0_SET: req->reserved0 = 1; break;
	case DEV_FLAG_UNKNOWN: devs[2].flags = 1U << 9; break;
	case DEV_RESERVED_SET: devs[1].reserved = 1; break;
	case NDEVS_OVER_MAX: req->ndevs = XQ_MAX_DEVS + 1; break;
	case NDEVS_HUGE: req->ndevs = ~0U; break;
	case NFS_MAX_OVER_MAX: req->nfs_max = XQ_MAX_DEVS + 1; break;
	case DEVS_UNREADABLE: req->devs = BAD_POINTER; break;
	case FS_UNWRITABLE: req->fs = BAD_POINTER; break;
	}
}

static void malformed_freezes(struct suite *s, struct test_ctx *t)
{
	struct xq_dev devs[NFS];
	struct xq_fs out[NFS];
	struct xq_freeze req;
	struct xq_status st;
	char what[96];
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(bad_freezes) / sizeof(bad_freezes[0]); i++) {
		xq_freeze_init(&req, devs, s->all, NULL, NFS, out, NFS);
		req.timeout_ms = TEST_TIMEOUT_MS;
		spoil_freeze(bad_freezes[i].spoil, &req, devs);
		ret = xq_freeze(s->fd, &req);
		snprintf(what, sizeof(what), "FREEZE with %s", bad_freezes[i].what);
		expect_errno(t, ret, bad_freezes[i].want, what);
		if (xq_status(s->fd, &st, NULL, 0) == 0 && st.state != XQ_STATE_IDLE) {
			CHECK(t, false, "%s left %u filesystems frozen", what, st.nfs);
			xq_thaw(s->fd, NULL);
		}
	}
}

/* STATUS and THAW: flags and counts (sizes: test_struct_sizes). */
static void malformed_others(struct suite *s, struct test_ctx *t)
{
	struct xq_status stbuf, *st = &stbuf;
	struct xq_thaw th;
	int ret;

	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->flags = 1;
	ret = ioctl(s->fd, XQ_IOC_STATUS, st) < 0 ? -errno : 0;
	expect_errno(t, ret, EINVAL, "STATUS with an unknown flag");
	st->flags = 0;
	st->nfs_max = XQ_MAX_DEVS + 1;
	ret = ioctl(s->fd, XQ_IOC_STATUS, st) < 0 ? -errno : 0;
	expect_errno(t, ret, EINVAL, "STATUS with nfs_max XQ_MAX_DEVS+1");
	st->nfs_max = 0;
	st->reserved0 = 1;
	ret = ioctl(s->fd, XQ_IOC_STATUS, st) < 0 ? -errno : 0;
	expect_errno(t, ret, EINVAL, "STATUS with a non-zero reserved0");
	st->reserved0 = 0;

	memset(&th, 0, sizeof(th));
	th.size = sizeof(th);
	th.flags = 1U << 5;
	ret = ioctl(s->fd, XQ_IOC_THAW, &th) < 0 ? -errno : 0;
	expect_errno(t, ret, EINVAL, "THAW with an unknown flag");
	th.flags = 0;
	th.reserved[0] = 1;
	ret = ioctl(s->fd, XQ_IOC_THAW, &th) < 0 ? -errno : 0;
	expect_errno(t, ret, EINVAL, "THAW with non-zero reserved");

	ret = ioctl(s->fd, XQ_IOC_FREEZE, NULL) < 0 ? -errno : 0;
	expect_errno(t, ret, EFAULT, "FREEZE with a NULL argument");
	ret = ioctl(s->fd, XQ_IOC_STATUS, BAD_POINTER) < 0 ? -errno : 0;
	expect_errno(t, ret, EFAULT, "STATUS with an unmapped argument");
	ret = ioctl(s->fd, _IOWR(XQ_IOC_MAGIC, 99, struct xq_status), st) < 0 ? -errno : 0;
	expect_errno(t, ret, ENOTTY, "unknown command");
}

void test_malformed(struct suite *s, struct test_ctx *t)
{
	malformed_freezes(s, t);
	malformed_others(s, t);
	expect_idle(t, s->fd, XQ_END_ANY);
}

void test_rmmod_frozen(struct suite *s, struct test_ctx *t)
{
	struct xq_fs out[NFS];
	struct xq_freeze req;
	struct xq_status st;
	struct stat mod;
	int ret;

	ret = freeze_set(s->fd, s->all, NULL, NFS, 0, TEST_TIMEOUT_MS, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE failed: %s", strerror(-ret)))
		return;
	ret = xq_module_unload();
	CHECK(t, ret == -EAGAIN || ret == -EBUSY,
	      "delete_module while frozen: %s, expected EAGAIN or EBUSY",
	      ret ? strerror(-ret) : "success: the module was unloaded");
	CHECK(t, stat("/sys/module/" XQ_MODULE_NAME, &mod) == 0, "the module is gone");
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && st.state == XQ_STATE_FROZEN && st.nfs == NFS,
	      "after the refused rmmod: state %u, %u filesystems; expected frozen, %u", st.state,
	      st.nfs, NFS);
	ret = xq_thaw(s->fd, NULL);
	CHECK(t, ret == 0, "THAW: %s", strerror(-ret));
	expect_idle(t, s->fd, XQ_END_THAW);
}

static bool has_xen_disk(void)
{
	struct dirent *d;
	bool found = false;
	DIR *dir;

	dir = opendir("/sys/block");
	if (!dir)
		return false;
	while ((d = readdir(dir)))
		found |= !strncmp(d->d_name, "xvd", 3);
	closedir(dir);
	return found;
}

/*
 * Virtio disks only: XQ_FREEZE_BLKFRONT alone, walking the types of every
 * test filesystem (XQ_DEV_TYPE_ONLY), finds nothing and says so.
 */
void test_blkfront_none(struct suite *s, struct test_ctx *t)
{
	struct xq_dev devs[NFS];
	struct xq_fs out[NFS];
	struct xq_freeze req;
	unsigned int i;
	int ret;

	if (!CHECK(t, !has_xen_disk(), "setup: this guest has an xvd disk"))
		return;
	memset(out, 0, sizeof(out));
	xq_freeze_init(&req, devs, s->all, NULL, NFS, out, NFS);
	for (i = 0; i < NFS; i++)
		devs[i].flags = XQ_DEV_TYPE_ONLY;
	req.flags = XQ_FREEZE_BLKFRONT;
	req.timeout_ms = TEST_TIMEOUT_MS;
	ret = xq_freeze(s->fd, &req);
	CHECK(t, ret == -ENOENT, "FREEZE with XQ_FREEZE_BLKFRONT and no Xen disk: %s, expected ENOENT",
	      ret ? strerror(-ret) : "success");
	CHECK(t, req.err_errno == ENOENT && req.nfs == 0,
	      "err_errno %d, %u filesystems frozen; expected ENOENT (%d), 0", req.err_errno,
	      req.nfs, ENOENT);
	if (ret == 0)
		xq_thaw(s->fd, NULL);
	expect_idle(t, s->fd, XQ_END_FAILED);
	for (i = 0; i < NFS; i++)
		expect_writable(t, s->all[i], 1000);
}
