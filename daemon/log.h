/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging to stderr, with sd-daemon "<N>" priority prefixes when stderr is
 * the journal. Between log_hold() and log_release() (the freeze window)
 * lines go to a fixed in-memory buffer instead: the agent must never wait
 * on journald or on a file that may sit on a frozen filesystem.
 */
#ifndef _XQ_LOG_H
#define _XQ_LOG_H

#include <stdbool.h>
#include <syslog.h>

struct kmod_ctx;

/* Lines above max_priority (LOG_ERR..LOG_DEBUG) are not logged. */
void log_setup(int max_priority);
/* Routes libkmod's own messages into this log. */
void log_setup_kmod(struct kmod_ctx *ctx);

void log_printf(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Start keeping lines in memory; no allocation, no write. */
void log_hold(void);
/* Write the kept lines out, then a line saying how many were dropped. */
void log_release(void);
bool log_held(void);

#define ERR(...) log_printf(LOG_ERR, __VA_ARGS__)
#define WRN(...) log_printf(LOG_WARNING, __VA_ARGS__)
#define INF(...) log_printf(LOG_INFO, __VA_ARGS__)
#define DBG(...) log_printf(LOG_DEBUG, __VA_ARGS__)

#endif /* _XQ_LOG_H */
