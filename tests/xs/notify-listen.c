// SPDX-License-Identifier: GPL-2.0
/*
 * notify-listen: what systemd would receive on $NOTIFY_SOCKET, for tests.
 * Binds a Unix datagram socket and prints every line of every datagram
 * (READY=1, STATUS=..., STOPPING=1) on stdout, until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[4096];
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "Usage: %s SOCKET-PATH (shorter than %zu bytes)\n", argv[0],
			sizeof(a.sun_path));
		return 2;
	}
	strcpy(a.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unlink(argv[1]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "notify-listen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "notify-listen: recv: %s\n", strerror(errno));
			return 1;
		}
		buf[n] = '\0';
		printf("%s\n", buf);
		fflush(stdout);
	}
}
