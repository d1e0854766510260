/* v6.6-rc1 880b9577855e added the holder argument; before, freeze_super(sb) alone */
#include <linux/fs.h>

int probe(struct super_block *sb);
int probe(struct super_block *sb)
{
	BUILD_BUG_ON(!__same_type(&freeze_super, int (*)(struct super_block *)));
	return freeze_super(sb);
}
