/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ways to quiesce a set of filesystems that the benchmark compares.
 * Each method freezes every target, filling cycle->frozen[], and later
 * thaws them; the caller times the request and holds the snapshot.
 */
#ifndef XQ_BENCH_METHOD_H
#define XQ_BENCH_METHOD_H

#include <linux/xquiesce.h>

#include "bench.h"

struct pool;

struct method_ctx {
	const struct target *t;
	unsigned int n;
	const struct bench_opts *o;
	int xq_fd;			/* /dev/xquiesce */
	struct pool *pool;		/* a thread per target */
	struct xq_fs fs[BENCH_MAX_FS];
	char saved_dirty[2][32];	/* vm.dirty_bytes, vm.dirty_ratio while draining */
};

struct method {
	const char *name;
	const char *what;		/* one line, for reports */
	int (*freeze)(struct method_ctx *m, struct cycle *c);
	int (*thaw)(struct method_ctx *m);
};

extern const struct method methods[];
extern const unsigned int nmethods;

const struct method *method_find(const char *name);
/* Opens /dev/xquiesce and starts the threads; 0 or -errno. */
int method_ctx_init(struct method_ctx *m, const struct target *t, unsigned int n,
		    const struct bench_opts *o);
void method_ctx_fini(struct method_ctx *m);

#endif
