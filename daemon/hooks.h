/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hooks: executables in the hooks directory, run in name order with the
 * argument "freeze" before the freeze, in reverse order with "thaw" after
 * the thaw, and in reverse order with "freeze-fail" when the snapshot
 * fails after their "freeze" started (the hook that failed included: it
 * may hold half of what it takes). Never run inside the freeze window.
 * Each run has a timeout; a hook that outlives it is killed with its whole
 * process group. Output goes to the log, one line per line.
 */
#ifndef _XQ_HOOKS_H
#define _XQ_HOOKS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

enum hook_result {
	HOOK_NOT_RUN,
	HOOK_OK,
	HOOK_FAILED,		/* exited non-zero: code is the exit status */
	HOOK_KILLED,		/* died of a signal: code is the signal */
	HOOK_TIMED_OUT,		/* killed at the timeout */
	HOOK_EXEC_FAILED,	/* could not be started: code is the errno */
};

struct hook_run {
	enum hook_result result;
	int code;
	unsigned int ms;
};

struct hook {
	char name[NAME_MAX + 1];
	bool froze;			/* its "freeze" run began: owes a thaw */
	struct hook_run freeze;		/* the "freeze" run */
	struct hook_run after;		/* the "thaw" or "freeze-fail" run */
};

struct hooks {
	char dir[PATH_MAX];
	struct hook *v;
	size_t n;
	unsigned int timeout_ms;
};

/* Lists dir; a missing directory means no hooks. 0 or -errno. */
int hooks_load(struct hooks *h, const char *dir, unsigned int timeout_ms);
void hooks_free(struct hooks *h);

/* "freeze" in order, stops at the first failure: 0 or -ECANCELED. */
int hooks_freeze(struct hooks *h);
/* "thaw" in reverse to every hook that owes one: 0 or -ECANCELED. */
int hooks_thaw(struct hooks *h);
/* "freeze-fail" in reverse to every hook that owes a thaw: 0 or -ECANCELED. */
int hooks_freeze_fail(struct hooks *h);

/* "ok", "exit 3", "timeout", "signal 9", "exec: Permission denied", "not run". */
const char *hook_run_text(const struct hook_run *run, char *buf, size_t len);

#endif /* _XQ_HOOKS_H */
