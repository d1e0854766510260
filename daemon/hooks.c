// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"

extern char **environ;

/* Left behind by editors and package managers; never run. */
static const char *const backup_suffixes[] = {
	"~", ".bak", ".old", ".orig", ".rej", ".swp", ".tmp", ".example", ".disabled",
	".dpkg-old", ".dpkg-new", ".dpkg-dist", ".dpkg-tmp", ".dpkg-bak",
	".rpmnew", ".rpmsave", ".rpmorig", ".ucf-old", ".ucf-new", ".ucf-dist",
};

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && !strcmp(name + n - s, suffix);
}

static bool is_backup(const char *name)
{
	size_t i, n = strlen(name);

	if (name[0] == '#' && n > 1 && name[n - 1] == '#')
		return true;
	for (i = 0; i < sizeof(backup_suffixes) / sizeof(backup_suffixes[0]); i++)
		if (has_suffix(name, backup_suffixes[i]))
			return true;
	return false;
}

/* Whether dir/name should run; says why not in the log. */
static bool hook_wanted(int dirfd, const char *dir, const char *name)
{
	struct stat st;

	if (name[0] == '.')
		return false;
	if (is_backup(name)) {
		INF("hook %s/%s skipped: backup or disabled file by its name", dir, name);
		return false;
	}
	if (fstatat(dirfd, name, &st, 0) < 0) {
		WRN("hook %s/%s skipped: %s", dir, name, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		INF("hook %s/%s skipped: not a regular file", dir, name);
		return false;
	}
	if (faccessat(dirfd, name, X_OK, AT_EACCESS) < 0) {
		INF("hook %s/%s skipped: not executable", dir, name);
		return false;
	}
	return true;
}

static int hook_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hook *)a)->name, ((const struct hook *)b)->name);
}

int hooks_load(struct hooks *h, const char *dir, unsigned int timeout_ms)
{
	struct dirent *de;
	struct hook *grown;
	size_t cap = 0;
	DIR *d;
	int r = 0;

	*h = (struct hooks){ .timeout_ms = timeout_ms };
	if (strlen(dir) >= sizeof(h->dir))
		return -ENAMETOOLONG;
	strcpy(h->dir, dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((errno = 0, de = readdir(d))) {
		if (strlen(de->d_name) >= sizeof(h->v->name) ||
		    !hook_wanted(dirfd(d), dir, de->d_name))
			continue;
		if (h->n == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(h->v, cap * sizeof(*h->v));
			if (!grown) {
				r = -ENOMEM;
				break;
			}
			h->v = grown;
		}
		h->v[h->n] = (struct hook){ 0 };
		strcpy(h->v[h->n++].name, de->d_name);
	}
	if (!r && errno)
		r = -errno;
	closedir(d);
	if (r < 0) {
		hooks_free(h);
		return r;
	}
	qsort(h->v, h->n, sizeof(*h->v), hook_cmp);
	return 0;
}

void hooks_free(struct hooks *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct output {
	const char *hook, *phase;
	char buf[1024];
	size_t len;
};

static void output_flush_line(struct output *o)
{
	o->buf[o->len] = '\0';
	INF("hook %s %s: %s", o->hook, o->phase, o->buf);
	o->len = 0;
}

/* Logs what the hook wrote, a line at a time; 0 at end of file. */
static ssize_t output_read(struct output *o, int fd)
{
	char chunk[512];
	ssize_t n, i;

	errno = 0;
	n = read(fd, chunk, sizeof(chunk));
	for (i = 0; i < n; i++) {
		if (chunk[i] == '\n') {
			output_flush_line(o);
			continue;
		}
		o->buf[o->len++] = chunk[i];
		if (o->len == sizeof(o->buf) - 1)
			output_flush_line(o);
	}
	return n;
}

static int spawn_hook(const struct hooks *h, const char *name, const char *phase,
		      int out_fd, pid_t *pid)
{
	char path[PATH_MAX + NAME_MAX + 2];
	char *argv[] = { path, (char *)phase, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int r;

	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	/* Gone or changed since hooks_load(): say so rather than let a child
	 * exit 127 where the exec error cannot reach us (valgrind's spawn). */
	if (access(path, X_OK) < 0)
		return -errno;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
	posix_spawnattr_init(&attr);
	/* Its own process group, so that a timeout kills what it started too;
	 * and none of the daemon's blocked or handled signals. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(pid, path, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

/* Without pidfd_open (valgrind, old kernels), how often to look for the exit. */
#define REAP_POLL_MS	20

/*
 * Waits for the hook itself, not for the end of its output: a hook may
 * leave a child running on purpose (a database lock held until "thaw")
 * and that child keeps the pipe open.
 */
static void wait_hook(const struct hooks *h, struct output *o, int out_fd, pid_t pid,
		      struct hook_run *run, uint64_t start)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pfd[2] = {
		{ .fd = pidfd, .events = POLLIN },
		{ .fd = out_fd, .events = POLLIN },
	};
	bool timed_out = false, reaped = false;
	int status = 0, left;

	for (;;) {
		left = (int)(start + h->timeout_ms - now_ms());
		if (left <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		if (pidfd < 0 && left > REAP_POLL_MS)
			left = REAP_POLL_MS;
		if (poll(pfd, 2, left) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents && output_read(o, out_fd) <= 0 && errno != EAGAIN)
			pfd[1].fd = -1;
		if (pfd[0].revents)
			break;
		if (pidfd < 0 && waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			break;
		}
	}
	while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	while (pfd[1].fd >= 0 && output_read(o, out_fd) > 0)
		;
	if (o->len)
		output_flush_line(o);
	if (pidfd >= 0)
		close(pidfd);

	if (timed_out) {
		run->result = HOOK_TIMED_OUT;
		run->code = h->timeout_ms;
	} else if (WIFSIGNALED(status)) {
		run->result = HOOK_KILLED;
		run->code = WTERMSIG(status);
	} else if (WEXITSTATUS(status)) {
		run->result = HOOK_FAILED;
		run->code = WEXITSTATUS(status);
	} else {
		run->result = HOOK_OK;
		run->code = 0;
	}
}

static void run_hook(const struct hooks *h, const struct hook *hook, const char *phase,
		     struct hook_run *run)
{
	struct output o = { .hook = hook->name, .phase = phase };
	uint64_t start = now_ms();
	char text[64];
	int pipefd[2];
	pid_t pid;
	int r;

	/* Non-blocking on the daemon's end only: the hook's stdout stays a
	 * normal blocking pipe. */
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		*run = (struct hook_run){ .result = HOOK_EXEC_FAILED, .code = errno };
		goto out;
	}
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	r = spawn_hook(h, hook->name, phase, pipefd[1], &pid);
	close(pipefd[1]);
	if (r < 0) {
		*run = (struct hook_run){ .result = HOOK_EXEC_FAILED, .code = -r };
	} else {
		wait_hook(h, &o, pipefd[0], pid, run, start);
	}
	close(pipefd[0]);
out:
	run->ms = now_ms() - start;
	if (run->result == HOOK_OK)
		INF("hook %s %s: ok (%u ms)", hook->name, phase, run->ms);
	else
		ERR("hook %s/%s %s failed: %s (%u ms)", h->dir, hook->name, phase,
		    hook_run_text(run, text, sizeof(text)), run->ms);
}

int hooks_freeze(struct hooks *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		struct hook *hook = &h->v[i];

		hook->froze = true;
		hook->after = (struct hook_run){ 0 };
		run_hook(h, hook, "freeze", &hook->freeze);
		if (hook->freeze.result != HOOK_OK)
			return -ECANCELED;
	}
	return 0;
}

static int run_after(struct hooks *h, const char *phase)
{
	size_t i;
	int r = 0;

	for (i = h->n; i-- > 0;) {
		struct hook *hook = &h->v[i];

		if (!hook->froze)
			continue;
		hook->froze = false;
		run_hook(h, hook, phase, &hook->after);
		if (hook->after.result != HOOK_OK)
			r = -ECANCELED;
	}
	return r;
}

int hooks_thaw(struct hooks *h)
{
	return run_after(h, "thaw");
}

int hooks_freeze_fail(struct hooks *h)
{
	return run_after(h, "freeze-fail");
}

const char *hook_run_text(const struct hook_run *run, char *buf, size_t len)
{
	switch (run->result) {
	case HOOK_NOT_RUN:
		snprintf(buf, len, "not run");
		break;
	case HOOK_OK:
		snprintf(buf, len, "ok");
		break;
	case HOOK_FAILED:
		snprintf(buf, len, "exit %d", run->code);
		break;
	case HOOK_KILLED:
		snprintf(buf, len, "signal %d", run->code);
		break;
	case HOOK_TIMED_OUT:
		snprintf(buf, len, "timeout after %d ms", run->code);
		break;
	case HOOK_EXEC_FAILED:
		snprintf(buf, len, "exec: %s", strerror(run->code));
		break;
	}
	return buf;
}
