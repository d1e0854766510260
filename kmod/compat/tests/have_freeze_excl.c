/* v6.16-rc1 f15a9ae05a71 "fs: add owner of freeze/thaw" added FREEZE_EXCL */
#include <linux/fs.h>

int probe(void);
int probe(void)
{
	return FREEZE_EXCL;
}
