/* Harness guard: must compile on every kernel, or the probes cannot be trusted. */
#include <linux/fs.h>

int probe(struct super_block *sb);
int probe(struct super_block *sb)
{
	return sb_rdonly(sb);
}
