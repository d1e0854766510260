/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The application under load: one writer process per filesystem doing
 * buffered writes as fast as it can, timing each write with
 * CLOCK_MONOTONIC into a ring the controller reads from shared memory.
 */
#ifndef XQ_BENCH_LOAD_H
#define XQ_BENCH_LOAD_H

#include <stdint.h>

#include "bench.h"

struct load;

struct load_opts {
	unsigned int write_size;	/* bytes per write() */
	unsigned int file_mib;		/* the file is rewritten from 0 after this */
};

/* Starts one writer per target; 0 or -errno. */
int load_start(struct load **lp, const struct target *t, unsigned int n,
	       const struct load_opts *o);
/* Stops and reaps the writers; -ECHILD when one had died on its own. */
int load_stop(struct load *l);

/* Where each writer's log stands now, to read from later. */
void load_mark(const struct load *l, uint64_t *marks);
/*
 * The longest write of any writer that was in progress at some time in
 * [from, to], among the writes logged since marks (a write still blocked
 * counts up to now). -EOVERFLOW when a ring wrapped past a mark, -ECHILD
 * when a writer died.
 */
int load_longest_write(const struct load *l, const uint64_t *marks, uint64_t from,
		       uint64_t to, uint64_t *longest_ns);
/*
 * The wait curve of the writers from from to to, every step ns: at each
 * time, how long the longest-waiting writer had been inside write().
 * waits[] gets (to - from) / step + 1 values.
 */
int load_wait_curve(const struct load *l, const uint64_t *marks, uint64_t from, uint64_t to,
		    uint64_t step, uint64_t *waits);
/* Writes logged since marks, summed over the writers. */
uint64_t load_writes_since(const struct load *l, const uint64_t *marks);

#endif
