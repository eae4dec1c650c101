/* SPDX-License-Identifier: MIT */
/*
 * parse_size.c - sizes as people type them on the command line and the
 * console: "4096", "4K", "16M", "1G", "2T" (powers of 1024, either case).
 */
#include "kernel.h"

bool parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0, unit = 1;

	if (!s || *s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (*s - '0')) / 10)
			return false;	/* overflow */
		v = v * 10 + (*s - '0');
	}
	switch (*s) {
	case '\0':
		break;
	case 'k': case 'K': unit = KiB; s++; break;
	case 'm': case 'M': unit = MiB; s++; break;
	case 'g': case 'G': unit = GiB; s++; break;
	case 't': case 'T': unit = 1024 * GiB; s++; break;
	default:
		return false;
	}
	if (*s != '\0' || v > UINT64_MAX / unit)
		return false;
	*bytes = v * unit;
	return true;
}
