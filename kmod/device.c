// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/xquiesce: open/release and the ioctl decoder. Everything the caller
 * passes is copied in and checked here, before anything is frozen; every
 * output is written back only up to the size the caller declared.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xquiesce.h>

#include "compat.h"
#include "device.h"
#include "hold.h"

/* Sizes of the first published version of each structure: the smallest accepted. */
#define XQ_FREEZE_SIZE_V1	128
#define XQ_THAW_SIZE_V1		56
#define XQ_STATUS_SIZE_V1	104

static bool xq_reserved_zero(const __u64 *reserved, size_t n)
{
	while (n--)
		if (reserved[n])
			return false;
	return true;
}

/*
 * Copies a size-prefixed argument in: any size from version 1 up to
 * XQ_MAX_STRUCT_SIZE, bytes beyond what this module knows all zero.
 */
static int xq_copy_in(void *karg, size_t ksize, size_t min_size, const void __user *uarg)
{
	u32 usize;
	int err;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size || usize > XQ_MAX_STRUCT_SIZE)
		return -EINVAL;
	err = copy_struct_from_user(karg, ksize, uarg, usize);
	return err == -E2BIG ? -EINVAL : err;
}

static int xq_copy_out(void __user *uarg, const void *karg, size_t ksize)
{
	size_t usize = *(const u32 *)karg;

	return copy_to_user(uarg, karg, min(usize, ksize)) ? -EFAULT : 0;
}

static struct xq_dev *xq_devs_copy_in(const struct xq_freeze *arg)
{
	struct xq_dev *devs;
	u32 i;

	devs = kvmalloc_array(max_t(u32, arg->ndevs, 1), sizeof(*devs), GFP_KERNEL);
	if (!devs)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(devs, u64_to_user_ptr(arg->devs), arg->ndevs * sizeof(*devs))) {
		kvfree(devs);
		return ERR_PTR(-EFAULT);
	}
	for (i = 0; i < arg->ndevs; i++) {
		if (devs[i].reserved || devs[i].flags & ~XQ_DEV_FLAGS ||
		    devs[i].level >= XQ_MAX_DEVS) {
			kvfree(devs);
			return ERR_PTR(-EINVAL);
		}
	}
	return devs;
}

/*
 * Fails with -EFAULT now, not after freezing, if the results cannot be
 * written; also faults the pages in before any filesystem is frozen.
 */
static int xq_fs_writable(u64 uptr, u32 n)
{
	return clear_user(u64_to_user_ptr(uptr), (size_t)n * sizeof(struct xq_fs)) ? -EFAULT : 0;
}

static long xq_ioctl_freeze(struct xq_client *c, void __user *uarg)
{
	struct xq_freeze arg;
	struct xq_dev *devs;
	struct xq_fs *fs;
	long err;

	err = xq_copy_in(&arg, sizeof(arg), XQ_FREEZE_SIZE_V1, uarg);
	if (err)
		return err;
	if (arg.flags & ~XQ_FREEZE_FLAGS || arg.reserved0 ||
	    !xq_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)) ||
	    arg.ndevs > XQ_MAX_DEVS || arg.nfs_max > XQ_MAX_DEVS ||
	    (!arg.ndevs && !(arg.flags & XQ_FREEZE_BLKFRONT)))
		return -EINVAL;
	if (xq_fs_writable(arg.fs, arg.nfs_max) || put_user(arg.size, (u32 __user *)uarg))
		return -EFAULT;
	devs = xq_devs_copy_in(&arg);
	if (IS_ERR(devs))
		return PTR_ERR(devs);
	fs = kvcalloc(max_t(u32, arg.nfs_max, 1), sizeof(*fs), GFP_KERNEL);
	if (!fs) {
		kvfree(devs);
		return -ENOMEM;
	}

	err = xq_hold_freeze(c, &arg, devs, fs);
	if (xq_copy_out(uarg, &arg, sizeof(arg)) ||
	    copy_to_user(u64_to_user_ptr(arg.fs), fs, min(arg.nfs, arg.nfs_max) * sizeof(*fs))) {
		if (!err) {
			xq_hold_abort(c);
			err = -EFAULT;
		}
	}
	kvfree(fs);
	kvfree(devs);
	return err;
}

static long xq_ioctl_thaw(struct xq_client *c, void __user *uarg)
{
	struct xq_thaw arg;
	long err;

	err = xq_copy_in(&arg, sizeof(arg), XQ_THAW_SIZE_V1, uarg);
	if (err)
		return err;
	if (arg.flags & ~XQ_THAW_FLAGS || !xq_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	arg.held_ns = 0;
	arg.nfs = 0;
	arg.nstill_frozen = 0;
	err = xq_hold_thaw(c, &arg);
	if (err != -EINTR && xq_copy_out(uarg, &arg, sizeof(arg)))
		return -EFAULT;
	return err;
}

static long xq_ioctl_status(void __user *uarg)
{
	struct xq_status arg;
	struct xq_fs *fs;
	long err;

	err = xq_copy_in(&arg, sizeof(arg), XQ_STATUS_SIZE_V1, uarg);
	if (err)
		return err;
	if (arg.flags || arg.reserved0 ||
	    !xq_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)) || arg.nfs_max > XQ_MAX_DEVS)
		return -EINVAL;
	fs = kvcalloc(max_t(u32, arg.nfs_max, 1), sizeof(*fs), GFP_KERNEL);
	if (!fs)
		return -ENOMEM;
	xq_hold_status(&arg, fs);
	err = xq_copy_out(uarg, &arg, sizeof(arg));
	if (!err && copy_to_user(u64_to_user_ptr(arg.fs), fs, min(arg.nfs, arg.nfs_max) * sizeof(*fs)))
		err = -EFAULT;
	kvfree(fs);
	return err;
}

/*
 * Commands match as whole numbers, direction and size bits included (the
 * size bits stay those of version 1 as the structures grow), so that another
 * subsystem's command sent here by mistake is refused.
 */
static long xq_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct xq_client *c = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case XQ_IOC_FREEZE:
		return xq_ioctl_freeze(c, uarg);
	case XQ_IOC_THAW:
		return xq_ioctl_thaw(c, uarg);
	case XQ_IOC_STATUS:
		return xq_ioctl_status(uarg);
	default:
		return -ENOTTY;
	}
}

static int xq_open(struct inode *inode, struct file *file)
{
	struct xq_client *c;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	file->private_data = c;
	return nonseekable_open(inode, file);
}

static int xq_release(struct inode *inode, struct file *file)
{
	struct xq_client *c = file->private_data;

	xq_hold_release(c);
	kfree(c);
	return 0;
}

static const struct file_operations xq_fops = {
	.owner = THIS_MODULE,
	.open = xq_open,
	.release = xq_release,
	.unlocked_ioctl = xq_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice xq_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = XQ_DEVICE_NAME,
	.fops = &xq_fops,
	.mode = 0600,
};

int xq_device_register(void)
{
	BUILD_BUG_ON(sizeof(struct xq_freeze) < XQ_FREEZE_SIZE_V1);
	BUILD_BUG_ON(sizeof(struct xq_thaw) < XQ_THAW_SIZE_V1);
	BUILD_BUG_ON(sizeof(struct xq_status) < XQ_STATUS_SIZE_V1);
	BUILD_BUG_ON(_IOC_SIZE(XQ_IOC_FREEZE) != XQ_FREEZE_SIZE_V1);
	BUILD_BUG_ON(_IOC_SIZE(XQ_IOC_THAW) != XQ_THAW_SIZE_V1);
	BUILD_BUG_ON(_IOC_SIZE(XQ_IOC_STATUS) != XQ_STATUS_SIZE_V1);
	return misc_register(&xq_miscdev);
}

void xq_device_unregister(void)
{
	misc_deregister(&xq_miscdev);
}
