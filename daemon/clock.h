/* SPDX-License-Identifier: GPL-2.0 */
/* Nanoseconds on a clock: durations and deadlines use the monotonic one. */
#ifndef _XQ_CLOCK_H
#define _XQ_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline uint64_t monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#endif /* _XQ_CLOCK_H */
