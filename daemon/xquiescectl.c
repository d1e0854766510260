// SPDX-License-Identifier: GPL-2.0
/* xquiescectl: look at and try out the quiesce agent's freezing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *help;
} commands[] = {
	{ "status", status_main, "module state, frozen filesystems, last snapshot" },
	{ "disks", disks_main, "Xen disks, their VDIs and their filesystems" },
	{ "freeze", freeze_main, "freeze everything until Enter, Ctrl-C or the timeout" },
	{ "thaw", thaw_main, "rescue: thaw whatever is frozen" },
	{ "selftest", selftest_main, "freeze and thaw everything once, with timings" },
};

static void usage(FILE *to, const char *prog)
{
	size_t i;

	fprintf(to, "Usage: %s COMMAND [OPTION]...\n"
		    "       %s COMMAND --help\n\n"
		    "Commands:\n", prog, prog);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(to, "\n  -h, --help     show this help\n"
		    "  -V, --version  show the version\n\n"
		    "See xquiescectl(8).\n");
}

int main(int argc, char *argv[])
{
	size_t i;

	if (argc < 2) {
		usage(stderr, argv[0]);
		return 1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout, argv[0]);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("xquiescectl %s\n", XQ_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command \"%s\"\n", argv[0], argv[1]);
	usage(stderr, argv[0]);
	return 1;
}
