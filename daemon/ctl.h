/* SPDX-License-Identifier: GPL-2.0 */
/* xquiescectl: the subcommands and what they share. */
#ifndef _XQ_CTL_H
#define _XQ_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "discovery.h"
#include "freezer.h"


/* Options a subcommand accepts, as a mask for ctl_parse(). */
enum {
	CTL_OPT_CONFIG = 1 << 0,	/* -c, --config FILE */
	CTL_OPT_FREEZER = 1 << 1,	/* --freezer auto|module|fifreeze */
	CTL_OPT_TEST_DISK = 1 << 2,	/* --test-as-xen-disk DEV */
	CTL_OPT_TIMEOUT = 1 << 3,	/* -t, --timeout SECONDS */
	CTL_OPT_STATE = 1 << 4,		/* --state FILE */
};

struct ctl_opts {
	const char *config_path;
	enum freezer_backend backend;
	const char *test_disks[DISC_MAX_TEST_DISKS + 1];
	unsigned int ntest_disks;
	unsigned int timeout_s;
	const char *state_path;
	struct xq_config cfg;
};

/*
 * Parses argv for a subcommand that takes the options in allowed and no
 * operands, then loads the configuration. Returns 0, or the exit status
 * after printing usage or the error (help: 0 on stdout; misuse: 1 on stderr).
 */
int ctl_parse(int argc, char *argv[], unsigned int allowed, const char *usage,
	      struct ctl_opts *o, bool *done);
void ctl_opts_free(struct ctl_opts *o);

/* Discovery on the real system, with the options' test disks. Prints errors. */
int ctl_discover(const struct ctl_opts *o, struct discovery *d);
/* What the freeze froze, with times, as a table; the window once thawed. */
void ctl_print_frozen(FILE *to, const struct discovery *d, const struct freeze_result *r);
void ctl_print_excluded(FILE *to, const struct discovery *d);
/* Freezes as the agent would, printing why it failed. 0 or -errno. */
int ctl_freeze(const struct ctl_opts *o, const struct discovery *d, struct freezer *f,
	       unsigned int timeout_ms);
/* Thaws, printing why it failed. 0 or -errno. */
int ctl_thaw(struct freezer *f);

int status_main(int argc, char *argv[]);
int disks_main(int argc, char *argv[]);
int freeze_main(int argc, char *argv[]);
int thaw_main(int argc, char *argv[]);
int selftest_main(int argc, char *argv[]);

#endif /* _XQ_CTL_H */
