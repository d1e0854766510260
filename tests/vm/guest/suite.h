/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQ_VMTEST_SUITE_H
#define XQ_VMTEST_SUITE_H

#include <stdbool.h>
#include <stdint.h>

#include "proc.h"
#include "tap.h"
#include "xq.h"

#define NFS 4

/* What the guest's init prepared, and the state shared by the tests. */
struct suite {
	const char *module;		/* path of xquiesce.ko */
	struct fsent fs[NFS];		/* ext4, xfs, btrfs, LVM: one disk each */
	struct fsent *all[NFS];
	struct fsent again;		/* fs[0] mounted a second time */
	struct fsent bind;		/* a bind mount of fs[0] */
	struct fsent loop;		/* a filesystem on a loop device ... */
	const char *loop_image;		/* ... whose image file lives here */
	struct fsent stuck;		/* ext4 on an LV the stuck I/O test suspends */
	struct fsent delay;		/* ext4 on dm-delay, which it slows down */
	unsigned int kver[2];		/* running kernel, major.minor */
	int fd;				/* /dev/xquiesce */
	uint64_t nonce;
};

bool kernel_at_least(const struct suite *s, unsigned int major, unsigned int minor);

/* Freezes fs[0..n-1] on fd; 0 or -errno, req/out filled. */
int freeze_set(int fd, struct fsent *const *fs, const uint32_t *levels, unsigned int n,
	       uint32_t flags, uint32_t timeout_ms, struct xq_freeze *req, struct xq_fs *out);

/* The entry of out[] for f, or NULL. */
const struct xq_fs *find_frozen(const struct xq_fs *out, unsigned int n, const struct fsent *f);

/* The earliest frozen_ns of out[0..n-1]. */
uint64_t first_frozen_ns(const struct xq_fs *out, unsigned int n);

/* A probe write to f completes within ms. */
bool expect_writable(struct test_ctx *t, const struct fsent *f, unsigned int ms);
/* A probe write to f is still blocked after ms; the probe is left in c. */
bool expect_blocked(struct test_ctx *t, const struct fsent *f, unsigned int ms, struct child *c);
/* After a thaw: the blocked probe completes within ms; reaps it. */
bool expect_released(struct test_ctx *t, const struct fsent *f, struct child *c, unsigned int ms);

/* STATUS says nothing is frozen and the last freeze ended as end. */
#define XQ_END_ANY (~0U)
bool expect_idle(struct test_ctx *t, int fd, uint32_t end);
/* The deadline thawed: STATUS says so, and the holder's THAW gets ETIMEDOUT. */
void expect_deadline_ended(struct test_ctx *t, int fd);

/* Tests: each returns through its test_ctx. */
void test_freeze_all(struct suite *s, struct test_ctx *t);
void test_mounted_twice(struct suite *s, struct test_ctx *t);
void test_loop_stack(struct suite *s, struct test_ctx *t);
void test_deadline(struct suite *s, struct test_ctx *t);
void test_holder_killed(struct suite *s, struct test_ctx *t);
void test_holder_closed(struct suite *s, struct test_ctx *t);
void test_partial_failure(struct suite *s, struct test_ctx *t);
void test_second_freeze(struct suite *s, struct test_ctx *t);
void test_unprivileged(struct suite *s, struct test_ctx *t);
void test_malformed(struct suite *s, struct test_ctx *t);
void test_rmmod_frozen(struct suite *s, struct test_ctx *t);
void test_fithaw(struct suite *s, struct test_ctx *t);
void test_freeze_deadline(struct suite *s, struct test_ctx *t);
void test_rescue(struct suite *s, struct test_ctx *t);
void test_blkfront_none(struct suite *s, struct test_ctx *t);
void test_status_frozen(struct suite *s, struct test_ctx *t);
void test_struct_sizes(struct suite *s, struct test_ctx *t);
void test_timeout_floor(struct suite *s, struct test_ctx *t);
void test_out_fields(struct suite *s, struct test_ctx *t);
void test_ioctl_magic(struct suite *s, struct test_ctx *t);
void test_deadline_first_freeze(struct suite *s, struct test_ctx *t);
void test_thaw_failure(struct suite *s, struct test_ctx *t);
void test_loop_thaw_order(struct suite *s, struct test_ctx *t);
void test_stuck_io(struct suite *s, struct test_ctx *t);
void test_other_root(struct suite *s, struct test_ctx *t);
void test_fuzz_ioctl(struct suite *s, struct test_ctx *t);
void test_races(struct suite *s, struct test_ctx *t);

/* The test filesystem that holds the loop image, or NULL (a setup failure). */
struct fsent *loop_host(struct suite *s, struct test_ctx *t);

#endif
