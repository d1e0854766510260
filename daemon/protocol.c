// SPDX-License-Identifier: GPL-2.0
/*
 * The quiesce protocol as a state machine with no I/O (see protocol.h).
 * Every request ends in exactly one control/snapshot/status write, after
 * all the keys XAPI reads, because XAPI acts on the first value of status
 * it sees and fails on any value it does not expect.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define FEATURE_KEY	"control/feature-quiesce"
#define UPDATED_KEY	"data/updated"
#define SNAP		"control/snapshot/"
#define ACTION_KEY	SNAP "action"

/* Result keys removed before a request is acknowledged, status first. */
static const char *const result_keys[] = {
	"status", "snapid", "snapuuid", "error",
	"consistency", "freeze-window-ms", "drain-ms", "freeze-ms", "filesystems", "hooks",
};

void proto_out_init(struct proto_out *out)
{
	memset(out, 0, sizeof(*out));
}

void proto_out_reset(struct proto_out *out)
{
	for (size_t i = 0; i < out->nops; i++) {
		free(out->ops[i].path);
		free(out->ops[i].value);
	}
	out->nops = 0;
	out->step = PROTO_STEP_NONE;
	out->timer = PROTO_TIMER_KEEP;
	out->timer_ms = 0;
	out->err = 0;
}

void proto_out_free(struct proto_out *out)
{
	proto_out_reset(out);
	free(out->ops);
	proto_out_init(out);
}

static __attribute__((format(printf, 4, 5)))
void op_add(struct proto_out *out, enum xs_op_kind kind, const char *value,
	    const char *fmt, ...)
{
	struct xs_op *op;
	va_list ap;
	int r;

	if (out->err)
		return;
	if (out->nops == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct xs_op *ops = realloc(out->ops, cap * sizeof(*ops));

		if (!ops)
			goto nomem;
		out->ops = ops;
		out->cap = cap;
	}
	op = &out->ops[out->nops];
	op->kind = kind;
	op->value = NULL;
	va_start(ap, fmt);
	r = vasprintf(&op->path, fmt, ap);
	va_end(ap);
	if (r < 0)
		goto nomem;
	if (value && !(op->value = strdup(value))) {
		free(op->path);
		goto nomem;
	}
	out->nops++;
	return;
nomem:
	out->err = -ENOMEM;
}

#define op_write(out, value, ...)	op_add(out, XS_OP_WRITE, value, __VA_ARGS__)
#define op_rm(out, ...)			op_add(out, XS_OP_RM, NULL, __VA_ARGS__)
#define op_mkdir(out, ...)		op_add(out, XS_OP_MKDIR, NULL, __VA_ARGS__)

bool proto_is_uuid(const char *s)
{
	for (int i = 0; i < PROTO_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') ||
					(c >= 'a' && c <= 'f') ||
					(c >= 'A' && c <= 'F')))
			return false;
	}
	return s[PROTO_UUID_LEN] == '\0';
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Forget the last request, keep what survives requests. */
static void request_clear(struct proto *p)
{
	free_strings(p->filesystems, p->nfilesystems);
	free_strings(p->hook_keys, p->nhooks);
	free_strings(p->hook_texts, p->nhooks);
	p->filesystems = p->hook_keys = p->hook_texts = NULL;
	p->nfilesystems = p->nhooks = 0;
	p->state = PROTO_IDLE;
	p->vm_uuid[0] = p->vss[0] = p->snapuuid[0] = '\0';
	p->ndisks = 0;
	p->error = NULL;
	p->error_code = 0;
	p->error_text[0] = '\0';
	p->frozen = false;
	p->have_freeze = false;
	p->withdrawn = false;
	p->window_ms = 0;
	p->drain_ms = 0;
	p->freeze_ms = 0;
}

void proto_init(struct proto *p, unsigned int dom0_timeout_ms)
{
	memset(p, 0, sizeof(*p));
	p->dom0_timeout_ms = dom0_timeout_ms;
	request_clear(p);
}

void proto_free(struct proto *p)
{
	request_clear(p);
}

void proto_start(struct proto *p, struct proto_out *out)
{
	(void)p;
	op_write(out, "1", FEATURE_KEY);
	/* XAPI refreshes guest metrics, where it looks for the feature,
	 * only when data/updated exists. xe-guest-utilities writes the time
	 * of its last update there: created if absent, never overwritten. */
	op_mkdir(out, UPDATED_KEY);
}

void proto_feature_changed(struct proto *p, const char *value, struct proto_out *out)
{
	/* Gone after a resume into a new domain, or removed by hand. */
	if (!value || strcmp(value, "1"))
		proto_start(p, out);
}

bool proto_busy(const struct proto *p)
{
	return p->state != PROTO_IDLE;
}

const struct proto_disk *proto_disks(const struct proto *p, size_t *n)
{
	*n = p->ndisks;
	return p->disks;
}

const char *proto_vss_path(const struct proto *p)
{
	return p->vss;
}

const char *proto_consistency_name(enum proto_consistency c)
{
	switch (c) {
	case PROTO_KERNEL_FREEZE:
		return "kernel-freeze";
	case PROTO_PER_MOUNT:
		return "per-mount-freeze";
	case PROTO_CRASH_CONSISTENT:
		return "crash-consistent";
	}
	return "unknown";
}

const char *proto_step_name(enum proto_step s)
{
	static const char *const names[] = {
		[PROTO_STEP_NONE] = "none",
		[PROTO_STEP_READ_GUEST] = "read-guest",
		[PROTO_STEP_FREEZE_HOOKS] = "freeze-hooks",
		[PROTO_STEP_FREEZE] = "freeze",
		[PROTO_STEP_THAW] = "thaw",
		[PROTO_STEP_THAW_HOOKS] = "thaw-hooks",
		[PROTO_STEP_FAIL_HOOKS] = "fail-hooks",
		[PROTO_STEP_RECHECK_ACTION] = "recheck-action",
	};

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

/* A value quoted in a message: long ones are cut, the rest shown whole. */
static const char *quote(const char *value, char *buf, size_t len)
{
	if (strlen(value) + 3 <= len)
		snprintf(buf, len, "\"%s\"", value);
	else
		snprintf(buf, len, "\"%.*s...\" (%zu bytes)", (int)(len / 2), value,
			 strlen(value));
	return buf;
}

/* What dom0 and the agent put in the mailbox for one exchange, but its status. */
static void clear_mailbox(const struct proto *p, struct proto_out *out)
{
	static const char *const keys[] = { "snapshot", "snapuuid", "snapinfo", "snaptype" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		op_rm(out, "%s/%s", p->vss, keys[i]);
}

static void report(struct proto *p, struct proto_out *out);

static __attribute__((format(printf, 4, 5)))
void set_error(struct proto *p, const char *name, int code, const char *fmt, ...)
{
	va_list ap;

	if (p->error)
		return;		/* the first failure is the one to report */
	p->error = name;
	p->error_code = code;
	va_start(ap, fmt);
	vsnprintf(p->error_text, sizeof(p->error_text), fmt, ap);
	va_end(ap);
}

/* dom0 answered, or will not: thaw if anything is frozen, then the hooks. */
static void leave_waiting(struct proto *p, enum proto_step hooks, struct proto_out *out)
{
	out->timer = PROTO_TIMER_DISARM;
	if (p->frozen) {
		p->state = PROTO_THAWING;
		out->step = PROTO_STEP_THAW;
	} else {
		p->state = PROTO_FINISH_HOOKS;
		out->step = hooks;
	}
}

/* After an error: undo what the request has done so far, in order. */
static void unwind(struct proto *p, struct proto_out *out)
{
	switch (p->state) {
	case PROTO_READING:
		report(p, out);
		break;
	case PROTO_FREEZE_HOOKS:
	case PROTO_FREEZING:
		p->state = PROTO_FINISH_HOOKS;
		out->step = PROTO_STEP_FAIL_HOOKS;
		break;
	case PROTO_WAITING:
		leave_waiting(p, PROTO_STEP_FAIL_HOOKS, out);
		break;
	case PROTO_IDLE:
	case PROTO_THAWING:
	case PROTO_FINISH_HOOKS:
		break;	/* already on the way out */
	}
}

void proto_action_changed(struct proto *p, const char *value, struct proto_out *out)
{
	/* Anything but a request (absent, empty, unknown) is not ours. */
	if (!value || strcmp(value, "create-snapshot"))
		return;
	if (proto_busy(p)) {
		/* Served when this one is done, if still there: its requester
		 * waits for the acknowledgement, and both share status. */
		p->queued = true;
		return;
	}
	request_clear(p);
	for (size_t i = 0; i < sizeof(result_keys) / sizeof(result_keys[0]); i++)
		op_rm(out, SNAP "%s", result_keys[i]);
	op_rm(out, ACTION_KEY);
	p->state = PROTO_READING;
	out->step = PROTO_STEP_READ_GUEST;
}

/* The uuid in "<prefix><uuid>", the value of key. */
static int uuid_after(struct proto *p, const char *key, const char *value, const char *prefix)
{
	size_t n = strlen(prefix);
	char q[96];

	if (strncmp(value, prefix, n) || !proto_is_uuid(value + n)) {
		set_error(p, PROTO_ERR_INIT, EINVAL, "the %s key is %s, expected %s<vm-uuid>", key,
			  quote(value, q, sizeof(q)), prefix);
		return -EINVAL;
	}
	memcpy(p->vm_uuid, value + n, PROTO_UUID_LEN + 1);
	return 0;
}

/* "/vss/<uuid>" from the vss key, else "/vm/<uuid>" from the vm key. */
static int find_vm_uuid(struct proto *p, const struct proto_guest *g)
{
	int r;

	if (g->vss)
		r = uuid_after(p, "vss", g->vss, "/vss/");
	else if (g->vm)
		r = uuid_after(p, "vm", g->vm, "/vm/");
	else {
		set_error(p, PROTO_ERR_INIT, ENOENT,
			  "neither the vss nor the vm key exists, so the VSS mailbox is unknown");
		r = -ENOENT;
	}
	if (!r)
		snprintf(p->vss, sizeof(p->vss), "/vss/%s", p->vm_uuid);
	return r;
}

static bool all_digits(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n < max && strspn(s, "0123456789") == n;
}

static int add_disk(struct proto *p, const struct proto_vbd *v)
{
	struct proto_disk *d;
	char q[96];

	if (!all_digits(v->devid, sizeof(d->devid))) {
		set_error(p, PROTO_ERR_ADD_VOLUME, EINVAL,
			  "device/vbd/%s: the device id is not a number", v->devid);
		return -EINVAL;
	}
	if (!v->device_type) {
		set_error(p, PROTO_ERR_ADD_VOLUME, ENOENT,
			  "device/vbd/%s/device-type is missing, expected disk, cdrom or floppy",
			  v->devid);
		return -ENOENT;
	}
	if (strcmp(v->device_type, "disk"))
		return 0;	/* XAPI does not snapshot CDs either */
	if (!v->backend || v->backend[0] != '/' || strlen(v->backend) >= PROTO_PATH_MAX - 32) {
		set_error(p, PROTO_ERR_ADD_VOLUME, v->backend ? EINVAL : ENOENT,
			  "device/vbd/%s/backend is %s, expected an absolute xenstore path",
			  v->devid, v->backend ? quote(v->backend, q, sizeof(q)) : "missing");
		return -EINVAL;
	}
	if (!v->vdi_uuid) {
		set_error(p, PROTO_ERR_ADD_VOLUME, ENOENT,
			  "disk %s has no VDI: %s/sm-data/vdi-uuid is missing", v->devid, v->backend);
		return -ENOENT;
	}
	if (!proto_is_uuid(v->vdi_uuid)) {
		set_error(p, PROTO_ERR_ADD_VOLUME, EINVAL,
			  "%s/sm-data/vdi-uuid is %s, expected a uuid", v->backend,
			  quote(v->vdi_uuid, q, sizeof(q)));
		return -EINVAL;
	}
	if (v->dev && strlen(v->dev) >= sizeof(d->dev)) {
		set_error(p, PROTO_ERR_ADD_VOLUME, EINVAL,
			  "%s/dev is %s, expected a device name such as xvda", v->backend,
			  quote(v->dev, q, sizeof(q)));
		return -EINVAL;
	}
	for (size_t i = 0; i < p->ndisks; i++)
		if (!strcasecmp(p->disks[i].vdi, v->vdi_uuid))
			return 0;	/* the same VDI twice: one snapshot */
	if (p->ndisks == PROTO_MAX_VBDS) {
		set_error(p, PROTO_ERR_ADD_VOLUME, E2BIG,
			  "more than %d disks", PROTO_MAX_VBDS);
		return -E2BIG;
	}
	d = &p->disks[p->ndisks++];
	snprintf(d->devid, sizeof(d->devid), "%s", v->devid);
	snprintf(d->dev, sizeof(d->dev), "%s", v->dev ? v->dev : "");
	snprintf(d->vdi, sizeof(d->vdi), "%s", v->vdi_uuid);
	return 0;
}

static int disk_cmp(const void *a, const void *b)
{
	const struct proto_disk *x = a, *y = b;
	size_t lx = strlen(x->devid), ly = strlen(y->devid);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->devid, y->devid);
}

void proto_guest_read(struct proto *p, const struct proto_guest *g, struct proto_out *out)
{
	if (p->state != PROTO_READING)
		return;
	if (g->read_err) {
		set_error(p, PROTO_ERR_INIT, -g->read_err, "cannot read %s: %s",
			  g->read_err_path ? g->read_err_path : "the guest's keys",
			  strerror(-g->read_err));
		goto fail;
	}
	if (find_vm_uuid(p, g))
		goto fail;
	op_write(out, "provider-initialized", "%s/status", p->vss);
	/* Leftovers of an earlier exchange would be read as this one's. */
	clear_mailbox(p, out);
	for (size_t i = 0; i < g->nvbds; i++)
		if (add_disk(p, &g->vbds[i]))
			goto fail;
	if (!p->ndisks) {
		set_error(p, PROTO_ERR_NO_VOLUMES, ENODEV, "the guest has no disk VBD");
		goto fail;
	}
	qsort(p->disks, p->ndisks, sizeof(p->disks[0]), disk_cmp);
	for (size_t i = 0; i < p->ndisks; i++)
		op_write(out, "", "%s/snapshot/%s", p->vss, p->disks[i].vdi);
	p->state = PROTO_FREEZE_HOOKS;
	out->step = PROTO_STEP_FREEZE_HOOKS;
	return;
fail:
	unwind(p, out);
}

/* xenstore path elements allow [A-Za-z0-9_@-]; hook names may hold more. */
static char *path_element(const char *name)
{
	char *s = strdup(name);

	for (char *c = s; c && *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@-", *c))
			*c = '_';
	return s;
}

static int record_hooks(struct proto *p, const char *phase, const struct proto_item *hooks,
			size_t nhooks)
{
	for (size_t i = 0; i < nhooks; i++) {
		char *key = path_element(hooks[i].name), *text;
		size_t j;

		if (!key)
			return -ENOMEM;
		for (j = 0; j < p->nhooks && strcmp(p->hook_keys[j], key); j++)
			;
		if (j == p->nhooks) {
			char **k, **t;

			if (p->nhooks == PROTO_MAX_ITEMS) {
				free(key);
				continue;
			}
			k = realloc(p->hook_keys, (j + 1) * sizeof(*k));
			if (k)
				p->hook_keys = k;
			t = realloc(p->hook_texts, (j + 1) * sizeof(*t));
			if (t)
				p->hook_texts = t;
			if (!k || !t) {
				free(key);
				return -ENOMEM;
			}
			p->hook_keys[j] = key;
			p->hook_texts[j] = NULL;
			p->nhooks++;
		} else {
			free(key);
		}
		if (asprintf(&text, "%s%s%s %s", p->hook_texts[j] ? p->hook_texts[j] : "",
			     p->hook_texts[j] ? ", " : "", phase, hooks[i].text) < 0)
			return -ENOMEM;
		free(p->hook_texts[j]);
		p->hook_texts[j] = text;
	}
	return 0;
}

void proto_freeze_hooks_done(struct proto *p, bool ok, const struct proto_item *hooks,
			     size_t nhooks, struct proto_out *out)
{
	if (p->state != PROTO_FREEZE_HOOKS)
		return;
	if (record_hooks(p, "freeze", hooks, nhooks))
		out->err = -ENOMEM;
	if (!ok) {
		set_error(p, PROTO_ERR_PREPARING, ECANCELED, "a freeze hook failed");
		unwind(p, out);
		return;
	}
	p->state = PROTO_FREEZING;
	out->step = PROTO_STEP_FREEZE;
}

void proto_frozen(struct proto *p, const struct proto_freeze_result *r, struct proto_out *out)
{
	char ms[16];

	if (p->state != PROTO_FREEZING)
		return;
	if (r->err) {
		set_error(p, PROTO_ERR_PREPARING, -r->err, "freeze failed: %s",
			  r->err_text ? r->err_text : strerror(-r->err));
		unwind(p, out);
		return;
	}
	p->have_freeze = true;
	p->consistency = r->consistency;
	p->drain_ms = r->drain_ms;
	p->freeze_ms = r->freeze_ms;
	p->frozen = r->consistency != PROTO_CRASH_CONSISTENT;
	for (size_t i = 0; i < r->nfilesystems && i < PROTO_MAX_ITEMS; i++) {
		char **v = realloc(p->filesystems, (i + 1) * sizeof(*v));

		/* a key and its value must fit in one xenstore message */
		if (!v || !(v[i] = strndup(r->filesystems[i].name, PROTO_ITEM_MAX))) {
			if (v)
				p->filesystems = v;
			out->err = -ENOMEM;
			break;
		}
		p->filesystems = v;
		p->nfilesystems = i + 1;
	}
	/*
	 * How long we wait for dom0 from here: a dom0 tool that kept its own
	 * timeout longer would snapshot after we gave up and thawed.
	 */
	snprintf(ms, sizeof(ms), "%u", p->dom0_timeout_ms);
	op_write(out, ms, "%s/dom0-timeout-ms", p->vss);
	op_write(out, "create-snapshots", "%s/status", p->vss);
	p->state = PROTO_WAITING;
	out->timer = PROTO_TIMER_ARM;
	out->timer_ms = p->dom0_timeout_ms;
}

void proto_vss_changed(struct proto *p, const char *status, const char *snapuuid,
		       struct proto_out *out)
{
	char q[96];

	/* Our own create-snapshots, and anything else, are not answers. */
	if (p->state != PROTO_WAITING || !status)
		return;
	if (!strcmp(status, "snapshots-failed")) {
		set_error(p, PROTO_ERR_CREATING, EIO, "dom0 reported snapshots-failed");
	} else if (!strcmp(status, "snapshots-created")) {
		if (snapuuid && proto_is_uuid(snapuuid))
			memcpy(p->snapuuid, snapuuid, PROTO_UUID_LEN + 1);
		else
			set_error(p, PROTO_ERR_CREATING, EPROTO,
				  "dom0 reported snapshots-created with %s/snapuuid %s, expected a uuid",
				  p->vss, snapuuid ? quote(snapuuid, q, sizeof(q)) : "missing");
	} else {
		return;
	}
	leave_waiting(p, p->error ? PROTO_STEP_FAIL_HOOKS : PROTO_STEP_THAW_HOOKS, out);
}

void proto_deadline(struct proto *p, struct proto_out *out)
{
	if (p->state != PROTO_WAITING)
		return;
	set_error(p, PROTO_ERR_CREATING, ETIMEDOUT,
		  "no answer from dom0 in %s/status within %u ms", p->vss, p->dom0_timeout_ms);
	unwind(p, out);
}

void proto_refuse(struct proto *p, int err, const char *why, struct proto_out *out)
{
	if (p->state != PROTO_READING)
		return;
	set_error(p, PROTO_ERR_PREPARING, -err, "%s", why);
	unwind(p, out);
}

void proto_shutdown(struct proto *p, struct proto_out *out)
{
	if (p->state != PROTO_WAITING)
		return;
	set_error(p, PROTO_ERR_CREATING, ECANCELED, "the agent was stopped while frozen");
	unwind(p, out);
}

/* The keys of a result XAPI reads: without one, its result is wrong or never comes. */
static bool xapi_result_key(const char *path)
{
	static const char *const keys[] = { "status", "snapuuid", "error", "error/code" };

	if (strncmp(path, SNAP, strlen(SNAP)))
		return false;
	path += strlen(SNAP);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(path, keys[i]))
			return true;
	return !strncmp(path, "snapid/", strlen("snapid/"));
}

/*
 * The report could not be written whole. dom0 would wait for a status
 * that never comes, until its own timeout (XAPI's is 600 s), or read a
 * result with a key missing. Removing control/snapshot, in place of the
 * status still to be written, tells it at once, needs no room in the
 * quota, and frees what the request took of it.
 */
static void withdraw(struct proto *p, const char *path, int err, struct proto_out *out)
{
	struct xs_op *status = NULL;

	if (p->withdrawn || !xapi_result_key(path))
		return;
	p->withdrawn = true;
	/* a success nobody will see is a failure, for xquiescectl status too */
	set_error(p, PROTO_ERR_CREATING, -err, "xenstore refused to write %s: %s", path,
		  strerror(-err));
	p->last_ok = false;
	snprintf(p->last_text, sizeof(p->last_text),
		 "snapshot-error %s: %.300s; request withdrawn (control/snapshot removed):"
		 " xenstore refused to write %s (%s), the domain may be at its xenstore quota",
		 p->error, p->error_text, path, strerror(-err));
	for (size_t i = 0; i < out->nops; i++)
		if (out->ops[i].kind == XS_OP_WRITE && !strcmp(out->ops[i].path, SNAP "status"))
			status = &out->ops[i];
	if (status && strcmp(path, SNAP "status")) {
		char *request = strdup("control/snapshot");

		if (!request) {
			out->err = -ENOMEM;
			return;
		}
		free(status->path);
		free(status->value);
		*status = (struct xs_op){ .kind = XS_OP_RM, .path = request };
	} else {
		op_rm(out, "control/snapshot");
	}
}

void proto_write_failed(struct proto *p, const char *path, int err, struct proto_out *out)
{
	bool started = p->state != PROTO_READING && p->state != PROTO_FREEZE_HOOKS;

	if (p->state == PROTO_IDLE) {
		withdraw(p, path, err, out);
		return;
	}
	set_error(p, started ? PROTO_ERR_CREATING : PROTO_ERR_INIT, -err,
		  "cannot write %s: %s", path, strerror(-err));
	unwind(p, out);
}

void proto_thawed(struct proto *p, const struct proto_thaw_result *r, struct proto_out *out)
{
	if (p->state != PROTO_THAWING)
		return;
	p->frozen = false;
	p->window_ms = r->window_ms;
	if (r->err == -ETIMEDOUT)
		set_error(p, PROTO_ERR_CREATING, ETIMEDOUT,
			  "the freeze deadline passed before dom0 answered; the snapshot may be inconsistent");
	else if (r->err)
		set_error(p, PROTO_ERR_CREATING, -r->err,
			  "the freeze was undone before the thaw: %s; the snapshot may be inconsistent",
			  strerror(-r->err));
	p->state = PROTO_FINISH_HOOKS;
	out->step = p->error ? PROTO_STEP_FAIL_HOOKS : PROTO_STEP_THAW_HOOKS;
}

void proto_finish_hooks_done(struct proto *p, bool ok, const struct proto_item *hooks,
			     size_t nhooks, struct proto_out *out)
{
	(void)ok;	/* the snapshot is taken: a thaw hook cannot undo it */
	if (p->state != PROTO_FINISH_HOOKS)
		return;
	if (record_hooks(p, p->error ? "freeze-fail" : "thaw", hooks, nhooks))
		out->err = -ENOMEM;
	report(p, out);
}

/*
 * The transportable snapshot id XAPI stores on the snapshot VM: what this
 * agent did, in chunks as long as the Windows agent's.
 */
static void write_snapid(struct proto *p, struct proto_out *out)
{
	char *id = NULL, *next;
	size_t len, n = 0;

	if (asprintf(&id, "xquiesce:1;vm=%s;snapshot=%s;consistency=%s;vdis=", p->vm_uuid,
		     p->snapuuid, proto_consistency_name(p->consistency)) < 0) {
		out->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < p->ndisks; i++) {
		if (asprintf(&next, "%s%s%s", id, i ? "," : "", p->disks[i].vdi) < 0) {
			free(id);
			out->err = -ENOMEM;
			return;
		}
		free(id);
		id = next;
	}
	len = strlen(id);
	for (size_t off = 0; off < len; off += PROTO_SNAPID_CHUNK, n++) {
		char chunk[PROTO_SNAPID_CHUNK + 1];

		snprintf(chunk, sizeof(chunk), "%s", id + off);
		op_write(out, chunk, SNAP "snapid/%zu", n);
	}
	free(id);
}

/* What the snapshot is worth: keys XAPI ignores, for dom0 tools and people. */
static void write_extras(struct proto *p, struct proto_out *out)
{
	char num[32];

	if (p->have_freeze) {
		op_write(out, proto_consistency_name(p->consistency), SNAP "consistency");
		snprintf(num, sizeof(num), "%llu", p->window_ms);
		op_write(out, num, SNAP "freeze-window-ms");
		snprintf(num, sizeof(num), "%llu", p->drain_ms);
		op_write(out, num, SNAP "drain-ms");
		snprintf(num, sizeof(num), "%llu", p->freeze_ms);
		op_write(out, num, SNAP "freeze-ms");
		for (size_t i = 0; i < p->nfilesystems; i++)
			op_write(out, p->filesystems[i], SNAP "filesystems/%zu", i);
	}
	for (size_t i = 0; i < p->nhooks; i++)
		op_write(out, p->hook_texts[i], SNAP "hooks/%s", p->hook_keys[i]);
}

static void report(struct proto *p, struct proto_out *out)
{
	char code[16];

	if (p->error) {
		snprintf(code, sizeof(code), "%d", p->error_code);
		op_write(out, p->error, SNAP "error");
		op_write(out, code, SNAP "error/code");
		op_write(out, p->error_text, SNAP "error/message");
	} else {
		write_snapid(p, out);
		op_write(out, p->snapuuid, SNAP "snapuuid");
	}
	write_extras(p, out);
	if (p->vss[0]) {
		clear_mailbox(p, out);
		op_rm(out, "%s/status", p->vss);
	}
	op_write(out, p->error ? "snapshot-error" : "snapshot-created", SNAP "status");
	p->last_ok = !p->error;
	if (p->error)
		snprintf(p->last_text, sizeof(p->last_text), "snapshot-error %s: %s", p->error,
			 p->error_text);
	else
		snprintf(p->last_text, sizeof(p->last_text),
			 "snapshot-created %s: %s, frozen %llu ms, %zu filesystems",
			 p->snapuuid, proto_consistency_name(p->consistency), p->window_ms,
			 p->nfilesystems);
	p->state = PROTO_IDLE;
	if (p->queued) {
		p->queued = false;
		out->step = PROTO_STEP_RECHECK_ACTION;
	}
}

void proto_summary(const struct proto *p, struct proto_summary *s)
{
	*s = (struct proto_summary){
		.ok = p->last_ok,
		.error = p->error ? p->error_text : NULL,
		.consistency = p->have_freeze ? proto_consistency_name(p->consistency) : NULL,
		.window_ms = p->window_ms,
		.drain_ms = p->drain_ms,
		.freeze_ms = p->freeze_ms,
		.snapuuid = p->error || !p->snapuuid[0] ? NULL : p->snapuuid,
		.filesystems = p->filesystems,
		.nfilesystems = p->nfilesystems,
		.hook_names = p->hook_keys,
		.hook_results = p->hook_texts,
		.nhooks = p->nhooks,
	};
}

const char *proto_last_result(const struct proto *p, bool *ok)
{
	*ok = p->last_ok;
	return p->last_text;
}
