/* SPDX-License-Identifier: MIT */
/*
 * hostmem.h - the host's memory as "vbctl auto" sees it: MemTotal and
 * MemAvailable from /proc/meminfo, memory pressure from
 * /proc/pressure/memory (PSI, where the kernel has it). Parsers work on
 * text, so tests feed them fixture files.
 */
#ifndef VBCTL_HOSTMEM_H
#define VBCTL_HOSTMEM_H

#include <stdbool.h>
#include <stdint.h>

struct vbctl_hostmem {
	bool mem_known;			/* mem_total, mem_available valid */
	uint64_t mem_total;		/* MemTotal, bytes */
	uint64_t mem_available;		/* MemAvailable, bytes */
	/* The kernel has no MemAvailable (before Linux 3.14): estimated as
	 * MemFree + Buffers + Cached. */
	bool available_estimated;
	bool pressure_known;		/* the two below are valid */
	double some_avg10;		/* percent of time some task stalled */
	double full_avg10;		/* percent of time all tasks stalled */
};

/* Parses /proc/meminfo's TEXT into HM. 0, or -EINVAL when MemTotal or
 * both MemAvailable and MemFree are missing (mem_known stays false). */
int vbctl_hostmem_parse_meminfo(const char *text, struct vbctl_hostmem *hm);
/* Parses /proc/pressure/memory's TEXT ("some avg10=..."). 0 or -EINVAL. */
int vbctl_hostmem_parse_pressure(const char *text, struct vbctl_hostmem *hm);
/*
 * Reads PROC_ROOT/meminfo and PROC_ROOT/pressure/memory (PROC_ROOT: NULL
 * for /proc). A kernel without PSI (no file, or EOPNOTSUPP with psi=0)
 * leaves pressure_known false and is no error. Returns 0, or a negative
 * errno when meminfo cannot be read or parsed.
 */
int vbctl_hostmem_read(const char *proc_root, struct vbctl_hostmem *hm);

#endif
