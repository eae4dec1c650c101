/* SPDX-License-Identifier: MIT */
/*
 * hostmem.c - reads the host's available memory and memory pressure for
 * "vbctl auto": /proc/meminfo (proc(5)) and /proc/pressure/memory (the
 * kernel's Documentation/accounting/psi.rst).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostmem.h"

/* /proc/meminfo is about 1.5 KiB; pressure files about 100 bytes. */
#define PROC_FILE_MAX	16384

/* The value of "KEY:   N kB" in meminfo TEXT, in bytes. */
static bool meminfo_field(const char *text, const char *key, uint64_t *bytes)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *end;
			unsigned long long kb;

			errno = 0;
			kb = strtoull(line + klen + 1, &end, 10);
			if (errno || end == line + klen + 1)
				return false;
			while (*end == ' ')
				end++;
			/* Every size in meminfo is in kB (KiB); a field
			 * without the unit is a count, not ours. */
			if (strncmp(end, "kB", 2) != 0)
				return false;
			*bytes = (uint64_t)kb * 1024;
			return true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

int vbctl_hostmem_parse_meminfo(const char *text, struct vbctl_hostmem *hm)
{
	uint64_t total, avail, free, buffers = 0, cached = 0;

	hm->mem_known = false;
	hm->available_estimated = false;
	if (!meminfo_field(text, "MemTotal", &total))
		return -EINVAL;
	if (!meminfo_field(text, "MemAvailable", &avail)) {
		if (!meminfo_field(text, "MemFree", &free))
			return -EINVAL;
		meminfo_field(text, "Buffers", &buffers);
		meminfo_field(text, "Cached", &cached);
		avail = free + buffers + cached;
		hm->available_estimated = true;
	}
	hm->mem_total = total;
	hm->mem_available = avail;
	hm->mem_known = true;
	return 0;
}

/* "avg10=1.23" on the line of TEXT starting with KIND ("some", "full"). */
static bool pressure_avg10(const char *text, const char *kind, double *pct)
{
	size_t klen = strlen(kind);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, kind, klen) == 0 && line[klen] == ' ') {
			const char *p = strstr(line, "avg10=");
			const char *eol = strchr(line, '\n');
			char *end;

			if (!p || (eol && p > eol))
				return false;
			errno = 0;
			*pct = strtod(p + 6, &end);
			return !errno && end != p + 6 && *pct >= 0 && *pct <= 100;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

int vbctl_hostmem_parse_pressure(const char *text, struct vbctl_hostmem *hm)
{
	double some, full = 0;

	hm->pressure_known = false;
	if (!pressure_avg10(text, "some", &some))
		return -EINVAL;
	/* "full" is missing from CPU pressure only, but be lenient. */
	pressure_avg10(text, "full", &full);
	hm->some_avg10 = some;
	hm->full_avg10 = full;
	hm->pressure_known = true;
	return 0;
}

/* Reads DIR/NAME whole into BUF (NUL-terminated). 0 or -errno. */
static int read_proc_file(const char *dir, const char *name, char *buf,
			  size_t len)
{
	char path[4096];
	size_t got = 0;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return rc;
}

int vbctl_hostmem_read(const char *proc_root, struct vbctl_hostmem *hm)
{
	char buf[PROC_FILE_MAX];
	int rc;

	if (!proc_root)
		proc_root = "/proc";
	memset(hm, 0, sizeof(*hm));
	rc = read_proc_file(proc_root, "meminfo", buf, sizeof(buf));
	if (rc)
		return rc;
	rc = vbctl_hostmem_parse_meminfo(buf, hm);
	if (rc)
		return rc;
	/* No PSI (CONFIG_PSI off: ENOENT; psi=0: EOPNOTSUPP on read) is a
	 * host without the figure, not an error. */
	if (read_proc_file(proc_root, "pressure/memory", buf, sizeof(buf)) == 0)
		vbctl_hostmem_parse_pressure(buf, hm);
	return 0;
}
