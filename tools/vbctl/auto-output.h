/* SPDX-License-Identifier: MIT */
/*
 * auto-output.h - "vbctl auto"'s state, as its loop (cmd-auto.c) keeps it,
 * and what it shows of it (auto-output.c): a log line per event (adopted,
 * dropped, a target set and why, restored), as text or one JSON object
 * per line, and on a terminal a live table above the latest lines.
 */
#ifndef VBCTL_AUTO_OUTPUT_H
#define VBCTL_AUTO_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "autopilot-policy.h"
#include "fleet.h"
#include "hostmem.h"
#include "size.h"
#include "vbctl.h"

struct domain_scan;

/* Log lines kept under the live table. */
#define AUTO_TABLE_LOG_LINES 8
#define AUTO_LOG_LINE_MAX 320

/* A --min or --weight for a VM by name. */
struct vm_rule {
	const char *name;	/* borrowed from argv */
	struct vbctl_size size;	/* --min */
	const char *text;	/* --min's SIZE, for messages */
	unsigned int weight;	/* --weight */
};

/* One VM of the fleet, as the autopilot sees it (same index as its
 * fleet_vm). */
struct auto_vm {
	char *path;		/* the balloon's QOM path */
	int seen;		/* balloon search replies */
	uint64_t boot;
	int64_t orig_polling;	/* polling interval found (s) */
	bool polling_changed;
	uint64_t orig_actual;	/* size at adoption: restored on exit */
	bool adopted;
	bool dropped;		/* reported gone */
	bool restored;
	/* The latest figures. */
	uint64_t actual;
	bool running;
	struct autopilot_guest_stats st;
	bool st_known;
	unsigned int pending;	/* this step's replies still to come */
	int64_t spike_until;	/* following a spike until then (ms); 0 not */
	uint64_t floor;
	unsigned int weight;
	struct autopilot_vm_state state;
	struct autopilot_decision last;	/* the latest decision */
	bool decided;
	/* What was last logged, so steady states are logged once. */
	enum autopilot_action logged_action;
	uint64_t logged_target;
	bool logged;
};

struct autopilot {
	struct vbctl *v;
	struct fleet *f;
	struct auto_vm *vms;
	size_t nvms;
	struct autopilot_config cfg;
	int interval_ms;
	bool dry_run, keep, table;
	struct vm_rule *rules;
	size_t nrules;
	char **owned;		/* --config's values (the rules borrow them) */
	/* The step in progress: started by tick, decided when every
	 * adopted VM answered or at the next tick. */
	bool round_open;
	int64_t rescan_ms;	/* when the globs are read again */
	struct domain_scan *scan;	/* -c URI: its running domains */
	bool scan_failed;	/* the last listing failed (said once) */
	uint64_t steps, commands;
	struct vbctl_hostmem host;
	struct autopilot_summary summary;
	int status;		/* worst output error */
	char log[AUTO_TABLE_LOG_LINES][AUTO_LOG_LINE_MAX];
	size_t nlog;
};

/* VM answered and is managed from now on. */
void auto_log_adopt(struct autopilot *ap, struct fleet_vm *vm,
		    const struct auto_vm *a);
/* VM went away, or was never ADOPTED (vm->why says why). */
void auto_log_drop(struct autopilot *ap, struct fleet_vm *vm, bool adopted);
/* Listing the domains at -c URI failed: WHY. */
void auto_log_scan_error(struct autopilot *ap, const char *why);
/* Started before any VM: what auto watches for them. */
void auto_log_waiting(struct autopilot *ap);
/* A step's decision D for VM: logged when it changes something or is a
 * new reason to stand still (steady states are logged once). */
void auto_log_decision(struct autopilot *ap, struct fleet_vm *vm,
		       struct auto_vm *a, const struct autopilot_decision *d);
/* On exit: VM's balloon put back, or left where it is (--keep, --dry-run). */
void auto_log_exit(struct autopilot *ap, struct fleet_vm *vm,
		   const struct auto_vm *a);
/* The live table, when one is shown (ap->table). */
void auto_redraw(struct autopilot *ap);

#endif
