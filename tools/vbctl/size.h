/* SPDX-License-Identifier: MIT */
/*
 * size.h - the size grammar of "vbctl set" and human-readable sizes.
 * Pure functions, no I/O: errors are written into a caller's buffer.
 */
#ifndef VBCTL_SIZE_H
#define VBCTL_SIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A parsed SIZE. Absolute ("1.5G", "1073741824") or a percentage of the
 * VM's boot memory ("50%"); either may be relative to the current size
 * with a leading '+' or '-'.
 */
struct vbctl_size {
	int sign;		/* 0 absolute, +1 "+SIZE", -1 "-SIZE" */
	bool percent;		/* pct_num/pct_den of boot memory */
	uint64_t bytes;		/* when !percent */
	uint64_t pct_num;	/* when percent: fraction of boot memory */
	uint64_t pct_den;
};

/* Longest message the size functions write (buffers: this size). */
#define VBCTL_SIZE_ERR_MAX 256
/* Longest "2.00 GiB (2147483648 bytes)". */
#define VBCTL_SIZE_HUMAN_MAX 64

/*
 * Parses TEXT. Returns 0, or -EINVAL with a message naming TEXT in ERR.
 * Only the syntax is checked; vbctl_size_resolve() checks the result.
 */
int vbctl_size_parse(const char *text, struct vbctl_size *size, char *err,
		     size_t errlen);
/* Whether resolving needs the current size (relative forms). */
static inline bool vbctl_size_is_relative(const struct vbctl_size *size)
{
	return size->sign != 0;
}
/*
 * The target in bytes, given the VM's boot memory BOOT and current size
 * CURRENT (bytes). Fails with -ERANGE and a message naming TEXT when the
 * target would be 0 or less, or above BOOT.
 */
int vbctl_size_resolve(const struct vbctl_size *size, const char *text,
		       uint64_t boot, uint64_t current, uint64_t *target,
		       char *err, size_t errlen);

/* "2.00 GiB", "512 B": IEC units, two decimals. Returns BUF. */
char *vbctl_size_iec(uint64_t bytes, char *buf, size_t len);
/* A table cell: vbctl_size_iec(), or "-" for UINT64_MAX (what QEMU sends
 * for a guest stat the guest did not report). Returns BUF. */
char *vbctl_size_cell(uint64_t bytes, char *buf, size_t len);
/* "2.00 GiB (2147483648 bytes)"; below 1 KiB just "1 byte", "512 bytes".
 * Returns BUF. */
char *vbctl_size_human(uint64_t bytes, char *buf, size_t len);

#endif
