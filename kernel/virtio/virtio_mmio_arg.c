/* SPDX-License-Identifier: MIT */
/*
 * virtio_mmio_arg.c - parses virtio_mmio.device=SIZE@BASE:IRQ[:ID], the
 * command-line entries that name virtio-mmio devices. Pure C: built into
 * the kernel and into the host unit tests.
 */
#include "virtio_mmio_arg.h"

/* An unsigned number in C notation at *P (like strtoull base 0); false
 * when there are no digits or it overflows 64 bits. Advances *P. */
static bool parse_number(const char **p, uint64_t *v)
{
	const char *s = *p;
	unsigned base = 10, digit;
	bool any = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (*v = 0;; s++, any = true) {
		if (*s >= '0' && *s <= '9')
			digit = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			digit = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			digit = *s - 'A' + 10;
		else
			break;
		if (digit >= base || *v > (UINT64_MAX - digit) / base)
			return false;
		*v = *v * base + digit;
	}
	*p = s;
	return any;
}

/* Like Linux's memparse: a number and an optional K, M or G (any case). */
static bool parse_size_suffixed(const char **p, uint64_t *v)
{
	unsigned shift = 0;

	if (!parse_number(p, v))
		return false;
	switch (**p) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	}
	if (shift) {
		if (*v > UINT64_MAX >> shift)
			return false;
		*v <<= shift;
		(*p)++;
	}
	return true;
}

bool virtio_mmio_parse_arg(const char *s, struct virtio_mmio_arg *out)
{
	uint64_t size, base, irq, id;

	if (!s || !parse_size_suffixed(&s, &size) || *s++ != '@')
		return false;
	if (!parse_number(&s, &base) || *s++ != ':')
		return false;
	if (!parse_number(&s, &irq) || irq > UINT32_MAX)
		return false;
	if (*s == ':' && (s++, !parse_number(&s, &id)))
		return false;
	if (*s != '\0' || size == 0 || base + size < base)
		return false;
	out->size = size;
	out->base = base;
	out->irq = (uint32_t)irq;
	return true;
}
