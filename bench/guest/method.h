/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ways to quiesce a set of filesystems that the benchmark compares.
 * Each method freezes every target, filling cycle->frozen[], and later
 * thaws them; the caller times the request and holds the snapshot.
 */
#ifndef XQ_BENCH_METHOD_H
#define XQ_BENCH_METHOD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/xquiesce.h>

#include "bench.h"

struct pool;

/* A backing device's dirty limit before its drain. */
struct bdi_saved {
	bool fine;			/* max_ratio_fine and strict_limit (6.2 on) */
	char ratio[32];			/* max_ratio_fine, else max_ratio */
	char strict[32];
};

struct method_ctx {
	const struct target *t;
	unsigned int n;
	const struct bench_opts *o;
	int xq_fd;			/* /dev/xquiesce */
	struct pool *pool;		/* a thread per target */
	struct xq_fs fs[BENCH_MAX_FS];
	char saved_dirty[2][32];	/* vm.dirty_bytes, vm.dirty_ratio while draining */
	struct bdi_saved bdi[BENCH_MAX_FS];	/* the targets' own limits while draining */
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
/* The dirty-limit knobs of dev's backing device, space-separated. */
void bdi_knobs(dev_t dev, char *buf, size_t size);

#endif
