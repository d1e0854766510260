// SPDX-License-Identifier: GPL-2.0
/*
 * xq-bench: compares ways of quiescing filesystems under a buffered-write
 * load, in one boot. For each set size, one writer per filesystem runs
 * throughout; the methods take turns (their order rotates with each
 * repeat), each freezing the set, holding it for the snapshot time and
 * thawing it. One JSON object per line goes to the results file: "meta",
 * then a "cycle" per quiesce, a "trace" per method for the traced size, and
 * "done" (or "error").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "load.h"
#include "method.h"

#define TRACE_STEP_NS	(5 * NSEC_PER_MSEC)
#define TRACE_PRE_NS	(200 * NSEC_PER_MSEC)
#define TRACE_POST_NS	(300 * NSEC_PER_MSEC)

struct config {
	struct bench_opts bench;
	struct load_opts load;
	unsigned int sizes[BENCH_MAX_FS], nsizes;
	const struct method *methods[16];
	unsigned int nmethods;
	unsigned int repeats, warmup_ms, gap_ms, trace_size;
	struct target t[BENCH_MAX_FS];
	unsigned int ntargets;
};

static FILE *out;

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"usage: xq-bench [options] MOUNT...\n"
		"Quiesces the filesystems mounted at MOUNT... under a write load, by each\n"
		"method in turn, and prints one JSON object per line.\n\n"
		"  --results FILE       where the JSON lines go (default: stdout)\n"
		"  --sizes LIST         how many of the mounts to quiesce at once (default 1,2,4,8)\n"
		"  --methods LIST       methods, in their first order (default: all)\n"
		"  --repeats N          cycles per method and size (default 5)\n"
		"  --hold-ms MS         snapshot hold while frozen (default 200)\n"
		"  --warmup-ms MS       load before the first cycle of a size (default 3000)\n"
		"  --gap-ms MS          load between cycles (default 1500)\n"
		"  --write-size BYTES   bytes per write() of each writer (default 65536)\n"
		"  --file-mib MIB       each writer rewrites a file of this size (default 64)\n"
		"  --drain-bytes BYTES  vm.dirty_bytes while draining (default 8388608)\n"
		"  --drain-ms MS        drain time before the freeze (default 100)\n"
		"  --ramp-ms MS         the stepped drain's length (presync-ramp; default 4000)\n"
		"  --trace-size N       record the wait curve of the first cycles at N mounts\n"
		"                       (default: the largest size)\n\n"
		"methods:\n");
	for (i = 0; i < nmethods; i++)
		fprintf(f, "  %-16s %s\n", methods[i].name, methods[i].what);
}

static unsigned int parse_uint(const char *opt, const char *s, unsigned int min, unsigned int max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "xq-bench: %s: \"%s\" is not a number from %u to %u\n", opt, s,
			min, max);
		exit(2);
	}
	return (unsigned int)v;
}

static void parse_sizes(struct config *cfg, char *list)
{
	char *tok, *save = NULL;

	cfg->nsizes = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cfg->nsizes == BENCH_MAX_FS) {
			fprintf(stderr, "xq-bench: --sizes: at most %d sizes\n", BENCH_MAX_FS);
			exit(2);
		}
		cfg->sizes[cfg->nsizes++] = parse_uint("--sizes", tok, 1, BENCH_MAX_FS);
	}
}

static void parse_methods(struct config *cfg, char *list)
{
	char *tok, *save = NULL;
	const struct method *m;

	cfg->nmethods = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		m = method_find(tok);
		if (!m || cfg->nmethods == 16) {
			fprintf(stderr, "xq-bench: --methods: unknown method \"%s\" (see --help)\n",
				tok);
			exit(2);
		}
		cfg->methods[cfg->nmethods++] = m;
	}
}

/*
 * The benchmark mounts ext4 and xfs only: for those, unlike btrfs, the
 * mount point's st_dev is the superblock's s_dev that FREEZE matches.
 */
static const char *fstype_name(const struct statfs *sfs)
{
	switch ((unsigned long)sfs->f_type) {
	case EXT4_SUPER_MAGIC:
		return "ext4";
	case XFS_SUPER_MAGIC:
		return "xfs";
	default:
		return NULL;
	}
}

static int target_init(struct target *t, const char *mnt)
{
	struct statfs sfs;
	struct stat st;
	const char *type;

	t->mnt = mnt;
	t->dirfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0)
		return -errno;
	if (fstat(t->dirfd, &st) || fstatfs(t->dirfd, &sfs))
		return -errno;
	type = fstype_name(&sfs);
	if (!type)
		return -EMEDIUMTYPE;
	snprintf(t->fstype, sizeof(t->fstype), "%s", type);
	t->dev = st.st_dev;
	return 0;
}

static void parse_args(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'r' },
		{ "sizes", required_argument, NULL, 's' },
		{ "methods", required_argument, NULL, 'm' },
		{ "repeats", required_argument, NULL, 'n' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "warmup-ms", required_argument, NULL, 'w' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "write-size", required_argument, NULL, 'b' },
		{ "file-mib", required_argument, NULL, 'f' },
		{ "drain-bytes", required_argument, NULL, 'D' },
		{ "drain-ms", required_argument, NULL, 'd' },
		{ "ramp-ms", required_argument, NULL, 'R' },
		{ "trace-size", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char defaults[] = "1,2,4,8";
	bool trace_set = false;
	unsigned int i;
	int c, err;

	*cfg = (struct config){
		.bench = { .hold_ms = 200, .drain_bytes = 8 << 20, .drain_ms = 100, .ramp_ms = 4000,
			   .timeout_ms = 30000 },
		.load = { .write_size = 65536, .file_mib = 64 },
		.repeats = 5, .warmup_ms = 3000, .gap_ms = 1500,
	};
	parse_sizes(cfg, defaults);
	for (i = 0; i < nmethods; i++)
		cfg->methods[cfg->nmethods++] = &methods[i];
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			out = fopen(optarg, "we");
			if (!out) {
				fprintf(stderr, "xq-bench: %s: %s\n", optarg, strerror(errno));
				exit(1);
			}
			break;
		case 's': parse_sizes(cfg, optarg); break;
		case 'm': parse_methods(cfg, optarg); break;
		case 'n': cfg->repeats = parse_uint("--repeats", optarg, 1, 1000); break;
		case 'H': cfg->bench.hold_ms = parse_uint("--hold-ms", optarg, 0, 10000); break;
		case 'w': cfg->warmup_ms = parse_uint("--warmup-ms", optarg, 0, 600000); break;
		case 'g': cfg->gap_ms = parse_uint("--gap-ms", optarg, 0, 600000); break;
		case 'b':
			cfg->load.write_size = parse_uint("--write-size", optarg, 512, 16 << 20);
			break;
		case 'f': cfg->load.file_mib = parse_uint("--file-mib", optarg, 1, 1 << 20); break;
		case 'D':
			cfg->bench.drain_bytes = parse_uint("--drain-bytes", optarg, 1 << 20,
							    1U << 31);
			break;
		case 'd': cfg->bench.drain_ms = parse_uint("--drain-ms", optarg, 0, 10000); break;
		case 'R': cfg->bench.ramp_ms = parse_uint("--ramp-ms", optarg, 0, 60000); break;
		case 't':
			cfg->trace_size = parse_uint("--trace-size", optarg, 1, BENCH_MAX_FS);
			trace_set = true;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind >= argc || argc - optind > BENCH_MAX_FS) {
		fprintf(stderr, "xq-bench: expected 1 to %d mount points, got %d\n", BENCH_MAX_FS,
			argc - optind);
		exit(2);
	}
	for (i = 0; optind + (int)i < argc; i++) {
		err = target_init(&cfg->t[i], argv[optind + i]);
		if (err) {
			fprintf(stderr, "xq-bench: %s: expected an ext4 or xfs mount point: %s\n",
				argv[optind + i], strerror(-err));
			exit(1);
		}
	}
	cfg->ntargets = i;
	for (i = 0; i < cfg->nsizes; i++) {
		if (cfg->sizes[i] > cfg->ntargets) {
			fprintf(stderr, "xq-bench: --sizes: %u mounts asked for, %u given\n",
				cfg->sizes[i], cfg->ntargets);
			exit(2);
		}
		if (!trace_set && cfg->sizes[i] > cfg->trace_size)
			cfg->trace_size = cfg->sizes[i];
	}
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* An integer sysctl, -1 when unreadable. */
static int sysctl_int(const char *name)
{
	char path[128], buf[32];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/sys/vm/%s", name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = atoi(buf);
	fclose(f);
	return v;
}

static void emit_meta(const struct config *cfg)
{
	struct utsname u;
	char knobs[96];
	unsigned int i;

	uname(&u);
	fprintf(out, "{\"type\":\"meta\",\"kernel\":\"%s\",\"cpus\":%ld,\"mem_kib\":%ld,"
		"\"dirty_ratio\":%d,\"dirty_background_ratio\":%d,\"dirty_bytes\":%d,"
		"\"write_size\":%u,\"file_mib\":%u,\"hold_ms\":%u,\"repeats\":%u,"
		"\"warmup_ms\":%u,\"gap_ms\":%u,\"drain_bytes\":%u,\"drain_ms\":%u,\"ramp_ms\":%u,\"methods\":[",
		u.release, sysconf(_SC_NPROCESSORS_ONLN),
		sysconf(_SC_PHYS_PAGES) * (sysconf(_SC_PAGESIZE) / 1024), sysctl_int("dirty_ratio"),
		sysctl_int("dirty_background_ratio"), sysctl_int("dirty_bytes"), cfg->load.write_size, cfg->load.file_mib, cfg->bench.hold_ms,
		cfg->repeats, cfg->warmup_ms, cfg->gap_ms, cfg->bench.drain_bytes,
		cfg->bench.drain_ms, cfg->bench.ramp_ms);
	for (i = 0; i < cfg->nmethods; i++)
		fprintf(out, "%s{\"name\":\"%s\",\"what\":\"%s\"}", i ? "," : "",
			cfg->methods[i]->name, cfg->methods[i]->what);
	fprintf(out, "],\"filesystems\":[");
	for (i = 0; i < cfg->ntargets; i++)
		fprintf(out, "%s{\"mount\":\"%s\",\"fstype\":\"%s\",\"dev\":\"%u:%u\"}",
			i ? "," : "", cfg->t[i].mnt, cfg->t[i].fstype, major(cfg->t[i].dev),
			minor(cfg->t[i].dev));
	bdi_knobs(cfg->t[0].dev, knobs, sizeof(knobs));
	fprintf(out, "],\"bdi_knobs\":\"%s\"}\n", knobs);
	fflush(out);
}

static void emit_cycle(const struct method *m, unsigned int n, unsigned int repeat,
		       const struct cycle *c, uint64_t longest, uint64_t writes, uint64_t hold_ns)
{
	uint64_t first = UINT64_MAX, last = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (c->frozen[i] < first)
			first = c->frozen[i];
		if (c->frozen[i] > last)
			last = c->frozen[i];
	}
	fprintf(out, "{\"type\":\"cycle\",\"nfs\":%u,\"method\":\"%s\",\"repeat\":%u,"
		"\"freeze_ms\":%.3f,\"blocked_ms\":%.3f,\"skew_ms\":%.3f,\"stall_ms\":%.3f,\"overhead_ms\":%.3f,"
		"\"thaw_ms\":%.3f,\"total_ms\":%.3f,\"writes\":%" PRIu64 ",\"frozen_ms\":[",
		n, m->name, repeat, ms(last - c->request), ms(last - c->blocking), ms(last - first), ms(longest),
		ms(longest) - ms(hold_ns), ms(c->thawed - c->thaw_start), ms(c->thawed - c->request),
		writes);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%.3f", i ? "," : "", ms(c->frozen[i] - c->request));
	fprintf(out, "]}\n");
	fflush(out);
}

static int emit_trace(const struct load *l, const uint64_t *marks, const struct method *m,
		      unsigned int n, const struct cycle *c)
{
	static uint64_t waits[(60000 * NSEC_PER_MSEC) / TRACE_STEP_NS + 1];
	uint64_t from = c->request - TRACE_PRE_NS, to = c->thawed + TRACE_POST_NS, i, npoints;
	int err;

	npoints = (to - from) / TRACE_STEP_NS + 1;
	if (npoints > sizeof(waits) / sizeof(waits[0]))
		return -E2BIG;
	err = load_wait_curve(l, marks, from, to, TRACE_STEP_NS, waits);
	if (err)
		return err;
	fprintf(out, "{\"type\":\"trace\",\"nfs\":%u,\"method\":\"%s\",\"step_ms\":%.1f,"
		"\"from_ms\":%.1f,\"wait_ms\":[", n, m->name, ms(TRACE_STEP_NS), -ms(TRACE_PRE_NS));
	for (i = 0; i < npoints; i++)
		fprintf(out, "%s%.2f", i ? "," : "", ms(waits[i]));
	fprintf(out, "]}\n");
	fflush(out);
	return 0;
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "xq-bench: %s: %s\n", what, strerror(-err));
	fprintf(out, "{\"type\":\"error\",\"message\":\"%s: %s\"}\n", what, strerror(-err));
	fflush(out);
	exit(1);
}

/* One quiesce by m while l loads the first n targets. */
static void run_cycle(const struct config *cfg, struct method_ctx *ctx, const struct load *l,
		      const struct method *m, unsigned int n, unsigned int repeat, bool trace)
{
	uint64_t hold_ns = cfg->bench.hold_ms * NSEC_PER_MSEC, marks[BENCH_MAX_FS], last = 0;
	uint64_t longest;
	struct cycle c = { 0 };
	char what[128];
	unsigned int i;
	int err;

	load_mark(l, marks);
	sleep_until_ns(now_ns() + cfg->gap_ms * NSEC_PER_MSEC);

	c.request = now_ns();
	err = m->freeze(ctx, &c);
	snprintf(what, sizeof(what), "%s freeze of %u filesystems", m->name, n);
	if (err)
		fail(what, err);
	for (i = 0; i < n; i++)
		if (c.frozen[i] > last)
			last = c.frozen[i];
	sleep_until_ns(last + hold_ns);
	c.thaw_start = now_ns();
	err = m->thaw(ctx);
	c.thawed = now_ns();
	snprintf(what, sizeof(what), "%s thaw of %u filesystems", m->name, n);
	if (err)
		fail(what, err);

	/* Let the writers' blocked writes finish and be logged. */
	sleep_until_ns(c.thawed + TRACE_POST_NS + 100 * NSEC_PER_MSEC);
	err = load_longest_write(l, marks, c.request, c.thawed, &longest);
	if (err)
		fail("reading the writers' logs", err);
	emit_cycle(m, n, repeat, &c, longest, load_writes_since(l, marks), hold_ns);
	if (trace) {
		err = emit_trace(l, marks, m, n, &c);
		if (err)
			fail("tracing the writers' waits", err);
	}
}

static void run_size(const struct config *cfg, unsigned int n)
{
	struct method_ctx ctx;
	struct load *l;
	unsigned int r, k;
	int err;

	err = method_ctx_init(&ctx, cfg->t, n, &cfg->bench);
	if (err)
		fail("opening /dev/" XQ_DEVICE_NAME " and starting the freeze threads", err);
	err = load_start(&l, cfg->t, n, &cfg->load);
	if (err)
		fail("starting the writers", err);
	sleep_until_ns(now_ns() + cfg->warmup_ms * NSEC_PER_MSEC);
	/* Rotating the order keeps a method from always following the same one. */
	for (r = 0; r < cfg->repeats; r++)
		for (k = 0; k < cfg->nmethods; k++)
			run_cycle(cfg, &ctx, l, cfg->methods[(r + k) % cfg->nmethods], n, r,
				  r == 0 && n == cfg->trace_size);
	err = load_stop(l);
	if (err)
		fail("a writer died during the run", err);
	method_ctx_fini(&ctx);
	sync();
}

int main(int argc, char **argv)
{
	struct config cfg;
	unsigned int i;

	out = stdout;
	parse_args(&cfg, argc, argv);
	emit_meta(&cfg);
	for (i = 0; i < cfg.nsizes; i++)
		run_size(&cfg, cfg.sizes[i]);
	fprintf(out, "{\"type\":\"done\"}\n");
	fclose(out);
	return 0;
}
