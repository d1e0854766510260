// SPDX-License-Identifier: GPL-2.0
/* The snapshot session both front doors share (see session.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "session.h"
#include "state.h"

int session_open(struct session *s, enum session_door door, const char *who)
{
	char holder[STATE_HOLDER_MAX];
	int r;

	if (s->door != SESSION_FREE)
		return -EBUSY;
	if (s->lock_fd >= 0) {
		snprintf(holder, sizeof(holder), "xquiesced (pid %d) for %s", (int)getpid(), who);
		r = state_lock_take(s->lock_fd, holder, s->other, sizeof(s->other));
		if (r == -EBUSY)
			return r;
		if (r)
			WRN("cannot take the session lock: %s; going on", strerror(-r));
	}
	s->door = door;
	snprintf(s->who, sizeof(s->who), "%s", who);
	s->since_ns = monotonic_ns();
	freezer_init(&s->freezer);
	return 0;
}

void session_close(struct session *s)
{
	hooks_free(&s->hooks);
	discovery_free(&s->disc);
	if (s->lock_fd >= 0)
		state_lock_release(s->lock_fd);
	s->door = SESSION_FREE;
	s->who[0] = '\0';
}

bool session_busy(const struct session *s)
{
	return s->door != SESSION_FREE;
}

const char *session_busy_text(const struct session *s, char *buf, size_t len)
{
	if (s->door == SESSION_FREE) {
		snprintf(buf, len, "another freeze holds the filesystems: %s", s->other);
		return buf;
	}
	snprintf(buf, len, "another snapshot holds the agent: %s, for %.1f s", s->who,
		 (monotonic_ns() - s->since_ns) / 1e9);
	return buf;
}

static void collect_hooks(const struct hooks *h, bool freeze_runs, struct session_items *items)
{
	items->n = 0;
	for (size_t i = 0; i < h->n && items->n < PROTO_MAX_ITEMS; i++) {
		const struct hook_run *run = freeze_runs ? &h->v[i].freeze : &h->v[i].after;

		if (run->result == HOOK_NOT_RUN)
			continue;
		items->v[items->n].name = h->v[i].name;
		items->v[items->n].text = hook_run_text(run, items->text[items->n],
							sizeof(items->text[0]));
		items->n++;
	}
}

int session_freeze_hooks(struct session *s, struct session_items *items)
{
	int r;

	items->n = 0;
	r = hooks_load(&s->hooks, s->cfg->hooks_dir, s->cfg->hook_timeout_ms);
	if (r) {
		ERR("cannot list the hooks in %s: %s", s->cfg->hooks_dir, strerror(-r));
		return r;
	}
	r = hooks_freeze(&s->hooks);
	collect_hooks(&s->hooks, true, items);
	return r;
}

static const char *mountpoint_of(const struct discovery *disc, const struct frozen_fs *fs)
{
	for (size_t i = 0; i < disc->nfs; i++)
		if (disc->fs[i].major == fs->major && disc->fs[i].minor == fs->minor)
			return disc->fs[i].mountpoint;
	return fs->id;
}

/* SIGTERM or SIGINT waits for the loop to read it: do not freeze now. */
static bool stop_pending(void)
{
	sigset_t set;

	return !sigpending(&set) && (sigismember(&set, SIGTERM) || sigismember(&set, SIGINT));
}

void session_freeze(struct session *s, unsigned int timeout_ms, struct proto_freeze_result *res)
{
	const struct xq_config *cfg = s->cfg;
	const struct discovery_roots roots = { .test_as_xen_disks = s->test_disks };
	const struct freezer_options opt = {
		.backend = s->backend,
		.timeout_ms = timeout_ms,
		.presync = cfg->presync,
		/* the module also takes blkfront filesystems discovery cannot
		 * see (other mount namespaces), unless some are excluded */
		.all_blkfront = !cfg->nexclude_mounts && !cfg->nexclude_fstypes,
		.drain_ms = cfg->drain_ms,
		.drain_dirty_bytes = cfg->drain_dirty_bytes,
		.drain_disks = cfg->drain_disks,
	};
	int r;

	*res = (struct proto_freeze_result){ 0 };
	discovery_free(&s->disc);
	r = discovery_scan(&s->disc, &roots, cfg);
	if (r) {
		res->err = r;
		res->err_text = "cannot find the filesystems of the Xen disks";
		return;
	}
	if (stop_pending()) {
		res->err = -ECANCELED;
		res->err_text = "the agent is stopping";
		return;
	}
	/* The freezer holds the log in memory from here to its thaw. */
	freezer_init(&s->freezer);
	r = freezer_freeze(&s->freezer, &s->disc, &opt);
	if (r) {
		res->err = r;
		res->err_text = s->freezer.result.message;
		if (cfg->on_freeze_failure == ON_FREEZE_FAILURE_CRASH_CONSISTENT) {
			WRN("freeze failed (%s); going on crash-consistent, as configured",
			    s->freezer.result.message);
			res->err = 0;
			res->consistency = PROTO_CRASH_CONSISTENT;
		}
		return;
	}
	res->drain_ms = freezer_drain_ms(&s->freezer.result);
	res->freeze_ms = freezer_freeze_ms(&s->freezer.result);
	switch (s->freezer.result.method) {
	case FREEZE_KERNEL:
		res->consistency = PROTO_KERNEL_FREEZE;
		break;
	case FREEZE_PER_MOUNT:
		res->consistency = PROTO_PER_MOUNT;	/* the freezer said why */
		break;
	case FREEZE_NONE:
		res->consistency = PROTO_CRASH_CONSISTENT;
		break;
	}
	for (unsigned int i = 0; i < s->freezer.result.nfs && i < XQ_MAX_DEVS; i++) {
		const struct frozen_fs *fs = &s->freezer.result.fs[i];

		s->names[i].name = mountpoint_of(&s->disc, fs);
		/* The split of freeze-ms that the benchmarks need: the pre-sync
		 * leaves writers running, what follows it blocks them. */
		DBG("froze %s (%s, %s, level %u): pre-sync %.1f ms, frozen %.1f ms after the "
		    "freeze call began", s->names[i].name, fs->id, fs->fstype, fs->level,
		    fs->sync_ns / 1e6, fs->freeze_ns / 1e6);
	}
	res->filesystems = s->names;
	res->nfilesystems = s->freezer.result.nfs;
}

void session_thaw(struct session *s, struct proto_thaw_result *res)
{
	uint64_t thaw_start_ns = monotonic_ns();

	res->err = freezer_thaw(&s->freezer);
	res->window_ms = freezer_window_ms(&s->freezer.result);
	if (res->err == -ETIMEDOUT)
		ERR("the freeze deadline passed before the thaw: the watchdog thawed first, "
		    "and the snapshot may not be consistent");
	else if (res->err)
		ERR("thaw: %s; the snapshot may not be consistent", strerror(-res->err));
	INF("thawed; the disks were frozen for %llu ms", res->window_ms);
	if (s->freezer.result.thawed_ns >= thaw_start_ns)
		DBG("the thaw call took %.1f ms",
		    (s->freezer.result.thawed_ns - thaw_start_ns) / 1e6);
}

int session_finish_hooks(struct session *s, bool thaw, struct session_items *items)
{
	int r = thaw ? hooks_thaw(&s->hooks) : hooks_freeze_fail(&s->hooks);

	collect_hooks(&s->hooks, false, items);
	return r;
}

char *session_join(char *const *a, char *const *b, size_t n, const char *sep)
{
	char *s = NULL, *next;

	for (size_t i = 0; i < n; i++) {
		if (asprintf(&next, "%s%s%s%s%s", s ? s : "", s ? sep : "", a[i],
			     b ? "=" : "", b ? b[i] : "") < 0) {
			free(s);
			return NULL;
		}
		free(s);
		s = next;
	}
	return s;
}

char *session_hooks_text(const struct session *s, bool thawed)
{
	char *text = NULL, *next, a[64], b[64];

	for (size_t i = 0; i < s->hooks.n; i++) {
		const struct hook *h = &s->hooks.v[i];
		bool after = h->after.result != HOOK_NOT_RUN;

		if (h->freeze.result == HOOK_NOT_RUN)
			continue;
		if (asprintf(&next, "%s%s%s=freeze %s%s%s", text ? text : "", text ? "; " : "",
			     h->name, hook_run_text(&h->freeze, a, sizeof(a)),
			     !after ? "" : thawed ? ", thaw " : ", freeze-fail ",
			     after ? hook_run_text(&h->after, b, sizeof(b)) : "") < 0) {
			free(text);
			return NULL;
		}
		free(text);
		text = next;
	}
	return text;
}

void session_record(const struct session *s, const struct session_outcome *o)
{
	int r;

	r = state_write_last(s->state_path, &(struct snapshot_summary){
		.finished = time(NULL),
		.requester = s->door == SESSION_XENSTORE ? "xenstore" : s->who,
		.status = o->status,
		.error = o->error,
		.consistency = o->consistency,
		.window_ms = o->window_ms,
		.drain_ms = o->drain_ms,
		.freeze_ms = o->freeze_ms,
		.filesystems = o->filesystems,
		.hooks = o->hooks,
		.snapuuid = o->snapuuid,
	});
	if (r)
		WRN("cannot write %s: %s", s->state_path, strerror(-r));
}
