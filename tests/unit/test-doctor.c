/* SPDX-License-Identifier: MIT */
/*
 * test-doctor.c - the rules of "vbctl doctor" on made-up facts: each
 * diagnosis appears exactly when its facts hold, with its severity, most
 * severe first, and what cannot be seen on this machine's QEMU (older
 * versions without x-query-virtio-status or free page reporting).
 */
#include "config.h"

#include <errno.h>

#include "../tap.h"
#include "../../tools/vbctl/doctor.h"

#define GiB (1024ull * 1024 * 1024)
#define NOW 1700000000

/* A healthy VM: QEMU 9.2 running our driver with stats, polled every 2 s,
 * a sample 1 s old, both device options on and accepted. */
static struct doctor_facts healthy(void)
{
	struct doctor_facts f = {
		.addr = "qmp-sock",
		.qemu_major = 9, .qemu_minor = 2, .qemu_micro = 0,
		.has_virtio_status = true,
		.run_state = "running", .running = true,
		.balloon = true, .actual = 2 * GiB, .base_memory = 2 * GiB,
		.device_status_known = true,
		.device_status = DOCTOR_STATUS_ACKNOWLEDGE | DOCTOR_STATUS_DRIVER |
				 DOCTOR_STATUS_FEATURES_OK | DOCTOR_STATUS_DRIVER_OK,
		.host_features = DOCTOR_F_STATS_VQ | DOCTOR_F_DEFLATE_ON_OOM |
				 DOCTOR_F_PAGE_REPORTING,
		.guest_features = DOCTOR_F_STATS_VQ | DOCTOR_F_DEFLATE_ON_OOM |
				  DOCTOR_F_PAGE_REPORTING,
		.deflate_on_oom = 1, .free_page_reporting = 1,
		.polling_interval = 2, .last_update = NOW - 1, .now = NOW,
	};
	return f;
}

static struct doctor_finding found[DOCTOR_MAX_FINDINGS];
static size_t nfound;

static void diagnose(const struct doctor_facts *f)
{
	nfound = doctor_diagnose(f, found, DOCTOR_MAX_FINDINGS);
}

/* The finding ID, or NULL. */
static const struct doctor_finding *get(const char *id)
{
	for (size_t i = 0; i < nfound; i++)
		if (strcmp(found[i].id, id) == 0)
			return &found[i];
	return NULL;
}

/* Exactly the findings IDS (space-separated, in order). */
static void expect(const char *ids, const char *desc)
{
	char got[512] = "";
	size_t used = 0;

	for (size_t i = 0; i < nfound; i++)
		used += snprintf(got + used, sizeof(got) - used, "%s%s",
				 i ? " " : "", found[i].id);
	if (!ok(strcmp(got, ids) == 0, "%s: %s", desc, *ids ? ids : "nothing"))
		tap_diag("got '%s'", got);
}

static void expect_severity(const char *id, enum doctor_severity s)
{
	const struct doctor_finding *f = get(id);

	ok(f && f->severity == s, "%s is a %s", id, doctor_severity_name(s));
}

static void contains(const char *id, const char *field, const char *text)
{
	const struct doctor_finding *f = get(id);
	const char *s = !f ? "" : strcmp(field, "todo") == 0 ? f->todo : f->what;

	if (!ok(strstr(s, text), "%s %s says '%s'", id, field, text))
		tap_diag("%s", s);
}

int main(void)
{
	struct doctor_facts f;

	f = healthy();
	diagnose(&f);
	expect("", "a healthy VM on QEMU 9.2");

	/* Connecting. */
	f = healthy();
	f.connect_err = -ETIMEDOUT;
	diagnose(&f);
	expect("monitor-busy", "no greeting");
	expect_severity("monitor-busy", DOCTOR_PROBLEM);
	contains("monitor-busy", "what", "another client holds this monitor");
	contains("monitor-busy", "todo", "second monitor");
	f.connect_err = -ENOENT;
	f.connect_desc = "No such file or directory";
	diagnose(&f);
	expect("no-qemu", "no socket");
	contains("no-qemu", "what", "cannot connect to qmp-sock: No such file or directory");

	/* Run state: only what follows from a running guest is left out. */
	f = healthy();
	f.running = false;
	f.run_state = "paused";
	f.last_update = NOW - 100;
	diagnose(&f);
	expect("vm-not-running", "paused, stats old");
	contains("vm-not-running", "what", "'paused'");
	contains("vm-not-running", "todo", "vbctl qmp cont");
	f.run_state = "guest-panicked";
	diagnose(&f);
	contains("vm-not-running", "todo", "system_reset");

	/* The device and its driver. */
	f = healthy();
	f.balloon = false;
	diagnose(&f);
	expect("no-balloon", "no balloon device");
	contains("no-balloon", "todo", "-device virtio-balloon-pci");
	f = healthy();
	f.device_status = 0;
	f.guest_features = 0;
	f.last_update = 0;
	diagnose(&f);
	expect("no-driver", "a device without a driver (not also: no stats)");
	contains("no-driver", "what", "device status: none");
	f.device_status = DOCTOR_STATUS_ACKNOWLEDGE | DOCTOR_STATUS_DRIVER;
	diagnose(&f);
	contains("no-driver", "what", "device status: ACKNOWLEDGE, DRIVER)");
	f = healthy();
	f.device_broken = true;
	diagnose(&f);
	expect("device-broken", "a broken device");
	f = healthy();
	f.guest_features &= ~DOCTOR_F_STATS_VQ;
	f.last_update = 0;
	diagnose(&f);
	expect("no-stats-queue", "no stats queue (not also: stats never)");
	expect_severity("no-stats-queue", DOCTOR_WARNING);

	/* Stats. */
	f = healthy();
	f.polling_interval = 0;
	f.last_update = 0;
	diagnose(&f);
	expect("polling-off", "polling off");
	expect_severity("polling-off", DOCTOR_WARNING);
	f = healthy();
	f.last_update = 0;
	f.watched_ms = 4000;
	ok(doctor_stats_stale(&f), "no sample yet is stale");
	diagnose(&f);
	expect("stats-never", "never answered");
	contains("stats-never", "what", "every 2 s, but it never answered (watched 4.0 s)");
	f = healthy();
	f.last_update = NOW - 2 - DOCTOR_STATS_SLACK_S;
	ok(!doctor_stats_stale(&f), "a sample interval + slack old is current");
	f.last_update--;
	ok(doctor_stats_stale(&f), "one second older is stale");
	diagnose(&f);
	expect("stats-stale", "stopped answering");
	contains("stats-stale", "what", "are 5 s old though QEMU asks every 2 s");
	f.stats_moved = true;
	f.last_update = NOW;
	diagnose(&f);
	expect("", "a new sample while watched");

	/* The target (only when given). */
	f = healthy();
	f.target_given = true;
	f.target = 1 * GiB;
	f.watched_ms = 3000;
	diagnose(&f);
	expect("target-far", "actual 1 GiB above the target, still");
	contains("target-far", "what", "1024 MiB above the target and did not move in 3.0 s");
	f.actual_moved = true;
	diagnose(&f);
	expect("balloon-moving", "moving toward it");
	expect_severity("balloon-moving", DOCTOR_NOTE);
	f = healthy();
	f.target_given = true;
	f.target = f.actual - 4095;
	diagnose(&f);
	expect("", "within a page of the target");

	/* Device options. */
	f = healthy();
	f.deflate_on_oom = 0;
	f.free_page_reporting = 0;
	f.host_features = f.guest_features = DOCTOR_F_STATS_VQ;
	diagnose(&f);
	expect("deflate-on-oom-off page-reporting-off", "both options off");
	f = healthy();
	f.guest_features = DOCTOR_F_STATS_VQ;
	diagnose(&f);
	expect("deflate-on-oom-unused page-reporting-unused", "offered, not accepted");

	/* QEMU version limits. */
	f = healthy();
	f.qemu_major = 7;
	diagnose(&f);
	expect("qemu-stats", "QEMU 7.2");
	contains("qemu-stats", "todo", "9.2");
	f = healthy();
	f.qemu_major = 5;
	f.qemu_minor = 0;
	f.has_virtio_status = false;
	f.device_status_known = false;
	f.free_page_reporting = -1;
	diagnose(&f);
	expect("qemu-no-virtio-status qemu-no-page-reporting qemu-stats", "QEMU 5.0");
	f.last_update = 0;
	diagnose(&f);
	ok(get("stats-never") && strstr(get("stats-never")->todo, "no balloon driver"),
	   "without x-query-virtio-status, no stats ever suggests no driver");

	/* Order: problems, then warnings, then notes. */
	f = healthy();
	f.qemu_major = 7;
	f.deflate_on_oom = 0;
	f.polling_interval = 0;
	f.running = false;
	f.run_state = "paused";
	diagnose(&f);
	expect("vm-not-running polling-off deflate-on-oom-off qemu-stats",
	       "most severe first");

	/* Parsing QEMU's feature and status names. */
	is_int(doctor_feature_bit("VIRTIO_BALLOON_F_STATS_VQ: Guest memory stats VQ available"),
	       DOCTOR_F_STATS_VQ, "STATS_VQ by name");
	is_int(doctor_feature_bit("VIRTIO_BALLOON_F_REPORTING: Page reporting VQ enabled"),
	       DOCTOR_F_PAGE_REPORTING, "QEMU 7.2's name for page reporting");
	is_int(doctor_feature_bit("VIRTIO_BALLOON_F_STATS_VQX: x"), 0, "a longer name is another");
	is_int(doctor_status_bit("VIRTIO_CONFIG_S_DRIVER: Guest OS compatible with device"),
	       DOCTOR_STATUS_DRIVER, "DRIVER is not DRIVER_OK");
	is_int(doctor_status_bit("VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready"),
	       DOCTOR_STATUS_DRIVER_OK, "DRIVER_OK");
	return tap_done();
}
