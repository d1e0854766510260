// SPDX-License-Identifier: GPL-2.0
/*
 * Xen Orchestra's sync hook without I/O: routes, who may call, the hold's
 * length, and the exact answers, which XO logs when they are not 200.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmocka-compat.h"
#include "config.h"
#include "xo.h"

/* base64("unique long string to ensure the request comes from XO"), XO's own example */
#define SECRET	"unique long string to ensure the request comes from XO"
#define BEARER	"Bearer dW5pcXVlIGxvbmcgc3RyaW5nIHRvIGVuc3VyZSB0aGUgcmVxdWVzdCBjb21lcyBmcm9tIFhP"

static struct in6_addr addr(const char *s)
{
	struct xq_net n;

	assert_int_equal(config_parse_net(s, &n), 0);
	return n.addr;
}

static void test_routes(void **state)
{
	(void)state;
	assert_int_equal(xo_route("GET", "/sync"), XO_SYNC);
	assert_int_equal(xo_route("GET", "/post-sync"), XO_POST_SYNC);
	assert_int_equal(xo_route("GET", "/sync?x=1"), XO_SYNC);
	assert_int_equal(xo_route("POST", "/sync"), XO_METHOD);
	assert_int_equal(xo_route("HEAD", "/post-sync"), XO_METHOD);
	assert_int_equal(xo_route("GET", "/"), XO_NOT_FOUND);
	assert_int_equal(xo_route("GET", "/sync/"), XO_NOT_FOUND);
	assert_int_equal(xo_route("GET", "/syncx"), XO_NOT_FOUND);
	assert_int_equal(xo_route("DELETE", "/post-syncs"), XO_NOT_FOUND);
}

static void test_token(void **state)
{
	struct in6_addr src = addr("192.0.2.7");
	struct xo_auth a;

	(void)state;
	assert_int_equal(xo_auth_init(&a, SECRET, NULL, 0), 0);
	assert_int_equal(xo_authorize(&a, BEARER, &src), XO_ALLOW_TOKEN);
	assert_int_equal(xo_authorize(&a, "bearer  dW5pcXVlIGxvbmcgc3RyaW5nIHRvIGVuc3VyZSB0aGUgcmVx"
				      "dWVzdCBjb21lcyBmcm9tIFhP ", &src), XO_ALLOW_TOKEN);
	assert_int_equal(xo_authorize(&a, BEARER "x", &src), XO_DENY_BAD_TOKEN);
	assert_int_equal(xo_authorize(&a, "Bearer ", &src), XO_DENY_BAD_TOKEN);
	assert_int_equal(xo_authorize(&a, "Basic dW5pcXVl", &src), XO_DENY_BAD_TOKEN);
	/* the secret itself, not its base64, is not the token */
	assert_int_equal(xo_authorize(&a, "Bearer " SECRET, &src), XO_DENY_BAD_TOKEN);
	assert_int_equal(xo_authorize(&a, NULL, &src), XO_DENY_NO_TOKEN);
	/* padding: 1 and 2 bytes left over */
	assert_int_equal(xo_auth_init(&a, "ab", NULL, 0), 0);
	assert_int_equal(xo_authorize(&a, "Bearer YWI=", &src), XO_ALLOW_TOKEN);
	assert_int_equal(xo_auth_init(&a, "abcd", NULL, 0), 0);
	assert_int_equal(xo_authorize(&a, "Bearer YWJjZA==", &src), XO_ALLOW_TOKEN);
}

static void test_allow_list(void **state)
{
	struct xq_net nets[3];
	struct in6_addr in = addr("10.1.2.200"), out = addr("10.1.3.1"), v6 = addr("fd00::17");
	struct in6_addr host = addr("192.0.2.7"), near = addr("192.0.2.8");
	struct xo_auth a;

	(void)state;
	assert_int_equal(config_parse_net("10.1.2.0/24", &nets[0]), 0);
	assert_int_equal(config_parse_net("192.0.2.7", &nets[1]), 0);
	assert_int_equal(config_parse_net("fd00::/8", &nets[2]), 0);
	assert_true(xo_source_allowed(nets, 3, &in));
	assert_false(xo_source_allowed(nets, 3, &out));
	assert_true(xo_source_allowed(nets, 3, &v6));
	assert_true(xo_source_allowed(nets, 3, &host));
	assert_false(xo_source_allowed(nets, 3, &near));
	assert_false(xo_source_allowed(nets, 0, &in));
	/* no token configured: the list alone */
	assert_int_equal(xo_auth_init(&a, NULL, nets, 3), 0);
	assert_int_equal(xo_authorize(&a, NULL, &in), XO_ALLOW_SOURCE);
	assert_int_equal(xo_authorize(&a, NULL, &out), XO_DENY_SOURCE);
	assert_int_equal(xo_authorize(&a, BEARER, &in), XO_DENY_BAD_TOKEN);
	/* both: a wrong token is refused even from the list */
	assert_int_equal(xo_auth_init(&a, SECRET, nets, 3), 0);
	assert_int_equal(xo_authorize(&a, NULL, &in), XO_ALLOW_SOURCE);
	assert_int_equal(xo_authorize(&a, NULL, &out), XO_DENY_NO_TOKEN);
	assert_int_equal(xo_authorize(&a, "Bearer Zm9v", &in), XO_DENY_BAD_TOKEN);
	assert_int_equal(xo_authorize(&a, BEARER, &out), XO_ALLOW_TOKEN);
	assert_true(xo_verdict_ok(XO_ALLOW_SOURCE));
	assert_false(xo_verdict_ok(XO_DENY_SOURCE));
	assert_string_equal(xo_verdict_text(XO_DENY_BAD_TOKEN), "wrong token");
}

static void test_equal(void **state)
{
	const uint8_t a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 2, 3, 5 };

	(void)state;
	assert_true(xo_equal(a, a, 4));
	assert_false(xo_equal(a, b, 4));
	assert_true(xo_equal(a, b, 3));
}

static void test_hold_length(void **state)
{
	const uint64_t s = 1000000000ULL;

	(void)state;
	/* no module deadline (FIFREEZE): the configured hold */
	assert_int_equal(xo_hold_ms(30000, 0, 100 * s), 30000);
	/* the module's deadline 35 s ahead: 30 s fits */
	assert_int_equal(xo_hold_ms(30000, 135 * s, 100 * s), 30000);
	/* the module capped it at 20 s: 15 s, 5 s before the watchdog */
	assert_int_equal(xo_hold_ms(30000, 120 * s, 100 * s), 15000);
	/* less than the margin left: half of it */
	assert_int_equal(xo_hold_ms(30000, 104 * s, 100 * s), 2000);
	assert_int_equal(xo_hold_ms(30000, 99 * s, 100 * s), 0);
}

/* What a write to control/shutdown during a hold means, and what each end says. */
static void test_hold_ends(void **state)
{
	static const struct {
		enum xo_hold_end end;
		int err;
		unsigned int hold_ms;
		const char *want;
	} texts[] = {
		{ XO_END_POST_SYNC, 0, 30000, "thawed on /post-sync" },
		{ XO_END_POST_SYNC, -ETIMEDOUT, 30000, "the module's deadline thawed before "
		  "/post-sync; the snapshot may not be consistent" },
		{ XO_END_DEADLINE, 0, 25000, "no /post-sync within 25000 ms (xo_hold_timeout): "
		  "thawed at the deadline; the snapshot may not be consistent" },
		{ XO_END_SUSPEND, 0, 30000, "the guest was asked to suspend or shut down "
		  "(control/shutdown) while it held Xen Orchestra's freeze: thawed at once, a "
		  "suspend cannot happen frozen; a checkpoint taken now is not quiesced by the "
		  "freeze, its memory and disks are consistent with each other" },
		{ XO_END_SLEPT, 0, 30000, "the guest was suspended while it held Xen Orchestra's "
		  "freeze and has resumed (a checkpoint, or a restore): thawed at once" },
		{ XO_END_NEW_DOMAIN, 0, 30000, "the guest resumed in a new domain (a restore or a "
		  "revert) while it held Xen Orchestra's freeze: thawed at once" },
	};
	const int64_t ms = 1000000LL;
	char why[400];

	(void)state;
	/* the guest has not slept since the freeze: a suspend is asked, or was tried */
	assert_int_equal(xo_shutdown_written(0, 0), XO_END_SUSPEND);
	assert_int_equal(xo_shutdown_written(7 * ms, 7 * ms), XO_END_SUSPEND);
	/* the noise of reading two clocks is not a suspend */
	assert_int_equal(xo_shutdown_written(7 * ms, 7 * ms + XO_SLEPT_MIN_NS - 1), XO_END_SUSPEND);
	assert_int_equal(xo_shutdown_written(7 * ms + 300, 7 * ms), XO_END_SUSPEND);
	/* a guest that never slept reads a few ns either side of 0 */
	assert_int_equal(xo_shutdown_written(30, -5), XO_END_SUSPEND);
	assert_int_equal(xo_shutdown_written(-40, 25), XO_END_SUSPEND);
	/* it slept: a checkpoint (cancelled suspend) or a restore resumed it */
	assert_int_equal(xo_shutdown_written(7 * ms, 7 * ms + XO_SLEPT_MIN_NS), XO_END_SLEPT);
	assert_int_equal(xo_shutdown_written(0, 12000 * ms), XO_END_SLEPT);

	/* only /post-sync with the freeze whole is in time */
	assert_true(xo_end_in_time(XO_END_POST_SYNC, 0));
	assert_false(xo_end_in_time(XO_END_POST_SYNC, -ETIMEDOUT));
	assert_false(xo_end_in_time(XO_END_DEADLINE, 0));
	assert_false(xo_end_in_time(XO_END_SUSPEND, 0));
	assert_false(xo_end_in_time(XO_END_SLEPT, 0));
	assert_false(xo_end_in_time(XO_END_NEW_DOMAIN, 0));
	assert_false(xo_end_in_time(XO_END_STOPPED, 0));

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		xo_end_text(texts[i].end, texts[i].err, texts[i].hold_ms, why, sizeof(why));
		assert_string_equal(why, texts[i].want);
	}
	/* cut to fit, never past the buffer */
	xo_end_text(XO_END_STOPPED, 0, 30000, why, 16);
	assert_string_equal(why, "the agent was s");
}

static void test_replies(void **state)
{
	const char *fs[] = { "/", "/srv/a \"b\"\\c\n" };
	struct xo_reply r;

	(void)state;
	xo_reply_frozen(&r, "kernel-freeze", fs, 2, 12, 30000);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "{\"status\":\"frozen\",\"consistency\":\"kernel-freeze\","
			    "\"freeze_ms\":12,\"thaw_deadline_ms\":30000,\"filesystems\":[\"/\","
			    "\"/srv/a \\\"b\\\"\\\\c\\u000a\"]}\n");
	xo_reply_thawed(&r, 1234, true, "thawed on /post-sync");
	assert_string_equal(r.body, "{\"status\":\"thawed\",\"held_ms\":1234,\"in_time\":true,"
			    "\"reason\":\"thawed on /post-sync\"}\n");
	xo_reply_idle(&r, "");
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "{\"status\":\"not-frozen\",\"reason\":\"no freeze is held for "
			    "Xen Orchestra\"}\n");
	xo_reply_idle(&r, "the last freeze lasted 3000 ms: thawed at the deadline");
	assert_string_equal(r.body, "{\"status\":\"not-frozen\",\"reason\":\"no freeze is held for "
			    "Xen Orchestra\",\"last\":\"the last freeze lasted 3000 ms: thawed at "
			    "the deadline\"}\n");
	xo_reply_refused(&r, 409, "another snapshot holds the agent");
	assert_int_equal(r.code, 409);
	assert_string_equal(r.body, "{\"status\":\"refused\",\"reason\":\"another snapshot holds "
			    "the agent\"}\n");
	xo_reply_failed(&r, "a freeze hook failed: 10-db exit 3");
	assert_int_equal(r.code, 500);
	assert_string_equal(r.body, "{\"status\":\"failed\",\"reason\":\"a freeze hook failed: "
			    "10-db exit 3\"}\n");
}

/* Long values are cut, and the body stays JSON. */
static void test_long_values(void **state)
{
	static const char *fs[300];
	char name[200], q[8];
	struct xo_reply r;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (size_t i = 0; i < 300; i++)
		fs[i] = name;
	xo_reply_frozen(&r, "kernel-freeze", fs, 300, 1, 1);
	assert_true(strlen(r.body) < sizeof(r.body));
	assert_string_equal(r.body + strlen(r.body) - 3, "]}\n");
	assert_int_equal(xo_json_string(q, sizeof(q), "abcdefgh"), 7);
	assert_string_equal(q, "\"abcde\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_hold_length),
		cmocka_unit_test(test_hold_ends),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_long_values),
	};

	return cmocka_run_group_tests_name("xo", tests, NULL, NULL);
}
