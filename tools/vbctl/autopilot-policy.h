/* SPDX-License-Identifier: MIT */
/*
 * autopilot-policy.h - the decisions of "vbctl auto" as a pure function:
 * per-VM figures, host figures, the configuration and each VM's previous
 * state in; balloon targets, new state and the reasons, as data, out. No
 * I/O, no clock, no globals: the loop in cmd-auto.c reads and writes, this
 * only decides (docs/autopilot.md says the same in plain words).
 *
 * All sizes are bytes; all times are milliseconds on the caller's wall
 * clock (QEMU stamps guest stats in wall-clock seconds).
 */
#ifndef VBCTL_AUTOPILOT_POLICY_H
#define VBCTL_AUTOPILOT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Targets move in whole MiB: finer steps only make more balloon traffic. */
#define AUTOPILOT_GRANULE	(UINT64_C(1) << 20)
/* Longest reason text, with its NUL. */
#define AUTOPILOT_REASON_MAX	192

/* What the host side of the policy keeps. */
enum autopilot_host_mode {
	AUTOPILOT_HOST_RESERVE,	/* keep host_reserve bytes of MemAvailable */
	AUTOPILOT_HOST_BUDGET,	/* the guests together hold at most host_budget */
};

struct autopilot_config {
	/* Guest reserve: reserve_pct percent of boot memory, but at least
	 * reserve_min bytes; with reserve_pct 0, exactly reserve_min. */
	unsigned int reserve_pct;
	uint64_t reserve_min;
	enum autopilot_host_mode host_mode;
	uint64_t host_reserve;		/* AUTOPILOT_HOST_RESERVE */
	uint64_t host_budget;		/* AUTOPILOT_HOST_BUDGET */
	/* Most a host-driven change (reclaim, give back) moves one VM in one
	 * step; 0: no limit. A guest below its reserve is never limited. */
	uint64_t max_step;
	/* Dead band: host room smaller than this is not given out, and a
	 * guest that gets memory back gets this much beyond its reserve, so
	 * small movements cause no balloon commands. */
	uint64_t hysteresis;
	/* Memory pressure (/proc/pressure/memory "some" avg10, percent) at
	 * or above which the host counts as short; below half of it, giving
	 * back is allowed again. <= 0: pressure is ignored. */
	double pressure_pct;
	/* Stats older than this (ms) are stale: the VM is left alone. */
	int64_t stale_ms;
};

/* Fills in the documented defaults (20%, 64 MiB, host reserve 1 GiB, ...). */
void autopilot_config_defaults(struct autopilot_config *cfg);

/* What the host looks like now (hostmem.h reads it). */
struct autopilot_host {
	bool mem_known;			/* mem_available is valid */
	uint64_t mem_available;		/* MemAvailable */
	bool pressure_known;		/* pressure_some10 is valid */
	double pressure_some10;		/* "some" avg10, percent */
};

/*
 * What the policy remembers about a VM between steps: the caller keeps it
 * with the VM, starts it with autopilot_state_adopt() and replaces it with
 * the decision's "next" after each step. A VM that is gone is simply no
 * longer passed in.
 */
struct autopilot_vm_state {
	uint64_t target;		/* the target the VM was last given */
	uint64_t last_actual;		/* actual seen at the last step */
	int64_t changed_ms;		/* when we last changed the target; 0 never */
	bool lowered;			/* ... and whether that lowered it */
	uint64_t used;			/* what the guest used, as last worked out */
};

/* A newly found VM: its current size is its target (we set none yet). */
void autopilot_state_adopt(struct autopilot_vm_state *st, uint64_t actual);

/* The guest statistics the policy reads (from QOM guest-stats). */
struct autopilot_guest_stats {
	int64_t last_update;		/* seconds since the epoch; 0: never */
	bool free_known;		/* stat-free-memory reported */
	uint64_t free;
	bool available_known;		/* stat-available-memory reported */
	uint64_t available;
};

/* One VM, as the loop saw it this step. */
struct autopilot_vm {
	const char *name;		/* for reasons only; borrowed */
	uint64_t boot;			/* boot memory: the ceiling */
	uint64_t actual;		/* query-balloon "actual" (or the event's) */
	bool running;			/* false: paused, stopped, ... */
	const struct autopilot_guest_stats *stats; /* NULL: none read */
	uint64_t floor;			/* --min: never below; 0: none */
	unsigned int weight;		/* --weight, >= 1 */
	struct autopilot_vm_state prev;
};

/* What the policy did with a VM, for the log and the table. */
enum autopilot_action {
	AUTOPILOT_KEEP,		/* target unchanged */
	AUTOPILOT_GROW,		/* guest below its reserve: memory back at once */
	AUTOPILOT_RECLAIM,	/* host short: memory taken from the guest */
	AUTOPILOT_GIVE_BACK,	/* host has room: memory given back */
	AUTOPILOT_SKIP_PAUSED,	/* not running: left alone */
	AUTOPILOT_SKIP_STALE,	/* stats too old: left alone */
	AUTOPILOT_SKIP_NO_STATS, /* no memory stats yet: left alone */
};

/* Which guest statistic stood for "memory the guest can use". */
enum autopilot_source {
	AUTOPILOT_SRC_NONE,
	AUTOPILOT_SRC_AVAILABLE,	/* stat-available-memory */
	AUTOPILOT_SRC_FREE,		/* stat-free-memory (no available) */
};

struct autopilot_decision {
	enum autopilot_action action;
	uint64_t old_target;		/* prev.target */
	uint64_t new_target;		/* == old_target unless send */
	bool send;			/* a balloon command is due */
	enum autopilot_source source;
	uint64_t available;		/* the guest's usable memory (source) */
	uint64_t reserve;		/* its reserve */
	uint64_t need;			/* in use + reserve, within floor..boot */
	uint64_t reclaimable;		/* new_target - need, or 0 */
	bool spiked;			/* it took memory back by itself */
	bool settling;			/* a reclaim has not landed yet */
	struct autopilot_vm_state next;
	char reason[AUTOPILOT_REASON_MAX];
	/* The policy's working figures for this step (read them, do not
	 * set them): what reclaim may not go below, and the caps. */
	struct {
		bool eligible;		/* running, with fresh stats */
		uint64_t held;		/* max(actual, old target) */
		uint64_t lo;		/* need + hysteresis: reclaim stops here */
		uint64_t desired;	/* the target being worked out */
		uint64_t take_cap;	/* most reclaim may take this step */
		uint64_t give_cap;	/* most give back may add this step */
		uint64_t amount;	/* taken or given */
		double weight;
	} work;
};

/* The host side of one step. */
struct autopilot_summary {
	int64_t short_by;		/* bytes the host needs back (<0: room) */
	bool pressure;			/* pressure at or above the threshold */
	uint64_t sum_targets;		/* after this step, all VMs */
	uint64_t sum_need;		/* eligible VMs */
	unsigned int sent;		/* decisions with send set */
	char reason[AUTOPILOT_REASON_MAX];	/* the host in words */
};

/*
 * Which statistic measures what a guest can still use: available memory
 * when the guest reports it (a Linux guest's free memory leaves out page
 * cache it can drop), else free memory. Returns the source (NONE when
 * neither is known) and the value in *bytes.
 */
enum autopilot_source autopilot_guest_available(const struct autopilot_guest_stats *st,
						uint64_t *bytes);
/* "available" / "free" / "none". */
const char *autopilot_source_name(enum autopilot_source src);
/* "keep", "grow", "reclaim", "give-back", "paused", "stale", "no-stats". */
const char *autopilot_action_name(enum autopilot_action action);

/* The reserve of a guest of BOOT bytes. */
uint64_t autopilot_reserve(const struct autopilot_config *cfg, uint64_t boot);

/*
 * One step: decides a target for each of the N VMs at time NOW_MS and
 * fills OUT[0..N) (and SUMMARY when not NULL). Pure: same inputs, same
 * outputs.
 */
void autopilot_decide(const struct autopilot_config *cfg,
		      const struct autopilot_host *host,
		      const struct autopilot_vm *vms, size_t n, int64_t now_ms,
		      struct autopilot_decision *out,
		      struct autopilot_summary *summary);

#endif
