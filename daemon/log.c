// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libkmod.h>

#include "clock.h"
#include "log.h"

#define LOG_LINE_MAX	512
#define LOG_HELD_LINES	512

struct held_line {
	int priority;
	uint64_t ns;
	char text[LOG_LINE_MAX];
};

/*
 * Static, so that it is part of the image mlockall() pins: keeping a line
 * while frozen must not fault, allocate or write.
 */
static struct {
	pthread_mutex_t lock;
	int max_priority;
	int journal;		/* -1: not checked yet */
	int held;
	uint64_t held_since_ns;
	unsigned int nheld;
	unsigned long dropped;
	struct held_line lines[LOG_HELD_LINES];
} log_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.max_priority = LOG_INFO,
	.journal = -1,
};

/* systemd sets JOURNAL_STREAM to "dev:ino" of the stream it connected. */
static int stderr_is_journal(void)
{
	unsigned long long dev, ino;
	const char *env = getenv("JOURNAL_STREAM");
	struct stat st;

	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(int max_priority)
{
	pthread_mutex_lock(&log_state.lock);
	log_state.max_priority = max_priority;
	log_state.journal = stderr_is_journal();
	pthread_mutex_unlock(&log_state.lock);
}

static const char *priority_word(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

/* One write(2) per line, so lines from threads never interleave. */
static void emit(int priority, const char *text)
{
	char line[LOG_LINE_MAX + 32];
	int n;

	if (log_state.journal)
		n = snprintf(line, sizeof(line), "<%d>%s\n", priority, text);
	else
		n = snprintf(line, sizeof(line), "%s%s\n", priority_word(priority), text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR)
		;
}

static void log_vprintf(int priority, const char *fmt, va_list ap)
{
	struct held_line *held;
	char text[LOG_LINE_MAX];

	if (priority > log_state.max_priority)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);

	pthread_mutex_lock(&log_state.lock);
	if (log_state.journal < 0)
		log_state.journal = stderr_is_journal();
	if (!log_state.held) {
		emit(priority, text);
	} else if (log_state.nheld == LOG_HELD_LINES) {
		log_state.dropped++;
	} else {
		held = &log_state.lines[log_state.nheld++];
		held->priority = priority;
		held->ns = monotonic_ns();
		memcpy(held->text, text, sizeof(held->text));
	}
	pthread_mutex_unlock(&log_state.lock);
}

void log_printf(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(priority, fmt, ap);
	va_end(ap);
}

void log_hold(void)
{
	pthread_mutex_lock(&log_state.lock);
	if (!log_state.held) {
		log_state.held = 1;
		log_state.held_since_ns = monotonic_ns();
		log_state.nheld = 0;
		log_state.dropped = 0;
	}
	pthread_mutex_unlock(&log_state.lock);
}

void log_release(void)
{
	char text[LOG_LINE_MAX + 48];
	unsigned int i;

	pthread_mutex_lock(&log_state.lock);
	if (!log_state.held) {
		pthread_mutex_unlock(&log_state.lock);
		return;
	}
	log_state.held = 0;
	for (i = 0; i < log_state.nheld; i++) {
		struct held_line *l = &log_state.lines[i];
		uint64_t us = (l->ns - log_state.held_since_ns) / 1000;

		snprintf(text, sizeof(text), "[held +%llu.%03llu ms] %s",
			 (unsigned long long)us / 1000, (unsigned long long)us % 1000, l->text);
		emit(l->priority, text);
	}
	if (log_state.dropped) {
		snprintf(text, sizeof(text),
			 "%lu log lines dropped while frozen (buffer holds %d)",
			 log_state.dropped, LOG_HELD_LINES);
		emit(LOG_WARNING, text);
	}
	log_state.nheld = 0;
	log_state.dropped = 0;
	pthread_mutex_unlock(&log_state.lock);
}

bool log_held(void)
{
	bool held;

	pthread_mutex_lock(&log_state.lock);
	held = log_state.held;
	pthread_mutex_unlock(&log_state.lock);
	return held;
}

static void kmod_log(void *data, int priority, const char *file, int line,
		     const char *fn, const char *format, va_list args)
{
	char text[LOG_LINE_MAX];

	(void)data;
	(void)file;
	(void)line;
	(void)fn;
	vsnprintf(text, sizeof(text), format, args);
	/* libkmod's messages end with their own newline. */
	text[strcspn(text, "\n")] = '\0';
	log_printf(priority, "libkmod: %s", text);
}

void log_setup_kmod(struct kmod_ctx *ctx)
{
	/* Its info level is chatter about its own set-up. */
	kmod_set_log_priority(ctx, log_state.max_priority == LOG_INFO ? LOG_WARNING
								      : log_state.max_priority);
	kmod_set_log_fn(ctx, kmod_log, NULL);
}
