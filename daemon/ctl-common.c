// SPDX-License-Identifier: GPL-2.0
/* Options, discovery and output that xquiescectl's subcommands share. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "state.h"

static const struct option all_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "freezer", required_argument, NULL, 'F' },
	{ "test-as-xen-disk", required_argument, NULL, 'D' },
	{ "timeout", required_argument, NULL, 't' },
	{ "state", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static unsigned int option_bit(int c)
{
	switch (c) {
	case 'c':
		return CTL_OPT_CONFIG;
	case 'F':
		return CTL_OPT_FREEZER;
	case 'D':
		return CTL_OPT_TEST_DISK;
	case 't':
		return CTL_OPT_TIMEOUT;
	case 'S':
		return CTL_OPT_STATE;
	default:
		return 0;
	}
}

static const char *option_name(int c)
{
	const struct option *opt;

	for (opt = all_options; opt->name; opt++)
		if (opt->val == c)
			break;
	return opt->name;
}

static int bad_option(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_option(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_option(int c, const char *arg, struct ctl_opts *o)
{
	char *end;

	switch (c) {
	case 'c':
		o->config_path = arg;
		return 0;
	case 'F':
		if (freezer_backend_parse(arg, &o->backend))
			return bad_option("--freezer: \"%s\" is not auto, module or fifreeze\n",
					  arg);
		return 0;
	case 'D':
		if (o->ntest_disks == DISC_MAX_TEST_DISKS)
			return bad_option("--test-as-xen-disk: at most %d times\n",
					  DISC_MAX_TEST_DISKS);
		if (discovery_check_test_disk(arg))
			return bad_option("--test-as-xen-disk: \"%s\" is not the name of a block "
					  "device in /sys/block, such as loop3\n", arg);
		o->test_disks[o->ntest_disks++] = arg;
		return 0;
	case 't':
		errno = 0;
		o->timeout_s = strtoul(arg, &end, 10);
		if (errno || *end || !*arg || o->timeout_s < 1 || o->timeout_s > 600)
			return bad_option("--timeout: \"%s\" is not a number of seconds from 1 "
					  "to 600\n", arg);
		return 0;
	case 'S':
		o->state_path = arg;
		return 0;
	default:
		return -EINVAL;
	}
}

int ctl_parse(int argc, char *argv[], unsigned int allowed, const char *usage,
	      struct ctl_opts *o, bool *done)
{
	char err[512];
	int c;

	*o = (struct ctl_opts){
		.config_path = XQ_CONFIG_PATH, .timeout_s = 10, .state_path = XQ_STATE_LAST,
	};
	*done = true;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:t:h", all_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (c != '?' && !(option_bit(c) & allowed))
			fprintf(stderr, "--%s does not apply to this command\n", option_name(c));
		if (!(option_bit(c) & allowed) || parse_option(c, optarg, o) < 0) {
			fputs(usage, stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument \"%s\"\n", argv[optind]);
		fputs(usage, stderr);
		return 1;
	}
	if (config_load(&o->cfg, o->config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (!(allowed & CTL_OPT_TIMEOUT))
		o->timeout_s = o->cfg.freeze_timeout_ms / 1000;
	log_setup(o->cfg.log_level);
	*done = false;
	return 0;
}

void ctl_opts_free(struct ctl_opts *o)
{
	config_free(&o->cfg);
}

int ctl_discover(const struct ctl_opts *o, struct discovery *d)
{
	const struct discovery_roots roots = { .test_as_xen_disks = o->test_disks };
	int r = discovery_scan(d, &roots, &o->cfg);

	if (r < 0)
		fprintf(stderr, "cannot discover the Xen disks and their filesystems: %s\n",
			strerror(-r));
	return r;
}

static const char *mountpoint_of(const struct discovery *d, unsigned int major,
				 unsigned int minor)
{
	size_t i;

	for (i = 0; i < d->nfs; i++)
		if (d->fs[i].major == major && d->fs[i].minor == minor)
			return d->fs[i].mountpoint;
	return "(not mounted here)";
}

static double ms(unsigned long long ns)
{
	return ns / 1e6;
}

void ctl_print_frozen(FILE *to, const struct discovery *d, const struct freeze_result *r)
{
	unsigned int i;

	fprintf(to, "method:   %s%s\n", freezer_method_name(r->method),
		r->method == FREEZE_PER_MOUNT ?
		" (FIFREEZE: no kernel watchdog, no thaw if this program dies)" : "");
	if (r->drain_ns)
		fprintf(to, "drain:    %u ms with dirty memory capped, before the freeze\n",
			freezer_drain_ms(r));
	fprintf(to, "frozen:   %u filesystem%s in %.1f ms\n", r->nfs, r->nfs == 1 ? "" : "s",
		r->frozen_ns > r->start_ns ? ms(r->frozen_ns - r->start_ns) : 0.0);
	if (r->nskipped)
		fprintf(to, "skipped:  %u filesystem%s without freeze support\n", r->nskipped,
			r->nskipped == 1 ? "" : "s");
	if (r->thawed_ns)
		fprintf(to, "window:   %u ms from the start of the freeze to the end of the thaw\n",
			freezer_window_ms(r));
	if (!r->nfs)
		return;
	fprintf(to, "  %-5s  %-10s %-6s %9s %10s  %s\n", "LEVEL", "DEVICE", "TYPE", "SYNC ms",
		"FROZEN ms", "MOUNT POINT");
	for (i = 0; i < r->nfs; i++) {
		const struct frozen_fs *fs = &r->fs[i];

		fprintf(to, "  %-5u  %-10s %-6s %9.1f %10.1f  %s\n", fs->level, fs->id,
			fs->fstype, ms(fs->sync_ns), ms(fs->freeze_ns),
			mountpoint_of(d, fs->major, fs->minor));
	}
}

void ctl_print_excluded(FILE *to, const struct discovery *d)
{
	size_t i;

	for (i = 0; i < d->nfs; i++)
		if (d->fs[i].excluded)
			fprintf(to, "not frozen: %s (%s): %s\n", d->fs[i].mountpoint,
				d->fs[i].fstype, d->fs[i].excluded);
}

int ctl_freeze(const struct ctl_opts *o, const struct discovery *d, struct freezer *f,
	       unsigned int timeout_ms)
{
	const struct freezer_options opt = {
		.backend = o->backend,
		.timeout_ms = timeout_ms,
		.presync = o->cfg.presync,
		/* Only without exclusions and outside tests, as the agent does. */
		.all_blkfront = !o->cfg.nexclude_mounts && !o->cfg.nexclude_fstypes &&
				!o->ntest_disks,
		.drain_ms = o->cfg.drain_ms,
		.drain_dirty_bytes = o->cfg.drain_dirty_bytes,
		.drain_disks = o->cfg.drain_disks,
	};
	int r;

	freezer_init(f);
	r = freezer_freeze(f, d, &opt);
	if (r < 0)
		fprintf(stderr, "freeze failed: %s\n", f->result.message[0] ?
			f->result.message : strerror(-r));
	return r;
}

int ctl_thaw(struct freezer *f)
{
	int r = freezer_thaw(f);

	if (r < 0)
		fprintf(stderr, "thaw: %s\n", f->result.message[0] ? f->result.message :
			strerror(-r));
	return r;
}
