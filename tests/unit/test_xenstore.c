// SPDX-License-Identifier: GPL-2.0
/*
 * daemon/xenstore.c over a fake libxenstore: only xs_read, xs_directory,
 * xs_write and xs_rm are wrapped (ld --wrap), and they answer from a table
 * of keys, so these tests check what the transport reads and writes and
 * how it treats absent keys and refusals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "cmocka-compat.h"
#include "store.h"

struct key {
	const char *path;
	const char *value;	/* NULL: the read fails with err */
	int err;
};

static const struct key *keys;
static char calls[64][160];
static size_t ncalls;
static const char *fail_write;	/* path whose write fails with EACCES */

static __attribute__((format(printf, 1, 2))) void call(const char *fmt, ...)
{
	va_list ap;

	assert_true(ncalls < sizeof(calls) / sizeof(calls[0]));
	va_start(ap, fmt);
	vsnprintf(calls[ncalls++], sizeof(calls[0]), fmt, ap);
	va_end(ap);
}

static const struct key *lookup(const char *path)
{
	for (const struct key *k = keys; k && k->path; k++)
		if (!strcmp(k->path, path))
			return k;
	return NULL;
}

/* The wrapped edges: ld --wrap sends libxenstore's calls here. */
void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len);
char **__wrap_xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num);
bool __wrap_xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data, unsigned int len);
bool __wrap_xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path);

void *__wrap_xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
	const struct key *k = lookup(path);

	(void)h;
	(void)t;
	call("read %s", path);
	if (!k || !k->value) {
		errno = k ? k->err : ENOENT;
		return NULL;
	}
	*len = (unsigned int)strlen(k->value);
	return strdup(k->value);
}

/* libxenstore's layout: the pointers, then the strings, in one block. */
char **__wrap_xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num)
{
	const struct key *k = lookup(path);
	size_t n = 0, len;
	char **v, *s;

	(void)h;
	(void)t;
	call("directory %s", path);
	if (!k || !k->value) {
		errno = k ? k->err : ENOENT;
		return NULL;
	}
	len = strlen(k->value) + 1;
	for (const char *c = k->value; *c; c++)
		n += *c == ' ';
	n += *k->value != '\0';
	v = malloc((n + 1) * sizeof(*v) + len);
	assert_non_null(v);
	s = memcpy(&v[n + 1], k->value, len);
	*num = 0;
	for (char *w = strtok(s, " "); w; w = strtok(NULL, " "))
		v[(*num)++] = w;
	return v;
}

bool __wrap_xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data, unsigned int len)
{
	(void)h;
	(void)t;
	assert_int_equal(strlen(data), len);
	call("write %s=%s", path, (const char *)data);
	if (fail_write && !strcmp(path, fail_write)) {
		errno = EACCES;
		return false;
	}
	return true;
}

bool __wrap_xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	(void)h;
	(void)t;
	call("rm %s", path);
	errno = ENOENT;		/* nothing to remove: the transport must not mind */
	return false;
}

static int reset(void **state)
{
	(void)state;
	keys = NULL;
	ncalls = 0;
	fail_write = NULL;
	return 0;
}

static void check_calls(const char *const *want)
{
	size_t n;

	for (n = 0; want[n]; n++) {
		if (n >= ncalls)
			fail_msg("call %zu missing, expected %s", n, want[n]);
		assert_string_equal(calls[n], want[n]);
	}
	assert_int_equal(ncalls, n);
}

#define CALLS(...) check_calls((const char *const[]){ __VA_ARGS__, NULL })
#define VM "/vm/3f1c2b9a-0d4e-4c8f-9a71-5b2e6d0c1a77"
#define BE "/local/domain/0/backend/vbd/7/"

static void test_read_guest(void **state)
{
	static const struct key k[] = {
		{ "vm", VM, 0 },
		{ "device/vbd", "51712 51728 5632 768", 0 },
		{ "device/vbd/51712/device-type", "disk", 0 },
		{ "device/vbd/51712/backend", BE "51712", 0 },
		{ BE "51712/sm-data/vdi-uuid", "aaaaaaaa-1111-4222-8333-444444444444", 0 },
		{ BE "51712/dev", "xvda", 0 },
		{ "device/vbd/51728/device-type", "disk", 0 },
		{ "device/vbd/51728/backend", BE "51728", 0 },
		{ "device/vbd/5632/device-type", "cdrom", 0 },
		{ "device/vbd/5632/backend", "backend/relative", 0 },
		{ "device/vbd/768/device-type", "disk", 0 },
		{}
	};
	struct store s = { 0 };
	struct store_guest g;

	(void)state;
	keys = k;
	assert_int_equal(store_read_guest(&s, &g), 0);
	assert_string_equal(g.g.vm, VM);
	assert_null(g.g.vss);
	assert_int_equal(g.g.read_err, 0);
	assert_int_equal(g.g.nvbds, 4);
	assert_string_equal(g.g.vbds[0].vdi_uuid, "aaaaaaaa-1111-4222-8333-444444444444");
	assert_string_equal(g.g.vbds[0].dev, "xvda");
	/* absent keys are NULL, for the engine to judge */
	assert_string_equal(g.g.vbds[1].devid, "51728");
	assert_null(g.g.vbds[1].vdi_uuid);
	assert_null(g.g.vbds[1].dev);
	assert_null(g.g.vbds[3].backend);
	/* a malformed backend is passed on, never followed */
	assert_string_equal(g.g.vbds[2].backend, "backend/relative");
	assert_null(g.g.vbds[2].vdi_uuid);
	CALLS("read vm", "read vss", "directory device/vbd",
	      "read device/vbd/51712/device-type", "read device/vbd/51712/backend",
	      "read " BE "51712/sm-data/vdi-uuid", "read " BE "51712/dev",
	      "read device/vbd/51728/device-type", "read device/vbd/51728/backend",
	      "read " BE "51728/sm-data/vdi-uuid", "read " BE "51728/dev",
	      "read device/vbd/5632/device-type", "read device/vbd/5632/backend",
	      "read device/vbd/768/device-type", "read device/vbd/768/backend");
	store_guest_free(&g);
}

static void test_read_guest_refused(void **state)
{
	static const struct key k[] = {
		{ "vm", VM, 0 },
		{ "device/vbd", "51712", 0 },
		{ "device/vbd/51712/device-type", "disk", 0 },
		{ "device/vbd/51712/backend", BE "51712", 0 },
		{ BE "51712/sm-data/vdi-uuid", NULL, EACCES },
		{}
	};
	static const struct key no_vbd[] = { { "vss", "/vss/x", 0 }, {} };
	struct store s = { 0 };
	struct store_guest g;

	(void)state;
	keys = k;
	assert_int_equal(store_read_guest(&s, &g), -EACCES);
	assert_int_equal(g.g.read_err, -EACCES);
	assert_string_equal(g.g.read_err_path, BE "51712/sm-data/vdi-uuid");
	store_guest_free(&g);

	/* no device/vbd at all: no disk, and no error */
	keys = no_vbd;
	ncalls = 0;
	assert_int_equal(store_read_guest(&s, &g), 0);
	assert_int_equal(g.g.read_err, 0);
	assert_int_equal(g.g.nvbds, 0);
	assert_string_equal(g.g.vss, "/vss/x");
	store_guest_free(&g);
}

static void test_apply_in_order(void **state)
{
	struct xs_op ops[] = {
		{ XS_OP_RM, (char *)"control/snapshot/action", NULL },
		{ XS_OP_WRITE, (char *)"/vss/u/status", (char *)"provider-initialized" },
		{ XS_OP_WRITE, (char *)"/vss/u/snapshot/v", (char *)"" },
		{ XS_OP_WRITE, (char *)"control/snapshot/status", (char *)"snapshot-error" },
	};
	struct proto_out out = { .ops = ops, .nops = 4 };
	struct store s = { 0 };
	size_t next = 0;

	(void)state;
	/* removing what is not there succeeds */
	assert_int_equal(store_apply(&s, &out, &next), 0);
	assert_int_equal(next, 4);
	CALLS("rm control/snapshot/action", "write /vss/u/status=provider-initialized",
	      "write /vss/u/snapshot/v=", "write control/snapshot/status=snapshot-error");

	/* a refusal stops there, and says which */
	ncalls = 0;
	next = 0;
	fail_write = "/vss/u/status";
	assert_int_equal(store_apply(&s, &out, &next), -EACCES);
	assert_int_equal(next, 1);
	CALLS("rm control/snapshot/action", "write /vss/u/status=provider-initialized");

	/* and it goes on from the next one when asked */
	ncalls = 0;
	next++;
	assert_int_equal(store_apply(&s, &out, &next), 0);
	CALLS("write /vss/u/snapshot/v=", "write control/snapshot/status=snapshot-error");
}

static void test_lost(void **state)
{
	(void)state;
	assert_true(store_lost(-EBADF));
	assert_true(store_lost(-ECONNRESET));
	assert_false(store_lost(-ENOENT));
	assert_false(store_lost(-EACCES));
	assert_false(store_lost(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_read_guest, reset),
		cmocka_unit_test_setup(test_read_guest_refused, reset),
		cmocka_unit_test_setup(test_apply_in_order, reset),
		cmocka_unit_test_setup(test_lost, reset),
	};

	return cmocka_run_group_tests_name("xenstore", tests, NULL, NULL);
}
