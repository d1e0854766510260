// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl fuzzer (issue 11): random command numbers, sizes, flags,
 * counts, descriptors, timeouts and pointers (NULL, kernel addresses, a
 * structure ending at an unmapped page) on a descriptor of its own, for a
 * fixed time. Whatever it freezes it thaws. Afterwards nothing is frozen,
 * nothing leaks a module reference and the kernel said nothing (the last
 * test scans its log).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "suite.h"
#include "util.h"

#define FUZZ_MS 6000
#define CAP_MS 3000
#define PAGE 4096

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t pick(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* Commands the VFS answers itself before the driver (FIFREEZE, FIOCLEX, FS_IOC_SETFLAGS...). */
static bool vfs_generic(uint32_t cmd)
{
	uint32_t type = _IOC_TYPE(cmd);

	return type == 0 || type == 'T' || type == 'X' || type == 'f' || type == 0x94 ||
	       type == 0x15 || type == 0x12;
}

static uint32_t fuzz_cmd(void)
{
	static const uint32_t valid[] = { XQ_IOC_FREEZE, XQ_IOC_THAW, XQ_IOC_STATUS };
	uint32_t cmd = valid[pick(3)];

	switch (pick(6)) {
	case 0:
		cmd ^= 1U << (_IOC_DIRSHIFT + pick(2));
		break;
	case 1:
		cmd = _IOC(pick(4), XQ_IOC_MAGIC, pick(16), pick(1U << _IOC_SIZEBITS));
		break;
	case 2:
		do
			cmd = (uint32_t)rnd();
		while (vfs_generic(cmd));
		break;
	default:
		break;	/* valid: the fields decide */
	}
	return cmd;
}

struct fuzz_mem {
	unsigned char *buf;	/* XQ_MAX_STRUCT_SIZE + room */
	unsigned char *edge;	/* a page followed by an unmapped one */
	struct xq_dev *devs;
	struct xq_fs *fs;
	int fds[8];
	unsigned int nfds;
};

static uint64_t fuzz_ptr(struct fuzz_mem *m, void *good, size_t len)
{
	switch (pick(8)) {
	case 0: return 0;
	case 1: return 16;
	case 2: return 0xffffffff81000000ULL;
	case 3: return 0xffff888000000000ULL + (rnd() & 0xfffff000);
	case 4: return (uintptr_t)(m->edge + PAGE - 1 - pick(len ? len : 1));
	default: return (uintptr_t)good;
	}
}

static uint32_t fuzz_size(uint32_t v1, uint32_t now)
{
	static const uint32_t odd[] = { 0, 4, 8, 4095, XQ_MAX_STRUCT_SIZE, XQ_MAX_STRUCT_SIZE + 1,
					0xffffffff };

	switch (pick(6)) {
	case 0: return odd[pick(sizeof(odd) / sizeof(odd[0]))];
	case 1: return v1 - 1 - pick(8);
	case 2: return v1 + pick(64);
	case 3: return (uint32_t)rnd();
	default: return now;
	}
}

static uint32_t fuzz_count(void)
{
	switch (pick(5)) {
	case 0: return XQ_MAX_DEVS + pick(3);
	case 1: return (uint32_t)rnd();
	default: return pick(6);
	}
}

/* A FREEZE, THAW or STATUS argument with some fields spoilt; returns the pointer to pass. */
static uint64_t fuzz_arg(struct fuzz_mem *m, uint32_t cmd)
{
	static const uint32_t timeouts[] = { 0, 1, 99, 100, 101, 250, 1000, 3000, 90000, 0xffffffff };
	uint32_t i, nr = _IOC_NR(cmd);
	__u64 *reserved = NULL;

	memset(m->buf, 0, XQ_MAX_STRUCT_SIZE + 64);
	if (!pick(8)) {
		for (i = 0; i < 256; i++)
			m->buf[i] = (unsigned char)rnd();
	} else if (nr == 1) {
		struct xq_freeze *f = (void *)m->buf;

		f->size = fuzz_size(128, sizeof(*f));
		f->flags = pick(3) ? pick(4) : (uint32_t)rnd();
		f->timeout_ms = pick(3) ? timeouts[pick(10)] : (uint32_t)rnd();
		f->ndevs = fuzz_count();
		f->nfs_max = fuzz_count();
		f->devs = fuzz_ptr(m, m->devs, sizeof(*m->devs) * 4);
		f->fs = fuzz_ptr(m, m->fs, sizeof(*m->fs) * 4);
		for (i = 0; i < 8; i++) {
			m->devs[i] = (struct xq_dev){
				.fd = pick(4) ? m->fds[pick(m->nfds)] : (int)rnd(),
				.level = pick(4) ? pick(3) : (uint32_t)rnd(),
				.flags = pick(4) ? 0 : (uint32_t)rnd() & 3,
				.reserved = pick(8) ? 0 : 1,
			};
		}
		reserved = f->reserved;
		if (!pick(8))
			f->reserved0 = 1;
	} else if (nr == 2) {
		struct xq_thaw *t = (void *)m->buf;

		t->size = fuzz_size(56, sizeof(*t));
		t->flags = pick(3) ? pick(2) : (uint32_t)rnd();
		reserved = t->reserved;
	} else {
		struct xq_status *st = (void *)m->buf;

		st->size = fuzz_size(104, sizeof(*st));
		st->flags = pick(4) ? 0 : (uint32_t)rnd();
		st->nfs_max = fuzz_count();
		st->fs = fuzz_ptr(m, m->fs, sizeof(*m->fs) * 4);
		reserved = st->reserved;
	}
	if (reserved && !pick(8))
		reserved[pick(3)] = rnd();
	/* Past the structure: a tail that must be zero, sometimes is not. */
	if (!pick(8))
		m->buf[200 + pick(64)] = 1;
	return fuzz_ptr(m, m->buf, 128);
}

static bool fuzz_setup(struct suite *s, struct test_ctx *t, struct fuzz_mem *m)
{
	/* Room for every count the module accepts: it writes nfs_max entries. */
	static struct xq_dev devs[XQ_MAX_DEVS];
	static struct xq_fs fs[XQ_MAX_DEVS];
	unsigned int i;

	m->buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m->edge = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(t, m->buf != MAP_FAILED && m->edge != MAP_FAILED, "mmap: %s", strerror(errno)))
		return false;
	munmap(m->edge + PAGE, PAGE);
	m->devs = devs;
	m->fs = fs;
	for (i = 0; i < NFS; i++)
		m->fds[m->nfds++] = s->all[i]->fd;
	m->fds[m->nfds++] = s->loop.fd;
	m->fds[m->nfds++] = open("/proc", O_PATH | O_CLOEXEC);
	m->fds[m->nfds++] = -1;
	m->fds[m->nfds++] = 1000;
	return true;
}

void test_fuzz_ioctl(struct suite *s, struct test_ctx *t)
{
	struct xq_thaw th = { .size = sizeof(th), .flags = XQ_THAW_ANY };
	unsigned long count = 0, ok = 0, frozen = 0;
	unsigned int refs, after;
	struct fuzz_mem m = { 0 };
	uint64_t end;
	int fd;

	rng = s->nonce | 1;
	tap_diag("fuzz seed %#llx", (unsigned long long)rng);
	if (xq_module_refcnt(&refs) || !fuzz_setup(s, t, &m))
		return;
	/*
	 * A random loop stack in the wrong order blocks until the timeout:
	 * cap it well under the guest's 20 s hung-task report.
	 */
	if (!CHECK(t, xq_set_param("max_timeout_ms", CAP_MS) == 0, "cannot cap max_timeout_ms"))
		return;
	fd = xq_open();
	if (!CHECK(t, fd >= 0, "open: %s", strerror(-fd)))
		return;
	end = now_ns() + FUZZ_MS * NSEC_PER_MSEC;
	while (now_ns() < end) {
		uint32_t cmd = fuzz_cmd();
		uint64_t arg = fuzz_arg(&m, cmd);

		count++;
		if (ioctl(fd, cmd, (void *)(uintptr_t)arg) == 0) {
			ok++;
			if (cmd == XQ_IOC_FREEZE) {
				frozen++;
				xq_thaw(fd, NULL);
			}
		}
	}
	tap_diag("fuzzed ioctls: %lu (%lu succeeded, %lu froze)", count, ok, frozen);
	xq_set_param("max_timeout_ms", 60000);
	ioctl(fd, XQ_IOC_THAW, &th);
	close(fd);
	close(m.fds[NFS + 1]);
	expect_idle(t, s->fd, XQ_END_ANY);
	/* A wrongly ordered loop stack leaves a late worker for a moment. */
	end = now_ns() + 5000 * NSEC_PER_MSEC;
	while (xq_module_refcnt(&after) == 0 && after != refs && now_ns() < end)
		sleep_ms(20);
	CHECK(t, after == refs, "module references %u after the fuzzer, expected %u", after, refs);
	for (unsigned int i = 0; i < NFS; i++)
		expect_writable(t, s->all[i], 2000);
	munmap(m.buf, 2 * PAGE);
	munmap(m.edge, PAGE);
}
