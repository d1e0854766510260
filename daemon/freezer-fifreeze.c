// SPDX-License-Identifier: GPL-2.0
/*
 * The fallback when the module cannot be had: FIFREEZE per filesystem.
 * Everything that can fail or allocate (opening the mount points, starting
 * the threads) happens before the window. Then syncfs of every filesystem
 * in parallel while they are still writable, FIFREEZE in parallel within
 * each level, lowest level first; thaw in the reverse order of levels.
 * A watchdog thread thaws at the deadline if the agent has not, but unlike
 * the module nothing thaws if the agent dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "discovery.h"
#include "freezer-backends.h"
#include "log.h"

#define MAX_WORKERS		16
#define DEFAULT_TIMEOUT_MS	15000

enum op { OP_SYNC, OP_FREEZE, OP_THAW };

struct target {
	const struct disc_fs *fs;
	int fd;
	bool frozen;
	bool busy;		/* a worker is on it (under lock) */
	int err;		/* of the last operation, positive errno */
	uint64_t done_ns;
	uint64_t sync_ns;
};

struct fifreeze_state {
	pthread_mutex_t lock;
	pthread_cond_t work, done, stop;
	enum op op;
	unsigned int batch[XQ_MAX_DEVS];
	unsigned int nbatch, next, pending;
	bool quit, stop_watchdog, thawed_by_watchdog, thaw_cancelled;
	/*
	 * A FIFREEZE did not return in time: the caller has given up on this
	 * state, which is left to the workers. Any freeze that completes
	 * after that is undone at once by the worker that made it.
	 */
	bool abandoned;
	struct fifreeze_state *next_abandoned;
	pthread_t workers[MAX_WORKERS];
	unsigned int nworkers;
	unsigned int nalive;		/* workers not yet returned (under lock) */
	pthread_t watchdog;
	bool watchdog_running;
	uint64_t deadline_ns;
	struct target t[XQ_MAX_DEVS];
	unsigned int nt, max_level;
	const struct discovery *d;
};

static void do_op(struct target *t, enum op op)
{
	uint64_t start = monotonic_ns();
	int unused = 0;		/* FIFREEZE/FITHAW ignore it; valgrind reads it */
	int r;

	switch (op) {
	case OP_SYNC:
		r = syncfs(t->fd);
		break;
	case OP_FREEZE:
		r = ioctl(t->fd, FIFREEZE, &unused);
		break;
	default:
		r = ioctl(t->fd, FITHAW, &unused);
		break;
	}
	t->err = r < 0 ? errno : 0;
	t->done_ns = monotonic_ns();
	if (op == OP_SYNC)
		t->sync_ns = t->done_ns - start;
}

static void close_targets(struct fifreeze_state *st)
{
	unsigned int i;

	for (i = 0; i < st->nt; i++) {
		if (st->t[i].fd >= 0)
			close(st->t[i].fd);
		st->t[i].fd = -1;
	}
}

static void *worker(void *arg)
{
	struct fifreeze_state *st = arg;
	struct target *t;
	enum op op;
	int unused = 0;

	pthread_mutex_lock(&st->lock);
	while (!st->quit) {
		if (st->next == st->nbatch) {
			if (st->abandoned)
				break;
			pthread_cond_wait(&st->work, &st->lock);
			continue;
		}
		t = &st->t[st->batch[st->next++]];
		op = st->op;
		t->busy = true;
		pthread_mutex_unlock(&st->lock);
		do_op(t, op);
		pthread_mutex_lock(&st->lock);
		t->busy = false;
		if (st->abandoned && op == OP_FREEZE && !t->err) {
			pthread_mutex_unlock(&st->lock);
			ioctl(t->fd, FITHAW, &unused);
			pthread_mutex_lock(&st->lock);
		}
		if (st->pending && --st->pending == 0)
			pthread_cond_signal(&st->done);
	}
	/* The last worker of an abandoned state lets go of the mount points. */
	if (--st->nalive == 0 && st->abandoned)
		close_targets(st);
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* Hands op on the matching targets to the workers; the lock is held. */
static void post_batch(struct fifreeze_state *st, enum op op, int level, bool only_frozen)
{
	unsigned int i;

	st->op = op;
	st->nbatch = st->next = 0;
	for (i = 0; i < st->nt; i++) {
		if (level >= 0 && st->t[i].fs->level != (unsigned int)level)
			continue;
		if (only_frozen && !st->t[i].frozen)
			continue;
		st->batch[st->nbatch++] = i;
	}
	st->pending = st->nbatch;
	pthread_cond_broadcast(&st->work);
}

/*
 * Runs op on every target matching the filter, in parallel, and waits for
 * them, until deadline_ns (CLOCK_MONOTONIC; 0: no limit): -ETIMEDOUT then.
 */
static int run_batch(struct fifreeze_state *st, enum op op, int level, bool only_frozen,
		     uint64_t deadline_ns)
{
	struct timespec at = {
		.tv_sec = deadline_ns / 1000000000ULL,
		.tv_nsec = deadline_ns % 1000000000ULL,
	};
	int r = 0;

	pthread_mutex_lock(&st->lock);
	post_batch(st, op, level, only_frozen);
	while (st->pending && !r) {
		if (deadline_ns)
			r = -pthread_cond_timedwait(&st->done, &st->lock, &at);
		else
			pthread_cond_wait(&st->done, &st->lock);
	}
	r = st->pending ? r : 0;
	pthread_mutex_unlock(&st->lock);
	return r;
}

/*
 * A FIFREEZE hangs when a filesystem it has to flush through (the one
 * holding a loop device's file) is frozen by someone else, and nothing
 * can interrupt it. Leave it to its worker, which thaws what it froze if
 * the call ever returns, let the workers thaw what did freeze, and give
 * the state up for good: its memory and descriptors are the price.
 */
/* Kept, not freed: hung workers may still use them. */
static struct fifreeze_state *abandoned_states;

static void abandon(struct freezer *f, struct fifreeze_state *st, unsigned int timeout_ms)
{
	const struct target *stuck = NULL;
	unsigned int i;

	pthread_mutex_lock(&st->lock);
	st->abandoned = true;
	/* Of the batch that hung, what froze is ours to thaw, what did not
	 * start never will, and what is still running thaws itself. */
	for (i = 0; i < st->nbatch; i++) {
		struct target *t = &st->t[st->batch[i]];

		if (t->busy && !stuck)
			stuck = t;
		else if (i < st->next && !t->busy && !t->err)
			t->frozen = true;
	}
	post_batch(st, OP_THAW, -1, true);
	pthread_mutex_unlock(&st->lock);
	for (i = 0; i < st->nworkers; i++)
		pthread_detach(st->workers[i]);
	st->next_abandoned = abandoned_states;
	abandoned_states = st;
	if (stuck)
		freezer_fail_message(f, st->d, stuck->fs->major, stuck->fs->minor, ETIMEDOUT,
				     "FIFREEZE did not return (is a filesystem under it frozen "
				     "by someone else?) for");
	else
		snprintf(f->result.message, sizeof(f->result.message),
			 "FIFREEZE did not finish within %u ms", timeout_ms);
}

/* Highest level first: the reverse of the freeze. */
static void thaw_all(struct fifreeze_state *st)
{
	unsigned int i;
	int level;

	for (level = st->max_level; level >= 0; level--) {
		run_batch(st, OP_THAW, level, true, 0);
		for (i = 0; i < st->nt; i++) {
			struct target *t = &st->t[i];

			if (!t->frozen || t->fs->level != (unsigned int)level)
				continue;
			t->frozen = false;
			/* EINVAL: it was not frozen any more, someone thawed it. */
			if (t->err == EINVAL)
				st->thaw_cancelled = true;
			else if (t->err)
				WRN("FITHAW of %s failed: %s", t->fs->mountpoint, strerror(t->err));
		}
	}
}

static void *watchdog(void *arg)
{
	struct fifreeze_state *st = arg;
	struct timespec at = {
		.tv_sec = st->deadline_ns / 1000000000ULL,
		.tv_nsec = st->deadline_ns % 1000000000ULL,
	};
	bool fire = false;

	pthread_mutex_lock(&st->lock);
	while (!st->stop_watchdog && !fire)
		fire = pthread_cond_timedwait(&st->stop, &st->lock, &at) == ETIMEDOUT &&
		       !st->stop_watchdog;
	pthread_mutex_unlock(&st->lock);
	if (fire) {
		ERR("FIFREEZE freeze reached its deadline: thawing without waiting for the agent");
		thaw_all(st);
		st->thawed_by_watchdog = true;
		/* Writable again: the agent may be stuck, its log need not be. */
		log_release();
	}
	return NULL;
}

static void stop_threads(struct fifreeze_state *st)
{
	unsigned int i;

	pthread_mutex_lock(&st->lock);
	st->quit = true;
	pthread_cond_broadcast(&st->work);
	pthread_mutex_unlock(&st->lock);
	for (i = 0; i < st->nworkers; i++)
		pthread_join(st->workers[i], NULL);
}

static void destroy(struct fifreeze_state *st)
{
	stop_threads(st);
	close_targets(st);
	pthread_cond_destroy(&st->work);
	pthread_cond_destroy(&st->done);
	pthread_cond_destroy(&st->stop);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* Opens a mount point of each filesystem and checks it is still that one. */
static int open_targets(struct freezer *f, struct fifreeze_state *st, const struct discovery *d)
{
	struct stat sb;
	size_t i;

	for (i = 0; i < d->nfs; i++) {
		const struct disc_fs *fs = &d->fs[i];
		struct target *t;

		if (fs->excluded)
			continue;
		if (st->nt == XQ_MAX_DEVS) {
			snprintf(f->result.message, sizeof(f->result.message),
				 "more than %d filesystems to freeze", XQ_MAX_DEVS);
			return -E2BIG;
		}
		t = &st->t[st->nt++];
		*t = (struct target){ .fs = fs };
		t->fd = open(fs->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (t->fd < 0) {
			freezer_fail_message(f, d, fs->major, fs->minor, errno, "cannot open");
			return -errno;
		}
		/* btrfs reports a per-subvolume st_dev, not the superblock's. */
		if (strcmp(fs->fstype, "btrfs") && fstat(t->fd, &sb) == 0 &&
		    sb.st_dev != makedev(fs->major, fs->minor)) {
			freezer_fail_message(f, d, fs->major, fs->minor, ESTALE,
					     "mount changed since discovery:");
			return -ESTALE;
		}
		if (fs->level > st->max_level)
			st->max_level = fs->level;
	}
	if (!st->nt) {
		snprintf(f->result.message, sizeof(f->result.message),
			 "no filesystem to freeze on the Xen disks");
		return -ENOENT;
	}
	return 0;
}

static int start_threads(struct fifreeze_state *st)
{
	unsigned int n = st->nt < MAX_WORKERS ? st->nt : MAX_WORKERS;
	int r;

	for (st->nworkers = 0; st->nworkers < n; st->nworkers++) {
		r = pthread_create(&st->workers[st->nworkers], NULL, worker, st);
		if (r)
			return -r;
		pthread_mutex_lock(&st->lock);
		st->nalive++;
		pthread_mutex_unlock(&st->lock);
	}
	return 0;
}

static struct fifreeze_state *create(void)
{
	struct fifreeze_state *st = calloc(1, sizeof(*st));
	pthread_condattr_t attr;

	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->work, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&st->done, &attr);
	pthread_cond_init(&st->stop, &attr);
	pthread_condattr_destroy(&attr);
	return st;
}

static void record_result(struct freezer *f, struct fifreeze_state *st)
{
	struct freeze_result *res = &f->result;
	unsigned int i;

	res->nfs = 0;
	for (i = 0; i < st->nt; i++) {
		const struct target *t = &st->t[i];
		const char *id = strrchr(t->fs->source, '/');
		struct frozen_fs *out;

		if (!t->frozen)
			continue;
		out = &res->fs[res->nfs++];
		*out = (struct frozen_fs){
			.major = t->fs->major, .minor = t->fs->minor, .level = t->fs->level,
			.sync_ns = t->sync_ns, .freeze_ns = t->done_ns - res->start_ns,
		};
		freezer_copy_name(out->fstype, sizeof(out->fstype), t->fs->fstype,
				  sizeof(t->fs->fstype));
		id = id ? id + 1 : t->fs->source;
		freezer_copy_name(out->id, sizeof(out->id), id, strlen(id));
		if (t->done_ns > res->frozen_ns)
			res->frozen_ns = t->done_ns;
	}
}

/* Freezes level by level; on a failure thaws what froze and says why. */
static int freeze_levels(struct freezer *f, struct fifreeze_state *st, unsigned int timeout_ms)
{
	uint64_t deadline_ns = f->result.start_ns + (uint64_t)timeout_ms * 1000000;
	unsigned int i, level;

	for (level = 0; level <= st->max_level; level++) {
		if (run_batch(st, OP_FREEZE, level, false, deadline_ns) == -ETIMEDOUT) {
			abandon(f, st, timeout_ms);
			return -ETIMEDOUT;
		}
		for (i = 0; i < st->nt; i++) {
			struct target *t = &st->t[i];

			if (t->fs->level != level)
				continue;
			if (!t->err) {
				t->frozen = true;
			} else if (t->err == EOPNOTSUPP) {
				WRN("%s (%s) does not support FIFREEZE: left out of the freeze",
				    t->fs->mountpoint, t->fs->fstype);
				f->result.nskipped++;
			}
		}
		for (i = 0; i < st->nt; i++) {
			struct target *t = &st->t[i];

			if (t->fs->level != level || !t->err || t->err == EOPNOTSUPP)
				continue;
			freezer_fail_message(f, st->d, t->fs->major, t->fs->minor, t->err,
					     t->err == EBUSY ? "already frozen by someone else:"
							     : "FIFREEZE failed on");
			thaw_all(st);
			return -t->err;
		}
	}
	return 0;
}

int fifreeze_freeze(struct freezer *f, const struct discovery *d,
		    const struct freezer_options *opt)
{
	unsigned int timeout_ms = opt->timeout_ms ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct fifreeze_state *st = create();
	unsigned int i;
	int r;

	if (!st)
		return -ENOMEM;
	st->d = d;
	r = open_targets(f, st, d);
	if (!r)
		r = start_threads(st);
	if (r < 0)
		goto fail;
	if (opt->presync) {
		run_batch(st, OP_SYNC, -1, false, 0);
		for (i = 0; i < st->nt; i++)
			if (st->t[i].err)
				WRN("syncfs of %s failed: %s", st->t[i].fs->mountpoint,
				    strerror(st->t[i].err));
	}

	log_hold();
	f->result.start_ns = monotonic_ns();
	r = freeze_levels(f, st, timeout_ms);
	if (r < 0) {
		log_release();
		if (r == -ETIMEDOUT)
			return r;
		goto fail;
	}
	st->deadline_ns = monotonic_ns() + (uint64_t)timeout_ms * 1000000;
	f->result.deadline_ns = st->deadline_ns;
	record_result(f, st);
	r = -pthread_create(&st->watchdog, NULL, watchdog, st);
	if (r < 0) {
		thaw_all(st);
		log_release();
		snprintf(f->result.message, sizeof(f->result.message),
			 "cannot start the thaw watchdog: %s", strerror(-r));
		goto fail;
	}
	st->watchdog_running = true;
	f->fifreeze = st;
	f->method = FREEZE_PER_MOUNT;
	return 0;
fail:
	destroy(st);
	return r;
}

int fifreeze_thaw(struct freezer *f)
{
	struct fifreeze_state *st = f->fifreeze;
	int r = 0;

	pthread_mutex_lock(&st->lock);
	st->stop_watchdog = true;
	pthread_cond_signal(&st->stop);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->watchdog, NULL);

	if (st->thawed_by_watchdog) {
		r = -ETIMEDOUT;
		snprintf(f->result.message, sizeof(f->result.message),
			 "the agent's FIFREEZE watchdog thawed at the deadline");
	} else {
		thaw_all(st);
		if (st->thaw_cancelled) {
			r = -ECANCELED;
			snprintf(f->result.message, sizeof(f->result.message),
				 "a filesystem was thawed by someone else during the freeze");
		}
	}
	destroy(st);
	f->fifreeze = NULL;
	return r;
}
