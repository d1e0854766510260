/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences, decided by the compile probes in compat/tests
 * (see compat/Kbuild.include), never by version numbers.
 */
#ifndef _XQ_COMPAT_H
#define _XQ_COMPAT_H

#include <linux/fs.h>
#include <xquiesce_compat_probes.h>

/*
 * Where freeze holders exist (6.6+), freeze as the kernel: FITHAW, fsfreeze -u
 * and SysRq-j only drop userspace holds. Where exclusive freezes exist
 * (6.16+), also make the freeze ours alone (FREEZE_EXCL with this module as
 * owner), so that no other kernel thaw can drop the count we hold; a freeze
 * already made by someone else is nested on, not refused.
 */
#if defined(COMPAT_FREEZE_SUPER_HAS_OWNER_ARG) && defined(COMPAT_HAVE_FREEZE_EXCL)
#define XQ_FREEZE_CALL(fn, sb)	fn(sb, FREEZE_EXCL | FREEZE_HOLDER_KERNEL, THIS_MODULE)
#elif defined(COMPAT_FREEZE_SUPER_HAS_OWNER_ARG)
#define XQ_FREEZE_CALL(fn, sb)	fn(sb, FREEZE_HOLDER_KERNEL, NULL)
#elif defined(COMPAT_FREEZE_SUPER_HAS_HOLDER_ARG)
#define XQ_FREEZE_CALL(fn, sb)	fn(sb, FREEZE_HOLDER_KERNEL)
#elif defined(COMPAT_FREEZE_SUPER_HAS_ONE_ARG)
#define XQ_FREEZE_CALL(fn, sb)	fn(sb)
#else
#error "freeze_super() has none of the known shapes: see the probes' .stderr files in .compat/"
#endif

/* super_operations->freeze_super changed shape in step with freeze_super. */
static inline int xq_freeze_super(struct super_block *sb)
{
	if (sb->s_op->freeze_super)
		return XQ_FREEZE_CALL(sb->s_op->freeze_super, sb);
	return XQ_FREEZE_CALL(freeze_super, sb);
}

static inline int xq_thaw_super(struct super_block *sb)
{
	if (sb->s_op->thaw_super)
		return XQ_FREEZE_CALL(sb->s_op->thaw_super, sb);
	return XQ_FREEZE_CALL(thaw_super, sb);
}

#if !defined(COMPAT_HAVE_COMPAT_PTR_IOCTL) && defined(CONFIG_COMPAT)
#include <linux/compat.h>
static inline long xq_compat_ptr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (!file->f_op->unlocked_ioctl)
		return -ENOIOCTLCMD;
	return file->f_op->unlocked_ioctl(file, cmd, (unsigned long)compat_ptr(arg));
}
#define compat_ptr_ioctl xq_compat_ptr_ioctl
#endif

#endif /* _XQ_COMPAT_H */
