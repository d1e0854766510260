// SPDX-License-Identifier: GPL-2.0
/* xquiescectl freeze: hold a freeze for a local trial. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "state.h"

/* The watchdog's deadline is this much after ours, so that we thaw first. */
#define WATCHDOG_MARGIN_MS	2000

static const char usage[] =
	"Usage: xquiescectl freeze [--timeout SECONDS] [--freezer auto|module|fifreeze]\n"
	"                          [--config FILE] [--state FILE] [--test-as-xen-disk DEV]...\n"
	"Freezes every filesystem of the Xen disks as the agent does for a snapshot\n"
	"(without running the hooks) and holds the freeze until Enter is pressed or\n"
	"standard input ends, SIGINT or SIGTERM arrives, or the timeout passes. Then\n"
	"thaws and prints how long the filesystems were frozen.\n\n"
	"The freeze lasts only as long as this command: the module's freeze belongs to\n"
	"its open /dev/xquiesce, so the module thaws as soon as it exits or is killed,\n"
	"and its watchdog thaws 2 s after the timeout if this command hangs. With the\n"
	"FIFREEZE fallback nothing thaws if it is killed with SIGKILL: use\n"
	"`xquiescectl thaw` then. While frozen, output that goes to a regular file (it\n"
	"could be on a frozen filesystem) is held back until after the thaw.\n"
	"One freeze at a time: it is refused while the agent holds one for a snapshot\n"
	"(xenstore or Xen Orchestra), and the agent refuses snapshots while it holds.\n\n"
	"  -t, --timeout SECONDS       thaw after this long, 1 to 600 (default 10)\n"
	"      --freezer METHOD        auto (default: the module, else FIFREEZE), module\n"
	"                              or fifreeze\n"
	"  -c, --config FILE           configuration: exclusions, presync, drain (default\n"
	"                              " XQ_CONFIG_PATH ")\n"
	"      --state FILE            the agent's record, beside which its session lock\n"
	"                              is (default " XQ_STATE_LAST ")\n"
	"      --test-as-xen-disk DEV  FOR TESTS: treat block device DEV as a Xen disk\n"
	"  -h, --help                  show this help\n";

/* What ended the wait: "enter", "end of input", "SIGINT", "timeout". */
static const char *hold(unsigned int timeout_s, int sigfd)
{
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = sigfd, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	char buf[256];
	ssize_t n;
	int r;

	for (;;) {
		r = poll(pfd, 2, timeout_s * 1000);
		if (r == 0)
			return "timeout";
		if (r < 0)
			return errno == EINTR ? "interrupted" : "poll error";
		if (pfd[1].revents) {
			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				return "signal";
			return si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
		}
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n <= 0)
			return "end of input";
		if (memchr(buf, '\n', n))
			return "Enter";
	}
}

/* The agent's session lock, held until exit: an fd, or -1 once said why. */
static int take_session(const char *state_path)
{
	char holder[STATE_HOLDER_MAX], busy[STATE_HOLDER_MAX];
	int fd = state_lock_open(state_path), r;

	if (fd < 0) {
		fprintf(stderr, "cannot open the session lock beside %s: %s\n", state_path,
			strerror(-fd));
		return -1;
	}
	snprintf(holder, sizeof(holder), "xquiescectl freeze (pid %d)", (int)getpid());
	r = state_lock_take(fd, holder, busy, sizeof(busy));
	if (r == 0)
		return fd;
	if (r == -EBUSY)
		fprintf(stderr, "refused: another freeze holds the filesystems: %s; try again once "
			"it has thawed\n", busy);
	else
		fprintf(stderr, "cannot take the session lock beside %s: %s\n", state_path,
			strerror(-r));
	close(fd);
	return -1;
}

int freeze_main(int argc, char *argv[])
{
	char *held = NULL;
	size_t held_len = 0;
	struct ctl_opts o;
	struct discovery d;
	struct freezer f;
	struct stat st;
	const char *why;
	sigset_t sigs;
	bool done;
	FILE *out;
	int r, sigfd, lock_fd;

	r = ctl_parse(argc, argv, CTL_OPT_CONFIG | CTL_OPT_FREEZER | CTL_OPT_TEST_DISK |
		      CTL_OPT_TIMEOUT | CTL_OPT_STATE, usage, &o, &done);
	if (done)
		return r;
	lock_fd = take_session(o.state_path);
	if (lock_fd < 0) {
		ctl_opts_free(&o);
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	r = sigfd < 0 ? -errno : ctl_discover(&o, &d);
	if (r < 0) {
		if (sigfd < 0)
			fprintf(stderr, "signalfd: %s\n", strerror(-r));
		goto out;
	}
	fflush(stdout);
	out = fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) ?
	      open_memstream(&held, &held_len) : stdout;
	if (!out) {
		r = -errno;
		goto out_disc;
	}
	ctl_print_excluded(out, &d);
	r = ctl_freeze(&o, &d, &f, o.timeout_s * 1000 + WATCHDOG_MARGIN_MS);
	if (r == 0) {
		ctl_print_frozen(out, &d, &f.result);
		fprintf(out, "holding the freeze: Enter or Ctrl-C thaws, or the timeout in %u s\n",
			o.timeout_s);
		fflush(out);
		why = hold(o.timeout_s, sigfd);
		r = ctl_thaw(&f);
		fprintf(out, "thawed:   on %s, after %u ms frozen\n", why,
			freezer_window_ms(&f.result));
	}
	if (out != stdout) {
		fclose(out);
		fwrite(held, 1, held_len, stdout);
		free(held);
	}
out_disc:
	discovery_free(&d);
out:
	if (sigfd >= 0)
		close(sigfd);
	close(lock_fd);
	ctl_opts_free(&o);
	return r < 0;
}
