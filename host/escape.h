/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XQUIESCE_HOST_ESCAPE_H
#define XQUIESCE_HOST_ESCAPE_H

/*
 * What a guest wrote, made safe to print: printable ASCII as it is, a
 * backslash as "\\", every other byte as "\xHH". So no value can start a
 * line of its own in the report, or carry terminal escapes. Malloc'ed;
 * NULL when out of memory.
 */
char *escape(const char *s);

#endif
