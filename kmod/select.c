// SPDX-License-Identifier: GPL-2.0
/*
 * Selecting the superblocks of one FREEZE.
 *
 * Userspace names each filesystem by a file descriptor of a file on it
 * (an O_PATH descriptor of a mount point, usually): the superblock is that
 * of the descriptor's mount, which the open file keeps alive while we take
 * our own active reference. The kernel thus reads no file, resolves no
 * path and takes no lock to find it, and bind mounts, btrfs subvolumes,
 * chroots and other mount namespaces need nothing special. Only the
 * blkfront walk (walk.c) looks for what userspace cannot see.
 *
 * Every live set is listed here, so that a superblock a worker of an
 * earlier, abandoned FREEZE still has in hand (stuck in I/O that never
 * completes, holding its s_umount) is refused with EBUSY rather than
 * waited for.
 */
#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/major.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "select.h"

static LIST_HEAD(xq_sets);
static DEFINE_MUTEX(xq_sets_lock);	/* xq_sets; after the hold's lock, before any set->lock */

/*
 * blkfront disks are major 202; partitions past its minors get major 259.
 * The parent's driver can be unbound under us: read it once.
 */
bool xq_sb_is_blkfront(struct super_block *sb)
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
 * filesystem type.
 */
static bool xq_type_freezable(const struct file_system_type *type)
{
	return type->fs_flags & FS_REQUIRES_DEV && strncmp(type->name, "fuse", 4);
}

static void xq_failure_sb(struct xq_failure *fail, const struct super_block *sb, int index,
			  int err)
{
	fail->err = err;
	fail->index = index;
	fail->major = MAJOR(sb->s_dev);
	fail->minor = MINOR(sb->s_dev);
	strscpy(fail->fstype, sb->s_type->name, sizeof(fail->fstype));
}

/**
 * xq_sb_busy - whether a pre-sync or freeze worker of ours holds @sb
 * @sb: the superblock, or NULL for any of @type
 * @type: with a NULL @sb, the filesystem type
 * @fail: filled in, with -EBUSY, when it does
 *
 * Such a worker belongs to an abandoned FREEZE (only one FREEZE runs at a
 * time) and may never finish: its s_umount may stay held for good.
 */
bool xq_sb_busy(const struct super_block *sb, const struct file_system_type *type,
		struct xq_failure *fail)
{
	struct xq_set *set;
	bool busy = false;
	unsigned int i;

	mutex_lock(&xq_sets_lock);
	list_for_each_entry(set, &xq_sets, node) {
		mutex_lock(&set->lock);
		for (i = 0; i < set->n && !busy; i++) {
			const struct xq_sb *s = &set->sbs[i];

			if (s->running && (sb ? s->sb == sb : s->sb->s_type == type)) {
				xq_failure_sb(fail, s->sb, -1, -EBUSY);
				pr_warn_ratelimited("%s (%s): a worker of an earlier freeze is still stuck on it\n",
						    s->id, s->fstype);
				busy = true;
			}
		}
		mutex_unlock(&set->lock);
		if (busy)
			break;
	}
	mutex_unlock(&xq_sets_lock);
	return busy;
}

/* Pre-sync and freeze workers still running, of every set but @except (the FREEZE running). */
u32 xq_sets_stuck(const struct xq_set *except)
{
	struct xq_set *set;
	u32 n = 0;

	mutex_lock(&xq_sets_lock);
	list_for_each_entry(set, &xq_sets, node) {
		if (set == except)
			continue;
		mutex_lock(&set->lock);
		n += set->workers;
		mutex_unlock(&set->lock);
	}
	mutex_unlock(&xq_sets_lock);
	return n;
}

/* Adds @sb, on which the caller holds an active reference, or drops that reference. */
static int xq_set_add(struct xq_set *set, struct super_block *sb, u32 level, u32 order,
		      int index, bool blkfront)
{
	struct xq_sb *s;
	unsigned int i;

	for (i = 0; i < set->n; i++) {
		s = &set->sbs[i];
		if (s->sb != sb)
			continue;
		if (level < s->level || (level == s->level && order < s->order)) {
			s->level = level;
			s->order = order;
		}
		if (s->index < 0)
			s->index = index;
		deactivate_super(sb);
		return 0;
	}
	if (set->n == XQ_MAX_DEVS) {
		deactivate_super(sb);
		return -E2BIG;
	}
	s = &set->sbs[set->n++];
	s->sb = sb;
	s->set = set;
	s->level = level;
	s->order = order;
	s->index = index;
	s->flags = blkfront ? XQ_FS_BLKFRONT : 0;
	strscpy(s->fstype, sb->s_type->name, sizeof(s->fstype));
	strscpy(s->id, sb->s_id, sizeof(s->id));
	return 0;
}

/* The filesystem of one devs[] entry; its type goes to @types for the walk. */
static int xq_select_fd(struct xq_set *set, const struct xq_dev *dev, int index,
			struct file_system_type **types, unsigned int *ntypes,
			struct xq_failure *fail)
{
	struct super_block *sb;
	struct file *file;
	unsigned int i;
	int err = 0;

	file = fget_raw(dev->fd);
	if (!file) {
		fail->index = index;
		return -EBADF;
	}
	sb = file->f_path.mnt->mnt_sb;
	if (!xq_type_freezable(sb->s_type)) {
		xq_failure_sb(fail, sb, index, -ENOTBLK);
		err = -ENOTBLK;
		goto out;
	}
	for (i = 0; i < *ntypes && types[i] != sb->s_type; i++)
		;
	if (i == *ntypes) {
		/* Live while its superblock is: kept until the walk is over. */
		__module_get(sb->s_type->owner);
		types[(*ntypes)++] = sb->s_type;
	}
	if (dev->flags & XQ_DEV_TYPE_ONLY)
		goto out;
	if (xq_sb_busy(sb, NULL, fail)) {
		fail->index = index;
		err = -EBUSY;
		goto out;
	}
	/* The open file's mount keeps it active: this cannot fail. */
	if (WARN_ON_ONCE(!atomic_inc_not_zero(&sb->s_active))) {
		err = -ENOENT;
		goto out;
	}
	err = xq_set_add(set, sb, dev->level, index, index, xq_sb_is_blkfront(sb));
out:
	fput(file);
	return err;
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

	mutex_lock(&xq_sets_lock);
	list_del(&set->node);
	mutex_unlock(&xq_sets_lock);
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
	mutex_lock(&xq_sets_lock);
	list_add(&set->node, &xq_sets);
	mutex_unlock(&xq_sets_lock);
	return set;
}

/* With @blkfront: adds what the walk finds over @types at @level. */
static int xq_select_blkfront(struct xq_set *set, struct file_system_type **types,
			      unsigned int ntypes, u32 level, u32 ndevs, u64 deadline_ns,
			      const bool *cancel, struct xq_failure *fail)
{
	struct super_block **found;
	unsigned int i, nfound;
	int err;

	found = kvmalloc_array(XQ_MAX_DEVS, sizeof(*found), GFP_KERNEL);
	if (!found)
		return -ENOMEM;
	err = xq_walk_blkfront(types, ntypes, deadline_ns, cancel, found, &nfound, fail);
	for (i = 0; i < nfound; i++) {
		int e = xq_set_add(set, found[i], level, ndevs + i, -1, true);

		err = err ?: e;
	}
	kvfree(found);
	return err;
}

/**
 * xq_set_select - pin the superblocks a FREEZE asks for, in freeze order
 * @devs: the caller's descriptors (validated: flags, reserved fields)
 * @ndevs: number of entries in @devs
 * @blkfront: also take every filesystem on a Xen blkfront disk
 * @deadline_ns: when the FREEZE call gives up, for the walk
 * @cancel: set (then xq_walk_wake()) by a rescue thaw: the walk stops
 * @fail: on error, which device and why
 *
 * Filesystems found by @blkfront only share the highest level used in @devs.
 */
struct xq_set *xq_set_select(const struct xq_dev *devs, u32 ndevs, bool blkfront,
			     u64 deadline_ns, const bool *cancel, struct xq_failure *fail)
{
	struct file_system_type **types;
	unsigned int ntypes = 0;
	struct xq_set *set;
	u32 i, level = 0;
	int err = 0;

	types = kvmalloc_array(max_t(u32, ndevs, 1), sizeof(*types), GFP_KERNEL);
	set = xq_set_alloc();
	if (!types || !set) {
		kvfree(types);
		err = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < ndevs && !err; i++) {
		err = xq_select_fd(set, &devs[i], i, types, &ntypes, fail);
		if (!(devs[i].flags & XQ_DEV_TYPE_ONLY))
			level = max(level, devs[i].level);
	}
	if (!err && blkfront)
		err = xq_select_blkfront(set, types, ntypes, level, ndevs, deadline_ns, cancel,
					 fail);
	if (!err && !set->n)
		err = -ENOENT;
	for (i = 0; i < ntypes; i++)
		module_put(types[i]->owner);
	kvfree(types);
	if (err)
		goto fail;
	sort(set->sbs, set->n, sizeof(set->sbs[0]), xq_sb_cmp, NULL);
	return set;

fail:
	fail->err = err;
	if (set)
		xq_set_put(set);
	return ERR_PTR(err);
}
