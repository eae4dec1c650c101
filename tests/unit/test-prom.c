/* SPDX-License-Identifier: MIT */
/*
 * test-prom.c - the Prometheus printer (tools/vbctl/prom.c): families once
 * each with HELP and TYPE, one sample per VM, figures not read left out
 * (never 0), QEMU's "unset" left out, label values escaped, statistics
 * this vbctl does not know named after QEMU's key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "../tap.h"
#include "../../tools/vbctl/prom.h"

static const char guest_stats[] =
	"{\"stats\": {\"stat-swap-in\": 0, \"stat-swap-out\": 4096,"
	" \"stat-major-faults\": 7, \"stat-minor-faults\": 1234,"
	" \"stat-free-memory\": 104857600, \"stat-total-memory\": 268435456,"
	" \"stat-available-memory\": 209715200,"
	" \"stat-disk-caches\": 18446744073709551615,"
	" \"stat-htlb-pgalloc\": 18446744073709551615,"
	" \"stat-htlb-pgfail\": 18446744073709551615,"
	" \"stat-new-thing\": 42},"
	" \"last-update\": 1764547200}";

static int count(const char *text, const char *what)
{
	int n = 0;

	for (; (text = strstr(text, what)); text++)
		n++;
	return n;
}

int main(void)
{
	struct qmp_balloon_stats *st = NULL;
	struct json_object *obj = json_tokener_parse(guest_stats);
	struct prom_vm vms[2];
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	is_int(qmp_balloon_stats_parse(obj, &st), 0, "the sample parses");
	memset(vms, 0, sizeof(vms));
	vms[0] = (struct prom_vm){
		.domain = "vm-a", .up = true, .read_seconds = 0.25,
		.has_actual = true, .actual = 268435456,
		.has_boot = true, .boot = 536870912,
		.has_polling = true, .polling_s = 2, .stats = st,
	};
	vms[1] = (struct prom_vm){ .domain = "a \"b\" \\c\nd", .up = false,
				   .read_seconds = -1 };
	f = open_memstream(&text, &len);
	is_int(prom_write(f, vms, 2), 0, "prom_write");
	fclose(f);

	ok(strstr(text, "# TYPE vballoon_up gauge\n"
		  "vballoon_up{domain=\"vm-a\"} 1\n"
		  "vballoon_up{domain=\"a \\\"b\\\" \\\\c\\nd\"} 0\n") != NULL,
	   "vballoon_up: 1 and 0, the label escaped");
	ok(strstr(text, "vballoon_read_duration_seconds{domain=\"vm-a\"} 0.250000\n") != NULL,
	   "read duration");
	is_int(count(text, "vballoon_read_duration_seconds{"), 1,
	       "no duration where none is known");
	ok(strstr(text, "vballoon_domain_memory_stats_actual_balloon_bytes{domain=\"vm-a\"} 268435456\n") != NULL,
	   "actual in bytes, libvirt exporter's name");
	ok(strstr(text, "vballoon_domain_info_maximum_memory_bytes{domain=\"vm-a\"} 536870912\n") != NULL,
	   "boot memory");
	ok(strstr(text, "vballoon_domain_memory_stats_unused_bytes{domain=\"vm-a\"} 104857600\n") != NULL,
	   "free memory is libvirt's unused");
	ok(strstr(text, "vballoon_domain_memory_stats_available_bytes{domain=\"vm-a\"} 268435456\n") != NULL,
	   "total memory is libvirt's available");
	ok(strstr(text, "vballoon_domain_memory_stats_usable_bytes{domain=\"vm-a\"} 209715200\n") != NULL,
	   "available memory is libvirt's usable");
	ok(strstr(text, "# TYPE vballoon_domain_memory_stats_major_fault_total counter\n"
		  "vballoon_domain_memory_stats_major_fault_total{domain=\"vm-a\"} 7\n") != NULL,
	   "faults are counters");
	ok(strstr(text, "vballoon_domain_memory_stats_swap_out_bytes_total{domain=\"vm-a\"} 4096\n") != NULL,
	   "swap out");
	ok(strstr(text, "vballoon_domain_memory_stats_last_update_timestamp_seconds{domain=\"vm-a\"} 1764547200\n") != NULL,
	   "last update");
	ok(strstr(text, "vballoon_domain_memory_stats_polling_interval_seconds{domain=\"vm-a\"} 2\n") != NULL,
	   "polling interval");
	ok(!strstr(text, "disk_cache") && !strstr(text, "hugetlb"),
	   "unset statistics (2^64-1) are left out, family and all");
	ok(!strstr(text, "18446744073709551615"), "2^64-1 appears nowhere");
	ok(strstr(text, "# TYPE vballoon_domain_memory_stats_new_thing gauge\n"
		  "vballoon_domain_memory_stats_new_thing{domain=\"vm-a\"} 42\n") != NULL,
	   "an unknown statistic is named after QEMU's key");
	is_int(count(text, "# TYPE vballoon_up "), 1, "each family typed once");
	is_int(count(text, "{domain=\"a \\\"b"), 1, "the VM that is down has only vballoon_up");
	ok(strstr(text, "vballoon_build_info{version=\"" PACKAGE_VERSION "\"} 1\n") != NULL,
	   "build info");
	if (tap_failed)
		tap_diag("%s", text);

	free(text);
	qmp_balloon_stats_free(st);
	json_object_put(obj);
	return tap_done();
}
