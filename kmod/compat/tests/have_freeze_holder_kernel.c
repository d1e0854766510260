/* v6.6-rc1 880b9577855e "fs: distinguish between user initiated freeze and kernel initiated freeze" */
#include <linux/fs.h>

int probe(void);
int probe(void)
{
	return FREEZE_HOLDER_KERNEL;
}
