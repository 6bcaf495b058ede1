// SPDX-License-Identifier: MIT
/*
 * Label text as the writers see it: printable characters pass, control characters (C0, DEL,
 * C1), bytes that are not UTF-8 and the code points that reorder or break lines on a terminal
 * come out as visible escapes, so no name can retitle a terminal or forge a line of output.
 */
#include "graph-int.h"

static bool dangerous(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

struct gch gch_next(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	struct gch c = {GCH_BYTE, 1, u[0]};
	size_t n;
	uint32_t cp, min;

	if (!u[0])
		return (struct gch){GCH_END, 0, 0};
	if (u[0] == '\n')
		return (struct gch){GCH_NEWLINE, 1, '\n'};
	if (u[0] < 0x80) {
		if (u[0] < 0x20 || u[0] == 0x7f)
			return c;
		return (struct gch){GCH_TEXT, 1, u[0]};
	}
	if ((u[0] & 0xe0) == 0xc0)
		n = 2, cp = u[0] & 0x1f, min = 0x80;
	else if ((u[0] & 0xf0) == 0xe0)
		n = 3, cp = u[0] & 0x0f, min = 0x800;
	else if ((u[0] & 0xf8) == 0xf0)
		n = 4, cp = u[0] & 0x07, min = 0x10000;
	else
		return c;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return c;
		cp = cp << 6 | (u[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return c;
	return (struct gch){dangerous(cp) ? GCH_CODE : GCH_TEXT, n, cp};
}
