/* SPDX-License-Identifier: MIT */
/*
 * doctor.c - the rules of "vbctl doctor": why ballooning does not work on
 * a VM, from the facts QMP showed (doctor.h), each finding with what to do.
 * Pure: cmd-doctor.c gathers the facts and prints the findings.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doctor.h"

/* QEMU moves the balloon in 4 KiB pages: closer than that is there. */
#define PAGE_BYTES 4096

struct findings {
	struct doctor_finding *out;
	size_t n, max;
};

static void add(struct findings *fs, enum doctor_severity severity,
		const char *id, const char *todo, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void add(struct findings *fs, enum doctor_severity severity,
		const char *id, const char *todo, const char *fmt, ...)
{
	struct doctor_finding *f;
	va_list ap;

	if (fs->n == fs->max)
		return;
	f = &fs->out[fs->n++];
	f->severity = severity;
	f->id = id;
	va_start(ap, fmt);
	vsnprintf(f->what, sizeof(f->what), fmt, ap);
	va_end(ap);
	snprintf(f->todo, sizeof(f->todo), "%s", todo);
}

const char *doctor_severity_name(enum doctor_severity s)
{
	switch (s) {
	case DOCTOR_PROBLEM:
		return "problem";
	case DOCTOR_WARNING:
		return "warning";
	default:
		return "note";
	}
}

static bool version_known(const struct doctor_facts *f)
{
	return f->qemu_major >= 0 && f->qemu_minor >= 0;
}

static bool version_before(const struct doctor_facts *f, int major, int minor)
{
	return version_known(f) &&
	       (f->qemu_major < major ||
		(f->qemu_major == major && f->qemu_minor < minor));
}

static bool driver_ok(const struct doctor_facts *f)
{
	return f->device_status_known && !f->device_broken &&
	       (f->device_status & DOCTOR_STATUS_DRIVER_OK) &&
	       !(f->device_status & (DOCTOR_STATUS_FAILED | DOCTOR_STATUS_NEEDS_RESET));
}

/* Whether the guest can answer stats requests, as far as we can see:
 * a driver that took the stats queue, or no way to tell. */
static bool stats_possible(const struct doctor_facts *f)
{
	if (!f->device_status_known)
		return true;
	return driver_ok(f) && (f->guest_features & DOCTOR_F_STATS_VQ);
}

bool doctor_stats_stale(const struct doctor_facts *f)
{
	return f->running && f->balloon && f->polling_interval > 0 &&
	       stats_possible(f) &&
	       (f->last_update == 0 ||
		/* (an interval near INT64_MAX must not overflow) */
		f->now - f->last_update - DOCTOR_STATS_SLACK_S > f->polling_interval);
}

static void connect_rules(const struct doctor_facts *f, struct findings *fs)
{
	if (f->connect_err == -ETIMEDOUT || f->connect_err == -EAGAIN)
		add(fs, DOCTOR_PROBLEM, "monitor-busy",
		    "close the other client (qmp-shell, another vbctl, libvirt), or give QEMU a second monitor for vbctl: -qmp unix:PATH,server=on,wait=off",
		    "QEMU at %s took the connection but never greeted: another client holds this monitor (QEMU serves one client per -qmp)",
		    f->addr);
	else
		add(fs, DOCTOR_PROBLEM, "no-qemu",
		    "start QEMU with -qmp unix:PATH,server=on,wait=off and give that address with -s (or $VBCTL_SOCKET)",
		    "cannot connect to %s: %s", f->addr,
		    f->connect_desc ? f->connect_desc : strerror(-f->connect_err));
}

static void version_rules(const struct doctor_facts *f, struct findings *fs)
{
	if (!f->has_virtio_status)
		add(fs, DOCTOR_NOTE, "qemu-no-virtio-status",
		    "upgrade QEMU to 7.2 or later for a sure answer",
		    "QEMU %d.%d has no x-query-virtio-status (7.2 added it): whether a guest driver set up the balloon can only be guessed from its stats",
		    f->qemu_major, f->qemu_minor);
	if (f->balloon && f->free_page_reporting < 0)
		add(fs, DOCTOR_NOTE, "qemu-no-page-reporting",
		    "upgrade QEMU to 5.1 or later for it",
		    "QEMU %d.%d has no free page reporting (5.1 added it): memory the guest frees stays allocated on the host",
		    f->qemu_major, f->qemu_minor);
	if (f->balloon && version_before(f, 9, 2))
		add(fs, DOCTOR_NOTE, "qemu-stats",
		    "upgrade QEMU to 9.2 or later to see them",
		    "QEMU %d.%d passes on 10 guest statistics: oom-kills, alloc-stalls and the scan and reclaim counts need QEMU 9.2",
		    f->qemu_major, f->qemu_minor);
}

/* The VM's run state, when it is not running; true when one was found. */
static bool run_state_rules(const struct doctor_facts *f, struct findings *fs)
{
	static const struct {
		const char *state, *todo;
	} states[] = {
		{ "paused", "'vbctl qmp cont' resumes it" },
		{ "prelaunch", "QEMU was started with -S and waits: 'vbctl qmp cont' starts the guest" },
		{ "inmigrate", "it waits for an incoming migration: finish or cancel that first" },
		{ "postmigrate", "it was migrated away: talk to the destination's monitor" },
		{ "finish-migrate", "a migration is finishing: wait, then talk to the destination" },
		{ "guest-panicked", "the guest kernel panicked: read its console, then 'vbctl qmp system_reset'" },
		{ "shutdown", "the guest shut down (QEMU runs on with -no-shutdown): 'vbctl qmp system_reset' boots it again" },
		{ "suspended", "the guest suspended itself (S3): 'vbctl qmp system_wakeup' wakes it" },
		{ "internal-error", "QEMU hit an internal error: look at QEMU's log, then 'vbctl qmp system_reset'" },
		{ "io-error", "a disk error paused it: fix the storage, then 'vbctl qmp cont'" },
		{ "watchdog", "the guest's watchdog fired: 'vbctl qmp system_reset' or 'vbctl qmp cont'" },
		{ "debug", "a debugger holds it (gdbstub): continue it from the debugger" },
	};
	const char *todo = "'vbctl qmp cont' resumes a paused VM";
	size_t i;

	if (f->running || !f->run_state)
		return false;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(states[i].state, f->run_state) == 0)
			todo = states[i].todo;
	add(fs, DOCTOR_PROBLEM, "vm-not-running", todo,
	    "the VM is not running (QEMU status '%s'): the guest can neither move the balloon nor answer for stats",
	    f->run_state);
	return true;
}

static void status_text(unsigned int status, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ DOCTOR_STATUS_ACKNOWLEDGE, "ACKNOWLEDGE" },
		{ DOCTOR_STATUS_DRIVER, "DRIVER" },
		{ DOCTOR_STATUS_FEATURES_OK, "FEATURES_OK" },
		{ DOCTOR_STATUS_DRIVER_OK, "DRIVER_OK" },
	};
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((status & names[i].bit) && used < len)
			used += snprintf(buf + used, len - used, "%s%s",
					 used ? ", " : "", names[i].name);
	if (!used)
		snprintf(buf, len, "none");
}

static void driver_rules(const struct doctor_facts *f, struct findings *fs)
{
	char status[96];

	if (!f->device_status_known)
		return;
	if (f->device_broken ||
	    (f->device_status & (DOCTOR_STATUS_FAILED | DOCTOR_STATUS_NEEDS_RESET))) {
		add(fs, DOCTOR_PROBLEM, "device-broken",
		    "reset the VM ('vbctl qmp system_reset') and read the guest's kernel log",
		    "the balloon device is %s: the guest driver broke the virtio protocol or gave up",
		    f->device_broken ? "marked broken by QEMU" :
		    f->device_status & DOCTOR_STATUS_FAILED ? "FAILED (the driver gave up)" :
							     "asking for a reset (NEEDS_RESET)");
		return;
	}
	if (!(f->device_status & DOCTOR_STATUS_DRIVER_OK)) {
		status_text(f->device_status, status, sizeof(status));
		add(fs, DOCTOR_PROBLEM, "no-driver",
		    "load a virtio-balloon driver in the guest (Linux: modprobe virtio_balloon); a guest still booting sets it up later",
		    "the balloon device is there but no guest driver has set it up (device status: %s), so actual never moves and no stats come",
		    status);
		return;
	}
	if (!(f->guest_features & DOCTOR_F_STATS_VQ))
		add(fs, DOCTOR_WARNING, "no-stats-queue",
		    "use a driver with the stats queue (Linux has it); the balloon itself still works",
		    "the guest driver did not take the stats queue (VIRTIO_BALLOON_F_STATS_VQ): it will never report statistics");
}

static void stats_rules(const struct doctor_facts *f, struct findings *fs)
{
	if (f->polling_interval == 0 && stats_possible(f)) {
		add(fs, DOCTOR_WARNING, "polling-off",
		    "'vbctl stats' turns it on (every 2 s), or 'vbctl qom-set balloon guest-stats-polling-interval 2'",
		    "stats polling is off (guest-stats-polling-interval 0): QEMU never asks the guest for statistics");
		return;
	}
	if (!f->running || !doctor_stats_stale(f))
		return;
	if (f->last_update == 0)
		add(fs, DOCTOR_PROBLEM, "stats-never",
		    f->device_status_known ?
		    "the driver took the stats queue but does not answer: read the guest's kernel log" :
		    "the guest has no balloon driver, or one without stats: load one (Linux: modprobe virtio_balloon)",
		    "QEMU asks the guest for statistics every %lld s, but it never answered (watched %.1f s)",
		    (long long)f->polling_interval, f->watched_ms / 1000.0);
	else
		add(fs, DOCTOR_PROBLEM, "stats-stale",
		    "read the guest's console or kernel log; 'vbctl qmp system_reset' restarts a hung guest",
		    "the guest's latest statistics are %lld s old though QEMU asks every %lld s: the guest stopped answering (hung, or its driver is stuck)",
		    (long long)(f->now - f->last_update),
		    (long long)f->polling_interval);
}

static void target_rules(const struct doctor_facts *f, struct findings *fs)
{
	uint64_t gap;
	bool above;

	if (!f->target_given || !f->running)
		return;
	above = f->actual > f->target;
	gap = above ? f->actual - f->target : f->target - f->actual;
	if (gap < PAGE_BYTES)
		return;
	if (f->actual_moved) {
		add(fs, DOCTOR_NOTE, "balloon-moving",
		    "'vbctl set SIZE --wait' follows it to the end",
		    "actual is %llu MiB from the target and moving toward it",
		    (unsigned long long)(gap >> 20));
		return;
	}
	if (above)
		add(fs, DOCTOR_WARNING, "target-far",
		    "the guest keeps a minimum of free memory or is using it ('vbctl stats' shows how much is free): a higher target it can meet",
		    "actual is %llu MiB above the target and did not move in %.1f s: the guest gives no more memory",
		    (unsigned long long)(gap >> 20), f->watched_ms / 1000.0);
	else
		add(fs, DOCTOR_WARNING, "target-far",
		    "read the guest's kernel log: its driver should take pages back as soon as the target rises",
		    "actual is %llu MiB below the target and did not move in %.1f s: the guest does not take memory back",
		    (unsigned long long)(gap >> 20), f->watched_ms / 1000.0);
}

static void device_option_rules(const struct doctor_facts *f,
				struct findings *fs)
{
	bool ok = driver_ok(f);

	if (f->deflate_on_oom == 0)
		add(fs, DOCTOR_NOTE, "deflate-on-oom-off",
		    "set targets with room to spare, or start QEMU with -device virtio-balloon-pci,deflate-on-oom=on",
		    "deflate-on-oom is off: a guest that runs short of memory may not take any back from the balloon, so a target below what it needs starves it");
	else if (f->deflate_on_oom == 1 && ok &&
		 !(f->guest_features & DOCTOR_F_DEFLATE_ON_OOM))
		add(fs, DOCTOR_NOTE, "deflate-on-oom-unused",
		    "use a driver that supports it (Linux does), or set targets with room to spare",
		    "the device offers deflate-on-oom but the guest driver did not accept it: the guest will not take memory back under pressure");
	if (f->free_page_reporting == 0)
		add(fs, DOCTOR_NOTE, "page-reporting-off",
		    "start QEMU with -device virtio-balloon-pci,free-page-reporting=on to have QEMU drop freed pages",
		    "free page reporting is off: memory the guest frees stays allocated on the host until the balloon takes it");
	else if (f->free_page_reporting == 1 && ok &&
		 !(f->guest_features & DOCTOR_F_PAGE_REPORTING))
		add(fs, DOCTOR_NOTE, "page-reporting-unused",
		    "use a driver that supports it (Linux 5.7 and later)",
		    "the device offers free page reporting but the guest driver did not accept it: freed memory stays allocated on the host");
}

size_t doctor_diagnose(const struct doctor_facts *f,
		       struct doctor_finding *out, size_t max)
{
	struct findings fs = { .out = out, .max = max };
	struct doctor_finding tmp;
	size_t i, j;

	if (f->connect_err) {
		connect_rules(f, &fs);
		return fs.n;
	}
	run_state_rules(f, &fs);
	if (!f->balloon) {
		add(&fs, DOCTOR_PROBLEM, "no-balloon",
		    "start QEMU with -device virtio-balloon-pci (virtio-balloon-device on microvm), or hot-plug one: 'vbctl qmp device_add driver=virtio-balloon-pci'",
		    "no balloon device in this VM (query-balloon: DeviceNotActive)");
	} else {
		driver_rules(f, &fs);
		stats_rules(f, &fs);
		target_rules(f, &fs);
		device_option_rules(f, &fs);
	}
	version_rules(f, &fs);

	/* Most severe first; the rules' order within a severity. */
	for (i = 1; i < fs.n; i++) {
		tmp = out[i];
		for (j = i; j > 0 && out[j - 1].severity < tmp.severity; j--)
			out[j] = out[j - 1];
		out[j] = tmp;
	}
	return fs.n;
}

/* "NAME: description": the part before the colon. DESC may be NULL (a
 * list entry that was not a string). */
static bool desc_is(const char *desc, const char *name)
{
	size_t n = strlen(name);

	return desc && strncmp(desc, name, n) == 0 &&
	       (desc[n] == ':' || desc[n] == '\0');
}

uint32_t doctor_feature_bit(const char *desc)
{
	if (desc_is(desc, "VIRTIO_BALLOON_F_STATS_VQ"))
		return DOCTOR_F_STATS_VQ;
	if (desc_is(desc, "VIRTIO_BALLOON_F_DEFLATE_ON_OOM"))
		return DOCTOR_F_DEFLATE_ON_OOM;
	if (desc_is(desc, "VIRTIO_BALLOON_F_FREE_PAGE_HINT"))
		return DOCTOR_F_FREE_PAGE_HINT;
	/* QEMU 7.2 names bit 5 "..._F_REPORTING". */
	if (desc_is(desc, "VIRTIO_BALLOON_F_REPORTING") ||
	    desc_is(desc, "VIRTIO_BALLOON_F_PAGE_REPORTING"))
		return DOCTOR_F_PAGE_REPORTING;
	return 0;
}

unsigned int doctor_status_bit(const char *desc)
{
	if (desc_is(desc, "VIRTIO_CONFIG_S_ACKNOWLEDGE"))
		return DOCTOR_STATUS_ACKNOWLEDGE;
	if (desc_is(desc, "VIRTIO_CONFIG_S_DRIVER"))
		return DOCTOR_STATUS_DRIVER;
	if (desc_is(desc, "VIRTIO_CONFIG_S_DRIVER_OK"))
		return DOCTOR_STATUS_DRIVER_OK;
	if (desc_is(desc, "VIRTIO_CONFIG_S_FEATURES_OK"))
		return DOCTOR_STATUS_FEATURES_OK;
	if (desc_is(desc, "VIRTIO_CONFIG_S_NEEDS_RESET"))
		return DOCTOR_STATUS_NEEDS_RESET;
	if (desc_is(desc, "VIRTIO_CONFIG_S_FAILED"))
		return DOCTOR_STATUS_FAILED;
	return 0;
}
