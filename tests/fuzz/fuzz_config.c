// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the configuration parser: the input is a file,
 * fed a line at a time as config_load() would, then finished. Whatever
 * the input, the parser must not crash, leak or read out of bounds, and a
 * refused line must come with a message naming its line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_parser p;
	struct xq_config cfg;
	char *text, *line, *next;
	int r = 0;

	text = malloc(size + 1);
	if (!text || config_init(&cfg) < 0) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	config_parser_init(&p, &cfg);
	for (line = text; line && !r; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		r = config_parse_line(&p, line);
	}
	if (!r)
		r = config_parse_finish(&p);
	if (r == -EINVAL && strncmp(p.error, "line ", 5))
		abort();
	config_free(&cfg);
	free(text);
	return 0;
}
