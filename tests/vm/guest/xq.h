/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQ_VMTEST_XQ_H
#define XQ_VMTEST_XQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/xquiesce.h>

#define XQ_DEVICE_PATH "/dev/" XQ_DEVICE_NAME
#define XQ_MODULE_NAME "xquiesce"

/* A mounted filesystem the tests freeze. */
struct fsent {
	const char *mnt;
	char fstype[XQ_FSTYPE_LEN];
	char source[128];	/* the device it was mounted from */
	dev_t dev;		/* sb->s_dev, from mountinfo */
	int fd;			/* O_PATH descriptor of the mount point: names it to FREEZE */
};

int fsent_init(struct fsent *f, const char *mnt);
bool fs_matches(const struct xq_fs *got, const struct fsent *want);

int xq_open(void);
void xq_freeze_init(struct xq_freeze *req, struct xq_dev *devs,
		    struct fsent *const *fs, const uint32_t *levels, unsigned int n,
		    struct xq_fs *out, unsigned int nout);
int xq_freeze(int fd, struct xq_freeze *req);
int xq_thaw(int fd, struct xq_thaw *out);
int xq_status(int fd, struct xq_status *st, struct xq_fs *fs, unsigned int nfs_max);

int xq_module_load(const char *ko, const char *params);
int xq_module_unload(void);
int xq_set_fault(const char *ko, unsigned int index);
int xq_set_param(const char *name, unsigned int value);
int xq_module_refcnt(unsigned int *refs);

const char *xq_end_name(uint32_t end);

#endif
