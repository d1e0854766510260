// SPDX-License-Identifier: GPL-2.0
/*
 * Selecting the superblocks of one FREEZE.
 *
 * The only superblock walk exported to modules on every supported kernel is
 * iterate_supers_type(), which needs a filesystem type. The types walked are
 * the block filesystems the kernel has registered, read from its own list
 * (/proc/filesystems, the lines not marked "nodev"). Asking get_fs_type()
 * for a fixed list of names instead would make the kernel run modprobe for
 * every type not loaded, loading filesystem modules nobody uses in the
 * middle of a freeze; a type that is not registered has no superblocks.
 */
#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/kdev_t.h>
#include <linux/major.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "set.h"

#define XQ_FILESYSTEMS_PATH	"/proc/filesystems"
#define XQ_FILESYSTEMS_MAX	(64 * 1024)

struct xq_select {
	const struct xq_dev *devs;
	u32 ndevs;
	bool *found;		/* per devs[] entry */
	bool blkfront;
	u32 blkfront_level;
	struct xq_set *set;
	int err;
};

/* blkfront disks are major 202; partitions past its minors get major 259. */
static bool xq_sb_is_blkfront(struct super_block *sb)
{
	struct gendisk *disk;
	struct device *parent;

	if (!sb->s_bdev)
		return false;
	disk = sb->s_bdev->bd_disk;
	if (disk->major == XENVBD_MAJOR)
		return true;
	parent = disk_to_dev(disk)->parent;
	return parent && parent->driver && !strcmp(parent->driver->name, "vbd");
}

/* The lowest level any devs[] entry gives this device, or -1 if unnamed. */
static s64 xq_named_level(struct xq_select *sel, dev_t dev)
{
	s64 level = -1;
	u32 i;

	for (i = 0; i < sel->ndevs; i++) {
		if (MKDEV(sel->devs[i].major, sel->devs[i].minor) != dev)
			continue;
		sel->found[i] = true;
		if (level < 0 || sel->devs[i].level < level)
			level = sel->devs[i].level;
	}
	return level;
}

static u32 xq_named_order(const struct xq_select *sel, dev_t dev)
{
	u32 i;

	for (i = 0; i < sel->ndevs; i++)
		if (MKDEV(sel->devs[i].major, sel->devs[i].minor) == dev)
			break;
	return i;
}

/*
 * Called by iterate_supers_type() with s_umount held shared, so nothing can
 * be frozen here: take an active reference (the superblock then outlives an
 * unmount until we let go) and freeze later.
 */
static void xq_select_sb(struct super_block *sb, void *arg)
{
	struct xq_select *sel = arg;
	bool blkfront = xq_sb_is_blkfront(sb);
	s64 level = xq_named_level(sel, sb->s_dev);
	struct xq_sb *s;

	if (sel->err || (level < 0 && !(sel->blkfront && blkfront)))
		return;
	if (sel->set->n == XQ_MAX_DEVS) {
		sel->err = -E2BIG;
		return;
	}
	if (!atomic_inc_not_zero(&sb->s_active))
		return;		/* being shut down */

	s = &sel->set->sbs[sel->set->n++];
	s->sb = sb;
	s->set = sel->set;
	s->level = level < 0 ? sel->blkfront_level : level;
	s->order = level < 0 ? sel->ndevs + sel->set->n : xq_named_order(sel, sb->s_dev);
	s->flags = blkfront ? XQ_FS_BLKFRONT : 0;
	strscpy(s->fstype, sb->s_type->name, sizeof(s->fstype));
	strscpy(s->id, sb->s_id, sizeof(s->id));
}

static void xq_select_type(struct xq_select *sel, const char *name)
{
	struct file_system_type *type = get_fs_type(name);

	if (!type)
		return;
	if (type->fs_flags & FS_REQUIRES_DEV)
		iterate_supers_type(type, xq_select_sb, sel);
	module_put(type->owner);
}

/* Walks every registered block filesystem type ("\tname\n" lines). */
static int xq_select_walk(struct xq_select *sel)
{
	struct file *file;
	char *buf, *line, *next;
	loff_t pos = 0;
	ssize_t len = 0, got;

	file = filp_open(XQ_FILESYSTEMS_PATH, O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	buf = kvmalloc(XQ_FILESYSTEMS_MAX, GFP_KERNEL);
	if (!buf) {
		filp_close(file, NULL);
		return -ENOMEM;
	}
	do {
		got = kernel_read(file, buf + len, XQ_FILESYSTEMS_MAX - 1 - len, &pos);
		len += got > 0 ? got : 0;
	} while (got > 0 && len < XQ_FILESYSTEMS_MAX - 1);
	filp_close(file, NULL);
	if (got < 0) {
		kvfree(buf);
		return got;
	}
	buf[len] = '\0';

	for (line = buf; line && *line && !sel->err; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '\t' && line[1])
			xq_select_type(sel, line + 1);
	}
	kvfree(buf);
	return sel->err;
}

static int xq_sb_cmp(const void *a, const void *b)
{
	const struct xq_sb *x = a, *y = b;

	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void xq_set_release(struct kref *ref)
{
	struct xq_set *set = container_of(ref, struct xq_set, ref);
	unsigned int i;

	for (i = 0; i < set->n; i++)
		deactivate_super(set->sbs[i].sb);
	kvfree(set);
	module_put(THIS_MODULE);
}

void xq_set_put(struct xq_set *set)
{
	kref_put(&set->ref, xq_set_release);
}

static struct xq_set *xq_set_alloc(void)
{
	struct xq_set *set = kvzalloc(struct_size(set, sbs, XQ_MAX_DEVS), GFP_KERNEL);

	if (!set)
		return NULL;
	kref_init(&set->ref);
	mutex_init(&set->lock);
	init_completion(&set->level_done);
	/* The module stays loaded while any superblock is held or any worker may run. */
	__module_get(THIS_MODULE);
	return set;
}

/**
 * xq_set_select - pin the superblocks a FREEZE asks for, in freeze order
 * @devs: the caller's named devices (validated: ranges, reserved fields)
 * @ndevs: number of entries in @devs
 * @blkfront: also take every filesystem on a Xen blkfront disk
 * @fail: on error, which device and why
 *
 * Every devs[] entry must match a mounted block filesystem (-ENOENT names
 * the first that does not); filesystems found by @blkfront only share the
 * highest level used in @devs.
 */
struct xq_set *xq_set_select(const struct xq_dev *devs, u32 ndevs, bool blkfront,
			     struct xq_failure *fail)
{
	struct xq_select sel = { .devs = devs, .ndevs = ndevs, .blkfront = blkfront };
	u32 i;
	int err;

	for (i = 0; i < ndevs; i++)
		sel.blkfront_level = max(sel.blkfront_level, devs[i].level);
	sel.found = kcalloc(max_t(u32, ndevs, 1), sizeof(*sel.found), GFP_KERNEL);
	sel.set = xq_set_alloc();
	if (!sel.found || !sel.set) {
		err = -ENOMEM;
		goto fail;
	}

	err = xq_select_walk(&sel);
	if (err)
		goto fail;
	for (i = 0; i < ndevs; i++) {
		if (!sel.found[i]) {
			fail->major = devs[i].major;
			fail->minor = devs[i].minor;
			err = -ENOENT;
			goto fail;
		}
	}
	if (!sel.set->n) {
		err = -ENOENT;
		goto fail;
	}
	sort(sel.set->sbs, sel.set->n, sizeof(sel.set->sbs[0]), xq_sb_cmp, NULL);
	kfree(sel.found);
	return sel.set;

fail:
	fail->err = err;
	if (sel.set)
		xq_set_put(sel.set);
	kfree(sel.found);
	return ERR_PTR(err);
}
