// SPDX-License-Identifier: GPL-2.0
/*
 * xquiesce-host: the dom0 half of quiesced snapshots for Xen guests, for
 * hosts where neither XAPI nor snapwatchd plays it any more (XCP-ng 8.1+,
 * XenServer 8, plain Xen with xl).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xquiesce-host.h"
#include "xsutil.h"
#include "vm.h"

const char *program_name = "xquiesce-host";

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *summary;
} commands[] = {
	{ "snapshot", snapshot_main, "take a quiesced snapshot of a running VM" },
	{ "prepare", prepare_main, "give a VM the xenstore set-up quiesce needs (xl hosts)" },
	{ "release", release_main, "remove that set-up when the VM goes away" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: %s COMMAND [OPTIONS] VM\n\n"
		"Asks the guest agent of a running Xen VM to freeze its filesystems, snapshots\n"
		"the VM's disks while they are frozen, and reports what the guest reported.\n"
		"VM is a domid, a VM uuid or a domain name.\n\nCommands:\n", program_name);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n  -h, --help     show this help\n"
		"  -V, --version  show the version\n"
		"\n'%s COMMAND --help' describes a command; see also xquiesce-host(8).\n",
		program_name);
}

/* Opens xenstore and finds the VM; on failure prints why, returns the exit code. */
int open_vm(const char *spec, struct xs_handle **xs, struct vm *vm)
{
	int r;

	*xs = xs_open(0);
	if (!*xs) {
		fprintf(stderr, "%s: cannot connect to xenstore: %s (is this dom0?)\n",
			program_name, strerror(errno));
		return XQ_EXIT_ERROR;
	}
	r = vm_find(*xs, spec, vm);
	if (!r)
		return XQ_EXIT_OK;
	if (r == -ENOENT)
		fprintf(stderr, "%s: no running VM has domid, uuid or name '%s'\n", program_name,
			spec);
	else if (r == -EEXIST)
		fprintf(stderr, "%s: several VMs are named '%s'; give the uuid or domid\n",
			program_name, spec);
	else if (r == -EPERM)
		fprintf(stderr, "%s: '%s' is dom0, which has no quiesced snapshots\n",
			program_name, spec);
	else if (r == -ERANGE)
		fprintf(stderr, "%s: '%s' is not a valid domid (expected 1-32751)\n",
			program_name, spec);
	else
		fprintf(stderr, "%s: cannot read VM '%s' from xenstore: %s\n", program_name, spec,
			strerror(-r));
	xs_close(*xs);
	*xs = NULL;
	return XQ_EXIT_ERROR;
}

int main(int argc, char *argv[])
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return XQ_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return XQ_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", program_name, XQ_VERSION);
		return XQ_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n\n", program_name, argv[1]);
	usage(stderr);
	return XQ_EXIT_USAGE;
}
