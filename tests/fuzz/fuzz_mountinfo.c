// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for discovery's mountinfo line parser, which the
 * harness includes to reach its static functions: any line, however
 * malformed, must be parsed or refused without reading out of bounds.
 */
#include "../../daemon/discovery.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mount m;
	char *line = malloc(size + 1);

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (parse_mountinfo_line(line, &m) == 0 &&
	    (strlen(m.root) > size || strlen(m.mountpoint) > size || strlen(m.source) > size))
		abort();
	free(line);
	return 0;
}
