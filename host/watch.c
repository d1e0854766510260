// SPDX-License-Identifier: GPL-2.0
/*
 * Watches for a single-threaded program, with either build of libxenstore.
 *
 * libxenstore built without threads (Debian's libxenstore.a, hence the
 * static dom0 tool) reads the connection only inside its own calls: a watch
 * event that arrives while a request waits for its reply fails that request
 * with EINVAL and closes the connection, and xs_fileno() stays silent until
 * the program happens to call xs_check_watch(). So each watch gets a child
 * process with a connection of its own, blocked in xs_read_watch(), which
 * writes a byte to a pipe per event. The parent polls the pipes and keeps its
 * connection for requests. The child dies with the parent (PDEATHSIG), and
 * xenstored drops the watch with the child's connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "signals.h"
#include "watch.h"

/* xenstored answers in milliseconds; this only bounds a wedged daemon. */
#define WATCH_START_TIMEOUT_MS 10000

/* Exits with the errno of what failed, which watch_start() reports. */
static void __attribute__((noreturn)) watcher(const char *path, int fd, pid_t parent)
{
	const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct xs_handle *xs;
	unsigned int i, n;
	char **event;

	/* Interrupting is the parent's business; it stops us with SIGKILL. */
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(ESRCH);
	/*
	 * Forked, never exec'ed: without this it would hold open whatever the
	 * parent had, such as a snapshot's exception store that LVM must
	 * close to remove it.
	 */
	close_range(STDERR_FILENO + 1, fd - 1, 0);
	close_range(fd + 1, ~0U, 0);
	xs = xs_open(0);
	if (!xs || !xs_watch(xs, path, "xquiesce-host"))
		_exit(errno ? errno : EIO);
	for (;;) {
		event = xs_read_watch(xs, &n);
		if (!event)
			_exit(errno ? errno : EPIPE);
		free(event);
		/* A full pipe already holds a wake-up: dropping this one is fine. */
		if (write(fd, "", 1) < 0 && errno != EAGAIN && errno != EINTR)
			_exit(EPIPE);
	}
}

/* Why the watcher ended, as -errno. */
static int watcher_reap(struct watch *watch)
{
	int status;

	while (waitpid(watch->pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	watch->pid = -1;
	if (WIFEXITED(status) && WEXITSTATUS(status))
		return -WEXITSTATUS(status);
	return -EPIPE;
}

static int wait_first_event(struct watch *watch)
{
	struct pollfd pfd = { .fd = watch->fd, .events = POLLIN };
	char byte;
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, WATCH_START_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	do
		n = read(watch->fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return 0;
	return n < 0 ? -errno : watcher_reap(watch);
}

int watch_start(struct watch *watch, const char *path)
{
	pid_t parent = getpid();
	int fds[2], r;

	watch->pid = -1;
	watch->fd = -1;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	watch->pid = fork();
	if (watch->pid < 0) {
		r = -errno;
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (watch->pid == 0) {
		close(fds[0]);
		fcntl(fds[1], F_SETFL, O_NONBLOCK);
		watcher(path, fds[1], parent);
	}
	close(fds[1]);
	watch->fd = fds[0];
	r = wait_first_event(watch);
	if (r)
		watch_stop(watch);
	return r;
}

static int watch_drain(struct watch *watch)
{
	char bytes[64];
	ssize_t n;

	n = read(watch->fd, bytes, sizeof(bytes));
	if (n > 0 || (n < 0 && errno == EINTR))
		return 0;
	return -EPIPE;
}

int watch_wait(struct watch *watches, size_t n, int timeout_ms, size_t *lost)
{
	struct pollfd pfds[WATCH_WAIT_MAX];
	size_t i;

	if (n > WATCH_WAIT_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		pfds[i] = (struct pollfd){ .fd = watches[i].fd, .events = POLLIN };
	if (signals_poll(pfds, n, timeout_ms) < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		if (pfds[i].revents && watch_drain(&watches[i])) {
			*lost = i;
			return -EPIPE;
		}
	}
	return 0;
}

void watch_stop(struct watch *watch)
{
	if (watch->pid > 0) {
		kill(watch->pid, SIGKILL);
		watcher_reap(watch);
	}
	if (watch->fd >= 0)
		close(watch->fd);
	watch->fd = -1;
}
