/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest side of the xenstore quiesce protocol (XAPI's snapshot_with_
 * quiesce and snapwatchd's /vss/<vm-uuid> mailbox; daemon/PROTOCOL.md).
 *
 * The engine does no I/O. The caller feeds it what it read from xenstore
 * and what the hooks and the freezer did; each call appends, to a struct
 * proto_out, the xenstore writes and removals to make, in that order, and
 * names the one step the caller must perform next and report back:
 *
 *   proto_start / proto_feature_changed     -> ops (advertise)
 *   proto_action_changed("create-snapshot") -> ops, READ_GUEST
 *   proto_refuse (instead of reading)       -> ops (report snapshot-error)
 *   proto_guest_read(inventory)             -> ops, FREEZE_HOOKS (or FAIL_*)
 *   proto_freeze_hooks_done(results)        -> FREEZE
 *   proto_frozen(result)                    -> ops, timer armed (wait dom0)
 *   proto_vss_changed / proto_deadline      -> THAW
 *   proto_thawed(result)                    -> THAW_HOOKS or FAIL_HOOKS
 *   proto_*_hooks_done(results)             -> ops (report), RECHECK_ACTION
 *
 * Paths relative to the guest's domain directory are written relative
 * ("control/..."); the VSS mailbox is absolute ("/vss/<uuid>/...").
 */
#ifndef _XQ_PROTOCOL_H
#define _XQ_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#define PROTO_UUID_LEN		36
#define PROTO_MAX_VBDS		64
#define PROTO_MAX_ITEMS		256	/* filesystems or hooks reported */
#define PROTO_ITEM_MAX		1024	/* longest mount point reported */
/* XENSTORE_PAYLOAD_MAX: no value can be longer than one message. */
#define PROTO_VALUE_MAX		4096
/* Absolute paths are at most 3072 bytes in xenstore. */
#define PROTO_PATH_MAX		3072
/* Chunk size of snapid/<n>, as the Windows agent writes it. */
#define PROTO_SNAPID_CHUNK	1020

/* What XAPI compares control/snapshot/error with (api_errors.ml). */
#define PROTO_ERR_INIT		"XEN_VSS_REQ_ERROR_INIT_FAILED"
#define PROTO_ERR_NO_VOLUMES	"XEN_VSS_REQ_ERROR_NO_VOLUMES_SUPPORTED"
#define PROTO_ERR_ADD_VOLUME	"XEN_VSS_REQ_ERROR_ADDING_VOLUME_TO_SNAPSET_FAILED"
#define PROTO_ERR_PREPARING	"XEN_VSS_REQ_ERROR_PREPARING_WRITERS"
#define PROTO_ERR_CREATING	"XEN_VSS_REQ_ERROR_CREATING_SNAPSHOT"

enum xs_op_kind {
	XS_OP_WRITE,
	XS_OP_RM,
	XS_OP_MKDIR,	/* create empty; a node already there keeps its value */
};

struct xs_op {
	enum xs_op_kind kind;
	char *path;
	char *value;		/* XS_OP_WRITE only */
};

enum proto_step {
	PROTO_STEP_NONE,
	PROTO_STEP_READ_GUEST,		/* read vm, vss and every device/vbd */
	PROTO_STEP_FREEZE_HOOKS,	/* run hooks with "freeze" */
	PROTO_STEP_FREEZE,		/* freeze proto_disks() */
	PROTO_STEP_THAW,
	PROTO_STEP_THAW_HOOKS,		/* run hooks with "thaw" */
	PROTO_STEP_FAIL_HOOKS,		/* run hooks with "freeze-fail" */
	PROTO_STEP_RECHECK_ACTION,	/* re-read control/snapshot/action */
};

enum proto_timer {
	PROTO_TIMER_KEEP,
	PROTO_TIMER_ARM,		/* fire proto_deadline() in timer_ms */
	PROTO_TIMER_DISARM,
};

struct proto_out {
	struct xs_op *ops;
	size_t nops, cap;
	enum proto_step step;
	enum proto_timer timer;
	unsigned int timer_ms;
	int err;		/* -ENOMEM when an op could not be queued */
};

/* One frontend device/vbd/<devid> and what its backend says. */
struct proto_vbd {
	const char *devid;		/* child name under device/vbd */
	const char *device_type;	/* frontend device-type, NULL: absent */
	const char *backend;		/* frontend backend, NULL: absent */
	const char *vdi_uuid;		/* <backend>/sm-data/vdi-uuid */
	const char *dev;		/* <backend>/dev, e.g. "xvda" */
};

struct proto_guest {
	const char *vm;		/* "vm" key: /vm/<uuid>, NULL: absent */
	const char *vss;	/* "vss" key: /vss/<uuid>, NULL: absent */
	const struct proto_vbd *vbds;
	size_t nvbds;
	int read_err;		/* 0, or -errno when a key could not be read */
	const char *read_err_path;	/* that key */
};

/* A disk to freeze: what the caller needs to find the block device. */
struct proto_disk {
	char devid[16];
	char dev[32];
	char vdi[PROTO_UUID_LEN + 1];
};

struct proto_item {
	const char *name;
	const char *text;
};

enum proto_consistency {
	PROTO_KERNEL_FREEZE,		/* /dev/xquiesce, one call */
	PROTO_PER_MOUNT,		/* FIFREEZE fallback */
	PROTO_CRASH_CONSISTENT,		/* no freeze, by policy */
};

struct proto_freeze_result {
	int err;			/* 0 or -errno: nothing is frozen */
	const char *err_text;		/* what failed, for error/message */
	enum proto_consistency consistency;
	const struct proto_item *filesystems;	/* name: mount point */
	size_t nfilesystems;
	unsigned long long drain_ms;	/* dirty-memory drain before the freeze call */
	unsigned long long freeze_ms;	/* the call: its start to the last one frozen */
};

struct proto_thaw_result {
	int err;			/* -ETIMEDOUT: the watchdog thawed first */
	unsigned long long window_ms;	/* how long the disks were frozen */
};

enum proto_state {
	PROTO_IDLE,
	PROTO_READING,
	PROTO_FREEZE_HOOKS,
	PROTO_FREEZING,
	PROTO_WAITING,		/* frozen, create-snapshots sent */
	PROTO_THAWING,
	PROTO_FINISH_HOOKS,
};

struct proto {
	enum proto_state state;
	unsigned int dom0_timeout_ms;
	bool queued;		/* a create-snapshot came while busy */
	char vm_uuid[PROTO_UUID_LEN + 1];
	char vss[6 + PROTO_UUID_LEN];		/* "/vss/<uuid>" */
	struct proto_disk disks[PROTO_MAX_VBDS];
	size_t ndisks;
	char snapuuid[PROTO_UUID_LEN + 1];
	/* Outcome so far: error NULL means success. */
	const char *error;
	int error_code;			/* positive errno */
	char error_text[512];
	bool frozen;
	bool have_freeze;		/* proto_frozen() succeeded */
	enum proto_consistency consistency;
	char **filesystems;
	size_t nfilesystems;
	unsigned long long window_ms;
	unsigned long long drain_ms;
	unsigned long long freeze_ms;
	char **hook_keys, **hook_texts;
	size_t nhooks;
	/* The last request's outcome, kept for the log and for status; the
	 * rest of its data stays too, until the next request starts. */
	bool last_ok;
	char last_text[600];
	bool withdrawn;		/* its result was refused: control/snapshot removed */
};

void proto_init(struct proto *p, unsigned int dom0_timeout_ms);
void proto_free(struct proto *p);
void proto_out_init(struct proto_out *out);
void proto_out_reset(struct proto_out *out);
void proto_out_free(struct proto_out *out);

/* Advertise the feature: at start, and again whenever it disappears. */
void proto_start(struct proto *p, struct proto_out *out);
/* control/feature-quiesce changed; value NULL: it does not exist. */
void proto_feature_changed(struct proto *p, const char *value, struct proto_out *out);

/* control/snapshot/action as read now; NULL: it does not exist. */
void proto_action_changed(struct proto *p, const char *value, struct proto_out *out);
void proto_guest_read(struct proto *p, const struct proto_guest *g, struct proto_out *out);
/* ok: every "freeze" hook succeeded. */
void proto_freeze_hooks_done(struct proto *p, bool ok, const struct proto_item *hooks,
			     size_t nhooks, struct proto_out *out);
void proto_frozen(struct proto *p, const struct proto_freeze_result *r, struct proto_out *out);
/* /vss/<uuid>/status and /vss/<uuid>/snapuuid as read now (NULL: absent). */
void proto_vss_changed(struct proto *p, const char *status, const char *snapuuid,
		       struct proto_out *out);
/* The timer armed by proto_frozen() fired. */
void proto_deadline(struct proto *p, struct proto_out *out);
void proto_thawed(struct proto *p, const struct proto_thaw_result *r, struct proto_out *out);
void proto_finish_hooks_done(struct proto *p, bool ok, const struct proto_item *hooks,
			     size_t nhooks, struct proto_out *out);
/*
 * Applying an op of out failed (err < 0). During a request: report it
 * failed. Once it is reported (xenstore refused a key XAPI reads, or
 * status, as at the domain's entry quota): withdraw it, removing
 * control/snapshot, so that dom0 stops waiting for a result.
 */
void proto_write_failed(struct proto *p, const char *path, int err, struct proto_out *out);
/*
 * Instead of READ_GUEST: the request cannot be served (another front door
 * holds the freeze). It ends at once in snapshot-error with
 * XEN_VSS_REQ_ERROR_PREPARING_WRITERS, code -err and why as the message.
 */
void proto_refuse(struct proto *p, int err, const char *why, struct proto_out *out);
/* Shutting down: what must happen before exit (THAW if frozen). */
void proto_shutdown(struct proto *p, struct proto_out *out);

/* The disks of the request being served, valid from FREEZE_HOOKS on. */
const struct proto_disk *proto_disks(const struct proto *p, size_t *n);
/* "/vss/<uuid>" of the request being served, "" when none. */
const char *proto_vss_path(const struct proto *p);
bool proto_busy(const struct proto *p);
/* "" before the first request ends. */
const char *proto_last_result(const struct proto *p, bool *ok);

/* What the last request published; valid until the next one starts. */
struct proto_summary {
	bool ok;
	const char *error;		/* error/message, NULL on success */
	const char *consistency;	/* NULL when nothing was frozen or decided */
	unsigned long long window_ms;
	unsigned long long drain_ms;
	unsigned long long freeze_ms;
	const char *snapuuid;		/* NULL on failure */
	char *const *filesystems;
	size_t nfilesystems;
	char *const *hook_names;	/* as published: hooks/<name> */
	char *const *hook_results;
	size_t nhooks;
};

void proto_summary(const struct proto *p, struct proto_summary *s);

const char *proto_consistency_name(enum proto_consistency c);
const char *proto_step_name(enum proto_step s);
bool proto_is_uuid(const char *s);

#endif /* _XQ_PROTOCOL_H */
