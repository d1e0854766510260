/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQ_VMTEST_ONDISK_H
#define XQ_VMTEST_ONDISK_H

#include <stdint.h>

#define PATTERN_BLOCKS 16

/*
 * A file of PATTERN_BLOCKS blocks of 4 KiB, each one unique (tag, block
 * number, pseudo-random fill), written through the page cache without any
 * sync. pattern_scan reads the block device with O_DIRECT, bypassing every
 * cache, and counts the blocks found there: all of them once the
 * filesystem was synced, as a freeze must do.
 */
int pattern_write(const char *dir, uint64_t tag);
int pattern_scan(const char *blkdev, uint64_t tag, unsigned int *found);

#endif
