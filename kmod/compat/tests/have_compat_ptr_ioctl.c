/* v5.5-rc1 2952db0fd51b "compat_ioctl: add compat_ptr_ioctl()" */
#include <linux/fs.h>

long probe(struct file *file, unsigned int cmd, unsigned long arg);
long probe(struct file *file, unsigned int cmd, unsigned long arg)
{
	return compat_ptr_ioctl(file, cmd, arg);
}
