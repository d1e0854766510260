// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ondisk.h"

#define BLOCK 4096
#define SECTOR 512
#define SCAN_CHUNK (1024 * 1024)
#define MAGIC 0x5851564d54455354ULL	/* "XQVMTEST" */

struct block_head {
	uint64_t magic;
	uint64_t tag;
	uint64_t index;
};

static void pattern_block(unsigned char *buf, uint64_t tag, uint64_t index)
{
	struct block_head head = { MAGIC, tag, index };
	uint64_t x = tag ^ (index * 0x9e3779b97f4a7c15ULL) ^ 1;
	size_t i;

	for (i = sizeof(head); i < BLOCK; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
	memcpy(buf, &head, sizeof(head));
}

int pattern_write(const char *dir, uint64_t tag)
{
	unsigned char buf[BLOCK];
	char path[256];
	unsigned int i;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/xq-pattern", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (i = 0; i < PATTERN_BLOCKS && !ret; i++) {
		pattern_block(buf, tag, i);
		if (write(fd, buf, BLOCK) != BLOCK)
			ret = errno ? -errno : -EIO;
	}
	close(fd);
	return ret;
}

static void scan_chunk(const unsigned char *chunk, ssize_t len, uint64_t tag,
		       uint32_t *seen)
{
	unsigned char want[BLOCK];
	struct block_head head;
	ssize_t off;

	/* Small ext4 filesystems use 1 KiB blocks: look at every sector. */
	for (off = 0; off + BLOCK <= len; off += SECTOR) {
		memcpy(&head, chunk + off, sizeof(head));
		if (head.magic != MAGIC || head.tag != tag || head.index >= PATTERN_BLOCKS)
			continue;
		pattern_block(want, tag, head.index);
		if (!memcmp(want, chunk + off, BLOCK))
			*seen |= 1U << head.index;
	}
}

int pattern_scan(const char *blkdev, uint64_t tag, unsigned int *found)
{
	const uint32_t all = (1U << PATTERN_BLOCKS) - 1;
	unsigned char *chunk;
	uint32_t seen = 0;
	off_t pos = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(blkdev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (posix_memalign((void **)&chunk, BLOCK, SCAN_CHUNK)) {
		close(fd);
		return -ENOMEM;
	}
	while (seen != all) {
		n = pread(fd, chunk, SCAN_CHUNK, pos);
		if (n < 0) {
			ret = -errno;
			break;
		}
		scan_chunk(chunk, n, tag, &seen);
		if (n < SCAN_CHUNK)
			break;
		/* Overlap the chunks by a block: a block may straddle two. */
		pos += SCAN_CHUNK - BLOCK;
	}
	free(chunk);
	close(fd);
	*found = __builtin_popcount(seen);
	return ret;
}
