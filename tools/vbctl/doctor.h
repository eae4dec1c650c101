/* SPDX-License-Identifier: MIT */
/*
 * doctor.h - "vbctl doctor" as data: what QMP showed about a VM (facts)
 * goes in, findings (each with what to do) come out. Pure: no I/O, so
 * every rule is tested on the host without QEMU.
 */
#ifndef VBCTL_DOCTOR_H
#define VBCTL_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Virtio device status bits (virtio 2.1, "Device Status Field"). */
#define DOCTOR_STATUS_ACKNOWLEDGE	(1u << 0)
#define DOCTOR_STATUS_DRIVER		(1u << 1)
#define DOCTOR_STATUS_DRIVER_OK		(1u << 2)
#define DOCTOR_STATUS_FEATURES_OK	(1u << 3)
#define DOCTOR_STATUS_NEEDS_RESET	(1u << 6)
#define DOCTOR_STATUS_FAILED		(1u << 7)

/* Balloon feature bits (virtio 5.5.3). */
#define DOCTOR_F_STATS_VQ		(1u << 1)
#define DOCTOR_F_DEFLATE_ON_OOM		(1u << 2)
#define DOCTOR_F_FREE_PAGE_HINT		(1u << 3)
#define DOCTOR_F_PAGE_REPORTING		(1u << 5)

/* A sample of guest stats older than the polling interval plus this many
 * seconds means the guest missed a request (last-update has one-second
 * resolution, and the guest answers within milliseconds when alive). */
#define DOCTOR_STATS_SLACK_S		2

/* How QEMU's greeting, schema and the device describe the VM. Unknown
 * numbers are -1 and unknown flags false, as the comments say. */
struct doctor_facts {
	/* Connecting: 0, or the negative errno qmp_connect() returned, with
	 * libqmp's description; nothing below is known then. */
	int connect_err;
	const char *connect_desc;
	const char *addr;		/* as given, for messages */

	int qemu_major, qemu_minor, qemu_micro;	/* -1: unknown */
	bool has_virtio_status;		/* x-query-virtio-status exists */
	const char *run_state;		/* query-status "status"; NULL unknown */
	bool running;

	bool balloon;			/* query-balloon answers */
	uint64_t actual;		/* bytes, when balloon */
	uint64_t base_memory;		/* boot memory in bytes; 0 unknown */

	/* From x-query-virtio-status, when has_virtio_status and found. */
	bool device_status_known;
	unsigned int device_status;	/* DOCTOR_STATUS_* */
	bool device_broken;
	uint32_t host_features;		/* DOCTOR_F_* offered by QEMU */
	uint32_t guest_features;	/* DOCTOR_F_* accepted by the driver */

	/* Device properties; -1: this QEMU does not have the property. */
	int deflate_on_oom;
	int free_page_reporting;

	int64_t polling_interval;	/* seconds, 0 off; -1 unknown */
	int64_t last_update;		/* guest-stats last-update; 0 never */
	int64_t now;			/* the host's clock when read */
	bool stats_moved;		/* a new sample arrived while watched */
	int64_t watched_ms;		/* how long stats/actual were watched */

	bool target_given;		/* --target */
	uint64_t target;		/* bytes */
	uint64_t actual_before;		/* actual when watching began */
	bool actual_moved;		/* actual changed while watched */
};

enum doctor_severity {
	DOCTOR_NOTE,			/* works; worth knowing */
	DOCTOR_WARNING,			/* works in part, or at a risk */
	DOCTOR_PROBLEM,			/* ballooning does not work */
};

#define DOCTOR_TEXT_MAX 320

struct doctor_finding {
	enum doctor_severity severity;
	const char *id;			/* stable, for scripts: "no-balloon" */
	char what[DOCTOR_TEXT_MAX];	/* what is wrong, with the figures */
	char todo[DOCTOR_TEXT_MAX];	/* what to do about it */
};

/* Room for every finding the rules can give at once. */
#define DOCTOR_MAX_FINDINGS 16

/* The findings for F, most severe first; returns how many (at most MAX). */
size_t doctor_diagnose(const struct doctor_facts *f,
		       struct doctor_finding *out, size_t max);

/* "problem", "warning", "note". */
const char *doctor_severity_name(enum doctor_severity s);

/* Whether DOCTOR should wait for a stats sample or for actual to move
 * before diagnosing: polling on, a driver, a running VM, and a sample
 * too old to say the guest answers. */
bool doctor_stats_stale(const struct doctor_facts *f);

/* The DOCTOR_F_* bit of a QEMU feature description, e.g.
 * "VIRTIO_BALLOON_F_STATS_VQ: Guest memory stats VQ available"; 0 for
 * others. Likewise DOCTOR_STATUS_* for "VIRTIO_CONFIG_S_DRIVER_OK: ...". */
uint32_t doctor_feature_bit(const char *desc);
unsigned int doctor_status_bit(const char *desc);

#endif
