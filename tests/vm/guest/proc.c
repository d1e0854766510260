// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

#define BLOCK 4096

static int child_spawn(struct child *c, const char *dir, int (*body)(struct stamps *, const char *))
{
	c->st = mmap(NULL, sizeof(*c->st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (c->st == MAP_FAILED)
		return -errno;
	memset((void *)c->st, 0, sizeof(*c->st));
	c->pid = fork();
	if (c->pid < 0) {
		munmap(c->st, sizeof(*c->st));
		return -errno;
	}
	if (c->pid == 0) {
		close_inherited_fds();
		_exit(body(c->st, dir) ? 1 : 0);
	}
	return 0;
}

static int stamped_write(struct stamps *st, int fd, const char *buf, off_t off)
{
	uint64_t started = now_ns();

	st->started_ns = started;
	if (pwrite(fd, buf, BLOCK, off) != BLOCK)
		return errno ? -errno : -EIO;
	st->done_started_ns = started;
	st->done_ns = now_ns();
	st->count++;
	return 0;
}

static int writer_body(struct stamps *st, const char *dir)
{
	static char buf[BLOCK];
	char path[256];
	uint64_t i;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/xq-writer", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	for (i = 0;; i++) {
		memset(buf, (int)i, sizeof(buf));
		/* Rewrite a 1 MiB window so the file stays small. */
		ret = stamped_write(st, fd, buf, (off_t)(i % 256) * BLOCK);
		if (ret)
			return ret;
		sleep_ms(2);
	}
}

static int probe_body(struct stamps *st, const char *dir)
{
	static char buf[BLOCK];
	char path[256];
	int fd, ret;

	st->started_ns = now_ns();
	snprintf(path, sizeof(path), "%s/xq-probe.%d", dir, (int)getpid());
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	ret = stamped_write(st, fd, buf, 0);
	close(fd);
	return ret;
}

int writer_start(struct child *c, const char *dir)
{
	return child_spawn(c, dir, writer_body);
}

int probe_start(struct child *c, const char *dir)
{
	return child_spawn(c, dir, probe_body);
}

int probe_wait(struct child *c, unsigned int timeout_ms)
{
	uint64_t end = now_ns() + timeout_ms * NSEC_PER_MSEC;

	while (!c->st->count) {
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
	return 0;
}

void child_reap(struct child *c)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	munmap(c->st, sizeof(*c->st));
	c->pid = 0;
}
