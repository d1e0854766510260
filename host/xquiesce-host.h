/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_H
#define XQUIESCE_HOST_H

/*
 * Exit codes. The four protocol failures carry the names of the XAPI errors
 * they stand for (XAPI spells the second one "DEOS"), so that a caller that
 * knows VM.snapshot_with_quiesce can map them back.
 */
enum xq_exit {
	XQ_EXIT_OK = 0,
	XQ_EXIT_ERROR = 1,		/* anything not below: bad VM, xenstore down */
	XQ_EXIT_USAGE = 2,
	XQ_EXIT_NOT_SUPPORTED = 3,	/* VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED */
	XQ_EXIT_DEOS_NOT_RESPOND = 4,	/* VM_SNAPSHOT_WITH_QUIESCE_PLUGIN_DEOS_NOT_RESPOND */
	XQ_EXIT_TIMEOUT = 5,		/* VM_SNAPSHOT_WITH_QUIESCE_TIMEOUT */
	XQ_EXIT_FAILED = 6,		/* VM_SNAPSHOT_WITH_QUIESCE_FAILED */
	XQ_EXIT_BUSY = 7,		/* another snapshot of this VM holds the lock */
};

extern const char *program_name;

struct xs_handle;
struct vm;
int open_vm(const char *spec, struct xs_handle **xs, struct vm *vm);

int prepare_main(int argc, char *argv[]);
int release_main(int argc, char *argv[]);
int snapshot_main(int argc, char *argv[]);

#endif
