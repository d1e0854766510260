/* v6.8-rc1 "fs: add FREEZE_MAY_NEST" (absent in 6.6, present in 6.8) */
#include <linux/fs.h>

int probe(void);
int probe(void)
{
	return FREEZE_MAY_NEST;
}
