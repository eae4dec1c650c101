/* SPDX-License-Identifier: MIT */
/*
 * size.c - the size grammar of "vbctl set" (documented in docs/vbctl.1,
 * SIZES) and IEC formatting. Arithmetic is exact: 128-bit intermediates,
 * no floating point, so "1.5G" is exactly 1610612736 bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "size.h"

/* Digits after the decimal point we accept: enough for any byte-exact
 * fraction of a TiB (2^40 / 10^k needs k <= 40) yet small enough that
 * 10^k fits in 64 bits. */
#define MAX_FRACTION_DIGITS 19

struct unit {
	const char *suffix;	/* matched without regard to case */
	uint64_t factor;
};

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

static const struct unit units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", KIB }, { "M", MIB }, { "G", GIB }, { "T", TIB },
	{ "KiB", KIB }, { "MiB", MIB }, { "GiB", GIB }, { "TiB", TIB },
	{ "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
	{ "TB", UINT64_C(1000000000000) },
};

static int size_error(char *err, size_t errlen, int rc, const char *text,
		      const char *why)
{
	snprintf(err, errlen, "invalid size '%s': %s", text, why);
	return rc;
}

/* QEMU rejects a target of 0; a change of 0 is surely a typo. */
static int zero_error(const struct vbctl_size *size, const char *text,
		      char *err, size_t errlen)
{
	return size_error(err, errlen, -EINVAL, text, size->sign ?
			  "a change of 0 does nothing" :
			  "the target must be more than 0 bytes");
}

static const struct unit *find_unit(const char *suffix)
{
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(units[i].suffix, suffix) == 0)
			return &units[i];
	return NULL;
}

int vbctl_size_parse(const char *text, struct vbctl_size *size, char *err,
		     size_t errlen)
{
	const char *p = text;
	unsigned __int128 whole = 0, frac = 0, scale = 1, value;
	int ndigits = 0, nfrac = 0;
	const struct unit *unit;

	memset(size, 0, sizeof(*size));
	if (*p == '+' || *p == '-')
		size->sign = *p++ == '+' ? 1 : -1;
	for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
		whole = whole * 10 + (unsigned)(*p - '0');
		if (whole > UINT64_MAX)
			return size_error(err, errlen, -EINVAL, text,
					  "too large (at most 2^64-1 bytes)");
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++) {
			if (nfrac == MAX_FRACTION_DIGITS)
				return size_error(err, errlen, -EINVAL, text,
						  "too many decimals");
			frac = frac * 10 + (unsigned)(*p - '0');
			scale *= 10;
		}
		if (nfrac == 0)
			return size_error(err, errlen, -EINVAL, text,
					  "expected digits after '.'");
	}
	if (ndigits == 0)
		return size_error(err, errlen, -EINVAL, text, *text ?
				  "expected a number, e.g. 1G, 512M, 50%, +256M" :
				  "empty (expected e.g. 1G, 512M, 50%, +256M)");

	if (strcmp(p, "%") == 0) {
		/* Percent of boot memory: keep the exact fraction. */
		size->percent = true;
		value = whole * scale + frac;
		if (scale > UINT64_MAX / 100)
			return size_error(err, errlen, -EINVAL, text,
					  "too many decimals");
		if (value > UINT64_MAX)
			return size_error(err, errlen, -EINVAL, text,
					  "percentage too large");
		size->pct_num = (uint64_t)value;
		size->pct_den = (uint64_t)scale * 100;
		return value ? 0 : zero_error(size, text, err, errlen);
	}

	unit = find_unit(p);
	if (!unit) {
		char why[VBCTL_SIZE_ERR_MAX / 2];

		snprintf(why, sizeof(why), "unknown unit '%.16s%s' (use K M G T, KiB..TiB, KB..TB, or N%%)",
			 p, strlen(p) > 16 ? "..." : "");
		return size_error(err, errlen, -EINVAL, text, why);
	}
	value = whole * unit->factor;
	if (frac * unit->factor % scale)
		return size_error(err, errlen, -EINVAL, text,
				  "not a whole number of bytes");
	value += frac * unit->factor / scale;
	if (value > UINT64_MAX)
		return size_error(err, errlen, -EINVAL, text,
				  "too large (at most 2^64-1 bytes)");
	size->bytes = (uint64_t)value;
	return value ? 0 : zero_error(size, text, err, errlen);
}

int vbctl_size_resolve(const struct vbctl_size *size, const char *text,
		       uint64_t boot, uint64_t current, uint64_t *target,
		       char *err, size_t errlen)
{
	char a[VBCTL_SIZE_HUMAN_MAX], b[VBCTL_SIZE_HUMAN_MAX];
	char why[VBCTL_SIZE_ERR_MAX];
	unsigned __int128 amount, result;

	if (size->percent)
		/* Rounded down to whole bytes. */
		amount = (unsigned __int128)boot * size->pct_num /
			 size->pct_den;
	else
		amount = size->bytes;

	if (size->sign < 0) {
		if (amount >= current) {
			snprintf(why, sizeof(why), "the target would be 0 bytes or less: the current size is only %s",
				 vbctl_size_human(current, a, sizeof(a)));
			return size_error(err, errlen, -ERANGE, text, why);
		}
		result = current - amount;
	} else {
		result = (size->sign > 0 ? current : 0) + amount;
	}
	if (result == 0)
		return size_error(err, errlen, -ERANGE, text,
				  "the target must be more than 0 bytes");
	if (result > boot) {
		/* QEMU caps the target at boot memory: the balloon can
		 * only take memory away, never add to it. */
		snprintf(why, sizeof(why), "target %s is above the VM's boot memory %s",
			 result > UINT64_MAX ? "2^64 bytes or more" :
			 vbctl_size_human((uint64_t)result, a, sizeof(a)),
			 vbctl_size_human(boot, b, sizeof(b)));
		return size_error(err, errlen, -ERANGE, text, why);
	}
	*target = (uint64_t)result;
	return 0;
}

char *vbctl_size_iec(uint64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	int i = -1;
	uint64_t unit = 1;

	while (i < 5 && bytes / unit >= 1024) {
		unit *= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.2f %s", (double)bytes / (double)unit,
			 names[i]);
	return buf;
}

char *vbctl_size_cell(uint64_t bytes, char *buf, size_t len)
{
	if (bytes == UINT64_MAX)
		snprintf(buf, len, "-");
	else
		vbctl_size_iec(bytes, buf, len);
	return buf;
}

char *vbctl_size_human(uint64_t bytes, char *buf, size_t len)
{
	char iec[32];

	/* Below 1 KiB the IEC form would only repeat the bytes. */
	if (bytes < 1024)
		snprintf(buf, len, "%llu byte%s", (unsigned long long)bytes,
			 bytes == 1 ? "" : "s");
	else
		snprintf(buf, len, "%s (%llu bytes)",
			 vbctl_size_iec(bytes, iec, sizeof(iec)),
			 (unsigned long long)bytes);
	return buf;
}
