// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "method.h"

#define DIRTY_BYTES	"/proc/sys/vm/dirty_bytes"
#define DIRTY_RATIO	"/proc/sys/vm/dirty_ratio"

enum pool_op { OP_SYNCFS, OP_FREEZE, OP_THAW, OP_EXIT };

struct worker {
	struct pool *pool;
	int fd;
	int err;
	uint64_t done_ns;
};

/*
 * The best a userspace agent can do: a thread per filesystem, started
 * before the request, so that syncfs and FIFREEZE run side by side.
 */
struct pool {
	pthread_barrier_t start, done;
	enum pool_op op;
	unsigned int n;
	pthread_t tid[BENCH_MAX_FS];
	struct worker w[BENCH_MAX_FS];
};

static int fs_op(int fd, enum pool_op op)
{
	int r;

	switch (op) {
	case OP_SYNCFS:
		r = syncfs(fd);
		break;
	case OP_FREEZE:
		r = ioctl(fd, FIFREEZE, 0);
		break;
	case OP_THAW:
		r = ioctl(fd, FITHAW, 0);
		break;
	default:
		return -EINVAL;
	}
	return r < 0 ? -errno : 0;
}

static void *pool_worker(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;

	for (;;) {
		pthread_barrier_wait(&p->start);
		if (p->op == OP_EXIT)
			return NULL;
		w->err = fs_op(w->fd, p->op);
		w->done_ns = now_ns();
		pthread_barrier_wait(&p->done);
	}
}

/* Runs op on every filesystem at once; the first error, or 0. */
static int pool_run(struct pool *p, enum pool_op op)
{
	unsigned int i;

	p->op = op;
	pthread_barrier_wait(&p->start);
	pthread_barrier_wait(&p->done);
	for (i = 0; i < p->n; i++)
		if (p->w[i].err)
			return p->w[i].err;
	return 0;
}

static void pool_stop(struct pool *p, unsigned int started)
{
	unsigned int i;

	p->op = OP_EXIT;
	pthread_barrier_wait(&p->start);
	for (i = 0; i < started; i++)
		pthread_join(p->tid[i], NULL);
	pthread_barrier_destroy(&p->start);
	pthread_barrier_destroy(&p->done);
	free(p);
}

static int pool_start(struct pool **pp, const struct target *t, unsigned int n)
{
	struct pool *p = calloc(1, sizeof(*p));
	unsigned int i;
	int err;

	if (!p)
		return -ENOMEM;
	p->n = n;
	pthread_barrier_init(&p->start, NULL, n + 1);
	pthread_barrier_init(&p->done, NULL, n + 1);
	for (i = 0; i < n; i++) {
		p->w[i] = (struct worker){ .pool = p, .fd = t[i].dirfd };
		err = pthread_create(&p->tid[i], NULL, pool_worker, &p->w[i]);
		/*
		 * The barriers count n + 1 parties: the threads already started
		 * cannot be released, and the caller exits on this error.
		 */
		if (err)
			return -err;
	}
	*pp = p;
	return 0;
}

/* (a) util-linux fsfreeze, qemu-ga: FIFREEZE one mount after the other. */
static int loop_freeze(struct method_ctx *m, struct cycle *c)
{
	unsigned int i;
	int err;

	c->blocking = now_ns();
	for (i = 0; i < m->n; i++) {
		err = fs_op(m->t[i].dirfd, OP_FREEZE);
		c->frozen[i] = now_ns();
		if (err) {
			while (i--)
				fs_op(m->t[i].dirfd, OP_THAW);
			return err;
		}
	}
	return 0;
}

static int loop_thaw(struct method_ctx *m)
{
	unsigned int i;
	int err = 0, r;

	for (i = 0; i < m->n; i++) {
		r = fs_op(m->t[i].dirfd, OP_THAW);
		if (r && !err)
			err = r;
	}
	return err;
}

/* (b) syncfs everything in parallel while writable, then FIFREEZE in parallel. */
static int parallel_freeze(struct method_ctx *m, struct cycle *c)
{
	unsigned int i;
	int err;

	err = pool_run(m->pool, OP_SYNCFS);
	c->blocking = now_ns();
	if (!err)
		err = pool_run(m->pool, OP_FREEZE);
	for (i = 0; i < m->n; i++)
		c->frozen[i] = m->pool->w[i].done_ns;
	if (err)
		pool_run(m->pool, OP_THAW);	/* FITHAW of an unfrozen one is a no-op */
	return err;
}

static int parallel_thaw(struct method_ctx *m)
{
	return pool_run(m->pool, OP_THAW);
}

/* (c) and (d): one XQ_IOC_FREEZE naming every target. */
static int module_freeze_flags(struct method_ctx *m, struct cycle *c, uint32_t flags)
{
	struct xq_dev devs[BENCH_MAX_FS] = { 0 };
	struct xq_freeze req = {
		.size = sizeof(req),
		.flags = flags,
		.timeout_ms = m->o->timeout_ms,
		.ndevs = m->n,
		.devs = (uintptr_t)devs,
		.fs = (uintptr_t)m->fs,
		.nfs_max = BENCH_MAX_FS,
	};
	uint64_t synced = 0;
	unsigned int i, k;

	for (i = 0; i < m->n; i++)
		devs[i].fd = m->t[i].dirfd;
	if (ioctl(m->xq_fd, XQ_IOC_FREEZE, &req) < 0) {
		fprintf(stderr, "xq-bench: XQ_IOC_FREEZE failed on %u:%u: %s\n", req.err_major,
			req.err_minor, strerror(req.err_errno));
		return -errno;
	}
	if (req.nfs != m->n)
		return -EPROTO;
	for (k = 0; k < req.nfs; k++) {
		for (i = 0; i < m->n; i++)
			if (makedev(m->fs[k].major, m->fs[k].minor) == m->t[i].dev)
				c->frozen[i] = m->fs[k].frozen_ns;
		if (m->fs[k].sync_ns > synced)
			synced = m->fs[k].sync_ns;
	}
	/* The pre-sync workers run side by side: the longest one ends the pass. */
	c->blocking = req.start_ns + synced;
	return 0;
}

static int module_freeze(struct method_ctx *m, struct cycle *c)
{
	return module_freeze_flags(m, c, 0);
}

static int presync_freeze(struct method_ctx *m, struct cycle *c)
{
	return module_freeze_flags(m, c, XQ_FREEZE_PRESYNC);
}

static int module_thaw(struct method_ctx *m)
{
	struct xq_thaw out = { .size = sizeof(out) };

	return ioctl(m->xq_fd, XQ_IOC_THAW, &out) < 0 ? -errno : 0;
}

static int sysctl_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int sysctl_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * The drain: cap dirty memory for a moment before freezing, so that the
 * writers are throttled and the flusher catches up while everything is
 * still writable; the freeze then finds little to write.
 */
static int drain_begin(struct method_ctx *m)
{
	char cap[32];
	int err;

	err = sysctl_read(DIRTY_BYTES, m->saved_dirty[0], sizeof(m->saved_dirty[0]));
	if (!err)
		err = sysctl_read(DIRTY_RATIO, m->saved_dirty[1], sizeof(m->saved_dirty[1]));
	if (err)
		return err;
	snprintf(cap, sizeof(cap), "%u", m->o->drain_bytes);
	err = sysctl_write(DIRTY_BYTES, cap);
	if (err)
		return err;
	sleep_until_ns(now_ns() + m->o->drain_ms * NSEC_PER_MSEC);
	return 0;
}

/* Writing one of the pair zeroes the other: restore the one that was set. */
static int drain_end(struct method_ctx *m)
{
	if (strcmp(m->saved_dirty[0], "0"))
		return sysctl_write(DIRTY_BYTES, m->saved_dirty[0]);
	return sysctl_write(DIRTY_RATIO, m->saved_dirty[1]);
}

/* A failed freeze leaves nothing frozen, whatever failed. */
static int drained(struct method_ctx *m, struct cycle *c,
		   int (*freeze)(struct method_ctx *, struct cycle *),
		   int (*thaw)(struct method_ctx *))
{
	int err = drain_begin(m), r;

	if (err)
		return err;
	err = freeze(m, c);
	r = drain_end(m);
	if (!err && r)
		thaw(m);
	return err ? err : r;
}

/*
 * A second pre-sync pass: the first (syncfs in parallel) writes the backlog,
 * the module's pre-sync then writes only what was dirtied meanwhile, so
 * the sync inside the freeze, with writers blocked, has less left.
 */
static int twopass_freeze(struct method_ctx *m, struct cycle *c)
{
	int err = pool_run(m->pool, OP_SYNCFS);

	return err ? err : presync_freeze(m, c);
}

static int presync_drain_freeze(struct method_ctx *m, struct cycle *c)
{
	return drained(m, c, presync_freeze, module_thaw);
}

static int parallel_drain_freeze(struct method_ctx *m, struct cycle *c)
{
	return drained(m, c, parallel_freeze, parallel_thaw);
}

/*
 * The drain of only the disks being frozen: each one's backing device gets
 * a dirty limit of its own (max_bytes with strict_limit where the kernel has
 * them, 6.2 on; else max_ratio 1%), put back after the freeze call.
 */
static void bdi_path(char *path, size_t size, dev_t dev, const char *knob)
{
	snprintf(path, size, "/sys/class/bdi/%u:%u/%s", major(dev), minor(dev), knob);
}

static bool bdi_has(dev_t dev, const char *knob)
{
	char path[96];

	bdi_path(path, sizeof(path), dev, knob);
	return !access(path, W_OK);
}

static int bdi_read(dev_t dev, const char *knob, char *buf, size_t size)
{
	char path[96];

	bdi_path(path, sizeof(path), dev, knob);
	return sysctl_read(path, buf, size);
}

static int bdi_write(dev_t dev, const char *knob, const char *value)
{
	char path[96];

	bdi_path(path, sizeof(path), dev, knob);
	return sysctl_write(path, value);
}

void bdi_knobs(dev_t dev, char *buf, size_t size)
{
	static const char *const knobs[] = { "max_ratio", "max_ratio_fine", "max_bytes",
					     "strict_limit" };
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (bdi_has(dev, knobs[i]) && len < size)
			len += snprintf(buf + len, size - len, "%s%s", len ? " " : "", knobs[i]);
}

static int bdi_restore(struct method_ctx *m, unsigned int n)
{
	int err = 0, r;

	while (n--) {
		struct bdi_saved *b = &m->bdi[n];

		r = bdi_write(m->t[n].dev, b->fine ? "max_ratio_fine" : "max_ratio", b->ratio);
		if (b->fine && !r)
			r = bdi_write(m->t[n].dev, "strict_limit", b->strict);
		if (r && !err)
			err = r;
	}
	return err;
}

static int bdi_cap_one(struct method_ctx *m, unsigned int i)
{
	struct bdi_saved *b = &m->bdi[i];
	dev_t dev = m->t[i].dev;
	char cap[32];
	int err;

	b->fine = bdi_has(dev, "max_bytes") && bdi_has(dev, "strict_limit");
	err = bdi_read(dev, b->fine ? "max_ratio_fine" : "max_ratio", b->ratio, sizeof(b->ratio));
	if (!err && b->fine)
		err = bdi_read(dev, "strict_limit", b->strict, sizeof(b->strict));
	if (err)
		return err;
	if (!b->fine)
		return bdi_write(dev, "max_ratio", "1");
	snprintf(cap, sizeof(cap), "%u", m->o->drain_bytes / m->n);
	err = bdi_write(dev, "max_bytes", cap);
	if (!err)
		err = bdi_write(dev, "strict_limit", "1");
	return err;
}

static int bdi_drain_freeze(struct method_ctx *m, struct cycle *c)
{
	unsigned int i;
	int err = 0, r;

	for (i = 0; i < m->n && !err; i++)
		err = bdi_cap_one(m, i);
	if (err) {
		bdi_restore(m, i);
		return err;
	}
	sleep_until_ns(now_ns() + m->o->drain_ms * NSEC_PER_MSEC);
	err = presync_freeze(m, c);
	r = bdi_restore(m, m->n);
	if (!err && r)
		module_thaw(m);
	return err ? err : r;
}

/* Dirty and under writeback, in KiB, from /proc/meminfo; 0 if unreadable. */
static uint64_t dirty_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	uint64_t total = 0, v;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Dirty: %" SCNu64, &v) == 1 ||
		    sscanf(line, "Writeback: %" SCNu64, &v) == 1)
			total += v;
	fclose(f);
	return total;
}

/*
 * Parallel syncfs passes while each one leaves at least a tenth less dirty
 * memory than the one before (at most BENCH_SYNC_ROUNDS), then (d).
 */
#define BENCH_SYNC_ROUNDS	4

static int rounds_freeze(struct method_ctx *m, struct cycle *c)
{
	uint64_t before = dirty_kib(), after;
	unsigned int round;
	int err;

	for (round = 0; round < BENCH_SYNC_ROUNDS; round++) {
		err = pool_run(m->pool, OP_SYNCFS);
		if (err)
			return err;
		after = dirty_kib();
		if (after * 10 > before * 9)
			break;
		before = after;
	}
	return presync_freeze(m, c);
}

/*
 * The drain in steps: vm.dirty_bytes from the dirty memory there is down
 * to the cap over --ramp-ms, so that writers slow down instead of stopping
 * while the backlog is written; then (d), the cap still in force.
 */
#define RAMP_STEPS	20

static int ramp_freeze(struct method_ctx *m, struct cycle *c)
{
	uint64_t from = dirty_kib() * 1024, to = m->o->drain_bytes, step_ns, limit;
	unsigned int k;
	char value[32];
	int err, r;

	err = sysctl_read(DIRTY_BYTES, m->saved_dirty[0], sizeof(m->saved_dirty[0]));
	if (!err)
		err = sysctl_read(DIRTY_RATIO, m->saved_dirty[1], sizeof(m->saved_dirty[1]));
	if (err)
		return err;
	if (from < to)
		from = to;
	step_ns = m->o->ramp_ms * NSEC_PER_MSEC / RAMP_STEPS;
	for (k = 1; k <= RAMP_STEPS && !err; k++) {
		limit = from - (from - to) * k / RAMP_STEPS;
		snprintf(value, sizeof(value), "%" PRIu64, limit);
		err = sysctl_write(DIRTY_BYTES, value);
		sleep_until_ns(now_ns() + step_ns);
	}
	if (!err)
		err = presync_freeze(m, c);
	r = drain_end(m);
	if (!err && r)
		module_thaw(m);
	return err ? err : r;
}

/* No freeze: how long writes take anyway, over a hold's time. */
static int baseline_freeze(struct method_ctx *m, struct cycle *c)
{
	unsigned int i;

	c->blocking = now_ns();
	for (i = 0; i < m->n; i++)
		c->frozen[i] = c->blocking;
	return 0;
}

static int baseline_thaw(struct method_ctx *m)
{
	(void)m;
	return 0;
}

const struct method methods[] = {
	{ "loop", "(a) FIFREEZE per mount, one after the other", loop_freeze, loop_thaw },
	{ "parallel", "(b) syncfs, then FIFREEZE, in parallel threads", parallel_freeze,
	  parallel_thaw },
	{ "module", "(c) one XQ_IOC_FREEZE", module_freeze, module_thaw },
	{ "presync", "(d) one XQ_IOC_FREEZE with XQ_FREEZE_PRESYNC", presync_freeze,
	  module_thaw },
	{ "presync-drain", "(d) after capping dirty memory", presync_drain_freeze, module_thaw },
	{ "twopass", "(d) after a parallel syncfs pass", twopass_freeze, module_thaw },
	{ "parallel-drain", "(b) after capping dirty memory", parallel_drain_freeze,
	  parallel_thaw },
	{ "presync-bdi", "(d) after capping the frozen disks' own dirty memory",
	  bdi_drain_freeze, module_thaw },
	{ "presync-rounds", "(d) after parallel syncfs passes while they shrink dirty memory",
	  rounds_freeze, module_thaw },
	{ "presync-ramp", "(d) after lowering vm.dirty_bytes to the cap in steps",
	  ramp_freeze, module_thaw },
	{ "baseline", "no freeze: the writers' own worst write over a hold", baseline_freeze,
	  baseline_thaw },
};
const unsigned int nmethods = sizeof(methods) / sizeof(methods[0]);

const struct method *method_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < nmethods; i++)
		if (!strcmp(methods[i].name, name))
			return &methods[i];
	return NULL;
}

int method_ctx_init(struct method_ctx *m, const struct target *t, unsigned int n,
		    const struct bench_opts *o)
{
	int err;

	*m = (struct method_ctx){ .t = t, .n = n, .o = o };
	m->xq_fd = open("/dev/" XQ_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (m->xq_fd < 0)
		return -errno;
	err = pool_start(&m->pool, t, n);
	if (err)
		close(m->xq_fd);
	return err;
}

void method_ctx_fini(struct method_ctx *m)
{
	pool_stop(m->pool, m->n);
	close(m->xq_fd);
}
