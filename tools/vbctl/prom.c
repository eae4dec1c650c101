/* SPDX-License-Identifier: MIT */
/*
 * prom.c - VMs' balloon figures in the Prometheus text exposition format
 * (see prom.h). Names follow Prometheus' conventions (base units, _bytes,
 * _seconds, _total for counters) and, where libvirt exporters publish the
 * same figure (libvirt_domain_memory_stats_*, libvirt_domain_info_*), the
 * same name under our vballoon_ prefix, so dashboards carry over.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "prom.h"

/* QEMU's guest-stats value for "the guest did not report this". */
#define STAT_UNSET UINT64_MAX

enum prom_source {
	SRC_UP,
	SRC_READ_SECONDS,
	SRC_BOOT,
	SRC_ACTUAL,
	SRC_POLLING,
	SRC_LAST_UPDATE,
	SRC_STAT,	/* the guest statistic named by stat_key */
};

struct prom_family {
	const char *name;
	const char *type;	/* "gauge" or "counter" */
	const char *help;
	enum prom_source src;
	const char *stat_key;	/* SRC_STAT: QEMU's guest-stats key */
};

#define STATS "vballoon_domain_memory_stats_"

static const struct prom_family families[] = {
	{ "vballoon_up", "gauge",
	  "1 when the VM's balloon was read, 0 when it could not be (no connection, timeout, no balloon device).",
	  SRC_UP, NULL },
	{ "vballoon_read_duration_seconds", "gauge",
	  "Time taken to read the VM.", SRC_READ_SECONDS, NULL },
	{ "vballoon_domain_info_maximum_memory_bytes", "gauge",
	  "Boot memory of the VM: the most the balloon can give the guest, in bytes.",
	  SRC_BOOT, NULL },
	{ STATS "actual_balloon_bytes", "gauge",
	  "The guest's logical memory size: boot memory less the balloon (QMP query-balloon actual), in bytes.",
	  SRC_ACTUAL, NULL },
	{ STATS "polling_interval_seconds", "gauge",
	  "Interval at which QEMU asks the guest for statistics; 0: off.",
	  SRC_POLLING, NULL },
	{ STATS "last_update_timestamp_seconds", "gauge",
	  "When the guest last reported statistics, in seconds since the epoch.",
	  SRC_LAST_UPDATE, NULL },
	/* The guest's statistics, in virtio tag order. libvirt's names:
	 * "unused" is free memory, "available" the total, "usable" what
	 * the guest could use without swapping. */
	{ STATS "swap_in_bytes_total", "counter",
	  "Memory the guest swapped in, in bytes.", SRC_STAT, "stat-swap-in" },
	{ STATS "swap_out_bytes_total", "counter",
	  "Memory the guest swapped out, in bytes.", SRC_STAT, "stat-swap-out" },
	{ STATS "major_fault_total", "counter",
	  "Major page faults in the guest (those that needed I/O).",
	  SRC_STAT, "stat-major-faults" },
	{ STATS "minor_fault_total", "counter",
	  "Minor page faults in the guest.", SRC_STAT, "stat-minor-faults" },
	{ STATS "unused_bytes", "gauge",
	  "Memory the guest leaves completely unused (free), in bytes.",
	  SRC_STAT, "stat-free-memory" },
	{ STATS "available_bytes", "gauge",
	  "Total memory as the guest sees it, in bytes.",
	  SRC_STAT, "stat-total-memory" },
	{ STATS "usable_bytes", "gauge",
	  "Memory the guest can use without swapping (MemAvailable), in bytes.",
	  SRC_STAT, "stat-available-memory" },
	{ STATS "disk_cache_bytes", "gauge",
	  "Memory the guest can reclaim at once without I/O (disk caches), in bytes.",
	  SRC_STAT, "stat-disk-caches" },
	{ STATS "hugetlb_pgalloc_total", "counter",
	  "Successful huge page allocations in the guest.",
	  SRC_STAT, "stat-htlb-pgalloc" },
	{ STATS "hugetlb_pgfail_total", "counter",
	  "Failed huge page allocations in the guest.",
	  SRC_STAT, "stat-htlb-pgfail" },
	{ STATS "oom_kills_total", "counter",
	  "Processes the guest's OOM killer killed.", SRC_STAT, "stat-oom-kills" },
	{ STATS "alloc_stalls_total", "counter",
	  "Allocation stalls in the guest.", SRC_STAT, "stat-alloc-stalls" },
	{ STATS "async_scans_total", "counter",
	  "Pages the guest's kswapd scanned.", SRC_STAT, "stat-async-scans" },
	{ STATS "direct_scans_total", "counter",
	  "Pages the guest scanned in direct reclaim.", SRC_STAT, "stat-direct-scans" },
	{ STATS "async_reclaims_total", "counter",
	  "Pages the guest's kswapd reclaimed.", SRC_STAT, "stat-async-reclaims" },
	{ STATS "direct_reclaims_total", "counter",
	  "Pages the guest reclaimed in direct reclaim.",
	  SRC_STAT, "stat-direct-reclaims" },
};

/* The guest-stats "stats" member of a sample, borrowed. */
static struct json_object *stats_object(const struct qmp_balloon_stats *st)
{
	struct json_object *stats = NULL;

	if (st)
		json_object_object_get_ex(qmp_balloon_stats_json(st), "stats", &stats);
	return stats;
}

/* Statistic KEY of ST: through libqmp's getter when it knows the key,
 * else as QEMU sent it. False when the guest did not report it. */
static bool stat_value(const struct qmp_balloon_stats *st, const char *key,
		       uint64_t *value)
{
	struct json_object *v;
	int i;

	if (!st)
		return false;
	for (i = 0; i < QMP_STAT_COUNT; i++)
		if (strcmp(qmp_balloon_stat_key(i), key) == 0)
			return qmp_balloon_stats_get(st, i, value);
	if (!json_object_object_get_ex(stats_object(st), key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*value = json_object_get_uint64(v);
	return *value != STAT_UNSET;
}

/* One sample's value as text, or false when the VM has none. */
static bool sample(const struct prom_family *fam, const struct prom_vm *vm,
		   char *buf, size_t len)
{
	uint64_t u;
	int64_t t;

	if (fam->src == SRC_UP) {
		snprintf(buf, len, "%d", vm->up ? 1 : 0);
		return true;
	}
	if (fam->src == SRC_READ_SECONDS) {
		snprintf(buf, len, "%.6f", vm->read_seconds);
		return vm->read_seconds >= 0;
	}
	if (!vm->up)
		return false;
	switch (fam->src) {
	case SRC_BOOT:
		snprintf(buf, len, "%llu", (unsigned long long)vm->boot);
		return vm->has_boot;
	case SRC_ACTUAL:
		snprintf(buf, len, "%llu", (unsigned long long)vm->actual);
		return vm->has_actual;
	case SRC_POLLING:
		snprintf(buf, len, "%lld", (long long)vm->polling_s);
		return vm->has_polling;
	case SRC_LAST_UPDATE:
		t = vm->stats ? qmp_balloon_stats_last_update(vm->stats) : 0;
		snprintf(buf, len, "%lld", (long long)t);
		return t > 0;
	case SRC_STAT:
		if (!stat_value(vm->stats, fam->stat_key, &u))
			return false;
		snprintf(buf, len, "%llu", (unsigned long long)u);
		return true;
	default:
		return false;
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void write_label(FILE *f, const char *value)
{
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			fprintf(f, "\\%c", *value);
		else if (*value == '\n')
			fputs("\\n", f);
		else
			fputc(*value, f);
	}
}

static void write_family(FILE *f, const struct prom_family *fam,
			 const struct prom_vm *vms, size_t n)
{
	char value[64];
	bool any = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!sample(fam, &vms[i], value, sizeof(value)))
			continue;
		if (!any)
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fam->name,
				fam->help, fam->name, fam->type);
		any = true;
		fprintf(f, "%s{domain=\"", fam->name);
		write_label(f, vms[i].domain);
		fprintf(f, "\"} %s\n", value);
	}
}

static bool known_key(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(*families); i++)
		if (families[i].stat_key && strcmp(families[i].stat_key, key) == 0)
			return true;
	return false;
}

/* A statistic this vbctl has no name for (a newer QEMU): "stat-foo-bar"
 * becomes vballoon_domain_memory_stats_foo_bar, an untyped gauge, once
 * for all VMs that report it. */
static void write_unknown_stats(FILE *f, const struct prom_vm *vms, size_t n)
{
	struct prom_family fam = { .type = "gauge", .src = SRC_STAT };
	char name[256], *p;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!vms[i].up)
			continue;
		json_object_object_foreach(stats_object(vms[i].stats), key, value) {
			bool seen = false;

			(void)value;
			if (known_key(key))
				continue;
			/* Written already for an earlier VM. */
			for (j = 0; j < i && !seen; j++)
				seen = vms[j].up && json_object_object_get_ex(
					stats_object(vms[j].stats), key, NULL);
			if (seen)
				continue;
			snprintf(name, sizeof(name), STATS "%s",
				 strncmp(key, "stat-", 5) ? key : key + 5);
			for (p = name; *p; p++)
				if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
				    !(*p >= '0' && *p <= '9') && *p != '_' && *p != ':')
					*p = '_';
			fam.name = name;
			fam.help = "A guest statistic this vbctl does not know, as QEMU reports it.";
			fam.stat_key = key;
			write_family(f, &fam, vms + i, n - i);
		}
	}
}

int prom_write(FILE *f, const struct prom_vm *vms, size_t n)
{
	size_t i;

	fprintf(f, "# HELP vballoon_build_info The vbctl that wrote these metrics.\n"
		"# TYPE vballoon_build_info gauge\n"
		"vballoon_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	for (i = 0; i < sizeof(families) / sizeof(*families); i++)
		write_family(f, &families[i], vms, n);
	write_unknown_stats(f, vms, n);
	return ferror(f) ? -1 : 0;
}
