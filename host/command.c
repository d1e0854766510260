// SPDX-License-Identifier: GPL-2.0
/*
 * The user's snapshot command. It runs while the guest is frozen, so it gets
 * a hard time limit that covers all of it: its output and its exit alike. A
 * command that closes its output and keeps running is killed at the
 * deadline, like one that writes forever; and when the shell exits, what
 * it left running in its process group is killed too, so nothing of the
 * command goes on after it is reported done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command.h"
#include "signals.h"

#define OUTPUT_MAX (64 * 1024)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void __attribute__((noreturn)) child(const char *cmd, char *const env[], int out_fd)
{
	size_t i;

	setpgid(0, 0);
	signals_reset_child();
	for (i = 0; env[i]; i++)
		putenv(env[i]);
	if (dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Reads what is there; false at end of output (or on an error). */
static bool read_some(int fd, char *buf, size_t *len)
{
	char discard[4096];
	ssize_t n;

	if (*len < OUTPUT_MAX)
		n = read(fd, buf + *len, OUTPUT_MAX - *len);
	else
		n = read(fd, discard, sizeof(discard));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	if (*len < OUTPUT_MAX)
		*len += n;
	return true;
}

/* Whether the shell has exited, without reaping it: its pid keeps the group. */
static bool exited(pid_t pid)
{
	siginfo_t info = { .si_pid = 0 };

	return waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

/*
 * Until the shell exits, its output ends and the deadline passes, or a
 * signal: 0, -ETIMEDOUT or -EINTR. SIGCHLD wakes the wait.
 */
static int supervise(pid_t pid, int fd, long long deadline, bool interruptible, char *buf,
		     size_t *len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	bool open = true;
	long long left;

	for (;;) {
		if (interruptible && interrupted)
			return -EINTR;
		if (exited(pid))
			break;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		pfd.fd = open ? fd : -1;
		if (signals_poll(&pfd, 1, left) < 0)
			return -errno;
		if (pfd.revents)
			open = read_some(fd, buf, len);
	}
	/* What the shell wrote before it exited is in the pipe already. */
	while (open && read_some(fd, buf, len))
		;
	return 0;
}

int command_run(const char *cmd, char *const env[], int timeout_ms, bool interruptible,
		char **output, int *status)
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
	/* The final drain must not wait for what the shell left running. */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	/* Both sides set the group, so the kill below never misses it. */
	setpgid(pid, pid);
	r = supervise(pid, pipefd[0], deadline, interruptible, buf, &len);
	close(pipefd[0]);
	/* The shell is not reaped yet, so the group id is still ours to kill. */
	kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (!r && !(WIFEXITED(*status) && WEXITSTATUS(*status) == 0))
		r = -ECHILD;
	buf[len] = '\0';
	*output = buf;
	return r;
}
