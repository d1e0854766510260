// SPDX-License-Identifier: GPL-2.0
/*
 * The protocol engine, driven through every path of quiesce-protocol.md.
 * Each test checks the exact xenstore writes and removals, in order, and
 * the step the engine asks for: that order is what XAPI and snapwatchd see.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmocka-compat.h"
#include "protocol.h"

#define VM	"3f1c2b9a-0d4e-4c8f-9a71-5b2e6d0c1a77"
#define VSS	"/vss/" VM
#define VDI_A	"aaaaaaaa-1111-4222-8333-444444444444"
#define VDI_B	"bbbbbbbb-1111-4222-8333-444444444444"
#define SNAPVM	"5e5e5e5e-2222-4333-8444-555555555555"
#define BACK	"/local/domain/0/backend/vbd/7/"
#define SNAP	"control/snapshot/"

struct t {
	struct proto p;
	struct proto_out out;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	proto_init(&t->p, 10000);
	proto_out_init(&t->out);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	proto_free(&t->p);
	proto_out_free(&t->out);
	free(t);
	return 0;
}

/* "write PATH=VALUE" or "rm PATH", one per op, in order. */
static void check_ops(struct proto_out *out, const char *const *want)
{
	size_t n = 0;

	assert_int_equal(out->err, 0);
	for (; want[n]; n++) {
		char *got;

		if (n >= out->nops)
			fail_msg("op %zu missing, expected %s", n, want[n]);
		if (out->ops[n].kind == XS_OP_WRITE)
			assert_true(asprintf(&got, "write %s=%s", out->ops[n].path,
					     out->ops[n].value) > 0);
		else
			assert_true(asprintf(&got, "%s %s", out->ops[n].kind == XS_OP_RM ?
					     "rm" : "mkdir", out->ops[n].path) > 0);
		if (strcmp(got, want[n])) {
			print_error("op %zu: got  %s\n       want %s\n", n, got, want[n]);
			free(got);
			fail();
		}
		free(got);
	}
	if (out->nops != n)
		fail_msg("%zu ops, expected %zu; op %zu is %s", out->nops, n, n,
			 out->ops[n].path);
}

#define OPS(out, ...) check_ops(out, (const char *const[]){ __VA_ARGS__, NULL })
#define NO_OPS(out) check_ops(out, (const char *const[]){ NULL })

static const struct proto_vbd two_disks[] = {
	/* out of order on purpose: 51728 (xvdb) after 51712 (xvda) */
	{ "51728", "disk", BACK "51728", VDI_B, "xvdb" },
	{ "5632", "cdrom", BACK "5632", NULL, "xvdd" },
	{ "51712", "disk", BACK "51712", VDI_A, "xvda" },
};

static const struct proto_guest guest = {
	.vm = "/vm/" VM, .vss = VSS, .vbds = two_disks, .nvbds = 3,
};

static const struct proto_item freeze_hooks[] = {
	{ "10-postgresql", "ok" }, { "20-my.sql", "ok" },
};
static const struct proto_item thaw_hooks[] = {
	{ "20-my.sql", "ok" }, { "10-postgresql", "exit 3" },
};
static const struct proto_item mounts[] = { { .name = "/" }, { .name = "/var/lib/postgresql" } };

static const struct proto_freeze_result kernel_freeze = {
	.consistency = PROTO_KERNEL_FREEZE, .filesystems = mounts, .nfilesystems = 2,
	.drain_ms = 101, .freeze_ms = 37,
};

static void reset(struct t *t)
{
	proto_out_reset(&t->out);
}

/* The mailbox keys of one exchange, removed before and after it. */
#define MAILBOX_OPS \
	"rm " VSS "/snapshot", "rm " VSS "/snapuuid", "rm " VSS "/snapinfo", "rm " VSS "/snaptype"

#define ACK_OPS \
	"rm " SNAP "status", "rm " SNAP "snapid", "rm " SNAP "snapuuid", "rm " SNAP "error", \
	"rm " SNAP "consistency", "rm " SNAP "freeze-window-ms", "rm " SNAP "drain-ms", \
	"rm " SNAP "freeze-ms", "rm " SNAP "filesystems", "rm " SNAP "hooks", "rm " SNAP "action"

#define HELLO_OPS \
	"write " VSS "/status=provider-initialized", MAILBOX_OPS

#define CLEANUP_OPS MAILBOX_OPS, "rm " VSS "/status"

static void request(struct t *t)
{
	reset(t);
	proto_action_changed(&t->p, "create-snapshot", &t->out);
	OPS(&t->out, ACK_OPS);
	assert_int_equal(t->out.step, PROTO_STEP_READ_GUEST);
	assert_true(proto_busy(&t->p));
}

/* A request, then what the guest's keys say. */
static void read_guest(struct t *t, const struct proto_guest *g)
{
	request(t);
	reset(t);
	proto_guest_read(&t->p, g, &t->out);
}

/* From the request to "create-snapshots", frozen by the kernel. */
static void to_waiting(struct t *t)
{
	size_t n;
	const struct proto_disk *d;

	read_guest(t, &guest);
	OPS(&t->out, HELLO_OPS, "write " VSS "/snapshot/" VDI_A "=",
	    "write " VSS "/snapshot/" VDI_B "=");
	assert_int_equal(t->out.step, PROTO_STEP_FREEZE_HOOKS);
	d = proto_disks(&t->p, &n);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].devid, "51712");
	assert_string_equal(d[0].dev, "xvda");
	assert_string_equal(d[1].vdi, VDI_B);

	reset(t);
	proto_freeze_hooks_done(&t->p, true, freeze_hooks, 2, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_FREEZE);

	reset(t);
	proto_frozen(&t->p, &kernel_freeze, &t->out);
	OPS(&t->out, "write " VSS "/dom0-timeout-ms=10000", "write " VSS "/status=create-snapshots");
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
	assert_int_equal(t->out.timer, PROTO_TIMER_ARM);
	assert_int_equal(t->out.timer_ms, 10000);
}

static void thaw(struct t *t, int err, enum proto_step next)
{
	struct proto_thaw_result r = { .err = err, .window_ms = 42 };

	reset(t);
	proto_thawed(&t->p, &r, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, next);
}

/* dom0 answers while frozen: the engine asks for the thaw before anything. */
static void answer(struct t *t, const char *status, const char *snapuuid)
{
	reset(t);
	proto_vss_changed(&t->p, status, snapuuid, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_THAW);
	assert_int_equal(t->out.timer, PROTO_TIMER_DISARM);
}

/* The thaw or freeze-fail hooks are done: out holds the report. */
static void finish(struct t *t, const struct proto_item *hooks, size_t n)
{
	reset(t);
	proto_finish_hooks_done(&t->p, true, hooks, n, &t->out);
}

static struct proto_summary sum;

static void check_summary(struct t *t, bool ok, const char *error, const char *consistency,
			  const char *snapuuid)
{
	proto_summary(&t->p, &sum);
	assert_int_equal(sum.ok, ok);
	if (error)
		assert_string_equal(sum.error, error);
	else
		assert_null(sum.error);
	if (consistency)
		assert_string_equal(sum.consistency, consistency);
	else
		assert_null(sum.consistency);
	if (snapuuid)
		assert_string_equal(sum.snapuuid, snapuuid);
	else
		assert_null(sum.snapuuid);
	if (consistency && strcmp(consistency, "crash-consistent"))
		assert_int_equal(sum.drain_ms, 101);
	if (consistency)
		assert_int_equal(sum.window_ms, 42);
}

static void test_start_advertises(void **state)
{
	struct t *t = *state;

	proto_start(&t->p, &t->out);
	OPS(&t->out, "write control/feature-quiesce=1", "mkdir data/updated");
	assert_false(proto_busy(&t->p));
}

static void test_feature_readvertised_when_gone(void **state)
{
	struct t *t = *state;

	proto_feature_changed(&t->p, "1", &t->out);
	NO_OPS(&t->out);
	/* after a resume into a new domain the key is gone */
	proto_feature_changed(&t->p, NULL, &t->out);
	OPS(&t->out, "write control/feature-quiesce=1", "mkdir data/updated");
	reset(t);
	proto_feature_changed(&t->p, "0", &t->out);
	OPS(&t->out, "write control/feature-quiesce=1", "mkdir data/updated");
}

static void test_happy_path(void **state)
{
	struct t *t = *state;
	bool ok;

	to_waiting(t);
	answer(t, "snapshots-created", SNAPVM);
	thaw(t, 0, PROTO_STEP_THAW_HOOKS);

	reset(t);
	proto_finish_hooks_done(&t->p, false, thaw_hooks, 2, &t->out);
	OPS(&t->out,
	    "write " SNAP "snapid/0=xquiesce:1;vm=" VM ";snapshot=" SNAPVM
	    ";consistency=kernel-freeze;vdis=" VDI_A "," VDI_B,
	    "write " SNAP "snapuuid=" SNAPVM,
	    "write " SNAP "consistency=kernel-freeze",
	    "write " SNAP "freeze-window-ms=42",
	    "write " SNAP "drain-ms=101",
	    "write " SNAP "freeze-ms=37",
	    "write " SNAP "filesystems/0=/",
	    "write " SNAP "filesystems/1=/var/lib/postgresql",
	    "write " SNAP "hooks/10-postgresql=freeze ok, thaw exit 3",
	    "write " SNAP "hooks/20-my_sql=freeze ok, thaw ok",
	    CLEANUP_OPS,
	    "write " SNAP "status=snapshot-created");
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
	assert_false(proto_busy(&t->p));
	assert_string_equal(proto_last_result(&t->p, &ok),
			    "snapshot-created " SNAPVM ": kernel-freeze, frozen 42 ms, 2 filesystems");
	assert_true(ok);
	check_summary(t, true, NULL, "kernel-freeze", SNAPVM);
	assert_int_equal(sum.nfilesystems, 2);
	assert_string_equal(sum.filesystems[1], "/var/lib/postgresql");
	assert_int_equal(sum.nhooks, 2);
	assert_string_equal(sum.hook_names[1], "20-my_sql");
	assert_string_equal(sum.hook_results[0], "freeze ok, thaw exit 3");
}

#define ERROR_TAIL \
	"write " SNAP "consistency=kernel-freeze", "write " SNAP "freeze-window-ms=42", \
	"write " SNAP "drain-ms=101", "write " SNAP "freeze-ms=37", "write " SNAP "filesystems/0=/", \
	"write " SNAP "filesystems/1=/var/lib/postgresql"

/* The report of a request that failed after the kernel froze, hooks ran. */
#define FROZEN_ERROR_OPS(code, message) \
	"write " SNAP "error=XEN_VSS_REQ_ERROR_CREATING_SNAPSHOT", \
	"write " SNAP "error/code=" code, "write " SNAP "error/message=" message, ERROR_TAIL, \
	"write " SNAP "hooks/10-postgresql=freeze ok", "write " SNAP "hooks/20-my_sql=freeze ok", \
	CLEANUP_OPS, "write " SNAP "status=snapshot-error"

/* The report of a request that failed before anything was set up. */
#define INIT_FAILED_OPS(code, message) \
	"write " SNAP "error=XEN_VSS_REQ_ERROR_INIT_FAILED", "write " SNAP "error/code=" code, \
	"write " SNAP "error/message=" message, "write " SNAP "status=snapshot-error"

static void test_snapshots_failed(void **state)
{
	struct t *t = *state;
	static const struct proto_item fail_hooks[] = { { "10-postgresql", "ok" } };
	bool ok;

	to_waiting(t);
	answer(t, "snapshots-failed", NULL);
	thaw(t, 0, PROTO_STEP_FAIL_HOOKS);
	finish(t, fail_hooks, 1);
	OPS(&t->out,
	    "write " SNAP "error=XEN_VSS_REQ_ERROR_CREATING_SNAPSHOT",
	    "write " SNAP "error/code=5",
	    "write " SNAP "error/message=dom0 reported snapshots-failed",
	    ERROR_TAIL,
	    "write " SNAP "hooks/10-postgresql=freeze ok, freeze-fail ok",
	    "write " SNAP "hooks/20-my_sql=freeze ok",
	    CLEANUP_OPS,
	    "write " SNAP "status=snapshot-error");
	assert_false(proto_busy(&t->p));
	proto_last_result(&t->p, &ok);
	assert_false(ok);
	check_summary(t, false, "dom0 reported snapshots-failed", "kernel-freeze", NULL);

	/* the next request starts from nothing */
	request(t);
	check_summary(t, false, NULL, NULL, NULL);
	assert_int_equal(sum.nhooks, 0);
	assert_int_equal(sum.nfilesystems, 0);
}

static void test_dom0_silent_past_deadline(void **state)
{
	struct t *t = *state;

	to_waiting(t);
	reset(t);
	proto_deadline(&t->p, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_THAW);
	assert_int_equal(t->out.timer, PROTO_TIMER_DISARM);
	thaw(t, 0, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	OPS(&t->out, FROZEN_ERROR_OPS("110",
				      "no answer from dom0 in " VSS "/status within 10000 ms"));

	/* a late answer after the report changes nothing */
	reset(t);
	proto_vss_changed(&t->p, "snapshots-created", SNAPVM, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
}

static void test_watchdog_thawed_before_answer(void **state)
{
	struct t *t = *state;

	to_waiting(t);
	answer(t, "snapshots-created", SNAPVM);
	thaw(t, -ETIMEDOUT, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	OPS(&t->out, FROZEN_ERROR_OPS("110", "the freeze deadline passed before dom0 answered; "
				      "the snapshot may be inconsistent"));
}

static void test_spurious_and_duplicate_events(void **state)
{
	struct t *t = *state;

	/* events at watch registration, before any request */
	proto_action_changed(&t->p, NULL, &t->out);
	proto_vss_changed(&t->p, NULL, NULL, &t->out);
	proto_vss_changed(&t->p, "snapshots-created", SNAPVM, &t->out);
	proto_deadline(&t->p, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
	assert_false(proto_busy(&t->p));

	to_waiting(t);
	reset(t);
	/* our own writes and the removal of action fire the watches */
	proto_action_changed(&t->p, NULL, &t->out);
	proto_vss_changed(&t->p, "provider-initialized", NULL, &t->out);
	proto_vss_changed(&t->p, "create-snapshots", NULL, &t->out);
	proto_vss_changed(&t->p, "create-snapshots", NULL, &t->out);
	proto_vss_changed(&t->p, NULL, NULL, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
	assert_int_equal(t->out.timer, PROTO_TIMER_KEEP);

	proto_vss_changed(&t->p, "snapshots-created", SNAPVM, &t->out);
	assert_int_equal(t->out.step, PROTO_STEP_THAW);
	/* the same event again while thawing: one thaw only */
	reset(t);
	proto_vss_changed(&t->p, "snapshots-created", SNAPVM, &t->out);
	proto_deadline(&t->p, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
	thaw(t, 0, PROTO_STEP_THAW_HOOKS);
}

static void test_unknown_or_empty_action(void **state)
{
	struct t *t = *state;
	static const char *const values[] = {
		"", "create-snapshotinfo", "CREATE-SNAPSHOT", "create-snapshot ", "delete",
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		proto_action_changed(&t->p, values[i], &t->out);
		NO_OPS(&t->out);
		assert_int_equal(t->out.step, PROTO_STEP_NONE);
		assert_false(proto_busy(&t->p));
	}
	/* steps out of order are ignored */
	proto_guest_read(&t->p, &guest, &t->out);
	proto_freeze_hooks_done(&t->p, true, NULL, 0, &t->out);
	proto_frozen(&t->p, &kernel_freeze, &t->out);
	NO_OPS(&t->out);
}

/* A request that fails while reading the guest: report, nothing to undo. */
static void fail_reading(struct t *t, const struct proto_vbd *vbds, size_t n,
			 const char *const *want)
{
	struct proto_guest g = guest;

	g.vbds = vbds;
	g.nvbds = n;
	read_guest(t, &g);
	check_ops(&t->out, want);
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
	assert_false(proto_busy(&t->p));
}

#define FAIL_READING(t, vbds, ...) \
	fail_reading(t, vbds, sizeof(vbds) / sizeof(vbds[0]), \
		     (const char *const[]){ HELLO_OPS, __VA_ARGS__, CLEANUP_OPS, \
					    "write " SNAP "status=snapshot-error", NULL })

#define ADD_VOLUME "write " SNAP "error=XEN_VSS_REQ_ERROR_ADDING_VOLUME_TO_SNAPSET_FAILED"

static void test_missing_backend_keys(void **state)
{
	struct t *t = *state;
	static const struct proto_vbd no_backend[] = {
		{ "51712", "disk", BACK "51712", VDI_A, "xvda" },
		{ "51728", "disk", NULL, NULL, NULL },
	};
	static const struct proto_vbd no_type[] = {
		{ "51712", "disk", BACK "51712", VDI_A, "xvda" },
		{ "51728", NULL, BACK "51728", VDI_B, "xvdb" },
	};

	FAIL_READING(t, no_backend, ADD_VOLUME, "write " SNAP "error/code=2",
		     "write " SNAP "error/message=device/vbd/51728/backend is missing, "
		     "expected an absolute xenstore path");
	FAIL_READING(t, no_type, ADD_VOLUME, "write " SNAP "error/code=2",
		     "write " SNAP "error/message=device/vbd/51728/device-type is missing, "
		     "expected disk, cdrom or floppy");
}

static void test_malformed_backend_keys(void **state)
{
	struct t *t = *state;
	static const struct proto_vbd relative[] = {
		{ "51712", "disk", "backend/vbd/7/51712", VDI_A, "xvda" },
	};
	static const struct proto_vbd bad_uuid[] = {
		{ "51712", "disk", BACK "51712", "aaaaaaaa-1111-4222-8333-44444444444g", "xvda" },
	};
	static const struct proto_vbd bad_devid[] = {
		{ "xvda", "disk", BACK "51712", VDI_A, "xvda" },
	};

	FAIL_READING(t, relative, ADD_VOLUME, "write " SNAP "error/code=22",
		     "write " SNAP "error/message=device/vbd/51712/backend is "
		     "\"backend/vbd/7/51712\", expected an absolute xenstore path");
	FAIL_READING(t, bad_uuid, ADD_VOLUME, "write " SNAP "error/code=22",
		     "write " SNAP "error/message=" BACK "51712/sm-data/vdi-uuid is "
		     "\"aaaaaaaa-1111-4222-8333-44444444444g\", expected a uuid");
	FAIL_READING(t, bad_devid, ADD_VOLUME, "write " SNAP "error/code=22",
		     "write " SNAP "error/message=device/vbd/xvda: the device id is not a number");
}

static void test_vbd_without_vdi(void **state)
{
	struct t *t = *state;
	static const struct proto_vbd no_vdi[] = {
		{ "51712", "disk", BACK "51712", VDI_A, "xvda" },
		{ "51728", "disk", BACK "51728", NULL, "xvdb" },
	};

	/* XAPI fails a request that lists fewer disks than the VM has */
	FAIL_READING(t, no_vdi, ADD_VOLUME, "write " SNAP "error/code=2",
		     "write " SNAP "error/message=disk 51728 has no VDI: " BACK
		     "51728/sm-data/vdi-uuid is missing");
}

static void test_oversized_values(void **state)
{
	struct t *t = *state;
	char *huge = malloc(PROTO_VALUE_MAX + 1);
	char *msg;
	struct proto_vbd vbd[] = { { "51712", "disk", BACK "51712", huge, "xvda" } };

	assert_non_null(huge);
	memset(huge, 'a', PROTO_VALUE_MAX);
	huge[PROTO_VALUE_MAX] = '\0';
	assert_true(asprintf(&msg, "write " SNAP "error/message=" BACK
			     "51712/sm-data/vdi-uuid is \"%.48s...\" (4096 bytes), expected a uuid",
			     huge) > 0);
	FAIL_READING(t, vbd, ADD_VOLUME, "write " SNAP "error/code=22", msg);
	free(msg);

	/* a huge device name */
	vbd[0].vdi_uuid = VDI_A;
	vbd[0].dev = huge;
	assert_true(asprintf(&msg, "write " SNAP "error/message=" BACK
			     "51712/dev is \"%.48s...\" (4096 bytes), expected a device name "
			     "such as xvda", huge) > 0);
	FAIL_READING(t, vbd, ADD_VOLUME, "write " SNAP "error/code=22", msg);
	free(msg);
	free(huge);
}

static void test_oversized_snapuuid(void **state)
{
	struct t *t = *state;
	char huge[PROTO_VALUE_MAX + 1], *msg;

	memset(huge, '5', PROTO_VALUE_MAX);
	huge[PROTO_VALUE_MAX] = '\0';
	to_waiting(t);
	answer(t, "snapshots-created", huge);
	thaw(t, 0, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	assert_true(asprintf(&msg, "write " SNAP "error/message=dom0 reported snapshots-created "
			     "with " VSS "/snapuuid \"%.48s...\" (4096 bytes), expected a uuid",
			     huge) > 0);
	{
		const char *want[] = {
			"write " SNAP "error=XEN_VSS_REQ_ERROR_CREATING_SNAPSHOT",
			"write " SNAP "error/code=71", msg, ERROR_TAIL,
			"write " SNAP "hooks/10-postgresql=freeze ok",
			"write " SNAP "hooks/20-my_sql=freeze ok",
			CLEANUP_OPS, "write " SNAP "status=snapshot-error", NULL,
		};

		check_ops(&t->out, want);
	}
	free(msg);
}

static void test_vm_identity(void **state)
{
	struct t *t = *state;
	struct proto_guest g = guest;

	/* no vss key: the mailbox is named after the vm key */
	g.vss = NULL;
	read_guest(t, &g);
	assert_string_equal(t->out.ops[0].path, VSS "/status");
	assert_string_equal(proto_vss_path(&t->p), VSS);
	assert_int_equal(t->out.step, PROTO_STEP_FREEZE_HOOKS);
	proto_free(&t->p);
	proto_init(&t->p, 10000);

	/* neither: there is no mailbox to clean, only the error to report */
	g.vm = NULL;
	read_guest(t, &g);
	OPS(&t->out, INIT_FAILED_OPS("2", "neither the vss nor the vm key exists, "
					 "so the VSS mailbox is unknown"));

	g.vss = "/vss/not-a-uuid";
	read_guest(t, &g);
	OPS(&t->out, INIT_FAILED_OPS("22", "the vss key is \"/vss/not-a-uuid\", "
					  "expected /vss/<vm-uuid>"));
}

static void test_no_disk(void **state)
{
	struct t *t = *state;
	static const struct proto_vbd cd_only[] = {
		{ "5632", "cdrom", BACK "5632", NULL, "xvdd" },
	};
	struct proto_guest g = guest;

	FAIL_READING(t, cd_only, "write " SNAP "error=XEN_VSS_REQ_ERROR_NO_VOLUMES_SUPPORTED",
		     "write " SNAP "error/code=19",
		     "write " SNAP "error/message=the guest has no disk VBD");

	/* a read that failed is the cause, whatever else is missing */
	g.read_err = -EACCES;
	g.read_err_path = "device/vbd";
	g.vss = NULL;
	read_guest(t, &g);
	OPS(&t->out, INIT_FAILED_OPS("13", "cannot read device/vbd: Permission denied"));
}

static void test_same_vdi_twice_listed_once(void **state)
{
	struct t *t = *state;
	static const struct proto_vbd twice[] = {
		{ "51712", "disk", BACK "51712", VDI_A, "xvda" },
		{ "268449024", "disk", BACK "268449024", VDI_B, NULL },
		{ "51728", "disk", BACK "51728", VDI_A, "xvdb" },
	};
	struct proto_guest g = guest;
	const struct proto_disk *d;
	size_t n;

	g.vbds = twice;
	g.nvbds = 3;
	read_guest(t, &g);
	/* numeric order of device ids, each VDI once */
	OPS(&t->out, HELLO_OPS, "write " VSS "/snapshot/" VDI_A "=",
	    "write " VSS "/snapshot/" VDI_B "=");
	d = proto_disks(&t->p, &n);
	assert_int_equal(n, 2);
	assert_string_equal(d[1].devid, "268449024");
	assert_string_equal(d[1].dev, "");
}

static void test_second_request_while_running(void **state)
{
	struct t *t = *state;

	to_waiting(t);
	reset(t);
	/* left unacknowledged: its requester must not read our status */
	proto_action_changed(&t->p, "create-snapshot", &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_NONE);

	proto_vss_changed(&t->p, "snapshots-created", SNAPVM, &t->out);
	thaw(t, 0, PROTO_STEP_THAW_HOOKS);
	finish(t, NULL, 0);
	assert_string_equal(t->out.ops[t->out.nops - 1].path, SNAP "status");
	assert_string_equal(t->out.ops[t->out.nops - 1].value, "snapshot-created");
	assert_int_equal(t->out.step, PROTO_STEP_RECHECK_ACTION);

	/* the next one starts by removing the first one's result */
	request(t);

	/* and a recheck that finds nothing leaves the engine idle */
	proto_free(&t->p);
	proto_init(&t->p, 10000);
	to_waiting(t);
	proto_action_changed(&t->p, "create-snapshot", &t->out);
	proto_deadline(&t->p, &t->out);
	thaw(t, 0, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	assert_int_equal(t->out.step, PROTO_STEP_RECHECK_ACTION);
	reset(t);
	proto_action_changed(&t->p, NULL, &t->out);
	NO_OPS(&t->out);
	assert_false(proto_busy(&t->p));
}

static void test_freeze_hook_fails(void **state)
{
	struct t *t = *state;
	static const struct proto_item hooks[] = {
		{ "10-postgresql", "ok" }, { "20-mysql", "timeout" },
	};
	static const struct proto_item fail_hooks[] = {
		{ "20-mysql", "ok" }, { "10-postgresql", "ok" },
	};

	read_guest(t, &guest);
	reset(t);
	proto_freeze_hooks_done(&t->p, false, hooks, 2, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_FAIL_HOOKS);
	finish(t, fail_hooks, 2);
	/* never frozen: no consistency, no window, no filesystems */
	OPS(&t->out, "write " SNAP "error=XEN_VSS_REQ_ERROR_PREPARING_WRITERS",
	    "write " SNAP "error/code=125", "write " SNAP "error/message=a freeze hook failed",
	    "write " SNAP "hooks/10-postgresql=freeze ok, freeze-fail ok",
	    "write " SNAP "hooks/20-mysql=freeze timeout, freeze-fail ok",
	    CLEANUP_OPS, "write " SNAP "status=snapshot-error");
}

static void test_freeze_fails(void **state)
{
	struct t *t = *state;
	struct proto_freeze_result r = { .err = -EBUSY, .err_text = "dm-0 (xfs): busy" };

	read_guest(t, &guest);
	proto_freeze_hooks_done(&t->p, true, NULL, 0, &t->out);
	reset(t);
	proto_frozen(&t->p, &r, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	OPS(&t->out, "write " SNAP "error=XEN_VSS_REQ_ERROR_PREPARING_WRITERS",
	    "write " SNAP "error/code=16", "write " SNAP "error/message=freeze failed: dm-0 (xfs): busy",
	    CLEANUP_OPS, "write " SNAP "status=snapshot-error");
}

static void test_crash_consistent(void **state)
{
	struct t *t = *state;
	struct proto_freeze_result r = { .consistency = PROTO_CRASH_CONSISTENT };

	read_guest(t, &guest);
	proto_freeze_hooks_done(&t->p, true, NULL, 0, &t->out);
	reset(t);
	proto_frozen(&t->p, &r, &t->out);
	OPS(&t->out, "write " VSS "/dom0-timeout-ms=10000", "write " VSS "/status=create-snapshots");
	reset(t);
	/* nothing to thaw */
	proto_vss_changed(&t->p, "snapshots-created", SNAPVM, &t->out);
	assert_int_equal(t->out.step, PROTO_STEP_THAW_HOOKS);
	finish(t, NULL, 0);
	OPS(&t->out,
	    "write " SNAP "snapid/0=xquiesce:1;vm=" VM ";snapshot=" SNAPVM
	    ";consistency=crash-consistent;vdis=" VDI_A "," VDI_B,
	    "write " SNAP "snapuuid=" SNAPVM, "write " SNAP "consistency=crash-consistent",
	    "write " SNAP "freeze-window-ms=0", "write " SNAP "drain-ms=0",
	    "write " SNAP "freeze-ms=0", CLEANUP_OPS,
	    "write " SNAP "status=snapshot-created");
}

static void test_snapshots_created_without_snapuuid(void **state)
{
	struct t *t = *state;

	to_waiting(t);
	answer(t, "snapshots-created", NULL);
	thaw(t, 0, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	OPS(&t->out, FROZEN_ERROR_OPS("71", "dom0 reported snapshots-created with " VSS
				      "/snapuuid missing, expected a uuid"));
}

static void test_snapid_chunks(void **state)
{
	struct t *t = *state;
	struct proto_vbd vbds[40];
	char devids[40][16], backs[40][64], vdis[40][40], *want, *got = NULL;
	struct proto_guest g = guest;
	size_t nchunks = 0;

	for (int i = 0; i < 40; i++) {
		snprintf(devids[i], sizeof(devids[i]), "%d", 51712 + 16 * i);
		snprintf(backs[i], sizeof(backs[i]), BACK "%d", 51712 + 16 * i);
		snprintf(vdis[i], sizeof(vdis[i]), "%08d-1111-4222-8333-444444444444", i);
		vbds[i] = (struct proto_vbd){ devids[i], "disk", backs[i], vdis[i], NULL };
	}
	g.vbds = vbds;
	g.nvbds = 40;
	read_guest(t, &g);
	assert_int_equal(t->out.nops, 5 + 40);	/* status, the 4 leftovers, the disks */
	proto_freeze_hooks_done(&t->p, true, NULL, 0, &t->out);
	proto_frozen(&t->p, &kernel_freeze, &t->out);
	proto_vss_changed(&t->p, "snapshots-created", SNAPVM, &t->out);
	thaw(t, 0, PROTO_STEP_THAW_HOOKS);
	finish(t, NULL, 0);

	assert_true(asprintf(&want, "xquiesce:1;vm=%s;snapshot=%s;consistency=kernel-freeze;vdis=",
			     VM, SNAPVM) > 0);
	for (int i = 0; i < 40; i++) {
		char *next;

		assert_true(asprintf(&next, "%s%s%s", want, i ? "," : "", vdis[i]) > 0);
		free(want);
		want = next;
	}
	/* XAPI concatenates snapid/0, snapid/1, ... in numeric order */
	for (size_t i = 0; i < t->out.nops; i++) {
		char path[64], *next;

		snprintf(path, sizeof(path), SNAP "snapid/%zu", nchunks);
		if (strcmp(t->out.ops[i].path, path))
			continue;
		assert_true(strlen(t->out.ops[i].value) <= PROTO_SNAPID_CHUNK);
		assert_true(asprintf(&next, "%s%s", got ? got : "", t->out.ops[i].value) > 0);
		free(got);
		got = next;
		nchunks++;
	}
	assert_int_equal(nchunks, (strlen(want) + PROTO_SNAPID_CHUNK - 1) / PROTO_SNAPID_CHUNK);
	assert_true(nchunks >= 2);
	assert_string_equal(got, want);
	assert_int_equal(strlen(t->out.ops[0].value), PROTO_SNAPID_CHUNK);
	free(want);
	free(got);
}

static void test_long_mount_point_cut(void **state)
{
	struct t *t = *state;
	char path[2 * PROTO_ITEM_MAX];
	const struct proto_item fs[] = { { .name = path } };
	const struct proto_freeze_result r = {
		.consistency = PROTO_PER_MOUNT, .filesystems = fs, .nfilesystems = 1,
	};

	memset(path, 'm', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	read_guest(t, &guest);
	proto_freeze_hooks_done(&t->p, true, NULL, 0, &t->out);
	proto_frozen(&t->p, &r, &t->out);
	answer(t, "snapshots-created", SNAPVM);
	thaw(t, 0, PROTO_STEP_THAW_HOOKS);
	finish(t, NULL, 0);
	/* path and value must fit in one 4096-byte xenstore message */
	assert_string_equal(t->out.ops[6].path, SNAP "filesystems/0");
	assert_int_equal(strlen(t->out.ops[6].value), PROTO_ITEM_MAX);
	assert_memory_equal(t->out.ops[6].value, path, PROTO_ITEM_MAX);
}

static void test_shutdown_while_frozen(void **state)
{
	struct t *t = *state;

	proto_shutdown(&t->p, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
	to_waiting(t);
	reset(t);
	proto_shutdown(&t->p, &t->out);
	assert_int_equal(t->out.step, PROTO_STEP_THAW);
	assert_int_equal(t->out.timer, PROTO_TIMER_DISARM);
	thaw(t, 0, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	OPS(&t->out, FROZEN_ERROR_OPS("125", "the agent was stopped while frozen"));
}

static void test_write_failure(void **state)
{
	struct t *t = *state;

	/* no /vss tree on this host: the guest may not create one */
	read_guest(t, &guest);
	reset(t);
	proto_write_failed(&t->p, VSS "/status", -EACCES, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	OPS(&t->out, "write " SNAP "error=XEN_VSS_REQ_ERROR_INIT_FAILED",
	    "write " SNAP "error/code=13",
	    "write " SNAP "error/message=cannot write " VSS "/status: Permission denied",
	    CLEANUP_OPS, "write " SNAP "status=snapshot-error");

	/* while frozen: thaw first */
	to_waiting(t);
	reset(t);
	proto_write_failed(&t->p, VSS "/status", -EIO, &t->out);
	assert_int_equal(t->out.step, PROTO_STEP_THAW);
	thaw(t, 0, PROTO_STEP_FAIL_HOOKS);
}

/*
 * At the domain's entry quota xenstore refuses new keys: after the report,
 * a refused status or key XAPI reads withdraws the request (control/
 * snapshot removed, once), since dom0 would otherwise wait for its timeout.
 */
static void test_result_refused_at_quota(void **state)
{
	struct t *t = *state;
	bool ok;

	/* nothing frozen yet: provider-initialized refused, then the whole report */
	read_guest(t, &guest);
	reset(t);
	proto_write_failed(&t->p, VSS "/status", -ENOSPC, &t->out);
	assert_int_equal(t->out.step, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	assert_false(proto_busy(&t->p));
	/* error refused: no status without it, the request goes in its place */
	proto_write_failed(&t->p, SNAP "error", -ENOSPC, &t->out);
	proto_write_failed(&t->p, SNAP "error/code", -ENOSPC, &t->out);
	OPS(&t->out, "write " SNAP "error=XEN_VSS_REQ_ERROR_INIT_FAILED",
	    "write " SNAP "error/code=28",
	    "write " SNAP "error/message=cannot write " VSS "/status: No space left on device",
	    CLEANUP_OPS, "rm control/snapshot");
	assert_string_equal(proto_last_result(&t->p, &ok),
			    "snapshot-error " PROTO_ERR_INIT ": cannot write " VSS "/status: No space"
			    " left on device; request withdrawn (control/snapshot removed): xenstore"
			    " refused to write " SNAP "error (No space left on device), the domain may"
			    " be at its xenstore quota");
	assert_false(ok);

	/* frozen when refused (oxenstored's EQUOTA reads as EINVAL): thaw first */
	to_waiting(t);
	reset(t);
	proto_write_failed(&t->p, VSS "/dom0-timeout-ms", -EINVAL, &t->out);
	assert_int_equal(t->out.step, PROTO_STEP_THAW);
	assert_int_equal(t->out.timer, PROTO_TIMER_DISARM);
	thaw(t, 0, PROTO_STEP_FAIL_HOOKS);
	finish(t, NULL, 0);
	/* status itself refused: the request goes after it, once */
	proto_write_failed(&t->p, SNAP "status", -EINVAL, &t->out);
	proto_write_failed(&t->p, SNAP "status", -EINVAL, &t->out);
	OPS(&t->out, FROZEN_ERROR_OPS("22", "cannot write " VSS "/dom0-timeout-ms: Invalid argument"),
	    "rm control/snapshot");

	/* a refused key of the agent's own is not worth withdrawing a result */
	to_waiting(t);
	answer(t, "snapshots-created", SNAPVM);
	thaw(t, 0, PROTO_STEP_THAW_HOOKS);
	finish(t, NULL, 0);
	proto_write_failed(&t->p, SNAP "consistency", -ENOSPC, &t->out);
	proto_write_failed(&t->p, SNAP "filesystems/1", -ENOSPC, &t->out);
	assert_string_equal(t->out.ops[t->out.nops - 1].path, SNAP "status");
	proto_last_result(&t->p, &ok);
	assert_true(ok);
	check_summary(t, true, NULL, "kernel-freeze", SNAPVM);

	/* but a success without its snapid is no success */
	to_waiting(t);
	answer(t, "snapshots-created", SNAPVM);
	thaw(t, 0, PROTO_STEP_THAW_HOOKS);
	finish(t, NULL, 0);
	proto_write_failed(&t->p, SNAP "snapid/0", -ENOSPC, &t->out);
	OPS(&t->out, "write " SNAP "snapid/0=xquiesce:1;vm=" VM ";snapshot=" SNAPVM
	    ";consistency=kernel-freeze;vdis=" VDI_A "," VDI_B,
	    "write " SNAP "snapuuid=" SNAPVM, ERROR_TAIL,
	    "write " SNAP "hooks/10-postgresql=freeze ok", "write " SNAP "hooks/20-my_sql=freeze ok",
	    CLEANUP_OPS, "rm control/snapshot");
	check_summary(t, false, "xenstore refused to write " SNAP "snapid/0: No space left on device",
		      "kernel-freeze", NULL);

	/* and the next request is served as usual */
	to_waiting(t);
	answer(t, "snapshots-created", SNAPVM);
	thaw(t, 0, PROTO_STEP_THAW_HOOKS);
	finish(t, NULL, 0);
	assert_string_equal(t->out.ops[t->out.nops - 1].path, SNAP "status");
	assert_string_equal(t->out.ops[t->out.nops - 1].value, "snapshot-created");
	check_summary(t, true, NULL, "kernel-freeze", SNAPVM);
}

/* A refusal outside a request (the advertisement, control/ withheld) withdraws nothing. */
static void test_advertisement_refused_outside_request(void **state)
{
	struct t *t = *state;

	proto_start(&t->p, &t->out);
	reset(t);
	proto_write_failed(&t->p, "control/feature-quiesce", -EACCES, &t->out);
	NO_OPS(&t->out);
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
}

/* Another front door holds the freeze: snapshot-error at once, no mailbox. */
static void test_refused_while_another_door_holds(void **state)
{
	struct t *t = *state;
	bool ok;

	request(t);
	reset(t);
	proto_refuse(&t->p, -EBUSY, "another snapshot holds the agent: xo 192.0.2.7, for 1.5 s",
		     &t->out);
	OPS(&t->out,
	    "write " SNAP "error=" PROTO_ERR_PREPARING,
	    "write " SNAP "error/code=16",
	    "write " SNAP "error/message=another snapshot holds the agent: xo 192.0.2.7, for 1.5 s",
	    "write " SNAP "status=snapshot-error");
	assert_int_equal(t->out.step, PROTO_STEP_NONE);
	assert_false(proto_busy(&t->p));
	assert_string_equal(proto_last_result(&t->p, &ok), "snapshot-error " PROTO_ERR_PREPARING
			    ": another snapshot holds the agent: xo 192.0.2.7, for 1.5 s");
	assert_false(ok);
	/* outside READING it changes nothing */
	reset(t);
	proto_refuse(&t->p, -EBUSY, "late", &t->out);
	NO_OPS(&t->out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_start_advertises),
		T(test_feature_readvertised_when_gone),
		T(test_happy_path),
		T(test_snapshots_failed),
		T(test_dom0_silent_past_deadline),
		T(test_watchdog_thawed_before_answer),
		T(test_spurious_and_duplicate_events),
		T(test_unknown_or_empty_action),
		T(test_missing_backend_keys),
		T(test_malformed_backend_keys),
		T(test_vbd_without_vdi),
		T(test_oversized_values),
		T(test_oversized_snapuuid),
		T(test_result_refused_at_quota),
		T(test_advertisement_refused_outside_request),
		T(test_vm_identity),
		T(test_no_disk),
		T(test_same_vdi_twice_listed_once),
		T(test_second_request_while_running),
		T(test_freeze_hook_fails),
		T(test_freeze_fails),
		T(test_crash_consistent),
		T(test_snapshots_created_without_snapuuid),
		T(test_snapid_chunks),
		T(test_long_mount_point_cut),
		T(test_shutdown_while_frozen),
		T(test_write_failure),
		T(test_refused_while_another_door_holds),
#undef T
	};

	return cmocka_run_group_tests_name("protocol", tests, NULL, NULL);
}
