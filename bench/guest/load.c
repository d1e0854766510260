// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "load.h"

/* 2^18 writes: far more than a writer logs between two marks and a read. */
#define RING_ORDER	18
#define RING_SIZE	(1U << RING_ORDER)

struct write_rec {
	uint64_t start, end;
};

/* Shared with one writer process; it is the only one to write here. */
struct ring {
	_Atomic uint64_t count;		/* writes logged */
	_Atomic uint64_t inflight;	/* start of the write in progress, 0 between */
	struct write_rec rec[RING_SIZE];
};

/* One writer's log at a time, for the readers below. */
static struct write_rec scratch[RING_SIZE + 1];

struct load {
	unsigned int n;
	pid_t pid[BENCH_MAX_FS];
	struct ring *ring[BENCH_MAX_FS];
};

static void __attribute__((noreturn)) writer_main(struct ring *r, const char *mnt,
						 const struct load_opts *o)
{
	uint64_t size = (uint64_t)o->file_mib << 20, off = 0, start, seq;
	char path[256];
	char *buf;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(path, sizeof(path), "%s/load", mnt);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	buf = malloc(o->write_size);
	if (fd < 0 || !buf) {
		fprintf(stderr, "xq-bench: writer: %s: %s\n", path, strerror(errno));
		_exit(1);
	}
	memset(buf, 0x5a, o->write_size);
	for (;;) {
		start = now_ns();
		atomic_store_explicit(&r->inflight, start, memory_order_release);
		if (pwrite(fd, buf, o->write_size, (off_t)off) != (ssize_t)o->write_size) {
			fprintf(stderr, "xq-bench: writer: %s at %llu: %s\n", path,
				(unsigned long long)off, strerror(errno));
			_exit(1);
		}
		seq = atomic_load_explicit(&r->count, memory_order_relaxed);
		r->rec[seq & (RING_SIZE - 1)] = (struct write_rec){ start, now_ns() };
		atomic_store_explicit(&r->count, seq + 1, memory_order_release);
		atomic_store_explicit(&r->inflight, 0, memory_order_release);
		off += o->write_size;
		if (off + o->write_size > size)
			off = 0;
	}
}

int load_start(struct load **lp, const struct target *t, unsigned int n,
	       const struct load_opts *o)
{
	struct load *l = calloc(1, sizeof(*l));
	unsigned int i;
	int err;

	if (!l)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		l->ring[i] = mmap(NULL, sizeof(struct ring), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (l->ring[i] == MAP_FAILED) {
			err = -errno;
			l->ring[i] = NULL;
			goto undo;
		}
		l->pid[i] = fork();
		if (l->pid[i] < 0) {
			err = -errno;
			goto undo;
		}
		if (l->pid[i] == 0)
			writer_main(l->ring[i], t[i].mnt, o);
		l->n = i + 1;
	}
	*lp = l;
	return 0;
undo:
	l->n = i + (l->ring[i] != NULL);
	load_stop(l);
	return err;
}

static bool writer_alive(pid_t pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

int load_stop(struct load *l)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < l->n; i++) {
		if (l->pid[i] > 0) {
			if (!writer_alive(l->pid[i]))
				err = -ECHILD;
			kill(l->pid[i], SIGKILL);
			waitpid(l->pid[i], NULL, 0);
		}
		if (l->ring[i])
			munmap(l->ring[i], sizeof(struct ring));
	}
	free(l);
	return err;
}

void load_mark(const struct load *l, uint64_t *marks)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		marks[i] = atomic_load_explicit(&l->ring[i]->count, memory_order_acquire);
}

uint64_t load_writes_since(const struct load *l, const uint64_t *marks)
{
	uint64_t now[BENCH_MAX_FS], sum = 0;
	unsigned int i;

	load_mark(l, now);
	for (i = 0; i < l->n; i++)
		sum += now[i] - marks[i];
	return sum;
}

/*
 * Copies writer i's writes since its mark, plus the one in progress (ending
 * now), into recs; returns their number or -errno.
 */
static long ring_read(const struct load *l, unsigned int i, uint64_t mark,
		      struct write_rec *recs, size_t max)
{
	const struct ring *r = l->ring[i];
	uint64_t count = atomic_load_explicit(&r->count, memory_order_acquire);
	uint64_t inflight = atomic_load_explicit(&r->inflight, memory_order_acquire);
	uint64_t seq;
	size_t n = 0;

	if (!writer_alive(l->pid[i]))
		return -ECHILD;
	if (count - mark > RING_SIZE || count - mark + 1 > max)
		return -EOVERFLOW;
	for (seq = mark; seq < count; seq++)
		recs[n++] = r->rec[seq & (RING_SIZE - 1)];
	/* Logged after we read count: its record is already among the others. */
	if (inflight && (n == 0 || inflight > recs[n - 1].start))
		recs[n++] = (struct write_rec){ inflight, now_ns() };
	return (long)n;
}

int load_longest_write(const struct load *l, const uint64_t *marks, uint64_t from,
		       uint64_t to, uint64_t *longest_ns)
{
	struct write_rec *recs = scratch;
	unsigned int i;
	long n, k;

	*longest_ns = 0;
	for (i = 0; i < l->n; i++) {
		n = ring_read(l, i, marks[i], recs, RING_SIZE + 1);
		if (n < 0)
			return (int)n;
		for (k = 0; k < n; k++)
			if (recs[k].start <= to && recs[k].end >= from &&
			    recs[k].end - recs[k].start > *longest_ns)
				*longest_ns = recs[k].end - recs[k].start;
	}
	return 0;
}

int load_wait_curve(const struct load *l, const uint64_t *marks, uint64_t from, uint64_t to,
		    uint64_t step, uint64_t *waits)
{
	struct write_rec *recs = scratch;
	uint64_t t, npoints = (to - from) / step + 1, p;
	unsigned int i;
	long n, k;

	memset(waits, 0, npoints * sizeof(*waits));
	for (i = 0; i < l->n; i++) {
		n = ring_read(l, i, marks[i], recs, RING_SIZE + 1);
		if (n < 0)
			return (int)n;
		/* A writer's writes follow each other: one pass over both. */
		for (p = 0, k = 0; p < npoints; p++) {
			t = from + p * step;
			while (k < n && recs[k].end < t)
				k++;
			if (k < n && recs[k].start <= t && t - recs[k].start > waits[p])
				waits[p] = t - recs[k].start;
		}
	}
	return 0;
}
