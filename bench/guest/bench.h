/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQ_BENCH_H
#define XQ_BENCH_H

#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#define NSEC_PER_MSEC	1000000ULL
#define BENCH_MAX_FS	16

/* A mounted filesystem under load. */
struct target {
	const char *mnt;
	char fstype[16];
	dev_t dev;		/* sb->s_dev, from mountinfo */
	int dirfd;		/* the mount point, for syncfs and FIFREEZE */
};

struct bench_opts {
	unsigned int hold_ms;		/* the snapshot hold */
	unsigned int drain_bytes;	/* vm.dirty_bytes while draining */
	unsigned int drain_ms;		/* how long before the freeze */
	unsigned int ramp_ms;		/* the stepped drain's length */
	unsigned int timeout_ms;	/* the module's deadline */
};

/* One quiesce cycle, CLOCK_MONOTONIC ns. */
struct cycle {
	uint64_t request;		/* the freeze was asked for */
	uint64_t blocking;		/* the phase that blocks writers began */
	uint64_t frozen[BENCH_MAX_FS];	/* each filesystem became frozen */
	uint64_t thaw_start;
	uint64_t thawed;		/* every filesystem thawed */
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ULL), (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
}

#endif
