/* SPDX-License-Identifier: MIT */
/*
 * test-hostmem.c - the host reader of "vbctl auto" on fixture /proc trees:
 * MemAvailable and PSI from a current kernel, the estimate a kernel
 * without MemAvailable gets, no PSI, malformed files; and this machine's
 * own /proc, which must parse.
 */
#include "config.h"

#include <errno.h>

#include "../tap.h"
#include "../../tools/vbctl/hostmem.h"

#define KiB 1024ull

static char fixture[4096];

static const char *fixture_dir(const char *name)
{
	const char *top = getenv("top_srcdir");

	snprintf(fixture, sizeof(fixture), "%s/tests/unit/fixtures/%s",
		 top ? top : ".", name);
	return fixture;
}

int main(void)
{
	struct vbctl_hostmem hm;
	int rc;

	rc = vbctl_hostmem_read(fixture_dir("proc-psi"), &hm);
	is_int(rc, 0, "current kernel: read");
	ok(hm.mem_known && !hm.available_estimated, "MemAvailable found");
	is_u64(hm.mem_total, 8029712 * KiB, "MemTotal in bytes");
	is_u64(hm.mem_available, 2621440 * KiB, "MemAvailable in bytes, not MemFree");
	ok(hm.pressure_known, "PSI found");
	ok(hm.some_avg10 > 12.49 && hm.some_avg10 < 12.51, "some avg10 12.50");
	ok(hm.full_avg10 > 3.24 && hm.full_avg10 < 3.26, "full avg10 3.25");

	rc = vbctl_hostmem_read(fixture_dir("proc-old"), &hm);
	is_int(rc, 0, "kernel without MemAvailable or PSI: read");
	ok(hm.available_estimated, "available is an estimate");
	is_u64(hm.mem_available, (100000 + 20000 + 300000) * KiB,
	       "... MemFree + Buffers + Cached");
	ok(!hm.pressure_known, "no PSI file: pressure unknown, no error");

	rc = vbctl_hostmem_read(fixture_dir("proc-bad"), &hm);
	is_int(rc, -EINVAL, "meminfo without MemTotal: refused");
	ok(!hm.mem_known, "... and nothing known");

	rc = vbctl_hostmem_read(fixture_dir("no-such-dir"), &hm);
	is_int(rc, -ENOENT, "no meminfo: -ENOENT");

	is_int(vbctl_hostmem_parse_pressure("some avg10=oops\n", &hm), -EINVAL,
	       "garbled pressure: refused");
	ok(!hm.pressure_known, "... pressure unknown");
	is_int(vbctl_hostmem_parse_pressure("full avg10=1.00 avg60=0 avg300=0 total=1\n",
					    &hm), -EINVAL, "no 'some' line: refused");
	is_int(vbctl_hostmem_parse_meminfo("MemTotal: 12\nMemAvailable: 5 kB\n", &hm),
	       -EINVAL, "a size without kB: refused");
	is_int(vbctl_hostmem_parse_meminfo("XMemTotal: 1 kB\nMemTotal: 2 kB\nMemFree: 1 kB\n",
					   &hm), 0, "keys match whole names only");
	is_u64(hm.mem_total, 2 * KiB, "... MemTotal, not XMemTotal");

	rc = vbctl_hostmem_read(NULL, &hm);
	is_int(rc, 0, "this host's /proc parses");
	ok(hm.mem_known && hm.mem_available > 0 && hm.mem_available <= hm.mem_total,
	   "... with 0 < MemAvailable <= MemTotal");
	return tap_done();
}
