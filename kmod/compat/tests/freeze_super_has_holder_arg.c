/* v6.6-rc1 880b9577855e "fs: distinguish between user initiated freeze and kernel initiated freeze" */
#include <linux/fs.h>

int probe(struct super_block *sb);
int probe(struct super_block *sb)
{
	BUILD_BUG_ON(!__same_type(&freeze_super, int (*)(struct super_block *, enum freeze_holder)));
	return freeze_super(sb, FREEZE_HOLDER_KERNEL);
}
