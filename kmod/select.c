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
 * middle of a freeze.
 *
 * A filesystem may keep its superblocks on a type it never registers: btrfs
 * did until its new mount API conversion (6.8), mounting them through a
 * private "btrfs" type. A named device the walk did not find is therefore
 * looked up once more in the caller's mount table (/proc/self/mountinfo),
 * through the mount point of a mount with that device number.
 */
#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/kdev_t.h>
#include <linux/major.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/string_helpers.h>

#include "set.h"

#define XQ_FILESYSTEMS_PATH	"/proc/filesystems"
#define XQ_FILESYSTEMS_MAX	(64 * 1024)
#define XQ_MOUNTINFO_PATH	"/proc/self/mountinfo"
#define XQ_MOUNTINFO_MAX	(4 * 1024 * 1024)

struct xq_select {
	const struct xq_dev *devs;
	u32 ndevs;
	bool *found;		/* per devs[] entry */
	bool blkfront;
	u32 blkfront_level;
	struct xq_set *set;
	int err;
};

/*
 * blkfront disks are major 202; partitions past its minors get major 259.
 * The parent's driver can be unbound under us: read it once.
 */
static bool xq_sb_is_blkfront(struct super_block *sb)
{
	const struct device_driver *drv;
	struct gendisk *disk;
	struct device *parent;

	if (!sb->s_bdev)
		return false;
	disk = sb->s_bdev->bd_disk;
	if (disk->major == XENVBD_MAJOR)
		return true;
	parent = disk_to_dev(disk)->parent;
	if (!parent)
		return false;
	drv = READ_ONCE(parent->driver);
	return drv && !strcmp(drv->name, "vbd");
}

/*
 * FUSE filesystems are never frozen: their daemon would have to answer the
 * sync of its own frozen disk. fuseblk (ntfs-3g, exfat-fuse) is a block
 * filesystem type, so the walk would otherwise take it on a blkfront disk.
 */
static bool xq_type_is_fuse(const struct file_system_type *type)
{
	return !strncmp(type->name, "fuse", 4);
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

/* Takes an active reference: the superblock then outlives an unmount until we let go. */
static void xq_select_add(struct xq_select *sel, struct super_block *sb)
{
	bool blkfront = xq_sb_is_blkfront(sb);
	s64 level = xq_named_level(sel, sb->s_dev);
	struct xq_sb *s;
	unsigned int i;

	if (sel->err || (level < 0 && !(sel->blkfront && blkfront)))
		return;
	for (i = 0; i < sel->set->n; i++)
		if (sel->set->sbs[i].sb == sb)
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

/*
 * Called by iterate_supers_type() with s_umount held shared, so nothing can
 * be frozen here: only pinned, to be frozen later.
 */
static void xq_select_sb(struct super_block *sb, void *arg)
{
	xq_select_add(arg, sb);
}

static void xq_select_type(struct xq_select *sel, const char *name)
{
	struct file_system_type *type = get_fs_type(name);

	if (!type)
		return;
	if (type->fs_flags & FS_REQUIRES_DEV && !xq_type_is_fuse(type))
		iterate_supers_type(type, xq_select_sb, sel);
	module_put(type->owner);
}

/* Reads a /proc file whole, NUL-terminated; kvfree() the result. */
static char *xq_read_proc(const char *path, size_t max)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t got;
	size_t len = 0;
	char *buf;

	file = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(file))
		return ERR_CAST(file);
	buf = kvmalloc(max, GFP_KERNEL);
	if (!buf) {
		filp_close(file, NULL);
		return ERR_PTR(-ENOMEM);
	}
	do {
		got = kernel_read(file, buf + len, max - 1 - len, &pos);
		if (got > 0)
			len += got;
	} while (got > 0 && len < max - 1);
	filp_close(file, NULL);
	if (got < 0) {
		kvfree(buf);
		return ERR_PTR(got);
	}
	buf[len] = '\0';
	return buf;
}

/* Cuts the next line off *@rest. */
static char *xq_next_line(char **rest)
{
	char *line = *rest, *end = strchr(line, '\n');

	if (end)
		*end++ = '\0';
	*rest = end ? end : line + strlen(line);
	return line;
}

/* Walks every registered block filesystem type ("\tname\n" lines). */
static int xq_select_walk(struct xq_select *sel)
{
	char *buf, *rest, *line;

	buf = xq_read_proc(XQ_FILESYSTEMS_PATH, XQ_FILESYSTEMS_MAX);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	for (rest = buf; *rest && !sel->err;) {
		line = xq_next_line(&rest);
		if (line[0] == '\t' && line[1])
			xq_select_type(sel, line + 1);
	}
	kvfree(buf);
	return sel->err;
}

static bool xq_select_missing(const struct xq_select *sel, dev_t dev)
{
	u32 i;

	for (i = 0; i < sel->ndevs; i++)
		if (!sel->found[i] && MKDEV(sel->devs[i].major, sel->devs[i].minor) == dev)
			return true;
	return false;
}

/*
 * One mountinfo line: "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...", the mount
 * point octal-escaped. The superblock reached through the mount point must
 * still carry the device number (the mount table may change meanwhile) and,
 * as in the walk, be a block filesystem's.
 */
static void xq_select_mountinfo_line(struct xq_select *sel, char *line)
{
	unsigned int major, minor;
	char *field[5];
	struct path path;
	int i;

	for (i = 0; i < 5; i++)
		field[i] = strsep(&line, " ");
	if (!line || sscanf(field[2], "%u:%u", &major, &minor) != 2 ||
	    !xq_select_missing(sel, MKDEV(major, minor)))
		return;
	string_unescape_inplace(field[4], UNESCAPE_OCTAL);
	if (kern_path(field[4], 0, &path))
		return;
	if (path.mnt->mnt_sb->s_dev == MKDEV(major, minor) &&
	    path.mnt->mnt_sb->s_type->fs_flags & FS_REQUIRES_DEV &&
	    !xq_type_is_fuse(path.mnt->mnt_sb->s_type))
		xq_select_add(sel, path.mnt->mnt_sb);
	path_put(&path);
}

static int xq_select_mounted(struct xq_select *sel)
{
	char *buf, *rest;

	buf = xq_read_proc(XQ_MOUNTINFO_PATH, XQ_MOUNTINFO_MAX);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	for (rest = buf; *rest && !sel->err;)
		xq_select_mountinfo_line(sel, xq_next_line(&rest));
	kvfree(buf);
	return sel->err;
}

/* The first devs[] entry no superblock matched, or -1. */
static int xq_select_first_missing(const struct xq_select *sel)
{
	u32 i;

	for (i = 0; i < sel->ndevs; i++)
		if (!sel->found[i])
			return i;
	return -1;
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
	init_waitqueue_head(&set->wq);
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
	int err, missing;
	u32 i;

	for (i = 0; i < ndevs; i++)
		sel.blkfront_level = max(sel.blkfront_level, devs[i].level);
	sel.found = kcalloc(max_t(u32, ndevs, 1), sizeof(*sel.found), GFP_KERNEL);
	sel.set = xq_set_alloc();
	if (!sel.found || !sel.set) {
		err = -ENOMEM;
		goto fail;
	}

	err = xq_select_walk(&sel);
	if (!err && xq_select_first_missing(&sel) >= 0)
		err = xq_select_mounted(&sel);
	if (err)
		goto fail;
	missing = xq_select_first_missing(&sel);
	if (missing >= 0) {
		fail->major = devs[missing].major;
		fail->minor = devs[missing].minor;
		err = -ENOENT;
		goto fail;
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
