// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <arpa/inet.h>

#include "config.h"

#define MS_PER_S	1000U

static int set_string(char **dst, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

/* Keeps the array NULL-terminated so that it can be walked without n. */
static int list_append(char ***list, size_t *n, const char *value)
{
	char **grown = realloc(*list, (*n + 2) * sizeof(**list));

	if (!grown)
		return -ENOMEM;
	*list = grown;
	grown[*n] = strdup(value);
	if (!grown[*n])
		return -ENOMEM;
	grown[++*n] = NULL;
	return 0;
}

static void list_free(char ***list, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

int config_init(struct xq_config *cfg)
{
	*cfg = (struct xq_config){
		.freeze_timeout_ms = 15 * MS_PER_S,
		.hook_timeout_ms = 30 * MS_PER_S,
		.dom0_timeout_ms = 10 * MS_PER_S,
		.on_freeze_failure = ON_FREEZE_FAILURE_FAIL,
		.presync = true,
		.drain_ms = 100,
		.drain_dirty_bytes = 8 << 20,
		.log_level = LOG_INFO,
		.xo_address = IN6ADDR_ANY_INIT,
		.xo_port = XQ_XO_PORT,
		.xo_hold_timeout_ms = 30 * MS_PER_S,
	};
	if (set_string(&cfg->hooks_dir, XQ_HOOKS_DIR) || set_string(&cfg->xo_cert, XQ_XO_CERT) ||
	    set_string(&cfg->xo_key, XQ_XO_KEY)) {
		config_free(cfg);
		return -ENOMEM;
	}
	return 0;
}

void config_free(struct xq_config *cfg)
{
	free(cfg->hooks_dir);
	free(cfg->xo_token_file);
	free(cfg->xo_cert);
	free(cfg->xo_key);
	free(cfg->xo_allow);
	cfg->hooks_dir = cfg->xo_token_file = cfg->xo_cert = cfg->xo_key = NULL;
	cfg->xo_allow = NULL;
	cfg->nxo_allow = 0;
	list_free(&cfg->exclude_mounts, &cfg->nexclude_mounts);
	list_free(&cfg->exclude_fstypes, &cfg->nexclude_fstypes);
}

void config_parser_init(struct config_parser *p, struct xq_config *cfg)
{
	*p = (struct config_parser){ .cfg = cfg };
}

static int fail(struct config_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct config_parser *p, const char *fmt, ...)
{
	int n = snprintf(p->error, sizeof(p->error), "line %u: ", p->line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error + n, sizeof(p->error) - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "15", "15s", "500ms", "2min": whole numbers only, to milliseconds. */
static int parse_duration_ms(const char *value, unsigned long long *ms)
{
	static const struct { const char *suffix; unsigned long long scale; } units[] = {
		{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "min", 60000 },
	};
	unsigned long long n;
	char *end;
	size_t i;

	if (!isdigit((unsigned char)value[0]))
		return -EINVAL;
	errno = 0;
	n = strtoull(value, &end, 10);
	if (errno)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (n > ULLONG_MAX / units[i].scale)
			return -EINVAL;
		*ms = n * units[i].scale;
		return 0;
	}
	return -EINVAL;
}

static int parse_duration(struct config_parser *p, const char *key, const char *value,
			  unsigned int min_ms, unsigned int max_ms, unsigned int *out)
{
	unsigned long long ms;

	if (parse_duration_ms(value, &ms) < 0)
		return fail(p, "%s: \"%s\" is not a duration (expected e.g. 10, 10s, 500ms, 2min)",
			    key, value);
	if (ms < min_ms || ms > max_ms)
		return fail(p, "%s: \"%s\" is out of range (expected %u ms to %u s)",
			    key, value, min_ms, max_ms / MS_PER_S);
	*out = ms;
	return 0;
}

/* "8388608", "8192K", "8M", "1G": whole numbers, binary units. */
static int parse_size(struct config_parser *p, const char *key, const char *value,
		      uint64_t min, uint64_t max, uint64_t *out)
{
	static const struct { const char *suffix; unsigned int shift; } units[] = {
		{ "", 0 }, { "K", 10 }, { "M", 20 }, { "G", 30 },
	};
	unsigned long long n;
	char *end;
	size_t i;

	if (isdigit((unsigned char)value[0])) {
		errno = 0;
		n = strtoull(value, &end, 10);
		for (i = 0; !errno && i < sizeof(units) / sizeof(units[0]); i++) {
			if (strcmp(end, units[i].suffix))
				continue;
			if (n > max >> units[i].shift || n << units[i].shift < min)
				return fail(p, "%s: \"%s\" is out of range (expected %lluM to "
					    "%lluG)", key, value, (unsigned long long)min >> 20,
					    (unsigned long long)max >> 30);
			*out = n << units[i].shift;
			return 0;
		}
	}
	return fail(p, "%s: \"%s\" is not a size (expected e.g. 8M, 512K, 1G or bytes)",
		    key, value);
}

static int parse_bool(struct config_parser *p, const char *key, const char *value, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(value, yes[i]) || !strcasecmp(value, no[i])) {
			*out = !strcasecmp(value, yes[i]);
			return 0;
		}
	}
	return fail(p, "%s: \"%s\" is not a boolean (expected yes or no)", key, value);
}

static int parse_policy(struct config_parser *p, const char *key, const char *value,
			enum freeze_failure_policy *out)
{
	if (!strcmp(value, "fail"))
		*out = ON_FREEZE_FAILURE_FAIL;
	else if (!strcmp(value, "crash-consistent"))
		*out = ON_FREEZE_FAILURE_CRASH_CONSISTENT;
	else
		return fail(p, "%s: \"%s\" is not a policy (expected fail or crash-consistent)",
			    key, value);
	return 0;
}

static int parse_drain_scope(struct config_parser *p, const char *key, const char *value,
			     bool *disks)
{
	if (!strcmp(value, "system"))
		*disks = false;
	else if (!strcmp(value, "disks"))
		*disks = true;
	else
		return fail(p, "%s: \"%s\" is not a scope (expected system or disks)", key, value);
	return 0;
}

static int parse_log_level(struct config_parser *p, const char *key, const char *value,
			   int *out)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (!strcmp(value, levels[i].name)) {
			*out = levels[i].level;
			return 0;
		}
	}
	return fail(p, "%s: \"%s\" is not a log level (expected error, warning, info or debug)",
		    key, value);
}

static int parse_path(struct config_parser *p, const char *key, const char *value, char **out)
{
	if (value[0] != '/')
		return fail(p, "%s: \"%s\" is not an absolute path", key, value);
	if (strlen(value) >= PATH_MAX)
		return fail(p, "%s: the path is longer than %d bytes", key, PATH_MAX - 1);
	return set_string(out, value);
}

/* An address as IPv6, IPv4 ones mapped (::ffff:a.b.c.d); prefix shifted to match. */
static int parse_address(const char *s, struct in6_addr *addr, bool *v4)
{
	struct in_addr a4;

	if (inet_pton(AF_INET6, s, addr) == 1) {
		*v4 = false;
		return 0;
	}
	if (inet_pton(AF_INET, s, &a4) != 1)
		return -EINVAL;
	memset(addr, 0, sizeof(*addr));
	addr->s6_addr[10] = addr->s6_addr[11] = 0xff;
	memcpy(&addr->s6_addr[12], &a4, 4);
	*v4 = true;
	return 0;
}

int config_parse_net(const char *s, struct xq_net *net)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long prefix;
	bool v4;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (parse_address(buf, &net->addr, &v4))
		return -EINVAL;
	prefix = v4 ? 32 : 128;
	if (slash) {
		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end || prefix > (v4 ? 32UL : 128UL))
			return -EINVAL;
	}
	net->prefix = v4 ? prefix + 96 : prefix;
	/* host bits set ("10.0.0.1/24") are a typo more often than not */
	for (unsigned int bit = net->prefix; bit < 128; bit++)
		if (net->addr.s6_addr[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	return 0;
}

/* A space- or comma-separated list of networks; the key may repeat. */
static int parse_allow(struct config_parser *p, const char *key, const char *value)
{
	struct xq_config *cfg = p->cfg;
	struct xq_net *grown;
	char net[64];
	const char *s = value;
	size_t len;

	while (*s) {
		s += strspn(s, " \t,");
		len = strcspn(s, " \t,");
		if (!len)
			break;
		snprintf(net, sizeof(net), "%.*s", (int)(len < sizeof(net) ? len : sizeof(net) - 1), s);
		grown = realloc(cfg->xo_allow, (cfg->nxo_allow + 1) * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		cfg->xo_allow = grown;
		if (len >= sizeof(net) || config_parse_net(net, &grown[cfg->nxo_allow]))
			return fail(p, "%s: \"%.*s\" is not an address or network (expected e.g. "
				    "192.0.2.10, 10.0.0.0/24 or fd00::/64, host bits zero)", key,
				    (int)len, s);
		cfg->nxo_allow++;
		s += len;
	}
	return 0;
}

static int parse_xo_address(struct config_parser *p, const char *key, const char *value)
{
	if (parse_address(value, &p->cfg->xo_address, &p->cfg->xo_address_v4))
		return fail(p, "%s: \"%s\" is not an IP address (expected e.g. 0.0.0.0, :: or "
			    "192.0.2.10)", key, value);
	return 0;
}

static int parse_port(struct config_parser *p, const char *key, const char *value,
		      unsigned int *out)
{
	unsigned long n;
	char *end;

	if (!isdigit((unsigned char)value[0]) || (n = strtoul(value, &end, 10), *end) ||
	    n < 1 || n > 65535)
		return fail(p, "%s: \"%s\" is not a port number (expected 1 to 65535)", key, value);
	*out = n;
	return 0;
}

static int parse_exclude_mount(struct config_parser *p, const char *key, const char *value)
{
	if (value[0] != '/' && value[0] != '*')
		return fail(p, "%s: \"%s\" is not an absolute mount point or pattern", key, value);
	return list_append(&p->cfg->exclude_mounts, &p->cfg->nexclude_mounts, value);
}

/* A space- or comma-separated list; the key may repeat. */
static int parse_exclude_fstypes(struct config_parser *p, const char *key, const char *value)
{
	char type[32];		/* longer than any filesystem type name */
	const char *s = value;
	size_t len;
	int r;

	while (*s) {
		s += strspn(s, " \t,");
		len = strcspn(s, " \t,");
		if (!len)
			break;
		if (len >= sizeof(type))
			return fail(p, "%s: \"%.*s\" is too long for a filesystem type", key,
				    (int)len, s);
		memcpy(type, s, len);
		type[len] = '\0';
		r = list_append(&p->cfg->exclude_fstypes, &p->cfg->nexclude_fstypes, type);
		if (r < 0)
			return r;
		s += len;
	}
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* A '#' starts a comment at the start of a line or after white space. */
static void strip_comment(char *s)
{
	char *c;

	for (c = s; (c = strchr(c, '#')); c++) {
		if (c == s || isspace((unsigned char)c[-1])) {
			*c = '\0';
			return;
		}
	}
}

static int parse_pair(struct config_parser *p, const char *key, const char *value)
{
	struct xq_config *cfg = p->cfg;

	if (!strcmp(key, "freeze_timeout")) {
		p->freeze_timeout_line = p->line;
		return parse_duration(p, key, value, 100, 600 * MS_PER_S, &cfg->freeze_timeout_ms);
	}
	if (!strcmp(key, "dom0_timeout")) {
		p->dom0_timeout_line = p->line;
		return parse_duration(p, key, value, 100, 600 * MS_PER_S, &cfg->dom0_timeout_ms);
	}
	if (!strcmp(key, "hook_timeout"))
		return parse_duration(p, key, value, 100, 3600 * MS_PER_S, &cfg->hook_timeout_ms);
	if (!strcmp(key, "drain"))
		return parse_duration(p, key, value, 0, 10 * MS_PER_S, &cfg->drain_ms);
	if (!strcmp(key, "drain_dirty_bytes"))
		return parse_size(p, key, value, 1ULL << 20, 64ULL << 30, &cfg->drain_dirty_bytes);
	if (!strcmp(key, "drain_scope"))
		return parse_drain_scope(p, key, value, &cfg->drain_disks);
	if (!strcmp(key, "on_freeze_failure"))
		return parse_policy(p, key, value, &cfg->on_freeze_failure);
	if (!strcmp(key, "presync"))
		return parse_bool(p, key, value, &cfg->presync);
	if (!strcmp(key, "hooks_dir"))
		return parse_path(p, key, value, &cfg->hooks_dir);
	if (!strcmp(key, "exclude_mount"))
		return parse_exclude_mount(p, key, value);
	if (!strcmp(key, "exclude_fstype"))
		return parse_exclude_fstypes(p, key, value);
	if (!strcmp(key, "log_level"))
		return parse_log_level(p, key, value, &cfg->log_level);
	if (!strcmp(key, "xo_sync_hook"))
		return parse_bool(p, key, value, &cfg->xo_sync_hook);
	if (!strcmp(key, "xo_address"))
		return parse_xo_address(p, key, value);
	if (!strcmp(key, "xo_port"))
		return parse_port(p, key, value, &cfg->xo_port);
	if (!strcmp(key, "xo_hold_timeout")) {
		p->xo_hold_timeout_line = p->line;
		return parse_duration(p, key, value, 1000, 600 * MS_PER_S,
				      &cfg->xo_hold_timeout_ms);
	}
	if (!strcmp(key, "xo_token_file"))
		return parse_path(p, key, value, &cfg->xo_token_file);
	if (!strcmp(key, "xo_cert"))
		return parse_path(p, key, value, &cfg->xo_cert);
	if (!strcmp(key, "xo_key"))
		return parse_path(p, key, value, &cfg->xo_key);
	if (!strcmp(key, "xo_allow_from"))
		return parse_allow(p, key, value);
	return fail(p, "unknown key \"%s\" (expected freeze_timeout, dom0_timeout, hook_timeout, "
		    "drain, drain_dirty_bytes, drain_scope, on_freeze_failure, presync, hooks_dir, exclude_mount, "
		    "exclude_fstype, log_level, xo_sync_hook, xo_address, xo_port, xo_hold_timeout, "
		    "xo_token_file, xo_cert, xo_key or xo_allow_from)",
		    key);
}

int config_parse_line(struct config_parser *p, const char *line)
{
	char buf[PATH_MAX + 64];
	char *s, *eq, *key, *value;
	size_t len;

	p->line++;
	len = strcspn(line, "\n");
	if (len >= sizeof(buf))
		return fail(p, "line longer than %zu bytes", sizeof(buf) - 1);
	memcpy(buf, line, len);
	buf[len] = '\0';
	strip_comment(buf);
	s = trim(buf);
	if (!*s)
		return 0;
	eq = strchr(s, '=');
	if (!eq)
		return fail(p, "\"%s\" is not of the form key = value", s);
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (!*key)
		return fail(p, "missing key before '='");
	if (!*value)
		return fail(p, "%s: missing value", key);
	return parse_pair(p, key, value);
}

int config_parse_finish(struct config_parser *p)
{
	struct xq_config *cfg = p->cfg;

	/* The agent, not the watchdog, should end a freeze dom0 does not answer. */
	if (cfg->dom0_timeout_ms >= cfg->freeze_timeout_ms) {
		p->line = p->dom0_timeout_line > p->freeze_timeout_line ?
			  p->dom0_timeout_line : p->freeze_timeout_line;
		return fail(p, "dom0_timeout (%u ms) must be shorter than freeze_timeout (%u ms)",
			    cfg->dom0_timeout_ms, cfg->freeze_timeout_ms);
	}
	return 0;
}

int config_load(struct xq_config *cfg, const char *path, char *err, size_t errlen)
{
	struct config_parser p;
	char line[PATH_MAX + 64];
	FILE *f;
	int r;

	r = config_init(cfg);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		config_free(cfg);
		return r;
	}
	config_parser_init(&p, cfg);
	while (fgets(line, sizeof(line), f)) {
		/* A line too long for the buffer is refused, not split. */
		if (!strchr(line, '\n') && !feof(f)) {
			p.line++;
			snprintf(p.error, sizeof(p.error), "line %u: line longer than %zu bytes",
				 p.line, sizeof(line) - 2);
			r = -EINVAL;
			break;
		}
		r = config_parse_line(&p, line);
		if (r < 0)
			break;
	}
	if (!r && ferror(f))
		r = -EIO;
	if (!r)
		r = config_parse_finish(&p);
	fclose(f);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, r == -EINVAL ? p.error : strerror(-r));
		config_free(cfg);
	}
	return r;
}

const char *config_policy_name(enum freeze_failure_policy policy)
{
	return policy == ON_FREEZE_FAILURE_CRASH_CONSISTENT ? "crash-consistent" : "fail";
}
