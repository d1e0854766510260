// SPDX-License-Identifier: GPL-2.0
/*
 * Escaping of guest strings for the report and the messages. A guest owns
 * the values it writes under its domain and /vss/<uuid>; printed raw, a
 * newline in one forges "snapshot-uuid: ..." lines that a backup script
 * would act on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

char *escape(const char *s)
{
	char *out = malloc(4 * strlen(s) + 1), *o = out;
	const unsigned char *c;

	if (!out)
		return NULL;
	for (c = (const unsigned char *)s; *c; c++) {
		if (*c == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (*c >= 0x20 && *c < 0x7f) {
			*o++ = *c;
		} else {
			o += sprintf(o, "\\x%02x", *c);
		}
	}
	*o = '\0';
	return out;
}
