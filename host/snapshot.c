// SPDX-License-Identifier: GPL-2.0
/*
 * One quiesced snapshot, playing both dom0 parts of the protocol at once
 * (docs: quiesce-protocol.md sections 4 and 5):
 *
 *   XAPI:       control/snapshot/action = create-snapshot; wait for the guest
 *               to delete it (ack timeout), then for control/snapshot/status
 *               (overall timeout); read snapid/N, snapuuid or error; always
 *               remove control/snapshot.
 *   snapwatchd: on /vss/<uuid>/status = create-snapshots, snapshot the VDIs
 *               listed under /vss/<uuid>/snapshot/ with the user's command,
 *               write snapshot/<vdi>/id, snaptype, snapinfo, snapuuid, then
 *               status = snapshots-created (or snapshots-failed).
 *
 * Both waits are conditions re-evaluated after every watch event, as XAPI's
 * are, so the order in which events arrive does not matter.
 *
 * Everything the guest wrote is input to check, never an instruction (the
 * trust model, xquiesce-host(8)): the disks come from dom0's backend tree
 * (disks.c), one create-snapshots is served per request, the snapshot's uuid
 * is the one dom0's command gave, the guest's values are escaped before they
 * are printed, and a snapshot that the guest does not confirm in time is
 * discarded, since its disks may have been thawed when it was taken.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "builtin.h"
#include "command.h"
#include "disks.h"
#include "escape.h"
#include "signals.h"
#include "snapshot.h"
#include "watch.h"
#include "xsutil.h"

/*
 * The command must end well before the guest stops waiting for it: the
 * guest's clock started before we saw its request. This much of its wait,
 * at least, is left unused.
 */
#define GUEST_MARGIN_MS		500
#define GUEST_MARGIN_PERCENT	20
/* Below this, no snapshot command can be expected to finish. */
#define COMMAND_MIN_MS		100
/* The discard and the mark run with the guest thawed; they only have to end. */
#define AFTER_TIMEOUT_MS	60000

struct run {
	struct xs_handle *xs;
	const struct vm *vm;
	const struct snapshot_opts *opts;
	struct snapshot_report *report;
	struct disks disks;
	struct watch watches[2];	/* control/snapshot (XAPI's), /vss/<uuid> */
	char vss[64];		/* /vss/<uuid> */
	long long start;
	bool served;		/* create-snapshots was answered: never again */
	char *ids;		/* the snapshot ids the command printed, for the discard */
	char uuid[37];		/* the snapshot's, unless the command names another */
	struct builtin builtin;	/* the built-in's snapshots, staged before the request */
	unsigned int repeats;	/* create-snapshots asked again, refused */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static enum xq_exit fail(struct snapshot_report *report, enum xq_exit outcome,
			 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum xq_exit fail(struct snapshot_report *report, enum xq_exit outcome,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(report->detail, sizeof(report->detail), fmt, ap);
	va_end(ap);
	report->outcome = outcome;
	return outcome;
}

static int env_add(char **env, unsigned int *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int env_add(char **env, unsigned int *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&env[*n], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	(*n)++;
	return 0;
}

/*
 * What the snapshot command learns from its environment (see --help). The
 * VDIs come in the VM's disk order (dom0's backend tree), whatever order
 * the guest listed them in, so that the same VM's disks are always taken
 * in the same order.
 */
static char **command_env(const struct run *run, char **requested, unsigned int nreq,
			  const char *snapuuid, const char *snaptype)
{
	const struct vm *vm = run->vm;
	unsigned int n = 0, i = 0, d, cap = 9 + 4 * nreq;
	char **env, *list = NULL, *tmp;
	const struct vdi *v;
	int r = 0;

	env = calloc(cap + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (d = 0; d < run->disks.n && !r; d++) {
		v = &run->disks.vdi[d];
		if (!vdi_listed(v, requested, nreq))
			continue;
		tmp = list;
		if (asprintf(&list, "%s%s%s", tmp ? tmp : "", tmp ? " " : "", v->uuid) < 0)
			list = NULL, r = -ENOMEM;
		free(tmp);
		r = r ?: env_add(env, &n, "XQ_VDI_%u=%s", i, v->uuid);
		r = r ?: env_add(env, &n, "XQ_VDI_%u_PARAMS=%s", i, v->params ? v->params : "");
		r = r ?: env_add(env, &n, "XQ_VDI_%u_DEV=%s", i, v->dev ? v->dev : "");
		r = r ?: env_add(env, &n, "XQ_VDI_%u_BACKEND=%s", i, v->backend);
		i++;
	}
	r = r ?: env_add(env, &n, "XQ_VDIS=%s", list ? list : "");
	r = r ?: env_add(env, &n, "XQ_VDI_COUNT=%u", nreq);
	r = r ?: env_add(env, &n, "XQ_VM_UUID=%s", vm->uuid);
	r = r ?: env_add(env, &n, "XQ_VM_NAME=%s", vm->name ? vm->name : "");
	r = r ?: env_add(env, &n, "XQ_DOMID=%u", vm->domid);
	r = r ?: env_add(env, &n, "XQ_SNAPSHOT_UUID=%s", snapuuid);
	r = r ?: env_add(env, &n, "XQ_SNAPSHOT_NAME=quiesced snapshot of %s",
			 vm->name ? vm->name : vm->uuid);
	r = r ?: env_add(env, &n, "XQ_SNAPTYPE=%s", snaptype);
	r = r ?: env_add(env, &n, "XQ_TIMEOUT_MS=%d", run->report->command_timeout_ms);
	free(list);
	if (r) {
		for (i = 0; i < n; i++)
			free(env[i]);
		free(env);
		return NULL;
	}
	return env;
}

static void env_free(char **env)
{
	unsigned int i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/*
 * The command's stdout: a line holding one uuid names the snapshot (what
 * "xe vm-snapshot" prints); a line "SOURCE-VDI SNAPSHOT-ID" gives a VDI's
 * snapshot id, written to /vss/<uuid>/snapshot/<vdi>/id.
 */
static int record_output(struct run *run, char *output, char *snapuuid,
			 char **requested, unsigned int nreq)
{
	char *line, *save = NULL, first[128], second[128];
	unsigned int i;
	int r;

	for (line = strtok_r(output, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int fields = sscanf(line, "%127s %127s", first, second);

		if (fields == 1 && xsu_is_uuid(first)) {
			memcpy(snapuuid, first, 37);
			continue;
		}
		if (fields != 2)
			continue;
		for (i = 0; i < nreq; i++) {
			char *ids = run->ids;

			if (strcmp(requested[i], first))
				continue;
			r = xsu_write(run->xs, second, "%s/snapshot/%s/id", run->vss, first);
			if (!r && asprintf(&run->ids, "%s%s%s", ids ? ids : "", ids ? " " : "",
					   second) < 0) {
				run->ids = ids;
				r = -ENOMEM;
			} else if (!r) {
				free(ids);
			}
			if (r)
				return r;
		}
	}
	return 0;
}

static int new_uuid(char *uuid)
{
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");
	int r = 0;

	if (!f)
		return -errno;
	if (!fgets(uuid, 37, f) || !xsu_is_uuid(uuid))
		r = -EIO;
	fclose(f);
	return r;
}

/* snapwatchd's snapinfo: the time, the snapshot and the VM it came from. */
static int write_snapinfo(struct run *run, const char *snapuuid)
{
	char info[256], stamp[32];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(stamp, sizeof(stamp), "%d-%d-%d:%d:%d:%d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(info, sizeof(info),
		 "<?xml version=\"1.0\"?><VM.snapshot><time>%s</time><snapuuid>%s</snapuuid>"
		 "<parent>%s</parent></VM.snapshot>", stamp, snapuuid, run->vm->uuid);
	return xsu_write(run->xs, info, "%s/snapinfo", run->vss);
}

/*
 * How long the command may run: --command-timeout, cut to fit well inside
 * the wait the guest published (V/dom0-timeout-ms), so that the snapshot
 * never completes after the guest gave up and thawed. An older agent
 * publishes nothing; --command-timeout stands then. -ETIME when the guest
 * leaves no time at all.
 */
static int command_budget(struct run *run)
{
	const struct snapshot_opts *opts = run->opts;
	struct snapshot_report *report = run->report;
	long guest, margin, fit;
	char *value, *end;

	report->command_timeout_ms = opts->command_timeout_ms;
	value = xsu_read(run->xs, "%s/dom0-timeout-ms", run->vss);
	if (!value)
		return 0;
	errno = 0;
	guest = strtol(value, &end, 10);
	if (errno || end == value || *end || guest < 0 || guest > 24L * 3600 * 1000) {
		char *shown = escape(value);

		free(value);
		fail(report, XQ_EXIT_FAILED, "the guest published %s/dom0-timeout-ms '%s',"
		     " not a number of milliseconds", run->vss, shown ? shown : "?");
		free(shown);
		return -EINVAL;
	}
	free(value);
	report->guest_wait_ms = guest;
	margin = guest * GUEST_MARGIN_PERCENT / 100;
	if (margin < GUEST_MARGIN_MS)
		margin = GUEST_MARGIN_MS;
	fit = guest - margin - (now_ms() - run->start - report->create_ms);
	if (fit >= opts->command_timeout_ms)
		return 0;
	if (fit < COMMAND_MIN_MS) {
		fail(report, XQ_EXIT_FAILED, "the guest waits only %ld ms for the snapshot, too"
		     " little to take one with %ld ms to spare: raise dom0_timeout in its"
		     " xquiesced.conf", guest, margin);
		return -ETIME;
	}
	report->command_timeout_ms = fit;
	report->timeout_cut = true;
	return 0;
}

/* The user's snapshot command, its failure recorded in the report. */
static int run_command(struct run *run, char **env, char **output)
{
	struct snapshot_report *report = run->report;
	int r, status;

	r = command_run(run->opts->command, env, report->command_timeout_ms, true, output,
			&status);
	if (r == -ETIMEDOUT)
		fail(report, XQ_EXIT_FAILED, "the snapshot command ran longer than %d ms and was killed",
		     report->command_timeout_ms);
	else if (r == -EINTR)
		fail(report, XQ_EXIT_ERROR, "interrupted: the snapshot command was killed");
	else if (r == -ECHILD)
		fail(report, XQ_EXIT_FAILED, "the snapshot command failed (%s %d)",
		     WIFEXITED(status) ? "exit status" : "signal",
		     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else if (r)
		fail(report, XQ_EXIT_ERROR, "cannot run the snapshot command: %s", strerror(-r));
	return r;
}

/*
 * snapwatchd's create-snapshots. Returns 0 when the snapshot was taken;
 * any failure is also recorded in the report's detail, since the guest's
 * own error (which decides the outcome) says less.
 */
static int take_snapshot(struct run *run)
{
	struct snapshot_report *report = run->report;
	char **requested, **env = NULL, *output = NULL, snapuuid[37], why[256];
	const char *snaptype;
	long long started;
	unsigned int nreq = 0, i;
	int r;

	requested = xsu_list(run->xs, &nreq, "%s/snapshot", run->vss);
	if (!requested || !nreq) {
		free(requested);
		fail(report, XQ_EXIT_FAILED, "the guest asked for a snapshot of no VDI");
		return -EINVAL;
	}
	for (i = 0; i < nreq; i++) {
		if (!disks_find(&run->disks, requested[i])) {
			char *shown = escape(requested[i]);

			fail(report, XQ_EXIT_FAILED, "the guest listed VDI '%s', not a disk of this"
			     " VM in dom0's backend tree", shown ? shown : "?");
			free(shown);
			free(requested);
			return -EINVAL;
		}
	}
	report->nvdis = nreq;
	/* As in XAPI, a VM snapshot only when the guest lists all its disks. */
	snaptype = nreq == run->disks.n ? "vm" : "vdi";
	memcpy(snapuuid, run->uuid, sizeof(snapuuid));
	r = command_budget(run);
	if (r)
		goto out;
	/* The built-in's capture is system calls: no command, no time limit to report. */
	if (run->opts->builtin) {
		report->command_timeout_ms = 0;
		report->timeout_cut = false;
	}
	r = xsu_write(run->xs, snaptype, "%s/snaptype", run->vss);
	if (!r && !run->opts->builtin) {
		env = command_env(run, requested, nreq, snapuuid, snaptype);
		r = env ? 0 : -ENOMEM;
	}
	if (r) {
		fail(report, XQ_EXIT_ERROR, "cannot set up the snapshot: %s", strerror(-r));
		goto out;
	}
	started = now_ms();
	if (run->opts->builtin) {
		r = builtin_capture(&run->builtin, requested, nreq, &output, why, sizeof(why));
		if (r)
			fail(report, XQ_EXIT_FAILED, "%s", why);
	} else {
		r = run_command(run, env, &output);
	}
	report->snapshot_ms = now_ms() - started;
	if (r)
		goto out;
	/* From here on there is a snapshot: ours, whatever the guest says of it. */
	r = record_output(run, output, snapuuid, requested, nreq);
	report->snapuuid = strdup(snapuuid);
	if (!report->snapuuid)
		r = -ENOMEM;
	r = r ?: write_snapinfo(run, snapuuid);
	r = r ?: xsu_write(run->xs, snapuuid, "%s/snapuuid", run->vss);
	if (r)
		fail(report, XQ_EXIT_ERROR, "cannot publish the snapshot in %s: %s", run->vss,
		     strerror(-r));
out:
	env_free(env);
	free(output);
	free(requested);
	return r;
}

/*
 * One create-snapshots per request. A guest that asks again after its
 * answer would otherwise get the command run again and again, for as long
 * as the overall timeout lasts, and fill the host's storage.
 */
static void serve_create_snapshots(struct run *run)
{
	int r;

	if (run->served) {
		run->repeats++;
		xsu_write(run->xs, "snapshots-failed", "%s/status", run->vss);
		return;
	}
	run->served = true;
	run->report->create_ms = now_ms() - run->start;
	r = take_snapshot(run);
	xsu_write(run->xs, r ? "snapshots-failed" : "snapshots-created", "%s/status", run->vss);
	run->report->answered_ms = now_ms() - run->start;
}

static bool value_is(struct xs_handle *xs, const char *want, const char *path)
{
	char *value = xsu_read(xs, "%s", path);
	bool is = value && !strcmp(value, want);

	free(value);
	return is;
}

static bool node_gone(struct xs_handle *xs, const char *path)
{
	char *value = xsu_read(xs, "%s", path);

	free(value);
	return !value && errno == ENOENT;
}

/* XAPI reads snapid/<n> sorted by (length, name), so "10" follows "9". */
static int snapid_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static char *read_snapid(struct xs_handle *xs, const char *dom_path)
{
	char **chunks, *id, *chunk, *tmp;
	unsigned int n, i;

	chunks = xsu_list(xs, &n, "%s/control/snapshot/snapid", dom_path);
	if (!chunks)
		return NULL;
	qsort(chunks, n, sizeof(*chunks), snapid_cmp);
	id = strdup("");
	for (i = 0; i < n && id; i++) {
		chunk = xsu_read(xs, "%s/control/snapshot/snapid/%s", dom_path, chunks[i]);
		tmp = id;
		if (asprintf(&id, "%s%s", tmp, chunk ? chunk : "") < 0)
			id = NULL;
		free(tmp);
		free(chunk);
	}
	free(chunks);
	tmp = id ? escape(id) : NULL;
	free(id);
	return tmp;
}

/* Kept escaped: the report prints them as they are. */
static int add_guest_key(struct snapshot_report *report, const char *key, const char *value)
{
	char **keys, *k = escape(key), *v = escape(value);
	int r = -ENOMEM;

	keys = realloc(report->guest_keys, (report->nguest_keys + 1) * sizeof(*keys));
	if (keys)
		report->guest_keys = keys;
	if (keys && k && v && asprintf(&keys[report->nguest_keys], "%s=%s", k, v) >= 0) {
		report->nguest_keys++;
		r = 0;
	}
	free(k);
	free(v);
	return r;
}

/* control/snapshot/KEY as the guest wrote it, escaped; NULL if absent. */
static char *guest_value(struct run *run, const char *key)
{
	char *value = xsu_read(run->xs, "%s/control/snapshot/%s", run->vm->dom_path, key);
	char *shown = value ? escape(value) : NULL;

	free(value);
	return shown;
}

/*
 * Keys the agent adds beyond XAPI's (consistency, freeze-window-ms,
 * filesystems/N, hooks/NAME, error/message), one level deep.
 */
static void read_guest_keys(struct run *run)
{
	static const char *const xapi_keys[] = { "action", "status", "snapid", "snapuuid", NULL };
	const char *base = run->vm->dom_path;
	unsigned int n, nsub, i, j, k;
	char **keys, **sub, *value, path[160];

	keys = xsu_list(run->xs, &n, "%s/control/snapshot", base);
	if (!keys)
		return;
	for (i = 0; i < n; i++) {
		for (k = 0; xapi_keys[k] && strcmp(xapi_keys[k], keys[i]); k++)
			;
		if (xapi_keys[k])
			continue;
		value = xsu_read(run->xs, "%s/control/snapshot/%s", base, keys[i]);
		if (value && *value)
			add_guest_key(run->report, keys[i], value);
		free(value);
		sub = xsu_list(run->xs, &nsub, "%s/control/snapshot/%s", base, keys[i]);
		for (j = 0; sub && j < nsub; j++) {
			value = xsu_read(run->xs, "%s/control/snapshot/%s/%s", base, keys[i], sub[j]);
			snprintf(path, sizeof(path), "%s/%s", keys[i], sub[j]);
			if (value)
				add_guest_key(run->report, path, value);
			free(value);
		}
		free(sub);
	}
	free(keys);
}

/*
 * What the guest says the snapshot is worth, for the mark: only the values
 * the agent writes pass, anything else reads as "unknown" and -1.
 */
static void read_quality(struct run *run)
{
	static const char *const levels[] = {
		"kernel-freeze", "per-mount-freeze", "crash-consistent", NULL
	};
	struct snapshot_report *report = run->report;
	char *value, *end;
	size_t i;

	snprintf(report->consistency, sizeof(report->consistency), "unknown");
	value = xsu_read(run->xs, "%s/control/snapshot/consistency", run->vm->dom_path);
	for (i = 0; value && levels[i]; i++)
		if (!strcmp(value, levels[i]))
			snprintf(report->consistency, sizeof(report->consistency), "%s", levels[i]);
	free(value);
	report->window_ms = -1;
	value = xsu_read(run->xs, "%s/control/snapshot/freeze-window-ms", run->vm->dom_path);
	if (value && *value && strspn(value, "0123456789") == strlen(value) && strlen(value) < 12)
		report->window_ms = strtoll(value, &end, 10);
	free(value);
}

/*
 * The guest's success, checked against what dom0 did: it can only confirm
 * the snapshot dom0 took, by its uuid, once, and without having asked twice.
 */
static enum xq_exit check_success(struct run *run)
{
	struct snapshot_report *report = run->report;
	char *guest;
	bool same;

	if (run->repeats)
		return fail(report, XQ_EXIT_FAILED, "the guest asked for create-snapshots %u more"
			    " time%s in one request; refused", run->repeats,
			    run->repeats == 1 ? "" : "s");
	if (!report->snapuuid)
		return fail(report, XQ_EXIT_FAILED,
			    "the guest reported success, but dom0 took no snapshot");
	guest = guest_value(run, "snapuuid");
	same = guest && !strcmp(guest, report->snapuuid);
	if (!same) {
		fail(report, XQ_EXIT_FAILED, "the guest reported snapshot %s%s%s, but the one"
		     " dom0 took is %s", guest ? "'" : "", guest ? guest : "no uuid",
		     guest ? "'" : "", report->snapuuid);
		free(guest);
		return report->outcome;
	}
	free(guest);
	report->snapid = read_snapid(run->xs, run->vm->dom_path);
	if (!report->snapid)
		return fail(report, XQ_EXIT_FAILED, "the guest reported success without snapid");
	read_quality(run);
	report->outcome = XQ_EXIT_OK;
	return XQ_EXIT_OK;
}

/* XAPI's reading of the guest's final status. */
static enum xq_exit read_result(struct run *run, const char *status)
{
	struct snapshot_report *report = run->report;
	char *error, *code, *message, *shown;

	read_guest_keys(run);
	if (!strcmp(status, "snapshot-created"))
		return check_success(run);
	if (!strcmp(status, "snapshot-error")) {
		char guest[320];

		error = guest_value(run, "error");
		code = guest_value(run, "error/code");
		message = guest_value(run, "error/message");
		snprintf(guest, sizeof(guest), "the guest reported error '%s' (code %s%s%s)",
			 error ? error : "?", code ? code : "0", message ? ": " : "",
			 message ? message : "");
		free(error);
		free(code);
		free(message);
		/* Our own failure, when there was one, explains the guest's. */
		if (report->detail[0]) {
			char ours[sizeof(report->detail)];

			snprintf(ours, sizeof(ours), "%s", report->detail);
			return fail(report, XQ_EXIT_FAILED, "%s; %s", guest, ours);
		}
		return fail(report, XQ_EXIT_FAILED, "%s", guest);
	}
	shown = escape(status);
	fail(report, XQ_EXIT_FAILED, "the guest wrote an unexpected status '%s'",
	     shown ? shown : "?");
	free(shown);
	return report->outcome;
}

static enum xq_exit wait_and_serve(struct run *run)
{
	const struct snapshot_opts *opts = run->opts;
	struct snapshot_report *report = run->report;
	const char *dom = run->vm->dom_path;
	char status_path[96], action_path[96], request_path[96];
	long long deadline, now;
	bool acked = false;
	char *status;
	size_t lost;
	int r;

	snprintf(status_path, sizeof(status_path), "%s/status", run->vss);
	snprintf(action_path, sizeof(action_path), "%s/control/snapshot/action", dom);
	snprintf(request_path, sizeof(request_path), "%s/control/snapshot", dom);
	for (;;) {
		/* Interrupted: the guest is told the snapshot failed, and thaws. */
		if (interrupted) {
			if (value_is(run->xs, "create-snapshots", status_path))
				xsu_write(run->xs, "snapshots-failed", "%s", status_path);
			if (!strstr(report->detail, "interrupted")) {
				char ours[sizeof(report->detail)];

				snprintf(ours, sizeof(ours), "%s", report->detail);
				fail(report, XQ_EXIT_ERROR, "interrupted by a signal%s%s",
				     ours[0] ? "; " : "", ours);
			}
			report->outcome = XQ_EXIT_ERROR;
			return XQ_EXIT_ERROR;
		}
		if (value_is(run->xs, "create-snapshots", status_path))
			serve_create_snapshots(run);
		/* Windows' next step: refused at once, rather than waited for. */
		else if (value_is(run->xs, "create-snapshotinfo", status_path))
			xsu_write(run->xs, "snapshotinfo-failed", "%s", status_path);
		if (!acked && node_gone(run->xs, action_path)) {
			acked = true;
			report->ack_ms = now_ms() - run->start;
		}
		if (acked) {
			status = xsu_read(run->xs, "%s/control/snapshot/status", dom);
			if (status) {
				report->done_ms = now_ms() - run->start;
				enum xq_exit outcome = read_result(run, status);

				free(status);
				return outcome;
			}
			/*
			 * Our request written and gone without a status: the
			 * agent withdrew it, as it does when xenstore refuses its
			 * result (the domain at its entry quota). XAPI would wait
			 * out its timeout; there is nothing to wait for.
			 */
			if (node_gone(run->xs, request_path))
				return fail(report, XQ_EXIT_FAILED, "the guest withdrew the request:"
					    " %s was removed with no status in it (xenstore may have"
					    " refused the guest's result, as at the domain's entry"
					    " quota; its agent's log says why)", request_path);
		}
		now = now_ms();
		deadline = acked ? run->start + report->ack_ms + opts->timeout_ms :
				   run->start + opts->ack_timeout_ms;
		if (now >= deadline) {
			if (!acked)
				return fail(report, XQ_EXIT_DEOS_NOT_RESPOND,
					    "the guest did not take the request within %d ms",
					    opts->ack_timeout_ms);
			return fail(report, XQ_EXIT_TIMEOUT,
				    "the guest reported no result within %d ms", opts->timeout_ms);
		}
		r = watch_wait(run->watches, 2, deadline - now, &lost);
		if (r == -EPIPE)
			return fail(report, XQ_EXIT_ERROR, "lost the xenstore watch on %s",
				    lost ? run->vss : "control/snapshot");
		if (r)
			return fail(report, XQ_EXIT_ERROR, "poll: %s", strerror(-r));
	}
}

static bool advertises_quiesce(struct xs_handle *xs, const char *dom_path)
{
	char quiesce[96], snapshot[96];

	snprintf(quiesce, sizeof(quiesce), "%s/control/feature-quiesce", dom_path);
	snprintf(snapshot, sizeof(snapshot), "%s/control/feature-snapshot", dom_path);
	return value_is(xs, "1", quiesce) || value_is(xs, "1", snapshot);
}

/*
 * The Windows VSS provider advertises feature-snapshot alone (Linux agents,
 * ours and the older proof of concept, feature-quiesce): it goes on after
 * snapshots-created with create-snapshotinfo, which needs XAPI to attach
 * the snapshot's disks to dom0, and would wait for it without end.
 */
static bool windows_provider(struct xs_handle *xs, const char *dom_path)
{
	char quiesce[96];

	snprintf(quiesce, sizeof(quiesce), "%s/control/feature-quiesce", dom_path);
	return !value_is(xs, "1", quiesce);
}

/* Whether the guest advertises quiesce, given up to wait_ms to start to. */
static bool await_advert(struct xs_handle *xs, const char *dom_path, int wait_ms)
{
	long long deadline = now_ms() + wait_ms;
	struct watch watch;
	char control[96];
	bool advertised;
	size_t lost;

	advertised = advertises_quiesce(xs, dom_path);
	if (advertised || wait_ms <= 0)
		return advertised;
	snprintf(control, sizeof(control), "%s/control", dom_path);
	if (watch_start(&watch, control))
		return false;
	while (!(advertised = advertises_quiesce(xs, dom_path)) && !interrupted &&
	       now_ms() < deadline)
		if (watch_wait(&watch, 1, deadline - now_ms(), &lost))
			break;
	watch_stop(&watch);
	return advertised;
}

/* Every per-snapshot key either side wrote; the set-up of prepare stays. */
static void clean_up(struct run *run)
{
	static const char *const vss_keys[] = {
		"status", "snapshot", "snapinfo", "snapuuid", "snaptype", "snapstring", "vdisnap",
		"dom0-timeout-ms"
	};
	size_t i;

	xsu_rm(run->xs, "%s/control/snapshot", run->vm->dom_path);
	for (i = 0; i < sizeof(vss_keys) / sizeof(vss_keys[0]); i++)
		xsu_rm(run->xs, "%s/%s", run->vss, vss_keys[i]);
}

/*
 * A command about the snapshot once the guest has answered (it is thawed):
 * the discard or the mark. It gets the snapshot, the VM, the ids the
 * snapshot command printed, and what the caller adds (NAME=VALUE each;
 * extra2 may be NULL).
 */
static int after_command(struct run *run, const char *cmd, const char *extra1,
			 const char *extra2)
{
	struct snapshot_report *report = run->report;
	const struct vm *vm = run->vm;
	char *env[9] = { NULL }, *output = NULL;
	int r = -ENOMEM, status, i;

	if (asprintf(&env[0], "XQ_SNAPSHOT_UUID=%s", report->snapuuid) >= 0 &&
	    asprintf(&env[1], "XQ_VM_UUID=%s", vm->uuid) >= 0 &&
	    asprintf(&env[2], "XQ_VM_NAME=%s", vm->name ? vm->name : "") >= 0 &&
	    asprintf(&env[3], "XQ_DOMID=%u", vm->domid) >= 0 &&
	    asprintf(&env[4], "XQ_VDI_COUNT=%u", report->nvdis) >= 0 &&
	    asprintf(&env[5], "XQ_SNAPSHOT_IDS=%s", run->ids ? run->ids : "") >= 0 &&
	    (env[6] = strdup(extra1)) && (!extra2 || (env[7] = strdup(extra2))))
		r = command_run(cmd, env, AFTER_TIMEOUT_MS, false, &output, &status);
	free(output);
	for (i = 0; i < 8; i++)
		free(env[i]);
	return r;
}

/*
 * A snapshot dom0 took that is not a quiesced one: the guest gave up before
 * it was taken (and had thawed), reported an error, never confirmed it, or
 * confirmed another. Left as it is, it would pass for a quiesced snapshot;
 * the discard command removes it, and when it cannot, the report names it.
 */
static void discard(struct run *run)
{
	struct snapshot_report *report = run->report;
	char *reason;

	if (run->opts->builtin) {
		report->discarded = !builtin_discard(&run->builtin);
		return;
	}
	if (!report->snapuuid || !run->opts->discard_command ||
	    asprintf(&reason, "XQ_DISCARD_REASON=%s", report->detail) < 0)
		return;
	report->discarded = !after_command(run, run->opts->discard_command, reason, NULL);
	free(reason);
}

/* The built-in's snapshots get their names once the guest confirmed them. */
static void commit_builtin(struct run *run)
{
	char why[256];

	if (builtin_commit(&run->builtin, why, sizeof(why)))
		fail(run->report, XQ_EXIT_FAILED, "the guest confirmed the snapshot, but %s", why);
}

/*
 * A quiesced snapshot, marked so (on XAPI hosts, in its other-config) with
 * what the guest reported: a plain snapshot looks the same otherwise. The
 * values were checked (check_success), and a failed mark is only a warning:
 * the snapshot is good.
 */
static void mark(struct run *run)
{
	struct snapshot_report *report = run->report;
	char consistency[64], window[64];

	if (!run->opts->mark_command)
		return;
	snprintf(consistency, sizeof(consistency), "XQ_CONSISTENCY=%s", report->consistency);
	snprintf(window, sizeof(window), "XQ_FREEZE_WINDOW_MS=%lld", report->window_ms);
	report->mark_failed = after_command(run, run->opts->mark_command, consistency, window) != 0;
}

int snapshot_vm(struct xs_handle *xs, const struct vm *vm, const struct snapshot_opts *opts,
		struct snapshot_report *report)
{
	struct run run = {
		.xs = xs, .vm = vm, .opts = opts, .report = report,
		.watches = { { .pid = -1, .fd = -1 }, { .pid = -1, .fd = -1 } },
		.builtin = { .control = -1 },
	};
	char control_path[96];
	int r;

	memset(report, 0, sizeof(*report));
	report->ack_ms = report->create_ms = report->answered_ms = report->done_ms = -1;
	report->snapshot_ms = -1;
	snprintf(run.vss, sizeof(run.vss), "/vss/%s", vm->uuid);
	snprintf(control_path, sizeof(control_path), "%s/control/snapshot", vm->dom_path);

	if (!await_advert(xs, vm->dom_path, opts->advert_wait_ms))
		return fail(report, XQ_EXIT_NOT_SUPPORTED,
			    "the guest does not advertise control/feature-quiesce or feature-snapshot"
			    " (waited %d ms)", opts->advert_wait_ms);
	if (windows_provider(xs, vm->dom_path))
		return fail(report, XQ_EXIT_NOT_SUPPORTED,
			    "the guest advertises control/feature-snapshot alone, as the Windows VSS"
			    " provider does, whose snapshots need create-snapshotinfo: not served here");
	r = disks_read(xs, vm, &run.disks);
	if (r)
		return fail(report, XQ_EXIT_ERROR, "cannot read the VM's disks: %s", strerror(-r));
	r = new_uuid(run.uuid);
	if (r) {
		fail(report, XQ_EXIT_ERROR, "cannot make a uuid: %s", strerror(-r));
		goto out;
	}
	/* The slow part of the built-in, before the guest is asked to freeze. */
	if (opts->builtin) {
		char why[256];

		r = builtin_stage(&run.builtin, &run.disks, run.uuid, why, sizeof(why));
		if (r) {
			fail(report, r == -EINTR ? XQ_EXIT_ERROR : XQ_EXIT_FAILED, "%s", why);
			goto out;
		}
	}
	r = watch_start(&run.watches[0], control_path);
	if (!r)
		r = watch_start(&run.watches[1], run.vss);
	if (r) {
		fail(report, XQ_EXIT_ERROR, "cannot watch %s and %s: %s", control_path, run.vss,
		     strerror(-r));
		goto out;
	}
	clean_up(&run);
	run.start = now_ms();
	r = interrupted ? -EINTR : xsu_write(xs, "create-snapshot", "%s/action", control_path);
	if (r) {
		fail(report, XQ_EXIT_ERROR, r == -EINTR ? "interrupted by a signal" :
		     "cannot write %s/action: %s", control_path, strerror(-r));
		goto out;
	}
	wait_and_serve(&run);
out:
	clean_up(&run);
	if (opts->builtin && report->outcome == XQ_EXIT_OK)
		commit_builtin(&run);
	if (report->outcome != XQ_EXIT_OK)
		discard(&run);
	else
		mark(&run);
	watch_stop(&run.watches[0]);
	watch_stop(&run.watches[1]);
	builtin_free(&run.builtin);
	disks_free(&run.disks);
	free(run.ids);
	return report->outcome;
}

void snapshot_report_free(struct snapshot_report *report)
{
	unsigned int i;

	for (i = 0; i < report->nguest_keys; i++)
		free(report->guest_keys[i]);
	free(report->guest_keys);
	free(report->snapuuid);
	free(report->snapid);
}
