// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration parser, line by line and through config_load(): every
 * key, and the message for each kind of bad line, which must name the line
 * and quote the value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cmocka-compat.h"
#include "config.h"

struct t {
	struct xq_config cfg;
	struct config_parser p;
};

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (!t || config_init(&t->cfg) < 0)
		return -1;
	config_parser_init(&t->p, &t->cfg);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	config_free(&t->cfg);
	free(t);
	return 0;
}

static void parse_ok(struct t *t, const char *line)
{
	int r = config_parse_line(&t->p, line);

	if (r)
		fail_msg("\"%s\" refused: %s", line, t->p.error);
}

static void parse_fails(struct t *t, const char *line, const char *error)
{
	assert_int_equal(config_parse_line(&t->p, line), -EINVAL);
	assert_string_equal(t->p.error, error);
}

static void test_defaults(void **state)
{
	struct t *t = *state;

	assert_int_equal(t->cfg.freeze_timeout_ms, 15000);
	assert_int_equal(t->cfg.hook_timeout_ms, 30000);
	assert_int_equal(t->cfg.dom0_timeout_ms, 10000);
	assert_int_equal(t->cfg.on_freeze_failure, ON_FREEZE_FAILURE_FAIL);
	assert_true(t->cfg.presync);
	assert_int_equal(t->cfg.drain_ms, 100);
	assert_int_equal(t->cfg.drain_dirty_bytes, 8388608);
	assert_false(t->cfg.drain_disks);
	assert_int_equal(t->cfg.log_level, LOG_INFO);
	assert_string_equal(t->cfg.hooks_dir, "/etc/xquiesce/hooks.d");
	assert_int_equal(t->cfg.nexclude_mounts, 0);
	assert_int_equal(t->cfg.nexclude_fstypes, 0);
	assert_int_equal(config_parse_finish(&t->p), 0);
}

static void test_every_key(void **state)
{
	struct t *t = *state;

	parse_ok(t, "# a comment\n");
	parse_ok(t, "   \n");
	parse_ok(t, "freeze_timeout = 20s\n");
	parse_ok(t, "dom0_timeout=2min   # inline comment\n");
	parse_ok(t, "\thook_timeout = 500ms");
	parse_ok(t, "on_freeze_failure = crash-consistent");
	parse_ok(t, "presync = off");
	parse_ok(t, "hooks_dir = /opt/hooks#1");
	parse_ok(t, "exclude_mount = /boot/efi");
	parse_ok(t, "exclude_mount = /srv/scratch*");
	parse_ok(t, "exclude_fstype = vfat, iso9660 squashfs");
	parse_ok(t, "exclude_fstype = nfs4");
	parse_ok(t, "log_level = debug");

	assert_int_equal(t->p.line, 13);
	assert_int_equal(t->cfg.freeze_timeout_ms, 20000);
	assert_int_equal(t->cfg.dom0_timeout_ms, 120000);
	assert_int_equal(t->cfg.hook_timeout_ms, 500);
	assert_int_equal(t->cfg.on_freeze_failure, ON_FREEZE_FAILURE_CRASH_CONSISTENT);
	assert_string_equal(config_policy_name(t->cfg.on_freeze_failure), "crash-consistent");
	assert_false(t->cfg.presync);
	/* '#' not after white space belongs to the value. */
	assert_string_equal(t->cfg.hooks_dir, "/opt/hooks#1");
	assert_int_equal(t->cfg.nexclude_mounts, 2);
	assert_string_equal(t->cfg.exclude_mounts[0], "/boot/efi");
	assert_string_equal(t->cfg.exclude_mounts[1], "/srv/scratch*");
	assert_null(t->cfg.exclude_mounts[2]);
	assert_int_equal(t->cfg.nexclude_fstypes, 4);
	assert_string_equal(t->cfg.exclude_fstypes[0], "vfat");
	assert_string_equal(t->cfg.exclude_fstypes[1], "iso9660");
	assert_string_equal(t->cfg.exclude_fstypes[2], "squashfs");
	assert_string_equal(t->cfg.exclude_fstypes[3], "nfs4");
	assert_null(t->cfg.exclude_fstypes[4]);
	assert_int_equal(t->cfg.log_level, LOG_DEBUG);
	/* dom0_timeout (2 min) is not shorter than freeze_timeout (20 s). */
	assert_int_equal(config_parse_finish(&t->p), -EINVAL);
	assert_string_equal(t->p.error, "line 4: dom0_timeout (120000 ms) must be shorter than "
					"freeze_timeout (20000 ms)");
}

static void test_durations(void **state)
{
	static const struct { const char *value; unsigned int ms; } ok[] = {
		{ "10", 10000 }, { "10s", 10000 }, { "250ms", 250 }, { "1min", 60000 },
		{ "100ms", 100 }, { "600s", 600000 },
	};
	struct t *t = *state;
	char line[64];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(line, sizeof(line), "freeze_timeout = %s", ok[i].value);
		parse_ok(t, line);
		assert_int_equal(t->cfg.freeze_timeout_ms, ok[i].ms);
	}
}

static void test_bad_values(void **state)
{
	struct t *t = *state;

	parse_fails(t, "freeze_timeout = soon",
		    "line 1: freeze_timeout: \"soon\" is not a duration (expected e.g. 10, 10s, "
		    "500ms, 2min)");
	parse_fails(t, "freeze_timeout = -5",
		    "line 2: freeze_timeout: \"-5\" is not a duration (expected e.g. 10, 10s, "
		    "500ms, 2min)");
	parse_fails(t, "freeze_timeout = 10h",
		    "line 3: freeze_timeout: \"10h\" is not a duration (expected e.g. 10, 10s, "
		    "500ms, 2min)");
	parse_fails(t, "freeze_timeout = 99ms",
		    "line 4: freeze_timeout: \"99ms\" is out of range (expected 100 ms to 600 s)");
	parse_fails(t, "hook_timeout = 99999999999999999999",
		    "line 5: hook_timeout: \"99999999999999999999\" is not a duration (expected "
		    "e.g. 10, 10s, 500ms, 2min)");
	parse_fails(t, "dom0_timeout = 18446744073709551615min",
		    "line 6: dom0_timeout: \"18446744073709551615min\" is not a duration "
		    "(expected e.g. 10, 10s, 500ms, 2min)");
	parse_fails(t, "presync = maybe",
		    "line 7: presync: \"maybe\" is not a boolean (expected yes or no)");
	parse_fails(t, "on_freeze_failure = ignore",
		    "line 8: on_freeze_failure: \"ignore\" is not a policy (expected fail or "
		    "crash-consistent)");
	parse_fails(t, "hooks_dir = hooks.d",
		    "line 9: hooks_dir: \"hooks.d\" is not an absolute path");
	parse_fails(t, "exclude_mount = boot",
		    "line 10: exclude_mount: \"boot\" is not an absolute mount point or pattern");
	parse_fails(t, "log_level = loud",
		    "line 11: log_level: \"loud\" is not a log level (expected error, warning, "
		    "info or debug)");
	/* Nothing was changed by the refused lines. */
	assert_int_equal(t->cfg.freeze_timeout_ms, 15000);
	assert_true(t->cfg.presync);
}

static void test_drain_keys(void **state)
{
	static const struct { const char *value; unsigned long long bytes; } sizes[] = {
		{ "8388608", 8388608 }, { "2048K", 2097152 }, { "16M", 16777216 },
		{ "1G", 1073741824 }, { "64G", 68719476736ULL }, { "1M", 1048576 },
	};
	struct t *t = *state;
	char line[64];
	size_t i;

	parse_ok(t, "drain = 0");
	assert_int_equal(t->cfg.drain_ms, 0);
	parse_ok(t, "drain = 250ms");
	assert_int_equal(t->cfg.drain_ms, 250);
	parse_ok(t, "drain = 10s");
	assert_int_equal(t->cfg.drain_ms, 10000);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(line, sizeof(line), "drain_dirty_bytes = %s", sizes[i].value);
		parse_ok(t, line);
		assert_int_equal(t->cfg.drain_dirty_bytes, sizes[i].bytes);
	}
	t->p.line = 0;
	parse_fails(t, "drain = 10001ms",
		    "line 1: drain: \"10001ms\" is out of range (expected 0 ms to 10 s)");
	parse_fails(t, "drain = a while",
		    "line 2: drain: \"a while\" is not a duration (expected e.g. 10, 10s, 500ms, "
		    "2min)");
	parse_fails(t, "drain_dirty_bytes = 8MB",
		    "line 3: drain_dirty_bytes: \"8MB\" is not a size (expected e.g. 8M, 512K, 1G "
		    "or bytes)");
	parse_fails(t, "drain_dirty_bytes = 8m",
		    "line 4: drain_dirty_bytes: \"8m\" is not a size (expected e.g. 8M, 512K, 1G "
		    "or bytes)");
	parse_fails(t, "drain_dirty_bytes = -8M",
		    "line 5: drain_dirty_bytes: \"-8M\" is not a size (expected e.g. 8M, 512K, 1G "
		    "or bytes)");
	parse_fails(t, "drain_dirty_bytes = 1048575",
		    "line 6: drain_dirty_bytes: \"1048575\" is out of range (expected 1M to 64G)");
	parse_fails(t, "drain_dirty_bytes = 65G",
		    "line 7: drain_dirty_bytes: \"65G\" is out of range (expected 1M to 64G)");
	parse_fails(t, "drain_dirty_bytes = 18446744073709551615G",
		    "line 8: drain_dirty_bytes: \"18446744073709551615G\" is out of range "
		    "(expected 1M to 64G)");
	parse_fails(t, "drain_dirty_bytes = 99999999999999999999",
		    "line 9: drain_dirty_bytes: \"99999999999999999999\" is not a size (expected "
		    "e.g. 8M, 512K, 1G or bytes)");
	parse_ok(t, "drain_scope = disks");
	assert_true(t->cfg.drain_disks);
	parse_fails(t, "drain_scope = Disks",
		    "line 11: drain_scope: \"Disks\" is not a scope (expected system or disks)");
	/* The refused lines changed nothing. */
	assert_int_equal(t->cfg.drain_ms, 10000);
	assert_int_equal(t->cfg.drain_dirty_bytes, 1048576);
	assert_true(t->cfg.drain_disks);
	parse_ok(t, "drain_scope = system");
	assert_false(t->cfg.drain_disks);
}

/* Xen Orchestra's sync hook: off by default, its keys, its networks. */
static void test_xo_keys(void **state)
{
	struct t *t = *state;
	char v4[INET6_ADDRSTRLEN];

	assert_false(t->cfg.xo_sync_hook);
	assert_int_equal(t->cfg.xo_port, 1727);
	assert_int_equal(t->cfg.xo_hold_timeout_ms, 30000);
	assert_null(t->cfg.xo_token_file);
	assert_string_equal(t->cfg.xo_cert, "/var/lib/xquiesce/xo-sync.crt");
	assert_string_equal(t->cfg.xo_key, "/var/lib/xquiesce/xo-sync.key");
	parse_ok(t, "xo_sync_hook = yes");
	parse_ok(t, "xo_address = 127.0.0.1");
	parse_ok(t, "xo_port = 17270");
	parse_ok(t, "xo_hold_timeout = 45s");
	parse_ok(t, "xo_token_file = /etc/xquiesce/xo-token");
	parse_ok(t, "xo_cert = /etc/ssl/xo.crt");
	parse_ok(t, "xo_key = /etc/ssl/private/xo.key");
	parse_ok(t, "xo_allow_from = 10.0.0.0/24, 192.0.2.7");
	parse_ok(t, "xo_allow_from = fd00::/8");
	assert_true(t->cfg.xo_sync_hook);
	assert_true(t->cfg.xo_address_v4);
	inet_ntop(AF_INET6, &t->cfg.xo_address, v4, sizeof(v4));
	assert_string_equal(v4, "::ffff:127.0.0.1");
	assert_int_equal(t->cfg.xo_port, 17270);
	assert_int_equal(t->cfg.xo_hold_timeout_ms, 45000);
	assert_string_equal(t->cfg.xo_token_file, "/etc/xquiesce/xo-token");
	assert_string_equal(t->cfg.xo_cert, "/etc/ssl/xo.crt");
	assert_string_equal(t->cfg.xo_key, "/etc/ssl/private/xo.key");
	assert_int_equal(t->cfg.nxo_allow, 3);
	assert_int_equal(t->cfg.xo_allow[0].prefix, 96 + 24);
	assert_int_equal(t->cfg.xo_allow[1].prefix, 128);
	assert_int_equal(t->cfg.xo_allow[2].prefix, 8);
	parse_fails(t, "xo_allow_from = 10.0.0.1/24", "line 10: xo_allow_from: \"10.0.0.1/24\" is "
		    "not an address or network (expected e.g. 192.0.2.10, 10.0.0.0/24 or fd00::/64, "
		    "host bits zero)");
	parse_fails(t, "xo_allow_from = 10.0.0.0/33", "line 11: xo_allow_from: \"10.0.0.0/33\" is "
		    "not an address or network (expected e.g. 192.0.2.10, 10.0.0.0/24 or fd00::/64, "
		    "host bits zero)");
	parse_fails(t, "xo_address = localhost", "line 12: xo_address: \"localhost\" is not an IP "
		    "address (expected e.g. 0.0.0.0, :: or 192.0.2.10)");
	parse_fails(t, "xo_port = 70000", "line 13: xo_port: \"70000\" is not a port number "
		    "(expected 1 to 65535)");
	parse_fails(t, "xo_hold_timeout = 500ms", "line 14: xo_hold_timeout: \"500ms\" is out of "
		    "range (expected 1000 ms to 600 s)");
	parse_fails(t, "xo_token_file = token", "line 15: xo_token_file: \"token\" is not an "
		    "absolute path");
}

static void test_bad_lines(void **state)
{
	struct t *t = *state;

	parse_fails(t, "freeze_timeout 10", "line 1: \"freeze_timeout 10\" is not of the form "
					     "key = value");
	parse_fails(t, "= 10", "line 2: missing key before '='");
	parse_fails(t, "presync =   # nothing", "line 3: presync: missing value");
	parse_fails(t, "Freeze_Timeout = 10",
		    "line 4: unknown key \"Freeze_Timeout\" (expected freeze_timeout, "
		    "dom0_timeout, hook_timeout, drain, drain_dirty_bytes, drain_scope, on_freeze_failure, "
		    "presync, hooks_dir, exclude_mount, exclude_fstype, log_level, xo_sync_hook, "
		    "xo_address, xo_port, xo_hold_timeout, xo_token_file, xo_cert, xo_key or "
		    "xo_allow_from)");
	parse_fails(t, "exclude_fstype = ext4,averyveryveryveryveryverylongtypename",
		    "line 5: exclude_fstype: \"averyveryveryveryveryverylongtypename\" is too long for a "
		    "filesystem type");
}

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/xq-test-config-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_load(void **state)
{
	char *path = write_file("# xquiesced.conf\nfreeze_timeout = 30\n"
				"exclude_mount = /var/cache/*\non_freeze_failure = fail\n");
	struct xq_config cfg;
	char err[512] = "";

	(void)state;
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.freeze_timeout_ms, 30000);
	assert_int_equal(cfg.nexclude_mounts, 1);
	assert_string_equal(cfg.exclude_mounts[0], "/var/cache/*");
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void test_load_refuses(void **state)
{
	char *path = write_file("freeze_timeout = 30\n\n   presync = sometimes\n");
	struct xq_config cfg;
	char err[512], want[600];

	(void)state;
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: line 3: presync: \"sometimes\" is not a boolean (expected yes or no)", path);
	assert_string_equal(err, want);
	assert_null(cfg.hooks_dir);
	unlink(path);
	free(path);
}

static void test_load_long_line(void **state)
{
	char *text = malloc(10000), *path;
	struct xq_config cfg;
	char err[512];

	(void)state;
	strcpy(text, "presync = yes\nhooks_dir = /");
	memset(text + strlen(text), 'a', 9000);
	strcpy(text + 14 + 13 + 9000, "\n");
	path = write_file(text);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": line 2: line longer than "));
	unlink(path);
	free(path);
	free(text);
}

static void test_load_missing_file_gives_defaults(void **state)
{
	struct xq_config cfg;
	char err[64] = "";

	(void)state;
	assert_int_equal(config_load(&cfg, "/nonexistent/xquiesced.conf", err, sizeof(err)), 0);
	assert_int_equal(cfg.freeze_timeout_ms, 15000);
	assert_string_equal(cfg.hooks_dir, "/etc/xquiesce/hooks.d");
	config_free(&cfg);
}

static void test_shipped_default_config(void **state)
{
	struct xq_config cfg;
	char err[512] = "";

	(void)state;
	assert_int_equal(config_load(&cfg, XQ_UNIT_DATA "/../../../conf/xquiesced.conf",
				     err, sizeof(err)), 0);
	assert_string_equal(err, "");
	/* Commented out, the shipped values are the defaults. */
	assert_int_equal(cfg.freeze_timeout_ms, 15000);
	assert_int_equal(cfg.nexclude_mounts, 0);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xo_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_refuses),
		cmocka_unit_test(test_load_long_line),
		cmocka_unit_test(test_load_missing_file_gives_defaults),
		cmocka_unit_test(test_shipped_default_config),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
