// SPDX-License-Identifier: GPL-2.0
/*
 * Test program for the guest: one XQ_IOC_FREEZE with XQ_FREEZE_BLKFRONT and
 * the paths only as XQ_DEV_TYPE_ONLY hints (the filesystem types the module
 * walks: ABI 2 reads no /proc/filesystems), so that the module alone
 * decides what to freeze.
 * Prints "FSTYPE ID" per frozen filesystem, checks that a write to each path
 * given on the command line blocks while frozen (by probing it in a child
 * with a time limit), then thaws.
 *
 *   xq-blkfront-freeze [PATH...]    prints "frozen FSTYPE ID", then
 *                                   "blocked PATH" or "writable PATH"
 */
#define _GNU_SOURCE	/* O_PATH */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/xquiesce.h>

/* A write to PATH/.probe that has not finished after 1 s is blocked. */
static const char *probe(const char *dir)
{
	char path[512];
	int status, i;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/.xq-probe", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		_exit(fd < 0 || write(fd, "x", 1) != 1 || fsync(fd) ? 1 : 0);
	}
	for (i = 0; i < 10; i++) {
		usleep(100000);
		if (waitpid(pid, &status, WNOHANG) == pid)
			return "writable";
	}
	return "blocked";	/* the child finishes after the thaw */
}

int main(int argc, char *argv[])
{
	static struct xq_dev devs[XQ_MAX_DEVS];
	struct xq_fs fs[XQ_MAX_DEVS];
	struct xq_freeze freeze = {
		.size = sizeof(freeze),
		.flags = XQ_FREEZE_BLKFRONT,
		.timeout_ms = 10000,
		.fs = (unsigned long)fs,
		.nfs_max = XQ_MAX_DEVS,
		.devs = (unsigned long)devs,
	};
	struct xq_thaw thaw = { .size = sizeof(thaw) };
	unsigned int i;
	int fd;

	fd = open("/dev/" XQ_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xq-blkfront-freeze: /dev/%s: %s\n", XQ_DEVICE_NAME, strerror(errno));
		return 1;
	}
	for (i = 1; i < (unsigned int)argc && i <= XQ_MAX_DEVS; i++) {
		devs[i - 1].fd = open(argv[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		devs[i - 1].flags = XQ_DEV_TYPE_ONLY;
		if (devs[i - 1].fd < 0) {
			fprintf(stderr, "xq-blkfront-freeze: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		freeze.ndevs = i;
	}
	if (ioctl(fd, XQ_IOC_FREEZE, &freeze)) {
		fprintf(stderr, "xq-blkfront-freeze: XQ_IOC_FREEZE: %s (device %u:%u)\n",
			strerror(errno), freeze.err_major, freeze.err_minor);
		return 1;
	}
	for (i = 0; i < freeze.nfs && i < XQ_MAX_DEVS; i++)
		printf("frozen %.*s %.*s%s\n", XQ_FSTYPE_LEN, fs[i].fstype, XQ_ID_LEN, fs[i].id,
		       fs[i].flags & XQ_FS_BLKFRONT ? " blkfront" : "");
	for (i = 1; i < (unsigned int)argc; i++)
		printf("%s %s\n", probe(argv[i]), argv[i]);
	fflush(stdout);
	if (ioctl(fd, XQ_IOC_THAW, &thaw)) {
		fprintf(stderr, "xq-blkfront-freeze: XQ_IOC_THAW: %s\n", strerror(errno));
		return 1;
	}
	while (wait(NULL) > 0)
		;
	printf("thawed %u\n", thaw.nfs);
	return 0;
}
