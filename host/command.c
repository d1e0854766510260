// SPDX-License-Identifier: GPL-2.0
/*
 * The user's snapshot command. It runs while the guest is frozen, so it gets
 * a hard time limit: past it the whole process group is killed and the guest
 * is told the snapshot failed, instead of staying frozen until its own
 * deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command.h"

volatile sig_atomic_t command_interrupted;

#define OUTPUT_MAX (64 * 1024)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void child(const char *cmd, char *const env[], int out_fd)
{
	size_t i;

	setpgid(0, 0);
	for (i = 0; env[i]; i++)
		putenv(env[i]);
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Reads the child's output until EOF or the deadline. */
static int collect(int fd, long long deadline, char *buf, size_t *len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char discard[4096];
	ssize_t n;
	int left;

	for (;;) {
		if (command_interrupted)
			return -EINTR;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!pfd.revents)
			continue;
		if (*len < OUTPUT_MAX)
			n = read(fd, buf + *len, OUTPUT_MAX - *len);
		else
			n = read(fd, discard, sizeof(discard));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		if (*len < OUTPUT_MAX)
			*len += n;
	}
}

int command_run(const char *cmd, char *const env[], int timeout_ms, char **output,
		int *status)
{
	long long deadline = now_ms() + timeout_ms;
	size_t len = 0;
	int pipefd[2], r;
	char *buf;
	pid_t pid;

	*status = 0;
	buf = calloc(1, OUTPUT_MAX + 1);
	if (!buf)
		return -ENOMEM;
	if (pipe2(pipefd, O_CLOEXEC)) {
		free(buf);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		free(buf);
		return r;
	}
	if (pid == 0)
		child(cmd, env, pipefd[1]);
	close(pipefd[1]);
	/* Both sides set the group, so the kill below never misses it. */
	setpgid(pid, pid);
	r = collect(pipefd[0], deadline, buf, &len);
	close(pipefd[0]);
	if (r == -ETIMEDOUT || r == -EINTR)
		kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (!r && !(WIFEXITED(*status) && WEXITSTATUS(*status) == 0))
		r = -ECHILD;
	buf[len] = '\0';
	*output = buf;
	return r;
}
