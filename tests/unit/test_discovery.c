// SPDX-License-Identifier: GPL-2.0
/*
 * Discovery on the fake guest under data/guest (sys, dev, mountinfo):
 * partitions, LVM with bind and double mounts, md, btrfs over two disks,
 * loop devices stacked on the xfs volume, an unfreezable ESP, exclusions,
 * and disks that are not Xen's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmocka-compat.h"
#include "config.h"
#include "discovery.h"

#define GUEST XQ_UNIT_DATA "/guest"

static const struct discovery_roots guest = {
	.sysfs = GUEST "/sys",
	.dev = GUEST "/dev",
	.mountinfo = GUEST "/mountinfo",
};

static int setup(void **state)
{
	struct discovery *d = calloc(1, sizeof(*d));

	if (!d || discovery_scan(d, &guest, NULL) < 0)
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	discovery_free(*state);
	free(*state);
	return 0;
}

static const struct disc_fs *fs_at(const struct discovery *d, const char *mountpoint)
{
	size_t i;

	for (i = 0; i < d->nfs; i++)
		if (!strcmp(d->fs[i].mountpoint, mountpoint))
			return &d->fs[i];
	return NULL;
}

/* The disks fs lies on, as "xvdb,xvdc". */
static const char *disks_of(const struct discovery *d, const struct disc_fs *fs)
{
	static char buf[256];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < d->ndisks; i++) {
		if (!discovery_fs_on_disk(d, fs, &d->disks[i]))
			continue;
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, d->disks[i].name);
	}
	return buf;
}

static void test_xen_disks(void **state)
{
	static const char *const names[] = { "xvda", "xvdb", "xvdc", "xvdd", "xvde", "xvdf", "xvdg" };
	const struct discovery *d = *state;
	size_t i;

	assert_int_equal(d->ndisks, 7);
	for (i = 0; i < 7; i++) {
		assert_string_equal(d->disks[i].name, names[i]);
		assert_int_equal(d->disks[i].devid, 51712 + 16 * i);
		assert_int_equal(d->disks[i].major, 202);
		assert_int_equal(d->disks[i].minor, 16 * i);
	}
}

static void test_find_vbd(void **state)
{
	const struct discovery *d = *state;

	assert_ptr_equal(discovery_find_vbd(d, "51712"), &d->disks[0]);
	assert_ptr_equal(discovery_find_vbd(d, "device/vbd/51728"), &d->disks[1]);
	assert_ptr_equal(discovery_find_vbd(d, "xvdg"), &d->disks[6]);
	assert_null(discovery_find_vbd(d, "51713"));
	assert_null(discovery_find_vbd(d, "device/vbd/"));
	assert_null(discovery_find_vbd(d, "vda"));
}

static void test_only_filesystems_on_xen_disks(void **state)
{
	const struct discovery *d = *state;

	/* /, ESP, ntfs, "with space", vg-data, vg-logs, md, btrfs pool, two loops. */
	assert_int_equal(d->nfs, 10);
	assert_null(fs_at(d, "/scratch"));		/* virtio disk */
	assert_null(fs_at(d, "/scratch/mnt"));		/* loop on the virtio disk */
	assert_null(fs_at(d, "/other-btrfs"));		/* btrfs on a virtio disk */
	assert_null(fs_at(d, "/run"));
	assert_null(fs_at(d, "/var/lib/docker/overlay2/abc/merged"));
}

static void test_partitions(void **state)
{
	const struct discovery *d = *state;
	const struct disc_fs *root = fs_at(d, "/");
	const struct disc_fs *spaced = fs_at(d, "/srv/with space");

	assert_non_null(root);
	assert_int_equal(root->major, 202);
	assert_int_equal(root->minor, 1);
	assert_string_equal(root->fstype, "ext4");
	assert_string_equal(disks_of(d, root), "xvda");
	assert_int_equal(root->level, 0);
	assert_null(root->excluded);
	assert_non_null(spaced);
	assert_string_equal(spaced->source, "/dev/xvda4");
}

/* vfat has no freeze operation, but the module freezes it at the VFS level. */
static void test_fuse_listed_but_excluded_vfat_kept(void **state)
{
	const struct discovery *d = *state;
	const struct disc_fs *esp = fs_at(d, "/boot/efi");
	const struct disc_fs *ntfs = fs_at(d, "/mnt/ntfs");

	assert_non_null(esp);
	assert_string_equal(esp->fstype, "vfat");
	assert_null(esp->excluded);
	assert_non_null(ntfs);
	assert_string_equal(ntfs->fstype, "fuseblk");
	assert_string_equal(disks_of(d, ntfs), "xvda");
	assert_string_equal(ntfs->excluded, "FUSE filesystems are not frozen");
}

static void test_lvm_with_bind_and_double_mounts(void **state)
{
	const struct discovery *d = *state;
	const struct disc_fs *data = fs_at(d, "/srv/data");
	size_t i, n = 0;

	assert_non_null(data);
	for (i = 0; i < d->nfs; i++)
		n += d->fs[i].major == 254 && d->fs[i].minor == 0;
	assert_int_equal(n, 1);
	assert_int_equal(data->nmounts, 3);
	assert_string_equal(data->source, "/dev/mapper/vg-data");
	assert_string_equal(disks_of(d, data), "xvdb");
	assert_null(fs_at(d, "/var/lib/shared"));
	assert_null(fs_at(d, "/mnt/data-again"));
	assert_string_equal(disks_of(d, fs_at(d, "/var/log")), "xvdb");
}

static void test_md(void **state)
{
	const struct discovery *d = *state;
	const struct disc_fs *md = fs_at(d, "/srv/md");

	assert_non_null(md);
	assert_int_equal(md->major, 9);
	assert_string_equal(disks_of(d, md), "xvdc,xvdd");
}

static void test_btrfs_over_two_disks(void **state)
{
	const struct discovery *d = *state;
	const struct disc_fs *pool = fs_at(d, "/srv/pool");

	assert_non_null(pool);
	/* Named by its anonymous device, as mountinfo gives sb->s_dev. */
	assert_int_equal(pool->major, 0);
	assert_int_equal(pool->minor, 45);
	assert_int_equal(pool->nmounts, 2);
	assert_string_equal(disks_of(d, pool), "xvde,xvdf");
	assert_null(fs_at(d, "/home"));
}

static void test_loop_stacking_levels(void **state)
{
	const struct discovery *d = *state;
	const struct disc_fs *inner = fs_at(d, "/srv/inner");
	const struct disc_fs *loopfs = fs_at(d, "/srv/loopfs");
	const struct disc_fs *data = fs_at(d, "/srv/data");

	assert_non_null(inner);
	assert_non_null(loopfs);
	/* inner.img lies on loopfs, whose disk.img lies on the xfs volume. */
	assert_int_equal(inner->level, 0);
	assert_int_equal(loopfs->level, 1);
	assert_int_equal(data->level, 2);
	assert_string_equal(disks_of(d, inner), "xvdb");
	assert_string_equal(disks_of(d, loopfs), "xvdb");
	assert_int_equal(fs_at(d, "/srv/md")->level, 0);
}

static void test_exclusions(void **state)
{
	struct xq_config cfg;
	struct config_parser p;
	struct discovery d;

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	config_parser_init(&p, &cfg);
	/* Matches the second mount of vg-data, which excludes the whole fs. */
	assert_int_equal(config_parse_line(&p, "exclude_mount = /mnt/data-*"), 0);
	assert_int_equal(config_parse_line(&p, "exclude_mount = /var/log"), 0);
	assert_int_equal(config_parse_line(&p, "exclude_fstype = btrfs"), 0);
	assert_int_equal(discovery_scan(&d, &guest, &cfg), 0);

	assert_int_equal(d.nfs, 10);
	assert_string_equal(fs_at(&d, "/srv/data")->excluded, "excluded by exclude_mount");
	assert_string_equal(fs_at(&d, "/var/log")->excluded, "excluded by exclude_mount");
	assert_string_equal(fs_at(&d, "/srv/pool")->excluded, "excluded by exclude_fstype");
	assert_null(fs_at(&d, "/boot/efi")->excluded);
	assert_null(fs_at(&d, "/")->excluded);
	assert_null(fs_at(&d, "/srv/md")->excluded);
	assert_null(fs_at(&d, "/srv/loopfs")->excluded);
	discovery_free(&d);
	config_free(&cfg);
}

static void test_extra_test_disk(void **state)
{
	static const char *const extra[] = { "vda", NULL };
	struct discovery_roots roots = guest;
	struct discovery d;

	(void)state;
	roots.test_as_xen_disks = extra;
	assert_int_equal(discovery_scan(&d, &roots, NULL), 0);
	assert_int_equal(d.ndisks, 8);
	assert_string_equal(d.disks[0].name, "vda");
	assert_int_equal(d.disks[0].devid, 0);
	assert_int_equal(d.nfs, 12);
	assert_string_equal(disks_of(&d, fs_at(&d, "/scratch/mnt")), "vda");
	assert_int_equal(fs_at(&d, "/scratch/mnt")->level, 0);
	assert_int_equal(fs_at(&d, "/scratch")->level, 1);
	discovery_free(&d);
}

static void test_missing_mountinfo(void **state)
{
	struct discovery_roots roots = guest;
	struct discovery d;

	(void)state;
	roots.mountinfo = GUEST "/no-such-mountinfo";
	assert_int_equal(discovery_scan(&d, &roots, NULL), -ENOENT);
	assert_int_equal(d.nfs, 0);
	assert_null(d.fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xen_disks),
		cmocka_unit_test(test_find_vbd),
		cmocka_unit_test(test_only_filesystems_on_xen_disks),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_fuse_listed_but_excluded_vfat_kept),
		cmocka_unit_test(test_lvm_with_bind_and_double_mounts),
		cmocka_unit_test(test_md),
		cmocka_unit_test(test_btrfs_over_two_disks),
		cmocka_unit_test(test_loop_stacking_levels),
		cmocka_unit_test(test_exclusions),
		cmocka_unit_test(test_extra_test_disk),
		cmocka_unit_test(test_missing_mountinfo),
	};

	return cmocka_run_group_tests_name("discovery", tests, setup, teardown);
}
