// SPDX-License-Identifier: GPL-2.0
/* Freezing itself: the whole set in one call, shared superblocks, stacks. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ondisk.h"
#include "suite.h"
#include "util.h"

#define HOLD_MS 300

static void start_writers(struct test_ctx *t, struct fsent *const *fs, unsigned int n,
			  struct child *w)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = writer_start(&w[i], fs[i]->mnt);
		CHECK(t, ret == 0, "cannot start a writer on %s: %s", fs[i]->mnt, strerror(-ret));
	}
	sleep_ms(50);
}

static void stop_writers(struct child *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		child_reap(&w[i]);
}

/*
 * While frozen, each writer's last completed write began before its
 * filesystem froze, and the write it has in flight has been waiting since.
 */
static void check_writers_blocked(struct test_ctx *t, struct fsent *const *fs, unsigned int n,
				  const struct child *w, const struct xq_fs *out,
				  unsigned int nout, uint64_t *count)
{
	const struct xq_fs *x;
	uint64_t now = now_ns();
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct stamps *st = w[i].st;

		count[i] = st->count;
		x = find_frozen(out, nout, fs[i]);
		if (!x)
			continue;
		CHECK(t, st->count > 0, "the writer on %s never wrote", fs[i]->mnt);
		CHECK(t, st->done_started_ns <= x->frozen_ns,
		      "%s: a write that began %.1f ms after the freeze completed while frozen",
		      fs[i]->mnt, (st->done_started_ns - x->frozen_ns) / 1e6);
		CHECK(t, st->started_ns > st->done_ns && now - st->started_ns >= 100 * NSEC_PER_MSEC,
		      "%s: the writer is not blocked (write in flight since %.1f ms, last done %.1f ms ago)",
		      fs[i]->mnt, (now - st->started_ns) / 1e6, (now - st->done_ns) / 1e6);
	}
}

/* Just before THAW: no writer completed anything since the last look. */
static void check_writers_still(struct test_ctx *t, struct fsent *const *fs, unsigned int n,
				const struct child *w, const uint64_t *count)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		CHECK(t, w[i].st->count == count[i], "%s: %llu writes completed while frozen",
		      fs[i]->mnt, (unsigned long long)(w[i].st->count - count[i]));
}

/* After the thaw at thaw_ns, every writer completes new writes. */
static void check_writers_resume(struct test_ctx *t, struct fsent *const *fs, unsigned int n,
				 const struct child *w, const uint64_t *count, uint64_t thaw_ns)
{
	uint64_t end = now_ns() + 2000 * NSEC_PER_MSEC;
	unsigned int i;

	for (i = 0; i < n; i++) {
		while (w[i].st->count == count[i] && now_ns() < end)
			sleep_ms(2);
		if (!CHECK(t, w[i].st->count > count[i], "%s: the writer did not resume after THAW",
			   fs[i]->mnt))
			continue;
		CHECK(t, w[i].st->done_ns >= thaw_ns,
		      "%s: the first write after the freeze completed before THAW", fs[i]->mnt);
	}
}

/* Each entry: right device and type, frozen within the call, not blkfront. */
static void check_frozen_list(struct test_ctx *t, struct fsent *const *fs, unsigned int n,
			      const struct xq_freeze *req, const struct xq_fs *out)
{
	bool presync = req->flags & XQ_FREEZE_PRESYNC;
	const struct xq_fs *x;
	unsigned int i;

	if (!CHECK(t, req->nfs == n, "FREEZE froze %u filesystems, expected %u", req->nfs, n))
		return;
	for (i = 0; i < n; i++) {
		x = find_frozen(out, n, fs[i]);
		if (!CHECK(t, x, "%s (%s, dev %u:%u) missing from the frozen list", fs[i]->mnt,
			   fs[i]->fstype, major(fs[i]->dev), minor(fs[i]->dev)))
			continue;
		CHECK(t, x->frozen_ns >= req->start_ns && x->frozen_ns <= req->frozen_ns,
		      "%s: frozen at %llu, outside the call [%llu, %llu]", fs[i]->mnt,
		      (unsigned long long)x->frozen_ns, (unsigned long long)req->start_ns,
		      (unsigned long long)req->frozen_ns);
		CHECK(t, !(x->flags & XQ_FS_BLKFRONT), "%s: a virtio disk reported as blkfront",
		      fs[i]->mnt);
		CHECK(t, x->id[0] != '\0', "%s: no s_id reported", fs[i]->mnt);
		CHECK(t, presync ? x->sync_ns > 0 : x->sync_ns == 0,
		      "%s: sync_ns %llu with%s pre-sync", fs[i]->mnt,
		      (unsigned long long)x->sync_ns, presync ? "" : "out");
	}
}

void test_freeze_all(struct suite *s, struct test_ctx *t)
{
	struct xq_fs out[NFS], held[NFS];
	struct child w[NFS] = { 0 };
	uint64_t count[NFS], t0, t1, thaw_ns;
	struct xq_freeze req;
	struct xq_status st;
	struct xq_thaw th;
	unsigned int i, found;
	int ret;

	start_writers(t, s->all, NFS, w);
	for (i = 0; i < NFS; i++) {
		ret = pattern_write(s->fs[i].mnt, s->nonce + i);
		CHECK(t, ret == 0, "cannot write the pattern file on %s: %s", s->fs[i].mnt,
		      strerror(-ret));
	}
	t0 = now_ns();
	ret = freeze_set(s->fd, s->all, NULL, NFS, XQ_FREEZE_PRESYNC, 30000, &req, out);
	t1 = now_ns();
	if (!CHECK(t, ret == 0, "FREEZE of 4 filesystems failed: %s (err %d on %u:%u %s)",
		   strerror(-ret), req.err_errno, req.err_major, req.err_minor, req.err_fstype)) {
		stop_writers(w, NFS);
		return;
	}
	tap_diag("freeze of 4 filesystems: %.0f ms (in the module: %.0f ms, under 4 writers, presync)",
		 (t1 - t0) / 1e6, (req.frozen_ns - req.start_ns) / 1e6);
	check_frozen_list(t, s->all, NFS, &req, out);
	sleep_ms(HOLD_MS);
	check_writers_blocked(t, s->all, NFS, w, out, req.nfs, count);

	for (i = 0; i < NFS; i++) {
		ret = pattern_scan(s->fs[i].source, s->nonce + i, &found);
		CHECK(t, ret == 0 && found == PATTERN_BLOCKS,
		      "%s: %u of %u blocks written before the freeze are on %s (%s)", s->fs[i].mnt,
		      found, PATTERN_BLOCKS, s->fs[i].source, ret ? strerror(-ret) : "read ok");
	}
	ret = xq_status(s->fd, &st, held, NFS);
	CHECK(t, ret == 0 && st.state == XQ_STATE_FROZEN && st.nfs == NFS &&
		 st.holder_pid == getpid() && st.remaining_ns > 0,
	      "STATUS while frozen: ret %d state %u nfs %u holder %d remaining %llu ns", ret,
	      st.state, st.nfs, st.holder_pid, (unsigned long long)st.remaining_ns);

	check_writers_still(t, s->all, NFS, w, count);
	thaw_ns = now_ns();
	ret = xq_thaw(s->fd, &th);
	CHECK(t, ret == 0 && th.nfs == NFS, "THAW: %s, %u filesystems thawed", strerror(-ret),
	      th.nfs);
	CHECK(t, th.held_ns >= HOLD_MS * NSEC_PER_MSEC && th.held_ns <= now_ns() - req.frozen_ns,
	      "THAW reports the freeze held %.1f ms, expected %d ms to %.1f ms", th.held_ns / 1e6,
	      HOLD_MS, (now_ns() - req.frozen_ns) / 1e6);
	check_writers_resume(t, s->all, NFS, w, count, thaw_ns);
	stop_writers(w, NFS);
	expect_idle(t, s->fd, XQ_END_THAW);
}

/* Two mounts and a bind mount share one superblock: frozen once, thawed once. */
void test_mounted_twice(struct suite *s, struct test_ctx *t)
{
	const struct fsent *paths[] = { &s->fs[0], &s->again, &s->bind };
	struct child probes[3];
	struct xq_freeze req;
	struct xq_status st;
	struct xq_thaw th;
	struct xq_fs out[1];
	unsigned int i;
	int ret;

	if (!CHECK(t, s->again.dev == s->fs[0].dev && s->bind.dev == s->fs[0].dev,
		   "setup: %s and %s are not the superblock of %s", s->again.mnt, s->bind.mnt,
		   s->fs[0].mnt))
		return;
	ret = freeze_set(s->fd, s->all, NULL, 1, 0, 30000, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE failed: %s", strerror(-ret)))
		return;
	check_frozen_list(t, s->all, 1, &req, out);
	for (i = 0; i < 3; i++)
		expect_blocked(t, paths[i], 200, &probes[i]);
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && st.nfs == 1, "STATUS holds %u filesystems, expected 1", st.nfs);
	ret = xq_thaw(s->fd, &th);
	CHECK(t, ret == 0 && th.nfs == 1, "THAW: %s, %u thawed, expected 1", strerror(-ret),
	      th.nfs);
	for (i = 0; i < 3; i++)
		expect_released(t, paths[i], &probes[i], 2000);
	/* A second freeze reference would still hold it after one thaw. */
	for (i = 0; i < 3; i++)
		expect_writable(t, paths[i], 1000);
	expect_idle(t, s->fd, XQ_END_THAW);
}

struct fsent *loop_host(struct suite *s, struct test_ctx *t)
{
	struct stat img;
	unsigned int i;

	if (!CHECK(t, stat(s->loop_image, &img) == 0, "setup: no loop image %s", s->loop_image))
		return NULL;
	for (i = 0; i < NFS; i++)
		if (s->fs[i].dev == img.st_dev)
			return &s->fs[i];
	CHECK(t, false, "setup: %s is not on a test filesystem", s->loop_image);
	return NULL;
}

/*
 * The loop filesystem (level 0) must be frozen, its dirty data flushed into
 * the image file, before the filesystem holding the image (level 1).
 */
void test_loop_stack(struct suite *s, struct test_ctx *t)
{
	struct fsent *set[NFS + 1] = { &s->loop };
	uint32_t levels[NFS + 1] = { 0 };
	struct xq_fs out[NFS + 1];
	struct child w[2] = { 0 }, probe[2];
	struct fsent *host = NULL, *pair[2];
	const struct xq_fs *lx, *hx;
	struct xq_freeze req;
	struct xq_thaw th;
	unsigned int i, found;
	uint64_t count[2];
	int ret;

	host = loop_host(s, t);
	if (!host)
		return;
	for (i = 0; i < NFS; i++) {
		set[i + 1] = &s->fs[i];
		levels[i + 1] = 1;
	}
	pair[0] = &s->loop;
	pair[1] = host;
	start_writers(t, pair, 2, w);
	ret = pattern_write(s->loop.mnt, s->nonce + 100);
	CHECK(t, ret == 0, "cannot write the pattern file on %s: %s", s->loop.mnt, strerror(-ret));

	ret = freeze_set(s->fd, set, levels, NFS + 1, XQ_FREEZE_PRESYNC, 30000, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE of the stack failed: %s (err %d on %u:%u %s)",
		   strerror(-ret), req.err_errno, req.err_major, req.err_minor, req.err_fstype)) {
		stop_writers(w, 2);
		return;
	}
	check_frozen_list(t, set, NFS + 1, &req, out);
	lx = find_frozen(out, req.nfs, &s->loop);
	hx = find_frozen(out, req.nfs, host);
	if (lx && hx) {
		CHECK(t, lx->level == 0 && hx->level == 1, "levels reported: loop %u, host %u",
		      lx->level, hx->level);
		CHECK(t, lx->frozen_ns <= hx->frozen_ns,
		      "the loop filesystem froze %.1f ms after the one holding its image",
		      (lx->frozen_ns - hx->frozen_ns) / 1e6);
	}
	sleep_ms(200);
	check_writers_blocked(t, pair, 2, w, out, req.nfs, count);
	ret = pattern_scan(s->loop.source, s->nonce + 100, &found);
	CHECK(t, ret == 0 && found == PATTERN_BLOCKS,
	      "%u of %u blocks written on %s before the freeze are in its image (%s)", found,
	      PATTERN_BLOCKS, s->loop.mnt, ret ? strerror(-ret) : "read ok");
	for (i = 0; i < 2; i++)
		expect_blocked(t, pair[i], 100, &probe[i]);

	check_writers_still(t, pair, 2, w, count);
	ret = xq_thaw(s->fd, &th);
	CHECK(t, ret == 0 && th.nfs == NFS + 1, "THAW: %s, %u thawed, expected %u",
	      strerror(-ret), th.nfs, NFS + 1);
	for (i = 0; i < 2; i++)
		expect_released(t, pair[i], &probe[i], 2000);
	check_writers_resume(t, pair, 2, w, count, 0);
	stop_writers(w, 2);
	expect_idle(t, s->fd, XQ_END_THAW);
}

#define WRONG_ORDER_TIMEOUT_MS 3000
/* A TCG guest on a shared host: how late a timed-out FREEZE may return. */
#define WRONG_ORDER_SLACK_MS 1500
#define LATE_WORKER_MS 10000

/* The module's reference count is back to baseline: no worker left running. */
static bool wait_module_refs(struct test_ctx *t, unsigned int baseline, unsigned int ms)
{
	uint64_t start = now_ns(), end = start + ms * NSEC_PER_MSEC;
	unsigned int refs = 0;
	int ret;

	while ((ret = xq_module_refcnt(&refs)) == 0 && refs != baseline && now_ns() < end)
		sleep_ms(10);
	if (!CHECK(t, ret == 0 && refs == baseline,
		   "module references %u after %u ms, expected %u (a freeze worker still runs): %s",
		   refs, ms, baseline, ret ? strerror(-ret) : "read ok"))
		return false;
	tap_diag("the abandoned freeze worker finished %.0f ms after FREEZE returned",
		 (now_ns() - start) / 1e6);
	return true;
}

/*
 * The wrong order: the filesystem holding the loop image frozen first, so
 * the loop filesystem's flush blocks on it. FREEZE must give up at its
 * deadline, name the loop filesystem, and leave nothing frozen; the late
 * worker thaws its superblock itself. The right order then works.
 */
void test_freeze_deadline(struct suite *s, struct test_ctx *t)
{
	static const uint32_t wrong[2] = { 0, 1 }, right[2] = { 1, 0 };
	struct fsent *pair[2] = { NULL, &s->loop };
	struct xq_freeze req;
	struct xq_status st;
	struct xq_fs out[2];
	unsigned int i, refs;
	uint64_t t0, took;
	int ret;

	pair[0] = loop_host(s, t);
	if (!pair[0])
		return;
	ret = xq_module_refcnt(&refs);
	if (!CHECK(t, ret == 0, "cannot read the module's reference count: %s", strerror(-ret)))
		return;
	/* Unsynced data: the loop filesystem's freeze must flush it through the image. */
	ret = pattern_write(s->loop.mnt, s->nonce + 200);
	CHECK(t, ret == 0, "cannot write to %s: %s", s->loop.mnt, strerror(-ret));

	t0 = now_ns();
	ret = freeze_set(s->fd, pair, wrong, 2, 0, WRONG_ORDER_TIMEOUT_MS, &req, out);
	took = now_ns() - t0;
	tap_diag("wrongly ordered loop stack: FREEZE returned %s after %.0f ms (timeout %u ms)",
		 ret ? strerror(-ret) : "success", took / 1e6, WRONG_ORDER_TIMEOUT_MS);
	CHECK(t, ret == -ETIMEDOUT, "FREEZE in the wrong order: %s, expected ETIMEDOUT",
	      ret ? strerror(-ret) : "success");
	CHECK(t, req.err_errno == ETIMEDOUT, "err_errno %d, expected ETIMEDOUT (%d)",
	      req.err_errno, ETIMEDOUT);
	CHECK(t, req.err_major == major(s->loop.dev) && req.err_minor == minor(s->loop.dev),
	      "the error names %u:%u, expected the loop filesystem %u:%u (%s)", req.err_major,
	      req.err_minor, major(s->loop.dev), minor(s->loop.dev), s->loop.mnt);
	CHECK(t, !strncmp(req.err_fstype, s->loop.fstype, XQ_FSTYPE_LEN),
	      "err_fstype '%.16s', expected '%s'", req.err_fstype, s->loop.fstype);
	CHECK(t, took >= (WRONG_ORDER_TIMEOUT_MS - 1) * NSEC_PER_MSEC &&
		 took <= (WRONG_ORDER_TIMEOUT_MS + WRONG_ORDER_SLACK_MS) * NSEC_PER_MSEC,
	      "FREEZE returned after %.0f ms, expected %u to %u ms", took / 1e6,
	      WRONG_ORDER_TIMEOUT_MS, WRONG_ORDER_TIMEOUT_MS + WRONG_ORDER_SLACK_MS);
	if (ret == 0)
		xq_thaw(s->fd, NULL);
	/* THAWING until the late worker has frozen and thawed the loop filesystem. */
	ret = xq_status(s->fd, &st, NULL, 0);
	CHECK(t, ret == 0 && (st.state == XQ_STATE_IDLE || st.state == XQ_STATE_THAWING),
	      "STATUS after the timed-out FREEZE: state %u, expected idle or thawing", st.state);
	wait_module_refs(t, refs, LATE_WORKER_MS);
	for (i = 0; i < 2; i++)
		expect_writable(t, pair[i], LATE_WORKER_MS);
	expect_idle(t, s->fd, XQ_END_FAILED);

	ret = pattern_write(s->loop.mnt, s->nonce + 201);
	CHECK(t, ret == 0, "cannot write to %s: %s", s->loop.mnt, strerror(-ret));
	ret = freeze_set(s->fd, pair, right, 2, 0, 30000, &req, out);
	if (!CHECK(t, ret == 0, "FREEZE in the right order: %s (err %d on %u:%u %s)",
		   strerror(-ret), req.err_errno, req.err_major, req.err_minor, req.err_fstype))
		return;
	check_frozen_list(t, pair, 2, &req, out);
	ret = xq_thaw(s->fd, NULL);
	CHECK(t, ret == 0, "THAW: %s", strerror(-ret));
	for (i = 0; i < 2; i++)
		expect_writable(t, pair[i], 2000);
	expect_idle(t, s->fd, XQ_END_THAW);
}
