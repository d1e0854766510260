/* Harness guard: must never compile (calls an undeclared function). */
#include <linux/fs.h>

int probe(void);
int probe(void)
{
	return xquiesce_no_such_function_in_any_kernel();
}
