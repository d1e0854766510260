/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQ_VMTEST_UTIL_H
#define XQ_VMTEST_UTIL_H

#include <stdint.h>
#include <sys/types.h>

#define NSEC_PER_MSEC 1000000ULL

uint64_t now_ns(void);
void sleep_ms(unsigned int ms);
int write_string(const char *path, const char *value);
int read_string(const char *path, char *buf, size_t size);
void close_inherited_fds(void);
int wait_exit(pid_t pid, unsigned int timeout_ms, int *status);

#endif
