// SPDX-License-Identifier: GPL-2.0
/*
 * Test program for the guest: what an application sees of a freeze. Writes
 * 4 KiB after 4 KiB into FILE (buffered, the first 1 MiB rewritten in a
 * loop, 2 ms apart), timing each write() with CLOCK_MONOTONIC, until
 * STOPFILE exists or SECONDS have passed, then prints the longest write:
 *
 *   xq-writeprobe FILE SECONDS STOPFILE
 *   -> "max_write_ms N writes W over_100ms K"
 *
 * A write blocked by a frozen filesystem shows as one long write that ends
 * at the thaw: N is the application-visible stall.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	static char buf[4096];
	const struct timespec pause = { 0, 2000000 };
	long long start, end, t0, t1, max = 0;
	long writes = 0, slow = 0;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: xq-writeprobe FILE SECONDS STOPFILE\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	memset(buf, 'w', sizeof(buf));
	start = now_us();
	end = start + atoll(argv[2]) * 1000000LL;
	while (now_us() < end && access(argv[3], F_OK) != 0) {
		t0 = now_us();
		if (pwrite(fd, buf, sizeof(buf), (writes % 256) * (off_t)sizeof(buf)) < 0) {
			perror("pwrite");
			return 1;
		}
		t1 = now_us();
		if (t1 - t0 > max)
			max = t1 - t0;
		if (t1 - t0 > 100000)
			slow++;
		writes++;
		nanosleep(&pause, NULL);
	}
	printf("max_write_ms %lld writes %ld over_100ms %ld\n", max / 1000, writes, slow);
	return 0;
}
