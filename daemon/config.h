/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /etc/xquiesce/xquiesced.conf: one "key = value" per line, '#' comments.
 * The parser sees one line at a time and does no I/O, so a fuzzer (or a
 * test) can feed it directly; config_load() is the only function that
 * reads a file.
 */
#ifndef _XQ_CONFIG_H
#define _XQ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define XQ_CONFIG_PATH		"/etc/xquiesce/xquiesced.conf"
#define XQ_HOOKS_DIR		"/etc/xquiesce/hooks.d"
#define XQ_XO_CERT		"/var/lib/xquiesce/xo-sync.crt"
#define XQ_XO_KEY		"/var/lib/xquiesce/xo-sync.key"
#define XQ_XO_PORT		1727

enum freeze_failure_policy {
	ON_FREEZE_FAILURE_FAIL,			/* report snapshot-error */
	ON_FREEZE_FAILURE_CRASH_CONSISTENT,	/* snapshot anyway, say so */
};

/* A source network of xo_allow_from: IPv4 addresses are kept as IPv4-mapped IPv6. */
struct xq_net {
	struct in6_addr addr;
	unsigned int prefix;		/* 0-128, counted on the mapped form */
};

struct xq_config {
	unsigned int freeze_timeout_ms;	/* kernel watchdog: longest freeze */
	unsigned int hook_timeout_ms;	/* per hook invocation */
	unsigned int dom0_timeout_ms;	/* wait for dom0 after create-snapshots */
	enum freeze_failure_policy on_freeze_failure;
	bool presync;			/* syncfs everything before freezing */
	unsigned int drain_ms;		/* dirty-memory drain before it; 0: none */
	uint64_t drain_dirty_bytes;	/* vm.dirty_bytes during the drain */
	bool drain_disks;		/* the frozen disks' own limits, not the system's */
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	char *hooks_dir;
	char **exclude_mounts;		/* fnmatch(3) patterns, NULL-terminated */
	size_t nexclude_mounts;
	char **exclude_fstypes;		/* exact names, NULL-terminated */
	size_t nexclude_fstypes;
	/* Xen Orchestra's sync hook (xo-http.c): off unless xo_sync_hook = yes. */
	bool xo_sync_hook;
	struct in6_addr xo_address;	/* IPv4 as IPv4-mapped */
	bool xo_address_v4;
	unsigned int xo_port;
	unsigned int xo_hold_timeout_ms;	/* longest hold without /post-sync */
	char *xo_token_file;		/* NULL: no token */
	char *xo_cert, *xo_key;
	struct xq_net *xo_allow;	/* sources that may call without a token */
	size_t nxo_allow;
};

struct config_parser {
	struct xq_config *cfg;
	unsigned int line;		/* number of the line last parsed */
	unsigned int freeze_timeout_line;	/* where a key was set, 0: default */
	unsigned int dom0_timeout_line;
	unsigned int xo_hold_timeout_line;
	char error[320];		/* "line N: why", set on failure */
};

/* Fills cfg with the defaults; 0 or -ENOMEM. */
int config_init(struct xq_config *cfg);
void config_free(struct xq_config *cfg);

/* cfg must come from config_init(). */
void config_parser_init(struct config_parser *p, struct xq_config *cfg);
/* One line, without or with its '\n'. 0, -EINVAL (p->error says why), -ENOMEM. */
int config_parse_line(struct config_parser *p, const char *line);
/* Checks that need every line (e.g. limits between keys). 0 or -EINVAL. */
int config_parse_finish(struct config_parser *p);

/*
 * Reads path into a fresh cfg (config_init() included). A missing file
 * gives the defaults. On failure err holds a message naming the file.
 */
int config_load(struct xq_config *cfg, const char *path, char *err, size_t errlen);

const char *config_policy_name(enum freeze_failure_policy policy);
/* "10.0.0.0/24", "192.0.2.7", "fd00::/8": 0 or -EINVAL. */
int config_parse_net(const char *s, struct xq_net *net);

#endif /* _XQ_CONFIG_H */
