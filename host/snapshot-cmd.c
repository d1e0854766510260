// SPDX-License-Identifier: GPL-2.0
/* xquiesce-host snapshot: options, locking, and the one report. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "lock.h"
#include "prepare.h"
#include "signals.h"
#include "snapshot.h"
#include "xquiesce-host.h"

#define XE_PATH "/opt/xensource/bin/xe"
/*
 * On XAPI hosts: uninstall the snapshot; if XAPI refuses, tag it, so that
 * nobody takes it for a quiesced one (and still report it as not removed).
 */
/* On XAPI hosts: a quiesced snapshot says so, as XAPI's snapshot_info did. */
#define XE_MARK XE_PATH " snapshot-param-set uuid=\"$XQ_SNAPSHOT_UUID\"" \
	" other-config:xquiesce-consistency=\"$XQ_CONSISTENCY\"" \
	" other-config:xquiesce-freeze-window-ms=\"$XQ_FREEZE_WINDOW_MS\""
#define XE_DISCARD XE_PATH " snapshot-uninstall snapshot-uuid=\"$XQ_SNAPSHOT_UUID\" force=true" \
	" || { " XE_PATH " snapshot-param-add uuid=\"$XQ_SNAPSHOT_UUID\" param-name=tags" \
	" param-key=xquiesce-not-quiesced; exit 1; }"

static const char *const exit_names[] = {
	[XQ_EXIT_NOT_SUPPORTED] = "VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED",
	[XQ_EXIT_DEOS_NOT_RESPOND] = "VM_SNAPSHOT_WITH_QUIESCE_PLUGIN_DEOS_NOT_RESPOND",
	[XQ_EXIT_TIMEOUT] = "VM_SNAPSHOT_WITH_QUIESCE_TIMEOUT",
	[XQ_EXIT_FAILED] = "VM_SNAPSHOT_WITH_QUIESCE_FAILED",
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: xquiesce-host snapshot [OPTIONS] VM\n"
"\n"
"Takes an application-consistent snapshot of a running VM. Plays XAPI's part\n"
"(control/snapshot/action, the acknowledge and overall timeouts, the guest's\n"
"status) and snapwatchd's (/vss/<uuid>: runs the snapshot command while the\n"
"guest holds its filesystems frozen, answers snapshots-created or\n"
"snapshots-failed). One snapshot per VM at a time; different VMs may be\n"
"snapshotted at once by separate invocations.\n"
"\n"
"Options:\n"
"  -c, --command CMD        the snapshot, run by /bin/sh while the guest is\n"
"                           frozen (default: $XQ_SNAPSHOT_COMMAND, else on XAPI\n"
"                           hosts: xe vm-snapshot uuid=\"$XQ_VM_UUID\"\n"
"                           new-name-label=\"$XQ_SNAPSHOT_NAME\", else 'builtin':\n"
"                           per disk an LVM snapshot or a reflink copy of a file\n"
"                           on xfs or btrfs, all or nothing, made before the\n"
"                           request and moved to the freeze in milliseconds)\n"
"  -C, --command-timeout S  kill the command after S seconds and answer\n"
"                           snapshots-failed (default 10, snapwatchd's limit);\n"
"                           cut to fit well inside the wait the guest publishes\n"
"  -D, --discard-command CMD  removes a snapshot taken but not quiesced (the\n"
"                           guest gave up, failed or disagreed), given\n"
"                           XQ_SNAPSHOT_UUID (default: $XQ_DISCARD_COMMAND, else\n"
"                           on XAPI hosts: xe snapshot-uninstall, or a tag;\n"
"                           the built-in removes its own)\n"
"  -M, --mark-command CMD   marks a quiesced snapshot so, given XQ_SNAPSHOT_UUID,\n"
"                           XQ_CONSISTENCY, XQ_FREEZE_WINDOW_MS (default:\n"
"                           $XQ_MARK_COMMAND, else on XAPI hosts: other-config\n"
"                           keys xquiesce-consistency, xquiesce-freeze-window-ms)\n"
"  -a, --ack-timeout S      seconds for the guest to take the request\n"
"                           (default 60, as XAPI)\n"
"  -t, --timeout S          seconds for the guest's result (default 600, as\n"
"                           XAPI's snapshot_with_quiesce_timeout)\n"
"  -h, --help               this text\n"
"\n"
"The command's environment: XQ_VM_UUID, XQ_VM_NAME, XQ_DOMID, XQ_SNAPSHOT_UUID\n"
"(a fresh uuid for the snapshot), XQ_SNAPSHOT_NAME, XQ_SNAPTYPE (vm when the\n"
"guest listed all its disks, else vdi), XQ_VDI_COUNT, XQ_VDIS (the VDI uuids)\n"
"and for each VDI N from 0: XQ_VDI_N (uuid), XQ_VDI_N_PARAMS (what the backend\n"
"serves, e.g. /dev/vg/disk or a file), XQ_VDI_N_DEV (xvda...), XQ_VDI_N_BACKEND\n"
"(its xenstore backend path), all from dom0's backend tree, and XQ_TIMEOUT_MS\n"
"(its time limit). On standard output it may print a line with one\n"
"uuid (the snapshot's, replacing XQ_SNAPSHOT_UUID) and lines 'VDI-UUID ID'\n"
"giving each VDI's snapshot id. A non-zero exit means the snapshot failed.\n"
"\n"
"Output: 'key: value' lines: vm, snapshot-uuid (the one dom0's command took;\n"
"on failure discarded-snapshot-uuid or unquiesced-snapshot-uuid), snapshot-id,\n"
"vdis, guest-wait-ms, command-timeout-ms, and the times from the request:\n"
"acknowledged-ms, create-snapshots-ms (the guest froze and asked for the\n"
"snapshot), answered-ms, result-ms; snapshot-ms, how long the command or the\n"
"built-in's capture took; then guest-KEY lines for what the agent\n"
"reported beyond XAPI's keys (the freeze window, the consistency reached).\n"
"Guest values are escaped (\\xHH): no line comes from the guest whole.\n"
"\n"
"Exit status:\n"
"  0  the snapshot was taken\n"
"  1  other error (no such VM, xenstore unreachable, command not runnable)\n"
"  2  usage error\n"
"  3  VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED: no agent advertises quiesce\n"
"  4  VM_SNAPSHOT_WITH_QUIESCE_PLUGIN_DEOS_NOT_RESPOND: request not taken\n"
"  5  VM_SNAPSHOT_WITH_QUIESCE_TIMEOUT: no result in time\n"
"  6  VM_SNAPSHOT_WITH_QUIESCE_FAILED: the guest or the snapshot failed\n"
"  7  another snapshot of this VM is running\n"
"\n"
"SIGINT, SIGTERM and SIGHUP end it cleanly: the command is killed, a frozen\n"
"guest gets snapshots-failed, every key is removed (exit status 1).\n");
}

static int parse_seconds(const char *opt, const char *arg, int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > INT_MAX / 1000) {
		fprintf(stderr, "%s: %s '%s': expected whole seconds from 1 to %d\n",
			program_name, opt, arg, INT_MAX / 1000);
		return -EINVAL;
	}
	*ms = v * 1000;
	return 0;
}

static void print_ms(const char *key, long long ms)
{
	if (ms >= 0)
		printf("%s: %lld\n", key, ms);
}

/*
 * The report. Every value a guest wrote was escaped when it was read
 * (escape.h), so each line is one key; the uuid printed is dom0's own.
 */
static void print_report(const struct vm *vm, const struct snapshot_report *report)
{
	char *name = escape(vm->name ? vm->name : "-");
	unsigned int i;
	char *eq;

	printf("vm: %s (%s, domid %u)\n", name ? name : "?", vm->uuid, vm->domid);
	free(name);
	if (report->snapuuid)
		printf("%s: %s\n", report->outcome == XQ_EXIT_OK ? "snapshot-uuid" :
		       report->discarded ? "discarded-snapshot-uuid" : "unquiesced-snapshot-uuid",
		       report->snapuuid);
	if (report->snapid)
		printf("snapshot-id: %s\n", report->snapid);
	if (report->nvdis)
		printf("vdis: %u\n", report->nvdis);
	if (report->guest_wait_ms)
		printf("guest-wait-ms: %ld\n", report->guest_wait_ms);
	if (report->create_ms >= 0 && report->command_timeout_ms)
		printf("command-timeout-ms: %d\n", report->command_timeout_ms);
	print_ms("acknowledged-ms", report->ack_ms);
	print_ms("create-snapshots-ms", report->create_ms);
	print_ms("answered-ms", report->answered_ms);
	print_ms("result-ms", report->done_ms);
	print_ms("snapshot-ms", report->snapshot_ms);
	for (i = 0; i < report->nguest_keys; i++) {
		eq = strchr(report->guest_keys[i], '=');
		printf("guest-%.*s: %s\n", (int)(eq - report->guest_keys[i]),
		       report->guest_keys[i], eq + 1);
	}
	fflush(stdout);
}

/* What the report's lines alone would not make plain, on stderr. */
static void print_warnings(const struct snapshot_opts *opts, const struct snapshot_report *report)
{
	if (report->timeout_cut && opts->command_timeout_set)
		fprintf(stderr, "%s: warning: the guest waits %ld ms for the snapshot: the command"
			" got %d ms, not the %d ms of --command-timeout\n", program_name,
			report->guest_wait_ms, report->command_timeout_ms,
			opts->command_timeout_ms);
	if (report->mark_failed)
		fprintf(stderr, "%s: warning: snapshot %s is quiesced, but the mark command failed"
			" to say so\n", program_name, report->snapuuid);
	if (report->snapuuid && report->outcome != XQ_EXIT_OK && !report->discarded)
		fprintf(stderr, "%s: warning: snapshot %s was taken but is NOT quiesced, and %s:"
			" remove it\n", program_name, report->snapuuid, opts->builtin ?
			"the built-in could not remove it" : opts->discard_command ?
			"the discard command failed" : "there is no --discard-command");
}

/*
 * snapwatchd (XCP-ng and XenServer up to 8.0) serves /vss/<uuid> itself: with
 * both, every create-snapshots would be served twice. Found by the name of
 * the program or of the script a Python runs.
 */
static bool is_snapwatchd(const char *arg)
{
	const char *base = strrchr(arg, '/');

	return !strcmp(base ? base + 1 : arg, "snapwatchd");
}

static bool snapwatchd_running(void)
{
	char path[300], cmdline[512];
	struct dirent *d;
	bool found = false;
	size_t n;
	DIR *proc;
	FILE *f;

	proc = opendir("/proc");
	if (!proc)
		return false;
	while (!found && (d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
		fclose(f);
		cmdline[n] = '\0';
		/* the program, or the script an interpreter runs */
		found = is_snapwatchd(cmdline) ||
			(strlen(cmdline) + 1 < n && is_snapwatchd(cmdline + strlen(cmdline) + 1));
	}
	closedir(proc);
	return found;
}

static const char *default_command(const char *variable, const char *xapi)
{
	const char *env = getenv(variable);

	if (env && *env)
		return env;
	if (access(XE_PATH, X_OK) == 0)
		return xapi;
	return NULL;
}

int snapshot_main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "command", required_argument, NULL, 'c' },
		{ "command-timeout", required_argument, NULL, 'C' },
		{ "discard-command", required_argument, NULL, 'D' },
		{ "mark-command", required_argument, NULL, 'M' },
		{ "ack-timeout", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct snapshot_opts opts = {
		.ack_timeout_ms = 60 * 1000,
		.timeout_ms = 600 * 1000,
		.command_timeout_ms = 10 * 1000,
	};
	struct snapshot_report report;
	struct xs_handle *xs;
	const char *failed_path;
	char *lock_path = NULL;
	int c, code, lock_fd, r;
	struct vm vm;

	opts.command = default_command("XQ_SNAPSHOT_COMMAND", XE_PATH " vm-snapshot"
				       " uuid=\"$XQ_VM_UUID\" new-name-label=\"$XQ_SNAPSHOT_NAME\"");
	opts.discard_command = default_command("XQ_DISCARD_COMMAND", XE_DISCARD);
	opts.mark_command = default_command("XQ_MARK_COMMAND", XE_MARK);
	/* No XAPI and nothing set: the built-in backends. */
	opts.builtin = !opts.command || !strcmp(opts.command, "builtin");
	while ((c = getopt_long(argc, argv, "c:C:D:M:a:t:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts.command = optarg;
			opts.builtin = !strcmp(optarg, "builtin");
			break;
		case 'C':
			if (parse_seconds("--command-timeout", optarg, &opts.command_timeout_ms))
				return XQ_EXIT_USAGE;
			opts.command_timeout_set = true;
			break;
		case 'D':
			opts.discard_command = *optarg ? optarg : NULL;
			break;
		case 'M':
			opts.mark_command = *optarg ? optarg : NULL;
			break;
		case 'a':
			if (parse_seconds("--ack-timeout", optarg, &opts.ack_timeout_ms))
				return XQ_EXIT_USAGE;
			break;
		case 't':
			if (parse_seconds("--timeout", optarg, &opts.timeout_ms))
				return XQ_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return XQ_EXIT_OK;
		default:
			usage(stderr);
			return XQ_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s snapshot: expected exactly one VM, got %d arguments\n",
			program_name, argc - optind);
		return XQ_EXIT_USAGE;
	}
	if (!opts.builtin && !*opts.command) {
		fprintf(stderr, "%s snapshot: no snapshot command: give --command or set "
			"XQ_SNAPSHOT_COMMAND (%s not found)\n", program_name, XE_PATH);
		return XQ_EXIT_USAGE;
	}
	if (snapwatchd_running()) {
		fprintf(stderr, "%s snapshot: snapwatchd is running: this host (XCP-ng or XenServer"
			" up to 8.0) serves quiesced snapshots itself (xe vm-snapshot-with-quiesce);"
			" both would serve each request\n", program_name);
		return XQ_EXIT_ERROR;
	}
	/* From here on, a signal ends the snapshot cleanly, wherever it lands. */
	signals_catch();
	code = open_vm(argv[optind], &xs, &vm);
	if (code)
		return code;

	lock_fd = vm_lock(vm.uuid, &lock_path);
	if (lock_fd < 0) {
		code = lock_fd == -EBUSY ? XQ_EXIT_BUSY : XQ_EXIT_ERROR;
		fprintf(stderr, "%s: %s %s: %s\n", program_name,
			lock_fd == -EBUSY ? "another snapshot of VM" : "cannot lock VM", vm.uuid,
			lock_fd == -EBUSY ? lock_path : strerror(-lock_fd));
		goto out;
	}
	r = vm_prepare(xs, &vm, &failed_path);
	/* An agent refused control/ until now advertises once it has it. */
	opts.advert_wait_ms = r > 0 ? ADVERT_WAIT_MS : 0;
	if (r < 0) {
		fprintf(stderr, "%s: cannot prepare %s for VM %s: %s\n", program_name, failed_path,
			vm.uuid, strerror(-r));
		code = XQ_EXIT_ERROR;
		goto out;
	}
	code = snapshot_vm(xs, &vm, &opts, &report);
	print_report(&vm, &report);
	print_warnings(&opts, &report);
	if (code) {
		char *name = escape(vm.name ? vm.name : vm.uuid);

		fprintf(stderr, "%s: %s: VM %s: %s\n", program_name,
			code < (int)(sizeof(exit_names) / sizeof(exit_names[0])) && exit_names[code] ?
			exit_names[code] : "error", name ? name : vm.uuid, report.detail);
		free(name);
	}
	snapshot_report_free(&report);
out:
	if (lock_fd >= 0)
		close(lock_fd);
	free(lock_path);
	vm_free(&vm);
	xs_close(xs);
	return code;
}
