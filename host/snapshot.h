/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_SNAPSHOT_H
#define XQUIESCE_HOST_SNAPSHOT_H

#include <stdbool.h>

#include "vm.h"
#include "xquiesce-host.h"

struct snapshot_opts {
	const char *command;	/* the snapshot itself, run by /bin/sh */
	bool builtin;		/* builtin.h's instead of a command */
	const char *discard_command;	/* removes a snapshot that is not quiesced, or NULL */
	const char *mark_command;	/* marks a quiesced one as such, or NULL */
	int ack_timeout_ms;	/* XAPI: 60 s for the guest to take the request */
	int timeout_ms;		/* XAPI: snapshot_with_quiesce_timeout, 600 s */
	int command_timeout_ms;	/* snapwatchd gave VM.snapshot 10 s */
	bool command_timeout_set;	/* given on the command line: say when it is cut */
	int advert_wait_ms;	/* for the agent to advertise quiesce, if it does not yet */
};

/* After prepare handed control/ to the guest: the agent needs a moment. */
#define ADVERT_WAIT_MS 5000

struct snapshot_report {
	enum xq_exit outcome;
	char detail[512];	/* why it failed, for the one error message */
	char *snapuuid;		/* the snapshot dom0's command took, NULL if none */
	bool discarded;		/* not quiesced, and the discard command removed it */
	bool mark_failed;	/* the mark command failed */
	char consistency[32];	/* the guest's, checked: kernel-freeze ... or unknown */
	long long window_ms;	/* the guest's freeze window, -1 if none or bad */
	char *snapid;		/* snapid/0..n concatenated, as XAPI stores it (escaped) */
	int command_timeout_ms;	/* what the command got: cut to fit the guest's wait */
	bool timeout_cut;
	long guest_wait_ms;	/* the guest's dom0-timeout-ms, 0 if it published none */
	long long ack_ms;	/* times from the request, -1 if never reached */
	long long create_ms;	/* the guest's create-snapshots */
	long long answered_ms;	/* snapshots-created/-failed written */
	long long snapshot_ms;	/* of which the command, or the built-in's capture, took */
	long long done_ms;	/* the guest's final status */
	unsigned int nvdis;
	char **guest_keys;	/* other control/snapshot keys, "key=value" (escaped) */
	unsigned int nguest_keys;
};

int snapshot_vm(struct xs_handle *xs, const struct vm *vm, const struct snapshot_opts *opts,
		struct snapshot_report *report);
void snapshot_report_free(struct snapshot_report *report);

#endif
